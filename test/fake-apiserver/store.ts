// The object store behind FakeApiServer: one global resourceVersion counter (like etcd), every object
// kept once as its serialized JSON plus the few fields selectors need, and an event history that
// watches replay from and that snapshot-consistent list pages are rebuilt from.

import { randomUUID } from 'node:crypto'
import type { Labels } from './selectors.js'

export interface ObjectMeta {
  name?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  creationTimestamp?: string
  deletionTimestamp?: string
  generateName?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: unknown[]
  [field: string]: unknown
}

/** A Kubernetes API object as JSON (plain data, never client-node model classes). */
export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
  [field: string]: unknown
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

/** Static description of one served resource (what discovery documents and routing need). */
export interface ResourceInfo {
  readonly kind: string
  readonly listKind: string
  readonly plural: string
  readonly singular: string
  readonly group: string
  readonly version: string
  /** `v1` or `discovery.k8s.io/v1`. */
  readonly apiVersion: string
  readonly namespaced: boolean
  readonly shortNames: readonly string[]
  /** Field-selector fields beyond metadata.name / metadata.namespace, in `extra` order. */
  readonly extraFields: readonly string[]
  readonly extract: (obj: KubeObject) => string[]
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}
function rec(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {}
}

export const RESOURCES: readonly ResourceInfo[] = [
  {
    kind: 'Namespace', listKind: 'NamespaceList', plural: 'namespaces', singular: 'namespace', group: '', version: 'v1',
    apiVersion: 'v1', namespaced: false, shortNames: ['ns'], extraFields: ['status.phase'],
    extract: (o) => [str(rec(o['status'])['phase'])],
  },
  {
    kind: 'Service', listKind: 'ServiceList', plural: 'services', singular: 'service', group: '', version: 'v1',
    apiVersion: 'v1', namespaced: true, shortNames: ['svc'], extraFields: ['spec.clusterIP', 'spec.type'],
    extract: (o) => {
      const spec = rec(o['spec'])
      return [str(spec['clusterIP']), str(spec['type'])]
    },
  },
  {
    kind: 'Pod', listKind: 'PodList', plural: 'pods', singular: 'pod', group: '', version: 'v1',
    apiVersion: 'v1', namespaced: true, shortNames: ['po'], extraFields: ['status.phase', 'spec.nodeName', 'status.podIP'],
    extract: (o) => {
      const status = rec(o['status'])
      return [str(status['phase']), str(rec(o['spec'])['nodeName']), str(status['podIP'])]
    },
  },
  {
    kind: 'EndpointSlice', listKind: 'EndpointSliceList', plural: 'endpointslices', singular: 'endpointslice',
    group: 'discovery.k8s.io', version: 'v1', apiVersion: 'discovery.k8s.io/v1', namespaced: true, shortNames: [],
    extraFields: ['addressType'], extract: (o) => [str(o['addressType'])],
  },
]

const BY_NAME = new Map<string, ResourceInfo>()
for (const r of RESOURCES) {
  for (const n of [r.kind, r.plural, r.singular, ...r.shortNames]) BY_NAME.set(n.toLowerCase(), r)
}

/** Looks a resource up by kind (`Service`), plural (`services`), singular or short name. */
export function resourceFor(kind: string): ResourceInfo {
  const r = BY_NAME.get(kind.toLowerCase())
  if (r === undefined) throw new Error(`fake-apiserver: unknown kind ${JSON.stringify(kind)}`)
  return r
}

/** One stored version of one object. */
export interface Entry {
  readonly key: string
  readonly ns: string
  readonly name: string
  readonly rv: number
  /** The whole object as JSON, metadata.resourceVersion = rv. */
  readonly json: string
  readonly labels: Labels | undefined
  readonly extra: readonly string[]
}

/** One change in the history. For DELETED, `cur` is the last state carrying the deletion's rv. */
export interface StoreEvent {
  readonly type: EventType
  readonly res: ResourceInfo
  readonly rv: number
  readonly cur: Entry
  readonly prev: Entry | null
  /** Lazily built: `prev` re-stamped with this event's rv (DELETED sent to a watch the object left). */
  prevAtRv?: string
}

export class ExpiredError extends Error {
  override name = 'ExpiredError'
}

export class ConflictError extends Error {
  override name = 'ConflictError'
}

export class NotFoundError extends Error {
  override name = 'NotFoundError'
}

class Table {
  readonly byKey = new Map<string, Entry>()
  private sorted: string[] = []
  private dirty = false

  constructor(readonly res: ResourceInfo) {}

  set(e: Entry, isNew: boolean): void {
    this.byKey.set(e.key, e)
    if (!isNew || this.dirty) {
      if (isNew) this.dirty = true
      return
    }
    const i = lowerBound(this.sorted, e.key)
    this.sorted.splice(i, 0, e.key)
  }

