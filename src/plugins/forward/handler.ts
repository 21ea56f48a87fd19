// The forward handler (CoreDNS plugin/forward/forward.go ServeDNS, plugins.md §8 query
// algorithm): FROM/except match, max_concurrent gate, the policy's upstream order tried until a
// reply, the 5 s overall deadline or max_connect_attempts; failover / next / next_on_nodata;
// the upstream reply written as is with the client's ID restored.

import { performance } from 'node:perf_hooks'
import { Rcode } from '../../dns/constants.js'
import { isSubdomain } from '../../dns/name.js'
import { errorReply, setId } from '../../dns/wire.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import type { Policy } from '../../upstream/policy.js'
import type { Proxy, UdpPools } from '../../upstream/proxy.js'
import type { Outcome, UdpSink } from '../../upstream/udp.js'
import { randomBelow } from '../../upstream/random.js'
import { answerCount, emptyTruncated, isTruncated, replyRcode, sameQuestion } from '../../upstream/wire.js'

/** CoreDNS defaultTimeout: the overall deadline of one forwarded query. */
export const OVERALL_TIMEOUT_MS = 5000

export interface ForwardOptions {
  /** Lower-case FQDN. */
  from: string
  /** Lower-case FQDNs not forwarded (FROM itself never excluded). */
  ignored: string[]
  proxies: Proxy[]
  pools: UdpPools
  policy: Policy
  maxFails: number
  /** 0 = no cap. */
  maxConnectAttempts: number
  forceTcp: boolean
  preferUdp: boolean
  /** 0 = unlimited. */
  maxConcurrent: number
  /** The N of `max_concurrent` as written (for the error text). */
  maxConcurrentText: string
  nextRcodes: number[]
  nextOnNodata: boolean
  failfastAllUnhealthy: boolean
  failoverRcodes: number[]
  hcIntervalMs: number
}

export class Forward implements Handler {
  readonly name = 'forward'
  next: Handler
  readonly from: string
  readonly ignored: readonly string[]
  readonly proxies: readonly Proxy[]
  readonly pools: UdpPools
  readonly policy: Policy
  readonly maxFails: number
  readonly maxConnectAttempts: number
  readonly forceTcp: boolean
  readonly preferUdp: boolean
  readonly maxConcurrent: number
  readonly nextRcodes: readonly number[]
  readonly nextOnNodata: boolean
  readonly failfast: boolean
  readonly failoverRcodes: readonly number[]
  readonly hcIntervalMs: number
  /** Queries being forwarded now. */
  concurrent = 0
  /** coredns_forward_max_concurrent_rejects_total */
  maxConcurrentRejects = 0
  /** coredns_forward_healthcheck_broken_total */
  healthcheckBroken = 0
  private readonly errLimit: Error
  private readonly errNoHealthy = new Error('no healthy proxies')

  constructor(next: Handler, o: ForwardOptions) {
    this.next = next
    this.from = o.from
    this.ignored = o.ignored
    this.proxies = o.proxies
    this.pools = o.pools
    this.policy = o.policy
    this.maxFails = o.maxFails
    this.maxConnectAttempts = o.maxConnectAttempts
    this.forceTcp = o.forceTcp
    this.preferUdp = o.preferUdp
    this.maxConcurrent = o.maxConcurrent
    this.nextRcodes = o.nextRcodes
    this.nextOnNodata = o.nextOnNodata
    this.failfast = o.failfastAllUnhealthy
    this.failoverRcodes = o.failoverRcodes
    this.hcIntervalMs = o.hcIntervalMs
    this.errLimit = new Error(`concurrent queries exceeded maximum ${o.maxConcurrentText}`)
  }

  /** Whether this forward handles `name` (lower-case FQDN): under FROM and not excepted. */
  match(name: string): boolean {
    const from = this.from
    if (from !== '.' && !isSubdomain(name, from)) return false
    const ign = this.ignored
    if (ign.length === 0 || name === from) return true
    for (let i = 0; i < ign.length; i++) if (isSubdomain(name, ign[i]!)) return false
    return true
  }

