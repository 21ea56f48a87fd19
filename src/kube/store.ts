// The in-memory records of the watched kinds and the indexes the kubernetes plugin reads
// (kubernetes-dns.md §2, §2.1). Every watch event is applied incrementally: the stored record is
// swapped and only the index entries it touches change. Index values are copy-on-write arrays,
// so an array returned by a lookup never changes afterwards. Records are kept in nested maps
// (namespace → name → record): a lookup needs no key string built per query.

import {
  TerminatingPod,
  Unusable,
  type Item,
  type ObjKey,
  type Rec,
} from './convert.js'
import type {
  Kind,
  KubeView,
  NamespaceRec,
  PodRec,
  PortRec,
  ServiceRec,
  SliceRec,
} from './model.js'

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

/** Called after every applied event (key = the object) or (re)list (key = null). */
export type ChangeListener = (kind: Kind, key: ObjKey | null) => void

export interface StoreOptions {
  /** The kinds being watched; `synced` once each was marked synced. */
  readonly kinds: readonly Kind[]
  /** `namespaces` option: objects (and namespaces) elsewhere are dropped at ingest; null = all. */
  readonly namespaces?: readonly string[] | null
  /** Unix seconds (the SOA serial clock); injectable for tests. */
  readonly now?: () => number
}

const NONE: readonly never[] = Object.freeze([])

function unixNow(): number {
  return Math.floor(Date.now() / 1000)
}

/**
 * Adds, swaps or removes one value in a copy-on-write multi-index entry (order kept). `one` gives
 * the shared one-element array of a value when many keys point to just that value (a slice's
 * addresses), so each key does not need its own array.
 */
function indexSwap<V>(
  map: Map<string, readonly V[]>,
  key: string,
  old: V | null,
  neu: V | null,
  one: ((v: V) => readonly V[]) | null = null,
): void {
  const cur = map.get(key)
  if (cur === undefined) {
    if (neu !== null) map.set(key, one !== null ? one(neu) : [neu])
    return
  }
  const i = old === null ? -1 : cur.indexOf(old)
  if (i >= 0) {
    if (neu !== null) {
      if (cur.length === 1 && one !== null) map.set(key, one(neu))
      else {
        const next = cur.slice()
        next[i] = neu
        map.set(key, next)
      }
    } else if (cur.length === 1) map.delete(key)
    else map.set(key, cur.filter((_, j) => j !== i))
  } else if (neu !== null) map.set(key, [...cur, neu])
}

function nested<V>(m: Map<string, Map<string, V>>, ns: string): Map<string, V> {
  let inner = m.get(ns)
  if (inner === undefined) {
    inner = new Map()
    m.set(ns, inner)
  }
  return inner
}

function samePorts(a: readonly PortRec[], b: readonly PortRec[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x !== y && (x.port !== y.port || x.name !== y.name || x.protocol !== y.protocol)) return false
  }
  return true
}

/** §2 serial rule for services: externalName or ports changed. */
function serviceRelevant(a: ServiceRec, b: ServiceRec): boolean {
  return a.externalName !== b.externalName || !samePorts(a.ports, b.ports)
}

/** §2 serial rule for slices: ready addresses, hostnames or ports changed (or the owning service). */
function sliceRelevant(a: SliceRec, b: SliceRec): boolean {
  if (a.service !== b.service || !samePorts(a.ports, b.ports)) return true
  const ea = a.endpoints.filter((e) => e.ready)
  const eb = b.endpoints.filter((e) => e.ready)
  if (ea.length !== eb.length) return true
  for (let i = 0; i < ea.length; i++) {
    const x = ea[i]!
    const y = eb[i]!
    if (x.hostname !== y.hostname || x.addresses.length !== y.addresses.length) return true
    for (let j = 0; j < x.addresses.length; j++) if (x.addresses[j] !== y.addresses[j]) return true
  }
  return false
}

const NO_IPS: ReadonlySet<string> = new Set()

/** Ready addresses of a slice, without duplicates. */
function readyAddresses(s: SliceRec | null): ReadonlySet<string> {
  if (s === null || s.service === '') return NO_IPS
  const out = new Set<string>()
  for (const e of s.endpoints) {
    if (!e.ready) continue
    for (const a of e.addresses) out.add(a)
  }
  return out
}

