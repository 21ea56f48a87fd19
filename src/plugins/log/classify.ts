// Response classes of the log plugin (CoreDNS plugin/pkg/response: Typify + Classify), computed
// from what the writer saw. A recorder is placed in front of the writer only when a rule needs
// the class, so the common `log` (class all) adds no object per query.

import { Rcode, Type } from '../../dns/constants.js'
import { skipName } from '../../dns/name.js'
import type { Message } from '../../dns/types.js'
import type { ResponseWriter } from '../../pluginkit/types.js'

/** Class bits; a rule's mask is their OR. */
export const Cls = {
  Success: 1,
  Denial: 2,
  Error: 4,
  All: 7,
} as const

/** Parses a `class` argument (CoreDNS response.ClassFromString); undefined if unknown. */
export function classFromString(s: string): number | undefined {
  switch (s) {
    case 'all':
      return Cls.All
    case 'success':
      return Cls.Success
    case 'denial':
      return Cls.Denial
    case 'error':
      return Cls.Error
    default:
      return undefined
  }
}

export function classToString(c: number): string {
  return c === Cls.Success ? 'success' : c === Cls.Denial ? 'denial' : 'error'
}

/** Section facts of the reply actually written; -1 counts before any write. */
export class ReplyFacts {
  ancount: number
  /** NS records in the authority section. */
  nsNs: number
  /** An SOA in the authority section. */
  nsSoa: boolean
  constructor() {
    this.ancount = -1
    this.nsNs = 0
    this.nsSoa = false
  }
  fromMessage(m: Message): void {
    this.ancount = m.answer.length
    let ns = 0
    let soa = false
    for (const rr of m.authority) {
      if (rr.type === Type.SOA) soa = true
      else if (rr.type === Type.NS) ns++
    }
    this.nsNs = ns
    this.nsSoa = soa
  }
  fromWire(buf: Buffer): void {
    if (buf.length < 12) return
    const qd = (buf[4]! << 8) | buf[5]!
    const an = (buf[6]! << 8) | buf[7]!
    const nsCount = (buf[8]! << 8) | buf[9]!
    this.ancount = an
    this.nsNs = 0
    this.nsSoa = false
    if (an > 0 || nsCount === 0) return
    try {
      let off = 12
      for (let i = 0; i < qd; i++) off = skipName(buf, off) + 4
      for (let i = 0; i < nsCount; i++) {
        const p = skipName(buf, off)
        if (p + 10 > buf.length) return
        const t = (buf[p]! << 8) | buf[p + 1]!
        if (t === Type.SOA) this.nsSoa = true
        else if (t === Type.NS) this.nsNs++
        off = p + 10 + ((buf[p + 8]! << 8) | buf[p + 9]!)
      }
    } catch {
      // A malformed reply is classified from the header alone.
    }
  }
}

/** Passes writes through and keeps the section facts the class needs. */
export class FactsRecorder implements ResponseWriter {
  readonly inner: ResponseWriter
  readonly facts: ReplyFacts
  constructor(inner: ResponseWriter) {
    this.inner = inner
    this.facts = new ReplyFacts()
  }
  get written(): boolean {
    return this.inner.written
  }
  write(msg: Message, plugin: string): void {
    if (!this.inner.written) this.facts.fromMessage(msg)
    this.inner.write(msg, plugin)
  }
  writeWire(wire: Buffer, plugin: string): void {
    if (!this.inner.written) this.facts.fromWire(wire)
    this.inner.writeWire(wire, plugin)
  }
}

/** Response type names of CoreDNS response.Type, for `{/log/type}`. */
export const RespType = {
  NoError: 'NOERROR',
  NameError: 'NAMEERROR',
  ServerError: 'SERVERERROR',
  NoData: 'NODATA',
  Delegation: 'DELEGATION',
  Meta: 'META',
  Update: 'UPDATE',
  OtherError: 'OTHERERROR',
} as const

/**
 * Response type from the rcode actually sent (-1 = nothing written), the query's opcode/qtype and
 * the reply's sections. Unlike CoreDNS's Typify, NOERROR without answers and without a
 * delegation is NODATA even without an SOA (hosts and template answer so), and NXDOMAIN without
 * an SOA is still a name error.
 */
export function typify(rcode: number, opcode: number, qtype: number, f: ReplyFacts | null): string {
  if (rcode < 0) return RespType.OtherError
  if (opcode === 5) return RespType.Update
  if (opcode === 4 || qtype === Type.AXFR || qtype === Type.IXFR) return RespType.Meta
  if (rcode === Rcode.NoError) {
    if (f === null || f.ancount !== 0) return RespType.NoError
    if (f.nsNs > 0 && !f.nsSoa) return RespType.Delegation
    return RespType.NoData
  }
  if (rcode === Rcode.NXDomain) return RespType.NameError
  if (rcode === Rcode.ServFail || rcode === Rcode.NotImp) return RespType.ServerError
  return RespType.OtherError
}

/** CoreDNS response.Classify. */
export function classify(type: string): number {
  switch (type) {
    case RespType.NoError:
    case RespType.Delegation:
      return Cls.Success
    case RespType.NameError:
    case RespType.NoData:
      return Cls.Denial
    default:
      return Cls.Error
  }
}
