// Whole-message encode and decode for the model in types.ts.
// Hand-written rather than wrapping dns-packet: dns-packet never compresses names on encode (so
// replies are larger and truncate sooner), has no miekg-style truncation, throws RangeError or
// TypeError on malformed input instead of one error type, decodes names as UTF-8 without escapes
// and keeps record types as upper-cased strings. Encoding writes into one module-level scratch
// buffer with offset-in/offset-out packers and a reused suffix → offset compression map
// (miekg/dns msg.go), then copies the result out once.

import { Flag, HEADER_SIZE, Type } from './constants.js'
import { packName, readName } from './name.js'
import type {
  Edns,
  EdnsOption,
  HINFO,
  Message,
  MX,
  Question,
  RData,
  RR,
  SOA,
  SRV,
} from './types.js'
import { DecodeError, EncodeError } from './types.js'
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../lib/ip.js'

/** Largest DNS message (TCP length prefix is 16 bits). */
export const MAX_MSG_SIZE = 65535
/** Smallest size a reply may be truncated to (RFC 1035 / RFC 6891 6.2.5). */
export const MIN_MSG_SIZE = 512
/** EDNS UDP size used when setRcode has to create an OPT (DNS flag day 2020). */
export const DEFAULT_EDNS_UDP_SIZE = 1232

// Every record starts at an offset ≤ MAX_MSG_SIZE and is at most 320 + 10 + 65535 + 640 bytes.
const OUT = Buffer.allocUnsafe(2 * 65536 + 4096)
const COMP = new Map<string, number>()

function bad(rr: RR, why: string): never {
  throw new EncodeError(`cannot encode ${rr.name} type ${rr.type}: ${why}`)
}

function u16(v: number): boolean {
  return (v & 0xffff) === v
}

function writeU16(out: Buffer, off: number, v: number): void {
  out[off] = v >>> 8
  out[off + 1] = v & 0xff
}

function writeU32(out: Buffer, off: number, v: number): void {
  out[off] = v >>> 24
  out[off + 1] = (v >>> 16) & 0xff
  out[off + 2] = (v >>> 8) & 0xff
  out[off + 3] = v & 0xff
}

function u32Field(rr: RR, v: unknown, what: string): number {
  if (typeof v !== 'number' || v >>> 0 !== v) bad(rr, `${what} is not a 32-bit unsigned integer`)
  return v
}

function nameField(rr: RR, v: unknown, what: string): string {
  if (typeof v !== 'string') bad(rr, `${what} is not a name`)
  return v
}

function objField(rr: RR, d: RData): Record<string, unknown> {
  if (typeof d !== 'object' || d === null || Array.isArray(d) || Buffer.isBuffer(d)) {
    bad(rr, 'rdata has the wrong shape')
  }
  return d as unknown as Record<string, unknown>
}

function packCharString(
  rr: RR,
  s: Buffer | string,
  out: Buffer,
  p: number,
  rdStart: number,
): number {
  const len = s.length
  if (len > 255) bad(rr, 'character-string longer than 255 octets')
  if (p - rdStart + 1 + len > 65535) bad(rr, 'rdata longer than 65535 octets')
  out[p++] = len
  if (typeof s === 'string') {
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i)
      if (c > 255) bad(rr, 'character-string text outside latin1')
      out[p++] = c
    }
    return p
  }
  s.copy(out, p)
  return p + len
}

/**
 * Packs one RR at `off` (owner, type, class, TTL, rdlength, rdata) and returns the end offset.
 * `comp` null packs without compression. `qname` (the first question's name, written at offset 12)
 * enables the 0xC00C fast path for owners that are the very same string.
 */
