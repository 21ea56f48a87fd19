import { test, describe, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runSetup } from '../../../test/helpers/setup.js'
import { StubHandler } from '../../../test/helpers/fake.js'
import type { AutoPather } from '../../pluginkit/types.js'
import { plugin, parseResolvSearch } from './setup.js'
import { AutoPath } from './handler.js'

const dir = mkdtempSync(join(tmpdir(), 'autopath-setup-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const resolv = join(dir, 'resolv.conf')
writeFileSync(resolv, '# comment\nnameserver 10.0.0.10\nsearch default.svc.Cluster.Local svc.cluster.local cluster.local\noptions ndots:5\n')

function make(body: string, key?: string, providers?: unknown[]): AutoPath {
  const r = runSetup(plugin, body, key)
  if (providers) r.ctx.block.providers.set('autopath', providers)
  return r.make!(new StubHandler()) as AutoPath
}

describe('autopath setup', () => {
  test('resolv.conf search list, normalised, with the final ""', () => {
    const a = make(`autopath ${resolv}`)
    assert.deepEqual(a.search, ['default.svc.cluster.local.', 'svc.cluster.local.', 'cluster.local.', ''])
    assert.deepEqual(a.zones, ['example.org.'])
    assert.equal(a.provider, null)
  })
  test('zones before the last argument', () => {
    assert.deepEqual(make(`autopath cluster.local. in-addr.arpa ${resolv}`).zones, ['cluster.local.', 'in-addr.arpa.'])
  })
  test('@kubernetes uses the AutoPather the kubernetes plugin registered', () => {
    const p: AutoPather = { searchPath: () => null }
    const a = make('autopath @kubernetes', 'cluster.local:53', [p])
    assert.equal(a.provider, p)
    assert.equal(a.search, null)
    assert.deepEqual(a.zones, ['cluster.local.'])
  })
  test('domain line and the last search line win', () => {
    assert.deepEqual(parseResolvSearch('search a.org b.org\ndomain c.org\n'), ['c.org.'])
    assert.deepEqual(parseResolvSearch('domain c.org\nsearch A.org b.org.\n; x\n'), ['a.org.', 'b.org.'])
    assert.deepEqual(parseResolvSearch('nameserver 1.1.1.1\n'), [])
  })
  const bad: Array<[string, string, number, number]> = [
    ['autopath', 'no resolv-conf specified', 2, 1],
    [`autopath ${join(dir, 'missing')}`, `failed to parse "${join(dir, 'missing')}": open ${join(dir, 'missing')}: no such file or directory`, 2, 10],
    ['autopath @', 'no plugin name after @', 2, 10],
  ]
  for (const [body, msg, line, col] of bad) {
    test(`${JSON.stringify(body)} → "${msg}"`, () => {
      assert.throws(
        () => runSetup(plugin, body),
        (e: Error & { line?: number; col?: number }) => {
          assert.ok(e.message.includes(msg), e.message)
          assert.equal(`${e.line}:${e.col}`, `${line}:${col}`, e.message)
          return true
        },
      )
    })
  }
  test('@x without an AutoPather fails when the chain is built', () => {
    assert.throws(() => make('autopath @kubernetes'), /2:10 - plugin\/autopath: kubernetes does not implement the AutoPather interface/)
    assert.throws(() => make('autopath @hosts', undefined, [{ searchPath: () => null }]), /hosts does not implement the AutoPather interface/)
    assert.throws(() => make('autopath @kubernetes', undefined, [{ notIt: true }]), /does not implement/)
  })
})
