import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Class, Flag, Rcode, Type } from '../../dns/constants.js'
import { decodeMessage, encodeMessage } from '../../dns/message.js'
import { QueryView } from '../../dns/query.js'
import { ConfigError } from '../../corefile/errors.js'
import { parseCorefile } from '../../corefile/parser.js'
import type { Message } from '../../dns/types.js'
import { FakeRequest, RecordingWriter, run, StubHandler, type RequestOptions } from '../../../test/helpers/fake.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { Backend } from '../kubernetes/backend.js'
import { parseKubernetes, plugin as kubePlugin } from '../kubernetes/setup.js'
import { KubeTransferer } from '../kubernetes/transfer.js'
import { FIXTURE_LOCAL_IPS, FIXTURE_SERIAL, fixtureView, MemoryView, svc } from '../kubernetes/testdata.js'
import { fmt } from '../kubernetes/testutil.js'
import { batch, longestMatch, Transfer } from './handler.js'
import { plugin } from './setup.js'
import type { StreamWriter } from '../../pluginkit/stream.js'

function setupErr(body: string): ConfigError {
  try {
    runSetup(plugin, body, 'cluster.local:53')
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e))
    return e
  }
  assert.fail('expected a ConfigError')
}

test('setup: accepted forms', () => {
  for (const body of [
    'transfer {\n  to *\n}',
    'transfer cluster.local {\n  to 10.0.0.1 10.0.0.2:5300 ::1 [fd00::1]:53\n  to *\n  source 10.0.0.9\n}',
    'transfer a.local {\n  to *\n}\ntransfer b.local {\n  to 10.1.1.1\n}',
  ]) {
    assert.ok(runSetup(plugin, body, 'cluster.local:53').make, body)
  }
})

test('setup: errors with positions', () => {
  const rows: Array<[string, string, number, number]> = [
    ['transfer', "plugin/transfer: 'to' is required", 2, 1],
    ['transfer {\n  to\n}', "Wrong argument count or unexpected line ending after 'to'", 3, 3],
    ['transfer {\n  to example.org\n}', 'must specify an IP address: `example.org\'', 3, 6],
    ['transfer {\n  to host:53\n}', 'must specify an IP address: `host\'', 3, 6],
    ['transfer {\n  from *\n}', 'unknown property "from"', 3, 3],
    ['transfer {\n  to *\n  source nowhere\n}', 'must specify an IP address: `nowhere\'', 4, 10],
  ]
  for (const [body, msg, line, col] of rows) {
    const e = setupErr(body)
    assert.ok(e.message.includes(msg), `${e.message} / ${msg}`)
    assert.equal(e.line, line, e.message)
    assert.equal(e.col, col, e.message)
  }
})

test('longestMatch compares zones as strings across directives (CoreDNS quirk)', () => {
  const a = { zones: ['cluster.local.'], to: ['*'] }
  const b = { zones: ['local.'], to: ['*'] }
  assert.equal(longestMatch([a, b], 'cluster.local.'), b)
  assert.equal(longestMatch([a], 'x.cluster.local.'), a)
  assert.equal(longestMatch([a], 'example.org.'), null)
})

interface Env {
  t: Transfer
  next: StubHandler
}

function env(body = 'transfer cluster.local {\n  to 10.0.0.1 [fd00::1]:53\n}', view: MemoryView = fixtureView()): Env {
  const key = '.:53'
  const kubeBody = 'kubernetes cluster.local in-addr.arpa {\n  ttl 30\n}'
  const r = runSetup(plugin, body, key)
  const kr = runSetup(kubePlugin, kubeBody, key)
  const d = parseCorefile(`${key} {\n${kubeBody}\n}\n`, 'Corefile').blocks[0]!.directives[0]!
  const cfg = parseKubernetes(kr.ctx, d)
  r.ctx.block.providers.set('transfer', [{ not: 'a transferer' }, new KubeTransferer(new Backend(cfg, FIXTURE_LOCAL_IPS, view))])
  const next = new StubHandler(Rcode.ServFail, 'next')
  return { t: r.make!(next) as Transfer, next }
}

function request(name: string, type: number, o: RequestOptions & { ixfrSerial?: number } = {}): FakeRequest {
  const msg: Message = {
    id: 99,
    flags: 0,
    question: [{ name, type, class: Class.IN }],
    answer: [],
    authority:
      o.ixfrSerial === undefined
        ? []
        : [{ name, type: Type.SOA, class: Class.IN, ttl: 0, data: { mname: '.', rname: '.', serial: o.ixfrSerial, refresh: 0, retry: 0, expire: 0, minimum: 0 } }],
    additional: [],
    edns: null,
  }
  const q = new QueryView()
  q.parseHeader(encodeMessage(msg))
  q.parseBody()
  return new FakeRequest(q, { proto: 'tcp', remoteAddress: '10.0.0.1', ...o })
}

