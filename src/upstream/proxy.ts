// One upstream (CoreDNS plugin/pkg/proxy): its transports, failure count, health checking and
// counters. A Proxy is down when more than `max_fails` consecutive health checks failed; health
// checks start only after a failed exchange and stop at the first reply of any kind.

import type tls from 'node:tls'
import { Class, Flag, Type } from '../dns/constants.js'
import { encodeMessage } from '../dns/message.js'
import { TimeoutQueue } from './sweeper.js'
import { random16 } from './random.js'
import { ProxyStats, type ConnProto } from './stats.js'
import { StreamClient } from './stream.js'
import { UdpPool, type Outcome, type UdpDest, type UdpSink } from './udp.js'
import { replyRcode } from './wire.js'

export type UpstreamTransport = 'dns' | 'tls'

/** Health check probe timeout (CoreDNS hcReadTimeout/hcWriteTimeout). */
export const HC_TIMEOUT_MS = 1000

/** UDP socket pools shared by the proxies of one forward (one per address family). */
export class UdpPools {
  private p4: UdpPool | null = null
  private p6: UdpPool | null = null
  readonly sourceAddress: string | null
  constructor(sourceAddress: string | null = null) {
    this.sourceAddress = sourceAddress
  }
  get(family: 4 | 6): UdpPool {
    if (family === 4) return (this.p4 ??= new UdpPool({ family: 4, sourceAddress: this.sourceAddress }))
    return (this.p6 ??= new UdpPool({ family: 6, sourceAddress: this.sourceAddress }))
  }
  /** Replies dropped by every pool (wrong source, ID or question). */
  dropped(): number {
    return (this.p4?.drops.total ?? 0) + (this.p6?.drops.total ?? 0)
  }
  pools(): UdpPool[] {
    const out: UdpPool[] = []
    if (this.p4) out.push(this.p4)
    if (this.p6) out.push(this.p6)
    return out
  }
  close(): void {
    this.p4?.close()
    this.p6?.close()
    this.p4 = this.p6 = null
  }
}

export interface ProxyOptions {
  /** IP literal in canonical form (no brackets, no zone). */
  host: string
  port: number
  transport: UpstreamTransport
  pools: UdpPools
  /** Per-attempt read timeout queue (shared by a forward's proxies). */
  queue: TimeoutQueue
  tls?: tls.ConnectionOptions | null
  sourceAddress?: string | null
  expireMs?: number
  maxAgeMs?: number
  maxIdleConns?: number
  /** Health check: probe name, RD bit, TCP for dns upstreams (force_tcp). */
  hcDomain?: string
  hcRecursionDesired?: boolean
  hcTcp?: boolean
}

export class Proxy {
  readonly host: string
  readonly port: number
  /** "IP:port" (the metrics label `to`). */
  readonly addr: string
  readonly transport: UpstreamTransport
  readonly stats: ProxyStats
  /** Consecutive failed health checks. */
  fails = 0
  readonly family: 4 | 6
  readonly pools: UdpPools
  private readonly queue: TimeoutQueue
  readonly streamOpts: {
    tls: tls.ConnectionOptions | null
    sourceAddress: string | null
    expireMs: number
    maxAgeMs: number
    maxIdleConns: number
  }
  private udp: UdpDest | null = null
  private tcpClient: StreamClient | null = null
  private tlsClient: StreamClient | null = null
  private readonly udpTimeoutErr: Error
  private readonly tcpTimeoutErr: Error
  readonly health: HealthCheck

