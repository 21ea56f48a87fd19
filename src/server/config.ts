// From a Corefile to server blocks with built plugin chains and the listeners they need
// (corefile.md §6-§8). Pure: opens no socket; the Server (instance.ts) does that.

import { parseCorefile, hashCorefile, type Directive, type ParsedCorefile } from '../corefile/parser.js'
import { parseServerKeys, type ServerKey } from '../corefile/address.js'
import { ConfigError, ErrCode } from '../corefile/errors.js'
import { Rcode } from '../dns/constants.js'
import type { Logger } from '../log/logger.js'
import type {
  BlockSettings,
  Handler,
  HttpRoute,
  InstanceServices,
  PluginDef,
  Readiness,
  Request,
  ResponseWriter,
  SetupContext,
  TlsSettings,
} from '../pluginkit/types.js'
import { listenerLabel } from './listeners.js'
import { PLUGINS } from '../plugins/index.js'

export interface BlockConfig {
  readonly keys: ServerKey[]
  readonly zones: string[]
  readonly settings: BlockSettings
  /** Handler plugins in chain (execution) order. */
  readonly plugins: string[]
  readonly chain: Handler | null
}

export interface ListenerSpec {
  readonly transport: 'dns' | 'tls'
  readonly host: string
  readonly port: number
  readonly label: string
  readonly zones: Map<string, BlockConfig>
  tls: TlsSettings | null
  allowOtherClasses: boolean
}

export interface LoadOptions {
  log: Logger
  /** Port for keys without one (-dns.port); default 53. */
  dnsPort?: number
  env?: Record<string, string | undefined>
  plugins?: readonly PluginDef[]
  /** Working directory for relative paths (default process.cwd()). */
  cwd?: string
}

export interface LoadedConfig {
  readonly file: string
  readonly hash: string
  readonly blocks: BlockConfig[]
  readonly listeners: ListenerSpec[]
  readonly services: Services
}

/** The process services a configuration registers; run by the Server when it goes live. */
export class Services implements InstanceServices {
  readonly startup: Array<() => void | Promise<void>> = []
  readonly shutdown: Array<() => void | Promise<void>> = []
  readonly processExit: Array<() => void | Promise<void>> = []
  readonly routes: HttpRoute[] = []
  readonly ready: Readiness[] = []
  lameduckMs = 0
  debug = false
  reloadRequester: ((reason: string) => void) | null = null
  onStartup(fn: () => void | Promise<void>): void {
    this.startup.push(fn)
  }
  onShutdown(fn: () => void | Promise<void>): void {
    this.shutdown.push(fn)
  }
  onProcessExit(fn: () => void | Promise<void>): void {
    this.processExit.push(fn)
  }
  addHttpRoute(route: HttpRoute): void {
    this.routes.push(route)
  }
  addReadiness(r: Readiness): void {
    this.ready.push(r)
  }
  readiness(): readonly Readiness[] {
    return this.ready
  }
  setLameduck(ms: number): void {
    this.lameduckMs = Math.max(this.lameduckMs, ms)
  }
  requestReload(reason: string): void {
    if (this.reloadRequester) this.reloadRequester(reason)
  }
}

/** The end of every chain: nothing answered (CoreDNS "no next plugin found"). */
class Terminal implements Handler {
  readonly name = 'terminal'
  readonly last: string
  constructor(last: string) {
    this.last = last
  }
  serve(req: Request, _w: ResponseWriter): number {
    req.error = new Error(`plugin/${this.last}: no next plugin found`)
    return Rcode.ServFail
  }
}

export function knownDirectives(plugins: readonly PluginDef[] = PLUGINS): Set<string> {
  return new Set(plugins.map((p) => p.name))
}

