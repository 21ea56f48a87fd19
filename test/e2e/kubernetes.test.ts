// kubernetes-dns.md §15 end to end: every worked example, asked with `dig` of a real server whose
// kubernetes plugin lists and watches the §15 cluster on the fake API server (stock Corefile
// options: pods insecure, fallthrough in-addr.arpa ip6.arpa, ttl 30), plus the option variants the
// table mentions, and zone transfers (§13) through `transfer`.
//
// The server blocks are bound to 127.0.0.1, so the server has no own non-loopback address: `Z NS`
// and `ns.dns.Z` are NODATA and AXFR carries no NS records (§8). Out-of-zone names (#17's
// api.example.com, #37's unknown PTR) go to `forward`, whose upstream is a second local server
// answering from templates.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dig, type DigRecord, type DigResult } from '../helpers/dig.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { freePort } from '../helpers/proc.js'
import { FakeApiServer } from '../fake-apiserver/server.js'
import { kubernetesDnsSpecFixture, namespace, service } from '../fake-apiserver/fixtures.js'
import { decodeReply, digAxfr, encodeQuery, kubeCorefile, pollUntil, tcpExchange, UdpDns } from '../helpers/kube.js'

const Z = 'cluster.local.'
const SOA_RE = (zone: string): RegExp => new RegExp(`^${zone.replace(/\./g, '\\.')} 30 SOA ns\\.dns\\.${zone.replace(/\./g, '\\.')} hostmaster\\.${zone.replace(/\./g, '\\.')} (\\d+) 7200 1800 86400 30$`)

const line = (r: DigRecord): string => `${r.name} ${r.ttl} ${r.type} ${r.data}`

interface Expect {
  status: string
  /** "name ttl TYPE data" (dig's presentation); compared as a set unless `ordered`. */
  answer?: string[]
  additional?: string[]
  /** 'soa' = exactly the SOA of `soaZone` (default cluster.local.); 'none' = empty. Default: 'soa' for NODATA/NXDOMAIN, 'none' otherwise. */
  authority?: 'soa' | 'none'
  soaZone?: string
  ordered?: boolean
  /** Default true: every plugin answer is authoritative. */
  aa?: boolean
}

let fixtureStart = 0

function check(r: DigResult, e: Expect): void {
  const ctx = `\n${r.raw}`
  assert.equal(r.status, e.status, `status${ctx}`)
  assert.equal(r.flags.includes('aa'), e.aa ?? true, `aa flag${ctx}`)
  assert.ok(r.flags.includes('qr'), `qr flag${ctx}`)
  assert.ok(r.flags.includes('rd'), `rd copied${ctx}`)
  if (e.aa !== false) assert.ok(!r.flags.includes('ra'), `ra must not be set by the plugin${ctx}`)
  const ans = r.answer.map(line)
  const want = e.answer ?? []
  if (e.ordered) assert.deepEqual(ans, want, `answer${ctx}`)
  else assert.deepEqual([...ans].sort(), [...want].sort(), `answer${ctx}`)
  assert.deepEqual(r.additional.map(line).sort(), [...(e.additional ?? [])].sort(), `additional${ctx}`)
  const auth = e.authority ?? (e.status === 'NOERROR' && want.length > 0 ? 'none' : e.status === 'NOERROR' || e.status === 'NXDOMAIN' || e.status === 'SERVFAIL' ? 'soa' : 'none')
  if (auth === 'none') assert.deepEqual(r.authority.map(line), [], `authority${ctx}`)
  else {
    assert.equal(r.authority.length, 1, `exactly one SOA in authority${ctx}`)
    const m = SOA_RE(e.soaZone ?? Z).exec(line(r.authority[0]!))
    assert.ok(m, `SOA of ${e.soaZone ?? Z} with TTL 30 and MINIMUM 30${ctx}`)
    const serial = Number(m[1])
    assert.ok(serial >= Math.floor(fixtureStart / 1000) - 5 && serial <= Date.now() / 1000 + 1, `serial ${serial} = time of the last change${ctx}`)
  }
}

const NODATA: Expect = { status: 'NOERROR' }
const NXDOMAIN: Expect = { status: 'NXDOMAIN' }

