// Upstream timeouts without a timer per query (STYLE.md §6, undici lib/util/timers.js): every
// waiting exchange is linked into a TimeoutQueue (one per timeout value, so insertion order is
// deadline order) and one coarse, unref'd interval expires the heads that are due. Settling an
// exchange unlinks it in O(1), so nothing is retained past its answer.

/** A waiting exchange. Subclasses set every field in their constructor (stable shapes). */
export abstract class Expirable {
  /** Monotonic ms (performance.now()) after which expire() runs. */
  deadline = 0
  prev: Expirable | null = null
  next: Expirable | null = null
  queue: TimeoutQueue | null = null
  /** Called once by the sweeper when the deadline passed and the item is still queued. */
  abstract expire(): void
}

/** Sweep interval; a deadline fires at most this late. */
export const SWEEP_MS = 25

/** Items that all wait the same time, oldest first. */
export class TimeoutQueue {
  readonly timeoutMs: number
  head: Expirable | null = null
  tail: Expirable | null = null
  size = 0
  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs
  }

  /** Queues `it` with deadline now + timeoutMs. */
  add(it: Expirable, now: number): void {
    it.deadline = now + this.timeoutMs
    it.queue = this
    it.next = null
    it.prev = this.tail
    if (this.tail !== null) this.tail.next = it
    else this.head = it
    this.tail = it
    if (this.size++ === 0) sweeper.watch(this)
  }

  /** Unlinks `it` (no-op when it is not queued here). */
  remove(it: Expirable): void {
    if (it.queue !== this) return
    const p = it.prev
    const n = it.next
    if (p !== null) p.next = n
    else this.head = n
    if (n !== null) n.prev = p
    else this.tail = p
    it.prev = it.next = null
    it.queue = null
    this.size--
  }

  /** Expires every item whose deadline is ≤ now. */
  sweep(now: number): void {
    let it = this.head
    // Bounded: each iteration unlinks one item.
    while (it !== null && it.deadline <= now) {
      this.remove(it)
      it.expire()
      it = this.head
    }
  }
}

class Sweeper {
  private readonly queues = new Set<TimeoutQueue>()
  private timer: NodeJS.Timeout | null = null
  watch(q: TimeoutQueue): void {
    this.queues.add(q)
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), SWEEP_MS)
      this.timer.unref()
    }
  }
  tick(): void {
    const now = performance.now()
    for (const q of this.queues) {
      q.sweep(now)
      if (q.size === 0) this.queues.delete(q)
    }
    if (this.queues.size === 0 && this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
  }
}

/** The process-wide sweeper. */
export const sweeper = new Sweeper()