function packRR(
  rr: RR,
  out: Buffer,
  off: number,
  comp: Map<string, number> | null,
  qname: string | null,
): number {
  const type = rr.type
  if (!u16(type)) bad(rr, 'type is not a 16-bit integer')
  if (!u16(rr.class)) bad(rr, 'class is not a 16-bit integer')
  if (rr.ttl >>> 0 !== rr.ttl) bad(rr, 'ttl is not a 32-bit unsigned integer')
  if (qname !== null && rr.name === qname) {
    out[off] = 0xc0
    out[off + 1] = 0x0c
    off += 2
  } else {
    off = packName(rr.name, out, off, comp, true)
  }
  writeU16(out, off, type)
  writeU16(out, off + 2, rr.class)
  writeU32(out, off + 4, rr.ttl)
  const rdStart = off + 10
  let p = rdStart
  const d = rr.data
  if (Buffer.isBuffer(d)) {
    if (d.length > 65535) bad(rr, 'rdata longer than 65535 octets')
    d.copy(out, p)
    p += d.length
  } else {
    switch (type) {
      case Type.A: {
        const ip = typeof d === 'string' ? parseIPv4(d) : null
        if (ip === null) bad(rr, 'not an IPv4 address')
        out.set(ip, p)
        p += 4
        break
      }
      case Type.AAAA: {
        const ip = typeof d === 'string' ? parseIPv6(d) : null
        if (ip === null) bad(rr, 'not an IPv6 address')
        out.set(ip, p)
        p += 16
        break
      }
      case Type.NS:
      case Type.CNAME:
      case Type.PTR:
        p = packName(nameField(rr, d, 'rdata'), out, p, comp, true)
        break
      case Type.DNAME:
        p = packName(nameField(rr, d, 'rdata'), out, p, comp, false)
        break
      case Type.MX: {
        const o = objField(rr, d)
        const pref = o['preference']
        if (typeof pref !== 'number' || !u16(pref)) bad(rr, 'preference is not a 16-bit integer')
        writeU16(out, p, pref)
        p = packName(nameField(rr, o['exchange'], 'exchange'), out, p + 2, comp, true)
        break
      }
      case Type.SRV: {
        const o = objField(rr, d)
        const pr = o['priority']
        const w = o['weight']
        const port = o['port']
        if (typeof pr !== 'number' || !u16(pr)) bad(rr, 'priority is not a 16-bit integer')
        if (typeof w !== 'number' || !u16(w)) bad(rr, 'weight is not a 16-bit integer')
        if (typeof port !== 'number' || !u16(port)) bad(rr, 'port is not a 16-bit integer')
        writeU16(out, p, pr)
        writeU16(out, p + 2, w)
        writeU16(out, p + 4, port)
        p = packName(nameField(rr, o['target'], 'target'), out, p + 6, comp, false)
        break
      }
      case Type.SOA: {
        const o = objField(rr, d)
        p = packName(nameField(rr, o['mname'], 'mname'), out, p, comp, true)
        p = packName(nameField(rr, o['rname'], 'rname'), out, p, comp, true)
        writeU32(out, p, u32Field(rr, o['serial'], 'serial'))
        writeU32(out, p + 4, u32Field(rr, o['refresh'], 'refresh'))
        writeU32(out, p + 8, u32Field(rr, o['retry'], 'retry'))
        writeU32(out, p + 12, u32Field(rr, o['expire'], 'expire'))
        writeU32(out, p + 16, u32Field(rr, o['minimum'], 'minimum'))
        p += 20
        break
      }
      case Type.TXT: {
        if (!Array.isArray(d)) bad(rr, 'TXT rdata must be an array of Buffers')
        for (let i = 0; i < d.length; i++) {
          const s = d[i]
          if (!Buffer.isBuffer(s)) bad(rr, 'TXT rdata must be an array of Buffers')
          p = packCharString(rr, s, out, p, rdStart)
        }
        break
      }
      case Type.HINFO: {
        const o = objField(rr, d)
        const cpu = o['cpu']
        const os = o['os']
        if (typeof cpu !== 'string' || typeof os !== 'string') bad(rr, 'cpu and os must be text')
        p = packCharString(rr, cpu, out, p, rdStart)
        p = packCharString(rr, os, out, p, rdStart)
        break
      }
      default:
        bad(rr, 'rdata of an unsupported type must be a Buffer (RFC 3597)')
    }
  }
  const rdlen = p - rdStart
  if (rdlen > 65535) bad(rr, 'rdata longer than 65535 octets')
  writeU16(out, off + 8, rdlen)
  return p
}

function optLength(e: Edns): number {
  let len = 11
  const opts = e.options
  for (let i = 0; i < opts.length; i++) len += 4 + opts[i]!.data.length
  if (len - 11 > 65535) throw new EncodeError('EDNS options longer than 65535 octets')
  return len
}