/** Parses, validates and sets up a whole Corefile. Throws ConfigError on the first fatal error. */
export function loadConfig(text: string, file: string, opts: LoadOptions): LoadedConfig {
  const plugins = opts.plugins ?? PLUGINS
  const env = opts.env ?? process.env
  let parsed: ParsedCorefile
  try {
    parsed = parseCorefile(text, file, {
      env,
      knownDirectives: knownDirectives(plugins),
      warn: (m) => opts.log.warn(m),
    })
  } catch (e) {
    // Say what would have been accepted.
    if (e instanceof ConfigError && e.code === ErrCode.UnknownDirective) {
      const known = plugins.map((p) => p.name).join(', ')
      throw new ConfigError(`${e.detail}; known directives: ${known}`, e, e.code, e.kind, e.plugin)
    }
    throw e
  }
  const services = new Services()
  const blocks: BlockConfig[] = []
  const dnsPort = opts.dnsPort ?? 53
  for (const b of parsed.blocks) {
    const keys = parseServerKeys(b.keys, dnsPort, (m) => opts.log.warn(m))
    if (keys.length === 0) continue
    for (const k of keys) {
      if (k.scheme !== 'dns' && k.scheme !== 'tls') {
        throw new ConfigError(`transport ${k.scheme} is not supported`, k.token, 'ERR_CONFIG_TRANSPORT', 'plain')
      }
    }
    const zones: string[] = []
    for (const k of keys) if (!zones.includes(k.zone)) zones.push(k.zone)
    const settings: BlockSettings = {
      root: opts.cwd ?? process.cwd(),
      bindHosts: [],
      hasBind: false,
      tls: null,
      debug: false,
      allowOtherClasses: false,
      providers: new Map(),
    }
    const ctx: SetupContext = {
      zones,
      keys,
      file,
      log: opts.log,
      block: settings,
      instance: services,
      env,
    }
    const byName = new Map<string, Directive[]>()
    for (const d of b.directives) {
      const list = byName.get(d.name)
      if (list) list.push(d)
      else byName.set(d.name, [d])
    }
    const factories: Array<{ name: string; make: (next: Handler) => Handler }> = []
    for (const p of plugins) {
      const ds = byName.get(p.name)
      if (!ds) continue
      const make = p.setup({ ...ctx, log: opts.log.plugin(p.name) }, ds)
      if (make) factories.push({ name: p.name, make })
    }
    if (settings.debug) services.debug = true
    let chain: Handler | null = null
    if (factories.length > 0) {
      chain = new Terminal(factories[factories.length - 1]!.name)
      for (let i = factories.length - 1; i >= 0; i--) chain = factories[i]!.make(chain)
    }
    blocks.push({ keys, zones, settings, plugins: factories.map((f) => f.name), chain })
  }
  const listeners = groupListeners(blocks)
  return { file, hash: hashCorefile(parsed), blocks, listeners, services }
}

/** Groups (block, key, bind host) into listeners and checks for overlaps (corefile.md §7.1-7.2). */
export function groupListeners(blocks: BlockConfig[]): ListenerSpec[] {
  const byLabel = new Map<string, ListenerSpec>()
  // (transport, zone, port) → bound hosts and whether an unbound one exists
  const seen = new Map<string, { unbound: boolean; hosts: Set<string> }>()
  for (const b of blocks) {
    const hosts = b.settings.hasBind ? b.settings.bindHosts : ['']
    for (const k of b.keys) {
      const transport = k.scheme as 'dns' | 'tls'
      const base = `${transport}://${k.zone}:${k.port}`
      const sk = `${transport}|${k.zone}|${k.port}`
      let s = seen.get(sk)
      if (!s) {
        s = { unbound: false, hosts: new Set() }
        seen.set(sk, s)
      }
      for (const host of hosts) {
        if (host === '') {
          if (s.unbound) throw new ConfigError(`cannot serve ${base} - it is already defined`, k.token, 'ERR_CONFIG_DUPLICATE', 'plain')
          if (s.hosts.size > 0) {
            const other = [...s.hosts][0]!
            throw new ConfigError(
              `cannot serve ${base} on ${other} - zone overlap listener capacity with ${base}`,
              k.token,
              'ERR_CONFIG_OVERLAP',
            'plain',
            )
          }
          s.unbound = true
        } else {
          if (s.hosts.has(host)) throw new ConfigError(`cannot serve ${base} on ${host} - it is already defined`, k.token, 'ERR_CONFIG_DUPLICATE', 'plain')
          if (s.unbound) {
            throw new ConfigError(
              `cannot serve ${base} on ${host} - zone overlap listener capacity with ${base}`,
              k.token,
              'ERR_CONFIG_OVERLAP',
            'plain',
            )
          }
          s.hosts.add(host)
        }
        const label = listenerLabel(transport, host, k.port)
        let spec = byLabel.get(label)
        if (!spec) {
          spec = { transport, host, port: k.port, label, zones: new Map(), tls: null, allowOtherClasses: false }
          byLabel.set(label, spec)
        }
        spec.zones.set(k.zone, b)
        if (transport === 'tls' && !spec.tls) spec.tls = b.settings.tls
        if (b.settings.allowOtherClasses) spec.allowOtherClasses = true
      }
    }
  }
  for (const spec of byLabel.values()) {
    if (spec.transport === 'tls' && !spec.tls) {
      const b = [...spec.zones.values()][0]!
      throw new ConfigError(
        `${spec.label} needs the tls directive (tls CERT KEY [CA]) in its server block`,
        b.keys[0]!.token,
        'ERR_CONFIG_TLS',
      'plain',
      )
    }
  }
  return [...byLabel.values()]
}
