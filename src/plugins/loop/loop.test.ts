// loop through a real server: a Corefile that forwards to itself is detected at startup; one
// that forwards to a real upstream is not. The fatal exit is replaced so the test process lives.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { freePort } from '../../../test/helpers/proc.js'
import { answerA, startFake, type FakeUpstream } from '../../../test/upstreams/fake.js'
import { startChain, type ChainServer } from '../../../test/upstreams/server.js'
import { makeRequest, run, StubHandler } from '../../../test/helpers/fake.js'
import type { Logger } from '../../log/logger.js'
import { Type } from '../../dns/constants.js'
import { setFatal } from './setup.js'
import { Loop } from './handler.js'

const fatals: string[] = []
const prev = setFatal((log: Logger, msg: string) => {
  fatals.push(msg)
  log.fatal(msg)
})
const servers: ChainServer[] = []
const fakes: FakeUpstream[] = []
after(async () => {
  setFatal(prev)
  for (const s of servers) await s.close()
  for (const f of fakes) await f.stop()
})

async function until(cond: () => boolean, ms: number): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 20) await new Promise((r) => setTimeout(r, 20))
}

test('a Corefile forwarding to itself is detected with the CoreDNS message', async () => {
  const port = await freePort()
  fatals.length = 0
  const s = await startChain(`.:${port} {\n  bind 127.0.0.1\n  loop\n  forward . 127.0.0.1:${port}\n}\n`)
  servers.push(s)
  await until(() => fatals.length > 0, 5000)
  await s.close()
  assert.equal(fatals.length, 1)
  assert.match(
    fatals[0]!,
    new RegExp(
      `^Loop \\(127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${port}\\) detected for zone "\\.", see https://coredns\\.io/plugins/loop#troubleshooting\\. Query: "HINFO \\d+\\.\\d+\\."$`,
    ),
  )
  assert.ok(s.lines.some((l) => l.startsWith('[FATAL] plugin/loop: Loop (')), s.lines.join('\n'))
})

test('no loop: the probe is answered by the upstream, nothing fatal', async () => {
  const port = await freePort()
  fatals.length = 0
  const f = await startFake(answerA('192.0.2.1'))
  fakes.push(f)
  const s = await startChain(`.:${port} {\n  bind 127.0.0.1\n  loop\n  forward . 127.0.0.1:${f.port}\n}\n`)
  servers.push(s)
  await until(() => f.count() > 0, 3000)
  const loop = (s.server.config!.blocks[0]!.chain as Loop)
  await until(() => loop.sent === 1, 1000)
  assert.equal(f.received[0]!.msg.question[0]!.type, Type.HINFO)
  assert.equal(f.received[0]!.msg.question[0]!.name, loop.qname)
  assert.equal(loop.count, 1)
  assert.equal(fatals.length, 0)
})

test('handler: counts only its own HINFO probe, passes every query on, stops counting when disabled', async () => {
  fatals.length = 0
  const next = new StubHandler(0)
  const { Logger: L } = await import('../../log/logger.js')
  const lines: string[] = []
  const h = new Loop(next, 'example.org.', '1.2.example.org.', { label: ':53', host: '127.0.0.1', port: 53 }, new L((_l, s) => void lines.push(s)).plugin('loop'))
  await run(h, makeRequest('1.2.example.org.', 'A'))
  await run(h, makeRequest('3.4.example.org.', 'HINFO'))
  await run(h, makeRequest('1.2.example.net.', 'HINFO'))
  assert.equal(h.count, 0)
  await run(h, makeRequest('1.2.EXAMPLE.org.', 'HINFO'))
  await run(h, makeRequest('1.2.example.org.', 'HINFO'))
  assert.equal(h.count, 2)
  assert.equal(fatals.length, 0)
  await run(h, makeRequest('1.2.example.org.', 'HINFO', { remoteAddress: '10.0.0.1', remotePort: 4242 }))
  assert.equal(fatals.length, 1)
  assert.equal(
    fatals[0],
    'Loop (10.0.0.1:4242 -> :53) detected for zone "example.org.", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 1.2.example.org."',
  )
  assert.equal(next.calls, 6, 'all queries passed on')
  h.disabled = true
  await run(h, makeRequest('1.2.example.org.', 'HINFO'))
  assert.equal(h.count, 3)
})
