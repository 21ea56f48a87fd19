// Zone matching and the query-name grammar of kubernetes-dns.md §3 (CoreDNS parse.go).

/** Longest plugin zone that `lower` (lower-case FQDN) equals or lies below, or null. */
export function matchZone(zonesLongestFirst: readonly string[], lower: string): string | null {
  for (let i = 0; i < zonesLongestFirst.length; i++) {
    const z = zonesLongestFirst[i]!
    if (z === '.') return z
    const at = lower.length - z.length
    if (at < 0 || !lower.endsWith(z)) continue
    if (at === 0) return z
    if (lower.charCodeAt(at - 1) !== 0x2e) continue
    // the dot before the zone must not be escaped
    let bs = 0
    for (let j = at - 2; j >= 0 && lower.charCodeAt(j) === 0x5c; j--) bs++
    if (bs % 2 === 0) return z
  }
  return null
}

/** qname without the zone and without the separating dot ("" at the apex). */
export function trimZone(name: string, zone: string): string {
  if (zone === '.') return name.length <= 1 ? '' : name.slice(0, name.length - 1)
  if (name.length <= zone.length) return ''
  return name.slice(0, name.length - zone.length - 1)
}

/** Labels of a relative name (escapes kept as written, `\.` does not split). */
export function splitBase(base: string): string[] {
  const out: string[] = []
  if (base === '') return out
  let start = 0
  const n = base.length
  for (let i = 0; i < n; i++) {
    const c = base.charCodeAt(i)
    if (c === 0x5c) {
      i++
      continue
    }
    if (c === 0x2e) {
      out.push(base.slice(start, i))
      start = i + 1
    }
  }
  out.push(base.slice(start))
  return out
}

export interface RecordRequest {
  /** 'svc' | 'pod', or '' for the apex and the bare `svc`/`pod` nodes. */
  podOrSvc: string
  namespace: string
  /** Service name, or the pod label for `pod` names. */
  service: string
  endpoint: string
  /** Port and protocol of `_port._proto` names, underscores stripped; '' = any. */
  port: string
  protocol: string
}

function stripUnderscore(s: string): string {
  return s.charCodeAt(0) === 0x5f ? s.slice(1) : s
}

/** Parses `base` (lower case, zone removed); null = invalid name (a name error). */
export function parseRequest(base: string): RecordRequest | null {
  const r: RecordRequest = { podOrSvc: '', namespace: '', service: '', endpoint: '', port: '', protocol: '' }
  if (base === '' || base === 'svc' || base === 'pod') return r
  const segs = splitBase(base)
  let last = segs.length - 1
  const kind = segs[last]!
  if (kind !== 'svc' && kind !== 'pod') return null
  r.podOrSvc = kind
  if (--last < 0) return r
  r.namespace = segs[last]!
  if (--last < 0) return r
  r.service = segs[last]!
  if (--last < 0) return r
  if (last === 0) {
    r.endpoint = segs[0]!
  } else if (last === 1) {
    r.protocol = stripUnderscore(segs[1]!)
    r.port = stripUnderscore(segs[0]!)
  } else {
    return null
  }
  return r
}

/** Whether the name lies under in-addr.arpa. or ip6.arpa. (CoreDNS dnsutil.IsReverse > 0). */
export function isReverseName(lower: string): boolean {
  return lower.endsWith('.in-addr.arpa.') || lower.endsWith('.ip6.arpa.')
}

/** CoreDNS isDefaultNS: `ns.dns.<zone>` with the zone compared as spelled in the query. */
export function isDefaultNS(lower: string, zoneQ: string): boolean {
  return lower.indexOf('ns.dns.') === 0 && lower.indexOf(zoneQ) === 7
}

function isHexNibble(s: string): boolean {
  return s.length === 1 && /^[0-9a-f]$/.test(s)
}

/**
 * The address of a reverse name as text (Go net.IP.String form: IPv4 dotted, IPv4-mapped IPv6
 * dotted too, other IPv6 RFC 5952), or '' when the name is not a complete reverse name
 * (CoreDNS dnsutil.ExtractAddressFromReverse, including its quirk: up to three extra labels left
 * of the 32 nibbles of an ip6.arpa name are ignored).
 */
export function addressFromReverse(lower: string): string {
  if (lower.endsWith('.in-addr.arpa.')) {
    const labels = lower.slice(0, lower.length - 14).split('.')
    if (labels.length !== 4) return ''
    const text = `${labels[3]}.${labels[2]}.${labels[1]}.${labels[0]}`
    return V4.test(text) && validV4(text) ? text : ''
  }
  if (lower.endsWith('.ip6.arpa.')) {
    const labels = lower.slice(0, lower.length - 10).split('.')
    const groups = Math.floor(labels.length / 4)
    if (groups !== 8) return ''
    const n = labels.length
    const bytes = new Uint8Array(16)
    for (let i = 0; i < 32; i++) {
      const l = labels[n - 1 - i]!
      if (!isHexNibble(l)) return ''
      const h = parseInt(l, 16)
      bytes[i >> 1]! |= i % 2 === 0 ? h << 4 : h
    }
    return goIPString(bytes)
  }
  return ''
}

const V4 = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/
function validV4(s: string): boolean {
  for (const p of s.split('.')) if (Number(p) > 255) return false
  return true
}

/** Go net.IP.String of 16 bytes. */
export function goIPString(b: Uint8Array): string {
  let mapped = b[10] === 0xff && b[11] === 0xff
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false
  if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`
  const w: number[] = []
  for (let i = 0; i < 8; i++) w.push((b[2 * i]! << 8) | b[2 * i + 1]!)
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
      s += '::'
      i += bestLen - 1
      continue
    }
    if (s !== '' && !s.endsWith(':')) s += ':'
    s += w[i]!.toString(16)
  }
  return s
}
