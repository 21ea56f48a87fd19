// The forward handler (CoreDNS plugin/forward/forward.go ServeDNS, plugins.md §8 query
// algorithm): FROM/except match, max_concurrent gate, the policy's upstream order tried until a
// reply, the 5 s overall deadline or max_connect_attempts; failover / next / next_on_nodata;
// the upstream reply written as is with the client's ID restored.

import { Rcode } from '../../dns/constants.js'
import { isSubdomain } from '../../dns/name.js'
import { errorReply, setId } from '../../dns/wire.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import type { Policy } from '../../upstream/policy.js'
import type { Proxy, UdpPools } from '../../upstream/proxy.js'
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
    return this.forward(req, w)
  }

  /** Runs the query algorithm; `concurrent` was incremented by serve() and is decremented here. */
  private async forward(req: Request, w: ResponseWriter): Promise<number> {
    try {
      return await this.attempts(req, w)
    } finally {
      this.concurrent--
    }
  }

  private async attempts(req: Request, w: ResponseWriter): Promise<number> {
    const q = req.q
    const query = q.buf
    const qEnd = q.questionEnd
    const proxies = this.proxies
    const n = proxies.length
    const order = this.policy.order()
    const maxAttempts = this.maxConnectAttempts
    const deadline = performance.now() + OVERALL_TIMEOUT_MS
    let i = 0
    let fails = 0
    let attempts = 0
    let upstreamErr: Error | null = null
    let failoverReply: Buffer | null = null
    let failoverTried = 0
    // Bounded by the deadline and max_connect_attempts (every pass either continues after an
    // attempt or counts a down upstream, and `fails` resets only after a full round).
    while (performance.now() < deadline && (maxAttempts === 0 || attempts < maxAttempts)) {
      if (i >= n) {
        i = 0
        fails = 0
      }
      let p = proxies[order[i++]!]!
      if (p.down(this.maxFails)) {
        fails++
        if (fails < n) continue
        // Every upstream is down: assume health checking is broken and pick one at random.
        this.healthcheckBroken++
        if (this.failfast) break
        p = proxies[randomBelow(n)]!
      }
      attempts++
      const proto = this.forceTcp ? 'tcp' : this.preferUdp ? 'udp' : req.proto
      let ret = await p.connect(query, qEnd, proto)
      if (!(ret instanceof Error) && p.connProto(proto) === 'udp') {
        // miekg reads UDP into a buffer of the client's size; an overflow becomes an empty TC reply.
        if (ret.length > req.maxSize) ret = emptyTruncated(ret, query, qEnd)
        // prefer_udp: a truncated reply is retried over TCP.
        if (isTruncated(ret) && !this.forceTcp && this.preferUdp) ret = await p.connect(query, qEnd, 'tcp')
      }
      if (ret instanceof Error) {
        upstreamErr = ret
        if (this.maxFails !== 0) p.healthcheck()
        if (fails < n) continue
        break
      }
      // A reply for another question: FORMERR to the client (CoreDNS request.Match).
      if ((ret[2]! & 0x80) === 0 || !sameQuestion(ret, query, qEnd - 2)) {
        w.writeWire(errorReply(q, Rcode.FormErr), this.name)
        return Rcode.NoError
      }
      const rc = replyRcode(ret)
      if (this.failoverRcodes.length > 0 && this.failoverRcodes.includes(rc)) {
        // failover: try the next upstream; the last such reply is returned once all were tried.
        failoverReply = ret
        if (++failoverTried < n) continue
      }
      if (
        this.next instanceof Forward &&
        (this.nextRcodes.includes(rc) || (this.nextOnNodata && rc === Rcode.NoError && answerCount(ret) === 0))
      ) {
        return this.next.serve(req, w)
      }
      setId(ret, q.id)
      w.writeWire(ret, this.name)
      return Rcode.NoError
    }
    if (failoverReply !== null) {
      setId(failoverReply, q.id)
      w.writeWire(failoverReply, this.name)
      return Rcode.NoError
    }
    req.error = upstreamErr ?? this.errNoHealthy
    return Rcode.ServFail
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
