// A running server: listeners, HTTP endpoints and the hooks of the live configuration, with
// atomic reload (new listeners opened before the swap; old config keeps serving on any failure)
// and graceful shutdown (ready down, lameduck, listeners closed, hooks run).

import os from 'node:os'
import { Listener } from './listeners.js'
import { HttpEndpoint } from './http.js'
import { ZoneMux, type QueryObserver, type Route } from './dispatch.js'
import { loadConfig, type LoadedConfig, type ListenerSpec, type LoadOptions } from './config.js'
import type { Logger } from '../log/logger.js'
import type { Request } from '../pluginkit/types.js'
import { VERSION } from '../version.js'

export interface ServerOptions extends LoadOptions {
  /** Suppress the zone listing at startup (-quiet). */
  quiet?: boolean
  /** Re-reads the Corefile text for a reload. */
  readConfig?: () => string
}

export class Server implements QueryObserver {
  readonly log: Logger
  readonly opts: ServerOptions
  config: LoadedConfig | null = null
  readonly listeners = new Map<string, Listener>()
  readonly http = new Map<string, HttpEndpoint>()
  panics = 0
  reloadsFailed = 0
  private reloading: Promise<boolean> | null = null
  private stopping = false

  constructor(opts: ServerOptions) {
    this.log = opts.log
    this.opts = opts
  }

  onPanic(_err: unknown, _req: Request | null): void {
    this.panics++
  }

  /** Load a Corefile text and start serving it. Throws (ConfigError, listen errors) on failure. */
  async start(text: string, file: string): Promise<void> {
    const cfg = loadConfig(text, file, this.opts)
    await this.activate(cfg, true)
  }

  private makeMux(spec: ListenerSpec, cfg: LoadedConfig): ZoneMux {
    const zones = new Map<string, Route>()
    for (const [z, b] of spec.zones) zones.set(z, b)
    return new ZoneMux(zones, spec.allowOtherClasses, cfg.services.debug, this.log, this)
  }

  /** Goes live with `cfg`: opens what is new, swaps, closes what is gone. */
  private async activate(cfg: LoadedConfig, first: boolean): Promise<void> {
    const old = this.config
    // 1. open new listeners before committing, so a bind failure aborts cleanly
    const opened: Listener[] = []
    const wanted = new Map<string, ListenerSpec>()
    for (const spec of cfg.listeners) wanted.set(spec.label, spec)
    try {
      for (const spec of cfg.listeners) {
        if (this.listeners.has(spec.label)) continue
        const l = new Listener({
          transport: spec.transport,
          host: spec.host,
          port: spec.port,
          mux: this.makeMux(spec, cfg),
          tls: spec.tls,
        })
        await l.listen()
        opened.push(l)
      }
    } catch (e) {
      for (const l of opened) await l.close()
      throw e
    }
    // 2. HTTP endpoints: keep existing addresses, open new ones
    const routesByAddr = new Map<string, typeof cfg.services.routes>()
    for (const r of cfg.services.routes) {
      const list = routesByAddr.get(r.address)
      if (list) list.push(r)
      else routesByAddr.set(r.address, [r])
    }
    const openedHttp: HttpEndpoint[] = []
    try {
      for (const [addr, routes] of routesByAddr) {
        if (this.http.has(addr)) continue
        const h = new HttpEndpoint(addr)
        h.setRoutes(routes)
        await h.listen()
        openedHttp.push(h)
      }
    } catch (e) {
      for (const l of opened) await l.close()
      for (const h of openedHttp) await h.close()
      throw e
    }
    // 3. commit: swap muxes and routes
    for (const l of opened) this.listeners.set(l.label, l)
    for (const h of openedHttp) this.http.set(h.address, h)
    for (const [label, l] of this.listeners) {
      const spec = wanted.get(label)
      if (spec && !opened.includes(l)) l.mux = this.makeMux(spec, cfg)
    }
    for (const [addr, routes] of routesByAddr) this.http.get(addr)!.setRoutes(routes)
    cfg.services.reloadRequester = (reason) => void this.reload(reason)
    this.config = cfg
    // 4. close what is gone
    for (const [label, l] of [...this.listeners]) {
      if (!wanted.has(label) && !opened.includes(l)) {
        this.listeners.delete(label)
        await l.close()
      }
    }
    for (const [addr, h] of [...this.http]) {
      if (!routesByAddr.has(addr)) {
        this.http.delete(addr)
        await h.close()
      }
    }
    if (old) await runHooks(old.services.shutdown, this.log)
    if (!this.opts.quiet) this.printListing(cfg, first)
    // As CoreDNS's OnStartup: a failing hook (a kubeconfig that cannot be read, a missing
    // autopath provider ...) fails the start, or the reload.
    await runHooks(cfg.services.startup, this.log, true)
  }

