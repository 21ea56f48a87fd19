// Pieces shared by the kube benchmark scripts (bench/kube-propagation.mjs, bench/kube-outage.mjs,
// bench/servers/fake-apiserver.mjs): the real clusterdns CLI as a child process (optionally pinned
// with taskset), started from a Corefile and waited for until its Kubernetes data is synced and it
// answers; command-line flags; and the query files drawn from a generated cluster.

import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { KubeObject } from '../fake-apiserver/store.js'
import { repoRoot } from './proc.js'
import { nowMs, sleep, UdpDns } from './kube.js'

export interface ClusterdnsChild {
  child: ChildProcess
  port: number
  out(): string
  /** The plugin's "Kubernetes API synced in N ms" figure. */
  syncedMs: number
  /** From spawn to the first answer of readyName (ms). */
  readyMs: number
  stop(): Promise<void>
}

/**
 * Starts `cmd -conf DIR/Corefile` (cmd run from the repo root, e.g. "node bin/clusterdns"; pinned
 * to `cpu` with taskset if given), waits (≤ timeoutMs) for the sync log line and until `readyName`
 * A answers NOERROR on 127.0.0.1:port.
 */
export async function spawnClusterdns(o: { cmd: string; corefile: string; dir: string; port: number; cpu?: string; readyName: string; timeoutMs?: number; log?: (s: string) => void }): Promise<ClusterdnsChild> {
  const file = join(o.dir, 'Corefile')
  writeFileSync(file, o.corefile)
  const words = o.cmd.split(/\s+/).filter((w) => w !== '')
  const argv = o.cpu !== undefined && o.cpu !== '' ? ['taskset', '-c', o.cpu, ...words, '-conf', file] : [...words, '-conf', file]
  const t0 = nowMs()
  const child = spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  child.stdout!.on('data', (d) => (text += String(d)))
  child.stderr!.on('data', (d) => (text += String(d)))
  const exited = new Promise<void>((r) => child.on('exit', () => r()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill('SIGTERM')
    const t = setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(t)
  }
  const deadline = t0 + (o.timeoutMs ?? 300_000)
  let syncedMs = NaN
  try {
    for (;;) {
      const m = /Kubernetes API synced in (\d+)ms/.exec(text)
      if (m) {
        syncedMs = Number(m[1])
        break
      }
      if (/starting server with unsynced Kubernetes API/.test(text)) throw new Error('clusterdns started unsynced')
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('clusterdns exited')
      if (nowMs() > deadline) throw new Error('timed out waiting for the sync')
      await sleep(20)
    }
    const c = await UdpDns.open(o.port)
    try {
      let ok = false
      while (!ok && nowMs() < deadline) {
        const q = await c.query(o.readyName, 'A', 500)
        ok = q !== null && q.rcode === 'NOERROR' && q.answers.length > 0
        if (!ok) await sleep(20)
      }
      if (!ok) throw new Error(`no NOERROR answer for ${o.readyName}`)
    } finally {
      c.close()
    }
  } catch (e) {
    await stop()
    throw new Error(`${(e as Error).message}; output:\n${text.slice(-3000)}`)
  }
  const readyMs = nowMs() - t0
  o.log?.(`clusterdns pid ${child.pid} on 127.0.0.1:${o.port}: synced in ${syncedMs} ms, answering ${readyMs.toFixed(0)} ms after spawn`)
  return { child, port: o.port, out: () => text, syncedMs, readyMs, stop }
}

/** --key value / --flag arguments. */
export function parseFlags(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) continue
    const k = a.slice(2)
    const v = argv[i + 1]
    if (v === undefined || v.startsWith('--')) out[k] = 'true'
    else {
      out[k] = v
      i++
    }
  }
  return out
}

// ---- query files from a generated cluster ----

interface SvcInfo {
  ns: string
  name: string
  headless: boolean
  external: boolean
  clusterIP: string
  ports: Array<{ name: string; protocol: string }>
  /** ready endpoints (ip, hostname) from the service's slices */
  ready: Array<{ ip: string; host: string }>
}

