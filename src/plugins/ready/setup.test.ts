import { test } from 'node:test'
import assert from 'node:assert/strict'
import { plugin as ready } from './setup.js'
import { runSetup } from '../../../test/helpers/setup.js'

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
