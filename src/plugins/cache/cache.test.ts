import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Class, Flag, Rcode, Type } from '../../dns/constants.js'
import { decodeMessage, encodeMessage } from '../../dns/message.js'
import { QueryView } from '../../dns/query.js'
import type { Message, RR } from '../../dns/types.js'
import { parseCorefile } from '../../corefile/parser.js'
import { ManualClock } from '../../lib/coarse-clock.js'
import type { Request, ResponseWriter, Served, SetupContext } from '../../pluginkit/types.js'
import * as fakeMod from '../../../test/helpers/fake.js'
import { FakeRequest, makeRequest, queryWire, run, runSync, StubHandler, type RequestOptions } from '../../../test/helpers/fake.js'
import { Cache, keyTq } from './handler.js'
import { parseCacheDirective } from './setup.js'

function config(body: string, zones = ['.']) {
  const parsed = parseCorefile(`.:53 {\n${body}\n}\n`, 'Corefile')
  const d = parsed.blocks[0]!.directives.find((x) => x.name === 'cache')!
  return parseCacheDirective({ zones } as unknown as SetupContext, d)
}

const a = (name: string, ip: string, ttl = 300): RR => ({ name, type: Type.A, class: Class.IN, ttl, data: ip })
const soa = (zone: string, ttl = 60): RR => ({
  name: zone,
  type: Type.SOA,
  class: Class.IN,
  ttl,
  data: { mname: 'ns.' + zone, rname: 'h.' + zone, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 },
})
const cname = (name: string, target: string, ttl = 300): RR => ({ name, type: Type.CNAME, class: Class.IN, ttl, data: target })

interface Reply {
  rcode?: number
  answer?: RR[]
  authority?: RR[]
  additional?: RR[]
  flags?: number
  edns?: boolean
  /** Answer a different question name. */
  qname?: string
}

/** The reply an upstream would send to `req`, as wire bytes. */
function replyWire(req: Request, r: Reply): Buffer {
  const q = req.q
  const msg: Message = {
    id: q.id,
    flags: Flag.QR | Flag.RD | Flag.RA | (r.flags ?? 0) | ((r.rcode ?? 0) & 0xf),
    question: [{ name: r.qname ?? q.qname, type: q.qtype, class: q.qclass }],
    answer: r.answer ?? [],
    authority: r.authority ?? [],
    additional: r.additional ?? [],
    edns: r.edns === true || q.hasEdns ? { udpSize: 4096, extRcode: 0, version: 0, flags: q.do ? 0x8000 : 0, options: [] } : null,
  }
  return encodeMessage(msg)
}

/** An upstream answering with `reply(req)` via writeWire (like forward). */
function upstream(reply: (req: Request) => Reply | null): StubHandler {
  return new StubHandler(2, 'up', (req: Request, w: ResponseWriter): Served => {
    const r = reply(req)
    if (r === null) return Rcode.ServFail
    w.writeWire(replyWire(req, r), 'forward')
    return Rcode.NoError
  })
}

function mk(body: string, up: StubHandler, clock = new ManualClock(), zones = ['.']) {
  return { c: new Cache(up, config(body, zones), clock), clock, up }
}

/** Serves synchronously; an error rcode without a reply gets the server's error reply. */
function ask(c: Cache, name: string, type: number | keyof typeof Type = 'A', o: RequestOptions = {}) {
  const r = runSync(c, makeRequest(name, type, o))
  if (!r.w.written) r.w.writeError(r.rcode)
  return { ...r, msg: r.w.reply }
}

const aUp = () => upstream((req) => ({ answer: [a(req.q.qname, '10.0.0.1', 300)] }))

