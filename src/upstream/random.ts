// Unpredictable 16-bit message IDs and small random integers from a refilled crypto buffer
// (one randomFillSync per 4096 draws instead of one per query).

import { randomFillSync } from 'node:crypto'

const POOL = new Uint16Array(4096)
let at = POOL.length

/** A uniformly random integer in [0, 65535]. */
export function random16(): number {
  if (at === POOL.length) {
    randomFillSync(POOL)
    at = 0
  }
  return POOL[at++]!
}

/** A random integer in [0, n) for 0 < n ≤ 65536 (modulo bias is negligible for small n). */
export function randomBelow(n: number): number {
  return n <= 1 ? 0 : random16() % n
}
