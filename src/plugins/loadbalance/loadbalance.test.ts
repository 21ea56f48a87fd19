import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Flag, Rcode, Type } from '../../dns/constants.js'
import { encodeMessage, replyTo } from '../../dns/message.js'
import { parseRR, rrToString } from '../../dns/text.js'
import type { Message, RR } from '../../dns/types.js'
import { parseCidr, type Cidr } from '../../lib/ip.js'
import { memoryLogger } from '../../log/logger.js'
import { questionMessage } from '../../pluginkit/reply.js'
import { Server } from '../../server/instance.js'
import { makeRequest, run, StubHandler } from '../../../test/helpers/fake.js'
import { dig } from '../../../test/helpers/dig.js'
import { PLUGINS } from '../index.js'
import { LoadBalance } from './handler.js'
import { plugin, makeShuffle, parseLoadBalance } from './setup.js'
import { preferSubnets, randomShuffle, reorderPreferred, roundRobin, shuffleInPlace, type Rand } from './shuffle.js'
import { WeightedRR } from './weighted.js'
import { runSetup } from '../../../test/helpers/setup.js'

const rrs = (...lines: string[]): RR[] => lines.map((l) => parseRR(l))
const text = (list: RR[]): string[] => list.map(rrToString)

/** A counter RNG: 0, 1, 2, ... */
function seq(start = 0): Rand {
  let n = start
  return () => n++
}
const zero: Rand = () => 0

describe('round robin per section', () => {
  test('a section of only A records is shuffled in place', () => {
    const a = rrs('a.org. 60 IN A 10.0.0.1', 'a.org. 60 IN A 10.0.0.2', 'a.org. 60 IN A 10.0.0.3')
    // j=0: p=0+0%3=0; j=1: p=1+1%2=2 → swap 1,2; j=2: p=2
    const out = roundRobin(a, seq())
    assert.equal(out, a)
    assert.deepEqual(out.map((r) => r.data), ['10.0.0.1', '10.0.0.3', '10.0.0.2'])
  })
  test('two records swap when the random number is even', () => {
    const a = rrs('a.org. 60 IN AAAA fd00::1', 'a.org. 60 IN AAAA fd00::2')
    assert.deepEqual(roundRobin(a.slice(), zero).map((r) => r.data), ['fd00::2', 'fd00::1'])
    assert.deepEqual(roundRobin(a.slice(), () => 1).map((r) => r.data), ['fd00::1', 'fd00::2'])
  })
  test('mixed: CNAMEs first, others in order, then shuffled addresses, then MX', () => {
    const mixed = rrs(
      'a.org. 60 IN MX 10 mx1.org.',
      'a.org. 60 IN A 10.0.0.1',
      'a.org. 60 IN TXT "t"',
      'a.org. 60 IN CNAME b.org.',
      'a.org. 60 IN AAAA fd00::1',
      'a.org. 60 IN MX 20 mx2.org.',
      'a.org. 60 IN SRV 0 0 53 s.org.',
    )
    const out = roundRobin(mixed, () => 1) // 1 is odd: two-element sets keep their order
    assert.deepEqual(out.map((r) => r.type), [Type.CNAME, Type.TXT, Type.SRV, Type.A, Type.AAAA, Type.MX, Type.MX])
    const out0 = roundRobin(mixed, zero)
    assert.deepEqual(text(out0).slice(3), ['a.org.\t60\tIN\tAAAA\tfd00::1', 'a.org.\t60\tIN\tA\t10.0.0.1', 'a.org.\t60\tIN\tMX\t20 mx2.org.', 'a.org.\t60\tIN\tMX\t10 mx1.org.'])
  })
  test('sections of zero or one record are unchanged; each section on its own', () => {
    const msg: Message = {
      ...replyTo(questionMessage(makeRequest('a.org.', 'A').q)),
      answer: rrs('a.org. 60 IN A 10.0.0.1', 'a.org. 60 IN A 10.0.0.2'),
      authority: rrs('org. 60 IN NS ns.org.'),
      additional: rrs('x.org. 60 IN A 10.9.0.1', 'x.org. 60 IN A 10.9.0.2'),
    }
    randomShuffle(msg, zero)
    assert.deepEqual(msg.answer.map((r) => r.data), ['10.0.0.2', '10.0.0.1'])
    assert.deepEqual(msg.additional.map((r) => r.data), ['10.9.0.2', '10.9.0.1'])
    assert.equal(msg.authority.length, 1)
  })
  test('the shuffle is a permutation for any random source', () => {
    for (let n = 3; n < 9; n++) {
      for (let s = 0; s < 20; s++) {
        const list = Array.from({ length: n }, (_, i) => parseRR(`a. 1 IN A 10.0.0.${i}`))
        shuffleInPlace(list, seq(s * 7))
        assert.deepEqual(new Set(list.map((r) => r.data)).size, n)
      }
    }
  })
})

