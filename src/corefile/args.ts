// Argument helpers for plugin setup functions. Errors are raised only here, at the offending token
// (STYLE.md §5), formatted `<file>:<line>:<col> - plugin/<name>: <detail>`.

import { pluginError, type ConfigError } from './errors.js'
import type { Token } from './lexer.js'
import type { Directive } from './parser.js'

const NS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1000n],
  ['\u00b5s', 1000n], // µ micro sign
  ['\u03bcs', 1000n], // μ Greek mu
  ['ms', 1000000n],
  ['s', 1000000000n],
  ['m', 60000000000n],
  ['h', 3600000000000n],
])
const MAX_NS = 1n << 63n

/**
 * Go time.ParseDuration, in nanoseconds, or an error text (Go's wording). Exact: integers are
 * accumulated as BigInt, fractions computed in float64 like Go.
 */
export function goParseDuration(orig: string): bigint | string {
  const invalid = `time: invalid duration ${goQuote(orig)}`
  let s = orig
  let neg = false
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-'
    s = s.slice(1)
  }
  if (s === '0') return 0n
  if (s === '') return invalid
  let d = 0n
  while (s !== '') {
    const c0 = s[0]!
    if (!(c0 === '.' || (c0 >= '0' && c0 <= '9'))) return invalid
    // leading integer
    let i = 0
    let v = 0n
    while (i < s.length && s[i]! >= '0' && s[i]! <= '9') {
      if (v > MAX_NS / 10n) return invalid
      v = v * 10n + BigInt(s.charCodeAt(i) - 48)
      if (v > MAX_NS) return invalid
      i++
    }
    const pre = i > 0
    s = s.slice(i)
    // fraction
    let f = 0n
    let scale = 1
    let post = false
    if (s !== '' && s[0] === '.') {
      s = s.slice(1)
      let j = 0
      let overflow = false
      while (j < s.length && s[j]! >= '0' && s[j]! <= '9') {
        if (!overflow) {
          if (f > (MAX_NS - 1n) / 10n) overflow = true
          else {
            const y = f * 10n + BigInt(s.charCodeAt(j) - 48)
            if (y > MAX_NS) overflow = true
            else {
              f = y
              scale *= 10
            }
          }
        }
        j++
      }
      post = j > 0
      s = s.slice(j)
    }
    if (!pre && !post) return invalid
    // unit
    let k = 0
    while (k < s.length && s[k] !== '.' && !(s[k]! >= '0' && s[k]! <= '9')) k++
    if (k === 0) return `time: missing unit in duration ${goQuote(orig)}`
    const u = s.slice(0, k)
    s = s.slice(k)
    const unit = NS_PER_UNIT.get(u)
    if (unit === undefined) return `time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`
    if (v > MAX_NS / unit) return invalid
    v *= unit
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)))
      if (v > MAX_NS) return invalid
    }
    d += v
    if (d > MAX_NS) return invalid
  }
  if (neg) return -d
  if (d > MAX_NS - 1n) return invalid
  return d
}

/**
 * Parses a Go duration (`300ms`, `1.5h`, `2h45m`, `10us`/`10µs`, bare `0`, optional sign) and
 * returns milliseconds as a float. Error: `plugin/<p>: time: invalid duration "x"` at the token.
 */
export function parseDuration(tok: Token, plugin: string): number {
  const r = goParseDuration(tok.text)
  if (typeof r === 'string') throw pluginError(tok, plugin, r)
  return Number(r) / 1e6
}

/** Parses a decimal integer (optional sign, like Go strconv.Atoi) within [min, max]. */
export function parseIntArg(tok: Token, plugin: string, min: number, max: number): number {
  const t = tok.text
  if (!/^[+-]?\d+$/.test(t)) {
    throw pluginError(tok, plugin, `invalid number '${t}'; expected an integer between ${min} and ${max}`)
  }
  const n = Number(t)
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw pluginError(tok, plugin, `value ${t} out of range; expected an integer between ${min} and ${max}`)
  }
  return n
}

/**
 * Checks min ≤ args ≤ max. Too few: error after the last token of the line (the directive token
 * when there are no args) or at the block's `{`; too many: at the first surplus token.
 */
export function expectArgs(d: Directive, plugin: string, min: number, max: number): void {
  const n = d.args.length
  if (n < min) {
    if (d.open !== undefined) {
      throw pluginError(d.open, plugin, "Unexpected token '{', expecting argument")
    }
    const last = d.args[n - 1] ?? d.token
    throw pluginError(last, plugin, argErr(last))
  }
  if (n > max) {
    const surplus = d.args[max]!
    throw pluginError(surplus, plugin, argErr(surplus))
  }
}

function argErr(t: Token): string {
  return `Wrong argument count or unexpected line ending after '${t.text}'`
}

/** Fails at the second occurrence of `plugin` in the block's directives. */
export function oncePerBlock(ds: readonly Directive[], plugin: string): void {
  let seen = false
  for (const d of ds) {
    if (d.name !== plugin) continue
    if (seen) throw pluginError(d.token, plugin, 'this plugin can only be used once per Server Block')
    seen = true
  }
}

/** `plugin/<p>: unknown property '<x>'; expected one of: a, b, c` (returned, for `throw`). */
export function unknownProperty(tok: Token, plugin: string, known: readonly string[]): ConfigError {
  return pluginError(tok, plugin, `unknown property '${tok.text}'; expected one of: ${known.join(', ')}`)
}

function goQuote(s: string): string {
  return JSON.stringify(s)
}
