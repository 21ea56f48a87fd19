// FakeApiServer: a Kubernetes API server stand-in for tests that speaks the real REST list/watch
// protocol (JSON lists with resourceVersion, limit/continue pagination, chunked watch streams,
// bookmarks, 410 Gone / ERROR 410, label and field selectors) for namespaces, services, pods and
// discovery.k8s.io/v1 endpointslices, backed by the in-memory Store. Tests drive it through
// methods (create/update/remove, compact, dropWatches, failNext, stop/start for outages).

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { FieldSelector, LabelSelector, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js'
import {
  ExpiredError,
  RESOURCES,
  Store,
  resourceFor,
  type Entry,
  type EventType,
  type KubeObject,
  type ResourceInfo,
  type StoreEvent,
} from './store.js'

export { ExpiredError, RESOURCES, resourceFor }
export type { Entry, EventType, KubeObject, ObjectMeta, ResourceInfo } from './store.js'

export interface FakeApiServerOptions {
  /** Serve https with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer }
  /** Require `Authorization: Bearer <token>` on API paths (health paths stay open). */
  token?: string
  /** Interval of BOOKMARK events on watches that ask for them. Default 1000 ms. */
  bookmarkIntervalMs?: number
  /** How a watch from a compacted resourceVersion fails: an ERROR event in a 200 stream (default, like the real server) or HTTP 410. */
  expiredWatch?: 'event' | 'http'
  /** Server-side watch timeout (seconds) when the client sends no timeoutSeconds. Default: none. */
  watchTimeoutSeconds?: number
  /** Keep at most this many events; older history is compacted away. Default: unlimited. */
  maxHistory?: number
  /** Delay before answering each request. */
  latencyMs?: number
  /** Size of the request log ring. Default 10000. */
  maxRequestLog?: number
  /** Unexpected errors while answering a request (the request gets a 500 or a reset). */
  onError?: (err: unknown) => void
}

export interface RequestLogEntry {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly status: number
  readonly watch: boolean
  /** Wall-clock ms when the status was sent. */
  readonly atMs: number
}

export interface RequestInfo {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly watch: boolean
}

/** (type, object as stored, resourceVersion, epoch ms with sub-ms precision when written to the watch streams). */
export type EventHook = (type: EventType, obj: KubeObject, rv: number, emittedAtMs: number) => void

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now()
}

interface StatusBody {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, string>
  status: 'Failure'
  message: string
  reason: string
  code: number
  details?: Record<string, unknown>
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
}

export function statusBody(code: number, message: string, reason?: string, details?: Record<string, unknown>): StatusBody {
  const s: StatusBody = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: reason ?? REASONS[code] ?? '',
    code,
  }
  if (details !== undefined) s.details = details
  return s
}

class HttpError extends Error {
  constructor(readonly code: number, message: string, readonly reason?: string) {
    super(message)
  }
}

const HEALTH_PATHS = new Set(['/healthz', '/livez', '/readyz'])
const PAGE_WRITE_BATCH = 256

interface ContinueToken {
  v: string
  rv: number
  start: string
}

function encodeContinue(rv: number, start: string): string {
  const t: ContinueToken = { v: 'meta.k8s.io/v1', rv, start }
  return Buffer.from(JSON.stringify(t)).toString('base64url')
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Partial<ContinueToken>
    if (t.v === 'meta.k8s.io/v1' && typeof t.rv === 'number' && typeof t.start === 'string') return t as ContinueToken
  } catch {
    // fall through
  }
  throw new HttpError(400, 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
}

