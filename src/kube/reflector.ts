// One reflector per watched kind (kubernetes-dns.md §2.1): a paginated LIST replaces the kind in
// the store, then a WATCH from the list's resourceVersion applies events as they arrive.
// - every event's resourceVersion is tracked, BOOKMARKs included;
// - a stream that ends (server timeout, closed connection) is re-opened from the last version:
//   no relist, nothing lost;
// - 410 Gone (HTTP or ERROR event) → fresh LIST that replaces the kind (deleted objects go);
// - connection errors / 5xx / other failures → retry with capped exponential backoff and jitter,
//   for as long as it takes, while the store keeps serving the last known records. A shared
//   Waker cuts every reflector's backoff short as soon as one of them reaches the API again.
// Watch bodies are split into lines chunk by chunk; LIST pages are parsed one at a time, so a big
// initial sync never holds more than one page of API objects.

import type { IncomingMessage } from 'node:http'
import type { Logger } from '../log/logger.js'
import { ApiError, delay, readBody, type ApiClient } from './client.js'
import { convert, keyOf, resourceVersionOf, type ApiObject } from './convert.js'
import type { Kind } from './model.js'
import type { EventType, KubeStore } from './store.js'

/** Wakes sleeping retries early (the API answered again). */
export class Waker {
  private readonly sleepers = new Set<() => void>()
  /** Sleeps ms; returns early on wake(); rejects when aborted. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new ApiError('aborted', 0))
      const done = (): void => {
        clearTimeout(t)
        this.sleepers.delete(done)
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        clearTimeout(t)
        this.sleepers.delete(done)
        reject(new ApiError('aborted', 0))
      }
      const t = setTimeout(done, ms)
      this.sleepers.add(done)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }
  wake(): void {
    for (const s of [...this.sleepers]) s()
  }
}

export interface BackoffOptions {
  /** First retry delay. Default 200 ms. */
  readonly initialMs: number
  /** Cap. Default 800 ms: keeps catch-up after an outage within ~1 s. */
  readonly maxMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 800 }

export interface ReflectorOptions {
  readonly kind: Kind
  readonly client: ApiClient
  readonly store: KubeStore
  /** "plugin/kubernetes" logger. */
  readonly log: Logger
  readonly labelSelector: string | null
  readonly fieldSelector: string | null
  /** Watch one namespace's path instead of the cluster-wide one. */
  readonly namespace: string | null
  readonly waker: Waker
  /** Keep endpoints' targetRef names (convert.sliceFromAPI); default true. */
  readonly targetNames?: boolean
  readonly pageSize?: number
  readonly backoff?: BackoffOptions
  /** Random source for jitter and watch timeouts (tests). */
  readonly random?: () => number
  /** Watch `timeoutSeconds` range (server ends the stream after it; we resume). Default 300..600. */
  readonly watchTimeoutSec?: readonly [number, number]
  /** Log a still-failing line at most this often. Default 10 s. */
  readonly logEveryMs?: number
}

export type ReflectorState = 'idle' | 'listing' | 'watching' | 'retrying' | 'stopped'

const LIST_HEADERS_TIMEOUT_MS = 30_000
const LIST_BODY_TIMEOUT_MS = 120_000
const WATCH_HEADERS_TIMEOUT_MS = 15_000
/** Target size of one LIST page's JSON. */
const PAGE_BYTES = 1 << 20

/** The 410 "resource version too old" condition: relist. */
class Gone extends Error {
  override name = 'Gone'
}

export function pathFor(kind: Kind, namespace: string | null): string {
  const ns = namespace !== null && kind !== 'namespaces' ? `/namespaces/${encodeURIComponent(namespace)}` : ''
  switch (kind) {
    case 'services':
      return `/api/v1${ns}/services`
    case 'pods':
      return `/api/v1${ns}/pods`
    case 'namespaces':
      return '/api/v1/namespaces'
    case 'endpointslices':
      return `/apis/discovery.k8s.io/v1${ns}/endpointslices`
  }
}

function statusText(body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const m = (body as { message?: unknown }).message
    if (typeof m === 'string') return m
  }
  return ''
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

