import { test } from 'node:test'
import assert from 'node:assert/strict'
import { plugin as health } from './setup.js'
import { plugin as ready } from '../ready/setup.js'
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

test('ready is 503 with the names of plugins not ready, then 200', async () => {
  const r = runSetup(ready, '  ready 127.0.0.1:8181')
  let synced = false
  r.services.addReadiness({ name: 'kubernetes', ready: () => synced })
  const route = r.services.routes[0]!
  assert.equal(route.address, '127.0.0.1:8181')
  assert.deepEqual(await route.handle(), { status: 503, body: 'kubernetes' })
  synced = true
  assert.deepEqual(await route.handle(), { status: 200, body: 'OK' })
  // until-ready: once ready it is not asked again
  synced = false
  assert.deepEqual(await route.handle(), { status: 200, body: 'OK' })
})

test('ready monitor continuously asks every time', async () => {
  const r = runSetup(ready, '  ready {\n    monitor continuously\n  }')
  let ok = true
  r.services.addReadiness({ name: 'kubernetes', ready: () => ok })
  const route = r.services.routes[0]!
  assert.equal(route.address, ':8181')
  assert.equal((await route.handle()).status, 200)
  ok = false
  assert.equal((await route.handle()).status, 503)
  assert.throws(() => runSetup(ready, '  ready {\n    monitor sometimes\n  }'), /monitor type 'sometimes' not supported/)
  assert.throws(() => runSetup(ready, '  ready\n  ready'), /this plugin can only be used once per Server Block/)
})
