import { test } from 'node:test'
import assert from 'node:assert/strict'
import { expectArgs, goParseDuration, oncePerBlock, parseDuration, parseIntArg, unknownProperty } from './args.js'
import type { Token } from './lexer.js'
import { parseCorefile } from './parser.js'
import { assertError } from './test-helpers.js'

const tok = (text: string, col = 5): Token => ({ text, file: 'Corefile', line: 3, col, quoted: false })
const block = (body: string) => parseCorefile(`. {\n${body}\n}`, 'Corefile', { env: {} }).blocks[0]!.directives

test('parseDuration follows Go time.ParseDuration (milliseconds out)', () => {
  const ms = (s: string) => parseDuration(tok(s), 'cache')
  const cases: Array<[string, number]> = [
    ['0', 0], ['-0', 0], ['+0', 0], ['5s', 5000], ['30s', 30000], ['300ms', 300], ['1.5h', 5400000],
    ['2h45m', 9900000], ['1h2m3s4ms5us6ns', 3723004.005006], ['10us', 0.01], ['10µs', 0.01],
    ['10μs', 0.01], ['1ns', 0.000001], ['.5s', 500], ['1.s', 1000], ['-1.5s', -1500], ['+5m', 300000],
    ['0.000000001s', 0.000001], ['1.0000000000000000001s', 1000], ['2562047h', 9223369200000],
    ['0s', 0], ['00001s', 1000],
  ]
  for (const [s, want] of cases) assert.equal(ms(s), want, s)
  // exact nanoseconds
  assert.equal(goParseDuration('9223372036854775807ns'), 9223372036854775807n)
  assert.equal(goParseDuration('-9223372036854775808ns'), -9223372036854775808n)
  // fractions go through float64 exactly as in Go: float64(f) * (float64(unit) / scale)
  assert.equal(goParseDuration('0.3333333333333333333h'), 1200000000000n)
  assert.equal(goParseDuration('0.1s'), 100000000n)
  assert.equal(goParseDuration('1.0000001s'), 1000000100n)
})

test('parseDuration errors use Go wording at the token', () => {
  const bad: Array<[string, string]> = [
    ['', 'time: invalid duration ""'],
    ['5', 'time: missing unit in duration "5"'],
    ['1.5', 'time: missing unit in duration "1.5"'],
    ['-', 'time: invalid duration "-"'],
    ['s', 'time: invalid duration "s"'],
    ['.s', 'time: invalid duration ".s"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['5 s', 'time: unknown unit " s" in duration "5 s"'],
    ['1S', 'time: unknown unit "S" in duration "1S"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
    ['1h-1m', 'time: unknown unit "h-" in duration "1h-1m"'],
    ['1h 1m', 'time: unknown unit "h " in duration "1h 1m"'],
    ['--1s', 'time: invalid duration "--1s"'],
  ]
  for (const [s, msg] of bad) {
    assertError(() => parseDuration(tok(s), 'cache'), `Corefile:3:5 - plugin/cache: ${msg}`)
  }
})

test('parseIntArg accepts signed decimals within range', () => {
  assert.equal(parseIntArg(tok('30'), 'cache', 0, 100), 30)
  assert.equal(parseIntArg(tok('+7'), 'cache', 0, 100), 7)
  assert.equal(parseIntArg(tok('-1'), 'cache', -5, 100), -1)
  assertError(() => parseIntArg(tok('3x'), 'cache', 0, 100), "Corefile:3:5 - plugin/cache: invalid number '3x'; expected an integer between 0 and 100")
  assertError(() => parseIntArg(tok('1.5'), 'cache', 0, 100), "Corefile:3:5 - plugin/cache: invalid number '1.5'; expected an integer between 0 and 100")
  assertError(() => parseIntArg(tok('101'), 'cache', 0, 100), 'Corefile:3:5 - plugin/cache: value 101 out of range; expected an integer between 0 and 100')
})

test('expectArgs: too few at the last token of the line, too many at the first surplus', () => {
  const [reload, cache, fwd, health] = block('  reload 10s\n  cache\n  forward . 1.1.1.1 2.2.2.2\n  health {\n  }')
  expectArgs(reload!, 'reload', 0, 2)
  assertError(() => expectArgs(reload!, 'reload', 0, 0), "Corefile:2:10 - plugin/reload: Wrong argument count or unexpected line ending after '10s'")
  assertError(() => expectArgs(cache!, 'cache', 1, 2), "Corefile:3:3 - plugin/cache: Wrong argument count or unexpected line ending after 'cache'")
  expectArgs(fwd!, 'forward', 3, 3)
  assertError(() => expectArgs(fwd!, 'forward', 1, 1), "Corefile:4:13 - plugin/forward: Wrong argument count or unexpected line ending after '1.1.1.1'")
  assertError(() => expectArgs(fwd!, 'forward', 4, 5), "Corefile:4:21 - plugin/forward: Wrong argument count or unexpected line ending after '2.2.2.2'")
  assertError(() => expectArgs(fwd!, 'forward', 2, 2), "Corefile:4:21 - plugin/forward: Wrong argument count or unexpected line ending after '2.2.2.2'")
  assertError(() => expectArgs(health!, 'health', 1, 1), "Corefile:5:10 - plugin/health: Unexpected token '{', expecting argument")
})

test('oncePerBlock fails at the second occurrence', () => {
  const ds = block('  cache 30\n  errors\n  cache 10\n  cache 5')
  oncePerBlock(ds, 'errors')
  assertError(() => oncePerBlock(ds, 'cache'), 'Corefile:4:3 - plugin/cache: this plugin can only be used once per Server Block')
})

test('unknownProperty lists the expected names', () => {
  const e = unknownProperty(tok('polcy', 9), 'forward', ['except', 'force_tcp', 'policy'])
  assert.equal(e.message, "Corefile:3:9 - plugin/forward: unknown property 'polcy'; expected one of: except, force_tcp, policy")
  assert.deepEqual([e.code, e.plugin, e.kind, e.detail.startsWith('unknown')], ['ERR_COREFILE_PLUGIN', 'forward', 'plugin', true])
})
