import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../corefile/errors.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { StubHandler } from '../../../test/helpers/fake.js'
import { plugin, probeName } from './setup.js'
import { Loop, probeAddress } from './handler.js'

test('loop takes no arguments', () => {
  const r = runSetup(plugin, 'loop')
  const h = r.make!(new StubHandler()) as Loop
  assert.ok(h instanceof Loop)
  assert.equal(h.zone, 'example.org.')
  assert.match(h.qname, /^\d+\.\d+\.example\.org\.$/)
  assert.equal(h.address.label, ':53')
  assert.equal(r.services.startup.length, 1, 'probing starts at startup, not at setup')
})

const bad: Array<[string, string, number]> = [
  ['loop now', "Wrong argument count or unexpected line ending after 'now'", 2],
  ['loop {\n}', 'plugin/loop: Wrong argument count', 2],
  ['loop\nloop', 'plugin/loop: this plugin can only be used once per Server Block', 3],
]
for (const [body, msg, line] of bad) {
  test(`error: ${JSON.stringify(body)} → ${msg}`, () => {
    assert.throws(
      () => runSetup(plugin, body),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e))
        assert.ok(e.message.includes(msg), e.message)
        assert.equal(e.line, line)
        return true
      },
    )
  })
}

test('only the first key of the block is probed', () => {
  const r = runSetup(plugin, 'loop', 'example.net:1053 example.org:53')
  const h = r.make!(new StubHandler()) as Loop
  assert.equal(h.zone, 'example.net.')
  assert.equal(h.address.port, 1053)
})

test('probe names are two random 63-bit decimal labels', () => {
  const a = probeName('.')
  const b = probeName('cluster.local.')
  assert.match(a, /^\d{1,19}\.\d{1,19}\.$/)
  assert.match(b, /^\d{1,19}\.\d{1,19}\.cluster\.local\.$/)
  assert.notEqual(a, probeName('.'))
  for (const l of a.split('.').slice(0, 2)) assert.ok(BigInt(l) < 2n ** 63n)
})

test('probe address: wildcard and unspecified go to loopback, label as CoreDNS prints it', () => {
  assert.deepEqual(probeAddress('', 53), { label: ':53', host: '127.0.0.1', port: 53 })
  assert.deepEqual(probeAddress('10.0.0.10', 53), { label: '10.0.0.10:53', host: '10.0.0.10', port: 53 })
  assert.deepEqual(probeAddress('::', 1053), { label: '[::]:1053', host: '::1', port: 1053 })
  assert.deepEqual(probeAddress('fe80::1%eth0', 53), { label: '[fe80::1]:53', host: 'fe80::1', port: 53 })
})
