import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Class, Rcode, Type } from '../../dns/constants.js'
import { decodeMessage, encodeMessage, replyTo } from '../../dns/message.js'
import { parseRR, rrToString } from '../../dns/text.js'
import type { Message } from '../../dns/types.js'
import { memoryLogger } from '../../log/logger.js'
import { questionMessage } from '../../pluginkit/reply.js'
import type { Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import { Server } from '../../server/instance.js'
import { makeRequest, run, StubHandler, type RequestOptions } from '../../../test/helpers/fake.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { dig } from '../../../test/helpers/dig.js'
import { PLUGINS } from '../index.js'
import { plugin } from './setup.js'
import type { Rewrite } from './handler.js'
import { ecsData } from './rules.js'

interface Seen {
  name: string
  type: number
  klass: number
  edns: Message['edns']
}

/** A next plugin that records the query it sees and answers with `records` (owner = its qname). */
function answering(records: string[] | ((qname: string) => string[]), opts: { wire?: boolean; rcode?: number } = {}) {
  const seen: Seen[] = []
  const h = new StubHandler(0, 'next', (req: Request, w: ResponseWriter): Served => {
    const m = decodeMessage(req.q.buf)
    seen.push({ name: req.q.qname, type: req.q.qtype, klass: req.q.qclass, edns: m.edns })
    const reply = replyTo(questionMessage(req.q))
    const list = typeof records === 'function' ? records(req.q.qname) : records
    reply.answer = list.map((l) => parseRR(l.replace('$', req.q.qname)))
    reply.flags |= opts.rcode ?? 0
    if (opts.wire === true) w.writeWire(encodeMessage(reply), 'next')
    else w.write(reply, 'next')
    return opts.rcode ?? 0
  })
  return { h, seen }
}

function build(body: string, next: StubHandler): Rewrite {
  return runSetup(plugin, body).make!(next) as Rewrite
}

async function ask(h: Rewrite, name: string, type: keyof typeof Type, o: RequestOptions = {}) {
  const req = makeRequest(name, type, o)
  const q0 = req.q
  const { rcode, w } = await run(h, req)
  assert.equal(req.q, q0, 'req.q is the client query again after serve')
  return { rcode, reply: w.reply, req, w }
}

const lines = (m: Message, sec: 'answer' | 'authority' | 'additional' = 'answer') => m[sec].map(rrToString)

describe('name rules', () => {
  test('exact: the chain sees the new name, the client its own question and owner names', async () => {
    const { h, seen } = answering(['$ 60 IN A 10.0.0.1'])
    const rw = build('rewrite name foo.example.com foo.default.svc.cluster.local', h)
    const { reply } = await ask(rw, 'foo.example.com.', 'A')
    assert.equal(seen[0]!.name, 'foo.default.svc.cluster.local.')
    assert.deepEqual(reply.question, [{ name: 'foo.example.com.', type: Type.A, class: Class.IN }])
    assert.deepEqual(lines(reply), ['foo.example.com.\t60\tIN\tA\t10.0.0.1'])
  })
  test('exact matches case-insensitively and keeps the client\'s case in the question', async () => {
    const { h, seen } = answering(['$ 60 IN A 10.0.0.1'])
    const rw = build('rewrite name foo.example.com bar.example.com', h)
    const { reply } = await ask(rw, 'FOO.Example.com.', 'A')
    assert.equal(seen[0]!.name, 'bar.example.com.')
    assert.equal(reply.question[0]!.name, 'FOO.Example.com.')
    assert.equal(reply.answer[0]!.name, 'foo.example.com.')
  })
  test('no match: the next plugin gets the request untouched', async () => {
    const { h, seen } = answering(['$ 60 IN A 10.0.0.1'])
    const rw = build('rewrite name foo.example.com bar.example.com', h)
    const { reply } = await ask(rw, 'other.example.com.', 'A')
    assert.equal(seen[0]!.name, 'other.example.com.')
    assert.equal(reply.answer[0]!.name, 'other.example.com.')
  })
  const auto: Array<[string, string, string]> = [
    ['rewrite name prefix foo bar answer auto', 'foo.example.com.', 'bar.example.com.'],
    ['rewrite name suffix .example.com .example.org answer auto', 'a.example.com.', 'a.example.org.'],
    ['rewrite name substring service.us-west-1.example.org service.us-west-1.consul answer auto', 'ftp.service.us-west-1.example.org.', 'ftp.service.us-west-1.consul.'],
    ['rewrite name regex (.*)-(us-west-1)\\.example\\.org {1}.service.{2}.consul answer auto', 'ftp-us-west-1.example.org.', 'ftp.service.us-west-1.consul.'],
  ]
  for (const [body, asked, sent] of auto) {
    test(`${body.split(' ')[2]} with answer auto`, async () => {
      const { h, seen } = answering(['$ 60 IN A 10.0.0.1', 'other.org. 60 IN A 10.0.0.2'])
      const { reply } = await ask(build(body, h), asked, 'A')
      assert.equal(seen[0]!.name, sent)
      assert.deepEqual(reply.answer.map((r) => r.name), [asked, 'other.org.'])
    })
  }
  test('prefix without answer auto leaves owner names as the chain wrote them', async () => {
    const { h } = answering(['$ 60 IN A 10.0.0.1'])
    const { reply } = await ask(build('rewrite name prefix foo bar', h), 'foo.example.com.', 'A')
    assert.equal(reply.question[0]!.name, 'foo.example.com.')
    assert.equal(reply.answer[0]!.name, 'bar.example.com.')
  })
  test('regex with answer name and answer value (block form)', async () => {
    const { h, seen } = answering(['$ 60 IN CNAME ftp.service.us-west-1.consul.', 'ftp.service.us-west-1.consul. 60 IN A 10.0.0.1'])
    const body = 'rewrite stop {\n name regex (.*)-(us-west-1)\\.coredns\\.rocks {1}.service.{2}.consul\n answer name (.*)\\.service\\.(us-west-1)\\.consul {1}-{2}.coredns.rocks\n answer value (.*)\\.service\\.(us-west-1)\\.consul {1}-{2}.coredns.rocks\n}'
    const { reply } = await ask(build(body, h), 'ftp-us-west-1.coredns.rocks.', 'A')
    assert.equal(seen[0]!.name, 'ftp.service.us-west-1.consul.')
    assert.deepEqual(lines(reply), [
      'ftp-us-west-1.coredns.rocks.\t60\tIN\tCNAME\tftp-us-west-1.coredns.rocks.',
      'ftp-us-west-1.coredns.rocks.\t60\tIN\tA\t10.0.0.1',
    ])
  })
  test('answer value rewrites MX, SRV and SOA names too', async () => {
    const { h } = answering(['$ 60 IN MX 10 mx.b.org.', '$ 60 IN SRV 0 0 53 srv.b.org.', 'b.org. 60 IN SOA ns.b.org. host.b.org. 1 2 3 4 5'])
    const { reply } = await ask(build('rewrite name regex (.*)\\.a\\.org {1}.b.org answer value (.*)\\.b\\.org\\. {1}.a.org', h), 'x.a.org.', 'MX')
    assert.deepEqual(reply.answer.map((r) => r.data), [
      { preference: 10, exchange: 'mx.a.org.' },
      { priority: 0, weight: 0, port: 53, target: 'srv.a.org.' },
      { mname: 'ns.a.org.', rname: 'host.b.org.', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 },
    ])
  })
  test('continue applies later rules; stop ends the list', async () => {
    const a = answering(['$ 60 IN A 10.0.0.1'])
    await ask(build('rewrite continue name a.org b.org\nrewrite name b.org c.org\nrewrite name c.org d.org', a.h), 'a.org.', 'A')
    assert.equal(a.seen[0]!.name, 'c.org.')
    const b = answering(['$ 60 IN A 10.0.0.1'])
    const { reply } = await ask(build('rewrite continue name a.org b.org\nrewrite continue name b.org c.org', b.h), 'a.org.', 'A')
    assert.equal(b.seen[0]!.name, 'c.org.')
    assert.equal(reply.answer[0]!.name, 'a.org.', 'reverse order undoes both')
  })
  test('an invalid name after rewrite is SERVFAIL with an error, the chain not called', async () => {
    const { h, seen } = answering([])
    const rw = build('rewrite name regex (.*)\\.a\\.org {1}..b.org', h)
    const { rcode, reply, req } = await ask(rw, 'x.a.org.', 'A')
    assert.equal(rcode, Rcode.ServFail)
    assert.equal(seen.length, 0)
    assert.match(String(req.error), /invalid name after rewrite: x\.\.b\.org\./)
    assert.equal(reply.question[0]!.name, 'x.a.org.')
  })
})

describe('type and class rules', () => {
  test('type ANY → HINFO: the question type is restored', async () => {
    const { h, seen } = answering(['$ 60 IN HINFO "a" "b"'])
    const { reply } = await ask(build('rewrite type ANY HINFO', h), 'a.org.', 'ANY')
    assert.equal(seen[0]!.type, Type.HINFO)
    assert.equal(reply.question[0]!.type, Type.ANY)
    assert.equal(reply.answer[0]!.type, Type.HINFO)
  })
  test('class CH → IN', async () => {
    const { h, seen } = answering([])
    const { reply } = await ask(build('rewrite class CH IN', h), 'a.org.', 'A', { qclass: Class.CH })
    assert.equal(seen[0]!.klass, Class.IN)
    assert.equal(reply.question[0]!.class, Class.CH)
  })
})

describe('response rules', () => {
  test('ttl range clamps every record', async () => {
    const { h } = answering(['$ 5 IN A 10.0.0.1', '$ 5000 IN A 10.0.0.2', '$ 100 IN A 10.0.0.3'])
    const { reply } = await ask(build('rewrite ttl regex .*\\.org\\. 30-300', h), 'a.org.', 'A')
    assert.deepEqual(reply.answer.map((r) => r.ttl), [30, 300, 100])
  })
  test('ttl on a wire reply', async () => {
    const { h } = answering(['$ 5 IN A 10.0.0.1'], { wire: true })
    const { reply, w } = await ask(build('rewrite ttl a.org 15', h), 'a.org.', 'A')
    assert.equal(reply.answer[0]!.ttl, 15)
    assert.equal(w.plugin, 'next')
  })
  test('rcode SERVFAIL → NXDOMAIN on a written reply and on an unwritten one', async () => {
    const a = answering(['$ 5 IN A 10.0.0.1'], { rcode: Rcode.ServFail })
    const r1 = await ask(build('rewrite rcode a.org SERVFAIL NXDOMAIN', a.h), 'a.org.', 'A')
    assert.equal(r1.reply.flags & 0xf, Rcode.NXDomain)
    const r2 = await ask(build('rewrite rcode a.org SERVFAIL NXDOMAIN', new StubHandler(Rcode.ServFail)), 'a.org.', 'A')
    assert.equal(r2.reply.flags & 0xf, Rcode.NXDomain)
    assert.equal(r2.reply.question[0]!.name, 'a.org.')
    const r3 = await ask(build('rewrite rcode b.org SERVFAIL NXDOMAIN', new StubHandler(Rcode.ServFail)), 'a.org.', 'A')
    assert.equal(r3.reply.flags & 0xf, Rcode.ServFail)
  })
  test('an unwritten error below a name rewrite is answered with the client\'s question', async () => {
    const { rcode, reply } = await ask(build('rewrite name a.org b.org', new StubHandler(Rcode.Refused)), 'a.org.', 'A')
    assert.equal(reply.question[0]!.name, 'a.org.')
    assert.equal(reply.flags & 0xf, Rcode.Refused)
    assert.equal(rcode, Rcode.NoError)
  })
  test('asynchronous next plugins', async () => {
    const next = new StubHandler(0, 'next', async (req, w) => {
      await new Promise((r) => setImmediate(r))
      const m = replyTo(questionMessage(req.q))
      m.answer = [parseRR(`${req.q.qname} 60 IN A 10.0.0.9`)]
      w.write(m, 'next')
      return 0
    })
    const { reply } = await ask(build('rewrite name a.org b.org', next), 'a.org.', 'A')
    assert.deepEqual(lines(reply), ['a.org.\t60\tIN\tA\t10.0.0.9'])
  })
  test('cname: the target is rewritten and resolved again', async () => {
    const { h } = answering(['$ 60 IN CNAME old.example.net.'])
    const rw = build('rewrite cname exact old.example.net. new.example.net.', h)
    const up = replyTo(questionMessage(makeRequest('new.example.net.', 'A').q))
    up.answer = [parseRR('new.example.net. 30 IN A 192.0.2.1'), parseRR('x.example.net. 30 IN A 192.0.2.9')]
    const { reply, req } = await ask(rw, 'www.example.org.', 'A', { subquery: async () => encodeMessage(up) })
    assert.deepEqual(req.subqueries, [{ name: 'new.example.net.', type: Type.A }])
    assert.deepEqual(lines(reply), ['www.example.org.\t60\tIN\tCNAME\tnew.example.net.', 'new.example.net.\t30\tIN\tA\t192.0.2.1'])
  })
})

describe('edns0 rules', () => {
  test('local set adds the option; a client without EDNS gets no OPT back', async () => {
    const { h, seen } = answering(['$ 60 IN A 10.0.0.1'])
    const { reply } = await ask(build('rewrite edns0 local set 0xffee 0x61626364', h), 'a.org.', 'A')
    assert.deepEqual(seen[0]!.edns?.options, [{ code: 0xffee, data: Buffer.from('abcd') }])
    assert.equal(reply.edns, null)
  })
  test('local replace only changes an existing option; append only adds a missing one', async () => {
    const a = answering([])
    await ask(build('rewrite edns0 local replace 0xffee abcd', a.h), 'a.org.', 'A', { ednsSize: 1232 })
    assert.deepEqual(a.seen[0]!.edns?.options, [])
    const b = answering([])
    await ask(build('rewrite continue edns0 local append 0xffee abcd\nrewrite edns0 local append 0xffee efgh', b.h), 'a.org.', 'A')
    assert.deepEqual(b.seen[0]!.edns?.options, [{ code: 0xffee, data: Buffer.from('abcd') }])
  })
  test('variables: client ip, qtype, protocol', async () => {
    const { h, seen } = answering([])
    const body = 'rewrite continue edns0 local set 0xffe1 {client_ip}\nrewrite continue edns0 local set 0xffe2 {qtype}\nrewrite edns0 local set 0xffe3 {protocol}'
    await ask(build(body, h), 'a.org.', 'AAAA', { remoteAddress: '10.1.2.3' })
    assert.deepEqual(seen[0]!.edns?.options, [
      { code: 0xffe1, data: Buffer.from([10, 1, 2, 3]) },
      { code: 0xffe2, data: Buffer.from([0, 28]) },
      { code: 0xffe3, data: Buffer.from('udp') },
    ])
  })
  test('subnet set from the client address', async () => {
    const { h, seen } = answering([])
    await ask(build('rewrite edns0 subnet set 24 56', h), 'a.org.', 'A', { remoteAddress: '10.1.2.3' })
    assert.deepEqual(seen[0]!.edns?.options, [{ code: 8, data: Buffer.from([0, 1, 24, 0, 10, 1, 2]) }])
    assert.deepEqual(ecsData(new Uint8Array([0xfd, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]), 56), Buffer.from([0, 2, 56, 0, 0xfd, 0, 1, 2, 3, 4, 5]))
  })
  test('nsid set and unset', async () => {
    const a = answering([])
    await ask(build('rewrite edns0 nsid set', a.h), 'a.org.', 'A')
    assert.deepEqual(a.seen[0]!.edns?.options, [{ code: 3, data: Buffer.alloc(0) }])
    const b = answering([])
    await ask(build('rewrite continue edns0 nsid set\nrewrite edns0 nsid unset', b.h), 'a.org.', 'A')
    assert.deepEqual(b.seen[0]!.edns?.options, [])
  })
  test('revert puts the client\'s option back into the reply', async () => {
    const next = new StubHandler(0, 'next', (req, w) => {
      const m = replyTo(questionMessage(req.q))
      m.edns = { udpSize: 1232, extRcode: 0, version: 0, flags: 0, options: decodeMessage(req.q.buf).edns!.options }
      w.write(m, 'next')
      return 0
    })
    const { reply } = await ask(build('rewrite edns0 local set 0xffee abcd revert', next), 'a.org.', 'A', { ednsSize: 1232 })
    assert.deepEqual(reply.edns?.options, [])
  })
})

describe('rewrite end to end (dig over hosts)', () => {
  let server: Server
  let port = 0
  before(async () => {
    const corefile = `.:0 {
  bind 127.0.0.1
  rewrite name foo.example.com foo.default.svc.cluster.local
  rewrite continue type ANY A
  rewrite name regex (.*)\\.old\\.org {1}.default.svc.cluster.local answer auto
  hosts {
    10.96.0.7 foo.default.svc.cluster.local
    10.96.0.8 bar.default.svc.cluster.local
  }
}
`
    const { log } = memoryLogger()
    server = new Server({ log, dnsPort: 0, quiet: true, plugins: PLUGINS, readConfig: () => corefile })
    await server.start(corefile, 'Corefile')
    port = [...server.listeners.values()][0]!.port
  })
  after(() => server.shutdown(false))

  test('the answer comes back under the name asked for', async () => {
    const r = await dig(port, ['foo.example.com', 'A'])
    assert.equal(r.status, 'NOERROR')
    assert.deepEqual(r.answer.map((a) => [a.name, a.type, a.data]), [['foo.example.com.', 'A', '10.96.0.7']])
    assert.ok(!r.raw.includes('mismatch'), r.raw)
  })
  test('regex with answer auto, over TCP', async () => {
    const r = await dig(port, ['+tcp', 'bar.old.org', 'A'])
    assert.deepEqual(r.answer.map((a) => [a.name, a.data]), [['bar.old.org.', '10.96.0.8']])
  })
  test('an unknown rewritten name gets the hosts SERVFAIL with the original question', async () => {
    const r = await dig(port, ['nope.old.org', 'A'])
    assert.equal(r.status, 'SERVFAIL')
    assert.match(r.raw, /;nope\.old\.org\.\s+IN\s+A/)
  })
})
