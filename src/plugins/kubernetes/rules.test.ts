// kubernetes-dns.md §10.1 (NXDOMAIN vs NODATA, every row, A/other and TXT columns) and the other
// rules and quirks of §3-§11 that the worked examples do not cover.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Class, Flag, Rcode, Type } from '../../dns/constants.js'
import { encodeMessage } from '../../dns/message.js'
import { ask, build, STOCK } from './testutil.js'
import { makeRequest, RecordingWriter, runSync } from '../../../test/helpers/fake.js'
import { ep, fixtureView, FIXTURE_NAMESPACES, FIXTURE_SERVICES, FIXTURE_SLICES, MemoryView, port, slice, svc } from './testdata.js'

type T = keyof typeof Type
interface Row {
  what: string
  q: string
  t: T
  rcode: 'NOERROR' | 'NXDOMAIN'
  /** positive answer expected (else empty answer) */
  positive?: boolean
  body?: string
}

const VERIFIED = STOCK.replace('pods insecure', 'pods verified')
const DISABLED = STOCK.replace('pods insecure', 'pods disabled')
const IGNORE = STOCK.replace('ttl 30', 'ttl 30\n  ignore empty_service')
const NOEP = 'kubernetes cluster.local in-addr.arpa ip6.arpa {\n  pods insecure\n  noendpoints\n}'
const ONLY_DEFAULT = STOCK.replace('ttl 30', 'ttl 30\n  namespaces default kube-system')