describe('hit and miss', () => {
  test('first query misses and stores, second is served from the cache', () => {
    const { c, up } = mk('cache', aUp())
    const m1 = ask(c, 'example.org.', 'A', { id: 1 })
    assert.equal(up.calls, 1)
    assert.equal(m1.w.plugin, 'forward')
    assert.equal(m1.msg.answer[0]!.ttl, 300)
    const m2 = ask(c, 'example.org.', 'A', { id: 2 })
    assert.equal(up.calls, 1)
    assert.equal(m2.w.plugin, 'cache')
    assert.equal(m2.msg.id, 2)
    assert.ok((m2.msg.flags & Flag.AA) !== 0, 'AA set on hits')
    assert.ok((m2.msg.flags & Flag.RA) !== 0, 'RA as stored')
    assert.ok((m2.msg.flags & Flag.RD) !== 0, 'RD from the query')
    assert.equal(m2.msg.answer[0]!.data, '10.0.0.1')
    assert.equal(c.requests, 2)
    assert.equal(c.misses, 1)
    assert.equal(c.hitsSuccess, 1)
    assert.equal(c.entriesSuccess, 1)
  })

  test('TTL counts down with the clock, then the entry expires', () => {
    const { c, up, clock } = mk('cache', aUp())
    ask(c, 'example.org.')
    clock.advanceSec(10)
    assert.equal(ask(c, 'example.org.').msg.answer[0]!.ttl, 290)
    clock.advance(999)
    assert.equal(ask(c, 'example.org.').msg.answer[0]!.ttl, 290)
    clock.advanceSec(289)
    assert.equal(ask(c, 'example.org.').msg.answer[0]!.ttl, 1)
    assert.equal(up.calls, 1)
    clock.advanceSec(1)
    ask(c, 'example.org.')
    assert.equal(up.calls, 2)
  })

  test('keepttl serves the original TTL', () => {
    const { c, clock } = mk('cache {\n keepttl\n}', aUp())
    ask(c, 'example.org.')
    clock.advanceSec(100)
    assert.equal(ask(c, 'example.org.').msg.answer[0]!.ttl, 300)
  })

  test('the reply on a miss carries the cache duration on every RR (min over the sections)', () => {
    const up = upstream((req) => ({
      answer: [a(req.q.qname, '10.0.0.1', 300), a(req.q.qname, '10.0.0.2', 100)],
      additional: [a('ns.example.org.', '10.0.0.53', 200)],
    }))
    const { c } = mk('cache', up)
    const m = ask(c, 'example.org.', 'A', { ednsSize: 1232 })
    assert.deepEqual(m.msg.answer.map((r) => r.ttl), [100, 100])
    assert.equal(m.msg.additional[0]!.ttl, 100)
    assert.equal(m.msg.edns?.udpSize, 4096, 'the upstream OPT passes through on a miss')
    const h = ask(c, 'example.org.', 'A', { ednsSize: 1232 })
    assert.deepEqual(h.msg.answer.map((r) => r.ttl), [100, 100])
    assert.equal(h.msg.additional.length, 1)
    assert.equal(h.msg.edns?.udpSize, 1232, "a hit carries the client's own OPT")
  })

  test('max TTL (cache TTL / success TTL) and min TTL clamp the duration', () => {
    assert.equal(ask(mk('cache 60', aUp()).c, 'a.org.').msg.answer[0]!.ttl, 60)
    const low = upstream((req) => ({ answer: [a(req.q.qname, '10.0.0.1', 10)] }))
    assert.equal(ask(mk('cache {\n success 1024 3600 30\n}', low).c, 'a.org.').msg.answer[0]!.ttl, 30)
    const zero = upstream((req) => ({ answer: [a(req.q.qname, '10.0.0.1', 0)] }))
    const z = mk('cache', zero)
    assert.equal(ask(z.c, 'a.org.').msg.answer[0]!.ttl, 5, 'even TTL-0 answers are cached MINTTL')
    z.clock.advanceSec(4)
    ask(z.c, 'a.org.')
    assert.equal(z.up.calls, 1)
    const noMin = mk('cache {\n success 1024 3600 0\n}', upstream((req) => ({ answer: [a(req.q.qname, '10.0.0.1', 0)] })))
    ask(noMin.c, 'a.org.')
    ask(noMin.c, 'a.org.')
    assert.equal(noMin.up.calls, 2, 'duration 0 is not cached')
  })

  test('an empty NOERROR reply is cached for 5s', () => {
    const { c, up, clock } = mk('cache', upstream(() => ({})))
    ask(c, 'empty.org.')
    clock.advanceSec(4)
    ask(c, 'empty.org.')
    assert.equal(up.calls, 1)
    clock.advanceSec(1)
    ask(c, 'empty.org.')
    assert.equal(up.calls, 2)
  })

  test('the stub plugin writing a Message (write path) is cached and its records are not mutated', () => {
    const rr = a('host.example.org.', '10.1.1.1', 3600)
    const up = new StubHandler(2, 'hosts', (req, w) => {
      w.write({ id: req.q.id, flags: Flag.QR | Flag.AA, question: [{ name: req.q.qname, type: req.q.qtype, class: req.q.qclass }], answer: [rr], authority: [], additional: [], edns: null }, 'hosts')
      return 0
    })
    const { c, clock } = mk('cache 30', up)
    const m = ask(c, 'host.example.org.', 'A', { ednsSize: 1400 })
    assert.equal(m.msg.answer[0]!.ttl, 30)
    assert.equal(m.msg.edns?.udpSize, 1400, 'the writer fitted EDNS')
    assert.equal(rr.ttl, 3600)
    clock.advanceSec(5)
    const h = ask(c, 'host.example.org.')
    assert.equal(h.w.plugin, 'cache')
    assert.equal(h.msg.answer[0]!.ttl, 25)
    assert.equal(up.calls, 1)
  })

  test('the upstream is asked with the client request (no wrapping of the Request on a miss)', () => {
    let seen: Request | null = null
    const up = upstream((req) => {
      seen = req
      return { answer: [a(req.q.qname, '10.0.0.1')] }
    })
    const { c } = mk('cache', up)
    const req = makeRequest('example.org.', 'A')
    runSync(c, req)
    assert.equal(seen, req)
  })
})

