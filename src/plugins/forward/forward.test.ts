// The forward handler through a real server and `dig`, against tiny upstreams the test controls
// (test/upstreams/fake.ts): protocols, truncation, timeouts, SERVFAIL, spoofed replies, policies,
// health checks, max_concurrent, except/next/failover, connection reuse.
import { test, describe, after } from 'node:test'
import assert from 'node:assert/strict'
import { dig } from '../../../test/helpers/dig.js'
import { answerA, reply, SERVFAIL, SILENT, startFake, type FakeUpstream, type Responder } from '../../../test/upstreams/fake.js'
import { startChain, type ChainServer } from '../../../test/upstreams/server.js'
import { Rcode, Type } from '../../dns/constants.js'
import type { Forward } from './handler.js'

const fakes: FakeUpstream[] = []
const servers: ChainServer[] = []
after(async () => {
  for (const s of servers) await s.close()
  for (const f of fakes) await f.stop()
})

async function fake(r: Responder): Promise<FakeUpstream> {
  const f = await startFake(r)
  fakes.push(f)
  return f
}

async function serve(body: string): Promise<ChainServer> {
  const s = await startChain(`.:0 {\n  bind 127.0.0.1\n${body}\n}\n`)
  servers.push(s)
  return s
}

function forwards(s: ChainServer): Forward[] {
  return s.server.config!.blocks[0]!.settings.providers.get('forward') as Forward[]
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `cond` every 20 ms for at most `ms`. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 20) await sleep(20)
  assert.ok(cond(), 'condition not met in time')
}

describe('forward: protocols and pass-through', () => {
  test('UDP query → UDP upstream, reply as is, client ID restored, fresh upstream ID', async () => {
    const f = await fake(answerA('192.0.2.1'))
    const s = await serve(`  forward . 127.0.0.1:${f.port}`)
    const r = await dig(s.port, ['www.example.org', 'A'])
    assert.equal(r.status, 'NOERROR')
    assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.1'])
    assert.ok(r.flags.includes('ra'), 'upstream flags kept')
    assert.equal(f.count('udp'), 1)
    // dig would reject a reply whose ID differs from its query, so the client ID was restored.
  })

  test('TCP client → TCP upstream (the client protocol is kept)', async () => {
    const f = await fake(answerA('192.0.2.2'))
    const s = await serve(`  forward . 127.0.0.1:${f.port}`)
    const r = await dig(s.port, ['+tcp', 'www.example.org', 'A'])
    assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.2'])
    assert.equal(f.count('tcp'), 1)
    assert.equal(f.count('udp'), 0)
  })

  test('force_tcp: UDP client, TCP upstream', async () => {
    const f = await fake(answerA('192.0.2.3'))
    const s = await serve(`  forward . 127.0.0.1:${f.port} {\n    force_tcp\n  }`)
    const r = await dig(s.port, ['www.example.org', 'A'])
    assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.3'])
    assert.equal(f.count('tcp'), 1)
    assert.equal(f.count('udp'), 0)
  })

  test('prefer_udp: TCP client, UDP upstream; a truncated UDP reply is retried over TCP', async () => {
    const f = await fake((q, _w, proto) => [proto === 'udp' ? reply(q, { flags: 0x8000 | 0x0200 | 0x0100 }) : answerA('192.0.2.4')(q, _w, proto)![0]!])
    const s = await serve(`  forward . 127.0.0.1:${f.port} {\n    prefer_udp\n  }`)
    const r = await dig(s.port, ['+tcp', 'www.example.org', 'A'])
    assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.4'])
    assert.equal(f.count('udp'), 1)
    assert.equal(f.count('tcp'), 1)
  })

  test('without prefer_udp a truncated reply reaches the UDP client as is (TC), and its TCP retry goes over TCP', async () => {
    const f = await fake((q, _w, proto) => [proto === 'udp' ? reply(q, { flags: 0x8000 | 0x0200 | 0x0100 }) : answerA('192.0.2.5')(q, _w, proto)![0]!])
    const s = await serve(`  forward . 127.0.0.1:${f.port}`)
    const tc = await dig(s.port, ['+ignore', 'www.example.org', 'A'])
    assert.ok(tc.flags.includes('tc'), tc.raw)
    assert.equal(tc.answer.length, 0)
    const full = await dig(s.port, ['www.example.org', 'A']) // dig retries over TCP itself
    assert.deepEqual(full.answer.map((a) => a.data), ['192.0.2.5'])
    assert.equal(f.count('tcp'), 1)
  })

  test('an oversized UDP reply becomes an empty reply with TC=1 (CoreDNS truncateResponse)', async () => {
    const big = (q: Parameters<Responder>[0]): Buffer =>
      reply(q, { answer: Array.from({ length: 60 }, (_, i) => ({ name: q.question[0]!.name, type: Type.A, class: 1, ttl: 60, data: `192.0.2.${i + 1}` })) })
    const f = await fake((q) => [big(q)])
    const s = await serve(`  forward . 127.0.0.1:${f.port}`)
    const r = await dig(s.port, ['+ignore', '+noedns', 'www.example.org', 'A'])
    assert.ok(r.flags.includes('tc'), r.raw)
    assert.equal(r.answer.length, 0)
  })

  test('other classes than IN are forwarded', async () => {
    const f = await fake((q) => [reply(q)])
    const s = await serve(`  forward . 127.0.0.1:${f.port}`)
    const r = await dig(s.port, ['-c', 'CH', 'version.bind', 'TXT'])
    assert.equal(r.status, 'NOERROR')
    assert.equal(f.received[0]!.msg.question[0]!.class, 3)
  })

  test('except: excepted names go to the next plugin, FROM itself is forwarded', async () => {
    const f = await fake(answerA('192.0.2.6'))
    const s = await serve(`  forward example.org 127.0.0.1:${f.port} {\n    except example.org sub.example.org\n  }\n  whoami`)
    const r1 = await dig(s.port, ['a.sub.example.org', 'A'])
    assert.equal(r1.answer.length, 0, 'whoami answers A queries with an additional section only')
    assert.equal(f.count(), 0)
    const r2 = await dig(s.port, ['example.org', 'A'])
    assert.deepEqual(r2.answer.map((a) => a.data), ['192.0.2.6'])
    const r3 = await dig(s.port, ['example.com', 'A'])
    assert.equal(r3.answer.length, 0)
    assert.equal(f.count(), 1)
  })
})