describe('kubernetes-dns.md §15 worked examples, with dig', () => {
  let api: FakeApiServer
  let stub: TestServer // forward's upstream: api.example.com A, any PTR below 10.in-addr.arpa
  let stock: TestServer // the stock Corefile options
  let variant: TestServer // pods verified, endpoint_pod_names, ignore empty_service
  let disabled: TestServer // pods disabled (plugin default)

  before(async () => {
    fixtureStart = Date.now()
    api = await new FakeApiServer({ bookmarkIntervalMs: 200 }).start()
    for (const o of kubernetesDnsSpecFixture()) api.create(o)
    stub = await startServer(
      [
        '.:0 {',
        '  bind 127.0.0.1',
        '  template IN A example.com {',
        '    answer "{{ .Name }} 60 IN A 192.0.2.10"',
        '    answer "{{ .Name }} 60 IN A 192.0.2.11"',
        '  }',
        '  template IN PTR 10.in-addr.arpa {',
        '    answer "{{ .Name }} 60 IN PTR upstream-ptr.example.com."',
        '  }',
        '}',
        '',
      ].join('\n'),
    )
    stock = await startServer(kubeCorefile(api.url, { extra: `  forward . 127.0.0.1:${stub.port}\n  transfer {\n    to *\n  }\n` }))
    variant = await startServer(kubeCorefile(api.url, { lines: ['pods verified', 'endpoint_pod_names', 'ignore empty_service', 'ttl 30'] }))
    disabled = await startServer(kubeCorefile(api.url, { lines: ['ttl 30'] }))
    for (const s of [stock, variant, disabled]) assert.ok(s.lines.some((l) => l.includes('Kubernetes API synced')), s.lines.join('\n'))
  })
  after(async () => {
    for (const s of [stock, variant, disabled, stub]) await s?.close()
    await api?.stop()
  })

  const q = (args: string[], s: () => TestServer = () => stock): Promise<DigResult> => dig(s().port, args)

  test('#1 kubernetes.default.svc.cluster.local A', async () => {
    check(await q(['kubernetes.default.svc.cluster.local', 'A']), { status: 'NOERROR', answer: ['kubernetes.default.svc.cluster.local. 30 A 10.96.0.1'] })
  })
  test('#2 kubernetes.default.svc.cluster.local AAAA → NODATA', async () => {
    check(await q(['kubernetes.default.svc.cluster.local', 'AAAA']), NODATA)
  })
  test('#3 web.prod.svc.cluster.local A / AAAA (dual stack)', async () => {
    check(await q(['web.prod.svc.cluster.local', 'A']), { status: 'NOERROR', answer: ['web.prod.svc.cluster.local. 30 A 10.96.10.20'] })
    check(await q(['web.prod.svc.cluster.local', 'AAAA']), { status: 'NOERROR', answer: ['web.prod.svc.cluster.local. 30 AAAA fd00:96::20'] })
  })
  test('#4 _http._tcp.web.prod.svc.cluster.local SRV: one SRV weight 50 + A, AAAA', async () => {
    check(await q(['_http._tcp.web.prod.svc.cluster.local', 'SRV']), {
      status: 'NOERROR',
      answer: ['_http._tcp.web.prod.svc.cluster.local. 30 SRV 0 50 80 web.prod.svc.cluster.local.'],
      additional: ['web.prod.svc.cluster.local. 30 A 10.96.10.20', 'web.prod.svc.cluster.local. 30 AAAA fd00:96::20'],
    })
  })
  test('#5 web.prod.svc.cluster.local SRV: all ports, weight 25 + A, AAAA', async () => {
    check(await q(['web.prod.svc.cluster.local', 'SRV']), {
      status: 'NOERROR',
      answer: ['web.prod.svc.cluster.local. 30 SRV 0 25 80 web.prod.svc.cluster.local.', 'web.prod.svc.cluster.local. 30 SRV 0 25 8080 web.prod.svc.cluster.local.'],
      additional: ['web.prod.svc.cluster.local. 30 A 10.96.10.20', 'web.prod.svc.cluster.local. 30 AAAA fd00:96::20'],
    })
  })
  test('#6 _http._udp.web.prod.svc.cluster.local SRV → NXDOMAIN', async () => {
    check(await q(['_http._udp.web.prod.svc.cluster.local', 'SRV']), NXDOMAIN)
  })
  test('#7 _https._tcp.kubernetes.default.svc.cluster.local SRV', async () => {
    check(await q(['_https._tcp.kubernetes.default.svc.cluster.local', 'SRV']), {
      status: 'NOERROR',
      answer: ['_https._tcp.kubernetes.default.svc.cluster.local. 30 SRV 0 100 443 kubernetes.default.svc.cluster.local.'],
      additional: ['kubernetes.default.svc.cluster.local. 30 A 10.96.0.1'],
    })
  })
  test('#8 db.prod.svc.cluster.local A: ready endpoints only (not db-2)', async () => {
    check(await q(['db.prod.svc.cluster.local', 'A']), { status: 'NOERROR', answer: ['db.prod.svc.cluster.local. 30 A 10.244.1.5', 'db.prod.svc.cluster.local. 30 A 10.244.2.7'] })
  })
  test('#9 db-0.db.prod.svc.cluster.local A', async () => {
    check(await q(['db-0.db.prod.svc.cluster.local', 'A']), { status: 'NOERROR', answer: ['db-0.db.prod.svc.cluster.local. 30 A 10.244.1.5'] })
  })
  test('#10 db-2.db.prod.svc.cluster.local A (not ready) → NXDOMAIN', async () => {
    check(await q(['db-2.db.prod.svc.cluster.local', 'A']), NXDOMAIN)
  })
  test('#11 _pg._tcp.db.prod.svc.cluster.local SRV', async () => {
    check(await q(['_pg._tcp.db.prod.svc.cluster.local', 'SRV']), {
      status: 'NOERROR',
      answer: ['_pg._tcp.db.prod.svc.cluster.local. 30 SRV 0 50 5432 db-0.db.prod.svc.cluster.local.', '_pg._tcp.db.prod.svc.cluster.local. 30 SRV 0 50 5432 db-1.db.prod.svc.cluster.local.'],
      additional: ['db-0.db.prod.svc.cluster.local. 30 A 10.244.1.5', 'db-1.db.prod.svc.cluster.local. 30 A 10.244.2.7'],
    })
  })
  test('#12 workers.prod.svc.cluster.local A', async () => {
    check(await q(['workers.prod.svc.cluster.local', 'A']), { status: 'NOERROR', answer: ['workers.prod.svc.cluster.local. 30 A 10.244.1.8', 'workers.prod.svc.cluster.local. 30 A 10.244.2.9'] })
  })
  test('#13 10-244-1-8.workers.prod.svc.cluster.local A', async () => {
    check(await q(['10-244-1-8.workers.prod.svc.cluster.local', 'A']), { status: 'NOERROR', answer: ['10-244-1-8.workers.prod.svc.cluster.local. 30 A 10.244.1.8'] })
  })
  test('#14 workers-7d9f-abc.workers.prod.svc.cluster.local A: NXDOMAIN; with endpoint_pod_names 10.244.1.8', async () => {
    check(await q(['workers-7d9f-abc.workers.prod.svc.cluster.local', 'A']), NXDOMAIN)
    check(await q(['workers-7d9f-abc.workers.prod.svc.cluster.local', 'A'], () => variant), { status: 'NOERROR', answer: ['workers-7d9f-abc.workers.prod.svc.cluster.local. 30 A 10.244.1.8'] })
    // with endpoint_pod_names the pod name replaces the dashed address (§4.3 order)
    check(await q(['10-244-1-8.workers.prod.svc.cluster.local', 'A'], () => variant), NXDOMAIN)
    check(await q(['8.1.244.10.in-addr.arpa', 'PTR'], () => variant), { status: 'NOERROR', answer: ['8.1.244.10.in-addr.arpa. 30 PTR workers-7d9f-abc.workers.prod.svc.cluster.local.'] })
  })
  test('#15 workers.prod.svc.cluster.local SRV (port-less) → NODATA', async () => {
    check(await q(['workers.prod.svc.cluster.local', 'SRV']), NODATA)
  })
  test('#16 ext.prod.svc.cluster.local CNAME', async () => {
    check(await q(['ext.prod.svc.cluster.local', 'CNAME']), { status: 'NOERROR', answer: ['ext.prod.svc.cluster.local. 30 CNAME api.example.com.'] })
  })
  test('#17 ext.prod.svc.cluster.local A: CNAME, then the upstream A records', async () => {
    const r = await q(['ext.prod.svc.cluster.local', 'A'])
    check(r, {
      status: 'NOERROR',
      answer: ['ext.prod.svc.cluster.local. 30 CNAME api.example.com.', 'api.example.com. 60 A 192.0.2.10', 'api.example.com. 60 A 192.0.2.11'],
    })
    assert.equal(r.answer[0]?.type, 'CNAME', 'the CNAME precedes the records it points to')
  })
  test('#18 empty.prod.svc.cluster.local A (headless, no ready endpoint) → NXDOMAIN', async () => {
    check(await q(['empty.prod.svc.cluster.local', 'A']), NXDOMAIN)
  })
  test('#19 lonely.prod.svc.cluster.local A: 10.96.10.30; NXDOMAIN with ignore empty_service', async () => {
    check(await q(['lonely.prod.svc.cluster.local', 'A']), { status: 'NOERROR', answer: ['lonely.prod.svc.cluster.local. 30 A 10.96.10.30'] })
    check(await q(['lonely.prod.svc.cluster.local', 'A'], () => variant), NXDOMAIN)
  })
  test('#20 nosuch.prod.svc.cluster.local A → NXDOMAIN', async () => {
    check(await q(['nosuch.prod.svc.cluster.local', 'A']), NXDOMAIN)
  })
  test('#21 prod.svc.cluster.local A → NODATA', async () => {
    check(await q(['prod.svc.cluster.local', 'A']), NODATA)
  })
  test('#22 nosuchns.svc.cluster.local A → NXDOMAIN', async () => {
    check(await q(['nosuchns.svc.cluster.local', 'A']), NXDOMAIN)
  })
  test('#23 svc.cluster.local A, cluster.local A → NODATA', async () => {
    check(await q(['svc.cluster.local', 'A']), NODATA)
    check(await q(['cluster.local', 'A']), NODATA)
  })
  test('#24 cluster.local SOA', async () => {
    const r = await q(['cluster.local', 'SOA'])
    assert.equal(r.status, 'NOERROR', r.raw)
    assert.ok(r.flags.includes('aa'), r.raw)
    assert.equal(r.answer.length, 1, r.raw)
    const m = SOA_RE(Z).exec(line(r.answer[0]!))
    assert.ok(m, r.raw)
    const serial = Number(m[1])
    assert.ok(serial >= Math.floor(fixtureStart / 1000) - 5 && serial <= Date.now() / 1000 + 1, `serial ${serial}`)
    assert.equal(r.authority.length, 0, r.raw)
  })
  test('#25 cluster.local NS: bound block, no own address → NODATA (§8); ns.dns.cluster.local A too', async () => {
    check(await q(['cluster.local', 'NS']), NODATA)
    check(await q(['ns.dns.cluster.local', 'A']), NODATA)
  })
  test('#26 foo.cluster.local A → NXDOMAIN', async () => {
    check(await q(['foo.cluster.local', 'A']), NXDOMAIN)
  })
  test('#27 dns-version.cluster.local TXT', async () => {
    check(await q(['dns-version.cluster.local', 'TXT']), { status: 'NOERROR', answer: ['dns-version.cluster.local. 28800 TXT "1.1.0"'] })
  })
  test('#28 web.prod.svc.cluster.local TXT / MX / HINFO → NODATA', async () => {
    for (const t of ['TXT', 'MX', 'HINFO']) check(await q(['web.prod.svc.cluster.local', t]), NODATA)
  })
  test('#29 prod.svc.cluster.local TXT → NXDOMAIN (QUIRK)', async () => {
    check(await q(['prod.svc.cluster.local', 'TXT']), NXDOMAIN)
  })
  test('#30 db-0.db.prod.svc.cluster.local SOA → NODATA (QUIRK)', async () => {
    check(await q(['db-0.db.prod.svc.cluster.local', 'SOA']), NODATA)
  })
  test('#31 10-244-1-5.prod.pod.cluster.local A: insecure and verified answer, disabled NXDOMAIN', async () => {
    const want: Expect = { status: 'NOERROR', answer: ['10-244-1-5.prod.pod.cluster.local. 30 A 10.244.1.5'] }
    check(await q(['10-244-1-5.prod.pod.cluster.local', 'A']), want)
    check(await q(['10-244-1-5.prod.pod.cluster.local', 'A'], () => variant), want)
    check(await q(['10-244-1-5.prod.pod.cluster.local', 'A'], () => disabled), NXDOMAIN)
    // verified: only a pod of that namespace with that IP (10.244.0.2 is a kube-system pod)
    check(await q(['10-244-0-2.prod.pod.cluster.local', 'A']), { status: 'NOERROR', answer: ['10-244-0-2.prod.pod.cluster.local. 30 A 10.244.0.2'] })
    check(await q(['10-244-0-2.prod.pod.cluster.local', 'A'], () => variant), NXDOMAIN)
    check(await q(['10-244-0-2.kube-system.pod.cluster.local', 'A'], () => variant), { status: 'NOERROR', answer: ['10-244-0-2.kube-system.pod.cluster.local. 30 A 10.244.0.2'] })
    check(await q(['prod.pod.cluster.local', 'A']), NODATA)
    check(await q(['prod.pod.cluster.local', 'A'], () => disabled), NXDOMAIN)
  })
  test('#32 1-2-3-4.nosuchns.pod.cluster.local A → NXDOMAIN', async () => {
    check(await q(['1-2-3-4.nosuchns.pod.cluster.local', 'A']), NXDOMAIN)
  })
  test('#33 fd00--1.prod.pod.cluster.local AAAA (insecure)', async () => {
    check(await q(['fd00--1.prod.pod.cluster.local', 'AAAA']), { status: 'NOERROR', answer: ['fd00--1.prod.pod.cluster.local. 30 AAAA fd00::1'] })
  })
  test('#34 1.0.96.10.in-addr.arpa PTR', async () => {
    check(await q(['1.0.96.10.in-addr.arpa', 'PTR']), { status: 'NOERROR', answer: ['1.0.96.10.in-addr.arpa. 30 PTR kubernetes.default.svc.cluster.local.'] })
  })
  test('#35 5.1.244.10.in-addr.arpa PTR', async () => {
    check(await q(['5.1.244.10.in-addr.arpa', 'PTR']), { status: 'NOERROR', answer: ['5.1.244.10.in-addr.arpa. 30 PTR db-0.db.prod.svc.cluster.local.'] })
  })
  test('#36 8.1.244.10.in-addr.arpa PTR', async () => {
    check(await q(['8.1.244.10.in-addr.arpa', 'PTR']), { status: 'NOERROR', answer: ['8.1.244.10.in-addr.arpa. 30 PTR 10-244-1-8.workers.prod.svc.cluster.local.'] })
  })
  test('#37 9.9.9.10.in-addr.arpa PTR: fallthrough, answered by forward', async () => {
    const r = await q(['9.9.9.10.in-addr.arpa', 'PTR'])
    assert.equal(r.status, 'NOERROR', r.raw)
    assert.deepEqual(r.answer.map(line), ['9.9.9.10.in-addr.arpa. 60 PTR upstream-ptr.example.com.'], r.raw)
    // without fallthrough for the reverse zones (the variant block) it is the plugin's NXDOMAIN
    check(await q(['9.9.9.10.in-addr.arpa', 'PTR'], () => variant), { status: 'NXDOMAIN', soaZone: 'in-addr.arpa.' })
  })
  test('#38 *.prod.svc.cluster.local A → NXDOMAIN (no wildcards)', async () => {
    check(await q(['*.prod.svc.cluster.local', 'A']), NXDOMAIN)
  })
  test('#40 KUBERNETES.Default.SVC.cluster.local A: owner name echoed as asked', async () => {
    check(await q(['KUBERNETES.Default.SVC.cluster.local', 'A']), { status: 'NOERROR', answer: ['KUBERNETES.Default.SVC.cluster.local. 30 A 10.96.0.1'] })
  })
  test('#41 db-0.db.prod.svc.cluster.local SRV', async () => {
    check(await q(['db-0.db.prod.svc.cluster.local', 'SRV']), {
      status: 'NOERROR',
      answer: ['db-0.db.prod.svc.cluster.local. 30 SRV 0 100 5432 db-0.db.prod.svc.cluster.local.'],
      additional: ['db-0.db.prod.svc.cluster.local. 30 A 10.244.1.5'],
    })
  })
  test('#42 10-244-1-8.workers.prod.svc.cluster.local SRV (port-less slice) → NODATA', async () => {
    check(await q(['10-244-1-8.workers.prod.svc.cluster.local', 'SRV']), NODATA)
  })
  test('#43 alias.prod.svc.cluster.local A: CNAME + in-zone target A', async () => {
    check(await q(['alias.prod.svc.cluster.local', 'A']), {
      status: 'NOERROR',
      ordered: true,
      answer: ['alias.prod.svc.cluster.local. 30 CNAME lonely.prod.svc.cluster.local.', 'lonely.prod.svc.cluster.local. 30 A 10.96.10.30'],
    })
  })
  test('#44 alias.prod.svc.cluster.local AAAA → NODATA without CNAME (QUIRK)', async () => {
    check(await q(['alias.prod.svc.cluster.local', 'AAAA']), NODATA)
  })
  test('#45 dangling.prod.svc.cluster.local A → NODATA without CNAME (QUIRK)', async () => {
    check(await q(['dangling.prod.svc.cluster.local', 'A']), NODATA)
  })
  test('#46 pg.tcp.db.prod.svc.cluster.local SRV: as #11, owner as asked (QUIRK)', async () => {
    check(await q(['pg.tcp.db.prod.svc.cluster.local', 'SRV']), {
      status: 'NOERROR',
      answer: ['pg.tcp.db.prod.svc.cluster.local. 30 SRV 0 50 5432 db-0.db.prod.svc.cluster.local.', 'pg.tcp.db.prod.svc.cluster.local. 30 SRV 0 50 5432 db-1.db.prod.svc.cluster.local.'],
      additional: ['db-0.db.prod.svc.cluster.local. 30 A 10.244.1.5', 'db-1.db.prod.svc.cluster.local. 30 A 10.244.2.7'],
    })
  })
  test('#47 010-244-001-005.prod.pod.cluster.local A → NXDOMAIN (leading zeros)', async () => {
    check(await q(['010-244-001-005.prod.pod.cluster.local', 'A']), NXDOMAIN)
  })

  // ---- §13 zone transfers ----

  const AXFR_BODY = [
    'alias.prod.svc.cluster.local. 30 CNAME lonely.prod.svc.cluster.local.',
    'dangling.prod.svc.cluster.local. 30 CNAME gone.prod.svc.cluster.local.',
    'db.prod.svc.cluster.local. 30 A 10.244.1.5',
    'db-0.db.prod.svc.cluster.local. 30 A 10.244.1.5',
    '_pg._tcp.db.prod.svc.cluster.local. 30 SRV 0 50 5432 db-0.db.prod.svc.cluster.local.',
    'db.prod.svc.cluster.local. 30 A 10.244.2.7',
    'db-1.db.prod.svc.cluster.local. 30 A 10.244.2.7',
    '_pg._tcp.db.prod.svc.cluster.local. 30 SRV 0 50 5432 db-1.db.prod.svc.cluster.local.',
    'ext.prod.svc.cluster.local. 30 CNAME api.example.com.',
    'kube-dns.kube-system.svc.cluster.local. 30 A 10.96.0.10',
    'kube-dns.kube-system.svc.cluster.local. 30 SRV 0 100 53 kube-dns.kube-system.svc.cluster.local.',
    '_dns._udp.kube-dns.kube-system.svc.cluster.local. 30 SRV 0 100 53 kube-dns.kube-system.svc.cluster.local.',
    'kube-dns.kube-system.svc.cluster.local. 30 SRV 0 100 53 kube-dns.kube-system.svc.cluster.local.',
    '_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local. 30 SRV 0 100 53 kube-dns.kube-system.svc.cluster.local.',
    'kube-dns.kube-system.svc.cluster.local. 30 SRV 0 100 9153 kube-dns.kube-system.svc.cluster.local.',
    '_metrics._tcp.kube-dns.kube-system.svc.cluster.local. 30 SRV 0 100 9153 kube-dns.kube-system.svc.cluster.local.',
    'kubernetes.default.svc.cluster.local. 30 A 10.96.0.1',
    'kubernetes.default.svc.cluster.local. 30 SRV 0 100 443 kubernetes.default.svc.cluster.local.',
    '_https._tcp.kubernetes.default.svc.cluster.local. 30 SRV 0 100 443 kubernetes.default.svc.cluster.local.',
    'lonely.prod.svc.cluster.local. 30 A 10.96.10.30',
    'lonely.prod.svc.cluster.local. 30 SRV 0 100 80 lonely.prod.svc.cluster.local.',
    '_http._tcp.lonely.prod.svc.cluster.local. 30 SRV 0 100 80 lonely.prod.svc.cluster.local.',
    'web.prod.svc.cluster.local. 30 A 10.96.10.20',
    'web.prod.svc.cluster.local. 30 AAAA fd00:96::20',
    'web.prod.svc.cluster.local. 30 SRV 0 100 80 web.prod.svc.cluster.local.',
    '_http._tcp.web.prod.svc.cluster.local. 30 SRV 0 100 80 web.prod.svc.cluster.local.',
    'web.prod.svc.cluster.local. 30 SRV 0 100 8080 web.prod.svc.cluster.local.',
    '_alt._tcp.web.prod.svc.cluster.local. 30 SRV 0 100 8080 web.prod.svc.cluster.local.',
    'workers.prod.svc.cluster.local. 30 A 10.244.1.8',
    '10-244-1-8.workers.prod.svc.cluster.local. 30 A 10.244.1.8',
    'workers.prod.svc.cluster.local. 30 A 10.244.2.9',
    '10-244-2-9.workers.prod.svc.cluster.local. 30 A 10.244.2.9',
  ]

  test('§13 AXFR cluster.local over TCP (transfer { to * }): SOA, services sorted by name, SOA', async () => {
    const r = await digAxfr(stock.port, 'cluster.local')
    assert.ok(!r.failed, r.raw)
    const lines = r.records.map(line)
    assert.match(lines[0] ?? '', SOA_RE(Z), r.raw)
    assert.equal(lines[lines.length - 1], lines[0], 'closing SOA = opening SOA')
    // no NS / name-server addresses: the bound block has no own address (§8)
    assert.deepEqual(lines.slice(1, -1), AXFR_BODY, r.raw)
    assert.equal(r.size, AXFR_BODY.length + 2)
  })

  test('§13 AXFR of a reverse zone or a zone we do not serve is not a kubernetes transfer', async () => {
    const rev = await digAxfr(stock.port, 'in-addr.arpa')
    assert.ok(rev.failed || rev.records.every((x) => x.type !== 'PTR'), rev.raw)
  })

  test('IXFR with the current serial → the SOA alone', async () => {
    const soa = await q(['cluster.local', 'SOA'])
    const serial = Number(soa.answer[0]!.data.split(' ')[2])
    const r = await digAxfr(stock.port, 'cluster.local', [], `IXFR=${serial}`)
    assert.ok(!r.failed, r.raw)
    assert.equal(r.records.length, 1, r.raw)
    assert.equal(r.records[0]!.type, 'SOA', r.raw)
  })

  test('AXFR over UDP → REFUSED', async () => {
    const c = await UdpDns.open(stock.port)
    try {
      const b = await c.raw(encodeQuery('cluster.local', 'AXFR', 777), 2000)
      assert.ok(b, 'a reply over UDP')
      const r = decodeReply(b)
      assert.equal(r.rcode, 'REFUSED')
      assert.deepEqual(r.answers, [])
    } finally {
      c.close()
    }
  })

  test('AXFR from a client not listed in `to` → REFUSED', async () => {
    const s = await startServer(kubeCorefile(api.url, { extra: '  transfer {\n    to 10.0.0.53 [fd00::53]:53\n  }\n' }))
    try {
      const raw = await tcpExchange(s.port, encodeQuery('cluster.local', 'AXFR', 778))
      assert.ok(raw, 'a reply over TCP')
      const r = decodeReply(raw)
      assert.equal(r.rcode, 'REFUSED')
      assert.deepEqual(r.answers, [])
      const d = await digAxfr(s.port, 'cluster.local')
      assert.ok(d.failed, d.raw)
      // ordinary queries of the same block are unaffected
      check(await dig(s.port, ['kubernetes.default.svc.cluster.local', 'A']), { status: 'NOERROR', answer: ['kubernetes.default.svc.cluster.local. 30 A 10.96.0.1'] })
    } finally {
      await s.close()
    }
  })
})

