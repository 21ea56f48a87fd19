import { test, describe, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Flag, Rcode, Type } from '../../dns/constants.js'
import type { Handler } from '../../pluginkit/types.js'
import type { Message } from '../../dns/types.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { FakeRequest, makeRequest, RecordingWriter, runSync, StubHandler, type RequestOptions } from '../../../test/helpers/fake.js'
import { QueryView } from '../../dns/query.js'
import { plugin } from './setup.js'
import { Hosts } from './handler.js'
import { HostsMap, parseHosts, buildTable, isWildcard } from './hostsfile.js'

const dir = mkdtempSync(join(tmpdir(), 'hosts-test-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let fileNo = 0
function hostsFile(text: string): string {
  const p = join(dir, `hosts-${fileNo++}`)
  writeFileSync(p, text)
  return p
}

const SAMPLE = `# a comment line
127.0.0.1   localhost localhost.localdomain
::1         localhost ip6-localhost  # trailing comment
10.0.0.1    web.example.org  www.example.org Web2.Example.ORG
10.0.0.2    web.example.org
fd00::1     web.example.org
fe80::1%eth0 link.example.org
10.0.0.3
not-an-ip   bad.example.org
300.1.1.1   bad2.example.org
010.0.0.9   lead0.example.org
10.0.0.4\tother.example.net
`

interface Built {
  h: Hosts
  next: StubHandler
  lines: string[]
  services: ReturnType<typeof runSetup>['services']
}

function build(body: string, key = 'example.org:53'): Built {
  const r = runSetup(plugin, body, key)
  const next = new StubHandler(Rcode.Refused, 'next')
  const h = r.make!(next) as Hosts
  return { h, next, lines: r.lines, services: r.services }
}

function q(h: Handler, name: string, type: keyof typeof Type, o: RequestOptions = {}): { rcode: number; reply: Message | null; plugin: string | null } {
  const req = makeRequest(name, type, o)
  const { rcode, w } = runSync(h, req)
  return { rcode, reply: w.wire === null ? null : w.reply, plugin: w.plugin }
}

function answers(m: Message | null): string[] {
  assert.ok(m, 'expected a reply')
  return m.answer.map((rr) => `${rr.name} ${rr.ttl} ${rr.type} ${String(rr.data)}`)
}

describe('hosts file parsing', () => {
  const all = (): boolean => true
  test('reads comments, aliases, both families, drops IPv6 zones, skips bad lines', () => {
    const m = parseHosts(SAMPLE, all)
    assert.deepEqual(m.v4.get('localhost.'), ['127.0.0.1'])
    assert.deepEqual(m.v6.get('localhost.'), ['::1'])
    assert.deepEqual(m.v4.get('web.example.org.'), ['10.0.0.1', '10.0.0.2'])
    assert.deepEqual(m.v4.get('www.example.org.'), ['10.0.0.1'])
    assert.deepEqual(m.v4.get('web2.example.org.'), ['10.0.0.1'], 'names are lower-cased')
    assert.deepEqual(m.v6.get('web.example.org.'), ['fd00::1'])
    assert.deepEqual(m.v6.get('link.example.org.'), ['fe80::1'])
    assert.deepEqual(m.v4.get('other.example.net.'), ['10.0.0.4'], 'tabs separate fields')
    assert.equal(m.v4.has('bad.example.org.'), false)
    assert.equal(m.v4.has('bad2.example.org.'), false)
    assert.equal(m.v4.has('lead0.example.org.'), false, 'leading zeros are rejected like Go')
    assert.equal(m.skipped, 3)
    assert.deepEqual(m.byAddr.get('10.0.0.1'), ['web.example.org.', 'www.example.org.', 'web2.example.org.'])
  })
  test('keeps only names inside the zones', () => {
    const m = parseHosts(SAMPLE, (n) => n.endsWith('.example.org.'))
    assert.equal(m.v4.has('localhost.'), false)
    assert.equal(m.v4.has('other.example.net.'), false)
    assert.equal(m.byAddr.has('127.0.0.1'), false)
    assert.ok(m.v4.has('web.example.org.'))
  })
  test('duplicate pairs are kept once; file entries come before inline ones', () => {
    const file = parseHosts('10.0.0.1 a.example.org\n10.0.0.1 a.example.org\n', all)
    const inline = parseHosts('10.0.0.9 a.example.org\n10.0.0.1 a.example.org\n', all)
    const m = new HostsMap()
    m.merge(file)
    m.merge(inline)
    assert.deepEqual(m.v4.get('a.example.org.'), ['10.0.0.1', '10.0.0.9'])
  })
  test('IPv4-mapped IPv6 addresses are AAAA data', () => {
    const m = parseHosts('::ffff:10.1.2.3 mapped.example.org\n', all)
    assert.deepEqual(m.v6.get('mapped.example.org.'), ['::ffff:10.1.2.3'])
    assert.equal(m.v4.has('mapped.example.org.'), false)
  })
  test('wildcards are recognised and get no reverse entry', () => {
    assert.equal(isWildcard('*.example.org.'), true)
    assert.equal(isWildcard('a.*.example.org.'), false)
    const m = parseHosts('10.0.0.5 *.apps.example.org\n', all)
    assert.deepEqual(m.v4.get('*.apps.example.org.'), ['10.0.0.5'])
    assert.equal(m.byAddr.size, 0)
    const t = buildTable(m, 60, true, all)
    assert.ok(t.wild?.has('apps.example.org.'))
    assert.equal(t.names.size, 0)
  })
  test('entries counts addresses and PTR names like CoreDNS', () => {
    const m = parseHosts('10.0.0.1 a.example.org b.example.org\nfd00::1 a.example.org\n', all)
    assert.equal(buildTable(m, 60, true, all).entries, 3 + 3)
    assert.equal(buildTable(m, 60, false, all).entries, 3)
  })
})

describe('hosts answers', () => {
  const file = hostsFile(SAMPLE)
  const { h, next } = build(`hosts ${file} example.org {
  reload 0
}`, '.:53')

  test('A: all addresses, AA set, default TTL 3600, question echoed', () => {
    const { rcode, reply, plugin: p } = q(h, 'web.example.org.', 'A')
    assert.equal(rcode, Rcode.NoError)
    assert.equal(p, 'hosts')
    assert.ok(reply)
    assert.equal(reply.flags & 0xf, Rcode.NoError)
    assert.ok(reply.flags & Flag.AA)
    assert.ok(reply.flags & Flag.QR)
    assert.ok(reply.flags & Flag.RD, 'RD copied')
    assert.equal(reply.flags & Flag.RA, 0)
    assert.equal(reply.id, 4711)
    assert.deepEqual(reply.question, [{ name: 'web.example.org.', type: Type.A, class: 1 }])
    assert.deepEqual(answers(reply), ['web.example.org. 3600 1 10.0.0.1', 'web.example.org. 3600 1 10.0.0.2'])
    assert.equal(reply.authority.length, 0)
  })
  test('AAAA answers', () => {
    const { reply } = q(h, 'web.example.org.', 'AAAA')
    assert.deepEqual(answers(reply), ['web.example.org. 3600 28 fd00::1'])
  })
  test('the owner name is the qname exactly as sent (mixed case)', () => {
    const { reply } = q(h, 'WeB.ExAmple.org.', 'A')
    assert.deepEqual(answers(reply), ['WeB.ExAmple.org. 3600 1 10.0.0.1', 'WeB.ExAmple.org. 3600 1 10.0.0.2'])
    assert.equal(reply!.question[0]!.name, 'WeB.ExAmple.org.')
    // and the shared data was not changed by it
    assert.deepEqual(answers(q(h, 'web.example.org.', 'A').reply), ['web.example.org. 3600 1 10.0.0.1', 'web.example.org. 3600 1 10.0.0.2'])
  })
  test('a known name without data of the type: NODATA, AA, no SOA', () => {
    for (const t of ['MX', 'TXT', 'SRV'] as const) {
      const { rcode, reply } = q(h, 'web.example.org.', t)
      assert.equal(rcode, Rcode.NoError)
      assert.equal(reply!.flags & 0xf, Rcode.NoError)
      assert.ok(reply!.flags & Flag.AA)
      assert.equal(reply!.answer.length, 0)
      assert.equal(reply!.authority.length, 0)
    }
    const v4only = q(h, 'www.example.org.', 'AAAA')
    assert.equal(v4only.rcode, Rcode.NoError)
    assert.equal(v4only.reply!.answer.length, 0)
    const v6only = q(h, 'link.example.org.', 'A')
    assert.equal(v6only.reply!.answer.length, 0)
  })
  test('an unknown name in the zones without fallthrough: SERVFAIL, nothing written, next not called', () => {
    const before = next.calls
    const { rcode, reply } = q(h, 'nope.example.org.', 'A')
    assert.equal(rcode, Rcode.ServFail)
    assert.equal(reply, null)
    assert.equal(next.calls, before)
  })
  test('a name outside ZONES goes to the next plugin', () => {
    const before = next.calls
    const { rcode } = q(h, 'other.example.net.', 'A')
    assert.equal(rcode, Rcode.Refused)
    assert.equal(next.calls, before + 1)
    // localhost is not in example.org. either: not even loaded
    assert.equal(q(h, 'localhost.', 'A').rcode, Rcode.Refused)
  })
  test('PTR for IPv4 and IPv6 addresses of in-zone names, regardless of ZONES', () => {
    const r4 = q(h, '1.0.0.10.in-addr.arpa.', 'PTR')
    assert.equal(r4.rcode, Rcode.NoError)
    assert.ok(r4.reply!.flags & Flag.AA)
    assert.deepEqual(answers(r4.reply), [
      '1.0.0.10.in-addr.arpa. 3600 12 web.example.org.',
      '1.0.0.10.in-addr.arpa. 3600 12 www.example.org.',
      '1.0.0.10.in-addr.arpa. 3600 12 web2.example.org.',
    ])
    const v6 = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.'
    assert.deepEqual(answers(q(h, v6, 'PTR').reply), [`${v6} 3600 12 web.example.org.`])
    assert.deepEqual(answers(q(h, v6.toUpperCase().replace('IP6.ARPA.', 'Ip6.Arpa.'), 'PTR').reply).length, 1)
  })
  test('PTR for an unknown address goes to the next plugin even without fallthrough', () => {
    const before = next.calls
    assert.equal(q(h, '9.9.9.9.in-addr.arpa.', 'PTR').rcode, Rcode.Refused)
    assert.equal(q(h, 'web.example.org.', 'PTR').rcode, Rcode.Refused, 'PTR of a forward name')
    assert.equal(next.calls, before + 2)
  })
  test('other types on a reverse name outside ZONES go on', () => {
    const before = next.calls
    assert.equal(q(h, '1.0.0.10.in-addr.arpa.', 'A').rcode, Rcode.Refused)
    assert.equal(next.calls, before + 1)
  })
  test('the reply carries an OPT when the query had one', () => {
    const req = makeRequest('web.example.org.', 'A', { ednsSize: 4096, do: true })
    const { w } = runSync(h, req)
    assert.ok(w.reply.edns)
    assert.equal(w.reply.edns.udpSize, 4096)
    assert.equal(req.replyRcode, 0)
    assert.equal(req.replyPlugin, 'hosts')
  })
  test('serve is synchronous and writes wire bytes once', () => {
    const req = makeRequest('web.example.org.', 'A')
    const w = new RecordingWriter(req)
    assert.equal(typeof h.serve(req, w), 'number')
    assert.equal(w.calls, 1)
    assert.ok(w.wire)
    // owner names are compression pointers to the question
    assert.equal(w.wire.readUInt16BE(req.q.questionEnd), 0xc00c)
  })
  test('EDNS: OPT echoes DO, size floored at 512; large answers are truncated with TC', () => {
    const small = makeRequest('web.example.org.', 'A', { ednsSize: 100, do: true })
    const r1 = runSync(h, small).w.reply
    assert.equal(r1.edns!.udpSize, 512)
    assert.equal(r1.edns!.flags & 0x8000, 0x8000)
    let text = ''
    for (let i = 1; i <= 40; i++) text += `fd00::${i.toString(16)} many.example.org\n`
    const big = build(`hosts ${hostsFile(text)} {\n  reload 0\n}`).h
    const udp = runSync(big, makeRequest('many.example.org.', 'AAAA')).w
    assert.ok(udp.wire!.length <= 512)
    assert.ok(udp.reply.flags & Flag.TC)
    assert.ok(udp.reply.answer.length < 40)
    const tcp = runSync(big, makeRequest('many.example.org.', 'AAAA', { proto: 'tcp' })).w
    assert.equal(tcp.reply.answer.length, 40)
    assert.equal(tcp.reply.flags & Flag.TC, 0)
  })
  test('a question name written as a compression pointer still gets a correct reply', () => {
    const { h: root } = build(`hosts ${hostsFile('10.0.0.1 .\n')} {\n  reload 0\n}`, '.:53')
    // header (arcount 0, so byte 11 is a zero: a root name) + question "C0 0B" type A class IN
    const wire = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0b, 0, 1, 0, 1])
    const qv = new QueryView()
    qv.parseHeader(wire)
    qv.parseBody()
    assert.equal(qv.qname, '.')
    const { rcode, w } = runSync(root, new FakeRequest(qv))
    assert.equal(rcode, Rcode.NoError)
    assert.equal(w.msg !== null, true, 'Message path')
    assert.deepEqual(answers(w.reply), ['. 3600 1 10.0.0.1'])
    assert.equal(w.reply.id, 0x1234)
  })
  test('metrics counters', () => {
    // 10.0.0.1 x3 names + 10.0.0.2 + fd00::1 + fe80::1 = 6 addresses; PTR names: 3 + 1 + 1 + 1 = 6
    assert.equal(h.entries, 12)
    assert.ok(h.reloadTimestamp > 1_600_000_000)
    assert.equal(h.hostsfile, file)
  })
})

