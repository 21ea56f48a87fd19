// The hot-path view of a received query: header, first question and EDNS, read straight from the
// datagram. Hand-written because a full decode (dns-packet or decodeMessage) allocates an object
// per record and a string per name; a server only needs the header, the question and the OPT on
// arrival (miekg/dnsv2's lazy message). One instance per listener is re-filled for each packet; the
// only allocations are the qname strings (one, or two when the name has upper-case letters).

import { HEADER_SIZE, Type } from './constants.js'
import { isRootName, lastScan, scanName, scannedName, scannedNameLower, skipName } from './name.js'
import { DecodeError, EDNS_DO } from './types.js'

const EMPTY = Buffer.alloc(0)

function fail(msg: string, off: number): never {
  throw new DecodeError(msg, off)
}

export class QueryView {
  buf: Buffer
  id: number
  flags: number
  opcode: number
  qdcount: number
  ancount: number
  nscount: number
  arcount: number
  /** Presentation form as sent (case kept), trailing dot; "" when there is no question. */
  qname: string
  /** ASCII lower-cased qname (the same string when it has no upper-case letters). */
  qnameLower: string
  qtype: number
  qclass: number
  /** Offset just after the first question; 12 until a question has been parsed. */
  questionEnd: number
  hasEdns: boolean
  /** The OPT CLASS field as sent (0 without EDNS; callers apply the 512 floor). */
  udpSize: number
  ednsVersion: number
  ednsFlags: number
  /** The DNSSEC OK bit of the OPT flags. */
  do: boolean
  /** Byte range of the OPT RR; -1 when absent. */
  optStart: number
  optEnd: number

  constructor() {
    this.buf = EMPTY
    this.id = 0
    this.flags = 0
    this.opcode = 0
    this.qdcount = 0
    this.ancount = 0
    this.nscount = 0
    this.arcount = 0
    this.qname = ''
    this.qnameLower = ''
    this.qtype = 0
    this.qclass = 0
    this.questionEnd = HEADER_SIZE
    this.hasEdns = false
    this.udpSize = 0
    this.ednsVersion = 0
    this.ednsFlags = 0
    this.do = false
    this.optStart = -1
    this.optEnd = -1
  }

  /** Reads the 12-byte header and resets every body field. Throws DecodeError if too short. */
  parseHeader(buf: Buffer): void {
    this.buf = buf
    this.qname = ''
    this.qnameLower = ''
    this.qtype = 0
    this.qclass = 0
    this.questionEnd = HEADER_SIZE
    this.hasEdns = false
    this.udpSize = 0
    this.ednsVersion = 0
    this.ednsFlags = 0
    this.do = false
    this.optStart = -1
    this.optEnd = -1
    if (buf.length < HEADER_SIZE) {
      this.id = 0
      this.flags = 0
      this.opcode = 0
      this.qdcount = this.ancount = this.nscount = this.arcount = 0
      fail('message shorter than the 12-octet header', 0)
    }
    this.id = (buf[0]! << 8) | buf[1]!
    const flags = (buf[2]! << 8) | buf[3]!
    this.flags = flags
    this.opcode = (flags >>> 11) & 0xf
    this.qdcount = (buf[4]! << 8) | buf[5]!
    this.ancount = (buf[6]! << 8) | buf[7]!
    this.nscount = (buf[8]! << 8) | buf[9]!
    this.arcount = (buf[10]! << 8) | buf[11]!
  }

  /**
   * Parses the first question, walks every other question and RR (names validated, rdlength
   * bounds checked) and reads the first OPT of the additional section. Throws DecodeError on any
   * malformation; fields parsed before the failure (e.g. the question) stay set.
   */
  parseBody(): void {
    const buf = this.buf
    const n = buf.length
    if (n < HEADER_SIZE) fail('message shorter than the 12-octet header', 0)
    let off = HEADER_SIZE
    const qd = this.qdcount
    if (qd > 0) {
      scanName(buf, off)
      const end = lastScan.end
      if (end + 4 > n) fail('question: type/class past end of message', end)
      const qname = scannedName()
      this.qname = qname
      this.qnameLower = lastScan.upper ? scannedNameLower() : qname
      this.qtype = (buf[end]! << 8) | buf[end + 1]!
      this.qclass = (buf[end + 2]! << 8) | buf[end + 3]!
      off = end + 4
      this.questionEnd = off
      for (let i = 1; i < qd; i++) {
        off = skipName(buf, off) + 4
        if (off > n) fail('question: type/class past end of message', off - 4)
      }
    }
    const arFirst = this.ancount + this.nscount
    const total = arFirst + this.arcount
    for (let i = 0; i < total; i++) {
      const start = off
      const p = skipName(buf, off)
      if (p + 10 > n) fail('RR: fixed fields past end of message', p)
      const end = p + 10 + ((buf[p + 8]! << 8) | buf[p + 9]!)
      if (end > n) fail('RR: rdata past end of message', p + 10)
      if (i >= arFirst && buf[p] === 0 && buf[p + 1] === Type.OPT) {
        if (this.hasEdns) fail('more than one OPT record', start)
        if (!isRootName(buf, start)) fail('OPT owner is not the root', start)
        for (let o = p + 10; o < end; ) {
          if (o + 4 > end) fail('OPT option header runs past rdlength', o)
          o += 4 + ((buf[o + 2]! << 8) | buf[o + 3]!)
          if (o > end) fail('OPT option data runs past rdlength', o)
        }
        const ednsFlags = (buf[p + 6]! << 8) | buf[p + 7]!
        this.hasEdns = true
        this.udpSize = (buf[p + 2]! << 8) | buf[p + 3]!
        this.ednsVersion = buf[p + 5]!
        this.ednsFlags = ednsFlags
        this.do = (ednsFlags & EDNS_DO) !== 0
        this.optStart = start
        this.optEnd = end
      }
      off = end
    }
  }
}
