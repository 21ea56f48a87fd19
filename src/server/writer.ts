// The listener's own ResponseWriter: fits the reply to the client (EDNS rules of corefile.md
// §7.4, truncation with TC), sends it, and records what was sent on the Request for log/metrics.

import { Buffer } from 'node:buffer'
import type { Socket as UdpSocket } from 'node:dgram'
import type { Socket as TcpSocket } from 'node:net'
import { encodeMessage } from '../dns/message.js'
import { errorReply, getRcodeWire, truncateWire } from '../dns/wire.js'
import { EDNS_DO, type Message } from '../dns/types.js'
import type { Request, ResponseWriter } from '../pluginkit/types.js'

/** Applies the EDNS rules to a reply message: OPT only if the client sent one, version 0, its size and DO. */
export function fitEdns(msg: Message, req: Request): void {
  const q = req.q
  if (!q.hasEdns) {
    msg.edns = null
    return
  }
  const doBit = q.do ? EDNS_DO : 0
  if (msg.edns === null) {
    msg.edns = { udpSize: Math.max(512, q.udpSize), extRcode: 0, version: 0, flags: doBit, options: [] }
  } else {
    msg.edns.udpSize = Math.max(512, q.udpSize)
    msg.edns.version = 0
    msg.edns.flags = (msg.edns.flags & ~EDNS_DO) | doBit
  }
}

function rcodeOf(buf: Buffer): number {
  const low = buf.length >= 12 ? buf[3]! & 0xf : -1
  // Fast paths: no additional records → no OPT; an option-less OPT as the last record (what our
  // encoders write) → its extended-rcode byte sits 6 bytes from the end.
  if (buf.length >= 12 && buf[10] === 0 && buf[11] === 0) return low
  const n = buf.length
  if (n >= 23 && buf[n - 11] === 0 && buf[n - 10] === 0 && buf[n - 9] === 41 && buf[n - 2] === 0 && buf[n - 1] === 0) {
    return (buf[n - 6]! << 4) | low
  }
  try {
    return getRcodeWire(buf)
  } catch {
    return buf.length >= 4 ? buf[3]! & 0xf : -1
  }
}

export abstract class BaseWriter implements ResponseWriter {
  written = false
  protected readonly req: Request
  constructor(req: Request) {
    this.req = req
  }
  write(msg: Message, plugin: string): void {
    if (this.written) return
    fitEdns(msg, this.req)
    this.finish(encodeMessage(msg, this.req.maxSize), plugin)
  }
  writeWire(wire: Buffer, plugin: string): void {
    if (this.written) return
    this.finish(wire.length > this.req.maxSize ? truncateWire(wire, this.req.maxSize) : wire, plugin)
  }
  /** An empty reply with this rcode (question echoed, OPT if the client sent one); plugin label "". */
  writeError(rcode: number): void {
    if (this.written) return
    this.finish(errorReply(this.req.q, rcode), '')
  }
  private finish(buf: Buffer, plugin: string): void {
    this.recordReply(buf, plugin)
    this.send(buf)
  }
  /** Marks the request answered and records what was sent (log, metrics). */
  protected recordReply(buf: Buffer, plugin: string): void {
    this.written = true
    const req = this.req
    req.replyPlugin = plugin
    req.replySize = buf.length
    req.replyFlags = buf.length >= 4 ? buf.readUInt16BE(2) : 0
    req.replyRcode = rcodeOf(buf)
  }
  protected abstract send(buf: Buffer): void
}

// Replies are not sent from the callback that produced them but together, from one setImmediate
// after every I/O callback of the current event-loop turn: a datagram to a receiver that sleeps
// costs the sender its wake-up (~2.6 µs per send on this kind of box vs ~1.2 µs in a burst), so a
// burst wakes each client once. Adds at most one loop turn of latency. Replies are fresh buffers,
// never reused, so they can wait.
const outSock: UdpSocket[] = []
const outBuf: Buffer[] = []
const outPort: number[] = []
const outTo: string[] = []
let outScheduled = false

function flushReplies(): void {
  outScheduled = false
  const n = outBuf.length
  for (let i = 0; i < n; i++) {
    try {
      // No callback: Node then completes a send that succeeds at once without a JS callback (a
      // measurable share of the per-query cost). Send errors reach the socket's 'error' listener,
      // which ignores them: a lost reply is retried by the client.
      outSock[i]!.send(outBuf[i]!, outPort[i]!, outTo[i]!)
    } catch {
      /* the socket was closed meanwhile (reload, shutdown): the client retries */
    }
  }
  outSock.length = 0
  outBuf.length = 0
  outPort.length = 0
  outTo.length = 0
}

export class UdpWriter extends BaseWriter {
  private readonly sock: UdpSocket
  /** The peer address as the socket reported it (IPv4-mapped on a dual-stack socket). */
  private readonly to: string
  constructor(req: Request, sock: UdpSocket, to: string) {
    super(req)
    this.sock = sock
    this.to = to
  }
  protected send(buf: Buffer): void {
    outSock.push(this.sock)
    outBuf.push(buf)
    outPort.push(this.req.remotePort)
    outTo.push(this.to)
    if (!outScheduled) {
      outScheduled = true
      setImmediate(flushReplies)
    }
  }
}

export class TcpWriter extends BaseWriter {
  private readonly conn: TcpSocket
  constructor(req: Request, conn: TcpSocket) {
    super(req)
    this.conn = conn
  }
  protected send(buf: Buffer): void {
    if (!this.conn.destroyed && this.conn.writable) {
      const len = Buffer.allocUnsafe(2)
      len.writeUInt16BE(buf.length, 0)
      this.conn.cork()
      this.conn.write(len)
      this.conn.write(buf)
      this.conn.uncork()
    }
  }
  /** Several messages for one request (zone transfers), each with its own length prefix, in order. */
  writeStream(msgs: readonly Buffer[], plugin: string): void {
    if (this.written || msgs.length === 0) return
    const first = msgs[0]!
    this.recordReply(first, plugin)
    if (this.conn.destroyed || !this.conn.writable) return
    this.conn.cork()
    for (const m of msgs) {
      const len = Buffer.allocUnsafe(2)
      len.writeUInt16BE(m.length, 0)
      this.conn.write(len)
      this.conn.write(m)
    }
    this.conn.uncork()
  }
}

/**
 * Keeps the reply of an internal query (Request.subquery) instead of sending it. Error replies the
 * server would write for a chain that wrote nothing are not captured: the caller sees null.
 */
export class CaptureWriter extends BaseWriter {
  private readonly done: (reply: Buffer | null) => void
  constructor(req: Request, done: (reply: Buffer | null) => void) {
    super(req)
    this.done = done
  }
  override writeError(_rcode: number): void {
    if (this.written) return
    this.written = true
    this.done(null)
  }
  protected send(buf: Buffer): void {
    this.done(buf)
  }
}
