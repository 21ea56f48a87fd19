import { Flag, Rcode, Type } from '../../dns/constants.js'
import type { Message, RR } from '../../dns/types.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import type { Fall } from './fall.js'
import type { HostEntry } from './hostsfile.js'
import type { HostsStore } from './store.js'
import { afterFirstLabel, type ZoneSet } from './zones.js'

const OPCODE_MASK = 0x7800
const REPLY_FLAGS = Flag.QR | Flag.AA
const NONE: readonly RR[] = []

/**
 * Answers A, AAAA and PTR from hosts data (CoreDNS plugin/hosts). Synchronous: one Map lookup on
 * the lower-cased qname (a second one, on the parent name, only when wildcards exist and the
 * first missed), answers precomputed per name; owner names are re-made only when the client's
 * qname differs from the stored lower-case one (0x20 mixed case, wildcards).
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
    let exact = true
    if (e === undefined && table.wild !== null) {
      const i = afterFirstLabel(lower)
      if (i > 0 && i < lower.length) {
        e = table.wild.get(lower.slice(i))
        exact = false
      }
    }
    if (qtype === Type.PTR) {
      // PTR zones need not be in ZONES; an address we do not know goes on regardless of fallthrough.
      if (e === undefined || e.ptr.length === 0) return this.next.serve(req, w)
      return this.reply(req, w, e.ptr, exact)
    }
    if (e === undefined ? !this.zones.matches(lower) : !e.inZone) return this.next.serve(req, w)
    if (e === undefined || !e.known) {
      // No SOA to build an NXDOMAIN with: SERVFAIL unless we may fall through (CoreDNS).
      if (this.fall.through(lower)) return this.next.serve(req, w)
      return Rcode.ServFail
    }
    if (qtype === Type.A) return this.reply(req, w, e.a, exact)
    if (qtype === Type.AAAA) return this.reply(req, w, e.aaaa, exact)
    if (this.fallUnsupported && this.fall.through(lower)) return this.next.serve(req, w)
    return this.reply(req, w, NONE, exact) // NODATA, no SOA
  }

  private reply(req: Request, w: ResponseWriter, rrs: readonly RR[], exact: boolean): number {
    const q = req.q
    const qname = q.qname
    const n = rrs.length
    const answer: RR[] = new Array<RR>(n)
    if (exact && qname === q.qnameLower) {
      for (let i = 0; i < n; i++) answer[i] = rrs[i]!
    } else {
      for (let i = 0; i < n; i++) {
        const r = rrs[i]!
        answer[i] = { name: qname, type: r.type, class: r.class, ttl: r.ttl, data: r.data }
      }
    }
    const m: Message = {
      id: q.id,
      flags: REPLY_FLAGS | (q.flags & (OPCODE_MASK | Flag.RD | Flag.CD)),
      question: [{ name: qname, type: q.qtype, class: q.qclass }],
      answer,
      authority: [],
      additional: [],
      edns: null,
    }
    w.write(m, 'hosts')
    return Rcode.NoError
  }
}