describe('negative caching', () => {
  test('NXDOMAIN with SOA is cached in the denial store with the SOA TTL', () => {
    const up = upstream(() => ({ rcode: Rcode.NXDomain, authority: [soa('example.org.', 60)] }))
    const { c, clock } = mk('cache', up)
    const m = ask(c, 'nope.example.org.')
    assert.equal(m.msg.flags & 0xf, Rcode.NXDomain)
    assert.equal(m.msg.authority[0]!.ttl, 60)
    clock.advanceSec(20)
    const h = ask(c, 'nope.example.org.')
    assert.equal(h.msg.flags & 0xf, Rcode.NXDomain)
    assert.equal(h.msg.authority[0]!.ttl, 40)
    assert.equal(up.calls, 1)
    assert.equal(c.hitsDenial, 1)
    assert.equal(c.entriesDenial, 1)
    assert.equal(c.entriesSuccess, 0)
  })

  test('denial TTL is clamped by the denial maximum (cache TTL / denial TTL)', () => {
    const up = upstream(() => ({ rcode: Rcode.NXDomain, authority: [soa('example.org.', 3000)] }))
    assert.equal(ask(mk('cache', up).c, 'n.example.org.').msg.authority[0]!.ttl, 1800)
    assert.equal(ask(mk('cache 10', up).c, 'n.example.org.').msg.authority[0]!.ttl, 10)
    assert.equal(ask(mk('cache {\n denial 1024 20 10\n}', up).c, 'n.example.org.').msg.authority[0]!.ttl, 20)
  })

  test('NODATA with SOA is cached as denial', () => {
    const up = upstream(() => ({ authority: [soa('example.org.', 30)] }))
    const { c } = mk('cache', up)
    ask(c, 'example.org.', 'AAAA')
    ask(c, 'example.org.', 'AAAA')
    assert.equal(up.calls, 1)
    assert.equal(c.entriesDenial, 1)
  })

  test('NXDOMAIN without SOA is not cached', () => {
    const up = upstream(() => ({ rcode: Rcode.NXDomain }))
    const { c } = mk('cache', up)
    ask(c, 'nope.example.org.')
    ask(c, 'nope.example.org.')
    assert.equal(up.calls, 2)
    assert.equal(c.entriesDenial, 0)
  })

  test('SERVFAIL is cached for the servfail duration (default 5s, 0 disables)', () => {
    const sf = () => upstream(() => ({ rcode: Rcode.ServFail }))
    const d = mk('cache', sf())
    ask(d.c, 'x.org.')
    d.clock.advanceSec(4)
    assert.equal(ask(d.c, 'x.org.').msg.flags & 0xf, Rcode.ServFail)
    assert.equal(d.up.calls, 1)
    d.clock.advanceSec(1)
    ask(d.c, 'x.org.')
    assert.equal(d.up.calls, 2)
    const long = mk('cache {\n servfail 30s\n}', sf())
    ask(long.c, 'x.org.')
    long.clock.advanceSec(29)
    ask(long.c, 'x.org.')
    assert.equal(long.up.calls, 1)
    const off = mk('cache {\n servfail 0\n}', sf())
    ask(off.c, 'x.org.')
    ask(off.c, 'x.org.')
    assert.equal(off.up.calls, 2)
  })

  test('NOTIMP is cached like SERVFAIL', () => {
    const { c, up } = mk('cache', upstream(() => ({ rcode: Rcode.NotImp })))
    ask(c, 'x.org.')
    ask(c, 'x.org.')
    assert.equal(up.calls, 1)
  })
})