describe('hosts options', () => {
  test('ttl', () => {
    const { h } = build(`hosts ${hostsFile('10.0.0.1 a.example.org\n')} {
  ttl 30
  reload 0
}`)
    assert.deepEqual(answers(q(h, 'a.example.org.', 'A').reply), ['a.example.org. 30 1 10.0.0.1'])
    assert.deepEqual(answers(q(h, '1.0.0.10.in-addr.arpa.', 'PTR').reply), ['1.0.0.10.in-addr.arpa. 30 12 a.example.org.'])
  })
  test('no_reverse: no PTR answers', () => {
    const { h, next } = build(`hosts ${hostsFile('10.0.0.1 a.example.org\n')} {
  no_reverse
  reload 0
}`)
    assert.equal(q(h, '1.0.0.10.in-addr.arpa.', 'PTR').rcode, Rcode.Refused)
    assert.equal(next.calls, 1)
    assert.equal(q(h, 'a.example.org.', 'A').reply!.answer.length, 1)
    assert.equal(h.entries, 1)
  })
  test('inline entries extend the file; file entries come first', () => {
    const { h } = build(`hosts ${hostsFile('10.0.0.1 a.example.org\n')} {
  10.0.0.2 a.example.org
  fd00::5 b.example.org alias.example.org
  reload 0
}`)
    assert.deepEqual(answers(q(h, 'a.example.org.', 'A').reply), ['a.example.org. 3600 1 10.0.0.1', 'a.example.org. 3600 1 10.0.0.2'])
    assert.deepEqual(answers(q(h, 'alias.example.org.', 'AAAA').reply), ['alias.example.org. 3600 28 fd00::5'])
  })
  test('inline only, no file (missing default path is fine)', () => {
    const { h, lines } = build(`hosts ${join(dir, 'does-not-exist')} {
  10.1.1.1 inline.example.org
}`)
    assert.deepEqual(answers(q(h, 'inline.example.org.', 'A').reply), ['inline.example.org. 3600 1 10.1.1.1'])
    assert.ok(lines.some((l) => l === `[WARNING] plugin/hosts: File does not exist: ${join(dir, 'does-not-exist')}`), lines.join('\n'))
  })
  test('ZONES default to the server block keys', () => {
    const { h, next } = build(`hosts ${hostsFile('10.0.0.1 a.example.org\n10.0.0.2 a.example.net\n')} {
  reload 0
}`, 'example.org:53')
    assert.equal(q(h, 'a.example.org.', 'A').reply!.answer.length, 1)
    // a.example.net is outside the block's zones: not loaded, and its PTR is not answered either
    assert.equal(q(h, '2.0.0.10.in-addr.arpa.', 'PTR').rcode, Rcode.Refused)
    assert.equal(next.calls, 1)
  })
  test('a root block without ZONES serves every name in the file', () => {
    const { h } = build(`hosts ${hostsFile('10.0.0.1 a.example.org\n127.0.0.1 localhost\n')} {
  reload 0
}`, '.:53')
    assert.deepEqual(answers(q(h, 'A.example.org.', 'A').reply), ['A.example.org. 3600 1 10.0.0.1'])
    assert.deepEqual(answers(q(h, 'localhost.', 'A').reply), ['localhost. 3600 1 127.0.0.1'])
    assert.equal(q(h, 'b.example.org.', 'A').rcode, Rcode.ServFail)
    assert.equal(h.entries, 4)
  })
  test('ZONES with a root block: other names go on', () => {
    const { h, next } = build(`hosts ${hostsFile('10.0.0.1 a.example.org\n10.0.0.2 a.example.net\n')} example.org {
  reload 0
}`, '.:53')
    assert.equal(q(h, 'a.example.org.', 'A').reply!.answer.length, 1)
    assert.equal(q(h, 'a.example.net.', 'A').rcode, Rcode.Refused)
    assert.equal(q(h, 'x.example.com.', 'A').rcode, Rcode.Refused)
    assert.equal(next.calls, 2)
    assert.equal(q(h, 'x.example.org.', 'A').rcode, Rcode.ServFail)
  })
  test('fallthrough: unknown names go to the next plugin; known ones still NODATA', () => {
    const { h, next } = build(`hosts ${hostsFile('10.0.0.1 a.example.org\n')} {
  fallthrough
  reload 0
}`)
    assert.equal(q(h, 'unknown.example.org.', 'A').rcode, Rcode.Refused)
    assert.equal(next.calls, 1)
    const r = q(h, 'a.example.org.', 'MX')
    assert.equal(r.rcode, Rcode.NoError)
    assert.equal(r.reply!.answer.length, 0)
    assert.equal(next.calls, 1)
  })
  test('fallthrough ZONES: only names under them go on', () => {
    const { h, next } = build(`hosts ${hostsFile('10.0.0.1 a.example.org\n')} {
  fallthrough sub.example.org
  reload 0
}`)
    assert.equal(q(h, 'x.sub.example.org.', 'A').rcode, Rcode.Refused)
    assert.equal(next.calls, 1)
    assert.equal(q(h, 'x.example.org.', 'A').rcode, Rcode.ServFail)
    assert.equal(next.calls, 1)
  })
  test('fallthrough_unsupported: other types on known names go on, A/AAAA NODATA stays', () => {
    const { h, next } = build(`hosts ${hostsFile('10.0.0.1 a.example.org\n')} {
  fallthrough
  fallthrough_unsupported
  reload 0
}`)
    assert.equal(q(h, 'a.example.org.', 'MX').rcode, Rcode.Refused)
    assert.equal(next.calls, 1)
    const r = q(h, 'a.example.org.', 'AAAA')
    assert.equal(r.rcode, Rcode.NoError)
    assert.equal(r.reply!.answer.length, 0)
    assert.equal(next.calls, 1)
  })
  test('wildcard: exactly one extra label, not the apex, not deeper, no PTR, exact names win', () => {
    const { h, next } = build(`hosts ${hostsFile('10.0.0.5 *.apps.example.org\nfd00::7 exact.apps.example.org\n')} {
  reload 0
}`)
    assert.deepEqual(answers(q(h, 'Foo.apps.example.org.', 'A').reply), ['Foo.apps.example.org. 3600 1 10.0.0.5'])
    assert.deepEqual(answers(q(h, 'bar.apps.example.org.', 'A').reply), ['bar.apps.example.org. 3600 1 10.0.0.5'])
    assert.equal(q(h, 'bar.apps.example.org.', 'MX').reply!.answer.length, 0, 'NODATA on a wildcard name')
    assert.equal(q(h, 'apps.example.org.', 'A').rcode, Rcode.ServFail, 'apex does not match')
    assert.equal(q(h, 'a.b.apps.example.org.', 'A').rcode, Rcode.ServFail, 'two labels do not match')
    const exact = q(h, 'exact.apps.example.org.', 'A')
    assert.equal(exact.rcode, Rcode.NoError)
    assert.equal(exact.reply!.answer.length, 0, 'an exact name hides the wildcard')
    assert.equal(q(h, '5.0.0.10.in-addr.arpa.', 'PTR').rcode, Rcode.Refused, 'no PTR for wildcards')
    assert.equal(next.calls, 1)
  })
})

