// `consolidate DURATION REGEXP [LEVEL] [show_first]`: errors whose text matches REGEXP are counted
// for DURATION after the first one, then one summary line is printed (CoreDNS plugin/errors).

import type { Logger } from '../../log/logger.js'

export type Level = 'warning' | 'error' | 'info' | 'debug'

/** Go time.Duration.String() of a nanosecond count: "5m0s", "1h0m0s", "1.5s", "100ms", "0s". */
export function goDurationString(ns: bigint): string {
  if (ns === 0n) return '0s'
  const neg = ns < 0n
  let u = neg ? -ns : ns
  let out: string
  if (u < 1000000000n) {
    // Sub-second: the largest unit that keeps an integer part.
    if (u < 1000n) out = u.toString() + 'ns'
    else if (u < 1000000n) out = frac(u, 3) + 'µs'
    else out = frac(u, 6) + 'ms'
  } else {
    out = frac(u % 60000000000n, 9) + 's'
    u /= 60000000000n
    if (u > 0n) {
      out = (u % 60n).toString() + 'm' + out
      u /= 60n
      if (u > 0n) out = u.toString() + 'h' + out
    }
  }
  return neg ? '-' + out : out
}

/** v / 10^prec with trailing fractional zeros removed. */
function frac(v: bigint, prec: number): string {
  const div = 10n ** BigInt(prec)
  const whole = (v / div).toString()
  let f = (v % div).toString().padStart(prec, '0')
  let end = f.length
  while (end > 0 && f.charCodeAt(end - 1) === 0x30) end--
  f = f.slice(0, end)
  return f === '' ? whole : whole + '.' + f
}

export class Pattern {
  readonly re: RegExp
  /** The REGEXP as written (quoted in the summary). */
  readonly source: string
  readonly periodMs: number
  /** The period as Go prints it. */
  readonly periodText: string
  readonly level: Level
  readonly showFirst: boolean
  count: number
  timer: NodeJS.Timeout | null
  private readonly log: Logger
  private readonly fire: () => void
  constructor(re: RegExp, source: string, periodNs: bigint, level: Level, showFirst: boolean, log: Logger) {
    this.re = re
    this.source = source
    this.periodMs = Number(periodNs) / 1e6
    this.periodText = goDurationString(periodNs)
    this.level = level
    this.showFirst = showFirst
    this.count = 0
    this.timer = null
    this.log = log
    this.fire = () => {
      this.timer = null
      this.flush()
    }
  }

  /** Counts one matching error; `line` is what would have been logged. Starts the period on the first. */
  add(line: string): void {
    this.count++
    if (this.count === 1) {
      if (this.showFirst) this.emit(line)
      this.timer = setTimeout(this.fire, this.periodMs)
      this.timer.unref()
    }
  }

  /** Prints the summary for the counted errors (if any) and resets. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
    const n = this.count
    this.count = 0
    if (n === 0 || (n === 1 && this.showFirst)) return
    this.emit(`${n} errors like '${this.source}' occurred in last ${this.periodText}`)
  }

  emit(msg: string): void {
    switch (this.level) {
      case 'warning':
        this.log.warn(msg)
        break
      case 'error':
        this.log.error(msg)
        break
      case 'info':
        this.log.info(msg)
        break
      case 'debug':
        this.log.debug(msg)
        break
    }
  }
}
