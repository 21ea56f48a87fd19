import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { plugin } from './setup.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { repoRoot } from '../../../test/helpers/proc.js'

const dir = join(repoRoot, 'test/fixtures/tls')

test('tls reads the certificate and key, relative to root', () => {
  const r = runSetup(plugin, `  tls ${dir}/server.crt ${dir}/server.key {\n    client_auth request\n  }`)
  assert.ok(r.ctx.block.tls)
  assert.match(r.ctx.block.tls.cert.toString(), /BEGIN CERTIFICATE/)
  assert.equal(r.ctx.block.tls.clientAuth, 'request')
  assert.equal(r.ctx.block.tls.ca, null)
})

test('tls errors', () => {
  assert.throws(() => runSetup(plugin, '  tls onlyone'), /Corefile:2:7 - plugin\/tls: Wrong argument count or unexpected line ending after 'onlyone'/)
  assert.throws(() => runSetup(plugin, `  tls ${dir}/nope.crt ${dir}/server.key`), /plugin\/tls: cannot read certificate file/)
  assert.throws(
    () => runSetup(plugin, `  tls ${dir}/server.crt ${dir}/server.key {\n    client_auth sometimes\n  }`),
    /Corefile:3:17 - plugin\/tls: unknown authentication type 'sometimes'/,
  )
  assert.throws(() => runSetup(plugin, `  tls ${dir}/server.crt ${dir}/server.key {\n    bogus\n  }`), /unknown property 'bogus'/)
})
