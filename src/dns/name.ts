// Domain names: wire decoding (with compression pointers), wire encoding, presentation helpers.
// Hand-written rather than taken from dns-packet because dns-packet decodes labels as UTF-8 (so
// `\.`/`\DDD` escapes are lost and odd bytes are mangled), splits names with a regex per encode,
// does not escape, and has no compression on encode. Here names are walked by index over the bytes
// (miekg/dns labels.go / msg.go style), escaped exactly like miekg/dns, and decoded through one
// shared scratch buffer so the hot path (QueryView) builds each name string with a single call.

import { DecodeError, EncodeError } from './types.js'

/** Longest name on the wire, root byte included (RFC 1035 3.1). */
export const MAX_NAME_WIRE = 255
/** Longest label (RFC 1035 2.3.4). */
export const MAX_LABEL = 63
/** Hop cap when following compression pointers; strictly-backward pointers already bound it. */
const MAX_POINTERS = 126

// Presentation kind of each byte inside a label: 0 = as is, 1 = backslash + byte, 2 = \DDD.
const ESC_KIND = new Uint8Array(256)
for (let b = 0; b < 256; b++) {
  if (b < 0x20 || b > 0x7e) ESC_KIND[b] = 2
  else if (
    b === 0x2e || // .
    b === 0x20 || // space
    b === 0x27 || // '
    b === 0x40 || // @
    b === 0x3b || // ;
    b === 0x28 || // (
    b === 0x29 || // )
    b === 0x22 || // "
    b === 0x5c // backslash
  ) {
    ESC_KIND[b] = 1
  }
}

/** ASCII lower-case table (bytes 0x41-0x5a map to 0x61-0x7a, everything else to itself). */
export const LOWER = new Uint8Array(256)
for (let b = 0; b < 256; b++) LOWER[b] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b

// Worst case presentation length: 254 label bytes each as "\DDD" plus dots < 1024.
const SCRATCH = Buffer.allocUnsafe(1024)
const SCRATCH_LOWER = Buffer.allocUnsafe(1024)

/**
 * Results of the last `scanName` call (module state instead of a result object, so the hot path
 * allocates nothing). Read them right after the call.
 */
export const lastScan = {
  /** Offset just after the name at its original position. */
  end: 0,
  /** Presentation bytes written to the scratch buffer. */
  len: 0,
  /** Whether the presentation form holds an ASCII upper-case letter. */
  upper: false,
}

function fail(msg: string, off: number): never {
  throw new DecodeError(msg, off)
}

/**
 * Validates the name at `off` and, when `write` is set, renders its presentation form into the
 * shared scratch buffer. Results in `lastScan`. Throws DecodeError on any malformation.
 */
function scan(buf: Buffer, off: number, write: boolean): void {
  const n = buf.length
  let pos = off
  let end = -1 // set at the first pointer
  let limit = off // pointer targets must be strictly below this
  let hops = 0
  let wire = 1 // the root byte
  let out = 0
  let upper = false
  for (;;) {
    if (pos >= n) fail('name: read past end of message', pos)
    const c = buf[pos]!
    if (c === 0) {
      pos++
      break
    }
    const kind = c & 0xc0
    if (kind === 0xc0) {
      if (pos + 1 >= n) fail('name: truncated compression pointer', pos)
      const ptr = ((c & 0x3f) << 8) | buf[pos + 1]!
      if (ptr >= limit) fail('name: compression pointer does not point backwards', pos)
      if (++hops > MAX_POINTERS) fail('name: too many compression pointers', pos)
      if (end < 0) end = pos + 2
      limit = ptr
      pos = ptr
      continue
    }
    if (kind !== 0) fail('name: reserved label type', pos)
    const start = pos + 1
    const stop = start + c
    if (stop > n) fail('name: label runs past end of message', pos)
    wire += c + 1
    if (wire > MAX_NAME_WIRE) fail('name: longer than 255 octets', pos)
    if (write) {
      for (let i = start; i < stop; i++) {
        const b = buf[i]!
        const k = ESC_KIND[b]!
        if (k === 0) {
          if (b >= 0x41 && b <= 0x5a) upper = true
          SCRATCH[out++] = b
        } else if (k === 1) {
          SCRATCH[out++] = 0x5c
          SCRATCH[out++] = b
        } else {
          SCRATCH[out++] = 0x5c
          SCRATCH[out++] = 0x30 + ((b / 100) | 0)
          SCRATCH[out++] = 0x30 + (((b / 10) | 0) % 10)
          SCRATCH[out++] = 0x30 + (b % 10)
        }
      }
      SCRATCH[out++] = 0x2e
    }
    pos = stop
  }
  if (write && out === 0) SCRATCH[out++] = 0x2e // root
  lastScan.end = end < 0 ? pos : end
  lastScan.len = out
  lastScan.upper = upper
}

