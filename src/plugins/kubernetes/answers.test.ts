// Every worked example of kubernetes-dns.md §15 (#1-#47), driven through the handler against the
// fixture cluster (testdata.ts) with the stock Corefile options.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Class, Flag, Type } from '../../dns/constants.js'
import { encodeMessage } from '../../dns/message.js'
import { ask, build, STOCK, type Built } from './testutil.js'
import { fixtureView, FIXTURE_SERIAL } from './testdata.js'
import { EMPTY_VIEW } from './empty-view.js'

const SOA = `cluster.local. 30 SOA ns.dns.cluster.local. hostmaster.cluster.local. ${FIXTURE_SERIAL} 7200 1800 86400 30`
const REV_SOA = `in-addr.arpa. 30 SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. ${FIXTURE_SERIAL} 7200 1800 86400 30`

/** An upstream reply for ExternalName targets outside the zone (what `forward` would return). */
function upstream(name: string, type: number, tc = false): Promise<Buffer | null> {
  const answer =
    type === Type.A
      ? [{ name, type: Type.A, class: Class.IN, ttl: 300, data: '93.184.216.34' }]
      : [{ name, type: Type.AAAA, class: Class.IN, ttl: 300, data: '2606:2800:220:1::1' }]
  return Promise.resolve(
    encodeMessage({ id: 1, flags: Flag.QR | Flag.RD | Flag.RA | (tc ? Flag.TC : 0), question: [{ name, type, class: Class.IN }], answer, authority: [], additional: [], edns: null }),
  )
}

interface Row {
  n: string
  q: string
  t: keyof typeof Type
  rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL'
  an?: string[]
  /** default: [] for answers, [SOA] for negatives */
  ns?: string[]
  ar?: string[]
  body?: string
  /** answered by the next plugin (fallthrough) */
  next?: boolean
  b?: () => Built
}

