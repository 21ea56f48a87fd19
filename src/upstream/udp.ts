// UDP to upstreams. Per upstream (UdpDest) a small pool of CONNECTED sockets, each bound to a
// kernel-chosen (random) ephemeral port: a query goes out on a randomly chosen socket with a random
// ID unique among that socket's queries in flight; a socket is retired after `maxUses` queries
// (closed once its last query settles) and replaced by a fresh one, so source ports keep changing.
// connect() gives the kernel's connected fast path (no per-packet route lookup, no address to
// resolve or parse per send) and makes the kernel drop datagrams from any other address or port
// before they reach us. A reply is still accepted only when its source address and port, ID and
// question match what was sent; anything else is dropped and counted (RFC 5452 anti-spoofing).
// Timeouts come from a TimeoutQueue (sweeper.ts). Exchanges report to a callback object
// (UdpSink), so the forwarding fast path needs no Promise per step; exchange() wraps that in a
// Promise for the other callers (health checks, tests).

import { Buffer } from 'node:buffer'
import dgram from 'node:dgram'
import { performance } from 'node:perf_hooks'
import { HEADER_SIZE } from '../dns/constants.js'
import { Expirable, type TimeoutQueue } from './sweeper.js'
import { random16, randomBelow } from './random.js'
import { DropStats } from './stats.js'
import { sameQuestion } from './wire.js'

/** A reply (wire bytes, client ID not yet restored) or why there is none. */
export type Outcome = Buffer | Error

/** Receives the outcome of one exchange, exactly once. */
export interface UdpSink {
  onOutcome(r: Outcome): void
}

/** dgram resolves every destination through `lookup`; ours are IP literals. */
function literalLookup(
  address: string,
  _family: unknown,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  cb(null, address, address.includes(':') ? 6 : 4)
}

function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a
}

export interface UdpPoolOptions {
  /** 4 or 6: the socket type. */
  family: 4 | 6
  /** Sockets in use at once per upstream (default 8). */
  size?: number
  /** Queries per socket before it is replaced (default 1024). */
  maxUses?: number
  /** Queries in flight per socket (default 4096). */
  maxInflight?: number
  /** Local address to bind (forward's source_address); null = any. */
  sourceAddress?: string | null
  /** connect() the sockets to their upstream (default true; false: unconnected, for tests). */
  connect?: boolean
}

/** Buckets of a socket's table of queries in flight (by ID; chains through UdpExchange.nextSameBucket). */
const ID_BUCKETS = 256

class PooledSocket {
  readonly sock: dgram.Socket
  readonly dest: UdpDest
  /** Queries in flight by ID: a small chained hash table (cheaper than a Map for 16-bit keys). */
  private readonly byId: Array<UdpExchange | null> = new Array<UdpExchange | null>(ID_BUCKETS).fill(null)
  /** Number of queries in flight. */
  inflight = 0
  uses = 0
  retired = false
  closed = false
  /** connect() completed: send without an address. */
  connected = false
  constructor(sock: dgram.Socket, dest: UdpDest) {
    this.sock = sock
    this.dest = dest
  }
  get(id: number): UdpExchange | null {
    for (let e: UdpExchange | null = this.byId[id & (ID_BUCKETS - 1)]!; e !== null; e = e.nextSameBucket) if (e.id === id) return e
    return null
  }
  add(ex: UdpExchange): void {
    const b = ex.id & (ID_BUCKETS - 1)
    ex.nextSameBucket = this.byId[b]!
    this.byId[b] = ex
    this.inflight++
  }
  /** Removes `ex` if it is in the table. */
  remove(ex: UdpExchange): void {
    const b = ex.id & (ID_BUCKETS - 1)
    let e: UdpExchange | null = this.byId[b]!
    if (e === ex) {
      this.byId[b] = ex.nextSameBucket
    } else {
      while (e !== null && e.nextSameBucket !== ex) e = e.nextSameBucket
      if (e === null) return
      e.nextSameBucket = ex.nextSameBucket
    }
    ex.nextSameBucket = null
    this.inflight--
  }
  /** Every query in flight (a copy). */
  all(): UdpExchange[] {
    const out: UdpExchange[] = []
    for (let b = 0; b < ID_BUCKETS; b++) for (let e: UdpExchange | null = this.byId[b]!; e !== null; e = e.nextSameBucket) out.push(e)
    return out
  }
  close(): void {
    if (this.closed) return
    this.closed = true
    try {
      this.sock.close()
    } catch {
      /* already closed */
    }
  }
}