describe('forward: faults', () => {
  test('upstream SERVFAIL reaches the client as is', async () => {
    const f = await fake(SERVFAIL)
    const s = await serve(`  forward . 127.0.0.1:${f.port}`)
    const r = await dig(s.port, ['www.example.org', 'A'])
    assert.equal(r.status, 'SERVFAIL')
    assert.equal(f.count(), 1, 'a SERVFAIL reply is an answer, not a failure')
  })

  test('a silent upstream: SERVFAIL within max_connect_attempts × read_timeout, error logged', async () => {
    const f = await fake(SILENT)
    const s = await serve(`  errors\n  forward . 127.0.0.1:${f.port} {\n    read_timeout 300ms\n  }`)
    const t0 = Date.now()
    const r = await dig(s.port, ['www.example.org', 'A'])
    const ms = Date.now() - t0
    assert.equal(r.status, 'SERVFAIL')
    assert.ok(ms >= 550 && ms < 1500, `took ${ms} ms`)
    const queries = f.received.filter((x) => x.msg.question[0]!.type === Type.A)
    assert.equal(queries.length, 2, 'default max_connect_attempts = 2 × upstreams')
    await until(() => s.lines.some((l) => l.includes('i/o timeout')))
  })

  test('the 5 s overall deadline bounds attempts when max_connect_attempts is 0', async () => {
    const f = await fake(SILENT)
    const s = await serve(`  forward . 127.0.0.1:${f.port} {\n    read_timeout 2s\n    max_connect_attempts 0\n    max_fails 0\n  }`)
    const t0 = Date.now()
    const r = await dig(s.port, ['+time=8', 'www.example.org', 'A'])
    const ms = Date.now() - t0
    assert.equal(r.status, 'SERVFAIL')
    assert.equal(f.count(), 3, 'attempts start at 0, 2 and 4 s')
    assert.ok(ms >= 5900 && ms < 6800, `took ${ms} ms`)
  })

  test('spoofed replies (wrong ID, wrong question, wrong source port) are dropped and counted', async () => {
    let f: FakeUpstream | null = null
    f = await fake((q, wire) => {
      const from = f!.received[f!.received.length - 1]!
      const good = answerA('192.0.2.7')(q, wire, 'udp')![0]!
      const wrongId = reply(q, { id: (q.id + 1) & 0xffff, answer: [{ name: q.question[0]!.name, type: Type.A, class: 1, ttl: 60, data: '6.6.6.6' }] })
      const wrongQ = reply({ ...q, question: [{ name: 'evil.example.', type: Type.A, class: 1 }] }, { answer: [] })
      const otherPort = reply(q, { answer: [{ name: q.question[0]!.name, type: Type.A, class: 1, ttl: 60, data: '6.6.6.7' }] })
      f!.sendFromServerPort(wrongId, from)
      f!.sendFromServerPort(wrongQ, from)
      f!.sendFromOtherPort(otherPort, from)
      setTimeout(() => f!.sendFromServerPort(good, from), 50)
      return null
    })
    const s = await serve(`  forward . 127.0.0.1:${f.port}`)
    const r = await dig(s.port, ['www.example.org', 'A'])
    assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.7'])
    const pool = forwards(s)[0]!.pools.pools()[0]!
    assert.equal(pool.drops.wrongQuestion, 1)
    // The upstream sockets are connected: the kernel drops the datagram from the other port
    // before it reaches us (upstream.test.ts covers the counted case on unconnected sockets).
    assert.equal(pool.drops.wrongSource, 0)
    assert.ok(pool.drops.unknownId >= 1)
    assert.equal(forwards(s)[0]!.droppedReplies, pool.drops.total)
  })

  test('only spoofed replies: the query times out (SERVFAIL), nothing spoofed reaches the client', async () => {
    let f: FakeUpstream | null = null
    f = await fake((q) => {
      const from = f!.received[f!.received.length - 1]!
      f!.sendFromOtherPort(reply(q, { answer: [{ name: q.question[0]!.name, type: Type.A, class: 1, ttl: 60, data: '6.6.6.6' }] }), from)
      return null
    })
    const s = await serve(`  forward . 127.0.0.1:${f.port} {\n    read_timeout 200ms\n  }`)
    const r = await dig(s.port, ['www.example.org', 'A'])
    assert.equal(r.status, 'SERVFAIL')
  })

  test('a reply for another question over TCP → FORMERR (CoreDNS request.Match)', async () => {
    const f = await fake((q) => [reply({ ...q, question: [{ name: 'other.example.', type: Type.A, class: 1 }] })])
    const s = await serve(`  forward . 127.0.0.1:${f.port}`)
    const r = await dig(s.port, ['+tcp', 'www.example.org', 'A'])
    assert.equal(r.status, 'FORMERR')
  })

  test('a dead upstream is skipped: failover to the next one', async () => {
    const dead = await fake(SILENT)
    const live = await fake(answerA('192.0.2.8'))
    const s = await serve(`  forward . 127.0.0.1:${dead.port} 127.0.0.1:${live.port} {\n    policy sequential\n    read_timeout 200ms\n  }`)
    const r = await dig(s.port, ['www.example.org', 'A'])
    assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.8'])
  })

  test('health checks mark an upstream down and back up', async () => {
    let upAgain = false
    const a = await fake((q, w, p) => (upAgain ? answerA('192.0.2.9')(q, w, p) : null))
    const b = await fake(answerA('192.0.2.10'))
    const s = await serve(
      `  forward . 127.0.0.1:${a.port} 127.0.0.1:${b.port} {\n    policy sequential\n    read_timeout 1s\n    max_fails 1\n    health_check 100ms no_rec domain example.net\n  }`,
    )
    const f = forwards(s)[0]!
    const pa = f.proxies[0]!
    assert.equal(a.count(), 0, 'no traffic (health checks) before a failure')
    const r1 = await dig(s.port, ['one.example.org', 'A'])
    assert.deepEqual(r1.answer.map((x) => x.data), ['192.0.2.10'])
    await until(() => pa.down(1))
    const probes = a.received.filter((x) => x.msg.question[0]!.type === Type.NS)
    assert.ok(probes.length >= 2)
    assert.equal(probes[0]!.msg.question[0]!.name, 'example.net.')
    assert.equal(probes[0]!.msg.flags & 0x0100, 0, 'no_rec clears RD')
    assert.ok(pa.stats.healthcheckFailures >= 2)
    // Down: queries go straight to b, no read_timeout wait.
    const before = a.count()
    const t0 = Date.now()
    const r2 = await dig(s.port, ['two.example.org', 'A'])
    assert.deepEqual(r2.answer.map((x) => x.data), ['192.0.2.10'])
    assert.ok(Date.now() - t0 < 800, 'the down upstream was skipped (no 1 s read timeout)')
    assert.equal(a.received.slice(before).filter((x) => x.msg.question[0]!.type === Type.A).length, 0)
    // Back up: the next probe succeeds, failures reset, probing stops, a is used again.
    upAgain = true
    await until(() => pa.fails === 0 && !pa.health.active)
    const r3 = await dig(s.port, ['three.example.org', 'A'])
    assert.deepEqual(r3.answer.map((x) => x.data), ['192.0.2.9'])
  })

  test('all upstreams down: one is tried at random and healthcheck_broken counted; failfast answers SERVFAIL', async () => {
    const a = await fake(SILENT)
    const s = await serve(`  forward . 127.0.0.1:${a.port} {\n    read_timeout 100ms\n    max_fails 1\n    health_check 50ms\n  }`)
    await dig(s.port, ['one.example.org', 'A'])
    const f = forwards(s)[0]!
    await until(() => f.proxies[0]!.down(1))
    const n = a.count('udp')
    a.respond = answerA('192.0.2.11')
    const r = await dig(s.port, ['two.example.org', 'A'])
    assert.ok(f.healthcheckBroken >= 1)
    assert.ok(a.count('udp') > n)
    assert.equal(r.status, 'NOERROR')

    const b = await fake(SILENT)
    const s2 = await serve(`  forward . 127.0.0.1:${b.port} {\n    read_timeout 1s\n    max_fails 1\n    health_check 50ms\n    failfast_all_unhealthy_upstreams\n  }`)
    await dig(s2.port, ['one.example.org', 'A'])
    const f2 = forwards(s2)[0]!
    await until(() => f2.proxies[0]!.down(1))
    const t0 = Date.now()
    const r2 = await dig(s2.port, ['two.example.org', 'A'])
    assert.equal(r2.status, 'SERVFAIL')
    assert.ok(Date.now() - t0 < 800, 'no upstream attempt (read_timeout 1 s)')
  })
})

