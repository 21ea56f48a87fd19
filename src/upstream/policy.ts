// Upstream selection policies (CoreDNS plugin/forward/policy.go): the order in which a query
// tries the upstreams. Orders are index arrays; the fixed ones are precomputed so the common
// cases allocate nothing per query.

import { randomBelow } from './random.js'

export type PolicyName = 'random' | 'round_robin' | 'sequential'

export interface Policy {
  readonly name: PolicyName
  /** Indexes into the upstream list, in the order to try them. Must not be modified. */
  order(): readonly number[]
}

function identity(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

/** Config order. */
export class Sequential implements Policy {
  readonly name = 'sequential'
  private readonly ids: readonly number[]
  constructor(n: number) {
    this.ids = identity(n)
  }
  order(): readonly number[] {
    return this.ids
  }
}

/** Rotates the start per query; the first query starts at index 1 (CoreDNS increments first). */
export class RoundRobin implements Policy {
  readonly name = 'round_robin'
  private readonly rotations: ReadonlyArray<readonly number[]>
  private robin = 0
  constructor(n: number) {
    const r: number[][] = []
    for (let s = 0; s < n; s++) r.push(identity(n).map((i) => (i + s) % n))
    this.rotations = r
  }
  order(): readonly number[] {
    this.robin = (this.robin + 1) >>> 0
    return this.rotations[this.robin % this.rotations.length]!
  }
}

/** A random permutation per query (one upstream: as is; two: a coin flip). */
export class Random implements Policy {
  readonly name = 'random'
  private readonly n: number
  private readonly fixed: readonly number[]
  private readonly swapped: readonly number[]
  constructor(n: number) {
    this.n = n
    this.fixed = identity(n)
    this.swapped = n === 2 ? [1, 0] : this.fixed
  }
  order(): readonly number[] {
    const n = this.n
    if (n <= 1) return this.fixed
    if (n === 2) return randomBelow(2) === 0 ? this.fixed : this.swapped
    const p = identity(n)
    for (let i = n - 1; i > 0; i--) {
      const j = randomBelow(i + 1)
      const t = p[i]!
      p[i] = p[j]!
      p[j] = t
    }
    return p
  }
}

export function makePolicy(name: PolicyName, n: number): Policy {
  switch (name) {
    case 'random':
      return new Random(n)
    case 'round_robin':
      return new RoundRobin(n)
    case 'sequential':
      return new Sequential(n)
  }
}