  constructor(o: ProxyOptions) {
    this.host = o.host
    this.port = o.port
    this.family = o.host.includes(':') ? 6 : 4
    this.addr = this.family === 6 ? `[${o.host}]:${o.port}` : `${o.host}:${o.port}`
    this.transport = o.transport
    this.stats = new ProxyStats(this.addr)
    this.pools = o.pools
    this.queue = o.queue
    this.streamOpts = {
      tls: o.tls ?? null,
      sourceAddress: o.sourceAddress ?? null,
      expireMs: o.expireMs ?? 10_000,
      maxAgeMs: o.maxAgeMs ?? 0,
      maxIdleConns: o.maxIdleConns ?? 0,
    }
    this.udpTimeoutErr = new Error(`read udp ->${this.addr}: i/o timeout`)
    this.tcpTimeoutErr = new Error(`read ${o.transport === 'tls' ? 'tcp-tls' : 'tcp'} ->${this.addr}: i/o timeout`)
    this.health = new HealthCheck(this, o.hcDomain ?? '.', o.hcRecursionDesired ?? true, o.hcTcp ?? false)
  }

  /** CoreDNS Proxy.Down: more than maxFails failed health checks (never with maxFails 0). */
  down(maxFails: number): boolean {
    return maxFails !== 0 && this.fails > maxFails
  }

  /**
   * One exchange in callback form (the forwarding fast path): a fresh random ID; the reply or an
   * Error goes to `sink`, never synchronously. Counts the request and the conn cache hit/miss; the
   * caller counts the outcome with record(). `now` is performance.now().
   */
  exchange(query: Buffer, qEnd: number, proto: 'udp' | 'tcp', sink: UdpSink, now: number): void {
    const cp = this.connProto(proto)
    const stats = this.stats
    stats.requests++
    if (cp === 'udp') {
      const d = this.udpDest()
      d.send(query, qEnd, this.queue, this.udpTimeoutErr, sink, now)
      if (d.lastOpened) stats.miss('udp')
      else stats.hit('udp')
      return
    }
    const c = this.stream(cp)
    const p = c.exchange(query, this.queue, this.tcpTimeoutErr)
    if (c.lastReused) stats.hit(cp)
    else stats.miss(cp)
    p.then(
      (r) => sink.onOutcome(r),
      (e: unknown) => sink.onOutcome(e instanceof Error ? e : new Error(String(e))),
    )
  }

  /** Counts the outcome of an exchange() started at `start`: an error, or the reply's rcode and duration. */
  record(r: Outcome, start: number, now: number): void {
    if (r instanceof Error) {
      this.stats.errors++
      return
    }
    this.stats.reply(replyRcode(r), (now - start) / 1000)
  }

  /** The connection-oriented client for `proto` (created on first use). */
  stream(proto: 'tcp' | 'tcp-tls'): StreamClient {
    if (proto === 'tcp-tls') {
      return (this.tlsClient ??= new StreamClient({ host: this.host, port: this.port, proto, ...this.streamOpts }))
    }
    return (this.tcpClient ??= new StreamClient({ host: this.host, port: this.port, proto, ...this.streamOpts, tls: null }))
  }

  /** This upstream's UDP sockets. */
  udpDest(): UdpDest {
    const d = this.udp
    if (d !== null && !d.pool.closed) return d
    return (this.udp = this.pools.get(this.family).dest(this.host, this.port))
  }

  /** The transport a query goes over: tls upstreams always use TLS. */
  connProto(proto: 'udp' | 'tcp'): ConnProto {
    return this.transport === 'tls' ? 'tcp-tls' : proto
  }

  /**
   * One exchange (CoreDNS Proxy.Connect): a fresh random ID, the reply or an Error. `qEnd` is the
   * offset past the question of `query`. Counts requests, replies by rcode and their duration.
   */
  async connect(query: Buffer, qEnd: number, proto: 'udp' | 'tcp'): Promise<Outcome> {
    const cp = this.connProto(proto)
    const stats = this.stats
    stats.requests++
    const start = performance.now()
    let r: Outcome
    if (cp === 'udp') {
      const d = this.udpDest()
      const p = d.exchange(query, qEnd, this.queue, this.udpTimeoutErr)
      if (d.lastOpened) stats.miss('udp')
      else stats.hit('udp')
      r = await p
    } else {
      const c = this.stream(cp)
      const p = c.exchange(query, this.queue, this.tcpTimeoutErr)
      if (c.lastReused) stats.hit(cp)
      else stats.miss(cp)
      r = await p
    }
    if (r instanceof Error) {
      stats.errors++
      return r
    }
    stats.reply(replyRcode(r), (performance.now() - start) / 1000)
    return r
  }

