// Test support (not a test file): conversions between our message model and dns-packet's, used
// to cross-check the codec against dns-packet as an independent oracle, plus an independent
// presentation escaper for generated label bytes.

import * as packet from 'dns-packet'
import { Type, typeToString } from '../../src/dns/constants.js'
import { formatIPv6, parseIPv6 } from '../../src/lib/ip.js'
import type { HINFO, Message, MX, RR, SOA, SRV } from '../../src/dns/types.js'

export interface DpRecord {
  name: string
  type: string
  class?: string
  ttl?: number
  data?: unknown
  udpPayloadSize?: number
  extendedRcode?: number
  ednsVersion?: number
  flags?: number
  options?: Array<{ code: number; data: Buffer }>
}

export interface DpPacket {
  id: number
  type: string
  flags: number
  questions: Array<{ name: string; type: string; class: string }>
  answers: DpRecord[]
  authorities: DpRecord[]
  additionals: DpRecord[]
}

export const dp = packet as unknown as {
  encode(p: object): Buffer
  decode(b: Buffer): DpPacket
}

/** Types whose rdata we decode into typed values. */
export const TYPED = new Set<number>([
  Type.A,
  Type.AAAA,
  Type.NS,
  Type.CNAME,
  Type.PTR,
  Type.DNAME,
  Type.MX,
  Type.SRV,
  Type.SOA,
  Type.TXT,
  Type.HINFO,
])

function dpName(name: string): string {
  return name === '.' ? '.' : name.slice(0, -1)
}

function ourName(name: string): string {
  return name === '.' ? '.' : name + '.'
}

function dpType(t: number): string {
  const s = typeToString(t)
  return s.startsWith('TYPE') ? `UNKNOWN_${t}` : s
}

function ourType(s: string): number {
  if (s.startsWith('UNKNOWN_')) return Number(s.slice(8))
  for (const [k, v] of Object.entries(Type)) if (k === s) return v
  throw new Error(`unexpected dns-packet type ${s}`)
}

/** Our RR → dns-packet answer (only for generated, dns-packet-compatible records). */
export function toDpRecord(rr: RR): DpRecord {
  const d = rr.data
  let data: unknown
  switch (rr.type) {
    case Type.AAAA:
      // canonical text: @leichtgewicht/ip-codec mis-encodes e.g. "::0:0:0:0:0:0:1" as all zeros
      data = formatIPv6(parseIPv6(d as string)!)
      break
    case Type.NS:
    case Type.CNAME:
    case Type.PTR:
    case Type.DNAME:
      data = dpName(d as string)
      break
    case Type.MX: {
      const mx = d as MX
      data = { preference: mx.preference, exchange: dpName(mx.exchange) }
      break
    }
    case Type.SRV: {
      const s = d as SRV
      data = { priority: s.priority, weight: s.weight, port: s.port, target: dpName(s.target) }
      break
    }
    case Type.SOA: {
      const s = d as SOA
      data = { ...s, mname: dpName(s.mname), rname: dpName(s.rname) }
      break
    }
    default:
      data = d
  }
  return { name: dpName(rr.name), type: dpType(rr.type), class: 'IN', ttl: rr.ttl, data }
}

/** Our message → dns-packet packet. */
export function toDp(m: Message): object {
  const additionals: DpRecord[] = m.additional.map(toDpRecord)
  if (m.edns !== null) {
    additionals.push({
      name: '.',
      type: 'OPT',
      udpPayloadSize: m.edns.udpSize,
      extendedRcode: m.edns.extRcode,
      ednsVersion: m.edns.version,
      flags: m.edns.flags,
      options: m.edns.options.map((o) => ({ code: o.code, data: o.data })),
    })
  }
  return {
    id: m.id,
    type: m.flags & 0x8000 ? 'response' : 'query',
    flags: m.flags & 0x7fff,
    questions: m.question.map((q) => ({ name: dpName(q.name), type: dpType(q.type), class: 'IN' })),
    answers: m.answer.map(toDpRecord),
    authorities: m.authority.map(toDpRecord),
    additionals,
  }
}

function fromDpRecord(r: DpRecord): RR {
  const type = ourType(r.type)
  const d = r.data as Record<string, unknown>
  let data: RR['data']
  switch (type) {
    case Type.A:
      data = r.data as string
      break
    case Type.AAAA:
      data = formatIPv6(parseIPv6(r.data as string)!)
      break
    case Type.NS:
    case Type.CNAME:
    case Type.PTR:
    case Type.DNAME:
      data = ourName(r.data as string)
      break
    case Type.MX:
      data = { preference: d['preference'], exchange: ourName(d['exchange'] as string) } as MX
      break
    case Type.SRV:
      data = {
        priority: d['priority'],
        weight: d['weight'],
        port: d['port'],
        target: ourName(d['target'] as string),
      } as SRV
      break
    case Type.SOA:
      data = {
        mname: ourName(d['mname'] as string),
        rname: ourName(d['rname'] as string),
        serial: d['serial'],
        refresh: d['refresh'],
        retry: d['retry'],
        expire: d['expire'],
        minimum: d['minimum'],
      } as SOA
      break
    case Type.HINFO:
      data = { cpu: d['cpu'], os: d['os'] } as HINFO
      break
    default:
      data = r.data as Buffer | Buffer[]
  }
  if (r.class !== 'IN') throw new Error(`unexpected class ${r.class}`)
  return { name: ourName(r.name), type, class: 1, ttl: r.ttl ?? 0, data }
}

/** dns-packet decoded packet → our message model. */
export function fromDp(p: DpPacket): Message {
  const m: Message = {
    id: p.id,
    flags: p.flags | (p.type === 'response' ? 0x8000 : 0),
    question: p.questions.map((q) => ({ name: ourName(q.name), type: ourType(q.type), class: 1 })),
    answer: p.answers.map(fromDpRecord),
    authority: p.authorities.map(fromDpRecord),
    additional: [],
    edns: null,
  }
  for (const r of p.additionals) {
    if (r.type === 'OPT' && m.edns === null) {
      m.edns = {
        udpSize: r.udpPayloadSize!,
        extRcode: r.extendedRcode!,
        version: r.ednsVersion!,
        flags: r.flags!,
        options: (r.options ?? []).map((o) => ({ code: o.code, data: o.data })),
      }
    } else {
      m.additional.push(fromDpRecord(r))
    }
  }
  return m
}

/** Canonical form of a generated message as our decoder must return it (AAAA text normalised). */
export function canonical(m: Message): Message {
  const rr = (r: RR): RR =>
    r.type === Type.AAAA && typeof r.data === 'string'
      ? { ...r, data: formatIPv6(parseIPv6(r.data)!) }
      : r
  return {
    ...m,
    answer: m.answer.map(rr),
    authority: m.authority.map(rr),
    additional: m.additional.map(rr),
  }
}

/** miekg/dns presentation of label bytes (written independently of name.ts for cross-checks). */
export function escapeLabel(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) {
    const ch = String.fromCharCode(b)
    if ('. \'@;()"\\'.includes(ch)) s += '\\' + ch
    else if (b < 32 || b > 126) s += '\\' + String(b).padStart(3, '0')
    else s += ch
  }
  return s
}