describe('§13 a transfer larger than one message arrives complete', () => {
  const N = 2000
  let api: FakeApiServer
  let s: TestServer
  before(async () => {
    api = await new FakeApiServer().start()
    for (const o of kubernetesDnsSpecFixture()) api.create(o)
    api.create(namespace('bulk'))
    for (let i = 0; i < N; i++) {
      api.create(service({ ns: 'bulk', name: `svc-${String(i).padStart(4, '0')}`, clusterIPs: [`10.97.${i >> 8}.${i & 255}`], ports: [{ name: 'http', port: 8000 + (i % 100) }] }))
    }
    s = await startServer(kubeCorefile(api.url, { extra: '  transfer {\n    to *\n  }\n' }))
  })
  after(async () => {
    await s?.close()
    await api?.stop()
  })

  test(`AXFR of ${N} extra services: many messages, every record once, in order`, async () => {
    const r = await digAxfr(s.port, 'cluster.local')
    assert.ok(!r.failed, r.raw.slice(-2000))
    const lines = r.records.map(line)
    const expected = 2 + 32 + 3 * N
    assert.equal(lines.length, expected, `records (dig: ${r.size})`)
    assert.equal(r.size, expected)
    assert.ok(r.messages > 1, `several messages (${r.messages})`)
    assert.ok(r.messages >= Math.ceil(expected / 501), `at most 501 records per message (${r.messages} messages)`)
    // duplicates: only the closing SOA and kube-dns' bare SRV for port 53 (dns/UDP and dns-tcp/TCP)
    assert.equal(new Set(lines).size, lines.length - 2, 'every record once')
    assert.equal(lines[0], lines[lines.length - 1])
    const bulk = lines.filter((l) => l.includes('.bulk.svc.'))
    for (let i = 0; i < N; i++) {
      const n = `svc-${String(i).padStart(4, '0')}.bulk.svc.cluster.local.`
      const at = bulk.indexOf(`${n} 30 A 10.97.${i >> 8}.${i & 255}`)
      assert.ok(at >= 0, `${n} A present`)
      assert.equal(bulk[at + 1], `${n} 30 SRV 0 100 ${8000 + (i % 100)} ${n}`)
      assert.equal(bulk[at + 2], `_http._tcp.${n} 30 SRV 0 100 ${8000 + (i % 100)} ${n}`)
    }
    // services sorted by name (records at <svc>.<ns>.svc.cluster.local. appear in name order)
    const svcs = r.records.filter((x) => x.type !== 'SOA' && x.name.split('.').length === 6).map((x) => x.name.split('.')[0]!)
    for (let i = 1; i < svcs.length; i++) assert.ok(svcs[i - 1]! <= svcs[i]!, `${svcs[i - 1]} before ${svcs[i]}`)
    assert.ok(svcs.indexOf('kubernetes') < svcs.indexOf('svc-0000') && svcs.lastIndexOf('svc-1999') < svcs.indexOf('web'))
  })
})