/** The namespace part of an item's key ('' for namespaces). */
function nsOf(kind: Kind, item: Item | ObjKey): string {
  return kind === 'namespaces' ? '' : (item as ObjKey).namespace
}

/** A relist in progress: items are applied as they come; `commit` drops what was not seen. */
export interface ReplaceSession {
  /** Applies one listed object. */
  add(item: Item): void
  /** Forgets what was seen so far (the list restarted from scratch). */
  reset(): void
  /** Removes every stored object of the kind that the list did not contain. Returns how many. */
  commit(): number
  /** Objects seen so far. */
  readonly seen: number
}

export class KubeStore implements KubeView {
  synced: boolean
  serial: number
  /** Increments on every applied event and every committed (re)list. */
  version: number
  private readonly kinds: ReadonlySet<Kind>
  private readonly syncedKinds: Set<Kind>
  private readonly nsFilter: ReadonlySet<string> | null
  private readonly now: () => number
  private readonly listeners: ChangeListener[]
  private syncWaiters: Array<() => void>
  private readonly svc: Map<string, Map<string, ServiceRec>>
  private readonly svcByIP: Map<string, readonly ServiceRec[]>
  private readonly slices: Map<string, Map<string, SliceRec>>
  private readonly slicesBySvc: Map<string, Map<string, readonly SliceRec[]>>
  private readonly sliceByIP: Map<string, readonly SliceRec[]>
  /** The shared [slice] array of each slice indexed by address. */
  private readonly sliceOne: Map<SliceRec, readonly SliceRec[]>
  private readonly oneOf: (s: SliceRec) => readonly SliceRec[]
  private readonly pods: Map<string, Map<string, PodRec>>
  private readonly podByIP: Map<string, readonly PodRec[]>
  private readonly nss: Map<string, NamespaceRec>
  private readonly counts: Record<Kind, number>

  constructor(o: StoreOptions) {
    this.synced = o.kinds.length === 0
    this.serial = 0
    this.version = 0
    this.kinds = new Set(o.kinds)
    this.syncedKinds = new Set()
    this.nsFilter = o.namespaces ? new Set(o.namespaces) : null
    this.now = o.now ?? unixNow
    this.listeners = []
    this.syncWaiters = []
    this.svc = new Map()
    this.svcByIP = new Map()
    this.slices = new Map()
    this.slicesBySvc = new Map()
    this.sliceByIP = new Map()
    this.sliceOne = new Map()
    this.oneOf = (sl) => {
      let a = this.sliceOne.get(sl)
      if (a === undefined) this.sliceOne.set(sl, (a = Object.freeze([sl])))
      return a
    }
    this.pods = new Map()
    this.podByIP = new Map()
    this.nss = new Map()
    this.counts = { services: 0, endpointslices: 0, pods: 0, namespaces: 0 }
  }

  // ------------------------------------------------------------------------------------------
  // KubeView

  namespaceExists(ns: string): boolean {
    return this.nss.has(ns)
  }

  service(namespace: string, name: string): ServiceRec | undefined {
    return this.svc.get(namespace)?.get(name)
  }

  servicesByIP(ip: string): readonly ServiceRec[] {
    return this.svcByIP.get(ip) ?? NONE
  }

  slicesOf(namespace: string, service: string): readonly SliceRec[] {
    return this.slicesBySvc.get(namespace)?.get(service) ?? NONE
  }

  slicesByIP(ip: string): readonly SliceRec[] {
    return this.sliceByIP.get(ip) ?? NONE
  }

  podsByIP(ip: string): readonly PodRec[] {
    return this.podByIP.get(ip) ?? NONE
  }

  *services(): Iterable<ServiceRec> {
    for (const m of this.svc.values()) yield* m.values()
  }

  // ------------------------------------------------------------------------------------------
  // Extra reads (sources, tests, progress)

  /** Stored objects of a kind. */
  count(kind: Kind): number {
    return this.counts[kind]
  }

  isSynced(kind: Kind): boolean {
    return this.syncedKinds.has(kind)
  }

  /** The stored record of an object, if any. */
  get(kind: Kind, namespace: string, name: string): Rec | undefined {
    switch (kind) {
      case 'services':
        return this.svc.get(namespace)?.get(name)
      case 'endpointslices':
        return this.slices.get(namespace)?.get(name)
      case 'pods':
        return this.pods.get(namespace)?.get(name)
      case 'namespaces':
        return this.nss.get(name)
    }
  }

