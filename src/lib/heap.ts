// One full, compacting garbage collection on demand. Used once after the initial Kubernetes sync:
// listing 150,000 objects leaves hundreds of MB of parse garbage that V8 would otherwise keep
// mapped until some later major GC, which is what an operator sees as resident memory after sync.
// Node exposes gc() only with --expose-gc; the flag can be turned on at run time and the function
// fetched from a fresh context (documented V8 behaviour), so the process needs no extra flags.
import v8 from 'node:v8'
import vm from 'node:vm'

let gcFn: (() => void) | null | undefined

export function fullGc(): boolean {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc')
      gcFn = vm.runInNewContext('gc') as () => void
    } catch {
      gcFn = null
    }
  }
  if (!gcFn) return false
  gcFn()
  return true
}
