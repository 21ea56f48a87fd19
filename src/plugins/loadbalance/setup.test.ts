import { test, describe, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runSetup } from '../../../test/helpers/setup.js'
import { StubHandler } from '../../../test/helpers/fake.js'
import { plugin, parseLoadBalance, DEFAULT_RELOAD_MS, type LoadBalanceConfig } from './setup.js'
import { LoadBalance } from './handler.js'
import { parseWeights } from './weighted.js'

const dir = mkdtempSync(join(tmpdir(), 'lb-setup-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const wfile = join(dir, 'weights')
writeFileSync(wfile, 'www.example.org\n10.0.0.1 100\n10.0.0.2 10\n')

function parse(body: string): LoadBalanceConfig {
  let cfg: LoadBalanceConfig | null = null
  runSetup({ name: 'loadbalance', setup: (ctx, ds) => ((cfg = parseLoadBalance(ctx, ds[0]!)), null) }, body)
  return cfg!
}

describe('loadbalance setup', () => {
  const ok: Array<[string, string]> = [
    ['loadbalance', 'round_robin'],
    ['loadbalance round_robin', 'round_robin'],
    [`loadbalance weighted ${wfile}`, 'weighted'],
    [`loadbalance weighted ${wfile} {\n reload 10s\n}`, 'weighted'],
    [`loadbalance weighted ${wfile} {\n reload 0s\n}`, 'weighted'],
    ['loadbalance {\n prefer 10.0.0.0/8 fd00::/8\n}', 'round_robin'],
    [`loadbalance weighted ${wfile} {\n prefer 192.0.2.0/24\n reload 10s\n}`, 'weighted'],
  ]
  for (const [body, policy] of ok) {
    test(`accepts ${JSON.stringify(body)}`, () => {
      const r = runSetup(plugin, body)
      assert.ok(r.make)
      assert.ok(r.make(new StubHandler()) instanceof LoadBalance)
      assert.equal(parse(body).policy, policy)
    })
  }

  test('parses policy, reload and prefer', () => {
    assert.equal(parse('loadbalance').policy, 'round_robin')
    const w = parse(`loadbalance weighted ${wfile} {\n reload 10s\n prefer 192.0.2.0/24 2001:db8::/32\n}`)
    assert.equal(w.policy, 'weighted')
    assert.equal(w.weightFile, wfile)
    assert.equal(w.reloadMs, 10000)
    assert.deepEqual(w.preferText, ['192.0.2.0/24', '2001:db8::/32'])
    assert.equal(parse(`loadbalance weighted ${wfile}`).reloadMs, DEFAULT_RELOAD_MS)
    assert.equal(parse(`loadbalance weighted ${wfile} {\nreload 0\n}`).reloadMs, 0)
  })

  const bad: Array<[string, string, number, number]> = [
    ['loadbalance round_robin {\n reload 10s\n}', "unknown property 'reload'", 3, 2],
    [`loadbalance weighted ${wfile} {\n reload\n}`, 'reload duration value is missing', 3, 2],
    [`loadbalance weighted ${wfile} {\n prefer invalid\n}`, 'invalid CIDR "invalid"', 3, 9],
    ['loadbalance fleeb', 'unknown policy: fleeb', 2, 13],
    ['loadbalance round_robin a', 'unknown property for round_robin', 2, 25],
    ['loadbalance weighted', 'missing weight file argument', 2, 13],
    ['loadbalance weighted a b', 'unexpected argument(s)', 2, 24],
    [`loadbalance weighted ${wfile} {\n susu\n}`, "unknown property 'susu'", 3, 2],
    [`loadbalance weighted ${wfile} {\n reload a\n}`, "invalid reload duration 'a'", 3, 9],
    [`loadbalance weighted ${wfile} {\n reload -1s\n}`, "invalid reload duration '-1s'", 3, 9],
    [`loadbalance weighted ${wfile} {\n reload 30s a\n}`, 'unexpected argument', 3, 13],
    ['loadbalance {\n prefer\n}', 'prefer needs at least one CIDR', 3, 2],
    ['loadbalance {\n prefer 10.0.0.0/33\n}', 'invalid CIDR "10.0.0.0/33"', 3, 9],
    [`loadbalance weighted ${join(dir, 'missing')} {\n reload 0\n}`, 'weight file open error', 2, 22],
  ]
  for (const [body, msg, line, col] of bad) {
    test(`rejects ${JSON.stringify(body)} with "${msg}" at ${line}:${col}`, () => {
      assert.throws(
        () => runSetup(plugin, body),
        (e: Error & { line?: number; col?: number }) => {
          assert.ok(e.message.includes(msg), e.message)
          assert.ok(e.message.includes('plugin/loadbalance: '), e.message)
          assert.equal(e.line, line, e.message)
          assert.equal(e.col, col, e.message)
          return true
        },
      )
    })
  }

  test('a bad weight file is a setup error at the file argument', () => {
    const f = join(dir, 'bad')
    writeFileSync(f, 'www.example.org\n10.0.0.1 0\n')
    assert.throws(() => runSetup(plugin, `loadbalance weighted ${f}`), /wrong weight value:"0" in weight file/)
  })

  test('a missing weight file with reload is a warning, not an error', () => {
    const r = runSetup(plugin, `loadbalance weighted ${join(dir, 'missing')}`)
    assert.ok(r.make)
    assert.ok(r.lines.some((l) => l.startsWith('[WARNING] plugin/loadbalance: Failed to open weight file')), r.lines.join('\n'))
  })
})

describe('weight file parsing', () => {
  test('names, addresses, comments', () => {
    const w = parseWeights('# comment\n\nwww.example.org\n10.0.0.1 100\n  fd00::1 5\nOther.example.org.\n10.0.0.9 1\n', 'f')
    assert.equal(w.get('www.example.org.')?.get('10.0.0.1'), 100)
    assert.equal(w.get('www.example.org.')?.get('fd00::1'), 5)
    assert.equal(w.get('other.example.org.')?.get('10.0.0.9'), 1)
  })
  const bad: Array<[string, RegExp]> = [
    ['10.0.0.1\n', /wrong domain name:"10.0.0.1" in weight file f. \(Maybe a missing weight value\?\)/],
    ['a.org\nnot-ip 3\n', /wrong IP address:"not-ip"/],
    ['a.org\n10.0.0.1 256\n', /wrong weight value:"256"/],
    ['a.org\n10.0.0.1 x\n', /wrong weight value:"x"/],
    ['10.0.0.1 3\n', /missing domain name in weight file f/],
    ['a.org\n10.0.0.1 3 4\n', /could not parse weight line:"10.0.0.1 3 4"/],
  ]
  for (const [text, re] of bad) test(`rejects ${JSON.stringify(text)}`, () => assert.throws(() => parseWeights(text, 'f'), re))
})