  /** All pods / slices (tests, zone transfer helpers). */
  *all(kind: Kind): Iterable<Rec> {
    switch (kind) {
      case 'services':
        for (const m of this.svc.values()) yield* m.values()
        return
      case 'endpointslices':
        for (const m of this.slices.values()) yield* m.values()
        return
      case 'pods':
        for (const m of this.pods.values()) yield* m.values()
        return
      case 'namespaces':
        yield* this.nss.values()
    }
  }

  /** Subscribes to applied changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.push(listener)
    return () => {
      const i = this.listeners.indexOf(listener)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  // ------------------------------------------------------------------------------------------
  // Writes

  /** Marks a kind's initial list done; `synced` turns true once every watched kind is. */
  markSynced(kind: Kind): void {
    this.syncedKinds.add(kind)
    if (!this.synced) {
      let all = true
      for (const k of this.kinds) if (!this.syncedKinds.has(k)) all = false
      this.synced = all
      if (all) {
        const ws = this.syncWaiters
        this.syncWaiters = []
        for (const w of ws) w()
      }
    }
  }

  /** Resolves once every watched kind is synced. */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve()
    return new Promise((resolve) => this.syncWaiters.push(resolve))
  }

  /**
   * Applies one watch event. ADDED/MODIFIED take the converted item (a record, Unusable → any
   * cached version goes, TerminatingPod → ignored per the pod QUIRK); DELETED takes the record or
   * just its key.
   */
  apply(kind: Kind, type: EventType, item: Item | ObjKey): void {
    const ns = nsOf(kind, item)
    if (this.nsFilter === null || this.nsFilter.has(kind === 'namespaces' ? item.name : ns)) {
      if (type === 'DELETED' || item instanceof Unusable) this.remove(kind, ns, item.name)
      else if (!(item instanceof TerminatingPod)) this.put(kind, item as Rec)
    }
    this.version++
    if (this.listeners.length > 0) this.notify(kind, { namespace: ns, name: item.name })
  }

  /** Replaces a kind's whole content with a (re)list: objects missing from it disappear. */
  replace(kind: Kind, items: Iterable<Item>): void {
    const s = this.beginReplace(kind)
    for (const it of items) s.add(it)
    s.commit()
  }

  /**
   * Starts a (re)list applied page by page: objects are updated as they come (the store keeps
   * serving meanwhile) and `commit` removes those the list did not contain.
   */
  beginReplace(kind: Kind): ReplaceSession {
    let seen = new Map<string, Set<string>>()
    let n = 0
    const store = this
    return {
      get seen() {
        return n
      },
      add(item: Item): void {
        const ns = nsOf(kind, item)
        if (store.nsFilter !== null && !store.nsFilter.has(kind === 'namespaces' ? item.name : ns)) return
        if (item instanceof Unusable) return // not marked: removed at commit
        if (item instanceof TerminatingPod) {
          // QUIRK: keeps the cached version if there is one, never adds
          if (store.get(kind, ns, item.name) === undefined) return
        } else store.put(kind, item)
        store.version++ // served meanwhile: memoised answers must see the change
        let names = seen.get(ns)
        if (names === undefined) seen.set(ns, (names = new Set()))
        names.add(item.name)
        n++
      },
      reset(): void {
        seen = new Map()
        n = 0
      },
      commit(): number {
        const gone: ObjKey[] = []
        for (const r of store.all(kind)) {
          const ns = kind === 'namespaces' ? '' : (r as { namespace: string }).namespace
          if (seen.get(ns)?.has(r.name) !== true) gone.push({ namespace: ns, name: r.name })
        }
        for (const k of gone) store.remove(kind, k.namespace, k.name)
        seen = new Map()
        store.version++
        store.notify(kind, null)
        return gone.length
      },
    }
  }

  private notify(kind: Kind, key: ObjKey | null): void {
    const ls = this.listeners
    if (ls.length === 0) return
    for (const l of ls.slice()) l(kind, key)
  }

  private touch(): void {
    this.serial = this.now()
  }

  private put(kind: Kind, rec: Rec): void {
    switch (kind) {
      case 'services': {
        const r = rec as ServiceRec
        const m = nested(this.svc, r.namespace)
        const old = m.get(r.name) ?? null
        m.set(r.name, r)
        if (old === null) this.counts.services++
        this.indexService(old, r)
        if (old === null || serviceRelevant(old, r)) this.touch()
        return
      }
      case 'endpointslices': {
        const r = rec as SliceRec
        const m = nested(this.slices, r.namespace)
        const old = m.get(r.name) ?? null
        m.set(r.name, r)
        if (old === null) this.counts.endpointslices++
        this.indexSlice(old, r)
        if (old === null || sliceRelevant(old, r)) this.touch()
        return
      }
      case 'pods': {
        const r = rec as PodRec
        const m = nested(this.pods, r.namespace)
        const old = m.get(r.name) ?? null
        m.set(r.name, r)
        if (old === null) this.counts.pods++
        if (old !== null && old.ip === r.ip) indexSwap(this.podByIP, r.ip, old, r)
        else {
          if (old !== null) indexSwap(this.podByIP, old.ip, old, null)
          indexSwap(this.podByIP, r.ip, null, r)
          this.touch()
        }
        return
      }
      case 'namespaces': {
        const r = rec as NamespaceRec
        if (!this.nss.has(r.name)) this.counts.namespaces++
        this.nss.set(r.name, r) // namespace changes never touch the serial (§2)
        return
      }
    }
  }

  private remove(kind: Kind, namespace: string, name: string): void {
    switch (kind) {
      case 'services': {
        const m = this.svc.get(namespace)
        const old = m?.get(name)
        if (m === undefined || old === undefined) return
        m.delete(name)
        if (m.size === 0) this.svc.delete(namespace)
        this.counts.services--
        this.indexService(old, null)
        this.touch()
        return
      }
      case 'endpointslices': {
        const m = this.slices.get(namespace)
        const old = m?.get(name)
        if (m === undefined || old === undefined) return
        m.delete(name)
        if (m.size === 0) this.slices.delete(namespace)
        this.counts.endpointslices--
        this.indexSlice(old, null)
        this.touch()
        return
      }
      case 'pods': {
        const m = this.pods.get(namespace)
        const old = m?.get(name)
        if (m === undefined || old === undefined) return
        m.delete(name)
        if (m.size === 0) this.pods.delete(namespace)
        this.counts.pods--
        indexSwap(this.podByIP, old.ip, old, null)
        this.touch()
        return
      }
      case 'namespaces':
        if (this.nss.delete(name)) this.counts.namespaces--
        return
    }
  }

  private indexService(old: ServiceRec | null, neu: ServiceRec | null): void {
    if (old !== null) {
      for (const ip of old.clusterIPs) {
        indexSwap(this.svcByIP, ip, old, neu !== null && neu.clusterIPs.includes(ip) ? neu : null)
      }
    }
    if (neu !== null) {
      for (const ip of neu.clusterIPs) if (old === null || !old.clusterIPs.includes(ip)) indexSwap(this.svcByIP, ip, null, neu)
    }
  }

  private indexSlice(old: SliceRec | null, neu: SliceRec | null): void {
    // by service (a slice without the service-name label belongs to no service, §2)
    if (old !== null && neu !== null && old.service === neu.service && old.namespace === neu.namespace) {
      if (neu.service !== '') this.swapBySvc(neu.namespace, neu.service, old, neu)
    } else {
      if (old !== null && old.service !== '') this.swapBySvc(old.namespace, old.service, old, null)
      if (neu !== null && neu.service !== '') this.swapBySvc(neu.namespace, neu.service, null, neu)
    }
    // by ready address (only slices of a service: others are "not found" for PTR, §2)
    const oldIPs = readyAddresses(old)
    const newIPs = readyAddresses(neu)
    for (const ip of oldIPs) indexSwap(this.sliceByIP, ip, old, newIPs.has(ip) ? neu : null, this.oneOf)
    for (const ip of newIPs) if (!oldIPs.has(ip)) indexSwap(this.sliceByIP, ip, null, neu, this.oneOf)
    if (old !== null && old !== neu) this.sliceOne.delete(old)
  }

  private swapBySvc(ns: string, service: string, old: SliceRec | null, neu: SliceRec | null): void {
    const m = nested(this.slicesBySvc, ns)
    indexSwap(m, service, old, neu)
    if (m.size === 0) this.slicesBySvc.delete(ns)
  }
}
