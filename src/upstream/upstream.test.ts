// The transport library on its own: sweeper timeouts, policies, UDP pool (IDs, ports, socket
// rotation, anti-spoofing), TCP client (pipelining, reuse limits, dial timeout), health check.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import dgram from 'node:dgram'
import { TimeoutQueue, Expirable } from './sweeper.js'
import { makePolicy } from './policy.js'
import { UdpPool } from './udp.js'
import { StreamClient, MIN_DIAL_MS, MAX_DIAL_MS } from './stream.js'
import { Proxy, UdpPools } from './proxy.js'
import { Histogram, DURATION_BUCKETS } from './stats.js'
import { emptyTruncated, replyRcode, sameQuestion } from './wire.js'
import { answerA, reply, SILENT, startFake, type FakeUpstream } from '../../test/upstreams/fake.js'
import { queryView, queryWire } from '../../test/helpers/fake.js'
import { decodeMessage } from '../dns/message.js'
import { Type } from '../dns/constants.js'

const fakes: FakeUpstream[] = []
after(async () => {
  for (const f of fakes) await f.stop()
})
async function fake(r: Parameters<typeof startFake>[0]): Promise<FakeUpstream> {
  const f = await startFake(r)
  fakes.push(f)
  return f
}

class Item extends Expirable {
  fired = 0
  expire(): void {
    this.fired++
  }
}

test('TimeoutQueue: expires due items in order, removal is O(1) and exact', () => {
  const q = new TimeoutQueue(100)
  const a = new Item()
  const b = new Item()
  const c = new Item()
  q.add(a, 0)
  q.add(b, 10)
  q.add(c, 20)
  q.remove(b)
  assert.equal(q.size, 2)
  q.sweep(105)
  assert.deepEqual([a.fired, b.fired, c.fired], [1, 0, 0])
  q.sweep(120)
  assert.deepEqual([a.fired, b.fired, c.fired], [1, 0, 1])
  assert.equal(q.size, 0)
  assert.equal(q.head, null)
  q.remove(a) // not queued: no-op
  assert.equal(q.size, 0)
})

test('policies: sequential, round_robin rotation, random permutations', () => {
  assert.deepEqual(makePolicy('sequential', 3).order(), [0, 1, 2])
  const rr = makePolicy('round_robin', 3)
  assert.deepEqual([rr.order(), rr.order(), rr.order(), rr.order()], [[1, 2, 0], [2, 0, 1], [0, 1, 2], [1, 2, 0]])
  const r = makePolicy('random', 4)
  const firsts = new Set<number>()
  for (let i = 0; i < 200; i++) {
    const o = r.order()
    assert.deepEqual([...o].sort(), [0, 1, 2, 3])
    firsts.add(o[0]!)
  }
  assert.equal(firsts.size, 4)
  assert.deepEqual(makePolicy('random', 1).order(), [0])
})

test('histogram buckets are CoreDNS TimeBuckets', () => {
  assert.equal(DURATION_BUCKETS.length, 16)
  assert.equal(DURATION_BUCKETS[0], 0.00025)
  assert.equal(DURATION_BUCKETS[15], 0.00025 * 2 ** 15)
  const h = new Histogram()
  h.observe(0.0001)
  h.observe(100)
  assert.equal(h.counts[0], 1)
  assert.equal(h.counts[16], 1)
  assert.equal(h.count, 2)
})

test('wire helpers: question match is case-insensitive, rcode with OPT, empty TC reply', () => {
  const q = queryView('www.Example.org.', Type.A, { ednsSize: 1232 })
  const r = reply(decodeMessage(queryWire('WWW.example.ORG.', Type.A, { ednsSize: 1232 })), { rcode: 3 })
  assert.ok(sameQuestion(r, q.buf, q.questionEnd))
  assert.ok(!sameQuestion(reply(decodeMessage(queryWire('www.example.org.', Type.AAAA))), q.buf, q.questionEnd))
  assert.equal(replyRcode(r), 3)
  const t = emptyTruncated(r, q.buf, q.questionEnd)
  const m = decodeMessage(t)
  assert.equal(m.answer.length + m.authority.length + m.additional.length, 0)
  assert.ok((m.flags & 0x0200) !== 0)
  assert.equal(m.question[0]!.name, 'www.Example.org.')
})

