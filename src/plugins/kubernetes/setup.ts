// kubernetes [ZONES...] { endpoint URL; tls CERT KEY CACERT; kubeconfig FILE [CONTEXT];
//   apiserver_qps QPS; apiserver_burst N; apiserver_max_inflight N; namespaces NS...;
//   namespace_labels SEL; labels SEL; pods disabled|insecure|verified; endpoint_pod_names; ttl N;
//   noendpoints; fallthrough [ZONES...]; ignore empty_service; multicluster [ZONES...]; zonal;
//   startup_timeout D; snapshot FILE }
// plugins.md §6 (CoreDNS plugin/kubernetes/setup.go ParseStanza); answers per kubernetes-dns.md.
// Setup only parses and validates: the Kubernetes source is acquired in onStartup.

import { networkInterfaces } from 'node:os'
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { isReverseZone, normalizeZones } from '../../corefile/address.js'
import { goParseDuration, oncePerBlock } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import type { Directive } from '../../corefile/parser.js'
import type { KubeSource, KubeSourceOptions, KubeView } from '../../kube/model.js'
import { parseSelector } from '../../kube/selector.js'
import { acquireSource } from '../../kube/source.js'
import { canonicalIP, parseIP } from '../../lib/ip.js'
import { Fall, NO_FALL } from '../../pluginkit/fall.js'
import type { PluginDef, SetupContext } from '../../pluginkit/types.js'
import { Backend } from './backend.js'
import { DEFAULT_STARTUP_TIMEOUT_MS, DEFAULT_TTL, type KubeConfig, type PodMode } from './config.js'
import { Kubernetes } from './handler.js'
import { KubeAutoPather } from './autopath.js'
import { KubeTransferer } from './transfer.js'
import { EMPTY_VIEW } from './empty-view.js'
import { settleHeap } from '../../lib/heap.js'

const NAME = 'kubernetes'
export const PROPERTIES = [
  'apiserver_burst',
  'apiserver_max_inflight',
  'apiserver_qps',
  'endpoint',
  'endpoint_pod_names',
  'fallthrough',
  'ignore',
  'kubeconfig',
  'labels',
  'multicluster',
  'namespace_labels',
  'namespaces',
  'noendpoints',
  'pods',
  'snapshot',
  'startup_timeout',
  'tls',
  'ttl',
  'zonal',
]

/** Options CoreDNS removed, and what replaced them (kube-dns-migration.md §4). */
const REMOVED: Readonly<Record<string, string>> = {
  upstream:
    'removed in CoreDNS 1.7.0: ExternalName targets outside the zone are always resolved through this server (delete the line)',
  resyncperiod: 'removed in CoreDNS 1.7.0: the watches keep the caches current (delete the line)',
  transfer: "removed in CoreDNS 1.8.0: use the transfer plugin, e.g. 'transfer cluster.local { to * }'",
}

function argErr(tok: Token): string {
  return `Wrong argument count or unexpected line ending after '${tok.text}'`
}

/** ArgErr at the last token of the line (CoreDNS c.ArgErr). */
function argError(sub: Directive): never {
  const last = sub.args[sub.args.length - 1] ?? sub.token
  throw pluginError(last, NAME, argErr(last))
}

function filePath(text: string, base: string): string {
  return isAbsolute(text) ? text : resolve(base, text)
}

/** Go strconv.Atoi wording. */
function atoi(tok: Token): number {
  if (!/^[+-]?\d+$/.test(tok.text) || !Number.isSafeInteger(Number(tok.text))) {
    throw pluginError(tok, NAME, `strconv.Atoi: parsing ${JSON.stringify(tok.text)}: invalid syntax`)
  }
  return Number(tok.text)
}

