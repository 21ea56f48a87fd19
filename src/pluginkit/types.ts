// The plugin contract. A plugin is parsed and validated once per server block (setup) and, if it
// handles queries, contributes one Handler to the block's chain, built last to first in the fixed
// execution order of src/plugins/index.ts. See docs/writing-plugins.md.

import type { QueryView } from '../dns/query.js'
import type { Message } from '../dns/types.js'
import type { Directive } from '../corefile/parser.js'
import type { ServerKey } from '../corefile/address.js'
import type { Logger } from '../log/logger.js'

/** An rcode; a plain number on synchronous paths, a Promise only where real I/O happens. */
export type Served = number | Promise<number>

/** Returned by a handler that deliberately sends nothing (acl drop, loop probe answers ...). */
export const NO_REPLY = -1

export type Proto = 'udp' | 'tcp'

/** One received query and where it came from. A new one per query; plugins may keep it. */
export interface Request {
  /** The query as received (or as rewritten by an earlier plugin). */
  q: QueryView
  readonly proto: Proto
  /** 'dns' or 'tls' (DoT arrives as proto 'tcp'). */
  readonly transport: string
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
  /** 1 = IPv4, 2 = IPv6 (metrics label "family"). */
  readonly family: 1 | 2
  /** Listener string, e.g. "dns://:53" (metrics label "server"). */
  readonly server: string
  /** The zone of the server block that handles this query. */
  zone: string
  /** Largest reply the client accepts: 65535 over TCP, else max(512, EDNS UDP size). */
  readonly maxSize: number
  /** An error a plugin wants the `errors` plugin to log; the rcode still says what happened. */
  error: Error | null
  /** Free slot for plugins' per-query facts (metadata plugin style); null until used. */
  meta: Map<string, string> | null
  /** Set by the listener's writer when the reply is sent: rcode (-1 before), bytes, flags, writer. */
  replyRcode: number
  replySize: number
  replyFlags: number
  replyPlugin: string
  /** process.hrtime.bigint() when the query arrived. */
  readonly start: bigint
  /**
   * Resolves NAME/TYPE through this listener's own zone routing and plugin chains (CoreDNS's
   * upstream lookup, used for ExternalName targets). Resolves to the reply a plugin wrote, or null
   * when no plugin wrote one (an error rcode returned, nested too deep, or no route).
   */
  subquery(name: string, type: number): Promise<Buffer | null>
}

/** Sends the reply. The first write wins; later writes are ignored (and counted as bugs in tests). */
export interface ResponseWriter {
  /** Encode and send a message (fitted to the client's size, OPT fixed up per EDNS rules). */
  write(msg: Message, plugin: string): void
  /** Send an already-encoded reply (cache hit, forwarded answer); truncated if needed. */
  writeWire(wire: Buffer, plugin: string): void
  readonly written: boolean
}

export interface Handler {
  /** Directive name; used in logs and metrics. */
  readonly name: string
  /** Answer through `w` and return an rcode, or return `next.serve(req, w)`. */
  serve(req: Request, w: ResponseWriter): Served
}

/** Everything a plugin's setup may use. Nothing global: tests build one in a line. */
export interface SetupContext {
  /** This block's zones (all keys, CIDRs expanded), lower-case FQDN. */
  readonly zones: readonly string[]
  readonly keys: readonly ServerKey[]
  /** The Corefile's path (for messages). */
  readonly file: string
  readonly log: Logger
  /** Settings shared by the plugins of this block (bind addresses, TLS, debug ...). */
  readonly block: BlockSettings
  /** Process-wide services: hooks, HTTP endpoints, readiness. */
  readonly instance: InstanceServices
  readonly env: Record<string, string | undefined>
}

export interface TlsSettings {
  cert: Buffer
  key: Buffer
  ca: Buffer | null
  /** 'nocert' | 'request' | 'require' | 'verify_if_given' | 'require_and_verify' */
  clientAuth: string
}

export interface BlockSettings {
  /** Directory against which relative paths resolve (set by `root`, else the working dir). */
  root: string
  /** Listen addresses from `bind`; empty = wildcard. */
  bindHosts: string[]
  /** true when the block has a `bind` directive (even if it resolved to no address). */
  hasBind: boolean
  tls: TlsSettings | null
  debug: boolean
  /** Other classes than IN are accepted on this block's listeners (forward, chaos). */
  allowOtherClasses: boolean
  /**
   * Capabilities plugins offer to other plugins of the same block, by name (CoreDNS finds them
   * by interface): 'transfer' → Transferer (kubernetes, file), 'autopath' → AutoPather.
   * Filled during setup; read lazily (at startup or query time), since setup order is chain order.
   */
  providers: Map<string, unknown[]>
}

/** A plugin that knows a client's DNS search path (kubernetes with `pods verified`), for autopath. */
export interface AutoPather {
  /**
   * The search list for this client, ending with "" (the name as absolute), e.g.
   * ["prod.svc.cluster.local.", "svc.cluster.local.", "cluster.local.", ""]; null = no autopath.
   */
  searchPath(req: Request): readonly string[] | null
}

/** A plugin whose zones can be transferred (AXFR) by the transfer plugin. */
export interface Transferer {
  /** Zones this plugin is authoritative for (lower-case FQDN). */
  readonly zones: readonly string[]
  /** Current SOA serial of a zone. */
  serial(zone: string): number
  /**
   * The whole zone as records, starting and ending with the SOA (AXFR order), or null when the
   * zone is not ours. Called per transfer, not per query.
   */
  transfer(zone: string): import('../dns/types.js').RR[] | null
}

export interface Readiness {
  readonly name: string
  ready(): boolean
}

export interface HttpRoute {
  /** "host:port" as written by the user (":8080", "localhost:9153"). */
  readonly address: string
  readonly path: string
  /** Called per request; returns status, body and optional content type. */
  handle(): { status: number; body: string; contentType?: string } | Promise<{ status: number; body: string; contentType?: string }>
}

export interface InstanceServices {
  /** Runs after every listener is up (loop probes, health self-checks, watches ...). */
  onStartup(fn: () => void | Promise<void>): void
  /** Runs when this configuration stops serving (reload or shutdown). */
  onShutdown(fn: () => void | Promise<void>): void
  /** Runs only when the process exits (pidfile removal, network teardown). */
  onProcessExit(fn: () => void | Promise<void>): void
  /** Serve an HTTP path on an address; routes on the same address share one listener. */
  addHttpRoute(route: HttpRoute): void
  /** Register a plugin that reports readiness (kubernetes). */
  addReadiness(r: Readiness): void
  readiness(): readonly Readiness[]
  /** Delay between SIGTERM and stopping the listeners (health lameduck). */
  setLameduck(ms: number): void
  /** Ask the process to reload its Corefile now (the `reload` plugin, config watches). */
  requestReload(reason: string): void
  /** true when a block enabled `debug`: panics are not recovered, DEBUG lines are printed. */
  readonly debug: boolean
}

/** A plugin's registry entry. */
export interface PluginDef {
  readonly name: string
  /**
   * Parse and validate every occurrence of the directive in a block (in file order; nested
   * blocks included) and return the handler factory, or null for setup-only plugins.
   * Errors are ConfigError (file:line:col). Runs in registry order, so setup-only plugins
   * such as root, bind and tls have filled `ctx` before handler plugins run.
   */
  setup(ctx: SetupContext, ds: Directive[]): ((next: Handler) => Handler) | null
}