describe('prefer', () => {
  const nets = ['192.0.2.0/24', '2001:db8::/32'].map((c) => parseCidr(c)!) as Cidr[]
  test('addresses in the prefixes move to the front, in prefix order', () => {
    const list = rrs('a. 1 IN A 10.0.0.1', 'a. 1 IN AAAA 2001:db8::1', 'a. 1 IN A 192.0.2.7', 'a. 1 IN CNAME b.', 'a. 1 IN TXT "x"', 'a. 1 IN MX 1 m.')
    assert.deepEqual(text(reorderPreferred(list, nets)).map((l) => l.split('\t').slice(3).join(' ')), [
      'CNAME b.',
      'A 192.0.2.7',
      'AAAA 2001:db8::1',
      'A 10.0.0.1',
      'MX 1 m.',
      'TXT "x"',
    ])
  })
  test('applies to answer and additional, not authority', () => {
    const msg: Message = {
      ...replyTo(questionMessage(makeRequest('a.org.', 'A').q)),
      answer: rrs('a. 1 IN A 10.0.0.1', 'a. 1 IN A 192.0.2.1'),
      authority: rrs('a. 1 IN A 10.0.0.1', 'a. 1 IN A 192.0.2.1'),
      additional: rrs('a. 1 IN A 10.0.0.1', 'a. 1 IN A 192.0.2.1'),
    }
    preferSubnets(msg, nets)
    assert.equal(msg.answer[0]!.data, '192.0.2.1')
    assert.equal(msg.additional[0]!.data, '192.0.2.1')
    assert.equal(msg.authority[0]!.data, '10.0.0.1')
  })
})

describe('weighted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-w-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const { log } = memoryLogger()
  test('the top address is picked in proportion to its weight', () => {
    const f = join(dir, 'w1')
    writeFileSync(f, 'www.example.org\n10.0.0.1 3\n10.0.0.2 1\n')
    let v = 0
    const w = new WeightedRR(f, 0, () => v, log)
    assert.equal(w.loadSync(), 'ok')
    const ans = () => rrs('www.example.org. 1 IN A 10.0.0.2', 'www.example.org. 1 IN A 10.0.0.1', 'www.example.org. 1 IN A 10.0.0.3')
    // weights sorted: .1 (3), .2 (1), .3 (1 default); sum 5
    const pick = (r: number) => {
      v = r
      const m: Message = { ...replyTo(questionMessage(makeRequest('www.example.org.', 'A').q)), answer: ans() }
      w.shuffle(m)
      return m.answer[0]!.data
    }
    assert.equal(pick(0), '10.0.0.1')
    assert.equal(pick(2), '10.0.0.1')
    assert.equal(pick(3), '10.0.0.2')
    assert.equal(pick(4), '10.0.0.3')
  })
  test('only A, AAAA and SRV questions are touched', () => {
    const f = join(dir, 'w2')
    writeFileSync(f, 'www.example.org\n10.0.0.1 255\n')
    const w = new WeightedRR(f, 0, zero, log)
    w.loadSync()
    const m: Message = { ...replyTo(questionMessage(makeRequest('www.example.org.', 'MX').q)), answer: rrs('www.example.org. 1 IN A 10.0.0.2', 'www.example.org. 1 IN A 10.0.0.1') }
    w.shuffle(m)
    assert.equal(m.answer[0]!.data, '10.0.0.2')
  })
  test('reload picks up a changed file and keeps old weights on a bad one', async () => {
    const f = join(dir, 'w3')
    writeFileSync(f, 'a.org\n10.0.0.1 2\n')
    const { log: l2, lines } = memoryLogger()
    const w = new WeightedRR(f, 10, zero, l2)
    w.loadSync()
    writeFileSync(f, 'a.org\n10.0.0.1 9\n')
    await w.poll()
    assert.equal(w.domains.get('a.org.')?.get('10.0.0.1'), 9)
    writeFileSync(f, 'a.org\n10.0.0.1 0\n')
    await w.poll()
    assert.equal(w.domains.get('a.org.')?.get('10.0.0.1'), 9)
    assert.ok(lines.some((x) => x.includes('wrong weight value')))
  })
})