  /** Bulk insert: sorting is deferred to the next read. */
  setBulk(e: Entry, isNew: boolean): void {
    this.byKey.set(e.key, e)
    if (isNew) this.dirty = true
  }

  delete(key: string): void {
    if (!this.byKey.delete(key)) return
    if (this.dirty) return
    const i = lowerBound(this.sorted, key)
    if (this.sorted[i] === key) this.sorted.splice(i, 1)
  }

  keys(): readonly string[] {
    if (this.dirty) {
      this.sorted = Array.from(this.byKey.keys()).sort()
      this.dirty = false
    }
    return this.sorted
  }
}

/** First index i with arr[i] >= key. */
export function lowerBound(arr: readonly string[], key: string): number {
  let lo = 0
  let hi = arr.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (arr[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

export function keyOf(res: ResourceInfo, ns: string, name: string): string {
  return res.namespaced ? `${ns}/${name}` : name
}

export interface ChangeListener {
  (ev: StoreEvent, obj: KubeObject): void
}

export interface StoreOptions {
  /** Keep at most this many events (older ones are compacted away automatically). Default: unlimited. */
  maxHistory?: number
  /** Clock for creationTimestamp (ms since epoch). */
  now?: () => number
}

export class Store {
  private rv = 0
  private compactedRv = 0
  private history: StoreEvent[] = []
  private readonly tables = new Map<ResourceInfo, Table>()
  private readonly listeners: ChangeListener[] = []
  private readonly maxHistory: number
  private readonly now: () => number

  constructor(opts: StoreOptions = {}) {
    this.maxHistory = opts.maxHistory ?? Infinity
    this.now = opts.now ?? Date.now
    for (const r of RESOURCES) this.tables.set(r, new Table(r))
  }

  /** The current (latest) resourceVersion. */
  get resourceVersion(): number {
    return this.rv
  }

  /** History before (and at) this resourceVersion is gone: older watches/continues get 410. */
  get compactedResourceVersion(): number {
    return this.compactedRv
  }

  onChange(fn: ChangeListener): () => void {
    this.listeners.push(fn)
    return () => {
      const i = this.listeners.indexOf(fn)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  table(res: ResourceInfo): Table {
    return this.tables.get(res)!
  }

  private stamp(obj: KubeObject, res: ResourceInfo, prev: Entry | undefined, rv: number): { stored: KubeObject; entry: Entry } {
    if (obj.metadata === undefined || typeof obj.metadata.name !== 'string' || obj.metadata.name === '') {
      throw new Error(`fake-apiserver: ${res.kind} without metadata.name`)
    }
    const ns = res.namespaced ? (obj.metadata.namespace ?? 'default') : ''
    const name = obj.metadata.name
    let uid = obj.metadata.uid
    let created = obj.metadata.creationTimestamp
    if (prev !== undefined) {
      const old = JSON.parse(prev.json) as KubeObject
      uid = old.metadata.uid
      created = old.metadata.creationTimestamp
    }
    const metadata: ObjectMeta = { ...obj.metadata }
    if (res.namespaced) metadata.namespace = ns
    else delete metadata.namespace
    metadata.uid = uid ?? randomUUID()
    metadata.resourceVersion = String(rv)
    metadata.creationTimestamp = created ?? new Date(this.now()).toISOString().replace(/\.\d+Z$/, 'Z')
    const stored: KubeObject = { ...obj, apiVersion: res.apiVersion, kind: res.kind, metadata }
    const labels = metadata.labels === undefined ? undefined : { ...metadata.labels }
    const entry: Entry = { key: keyOf(res, ns, name), ns, name, rv, json: JSON.stringify(stored), labels, extra: res.extract(stored) }
    return { stored, entry }
  }

  private commit(ev: StoreEvent, obj: KubeObject): void {
    this.history.push(ev)
    if (this.history.length > this.maxHistory * 1.25 + 16) {
      const drop = this.history.length - this.maxHistory
      this.compactedRv = this.history[drop - 1]!.rv
      this.history = this.history.slice(drop)
    }
    for (const fn of this.listeners.slice()) fn(ev, obj)
  }

  create(obj: KubeObject): KubeObject {
    const res = resourceFor(obj.kind)
    const t = this.table(res)
    const key = keyOf(res, res.namespaced ? (obj.metadata?.namespace ?? 'default') : '', obj.metadata?.name ?? '')
    if (t.byKey.has(key)) throw new ConflictError(`${res.plural} "${obj.metadata.name}" already exists`)
    const { stored, entry } = this.stamp(obj, res, undefined, this.rv + 1)
    this.rv++
    t.set(entry, true)
    this.commit({ type: 'ADDED', res, rv: this.rv, cur: entry, prev: null }, stored)
    return stored
  }

  update(obj: KubeObject): KubeObject {
    const res = resourceFor(obj.kind)
    const t = this.table(res)
    const key = keyOf(res, res.namespaced ? (obj.metadata?.namespace ?? 'default') : '', obj.metadata?.name ?? '')
    const prev = t.byKey.get(key)
    if (prev === undefined) throw new NotFoundError(`${res.plural} "${obj.metadata.name}" not found`)
    const { stored, entry } = this.stamp(obj, res, prev, this.rv + 1)
    this.rv++
    t.set(entry, false)
    this.commit({ type: 'MODIFIED', res, rv: this.rv, cur: entry, prev }, stored)
    return stored
  }

  upsert(obj: KubeObject): KubeObject {
    const res = resourceFor(obj.kind)
    const key = keyOf(res, res.namespaced ? (obj.metadata?.namespace ?? 'default') : '', obj.metadata?.name ?? '')
    return this.table(res).byKey.has(key) ? this.update(obj) : this.create(obj)
  }

  remove(kind: string, ns: string, name: string): boolean {
    const res = resourceFor(kind)
    const t = this.table(res)
    const key = keyOf(res, ns, name)
    const prev = t.byKey.get(key)
    if (prev === undefined) return false
    this.rv++
    const obj = JSON.parse(prev.json) as KubeObject
    obj.metadata.resourceVersion = String(this.rv)
    const cur: Entry = { ...prev, rv: this.rv, json: JSON.stringify(obj) }
    t.delete(key)
    this.commit({ type: 'DELETED', res, rv: this.rv, cur, prev }, obj)
    return true
  }

  /**
   * Bulk load (e.g. generateCluster): every object gets its own resourceVersion, no events are
   * recorded or emitted, and the history is compacted to the end of the load. Returns the count.
   */
  load(objs: Iterable<KubeObject>): number {
    let n = 0
    for (const obj of objs) {
      const res = resourceFor(obj.kind)
      const t = this.table(res)
      const ns = res.namespaced ? (obj.metadata.namespace ?? 'default') : ''
      const prev = t.byKey.get(keyOf(res, ns, obj.metadata.name ?? ''))
      const { entry } = this.stamp(obj, res, prev, this.rv + 1)
      this.rv++
      t.setBulk(entry, prev === undefined)
      n++
    }
    this.compact()
    return n
  }

  get(kind: string, ns: string, name: string): KubeObject | undefined {
    const res = resourceFor(kind)
    const e = this.table(res).byKey.get(keyOf(res, ns, name))
    return e === undefined ? undefined : (JSON.parse(e.json) as KubeObject)
  }

  entry(res: ResourceInfo, ns: string, name: string): Entry | undefined {
    return this.table(res).byKey.get(keyOf(res, ns, name))
  }

  count(kind: string): number {
    return this.table(resourceFor(kind)).byKey.size
  }

  /** Forgets all history up to now. */
  compact(): void {
    this.compactedRv = this.rv
    this.history = []
  }

  /** Events with rv > `after`; throws ExpiredError when that part of the history is compacted. */
  eventsSince(after: number): StoreEvent[] {
    if (after < this.compactedRv) {
      throw new ExpiredError(`too old resource version: ${after} (${this.compactedRv + 1})`)
    }
    const h = this.history
    let lo = 0
    let hi = h.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (h[mid]!.rv <= after) lo = mid + 1
      else hi = mid
    }
    return h.slice(lo)
  }

  /**
   * Iterates the entries of `res` as they were at resourceVersion `atRv` (current state when
   * atRv >= the latest rv), in key order, starting at keys >= `start` and within `prefix`.
   */
  *entriesAt(res: ResourceInfo, atRv: number, prefix: string, start: string): Generator<Entry> {
    const t = this.table(res)
    const keys = t.keys()
    let overlay: Map<string, Entry | null> | null = null
    let extraKeys: string[] = []
    if (atRv < this.rv) {
      overlay = new Map()
      for (const ev of this.eventsSince(atRv)) {
        if (ev.res !== res) continue
        const k = ev.cur.key
        if (!overlay.has(k)) overlay.set(k, ev.prev)
      }
      for (const [k, e] of overlay) {
        if (e !== null && !t.byKey.has(k) && k.startsWith(prefix) && k >= start) extraKeys.push(k)
      }
      extraKeys = extraKeys.sort()
    }
    const from = start > prefix ? start : prefix
    let i = lowerBound(keys, from)
    let j = 0
    for (;;) {
      const a = i < keys.length ? keys[i]! : undefined
      const b = j < extraKeys.length ? extraKeys[j]! : undefined
      let k: string
      if (a !== undefined && !a.startsWith(prefix)) {
        if (b === undefined) return
        k = b
        j++
      } else if (a === undefined) {
        if (b === undefined) return
        k = b
        j++
      } else if (b !== undefined && b < a) {
        k = b
        j++
      } else {
        k = a
        i++
      }
      if (overlay !== null && overlay.has(k)) {
        const e = overlay.get(k)!
        if (e !== null) yield e
      } else {
        yield t.byKey.get(k)!
      }
    }
  }
}
