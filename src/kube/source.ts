// KubeSource: the running feed behind a kubernetes plugin instance — API reflectors or a
// snapshot file — feeding one KubeStore. Sources are shared process-wide by their options
// (refcounted), so a Corefile reload with unchanged options reuses the records: no relist.
// On reload the old config's shutdown hooks (release) run before the new config's startup hooks
// (acquire), so the last release does not throw the source away: it is *parked* — watches
// closed, no socket or timer keeping the process alive, records kept — for PARK_MS. An acquire
// with the same options meanwhile resumes every watch from its last resourceVersion.

import type { Logger } from '../log/logger.js'
import { ApiClient } from './client.js'
import { Connection, resolveConfig } from './config.js'
import type { Kind, KubeSource, KubeSourceOptions, KubeView } from './model.js'
import { Reflector, Waker, type BackoffOptions } from './reflector.js'
import { parseSelector, type LabelSelector } from './selector.js'
import { SnapshotSource } from './snapshot.js'
import { KubeStore } from './store.js'

export const POD_FIELD_SELECTOR = 'status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown'

/** Test / benchmark knobs (not Corefile options). */
export interface SourceTuning {
  readonly pageSize?: number
  readonly backoff?: BackoffOptions
  readonly watchTimeoutSec?: readonly [number, number]
  readonly snapshotPollMs?: number
  readonly env?: NodeJS.ProcessEnv
  /** Service-account directory for the in-cluster configuration. */
  readonly saRoot?: string
}

/** The kinds a source watches for these options. */
export function kindsFor(o: KubeSourceOptions): Kind[] {
  const kinds: Kind[] = ['services']
  if (o.endpoints) kinds.push('endpointslices')
  kinds.push('namespaces')
  if (o.pods) kinds.push('pods')
  return kinds
}

function keyFor(o: KubeSourceOptions, t: SourceTuning): string {
  return JSON.stringify([
    t,
    o.endpoint,
    o.tls,
    o.kubeconfig,
    o.snapshot,
    o.namespaces,
    o.namespaceLabels,
    o.labels,
    o.pods,
    o.endpoints,
    o.targetNames,
    o.qps,
    o.burst,
    o.maxInflight,
  ])
}

/** One running feed, shared by every acquirer with the same options. */
export class SharedSource {
  readonly key: string
  readonly store: KubeStore
  readonly kinds: readonly Kind[]
  readonly reflectors: readonly Reflector[]
  readonly snapshot: SnapshotSource | null
  readonly client: ApiClient | null
  refs: number
  private readonly conn: Connection | null
  private readonly startedAt: number
  private syncedMs: number
  private stopping: Promise<void> | null

  constructor(key: string, o: KubeSourceOptions, log: Logger, t: SourceTuning) {
    this.key = key
    this.refs = 0
    this.startedAt = performance.now()
    this.syncedMs = -1
    this.stopping = null
    this.kinds = kindsFor(o)
    this.store = new KubeStore({ kinds: this.kinds, namespaces: o.namespaces })
    if (o.snapshot !== null) {
      const labels: LabelSelector | null = o.labels !== null ? parseSelector(o.labels) : null
      const nsLabels: LabelSelector | null = o.namespaceLabels !== null ? parseSelector(o.namespaceLabels) : null
      this.conn = null
      this.client = null
      this.reflectors = []
      this.snapshot = new SnapshotSource({
        file: o.snapshot,
        store: this.store,
        log,
        kinds: this.kinds,
        labels,
        namespaceLabels: nsLabels,
        targetNames: o.targetNames,
        ...(t.snapshotPollMs !== undefined ? { pollMs: t.snapshotPollMs } : {}),
      })
      this.snapshot.start()
    } else {
      this.snapshot = null
      this.conn = new Connection(resolveConfig(o, t.env ?? process.env, t.saRoot))
      this.client = new ApiClient(this.conn, { qps: o.qps, burst: o.burst, maxInflight: o.maxInflight })
      const waker = new Waker()
      const oneNs = o.namespaces !== null && o.namespaces.length === 1 ? o.namespaces[0]! : null
      const refl: Reflector[] = []
      for (const kind of this.kinds) {
        let fieldSelector: string | null = null
        if (kind === 'pods') fieldSelector = POD_FIELD_SELECTOR
        if (kind === 'namespaces' && oneNs !== null) fieldSelector = `metadata.name=${oneNs}`
        refl.push(
          new Reflector({
            kind,
            client: this.client,
            store: this.store,
            log,
            labelSelector: kind === 'namespaces' ? o.namespaceLabels : o.labels,
            fieldSelector,
            namespace: kind === 'namespaces' ? null : oneNs,
            waker,
            targetNames: o.targetNames,
            ...(t.pageSize !== undefined ? { pageSize: t.pageSize } : {}),
            ...(t.backoff !== undefined ? { backoff: t.backoff } : {}),
            ...(t.watchTimeoutSec !== undefined ? { watchTimeoutSec: t.watchTimeoutSec } : {}),
          }),
        )
      }
      this.reflectors = refl
      for (const r of refl) r.start()
    }
    void this.store.whenSynced().then(() => {
      this.syncedMs = performance.now() - this.startedAt
    })
  }

