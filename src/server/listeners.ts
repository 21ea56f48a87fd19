// UDP, TCP and DNS-over-TLS listeners. One UDP socket + one TCP (or TLS) server per listen
// address; the zone map (ZoneMux) is swappable so a reload keeps the sockets (Node 20's dgram has
// no SO_REUSEPORT, so an old and a new socket cannot share a port during a hand-over).

import { Buffer } from 'node:buffer'
import dgram from 'node:dgram'
import net from 'node:net'
import tls from 'node:tls'
import { once } from 'node:events'
import { admit, dispatch, type ZoneMux } from './dispatch.js'
import { ServerRequest } from './request.js'
import { TcpWriter, UdpWriter } from './writer.js'
import type { TlsSettings } from '../pluginkit/types.js'

/**
 * dgram resolves the destination of every send() through `lookup` (dns.lookup by default, which
 * for an IP literal still costs a regex and a process.nextTick per packet). Replies always go to
 * the IP literal a query came from, so hand it straight back.
 */
function literalLookup(
  address: string,
  family: unknown,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  cb(null, address, address.includes(':') ? 6 : 4)
}

/** "::ffff:10.0.0.1" → "10.0.0.1" (dual-stack sockets report IPv4 peers mapped). */
export function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a
}

/** The listener string used in logs and the metrics "server" label: dns://:53, dns://[::1]:53. */
export function listenerLabel(transport: string, host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host
  return `${transport}://${h}:${port}`
}

export interface ListenerOptions {
  transport: 'dns' | 'tls'
  /** '' = wildcard (all IPv4 and IPv6 addresses). */
  host: string
  port: number
  mux: ZoneMux
  tls: TlsSettings | null
  /** TCP: most open connections; further ones are closed at once. */
  maxConnections?: number
  /** TCP: close a connection with no traffic and nothing in flight for this long. */
  idleTimeoutMs?: number
  /** TCP: most queries of one connection being answered at once; reading pauses beyond. */
  maxPipelined?: number
}

export class Listener {
  readonly transport: 'dns' | 'tls'
  readonly host: string
  port: number
  readonly label: string
  mux: ZoneMux
  private readonly tlsSettings: TlsSettings | null
  private udp: dgram.Socket | null = null
  private tcp: net.Server | null = null
  private readonly conns = new Set<net.Socket>()
  private readonly maxConnections: number
  private readonly idleTimeoutMs: number
  private readonly maxPipelined: number
  private localAddress = ''

  constructor(o: ListenerOptions) {
    this.transport = o.transport
    this.host = o.host
    this.port = o.port
    this.label = listenerLabel(o.transport, o.host, o.port)
    this.mux = o.mux
    this.tlsSettings = o.tls
    this.maxConnections = o.maxConnections ?? 1024
    this.idleTimeoutMs = o.idleTimeoutMs ?? 10_000
    this.maxPipelined = o.maxPipelined ?? 128
  }