describe('hosts reload', () => {
  /** Real time passes for the fs thread pool (only setInterval is mocked). */
  async function settle(): Promise<void> {
    await new Promise((r) => setTimeout(r, 5))
  }
  test('a changed file is picked up by poll (mtime/size)', async () => {
    const p = hostsFile('10.0.0.1 a.example.org\n')
    const { h, services } = build(`hosts ${p} {
  reload 1h
  10.9.9.9 inline.example.org
}`)
    assert.equal(services.startup.length, 1)
    assert.equal(services.shutdown.length, 1)
    await services.startup[0]!()
    assert.equal(h.store.reads, 1, 'unchanged file is not re-read')
    writeFileSync(p, '10.0.0.2 a.example.org\n10.0.0.3 b.example.org\n')
    utimesSync(p, new Date(), new Date(Date.now() + 5000))
    await h.store.poll()
    assert.equal(h.store.reads, 2)
    assert.deepEqual(answers(q(h, 'a.example.org.', 'A').reply), ['a.example.org. 3600 1 10.0.0.2'])
    assert.equal(q(h, 'b.example.org.', 'A').reply!.answer.length, 1)
    assert.equal(q(h, 'inline.example.org.', 'A').reply!.answer.length, 1)
    await services.shutdown[0]!()
  })
  test('a deleted file keeps its last entries and the inline ones serving', async () => {
    const p = hostsFile('10.0.0.1 a.example.org\n')
    const { h, lines } = build(`hosts ${p} {
  10.9.9.9 inline.example.org
}`)
    rmSync(p)
    await h.store.poll()
    assert.deepEqual(answers(q(h, 'a.example.org.', 'A').reply), ['a.example.org. 3600 1 10.0.0.1'])
    assert.equal(q(h, 'inline.example.org.', 'A').reply!.answer.length, 1)
    assert.ok(lines.some((l) => l.startsWith('[WARNING] plugin/hosts: File does not exist')), lines.join('\n'))
    writeFileSync(p, '10.0.0.8 a.example.org\n')
    await h.store.poll()
    assert.deepEqual(answers(q(h, 'a.example.org.', 'A').reply), ['a.example.org. 3600 1 10.0.0.8'])
  })
  test('an unreadable file logs and keeps the previous data', async () => {
    const p = hostsFile('10.0.0.1 a.example.org\n')
    const { h, lines } = build(`hosts ${p}`)
    rmSync(p)
    mkdirSync(p)
    await h.store.poll()
    assert.deepEqual(answers(q(h, 'a.example.org.', 'A').reply), ['a.example.org. 3600 1 10.0.0.1'])
    assert.ok(lines.some((l) => l.startsWith('[ERROR] plugin/hosts:') && l.includes('is a directory')), lines.join('\n'))
  })
  test('the timer runs polls, is unref\'d and stops on shutdown', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] })
    const p = hostsFile('10.0.0.1 a.example.org\n')
    const { h, services } = build(`hosts ${p} {
  reload 2s
}`)
    await services.startup[0]!()
    writeFileSync(p, '10.0.0.2 a.example.org\n10.0.0.3 a.example.org\n')
    t.mock.timers.tick(2000)
    for (let i = 0; i < 400 && h.store.reads < 2; i++) await settle()
    assert.equal(h.store.reads, 2)
    assert.equal(q(h, 'a.example.org.', 'A').reply!.answer.length, 2)
    await services.shutdown[0]!()
    writeFileSync(p, '10.0.0.4 a.example.org\n')
    t.mock.timers.tick(10000)
    for (let i = 0; i < 5; i++) await settle()
    assert.equal(h.store.reads, 2, 'no poll after shutdown')
  })
  test('reload 0 registers no timer', () => {
    const { services } = build(`hosts ${hostsFile('10.0.0.1 a.example.org\n')} {
  reload 0
}`)
    assert.equal(services.startup.length, 0)
    assert.equal(services.shutdown.length, 0)
  })
})