  serve(req: Request, w: ResponseWriter): Served {
    if (!this.match(req.q.qnameLower)) return this.next.serve(req, w)
    if (this.maxConcurrent > 0 && this.concurrent >= this.maxConcurrent) {
      this.maxConcurrentRejects++
      req.error = this.errLimit
      return Rcode.Refused
    }
    this.concurrent++
    // `concurrent` is decremented by the job when the query is finished.
    const job = new ForwardJob(this, req, w)
    let r: Served | typeof PENDING
    try {
      r = job.step()
    } catch (e) {
      this.concurrent--
      throw e
    }
    if (r === PENDING) return job.promise()
    if (typeof r === 'number') {
      this.concurrent--
      return r
    }
    return job.follow(r)
  }

  /** Failed attempt bookkeeping shared by the job: `no healthy proxies` when nothing answered. */
  get noHealthyError(): Error {
    return this.errNoHealthy
  }

  /** Starts health checking (forward's OnStartup). */
  start(): void {
    const interval = this.maxFails === 0 ? 0 : this.hcIntervalMs
    for (const p of this.proxies) p.health.start(interval)
  }

  /** Stops health checks and closes every upstream socket (OnShutdown). */
  stop(): void {
    for (const p of this.proxies) p.stop()
    this.pools.close()
  }

  /** Replies dropped by the UDP pools (wrong source, ID or question); our addition. */
  get droppedReplies(): number {
    let n = this.pools.dropped()
    for (const p of this.proxies) {
      for (const c of p.openStreams()) n += c.drops.total
    }
    return n
  }
}

/** step() started an exchange: the outcome arrives later through onOutcome(). */
const PENDING = -2

let capturedResolve: ((rc: number) => void) | null = null
let capturedReject: ((e: unknown) => void) | null = null
function captureResolvers(resolve: (rc: number) => void, reject: (e: unknown) => void): void {
  capturedResolve = resolve
  capturedReject = reject
}

/**
 * One forwarded query (plugins.md §8 query algorithm) as a small state machine driven by exchange
 * callbacks instead of a Promise per step: step() runs the attempt loop until it sends a query
 * (PENDING) or finishes; onOutcome() handles the reply or error and goes on. The only Promise is
 * the one handed back to the server when the query does not finish synchronously.
 */
class ForwardJob implements UdpSink {
  private readonly f: Forward
  private readonly req: Request
  private readonly w: ResponseWriter
  private readonly order: readonly number[]
  private readonly deadline: number
  private i: number
  private fails: number
  private attempts: number
  private upstreamErr: Error | null
  private failoverReply: Buffer | null
  private failoverTried: number
  /** The exchange in flight: its upstream, protocol, start time; whether it is the prefer_udp TCP retry. */
  private cur: Proxy | null
  private proto: 'udp' | 'tcp'
  private t0: number
  private tcpRetry: boolean
  private resolve: ((rc: number) => void) | null
  private reject: ((e: unknown) => void) | null

  constructor(f: Forward, req: Request, w: ResponseWriter) {
    this.f = f
    this.req = req
    this.w = w
    this.order = f.policy.order()
    this.t0 = performance.now()
    this.deadline = this.t0 + OVERALL_TIMEOUT_MS
    this.i = 0
    this.fails = 0
    this.attempts = 0
    this.upstreamErr = null
    this.failoverReply = null
    this.failoverTried = 0
    this.cur = null
    this.proto = f.forceTcp ? 'tcp' : f.preferUdp ? 'udp' : req.proto
    this.tcpRetry = false
    this.resolve = null
    this.reject = null
  }

  /** The Promise for a PENDING job (called once, right after step() returned PENDING). */
  promise(): Promise<number> {
    // One shared executor (no closure per query): it parks the resolvers in module variables.
    const p = new Promise<number>(captureResolvers)
    this.resolve = capturedResolve
    this.reject = capturedReject
    capturedResolve = capturedReject = null
    return p
  }

  /** A synchronous step() handed the query to the next plugin, which answered with a Promise. */
  follow(p: Promise<number>): Promise<number> {
    const f = this.f
    return p.then(
      (rc) => {
        f.concurrent--
        return rc
      },
      (e: unknown) => {
        f.concurrent--
        throw e
      },
    )
  }