const table: Row[] = [
  { what: 'apex', q: 'cluster.local.', t: 'A', rcode: 'NOERROR' },
  { what: 'apex', q: 'cluster.local.', t: 'SRV', rcode: 'NOERROR' },
  { what: 'apex', q: 'cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: 'svc.Z', q: 'svc.cluster.local.', t: 'A', rcode: 'NOERROR' },
  { what: 'svc.Z', q: 'svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: 'pod.Z', q: 'pod.cluster.local.', t: 'AAAA', rcode: 'NOERROR' },
  { what: 'pod.Z (pods disabled)', q: 'pod.cluster.local.', t: 'A', rcode: 'NOERROR', body: DISABLED },
  { what: 'pod.Z', q: 'pod.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: '<ns>.svc exposed', q: 'prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR' },
  { what: '<ns>.svc exposed', q: 'prod.svc.cluster.local.', t: 'MX', rcode: 'NOERROR' },
  { what: '<ns>.svc exposed', q: 'prod.svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: '<ns>.svc missing', q: 'nope.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { what: '<ns>.svc missing', q: 'nope.svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: '<ns>.svc not in namespaces', q: 'prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN', body: ONLY_DEFAULT },
  { what: '<ns>.pod exposed (insecure)', q: 'prod.pod.cluster.local.', t: 'A', rcode: 'NOERROR' },
  { what: '<ns>.pod exposed (verified)', q: 'prod.pod.cluster.local.', t: 'A', rcode: 'NOERROR', body: VERIFIED },
  { what: '<ns>.pod exposed', q: 'prod.pod.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: '<ns>.pod, pods disabled', q: 'prod.pod.cluster.local.', t: 'A', rcode: 'NXDOMAIN', body: DISABLED },
  { what: '<ns>.pod missing ns', q: 'nope.pod.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { what: 'service with records', q: 'lonely.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', positive: true },
  { what: 'service with records', q: 'lonely.prod.svc.cluster.local.', t: 'TXT', rcode: 'NOERROR' },
  { what: 'service, other family', q: 'lonely.prod.svc.cluster.local.', t: 'AAAA', rcode: 'NOERROR' },
  { what: 'service, SRV port-less', q: 'workers.prod.svc.cluster.local.', t: 'SRV', rcode: 'NOERROR' },
  { what: 'service, SRV on ExternalName', q: 'ext.prod.svc.cluster.local.', t: 'SRV', rcode: 'NOERROR' },
  { what: 'service, MX', q: 'db.prod.svc.cluster.local.', t: 'MX', rcode: 'NOERROR' },
  { what: 'service, CNAME on ClusterIP', q: 'lonely.prod.svc.cluster.local.', t: 'CNAME', rcode: 'NOERROR' },
  { what: 'service, CNAME on headless', q: 'db.prod.svc.cluster.local.', t: 'CNAME', rcode: 'NOERROR' },
  { what: 'service, PTR on a forward name', q: 'web.prod.svc.cluster.local.', t: 'PTR', rcode: 'NOERROR' },
  { what: 'ExternalName TXT (no CNAME)', q: 'ext.prod.svc.cluster.local.', t: 'TXT', rcode: 'NOERROR' },
  { what: 'headless, no ready endpoints', q: 'empty.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { what: 'headless, no ready endpoints', q: 'empty.prod.svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: 'headless, no ready endpoints', q: 'empty.prod.svc.cluster.local.', t: 'HINFO', rcode: 'NXDOMAIN' },
  { what: 'ClusterIP w/o endpoints + ignore empty_service', q: 'lonely.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN', body: IGNORE },
  { what: 'ClusterIP w/o endpoints + ignore empty_service', q: 'lonely.prod.svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN', body: IGNORE },
  { what: 'ClusterIP with endpoints + ignore empty_service', q: 'web.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', positive: true, body: IGNORE },
  { what: 'no such service', q: 'nosuch.prod.svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: 'no such service', q: 'nosuch.prod.svc.cluster.local.', t: 'SRV', rcode: 'NXDOMAIN' },
  { what: 'ExternalName in-zone target, nothing', q: 'dangling.prod.svc.cluster.local.', t: 'TXT', rcode: 'NOERROR' },
  { what: 'ExternalName in-zone target, nothing', q: 'dangling.prod.svc.cluster.local.', t: 'AAAA', rcode: 'NOERROR' },
  { what: 'endpoint name', q: 'db-1.db.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', positive: true },
  { what: 'endpoint name other family', q: 'db-1.db.prod.svc.cluster.local.', t: 'AAAA', rcode: 'NOERROR' },
  { what: 'endpoint name SRV', q: 'db-1.db.prod.svc.cluster.local.', t: 'SRV', rcode: 'NOERROR', positive: true },
  { what: 'endpoint name TXT', q: 'db-1.db.prod.svc.cluster.local.', t: 'TXT', rcode: 'NOERROR' },
  { what: 'endpoint name of a ClusterIP service', q: '10-244-1-20.web.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', positive: true },
  { what: 'no endpoint with that label', q: 'db-9.db.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { what: 'no endpoint with that label', q: 'db-9.db.prod.svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: 'ExternalName sub-name', q: 'x.ext.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { what: 'ExternalName port sub-name', q: '_http._tcp.ext.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { what: '_p._t no port', q: '_nope._tcp.web.prod.svc.cluster.local.', t: 'SRV', rcode: 'NXDOMAIN' },
  { what: '_p._t no port', q: '_nope._tcp.web.prod.svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: '_p._t A → ClusterIP (quirk)', q: '_http._tcp.web.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', positive: true },
  { what: 'x.Z', q: 'foo.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: 'dns-version.Z not TXT', q: 'dns-version.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { what: 'dns-version.Z TXT', q: 'dns-version.cluster.local.', t: 'TXT', rcode: 'NOERROR', positive: true },
  { what: 'ns not in namespaces', q: 'web.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN', body: ONLY_DEFAULT },
  { what: 'ns not in namespaces', q: 'web.prod.svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN', body: ONLY_DEFAULT },
  { what: '3 extra labels', q: 'a.b.c.web.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { what: '3 extra labels', q: 'a.b.c.web.prod.svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { what: 'noendpoints: headless', q: 'db.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN', body: NOEP },
  { what: 'noendpoints: endpoint name', q: 'db-0.db.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN', body: NOEP },
  { what: 'noendpoints: endpoint PTR', q: '5.1.244.10.in-addr.arpa.', t: 'PTR', rcode: 'NXDOMAIN', body: NOEP },
  { what: 'noendpoints: ClusterIP still answers', q: 'web.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', positive: true, body: NOEP },
  { what: 'reverse zone, non-PTR', q: '5.1.244.10.in-addr.arpa.', t: 'A', rcode: 'NXDOMAIN', body: NOEP },
  { what: 'svc.<reverse zone> (quirk)', q: 'svc.in-addr.arpa.', t: 'A', rcode: 'NOERROR', body: NOEP },
  { what: 'partial reverse name', q: '0.10.in-addr.arpa.', t: 'PTR', rcode: 'NXDOMAIN', body: NOEP },
  { what: 'reverse apex PTR', q: 'in-addr.arpa.', t: 'PTR', rcode: 'NOERROR', body: NOEP },
  { what: 'SOA on a missing name (quirk)', q: 'nosuch.prod.svc.cluster.local.', t: 'SOA', rcode: 'NOERROR' },
  { what: 'NS below the apex', q: 'web.prod.svc.cluster.local.', t: 'NS', rcode: 'NOERROR' },
  { what: 'NS below the apex, missing', q: 'nosuch.prod.svc.cluster.local.', t: 'NS', rcode: 'NXDOMAIN' },
]

const cache = new Map<string, ReturnType<typeof build>>()
function built(body: string): ReturnType<typeof build> {
  let b = cache.get(body)
  if (b === undefined) cache.set(body, (b = build(body)))
  return b
}

for (const r of table) {
  test(`§10.1 ${r.what}: ${r.q} ${r.t} → ${r.rcode}${r.positive ? ' (records)' : ''}`, async () => {
    const a = await ask(built(r.body ?? STOCK), r.q, r.t)
    assert.equal(a.rcode, r.rcode)
    assert.equal(a.aa, true)
    if (r.positive === true) {
      assert.ok(a.an.length > 0, 'expected records')
      assert.deepEqual(a.ns, [])
    } else {
      assert.deepEqual(a.an, [])
      assert.equal(a.ns.length, 1)
      assert.match(a.ns[0]!, / SOA ns\.dns\./)
    }
  })
}

test('fallthrough applies to NXDOMAIN only, under its zones', async () => {
  const b = build(STOCK.replace('fallthrough in-addr.arpa ip6.arpa', 'fallthrough'))
  assert.equal((await ask(b, 'nosuch.prod.svc.cluster.local.', 'A')).nextCalls, 1)
  const nodata = await ask(b, 'kubernetes.default.svc.cluster.local.', 'AAAA')
  assert.equal(nodata.nextCalls, 0)
  assert.equal(nodata.rcode, 'NOERROR')
  const stock = build()
  const nx = await ask(stock, 'nosuch.prod.svc.cluster.local.', 'A')
  assert.equal(nx.nextCalls, 0)
  assert.equal(nx.rcode, 'NXDOMAIN')
  // fallthrough is checked before the not-synced SERVFAIL
  const unsynced = build(STOCK, { view: fixtureView({ synced: false }) })
  assert.equal((await ask(unsynced, '9.9.9.10.in-addr.arpa.', 'PTR')).nextCalls, 1)
})

test('names outside the plugin zones go to the next plugin', async () => {
  const a = await ask(build(), 'example.org.', 'A')
  assert.equal(a.nextCalls, 1)
})

test('AXFR and IXFR are refused without writing', async () => {
  const b = build()
  for (const t of ['AXFR', 'IXFR'] as const) {
    const a = await ask(b, 'cluster.local.', t)
    assert.equal(a.returned, Rcode.Refused)
    assert.equal(a.plugin, null, 'the plugin writes nothing')
    assert.equal(a.rcode, 'REFUSED')
  }
})

test('RD is copied (off stays off), AA set, RA never set', async () => {
  const b = build()
  for (const t of ['A', 'AAAA', 'SRV', 'TXT'] as const) {
    const a = await ask(b, 'web.prod.svc.cluster.local.', t, { rd: false })
    assert.equal(a.rd, false)
    assert.equal(a.aa, true)
    assert.equal(a.ra, false)
  }
})

test('letter case: answers keep the client spelling; zone part too (SOA owner, SRV targets)', async () => {
  const b = build()
  const neg = await ask(b, 'NoSuch.prod.svc.Cluster.Local.', 'A')
  assert.equal(neg.rcode, 'NXDOMAIN')
  assert.deepEqual(neg.ns, ['Cluster.Local. 30 SOA ns.dns.Cluster.Local. hostmaster.Cluster.Local. 1700000000 7200 1800 86400 30'])
  const srv = await ask(b, '_HTTPS._TCP.kubernetes.default.svc.Cluster.local.', 'SRV')
  assert.deepEqual(srv.an, ['_HTTPS._TCP.kubernetes.default.svc.Cluster.local. 30 SRV 0 100 443 kubernetes.default.svc.Cluster.local.'])
  const soa = await ask(b, 'CLUSTER.local.', 'SOA')
  assert.deepEqual(soa.an, ['CLUSTER.local. 30 SOA ns.dns.CLUSTER.local. hostmaster.CLUSTER.local. 1700000000 7200 1800 86400 30'])
})

test('QUIRK letter case: Z NS with upper case in the zone is NODATA; ns.dns.<Zone> is NXDOMAIN', async () => {
  const b = build()
  const ns = await ask(b, 'Cluster.local.', 'NS')
  assert.equal(ns.rcode, 'NOERROR')
  assert.deepEqual(ns.an, [])
  const nsdns = await ask(b, 'ns.dns.Cluster.local.', 'A')
  assert.equal(nsdns.rcode, 'NXDOMAIN')
  const upper = await ask(b, 'NS.DNS.cluster.local.', 'A')
  assert.deepEqual(upper.an, ['NS.DNS.cluster.local. 30 A 10.96.0.10'])
})

test('ns.dns.Z: name-server addresses; fallback to own addresses; empty list → NODATA', async () => {
  const a = await ask(build(), 'ns.dns.cluster.local.', 'A')
  assert.deepEqual(a.an, ['ns.dns.cluster.local. 30 A 10.96.0.10'])
  const outside = build(STOCK, { localIPs: ['192.0.2.1', 'fd00::53'] })
  assert.deepEqual((await ask(outside, 'ns.dns.cluster.local.', 'A')).an, ['ns.dns.cluster.local. 30 A 192.0.2.1'])
  assert.deepEqual((await ask(outside, 'ns.dns.cluster.local.', 'AAAA')).an, ['ns.dns.cluster.local. 30 AAAA fd00::53'])
  const ns = await ask(outside, 'cluster.local.', 'NS')
  assert.deepEqual(ns.an, ['cluster.local. 30 NS ns.dns.cluster.local.'])
  assert.deepEqual(ns.ar, ['ns.dns.cluster.local. 30 A 192.0.2.1', 'ns.dns.cluster.local. 30 AAAA fd00::53'])
  const none = build(STOCK, { localIPs: [] })
  const e = await ask(none, 'ns.dns.cluster.local.', 'A')
  assert.equal(e.rcode, 'NOERROR')
  assert.deepEqual(e.an, [])
  assert.equal((await ask(none, 'ns.dns.cluster.local.', 'TXT')).rcode, 'NXDOMAIN')
})

test('headless name server: NS names are the endpoint names of the slice', async () => {
  const view = new MemoryView({
    namespaces: ['kube-system'],
    services: [svc('kube-system', 'dns', { headless: true, ports: [port('dns', 'UDP', 53)] })],
    slices: [slice('kube-system', 'dns-1', 'dns', [ep(['10.0.0.5'], { hostname: 'a' }), ep(['10.0.0.6'])], [port('dns', 'UDP', 53)])],
  })
  const a = await ask(build(STOCK, { view, localIPs: ['10.0.0.5'] }), 'cluster.local.', 'NS')
  assert.deepEqual(a.an, ['cluster.local. 30 NS a.dns.kube-system.svc.cluster.local.', 'cluster.local. 30 NS 10-0-0-6.dns.kube-system.svc.cluster.local.'])
  assert.deepEqual(a.ar, ['a.dns.kube-system.svc.cluster.local. 30 A 10.0.0.5', '10-0-0-6.dns.kube-system.svc.cluster.local. 30 A 10.0.0.6'])
})

test('QUIRK pod names: one or two labels left of the pod label are ignored; three are NXDOMAIN', async () => {
  const b = build()
  assert.deepEqual((await ask(b, 'x.10-0-0-1.prod.pod.cluster.local.', 'A')).an, ['x.10-0-0-1.prod.pod.cluster.local. 30 A 10.0.0.1'])
  assert.deepEqual((await ask(b, 'x.y.10-0-0-1.prod.pod.cluster.local.', 'A')).an, ['x.y.10-0-0-1.prod.pod.cluster.local. 30 A 10.0.0.1'])
  assert.equal((await ask(b, 'x.y.z.10-0-0-1.prod.pod.cluster.local.', 'A')).rcode, 'NXDOMAIN')
})

test('pod IP decoding is strict (Go net.ParseIP); IPv4-mapped counts as IPv4', async () => {
  const b = build()
  for (const bad of ['256-1-1-1', '1-2-3', '010-240-000-001', 'abc', '1-2-3-4-5']) {
    assert.equal((await ask(b, `${bad}.prod.pod.cluster.local.`, 'A')).rcode, 'NXDOMAIN', bad)
  }
  const mapped = await ask(b, '--ffff-a00-1.prod.pod.cluster.local.', 'A')
  assert.deepEqual(mapped.an, ['--ffff-a00-1.prod.pod.cluster.local. 30 A 10.0.0.1'])
  const mapped6 = await ask(b, '--ffff-a00-1.prod.pod.cluster.local.', 'AAAA')
  assert.equal(mapped6.rcode, 'NOERROR')
  assert.deepEqual(mapped6.an, [])
  assert.equal((await ask(b, '10-0-0-1.prod.pod.cluster.local.', 'AAAA')).an.length, 0)
})

test('pods verified compares the decoded label with status.podIP as text', async () => {
  const b = build(STOCK.replace('pods insecure', 'pods verified'))
  assert.deepEqual((await ask(b, 'fd00--5.prod.pod.cluster.local.', 'AAAA')).an, ['fd00--5.prod.pod.cluster.local. 30 AAAA fd00::5'])
  assert.equal((await ask(b, 'fd00-0-0-0-0-0-0-5.prod.pod.cluster.local.', 'AAAA')).rcode, 'NXDOMAIN')
})

test('QUIRK SRV on a pod name gives port 0', async () => {
  const a = await ask(build(), '10-0-0-1.prod.pod.cluster.local.', 'SRV')
  assert.deepEqual(a.an, ['10-0-0-1.prod.pod.cluster.local. 30 SRV 0 100 0 10-0-0-1.prod.pod.cluster.local.'])
  assert.deepEqual(a.ar, ['10-0-0-1.prod.pod.cluster.local. 30 A 10.0.0.1'])
})

test('headless A/AAAA dedup across slices, dual stack, IPv6 endpoint labels', async () => {
  const view = new MemoryView({
    namespaces: ['ns'],
    services: [svc('ns', 'h', { headless: true, ports: [port('p', 'TCP', 80), port('q', 'TCP', 81)] })],
    slices: [
      slice('ns', 'h-v4', 'h', [ep(['10.0.0.1']), ep(['10.0.0.2'])], [port('p', 'TCP', 80), port('q', 'TCP', 81)]),
      slice('ns', 'h-mirror', 'h', [ep(['10.0.0.1'])], [port('p', 'TCP', 80), port('q', 'TCP', 81)]),
      slice('ns', 'h-v6', 'h', [ep(['fd00::9']), ep(['fd00::'])], [port('p', 'TCP', 80)], 'IPv6'),
      slice('ns', 'stray', '', [ep(['10.0.0.99'])], [port('p', 'TCP', 80)]),
    ],
  })
  const b = build(STOCK, { view })
  assert.deepEqual((await ask(b, 'h.ns.svc.cluster.local.', 'A')).an, ['h.ns.svc.cluster.local. 30 A 10.0.0.1', 'h.ns.svc.cluster.local. 30 A 10.0.0.2'])
  assert.deepEqual((await ask(b, 'h.ns.svc.cluster.local.', 'AAAA')).an, ['h.ns.svc.cluster.local. 30 AAAA fd00::9', 'h.ns.svc.cluster.local. 30 AAAA fd00::'])
  assert.deepEqual((await ask(b, 'fd00-244--9.h.ns.svc.cluster.local.', 'AAAA')).an, [])
  assert.deepEqual((await ask(b, 'fd00--9.h.ns.svc.cluster.local.', 'AAAA')).an, ['fd00--9.h.ns.svc.cluster.local. 30 AAAA fd00::9'])
  assert.deepEqual((await ask(b, 'fd00--0.h.ns.svc.cluster.local.', 'AAAA')).an, ['fd00--0.h.ns.svc.cluster.local. 30 AAAA fd00::'])
  // SRV: candidates 2x2 + 1x2 (mirror) + 2x1 = 8 → weight floor(100/8) = 12; dedup by (target, port)
  const srv = await ask(b, 'h.ns.svc.cluster.local.', 'SRV')
  assert.deepEqual(srv.an, [
    'h.ns.svc.cluster.local. 30 SRV 0 12 80 10-0-0-1.h.ns.svc.cluster.local.',
    'h.ns.svc.cluster.local. 30 SRV 0 12 81 10-0-0-1.h.ns.svc.cluster.local.',
    'h.ns.svc.cluster.local. 30 SRV 0 12 80 10-0-0-2.h.ns.svc.cluster.local.',
    'h.ns.svc.cluster.local. 30 SRV 0 12 81 10-0-0-2.h.ns.svc.cluster.local.',
    'h.ns.svc.cluster.local. 30 SRV 0 12 80 fd00--9.h.ns.svc.cluster.local.',
    'h.ns.svc.cluster.local. 30 SRV 0 12 80 fd00--0.h.ns.svc.cluster.local.',
  ])
  assert.deepEqual(srv.ar, [
    '10-0-0-1.h.ns.svc.cluster.local. 30 A 10.0.0.1',
    '10-0-0-2.h.ns.svc.cluster.local. 30 A 10.0.0.2',
    'fd00--9.h.ns.svc.cluster.local. 30 AAAA fd00::9',
    'fd00--0.h.ns.svc.cluster.local. 30 AAAA fd00::',
  ])
  // a slice without the service-name label belongs to no service, and gives no PTR
  assert.equal((await ask(b, '99.0.0.10.in-addr.arpa.', 'PTR')).nextCalls, 1)
})

test('endpoint SRV uses the slice port, also for ClusterIP services (443 → 6443)', async () => {
  const a = await ask(build(), '172-18-0-2.kubernetes.default.svc.cluster.local.', 'SRV')
  assert.deepEqual(a.an, ['172-18-0-2.kubernetes.default.svc.cluster.local. 30 SRV 0 100 6443 172-18-0-2.kubernetes.default.svc.cluster.local.'])
  const two = await ask(build(), '10-244-1-20.web.prod.svc.cluster.local.', 'SRV')
  assert.deepEqual(two.an.map((s) => s.split(' ').slice(3, 6).join(' ')), ['0 50 8080', '0 50 8081'])
  assert.equal(two.ar.length, 1)
})

test('PTR: a pod behind two services gets two PTRs; identical targets are deduplicated; namespaces filter', async () => {
  const view = new MemoryView({
    namespaces: ['a', 'b'],
    services: [svc('a', 's1', { headless: true }), svc('a', 's2', { headless: true }), svc('b', 's3', { headless: true })],
    slices: [
      slice('a', 's1-1', 's1', [ep(['10.1.1.1'], { hostname: 'h' })]),
      slice('a', 's1-2', 's1', [ep(['10.1.1.1'], { hostname: 'h' })]),
      slice('a', 's2-1', 's2', [ep(['10.1.1.1'])]),
      slice('b', 's3-1', 's3', [ep(['10.1.1.2'])]),
    ],
  })
  const a = await ask(build(STOCK, { view }), '1.1.1.10.in-addr.arpa.', 'PTR')
  assert.deepEqual(a.an, ['1.1.1.10.in-addr.arpa. 30 PTR h.s1.a.svc.cluster.local.', '1.1.1.10.in-addr.arpa. 30 PTR 10-1-1-1.s2.a.svc.cluster.local.'])
  const only = build(STOCK.replace('ttl 30', 'ttl 30\n  namespaces a'), { view })
  assert.equal((await ask(only, '2.1.1.10.in-addr.arpa.', 'PTR')).nextCalls, 1)
  assert.equal((await ask(build(STOCK, { view }), '2.1.1.10.in-addr.arpa.', 'PTR')).an.length, 1)
})

test('PTR targets use the primary zone; ip6.arpa names; CIDR reverse zones', async () => {
  const b = build('kubernetes 10.96.0.0/16 cluster.local {\n  ttl 30\n}')
  const a = await ask(b, '1.0.96.10.in-addr.arpa.', 'PTR')
  assert.deepEqual(a.an, ['1.0.96.10.in-addr.arpa. 30 PTR kubernetes.default.svc.cluster.local.'])
  const rev6 = '0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa.'
  const v6 = await ask(build(), rev6, 'PTR')
  assert.deepEqual(v6.an, [`${rev6} 30 PTR web.prod.svc.cluster.local.`])
  // QUIRK: up to three labels left of the 32 nibbles are ignored (CoreDNS ExtractAddressFromReverse)
  assert.equal((await ask(build(), `x.${rev6}`, 'PTR')).an.length, 1)
  assert.equal((await ask(build(), rev6.slice(2), 'PTR')).nextCalls, 1, '31 nibbles: not an address (NXDOMAIN → fallthrough)')
  // outside the plugin's zones: next plugin
  assert.equal((await ask(b, '1.0.97.10.in-addr.arpa.', 'PTR')).nextCalls, 1)
})

test('ttl option applies to every record; SOA ttl is min(ttl, 300), MINIMUM = ttl', async () => {
  const b = build('kubernetes cluster.local {\n  ttl 3600\n}')
  assert.deepEqual((await ask(b, 'kubernetes.default.svc.cluster.local.', 'A')).an, ['kubernetes.default.svc.cluster.local. 3600 A 10.96.0.1'])
  assert.deepEqual((await ask(b, 'cluster.local.', 'SOA')).an, ['cluster.local. 300 SOA ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 3600'])
  const d = build('kubernetes cluster.local')
  assert.deepEqual((await ask(d, 'kubernetes.default.svc.cluster.local.', 'A')).an, ['kubernetes.default.svc.cluster.local. 5 A 10.96.0.1'])
  assert.deepEqual((await ask(d, 'dns-version.cluster.local.', 'TXT')).an, ['dns-version.cluster.local. 28800 TXT "1.1.0"'])
})

test('wildcards are literals', async () => {
  const b = build()
  for (const q of ['*.db.prod.svc.cluster.local.', 'any.prod.svc.cluster.local.', '_*._tcp.web.prod.svc.cluster.local.', 'web.*.svc.cluster.local.']) {
    assert.equal((await ask(b, q, q.startsWith('_') ? 'SRV' : 'A')).rcode, 'NXDOMAIN', q)
  }
})

function reply(name: string, type: number, o: { tc?: boolean; rcode?: number; answer?: boolean } = {}): Buffer {
  return encodeMessage({
    id: 1,
    flags: Flag.QR | (o.tc === true ? Flag.TC : 0) | (o.rcode ?? 0),
    question: [{ name, type, class: Class.IN }],
    answer: o.answer === false ? [] : [{ name, type: Type.A, class: Class.IN, ttl: 60, data: '192.0.2.7' }],
    authority: [],
    additional: [],
    edns: null,
  })
}

test('ExternalName outside the zone: subquery through the server; TC propagated; no message → NODATA', async () => {
  const b = build()
  const tc = await ask(b, 'ext.prod.svc.cluster.local.', 'A', { subquery: (n, t) => Promise.resolve(reply(n, t, { tc: true })) })
  assert.equal(tc.tc, true)
  assert.deepEqual(tc.an, ['ext.prod.svc.cluster.local. 30 CNAME api.example.com.', 'api.example.com. 60 A 192.0.2.7'])
  const nx = await ask(b, 'ext.prod.svc.cluster.local.', 'A', { subquery: (n, t) => Promise.resolve(reply(n, t, { rcode: Rcode.NXDomain, answer: false })) })
  assert.equal(nx.rcode, 'NOERROR')
  assert.deepEqual(nx.an, ['ext.prod.svc.cluster.local. 30 CNAME api.example.com.'])
  const none = await ask(b, 'ext.prod.svc.cluster.local.', 'A', { subquery: () => Promise.resolve(null) })
  assert.equal(none.rcode, 'NOERROR')
  assert.deepEqual(none.an, [])
  assert.equal(none.ns.length, 1)
  // the HINFO existence probe never looks outside
  const req: string[] = []
  const probe = await ask(b, 'ext.prod.svc.cluster.local.', 'HINFO', { subquery: (n) => (req.push(n), Promise.resolve(null)) })
  assert.equal(probe.rcode, 'NOERROR')
  assert.deepEqual(req, [])
})

test('ExternalName: IP literal → NXDOMAIN; loops and chains longer than 11 links give NODATA', async () => {
  const chain = (n: number): MemoryView => {
    const services = [...FIXTURE_SERVICES, svc('prod', 'ip', { externalName: '192.0.2.1' }), svc('prod', 'self', { externalName: 'x.self.prod.svc.cluster.local' })]
    for (let i = 0; i < n; i++) services.push(svc('prod', `c${i}`, { externalName: i === n - 1 ? 'lonely.prod.svc.cluster.local' : `c${i + 1}.prod.svc.cluster.local` }))
    services.push(svc('prod', 'loop-a', { externalName: 'loop-b.prod.svc.cluster.local' }), svc('prod', 'loop-b', { externalName: 'loop-a.prod.svc.cluster.local' }))
    return new MemoryView({ namespaces: FIXTURE_NAMESPACES, services, slices: FIXTURE_SLICES })
  }
  const b11 = build(STOCK, { view: chain(11) })
  assert.equal((await ask(b11, 'ip.prod.svc.cluster.local.', 'A')).rcode, 'NXDOMAIN')
  assert.deepEqual((await ask(b11, 'self.prod.svc.cluster.local.', 'A')).an, [])
  const ok = await ask(b11, 'c0.prod.svc.cluster.local.', 'A')
  assert.equal(ok.an.length, 12)
  assert.equal(ok.an[11], 'lonely.prod.svc.cluster.local. 30 A 10.96.10.30')
  const b12 = build(STOCK, { view: chain(12) })
  const long = await ask(b12, 'c0.prod.svc.cluster.local.', 'A')
  assert.equal(long.rcode, 'NOERROR')
  assert.deepEqual(long.an, [])
  const loop = await ask(b12, 'loop-a.prod.svc.cluster.local.', 'A')
  assert.equal(loop.rcode, 'NOERROR')
  assert.deepEqual(loop.an, [])
})

test('EDNS: the fast paths add an OPT echoing size and DO', async () => {
  const b = build()
  for (const q of ['kubernetes.default.svc.cluster.local.', 'nosuch.prod.svc.cluster.local.']) {
    const a = await ask(b, q, 'A', { ednsSize: 4096, do: true })
    assert.ok(a.msg?.edns)
    assert.equal(a.msg.edns.udpSize, 4096)
    assert.equal(a.msg.edns.flags & 0x8000, 0x8000)
  }
})

test('counters count answers, NXDOMAIN, NODATA', async () => {
  const b = build()
  await ask(b, 'kubernetes.default.svc.cluster.local.', 'A')
  await ask(b, 'nosuch.prod.svc.cluster.local.', 'A')
  await ask(b, 'prod.svc.cluster.local.', 'A')
  assert.equal(b.h.counters.requests, 3)
  assert.equal(b.h.counters.answers, 1)
  assert.equal(b.h.counters.nxdomain, 1)
  assert.equal(b.h.counters.nodata, 1)
})

test('in-cluster answers are synchronous (no Promise) unless an outside ExternalName target is resolved', async () => {
  const b = build()
  for (const [q, t] of [
    ['kubernetes.default.svc.cluster.local.', 'A'],
    ['web.prod.svc.cluster.local.', 'AAAA'],
    ['nosuch.prod.svc.cluster.local.', 'A'],
    ['_pg._tcp.db.prod.svc.cluster.local.', 'SRV'],
    ['alias.prod.svc.cluster.local.', 'A'],
    ['5.1.244.10.in-addr.arpa.', 'PTR'],
  ] as const) {
    const r = runSync(b.h, makeRequest(q, t))
    assert.equal(r.rcode, 0, q)
    assert.ok(r.w.written, q)
  }
  const ext = b.h.serve(makeRequest('ext.prod.svc.cluster.local.', 'A'), new RecordingWriter(makeRequest('x.', 'A')))
  assert.equal(typeof ext, 'object')
  await ext
})
