// TCP and DNS-over-TLS to one upstream with connection reuse. Queries are pipelined on a
// connection (2-byte length framing, replies matched by ID, in any order); a connection is reused
// while younger than `max_age` and idle for less than `expire`, and at most `max_idle_conns` idle
// ones are kept. When a reused connection turns out to have been closed by the peer before the
// reply (CoreDNS ErrCachedClosed), the query is re-sent once on a fresh connection. The dial
// timeout adapts to observed dial times (CoreDNS transport.go: 1s..30s, twice the average).

import net from 'node:net'
import tls from 'node:tls'
import { HEADER_SIZE } from '../dns/constants.js'
import { Expirable, type TimeoutQueue } from './sweeper.js'
import { random16 } from './random.js'
import { DropStats, type ConnProto } from './stats.js'
import type { Outcome } from './udp.js'

export const MIN_DIAL_MS = 1000
export const MAX_DIAL_MS = 30000

export interface StreamOptions {
  host: string
  port: number
  proto: 'tcp' | 'tcp-tls'
  /** TLS client options (ca, cert, key, servername ...); required for tcp-tls. */
  tls?: tls.ConnectionOptions | null
  sourceAddress?: string | null
  /** Idle connections older than this are closed; 0 = no reuse at all (default 10s). */
  expireMs?: number
  /** Connections older than this take no new queries; 0 = off. */
  maxAgeMs?: number
  /** Idle connections kept; 0 = unlimited. */
  maxIdleConns?: number
  /** Open connections at most (default 64). */
  maxConns?: number
  /** Queries in flight per connection (default 64). */
  maxPipeline?: number
}

class StreamExchange extends Expirable {
  id: number
  /** Framed query (length prefix + message), kept for a transparent re-send. */
  framed: Buffer | null
  conn: StreamConn | null
  readonly timeoutErr: Error
  /** Sent on a connection that had already been used: eligible for one re-send if it was closed. */
  cached: boolean
  retried: boolean
  resolve: ((r: Outcome) => void) | null
  constructor(framed: Buffer, timeoutErr: Error) {
    super()
    this.id = 0
    this.framed = framed
    this.conn = null
    this.timeoutErr = timeoutErr
    this.cached = false
    this.retried = false
    this.resolve = null
  }
  settle(r: Outcome): void {
    const c = this.conn
    if (c !== null && c.inflight.get(this.id) === this) {
      c.inflight.delete(this.id)
      c.client.onIdleMaybe(c)
    }
    this.conn = null
    this.framed = null
    const res = this.resolve
    this.resolve = null
    if (res !== null) res(r)
  }
  expire(): void {
    this.settle(this.timeoutErr)
  }
}

class StreamConn {
  readonly sock: net.Socket
  readonly client: StreamClient
  readonly inflight = new Map<number, StreamExchange>()
  readonly createdMs: number
  /** Replies received on this connection. */
  replies = 0
  connected = false
  dead = false
  error: Error | null = null
  pending: Buffer | null = null
  constructor(sock: net.Socket, client: StreamClient) {
    this.sock = sock
    this.client = client
    this.createdMs = performance.now()
  }
}

export class StreamClient {
  readonly host: string
  readonly port: number
  readonly proto: ConnProto
  readonly drops = new DropStats()
  /** Connections dialled (conn cache misses) and reused (hits). */
  dials = 0
  reuses = 0
  /** Whether the last exchange() reused a connection (read right after the call). */
  lastReused = false
  /** Moving average of dial times in ms (CoreDNS starts at maxDialTimeout / 2). */
  avgDialMs = MAX_DIAL_MS / 2
  private readonly tlsOpts: tls.ConnectionOptions | null
  private readonly sourceAddress: string | null
  readonly expireMs: number
  readonly maxAgeMs: number
  readonly maxIdleConns: number
  readonly maxConns: number
  readonly maxPipeline: number
  private readonly conns: StreamConn[] = []
  private session: Buffer | null = null
  private closed = false
  private readonly closedErr: Error
  private readonly dialTimeoutErr: Error
  private readonly eofErr: Error
  private readonly busyErr: Error

