// UDP to upstreams over a small pool of unconnected sockets bound to kernel-chosen (random)
// ports. A query goes out on a randomly chosen socket with a random ID unique among that
// socket's queries in flight; a socket is retired after `maxUses` queries (closed once its last
// query settles) and replaced by a fresh one, so source ports keep changing. A reply is accepted
// only when its source address and port, ID and question match what was sent; anything else is
// dropped and counted (RFC 5452 anti-spoofing). Timeouts come from a TimeoutQueue (sweeper.ts).

import dgram from 'node:dgram'
import { HEADER_SIZE } from '../dns/constants.js'
import { Expirable, type TimeoutQueue } from './sweeper.js'
import { random16, randomBelow } from './random.js'
import { DropStats } from './stats.js'
import { sameQuestion } from './wire.js'

/** A reply (wire bytes, client ID not yet restored) or why there is none. */
export type Outcome = Buffer | Error

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
  /** Sockets in use at once (default 8). */
  size?: number
  /** Queries per socket before it is replaced (default 1024). */
  maxUses?: number
  /** Queries in flight per socket (default 4096). */
  maxInflight?: number
  /** Local address to bind (forward's source_address); null = any. */
  sourceAddress?: string | null
}

class PooledSocket {
  readonly sock: dgram.Socket
  readonly inflight = new Map<number, UdpExchange>()
  uses = 0
  retired = false
  closed = false
  constructor(sock: dgram.Socket) {
    this.sock = sock
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
  readonly host: string
  readonly port: number
  /** The bytes sent (kept for the question check until the exchange settles). */
  query: Buffer | null
  readonly qEnd: number
  readonly ps: PooledSocket
  readonly timeoutErr: Error
  resolve: ((r: Outcome) => void) | null
  constructor(id: number, host: string, port: number, query: Buffer, qEnd: number, ps: PooledSocket, timeoutErr: Error) {
    super()
    this.id = id
    this.host = host
    this.port = port
    this.query = query
    this.qEnd = qEnd
    this.ps = ps
    this.timeoutErr = timeoutErr
    this.resolve = null
  }
  settle(r: Outcome): void {
    const ps = this.ps
    if (ps.inflight.get(this.id) === this) ps.inflight.delete(this.id)
    if (ps.retired && ps.inflight.size === 0) ps.close()
    this.query = null
    const res = this.resolve
    this.resolve = null
    if (res !== null) res(r)
  }
  expire(): void {
    this.settle(this.timeoutErr)
  }
}

export class UdpPool {
  readonly family: 4 | 6
  readonly size: number
  readonly maxUses: number
  readonly maxInflight: number
  readonly sourceAddress: string | null
  readonly drops = new DropStats()
  /** Sockets opened so far (conn cache misses). */
  created = 0
  /** Whether the last exchange() had to open a socket (read right after the call). */
  lastOpened = false
  private readonly slots: Array<PooledSocket | null>
  private closed = false
  private readonly fullErr = new Error('upstream UDP: too many queries in flight')
  private readonly closedErr = new Error('upstream UDP: socket pool closed')

  constructor(o: UdpPoolOptions) {
    this.family = o.family
    this.size = o.size ?? 8
    this.maxUses = o.maxUses ?? 1024
    this.maxInflight = o.maxInflight ?? 4096
    this.sourceAddress = o.sourceAddress ?? null
    this.slots = new Array<PooledSocket | null>(this.size).fill(null)
  }

  private open(): PooledSocket {
    const sock = dgram.createSocket({ type: this.family === 6 ? 'udp6' : 'udp4', lookup: literalLookup })
    const ps = new PooledSocket(sock)
    sock.on('message', (buf, rinfo) => this.onMessage(ps, buf, rinfo))
    sock.on('error', () => {
      // Bind failure or an asynchronous send error: stop using this socket; its queries time out.
      if (!ps.retired) this.retire(ps)
    })
    sock.on('close', () => {
      ps.closed = true
    })
    // Port 0: the kernel picks a random ephemeral port. Sends issued before the bind completes
    // are queued by dgram, so the socket is usable at once.
    sock.bind(this.sourceAddress === null ? { port: 0 } : { port: 0, address: this.sourceAddress })
    sock.unref()
    this.created++
    return ps
  }

  private retire(ps: PooledSocket): void {
    ps.retired = true
    const i = this.slots.indexOf(ps)
    if (i >= 0) this.slots[i] = null
    if (ps.inflight.size === 0) ps.close()
  }

  private pick(): PooledSocket | null {
    this.lastOpened = false
    const start = randomBelow(this.size)
    for (let k = 0; k < this.size; k++) {
      const i = (start + k) % this.size
      let ps = this.slots[i]!
      if (ps === null) {
        ps = this.open()
        this.slots[i] = ps
        this.lastOpened = true
      }
      if (ps.inflight.size < this.maxInflight) return ps
    }
    return null
  }

  /**
   * Sends `query` (its ID is replaced; `query` itself is not modified) to host:port and resolves
   * with the matching reply or an Error (timeoutErr after queue.timeoutMs). `qEnd` is the offset
   * just past the query's question. `host` must be in canonical form (as rinfo reports it).
   */
  exchange(host: string, port: number, query: Buffer, qEnd: number, queue: TimeoutQueue, timeoutErr: Error): Promise<Outcome> {
    if (this.closed) return Promise.resolve(this.closedErr)
    const ps = this.pick()
    if (ps === null) return Promise.resolve(this.fullErr)
    let id = random16()
    for (let tries = 0; ps.inflight.has(id) && tries < 64; tries++) id = random16()
    if (ps.inflight.has(id)) return Promise.resolve(this.fullErr)
    const out = Buffer.allocUnsafe(query.length)
    query.copy(out)
    out[0] = id >>> 8
    out[1] = id & 0xff
    const ex = new UdpExchange(id, host, port, out, qEnd, ps, timeoutErr)
    const p = new Promise<Outcome>((resolve) => {
      ex.resolve = resolve
    })
    ps.inflight.set(id, ex)
    queue.add(ex, performance.now())
    if (++ps.uses >= this.maxUses) this.retire(ps)
    // No callback: errors reach the 'error' listener; the query then times out.
    ps.sock.send(out, port, host)
    return p
  }

  private onMessage(ps: PooledSocket, buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const d = this.drops
    if (buf.length < HEADER_SIZE || (buf[2]! & 0x80) === 0) {
      d.malformed++
      return
    }
    const ex = ps.inflight.get((buf[0]! << 8) | buf[1]!)
    if (ex === undefined) {
      d.unknownId++
      return
    }
    if (rinfo.port !== ex.port || plainAddress(rinfo.address) !== ex.host) {
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

  /** Local ports of the sockets currently in use (tests). */
  ports(): number[] {
    const out: number[] = []
    for (const ps of this.slots) {
      if (ps === null || ps.closed) continue
      try {
        out.push(ps.sock.address().port)
      } catch {
        /* not bound yet */
      }
    }
    return out
  }

  /** Closes every socket; queries in flight resolve with an error. */
  close(): void {
    this.closed = true
    for (let i = 0; i < this.slots.length; i++) {
      const ps = this.slots[i]
      if (ps === null || ps === undefined) continue
      this.slots[i] = null
      ps.retired = true
      for (const ex of [...ps.inflight.values()]) {
        ex.queue?.remove(ex)
        ex.settle(this.closedErr)
      }
      ps.close()
    }
  }
}
