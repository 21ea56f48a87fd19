// One validating walk over a reply's wire bytes that gives the cache everything it decides with:
// the response type (CoreDNS plugin/pkg/response Typify plus the cache's NODATA reclassification),
// whether the question matches the query, the minimum TTL, the TTL field offsets and where the OPT
// sits. Results land in module-level fields (`A`) and typed arrays, so a walk allocates nothing
// unless a CNAME chain has to be followed (names are then decoded).

import { Class, Flag, HEADER_SIZE, Opcode, Type } from '../../dns/constants.js'
import { LOWER, readName, skipName, lowerName } from '../../dns/name.js'
import type { QueryView } from '../../dns/query.js'
import { DecodeError, EDNS_DO } from '../../dns/types.js'

/** CoreDNS response.Type values the cache uses. */
export const RespType = {
  NoError: 0,
  NameError: 1,
  NoData: 2,
  Delegation: 3,
  ServerError: 4,
  Meta: 5,
  Update: 6,
  OtherError: 7,
} as const
export type RespType = (typeof RespType)[keyof typeof RespType]

/** Results of the last analyze(). */
export const A = {
  /** Offset after the reply's first question. */
  qEnd: 0,
  /** One question, QR set, same (case-insensitive) name, type and class as the query. */
  match: false,
  type: RespType.OtherError as RespType,
  /** 12-bit rcode. */
  rcode: 0,
  truncated: false,
  /** Reply's OPT byte range; -1 when none. */
  optStart: -1,
  optEnd: -1,
  /** Number of TTL offsets in `ttlOffs` (every RR except the OPT). */
  nTtl: 0,
  /** CoreDNS MinimalTTLWithMaximum before clamping (seconds), given the type's maximum. */
  minTtl: 0,
  hasSoa: false,
  /** Answer section count. */
  nAnswer: 0,
}

/** Set by analyze: a NOERROR answer that does not answer the question (a dangling CNAME chain). */
export let nodata = false

let cap = 64
let rrStart = new Int32Array(cap)
let rrType = new Int32Array(cap)
let rrClass = new Int32Array(cap)
let rrRd = new Int32Array(cap) // rdata start; TTL field is at rrRd - 6
let rrEnd = new Int32Array(cap)
/** TTL field offsets of the non-OPT RRs, in message order. */
export let ttlOffs = new Int32Array(cap)

function grow(): void {
  cap *= 2
  const g = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
    const b = new Int32Array(cap)
    b.set(a)
    return b
  }
  rrStart = g(rrStart)
  rrType = g(rrType)
  rrClass = g(rrClass)
  rrRd = g(rrRd)
  rrEnd = g(rrEnd)
  ttlOffs = g(ttlOffs)
}

function u32(buf: Buffer, o: number): number {
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0
}

const YEAR68 = 2 ** 31

/** miekg/dns RRSIG.ValidityPeriod with RFC 1982 serial arithmetic. */
function sigValid(inception: number, expiration: number, utc: number): boolean {
  const modi = Math.trunc((inception - utc) / YEAR68)
  const mode = Math.trunc((expiration - utc) / YEAR68)
  const ti = inception + modi * YEAR68
  const te = expiration + mode * YEAR68
  return ti <= utc && utc <= te
}

/** Whether the reply's question name equals the query's, ASCII case-insensitively. */
function sameQuestionName(buf: Buffer, nameEnd: number, q: QueryView): boolean {
  const qb = q.buf
  const qnEnd = q.questionEnd - 4
  const len = nameEnd - HEADER_SIZE
  if (len === qnEnd - HEADER_SIZE) {
    // Both uncompressed (the usual case): compare bytes with case folding.
    let plain = true
    for (let i = 0; i < len; i++) {
      const a = buf[HEADER_SIZE + i]!
      const b = qb[HEADER_SIZE + i]!
      if (a !== b && LOWER[a] !== LOWER[b]) {
        plain = false
        break
      }
    }
    if (plain) return true
  }
  return lowerName(readName(buf, HEADER_SIZE).name) === q.qnameLower
}

