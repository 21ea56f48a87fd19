// The hosts data of one plugin instance: the file (re-read when its mtime or size changes) plus
// the Corefile's inline entries, compiled into one HostsTable that is swapped as a whole.

import { readFileSync, statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import type { Logger } from '../../log/logger.js'
import { buildTable, HostsMap, parseHosts, type HostsTable } from './hostsfile.js'
import type { ZoneSet } from './zones.js'

export interface StoreOptions {
  /** Absolute path of the hosts file. */
  path: string
  ttl: number
  /** Generate PTR answers (false with `no_reverse`). */
  reverse: boolean
  zones: ZoneSet
  /** Inline entries of the Corefile block, already parsed. */
  inline: HostsMap
  log: Logger
}

function errCode(e: unknown): string {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    ? (e as { code: string }).code
    : ''
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

export type LoadResult = 'ok' | 'missing' | 'directory'

export class HostsStore {
  readonly path: string
  readonly ttl: number
  readonly reverse: boolean
  readonly zones: ZoneSet
  readonly inline: HostsMap
  readonly log: Logger
  /** Entries read from the file; null while it is missing or was never read. */
  fileMap: HostsMap | null
  /** What the handler serves. */
  table: HostsTable
  /** mtime (ms) and size of the file when last read; -1 before. */
  mtimeMs: number
  size: number
  /** coredns_hosts_entries: addresses and PTR names currently served. */
  entries: number
  /** coredns_hosts_reload_timestamp_seconds: when the data was last (re)built; 0 before. */
  reloadTimestamp: number
  /** Number of successful file (re)reads. */
  reads: number
  private polling: boolean
  private timer: NodeJS.Timeout | null
  private readonly tick: () => void
  constructor(o: StoreOptions) {
    this.path = o.path
    this.ttl = o.ttl
    this.reverse = o.reverse
    this.zones = o.zones
    this.inline = o.inline
    this.log = o.log
    this.fileMap = null
    this.mtimeMs = -1
    this.size = -1
    this.entries = 0
    this.reloadTimestamp = 0
    this.reads = 0
    this.polling = false
    this.timer = null
    this.tick = () => {
      void this.poll()
    }
    this.table = this.build()
  }

  private build(): HostsTable {
    const zones = this.zones
    const inZone = (n: string): boolean => zones.contains(n)
    let merged: HostsMap
    if (this.fileMap === null) merged = this.inline
    else {
      merged = new HostsMap()
      merged.merge(this.fileMap)
      merged.merge(this.inline)
    }
    const t = buildTable(merged, this.ttl, this.reverse, inZone)
    this.entries = t.entries
    this.reloadTimestamp = Date.now() / 1000
    return t
  }

  private parse(text: string): HostsMap {
    const zones = this.zones
    return parseHosts(text, (n) => zones.contains(n))
  }

  /**
   * First read, synchronous (setup time). A missing file or a directory is not an error (inline
   * entries serve, the file is picked up when it appears); other read errors are thrown.
   */
  loadSync(): LoadResult {
    let st
    try {
      st = statSync(this.path)
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return 'missing'
      throw e
    }
    if (st.isDirectory()) return 'directory'
    const text = readFileSync(this.path, 'latin1')
    this.fileMap = this.parse(text)
    this.mtimeMs = st.mtimeMs
    this.size = st.size
    this.reads++
    this.table = this.build()
    return 'ok'
  }

  /**
   * Re-reads the file if its mtime or size changed. A deleted file, or any other failure, logs
   * and keeps the previous data (CoreDNS does the same). Never rejects.
   */
  async poll(): Promise<void> {
    if (this.polling) return
    this.polling = true
    try {
      let st
      try {
        st = await stat(this.path)
      } catch (e) {
        const code = errCode(e)
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          // As CoreDNS: a file that went away keeps its last entries serving (with the inline
          // ones) until it comes back; a ConfigMap update briefly removes the file.
          if (this.mtimeMs !== -1) {
            this.log.warn(`File does not exist: ${this.path}; keeping its last entries`)
            this.mtimeMs = -1
            this.size = -1
          }
          return
        }
        this.log.error(`unable to access hosts file '${this.path}': ${errText(e)}`)
        return
      }
      if (st.isDirectory()) {
        if (this.mtimeMs !== -2) this.log.error(`Hosts file "${this.path}" is a directory; keeping previous data`)
        this.mtimeMs = -2
        return
      }
      if (st.mtimeMs === this.mtimeMs && st.size === this.size) return
      const text = await readFile(this.path, 'latin1')
      this.fileMap = this.parse(text)
      this.mtimeMs = st.mtimeMs
      this.size = st.size
      this.reads++
      this.table = this.build()
      this.log.debug(`Parsed hosts file into ${this.entries} entries`)
    } catch (e) {
      this.log.error(`unable to read hosts file '${this.path}': ${errText(e)}; keeping previous data`)
    } finally {
      this.polling = false
    }
  }

  /** Starts polling every `intervalMs` (unref'd: never keeps the process alive). */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer !== null) return
    this.timer = setInterval(this.tick, intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
  }
}