  /**
   * The attempt loop: bounded by the deadline and max_connect_attempts (every pass either sends,
   * or counts a down upstream, and `fails` resets only after a full round).
   */
  step(): Served | typeof PENDING {
    const f = this.f
    const proxies = f.proxies
    const n = proxies.length
    const maxAttempts = f.maxConnectAttempts
    let now = this.t0
    while (now < this.deadline && (maxAttempts === 0 || this.attempts < maxAttempts)) {
      if (this.i >= n) {
        this.i = 0
        this.fails = 0
      }
      let p = proxies[this.order[this.i++]!]!
      if (p.down(f.maxFails)) {
        this.fails++
        if (this.fails < n) {
          now = performance.now()
          continue
        }
        // Every upstream is down: assume health checking is broken and pick one at random.
        f.healthcheckBroken++
        if (f.failfast) break
        p = proxies[randomBelow(n)]!
      }
      this.attempts++
      this.cur = p
      this.tcpRetry = false
      this.t0 = now
      p.exchange(this.req.q.buf, this.req.q.questionEnd, this.proto, this, now)
      return PENDING
    }
    return this.exhausted()
  }

  /** No (more) attempts: the last failover reply, else SERVFAIL with the last error. */
  private exhausted(): number {
    const fr = this.failoverReply
    if (fr !== null) {
      setId(fr, this.req.q.id)
      this.w.writeWire(fr, this.f.name)
      return Rcode.NoError
    }
    this.req.error = this.upstreamErr ?? this.f.noHealthyError
    return Rcode.ServFail
  }

  onOutcome(r: Outcome): void {
    let res: Served | typeof PENDING
    try {
      res = this.handle(r)
    } catch (e) {
      this.fail(e)
      return
    }
    if (res === PENDING) return
    if (typeof res === 'number') this.done(res)
    else res.then((rc) => this.done(rc), (e: unknown) => this.fail(e))
  }

  private done(rc: number): void {
    this.f.concurrent--
    const res = this.resolve
    this.resolve = this.reject = null
    if (res !== null) res(rc)
  }

  private fail(e: unknown): void {
    this.f.concurrent--
    const rej = this.reject
    this.resolve = this.reject = null
    if (rej !== null) rej(e)
  }

  private handle(r: Outcome): Served | typeof PENDING {
    const f = this.f
    const p = this.cur!
    const now = performance.now()
    p.record(r, this.t0, now)
    const req = this.req
    const q = req.q
    const query = q.buf
    const qEnd = q.questionEnd
    let ret = r
    if (!(ret instanceof Error) && !this.tcpRetry && p.connProto(this.proto) === 'udp') {
      // miekg reads UDP into a buffer of the client's size; an overflow becomes an empty TC reply.
      if (ret.length > req.maxSize) ret = emptyTruncated(ret, query, qEnd)
      // prefer_udp: a truncated reply is retried over TCP.
      if (isTruncated(ret) && !f.forceTcp && f.preferUdp) {
        this.tcpRetry = true
        this.t0 = now
        p.exchange(query, qEnd, 'tcp', this, now)
        return PENDING
      }
    }
    this.t0 = now
    if (ret instanceof Error) {
      this.upstreamErr = ret
      if (f.maxFails !== 0) p.healthcheck()
      if (this.fails < f.proxies.length) return this.step()
      return this.exhausted()
    }
    // A reply for another question: FORMERR to the client (CoreDNS request.Match).
    if ((ret[2]! & 0x80) === 0 || !sameQuestion(ret, query, qEnd - 2)) {
      this.w.writeWire(errorReply(q, Rcode.FormErr), f.name)
      return Rcode.NoError
    }
    const rc = replyRcode(ret)
    if (f.failoverRcodes.length > 0 && f.failoverRcodes.includes(rc)) {
      // failover: try the next upstream; the last such reply is returned once all were tried.
      this.failoverReply = ret
      if (++this.failoverTried < f.proxies.length) return this.step()
    }
    const next = f.next
    if (next instanceof Forward && (f.nextRcodes.includes(rc) || (f.nextOnNodata && rc === Rcode.NoError && answerCount(ret) === 0))) {
      return next.serve(req, this.w)
    }
    setId(ret, q.id)
    this.w.writeWire(ret, f.name)
    return Rcode.NoError
  }
}
