import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../corefile/errors.js'
import { parseCorefile } from '../../corefile/parser.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { plugin, parseLogRules } from './setup.js'
import { Cls } from './classify.js'
import { compileFormat, COMBINED_FORMAT, DEFAULT_FORMAT } from './format.js'

const ok: string[] = [
  'log',
  'log example.org',
  'log . {common}',
  'log . {combined}',
  'log example.org example.net "{remote} {name}"',
  'log {\n  class all\n}',
  'log {\n  class success denial error\n}',
  'log a.example.org\nlog b.example.org {\n  class error\n}',
]
for (const body of ok) {
  test(`ok: ${JSON.stringify(body)}`, () => {
    assert.ok(runSetup(plugin, body).make)
  })
}

const bad: Array<[string, string, number]> = [
  ['log {\n  class\n}', "plugin/log: Wrong argument count or unexpected line ending after 'class'", 3],
  ['log {\n  class success bogus\n}', 'plugin/log: invalid Class: bogus', 3],
  ['log {\n  format {name}\n}', "plugin/log: unknown property 'format'; expected one of: class", 3],
  ['log\nlog . {\n  clas error\n}', "unknown property 'clas'", 4],
]
for (const [body, msg, line] of bad) {
  test(`error: ${JSON.stringify(body)} → ${msg}`, () => {
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

function rules(body: string): ReturnType<typeof parseLogRules> {
  const b = parseCorefile(`. {\n${body}\n}\n`, 'Corefile').blocks[0]!
  return parseLogRules(b.directives)
}

test('no args: every name, common format, class all', () => {
  const [r, ...rest] = rules('log')
  assert.equal(rest.length, 0)
  assert.equal(r!.name, '.')
  assert.deepEqual(r!.parts, compileFormat(DEFAULT_FORMAT).parts)
  assert.equal(r!.classes, Cls.All)
  assert.equal(r!.needsFacts, false)
})

test('names are fully qualified and lower-cased; the last arg with { is the format', () => {
  const rs = rules('log Example.ORG example.net {combined}')
  assert.deepEqual(rs.map((r) => r.name), ['example.org.', 'example.net.'])
  assert.deepEqual(rs[0]!.parts, compileFormat(COMBINED_FORMAT).parts)
  const two = rules('log a.org b.org')
  assert.deepEqual(two.map((r) => r.name), ['a.org.', 'b.org.'])
  assert.deepEqual(two[0]!.parts, compileFormat(DEFAULT_FORMAT).parts)
})

test('classes apply to the rules of their own log line only', () => {
  const rs = rules('log a.org {\n  class denial\n  class error\n}\nlog b.org')
  assert.equal(rs[0]!.classes, Cls.Denial | Cls.Error)
  assert.equal(rs[0]!.needsFacts, true)
  assert.equal(rs[1]!.classes, Cls.All)
})

test('the quoted format of corefile.md §12 keeps spaces and braces', () => {
  const rs = rules('log . "{remote} {name}"')
  assert.equal(rs[0]!.name, '.')
  assert.equal(rs[0]!.parts.length, 3)
})