/** Parses the directive into a config (no I/O). Exported for tests. */
export function parseKubernetes(ctx: SetupContext, d: Directive): KubeConfig {
  const zones = normalizeZones(d.args, [...ctx.zones], NAME)
  const primary = zones.find((z) => !isReverseZone(z))
  if (primary === undefined) throw pluginError(d.args[0] ?? d.token, NAME, 'non-reverse zone name must be used')
  let endpoint: string | null = null
  let tls: KubeSourceOptions['tls'] = null
  let kubeconfig: KubeSourceOptions['kubeconfig'] = null
  let snapshot: string | null = null
  let namespaces: Set<string> | null = null
  let namespaceLabels: string | null = null
  let labels: string | null = null
  let qps: number | null = null
  let burst: number | null = null
  let maxInflight: number | null = null
  let podMode: PodMode = 'disabled'
  let endpointPodNames = false
  let ttl = DEFAULT_TTL
  let noEndpoints = false
  let ignoreEmptyService = false
  let fall: Fall = NO_FALL
  let multicluster: string[] = []
  let zonal = false
  let zonalTok: Token | null = null
  let startupTimeoutMs = DEFAULT_STARTUP_TIMEOUT_MS
  let lastTok: Token = d.token
  for (const sub of d.block ?? []) {
    lastTok = sub.token
    const args = sub.args
    switch (sub.name) {
      case 'endpoint_pod_names':
        if (args.length > 0) argError(sub)
        endpointPodNames = true
        break
      case 'pods': {
        if (args.length !== 1) argError(sub)
        const v = args[0]!.text
        if (v !== 'disabled' && v !== 'insecure' && v !== 'verified') {
          throw pluginError(args[0]!, NAME, `wrong value for pods: ${v},  must be one of: disabled, verified, insecure`)
        }
        podMode = v
        break
      }
      case 'namespaces':
        if (args.length === 0) argError(sub)
        namespaces ??= new Set()
        for (const a of args) namespaces.add(a.text)
        break
      case 'endpoint':
        if (args.length === 0) argError(sub)
        endpoint = args[0]!.text
        if (args.length > 1) {
          ctx.log.warn(`Multiple endpoints have been deprecated, only the first specified endpoint '${endpoint}' is used`)
        }
        break
      case 'tls':
        if (args.length !== 3) argError(sub)
        tls = { cert: filePath(args[0]!.text, process.cwd()), key: filePath(args[1]!.text, process.cwd()), ca: filePath(args[2]!.text, process.cwd()) }
        break
      case 'labels':
      case 'namespace_labels': {
        if (args.length === 0) argError(sub)
        const text = args.map((a) => a.text).join(' ')
        try {
          parseSelector(text)
        } catch (e) {
          const what = sub.name === 'labels' ? 'label selector' : 'namespace_label selector'
          throw pluginError(args[0]!, NAME, `unable to parse ${what} value: '${text}': ${(e as Error).message}`)
        }
        if (sub.name === 'labels') labels = text
        else namespaceLabels = text
        break
      }
      case 'fallthrough':
        fall = new Fall(normalizeZones(args, ['.'], NAME))
        break
      case 'ttl': {
        if (args.length === 0) argError(sub)
        const t = atoi(args[0]!)
        if (t < 0 || t > 3600) throw pluginError(args[0]!, NAME, `ttl must be in range [0, 3600]: ${t}`)
        ttl = t
        break
      }
      case 'noendpoints':
        if (args.length !== 0) argError(sub)
        noEndpoints = true
        break
      case 'ignore':
        // CoreDNS: `ignore` without a value is accepted and does nothing.
        if (args.length > 0) {
          if (args[0]!.text !== 'empty_service') {
            throw pluginError(args[0]!, NAME, `unable to parse ignore value: '${args[0]!.text}'`)
          }
          ignoreEmptyService = true
        }
        break
      case 'kubeconfig':
        if (args.length !== 1 && args.length !== 2) argError(sub)
        kubeconfig = { file: filePath(args[0]!.text, process.cwd()), context: args[1]?.text ?? null }
        break
      case 'multicluster':
        multicluster = normalizeZones(args, [...ctx.zones], NAME)
        for (let i = 0; i < multicluster.length; i++) {
          const z = multicluster[i]!
          if (!zones.includes(z)) {
            throw pluginError(args[i] ?? sub.token, NAME, `multicluster zone '${z}' must be one of the kubernetes zones`)
          }
        }
        break
      case 'zonal':
        if (args.length !== 0) argError(sub)
        zonal = true
        zonalTok = sub.token
        break
      case 'startup_timeout': {
        if (args.length !== 1) argError(sub)
        const ns = goParseDuration(args[0]!.text)
        if (typeof ns === 'string') throw pluginError(args[0]!, NAME, ns)
        startupTimeoutMs = Number(ns) / 1e6
        break
      }
      case 'apiserver_qps': {
        if (args.length !== 1) argError(sub)
        const t = args[0]!.text
        const v = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN
        if (!Number.isFinite(v)) throw pluginError(args[0]!, NAME, `strconv.ParseFloat: parsing ${JSON.stringify(t)}: invalid syntax`)
        if (v < 0) throw pluginError(args[0]!, NAME, `apiserver_qps must be >= 0: ${t}`)
        qps = v
        break
      }
      case 'apiserver_burst':
      case 'apiserver_max_inflight': {
        if (args.length !== 1) argError(sub)
        const v = atoi(args[0]!)
        if (v < 0) throw pluginError(args[0]!, NAME, `${sub.name} must be >= 0: ${v}`)
        if (sub.name === 'apiserver_burst') burst = v
        else maxInflight = v
        break
      }
      case 'snapshot':
        if (args.length !== 1) argError(sub)
        snapshot = filePath(args[0]!.text, ctx.block.root)
        break
      default: {
        const why = REMOVED[sub.name]
        if (why !== undefined) throw pluginError(sub.token, NAME, `unknown property '${sub.name}'; ${why}`)
        throw pluginError(sub.token, NAME, `unknown property '${sub.name}'; expected one of: ${PROPERTIES.join(', ')}`)
      }
    }
  }
  if (namespaces !== null && namespaceLabels !== null) {
    throw pluginError(lastTok, NAME, 'namespaces and namespace_labels cannot both be set')
  }
  if (zonal && noEndpoints && zonalTok !== null) {
    throw pluginError(zonalTok, NAME, 'zonal cannot be used with noendpoints')
  }
  return {
    zones,
    primaryZone: primary,
    namespaces,
    podMode,
    endpointPodNames,
    ttl,
    noEndpoints,
    ignoreEmptyService,
    fall,
    startupTimeoutMs,
    multicluster,
    zonal,
    source: {
      endpoint: kubeconfig === null ? endpoint : null,
      tls,
      kubeconfig,
      snapshot,
      namespaces: namespaces === null ? null : [...namespaces],
      namespaceLabels,
      labels,
      pods: podMode === 'verified',
      endpoints: !noEndpoints,
      targetNames: endpointPodNames,
      qps,
      burst,
      maxInflight,
    },
  }
}