const rows: Row[] = [
  { n: '#1', q: 'kubernetes.default.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['kubernetes.default.svc.cluster.local. 30 A 10.96.0.1'] },
  { n: '#2', q: 'kubernetes.default.svc.cluster.local.', t: 'AAAA', rcode: 'NOERROR', an: [] },
  { n: '#3a', q: 'web.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['web.prod.svc.cluster.local. 30 A 10.96.10.20'] },
  { n: '#3b', q: 'web.prod.svc.cluster.local.', t: 'AAAA', rcode: 'NOERROR', an: ['web.prod.svc.cluster.local. 30 AAAA fd00:96::20'] },
  {
    n: '#4',
    q: '_http._tcp.web.prod.svc.cluster.local.',
    t: 'SRV',
    rcode: 'NOERROR',
    an: ['_http._tcp.web.prod.svc.cluster.local. 30 SRV 0 50 80 web.prod.svc.cluster.local.'],
    ar: ['web.prod.svc.cluster.local. 30 A 10.96.10.20', 'web.prod.svc.cluster.local. 30 AAAA fd00:96::20'],
  },
  {
    n: '#5',
    q: 'web.prod.svc.cluster.local.',
    t: 'SRV',
    rcode: 'NOERROR',
    an: ['web.prod.svc.cluster.local. 30 SRV 0 25 80 web.prod.svc.cluster.local.', 'web.prod.svc.cluster.local. 30 SRV 0 25 8080 web.prod.svc.cluster.local.'],
    ar: ['web.prod.svc.cluster.local. 30 A 10.96.10.20', 'web.prod.svc.cluster.local. 30 AAAA fd00:96::20'],
  },
  { n: '#6', q: '_http._udp.web.prod.svc.cluster.local.', t: 'SRV', rcode: 'NXDOMAIN' },
  {
    n: '#7',
    q: '_https._tcp.kubernetes.default.svc.cluster.local.',
    t: 'SRV',
    rcode: 'NOERROR',
    an: ['_https._tcp.kubernetes.default.svc.cluster.local. 30 SRV 0 100 443 kubernetes.default.svc.cluster.local.'],
    ar: ['kubernetes.default.svc.cluster.local. 30 A 10.96.0.1'],
  },
  { n: '#8', q: 'db.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['db.prod.svc.cluster.local. 30 A 10.244.1.5', 'db.prod.svc.cluster.local. 30 A 10.244.2.7'] },
  { n: '#9', q: 'db-0.db.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['db-0.db.prod.svc.cluster.local. 30 A 10.244.1.5'] },
  { n: '#10', q: 'db-2.db.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  {
    n: '#11',
    q: '_pg._tcp.db.prod.svc.cluster.local.',
    t: 'SRV',
    rcode: 'NOERROR',
    an: ['_pg._tcp.db.prod.svc.cluster.local. 30 SRV 0 50 5432 db-0.db.prod.svc.cluster.local.', '_pg._tcp.db.prod.svc.cluster.local. 30 SRV 0 50 5432 db-1.db.prod.svc.cluster.local.'],
    ar: ['db-0.db.prod.svc.cluster.local. 30 A 10.244.1.5', 'db-1.db.prod.svc.cluster.local. 30 A 10.244.2.7'],
  },
  { n: '#12', q: 'workers.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['workers.prod.svc.cluster.local. 30 A 10.244.1.8', 'workers.prod.svc.cluster.local. 30 A 10.244.2.9'] },
  { n: '#13', q: '10-244-1-8.workers.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['10-244-1-8.workers.prod.svc.cluster.local. 30 A 10.244.1.8'] },
  { n: '#14a', q: 'workers-7d9f-abc.workers.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  {
    n: '#14b (endpoint_pod_names)',
    q: 'workers-7d9f-abc.workers.prod.svc.cluster.local.',
    t: 'A',
    rcode: 'NOERROR',
    an: ['workers-7d9f-abc.workers.prod.svc.cluster.local. 30 A 10.244.1.8'],
    body: STOCK.replace('ttl 30', 'ttl 30\n  endpoint_pod_names'),
  },
  { n: '#15', q: 'workers.prod.svc.cluster.local.', t: 'SRV', rcode: 'NOERROR', an: [] },
  { n: '#16', q: 'ext.prod.svc.cluster.local.', t: 'CNAME', rcode: 'NOERROR', an: ['ext.prod.svc.cluster.local. 30 CNAME api.example.com.'] },
  { n: '#17', q: 'ext.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['ext.prod.svc.cluster.local. 30 CNAME api.example.com.', 'api.example.com. 300 A 93.184.216.34'] },
  { n: '#18', q: 'empty.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { n: '#19a', q: 'lonely.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['lonely.prod.svc.cluster.local. 30 A 10.96.10.30'] },
  { n: '#19b (ignore empty_service)', q: 'lonely.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN', body: STOCK.replace('ttl 30', 'ttl 30\n  ignore empty_service') },
  { n: '#20', q: 'nosuch.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { n: '#21', q: 'prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: [] },
  { n: '#22', q: 'nosuchns.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { n: '#23a', q: 'svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: [] },
  { n: '#23b', q: 'cluster.local.', t: 'A', rcode: 'NOERROR', an: [] },
  { n: '#24', q: 'cluster.local.', t: 'SOA', rcode: 'NOERROR', an: [SOA] },
  {
    n: '#25',
    q: 'cluster.local.',
    t: 'NS',
    rcode: 'NOERROR',
    an: ['cluster.local. 30 NS kube-dns.kube-system.svc.cluster.local.'],
    ar: ['kube-dns.kube-system.svc.cluster.local. 30 A 10.96.0.10'],
  },
  { n: '#25 (no own address)', q: 'cluster.local.', t: 'NS', rcode: 'NOERROR', an: [], b: () => build(STOCK, { localIPs: [] }) },
  { n: '#26', q: 'foo.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { n: '#27', q: 'dns-version.cluster.local.', t: 'TXT', rcode: 'NOERROR', an: ['dns-version.cluster.local. 28800 TXT "1.1.0"'] },
  { n: '#28a', q: 'web.prod.svc.cluster.local.', t: 'TXT', rcode: 'NOERROR', an: [] },
  { n: '#28b', q: 'web.prod.svc.cluster.local.', t: 'MX', rcode: 'NOERROR', an: [] },
  { n: '#28c', q: 'web.prod.svc.cluster.local.', t: 'HINFO', rcode: 'NOERROR', an: [] },
  { n: '#29', q: 'prod.svc.cluster.local.', t: 'TXT', rcode: 'NXDOMAIN' },
  { n: '#30', q: 'db-0.db.prod.svc.cluster.local.', t: 'SOA', rcode: 'NOERROR', an: [] },
  { n: '#31 (insecure)', q: '10-244-1-5.prod.pod.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['10-244-1-5.prod.pod.cluster.local. 30 A 10.244.1.5'] },
  { n: '#31 (verified, pod exists)', q: '10-244-1-5.prod.pod.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['10-244-1-5.prod.pod.cluster.local. 30 A 10.244.1.5'], body: STOCK.replace('pods insecure', 'pods verified') },
  { n: '#31 (verified, no such pod)', q: '10-244-9-9.prod.pod.cluster.local.', t: 'A', rcode: 'NXDOMAIN', body: STOCK.replace('pods insecure', 'pods verified') },
  { n: '#31 (verified, pod in another ns)', q: '10-244-1-5.default.pod.cluster.local.', t: 'A', rcode: 'NXDOMAIN', body: STOCK.replace('pods insecure', 'pods verified') },
  { n: '#31 (disabled)', q: '10-244-1-5.prod.pod.cluster.local.', t: 'A', rcode: 'NXDOMAIN', body: STOCK.replace('pods insecure', 'pods disabled') },
  { n: '#32', q: '1-2-3-4.nosuchns.pod.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { n: '#33', q: 'fd00--1.prod.pod.cluster.local.', t: 'AAAA', rcode: 'NOERROR', an: ['fd00--1.prod.pod.cluster.local. 30 AAAA fd00::1'] },
  { n: '#34', q: '1.0.96.10.in-addr.arpa.', t: 'PTR', rcode: 'NOERROR', an: ['1.0.96.10.in-addr.arpa. 30 PTR kubernetes.default.svc.cluster.local.'] },
  { n: '#35', q: '5.1.244.10.in-addr.arpa.', t: 'PTR', rcode: 'NOERROR', an: ['5.1.244.10.in-addr.arpa. 30 PTR db-0.db.prod.svc.cluster.local.'] },
  { n: '#36', q: '8.1.244.10.in-addr.arpa.', t: 'PTR', rcode: 'NOERROR', an: ['8.1.244.10.in-addr.arpa. 30 PTR 10-244-1-8.workers.prod.svc.cluster.local.'] },
  { n: '#37', q: '9.9.9.10.in-addr.arpa.', t: 'PTR', rcode: 'SERVFAIL', next: true },
  { n: '#38', q: '*.prod.svc.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
  { n: '#39 (not synced)', q: 'nosuch.prod.svc.cluster.local.', t: 'A', rcode: 'SERVFAIL', b: () => build(STOCK, { view: fixtureView({ synced: false }) }) },
  { n: '#39 (not started)', q: 'nosuch.prod.svc.cluster.local.', t: 'A', rcode: 'SERVFAIL', ns: [SOA.replace(String(FIXTURE_SERIAL), '0')], b: () => build(STOCK, { view: EMPTY_VIEW }) },
  { n: '#39 (not synced, NODATA stays NODATA)', q: 'kubernetes.default.svc.cluster.local.', t: 'AAAA', rcode: 'NOERROR', an: [], b: () => build(STOCK, { view: fixtureView({ synced: false }) }) },
  { n: '#40', q: 'KUBERNETES.Default.SVC.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['KUBERNETES.Default.SVC.cluster.local. 30 A 10.96.0.1'] },
  { n: '#41', q: 'db-0.db.prod.svc.cluster.local.', t: 'SRV', rcode: 'NOERROR', an: ['db-0.db.prod.svc.cluster.local. 30 SRV 0 100 5432 db-0.db.prod.svc.cluster.local.'], ar: ['db-0.db.prod.svc.cluster.local. 30 A 10.244.1.5'] },
  { n: '#42', q: '10-244-1-8.workers.prod.svc.cluster.local.', t: 'SRV', rcode: 'NOERROR', an: [] },
  { n: '#43', q: 'alias.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: ['alias.prod.svc.cluster.local. 30 CNAME lonely.prod.svc.cluster.local.', 'lonely.prod.svc.cluster.local. 30 A 10.96.10.30'] },
  { n: '#44', q: 'alias.prod.svc.cluster.local.', t: 'AAAA', rcode: 'NOERROR', an: [] },
  { n: '#45', q: 'dangling.prod.svc.cluster.local.', t: 'A', rcode: 'NOERROR', an: [] },
  {
    n: '#46',
    q: 'pg.tcp.db.prod.svc.cluster.local.',
    t: 'SRV',
    rcode: 'NOERROR',
    an: ['pg.tcp.db.prod.svc.cluster.local. 30 SRV 0 50 5432 db-0.db.prod.svc.cluster.local.', 'pg.tcp.db.prod.svc.cluster.local. 30 SRV 0 50 5432 db-1.db.prod.svc.cluster.local.'],
    ar: ['db-0.db.prod.svc.cluster.local. 30 A 10.244.1.5', 'db-1.db.prod.svc.cluster.local. 30 A 10.244.2.7'],
  },
  { n: '#47', q: '010-244-001-005.prod.pod.cluster.local.', t: 'A', rcode: 'NXDOMAIN' },
]

const stock = build()

for (const r of rows) {
  test(`§15 ${r.n}: ${r.q} ${r.t} → ${r.rcode}`, async () => {
    const b = r.b ? r.b() : r.body ? build(r.body) : stock
    const a = await ask(b, r.q, r.t, { subquery: upstream })
    if (r.next === true) {
      assert.equal(a.nextCalls, 1, 'expected the query to fall through to the next plugin')
      assert.equal(a.plugin, null)
      return
    }
    assert.equal(a.nextCalls, 0, 'must not call the next plugin')
    assert.equal(a.plugin, 'kubernetes')
    assert.equal(a.rcode, r.rcode)
    assert.equal(a.aa, true, 'AA')
    assert.equal(a.rd, true, 'RD copied')
    assert.equal(a.ra, false, 'RA not set')
    assert.equal(a.tc, false)
    assert.deepEqual(a.an, r.an ?? [])
    const negative = r.rcode !== 'NOERROR' || (r.an ?? []).length === 0
    const soa = r.q.endsWith('in-addr.arpa.') ? REV_SOA : SOA
    assert.deepEqual(a.ns, r.ns ?? (negative ? [soa] : []))
    assert.deepEqual(a.ar, r.ar ?? [])
  })
}