function parseRv(s: string | undefined, what = 'resourceVersion'): number | undefined {
  if (s === undefined || s === '') return undefined
  if (!/^\d+$/.test(s)) throw new HttpError(400, `${what}: Invalid value: "${s}": must be a non-negative integer`)
  return Number(s)
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/** Filters shared by lists and watches. */
interface Filter {
  readonly ns: string
  readonly label: LabelSelector
  readonly field: FieldSelector
}

function matches(res: ResourceInfo, f: Filter, e: Entry): boolean {
  if (f.ns !== '' && e.ns !== f.ns) return false
  if (!f.label.empty && !f.label.matches(e.labels)) return false
  if (!f.field.empty) {
    return f.field.matches((field) => {
      if (field === 'metadata.name') return e.name
      if (field === 'metadata.namespace') return e.ns
      const i = res.extraFields.indexOf(field)
      return i >= 0 ? (e.extra[i] ?? '') : ''
    })
  }
  return true
}

class WatchStream {
  /** Events arriving while the initial replay is written (null once live). */
  pending: StoreEvent[] | null = []
  closed = false
  private timers: NodeJS.Timeout[] = []

  constructor(
    readonly server: FakeApiServer,
    readonly res: ResourceInfo,
    readonly filter: Filter,
    readonly out: ServerResponse,
    readonly bookmarks: boolean,
  ) {}

  addTimer(t: NodeJS.Timeout): void {
    t.unref()
    this.timers.push(t)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const t of this.timers) clearTimeout(t)
    this.timers = []
    this.server._watchClosed(this)
  }

  writeLine(type: string, json: string): void {
    if (this.closed) return
    this.out.write(`{"type":"${type}","object":${json}}\n`)
  }

  /** Converts a store event for this watch (cacher semantics: leaving the selector = DELETED). */
  deliver(ev: StoreEvent): void {
    if (this.closed || ev.res !== this.res) return
    if (this.pending !== null) {
      this.pending.push(ev)
      return
    }
    this.emit(ev)
  }

  emit(ev: StoreEvent): void {
    if (this.closed || ev.res !== this.res) return
    const curPass = ev.type !== 'DELETED' && matches(this.res, this.filter, ev.cur)
    const oldPass = ev.prev !== null && matches(this.res, this.filter, ev.prev)
    if (curPass) this.writeLine(oldPass ? 'MODIFIED' : 'ADDED', ev.cur.json)
    else if (oldPass) {
      if (ev.type === 'DELETED') this.writeLine('DELETED', ev.cur.json)
      else {
        if (ev.prevAtRv === undefined) {
          const o = JSON.parse(ev.prev!.json) as KubeObject
          o.metadata.resourceVersion = String(ev.rv)
          ev.prevAtRv = JSON.stringify(o)
        }
        this.writeLine('DELETED', ev.prevAtRv)
      }
    }
  }

  bookmark(rv: number, initialEventsEnd = false): void {
    if (this.closed || (this.pending !== null && !initialEventsEnd)) return
    const meta: Record<string, unknown> = { resourceVersion: String(rv) }
    if (initialEventsEnd) meta['annotations'] = { 'k8s.io/initial-events-end': 'true' }
    this.writeLine('BOOKMARK', JSON.stringify({ kind: this.res.kind, apiVersion: this.res.apiVersion, metadata: meta }))
  }

  goLive(): void {
    const q = this.pending ?? []
    this.pending = null
    for (const ev of q) this.deliver(ev)
  }
}

export class FakeApiServer {
  readonly store: Store
  /** Delay before answering each request (ms); may be changed at any time. */
  latencyMs: number
  /** Interval of BOOKMARK events for watches started after the change. */
  bookmarkIntervalMs: number
  /** How a watch from a compacted resourceVersion fails. */
  expiredWatch: 'event' | 'http'
  /** Server-side watch timeout when the client sends none (seconds). */
  watchTimeoutSeconds: number | undefined
  /** Log of answered requests (most recent last, capped). */
  readonly requests: RequestLogEntry[] = []

  private readonly opts: FakeApiServerOptions
  private server: Server | null = null
  private readonly sockets = new Set<Socket>()
  private readonly watches = new Set<WatchStream>()
  private readonly hooks: EventHook[] = []
  private failRemaining = 0
  private failCode = 500
  private failMatch: ((r: RequestInfo) => boolean) | undefined
  private readonly maxRequestLog: number
  private boundPort = 0