// Owner / target names decoded on demand while following a CNAME chain.
let owners: Array<string | null> = []

function ownerLower(buf: Buffer, i: number, qnameLower: string): string {
  const s = rrStart[i]!
  // A pointer to the question name (offset 12) is by far the most common owner.
  if (buf[s] === 0xc0 && buf[s + 1] === HEADER_SIZE) return qnameLower
  let o = owners[i]
  if (o === undefined || o === null) {
    o = lowerName(readName(buf, s).name)
    owners[i] = o
  }
  return o
}

function classMatches(rrClass: number, qclass: number): boolean {
  return qclass === Class.ANY || rrClass === qclass
}

/** CoreDNS uniqueCNAMETarget: '' = no CNAME at owner, null = several distinct targets. */
function cnameTarget(buf: Buffer, an: number, owner: string, qname: string, qclass: number): string | null {
  let target = ''
  for (let i = 0; i < an; i++) {
    if (rrType[i] !== Type.CNAME || !classMatches(rrClass[i]!, qclass)) continue
    if (ownerLower(buf, i, qname) !== owner) continue
    const t = lowerName(readName(buf, rrRd[i]!).name)
    if (target !== '' && target !== t) return null
    target = t
  }
  return target
}

/** CoreDNS answersQuestion for a NOERROR reply with a non-empty answer section. */
function answersQuestion(buf: Buffer, an: number, q: QueryView): boolean {
  const qtype = q.qtype
  const qclass = q.qclass
  const qname = q.qnameLower
  owners = []
  if (qtype === Type.ANY) {
    for (let i = 0; i < an; i++) {
      if (classMatches(rrClass[i]!, qclass) && ownerLower(buf, i, qname) === qname) return true
    }
    return false
  }
  if (qtype === Type.CNAME) {
    const t = cnameTarget(buf, an, qname, qname, qclass)
    return t !== null && t !== ''
  }
  let hasCname = false
  for (let i = 0; i < an; i++) if (rrType[i] === Type.CNAME) hasCname = true
  let name = qname
  if (hasCname) {
    const seen = new Set<string>()
    for (;;) {
      if (seen.has(name)) return false // loop
      seen.add(name)
      const t = cnameTarget(buf, an, name, qname, qclass)
      if (t === null) return false
      if (t === '') break
      name = t
    }
  }
  for (let i = 0; i < an; i++) {
    if (rrType[i] === qtype && classMatches(rrClass[i]!, qclass) && ownerLower(buf, i, qname) === name) return true
  }
  return false
}

/**
 * Walks `buf` (a reply to `q`) and fills `A`, `ttlOffs`. `maxTtl` is the maximum TTL of the
 * class the reply will fall in (MinimalTTLWithMaximum starts from it): pass a function of the
 * type. Returns false when the reply is malformed (A is then meaningless).
 */