function packOpt(e: Edns, out: Buffer, off: number): number {
  if (!u16(e.udpSize)) throw new EncodeError('EDNS udpSize is not a 16-bit integer')
  if ((e.extRcode & 0xff) !== e.extRcode) throw new EncodeError('EDNS extRcode is not 8 bits')
  if ((e.version & 0xff) !== e.version) throw new EncodeError('EDNS version is not 8 bits')
  if (!u16(e.flags)) throw new EncodeError('EDNS flags is not a 16-bit integer')
  out[off] = 0
  writeU16(out, off + 1, Type.OPT)
  writeU16(out, off + 3, e.udpSize)
  out[off + 5] = e.extRcode
  out[off + 6] = e.version
  writeU16(out, off + 7, e.flags)
  let p = off + 11
  const opts = e.options
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i]!
    if (!u16(o.code)) throw new EncodeError('EDNS option code is not a 16-bit integer')
    writeU16(out, p, o.code)
    writeU16(out, p + 2, o.data.length)
    o.data.copy(out, p + 4)
    p += 4 + o.data.length
  }
  writeU16(out, off + 9, p - off - 11)
  return p
}

/** Records of the last packSection call that were kept. */
let sectionKept = 0

/**
 * Packs records at `off` while each ends within `budget`. Returns the end offset, or, when a
 * record did not fit, -(its start) - 1: the caller cuts there and stops adding records (a record
 * that did not fit may have left compression entries behind, but nothing after it is packed).
 */
function packSection(rrs: RR[], off: number, budget: number, qname: string | null): number {
  for (let i = 0; i < rrs.length; i++) {
    const start = off
    if (start > budget) {
      sectionKept = i
      return -start - 1
    }
    off = packRR(rrs[i]!, OUT, off, COMP, qname)
    if (off > budget) {
      sectionKept = i
      return -start - 1
    }
  }
  sectionKept = rrs.length
  return off
}

/**
 * Encodes a message with name compression (owners; names in NS, CNAME, PTR, SOA, MX rdata).
 * When the result would exceed `maxSize` (clamped to 512..65535) it is truncated like miekg/dns
 * Msg.Truncate: header and question kept, then whole records in order (answer, authority,
 * additional) while they fit with the OPT record's size reserved, the OPT always kept, TC set when
 * anything was dropped. If header + question + OPT alone exceed maxSize the result is larger than
 * maxSize (nothing else can be removed). Throws EncodeError for unencodable content.
 */
export function encodeMessage(msg: Message, maxSize = MAX_MSG_SIZE): Buffer {
  if (!(maxSize >= MIN_MSG_SIZE)) maxSize = MIN_MSG_SIZE
  else if (maxSize > MAX_MSG_SIZE) maxSize = MAX_MSG_SIZE
  if (!u16(msg.id)) throw new EncodeError('message id is not a 16-bit integer')
  if (!u16(msg.flags)) throw new EncodeError('message flags is not a 16-bit integer')
  const qs = msg.question
  const an = msg.answer
  const ns = msg.authority
  const ar = msg.additional
  const nOpt = msg.edns === null ? 0 : 1
  if (qs.length > 65535 || an.length > 65535 || ns.length > 65535 || ar.length + nOpt > 65535) {
    throw new EncodeError('too many records in a section')
  }
  COMP.clear()
  let off = HEADER_SIZE
  for (let i = 0; i < qs.length; i++) {
    if (off > MAX_MSG_SIZE) throw new EncodeError('question section longer than 65535 octets')
    const q = qs[i]!
    if (!u16(q.type) || !u16(q.class)) {
      throw new EncodeError(`question ${q.name}: type or class is not a 16-bit integer`)
    }
    off = packName(q.name, OUT, off, COMP, true)
    writeU16(OUT, off, q.type)
    writeU16(OUT, off + 2, q.class)
    off += 4
  }
  let qname: string | null = null
  if (qs.length > 0) {
    const n = qs[0]!.name
    if (n !== '.' && n !== '') qname = n
  }
  const edns = msg.edns
  const optLen = edns === null ? 0 : optLength(edns)
  const budget = maxSize - optLen
  let nan = an.length
  let nns = 0
  let nar = 0
  let truncated = false
  off = packSection(an, off, budget, qname)
  if (off < 0) {
    truncated = true
    nan = sectionKept
    off = -off - 1
  } else {
    off = packSection(ns, off, budget, qname)
    nns = sectionKept
    if (off < 0) {
      truncated = true
      off = -off - 1
    } else {
      off = packSection(ar, off, budget, qname)
      nar = sectionKept
      if (off < 0) {
        truncated = true
        off = -off - 1
      }
    }
  }
  if (edns !== null) {
    off = packOpt(edns, OUT, off)
    nar++
  }
  writeU16(OUT, 0, msg.id)
  writeU16(OUT, 2, truncated ? msg.flags | Flag.TC : msg.flags)
  writeU16(OUT, 4, qs.length)
  writeU16(OUT, 6, nan)
  writeU16(OUT, 8, nns)
  writeU16(OUT, 10, nar)
  const res = Buffer.allocUnsafe(off)
  OUT.copy(res, 0, 0, off)
  return res
}

