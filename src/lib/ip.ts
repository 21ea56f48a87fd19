// Strict IP address parsing and formatting, CIDR prefixes and reverse (in-addr.arpa / ip6.arpa) names.
// Hand-written because node:net only validates (isIP) and has no byte form, no CIDR math and no
// reverse-name helpers, and DNS needs Go's net.ParseIP strictness (no leading zeros, no short forms).

/** Parses a dotted-quad IPv4 address strictly (4 decimal octets, no leading zeros). */
export function parseIPv4(s: string): Uint8Array | null {
  const out = new Uint8Array(4)
  let part = 0
  let val = -1
  let digits = 0
  let lead0 = false
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46 /* '.' sentinel */
    if (c >= 48 && c <= 57) {
      if (digits === 0) lead0 = c === 48
      else if (lead0) return null
      val = (val < 0 ? 0 : val) * 10 + (c - 48)
      digits++
      if (digits > 3 || val > 255) return null
    } else if (c === 46) {
      if (val < 0 || part > 3) return null
      out[part++] = val
      val = -1
      digits = 0
    } else return null
  }
  return part === 4 ? out : null
}

/** Parses an IPv6 address (RFC 4291 text, any case, "::", trailing dotted quad). No zone. */
export function parseIPv6(s: string): Uint8Array | null {
  if (s.length < 2 || s.length > 45) return null
  const out = new Uint8Array(16)
  let i = 0
  let n = 0 // bytes written
  let ellipsis = -1
  if (s.startsWith('::')) {
    ellipsis = 0
    i = 2
    if (i === s.length) return out
  }
  while (i < s.length) {
    // read up to 4 hex digits
    let val = 0
    let d = 0
    const start = i
    while (i < s.length && d < 5) {
      const c = s.charCodeAt(i)
      let h: number
      if (c >= 48 && c <= 57) h = c - 48
      else if (c >= 97 && c <= 102) h = c - 87
      else if (c >= 65 && c <= 70) h = c - 55
      else break
      val = val * 16 + h
      d++
      i++
    }
    if (d === 0 || d > 4) return null
    if (i < s.length && s.charCodeAt(i) === 46) {
      // embedded IPv4 in the last 32 bits
      if (ellipsis < 0 && n !== 12) return null
      if (n > 12) return null
      const v4 = parseIPv4(s.slice(start))
      if (!v4) return null
      out.set(v4, n)
      n += 4
      i = s.length
      break
    }
    if (n + 2 > 16) return null
    out[n++] = val >> 8
    out[n++] = val & 0xff
    if (i === s.length) break
    if (s.charCodeAt(i) !== 58) return null
    i++
    if (i < s.length && s.charCodeAt(i) === 58) {
      if (ellipsis >= 0) return null
      ellipsis = n
      i++
      if (i === s.length) break
    } else if (i === s.length) return null
  }
  if (ellipsis >= 0) {
    if (n === 16) return null
    const tail = n - ellipsis
    out.copyWithin(16 - tail, ellipsis, n)
    out.fill(0, ellipsis, 16 - tail)
  } else if (n !== 16) return null
  return out
}

/** Parses either family; returns 4 or 16 bytes. */
export function parseIP(s: string): Uint8Array | null {
  return s.includes(':') ? parseIPv6(s) : parseIPv4(s)
}

export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`
}

/** RFC 5952 canonical text (lower case, longest zero run compressed, dotted quad for ::ffff:a.b.c.d). */
export function formatIPv6(b: Uint8Array, off = 0): string {
  const w: number[] = []
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!)
  // IPv4-mapped
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`
  }
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && w[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  let s = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':'
      i += bestLen - 1
      continue
    }
    s += w[i]!.toString(16)
    if (i < 7) s += ':'
  }
  return s
}

export function formatIP(b: Uint8Array): string {
  return b.length === 4 ? formatIPv4(b) : formatIPv6(b)
}

/** Normalises textual IP to canonical form, or null when invalid. */
export function canonicalIP(s: string): string | null {
  const b = parseIP(s)
  return b ? formatIP(b) : null
}

export interface Cidr {
  readonly addr: Uint8Array // network address, host bits cleared
  readonly bits: number
}

