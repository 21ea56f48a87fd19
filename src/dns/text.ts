// Zone-file text form of records (RFC 1035 5.1, RFC 3597 `\#`), printed like miekg/dns and dig.
// Hand-written because dns-packet has no text form at all, and tests, the hosts/file-style plugins
// and debug logs need records as `name ttl class type rdata` lines in CoreDNS's exact spelling.
// Not on the hot path: clarity over speed here.

import {
  classToString,
  Flag,
  rcodeToString,
  stringToClass,
  stringToType,
  Type,
  typeToString,
} from './constants.js'
import { decodeRdata, getRcode } from './message.js'
import { fqdn, isFqdn, nameToWire } from './name.js'
import type { HINFO, Message, MX, RData, RR, SOA, SRV } from './types.js'
import { DecodeError, EDNS_DO } from './types.js'
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../lib/ip.js'

// ---------------------------------------------------------------------------------------------
// Printing

function escapeTxtByte(b: number): string {
  if (b === 0x22 || b === 0x5c) return '\\' + String.fromCharCode(b)
  if (b < 0x20 || b > 0x7e) return '\\' + String(b).padStart(3, '0')
  return String.fromCharCode(b)
}

function quoted(bytes: Uint8Array): string {
  let s = '"'
  for (let i = 0; i < bytes.length; i++) s += escapeTxtByte(bytes[i]!)
  return s + '"'
}

function quotedLatin1(text: string): string {
  return quoted(Buffer.from(text, 'latin1'))
}

function generic(data: Buffer): string {
  return data.length === 0 ? '\\# 0' : `\\# ${data.length} ${data.toString('hex')}`
}

function isObj(d: RData): d is MX | SRV | SOA | HINFO {
  return typeof d === 'object' && d !== null && !Array.isArray(d) && !Buffer.isBuffer(d)
}

/** The RDATA in presentation form. */
export function rdataToString(type: number, d: RData): string {
  if (Buffer.isBuffer(d)) return generic(d)
  switch (type) {
    case Type.A:
    case Type.AAAA:
    case Type.NS:
    case Type.CNAME:
    case Type.PTR:
    case Type.DNAME:
      if (typeof d === 'string') return d
      break
    case Type.MX:
      if (isObj(d) && 'exchange' in d) return `${d.preference} ${d.exchange}`
      break
    case Type.SRV:
      if (isObj(d) && 'target' in d) return `${d.priority} ${d.weight} ${d.port} ${d.target}`
      break
    case Type.SOA:
      if (isObj(d) && 'mname' in d) {
        return `${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`
      }
      break
    case Type.TXT:
      if (Array.isArray(d)) {
        if (d.length === 0) return '\\# 0' // no character-strings: only the generic form says so
        let s = ''
        for (let i = 0; i < d.length; i++) s += (i > 0 ? ' ' : '') + quoted(d[i]!)
        return s
      }
      break
    case Type.HINFO:
      if (isObj(d) && 'cpu' in d) return `${quotedLatin1(d.cpu)} ${quotedLatin1(d.os)}`
      break
  }
  return JSON.stringify(d)
}

/** One record as miekg/dns prints it: `name\tttl\tCLASS\tTYPE\trdata`. */
export function rrToString(rr: RR): string {
  return (
    `${rr.name}\t${rr.ttl}\t${classToString(rr.class)}\t${typeToString(rr.type)}\t` +
    rdataToString(rr.type, rr.data)
  )
}

const OPCODES = ['QUERY', 'IQUERY', 'STATUS', '', 'NOTIFY', 'UPDATE']