class UdpExchange extends Expirable {
  readonly id: number
  /** The bytes sent (kept for the question check until the exchange settles). */
  query: Buffer | null
  readonly qEnd: number
  readonly ps: PooledSocket
  readonly timeoutErr: Error
  sink: UdpSink | null
  /** Next query in flight in the same bucket of ps's ID table. */
  nextSameBucket: UdpExchange | null
  /** Still in ps's ID table. */
  waiting: boolean
  constructor(id: number, query: Buffer, qEnd: number, ps: PooledSocket, timeoutErr: Error, sink: UdpSink) {
    super()
    this.nextSameBucket = null
    this.waiting = false
    this.id = id
    this.query = query
    this.qEnd = qEnd
    this.ps = ps
    this.timeoutErr = timeoutErr
    this.sink = sink
  }
  settle(r: Outcome): void {
    const ps = this.ps
    if (this.waiting) {
      this.waiting = false
      ps.remove(this)
    }
    if (ps.retired && ps.inflight === 0) ps.close()
    this.query = null
    const s = this.sink
    this.sink = null
    if (s !== null) s.onOutcome(r)
  }
  expire(): void {
    this.settle(this.timeoutErr)
  }
}

/** Adapts a UdpSink to a Promise (exchange()). */
class PromiseSink implements UdpSink {
  resolve: ((r: Outcome) => void) | null = null
  onOutcome(r: Outcome): void {
    const res = this.resolve
    this.resolve = null
    if (res !== null) res(r)
  }
}

/** The connected sockets of one upstream address:port. */
export class UdpDest {
  readonly pool: UdpPool
  /** Canonical IP literal (as rinfo reports it) and port. */
  readonly host: string
  readonly port: number
  /** Whether the last send() had to open a socket (read right after the call). */
  lastOpened = false
  private readonly slots: Array<PooledSocket | null>

  constructor(pool: UdpPool, host: string, port: number) {
    this.pool = pool
    this.host = host
    this.port = port
    this.slots = new Array<PooledSocket | null>(pool.size).fill(null)
  }

  private open(): PooledSocket {
    const pool = this.pool
    const sock = dgram.createSocket({ type: pool.family === 6 ? 'udp6' : 'udp4', lookup: literalLookup })
    const ps = new PooledSocket(sock, this)
    sock.on('message', (buf, rinfo) => this.onMessage(ps, buf, rinfo))
    sock.on('error', () => {
      // Bind/connect failure, an ICMP error reported on the connected socket, or an asynchronous
      // send error: stop using this socket; its queries time out.
      if (!ps.retired) this.retire(ps)
    })
    sock.on('close', () => {
      ps.closed = true
    })
    // Port 0: the kernel picks a random ephemeral port. With an IP literal and our lookup, bind
    // and connect complete synchronously (no DNS, no cluster round trip).
    const src = pool.sourceAddress
    sock.bind(src === null ? { port: 0 } : { port: 0, address: src })
    if (pool.connect && !ps.retired && bound(sock)) {
      try {
        sock.connect(this.port, this.host)
        ps.connected = connected(sock)
      } catch {
        ps.connected = false
      }
    }
    // Not connected (bind still pending, or connect failed): sends carry the address, as on an
    // unconnected socket; the source check below still applies.
    sock.unref()
    pool.created++
    return ps
  }