  /** Opens the sockets; rejects (and closes what was opened) if any bind fails. */
  async listen(): Promise<void> {
    // Port 0 (tests): UDP picks a free port and TCP must get the same one; if some TCP socket
    // already holds it, start over with another port (bounded).
    const anyPort = this.port === 0
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.transport === 'dns') await this.listenUdp()
        await this.listenTcp()
        return
      } catch (e) {
        await this.close()
        const retry = anyPort && attempt < 20 && (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
        if (!retry) throw e
        this.port = 0
      }
    }
  }

  private async listenUdp(): Promise<void> {
    const host = this.host
    const attempt = async (type: 'udp4' | 'udp6', addr: string, ipv6Only: boolean): Promise<dgram.Socket> => {
      const s = dgram.createSocket({ type, ipv6Only, lookup: literalLookup })
      s.on('message', (buf, rinfo) => this.onUdp(s, buf, rinfo))
      const errored = once(s, 'error')
      const listening = once(s, 'listening')
      s.bind(this.port, addr)
      const first = await Promise.race([errored.then((e) => e[0] as Error), listening.then(() => null)])
      if (first) {
        s.close()
        throw first
      }
      s.on('error', () => {
        /* per-datagram send errors: nothing to do; the client retries */
      })
      return s
    }
    if (host === '') {
      try {
        this.udp = await attempt('udp6', '::', false)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' && (e as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw e
        this.udp = await attempt('udp4', '0.0.0.0', false)
      }
    } else {
      this.udp = await attempt(host.includes(':') ? 'udp6' : 'udp4', host, host.includes(':'))
    }
    const a = this.udp.address()
    this.port = a.port
    this.localAddress = plainAddress(a.address)
  }

  private async listenTcp(): Promise<void> {
    const onConn = (sock: net.Socket): void => this.onTcp(sock)
    let srv: net.Server
    if (this.transport === 'tls') {
      const t = this.tlsSettings
      if (!t) throw new Error(`${this.label}: transport tls needs the tls directive (certificate and key)`)
      srv = tls.createServer(
        {
          cert: t.cert,
          key: t.key,
          ...(t.ca ? { ca: t.ca } : {}),
          requestCert: t.clientAuth !== 'nocert',
          rejectUnauthorized: t.clientAuth === 'require_and_verify',
          minVersion: 'TLSv1.2',
        },
        onConn,
      )
      srv.on('tlsClientError', () => {
        /* handshake failures are the client's problem */
      })
    } else {
      srv = net.createServer(onConn)
    }
    srv.maxConnections = this.maxConnections
    const host = this.host === '' ? undefined : this.host
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      const opts: net.ListenOptions = { port: this.port, exclusive: true }
      if (host !== undefined) opts.host = host
      srv.listen(opts, () => {
        srv.off('error', reject)
        resolve()
      })
    })
    srv.on('error', () => {
      /* accept errors (EMFILE ...) do not stop the server */
    })
    this.tcp = srv
    const a = srv.address()
    if (a && typeof a === 'object') {
      this.port = a.port
      if (!this.localAddress) this.localAddress = plainAddress(a.address)
    }
  }

  private onUdp(sock: dgram.Socket, buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const a = admit(buf)
    if (a === null) return
    if (Buffer.isBuffer(a)) {
      sock.send(a, rinfo.port, rinfo.address)
      return
    }
    const req = new ServerRequest(
      a,
      'udp',
      this.transport,
      plainAddress(rinfo.address),
      rinfo.port,
      this.localAddress,
      this.port,
      this.label,
    )
    dispatch(this.mux, req, new UdpWriter(req, sock, rinfo.address), null)
  }

  private onTcp(sock: net.Socket): void {
    this.conns.add(sock)
    sock.setNoDelay(true)
    sock.on('error', () => {
      /* resets by the peer are normal */
    })
    sock.on('close', () => this.conns.delete(sock))
    let inflight = 0
    let pending: Buffer | null = null
    const idle = this.idleTimeoutMs
    sock.setTimeout(idle, () => {
      if (inflight === 0) sock.destroy()
    })
    const done = (): void => {
      inflight--
      if (sock.isPaused() && inflight < this.maxPipelined) sock.resume()
    }
    const remote = plainAddress(sock.remoteAddress ?? '')
    const rport = sock.remotePort ?? 0
    const local = plainAddress(sock.localAddress ?? this.localAddress)
    sock.on('data', (chunk: Buffer) => {
      let buf: Buffer = pending === null ? chunk : Buffer.concat([pending, chunk])
      pending = null
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0)
        if (buf.length < 2 + len) break
        const msg = buf.subarray(2, 2 + len)
        buf = buf.subarray(2 + len)
        this.onTcpMessage(sock, msg, remote, rport, local, (n) => {
          inflight += n
        }, done)
      }
      if (buf.length > 0) pending = Buffer.from(buf) // copy: do not pin the whole chunk
      if (inflight >= this.maxPipelined) sock.pause()
    })
  }

  private onTcpMessage(
    sock: net.Socket,
    msg: Buffer,
    remote: string,
    rport: number,
    local: string,
    count: (n: number) => void,
    done: () => void,
  ): void {
    const a = admit(msg)
    if (a === null) return
    if (Buffer.isBuffer(a)) {
      const len = Buffer.allocUnsafe(2)
      len.writeUInt16BE(a.length, 0)
      sock.write(Buffer.concat([len, a]))
      return
    }
    const req = new ServerRequest(a, 'tcp', this.transport, remote, rport, local, this.port, this.label)
    count(1)
    dispatch(this.mux, req, new TcpWriter(req, sock), done)
  }

  /** Stops accepting; open TCP connections are closed. */
  async close(): Promise<void> {
    const u = this.udp
    this.udp = null
    if (u) await new Promise<void>((r) => u.close(() => r()))
    const t = this.tcp
    this.tcp = null
    if (t) {
      for (const c of this.conns) c.destroy()
      await new Promise<void>((r) => t.close(() => r()))
    }
  }
}