/** Collects what the query files need while the objects stream past (use as a generator filter). */
export class ClusterIndex {
  readonly services = new Map<string, SvcInfo>();
  *tap(objs: Iterable<KubeObject>): Generator<KubeObject> {
    for (const o of objs) {
      this.add(o)
      yield o
    }
  }
  add(o: KubeObject): void {
    const ns = o.metadata.namespace ?? ''
    if (o.kind === 'Service') {
      const spec = o['spec'] as { type?: string; clusterIP?: string; ports?: Array<{ name?: string; protocol?: string }> }
      this.services.set(`${ns}/${o.metadata.name}`, {
        ns,
        name: o.metadata.name!,
        headless: spec.clusterIP === 'None',
        external: spec.type === 'ExternalName',
        clusterIP: spec.clusterIP ?? '',
        ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP' })),
        ready: [],
      })
    } else if (o.kind === 'EndpointSlice') {
      const svc = o.metadata.labels?.['kubernetes.io/service-name']
      const s = svc === undefined ? undefined : this.services.get(`${ns}/${svc}`)
      if (s === undefined) return
      for (const e of (o['endpoints'] as Array<{ addresses: string[]; hostname?: string; conditions?: { ready?: boolean } }>) ?? []) {
        if (e.conditions?.ready === false) continue
        for (const ip of e.addresses) s.ready.push({ ip, host: e.hostname ?? ip.replace(/\./g, '-') })
      }
    }
  }
}

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function reverse4(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`
}

/**
 * `n` distinct cluster queries ("name TYPE" lines, shuffled): 40 % ClusterIP service A, 15 %
 * headless service A (services with 1..10 ready endpoints, so answers fit one UDP message), 10 %
 * endpoint-name A of headless services, 15 % `_port._proto` SRV of ClusterIP services, 10 % PTR
 * of ClusterIPs, 10 % PTR of ready endpoint addresses. Returns the lines and one name that must
 * answer A (readiness probe).
 */
export function clusterQueries(
  ix: ClusterIndex,
  n: number,
  zone = 'cluster.local',
  seed = 7,
): { lines: string[]; readyName: string; mix: Record<string, number>; answers: Map<string, string[]> } {
  const r = rng(seed)
  const svcs = [...ix.services.values()]
  const cip = svcs.filter((s) => !s.headless && !s.external && s.clusterIP !== '')
  const hl = svcs.filter((s) => s.headless && s.ready.length >= 1 && s.ready.length <= 10)
  const hlAny = svcs.filter((s) => s.headless && s.ready.length >= 1)
  const withEp = svcs.filter((s) => !s.external && s.ready.length > 0)
  const pick = <T>(arr: readonly T[]): T => arr[Math.floor(r() * arr.length)]!
  const seen = new Set<string>()
  const mix: Record<string, number> = {}
  // the addresses each A name answers with (kubernetes-dns.md §4): for the hosts comparison
  const answers = new Map<string, string[]>()
  const a = (name: string, ips: string[]): string => {
    if (!answers.has(name)) answers.set(name, [...new Set(ips)])
    return `${name} A`
  }
  const want: Array<[string, number, () => string | null]> = [
    ['service A', 0.4, () => { const s = pick(cip); return a(`${s.name}.${s.ns}.svc.${zone}`, [s.clusterIP]) }],
    ['headless A', 0.15, () => { const s = pick(hl); return a(`${s.name}.${s.ns}.svc.${zone}`, s.ready.map((e) => e.ip)) }],
    ['endpoint A', 0.1, () => {
      const s = pick(hlAny)
      const e = pick(s.ready)
      return a(`${e.host}.${s.name}.${s.ns}.svc.${zone}`, s.ready.filter((x) => x.host === e.host).map((x) => x.ip))
    }],
    ['SRV', 0.15, () => { const s = pick(cip); const p = pick(s.ports); return p.name === '' ? null : `_${p.name}._${p.protocol.toLowerCase()}.${s.name}.${s.ns}.svc.${zone} SRV` }],
    ['PTR service', 0.1, () => `${reverse4(pick(cip).clusterIP)} PTR`],
    ['PTR endpoint', 0.1, () => `${reverse4(pick(pick(withEp).ready).ip)} PTR`],
  ]
  const lines: string[] = []
  for (const [what, share, gen] of want) {
    const quota = Math.round(n * share)
    let got = 0
    for (let tries = 0; got < quota && tries < quota * 50; tries++) {
      const l = gen()
      if (l === null || seen.has(l)) continue
      seen.add(l)
      lines.push(l)
      got++
    }
    mix[what] = got
  }
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[lines[i], lines[j]] = [lines[j]!, lines[i]!]
  }
  const first = cip[0]!
  return { lines, readyName: `${first.name}.${first.ns}.svc.${zone}`, mix, answers }
}

/**
 * The like-for-like comparison with `hosts`: a hosts file holding the A names of the cluster
 * queries (ClusterIP, headless and endpoint names) with the very addresses the kubernetes plugin
 * answers them with, and the query file asking each of them once (A), in the cluster file's order.
 * The same query file goes to both servers: same names, same reply sizes.
 */
export function hostsData(q: { lines: readonly string[]; answers: ReadonlyMap<string, readonly string[]> }): { hosts: string; queries: string; readyName: string } {
  const h: string[] = [`# the A names of the kube bench's cluster queries (hosts comparison)`]
  const names: string[] = []
  for (const l of q.lines) {
    const [name, type] = l.split(' ')
    if (type !== 'A' || name === undefined) continue
    const ips = q.answers.get(name)
    if (ips === undefined || ips.length === 0) continue
    names.push(name)
    for (const ip of ips) h.push(`${ip} ${name}`)
  }
  return { hosts: h.join('\n') + '\n', queries: names.map((n) => `${n} A`).join('\n') + '\n', readyName: names[0] ?? '' }
}
