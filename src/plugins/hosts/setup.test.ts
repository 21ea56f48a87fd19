import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../corefile/errors.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { plugin, parseHostsDirective, DEFAULT_PATH } from './setup.js'
import { parseCorefile } from '../../corefile/parser.js'

const dir = mkdtempSync(join(tmpdir(), 'hosts-setup-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const file = join(dir, 'hosts')
writeFileSync(file, '10.0.0.1 a.example.org\n')

const ok: string[] = [
  'hosts',
  `hosts ${file}`,
  `hosts ${file} example.org 10.0.0.0/24`,
  `hosts ${file} {\n  ttl 65535\n  no_reverse\n  reload 0\n  fallthrough\n}`,
  `hosts {\n  10.0.0.1 a.example.org b.example.org\n  fd00::1%eth0 c.example.org\n  fallthrough example.org 10.0.0.0/8\n  fallthrough_unsupported\n}`,
  `hosts ${file} {\n  reload 1m30s\n  ttl 1\n}`,
  `hosts ${dir}`,
]

for (const body of ok) {
  test(`ok: ${JSON.stringify(body)}`, () => {
    const r = runSetup(plugin, body)
    assert.ok(r.make)
  })
}

const bad: Array<[string, string, number]> = [
  // [body, error substring, line]
  [`hosts ${file}\nhosts`, 'plugin/hosts: this plugin can only be used once per Server Block', 3],
  ['hosts {\n  ttl\n}', 'ttl needs a time in second', 3],
  ['hosts {\n  ttl abc\n}', 'ttl needs a number of second', 3],
  ['hosts {\n  ttl 0\n}', 'ttl provided is invalid', 3],
  ['hosts {\n  ttl 65536\n}', 'ttl provided is invalid', 3],
  ['hosts {\n  ttl -5\n}', 'ttl provided is invalid', 3],
  ['hosts {\n  ttl 30 40\n}', "Wrong argument count or unexpected line ending after '40'", 3],
  ['hosts {\n  reload\n}', 'reload needs a duration (zero seconds to disable)', 3],
  ['hosts {\n  reload 1s 2s\n}', 'reload needs a duration (zero seconds to disable)', 3],
  ['hosts {\n  reload 5x\n}', "invalid duration for reload '5x'", 3],
  ['hosts {\n  reload -1s\n}', "invalid negative duration for reload '-1s'", 3],
  ['hosts {\n  no_reverse now\n}', "Wrong argument count or unexpected line ending after 'now'", 3],
  ['hosts {\n  fallthrough_unsupported\n}', 'fallthrough_unsupported requires fallthrough', 3],
  ['hosts {\n  fallthrough\n  fallthrough_unsupported yes\n}', "Wrong argument count or unexpected line ending after 'yes'", 4],
  ['hosts {\n  tll 30\n}', "unknown property 'tll'; expected one of: fallthrough, fallthrough_unsupported, no_reverse, reload, ttl", 3],
  ['hosts {\n  10.0.0.1\n}', "inline entry '10.0.0.1' has no host name", 3],
  [`hosts ${file} a..b`, 'plugin/hosts: zone is not a valid domain name: a..b', 2],
  ['hosts {\n  fallthrough a..b\n}', 'zone is not a valid domain name: a..b', 3],
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

test('defaults: /etc/hosts, block zones, ttl 3600, reverse on, reload 5s, no fallthrough', () => {
  const d = parseCorefile('example.org example.net {\n  hosts\n}\n', 'Corefile').blocks[0]!.directives[0]!
  const r = runSetup(plugin, 'hosts')
  const cfg = parseHostsDirective({ ...r.ctx, zones: ['example.org.', 'example.net.'] }, d)
  assert.equal(cfg.path, DEFAULT_PATH)
  assert.equal(cfg.explicitPath, false)
  assert.deepEqual(cfg.zones, ['example.org.', 'example.net.'])
  assert.equal(cfg.ttl, 3600)
  assert.equal(cfg.reverse, true)
  assert.equal(cfg.reloadMs, 5000)
  assert.equal(cfg.fall.enabled, false)
  assert.equal(cfg.fallUnsupported, false)
})

test('a relative FILE resolves against the block root; ZONES are normalised', () => {
  const r = runSetup(plugin, 'hosts')
  const d = parseCorefile('. {\n  hosts my.hosts Example.ORG 10.0.0.0/24\n}\n', 'Corefile').blocks[0]!.directives[0]!
  const cfg = parseHostsDirective({ ...r.ctx, block: { ...r.ctx.block, root: '/srv/dns' } }, d)
  assert.equal(cfg.path, '/srv/dns/my.hosts')
  assert.deepEqual(cfg.zones, ['example.org.', '0.0.10.in-addr.arpa.'])
})

test('a directory as FILE only warns', () => {
  const r = runSetup(plugin, `hosts ${dir}`)
  assert.ok(r.lines.includes(`[WARNING] plugin/hosts: Hosts file "${dir}" is a directory`), r.lines.join('\n'))
})