describe('#39 before the informers have synced', () => {
  let api: FakeApiServer
  let stub: TestServer
  let s: TestServer
  let readyPort: number
  before(async () => {
    api = await new FakeApiServer().start()
    for (const o of kubernetesDnsSpecFixture()) api.create(o)
    api.failNext(1_000_000, 500) // every request fails: the lists cannot complete
    stub = await startServer('.:0 {\n  bind 127.0.0.1\n  template IN PTR 10.in-addr.arpa {\n    answer "{{ .Name }} 60 IN PTR upstream-ptr.example.com."\n  }\n}\n')
    readyPort = await freePort()
    s = await startServer(
      kubeCorefile(api.url, {
        lines: ['pods insecure', 'fallthrough in-addr.arpa ip6.arpa', 'ttl 30', 'startup_timeout 1200ms'],
        extra: `  ready 127.0.0.1:${readyPort}\n  forward . 127.0.0.1:${stub.port}\n`,
      }),
    )
  })
  after(async () => {
    await s?.close()
    await stub?.close()
    await api?.stop()
  })

  const ready = async (): Promise<number> => {
    const r = await fetch(`http://127.0.0.1:${readyPort}/ready`)
    await r.text()
    return r.status
  }

  test('startup waits up to startup_timeout, logging every 0.5 s, then serves unsynced', () => {
    const waiting = s.lines.filter((l) => l.includes('waiting for Kubernetes API before starting server'))
    assert.ok(waiting.length >= 2, s.lines.join('\n'))
    assert.ok(s.lines.some((l) => /starting server with unsynced Kubernetes API/.test(l)), s.lines.join('\n'))
  })

  test('would-be NXDOMAIN → SERVFAIL with SOA; fallthrough comes first; not ready; all fine once the API recovers', async () => {
    const r = await dig(s.port, ['nosuch.prod.svc.cluster.local', 'A'])
    assert.equal(r.status, 'SERVFAIL', r.raw)
    assert.ok(r.flags.includes('aa'), r.raw)
    assert.equal(r.answer.length, 0)
    assert.equal(r.authority.length, 1, r.raw)
    assert.match(line(r.authority[0]!), /^cluster\.local\. 30 SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 30$/, r.raw)
    // NODATA is not a name error: unaffected
    const nd = await dig(s.port, ['cluster.local', 'A'])
    assert.equal(nd.status, 'NOERROR', nd.raw)
    // §10.2: fallthrough is checked before the not-synced SERVFAIL rule
    const ptr = await dig(s.port, ['9.9.9.10.in-addr.arpa', 'PTR'])
    assert.equal(ptr.status, 'NOERROR', ptr.raw)
    assert.deepEqual(ptr.answer.map(line), ['9.9.9.10.in-addr.arpa. 60 PTR upstream-ptr.example.com.'], ptr.raw)
    assert.notEqual(await ready(), 200, 'ready only once synced')
    // the API recovers: the lists complete and the name errors become NXDOMAIN
    api.failNext(0)
    const c = await UdpDns.open(s.port)
    try {
      const p = await pollUntil(c, 'nosuch.prod.svc.cluster.local', 'A', { rcode: 'NXDOMAIN' }, 10_000)
      assert.ok(p.ok, `NXDOMAIN after sync (last: ${p.last?.rcode})`)
      const k = await pollUntil(c, 'kubernetes.default.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: ['A 10.96.0.1'] }, 2000)
      assert.ok(k.ok)
    } finally {
      c.close()
    }
    assert.equal(await ready(), 200)
  })
})

describe('§2 connecting through a kubeconfig over plain http', () => {
  let api: FakeApiServer
  let proxy: Server
  const auth: string[] = []
  let dir: string
  before(async () => {
    api = await new FakeApiServer().start()
    for (const o of kubernetesDnsSpecFixture()) api.create(o)
    // records the Authorization header of every request on its way to the API server
    proxy = createServer((req, res) => {
      auth.push(req.headers.authorization ?? '')
      const up = request({ host: '127.0.0.1', port: api.port, path: req.url, method: req.method, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers)
        ur.pipe(res)
      })
      up.on('error', () => res.destroy())
      req.pipe(up)
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()))
    dir = mkdtempSync(join(tmpdir(), 'kube-e2e-'))
  })
  after(async () => {
    proxy?.closeAllConnections()
    await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()))
    await api?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('the named context is used although current-context names an unreachable cluster; no credentials over http', async () => {
    const dead = await freePort()
    const proxyPort = (proxy.address() as AddressInfo).port
    const file = join(dir, 'kubeconfig')
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: broken',
        'clusters:',
        '- name: dead',
        '  cluster:',
        `    server: http://127.0.0.1:${dead}`,
        '- name: fake',
        '  cluster:',
        `    server: http://127.0.0.1:${proxyPort}`,
        'users:',
        '- name: u',
        '  user:',
        '    token: secret-token',
        'contexts:',
        '- name: broken',
        '  context: { cluster: dead, user: u }',
        '- name: good',
        '  context: { cluster: fake, user: u }',
        '',
      ].join('\n'),
    )
    const s = await startServer(`.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    kubeconfig ${file} good\n    ttl 30\n    startup_timeout 3s\n  }\n}\n`)
    try {
      assert.ok(s.lines.some((l) => l.includes('Kubernetes API synced')), s.lines.join('\n'))
      check(await dig(s.port, ['kubernetes.default.svc.cluster.local', 'A']), { status: 'NOERROR', answer: ['kubernetes.default.svc.cluster.local. 30 A 10.96.0.1'] })
      assert.ok(auth.length >= 3, `requests went through the named context's server (${auth.length})`)
      assert.deepEqual([...new Set(auth)], [''], 'no Authorization header over plain http (client-go behaviour)')
    } finally {
      await s.close()
    }
  })
})