describe('not cached', () => {
  const cases: Array<[string, Reply]> = [
    ['REFUSED', { rcode: Rcode.Refused }],
    ['FORMERR', { rcode: Rcode.FormErr }],
    ['YXDOMAIN', { rcode: Rcode.YXDomain, authority: [soa('example.org.')] }],
    ['truncated', { flags: Flag.TC, answer: [a('t.example.org.', '10.0.0.1')] }],
    ['a CNAME chain not reaching the type, without SOA', { answer: [cname('t.example.org.', 'elsewhere.net.')] }],
    ['a CNAME loop', { answer: [cname('t.example.org.', 'u.example.org.'), cname('u.example.org.', 't.example.org.')] }],
  ]
  for (const [name, r] of cases) {
    test(name, () => {
      const { c, up } = mk('cache', upstream(() => r))
      ask(c, 't.example.org.')
      ask(c, 't.example.org.')
      assert.equal(up.calls, 2)
      assert.equal(c.entriesSuccess + c.entriesDenial, 0)
      assert.equal(c.drops, 0)
    })
  }

  test('a reply whose question does not match is counted as a drop', () => {
    const { c, up } = mk('cache', upstream((req) => ({ qname: 'other.org.', answer: [a(req.q.qname, '10.0.0.1')] })))
    ask(c, 't.example.org.')
    ask(c, 't.example.org.')
    assert.equal(up.calls, 2)
    assert.equal(c.drops, 2)
  })

  test('AXFR/IXFR and non-QUERY opcodes pass through', () => {
    const { c, up } = mk('cache', upstream(() => ({ answer: [soa('example.org.')] })))
    ask(c, 'example.org.', 'AXFR')
    ask(c, 'example.org.', 'AXFR')
    assert.equal(up.calls, 2)
    assert.equal(c.requests, 0)
  })

  test('a CNAME chain reaching the type is cached as success; one ending in a SOA as denial', () => {
    const full = mk('cache', upstream(() => ({ answer: [cname('t.example.org.', 'u.example.net.'), a('u.example.net.', '10.0.0.9')] })))
    ask(full.c, 't.example.org.')
    ask(full.c, 't.example.org.')
    assert.equal(full.up.calls, 1)
    assert.equal(full.c.entriesSuccess, 1)
    const nodata = mk('cache', upstream(() => ({ answer: [cname('t.example.org.', 'u.example.net.')], authority: [soa('example.net.', 20)] })))
    ask(nodata.c, 't.example.org.')
    ask(nodata.c, 't.example.org.')
    assert.equal(nodata.up.calls, 1)
    assert.equal(nodata.c.entriesDenial, 1)
  })
})

