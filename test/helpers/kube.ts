// Helpers for the Kubernetes end-to-end tests and the kube benchmark scripts (bench/kube-*.mjs):
// a raw UDP/TCP DNS client (dns-packet, independent of our codec), Corefile builders for a
// kubernetes block pointing at a FakeApiServer, `dig AXFR` parsing, bounded polling until a name
// answers as wanted, a paced query load that counts failures, the propagation measurement (watch
// event written → DNS answer changed) and the API-outage runner. Everything talks to 127.0.0.1 only
// and every loop is bounded by a deadline.

import dgram from 'node:dgram'
import net from 'node:net'
import { execFile } from 'node:child_process'
import dnsPacket from 'dns-packet'
import type { FakeApiServer } from '../fake-apiserver/server.js'
import { endpointSlice, service } from '../fake-apiserver/fixtures.js'
import type { DigRecord } from './dig.js'

/** Epoch ms with sub-ms precision (same clock as FakeApiServer's emittedAtMs). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now()
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE']

export interface Reply {
  rcode: string
  aa: boolean
  tc: boolean
  /** Answer RRs rendered as "TYPE data" (names lower-cased, no trailing dot). */
  answers: string[]
  authority: string[]
  additional: string[]
  packet: dnsPacket.DecodedPacket
}

function fq(s: string): string {
  return s.toLowerCase().replace(/\.$/, '')
}

/** "TYPE data" of one decoded RR, e.g. "A 10.96.0.1", "SRV 0 50 80 web.prod.svc.cluster.local". */
export function renderRR(a: dnsPacket.Answer): string {
  const d = (a as { data?: unknown }).data
  switch (a.type) {
    case 'SRV': {
      const s = d as dnsPacket.SrvData
      return `SRV ${s.priority ?? 0} ${s.weight ?? 0} ${s.port} ${fq(s.target)}`
    }
    case 'SOA': {
      const s = d as dnsPacket.SoaData
      return `SOA ${fq(s.mname)} ${fq(s.rname)}`
    }
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return `${a.type} ${fq(String(d))}`
    case 'TXT':
      return `TXT ${(Array.isArray(d) ? d : [d]).map((x) => String(x)).join('')}`
    default:
      return `${a.type} ${String(d)}`
  }
}

export function decodeReply(buf: Buffer): Reply {
  const p = dnsPacket.decode(buf)
  const flags = p.flags ?? 0
  const r = (a: dnsPacket.Answer): string => (a.type === 'OPT' ? '' : `${renderRR(a)}`)
  return {
    rcode: RCODES[flags & 0xf] ?? `RCODE${flags & 0xf}`,
    aa: p.flag_aa,
    tc: p.flag_tc,
    answers: (p.answers ?? []).map(r).filter((x) => x !== ''),
    authority: (p.authorities ?? []).map(r).filter((x) => x !== ''),
    additional: (p.additionals ?? []).map(r).filter((x) => x !== ''),
    packet: p,
  }
}

export function encodeQuery(name: string, type: dnsPacket.RecordType, id: number): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] })
}

/** A UDP DNS client on one socket; many queries may be in flight (matched by id). */
export class UdpDns {
  private readonly sock: dgram.Socket
  private readonly pending = new Map<number, (b: Buffer | null) => void>()
  private nextId = 1
  private closed = false
  private constructor(
    readonly port: number,
    readonly host: string,
  ) {
    this.sock = dgram.createSocket('udp4')
    this.sock.on('message', (m: Buffer) => {
      if (m.length < 2) return
      const cb = this.pending.get(m.readUInt16BE(0))
      if (cb !== undefined) cb(m)
    })
    this.sock.on('error', () => {})
  }

  static async open(port: number, host = '127.0.0.1'): Promise<UdpDns> {
    const c = new UdpDns(port, host)
    await new Promise<void>((r) => c.sock.bind(0, '127.0.0.1', () => r()))
    return c
  }

  /** Sends one query; resolves to the reply or null after timeoutMs. */
  query(name: string, type: dnsPacket.RecordType, timeoutMs = 1000): Promise<Reply | null> {
    if (this.closed) return Promise.resolve(null)
    let id = this.nextId
    for (let i = 0; i < 65536 && this.pending.has(id); i++) id = (id + 1) & 0xffff
    this.nextId = (id + 1) & 0xffff
    if (this.pending.has(id)) return Promise.resolve(null) // 65536 in flight: give up on this one
    return new Promise((resolve) => {
      const t = setTimeout(() => done(null), timeoutMs)
      const done = (b: Buffer | null): void => {
        clearTimeout(t)
        this.pending.delete(id)
        if (b === null) return resolve(null)
        try {
          resolve(decodeReply(b))
        } catch {
          resolve(null)
        }
      }
      this.pending.set(id, done)
      this.sock.send(encodeQuery(name, type, id), this.port, this.host, (err) => {
        if (err) done(null)
      })
    })
  }

