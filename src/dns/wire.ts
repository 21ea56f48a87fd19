// Operations on already-encoded messages: cache hits (patch id and TTLs), forwarded answers
// (truncate to the client's size), error replies built straight from a QueryView.
// Hand-written because no codec offers these: dns-packet and decodeMessage would decode and
// re-encode the whole message, allocating per record, where the cache only needs TTL offsets and
// truncation only needs record boundaries. Records are located by one validating walk (skipName +
// rdlength) that fills module-level typed arrays, so the walk itself allocates nothing.

import { Flag, HEADER_SIZE, Type } from './constants.js'
import { isRootName, nameToWire, skipName } from './name.js'
import { MAX_MSG_SIZE, MIN_MSG_SIZE } from './message.js'
import type { QueryView } from './query.js'
import { DecodeError, EDNS_DO } from './types.js'

function fail(msg: string, off: number): never {
  throw new DecodeError(msg, off)
}

// Results of the last walk().
let cap = 64
let rrStart = new Int32Array(cap)
let rrTtl = new Int32Array(cap) // offset of the TTL field (type is at rrTtl - 4)
let rrEnd = new Int32Array(cap)
let nRR = 0
let nAn = 0
let nNs = 0
let qEnd = HEADER_SIZE
let optIdx = -1

function grow(): void {
  cap *= 2
  const s = new Int32Array(cap)
  s.set(rrStart)
  rrStart = s
  const t = new Int32Array(cap)
  t.set(rrTtl)
  rrTtl = t
  const e = new Int32Array(cap)
  e.set(rrEnd)
  rrEnd = e
}

/** Validating walk over the whole message; fills the record tables above. */
function walk(buf: Buffer): void {
  const n = buf.length
  if (n < HEADER_SIZE) fail('message shorter than the 12-octet header', 0)
  const qd = (buf[4]! << 8) | buf[5]!
  nAn = (buf[6]! << 8) | buf[7]!
  nNs = (buf[8]! << 8) | buf[9]!
  const ar = (buf[10]! << 8) | buf[11]!
  nRR = 0
  optIdx = -1
  let off = HEADER_SIZE
  for (let i = 0; i < qd; i++) {
    off = skipName(buf, off) + 4
    if (off > n) fail('question: type/class past end of message', off - 4)
  }
  qEnd = off
  const arFirst = nAn + nNs
  const total = arFirst + ar
  for (let i = 0; i < total; i++) {
    const start = off
    const p = skipName(buf, off)
    if (p + 10 > n) fail('RR: fixed fields past end of message', p)
    const type = (buf[p]! << 8) | buf[p + 1]!
    const end = p + 10 + ((buf[p + 8]! << 8) | buf[p + 9]!)
    if (end > n) fail('RR: rdata past end of message', p + 10)
    if (type === Type.OPT && i >= arFirst) {
      if (optIdx >= 0) fail('more than one OPT record', start)
      if (!isRootName(buf, start)) fail('OPT owner is not the root', start)
      optIdx = i
    }
    if (i === cap) grow()
    rrStart[i] = start
    rrTtl[i] = p + 4
    rrEnd[i] = end
    nRR = i + 1
    off = end
  }
}

/** Writes the message id (header bytes 0-1). */
export function setId(buf: Buffer, id: number): void {
  if (buf.length < HEADER_SIZE) fail('message shorter than the 12-octet header', 0)
  buf[0] = (id >>> 8) & 0xff
  buf[1] = id & 0xff
}

/** The 12-bit rcode: header low 4 bits plus the extended bits of the OPT, if any. */
export function getRcodeWire(buf: Buffer): number {
  walk(buf)
  const low = buf[3]! & 0xf
  return optIdx < 0 ? low : (buf[rrTtl[optIdx]!]! << 4) | low
}

/**
 * Offsets of the 32-bit TTL field of every RR in answer, authority and additional except the OPT
 * (the one decodeMessage puts in `edns`; an OPT-typed record elsewhere is an ordinary record to
 * it). Throws DecodeError if the message is malformed.
 */
export function ttlOffsets(buf: Buffer): number[] {
  walk(buf)
  const out: number[] = []
  for (let i = 0; i < nRR; i++) if (i !== optIdx) out.push(rrTtl[i]!)
  return out
}

function checkOffset(buf: Buffer, off: number): void {
  if (!(off >= 0 && off + 4 <= buf.length)) fail('TTL offset outside the message', off)
}

/** Smallest TTL at the given offsets; -1 when `offsets` is empty. */
export function minTtl(buf: Buffer, offsets: readonly number[]): number {
  let min = -1
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i]!
    checkOffset(buf, o)
    const ttl = ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0
    if (min < 0 || ttl < min) min = ttl
  }
  return min
}

/** Writes `ttl` (uint32) at each offset. */
export function setTtls(buf: Buffer, offsets: readonly number[], ttl: number): void {
  const b0 = (ttl >>> 24) & 0xff
  const b1 = (ttl >>> 16) & 0xff
  const b2 = (ttl >>> 8) & 0xff
  const b3 = ttl & 0xff
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i]!
    checkOffset(buf, o)
    buf[o] = b0
    buf[o + 1] = b1
    buf[o + 2] = b2
    buf[o + 3] = b3
  }
}

/**
 * Fits an encoded message into `maxSize` (clamped to 512..65535) with encodeMessage's rules:
 * header + question, then whole RRs in order while they fit, the OPT kept (re-appended with a
 * root owner when it falls after the cut), counts fixed, TC set if any RR was dropped. Returns
 * `buf` itself when it already fits. A prefix cut is safe because compression pointers only
 * point backwards. Throws DecodeError when the message is malformed.
 */