/** A dig-like multi-line dump (for debugging and test failure messages). */
export function messageToString(msg: Message): string {
  const f = msg.flags
  const op = (f >>> 11) & 0xf
  let flags = ''
  if (f & Flag.QR) flags += ' qr'
  if (f & Flag.AA) flags += ' aa'
  if (f & Flag.TC) flags += ' tc'
  if (f & Flag.RD) flags += ' rd'
  if (f & Flag.RA) flags += ' ra'
  if (f & Flag.Z) flags += ' z'
  if (f & Flag.AD) flags += ' ad'
  if (f & Flag.CD) flags += ' cd'
  const lines: string[] = []
  lines.push(
    `;; opcode: ${OPCODES[op] || String(op)}, status: ${rcodeToString(getRcode(msg))}, ` +
      `id: ${msg.id}`,
  )
  lines.push(
    `;; flags:${flags}; QUERY: ${msg.question.length}, ANSWER: ${msg.answer.length}, ` +
      `AUTHORITY: ${msg.authority.length}, ADDITIONAL: ` +
      `${msg.additional.length + (msg.edns === null ? 0 : 1)}`,
  )
  if (msg.edns !== null) {
    const e = msg.edns
    lines.push('', ';; OPT PSEUDOSECTION:')
    lines.push(
      `; EDNS: version ${e.version}; flags:${e.flags & EDNS_DO ? ' do' : ''}; udp: ${e.udpSize}`,
    )
    for (const o of e.options) lines.push(`; OPTION ${o.code}: ${o.data.toString('hex')}`)
  }
  if (msg.question.length > 0) {
    lines.push('', ';; QUESTION SECTION:')
    for (const q of msg.question) {
      lines.push(`;${q.name}\t${classToString(q.class)}\t ${typeToString(q.type)}`)
    }
  }
  const sections = [
    ['ANSWER', msg.answer],
    ['AUTHORITY', msg.authority],
    ['ADDITIONAL', msg.additional],
  ] as const
  for (const [title, rrs] of sections) {
    if (rrs.length === 0) continue
    lines.push('', `;; ${title} SECTION:`)
    for (const rr of rrs) lines.push(rrToString(rr))
  }
  return lines.join('\n') + '\n'
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface Token {
  text: string
  quoted: boolean
}

function tokenize(line: string): Token[] {
  const out: Token[] = []
  const n = line.length
  let i = 0
  while (i < n) {
    const c = line[i]!
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '(' || c === ')') {
      i++
      continue
    }
    if (c === ';') break
    if (c === '"') {
      let j = i + 1
      let s = ''
      for (;;) {
        if (j >= n) throw new Error(`unterminated quoted string in ${JSON.stringify(line)}`)
        const d = line[j]!
        if (d === '\\') {
          if (j + 1 >= n) throw new Error(`trailing backslash in ${JSON.stringify(line)}`)
          s += d + line[j + 1]!
          j += 2
          continue
        }
        if (d === '"') break
        s += d
        j++
      }
      out.push({ text: s, quoted: true })
      i = j + 1
      continue
    }
    let j = i
    let s = ''
    while (j < n) {
      const d = line[j]!
      if (d === ' ' || d === '\t' || d === '\r' || d === '\n') break
      if (d === ';' || d === '(' || d === ')' || d === '"') break
      if (d === '\\') {
        if (j + 1 >= n) throw new Error(`trailing backslash in ${JSON.stringify(line)}`)
        s += d + line[j + 1]!
        j += 2
        continue
      }
      s += d
      j++
    }
    out.push({ text: s, quoted: false })
    i = j
  }
  return out
}

/** Bytes of a character-string token: \DDD and \X escapes; non-ASCII text as UTF-8. */
function unescapeBytes(text: string): Buffer {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x5c) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0x30 && d <= 0x39) {
        const ddd = text.slice(i + 1, i + 4)
        if (ddd.length !== 3 || !isDigits(ddd) || Number(ddd) > 255) {
          throw new Error(`bad escape \\${ddd} in ${JSON.stringify(text)}`)
        }
        bytes.push(Number(ddd))
        i += 3
      } else {
        const cp = text.codePointAt(i + 1)!
        for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b)
        i += cp > 0xffff ? 2 : 1
      }
    } else if (c < 0x80) {
      bytes.push(c)
    } else {
      const cp = text.codePointAt(i)!
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b)
      if (cp > 0xffff) i++
    }
  }
  return Buffer.from(bytes)
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

