// A set of zones (lower-case FQDNs) answering "is this name at or below one of them?" with one Set
// lookup per label of the name. Used by plugins that take ZONES arguments.

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
  private readonly set: ReadonlySet<string>
  /** The root zone is one of the zones: every name is inside. */
  readonly all: boolean
  constructor(zones: readonly string[]) {
    this.zones = zones
    this.set = new Set(zones)
    this.all = this.set.has('.')
  }
  /** Whether a lower-case FQDN is one of the zones or below one. */
  contains(nameLower: string): boolean {
    if (this.all) return true
    const set = this.set
    if (set.size === 0) return false
    let n = nameLower
    for (;;) {
      if (set.has(n)) return true
      const i = afterFirstLabel(n)
      if (i < 0 || i >= n.length) return false
      n = n.slice(i)
    }
  }
}
