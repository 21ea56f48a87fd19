// One low-resolution clock for TTL arithmetic on hot paths (undici lib/util/timers.js style):
// an unref'd interval refreshes a number field, so a query reads a property instead of calling
// Date.now(). Handlers take a `Clock` so tests inject a ManualClock and move time by hand.

/** Milliseconds since the epoch, refreshed at most `tickMs` late. */
export interface Clock {
  readonly ms: number
}

export const DEFAULT_TICK_MS = 100

export class CoarseClock implements Clock {
  ms: number
  private timer: NodeJS.Timeout | null
  readonly tickMs: number
  constructor(tickMs = DEFAULT_TICK_MS) {
    this.tickMs = tickMs
    this.ms = Date.now()
    this.timer = null
  }
  /** Starts ticking (idempotent). The timer never keeps the process alive. */
  start(): this {
    if (this.timer === null) {
      this.ms = Date.now()
      this.timer = setInterval(() => {
        this.ms = Date.now()
      }, this.tickMs)
      this.timer.unref()
    }
    return this
  }
  stop(): void {
    if (this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
  }
}

/** A clock that only moves when told to (tests). */
export class ManualClock implements Clock {
  ms: number
  constructor(ms = 1_700_000_000_000) {
    this.ms = ms
  }
  advance(ms: number): void {
    this.ms += ms
  }
  advanceSec(s: number): void {
    this.ms += s * 1000
  }
}

let shared: CoarseClock | null = null

/** The process-wide coarse clock, started on first use. */
export function coarseClock(): CoarseClock {
  if (shared === null) shared = new CoarseClock().start()
  return shared
}