  constructor(o: StreamOptions) {
    this.host = o.host
    this.port = o.port
    this.proto = o.proto
    this.tlsOpts = o.proto === 'tcp-tls' ? (o.tls ?? {}) : null
    this.sourceAddress = o.sourceAddress ?? null
    this.expireMs = o.expireMs ?? 10_000
    this.maxAgeMs = o.maxAgeMs ?? 0
    this.maxIdleConns = o.maxIdleConns ?? 0
    this.maxConns = o.maxConns ?? 64
    this.maxPipeline = o.maxPipeline ?? 64
    const to = o.host.includes(':') ? `[${o.host}]:${o.port}` : `${o.host}:${o.port}`
    this.closedErr = new Error(`${o.proto} ${to}: connection pool closed`)
    this.dialTimeoutErr = new Error(`dial ${o.proto} ${to}: i/o timeout`)
    this.eofErr = new Error(`read ${o.proto} ${to}: EOF`)
    this.busyErr = new Error(`${o.proto} ${to}: too many queries in flight`)
  }

  /** CoreDNS limitTimeout(avgDialTime, 1s, 30s). */
  dialTimeoutMs(): number {
    const rt = this.avgDialMs
    if (rt < MIN_DIAL_MS) return MIN_DIAL_MS
    if (rt < MAX_DIAL_MS / 2) return 2 * rt
    return MAX_DIAL_MS
  }

  /** Open connections (tests, metrics). */
  get open(): number {
    return this.conns.length
  }

  /** Sends `query` (ID replaced; the buffer itself untouched) and resolves with the reply or an Error. */
  exchange(query: Buffer, queue: TimeoutQueue, timeoutErr: Error): Promise<Outcome> {
    if (this.closed) return Promise.resolve(this.closedErr)
    const framed = Buffer.allocUnsafe(query.length + 2)
    framed[0] = query.length >>> 8
    framed[1] = query.length & 0xff
    query.copy(framed, 2)
    const ex = new StreamExchange(framed, timeoutErr)
    const p = new Promise<Outcome>((resolve) => {
      ex.resolve = resolve
    })
    queue.add(ex, performance.now())
    this.lastReused = false
    const err = this.send(ex, false)
    if (err !== null) {
      ex.queue?.remove(ex)
      ex.settle(err)
    }
    return p
  }

  /** Puts `ex` on a connection (a fresh one when `fresh`); returns an Error when impossible. */
  private send(ex: StreamExchange, fresh: boolean): Error | null {
    let c: StreamConn | null = fresh ? null : this.reusable()
    if (c !== null) {
      this.reuses++
      this.lastReused = true
      ex.cached = c.replies > 0
    } else {
      if (this.conns.length >= this.maxConns) {
        c = this.leastLoaded()
        if (c === null) return this.busyErr
        ex.cached = c.replies > 0
      } else {
        c = this.dial()
        ex.cached = false
      }
    }
    let id = random16()
    for (let tries = 0; c.inflight.has(id) && tries < 64; tries++) id = random16()
    if (c.inflight.has(id)) return this.busyErr
    ex.id = id
    ex.conn = c
    const f = ex.framed!
    f[2] = id >>> 8
    f[3] = id & 0xff
    c.inflight.set(id, ex)
    c.sock.write(f)
    return null
  }

  /** The newest live connection that may take another query; closes stale idle ones found on the way. */
  private reusable(): StreamConn | null {
    if (this.expireMs <= 0) return null
    const now = performance.now()
    for (let i = this.conns.length - 1; i >= 0; i--) {
      const c = this.conns[i]!
      if (c.dead) continue
      const tooOld = this.maxAgeMs > 0 && now - c.createdMs >= this.maxAgeMs
      if (tooOld) {
        if (c.inflight.size === 0) this.destroy(c)
        continue
      }
      if (c.inflight.size < this.maxPipeline) return c
    }
    return null
  }

  private leastLoaded(): StreamConn | null {
    let best: StreamConn | null = null
    for (const c of this.conns) {
      if (c.dead || c.inflight.size >= this.maxPipeline) continue
      if (best === null || c.inflight.size < best.inflight.size) best = c
    }
    return best
  }