/** One RR in uncompressed wire form (for precomputed answer fragments). */
export function encodeRecord(rr: RR): Buffer {
  const end = packRR(rr, OUT, 0, null, null)
  const res = Buffer.allocUnsafe(end)
  OUT.copy(res, 0, 0, end)
  return res
}

// ---------------------------------------------------------------------------------------------
// Decoding

function fail(msg: string, off: number): never {
  throw new DecodeError(msg, off)
}

function rdName(buf: Buffer, p: number, end: number): string {
  const r = readName(buf, p)
  if (r.end > end) fail('rdata: name runs past rdlength', p)
  rdPos = r.end
  return r.name
}
let rdPos = 0

function exact(p: number, end: number, what: string): void {
  if (p !== end) fail(`rdata: ${what} does not fill rdlength exactly`, p)
}

function readU16(buf: Buffer, p: number): number {
  return (buf[p]! << 8) | buf[p + 1]!
}

function readU32(buf: Buffer, p: number): number {
  return ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0
}

/**
 * Decodes the RDATA of `type` held in buf[start, end). Names may be compressed with pointers to
 * anywhere earlier in `buf`. The caller guarantees end ≤ buf.length.
 */
export function decodeRdata(buf: Buffer, type: number, start: number, end: number): RData {
  const len = end - start
  switch (type) {
    case Type.A:
      if (len !== 4) fail('A rdata is not 4 octets', start)
      return formatIPv4(buf, start)
    case Type.AAAA:
      if (len !== 16) fail('AAAA rdata is not 16 octets', start)
      return formatIPv6(buf, start)
    case Type.NS:
    case Type.CNAME:
    case Type.PTR:
    case Type.DNAME: {
      const name = rdName(buf, start, end)
      exact(rdPos, end, 'name')
      return name
    }
    case Type.MX: {
      if (len < 3) fail('MX rdata too short', start)
      const preference = readU16(buf, start)
      const exchange = rdName(buf, start + 2, end)
      exact(rdPos, end, 'MX')
      const mx: MX = { preference, exchange }
      return mx
    }
    case Type.SRV: {
      if (len < 7) fail('SRV rdata too short', start)
      const priority = readU16(buf, start)
      const weight = readU16(buf, start + 2)
      const port = readU16(buf, start + 4)
      const target = rdName(buf, start + 6, end)
      exact(rdPos, end, 'SRV')
      const srv: SRV = { priority, weight, port, target }
      return srv
    }
    case Type.SOA: {
      const mname = rdName(buf, start, end)
      const rname = rdName(buf, rdPos, end)
      const p = rdPos
      if (end - p !== 20) fail('SOA rdata: counters do not fill rdlength exactly', p)
      const soa: SOA = {
        mname,
        rname,
        serial: readU32(buf, p),
        refresh: readU32(buf, p + 4),
        retry: readU32(buf, p + 8),
        expire: readU32(buf, p + 12),
        minimum: readU32(buf, p + 16),
      }
      return soa
    }
    case Type.TXT: {
      const strings: Buffer[] = []
      let p = start
      while (p < end) {
        const l = buf[p]!
        if (p + 1 + l > end) fail('TXT character-string runs past rdlength', p)
        strings.push(Buffer.from(buf.subarray(p + 1, p + 1 + l)))
        p += 1 + l
      }
      return strings
    }
    case Type.HINFO: {
      let p = start
      if (p >= end || p + 1 + buf[p]! > end) fail('HINFO cpu runs past rdlength', p)
      const cpu = buf.toString('latin1', p + 1, p + 1 + buf[p]!)
      p += 1 + buf[p]!
      if (p >= end || p + 1 + buf[p]! > end) fail('HINFO os runs past rdlength', p)
      const os = buf.toString('latin1', p + 1, p + 1 + buf[p]!)
      p += 1 + buf[p]!
      exact(p, end, 'HINFO')
      const h: HINFO = { cpu, os }
      return h
    }
    default:
      return Buffer.from(buf.subarray(start, end))
  }
}

function decodeOptions(buf: Buffer, start: number, end: number): EdnsOption[] {
  const options: EdnsOption[] = []
  let p = start
  while (p < end) {
    if (p + 4 > end) fail('OPT option header runs past rdlength', p)
    const code = readU16(buf, p)
    const l = readU16(buf, p + 2)
    if (p + 4 + l > end) fail('OPT option data runs past rdlength', p)
    options.push({ code, data: Buffer.from(buf.subarray(p + 4, p + 4 + l)) })
    p += 4 + l
  }
  return options
}