describe('LoadBalance handler', () => {
  function lb(fn: (m: Message) => void = (m) => randomShuffle(m, zero)): LoadBalance {
    return new LoadBalance(
      new StubHandler(0, 'next', (req, w) => {
        const m = replyTo(questionMessage(req.q))
        m.answer = rrs('a.org. 60 IN A 10.0.0.1', 'a.org. 60 IN A 10.0.0.2')
        w.write(m, 'next')
        return 0
      }),
      fn,
    )
  }
  test('reorders messages written below', async () => {
    const { w } = await run(lb(), makeRequest('a.org.', 'A'))
    assert.deepEqual(w.reply.answer.map((r) => r.data), ['10.0.0.2', '10.0.0.1'])
  })
  const wireNext = (flags: number, qtype: number, answer: RR[]) =>
    new StubHandler(0, 'next', (req, w) => {
      const m = replyTo(questionMessage(req.q))
      m.flags |= flags
      m.question[0]!.type = qtype
      m.answer = answer
      w.writeWire(encodeMessage(m), 'cache')
      return 0
    })
  test('reorders wire replies (decode, shuffle, encode)', async () => {
    const h = new LoadBalance(wireNext(0, Type.A, rrs('a.org. 60 IN A 10.0.0.1', 'a.org. 60 IN A 10.0.0.2')), (m) => randomShuffle(m, zero))
    const { w } = await run(h, makeRequest('a.org.', 'A'))
    assert.deepEqual(w.reply.answer.map((r) => r.data), ['10.0.0.2', '10.0.0.1'])
    assert.equal(w.plugin, 'cache')
  })
  test('leaves NXDOMAIN, AXFR and single-record replies alone', async () => {
    for (const [flags, qt] of [[Rcode.NXDomain, Type.A], [0, Type.AXFR]] as const) {
      let called = 0
      const h = new LoadBalance(wireNext(flags, qt, rrs('a.org. 60 IN A 10.0.0.1', 'a.org. 60 IN A 10.0.0.2')), () => void called++)
      const { w } = await run(h, makeRequest('a.org.', 'A'))
      assert.equal(called, 0)
      assert.deepEqual(w.reply.answer.map((r) => r.data), ['10.0.0.1', '10.0.0.2'])
    }
    let called = 0
    const h = new LoadBalance(wireNext(0, Type.A, rrs('a.org. 60 IN A 10.0.0.1')), () => void called++)
    await run(h, makeRequest('a.org.', 'A'))
    assert.equal(called, 0)
    const msgNx = new LoadBalance(
      new StubHandler(0, 'n', (req, w) => {
        const m = replyTo(questionMessage(req.q))
        m.flags |= Rcode.NXDomain
        m.authority = rrs('org. 1 IN A 10.0.0.1', 'org. 1 IN A 10.0.0.2')
        w.write(m, 'n')
        return Rcode.NXDomain
      }),
      () => void called++,
    )
    await run(msgNx, makeRequest('a.org.', 'A'))
    assert.equal(called, 0)
  })
  test('passes the rcode of the next plugin through', async () => {
    const h = new LoadBalance(new StubHandler(Rcode.ServFail), () => {})
    const { rcode, w } = await run(h, makeRequest('a.org.', 'A'))
    assert.equal(rcode, Rcode.ServFail)
    assert.equal(w.reply.flags & 0xf, Rcode.ServFail)
  })
  test('prefer after the shuffle (setup wiring)', async () => {
    let cfg = null as ReturnType<typeof parseLoadBalance> | null
    runSetup({ name: 'loadbalance', setup: (ctx, ds) => ((cfg = parseLoadBalance(ctx, ds[0]!)), null) }, 'loadbalance {\nprefer 10.0.0.2/32\n}')
    const h = lb(makeShuffle(cfg!, null, () => 1))
    const { w } = await run(h, makeRequest('a.org.', 'A'))
    assert.deepEqual(w.reply.answer.map((r) => r.data), ['10.0.0.2', '10.0.0.1'])
  })
  test('the handler is synchronous', () => {
    const r = lb().serve(makeRequest('a.org.', 'A'), { written: false, write() {}, writeWire() {} })
    assert.equal(typeof r, 'number')
    assert.equal(Flag.QR, 0x8000)
  })
})

describe('loadbalance end to end (dig over hosts)', () => {
  let server: Server
  let port = 0
  before(async () => {
    const corefile = `.:0 {\n  bind 127.0.0.1\n  loadbalance\n  hosts {\n    10.0.0.1 www.example.org\n    10.0.0.2 www.example.org\n    10.0.0.3 www.example.org\n    10.0.0.4 www.example.org\n  }\n}\n`
    const { log } = memoryLogger()
    server = new Server({ log, dnsPort: 0, quiet: true, plugins: PLUGINS, readConfig: () => corefile })
    await server.start(corefile, 'Corefile')
    port = [...server.listeners.values()][0]!.port
  })
  after(() => server.shutdown(false))

  test('every answer has the four addresses, and the order changes between queries', async () => {
    const orders = new Set<string>()
    for (let i = 0; i < 12; i++) {
      const r = await dig(port, ['www.example.org', 'A'])
      assert.equal(r.status, 'NOERROR')
      assert.deepEqual(r.answer.map((a) => a.data).sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'])
      orders.add(r.answer.map((a) => a.data).join(','))
    }
    assert.ok(orders.size > 1, `always the same order: ${[...orders].join(' | ')}`)
  })
  test('over TCP too', async () => {
    const r = await dig(port, ['+tcp', 'www.example.org', 'A'])
    assert.equal(r.answer.length, 4)
  })
})