/** A TTL: decimal seconds or BIND units (1h30m, 2d, 1W). undefined when not a TTL. */
function parseTtl(s: string): number | undefined {
  if (isDigits(s)) {
    const v = Number(s)
    return v <= 0xffffffff ? v : undefined
  }
  let total = 0
  let num = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c >= '0' && c <= '9') {
      num += c
      continue
    }
    const unit = UNIT_SECONDS[c.toLowerCase()]
    if (unit === undefined || num === '') return undefined
    total += Number(num) * unit
    num = ''
  }
  if (num !== '' || total > 0xffffffff) return undefined
  return total
}

function u16(s: string | undefined, what: string): number {
  if (s === undefined || !isDigits(s) || Number(s) > 0xffff) {
    throw new Error(`${what}: expected an integer 0-65535, got ${JSON.stringify(s ?? '')}`)
  }
  return Number(s)
}

function u32(s: string | undefined, what: string): number {
  const v = s === undefined ? undefined : parseTtl(s)
  if (v === undefined) {
    throw new Error(`${what}: expected an integer 0-4294967295, got ${JSON.stringify(s ?? '')}`)
  }
  return v
}

function completeName(tok: Token | undefined, origin: string, what: string): string {
  if (tok === undefined || tok.text === '') throw new Error(`missing ${what}`)
  const t = tok.text
  let name: string
  if (t === '@') name = origin
  else if (isFqdn(t)) name = t
  else name = origin === '.' ? t + '.' : t + '.' + origin
  try {
    nameToWire(name)
  } catch (e) {
    throw new Error(`bad ${what} ${JSON.stringify(t)}: ${(e as Error).message}`)
  }
  return name
}

function parseGeneric(rd: Token[], type: number): RData {
  const len = u16(rd[1]?.text, '\\# length')
  let hex = ''
  for (let i = 2; i < rd.length; i++) hex += rd[i]!.text
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`\\# rdata: bad hex ${JSON.stringify(hex)}`)
  }
  const data = Buffer.from(hex, 'hex')
  if (data.length !== len) {
    throw new Error(`\\# rdata: length ${len} does not match ${data.length} octets of data`)
  }
  // Known types are converted to their typed form (RFC 3597 section 5).
  switch (type) {
    case Type.A:
    case Type.AAAA:
    case Type.NS:
    case Type.CNAME:
    case Type.PTR:
    case Type.DNAME:
    case Type.MX:
    case Type.SRV:
    case Type.SOA:
    case Type.TXT:
    case Type.HINFO:
      try {
        return decodeRdata(data, type, 0, data.length)
      } catch (e) {
        if (e instanceof DecodeError) {
          throw new Error(`\\# rdata is not valid ${typeToString(type)}: ${e.message}`)
        }
        throw e
      }
    default:
      return data
  }
}

function charString(tok: Token, what: string): Buffer {
  const b = unescapeBytes(tok.text)
  if (b.length > 255) throw new Error(`${what}: character-string longer than 255 octets`)
  return b
}

function expectCount(rd: Token[], n: number, type: string): void {
  if (rd.length !== n) {
    throw new Error(`${type} rdata: expected ${n} field(s), got ${rd.length}`)
  }
}

function followsType(tok: Token | undefined): boolean {
  if (tok === undefined) return false
  return stringToType(tok.text) !== undefined || parseTtl(tok.text) !== undefined
}

/**
 * Parses one zone-file line: owner, optional TTL and class (either order), type, rdata.
 * `@` is the origin; relative names are completed with `origin`; `;` starts a comment; parentheses
 * are ignored. Supports A, AAAA, NS, CNAME, PTR, DNAME, MX, SRV, SOA, TXT, HINFO and RFC 3597
 * `\# len hex` for any type. Throws Error with a readable message on bad input.
 */
