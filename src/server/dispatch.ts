// From received bytes to a plugin chain: header checks (miekg/dns's default accept rules, which
// CoreDNS inherits), zone routing (longest matching zone of this listener), error replies, panic
// recovery. Synchronous all the way for sync handlers; a Promise only when a handler returns one.

import { QueryView } from '../dns/query.js'
import { errorReply } from '../dns/wire.js'
import { Class, Opcode, Rcode, Type } from '../dns/constants.js'
import { DecodeError } from '../dns/types.js'
import { NO_REPLY, type Handler, type Request, type Served } from '../pluginkit/types.js'
import type { BaseWriter } from './writer.js'
import { ServerRequest } from './request.js'
import type { Logger } from '../log/logger.js'

/** A server block as seen by a listener. */
export interface Route {
  /** null when the block has no plugin that handles queries: every query gets REFUSED. */
  readonly chain: Handler | null
}

/** What a finished query reports to whoever watches (metrics, tests). */
export interface QueryObserver {
  onPanic(err: unknown, req: Request | null): void
}

/** A zone of a listener and its route (one preallocated object per zone). */
export interface ZoneMatch {
  readonly zone: string
  readonly route: Route
}

/** Up to this many zones, match() compares suffixes instead of walking the qname's labels. */
const SMALL_MUX = 8

export class ZoneMux {
  readonly zones: Map<string, Route>
  readonly root: Route | null
  readonly allowOtherClasses: boolean
  readonly debug: boolean
  readonly log: Logger
  readonly observer: QueryObserver | null
  private readonly matches: Map<string, ZoneMatch>
  private readonly rootMatch: ZoneMatch | null
  /** The non-root zones, longest first, when there are few (else null). */
  private readonly small: ZoneMatch[] | null
  constructor(
    zones: Map<string, Route>,
    allowOtherClasses: boolean,
    debug: boolean,
    log: Logger,
    observer: QueryObserver | null = null,
  ) {
    this.zones = zones
    this.root = zones.get('.') ?? null
    this.allowOtherClasses = allowOtherClasses
    this.debug = debug
    this.log = log
    this.observer = observer
    this.matches = new Map()
    for (const [zone, route] of zones) this.matches.set(zone, { zone, route })
    this.rootMatch = this.matches.get('.') ?? null
    const nonRoot = [...this.matches.values()].filter((m) => m.zone !== '.')
    this.small = nonRoot.length <= SMALL_MUX ? nonRoot.sort((a, b) => b.zone.length - a.zone.length) : null
  }

  /** Longest zone that is a suffix of the lower-cased qname (shortest non-root for DS). */
  match(qnameLower: string, qtype: number): ZoneMatch | null {
    const small = this.small
    if (small !== null) {
      // Longest first: the first match wins, except for DS, where the last (shortest) one does.
      const n = qnameLower.length
      let found: ZoneMatch | null = null
      for (let i = 0; i < small.length; i++) {
        const m = small[i]!
        const z = m.zone
        const len = z.length
        if (len > n) continue
        if (len === n ? qnameLower === z : qnameLower.charCodeAt(n - len - 1) === 0x2e && qnameLower.endsWith(z)) {
          found = m
          if (qtype !== Type.DS) break
        }
      }
      return found ?? this.rootMatch
    }
    const zones = this.zones
    let name = qnameLower
    let found: string | null = null
    for (;;) {
      if (name !== '.' && zones.has(name)) {
        found = name
        if (qtype !== Type.DS) break
      }
      const dot = name.indexOf('.')
      if (dot < 0 || dot === name.length - 1) break
      name = name.slice(dot + 1)
    }
    if (found !== null) return this.matches.get(found)!
    return this.rootMatch
  }
}

/**
 * Parses a packet. Returns the QueryView to serve, a ready error reply to send (FORMERR, NOTIMP,
 * BADVERS), or null to drop it (shorter than a header, or a response).
 */
export function admit(buf: Buffer): QueryView | Buffer | null {
  if (buf.length < 12) return null
  const q = new QueryView()
  q.parseHeader(buf)
  if ((q.flags & 0x8000) !== 0) return null // a response: ignore (miekg MsgIgnore)
  let bodyOk = true
  try {
    q.parseBody()
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e
    bodyOk = false
  }
  if (q.opcode !== Opcode.Query && q.opcode !== Opcode.Notify) return errorReply(q, Rcode.NotImp)
  if (!bodyOk || q.qdcount !== 1 || q.ancount > 1 || q.nscount > 1 || q.arcount > 2) {
    return errorReply(q, Rcode.FormErr)
  }
  if (q.hasEdns && q.ednsVersion > 0) return errorReply(q, Rcode.BadVers)
  return q
}

/**
 * Runs the chain for an admitted query. `done` (optional) is called once the query is finished,
 * written or not (TCP counts in-flight queries with it).
 */
export function dispatch(mux: ZoneMux, req: Request, w: BaseWriter, done: (() => void) | null): void {
  const q = req.q
  if (q.qclass !== Class.IN && !mux.allowOtherClasses) {
    w.writeError(Rcode.Refused)
    if (done) done()
    return
  }
  const m = mux.match(q.qnameLower, q.qtype)
  if (m === null || m.route.chain === null) {
    w.writeError(Rcode.Refused)
    if (done) done()
    return
  }
  req.zone = m.zone
  if (req instanceof ServerRequest) req.mux = mux
  let r: Served
  try {
    r = m.route.chain.serve(req, w)
  } catch (err) {
    if (mux.debug) throw err
    panic(mux, req, w, err)
    if (done) done()
    return
  }
  if (typeof r === 'number') {
    finish(r, w)
    if (done) done()
    return
  }
  r.then(
    (rc) => {
      finish(rc, w)
      if (done) done()
    },
    (err: unknown) => {
      panic(mux, req, w, err)
      if (done) done()
    },
  )
}

function finish(rcode: number, w: BaseWriter): void {
  if (w.written || rcode === NO_REPLY) return
  // CoreDNS: SERVFAIL/REFUSED/FORMERR/NOTIMP mean "nothing written, server please answer".
  // Any other rcode without a reply is a plugin bug; answer SERVFAIL rather than leave the client waiting.
  w.writeError(
    rcode === Rcode.Refused || rcode === Rcode.FormErr || rcode === Rcode.NotImp ? rcode : Rcode.ServFail,
  )
}

function panic(mux: ZoneMux, req: Request, w: BaseWriter, err: unknown): void {
  const text = err instanceof Error ? (err.stack ?? String(err)) : String(err)
  mux.log.error(`Recovered from panic in server: "${req.server}" ${text}`)
  if (mux.observer) mux.observer.onPanic(err, req)
  if (!w.written) w.writeError(Rcode.ServFail)
}
