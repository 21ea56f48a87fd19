// Giving memory back after a burst of allocation (the initial Kubernetes list). Node exposes gc()
// only with --expose-gc; the flag can be turned on at run time and the function fetched from a
// fresh context (documented V8 behaviour), so the process needs no extra flags.
import v8 from 'node:v8'
import vm from 'node:vm'

type GcFn = (o?: { type?: 'major' | 'minor' }) => void
let gcFn: GcFn | null | undefined

function getGc(): GcFn | null {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc')
      gcFn = vm.runInNewContext('gc') as GcFn
    } catch {
      gcFn = null
    }
  }
  return gcFn
}

/** Committed size of V8's young generation (both semi-spaces), bytes. */
function youngGenerationSize(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size
  return 0
}

const SETTLE_STEP_MS = 20
const SETTLE_STEPS = 50
/** A young generation this small was never grown (V8 starts at 1 MB). */
const SMALL_YOUNG = 2 << 20

/**
 * After a burst of allocation: one full GC (listing 150,000 objects leaves hundreds of MB of parse
 * garbage that V8 would otherwise keep until some later major GC), then young-generation GCs
 * SETTLE_STEP_MS apart until V8 shrinks the young generation back. The burst grows it to 2 x 16
 * MB of semi-spaces, all resident; V8 shrinks it only at a scavenge that finds the allocation
 * rate of its last samples low, and an idle process runs no scavenge at all, so without this the
 * 32 MB would stay for good. Bounded to SETTLE_STEPS tries (1 s): under a load that keeps the
 * allocation rate high the young generation stays as V8 sized it. Resolves with the young
 * generation's size at the end.
 */
export function settleHeap(): Promise<number> {
  const gc = getGc()
  if (gc === null) return Promise.resolve(youngGenerationSize())
  gc()
  const start = youngGenerationSize()
  if (start <= SMALL_YOUNG) return Promise.resolve(start)
  return new Promise((resolve) => {
    let n = 0
    const t = setInterval(() => {
      gc({ type: 'minor' })
      const size = youngGenerationSize()
      if (size < start || ++n >= SETTLE_STEPS) {
        clearInterval(t)
        resolve(size)
      }
    }, SETTLE_STEP_MS)
    t.unref()
  })
}
