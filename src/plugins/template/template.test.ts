import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Flag, Rcode, Type } from '../../dns/constants.js'
import { encodeMessage, replyTo } from '../../dns/message.js'
import { parseRR, rrToString } from '../../dns/text.js'
import { memoryLogger } from '../../log/logger.js'
import { questionMessage } from '../../pluginkit/reply.js'
import { Server } from '../../server/instance.js'
import { makeRequest, run, StubHandler, type RequestOptions } from '../../../test/helpers/fake.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { dig } from '../../../test/helpers/dig.js'
import { PLUGINS } from '../index.js'
import { plugin } from './setup.js'
import { EDNS_EDE, type Template } from './handler.js'

function build(body: string, key = 'example.org:53'): { h: Template; next: StubHandler } {
  const next = new StubHandler(Rcode.Refused, 'next')
  return { h: runSetup(plugin, body, key).make!(next) as Template, next }
}

async function ask(h: Template, name: string, type: keyof typeof Type, o: RequestOptions = {}) {
  const req = makeRequest(name, type, o)
  const { rcode, w } = await run(h, req)
  return { rcode, reply: w.wire === null ? null : w.reply, req }
}

const IP = `template IN A example.org {
  match "^ip-(?P<a>[0-9]+)-(?P<b>[0-9]+)-(?P<c>[0-9]+)-(?P<d>[0-9]+)[.]example[.]org[.]$"
  answer "{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
  fallthrough
}`

describe('template handler', () => {
  test('answers from the matched groups, AA set', async () => {
    const { h } = build(IP)
    const { rcode, reply } = await ask(h, 'ip-10-1-2-3.example.org.', 'A')
    assert.equal(rcode, Rcode.NoError)
    assert.deepEqual(reply!.answer.map(rrToString), ['ip-10-1-2-3.example.org.\t60\tIN\tA\t10.1.2.3'])
    assert.ok((reply!.flags & Flag.AA) !== 0)
    assert.equal(h.matches.get('example.org.|IN|A'), 1)
  })
  test('names are matched lower-cased; .Name is lower-case', async () => {
    const { h } = build(IP)
    const { reply } = await ask(h, 'IP-10-1-2-3.Example.ORG.', 'A')
    assert.equal(reply!.answer[0]!.name, 'ip-10-1-2-3.example.org.')
    assert.equal(reply!.question[0]!.name, 'IP-10-1-2-3.Example.ORG.')
  })
  test('other types, other zones and unmatched names with fallthrough go on', async () => {
    const { h, next } = build(IP)
    await ask(h, 'ip-10-1-2-3.example.org.', 'AAAA')
    await ask(h, 'ip-10-1-2-3.example.net.', 'A')
    await ask(h, 'www.example.org.', 'A')
    assert.equal(next.calls, 3)
  })
  test('zone matches, no regex matches, no fallthrough: SERVFAIL', async () => {
    const { h, next } = build('template IN A example.org {\n match ^x\\.\n answer "{{ .Name }} 1 IN A 10.0.0.1"\n}')
    const { rcode } = await ask(h, 'www.example.org.', 'A')
    assert.equal(rcode, Rcode.ServFail)
    assert.equal(next.calls, 0)
  })
  test('NXDOMAIN with an SOA in authority (ndots junk under *.svc.cluster.local)', async () => {
    const { h } = build(`template ANY ANY cluster.local {
  match "^[^.]+\\.(com|net|org)\\.svc\\.cluster\\.local\\.$"
  rcode NXDOMAIN
  authority "{{ .Zone }} 60 IN SOA ns.dns.{{ .Zone }} hostmaster.{{ .Zone }} 1 7200 1800 86400 60"
  fallthrough
}`, 'cluster.local:53')
    const { rcode, reply } = await ask(h, 'example.com.svc.cluster.local.', 'AAAA')
    assert.equal(rcode, Rcode.NXDomain)
    assert.equal(reply!.flags & 0xf, Rcode.NXDomain)
    assert.deepEqual(reply!.authority.map(rrToString), ['cluster.local.\t60\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 60'])
  })
  test('rcode SERVFAIL writes nothing', async () => {
    const { h } = build('template IN A {\n rcode SERVFAIL\n}')
    const { rcode, reply } = await ask(h, 'a.example.org.', 'A')
    assert.equal(rcode, Rcode.ServFail)
    assert.equal(reply!.answer.length, 0)
  })
  test('additional and authority sections, parseInt and index', async () => {
    const { h } = build(`template IN A example.org {
  match ^h([0-9a-f]{2})\\.
  answer "{{ .Name }} 60 IN A 10.0.0.{{ parseInt (index .Match 1) 16 8 }}"
  additional "extra.{{ .Zone }} 60 IN TXT \\"{{ .Type }} {{ .Class }}\\""
  authority "{{ .Zone }} 60 IN NS ns.{{ .Zone }}"
}`)
    const { reply } = await ask(h, 'hff.example.org.', 'A')
    assert.equal(reply!.answer[0]!.data, '10.0.0.255')
    assert.deepEqual(reply!.additional.map(rrToString), ['extra.example.org.\t60\tIN\tTXT\t"A IN"'])
    assert.deepEqual(reply!.authority.map(rrToString), ['example.org.\t60\tIN\tNS\tns.example.org.'])
  })
  test('a template that fails to execute or renders a bad RR is SERVFAIL, counted', async () => {
    const { h } = build('template IN A {\n answer "{{ .Name }} 60 IN A {{ index .Match 3 }}"\n}')
    const { rcode, req } = await ask(h, 'a.example.org.', 'A')
    assert.equal(rcode, Rcode.ServFail)
    assert.match(String(req.error), /index out of range/)
    assert.equal([...h.templateFailures.values()][0], 1)
    const b = build('template IN A {\n answer "{{ .Name }} 60 IN A not-an-ip"\n}')
    assert.equal((await ask(b.h, 'a.example.org.', 'A')).rcode, Rcode.ServFail)
    assert.equal([...b.h.rrFailures.values()][0], 1)
  })
  test('ederror adds an Extended DNS Error option', async () => {
    const { h } = build('template IN A {\n rcode NXDOMAIN\n ederror 21 "not supported"\n}')
    const { reply } = await ask(h, 'a.example.org.', 'A', { ednsSize: 1232 })
    const opt = reply!.edns!.options.find((o) => o.code === EDNS_EDE)!
    assert.deepEqual(opt.data, Buffer.concat([Buffer.from([0, 21]), Buffer.from('not supported')]))
  })
  test('first matching template wins; an earlier one in zone without fallthrough blocks later ones', async () => {
    const two = build('template IN A a.example.org {\n answer "{{ .Name }} 1 IN A 10.0.0.1"\n}\ntemplate IN A example.org {\n answer "{{ .Name }} 1 IN A 10.0.0.2"\n}')
    assert.equal((await ask(two.h, 'x.a.example.org.', 'A')).reply!.answer[0]!.data, '10.0.0.1')
    assert.equal((await ask(two.h, 'x.b.example.org.', 'A')).reply!.answer[0]!.data, '10.0.0.2')
    const block = build('template IN A {\n match ^nope\n answer "{{ .Name }} 1 IN A 10.0.0.1"\n}\ntemplate IN A {\n answer "{{ .Name }} 1 IN A 10.0.0.2"\n}')
    assert.equal((await ask(block.h, 'x.example.org.', 'A')).rcode, Rcode.ServFail)
  })
  test('ANY class and type templates match every query; .Type reports the template type for ANY queries', async () => {
    const { h } = build('template ANY A {\n answer "{{ .Name }} 1 IN TXT {{ .Type }}"\n}')
    const { reply } = await ask(h, 'x.example.org.', 'ANY')
    assert.deepEqual(reply!.answer.map((r) => r.data), [[Buffer.from('A')]])
  })
  test('a CNAME answer to an A query is followed through the server', async () => {
    const { h } = build('template IN A {\n answer "{{ .Name }} 60 IN CNAME target.example.net."\n}')
    const up = replyTo(questionMessage(makeRequest('target.example.net.', 'A').q))
    up.answer = [parseRR('target.example.net. 30 IN A 192.0.2.1')]
    up.flags |= Flag.TC
    const { reply, req } = await ask(h, 'x.example.org.', 'A', { subquery: async () => encodeMessage(up) })
    assert.deepEqual(req.subqueries, [{ name: 'target.example.net.', type: Type.A }])
    assert.deepEqual(reply!.answer.map(rrToString), ['x.example.org.\t60\tIN\tCNAME\ttarget.example.net.', 'target.example.net.\t30\tIN\tA\t192.0.2.1'])
    assert.ok((reply!.flags & Flag.TC) !== 0)
  })
})