describe('key', () => {
  test('DO, CD and the class are part of the key', () => {
    const up = upstream((req) => ({ answer: [{ ...a(req.q.qname, '10.0.0.1'), class: req.q.qclass }] }))
    const { c } = mk('cache', up)
    ask(c, 'example.org.')
    ask(c, 'example.org.', 'A', { do: true })
    ask(c, 'example.org.', 'A', { cd: true })
    ask(c, 'example.org.', 'A', { qclass: Class.CH })
    assert.equal(up.calls, 4)
    ask(c, 'example.org.', 'A', { do: true })
    ask(c, 'example.org.', 'A', { cd: true })
    ask(c, 'example.org.', 'A', { qclass: Class.CH })
    ask(c, 'example.org.', 'A', { ednsSize: 4096 })
    assert.equal(up.calls, 4, 'EDNS without DO shares the plain entry')
    assert.notEqual(keyTq(makeRequest('a.', 'A').q), keyTq(makeRequest('a.', 'AAAA').q))
    assert.notEqual(keyTq(makeRequest('a.', 'A', { do: true }).q), keyTq(makeRequest('a.', 'A', { cd: true }).q))
  })

  test("a hit keeps the client's letter case in the question and in owners compressed to it", () => {
    const { c } = mk('cache', aUp())
    ask(c, 'www.example.org.')
    const h = ask(c, 'WwW.ExAmPlE.oRg.')
    assert.equal(h.w.plugin, 'cache')
    assert.equal(h.msg.question[0]!.name, 'WwW.ExAmPlE.oRg.')
    assert.equal(h.msg.answer[0]!.name, 'WwW.ExAmPlE.oRg.')
  })

  test('AD is kept only for clients that set DO or AD', () => {
    const up = upstream((req) => ({ flags: Flag.AD, answer: [a(req.q.qname, '10.0.0.1')] }))
    const { c } = mk('cache', up)
    assert.equal(ask(c, 'example.org.').msg.flags & Flag.AD, 0)
    assert.equal(ask(c, 'example.org.').msg.flags & Flag.AD, 0)
    assert.equal(ask(c, 'example.org.', 'A', { do: true }).msg.flags & Flag.AD, Flag.AD)
    assert.equal(ask(c, 'example.org.', 'A', { do: true }).msg.flags & Flag.AD, Flag.AD)
    // A query with AD set (RFC 6840 §5.7) gets AD from the (non-DO) entry.
    const wire = queryWire('example.org.', Type.A)
    wire[3] = wire[3]! | Flag.AD
    const q = new QueryView()
    q.parseHeader(wire)
    q.parseBody()
    const r = runSync(c, new FakeRequest(q))
    assert.equal(r.w.plugin, 'cache')
    assert.equal(r.w.reply.flags & Flag.AD, Flag.AD, 'the stored AD is given to a client that set AD')
  })

  test('a question of another wire length (compression pointers) takes the decode/encode path', () => {
    const { c } = mk('cache', aUp())
    ask(c, 'www.example.org.', 'A', { ednsSize: 1232 })
    const e = c.table.get('www.example.org.', Type.A, Class.IN)!.pos!
    const req = makeRequest('w.example.org.', 'A', { id: 77, ednsSize: 2048, do: true })
    const { RecordingWriter } = fakeMod
    const w = new RecordingWriter(req)
    c.reply(e, req.q, w, 42)
    const m = w.reply
    assert.equal(m.id, 77)
    assert.equal(m.question[0]!.name, 'w.example.org.')
    assert.equal(m.answer[0]!.ttl, 42)
    assert.equal(m.edns?.udpSize, 2048)
    assert.ok((m.flags & Flag.AA) !== 0)
  })

  test('a hit larger than the client size is truncated by the writer (TC set), the full reply stays cached', () => {
    const many: RR[] = []
    for (let i = 0; i < 60; i++) many.push(a('big.example.org.', `10.0.${i >> 8}.${i & 0xff}`))
    const { c, up } = mk('cache', upstream(() => ({ answer: many })))
    const tcp = ask(c, 'big.example.org.', 'A', { proto: 'tcp' })
    assert.equal(tcp.msg.answer.length, 60)
    const udp = ask(c, 'big.example.org.', 'A')
    assert.ok((udp.msg.flags & Flag.TC) !== 0)
    assert.ok(udp.w.wire!.length <= 512)
    const tcp2 = ask(c, 'big.example.org.', 'A', { proto: 'tcp' })
    assert.equal(tcp2.msg.answer.length, 60)
    assert.equal(up.calls, 1)
  })
})