/** Low-level (hot path): validates and renders the name at `off`; read `lastScan` after. */
export function scanName(buf: Buffer, off: number): void {
  scan(buf, off, true)
}

/** The presentation string rendered by the last `scanName`. */
export function scannedName(): string {
  return SCRATCH.toString('latin1', 0, lastScan.len)
}

/** ASCII lower-cased presentation string of the last `scanName`. */
export function scannedNameLower(): string {
  const len = lastScan.len
  for (let i = 0; i < len; i++) SCRATCH_LOWER[i] = LOWER[SCRATCH[i]!]!
  return SCRATCH_LOWER.toString('latin1', 0, len)
}

/** Decodes a possibly compressed name into presentation form (trailing dot; root is "."). */
export function readName(buf: Buffer, off: number): { name: string; end: number } {
  scan(buf, off, true)
  return { name: SCRATCH.toString('latin1', 0, lastScan.len), end: lastScan.end }
}

/** Validates the name at `off` like readName and returns the offset just after it. */
export function skipName(buf: Buffer, off: number): number {
  scan(buf, off, false)
  return lastScan.end
}

/** For a name already validated by skipName/readName: whether it is the root name. */
export function isRootName(buf: Buffer, off: number): boolean {
  let c = buf[off]!
  for (let hops = 0; (c & 0xc0) === 0xc0 && hops <= MAX_POINTERS; hops++) {
    off = ((c & 0x3f) << 8) | buf[off + 1]!
    c = buf[off]!
  }
  return c === 0
}

// ---------------------------------------------------------------------------------------------
// Encoding

function encFail(name: string, why: string): never {
  throw new EncodeError(`invalid domain name ${JSON.stringify(name)}: ${why}`)
}

/**
 * Writes `name` (presentation form, with or without trailing dot; "" and "." are the root) in
 * wire form at `off` and returns the new offset. The caller guarantees 320 writable bytes.
 *
 * With a `compression` map (suffix text → message offset), each suffix is looked up first when
 * `compress` is set (a hit ends the name with a pointer), and suffixes that miss are recorded
 * (offsets < 0x4000) so later names may point at them, as miekg/dns packDomainName does.
 * Keys are case-sensitive, so compression never changes the letter case of a name.
 */
export function packName(
  name: string,
  out: Buffer,
  off: number,
  compression: Map<string, number> | null,
  compress: boolean,
): number {
  const n = name.length
  if (n === 0 || (n === 1 && name.charCodeAt(0) === 0x2e)) {
    out[off] = 0
    return off + 1
  }
  const start = off
  let i = 0
  for (;;) {
    if (compression !== null) {
      const key = i === 0 ? name : name.slice(i)
      const p = compression.get(key)
      if (p !== undefined) {
        if (compress) {
          out[off] = 0xc0 | (p >> 8)
          out[off + 1] = p & 0xff
          return off + 2
        }
      } else if (off < 0x4000) {
        compression.set(key, off)
      }
    }
    const lenPos = off++
    while (i < n) {
      let c = name.charCodeAt(i)
      if (c === 0x2e) break
      if (c === 0x5c) {
        i++
        if (i >= n) encFail(name, 'trailing backslash')
        c = name.charCodeAt(i)
        if (c >= 0x30 && c <= 0x39) {
          if (i + 2 >= n) encFail(name, 'short \\DDD escape')
          const d2 = name.charCodeAt(i + 1)
          const d3 = name.charCodeAt(i + 2)
          if (d2 < 0x30 || d2 > 0x39 || d3 < 0x30 || d3 > 0x39) encFail(name, 'bad \\DDD escape')
          c = (c - 0x30) * 100 + (d2 - 0x30) * 10 + (d3 - 0x30)
          if (c > 255) encFail(name, '\\DDD escape above 255')
          i += 2
        }
      }
      if (c > 255) encFail(name, 'character outside latin1')
      if (off - lenPos > MAX_LABEL) encFail(name, 'label longer than 63 octets')
      out[off++] = c
      i++
    }
    const len = off - lenPos - 1
    if (len === 0) encFail(name, 'empty label')
    out[lenPos] = len
    if (off - start + 1 > MAX_NAME_WIRE) encFail(name, 'longer than 255 octets')
    if (i >= n) break // no trailing dot
    i++ // the dot
    if (i >= n) break // trailing dot
  }
  out[off++] = 0
  return off
}