  /** Sends raw bytes (id taken from the message); resolves to the raw reply or null. */
  raw(msg: Buffer, timeoutMs = 1000): Promise<Buffer | null> {
    const id = msg.readUInt16BE(0)
    return new Promise((resolve) => {
      const t = setTimeout(() => done(null), timeoutMs)
      const done = (b: Buffer | null): void => {
        clearTimeout(t)
        this.pending.delete(id)
        resolve(b)
      }
      this.pending.set(id, done)
      this.sock.send(msg, this.port, this.host)
    })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const cb of [...this.pending.values()]) cb(null)
    this.sock.close()
  }
}

/** One query over TCP (2-byte length prefix); resolves to the first reply message or null. */
export function tcpExchange(port: number, msg: Buffer, timeoutMs = 2000, host = '127.0.0.1'): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, host)
    let buf = Buffer.alloc(0)
    let settled = false
    const finish = (b: Buffer | null): void => {
      if (settled) return
      settled = true
      clearTimeout(t)
      s.destroy()
      resolve(b)
    }
    const t = setTimeout(() => finish(null), timeoutMs)
    s.on('connect', () => {
      const len = Buffer.alloc(2)
      len.writeUInt16BE(msg.length)
      s.write(Buffer.concat([len, msg]))
    })
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)))
    })
    s.on('error', () => finish(null))
    s.on('close', () => finish(null))
  })
}

// ---- Corefiles ----

export interface KubeBlockOptions {
  /** Lines inside the kubernetes block besides `endpoint` (default: the stock ones). */
  lines?: string[]
  zones?: string
}

/** The stock Kubernetes options (pods insecure, fallthrough for the reverse zones, ttl 30). */
export const STOCK_KUBE_LINES = ['pods insecure', 'fallthrough in-addr.arpa ip6.arpa', 'ttl 30']

/** `kubernetes cluster.local in-addr.arpa ip6.arpa { endpoint URL ... }` */
export function kubeDirective(url: string, o: KubeBlockOptions = {}): string {
  const lines = [`endpoint ${url}`, ...(o.lines ?? STOCK_KUBE_LINES)]
  return `  kubernetes ${o.zones ?? 'cluster.local in-addr.arpa ip6.arpa'} {\n${lines.map((l) => `    ${l}\n`).join('')}  }\n`
}

/** A `.:PORT` server block bound to 127.0.0.1 with the kubernetes directive and `extra` lines. */
export function kubeCorefile(url: string, o: KubeBlockOptions & { port?: number; extra?: string } = {}): string {
  return `.:${o.port ?? 0} {\n  bind 127.0.0.1\n${kubeDirective(url, o)}${o.extra ?? ''}}\n`
}

// ---- dig AXFR ----

export interface AxfrResult {
  records: DigRecord[]
  /** From dig's "XFR size: N records (messages M, bytes B)"; -1 if absent. */
  messages: number
  size: number
  failed: boolean
  raw: string
}

export function digAxfr(port: number, zone: string, extra: string[] = [], qtype = 'AXFR'): Promise<AxfrResult> {
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=5', ...extra, zone, qtype], { timeout: 20_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && !stdout) return reject(new Error(`dig ${zone} ${qtype} failed: ${err.message} ${stderr}`))
      const records: DigRecord[] = []
      for (const line of stdout.split('\n')) {
        const l = line.trim()
        if (l === '' || l.startsWith(';')) continue
        const parts = l.split(/\s+/)
        if (parts.length < 5) continue
        const [name, ttl, klass, type, ...rest] = parts
        records.push({ name: name!, ttl: Number(ttl), class: klass!, type: type!, data: rest.join(' ') })
      }
      const m = /XFR size: (\d+) records \(messages (\d+)/.exec(stdout)
      resolve({
        records,
        size: m ? Number(m[1]) : -1,
        messages: m ? Number(m[2]) : -1,
        failed: /Transfer failed/.test(stdout),
        raw: stdout,
      })
    })
  })
}

// ---- polling ----