/**
 * The host's own non-loopback addresses (CoreDNS boundIPs without `bind`); a block with `bind`
 * gets none (kubernetes-dns.md §8 QUIRK: CoreDNS parses bind addresses as CIDRs and drops them).
 */
export function localAddresses(hasBind: boolean): string[] {
  if (hasBind) return []
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const ip = canonicalIP(a.address.split('%')[0]!)
      if (ip === null) continue
      const b = parseIP(ip)!
      if (b.length === 4 ? b[0] === 127 : ip === '::1') continue
      out.push(ip)
    }
  }
  return out
}

/** Search domains of the server's own /etc/resolv.conf (for autopath), fully qualified. */
function resolvSearch(): string[] {
  try {
    const text = readFileSync('/etc/resolv.conf', 'utf8')
    let search: string[] = []
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/)
      if (f[0] === 'search' || f[0] === 'domain') search = f.slice(1).map((s) => (s.endsWith('.') ? s : s + '.'))
    }
    return search
  } catch {
    return []
  }
}

function addProvider(ctx: SetupContext, kind: string, p: unknown): void {
  const list = ctx.block.providers.get(kind)
  if (list === undefined) ctx.block.providers.set(kind, [p])
  else list.push(p)
}

/** Waits for the source to sync, logging like CoreDNS; resolves either way. */
export async function waitForSync(source: KubeSource, timeoutMs: number, log: SetupContext['log']): Promise<void> {
  const start = Date.now()
  const timer = setInterval(() => {
    log.info(`waiting for Kubernetes API before starting server (${source.progress()})`)
  }, 500)
  timer.unref()
  try {
    const ok = await source.waitSynced(timeoutMs > 0 ? timeoutMs : 0)
    if (ok) {
      log.info(`Kubernetes API synced in ${Date.now() - start}ms (${source.progress()})`)
      // Give back the initial list's garbage and grown young generation now (lib/heap.ts).
      setImmediate(() => void settleHeap())
    }
    else log.warn(`starting server with unsynced Kubernetes API (${source.progress()})`)
  } finally {
    clearInterval(timer)
  }
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    oncePerBlock(ds, NAME)
    const d = ds[0]!
    const cfg = parseKubernetes(ctx, d)
    if (cfg.multicluster.length > 0) ctx.log.warn('multicluster is not implemented; its zones are served as plain kubernetes zones')
    if (cfg.zonal) ctx.log.warn('zonal is not implemented; ignored')
    const backend = new Backend(cfg, localAddresses(ctx.block.hasBind), EMPTY_VIEW)
    let source: KubeSource | null = null
    ctx.instance.onStartup(async () => {
      source = acquireSource(cfg.source, ctx.log)
      backend.view = source.view as KubeView
      await waitForSync(source, cfg.startupTimeoutMs, ctx.log)
    })
    ctx.instance.onShutdown(async () => {
      const s = source
      source = null
      if (s !== null) await s.release()
    })
    ctx.instance.addReadiness({ name: NAME, ready: () => backend.view.synced })
    addProvider(ctx, 'transfer', new KubeTransferer(backend))
    addProvider(ctx, 'autopath', new KubeAutoPather(backend, resolvSearch()))
    return (next) => new Kubernetes(next, cfg, backend)
  },
}