describe('template end to end (dig)', () => {
  let server: Server
  let port = 0
  before(async () => {
    const corefile = `cluster.local:0 {
  bind 127.0.0.1
  template ANY ANY {
    match "^[^.]+\\.(com|net|org)\\.svc\\.cluster\\.local\\.$"
    rcode NXDOMAIN
    authority "{{ .Zone }} 60 IN SOA ns.dns.{{ .Zone }} hostmaster.{{ .Zone }} 1 7200 1800 86400 60"
    fallthrough
  }
  template IN A {
    match "^ip-(?P<a>[0-9]+)-(?P<b>[0-9]+)-(?P<c>[0-9]+)-(?P<d>[0-9]+)\\.cluster\\.local\\.$"
    answer "{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
    fallthrough
  }
  hosts {
    10.0.0.9 known.cluster.local
  }
}
`
    const { log } = memoryLogger()
    server = new Server({ log, dnsPort: 0, quiet: true, plugins: PLUGINS, readConfig: () => corefile })
    await server.start(corefile, 'Corefile')
    port = [...server.listeners.values()][0]!.port
  })
  after(() => server.shutdown(false))

  test('ndots junk like example.com.svc.cluster.local is NXDOMAIN with the SOA', async () => {
    const r = await dig(port, ['example.com.svc.cluster.local', 'AAAA'])
    assert.equal(r.status, 'NXDOMAIN')
    assert.ok(r.flags.includes('aa'))
    assert.equal(r.authority[0]?.type, 'SOA')
    assert.equal(r.authority[0]?.name, 'cluster.local.')
  })
  test('synthesised A record', async () => {
    const r = await dig(port, ['ip-10-1-2-3.cluster.local', 'A'])
    assert.deepEqual(r.answer.map((a) => [a.name, a.ttl, a.data]), [['ip-10-1-2-3.cluster.local.', 60, '10.1.2.3']])
  })
  test('other names fall through to hosts', async () => {
    const r = await dig(port, ['known.cluster.local', 'A'])
    assert.deepEqual(r.answer.map((a) => a.data), ['10.0.0.9'])
  })
})