export type Want =
  | { rcode: 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' }
  | { rcode: 'NOERROR'; answers: string[] } // sorted "TYPE data" list; [] = NODATA

export function matchesWant(r: Reply | null, w: Want): boolean {
  if (r === null || r.rcode !== w.rcode) return false
  if (w.rcode !== 'NOERROR') return true
  const got = [...r.answers].sort()
  const want = [...w.answers].sort()
  return got.length === want.length && got.every((x, i) => x === want[i])
}

export interface PollResult {
  ok: boolean
  /** Epoch ms when the matching reply arrived (NaN if never). */
  atMs: number
  polls: number
  last: Reply | null
}

/**
 * Queries name/type back to back (the next query leaves as soon as the previous reply is in —
 * typically 0.1–0.3 ms on loopback —, or `replyTimeoutMs` after it was sent if it is lost) until
 * the reply matches `want`, at most `timeoutMs`.
 */
export async function pollUntil(c: UdpDns, name: string, type: dnsPacket.RecordType, want: Want, timeoutMs = 1000, replyTimeoutMs = 250): Promise<PollResult> {
  const deadline = nowMs() + timeoutMs
  let polls = 0
  let last: Reply | null = null
  while (nowMs() < deadline) {
    polls++
    const r = await c.query(name, type, replyTimeoutMs)
    const at = nowMs()
    if (r !== null) last = r
    if (matchesWant(r, want)) return { ok: true, atMs: at, polls, last }
    if (r !== null && polls % 64 === 0) await new Promise((res) => setImmediate(res)) // let timers run
  }
  return { ok: false, atMs: NaN, polls, last }
}

// ---- query load ----

export interface LoadQuery {
  name: string
  type: dnsPacket.RecordType
  want: Want
}

export interface LoadStats {
  sent: number
  ok: number
  /** No reply within the timeout. */
  timeouts: number
  servfail: number
  /** A reply that is neither SERVFAIL nor what `want` says. */
  wrong: number
  samples: string[]
}

export class QueryLoad {
  readonly stats: LoadStats = { sent: 0, ok: 0, timeouts: 0, servfail: 0, wrong: 0, samples: [] }
  private timer: NodeJS.Timeout | null = null
  private readonly inflight = new Set<Promise<void>>()
  private i = 0

  constructor(
    private readonly c: UdpDns,
    private readonly queries: readonly LoadQuery[],
    private readonly qps: number,
    private readonly timeoutMs = 2000,
  ) {}

  /** Starts sending qps queries per second (paced every 10 ms); stop() ends it. */
  start(): void {
    const t0 = nowMs()
    this.timer = setInterval(() => {
      const due = Math.floor(((nowMs() - t0) / 1000) * this.qps)
      // never more than 1 s of backlog at once
      for (let k = 0; this.stats.sent < due && k < this.qps; k++) this.one()
    }, 10)
  }

  private one(): void {
    const q = this.queries[this.i++ % this.queries.length]!
    this.stats.sent++
    const p = this.c.query(q.name, q.type, this.timeoutMs).then((r) => {
      const s = this.stats
      if (r === null) {
        s.timeouts++
        if (s.samples.length < 10) s.samples.push(`${nowMs().toFixed(0)} ${q.name} ${q.type}: no reply within ${this.timeoutMs} ms`)
      } else if (matchesWant(r, q.want)) s.ok++
      else {
        if (r.rcode === 'SERVFAIL') s.servfail++
        else s.wrong++
        if (s.samples.length < 10) s.samples.push(`${nowMs().toFixed(0)} ${q.name} ${q.type}: ${r.rcode} ${r.answers.join(', ')}`)
      }
    })
    this.inflight.add(p)
    void p.finally(() => this.inflight.delete(p))
  }

  /** Stops sending and waits for the replies still outstanding. */
  async stop(): Promise<LoadStats> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await Promise.all([...this.inflight])
    return this.stats
  }

  get failed(): number {
    return this.stats.timeouts + this.stats.servfail + this.stats.wrong
  }
}

/** Stable §15 names with their answers (not touched by the outage changes). */
export const SPEC_LOAD: readonly LoadQuery[] = [
  { name: 'kubernetes.default.svc.cluster.local', type: 'A', want: { rcode: 'NOERROR', answers: ['A 10.96.0.1'] } },
  { name: 'web.prod.svc.cluster.local', type: 'AAAA', want: { rcode: 'NOERROR', answers: ['AAAA fd00:96::20'] } },
  { name: 'db-0.db.prod.svc.cluster.local', type: 'A', want: { rcode: 'NOERROR', answers: ['A 10.244.1.5'] } },
  { name: '_https._tcp.kubernetes.default.svc.cluster.local', type: 'SRV', want: { rcode: 'NOERROR', answers: ['SRV 0 100 443 kubernetes.default.svc.cluster.local'] } },
  { name: '1.0.96.10.in-addr.arpa', type: 'PTR', want: { rcode: 'NOERROR', answers: ['PTR kubernetes.default.svc.cluster.local'] } },
  { name: 'ext.prod.svc.cluster.local', type: 'CNAME', want: { rcode: 'NOERROR', answers: ['CNAME api.example.com'] } },
  { name: 'nosuch.prod.svc.cluster.local', type: 'A', want: { rcode: 'NXDOMAIN' } },
  { name: 'workers.prod.svc.cluster.local', type: 'A', want: { rcode: 'NOERROR', answers: ['A 10.244.1.8', 'A 10.244.2.9'] } },
]

