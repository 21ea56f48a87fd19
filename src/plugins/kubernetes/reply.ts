// Reply assembly for the kubernetes plugin. The two most frequent shapes are written straight as
// bytes (like hosts): address answers owned by the qname, and negative answers (NXDOMAIN /
// NODATA / SERVFAIL-before-sync) carrying one SOA whose names point into the client's own
// question, so owner and zone keep the client's letter case. Everything else is a Message.

import { Class, Flag, HEADER_SIZE, Type } from '../../dns/constants.js'
import type { QueryView } from '../../dns/query.js'
import type { Message, RR } from '../../dns/types.js'
import type { ResponseWriter } from '../../pluginkit/types.js'
import { joinName } from './backend.js'
import { writeClientOpt } from '../../dns/wire.js'

const OPCODE_MASK = 0x7800
const OPT_LEN = 11
export const PLUGIN = 'kubernetes'

function replyFlags(q: QueryView, rcode: number, tc: boolean): number {
  return Flag.QR | Flag.AA | (q.flags & (OPCODE_MASK | Flag.RD | Flag.CD)) | (tc ? Flag.TC : 0) | (rcode & 0xf)
}

/** Offset of the question name's label at which `zoneLabels` labels remain, or -1 (pointer / oddity). */
function zoneOffset(q: QueryView, zoneLabels: number): number {
  const buf = q.buf
  const end = q.questionEnd
  const starts: number[] = []
  let p = HEADER_SIZE
  while (p < end) {
    const c = buf[p]!
    if (c === 0) break
    if (c >= 0x40) return -1
    starts.push(p)
    p += c + 1
  }
  if (p >= end) return -1
  const i = starts.length - zoneLabels
  if (i < 0) return -1
  return i === starts.length ? p : starts[i]!
}

function writeHeader(out: Buffer, q: QueryView, flags: number, an: number, ns: number, ar: number): void {
  out[0] = q.id >>> 8
  out[1] = q.id & 0xff
  out[2] = flags >>> 8
  out[3] = flags & 0xff
  out[4] = 0
  out[5] = 1
  out[6] = an >>> 8
  out[7] = an & 0xff
  out[8] = ns >>> 8
  out[9] = ns & 0xff
  out[10] = ar >>> 8
  out[11] = ar & 0xff
}


export interface SoaParams {
  /** The zone as spelled in the query. */
  zoneQ: string
  zoneLabels: number
  ttl: number
  serial: number
}

/** The SOA record of §8 (owner = zone as spelled in the query). */
export function soaRecord(p: SoaParams): RR {
  return {
    name: p.zoneQ,
    type: Type.SOA,
    class: Class.IN,
    ttl: p.ttl < 300 ? p.ttl : 300,
    data: {
      mname: joinName('ns.dns', p.zoneQ),
      rname: joinName('hostmaster', p.zoneQ),
      serial: p.serial >>> 0,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: p.ttl,
    },
  }
}

/** NXDOMAIN / NODATA / SERVFAIL with the zone's SOA in AUTHORITY, AA set. */
export function writeNegative(q: QueryView, w: ResponseWriter, rcode: number, p: SoaParams): void {
  const zoneOff = p.zoneQ === '.' ? -1 : zoneOffset(q, p.zoneLabels)
  if (zoneOff < 0 || zoneOff > 0x3fff) {
    writeMessage(q, w, rcode, [], [soaRecord(p)], [], false)
    return
  }
  const qEnd = q.questionEnd
  const edns = q.hasEdns
  // owner ptr(2) + fixed(10) + rdata(42)
  const out = Buffer.allocUnsafe(qEnd + 54 + (edns ? OPT_LEN : 0))
  writeHeader(out, q, replyFlags(q, rcode, false), 0, 1, edns ? 1 : 0)
  q.buf.copy(out, HEADER_SIZE, HEADER_SIZE, qEnd)
  let o = qEnd
  const hi = 0xc0 | (zoneOff >>> 8)
  const lo = zoneOff & 0xff
  out[o++] = hi
  out[o++] = lo
  out.writeUInt16BE(Type.SOA, o)
  out.writeUInt16BE(Class.IN, o + 2)
  out.writeUInt32BE(p.ttl < 300 ? p.ttl : 300, o + 4)
  out.writeUInt16BE(42, o + 8)
  o += 10
  // mname ns.dns.<zone>
  out[o++] = 2
  out[o++] = 0x6e // n
  out[o++] = 0x73 // s
  out[o++] = 3
  out[o++] = 0x64 // d
  out[o++] = 0x6e // n
  out[o++] = 0x73 // s
  out[o++] = hi
  out[o++] = lo
  // rname hostmaster.<zone>
  o += out.write('\nhostmaster', o, 'latin1')
  out[o++] = hi
  out[o++] = lo
  out.writeUInt32BE(p.serial >>> 0, o)
  out.writeUInt32BE(7200, o + 4)
  out.writeUInt32BE(1800, o + 8)
  out.writeUInt32BE(86400, o + 12)
  out.writeUInt32BE(p.ttl >>> 0, o + 16)
  o += 20
  if (edns) writeClientOpt(out, o, q)
  w.writeWire(out, PLUGIN)
}