export class Reflector {
  readonly kind: Kind
  state: ReflectorState
  /** Last resourceVersion seen (list, event or bookmark); '' before the first list. */
  resourceVersion: string
  /** Counters (tests, progress). */
  lists: number
  relists: number
  watches: number
  events: number
  bookmarks: number
  errors: number
  /** Objects listed so far in the running (or last) list. */
  listed: number
  /** listed + the server's remainingItemCount of the last page (-1 when unknown). */
  listTotal: number
  /** ms from start to the end of the first list; -1 before. */
  syncMs: number
  private readonly o: ReflectorOptions
  private readonly path: string
  private ac: AbortController
  private readonly startedAt: number
  private readonly random: () => number
  private readonly backoff: BackoffOptions
  private attempt: number
  private failingSince: number
  private lastFailLog: number
  private running: Promise<void> | null

  constructor(o: ReflectorOptions) {
    this.kind = o.kind
    this.o = o
    this.state = 'idle'
    this.resourceVersion = ''
    this.lists = 0
    this.relists = 0
    this.watches = 0
    this.events = 0
    this.bookmarks = 0
    this.errors = 0
    this.listed = 0
    this.listTotal = -1
    this.syncMs = -1
    this.path = pathFor(o.kind, o.namespace)
    this.ac = new AbortController()
    this.startedAt = performance.now()
    this.random = o.random ?? Math.random
    this.backoff = o.backoff ?? DEFAULT_BACKOFF
    this.attempt = 0
    this.failingSince = 0
    this.lastFailLog = 0
    this.running = null
  }

  /**
   * Starts the loop: LIST + WATCH the first time; after a stop(), WATCH again from the last
   * resourceVersion (a relist only if the server answers 410).
   */
  start(): void {
    if (this.running !== null) return
    if (this.ac.signal.aborted) this.ac = new AbortController()
    this.running = this.run().finally(() => {
      this.running = null
    })
  }

  /** Stops the loop and closes the open request. */
  async stop(): Promise<void> {
    this.ac.abort()
    const r = this.running
    if (r !== null) await r
    this.state = 'stopped'
  }

  private get stopped(): boolean {
    return this.ac.signal.aborted
  }

  private async run(): Promise<void> {
    let needList = this.lists === 0
    while (!this.stopped) {
      try {
        if (needList) {
          await this.list()
          needList = false
        }
        const t0 = performance.now()
        const before = this.events + this.bookmarks
        await this.watch()
        // a stream that ended cleanly: resume at once, unless it keeps ending right away
        if (performance.now() - t0 < 1000 && this.events + this.bookmarks === before) await this.retryDelay()
      } catch (e) {
        if (this.stopped) break
        if (e instanceof Gone) {
          needList = true
          this.relists++
          this.o.log.info(`${this.kind}: ${e.message}; relisting`)
          continue
        }
        this.failed(e)
        try {
          await this.retryDelay()
        } catch {
          break // aborted
        }
      }
    }
    this.state = 'stopped'
  }