  async waitSynced(timeoutMs: number): Promise<boolean> {
    if (this.store.synced) return true
    let timer: NodeJS.Timeout | null = null
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs)
    })
    try {
      return await Promise.race([this.store.whenSynced().then(() => true), timeout])
    } finally {
      if (timer !== null) clearTimeout(timer)
    }
  }

  progress(): string {
    const store = this.store
    const parts: string[] = []
    const pending: string[] = []
    for (const kind of this.kinds) {
      if (store.isSynced(kind)) {
        parts.push(`${kind} ${store.count(kind)}`)
        continue
      }
      const r = this.reflectors.find((x) => x.kind === kind)
      if (r === undefined) pending.push(`${kind} waiting for ${this.snapshot?.file ?? 'data'}`)
      else {
        const total = r.listTotal >= 0 ? `/${r.listTotal}` : ''
        pending.push(`${kind} ${r.listed}${total}${r.state === 'retrying' ? ' (retrying)' : ''}`)
      }
    }
    const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
    let s = parts.length > 0 ? parts.join(', ') + ' synced' : ''
    if (pending.length === 0) {
      s += ` in ${secs(this.syncedMs >= 0 ? this.syncedMs : performance.now() - this.startedAt)}`
    } else {
      s += `${s !== '' ? '; ' : ''}listing ${pending.join(', ')} after ${secs(performance.now() - this.startedAt)}`
    }
    return s
  }

  /** Closes the watches (or the file watcher); the records stay. */
  stop(): Promise<void> {
    if (this.stopping === null) {
      this.stopping = (async () => {
        this.snapshot?.stop()
        await Promise.all(this.reflectors.map((r) => r.stop()))
        this.conn?.close()
      })()
    }
    return this.stopping
  }

  /** Re-opens what stop() closed: watches resume from their last resourceVersion. */
  async resume(): Promise<void> {
    const s = this.stopping
    if (s === null) return
    await s
    this.stopping = null
    if (this.snapshot !== null) this.snapshot.start(false)
    for (const r of this.reflectors) r.start()
  }
}

/** How long a released source keeps its records for a re-acquire (Corefile reload). */
export const PARK_MS = 30_000

const running = new Map<string, SharedSource>()
const parked = new Map<string, { shared: SharedSource; timer: NodeJS.Timeout }>()

/**
 * Starts (or joins) the feed for these options. Throws KubeConfigError / SelectorError when the
 * options cannot work (bad kubeconfig, missing context, no in-cluster environment).
 */
export function acquireSource(opts: KubeSourceOptions, log: Logger, tuning: SourceTuning = {}): KubeSource & { readonly shared: SharedSource } {
  const key = keyFor(opts, tuning)
  let shared = running.get(key)
  if (shared === undefined) {
    const p = parked.get(key)
    if (p !== undefined) {
      parked.delete(key)
      clearTimeout(p.timer)
      shared = p.shared
      void shared.resume()
    } else shared = new SharedSource(key, opts, log, tuning)
    running.set(key, shared)
  }
  shared.refs++
  const s = shared
  let released = false
  return {
    shared: s,
    view: s.store as KubeView,
    waitSynced: (timeoutMs: number) => s.waitSynced(timeoutMs),
    progress: () => s.progress(),
    release: async () => {
      if (released) return
      released = true
      s.refs--
      if (s.refs > 0) return
      if (running.get(s.key) === s) running.delete(s.key)
      const timer = setTimeout(() => {
        if (parked.get(s.key)?.shared === s) parked.delete(s.key)
      }, PARK_MS)
      timer.unref()
      parked.set(s.key, { shared: s, timer })
      await s.stop()
    },
  }
}

/** Sources currently running (tests); parked ones do not count. */
export function runningSources(): number {
  return running.size
}

/** Drops every parked source at once (tests). */
export function dropParkedSources(): void {
  for (const p of parked.values()) clearTimeout(p.timer)
  parked.clear()
}