  retire(ps: PooledSocket): void {
    ps.retired = true
    const i = this.slots.indexOf(ps)
    if (i >= 0) this.slots[i] = null
    if (ps.inflight === 0) ps.close()
  }

  private pick(): PooledSocket | null {
    this.lastOpened = false
    const size = this.slots.length
    const max = this.pool.maxInflight
    const start = randomBelow(size)
    for (let k = 0; k < size; k++) {
      let i = start + k
      if (i >= size) i -= size
      let ps = this.slots[i]!
      if (ps === null) {
        ps = this.open()
        this.lastOpened = true
        if (ps.retired) continue
        this.slots[i] = ps
      }
      if (ps.inflight < max) return ps
    }
    return null
  }

  /**
   * Sends `query` (its ID is replaced; `query` itself is not modified) and reports the matching
   * reply or an Error (timeoutErr after queue.timeoutMs) to `sink`, never synchronously. `qEnd`
   * is the offset just past the query's question; `now` is performance.now().
   */
  send(query: Buffer, qEnd: number, queue: TimeoutQueue, timeoutErr: Error, sink: UdpSink, now: number): void {
    const pool = this.pool
    if (pool.closed) return later(sink, pool.closedErr)
    const ps = this.pick()
    if (ps === null) return later(sink, pool.fullErr)
    let id = random16()
    for (let tries = 0; ps.get(id) !== null && tries < 64; tries++) id = random16()
    if (ps.get(id) !== null) return later(sink, pool.fullErr)
    const n = query.length
    const out = Buffer.allocUnsafe(n)
    out[0] = id >>> 8
    out[1] = id & 0xff
    if (n <= 128) for (let i = 2; i < n; i++) out[i] = query[i]!
    else query.copy(out, 2, 2, n)
    const ex = new UdpExchange(id, out, qEnd, ps, timeoutErr, sink)
    ps.add(ex)
    ex.waiting = true
    queue.add(ex, now)
    if (++ps.uses >= pool.maxUses) this.retire(ps)
    queueSend(ps, out)
  }

  /** send() as a Promise. */
  exchange(query: Buffer, qEnd: number, queue: TimeoutQueue, timeoutErr: Error): Promise<Outcome> {
    const sink = new PromiseSink()
    const p = new Promise<Outcome>((resolve) => {
      sink.resolve = resolve
    })
    this.send(query, qEnd, queue, timeoutErr, sink, performance.now())
    return p
  }

  private onMessage(ps: PooledSocket, buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const d = this.pool.drops
    if (buf.length < HEADER_SIZE || (buf[2]! & 0x80) === 0) {
      d.malformed++
      return
    }
    const ex = ps.get((buf[0]! << 8) | buf[1]!)
    if (ex === null) {
      d.unknownId++
      return
    }
    if (rinfo.port !== this.port || (rinfo.address !== this.host && plainAddress(rinfo.address) !== this.host)) {
      d.wrongSource++
      return
    }
    // A reply without a question is passed on (the forward handler answers FORMERR, as CoreDNS);
    // one with a different question is treated as spoofed.
    if ((buf[4] !== 0 || buf[5] !== 0) && !sameQuestion(buf, ex.query!, ex.qEnd)) {
      d.wrongQuestion++
      return
    }
    ex.queue?.remove(ex)
    ex.settle(buf)
  }

  /** Local ports of the sockets in use. */
  ports(out: number[]): void {
    for (const ps of this.slots) {
      if (ps === null || ps.closed) continue
      try {
        out.push(ps.sock.address().port)
      } catch {
        /* not bound yet */
      }
    }
  }

  close(err: Error): void {
    for (let i = 0; i < this.slots.length; i++) {
      const ps = this.slots[i]
      if (ps === null || ps === undefined) continue
      this.slots[i] = null
      ps.retired = true
      for (const ex of ps.all()) {
        ex.queue?.remove(ex)
        ex.settle(err)
      }
      ps.close()
    }
  }
}

