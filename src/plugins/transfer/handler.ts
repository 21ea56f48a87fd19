// AXFR/IXFR for zones whose content a transfer-capable plugin of the same block provides
// (plugins.md §18, CoreDNS plugin/transfer). TCP only; clients must be listed by `to`.

import { Flag, Rcode, Type } from '../../dns/constants.js'
import { encodeMessage, encodeRecord, decodeMessage } from '../../dns/message.js'
import { isSubdomain } from '../../dns/name.js'
import type { QueryView } from '../../dns/query.js'
import type { Message, RR, SOA } from '../../dns/types.js'
import type { Logger } from '../../log/logger.js'
import { canStream } from '../../pluginkit/stream.js'
import type { Handler, Request, ResponseWriter, Served, Transferer } from '../../pluginkit/types.js'

const OPCODE_MASK = 0x7800
export const PLUGIN = 'transfer'
/** Records per message before a new one is started (CoreDNS flushes once it holds more than 500). */
export const MAX_RECORDS_PER_MSG = 501
/** Size budget of one message (uncompressed estimate), below the 64 KiB TCP limit. */
export const MAX_MSG_BYTES = 63000

export interface Xfr {
  /** Zones of this `transfer` directive (lower-case FQDN). */
  zones: string[]
  /** `*` or `host:port` as normalized by CoreDNS parse.HostPort (host as written). */
  to: string[]
}

export function isTransferer(p: unknown): p is Transferer {
  return typeof p === 'object' && p !== null && typeof (p as Transferer).transfer === 'function' && typeof (p as Transferer).serial === 'function'
}

/** Host part of a normalized `host:port` / `[v6]:port`. */
function hostOf(hp: string): string {
  if (hp.startsWith('[')) return hp.slice(1, hp.indexOf(']'))
  return hp.slice(0, hp.lastIndexOf(':'))
}

/** The matched zone of one directive: its longest zone containing `name`, or ''. */
function matches(zones: readonly string[], name: string): string {
  let best = ''
  for (const z of zones) if (isSubdomain(name, z) && z.length > best.length) best = z
  return best
}

/**
 * CoreDNS longestMatch, including its quirk: between directives the matched zones are compared as
 * strings (`z > zone`), not by length.
 */
export function longestMatch(xfrs: readonly Xfr[], name: string): Xfr | null {
  let x: Xfr | null = null
  let zone = ''
  for (const c of xfrs) {
    const z = matches(c.zones, name)
    if (z !== '' && z > zone) {
      zone = z
      x = c
    }
  }
  return x
}

/** The client address as Go prints it (IPv4-mapped IPv6 from dual-stack sockets → IPv4). */
function remoteIP(req: Request): string {
  const a = req.remoteAddress
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a
}

export function allowed(x: Xfr, ip: string): boolean {
  for (const h of x.to) {
    if (h === '*') return true
    if (hostOf(h) === ip) return true
  }
  return false
}

function replyMsg(q: QueryView, flags: number, answer: RR[]): Message {
  return {
    id: q.id,
    flags: Flag.QR | (q.flags & (OPCODE_MASK | Flag.RD | Flag.CD)) | flags,
    question: [{ name: q.qname, type: q.qtype, class: q.qclass }],
    answer,
    authority: [],
    additional: [],
    edns: null,
  }
}

/** Splits records into messages: at most MAX_RECORDS_PER_MSG records and about MAX_MSG_BYTES each. */
export function batch(records: readonly RR[]): RR[][] {
  const out: RR[][] = []
  let cur: RR[] = []
  let size = 0
  for (const r of records) {
    const len = encodeRecord(r).length
    if (cur.length > 0 && (cur.length >= MAX_RECORDS_PER_MSG || size + len > MAX_MSG_BYTES)) {
      out.push(cur)
      cur = []
      size = 0
    }
    cur.push(r)
    size += len
  }
  if (cur.length > 0) out.push(cur)
  return out
}

export class Transfer implements Handler {
  readonly name = PLUGIN
  readonly next: Handler
  readonly xfrs: readonly Xfr[]
  private readonly providers: Map<string, unknown[]>
  private readonly log: Logger
  /** Plain counters for later metrics. */
  transfers = 0
  refused = 0
  constructor(next: Handler, xfrs: readonly Xfr[], providers: Map<string, unknown[]>, log: Logger) {
    this.next = next
    this.xfrs = xfrs
    this.providers = providers
    this.log = log
  }

  serve(req: Request, w: ResponseWriter): Served {
    const q = req.q
    if (q.qtype !== Type.AXFR && q.qtype !== Type.IXFR) return this.next.serve(req, w)
    if (req.proto !== 'tcp') {
      this.refused++
      return Rcode.Refused
    }
    const x = longestMatch(this.xfrs, q.qnameLower)
    if (x === null) return this.next.serve(req, w)
    const ip = remoteIP(req)
    if (!allowed(x, ip)) {
      this.refused++
      w.write(replyMsg(q, Rcode.Refused, []), PLUGIN)
      return Rcode.NoError
    }
    let serial = 0
    if (q.qtype === Type.IXFR) {
      let m: Message
      try {
        m = decodeMessage(q.buf)
      } catch {
        return Rcode.ServFail
      }
      const soa = m.authority.length === 1 ? m.authority[0]! : null
      if (soa === null || soa.type !== Type.SOA) return Rcode.ServFail
      serial = (soa.data as SOA).serial >>> 0
    }
    let records: RR[] | null = null
    for (const p of this.providers.get('transfer') ?? []) {
      if (!isTransferer(p)) continue
      records = p.transfer(q.qname)
      if (records !== null) break
    }
    if (records === null || records.length === 0) return this.next.serve(req, w)
    const first = records[0]!
    const zoneSerial = first.type === Type.SOA ? (first.data as SOA).serial >>> 0 : 0
    if (serial !== 0 && first.type === Type.SOA && serial >= zoneSerial) {
      w.write(replyMsg(q, 0, [first]), PLUGIN)
      this.log.info(`Outgoing noop, incremental transfer for up to date zone ${JSON.stringify(q.qname)} to ${ip} for ${zoneSerial} SOA serial`)
      return Rcode.NoError
    }
    const chunks = batch(records)
    const wires = chunks.map((c) => encodeMessage(replyMsg(q, Flag.AA, c)))
    if (wires.length === 1) w.writeWire(wires[0]!, PLUGIN)
    else if (canStream(w)) w.writeStream(wires, PLUGIN)
    else {
      req.error = new Error('plugin/transfer: zone too large for one message and the writer cannot send several')
      return Rcode.ServFail
    }
    this.transfers++
    this.log.info(`Outgoing transfer of ${records.length} records of zone ${JSON.stringify(q.qname)} to ${ip} for ${zoneSerial} SOA serial`)
    return Rcode.NoError
  }
}