// ---- propagation ----

export interface PropagationResult {
  /** Latency per change: DNS answer changed (epoch ms) − watch event written (emittedAtMs). */
  latencies: number[]
  creates: number[]
  deletes: number[]
  /** Changes not visible within timeoutMs. */
  missed: string[]
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

/** IPv4 10.200.x.y for change i. */
export function propIP(i: number): string {
  return `10.200.${(i >> 8) & 255}.${i & 255}`
}

/**
 * `n` changes on the API server: n/2 Service creates (`prop-i.NS`, ClusterIP propIP(i)), then the
 * n/2 deletes; after each change polls until the name answers (A propIP(i)) / is NXDOMAIN. The
 * namespace `ns` must exist. Returns the per-change latencies in ms.
 */
export async function measurePropagation(api: FakeApiServer, c: UdpDns, o: { n: number; ns: string; zone?: string; timeoutMs?: number; prefix?: string; onProgress?: (done: number) => void }): Promise<PropagationResult> {
  const zone = o.zone ?? 'cluster.local'
  const prefix = o.prefix ?? 'prop'
  const half = Math.floor(o.n / 2)
  const res: PropagationResult = { latencies: [], creates: [], deletes: [], missed: [] }
  const emitted = new Map<string, number>()
  const off = api.onEvent((type, obj, _rv, at) => {
    if (obj.kind === 'Service' && obj.metadata.namespace === o.ns) emitted.set(`${type} ${obj.metadata.name}`, at)
  })
  try {
    for (let k = 0; k < 2 * half; k++) {
      const create = k < half
      const i = create ? k : k - half
      const name = `${prefix}-${i}`
      const qname = `${name}.${o.ns}.svc.${zone}`
      if (create) api.create(service({ ns: o.ns, name, clusterIPs: [propIP(i)], ports: [{ name: 'http', port: 80 }] }))
      else api.remove('Service', o.ns, name)
      const key = `${create ? 'ADDED' : 'DELETED'} ${name}`
      const at = emitted.get(key)
      emitted.delete(key)
      const want: Want = create ? { rcode: 'NOERROR', answers: [`A ${propIP(i)}`] } : { rcode: 'NXDOMAIN' }
      const r = await pollUntil(c, qname, 'A', want, o.timeoutMs ?? 1000)
      if (!r.ok || at === undefined) {
        res.missed.push(`${key}: ${at === undefined ? 'no watch event seen' : `not answered within ${o.timeoutMs ?? 1000} ms (last: ${r.last?.rcode ?? 'no reply'} ${r.last?.answers.join(', ') ?? ''})`}`)
        continue
      }
      const ms = r.atMs - at
      res.latencies.push(ms)
      ;(create ? res.creates : res.deletes).push(ms)
      o.onProgress?.(k + 1)
    }
  } finally {
    off()
  }
  return res
}

export function summarize(xs: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b)
  return { n: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s.length ? s[s.length - 1]! : NaN }
}

// ---- API outage ----

export interface OutageResult {
  load: LoadStats
  /** ms from the API server listening again until every change made during the outage answered (NaN: not within catchUpTimeoutMs). */
  catchUpMs: number
  /** Per change: ms from start() until it answered. */
  perChange: Record<string, number>
  outageMs: number
}

