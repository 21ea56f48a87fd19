// The ZONES a hosts plugin is authoritative for, as a set walked label by label.

import { isSubdomain } from '../../dns/name.js'

/** Index just after the first unescaped '.' of a presentation name, or -1. */
export function afterFirstLabel(name: string): number {
  const n = name.length
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i)
    if (c === 0x5c) i++
    else if (c === 0x2e) return i + 1
  }
  return -1
}

export class ZoneSet {
  readonly zones: readonly string[]
  readonly set: ReadonlySet<string>
  /** The root zone is one of the zones: every name is inside. */
  readonly hasRoot: boolean
  /**
   * true when every name the server block can route here is inside the zones (no ZONES given,
   * the root zone, or zones covering all the block's keys): the per-query check is skipped.
   */
  readonly all: boolean
  constructor(zones: readonly string[], blockZones: readonly string[]) {
    this.zones = zones
    this.set = new Set(zones)
    this.hasRoot = this.set.has('.')
    let all = this.hasRoot
    if (!all && blockZones.length > 0) {
      all = true
      for (const b of blockZones) {
        if (!this.covers(b)) {
          all = false
          break
        }
      }
    }
    this.all = all
  }
  private covers(name: string): boolean {
    for (const z of this.zones) if (isSubdomain(name, z)) return true
    return false
  }
  /** Whether a query name routed to this block is in the zones (skips the walk when `all`). */
  matches(nameLower: string): boolean {
    return this.all || this.contains(nameLower)
  }
  /** Whether a lower-case FQDN is one of the zones or below one (always walks). */
  contains(nameLower: string): boolean {
    if (this.hasRoot) return true
    const set = this.set
    let n = nameLower
    for (;;) {
      if (set.has(n)) return true
      const i = afterFirstLabel(n)
      if (i < 0 || i >= n.length) return false
      n = n.slice(i)
    }
  }
}
