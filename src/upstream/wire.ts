// Byte-level checks on upstream replies: question match (anti-spoofing and CoreDNS's
// request.Match), the rcode, and the empty TC=1 reply CoreDNS substitutes for an oversized UDP one.

import { Flag, HEADER_SIZE } from '../dns/constants.js'
import { LOWER } from '../dns/name.js'

/**
 * Whether the first question of `reply` equals the question of `query` (bytes [12, qEnd)):
 * name compared case-insensitively label by label, then type and class. `reply` must hold
 * exactly one question. A compression pointer in the reply's question name never matches.
 */
export function sameQuestion(reply: Buffer, query: Buffer, qEnd: number): boolean {
  if (reply.length < qEnd) return false
  if (reply[4] !== 0 || reply[5] !== 1) return false
  for (let i = HEADER_SIZE; i < qEnd; i++) {
    const a = reply[i]!
    const b = query[i]!
    if (a !== b && LOWER[a] !== LOWER[b]) return false
  }
  return true
}

/** Header rcode plus the extended bits of an OPT when the reply carries additional records. */
export function replyRcode(buf: Buffer): number {
  const low = buf[3]! & 0xf
  if (buf[10] === 0 && buf[11] === 0) return low
  // An option-less OPT as the last record: its extended-rcode byte sits 6 bytes from the end.
  const n = buf.length
  if (n >= 23 && buf[n - 11] === 0 && buf[n - 10] === 0 && buf[n - 9] === 41) return (buf[n - 6]! << 4) | low
  return low
}

/** Whether the TC bit is set. */
export function isTruncated(buf: Buffer): boolean {
  return (buf[2]! & (Flag.TC >>> 8)) !== 0
}

/** Number of answer records. */
export function answerCount(buf: Buffer): number {
  return (buf[6]! << 8) | buf[7]!
}

/**
 * CoreDNS truncateResponse: header (TC set) and the question of `query`, every section emptied.
 * Used for a UDP reply larger than the client accepts (miekg reports it as an overflow).
 */
export function emptyTruncated(reply: Buffer, query: Buffer, qEnd: number): Buffer {
  const out = Buffer.allocUnsafe(qEnd)
  reply.copy(out, 0, 0, 4)
  out[2] = out[2]! | (Flag.TC >>> 8)
  out[4] = 0
  out[5] = qEnd > HEADER_SIZE ? 1 : 0
  out.fill(0, 6, 12)
  query.copy(out, HEADER_SIZE, HEADER_SIZE, qEnd)
  return out
}