export function parseRR(text: string, origin = '.', defaultTtl = 3600): RR {
  const org = fqdn(origin)
  const first = text.charCodeAt(0)
  if (first === 0x20 || first === 0x09) {
    throw new Error(`missing owner name (line starts with a blank): ${JSON.stringify(text)}`)
  }
  const toks = tokenize(text)
  if (toks.length === 0) throw new Error('empty record line')
  const name = completeName(toks[0], org, 'owner name')
  let i = 1
  let ttl: number | undefined
  let klass: number | undefined
  for (; i < toks.length && i < 3; i++) {
    const t = toks[i]!.text
    if (ttl === undefined) {
      const v = parseTtl(t)
      if (v !== undefined) {
        ttl = v
        continue
      }
    }
    if (klass === undefined) {
      const c = stringToClass(t)
      // "ANY" is a class and a type: it is the class only when a type (or TTL) follows.
      if (c !== undefined && (stringToType(t) === undefined || followsType(toks[i + 1]))) {
        klass = c
        continue
      }
    }
    break
  }
  const typeTok = toks[i]
  if (typeTok === undefined) throw new Error(`missing type in ${JSON.stringify(text)}`)
  const type = stringToType(typeTok.text)
  if (type === undefined) throw new Error(`unknown type ${JSON.stringify(typeTok.text)}`)
  const rd = toks.slice(i + 1)
  const tn = typeToString(type)
  let data: RData
  if (rd.length > 0 && rd[0]!.text === '\\#' && !rd[0]!.quoted) {
    data = parseGeneric(rd, type)
  } else {
    switch (type) {
      case Type.A: {
        expectCount(rd, 1, tn)
        const ip = parseIPv4(rd[0]!.text)
        if (ip === null) throw new Error(`A rdata: bad IPv4 address ${JSON.stringify(rd[0]!.text)}`)
        data = formatIPv4(ip)
        break
      }
      case Type.AAAA: {
        expectCount(rd, 1, tn)
        const ip = parseIPv6(rd[0]!.text)
        if (ip === null) {
          throw new Error(`AAAA rdata: bad IPv6 address ${JSON.stringify(rd[0]!.text)}`)
        }
        data = formatIPv6(ip)
        break
      }
      case Type.NS:
      case Type.CNAME:
      case Type.PTR:
      case Type.DNAME:
        expectCount(rd, 1, tn)
        data = completeName(rd[0], org, `${tn} target`)
        break
      case Type.MX: {
        expectCount(rd, 2, tn)
        const mx: MX = {
          preference: u16(rd[0]!.text, 'MX preference'),
          exchange: completeName(rd[1], org, 'MX exchange'),
        }
        data = mx
        break
      }
      case Type.SRV: {
        expectCount(rd, 4, tn)
        const srv: SRV = {
          priority: u16(rd[0]!.text, 'SRV priority'),
          weight: u16(rd[1]!.text, 'SRV weight'),
          port: u16(rd[2]!.text, 'SRV port'),
          target: completeName(rd[3], org, 'SRV target'),
        }
        data = srv
        break
      }
      case Type.SOA: {
        expectCount(rd, 7, tn)
        const soa: SOA = {
          mname: completeName(rd[0], org, 'SOA mname'),
          rname: completeName(rd[1], org, 'SOA rname'),
          serial: u32(rd[2]!.text, 'SOA serial'),
          refresh: u32(rd[3]!.text, 'SOA refresh'),
          retry: u32(rd[4]!.text, 'SOA retry'),
          expire: u32(rd[5]!.text, 'SOA expire'),
          minimum: u32(rd[6]!.text, 'SOA minimum'),
        }
        data = soa
        break
      }
      case Type.TXT: {
        if (rd.length === 0) throw new Error('TXT rdata: expected at least one string')
        const strings: Buffer[] = []
        for (const t of rd) strings.push(charString(t, 'TXT'))
        data = strings
        break
      }
      case Type.HINFO: {
        expectCount(rd, 2, tn)
        const h: HINFO = {
          cpu: charString(rd[0]!, 'HINFO cpu').toString('latin1'),
          os: charString(rd[1]!, 'HINFO os').toString('latin1'),
        }
        data = h
        break
      }
      default:
        throw new Error(`${tn} rdata must be given in RFC 3597 form (\\# length hex)`)
    }
  }
  return { name, type, class: klass ?? 1, ttl: ttl ?? defaultTtl, data }
}