const S = FIXTURE_SERIAL
const SOA = `cluster.local. 30 SOA ns.dns.cluster.local. hostmaster.cluster.local. ${S} 7200 1800 86400 30`
const Z = 'svc.cluster.local.'
const EXPECTED = [
  SOA,
  'cluster.local. 30 NS kube-dns.kube-system.svc.cluster.local.',
  'kube-dns.kube-system.svc.cluster.local. 30 A 10.96.0.10',
  `alias.prod.${Z} 30 CNAME lonely.prod.svc.cluster.local.`,
  `dangling.prod.${Z} 30 CNAME gone.prod.svc.cluster.local.`,
  `db.prod.${Z} 30 A 10.244.1.5`,
  `db-0.db.prod.${Z} 30 A 10.244.1.5`,
  `_pg._tcp.db.prod.${Z} 30 SRV 0 50 5432 db-0.db.prod.${Z}`,
  `db.prod.${Z} 30 A 10.244.2.7`,
  `db-1.db.prod.${Z} 30 A 10.244.2.7`,
  `_pg._tcp.db.prod.${Z} 30 SRV 0 50 5432 db-1.db.prod.${Z}`,
  `ext.prod.${Z} 30 CNAME api.example.com.`,
  `kube-dns.kube-system.${Z} 30 A 10.96.0.10`,
  `kube-dns.kube-system.${Z} 30 SRV 0 100 53 kube-dns.kube-system.${Z}`,
  `_dns._udp.kube-dns.kube-system.${Z} 30 SRV 0 100 53 kube-dns.kube-system.${Z}`,
  `kube-dns.kube-system.${Z} 30 SRV 0 100 53 kube-dns.kube-system.${Z}`,
  `_dns-tcp._tcp.kube-dns.kube-system.${Z} 30 SRV 0 100 53 kube-dns.kube-system.${Z}`,
  `kube-dns.kube-system.${Z} 30 SRV 0 100 9153 kube-dns.kube-system.${Z}`,
  `_metrics._tcp.kube-dns.kube-system.${Z} 30 SRV 0 100 9153 kube-dns.kube-system.${Z}`,
  `kubernetes.default.${Z} 30 A 10.96.0.1`,
  `kubernetes.default.${Z} 30 SRV 0 100 443 kubernetes.default.${Z}`,
  `_https._tcp.kubernetes.default.${Z} 30 SRV 0 100 443 kubernetes.default.${Z}`,
  `lonely.prod.${Z} 30 A 10.96.10.30`,
  `lonely.prod.${Z} 30 SRV 0 100 80 lonely.prod.${Z}`,
  `_http._tcp.lonely.prod.${Z} 30 SRV 0 100 80 lonely.prod.${Z}`,
  `web.prod.${Z} 30 A 10.96.10.20`,
  `web.prod.${Z} 30 AAAA fd00:96::20`,
  `web.prod.${Z} 30 SRV 0 100 80 web.prod.${Z}`,
  `_http._tcp.web.prod.${Z} 30 SRV 0 100 80 web.prod.${Z}`,
  `web.prod.${Z} 30 SRV 0 100 8080 web.prod.${Z}`,
  `_alt._tcp.web.prod.${Z} 30 SRV 0 100 8080 web.prod.${Z}`,
  `workers.prod.${Z} 30 A 10.244.1.8`,
  `10-244-1-8.workers.prod.${Z} 30 A 10.244.1.8`,
  `workers.prod.${Z} 30 A 10.244.2.9`,
  `10-244-2-9.workers.prod.${Z} 30 A 10.244.2.9`,
  SOA,
]

test('AXFR over TCP from an allowed client: §13 content in order, AA set, one message', async () => {
  const e = env()
  const { rcode, w } = await run(e.t, request('cluster.local.', Type.AXFR))
  assert.equal(rcode, 0)
  assert.equal(w.plugin, 'transfer')
  const m = w.reply
  assert.equal(m.flags & 0xf, 0)
  assert.ok((m.flags & Flag.AA) !== 0)
  assert.deepEqual(m.answer.map(fmt), EXPECTED)
  assert.equal(e.next.calls, 0)
})

test('IPv6 client allowed by [addr]:port; other clients REFUSED (written, no AA)', async () => {
  const e = env()
  const v6 = await run(e.t, request('cluster.local.', Type.AXFR, { remoteAddress: 'fd00::1' }))
  assert.equal(v6.w.reply.answer.length, EXPECTED.length)
  const mapped = await run(e.t, request('cluster.local.', Type.AXFR, { remoteAddress: '::ffff:10.0.0.1' }))
  assert.equal(mapped.w.reply.answer.length, EXPECTED.length)
  const no = await run(e.t, request('cluster.local.', Type.AXFR, { remoteAddress: '10.0.0.2' }))
  assert.equal(no.w.plugin, 'transfer')
  assert.equal(no.w.reply.flags & 0xf, Rcode.Refused)
  assert.equal(no.w.reply.flags & Flag.AA, 0)
  assert.equal(no.w.reply.answer.length, 0)
})

