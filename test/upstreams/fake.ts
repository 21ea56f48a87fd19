// A tiny DNS "upstream" under the test's control, on 127.0.0.1 (UDP and TCP on the same port):
// answers through a programmable function, can stay silent, answer SERVFAIL, truncate, or send
// spoofed replies (wrong ID, wrong question, from another port). Counts what it receives.
import dgram from 'node:dgram'
import net from 'node:net'
import { once } from 'node:events'
import { decodeMessage, encodeMessage } from '../../src/dns/message.js'
import type { Message, RR } from '../../src/dns/types.js'
import { Flag, Rcode, Type } from '../../src/dns/constants.js'

export interface Received {
  proto: 'udp' | 'tcp'
  msg: Message
  wire: Buffer
  port: number
  address: string
}

/** What to send back: wire messages (each sent separately, in order), or null for silence. */
export type Responder = (q: Message, wire: Buffer, proto: 'udp' | 'tcp') => Buffer[] | null

export function reply(q: Message, opts: { rcode?: number; answer?: RR[]; flags?: number; id?: number } = {}): Buffer {
  return encodeMessage({
    id: opts.id ?? q.id,
    flags: (opts.flags ?? Flag.QR | (q.flags & Flag.RD) | Flag.RA) | (opts.rcode ?? 0),
    question: q.question,
    answer: opts.answer ?? [],
    authority: [],
    additional: [],
    edns: q.edns ? { udpSize: 1232, extRcode: 0, version: 0, flags: 0, options: [] } : null,
  })
}

/** Answers A queries with `ip` (TTL 60), anything else NOERROR/empty. */
export function answerA(ip: string): Responder {
  return (q) => [
    reply(q, {
      answer:
        q.question[0]!.type === Type.A ? [{ name: q.question[0]!.name, type: Type.A, class: 1, ttl: 60, data: ip }] : [],
    }),
  ]
}

export const SILENT: Responder = () => null
export const SERVFAIL: Responder = (q) => [reply(q, { rcode: Rcode.ServFail })]

export class FakeUpstream {
  port = 0
  readonly host = '127.0.0.1'
  readonly received: Received[] = []
  respond: Responder
  private udp: dgram.Socket | null = null
  private tcp: net.Server | null = null
  /** A second socket, for replies sent from the wrong port. */
  spoofSock: dgram.Socket | null = null
  private readonly conns = new Set<net.Socket>()
  /** Close TCP connections right after answering (an upstream that does not keep connections). */
  closeAfterReply = false
  /** Queries per TCP connection seen (tests of reuse). */
  tcpConnections = 0

  constructor(respond: Responder) {
    this.respond = respond
  }

  count(proto?: 'udp' | 'tcp'): number {
    return proto === undefined ? this.received.length : this.received.filter((r) => r.proto === proto).length
  }

  /** Binds UDP and TCP on one port (a fresh pair of tries when the TCP side is taken). */
  async start(port = 0): Promise<this> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.bindOnce(port)
        return this
      } catch (e) {
        await this.stop()
        if (port !== 0 || attempt >= 20 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e
      }
    }
  }

  private async bindOnce(port: number): Promise<void> {
    const u = dgram.createSocket('udp4')
    this.udp = u
    u.on('error', () => {})
    u.on('message', (buf, rinfo) => {
      let msg: Message
      try {
        msg = decodeMessage(buf)
      } catch {
        return
      }
      this.received.push({ proto: 'udp', msg, wire: buf, port: rinfo.port, address: rinfo.address })
      const out = this.respond(msg, buf, 'udp')
      if (out) for (const b of out) u.send(b, rinfo.port, rinfo.address)
    })
    u.bind(port, '127.0.0.1')
    await once(u, 'listening')
    this.port = u.address().port
    const t = net.createServer((sock) => this.onTcp(sock))
    await new Promise<void>((r, j) => {
      t.once('error', j)
      t.listen(this.port, '127.0.0.1', () => r())
    })
    t.on('error', () => {})
    this.tcp = t
    const s = dgram.createSocket('udp4')
    this.spoofSock = s
    s.on('error', () => {})
    s.bind(0, '127.0.0.1')
    await once(s, 'listening')
  }

  /** Sends `buf` to the address a query came from, from the spoof socket (another port). */
  sendFromOtherPort(buf: Buffer, to: Received): void {
    this.spoofSock!.send(buf, to.port, to.address)
  }

  /** Sends `buf` from the real socket to where `to` came from (e.g. a spoofed reply first). */
  sendFromServerPort(buf: Buffer, to: Received): void {
    this.udp!.send(buf, to.port, to.address)
  }

  private onTcp(sock: net.Socket): void {
    this.conns.add(sock)
    this.tcpConnections++
    sock.on('error', () => {})
    sock.on('close', () => this.conns.delete(sock))
    let pending = Buffer.alloc(0)
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      for (let i = 0; i < 1000 && pending.length >= 2; i++) {
        const len = pending.readUInt16BE(0)
        if (pending.length < 2 + len) break
        const wire = pending.subarray(2, 2 + len)
        pending = pending.subarray(2 + len)
        let msg: Message
        try {
          msg = decodeMessage(wire)
        } catch {
          continue
        }
        this.received.push({ proto: 'tcp', msg, wire: Buffer.from(wire), port: sock.remotePort ?? 0, address: sock.remoteAddress ?? '' })
        const out = this.respond(msg, wire, 'tcp')
        if (out) {
          for (const b of out) {
            const l = Buffer.alloc(2)
            l.writeUInt16BE(b.length)
            sock.write(Buffer.concat([l, b]))
          }
          if (this.closeAfterReply) sock.end()
        }
      }
    })
  }

  /** Closes every open TCP connection from the server side. */
  dropConnections(): void {
    for (const c of this.conns) c.destroy()
  }

  async stop(): Promise<void> {
    this.dropConnections()
    if (this.udp) await new Promise<void>((r) => this.udp!.close(() => r()))
    if (this.spoofSock) await new Promise<void>((r) => this.spoofSock!.close(() => r()))
    if (this.tcp) await new Promise<void>((r) => this.tcp!.close(() => r()))
    this.udp = this.spoofSock = null
    this.tcp = null
  }
}

export async function startFake(respond: Responder): Promise<FakeUpstream> {
  return new FakeUpstream(respond).start()
}