describe('forward: policies', () => {
  async function three(policy: string): Promise<{ s: ChainServer; ups: FakeUpstream[] }> {
    const ups = [await fake(answerA('192.0.2.21')), await fake(answerA('192.0.2.22')), await fake(answerA('192.0.2.23'))]
    const s = await serve(`  forward . ${ups.map((u) => `127.0.0.1:${u.port}`).join(' ')} {\n    policy ${policy}\n  }`)
    return { s, ups }
  }
  async function answers(s: ChainServer, n: number): Promise<string[]> {
    const out: string[] = []
    for (let i = 0; i < n; i++) out.push((await dig(s.port, [`q${i}.example.org`, 'A'])).answer[0]!.data)
    return out
  }

  test('sequential: always the first', async () => {
    const { s } = await three('sequential')
    assert.deepEqual(await answers(s, 4), ['192.0.2.21', '192.0.2.21', '192.0.2.21', '192.0.2.21'])
  })

  test('round_robin: rotates, starting at the second (CoreDNS increments first)', async () => {
    const { s } = await three('round_robin')
    assert.deepEqual(await answers(s, 6), ['192.0.2.22', '192.0.2.23', '192.0.2.21', '192.0.2.22', '192.0.2.23', '192.0.2.21'])
  })

  test('random: every upstream gets queries', async () => {
    const { s, ups } = await three('random')
    await answers(s, 40)
    for (const u of ups) assert.ok(u.count() > 0, 'each upstream used')
  })
})

