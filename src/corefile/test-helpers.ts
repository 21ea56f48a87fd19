// Shared by the corefile tests (not a test file itself).
import assert from 'node:assert/strict'
import { ConfigError } from './errors.js'
import type { Directive } from './parser.js'

/** Runs fn, asserts it throws a ConfigError and returns it. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (e) {
    if (e instanceof ConfigError) return e
    assert.fail(`expected a ConfigError, got ${String(e)}`)
  }
  assert.fail('expected a ConfigError, nothing was thrown')
}

/** Asserts the error message exactly and the position fields agree with it. */
export function assertError(fn: () => unknown, message: string): ConfigError {
  const e = configError(fn)
  assert.equal(e.message, message)
  assert.ok(e.message.startsWith(`${e.file}:${e.line}:${e.col} - `))
  return e
}

/** Compact view of a directive tree: "name arg arg" or [line, [children]]. */
export type Shape = string | [string, Shape[]]
export function shape(ds: Directive[]): Shape[] {
  return ds.map((d) => {
    const line = [d.name, ...d.args.map((a) => a.text)].join(' ')
    return d.block === null ? line : [line, shape(d.block)]
  })
}