export function analyze(buf: Buffer, q: QueryView, nowSec: number, pttl: number, nttl: number): boolean {
  const n = buf.length
  if (n < HEADER_SIZE) return false
  const flags = (buf[2]! << 8) | buf[3]!
  const qd = (buf[4]! << 8) | buf[5]!
  const an = (buf[6]! << 8) | buf[7]!
  const ns = (buf[8]! << 8) | buf[9]!
  const ar = (buf[10]! << 8) | buf[11]!
  let off = HEADER_SIZE
  let qtype = -1
  let match = false
  try {
    for (let i = 0; i < qd; i++) {
      const end = skipName(buf, off)
      if (end + 4 > n) return false
      if (i === 0) {
        qtype = (buf[end]! << 8) | buf[end + 1]!
        const qclass = (buf[end + 2]! << 8) | buf[end + 3]!
        match =
          qd === 1 &&
          (flags & Flag.QR) !== 0 &&
          qtype === q.qtype &&
          qclass === q.qclass &&
          sameQuestionName(buf, end, q)
      }
      off = end + 4
    }
    A.qEnd = off
    const total = an + ns + ar
    const arFirst = an + ns
    let optIdx = -1
    let nTtl = 0
    let hasSoa = false
    let nsCount = 0
    let hasSig = false
    let min = -1
    for (let i = 0; i < total; i++) {
      if (i === cap) grow()
      const start = off
      const p = skipName(buf, off)
      if (p + 10 > n) return false
      const type = (buf[p]! << 8) | buf[p + 1]!
      const end = p + 10 + ((buf[p + 8]! << 8) | buf[p + 9]!)
      if (end > n) return false
      rrStart[i] = start
      rrType[i] = type
      rrClass[i] = (buf[p + 2]! << 8) | buf[p + 3]!
      rrRd[i] = p + 10
      rrEnd[i] = end
      if (type === Type.OPT && i >= arFirst) {
        if (optIdx >= 0) return false
        optIdx = i
      } else {
        ttlOffs[nTtl++] = p + 4
        const ttl = u32(buf, p + 4)
        if (min < 0 || ttl < min) min = ttl
        if (type === Type.RRSIG) hasSig = true
        if (i >= an && i < arFirst) {
          if (type === Type.SOA) hasSoa = true
          else if (type === Type.NS) nsCount++
        }
      }
      off = end
    }
    A.nTtl = nTtl
    A.nAnswer = an
    A.hasSoa = hasSoa
    A.optStart = optIdx < 0 ? -1 : rrStart[optIdx]!
    A.optEnd = optIdx < 0 ? -1 : rrEnd[optIdx]!
    const optTtl = optIdx < 0 ? 0 : rrRd[optIdx]! - 6
    const rcode = optIdx < 0 ? flags & 0xf : (buf[optTtl]! << 4) | (flags & 0xf)
    const doBit = optIdx >= 0 && (((buf[optTtl + 2]! << 8) | buf[optTtl + 3]!) & EDNS_DO) !== 0
    A.rcode = rcode
    A.truncated = (flags & Flag.TC) !== 0
    A.match = match
    // Typify.
    const opcode = (flags >>> 11) & 0xf
    let t: RespType
    if (opcode === Opcode.Update) t = RespType.Update
    else if (opcode === Opcode.Notify || qtype === Type.AXFR || qtype === Type.IXFR) t = RespType.Meta
    else if (doBit && hasSig && expiredSig(buf, total, optIdx, nowSec)) t = RespType.OtherError
    else if (an > 0 && rcode === 0) t = RespType.NoError
    else if (hasSoa && rcode === 0) t = RespType.NoData
    else if (hasSoa && rcode === 3) t = RespType.NameError
    else if (rcode === 2 || rcode === 4) t = RespType.ServerError
    else if (nsCount > 0 && rcode === 0) t = RespType.Delegation
    else if (rcode === 0) t = RespType.NoError
    else t = RespType.OtherError
    // The cache's reclassification: NOERROR whose answer does not reach the queried type.
    A.type = t
    nodata = false
    if (t === RespType.NoError && an > 0 && match && !answersQuestion(buf, an, q)) {
      nodata = true
      if (hasSoa) A.type = RespType.NoData
    }
    // MinimalTTLWithMaximum.
    const tt = A.type
    if (tt !== RespType.NoError && tt !== RespType.NameError && tt !== RespType.NoData) A.minTtl = 5
    else if (an + ns === 0 && (ar === 0 || (ar === 1 && optIdx >= 0))) A.minTtl = 5
    else {
      const max = tt === RespType.NoError ? pttl : nttl
      A.minTtl = min < 0 || min > max ? max : min
    }
    return true
  } catch (e) {
    if (e instanceof DecodeError) return false
    throw e
  }
}

function expiredSig(buf: Buffer, total: number, optIdx: number, nowSec: number): boolean {
  for (let i = 0; i < total; i++) {
    if (i === optIdx || rrType[i] !== Type.RRSIG) continue
    const rd = rrRd[i]!
    if (rd + 16 > rrEnd[i]!) continue
    if (!sigValid(u32(buf, rd + 12), u32(buf, rd + 8), nowSec)) return true
  }
  return false
}