describe('forward: max_concurrent, next, failover', () => {
  test('max_concurrent: REFUSED past the limit, counted', async () => {
    const f = await fake((q, w, p) => {
      setTimeout(() => {
        const last = f.received.find((r) => r.msg.id === q.id)!
        f.sendFromServerPort(answerA('192.0.2.30')(q, w, p)![0]!, last)
      }, 600)
      return null
    })
    const s = await serve(`  errors\n  forward . 127.0.0.1:${f.port} {\n    max_concurrent 1\n  }`)
    const pa = dig(s.port, ['a.example.org', 'A'])
    await until(() => f.count() === 1) // a is in flight upstream (held for 300 ms)
    const b = await dig(s.port, ['b.example.org', 'A'])
    const a = await pa
    assert.equal(a.status, 'NOERROR')
    assert.equal(b.status, 'REFUSED')
    const fw = forwards(s)[0]!
    assert.equal(fw.maxConcurrentRejects, 1)
    assert.equal(fw.concurrent, 0)
    await until(() => s.lines.some((l) => l.includes('concurrent queries exceeded maximum 1')))
    assert.equal(fw.proxies[0]!.fails, 0, 'not a health failure')
  })

  test('next NXDOMAIN hands the query to the following forward', async () => {
    const a = await fake((q) => [reply(q, { rcode: Rcode.NXDomain })])
    const b = await fake(answerA('192.0.2.31'))
    const s = await serve(`  forward . 127.0.0.1:${a.port} {\n    next NXDOMAIN\n  }\n  forward . 127.0.0.1:${b.port}`)
    const r = await dig(s.port, ['x.example.org', 'A'])
    assert.deepEqual(r.answer.map((x) => x.data), ['192.0.2.31'])
    assert.equal(a.count(), 1)
    assert.equal(b.count(), 1)
  })

  test('next_on_nodata hands an empty NOERROR to the following forward', async () => {
    const a = await fake((q) => [reply(q)])
    const b = await fake(answerA('192.0.2.32'))
    const s = await serve(`  forward . 127.0.0.1:${a.port} {\n    next_on_nodata\n  }\n  forward . 127.0.0.1:${b.port}`)
    const r = await dig(s.port, ['x.example.org', 'A'])
    assert.deepEqual(r.answer.map((x) => x.data), ['192.0.2.32'])
  })

  test('a more specific forward passes other names to the next forward line', async () => {
    const a = await fake(answerA('192.0.2.33'))
    const b = await fake(answerA('192.0.2.34'))
    const s = await serve(`  forward example.org 127.0.0.1:${a.port}\n  forward . 127.0.0.1:${b.port}`)
    assert.deepEqual((await dig(s.port, ['x.example.org', 'A'])).answer.map((x) => x.data), ['192.0.2.33'])
    assert.deepEqual((await dig(s.port, ['x.example.com', 'A'])).answer.map((x) => x.data), ['192.0.2.34'])
  })

  test('failover SERVFAIL tries the next upstream; the last reply is returned when all fail', async () => {
    const a = await fake(SERVFAIL)
    const b = await fake(answerA('192.0.2.35'))
    const s = await serve(`  forward . 127.0.0.1:${a.port} 127.0.0.1:${b.port} {\n    policy sequential\n    failover SERVFAIL\n  }`)
    assert.deepEqual((await dig(s.port, ['x.example.org', 'A'])).answer.map((x) => x.data), ['192.0.2.35'])
    const c = await fake(SERVFAIL)
    const d = await fake(SERVFAIL)
    const s2 = await serve(`  forward . 127.0.0.1:${c.port} 127.0.0.1:${d.port} {\n    failover SERVFAIL\n  }`)
    assert.equal((await dig(s2.port, ['x.example.org', 'A'])).status, 'SERVFAIL')
    assert.equal(c.count() + d.count(), 2)
  })
})