const NAME_TMP = Buffer.allocUnsafe(MAX_NAME_WIRE + 70)

/** Uncompressed wire form of a presentation name. Throws EncodeError when invalid. */
export function nameToWire(name: string): Buffer {
  const end = packName(name, NAME_TMP, 0, null, false)
  return Buffer.from(NAME_TMP.subarray(0, end))
}

/** Length of the uncompressed wire form; throws EncodeError when invalid. */
export function nameWireLength(name: string): number {
  return packName(name, NAME_TMP, 0, null, false)
}

/** Whether the name is well-formed: labels 1-63 octets, ≤ 255 octets, escapes valid. */
export function isValidDomainName(name: string): boolean {
  try {
    packName(name, NAME_TMP, 0, null, false)
    return true
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------
// Presentation-form helpers (escape-aware; they never normalise \DDD against plain characters,
// like miekg/dns).

/** Whether the name ends with an unescaped dot. */
export function isFqdn(name: string): boolean {
  const n = name.length
  if (n === 0 || name.charCodeAt(n - 1) !== 0x2e) return false
  let bs = 0
  for (let i = n - 2; i >= 0 && name.charCodeAt(i) === 0x5c; i--) bs++
  return bs % 2 === 0
}

/** Adds the trailing dot when missing ("" becomes "."). */
export function fqdn(name: string): string {
  return isFqdn(name) ? name : name + '.'
}

/** ASCII-only lower-casing (other characters unchanged). Returns the same string if unchanged. */
export function lowerName(name: string): string {
  const n = name.length
  let i = 0
  for (; i < n; i++) {
    const c = name.charCodeAt(i)
    if (c >= 0x41 && c <= 0x5a) break
  }
  if (i === n) return name
  let s = name.slice(0, i)
  for (; i < n; i++) {
    const c = name.charCodeAt(i)
    s += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : name[i]
  }
  return s
}

function foldEq(a: string, ai: number, b: string, bi: number, len: number): boolean {
  for (let k = 0; k < len; k++) {
    let x = a.charCodeAt(ai + k)
    let y = b.charCodeAt(bi + k)
    if (x === y) continue
    if (x >= 0x41 && x <= 0x5a) x += 0x20
    if (y >= 0x41 && y <= 0x5a) y += 0x20
    if (x !== y) return false
  }
  return true
}

/** Length without the unescaped trailing dot. */
function bareLen(name: string): number {
  return isFqdn(name) ? name.length - 1 : name.length
}

/** Case-insensitive (ASCII) name equality that ignores a trailing-dot difference. */
export function nameEquals(a: string, b: string): boolean {
  const la = bareLen(a)
  const lb = bareLen(b)
  return la === lb && foldEq(a, 0, b, 0, la)
}

/** Whether position i of name (a '.') is a label separator, i.e. not escaped. */
function isSeparator(name: string, i: number): boolean {
  if (name.charCodeAt(i) !== 0x2e) return false
  let bs = 0
  for (let j = i - 1; j >= 0 && name.charCodeAt(j) === 0x5c; j--) bs++
  return bs % 2 === 0
}

/**
 * Whether `child` is `zone` or below it (case-insensitive ASCII; "." contains every name; a name
 * is a subdomain of itself).
 */
export function isSubdomain(child: string, zone: string): boolean {
  const lz = bareLen(zone)
  if (lz === 0) return true
  const lc = bareLen(child)
  if (lc < lz) return false
  const at = lc - lz
  if (!foldEq(child, at, zone, 0, lz)) return false
  return at === 0 || isSeparator(child, at - 1)
}

/** Presentation labels, escapes kept as written; the root has none. */
export function splitLabels(name: string): string[] {
  const labels: string[] = []
  const n = bareLen(name)
  let start = 0
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i)
    if (c === 0x5c) {
      i++
      continue
    }
    if (c === 0x2e) {
      labels.push(name.slice(start, i))
      start = i + 1
    }
  }
  if (n > 0) labels.push(name.slice(start, n))
  return labels
}

/** Number of labels; the root has 0. */
export function labelCount(name: string): number {
  const n = bareLen(name)
  if (n === 0) return 0
  let count = 1
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i)
    if (c === 0x5c) i++
    else if (c === 0x2e) count++
  }
  return count
}

/** The name without its leftmost label, fully qualified ("a.b." → "b.", "b." → "."); root: null. */
export function parentName(name: string): string | null {
  const n = bareLen(name)
  if (n === 0) return null
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i)
    if (c === 0x5c) i++
    else if (c === 0x2e) return fqdn(name.slice(i + 1))
  }
  return '.'
}
