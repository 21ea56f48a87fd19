// The loop handler: counts arrivals of its own probe name while detection is active, and the
// startup prober that sends it (every 1 s for up to 30 s until one reply arrives).

import dgram from 'node:dgram'
import { Class, Flag, Type } from '../../dns/constants.js'
import { encodeMessage } from '../../dns/message.js'
import { isSubdomain } from '../../dns/name.js'
import type { Logger } from '../../log/logger.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import { random16 } from '../../upstream/random.js'

/** What happens when a loop is detected: log FATAL and exit 1 (replaceable for tests). */
export type FatalFn = (log: Logger, msg: string) => void

let fatal: FatalFn = (log, msg) => {
  log.fatal(msg)
  process.exit(1)
}

export function setFatal(fn: FatalFn): FatalFn {
  const prev = fatal
  fatal = fn
  return prev
}

export interface ProbeAddress {
  /** What the message shows: JoinHostPort(listen host, port), ":53" for the wildcard. */
  label: string
  /** Where the probe is sent: the listen host, loopback for the wildcard. */
  host: string
  port: number
}

/** The block's first listen address (wildcard and unspecified addresses → loopback). */
export function probeAddress(listenHost: string, port: number): ProbeAddress {
  const h = listenHost.includes('%') ? listenHost.slice(0, listenHost.indexOf('%')) : listenHost
  const label = (h.includes(':') ? `[${h}]` : h) + ':' + port
  let host = h
  if (h === '' || h === '0.0.0.0') host = '127.0.0.1'
  else if (h === '::') host = '::1'
  return { label, host, port }
}

/** Probe retry interval and total probing time (CoreDNS loop setup). */
export const PROBE_INTERVAL_MS = 1000
export const PROBE_DEADLINE_MS = 30_000
/** How long one probe waits for its reply (miekg dns.Exchange default). */
export const PROBE_TIMEOUT_MS = 2000

export class Loop implements Handler {
  readonly name = 'loop'
  readonly next: Handler
  readonly zone: string
  /** The probe name, lower-case FQDN. */
  readonly qname: string
  readonly address: ProbeAddress
  private readonly log: Logger
  /** Arrivals of the probe name since the last reset. */
  count = 0
  disabled = false
  /** Probes sent (tests). */
  sent = 0
  private timer: NodeJS.Timeout | null = null
  private sock: dgram.Socket | null = null
  private stopped = false

  constructor(next: Handler, zone: string, qname: string, address: ProbeAddress, log: Logger) {
    this.next = next
    this.zone = zone
    this.qname = qname.toLowerCase()
    this.address = address
    this.log = log
  }

  serve(req: Request, w: ResponseWriter): Served {
    const q = req.q
    if (q.qtype !== Type.HINFO || this.disabled) return this.next.serve(req, w)
    if (!isSubdomain(q.qnameLower, this.zone)) return this.next.serve(req, w)
    if (q.qnameLower === this.qname) this.count++
    if (this.count > 2) {
      const remote = (req.remoteAddress.includes(':') ? `[${req.remoteAddress}]` : req.remoteAddress) + ':' + req.remotePort
      this.disabled = true
      fatal(
        this.log,
        `Loop (${remote} -> ${this.address.label}) detected for zone "${this.zone}", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${this.qname}"`,
      )
    }
    return this.next.serve(req, w)
  }

  /** Sends the probe until a reply arrives or 30 s passed, then switches detection off. */
  startProbing(): void {
    if (this.stopped) return
    const deadline = performance.now() + PROBE_DEADLINE_MS
    const attempt = (): void => {
      this.timer = null
      if (this.stopped || this.disabled) return
      if (performance.now() >= deadline) {
        this.disabled = true
        return
      }
      this.exchange((ok) => {
        if (this.stopped) return
        if (ok) {
          // Give queries still travelling round a loop a moment to arrive, then stop counting.
          this.timer = setTimeout(() => {
            this.disabled = true
          }, 2000)
          this.timer.unref()
          return
        }
        this.count = 0
        this.timer = setTimeout(attempt, PROBE_INTERVAL_MS)
        this.timer.unref()
      })
    }
    attempt()
  }

  private exchange(done: (ok: boolean) => void): void {
    const id = random16()
    const msg = encodeMessage({
      id,
      flags: Flag.RD,
      question: [{ name: this.qname, type: Type.HINFO, class: Class.IN }],
      answer: [],
      authority: [],
      additional: [],
      edns: null,
    })
    const sock = dgram.createSocket(this.address.host.includes(':') ? 'udp6' : 'udp4')
    this.sock = sock
    let finished = false
    const finish = (ok: boolean): void => {
      if (finished) return
      finished = true
      clearTimeout(t)
      this.sock = null
      try {
        sock.close()
      } catch {
        /* closed */
      }
      done(ok)
    }
    const t = setTimeout(() => finish(false), PROBE_TIMEOUT_MS)
    t.unref()
    sock.on('error', () => finish(false))
    sock.on('message', (buf) => {
      if (buf.length >= 12 && ((buf[0]! << 8) | buf[1]!) === id && (buf[2]! & 0x80) !== 0) finish(true)
    })
    this.sent++
    sock.send(msg, this.address.port, this.address.host)
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    if (this.sock !== null) {
      try {
        this.sock.close()
      } catch {
        /* closed */
      }
      this.sock = null
    }
  }
}