test('UDP pool: random IDs, sockets rotated after maxUses, all closed at the end', async () => {
  const f = await fake(answerA('192.0.2.1'))
  const pool = new UdpPool({ family: 4, size: 2, maxUses: 3 })
  const queue = new TimeoutQueue(1000)
  const q = queryView('a.example.org.', Type.A)
  for (let i = 0; i < 12; i++) {
    const r = await pool.exchange('127.0.0.1', f.port, q.buf, q.questionEnd, queue, new Error('timeout'))
    assert.ok(Buffer.isBuffer(r))
    assert.equal(r.readUInt16BE(0), f.received[i]!.msg.id, 'reply carries the upstream ID (the caller restores)')
  }
  assert.ok(pool.created >= 4, `rotated: ${pool.created} sockets`)
  assert.ok(new Set(f.received.map((x) => x.port)).size >= 4)
  assert.ok(new Set(f.received.map((x) => x.msg.id)).size >= 10)
  assert.equal(q.buf.readUInt16BE(0), 4711, 'the caller buffer is not modified')
  pool.close()
  const r = await pool.exchange('127.0.0.1', f.port, q.buf, q.questionEnd, queue, new Error('timeout'))
  assert.ok(r instanceof Error)
})

test('UDP pool: a reply from another source address is dropped (by the kernel on connected sockets, else counted)', async () => {
  const other = dgram.createSocket('udp4')
  await new Promise<void>((r) => other.bind(0, '127.0.0.2', () => r()))
  let f: FakeUpstream | null = null
  f = await fake((q, w, p) => {
    const from = f!.received[f!.received.length - 1]!
    other.send(answerA('6.6.6.6')(q, w, p)![0]!, from.port, from.address)
    setTimeout(() => f!.sendFromServerPort(answerA('192.0.2.1')(q, w, p)![0]!, from), 30)
    return null
  })
  const q = queryView('a.example.org.', Type.A)
  // Connected sockets (the default): the spoofed datagram never reaches us.
  const pool = new UdpPool({ family: 4 })
  const r = await pool.exchange('127.0.0.1', f.port, q.buf, q.questionEnd, new TimeoutQueue(1000), new Error('timeout'))
  assert.ok(Buffer.isBuffer(r))
  assert.equal(decodeMessage(r).answer[0]!.data, '192.0.2.1')
  assert.equal(pool.drops.wrongSource, 0)
  pool.close()
  // Unconnected sockets: our own source check drops and counts it.
  const open = new UdpPool({ family: 4, connect: false })
  const r2 = await open.exchange('127.0.0.1', f.port, q.buf, q.questionEnd, new TimeoutQueue(1000), new Error('timeout'))
  assert.ok(Buffer.isBuffer(r2))
  assert.equal(decodeMessage(r2).answer[0]!.data, '192.0.2.1')
  assert.equal(open.drops.wrongSource, 1)
  open.close()
  other.close()
})

test('TCP client: pipelined queries on one connection, replies matched by ID', async () => {
  const f = await fake(answerA('192.0.2.2'))
  const c = new StreamClient({ host: '127.0.0.1', port: f.port, proto: 'tcp' })
  const queue = new TimeoutQueue(1000)
  const rs = await Promise.all(
    Array.from({ length: 10 }, (_, i) => c.exchange(queryWire(`q${i}.example.org.`, Type.A), queue, new Error('timeout'))),
  )
  for (let i = 0; i < 10; i++) {
    const r = rs[i]!
    assert.ok(Buffer.isBuffer(r))
    assert.equal(decodeMessage(r).question[0]!.name, `q${i}.example.org.`)
  }
  assert.equal(f.tcpConnections, 1)
  assert.equal(c.dials, 1)
  c.close()
})