/** Decodes a whole message. Throws DecodeError (and nothing else) for malformed input. */
export function decodeMessage(buf: Buffer): Message {
  const n = buf.length
  if (n < HEADER_SIZE) fail('message shorter than the 12-octet header', 0)
  const qd = readU16(buf, 4)
  const counts = [readU16(buf, 6), readU16(buf, 8), readU16(buf, 10)] as const
  const msg: Message = {
    id: readU16(buf, 0),
    flags: readU16(buf, 2),
    question: [],
    answer: [],
    authority: [],
    additional: [],
    edns: null,
  }
  let off = HEADER_SIZE
  for (let i = 0; i < qd; i++) {
    const r = readName(buf, off)
    if (r.end + 4 > n) fail('question: type/class past end of message', r.end)
    const q: Question = { name: r.name, type: readU16(buf, r.end), class: readU16(buf, r.end + 2) }
    msg.question.push(q)
    off = r.end + 4
  }
  const sections = [msg.answer, msg.authority, msg.additional] as const
  for (let s = 0; s < 3; s++) {
    const list = sections[s]!
    const count = counts[s]!
    for (let i = 0; i < count; i++) {
      const start = off
      const r = readName(buf, off)
      const p = r.end
      if (p + 10 > n) fail('RR: fixed fields past end of message', p)
      const type = readU16(buf, p)
      const klass = readU16(buf, p + 2)
      const ttl = readU32(buf, p + 4)
      const rdlen = readU16(buf, p + 8)
      const rdStart = p + 10
      const rdEnd = rdStart + rdlen
      if (rdEnd > n) fail('RR: rdata past end of message', rdStart)
      if (s === 2 && type === Type.OPT) {
        if (msg.edns !== null) fail('more than one OPT record', start)
        if (r.name !== '.') fail('OPT owner is not the root', start)
        msg.edns = {
          udpSize: klass,
          extRcode: ttl >>> 24,
          version: (ttl >>> 16) & 0xff,
          flags: ttl & 0xffff,
          options: decodeOptions(buf, rdStart, rdEnd),
        }
      } else {
        list.push({
          name: r.name,
          type,
          class: klass,
          ttl,
          data: decodeRdata(buf, type, rdStart, rdEnd),
        })
      }
      off = rdEnd
    }
  }
  return msg
}

// ---------------------------------------------------------------------------------------------
// Builders

/** 12-bit rcode: EDNS extended bits above the header's 4 bits. */
export function getRcode(msg: Message): number {
  const low = msg.flags & 0xf
  return msg.edns === null ? low : (msg.edns.extRcode << 4) | low
}

/**
 * Sets the 12-bit rcode: low 4 bits in flags, high 8 in the OPT. Creates a default OPT (udpSize
 * 1232, version 0) only when the rcode needs extended bits and there is none.
 */
export function setRcode(msg: Message, rcode: number): void {
  if (!(rcode >= 0 && rcode <= 0xfff && (rcode | 0) === rcode)) {
    throw new EncodeError(`rcode ${rcode} is not a 12-bit integer`)
  }
  msg.flags = (msg.flags & 0xfff0) | (rcode & 0xf)
  const ext = rcode >>> 4
  if (msg.edns !== null) msg.edns.extRcode = ext
  else if (ext !== 0) {
    msg.edns = { udpSize: DEFAULT_EDNS_UDP_SIZE, extRcode: ext, version: 0, flags: 0, options: [] }
  }
}

/** An empty message: id 0, no flags, no records, no EDNS. */
export function newMessage(): Message {
  return { id: 0, flags: 0, question: [], answer: [], authority: [], additional: [], edns: null }
}

const OPCODE_MASK = 0x7800

/** A reply skeleton: id, opcode, RD and CD copied, QR set, question copied, no EDNS. */
export function replyTo(q: Message): Message {
  const question: Question[] = []
  for (let i = 0; i < q.question.length; i++) {
    const x = q.question[i]!
    question.push({ name: x.name, type: x.type, class: x.class })
  }
  return {
    id: q.id,
    flags: Flag.QR | (q.flags & (OPCODE_MASK | Flag.RD | Flag.CD)),
    question,
    answer: [],
    authority: [],
    additional: [],
    edns: null,
  }
}