  private printListing(cfg: LoadedConfig, first: boolean): void {
    const lines: string[] = []
    for (const spec of [...cfg.listeners].sort((a, b) => a.label.localeCompare(b.label))) {
      const l = this.listeners.get(spec.label)
      const port = l ? l.port : spec.port
      for (const z of [...spec.zones.keys()].sort()) {
        const scheme = spec.transport === 'dns' ? '' : `${spec.transport}://`
        lines.push(`${scheme}${z}:${port}${spec.host ? ` on ${spec.host}` : ''}`)
      }
    }
    for (const line of lines) this.log.raw(line)
    if (first) {
      this.log.raw(`clusterdns-${VERSION}`)
      this.log.raw(`${os.platform()}/${os.arch()}, node ${process.version}`)
    }
  }

  /** Re-reads and re-applies the Corefile. Resolves false (old config kept) on any failure. */
  reload(reason = 'SIGUSR1'): Promise<boolean> {
    if (this.reloading) return this.reloading
    this.reloading = this.doReload(reason).finally(() => {
      this.reloading = null
    })
    return this.reloading
  }

  private async doReload(reason: string): Promise<boolean> {
    if (this.stopping || !this.config || !this.opts.readConfig) return false
    const file = this.config.file
    try {
      const cfg = loadConfig(this.opts.readConfig(), file, this.opts)
      await this.activate(cfg, false)
      this.log.info(`Reloaded configuration (${reason}), SHA512: ${cfg.hash.slice(0, 16)}…`)
      return true
    } catch (e) {
      this.reloadsFailed++
      this.log.error(`Corefile changed but reload failed: ${e instanceof Error ? e.message : String(e)}`)
      return false
    }
  }

  /** The port a listener actually got (tests bind port 0). */
  portOf(transport: string, host = ''): number {
    for (const l of this.listeners.values()) if (l.transport === transport && l.host === host) return l.port
    throw new Error(`no ${transport} listener on "${host}"`)
  }

  /** SIGTERM: ready endpoints go down, lameduck (still serving), then everything closes. */
  async shutdown(graceful = true): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    const cfg = this.config
    if (cfg && graceful) {
      // ready goes down first, health stays up during lameduck
      for (const h of this.http.values()) h.setRoutes(cfg.services.routes.filter((r) => r.path !== '/ready' && r.address === h.address))
      if (cfg.services.lameduckMs > 0) {
        this.log.info(`Going into lameduck mode for ${cfg.services.lameduckMs / 1000}s`)
        await new Promise((r) => setTimeout(r, cfg.services.lameduckMs))
      }
    }
    for (const l of this.listeners.values()) await l.close()
    this.listeners.clear()
    for (const h of this.http.values()) await h.close()
    this.http.clear()
    if (cfg) {
      await runHooks(cfg.services.shutdown, this.log)
      await runHooks(cfg.services.processExit, this.log)
    }
  }
}

async function runHooks(hooks: Array<() => void | Promise<void>>, log: Logger, fatal = false): Promise<void> {
  for (const h of hooks) {
    try {
      await h()
    } catch (e) {
      if (fatal) throw e
      log.error(String(e instanceof Error ? e.message : e))
    }
  }
}