  constructor(opts: FakeApiServerOptions = {}) {
    this.opts = opts
    this.latencyMs = opts.latencyMs ?? 0
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 1000
    this.expiredWatch = opts.expiredWatch ?? 'event'
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds
    this.maxRequestLog = opts.maxRequestLog ?? 10000
    this.store = new Store(opts.maxHistory === undefined ? {} : { maxHistory: opts.maxHistory })
    this.store.onChange((ev, obj) => {
      for (const w of this.watches) w.deliver(ev)
      if (this.hooks.length === 0) return
      const t = nowMs()
      for (const h of this.hooks.slice()) h(ev.type, obj, ev.rv, t)
    })
  }

  // ---- lifecycle ----

  /**
   * Listens on 127.0.0.1. The first start defaults to port 0 (any free port); a start after stop()
   * defaults to the previous port, so stop() + start() is an outage at the same URL.
   */
  async start(port = this.boundPort): Promise<this> {
    if (this.server !== null) throw new Error('fake-apiserver: already started')
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendStatus(req, res, statusBody(500, String(err)), false)
        else res.destroy()
        this.opts.onError?.(err)
      })
    }
    const srv = this.opts.tls !== undefined ? createHttpsServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, handler) : createHttpServer(handler)
    srv.keepAliveTimeout = 5000
    srv.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    if (this.opts.tls !== undefined) {
      srv.on('secureConnection', (s: Socket) => {
        this.sockets.add(s)
        s.on('close', () => this.sockets.delete(s))
      })
    }
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(port, '127.0.0.1', () => {
        srv.off('error', reject)
        resolve()
      })
    })
    this.server = srv
    const addr = srv.address()
    this.boundPort = typeof addr === 'object' && addr !== null ? addr.port : port
    return this
  }

  /** Closes the listener and destroys every connection (open watches included); the store is kept. */
  async stop(): Promise<void> {
    const srv = this.server
    if (srv === null) return
    this.server = null
    const closed = new Promise<void>((resolve) => srv.close(() => resolve()))
    for (const w of [...this.watches]) w.close()
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    await closed
  }

  get running(): boolean {
    return this.server !== null
  }

  get port(): number {
    return this.boundPort
  }

  get url(): string {
    return `${this.opts.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${this.boundPort}`
  }

  /**
   * A kubeconfig object for @kubernetes/client-node's `KubeConfig.loadFromOptions`. Over http://
   * it sets `skipTLSVerify: true`, without which client-node 1.x refuses plain-http servers.
   */
  kubeconfig(): Record<string, unknown> {
    const user: Record<string, unknown> = { name: 'fake-user' }
    if (this.opts.token !== undefined) user['token'] = this.opts.token
    return {
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [user],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake-user' } }],
      currentContext: 'fake',
    }
  }

  // ---- control API ----

  create(obj: KubeObject): KubeObject {
    return this.store.create(obj)
  }
  update(obj: KubeObject): KubeObject {
    return this.store.update(obj)
  }
  upsert(obj: KubeObject): KubeObject {
    return this.store.upsert(obj)
  }
  /** Deletes an object; for cluster-scoped kinds `remove('Namespace', 'prod')` works too. */
  remove(kind: string, ns: string, name?: string): boolean {
    const res = resourceFor(kind)
    if (name === undefined) {
      if (res.namespaced) throw new Error('fake-apiserver: remove() of a namespaced kind needs ns and name')
      return this.store.remove(kind, '', ns)
    }
    return this.store.remove(kind, ns, name)
  }
  /** Bulk load without events (history compacted to the end of the load). */
  load(objs: Iterable<KubeObject>): number {
    return this.store.load(objs)
  }
  get(kind: string, ns: string, name?: string): KubeObject | undefined {
    return name === undefined ? this.store.get(kind, '', ns) : this.store.get(kind, ns, name)
  }
  /** Parsed copies of all objects of a kind (optionally one namespace), in key order. */
  list(kind: string, ns?: string): KubeObject[] {
    const res = resourceFor(kind)
    const prefix = ns === undefined || !res.namespaced ? '' : `${ns}/`
    const out: KubeObject[] = []
    for (const e of this.store.entriesAt(res, this.store.resourceVersion, prefix, '')) out.push(JSON.parse(e.json) as KubeObject)
    return out
  }
  count(kind: string): number {
    return this.store.count(kind)
  }
  get resourceVersion(): number {
    return this.store.resourceVersion
  }
  /** Forgets history up to now: watches and continue tokens from older resourceVersions get 410. */
  compact(): void {
    this.store.compact()
  }

  /** Ends every open watch stream: 'destroy' resets the connection, 'end' finishes the chunked body cleanly. */
  dropWatches(mode: 'destroy' | 'end' = 'destroy'): number {
    const ws = [...this.watches]
    for (const w of ws) {
      w.close()
      if (mode === 'destroy') w.out.destroy()
      else w.out.end()
    }
    return ws.length
  }

  /** The next `n` requests (matching `match`, default all) are answered with a Status of `code`. */
  failNext(n: number, code = 500, match?: (r: RequestInfo) => boolean): void {
    this.failRemaining = n
    this.failCode = code
    this.failMatch = match
  }

  /** Open watch streams, optionally of one kind. */
  watchCount(kind?: string): number {
    if (kind === undefined) return this.watches.size
    const res = resourceFor(kind)
    let n = 0
    for (const w of this.watches) if (w.res === res) n++
    return n
  }

  /** Called for every change after it was written to the open watch streams. Returns an unsubscribe function. */
  onEvent(hook: EventHook): () => void {
    this.hooks.push(hook)
    return () => {
      const i = this.hooks.indexOf(hook)
      if (i >= 0) this.hooks.splice(i, 1)
    }
  }

  /** Polls `pred` every few ms until true; rejects after `timeoutMs`. */
  async waitFor(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`fake-apiserver: timed out after ${timeoutMs} ms waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  /** Resolves when at least `n` watches (of `kind`) are open. */
  waitForWatches(n: number, kind?: string, timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.watchCount(kind) >= n, timeoutMs, `${n} watch(es)${kind === undefined ? '' : ` on ${kind}`}`)
  }

  /** @internal */
  _watchClosed(w: WatchStream): void {
    this.watches.delete(w)
  }

  // ---- HTTP ----

  private log(req: IncomingMessage, path: string, query: Record<string, string>, status: number, watch: boolean): void {
    this.requests.push({ method: req.method ?? '', path, query, status, watch, atMs: Date.now() })
    if (this.requests.length > this.maxRequestLog) this.requests.splice(0, this.requests.length - this.maxRequestLog)
  }

  private sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body)
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers })
    res.end(text)
  }

  private sendStatus(req: IncomingMessage, res: ServerResponse, s: StatusBody, logIt = true): void {
    if (logIt) {
      const u = new URL(req.url ?? '/', 'http://x')
      this.log(req, u.pathname, Object.fromEntries(u.searchParams), s.code, false)
    }
    const headers: Record<string, string> = {}
    if (s.code === 429 || s.code === 503) headers['Retry-After'] = '1'
    this.sendJson(res, s.code, s, headers)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x')
    const path = u.pathname.length > 1 ? u.pathname.replace(/\/+$/, '') : u.pathname
    const query = Object.fromEntries(u.searchParams)
    const method = req.method ?? 'GET'
    let watch = query['watch'] === 'true' || query['watch'] === '1'
    let segs = path.split('/').filter((s) => s !== '')
    // legacy /api/v1/watch/... paths
    const gvLen = segs[0] === 'api' ? 2 : segs[0] === 'apis' ? 3 : 0
    if (gvLen > 0 && segs[gvLen] === 'watch') {
      watch = true
      segs = [...segs.slice(0, gvLen), ...segs.slice(gvLen + 1)]
    }
    const status = (code: number): void => this.log(req, path, query, code, watch)
    const fail = (s: StatusBody): void => {
      status(s.code)
      this.sendStatus(req, res, s, false)
    }

    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs))
    if (res.destroyed) return

    const info: RequestInfo = { method, path, query, watch }
    if (this.failRemaining > 0 && (this.failMatch === undefined || this.failMatch(info))) {
      this.failRemaining--
      fail(statusBody(this.failCode, `fake-apiserver: injected failure (${this.failCode})`))
      return
    }

    if (HEALTH_PATHS.has(path)) {
      status(200)
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
      res.end('ok')
      return
    }

    if (this.opts.token !== undefined && req.headers.authorization !== `Bearer ${this.opts.token}`) {
      fail(statusBody(401, 'Unauthorized'))
      return
    }

    if (method !== 'GET') {
      fail(statusBody(405, `the server does not allow this method on the requested resource`))
      return
    }

    try {
      const doc = this.discovery(path)
      if (doc !== undefined) {
        status(200)
        this.sendJson(res, 200, doc)
        return
      }
      const route = this.route(segs)
      if (route === undefined) {
        fail(statusBody(404, 'the server could not find the requested resource', 'NotFound', { causes: [] }))
        return
      }
      const { resInfo, ns, name } = route
      if (name !== undefined && !watch) {
        const e = this.store.entry(resInfo, ns, name)
        if (e === undefined) {
          fail(statusBody(404, `${resInfo.plural} "${name}" not found`, 'NotFound', { name, kind: resInfo.plural, ...(resInfo.group !== '' ? { group: resInfo.group } : {}) }))
          return
        }
        status(200)
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(e.json) })
        res.end(e.json)
        return
      }
      const fieldSel =
        name !== undefined
          ? parseFieldSelector(`metadata.name=${name}${query['fieldSelector'] ? ',' + query['fieldSelector'] : ''}`, ['metadata.name', 'metadata.namespace', ...resInfo.extraFields])
          : parseFieldSelector(query['fieldSelector'], ['metadata.name', 'metadata.namespace', ...resInfo.extraFields])
      const filter: Filter = { ns, label: parseLabelSelector(query['labelSelector']), field: fieldSel }
      if (watch) await this.serveWatch(req, res, resInfo, filter, query, status)
      else await this.serveList(res, resInfo, filter, query, status)
    } catch (err) {
      if (err instanceof SelectorError) fail(statusBody(400, err.message))
      else if (err instanceof HttpError) fail(statusBody(err.code, err.message, err.reason))
      else if (err instanceof ExpiredError) fail(statusBody(410, err.message, 'Expired'))
      else throw err
    }
  }

  private route(segs: string[]): { resInfo: ResourceInfo; ns: string; name?: string } | undefined {
    let group: string
    let rest: string[]
    if (segs[0] === 'api' && segs[1] === 'v1') {
      group = ''
      rest = segs.slice(2)
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      if (segs[2] !== 'v1') return undefined
      group = segs[1]!
      rest = segs.slice(3)
    } else return undefined
    const find = (plural: string): ResourceInfo | undefined => RESOURCES.find((r) => r.group === group && r.plural === plural)
    if (rest.length === 1 || rest.length === 2) {
      const r = find(rest[0]!)
      if (r === undefined) return undefined
      if (rest.length === 1) return { resInfo: r, ns: '' }
      if (r.namespaced) return undefined
      return { resInfo: r, ns: '', name: rest[1]! }
    }
    if ((rest.length === 3 || rest.length === 4) && rest[0] === 'namespaces') {
      const r = find(rest[2]!)
      if (r === undefined || !r.namespaced) return undefined
      return rest.length === 3 ? { resInfo: r, ns: rest[1]! } : { resInfo: r, ns: rest[1]!, name: rest[3]! }
    }
    return undefined
  }

  private discovery(path: string): unknown {
    const groupsOf = (): string[] => [...new Set(RESOURCES.map((r) => r.group).filter((g) => g !== ''))]
    const resourceList = (group: string): unknown => ({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group === '' ? 'v1' : `${group}/v1`,
      resources: RESOURCES.filter((r) => r.group === group).map((r) => ({
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['get', 'list', 'watch'],
        ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
      })),
    })
    const groupDoc = (g: string): unknown => ({
      name: g,
      versions: [{ groupVersion: `${g}/v1`, version: 'v1' }],
      preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' },
    })
    switch (path) {
      case '/version':
        return {
          major: '1',
          minor: '31',
          gitVersion: 'v1.31.0-fake',
          gitCommit: '0000000000000000000000000000000000000000',
          gitTreeState: 'clean',
          buildDate: '2024-08-13T00:00:00Z',
          goVersion: 'go1.22.5',
          compiler: 'gc',
          platform: 'linux/amd64',
        }
      case '/api':
        return {
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.boundPort}` }],
        }
      case '/apis':
        return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupsOf().map(groupDoc) }
      case '/api/v1':
        return resourceList('')
    }
    for (const g of groupsOf()) {
      if (path === `/apis/${g}`) return { kind: 'APIGroup', apiVersion: 'v1', ...(groupDoc(g) as object) }
      if (path === `/apis/${g}/v1`) return resourceList(g)
    }
    return undefined
  }

  private async serveList(
    res: ServerResponse,
    resInfo: ResourceInfo,
    filter: Filter,
    query: Record<string, string>,
    status: (code: number) => void,
  ): Promise<void> {
    const store = this.store
    const limitText = query['limit']
    let limit = 0
    if (limitText !== undefined && limitText !== '') {
      if (!/^\d+$/.test(limitText)) throw new HttpError(400, `limit: Invalid value: "${limitText}"`)
      limit = Number(limitText)
    }
    const rvParam = query['resourceVersion']
    const rvMatch = query['resourceVersionMatch'] ?? ''
    const cont = query['continue'] ?? ''
    const current = store.resourceVersion
    let atRv = current
    let start = ''
    if (cont !== '') {
      if (rvParam !== undefined && rvParam !== '' && rvParam !== '0') {
        throw new HttpError(400, 'specifying resource version is not allowed when using continue')
      }
      const t = decodeContinue(cont)
      if (t.rv < store.compactedResourceVersion) {
        throw new HttpError(
          410,
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          'Expired',
        )
      }
      atRv = Math.min(t.rv, current)
      start = t.start
    } else {
      const rv = parseRv(rvParam)
      if (rvMatch !== '' && rv === undefined) {
        throw new HttpError(400, 'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided')
      }
      if (rvMatch !== '' && rvMatch !== 'Exact' && rvMatch !== 'NotOlderThan') {
        throw new HttpError(400, `resourceVersionMatch: Unsupported value: "${rvMatch}": supported values: "Exact", "NotOlderThan"`)
      }
      if (rv !== undefined && rv > current) {
        throw new HttpError(504, `Too large resource version: ${rv}, current: ${current}`, 'Timeout')
      }
      if (rvMatch === 'Exact' && rv !== undefined) {
        if (rv < store.compactedResourceVersion) throw new ExpiredError(`too old resource version: ${rv} (${store.compactedResourceVersion + 1})`)
        atRv = rv
      }
    }
    const prefix = resInfo.namespaced && filter.ns !== '' ? `${filter.ns}/` : ''
    const page: Entry[] = []
    let nextStart: string | undefined
    let remaining = 0
    const selecting = !filter.label.empty || !filter.field.empty
    const it = store.entriesAt(resInfo, atRv, prefix, start)
    for (const e of it) {
      if (!matches(resInfo, filter, e)) continue
      if (limit > 0 && page.length === limit) {
        nextStart = page[page.length - 1]!.key + '\u0000'
        if (!selecting) {
          remaining = 1
          if (atRv === current) {
            const keys = store.table(resInfo).keys()
            remaining = lowerBoundPrefixEnd(keys, prefix) - lowerBoundKey(keys, nextStart)
          } else {
            for (const _ of it) remaining++
          }
        }
        break
      }
      page.push(e)
    }
    const meta: Record<string, unknown> = { resourceVersion: String(atRv) }
    if (nextStart !== undefined) {
      meta['continue'] = encodeContinue(atRv, nextStart)
      if (!selecting) meta['remainingItemCount'] = remaining
    }
    status(200)
    res.writeHead(200, { 'Content-Type': 'application/json' })
    const head = `{"kind":"${resInfo.listKind}","apiVersion":"${resInfo.apiVersion}","metadata":${JSON.stringify(meta)},"items":[`
    let buf = head
    for (let i = 0; i < page.length; i++) {
      buf += (i === 0 ? '' : ',') + page[i]!.json
      if ((i + 1) % PAGE_WRITE_BATCH === 0) {
        const ok = res.write(buf)
        buf = ''
        if (!ok) {
          await waitDrain(res)
          if (res.destroyed) return
        }
      }
    }
    res.end(buf + ']}')
  }

  private async serveWatch(
    req: IncomingMessage,
    res: ServerResponse,
    resInfo: ResourceInfo,
    filter: Filter,
    query: Record<string, string>,
    status: (code: number) => void,
  ): Promise<void> {
    const store = this.store
    const rvText = query['resourceVersion'] ?? ''
    const rv = rvText === '' || rvText === '0' ? undefined : parseRv(rvText)
    const bookmarks = query['allowWatchBookmarks'] === 'true' || query['allowWatchBookmarks'] === '1'
    const sendInitial = query['sendInitialEvents'] === 'true'
    const timeoutText = query['timeoutSeconds']
    const timeoutSec = timeoutText !== undefined && timeoutText !== '' ? Number(timeoutText) : this.watchTimeoutSeconds
    if (timeoutSec !== undefined && !(timeoutSec >= 0)) throw new HttpError(400, `timeoutSeconds: Invalid value: "${timeoutText}"`)

    // Decide what to replay before anything else can change the store.
    let replay: StoreEvent[] | null = null
    let initial: Entry[] | null = null
    let expired: string | undefined
    const startRv = store.resourceVersion
    if (rv !== undefined && !sendInitial) {
      try {
        replay = store.eventsSince(rv)
      } catch (err) {
        if (!(err instanceof ExpiredError)) throw err
        expired = err.message
      }
    } else {
      initial = []
      for (const e of store.entriesAt(resInfo, startRv, resInfo.namespaced && filter.ns !== '' ? `${filter.ns}/` : '', '')) {
        if (matches(resInfo, filter, e)) initial.push(e)
      }
    }
    if (expired !== undefined && this.expiredWatch === 'http') throw new HttpError(410, expired, 'Expired')

    status(200)
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' })
    res.flushHeaders()
    req.socket.setNoDelay(true)
    if (expired !== undefined) {
      res.end(`{"type":"ERROR","object":${JSON.stringify(statusBody(410, expired, 'Expired'))}}\n`)
      return
    }

    const w = new WatchStream(this, resInfo, filter, res, bookmarks)
    this.watches.add(w)
    res.on('close', () => w.close())
    if (timeoutSec !== undefined) {
      w.addTimer(
        setTimeout(() => {
          w.close()
          res.end()
        }, timeoutSec * 1000),
      )
    }
    if (bookmarks && this.bookmarkIntervalMs > 0) {
      w.addTimer(setInterval(() => w.bookmark(store.resourceVersion), this.bookmarkIntervalMs))
    }

    // Replay (history since rv, or synthetic ADDED for the current state) with back-pressure;
    // live events queue up in w.pending meanwhile.
    let n = 0
    if (replay !== null) {
      for (const ev of replay) {
        if (w.closed) return
        if (ev.res !== resInfo) continue
        w.emit(ev)
        if (++n % PAGE_WRITE_BATCH === 0 && res.writableNeedDrain) await waitDrain(res)
      }
    } else if (initial !== null) {
      for (const e of initial) {
        if (w.closed) return
        w.writeLine('ADDED', e.json)
        if (++n % PAGE_WRITE_BATCH === 0 && res.writableNeedDrain) await waitDrain(res)
      }
    }
    if (w.closed) return
    if (sendInitial && bookmarks) w.bookmark(startRv, true)
    w.goLive()
  }
}

function lowerBoundKey(keys: readonly string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Index just past the keys that start with `prefix` ('' = all). */
function lowerBoundPrefixEnd(keys: readonly string[], prefix: string): number {
  if (prefix === '') return keys.length
  // prefix ends with '/', the next possible string after all 'ns/...' keys is 'ns0' ('0' follows '/').
  return lowerBoundKey(keys, prefix.slice(0, -1) + '0')
}