  private async retryDelay(): Promise<void> {
    const prev = this.state
    this.state = 'retrying'
    const exp = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(this.attempt, 20))
    this.attempt++
    const ms = exp / 2 + (this.random() * exp) / 2 // jitter in [exp/2, exp]
    await this.o.waker.sleep(ms, this.ac.signal)
    if (this.state === 'retrying') this.state = prev
  }

  private failed(e: unknown): void {
    this.errors++
    const now = performance.now()
    const every = this.o.logEveryMs ?? 10_000
    if (this.failingSince === 0) {
      this.failingSince = now
      this.lastFailLog = now
      this.o.log.warn(`${this.kind}: ${errText(e)}; retrying`)
    } else if (now - this.lastFailLog >= every) {
      this.lastFailLog = now
      this.o.log.warn(`${this.kind}: still failing after ${((now - this.failingSince) / 1000).toFixed(1)}s: ${errText(e)}`)
    }
  }

  /** A request succeeded: reset backoff, log the recovery, wake the others. */
  private succeeded(): void {
    this.attempt = 0
    if (this.failingSince !== 0) {
      const s = ((performance.now() - this.failingSince) / 1000).toFixed(1)
      this.failingSince = 0
      this.o.log.info(`${this.kind}: API server reachable again after ${s}s`)
      this.o.waker.wake()
    }
  }

  private query(): URLSearchParams {
    const q = new URLSearchParams()
    if (this.o.labelSelector !== null && this.o.labelSelector !== '') q.set('labelSelector', this.o.labelSelector)
    if (this.o.fieldSelector !== null && this.o.fieldSelector !== '') q.set('fieldSelector', this.o.fieldSelector)
    return q
  }

  private async list(): Promise<void> {
    this.state = 'listing'
    const store = this.o.store
    const session = store.beginReplace(this.kind)
    // pages of `pageSize` objects, fewer when objects are big (EndpointSlices of 100 endpoints
    // are ~100 times a Pod): one page's JSON text + parse tree is the sync's peak memory
    const maxLimit = this.o.pageSize ?? 500
    let limit = this.kind === 'endpointslices' ? Math.min(maxLimit, 50) : maxLimit
    let cont = ''
    let rv = ''
    let restarts = 0
    this.listed = 0
    for (;;) {
      const q = this.query()
      q.set('limit', String(limit))
      if (cont !== '') q.set('continue', cont)
      const r = await this.o.client.getJSON(
        this.path,
        q,
        { signal: this.ac.signal, headersTimeoutMs: LIST_HEADERS_TIMEOUT_MS },
        LIST_BODY_TIMEOUT_MS,
      )
      if (r.status === 410 && cont !== '' && restarts < 5) {
        // the continue token expired: the list restarts from scratch (a consistent snapshot)
        restarts++
        this.o.log.info(`${this.kind}: list continuation expired; restarting the list`)
        session.reset()
        cont = ''
        this.listed = 0
        continue
      }
      if (r.status !== 200) {
        const msg = statusText(r.body)
        throw new ApiError(`list ${this.path}: HTTP ${r.status}${msg !== '' ? ': ' + msg : ''}`, r.status)
      }
      this.succeeded()
      const body = r.body as { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } } | null
      const items = body !== null && Array.isArray(body.items) ? (body.items as ApiObject[]) : []
      for (const it of items) {
        if (typeof it === 'object' && it !== null) session.add(convert(this.kind, it, this.o.targetNames ?? true))
      }
      this.listed += items.length
      if (items.length > 0) {
        const perItem = r.bytes / items.length
        limit = Math.min(maxLimit, Math.max(10, Math.floor(PAGE_BYTES / perItem)))
      }
      const m = body?.metadata as { resourceVersion?: unknown; continue?: unknown; remainingItemCount?: unknown } | undefined
      const remaining = m?.remainingItemCount
      this.listTotal = typeof remaining === 'number' ? this.listed + remaining : -1
      rv = typeof m?.resourceVersion === 'string' ? m.resourceVersion : rv
      cont = typeof m?.continue === 'string' ? m.continue : ''
      if (cont === '') break
    }
    session.commit()
    this.lists++
    this.resourceVersion = rv
    if (this.syncMs < 0) this.syncMs = performance.now() - this.startedAt
    store.markSynced(this.kind)
  }

  /** One watch stream, until it ends (resolves) or fails (throws; Gone for 410). */
  private async watch(): Promise<void> {
    const q = this.query()
    q.set('watch', 'true')
    q.set('allowWatchBookmarks', 'true')
    if (this.resourceVersion !== '') q.set('resourceVersion', this.resourceVersion)
    const [lo, hi] = this.o.watchTimeoutSec ?? [300, 600]
    const timeoutSec = Math.floor(lo + this.random() * (hi - lo))
    q.set('timeoutSeconds', String(timeoutSec))
    const r = await this.o.client.get(this.path, q, { signal: this.ac.signal, headersTimeoutMs: WATCH_HEADERS_TIMEOUT_MS })
    if (r.status !== 200) {
      let msg = ''
      try {
        msg = statusText(JSON.parse(await readBody(r.body, 10_000)))
      } catch {
        r.body.destroy()
      }
      if (r.status === 410) throw new Gone(`watch from resourceVersion ${this.resourceVersion}: 410 Gone${msg !== '' ? ': ' + msg : ''}`)
      throw new ApiError(`watch ${this.path}: HTTP ${r.status}${msg !== '' ? ': ' + msg : ''}`, r.status)
    }
    this.succeeded()
    this.watches++
    this.state = 'watching'
    await this.consume(r.body, (timeoutSec + 60) * 1000)
  }

  /**
   * Splits the body into lines as chunks arrive and applies each event. A stream silent for
   * longer than idleMs (the server should have ended it by its timeoutSeconds) is dropped.
   */
  private consume(body: IncomingMessage, idleMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let pending: Buffer | null = null
      let settled = false
      const idle = setTimeout(() => finish(new ApiError(`watch ${this.path}: no data for ${idleMs / 1000}s`, 0)), idleMs)
      const finish = (e: Error | null): void => {
        if (settled) return
        settled = true
        clearTimeout(idle)
        body.removeListener('data', onData)
        if (e !== null) {
          body.destroy()
          reject(e)
        } else resolve()
      }
      const onData = (chunk: Buffer): void => {
        idle.refresh()
        let start = 0
        for (;;) {
          const nl = chunk.indexOf(10, start)
          if (nl < 0) break
          let line: Buffer
          if (pending !== null) {
            line = Buffer.concat([pending, chunk.subarray(start, nl)])
            pending = null
          } else line = chunk.subarray(start, nl)
          start = nl + 1
          if (line.length === 0) continue
          try {
            this.event(line.toString('utf8'))
          } catch (e) {
            finish(e instanceof Error ? e : new Error(String(e)))
            return
          }
        }
        if (start < chunk.length) {
          const rest = chunk.subarray(start)
          pending = pending === null ? Buffer.from(rest) : Buffer.concat([pending, rest])
        }
      }
      body.on('data', onData)
      body.on('end', () => {
        if (pending !== null && pending.length > 0) {
          try {
            this.event(pending.toString('utf8'))
          } catch (e) {
            finish(e instanceof Error ? e : new Error(String(e)))
            return
          }
        }
        finish(null)
      })
      body.on('error', (e) => finish(this.stopped ? null : new ApiError(`watch ${this.path}: ${e.message}`, 0, { cause: e })))
      body.on('close', () => {
        if (!body.complete && !this.stopped) finish(new ApiError(`watch ${this.path}: connection closed`, 0))
        else finish(null)
      })
    })
  }

  private event(line: string): void {
    let ev: { type?: unknown; object?: unknown }
    try {
      ev = JSON.parse(line) as typeof ev
    } catch (e) {
      throw new ApiError(`watch ${this.path}: invalid JSON line: ${errText(e)}`, 0)
    }
    const type = ev.type
    const o = ev.object
    if (typeof o !== 'object' || o === null) throw new ApiError(`watch ${this.path}: event without object`, 0)
    const obj = o as ApiObject
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        const rv = resourceVersionOf(obj)
        if (rv !== '') this.resourceVersion = rv
        this.events++
        const t = type as EventType
        this.o.store.apply(this.kind, t, t === 'DELETED' ? keyOf(obj) : convert(this.kind, obj, this.o.targetNames ?? true))
        return
      }
      case 'BOOKMARK': {
        const rv = resourceVersionOf(obj)
        if (rv !== '') this.resourceVersion = rv
        this.bookmarks++
        return
      }
      case 'ERROR': {
        const code = (obj as { code?: unknown }).code
        const msg = statusText(obj)
        if (code === 410) throw new Gone(`watch from resourceVersion ${this.resourceVersion}: ${msg !== '' ? msg : '410 Gone'}`)
        throw new ApiError(`watch ${this.path}: error event${typeof code === 'number' ? ' ' + code : ''}: ${msg}`, typeof code === 'number' ? code : 0)
      }
      default:
        // unknown event types are ignored (forward compatible)
        return
    }
  }
}