test('AXFR over UDP is REFUSED (by the server: nothing written by the plugin)', async () => {
  const e = env('transfer {\n  to *\n}')
  const { rcode, w } = await run(e.t, request('cluster.local.', Type.AXFR, { proto: 'udp' }))
  assert.equal(rcode, Rcode.Refused)
  assert.equal(w.plugin, null)
  assert.equal(w.reply.flags & 0xf, Rcode.Refused)
})

test('IXFR: current (or newer) serial → single SOA without AA; older → full transfer; no SOA in authority → SERVFAIL', async () => {
  const e = env()
  for (const serial of [S, S + 1]) {
    const { w } = await run(e.t, request('cluster.local.', Type.IXFR, { ixfrSerial: serial }))
    assert.deepEqual(w.reply.answer.map(fmt), [SOA])
    assert.equal(w.reply.flags & Flag.AA, 0)
  }
  const old = await run(e.t, request('cluster.local.', Type.IXFR, { ixfrSerial: S - 1 }))
  assert.deepEqual(old.w.reply.answer.map(fmt), EXPECTED)
  const zero = await run(e.t, request('cluster.local.', Type.IXFR, { ixfrSerial: 0 }))
  assert.equal(zero.w.reply.answer.length, EXPECTED.length)
  const bad = await run(e.t, request('cluster.local.', Type.IXFR))
  assert.equal(bad.rcode, Rcode.ServFail)
  assert.equal(bad.w.plugin, null)
})

test('zones without a transferer, reverse zones, other names and other qtypes go to the next plugin', async () => {
  const e = env('transfer {\n  to *\n}')
  for (const [name, type] of [
    ['in-addr.arpa.', Type.AXFR],
    ['example.org.', Type.AXFR],
    ['sub.cluster.local.', Type.AXFR],
    ['Cluster.local.', Type.AXFR],
    ['cluster.local.', Type.A],
  ] as const) {
    const before = e.next.calls
    await run(e.t, request(name, type))
    assert.equal(e.next.calls, before + 1, name)
  }
  const narrow = env('transfer other.local {\n  to *\n}')
  await run(narrow.t, request('cluster.local.', Type.AXFR))
  assert.equal(narrow.next.calls, 1)
})

test('only exposed namespaces are transferred; no pods, no PTRs', async () => {
  const view = new MemoryView({ namespaces: ['a'], services: [svc('a', 's', { clusterIPs: ['10.1.0.1'] }), svc('gone', 't', { clusterIPs: ['10.1.0.2'] })] })
  const e = env('transfer {\n  to *\n}', view)
  const { w } = await run(e.t, request('cluster.local.', Type.AXFR))
  const names = w.reply.answer.map(fmt)
  assert.ok(names.includes('s.a.svc.cluster.local. 30 A 10.1.0.1'))
  // a port-less service: bare SRV with the -1 sentinel as a 16-bit port (CoreDNS quirk)
  assert.ok(names.includes('s.a.svc.cluster.local. 30 SRV 0 100 65535 s.a.svc.cluster.local.'))
  assert.ok(!names.some((n) => n.startsWith('t.gone.')))
})

test('large zones are batched into several messages (≤ 501 records, < 63 KB each)', async () => {
  const services = []
  for (let i = 0; i < 700; i++) services.push(svc('a', `service-number-${String(i).padStart(4, '0')}`, { clusterIPs: [`10.2.${i >> 8}.${i & 0xff}`] }))
  const e = env('transfer {\n  to *\n}', new MemoryView({ namespaces: ['a'], services }))
  const req = request('cluster.local.', Type.AXFR)
  class StreamRecorder extends RecordingWriter implements StreamWriter {
    msgs: Buffer[] = []
    writeStream(msgs: readonly Buffer[], _plugin: string): void {
      this.msgs.push(...msgs)
      this.written = true
    }
  }
  const w = new StreamRecorder(req)
  const r = e.t.serve(req, w)
  assert.equal(typeof r === 'number' ? r : await r, 0)
  assert.ok(w.msgs.length >= 3)
  let total = 0
  for (const b of w.msgs) {
    assert.ok(b.length < 63 * 1024)
    const m = decodeMessage(b)
    assert.ok(m.answer.length <= 501)
    assert.ok((m.flags & Flag.AA) !== 0)
    assert.equal(m.question[0]!.name, 'cluster.local.')
    total += m.answer.length
  }
  assert.equal(total, 3 + 700 * 2 + 1)
  // without a streaming writer the transfer fails instead of being cut
  const plain = await run(e.t, request('cluster.local.', Type.AXFR))
  assert.equal(plain.rcode, Rcode.ServFail)
})

test('batch: size cap', () => {
  const big = { name: 'x.', type: Type.TXT, class: Class.IN, ttl: 0, data: [Buffer.alloc(255), Buffer.alloc(255), Buffer.alloc(255), Buffer.alloc(255)] }
  const chunks = batch(Array.from({ length: 100 }, () => big))
  assert.ok(chunks.length >= 2)
  for (const c of chunks) assert.ok(c.length * 1035 <= 63000 + 1035)
})
