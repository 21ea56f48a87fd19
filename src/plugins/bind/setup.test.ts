import { test } from 'node:test'
import assert from 'node:assert/strict'
import os from 'node:os'
import { plugin } from './setup.js'
import { runSetup } from '../../../test/helpers/setup.js'

test('bind takes addresses and merges several lines', () => {
  const r = runSetup(plugin, '  bind 127.0.0.1 ::1\n  bind 127.0.0.2')
  assert.equal(r.make, null)
  assert.equal(r.ctx.block.hasBind, true)
  assert.deepEqual(r.ctx.block.bindHosts, ['127.0.0.1', '::1', '127.0.0.2'])
})

test('bind expands an interface and except removes addresses', () => {
  const lo = Object.entries(os.networkInterfaces()).find(([, l]) => l?.some((a) => a.address === '127.0.0.1'))
  assert.ok(lo, 'a loopback interface')
  const r = runSetup(plugin, `  bind ${lo[0]} {\n    except 127.0.0.1\n  }`)
  assert.ok(!r.ctx.block.bindHosts.includes('127.0.0.1'))
  assert.equal(r.ctx.block.hasBind, true)
})

test('bind errors name the token and say what was expected', () => {
  assert.throws(() => runSetup(plugin, '  bind'), /Corefile:2:3 - plugin\/bind: at least one address or interface name is expected/)
  assert.throws(() => runSetup(plugin, '  bind 127.0.0.1 nosuchif0'), /Corefile:2:18 - plugin\/bind: not a valid IP address or interface name: "nosuchif0"/)
  assert.throws(() => runSetup(plugin, '  bind 127.0.0.1 {\n    excpt 1.2.3.4\n  }'), /Corefile:3:5 - plugin\/bind: invalid option "excpt"/)
  assert.throws(() => runSetup(plugin, '  bind 127.0.0.1 {\n    except\n  }'), /at least one address or interface must be given to except subdirective/)
  assert.throws(() => runSetup(plugin, '  bind 300.1.1.1'), /not a valid IP address/)
})