describe('capacity', () => {
  test('100,000 distinct names stay within the capacity (random eviction)', () => {
    const { c } = mk('cache {\n success 1024\n denial 1024\n}', aUp())
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 100_000; i++) ask(c, `n${i}.example.org.`)
    assert.equal(c.entriesSuccess, 1024)
    assert.ok(c.table.size <= 1024)
    assert.ok(c.table.map.size <= 1024)
    assert.equal(c.evictionsSuccess, 100_000 - 1024)
    assert.equal(c.pcache.items.length, 1024)
    for (const e of c.pcache.items) assert.equal(c.table.get(e.slot.name, e.slot.tq, e.slot.cls)?.pos, e)
    const grown = process.memoryUsage().heapUsed - before
    assert.ok(grown < 64 * 1024 * 1024, `heap grew ${grown} bytes`)
  })

  test('many types and DO/CD variants per name: slot chains stay consistent under eviction', () => {
    const up = upstream((req) => ({ answer: [{ name: req.q.qname, type: req.q.qtype, class: Class.IN, ttl: 300, data: Buffer.from([1, 2, 3, 4]) }] }))
    let seed = 7
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
    const c = new Cache(up, config('cache {\n success 1024\n}'), new ManualClock(), rnd)
    const types = [65280, 65281, 65282, 65283, 65284]
    for (let i = 0; i < 20000; i++) {
      const name = `h${Math.floor(rnd() * 400)}.example.org.`
      ask(c, name, types[Math.floor(rnd() * types.length)]!, { do: rnd() < 0.3, cd: rnd() < 0.2 })
    }
    assert.equal(c.entriesSuccess, 1024)
    assert.equal(c.table.size, 1024)
    let chained = 0
    for (const head of c.table.map.values()) for (let s: typeof head | null = head; s !== null; s = s.next) {
      chained++
      assert.ok(s.pos !== null || s.neg !== null)
    }
    assert.equal(chained, 1024)
    for (const e of c.pcache.items) assert.equal(c.table.get(e.slot.name, e.slot.tq, e.slot.cls)?.pos, e)
  })

  test('success and denial have separate bounds', () => {
    const up = upstream((req) => (req.q.qname.startsWith('n') ? { rcode: Rcode.NXDomain, authority: [soa('example.org.')] } : { answer: [a(req.q.qname, '10.0.0.1')] }))
    const { c } = mk('cache {\n success 1024\n denial 1024\n}', up)
    for (let i = 0; i < 3000; i++) ask(c, `n${i}.example.org.`)
    for (let i = 0; i < 3000; i++) ask(c, `p${i}.example.org.`)
    assert.equal(c.entriesDenial, 1024)
    assert.equal(c.entriesSuccess, 1024)
    assert.equal(c.table.size, 2048)
  })
})

describe('prefetch', () => {
  test('a popular entry is refreshed in the background with TCP semantics', () => {
    const seen: Array<{ proto: string; maxSize: number }> = []
    let ip = 1
    const up = upstream((req) => {
      seen.push({ proto: req.proto, maxSize: req.maxSize })
      return { answer: [a(req.q.qname, `10.0.0.${ip++}`, 10)] }
    })
    const { c, clock } = mk('cache {\n prefetch 2 1m 50%\n}', up)
    ask(c, 'example.org.')
    clock.advanceSec(1)
    ask(c, 'example.org.') // hits=1, rem 9
    assert.equal(up.calls, 1)
    clock.advanceSec(5)
    const h = ask(c, 'example.org.') // hits=2, rem 4 ≤ ceil(5) → prefetch after the reply
    assert.equal(h.msg.answer[0]!.data, '10.0.0.1')
    assert.equal(up.calls, 2)
    assert.deepEqual(seen[1], { proto: 'tcp', maxSize: 65535 })
    assert.equal(c.prefetches, 1)
    const after = ask(c, 'example.org.')
    assert.equal(after.msg.answer[0]!.data, '10.0.0.2')
    assert.equal(after.msg.answer[0]!.ttl, 10)
  })

  test('hits outside the window do not count; one refresh at a time per entry', async () => {
    let release: (() => void) | null = null
    const up = new StubHandler(2, 'up', (req, w) => {
      if (up.calls === 1) {
        w.writeWire(replyWire(req, { answer: [a(req.q.qname, '10.0.0.1', 100)] }), 'forward')
        return 0
      }
      return new Promise<number>((resolve) => {
        release = () => {
          w.writeWire(replyWire(req, { answer: [a(req.q.qname, '10.0.0.2', 100)] }), 'forward')
          resolve(0)
        }
      })
    })
    const { c, clock } = mk('cache {\n prefetch 2 10s 90%\n}', up)
    ask(c, 'example.org.')
    clock.advanceSec(20)
    ask(c, 'example.org.') // hits 1
    clock.advanceSec(11)
    ask(c, 'example.org.') // gap > 10s: hits back to 1
    assert.equal(up.calls, 1)
    ask(c, 'example.org.') // hits 2 → prefetch (async)
    ask(c, 'example.org.') // in flight: no second refresh
    assert.equal(up.calls, 2)
    assert.equal(c.prefetches, 1)
    release!()
    await new Promise((r) => setImmediate(r))
    assert.equal(ask(c, 'example.org.').msg.answer[0]!.data, '10.0.0.2')
  })

  test('a SERVFAIL from a refresh never shadows the still valid positive entry', () => {
    let fail = false
    const up = upstream((req) => (fail ? { rcode: Rcode.ServFail } : { answer: [a(req.q.qname, '10.0.0.1', 10)] }))
    const { c, clock } = mk('cache {\n prefetch 1 1m 90%\n}', up)
    ask(c, 'example.org.')
    fail = true
    clock.advanceSec(5)
    ask(c, 'example.org.') // prefetch → SERVFAIL stored as denial
    assert.equal(c.entriesDenial, 1)
    const h = ask(c, 'example.org.')
    assert.equal(h.msg.flags & 0xf, Rcode.NoError)
    assert.equal(h.msg.answer[0]!.data, '10.0.0.1')
  })
})

