// Our extension `kubernetes cluster.local { snapshot FILE }`: serve the objects of a file in the
// form `kubectl get svc,endpointslices,pods,namespaces -A -o yaml|json` prints (a v1 List of
// mixed kinds), or multi-document YAML, or a single object; typed lists (ServiceList ...) too.
// The file is re-read when it changes (fs.watch on its directory + an mtime/size poll as a
// fallback); a file that cannot be read or parsed is logged and the last good data keeps serving.

import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import yaml from 'js-yaml'
import type { Logger } from '../log/logger.js'
import { convert, kindOf, labelsOf, type ApiObject, type Item } from './convert.js'
import type { Kind } from './model.js'
import type { LabelSelector } from './selector.js'
import type { KubeStore } from './store.js'

export class SnapshotError extends Error {
  override name = 'SnapshotError'
  readonly code = 'ERR_KUBE_SNAPSHOT'
}

function isObj(v: unknown): v is ApiObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function flatten(doc: unknown, out: ApiObject[], itemKind: string | null): void {
  if (doc === null || doc === undefined) return
  if (Array.isArray(doc)) {
    for (const d of doc) flatten(d, out, itemKind)
    return
  }
  if (!isObj(doc)) throw new SnapshotError(`unexpected ${typeof doc} where an object was expected`)
  const kind = doc['kind']
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(doc['items'])) {
    // v1 List (items carry their kind) or a typed list such as ServiceList (they may not)
    const inner = kind === 'List' ? null : kind.slice(0, -4)
    for (const it of doc['items'] as unknown[]) flatten(it, out, inner)
    return
  }
  if (typeof kind !== 'string' && itemKind !== null) out.push({ ...doc, kind: itemKind })
  else out.push(doc)
}

/** The objects of a snapshot text (JSON or YAML, one or more documents). */
export function parseSnapshot(text: string): ApiObject[] {
  const out: ApiObject[] = []
  const t = text.trimStart()
  if (t.startsWith('{') || t.startsWith('[')) {
    let doc: unknown
    let ok = true
    try {
      doc = JSON.parse(t)
    } catch {
      ok = false // maybe YAML flow style or several documents
    }
    if (ok) {
      flatten(doc, out, null)
      return out
    }
  }
  let docs: unknown[]
  try {
    docs = yaml.loadAll(text)
  } catch (e) {
    throw new SnapshotError(e instanceof Error ? e.message.split('\n')[0]! : String(e), { cause: e })
  }
  for (const d of docs) flatten(d, out, null)
  return out
}

export interface SnapshotOptions {
  readonly file: string
  readonly store: KubeStore
  readonly log: Logger
  readonly kinds: readonly Kind[]
  /** `labels`: services, slices, pods must match. */
  readonly labels: LabelSelector | null
  /** `namespace_labels`: namespaces must match. */
  readonly namespaceLabels: LabelSelector | null
  /** Keep endpoints' targetRef names (convert.sliceFromAPI); default true. */
  readonly targetNames?: boolean
  /** mtime/size poll interval. Default 2000 ms. */
  readonly pollMs?: number
}

export class SnapshotSource {
  readonly file: string
  /** Successful loads / failed attempts. */
  loads: number
  errors: number
  /** Objects applied by the last load, per kind. */
  counts: Record<Kind, number>
  lastLoadMs: number
  private readonly o: SnapshotOptions
  private stamp: string
  private watcher: FSWatcher | null
  private timer: NodeJS.Timeout | null
  private debounce: NodeJS.Timeout | null

  constructor(o: SnapshotOptions) {
    this.o = o
    this.file = o.file
    this.loads = 0
    this.errors = 0
    this.counts = { services: 0, endpointslices: 0, pods: 0, namespaces: 0 }
    this.lastLoadMs = -1
    this.stamp = ''
    this.watcher = null
    this.timer = null
    this.debounce = null
  }

  /** Loads the file now (synchronously; unless unchanged and not forced) and starts watching it. */
  start(force = true): void {
    this.check(force)
    try {
      this.watcher = watch(dirname(this.file), { persistent: false }, (_ev, name) => {
        if (name !== null && name !== basename(this.file)) return
        if (this.debounce !== null) clearTimeout(this.debounce)
        this.debounce = setTimeout(() => {
          this.debounce = null
          this.check(false)
        }, 30)
      })
      this.watcher.on('error', () => {
        this.watcher?.close()
        this.watcher = null // the poll still runs
      })
    } catch {
      this.watcher = null
    }
    this.timer = setInterval(() => this.check(false), this.o.pollMs ?? 2000)
    this.timer.unref()
  }

  stop(): void {
    this.watcher?.close()
    this.watcher = null
    if (this.timer !== null) clearInterval(this.timer)
    if (this.debounce !== null) clearTimeout(this.debounce)
    this.timer = null
    this.debounce = null
  }

  /** Re-reads the file when its mtime, size or inode changed (or always with force). */
  check(force: boolean): boolean {
    let stamp: string
    try {
      const st = statSync(this.file)
      stamp = `${st.mtimeMs}/${st.size}/${st.ino}`
    } catch (e) {
      if (this.stamp !== 'missing') {
        this.stamp = 'missing'
        this.errors++
        this.o.log.error(`snapshot ${this.file}: ${e instanceof Error ? e.message : String(e)}; keeping the last data`)
      }
      return false
    }
    if (!force && stamp === this.stamp) return false
    this.stamp = stamp
    return this.load()
  }

  /** Reads, parses and applies the file; false (last data kept) on any error. */
  load(): boolean {
    const t0 = performance.now()
    let objs: ApiObject[]
    try {
      objs = parseSnapshot(readFileSync(this.file, 'utf8'))
    } catch (e) {
      this.errors++
      this.o.log.error(`snapshot ${this.file}: ${e instanceof Error ? e.message : String(e)}; keeping the last data`)
      return false
    }
    const byKind: Record<Kind, Item[]> = { services: [], endpointslices: [], pods: [], namespaces: [] }
    const wanted = new Set(this.o.kinds)
    for (const o of objs) {
      const kind = kindOf(o)
      if (kind === null || !wanted.has(kind)) continue
      const sel = kind === 'namespaces' ? this.o.namespaceLabels : this.o.labels
      if (sel !== null && !sel.matches(labelsOf(o))) continue
      byKind[kind].push(convert(kind, o, this.o.targetNames ?? true))
    }
    const store = this.o.store
    for (const kind of this.o.kinds) {
      store.replace(kind, byKind[kind])
      this.counts[kind] = byKind[kind].length
      store.markSynced(kind)
    }
    this.loads++
    this.lastLoadMs = performance.now() - t0
    if (this.loads > 1) {
      this.o.log.info(`snapshot ${this.file} reloaded: ${this.o.kinds.map((k) => `${k} ${store.count(k)}`).join(', ')}`)
    }
    return true
  }
}