export function truncateWire(buf: Buffer, maxSize: number): Buffer {
  if (!(maxSize >= MIN_MSG_SIZE)) maxSize = MIN_MSG_SIZE
  else if (maxSize > MAX_MSG_SIZE) maxSize = MAX_MSG_SIZE
  if (buf.length <= maxSize) return buf
  walk(buf)
  const opt = optIdx
  // Appended OPT: one root byte + type..rdata.
  const optLen = opt < 0 ? 0 : 1 + rrEnd[opt]! - (rrTtl[opt]! - 4)
  let kept = 0
  for (let i = 0; i < nRR; i++) {
    if (i !== opt) {
      const size = i < opt ? rrEnd[i]! + optLen : rrEnd[i]!
      if (size > maxSize) break
    }
    kept = i + 1
  }
  const cut = kept > 0 ? rrEnd[kept - 1]! : qEnd
  const append = opt >= kept
  const len = append ? cut + optLen : cut
  const out = Buffer.allocUnsafe(len)
  buf.copy(out, 0, 0, cut)
  if (append) {
    out[cut] = 0
    buf.copy(out, cut + 1, rrTtl[opt]! - 4, rrEnd[opt]!)
  }
  const an = kept < nAn ? kept : nAn
  const rest = kept - an
  const ns = rest < nNs ? rest : nNs
  const ar = rest - ns + (append ? 1 : 0)
  if (kept < nRR) out[2] = out[2]! | (Flag.TC >>> 8)
  out[6] = an >>> 8
  out[7] = an & 0xff
  out[8] = ns >>> 8
  out[9] = ns & 0xff
  out[10] = ar >>> 8
  out[11] = ar & 0xff
  return out
}

const OPCODE_MASK = 0x7800

/**
 * An error reply to a (possibly partly parsed) query: QR set, id/opcode/RD/CD copied, the first
 * question echoed when it was parsed, the rcode's low 4 bits in the header, and an OPT (version 0,
 * the client's udpSize, DO copied, no options, extended rcode bits) when the query had EDNS.
 * Rcodes above 15 need EDNS; without it only the low 4 bits can be sent.
 * When `maxOut` is given and large enough, the reply is written into it and a view returned.
 */
export function errorReply(q: QueryView, rcode: number, maxOut?: Buffer): Buffer {
  let qBytes: Buffer | null = null
  if (q.qdcount >= 1 && q.questionEnd > HEADER_SIZE) {
    qBytes = q.buf.subarray(HEADER_SIZE, q.questionEnd)
    // A question name compressed with a pointer (legal, if odd) would point into our own header
    // once copied: write it out uncompressed instead.
    if (hasPointer(qBytes)) {
      const wire = nameToWire(q.qname)
      const tail = Buffer.allocUnsafe(4)
      tail.writeUInt16BE(q.qtype, 0)
      tail.writeUInt16BE(q.qclass, 2)
      qBytes = Buffer.concat([wire, tail])
    }
  }
  const qLen = qBytes === null ? 0 : qBytes.length
  const edns = q.hasEdns
  const len = HEADER_SIZE + qLen + (edns ? 11 : 0)
  const out = maxOut !== undefined && maxOut.length >= len ? maxOut : Buffer.allocUnsafe(len)
  const flags = Flag.QR | (q.flags & (OPCODE_MASK | Flag.RD | Flag.CD)) | (rcode & 0xf)
  out[0] = (q.id >>> 8) & 0xff
  out[1] = q.id & 0xff
  out[2] = flags >>> 8
  out[3] = flags & 0xff
  out[4] = 0
  out[5] = qLen > 0 ? 1 : 0
  out[6] = 0
  out[7] = 0
  out[8] = 0
  out[9] = 0
  out[10] = 0
  out[11] = edns ? 1 : 0
  if (qBytes !== null) qBytes.copy(out, HEADER_SIZE)
  if (edns) writeClientOpt(out, HEADER_SIZE + qLen, q, rcode >>> 4)
  return out.length === len ? out : out.subarray(0, len)
}

/** Size of the OPT record writeClientOpt writes. */
export const CLIENT_OPT_SIZE = 11

/**
 * Writes the OPT record a reply to `q` carries (corefile.md §7.4): root owner, version 0, the
 * client's UDP size (512 floor), DO echoed, no options, extended rcode bits as given. The one
 * place that knows this layout; replies built as bytes (hosts, kubernetes, cache) use it.
 */
export function writeClientOpt(out: Buffer, off: number, q: QueryView, extRcode = 0): void {
  const size = q.udpSize < 512 ? 512 : q.udpSize
  out[off] = 0
  out[off + 1] = 0
  out[off + 2] = Type.OPT
  out[off + 3] = (size >>> 8) & 0xff
  out[off + 4] = size & 0xff
  out[off + 5] = extRcode & 0xff
  out[off + 6] = 0
  out[off + 7] = q.do ? EDNS_DO >>> 8 : 0
  out[off + 8] = 0
  out[off + 9] = 0
  out[off + 10] = 0
}

/** True when the (already validated) name at the start of `q` uses a compression pointer. */
function hasPointer(q: Buffer): boolean {
  let off = 0
  while (off < q.length) {
    const l = q[off]!
    if (l === 0) return false
    if ((l & 0xc0) !== 0) return true
    off += l + 1
  }
  return false
}
