import { test } from 'node:test'
import assert from 'node:assert/strict'
import { plugin as health } from './setup.js'
import { runSetup } from '../../../test/helpers/setup.js'

test('health registers /health on :8080 by default and sets lameduck', async () => {
  const r = runSetup(health, '  health {\n    lameduck 5s\n  }')
  assert.equal(r.services.routes.length, 1)
  assert.equal(r.services.routes[0]!.address, ':8080')
  assert.equal(r.services.routes[0]!.path, '/health')
  assert.deepEqual(await r.services.routes[0]!.handle(), { status: 200, body: 'OK' })
  assert.equal(r.services.lameduckMs, 5000)
})

test('health errors', () => {
  assert.throws(() => runSetup(health, '  health localhost'), /Corefile:2:10 - plugin\/health: invalid address/)
  assert.throws(() => runSetup(health, '  health :8080 {\n    lameduck soon\n  }'), /plugin\/health/)
  assert.throws(() => runSetup(health, '  health :8080 {\n    lamedcuk 5s\n  }'), /unknown property 'lamedcuk'/)
})