/** Parses "ip/len"; host bits are cleared. */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/')
  if (slash < 0) return null
  const ip = parseIP(s.slice(0, slash))
  const lenText = s.slice(slash + 1)
  if (!ip || !/^\d{1,3}$/.test(lenText)) return null
  const bits = Number(lenText)
  if (bits > ip.length * 8) return null
  const addr = ip.slice()
  for (let i = 0; i < addr.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8))
    addr[i]! &= (0xff << (8 - keep)) & 0xff
  }
  return { addr, bits }
}

export function cidrContains(c: Cidr, ip: Uint8Array): boolean {
  if (ip.length !== c.addr.length) return false
  let bits = c.bits
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if ((ip[i]! & mask) !== c.addr[i]) return false
  }
  return true
}

/** Reverse owner name of an address: 4.3.2.1.in-addr.arpa. / nibbles.ip6.arpa. */
export function reverseName(ip: Uint8Array): string {
  if (ip.length === 4) return `${ip[3]}.${ip[2]}.${ip[1]}.${ip[0]}.in-addr.arpa.`
  let s = ''
  for (let i = 15; i >= 0; i--) {
    const b = ip[i]!
    s += (b & 0xf).toString(16) + '.' + (b >> 4).toString(16) + '.'
  }
  return s + 'ip6.arpa.'
}

/**
 * Address from a complete reverse name (lower-case, fully qualified), or null when the name is not
 * a complete in-addr.arpa (4 labels) or ip6.arpa (32 nibbles) name.
 */
export function ipFromReverseName(name: string): Uint8Array | null {
  if (name.endsWith('.in-addr.arpa.')) {
    const labels = name.slice(0, -'.in-addr.arpa.'.length).split('.')
    if (labels.length !== 4) return null
    const v4 = parseIPv4(`${labels[3]}.${labels[2]}.${labels[1]}.${labels[0]}`)
    return v4
  }
  if (name.endsWith('.ip6.arpa.')) {
    const labels = name.slice(0, -'.ip6.arpa.'.length).split('.')
    if (labels.length !== 32) return null
    const out = new Uint8Array(16)
    for (let i = 0; i < 32; i++) {
      const l = labels[31 - i]!
      if (l.length !== 1) return null
      const h = parseInt(l, 16)
      if (Number.isNaN(h)) return null
      out[i >> 1]! |= i % 2 === 0 ? h << 4 : h
    }
    return out
  }
  return null
}

/**
 * Reverse zones covering a CIDR, split at octet (IPv4) or nibble (IPv6) boundaries
 * as CoreDNS does: 10.0.0.0/17 gives 128 zones 0.0.10.in-addr.arpa. ... 127.0.10.in-addr.arpa.
 */
export function reverseZones(c: Cidr): string[] {
  const v4 = c.addr.length === 4
  const step = v4 ? 8 : 4
  const boundary = Math.ceil(c.bits / step) * step
  const extra = boundary - c.bits
  const count = 1 << extra
  const zones: string[] = []
  for (let k = 0; k < count; k++) {
    const addr = c.addr.slice()
    // add k << (totalBits - boundary)
    let carry = k
    let bitPos = addr.length * 8 - boundary // shift
    // add carry at bit position bitPos (from the least significant end)
    let byteIdx = addr.length - 1 - (bitPos >> 3)
    let shift = bitPos & 7
    let v = carry << shift
    while (v > 0 && byteIdx >= 0) {
      const sum = addr[byteIdx]! + (v & 0xff)
      addr[byteIdx] = sum & 0xff
      v = (v >> 8) + (sum >> 8)
      byteIdx--
    }
    zones.push(reverseZoneName(addr, boundary, v4))
  }
  return zones
}

function reverseZoneName(addr: Uint8Array, bits: number, v4: boolean): string {
  if (v4) {
    const labels: string[] = []
    for (let i = 0; i < bits / 8; i++) labels.unshift(String(addr[i]))
    return labels.length ? `${labels.join('.')}.in-addr.arpa.` : 'in-addr.arpa.'
  }
  const nibbles: string[] = []
  for (let i = 0; i < bits / 4; i++) {
    const b = addr[i >> 1]!
    nibbles.unshift((i % 2 === 0 ? b >> 4 : b & 0xf).toString(16))
  }
  return nibbles.length ? `${nibbles.join('.')}.ip6.arpa.` : 'ip6.arpa.'
}