  /** The TCP/TLS clients created so far. */
  openStreams(): StreamClient[] {
    const out: StreamClient[] = []
    if (this.tcpClient !== null) out.push(this.tcpClient)
    if (this.tlsClient !== null) out.push(this.tlsClient)
    return out
  }

  /** Starts health checking unless it is already running (CoreDNS Proxy.Healthcheck). */
  healthcheck(): void {
    this.health.trigger()
  }

  /** Stops health checks and closes every connection. */
  stop(): void {
    this.health.stop()
    this.tcpClient?.close()
    this.tlsClient?.close()
    this.tcpClient = this.tlsClient = null
  }
}

const hcQueue = new TimeoutQueue(HC_TIMEOUT_MS)

/**
 * `<domain> IN NS` every `interval` while the upstream fails to answer. Any reply (even
 * SERVFAIL or REFUSED) counts as healthy: failures reset and probing stops. Runs only when
 * `start()` was called (forward's OnStartup), never at setup time.
 */
export class HealthCheck {
  readonly proxy: Proxy
  readonly query: Buffer
  readonly qEnd: number
  readonly tcp: boolean
  intervalMs = 500
  /** Probes sent (tests). */
  probes = 0
  private enabled = false
  private running = false
  private timer: NodeJS.Timeout | null = null
  private hcStream: StreamClient | null = null
  private readonly timeoutErr: Error

  constructor(proxy: Proxy, domain: string, rd: boolean, tcp: boolean) {
    this.proxy = proxy
    this.tcp = tcp
    this.query = encodeMessage({
      id: 0,
      flags: rd ? Flag.RD : 0,
      question: [{ name: domain, type: Type.NS, class: Class.IN }],
      answer: [],
      authority: [],
      additional: [],
      edns: null,
    })
    this.qEnd = this.query.length
    this.timeoutErr = new Error(`health check ${proxy.addr}: i/o timeout`)
  }

  /** Enables checking with this interval (0 = never check). */
  start(intervalMs: number): void {
    this.intervalMs = intervalMs
    this.enabled = intervalMs > 0
  }

  trigger(): void {
    if (!this.enabled || this.running) return
    this.running = true
    this.check()
  }

  get active(): boolean {
    return this.running
  }

  private check(): void {
    this.timer = null
    if (!this.enabled) {
      this.running = false
      return
    }
    this.probes++
    this.send().then(
      (r) => this.done(r),
      (e: unknown) => this.done(e instanceof Error ? e : new Error(String(e))),
    )
  }

  private send(): Promise<Outcome> {
    const p = this.proxy
    const id = random16()
    const q = Buffer.from(this.query)
    q[0] = id >>> 8
    q[1] = id & 0xff
    if (p.transport === 'tls' || this.tcp) {
      const proto = p.transport === 'tls' ? 'tcp-tls' : 'tcp'
      // A fresh connection per probe (CoreDNS uses a new dns.Client exchange).
      this.hcStream ??= new StreamClient({
        host: p.host,
        port: p.port,
        proto,
        tls: p.transport === 'tls' ? (p.streamOpts.tls ?? null) : null,
        sourceAddress: p.streamOpts.sourceAddress,
        expireMs: 0,
      })
      return this.hcStream.exchange(q, hcQueue, this.timeoutErr)
    }
    return p.udpDest().exchange(q, this.qEnd, hcQueue, this.timeoutErr)
  }

  private done(r: Outcome): void {
    const p = this.proxy
    if (!(r instanceof Error)) {
      p.fails = 0
      this.running = false
      return
    }
    p.stats.healthcheckFailures++
    p.fails++
    if (!this.enabled) {
      this.running = false
      return
    }
    this.timer = setTimeout(() => this.check(), this.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    this.enabled = false
    this.running = false
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.hcStream?.close()
    this.hcStream = null
  }
}