  private dial(): StreamConn {
    this.dials++
    let sock: net.Socket
    const local = this.sourceAddress === null ? {} : { localAddress: this.sourceAddress }
    if (this.tlsOpts !== null) {
      sock = tls.connect({
        minVersion: 'TLSv1.2',
        ...this.tlsOpts,
        host: this.host,
        port: this.port,
        ...local,
        ...(this.session !== null ? { session: this.session } : {}),
      })
      sock.on('session', (s: Buffer) => {
        this.session = s
      })
    } else {
      sock = net.connect({ host: this.host, port: this.port, noDelay: true, ...local })
    }
    const c = new StreamConn(sock, this)
    this.conns.push(c)
    const started = performance.now()
    sock.setTimeout(Math.max(1, this.dialTimeoutMs()))
    sock.on(this.tlsOpts !== null ? 'secureConnect' : 'connect', () => {
      c.connected = true
      if (this.tlsOpts === null) sock.setNoDelay(true)
      // CoreDNS averageTimeout(&avgDialTime, dt, 4)
      this.avgDialMs += (performance.now() - started - this.avgDialMs) / 4
      sock.setTimeout(this.expireMs > 0 ? this.expireMs : 0)
    })
    sock.on('timeout', () => {
      if (!c.connected) {
        c.error = this.dialTimeoutErr
        sock.destroy()
      } else if (c.inflight.size === 0) {
        this.destroy(c)
      }
    })
    sock.on('error', (e: Error) => {
      if (c.error === null) c.error = e
    })
    sock.on('data', (chunk: Buffer) => this.onData(c, chunk))
    sock.on('end', () => {
      sock.end()
    })
    sock.on('close', () => this.onClose(c))
    sock.unref()
    return c
  }

  private onData(c: StreamConn, chunk: Buffer): void {
    let buf: Buffer = c.pending === null ? chunk : Buffer.concat([c.pending, chunk])
    c.pending = null
    // Bounded by the data received: each iteration consumes one framed message.
    while (buf.length >= 2) {
      const len = (buf[0]! << 8) | buf[1]!
      if (buf.length < 2 + len) break
      const msg = buf.subarray(2, 2 + len)
      buf = buf.subarray(2 + len)
      this.onMessage(c, msg)
    }
    if (buf.length > 0) c.pending = Buffer.from(buf)
  }

  private onMessage(c: StreamConn, msg: Buffer): void {
    if (msg.length < HEADER_SIZE || (msg[2]! & 0x80) === 0) {
      this.drops.malformed++
      return
    }
    const ex = c.inflight.get((msg[0]! << 8) | msg[1]!)
    if (ex === undefined) {
      this.drops.unknownId++
      return
    }
    c.replies++
    ex.queue?.remove(ex)
    // Copy: do not pin the whole read chunk for as long as the reply lives (cache).
    ex.settle(Buffer.from(msg))
  }

  private onClose(c: StreamConn): void {
    c.dead = true
    const i = this.conns.indexOf(c)
    if (i >= 0) this.conns.splice(i, 1)
    if (c.inflight.size === 0) return
    const err = c.error ?? this.eofErr
    const waiting = [...c.inflight.values()]
    c.inflight.clear()
    for (const ex of waiting) {
      ex.conn = null
      if (ex.cached && !ex.retried && !this.closed && ex.framed !== null) {
        // The peer closed a cached connection: re-send once on a fresh one (same deadline).
        ex.retried = true
        const e = this.send(ex, true)
        if (e === null) continue
        ex.queue?.remove(ex)
        ex.settle(e)
        continue
      }
      ex.queue?.remove(ex)
      ex.settle(err)
    }
  }

  /** Called when a query on `c` settled: close it if it is idle and not worth keeping. */
  onIdleMaybe(c: StreamConn): void {
    if (c.inflight.size !== 0 || c.dead) return
    if (this.expireMs <= 0 || this.closed) {
      this.destroy(c)
      return
    }
    if (this.maxAgeMs > 0 && performance.now() - c.createdMs >= this.maxAgeMs) {
      this.destroy(c)
      return
    }
    if (this.maxIdleConns > 0) {
      let idle = 0
      for (const o of this.conns) if (!o.dead && o.inflight.size === 0) idle++
      if (idle > this.maxIdleConns) this.destroy(c)
    }
  }

  private destroy(c: StreamConn): void {
    if (c.dead) return
    c.dead = true
    c.sock.destroy()
  }

  /** Closes every connection; queries in flight resolve with an error. */
  close(): void {
    this.closed = true
    for (const c of [...this.conns]) {
      for (const ex of [...c.inflight.values()]) {
        ex.queue?.remove(ex)
        ex.settle(this.closedErr)
      }
      this.destroy(c)
    }
  }
}