function bound(sock: dgram.Socket): boolean {
  try {
    sock.address()
    return true
  } catch {
    return false
  }
}

function connected(sock: dgram.Socket): boolean {
  try {
    sock.remoteAddress()
    return true
  } catch {
    return false
  }
}

// Outgoing queries are not sent from the I/O callback that produced them but together, from one
// setImmediate after every I/O callback of the current event-loop turn: a datagram to a receiver
// that sleeps costs the sender the wake-up (~2.6 µs per send here vs ~1.2 µs in a burst), so a
// burst wakes the upstream once. Adds at most one loop turn of latency.
const outSock: PooledSocket[] = []
const outBuf: Buffer[] = []
let outScheduled = false

function queueSend(ps: PooledSocket, buf: Buffer): void {
  outSock.push(ps)
  outBuf.push(buf)
  if (!outScheduled) {
    outScheduled = true
    setImmediate(flushSends)
  }
}

function flushSends(): void {
  outScheduled = false
  const n = outBuf.length
  for (let i = 0; i < n; i++) {
    const ps = outSock[i]!
    if (ps.closed) continue
    const d = ps.dest
    try {
      // No callback: errors reach the 'error' listener; the query then times out.
      if (ps.connected) ps.sock.send(outBuf[i]!)
      else ps.sock.send(outBuf[i]!, d.port, d.host)
    } catch {
      /* closed meanwhile: the query times out */
    }
  }
  outSock.length = 0
  outBuf.length = 0
}

/** Reports `r` to `sink` on a later tick (an exchange never settles inside send()). */
function later(sink: UdpSink, r: Outcome): void {
  queueMicrotask(() => sink.onOutcome(r))
}

/** The UDP upstream sockets of one address family (per forward): one UdpDest per upstream. */
export class UdpPool {
  readonly family: 4 | 6
  readonly size: number
  readonly maxUses: number
  readonly maxInflight: number
  readonly sourceAddress: string | null
  readonly connect: boolean
  readonly drops = new DropStats()
  /** Sockets opened so far (conn cache misses). */
  created = 0
  /** Whether the last exchange() had to open a socket (read right after the call). */
  lastOpened = false
  closed = false
  readonly fullErr = new Error('upstream UDP: too many queries in flight')
  readonly closedErr = new Error('upstream UDP: socket pool closed')
  private readonly dests = new Map<string, UdpDest>()

  constructor(o: UdpPoolOptions) {
    this.family = o.family
    this.size = o.size ?? 8
    this.maxUses = o.maxUses ?? 1024
    this.maxInflight = o.maxInflight ?? 4096
    this.sourceAddress = o.sourceAddress ?? null
    this.connect = o.connect ?? true
  }

  /** The sockets for host:port (`host` canonical, as rinfo reports it). */
  dest(host: string, port: number): UdpDest {
    const key = `${host}|${port}`
    let d = this.dests.get(key)
    if (d === undefined) {
      d = new UdpDest(this, host, port)
      this.dests.set(key, d)
    }
    return d
  }

  /**
   * Sends `query` (its ID is replaced; `query` itself is not modified) to host:port and resolves
   * with the matching reply or an Error (timeoutErr after queue.timeoutMs). `qEnd` is the offset
   * just past the query's question. `host` must be in canonical form (as rinfo reports it).
   */
  exchange(host: string, port: number, query: Buffer, qEnd: number, queue: TimeoutQueue, timeoutErr: Error): Promise<Outcome> {
    const d = this.dest(host, port)
    const p = d.exchange(query, qEnd, queue, timeoutErr)
    this.lastOpened = d.lastOpened
    return p
  }

  /** Local ports of the sockets currently in use (tests). */
  ports(): number[] {
    const out: number[] = []
    for (const d of this.dests.values()) d.ports(out)
    return out
  }

  /** Closes every socket; queries in flight resolve with an error. */
  close(): void {
    this.closed = true
    for (const d of this.dests.values()) d.close(this.closedErr)
  }
}