/** Whether the question name at offset 12 has no compression pointer. */
function plainQuestion(q: QueryView): boolean {
  const buf = q.buf
  const end = q.questionEnd
  let p = HEADER_SIZE
  while (p < end) {
    const c = buf[p]!
    if (c === 0) return true
    if (c >= 0x40) return false
    p += c + 1
  }
  return false
}

/**
 * A positive answer of A/AAAA records owned by the qname, written as bytes (owner = pointer to the
 * question). `bytes[i]` are the 4- or 16-byte addresses, `types[i]` their types.
 */
export function writeAddresses(q: QueryView, w: ResponseWriter, types: number[], bytes: Uint8Array[], ttl: number, tc: boolean): void {
  const n = bytes.length
  let len = q.questionEnd
  for (let i = 0; i < n; i++) len += 12 + bytes[i]!.length
  const edns = q.hasEdns
  const out = Buffer.allocUnsafe(len + (edns ? OPT_LEN : 0))
  writeHeader(out, q, replyFlags(q, 0, tc), n, 0, edns ? 1 : 0)
  q.buf.copy(out, HEADER_SIZE, HEADER_SIZE, q.questionEnd)
  let o = q.questionEnd
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!
    out[o] = 0xc0
    out[o + 1] = 0x0c
    out[o + 2] = 0
    out[o + 3] = types[i]!
    out[o + 4] = 0
    out[o + 5] = Class.IN
    out[o + 6] = (ttl >>> 24) & 0xff
    out[o + 7] = (ttl >>> 16) & 0xff
    out[o + 8] = (ttl >>> 8) & 0xff
    out[o + 9] = ttl & 0xff
    out[o + 10] = 0
    out[o + 11] = b.length
    out.set(b, o + 12)
    o += 12 + b.length
  }
  if (edns) writeClientOpt(out, o, q)
  w.writeWire(out, PLUGIN)
}

export { plainQuestion }

/**
 * A positive answer from pre-encoded RRs: `bytes` holds `an` answer then `ar` additional records
 * (owner names are pointers into the question), placed right after the question.
 */
export function writeRRs(q: QueryView, w: ResponseWriter, an: number, ar: number, bytes: Buffer): void {
  const qEnd = q.questionEnd
  const edns = q.hasEdns
  const out = Buffer.allocUnsafe(qEnd + bytes.length + (edns ? OPT_LEN : 0))
  writeHeader(out, q, replyFlags(q, 0, false), an, 0, ar + (edns ? 1 : 0))
  q.buf.copy(out, HEADER_SIZE, HEADER_SIZE, qEnd)
  bytes.copy(out, qEnd)
  if (edns) writeClientOpt(out, qEnd + bytes.length, q)
  w.writeWire(out, PLUGIN)
}

/** Any reply as a Message (the writer encodes, compresses, adds OPT and truncates). */
export function writeMessage(
  q: QueryView,
  w: ResponseWriter,
  rcode: number,
  answer: RR[],
  authority: RR[],
  additional: RR[],
  tc: boolean,
): void {
  const msg: Message = {
    id: q.id,
    flags: replyFlags(q, rcode, tc),
    question: [{ name: q.qname, type: q.qtype, class: q.qclass }],
    answer,
    authority,
    additional,
    edns: null,
  }
  w.write(msg, PLUGIN)
}
