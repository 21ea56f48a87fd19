import { Flag, HEADER_SIZE, Rcode, Type } from '../../dns/constants.js'
import type { QueryView } from '../../dns/query.js'
import type { Message, RR } from '../../dns/types.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import type { Fall } from '../../pluginkit/fall.js'
import { EMPTY_SET, type HostEntry, type RRSet } from './hostsfile.js'
import type { HostsStore } from './store.js'
import { afterFirstLabel, type ZoneSet } from './zones.js'
import { writeClientOpt } from '../../dns/wire.js'

const OPCODE_MASK = 0x7800
const REPLY_FLAGS = Flag.QR | Flag.AA
const OPT_LEN = 11

/** Whether the question name at offset 12 is written without compression pointers (always, in practice). */
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
 * Answers A, AAAA and PTR from hosts data (CoreDNS plugin/hosts). Synchronous: one Map lookup on
 * the lower-cased qname (a second one, on the parent name, only when wildcards exist and the
 * first missed). Replies are assembled as bytes: header, the client's own question (so the owner
 * names, compression pointers to it, keep the client's letter case), the precomputed answer
 * bytes, and an OPT when the query had one.
 */
export class Hosts implements Handler {
  readonly name = 'hosts'
  readonly next: Handler
  readonly store: HostsStore
  readonly zones: ZoneSet
  readonly fall: Fall
  /** `fallthrough_unsupported`: types other than A/AAAA/PTR on known names go to the next plugin. */
  readonly fallUnsupported: boolean
  constructor(next: Handler, store: HostsStore, zones: ZoneSet, fall: Fall, fallUnsupported: boolean) {
    this.next = next
    this.store = store
    this.zones = zones
    this.fall = fall
    this.fallUnsupported = fallUnsupported
  }

  /** coredns_hosts_entries */
  get entries(): number {
    return this.store.entries
  }
  /** coredns_hosts_reload_timestamp_seconds */
  get reloadTimestamp(): number {
    return this.store.reloadTimestamp
  }
  /** The `hostsfile` label. */
  get hostsfile(): string {
    return this.store.path
  }

  serve(req: Request, w: ResponseWriter): Served {
    const q = req.q
    const lower = q.qnameLower
    const qtype = q.qtype
    const table = this.store.table
    let e: HostEntry | undefined = table.names.get(lower)
    if (e === undefined && table.wild !== null) {
      const i = afterFirstLabel(lower)
      if (i > 0 && i < lower.length) e = table.wild.get(lower.slice(i))
    }
    if (qtype === Type.PTR) {
      // PTR zones need not be in ZONES; an address we do not know goes on regardless of fallthrough.
      if (e === undefined || e.ptr.rrs.length === 0) return this.next.serve(req, w)
      return this.reply(q, w, e.ptr)
    }
    if (e === undefined ? !this.zones.matches(lower) : !e.inZone) return this.next.serve(req, w)
    if (e === undefined || !e.known) {
      // No SOA to build an NXDOMAIN with: SERVFAIL unless we may fall through (CoreDNS).
      if (this.fall.through(lower)) return this.next.serve(req, w)
      return Rcode.ServFail
    }
    if (qtype === Type.A) return this.reply(q, w, e.a)
    if (qtype === Type.AAAA) return this.reply(q, w, e.aaaa)
    if (this.fallUnsupported && this.fall.through(lower)) return this.next.serve(req, w)
    return this.reply(q, w, EMPTY_SET) // NODATA, no SOA
  }

  private reply(q: QueryView, w: ResponseWriter, set: RRSet): number {
    if (!plainQuestion(q)) {
      w.write(this.message(q, set.rrs), 'hosts')
      return Rcode.NoError
    }
    const qEnd = q.questionEnd
    const ans = set.wire
    const edns = q.hasEdns
    const out = Buffer.allocUnsafe(qEnd + ans.length + (edns ? OPT_LEN : 0))
    const flags = REPLY_FLAGS | (q.flags & (OPCODE_MASK | Flag.RD | Flag.CD))
    const an = set.rrs.length
    out[0] = q.id >>> 8
    out[1] = q.id & 0xff
    out[2] = flags >>> 8
    out[3] = flags & 0xff
    out[4] = 0
    out[5] = 1
    out[6] = an >>> 8
    out[7] = an & 0xff
    out[8] = 0
    out[9] = 0
    out[10] = 0
    out[11] = edns ? 1 : 0
    q.buf.copy(out, HEADER_SIZE, HEADER_SIZE, qEnd)
    let off = qEnd
    if (ans.length > 0) off += ans.copy(out, off)
    if (edns) writeClientOpt(out, off, q)
    w.writeWire(out, 'hosts')
    return Rcode.NoError
  }

  /** The same reply as a Message (owner = qname as sent), for a question name with pointers. */
  private message(q: QueryView, rrs: readonly RR[]): Message {
    const qname = q.qname
    const answer: RR[] = []
    for (const r of rrs) answer.push({ name: qname, type: r.type, class: r.class, ttl: r.ttl, data: r.data })
    return {
      id: q.id,
      flags: REPLY_FLAGS | (q.flags & (OPCODE_MASK | Flag.RD | Flag.CD)),
      question: [{ name: qname, type: q.qtype, class: q.qclass }],
      answer,
      authority: [],
      additional: [],
      edns: null,
    }
  }
}