/** The changes applied while the API is down (round `k` uses its own names), and what DNS must answer afterwards. */
function outageChanges(api: FakeApiServer, k: number): Array<{ what: string; name: string; type: dnsPacket.RecordType; want: Want }> {
  const ip = (last: number): string => `10.99.${k & 255}.${last}`
  // created during the outage
  api.create(service({ ns: 'prod', name: `outage-new-${k}`, clusterIPs: [ip(1)], ports: [{ name: 'http', port: 80 }] }))
  // deleted during the outage
  api.remove('Service', 'prod', `outage-gone-${k}`)
  // ClusterIP changed during the outage (the API forbids that, but a delete+create with the same name is the same to DNS)
  api.update(service({ ns: 'prod', name: `outage-moved-${k}`, clusterIPs: [ip(4)], ports: [{ name: 'http', port: 80 }] }))
  // an endpoint became ready during the outage
  api.update(endpointSlice({ ns: 'prod', name: `outage-hl-${k}-abcde`, service: `outage-hl-${k}`, ports: [{ name: 'tcp', port: 5000 }], endpoints: [{ addresses: [ip(9)], hostname: 'm-0', ready: true }] }))
  return [
    { what: 'created', name: `outage-new-${k}.prod.svc.cluster.local`, type: 'A', want: { rcode: 'NOERROR', answers: [`A ${ip(1)}`] } },
    { what: 'deleted', name: `outage-gone-${k}.prod.svc.cluster.local`, type: 'A', want: { rcode: 'NXDOMAIN' } },
    { what: 'updated', name: `outage-moved-${k}.prod.svc.cluster.local`, type: 'A', want: { rcode: 'NOERROR', answers: [`A ${ip(4)}`] } },
    { what: 'endpoint ready', name: `m-0.outage-hl-${k}.prod.svc.cluster.local`, type: 'A', want: { rcode: 'NOERROR', answers: [`A ${ip(9)}`] } },
  ]
}

/**
 * Objects the outage changes of round `k` act on (namespace `prod` must exist); create them and
 * wait until the returned queries answer before runOutage.
 */
export function outageSetup(api: FakeApiServer, k: number): LoadQuery[] {
  const ip = (last: number): string => `10.99.${k & 255}.${last}`
  api.create(service({ ns: 'prod', name: `outage-gone-${k}`, clusterIPs: [ip(2)], ports: [{ name: 'http', port: 80 }] }))
  api.create(service({ ns: 'prod', name: `outage-moved-${k}`, clusterIPs: [ip(3)], ports: [{ name: 'http', port: 80 }] }))
  api.create(service({ ns: 'prod', name: `outage-hl-${k}`, headless: true, ports: [{ name: 'tcp', port: 5000 }] }))
  api.create(endpointSlice({ ns: 'prod', name: `outage-hl-${k}-abcde`, service: `outage-hl-${k}`, ports: [{ name: 'tcp', port: 5000 }], endpoints: [{ addresses: [ip(9)], hostname: 'm-0', ready: false }] }))
  return [
    { name: `outage-gone-${k}.prod.svc.cluster.local`, type: 'A', want: { rcode: 'NOERROR', answers: [`A ${ip(2)}`] } },
    { name: `outage-moved-${k}.prod.svc.cluster.local`, type: 'A', want: { rcode: 'NOERROR', answers: [`A ${ip(3)}`] } },
    { name: `m-0.outage-hl-${k}.prod.svc.cluster.local`, type: 'A', want: { rcode: 'NXDOMAIN' } },
  ]
}

/**
 * With `load` running: stops the API server for outageMs, makes the changes of round `round`
 * meanwhile (half-way through; with `compact` the history is compacted after them), starts it again and polls until every change answers (at most catchUpTimeoutMs), then
 * keeps the load up for `tailMs`. Returns the load's stats and the catch-up times.
 */
export async function runOutage(
  api: FakeApiServer,
  c: UdpDns,
  load: QueryLoad,
  o: { round: number; outageMs: number; catchUpTimeoutMs?: number; tailMs?: number; compact?: boolean; log?: (s: string) => void },
): Promise<OutageResult> {
  const log = o.log ?? (() => {})
  await api.stop()
  const down = nowMs()
  log(`API server stopped; outage of ${o.outageMs} ms`)
  await sleep(o.outageMs / 2)
  const changes = outageChanges(api, o.round)
  if (o.compact === true) api.compact() // the API's history no longer reaches back: 410 on return, relist
  await sleep(Math.max(0, o.outageMs - (nowMs() - down)))
  await api.start()
  const up = nowMs()
  log(`API server listening again after ${(up - down).toFixed(0)} ms`)
  const perChange: Record<string, number> = {}
  const timeout = o.catchUpTimeoutMs ?? 5000
  const polls = changes.map(async (ch) => {
    const r = await pollUntil(c, ch.name, ch.type, ch.want, timeout)
    perChange[`${ch.what} ${ch.name}`] = r.ok ? r.atMs - up : NaN
    return r.ok ? r.atMs : NaN
  })
  const ats = await Promise.all(polls)
  const catchUpMs = ats.some((x) => Number.isNaN(x)) ? NaN : Math.max(...ats) - up
  await sleep(o.tailMs ?? 500)
  return { load: load.stats, catchUpMs, perChange, outageMs: up - down }
}