test('TCP client: max_idle_conns and max_age limit reuse', async () => {
  const f = await fake(answerA('192.0.2.3'))
  const queue = new TimeoutQueue(1000)
  const aged = new StreamClient({ host: '127.0.0.1', port: f.port, proto: 'tcp', maxAgeMs: 1 })
  await aged.exchange(queryWire('a.example.org.', Type.A), queue, new Error('t'))
  await new Promise((r) => setTimeout(r, 5))
  await aged.exchange(queryWire('b.example.org.', Type.A), queue, new Error('t'))
  assert.equal(aged.dials, 2, 'a connection older than max_age takes no new query')
  aged.close()
  const idle = new StreamClient({ host: '127.0.0.1', port: f.port, proto: 'tcp', maxIdleConns: 1, maxPipeline: 1 })
  await Promise.all([1, 2, 3].map((i) => idle.exchange(queryWire(`i${i}.example.org.`, Type.A), queue, new Error('t'))))
  assert.equal(idle.dials, 3)
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(idle.open, 1, 'only one idle connection kept')
  idle.close()
})

test('TCP client: a silent upstream times out per the queue; dial timeout adapts between 1 s and 30 s', async () => {
  const f = await fake(SILENT)
  const c = new StreamClient({ host: '127.0.0.1', port: f.port, proto: 'tcp' })
  assert.equal(c.dialTimeoutMs(), MAX_DIAL_MS, 'starts at the maximum (average 15 s)')
  const err = new Error('timeout!')
  const r = await c.exchange(queryWire('a.example.org.', Type.A), new TimeoutQueue(100), err)
  assert.equal(r, err)
  assert.ok(c.avgDialMs < MAX_DIAL_MS / 2, 'a fast dial lowers the average')
  for (let i = 0; i < 40; i++) c.avgDialMs += (1 - c.avgDialMs) / 4
  assert.equal(c.dialTimeoutMs(), MIN_DIAL_MS)
  c.close()
})

test('TCP client: connection refused is an error, not a hang', async () => {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  const c = new StreamClient({ host: '127.0.0.1', port, proto: 'tcp' })
  const t0 = Date.now()
  const r = await c.exchange(queryWire('a.example.org.', Type.A), new TimeoutQueue(2000), new Error('timeout'))
  assert.ok(r instanceof Error && /ECONNREFUSED/.test(r.message), String(r))
  assert.ok(Date.now() - t0 < 1000)
  c.close()
})

test('health check: probes only after trigger, any reply resets, failures counted', async () => {
  let answer = false
  const f = await fake((q, w, p) => (answer ? [reply(q, { rcode: 5 })] : SILENT(q, w, p)))
  const pools = new UdpPools()
  const p = new Proxy({ host: '127.0.0.1', port: f.port, transport: 'dns', pools, queue: new TimeoutQueue(1000), hcDomain: 'example.net.' })
  p.health.start(50)
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(f.count(), 0, 'nothing sent before a failure')
  p.healthcheck()
  for (let i = 0; i < 150 && p.fails < 2; i++) await new Promise((r) => setTimeout(r, 20))
  assert.ok(p.fails >= 2 && p.down(1))
  assert.equal(p.stats.healthcheckFailures, p.fails)
  assert.equal(f.received[0]!.msg.question[0]!.name, 'example.net.')
  assert.equal(f.received[0]!.msg.question[0]!.type, Type.NS)
  assert.ok((f.received[0]!.msg.flags & 0x0100) !== 0, 'RD set by default')
  answer = true // REFUSED is a reply: healthy
  for (let i = 0; i < 150 && p.fails !== 0; i++) await new Promise((r) => setTimeout(r, 20))
  assert.equal(p.fails, 0)
  assert.equal(p.health.active, false)
  const n = f.count()
  await new Promise((r) => setTimeout(r, 150))
  assert.equal(f.count(), n, 'probing stopped')
  p.stop()
  pools.close()
})
