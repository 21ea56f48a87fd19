// `fallthrough [ZONES...]` (CoreDNS plugin/pkg/fall): off, every name, or names under ZONES.
// Caveat (as in CoreDNS): a plugin only consults it for names it could not answer; what "could
// not answer" means is the plugin's own rule (hosts: a name it does not know at all).

import { isSubdomain } from '../dns/name.js'

export class Fall {
  /** null = fallthrough not configured. */
  readonly zones: readonly string[] | null
  /** true when configured without zones (or with the root zone). */
  readonly all: boolean
  constructor(zones: readonly string[] | null) {
    this.zones = zones
    this.all = zones !== null && (zones.length === 0 || zones.includes('.'))
  }
  get enabled(): boolean {
    return this.zones !== null
  }
  /** Whether a query for `name` should go on to the next plugin. */
  through(name: string): boolean {
    const zones = this.zones
    if (zones === null) return false
    if (this.all) return true
    for (let i = 0; i < zones.length; i++) if (isSubdomain(name, zones[i]!)) return true
    return false
  }
}

export const NO_FALL = new Fall(null)