describe('serve_stale', () => {
  function flaky(ttl = 10) {
    const state = { fail: false, ip: 1 }
    const up = upstream((req) => (state.fail ? null : { answer: [a(req.q.qname, `10.0.0.${state.ip++}`, ttl)] }))
    return { up, state }
  }

  test('immediate: an expired entry is served with TTL 0 and refreshed in the background', () => {
    const { up, state } = flaky()
    const { c, clock } = mk('cache {\n serve_stale\n}', up)
    ask(c, 'example.org.')
    state.fail = true
    clock.advanceSec(30)
    const h = ask(c, 'example.org.')
    assert.equal(h.msg.flags & 0xf, Rcode.NoError)
    assert.equal(h.msg.answer[0]!.ttl, 0)
    assert.equal(h.msg.answer[0]!.data, '10.0.0.1')
    assert.equal(up.calls, 2, 'a refresh was tried')
    assert.equal(c.servedStale, 1)
    state.fail = false
    ask(c, 'example.org.') // stale again, refresh succeeds this time
    const fresh = ask(c, 'example.org.')
    assert.equal(fresh.msg.answer[0]!.data, '10.0.0.2')
    assert.equal(fresh.msg.answer[0]!.ttl, 10)
  })

  test('RESPONSE_TTL replaces TTL 0; beyond DURATION the entry is gone', () => {
    const { up, state } = flaky()
    const { c, clock } = mk('cache {\n serve_stale 1m immediate 30s\n}', up)
    ask(c, 'example.org.')
    state.fail = true
    clock.advanceSec(10) // exact expiry counts as stale
    assert.equal(ask(c, 'example.org.').msg.answer[0]!.ttl, 30)
    clock.advanceSec(60)
    const r = ask(c, 'example.org.')
    assert.equal(r.msg.flags & 0xf, Rcode.ServFail)
  })

  test('without serve_stale an expired entry is a miss', () => {
    const { up, state } = flaky()
    const { c, clock } = mk('cache', up)
    ask(c, 'example.org.')
    state.fail = true
    clock.advanceSec(10)
    assert.equal(ask(c, 'example.org.').msg.flags & 0xf, Rcode.ServFail)
  })

  test('RECHECK throttles refresh attempts after a failure', () => {
    const { up, state } = flaky()
    const { c, clock } = mk('cache {\n serve_stale 1h immediate 0 30s\n}', up)
    ask(c, 'example.org.')
    state.fail = true
    clock.advanceSec(20)
    ask(c, 'example.org.')
    assert.equal(up.calls, 2)
    clock.advanceSec(10)
    ask(c, 'example.org.')
    assert.equal(up.calls, 2, 'no attempt within RECHECK')
    clock.advanceSec(21)
    ask(c, 'example.org.')
    assert.equal(up.calls, 3)
  })

  test('verify: the chain is asked first; fresh data wins, a failure serves the stale entry', () => {
    const { up, state } = flaky()
    const { c, clock } = mk('cache {\n serve_stale 1h verify\n}', up)
    ask(c, 'example.org.')
    clock.advanceSec(20)
    const fresh = ask(c, 'example.org.')
    assert.equal(fresh.msg.answer[0]!.data, '10.0.0.2')
    assert.equal(fresh.msg.answer[0]!.ttl, 10)
    assert.equal(c.servedStale, 0)
    clock.advanceSec(20)
    state.fail = true
    const stale = ask(c, 'example.org.')
    assert.equal(stale.msg.answer[0]!.data, '10.0.0.2')
    assert.equal(stale.msg.answer[0]!.ttl, 0)
    assert.equal(c.servedStale, 1)
    assert.equal(up.calls, 3)
  })

  test('verify: an upstream SERVFAIL reply does not replace the stale entry', () => {
    let fail = false
    const up = upstream((req) => (fail ? { rcode: Rcode.ServFail } : { answer: [a(req.q.qname, '10.0.0.1', 10)] }))
    const { c, clock } = mk('cache {\n serve_stale 1h verify 0 7s\n}', up)
    ask(c, 'example.org.')
    fail = true
    clock.advanceSec(20)
    const r = ask(c, 'example.org.')
    assert.equal(r.msg.flags & 0xf, Rcode.NoError)
    assert.equal(r.msg.answer[0]!.ttl, 7)
  })

  test('verify with an async upstream and a TIMEOUT: a slow chain gets the stale answer', async () => {
    let mode: 'ok' | 'slow' = 'ok'
    const up = new StubHandler(2, 'up', (req, w) => {
      if (mode === 'ok') {
        w.writeWire(replyWire(req, { answer: [a(req.q.qname, '10.0.0.1', 10)] }), 'forward')
        return 0
      }
      return new Promise<number>((resolve) =>
        setTimeout(() => {
          w.writeWire(replyWire(req, { answer: [a(req.q.qname, '10.0.0.2', 10)] }), 'forward')
          resolve(0)
        }, 80),
      )
    })
    const { c, clock } = mk('cache {\n serve_stale 1h verify 20ms\n}', up)
    ask(c, 'example.org.')
    clock.advanceSec(20)
    mode = 'slow'
    const r = await run(c, makeRequest('example.org.', 'A'))
    assert.equal(r.w.reply.answer[0]!.data, '10.0.0.1')
    assert.equal(r.w.reply.answer[0]!.ttl, 0)
    await new Promise((res) => setTimeout(res, 120))
    const after = ask(c, 'example.org.')
    assert.equal(after.msg.answer[0]!.data, '10.0.0.2', 'the background verify refreshed the entry')
  })

  test('prefer_positive: a usable positive entry wins over a cached denial', () => {
    let nx = false
    const up = upstream((req) => (nx ? { rcode: Rcode.NXDomain, authority: [soa('example.org.', 60)] } : { answer: [a(req.q.qname, '10.0.0.1', 10)] }))
    const pref = mk('cache {\n serve_stale\n serve_stale_policy prefer_positive\n}', up)
    ask(pref.c, 'example.org.')
    nx = true
    pref.clock.advanceSec(20)
    ask(pref.c, 'example.org.') // stale positive served, refresh stores the NXDOMAIN
    assert.equal(pref.c.entriesDenial, 1)
    const r = ask(pref.c, 'example.org.')
    assert.equal(r.msg.flags & 0xf, Rcode.NoError)
    assert.equal(r.msg.answer[0]!.data, '10.0.0.1')
  })
})

