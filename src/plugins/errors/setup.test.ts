import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../corefile/errors.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { plugin } from './setup.js'
import type { Errors } from './handler.js'
import { StubHandler } from '../../../test/helpers/fake.js'

const ok: string[] = [
  'errors',
  'errors stdout',
  'errors {\n  stacktrace\n}',
  'errors {\n  consolidate 5m ".* i/o timeout$"\n}',
  'errors {\n  consolidate 30s ^Failed warning\n  consolidate 1m "^x" info show_first\n  consolidate 1h y debug\n  consolidate 1s z error\n  consolidate 1s z show_first\n}',
]
for (const body of ok) {
  test(`ok: ${JSON.stringify(body)}`, () => {
    assert.ok(runSetup(plugin, body).make)
  })
}

const long = 'a'.repeat(10001)
const bad: Array<[string, string, number]> = [
  ['errors\nerrors', 'plugin/errors: this plugin can only be used once per Server Block', 3],
  ['errors stderr', 'plugin/errors: invalid log file: stderr', 2],
  ['errors stdout more', "Wrong argument count or unexpected line ending after 'more'", 2],
  ['errors {\n  stacktrace yes\n}', "Wrong argument count or unexpected line ending after 'yes'", 3],
  ['errors {\n  bogus\n}', "plugin/errors: unknown property 'bogus'; expected one of: consolidate, stacktrace", 3],
  ['errors {\n  consolidate 5m\n}', "Wrong argument count or unexpected line ending after '5m'", 3],
  ['errors {\n  consolidate 5m a warning show_first extra\n}', "Wrong argument count or unexpected line ending after 'extra'", 3],
  ['errors {\n  consolidate 5x a\n}', 'time: unknown unit "x" in duration "5x"', 3],
  ['errors {\n  consolidate abc a\n}', 'time: invalid duration "abc"', 3],
  ['errors {\n  consolidate 0s a\n}', 'consolidate duration must be positive', 3],
  ['errors {\n  consolidate 5m "(unclosed"\n}', "invalid regexp '(unclosed'", 3],
  [`errors {\n  consolidate 5m ${long}\n}`, 'regex pattern too long: 10001 > 10000', 3],
  ['errors {\n  consolidate 5m a critical\n}', 'unknown log level argument in consolidate: critical', 3],
  ['errors {\n  consolidate 5m a show_first warning\n}', "log level 'warning' must precede show_first", 3],
  ['errors {\n  consolidate 5m a info warning\n}', 'multiple log levels in consolidate: info, warning', 3],
  ['errors {\n  consolidate 5m a show_first show_first\n}', 'show_first given twice', 3],
]
for (const [body, msg, line] of bad) {
  test(`error: ${JSON.stringify(body.slice(0, 80))} → ${msg}`, () => {
    assert.throws(
      () => runSetup(plugin, body),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e))
        assert.ok(e.message.includes(msg), `${e.message} does not contain ${msg}`)
        assert.equal(e.line, line, e.message)
        return true
      },
    )
  })
}

test('a leading Go flag group becomes a RegExp flag', () => {
  const r = runSetup(plugin, 'errors {\n  consolidate 5m "(?i)^read UDP"\n}')
  const h = r.make!(new StubHandler()) as Errors
  assert.equal(h.patterns[0]!.re.test('Read udp 1.2.3.4'), true)
  assert.equal(h.patterns[0]!.source, '(?i)^read UDP')
})

test('a regexp of exactly 10000 characters is accepted', () => {
  assert.ok(runSetup(plugin, `errors {\n  consolidate 5m ${'a'.repeat(10000)}\n}`).make)
})

test('patterns keep order, level and show_first; shutdown hook only with patterns', () => {
  const r = runSetup(plugin, 'errors {\n  consolidate 30s ^a warning\n  consolidate 1m ^b show_first\n}')
  const h = r.make!(new StubHandler()) as Errors
  assert.deepEqual(
    h.patterns.map((p) => [p.source, p.periodMs, p.level, p.showFirst]),
    [
      ['^a', 30000, 'warning', false],
      ['^b', 60000, 'error', true],
    ],
  )
  assert.equal(r.services.shutdown.length, 1)
  assert.equal(runSetup(plugin, 'errors').services.shutdown.length, 0)
})