describe('forward: sockets and connections', () => {
  test('UDP: random IDs and several source ports', async () => {
    const f = await fake(answerA('192.0.2.40'))
    const s = await serve(`  forward . 127.0.0.1:${f.port}`)
    for (let i = 0; i < 24; i++) await dig(s.port, [`p${i}.example.org`, 'A'])
    const ports = new Set(f.received.map((r) => r.port))
    const ids = new Set(f.received.map((r) => r.msg.id))
    assert.ok(ports.size > 1, `source ports used: ${[...ports].join(',')}`)
    assert.ok(ids.size >= 20, 'IDs vary')
  })

  test('TCP connections are reused; one closed by the peer is retried transparently', async () => {
    let n = 0
    let f: FakeUpstream | null = null
    f = await fake((q, w, p) => {
      n++
      if (n === 3) {
        // Drop the cached connection instead of answering the third query.
        setImmediate(() => f!.dropConnections())
        return null
      }
      return answerA('192.0.2.41')(q, w, p)
    })
    const s = await serve(`  forward . 127.0.0.1:${f.port} {\n    force_tcp\n  }`)
    for (let i = 0; i < 2; i++) assert.equal((await dig(s.port, [`t${i}.example.org`, 'A'])).status, 'NOERROR')
    assert.equal(f.tcpConnections, 1, 'one connection for two queries')
    const stats = forwards(s)[0]!.proxies[0]!.stats
    assert.equal(stats.missesTcp, 1)
    assert.equal(stats.hitsTcp, 1)
    const r = await dig(s.port, ['t2.example.org', 'A'])
    assert.equal(r.status, 'NOERROR', 'retried on a fresh connection')
    assert.equal(f.tcpConnections, 2)
  })

  test('expire 0: no connection reuse', async () => {
    const f = await fake(answerA('192.0.2.42'))
    const s = await serve(`  forward . 127.0.0.1:${f.port} {\n    force_tcp\n    expire 0\n  }`)
    for (let i = 0; i < 3; i++) await dig(s.port, [`e${i}.example.org`, 'A'])
    assert.equal(f.tcpConnections, 3)
  })
})
