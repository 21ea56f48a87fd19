// kubernetes-dns.md §2.1 end to end: changes on the (fake) API server reach the DNS answers of a
// running server through its list+watch — creates, updates, deletes, namespace deletion — and
// keep doing so across bookmarks, dropped watch streams, 410 Gone and 5xx answers. Every change
// must be visible within 1 s (timing targets proper are measured by `SCENARIOS=kube npm run bench`).
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, type TestServer } from '../helpers/server.js'
import { FakeApiServer } from '../fake-apiserver/server.js'
import { endpointSlice, kubernetesDnsSpecFixture, namespace, pod, service } from '../fake-apiserver/fixtures.js'
import { digAxfr, kubeCorefile, measurePropagation, pollUntil, summarize, UdpDns, type Want } from '../helpers/kube.js'

const VISIBLE_MS = 1000

describe('API changes reach DNS answers (watch)', () => {
  let api: FakeApiServer
  let s: TestServer
  let c: UdpDns

  /** Polls until name/type answers `want`; fails the test if not within `ms`. */
  async function visible(name: string, type: 'A' | 'AAAA' | 'SRV' | 'CNAME' | 'PTR', want: Want, ms = VISIBLE_MS): Promise<void> {
    const r = await pollUntil(c, name, type, want, ms)
    assert.ok(r.ok, `${name} ${type} should answer ${JSON.stringify(want)} within ${ms} ms; last: ${r.last?.rcode ?? 'no reply'} ${r.last?.answers.join(', ') ?? ''}`)
  }
  const A = (...ips: string[]): Want => ({ rcode: 'NOERROR', answers: ips.map((ip) => `A ${ip}`) })
  const NX: Want = { rcode: 'NXDOMAIN' }
  const lists = (): number => api.requests.filter((r) => !r.watch && r.method === 'GET' && /\/(services|endpointslices|namespaces|pods)$/.test(r.path)).length
  const svc = (name: string, ip: string, ns = 'watch'): ReturnType<typeof service> => service({ ns, name, clusterIPs: [ip], ports: [{ name: 'http', port: 80 }] })

  before(async () => {
    api = await new FakeApiServer({ bookmarkIntervalMs: 100 }).start()
    for (const o of kubernetesDnsSpecFixture()) api.create(o)
    api.create(namespace('watch'))
    s = await startServer(kubeCorefile(api.url, { extra: '  transfer {\n    to *\n  }\n' }))
    c = await UdpDns.open(s.port)
    await api.waitForWatches(3) // services, endpointslices, namespaces (pods are not watched with `pods insecure`)
  })
  after(async () => {
    c?.close()
    await s?.close()
    await api?.stop()
  })

  test('50 changes (25 Service creates, 25 deletes): each answered within 1 s of its watch event', async (t) => {
    const r = await measurePropagation(api, c, { n: 50, ns: 'watch', timeoutMs: VISIBLE_MS })
    assert.deepEqual(r.missed, [])
    assert.equal(r.latencies.length, 50)
    const sm = summarize(r.latencies)
    t.diagnostic(`event → answer: p50 ${sm.p50.toFixed(2)} ms, p99 ${sm.p99.toFixed(2)} ms, max ${sm.max.toFixed(2)} ms`)
  })

  test('Service updates: ClusterIP, ports and ExternalName target changes', async () => {
    api.update(service({ ns: 'prod', name: 'lonely', clusterIPs: ['10.96.10.31'], ports: [{ name: 'http', port: 81 }], selector: { app: 'lonely' } }))
    await visible('lonely.prod.svc.cluster.local', 'A', A('10.96.10.31'))
    await visible('_http._tcp.lonely.prod.svc.cluster.local', 'SRV', { rcode: 'NOERROR', answers: ['SRV 0 100 81 lonely.prod.svc.cluster.local'] })
    await visible('31.10.96.10.in-addr.arpa', 'PTR', { rcode: 'NOERROR', answers: ['PTR lonely.prod.svc.cluster.local'] })
    api.update(service({ ns: 'prod', name: 'ext', externalName: 'api2.example.org' }))
    await visible('ext.prod.svc.cluster.local', 'CNAME', { rcode: 'NOERROR', answers: ['CNAME api2.example.org'] })
    // ClusterIP → headless is a type change too (delete + create in a real cluster; same for DNS)
    api.remove('Service', 'prod', 'lonely')
    api.create(service({ ns: 'prod', name: 'lonely', headless: true, ports: [{ name: 'http', port: 80 }] }))
    await visible('lonely.prod.svc.cluster.local', 'A', NX) // headless without endpoints
    api.create(endpointSlice({ ns: 'prod', name: 'lonely-abcde', service: 'lonely', ports: [{ name: 'http', port: 80 }], endpoints: [{ addresses: ['10.244.7.7'] }] }))
    await visible('lonely.prod.svc.cluster.local', 'A', A('10.244.7.7'))
  })

  test('endpoints becoming ready / not ready, and a second slice of the same service', async () => {
    const dbSlice = (ready: [boolean, boolean, boolean]): ReturnType<typeof endpointSlice> =>
      endpointSlice({
        ns: 'prod',
        name: 'db-4fj8q',
        service: 'db',
        ports: [{ name: 'pg', port: 5432 }],
        endpoints: [
          { addresses: ['10.244.1.5'], hostname: 'db-0', targetRef: 'db-0', ready: ready[0] },
          { addresses: ['10.244.2.7'], hostname: 'db-1', targetRef: 'db-1', ready: ready[1] },
          { addresses: ['10.244.3.9'], hostname: 'db-2', targetRef: 'db-2', ready: ready[2] },
        ],
      })
    api.update(dbSlice([false, true, true]))
    await visible('db-2.db.prod.svc.cluster.local', 'A', A('10.244.3.9'))
    await visible('db-0.db.prod.svc.cluster.local', 'A', NX)
    await visible('db.prod.svc.cluster.local', 'A', A('10.244.2.7', '10.244.3.9'))
    await visible('_pg._tcp.db.prod.svc.cluster.local', 'SRV', {
      rcode: 'NOERROR',
      answers: ['SRV 0 50 5432 db-1.db.prod.svc.cluster.local', 'SRV 0 50 5432 db-2.db.prod.svc.cluster.local'],
    })
    api.create(endpointSlice({ ns: 'prod', name: 'db-zzzzz', service: 'db', ports: [{ name: 'pg', port: 5432 }], endpoints: [{ addresses: ['10.244.4.4'], hostname: 'db-3' }] }))
    await visible('db.prod.svc.cluster.local', 'A', A('10.244.2.7', '10.244.3.9', '10.244.4.4'))
    await visible('db-3.db.prod.svc.cluster.local', 'A', A('10.244.4.4'))
    api.update(dbSlice([false, false, false]))
    api.remove('EndpointSlice', 'prod', 'db-zzzzz')
    await visible('db.prod.svc.cluster.local', 'A', NX) // headless, no ready endpoint
    api.update(dbSlice([true, true, false]))
    await visible('db.prod.svc.cluster.local', 'A', A('10.244.1.5', '10.244.2.7'))
  })

  test('deletes: an EndpointSlice, then its Service', async () => {
    api.remove('EndpointSlice', 'prod', 'workers-9xq2z')
    await visible('workers.prod.svc.cluster.local', 'A', NX)
    await visible('10-244-1-8.workers.prod.svc.cluster.local', 'A', NX)
    api.remove('Service', 'prod', 'web')
    await visible('web.prod.svc.cluster.local', 'A', NX)
    await visible('_http._tcp.web.prod.svc.cluster.local', 'SRV', NX)
  })

  test('namespace deletion: its names stop resolving; re-created, they come back', async () => {
    api.create(namespace('tmp'))
    api.create(svc('keep', '10.98.0.1', 'tmp'))
    await visible('keep.tmp.svc.cluster.local', 'A', A('10.98.0.1'))
    api.remove('Namespace', 'tmp') // the fake server does not cascade: the Service object stays
    await visible('keep.tmp.svc.cluster.local', 'A', NX)
    await visible('tmp.svc.cluster.local', 'A', NX)
    await visible('1-2-3-4.tmp.pod.cluster.local', 'A', NX)
    api.create(namespace('tmp'))
    await visible('keep.tmp.svc.cluster.local', 'A', A('10.98.0.1'))
    await visible('tmp.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: [] })
  })

  test('bookmarks are requested and tracked: after compaction a dropped watch resumes from the bookmark, no relist', async () => {
    const watches = api.requests.filter((r) => r.watch)
    assert.ok(watches.length >= 3)
    for (const w of watches) assert.equal(w.query['allowWatchBookmarks'], 'true', `watch ${w.path} asks for bookmarks`)
    // only Services change; the namespace and slice watches learn the new version from bookmarks
    api.create(svc('bm-1', '10.98.1.1'))
    await visible('bm-1.watch.svc.cluster.local', 'A', A('10.98.1.1'))
    const rv = api.resourceVersion
    await new Promise((r) => setTimeout(r, 450)) // > 4 bookmark intervals
    const l0 = lists()
    const n0 = api.requests.length
    api.compact() // history up to rv is gone: a watch from an older version would get 410
    api.dropWatches()
    await api.waitForWatches(3)
    api.create(svc('bm-2', '10.98.1.2'))
    await visible('bm-2.watch.svc.cluster.local', 'A', A('10.98.1.2'))
    const rewatch = api.requests.slice(n0 - api.requests.length).filter((r) => r.watch)
    for (const w of rewatch) assert.ok(Number(w.query['resourceVersion']) >= rv, `${w.path} resumed from ${w.query['resourceVersion']} (≥ ${rv})`)
    assert.equal(lists(), l0, 'no relist')
  })

  for (const mode of ['destroy', 'end'] as const) {
    test(`watch streams dropped (${mode === 'destroy' ? 'connection reset' : 'clean end'}): changes made before the re-watch are replayed, no relist`, async () => {
      const p = `drop-${mode}`
      api.create(svc(`${p}-0`, '10.98.2.1'))
      await visible(`${p}-0.watch.svc.cluster.local`, 'A', A('10.98.2.1'))
      const l0 = lists()
      api.dropWatches(mode)
      // in the gap (same tick, before any client can re-watch)
      api.remove('Service', 'watch', `${p}-0`)
      api.create(svc(`${p}-1`, '10.98.2.2'))
      api.update(endpointSlice({ ns: 'prod', name: 'empty-8dk3j', service: 'empty', endpoints: [{ addresses: ['10.244.9.9'] }] }))
      await visible(`${p}-0.watch.svc.cluster.local`, 'A', NX)
      await visible(`${p}-1.watch.svc.cluster.local`, 'A', A('10.98.2.2'))
      await visible('empty.prod.svc.cluster.local', 'A', A('10.244.9.9'))
      await api.waitForWatches(3)
      api.create(svc(`${p}-2`, '10.98.2.3'))
      await visible(`${p}-2.watch.svc.cluster.local`, 'A', A('10.98.2.3'))
      assert.equal(lists(), l0, 'resumed from the last resourceVersion, no relist')
      api.update(endpointSlice({ ns: 'prod', name: 'empty-8dk3j', service: 'empty', endpoints: [] }))
      await visible('empty.prod.svc.cluster.local', 'A', NX)
    })
  }

  for (const expired of ['event', 'http'] as const) {
    test(`410 Gone (${expired === 'event' ? 'ERROR event' : 'HTTP 410'}): fresh list replaces the cache — objects deleted meanwhile disappear`, async () => {
      const p = `gone-${expired}`
      api.create(svc(`${p}-0`, '10.98.3.1'))
      api.create(svc(`${p}-1`, '10.98.3.2'))
      await visible(`${p}-0.watch.svc.cluster.local`, 'A', A('10.98.3.1'))
      await visible(`${p}-1.watch.svc.cluster.local`, 'A', A('10.98.3.2'))
      const l0 = lists()
      api.expiredWatch = expired
      try {
        api.dropWatches()
        api.remove('Service', 'watch', `${p}-0`)
        api.update(svc(`${p}-1`, '10.98.3.3'))
        api.create(svc(`${p}-2`, '10.98.3.4'))
        api.remove('Namespace', 'tmp')
        api.compact() // the changes above are only in the new list now
        await visible(`${p}-0.watch.svc.cluster.local`, 'A', NX)
        await visible(`${p}-1.watch.svc.cluster.local`, 'A', A('10.98.3.3'))
        await visible(`${p}-2.watch.svc.cluster.local`, 'A', A('10.98.3.4'))
        await visible('keep.tmp.svc.cluster.local', 'A', NX)
        assert.ok(lists() > l0, 'relisted')
        api.create(namespace('tmp'))
        await visible('keep.tmp.svc.cluster.local', 'A', A('10.98.0.1'))
      } finally {
        api.expiredWatch = 'event'
      }
    })
  }

  test('SOA serial: a Service change bumps it, a namespace change does not; AXFR and IXFR follow', async () => {
    const serial = async (): Promise<number> => {
      const r = await c.query('cluster.local', 'SOA')
      return ((r!.packet.answers![0] as { data: { serial: number } }).data).serial
    }
    const s0 = await serial()
    await new Promise((r) => setTimeout(r, 1100)) // the serial is in seconds
    api.create(namespace('serial-ns'))
    await visible('serial-ns.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: [] })
    assert.equal(await serial(), s0, 'namespace add: serial unchanged')
    const ix0 = await digAxfr(s.port, 'cluster.local', [], `IXFR=${s0}`)
    assert.equal(ix0.records.length, 1, `IXFR with the current serial: SOA only\n${ix0.raw}`)
    api.create(svc('serial-svc', '10.98.5.1'))
    await visible('serial-svc.watch.svc.cluster.local', 'A', A('10.98.5.1'))
    const s1 = await serial()
    assert.ok(s1 > s0 && s1 <= Date.now() / 1000 + 1, `service add: serial ${s0} → ${s1} (now)`)
    const ax = await digAxfr(s.port, 'cluster.local')
    const lines = ax.records.map((r) => `${r.name} ${r.type} ${r.data}`)
    assert.ok(lines.includes('serial-svc.watch.svc.cluster.local. A 10.98.5.1'), 'AXFR has the new service')
    assert.ok(!lines.some((l) => l.startsWith('web.prod.svc.')), 'AXFR no longer has the deleted web service')
    assert.equal(ax.records[0]!.data.split(' ')[2], String(s1))
    const ix1 = await digAxfr(s.port, 'cluster.local', [], `IXFR=${s0}`)
    assert.equal(ix1.size, ax.size, 'IXFR from an older serial: the whole zone')
  })

  test('5xx answers to (re)watches and lists are retried until they succeed', async () => {
    api.failNext(4, 500)
    api.dropWatches()
    api.create(svc('retry-0', '10.98.4.1'))
    // capped backoff (≤ 800 ms per attempt): a few seconds at most
    await visible('retry-0.watch.svc.cluster.local', 'A', A('10.98.4.1'), 5000)
    api.failNext(3, 503)
    api.dropWatches()
    api.compact() // 410 → relist, whose first requests fail
    api.create(svc('retry-1', '10.98.4.2'))
    await visible('retry-1.watch.svc.cluster.local', 'A', A('10.98.4.2'), 5000)
    await visible('kubernetes.default.svc.cluster.local', 'A', A('10.96.0.1'))
  })
})

describe('filtered watches: pods verified, labels, namespace_labels, namespaces', () => {
  let api: FakeApiServer
  let verified: TestServer // pods verified + labels selector
  let nsLabels: TestServer // namespace_labels
  let oneNs: TestServer // namespaces prod (namespaced watch paths)
  const clients: UdpDns[] = []

  async function visible(s: TestServer, name: string, type: 'A' | 'PTR', want: Want, ms = VISIBLE_MS): Promise<void> {
    let c = clients.find((x) => x.port === s.port)
    if (c === undefined) {
      c = await UdpDns.open(s.port)
      clients.push(c)
    }
    const r = await pollUntil(c, name, type, want, ms)
    assert.ok(r.ok, `${name} ${type} should answer ${JSON.stringify(want)} within ${ms} ms; last: ${r.last?.rcode ?? 'no reply'} ${r.last?.answers.join(', ') ?? ''}`)
  }
  const A = (ip: string): Want => ({ rcode: 'NOERROR', answers: [`A ${ip}`] })
  const NX: Want = { rcode: 'NXDOMAIN' }

  before(async () => {
    api = await new FakeApiServer({ bookmarkIntervalMs: 100 }).start()
    for (const o of kubernetesDnsSpecFixture()) api.create(o)
    verified = await startServer(kubeCorefile(api.url, { lines: ['pods verified', 'labels team notin (hidden)', 'ttl 30'] }))
    nsLabels = await startServer(kubeCorefile(api.url, { lines: ['namespace_labels dns=on', 'ttl 30'] }))
    oneNs = await startServer(kubeCorefile(api.url, { lines: ['namespaces prod', 'ttl 30'] }))
  })
  after(async () => {
    for (const c of clients) c.close()
    for (const s of [verified, nsLabels, oneNs]) await s?.close()
    await api?.stop()
  })

  test('pods verified: pod create / IP change / phase Succeeded (leaves the field selector) / delete', async () => {
    const name = (ip: string): string => `${ip.replace(/\./g, '-')}.prod.pod.cluster.local`
    api.create(pod({ ns: 'prod', name: 'p1', ip: '10.244.5.6' }))
    await visible(verified, name('10.244.5.6'), 'A', A('10.244.5.6'))
    api.update(pod({ ns: 'prod', name: 'p1', ip: '10.244.5.7' }))
    await visible(verified, name('10.244.5.7'), 'A', A('10.244.5.7'))
    await visible(verified, name('10.244.5.6'), 'A', NX)
    api.update(pod({ ns: 'prod', name: 'p1', ip: '10.244.5.7', phase: 'Succeeded' }))
    await visible(verified, name('10.244.5.7'), 'A', NX)
    api.create(pod({ ns: 'prod', name: 'p2', ip: '10.244.5.8' }))
    await visible(verified, name('10.244.5.8'), 'A', A('10.244.5.8'))
    api.remove('Pod', 'prod', 'p2')
    await visible(verified, name('10.244.5.8'), 'A', NX)
  })

  test('pods verified QUIRK: deletionTimestamp on the first version → never cached; added later → ignored until DELETED', async () => {
    const name = (ip: string): string => `${ip.replace(/\./g, '-')}.prod.pod.cluster.local`
    api.create(pod({ ns: 'prod', name: 'dying', ip: '10.244.5.9', deletionTimestamp: '2024-05-01T10:00:00Z' }))
    api.create(pod({ ns: 'prod', name: 'marker', ip: '10.244.5.10' }))
    await visible(verified, name('10.244.5.10'), 'A', A('10.244.5.10')) // events are in order: 'dying' was seen before
    await visible(verified, name('10.244.5.9'), 'A', NX)
    api.create(pod({ ns: 'prod', name: 'p3', ip: '10.244.5.11' }))
    await visible(verified, name('10.244.5.11'), 'A', A('10.244.5.11'))
    api.update(pod({ ns: 'prod', name: 'p3', ip: '10.244.5.11', deletionTimestamp: '2024-05-01T10:00:00Z' }))
    api.create(pod({ ns: 'prod', name: 'marker2', ip: '10.244.5.12' }))
    await visible(verified, name('10.244.5.12'), 'A', A('10.244.5.12'))
    await visible(verified, name('10.244.5.11'), 'A', A('10.244.5.11')) // still answers
    api.remove('Pod', 'prod', 'p3')
    await visible(verified, name('10.244.5.11'), 'A', NX)
  })

  test('labels: a Service whose labels leave the selector is deleted from DNS, and comes back', async () => {
    api.create(service({ ns: 'prod', name: 'lab', clusterIPs: ['10.96.50.1'], labels: { team: 'a' } }))
    await visible(verified, 'lab.prod.svc.cluster.local', 'A', A('10.96.50.1'))
    api.update(service({ ns: 'prod', name: 'lab', clusterIPs: ['10.96.50.1'], labels: { team: 'hidden' } }))
    await visible(verified, 'lab.prod.svc.cluster.local', 'A', NX)
    api.update(service({ ns: 'prod', name: 'lab', clusterIPs: ['10.96.50.1'], labels: { team: 'b' } }))
    await visible(verified, 'lab.prod.svc.cluster.local', 'A', A('10.96.50.1'))
  })

  test('namespace_labels: names of a namespace resolve while its labels match; PTR is not filtered (QUIRK)', async () => {
    await visible(nsLabels, 'web.prod.svc.cluster.local', 'A', NX)
    await visible(nsLabels, '20.10.96.10.in-addr.arpa', 'PTR', { rcode: 'NOERROR', answers: ['PTR web.prod.svc.cluster.local'] })
    api.update(namespace('prod', { dns: 'on' }))
    await visible(nsLabels, 'web.prod.svc.cluster.local', 'A', A('10.96.10.20'))
    api.update(namespace('prod', { dns: 'off' }))
    await visible(nsLabels, 'web.prod.svc.cluster.local', 'A', NX)
  })

  test('namespaces prod: only prod is watched and served; namespace deletion and re-creation', async () => {
    await visible(oneNs, 'web.prod.svc.cluster.local', 'A', A('10.96.10.20'))
    await visible(oneNs, 'kubernetes.default.svc.cluster.local', 'A', NX)
    await visible(oneNs, '1.0.96.10.in-addr.arpa', 'PTR', NX)
    api.create(service({ ns: 'prod', name: 'one', clusterIPs: ['10.96.60.1'] }))
    await visible(oneNs, 'one.prod.svc.cluster.local', 'A', A('10.96.60.1'))
    api.remove('Namespace', 'prod')
    await visible(oneNs, 'one.prod.svc.cluster.local', 'A', NX)
    api.create(namespace('prod'))
    await visible(oneNs, 'one.prod.svc.cluster.local', 'A', A('10.96.60.1'))
    const paths = new Set(api.requests.filter((r) => r.watch).map((r) => r.path))
    assert.ok(paths.has('/api/v1/namespaces/prod/services') && paths.has('/apis/discovery.k8s.io/v1/namespaces/prod/endpointslices'), [...paths].join(' '))
  })
})