describe('disable and zones', () => {
  test('disable success ZONES skips positive caching there only', () => {
    const { c, up } = mk('cache {\n disable success example.org\n}', aUp())
    ask(c, 'a.example.org.')
    ask(c, 'a.example.org.')
    assert.equal(up.calls, 2)
    ask(c, 'a.example.net.')
    ask(c, 'a.example.net.')
    assert.equal(up.calls, 3)
  })

  test('disable denial (all zones) still caches positives', () => {
    const up = upstream((req) => (req.q.qname.startsWith('nx') ? { rcode: Rcode.NXDomain, authority: [soa('example.org.')] } : { answer: [a(req.q.qname, '10.0.0.1')] }))
    const { c } = mk('cache {\n disable denial\n}', up)
    ask(c, 'nx.example.org.')
    ask(c, 'nx.example.org.')
    ask(c, 'ok.example.org.')
    ask(c, 'ok.example.org.')
    assert.equal(up.calls, 3)
    assert.equal(c.entriesDenial, 0)
  })

  test('names outside the cache zones pass through uncached', () => {
    const { c, up } = mk('cache example.org', aUp(), new ManualClock(), ['.'])
    ask(c, 'www.example.org.')
    ask(c, 'www.example.org.')
    assert.equal(up.calls, 1)
    ask(c, 'www.example.net.')
    ask(c, 'www.example.net.')
    assert.equal(up.calls, 3)
    assert.equal(c.requests, 2)
    assert.equal(c.zonesLabel, 'example.org.')
  })
})
