// Protocol tests for the fake API server: raw HTTP for the exact JSON shapes, and the official
// @kubernetes/client-node (CoreV1Api, DiscoveryV1Api, Watch, makeInformer/ListWatch) to prove a
// real client library accepts it. Loopback only, ports from 0, every wait bounded.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { get as httpGet, type IncomingMessage } from 'node:http'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ApiException, CoreV1Api, DiscoveryV1Api, KubeConfig, makeInformer, Watch } from '@kubernetes/client-node'
import type { KubernetesObject, V1Pod, V1Service } from '@kubernetes/client-node'
import { endpointSlice, generateCluster, kubernetesDnsSpecFixture, namespace, pod, service } from './fixtures.js'
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js'
import { FakeApiServer, type KubeObject } from './server.js'

// ---- helpers ----

interface ListBody {
  kind: string
  apiVersion: string
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number }
  items: KubeObject[]
}

interface WatchLine {
  type: string
  object: KubeObject & { code?: number; reason?: string; message?: string }
}

async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T; type: string | null }> {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as T, type: res.headers.get('content-type') }
}

/** A raw watch over node:http: lines collected as they arrive. */
interface RawWatch {
  status: number
  lines: WatchLine[]
  ended: Promise<void>
  close(): void
}

function rawWatch(url: string): Promise<RawWatch> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, (res: IncomingMessage) => {
      const lines: WatchLine[] = []
      const ended = new Promise<void>((done) => {
        res.on('close', () => done())
        res.on('error', () => done())
      })
      if (res.statusCode === 200) {
        createInterface({ input: res })
          .on('line', (l) => lines.push(JSON.parse(l) as WatchLine))
          .on('error', () => {}) // readline re-emits the reset of a closed stream
      } else {
        let text = ''
        res.on('data', (c: Buffer) => (text += c.toString()))
        res.on('end', () => lines.push({ type: 'HTTP', object: JSON.parse(text) as WatchLine['object'] }))
      }
      resolve({ status: res.statusCode ?? 0, lines, ended, close: () => req.destroy() })
    })
    req.on('error', reject)
  })
}

function kubeConfig(srv: FakeApiServer): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions(srv.kubeconfig())
  return kc
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

function svc(ns: string, name: string, ip: string, labels?: Record<string, string>): KubeObject {
  return service(labels === undefined ? { ns, name, clusterIPs: [ip], ports: [{ name: 'http', port: 80 }] } : { ns, name, clusterIPs: [ip], ports: [{ name: 'http', port: 80 }], labels })
}

// ---- unit: selectors ----

describe('selectors', () => {
  const L = { app: 'web', tier: 'front', ver: '3' }
  const rows: Array<[string, boolean]> = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (web,db)', true],
    ['app in (db)', false],
    ['app notin (db, cache)', true],
    ['missing notin (x)', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['app in (web),!missing,tier', true],
    ['ver>2', true],
    ['ver<2', false],
  ]
  for (const [sel, want] of rows) {
    test(`label ${JSON.stringify(sel)} → ${want}`, () => assert.equal(parseLabelSelector(sel).matches(L), want))
  }
  test('bad label selectors throw', () => {
    for (const bad of ['app=', 'a b', 'app in (x', '=x', 'app=bad value', ',']) {
      if (bad === 'app=') {
        // empty value is valid in Kubernetes ("app=" matches app set to "")
        assert.equal(parseLabelSelector(bad).matches({ app: '' }), true)
        continue
      }
      assert.throws(() => parseLabelSelector(bad), SelectorError, bad)
    }
  })
  test('field selectors', () => {
    const f = parseFieldSelector('status.phase!=Succeeded,status.phase!=Failed,metadata.name=a\\,b', ['status.phase', 'metadata.name'])
    assert.equal(f.matches((k) => (k === 'status.phase' ? 'Running' : 'a,b')), true)
    assert.equal(f.matches((k) => (k === 'status.phase' ? 'Failed' : 'a,b')), false)
    assert.throws(() => parseFieldSelector('spec.foo=x', ['metadata.name']), /field label not supported: spec.foo/)
  })
})

// ---- fixtures ----

describe('fixtures', () => {
  test('§15 fixture has the named objects', () => {
    const objs = kubernetesDnsSpecFixture()
    const names = objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
    for (const s of ['kubernetes', 'kube-dns', 'web', 'db', 'workers', 'ext', 'empty', 'lonely', 'alias', 'dangling']) {
      assert.ok(names.some((n) => n.startsWith('Service/') && n.endsWith(`/${s}`)), s)
    }
    const web = objs.find((o) => o.metadata.name === 'web')!
    assert.deepEqual((web['spec'] as { clusterIPs: string[] }).clusterIPs, ['10.96.10.20', 'fd00:96::20'])
    const db = objs.find((o) => o.kind === 'EndpointSlice' && o.metadata.labels?.['kubernetes.io/service-name'] === 'db')!
    const eps = db['endpoints'] as Array<{ addresses: string[]; hostname: string; conditions: { ready: boolean } }>
    assert.deepEqual(
      eps.map((e) => [e.hostname, e.addresses[0], e.conditions.ready]),
      [
        ['db-0', '10.244.1.5', true],
        ['db-1', '10.244.2.7', true],
        ['db-2', '10.244.3.9', false],
      ],
    )
    const workers = objs.find((o) => o.kind === 'EndpointSlice' && o.metadata.labels?.['kubernetes.io/service-name'] === 'workers')!
    assert.equal(workers['ports'], null)
    assert.equal((objs.find((o) => o.metadata.name === 'ext')!['spec'] as { externalName: string }).externalName, 'api.example.com')
  })

  test('generateCluster is deterministic, covers every pod once, slices ≤ 100 endpoints', () => {
    const shape = { pods: 3000, services: 200, nodes: 100, seed: 7 }
    const a = [...generateCluster(shape)]
    const b = [...generateCluster(shape)]
    assert.equal(JSON.stringify(a), JSON.stringify(b))
    const pods = a.filter((o) => o.kind === 'Pod')
    const svcs = a.filter((o) => o.kind === 'Service')
    assert.equal(pods.length, 3000)
    assert.equal(svcs.length, 200)
    const podIPs = new Set(pods.map((p) => (p['status'] as { podIP: string }).podIP))
    assert.equal(podIPs.size, 3000)
    const covered = new Set<string>()
    for (const s of a.filter((o) => o.kind === 'EndpointSlice')) {
      const eps = s['endpoints'] as Array<{ addresses: string[] }>
      assert.ok(eps.length <= 100)
      for (const e of eps) {
        assert.ok(!covered.has(e.addresses[0]!))
        covered.add(e.addresses[0]!)
      }
    }
    assert.deepEqual([...covered].sort(), [...podIPs].sort())
    const types = new Set(svcs.map((s) => ((s['spec'] as { clusterIP?: string; type: string }).clusterIP === 'None' ? 'headless' : (s['spec'] as { type: string }).type)))
    assert.deepEqual([...types].sort(), ['ClusterIP', 'ExternalName', 'headless'])
    const names = new Set(a.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`))
    assert.equal(names.size, a.length)
  })
})

// ---- raw HTTP ----

describe('raw HTTP', () => {
  const errors: unknown[] = []
  const srv = new FakeApiServer({ bookmarkIntervalMs: 50, onError: (e) => errors.push(e) })
  before(async () => {
    await srv.start()
  })
  after(async () => {
    await srv.stop()
    assert.deepEqual(errors, [])
  })

  test('discovery documents and health', async () => {
    const v = await getJson<{ major: string; gitVersion: string }>(`${srv.url}/version`)
    assert.equal(v.status, 200)
    assert.equal(v.body.major, '1')
    const api = await getJson<{ kind: string; versions: string[] }>(`${srv.url}/api`)
    assert.deepEqual([api.body.kind, api.body.versions], ['APIVersions', ['v1']])
    const apis = await getJson<{ kind: string; groups: Array<{ name: string }> }>(`${srv.url}/apis`)
    assert.equal(apis.body.kind, 'APIGroupList')
    assert.deepEqual(apis.body.groups.map((g) => g.name), ['discovery.k8s.io'])
    const v1 = await getJson<{ kind: string; resources: Array<{ name: string; namespaced: boolean }> }>(`${srv.url}/api/v1`)
    assert.equal(v1.body.kind, 'APIResourceList')
    assert.deepEqual(v1.body.resources.map((r) => r.name).sort(), ['namespaces', 'pods', 'services'])
    const disc = await getJson<{ resources: Array<{ name: string; kind: string }> }>(`${srv.url}/apis/discovery.k8s.io/v1`)
    assert.deepEqual(disc.body.resources.map((r) => r.kind), ['EndpointSlice'])
    const h = await fetch(`${srv.url}/healthz`)
    assert.deepEqual([h.status, await h.text()], [200, 'ok'])
    const nf = await getJson<{ kind: string; code: number; reason: string }>(`${srv.url}/api/v1/nodes`)
    assert.deepEqual([nf.status, nf.body.kind, nf.body.code, nf.body.reason], [404, 'Status', 404, 'NotFound'])
  })

  test('list shape, stamped metadata, get, namespaced paths', async () => {
    const rv0 = srv.resourceVersion
    srv.create(namespace('shape'))
    srv.create(svc('shape', 'a', '10.96.1.1'))
    srv.create(endpointSlice({ ns: 'shape', name: 'a-xyz', service: 'a', ports: [{ name: 'http', port: 80 }], endpoints: [{ addresses: ['10.1.0.1'] }] }))
    const l = await getJson<ListBody>(`${srv.url}/api/v1/namespaces/shape/services`)
    assert.equal(l.status, 200)
    assert.equal(l.type, 'application/json')
    assert.equal(l.body.kind, 'ServiceList')
    assert.equal(l.body.apiVersion, 'v1')
    assert.equal(l.body.metadata.resourceVersion, String(rv0 + 3))
    assert.equal(l.body.items.length, 1)
    const item = l.body.items[0]!
    assert.equal(item.kind, 'Service')
    assert.equal(item.metadata.resourceVersion, String(rv0 + 2))
    assert.match(item.metadata.uid ?? '', /^[0-9a-f-]{36}$/)
    assert.match(item.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    const es = await getJson<ListBody>(`${srv.url}/apis/discovery.k8s.io/v1/namespaces/shape/endpointslices`)
    assert.deepEqual([es.body.kind, es.body.apiVersion, es.body.items.length], ['EndpointSliceList', 'discovery.k8s.io/v1', 1])
    const one = await getJson<KubeObject>(`${srv.url}/api/v1/namespaces/shape/services/a`)
    assert.deepEqual(one.body, item)
    const ns = await getJson<KubeObject>(`${srv.url}/api/v1/namespaces/shape`)
    assert.equal(ns.body.kind, 'Namespace')
    const missing = await getJson<{ message: string; details: { name: string; kind: string } }>(`${srv.url}/api/v1/namespaces/shape/services/zzz`)
    assert.equal(missing.status, 404)
    assert.equal(missing.body.message, 'services "zzz" not found')
    assert.equal(srv.update(svc('shape', 'a', '10.96.1.2')).metadata.uid, item.metadata.uid)
    assert.equal(srv.get('Service', 'shape', 'a')?.metadata.creationTimestamp, item.metadata.creationTimestamp)
  })

  test('pagination: exactly once, remainingItemCount, snapshot-consistent, expired token', async () => {
    srv.create(namespace('page'))
    for (let i = 0; i < 25; i++) srv.create(pod({ ns: 'page', name: `p-${String(i).padStart(2, '0')}`, ip: `10.2.0.${i + 1}` }))
    const first = await getJson<ListBody>(`${srv.url}/api/v1/namespaces/page/pods?limit=10`)
    assert.equal(first.body.items.length, 10)
    assert.equal(first.body.metadata.remainingItemCount, 15)
    const snapRv = first.body.metadata.resourceVersion
    // changes between pages are not visible in later pages of the same list
    srv.remove('Pod', 'page', 'p-15')
    srv.create(pod({ ns: 'page', name: 'p-99', ip: '10.2.0.99' }))
    srv.update(pod({ ns: 'page', name: 'p-20', ip: '10.2.0.120' }))
    const names = first.body.items.map((p) => p.metadata.name)
    let cont = first.body.metadata.continue!
    for (let guard = 0; cont !== undefined && guard < 10; guard++) {
      const p = await getJson<ListBody>(`${srv.url}/api/v1/namespaces/page/pods?limit=10&continue=${encodeURIComponent(cont)}`)
      assert.equal(p.body.metadata.resourceVersion, snapRv)
      names.push(...p.body.items.map((i) => i.metadata.name!))
      const p20 = p.body.items.find((i) => i.metadata.name === 'p-20')
      if (p20 !== undefined) assert.equal((p20['status'] as { podIP: string }).podIP, '10.2.0.21')
      cont = p.body.metadata.continue!
    }
    assert.deepEqual(names, Array.from({ length: 25 }, (_, i) => `p-${String(i).padStart(2, '0')}`))
    // an expired continue token → 410 Expired
    const again = await getJson<ListBody>(`${srv.url}/api/v1/pods?limit=5`)
    srv.create(pod({ ns: 'page', name: 'p-101', ip: '10.2.0.101' }))
    srv.compact() // the token's resourceVersion is now older than the compaction point
    srv.create(pod({ ns: 'page', name: 'p-100', ip: '10.2.0.100' }))
    const gone = await getJson<{ kind: string; code: number; reason: string }>(`${srv.url}/api/v1/pods?limit=5&continue=${encodeURIComponent(again.body.metadata.continue!)}`)
    assert.deepEqual([gone.status, gone.body.kind, gone.body.code, gone.body.reason], [410, 'Status', 410, 'Expired'])
    const bad = await fetch(`${srv.url}/api/v1/pods?continue=garbage`)
    assert.equal(bad.status, 400)
  })

  test('resourceVersion / resourceVersionMatch on lists', async () => {
    srv.create(namespace('rvm'))
    srv.create(svc('rvm', 'one', '10.96.3.1'))
    const rv = srv.resourceVersion
    srv.create(svc('rvm', 'two', '10.96.3.2'))
    const exact = await getJson<ListBody>(`${srv.url}/api/v1/namespaces/rvm/services?resourceVersion=${rv}&resourceVersionMatch=Exact`)
    assert.deepEqual([exact.body.metadata.resourceVersion, exact.body.items.map((i) => i.metadata.name)], [String(rv), ['one']])
    const any = await getJson<ListBody>(`${srv.url}/api/v1/namespaces/rvm/services?resourceVersion=0`)
    assert.equal(any.body.items.length, 2)
    const future = await fetch(`${srv.url}/api/v1/services?resourceVersion=${srv.resourceVersion + 100}&resourceVersionMatch=NotOlderThan`)
    assert.equal(future.status, 504)
    const bad = await fetch(`${srv.url}/api/v1/services?resourceVersionMatch=Exact`)
    assert.equal(bad.status, 400)
  })

  test('label and field selectors on lists', async () => {
    srv.create(namespace('sel'))
    srv.create(pod({ ns: 'sel', name: 'a', ip: '10.3.0.1', labels: { app: 'web', tier: 'front' } }))
    srv.create(pod({ ns: 'sel', name: 'b', ip: '10.3.0.2', labels: { app: 'db' }, phase: 'Succeeded' }))
    srv.create(pod({ ns: 'sel', name: 'c', ip: '10.3.0.3', labels: { app: 'web' }, phase: 'Failed' }))
    const names = async (q: string): Promise<string[]> =>
      (await getJson<ListBody>(`${srv.url}/api/v1/namespaces/sel/pods?${q}`)).body.items.map((i) => i.metadata.name!)
    assert.deepEqual(await names('labelSelector=app%3Dweb'), ['a', 'c'])
    assert.deepEqual(await names('labelSelector=app%20in%20(db)'), ['b'])
    assert.deepEqual(await names('labelSelector=!tier'), ['b', 'c'])
    assert.deepEqual(await names('labelSelector=app%3Dweb,tier'), ['a'])
    assert.deepEqual(await names('fieldSelector=status.phase!%3DSucceeded,status.phase!%3DFailed'), ['a'])
    assert.deepEqual(await names('fieldSelector=metadata.name%3Db'), ['b'])
    assert.deepEqual(await names('fieldSelector=metadata.namespace%3Dother'), [])
    // selectors with limit: the page is filled with matching items
    const page = await getJson<ListBody>(`${srv.url}/api/v1/pods?labelSelector=app%3Dweb&limit=1`)
    assert.equal(page.body.items.length, 1)
    assert.equal(page.body.metadata.remainingItemCount, undefined)
    assert.ok(page.body.metadata.continue !== undefined)
    const badL = await getJson<{ code: number; reason: string }>(`${srv.url}/api/v1/pods?labelSelector=a%20b`)
    assert.deepEqual([badL.status, badL.body.reason], [400, 'BadRequest'])
    const badF = await getJson<{ message: string }>(`${srv.url}/api/v1/pods?fieldSelector=spec.foo%3Dx`)
    assert.equal(badF.status, 400)
    assert.match(badF.body.message, /field label not supported: spec.foo/)
  })

  test('watch: replay from resourceVersion, live events, selector enter/leave', async () => {
    srv.create(namespace('w'))
    const rv = srv.resourceVersion
    srv.create(svc('w', 's1', '10.96.4.1', { app: 'x' }))
    const w = await rawWatch(`${srv.url}/api/v1/namespaces/w/services?watch=true&resourceVersion=${rv}`)
    const ws = await rawWatch(`${srv.url}/api/v1/services?watch=1&resourceVersion=${srv.resourceVersion}&labelSelector=app%3Dx`)
    assert.equal(w.status, 200)
    srv.update(svc('w', 's1', '10.96.4.1', { app: 'y' })) // leaves app=x
    srv.update(svc('w', 's1', '10.96.4.1', { app: 'x' })) // enters again
    srv.create(svc('other', 's9', '10.96.4.9', { app: 'x' }))
    srv.remove('Service', 'w', 's1')
    await srv.waitFor(() => w.lines.length >= 4 && ws.lines.length >= 4, 3000, 'watch lines')
    assert.deepEqual(
      w.lines.map((l) => [l.type, l.object.metadata.name]),
      [
        ['ADDED', 's1'],
        ['MODIFIED', 's1'],
        ['MODIFIED', 's1'],
        ['DELETED', 's1'],
      ],
    )
    const rvs = w.lines.map((l) => Number(l.object.metadata.resourceVersion))
    assert.deepEqual(rvs, [...rvs].sort((a, b) => a - b))
    assert.equal(rvs[3], srv.resourceVersion) // DELETED carries the deletion's resourceVersion
    assert.deepEqual(
      ws.lines.map((l) => [l.type, l.object.metadata.name, l.object.metadata.labels?.['app']]),
      [
        ['DELETED', 's1', 'x'], // the previous state, stamped with the event's rv
        ['ADDED', 's1', 'x'],
        ['ADDED', 's9', 'x'],
        ['DELETED', 's1', 'x'],
      ],
    )
    assert.equal(ws.lines[0]!.object.metadata.resourceVersion, w.lines[1]!.object.metadata.resourceVersion)
    w.close()
    ws.close()
    await Promise.all([w.ended, ws.ended])
    await srv.waitFor(() => srv.watchCount() === 0, 2000, 'watches closed')
  })

  test('watch: resourceVersion 0 / absent sends synthetic ADDED; field selectors apply', async () => {
    srv.create(namespace('z'))
    srv.create(pod({ ns: 'z', name: 'run', ip: '10.4.0.1' }))
    srv.create(pod({ ns: 'z', name: 'done', ip: '10.4.0.2', phase: 'Succeeded' }))
    for (const rvq of ['&resourceVersion=0', '']) {
      const w = await rawWatch(`${srv.url}/api/v1/namespaces/z/pods?watch=true${rvq}&fieldSelector=status.phase!%3DSucceeded`)
      srv.update(pod({ ns: 'z', name: 'run', ip: '10.4.0.1', phase: 'Succeeded' })) // leaves the field selector
      await srv.waitFor(() => w.lines.length >= 2, 3000, 'lines')
      assert.deepEqual(
        w.lines.map((l) => [l.type, l.object.metadata.name]),
        [
          ['ADDED', 'run'],
          ['DELETED', 'run'],
        ],
      )
      w.close()
      srv.update(pod({ ns: 'z', name: 'run', ip: '10.4.0.1' }))
    }
  })

  test('watch: bookmarks, timeoutSeconds, sendInitialEvents', async () => {
    const w = await rawWatch(`${srv.url}/api/v1/namespaces?watch=true&resourceVersion=${srv.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=1`)
    await srv.waitFor(() => w.lines.some((l) => l.type === 'BOOKMARK'), 3000, 'bookmark')
    const b = w.lines.find((l) => l.type === 'BOOKMARK')!
    assert.deepEqual(b.object, { kind: 'Namespace', apiVersion: 'v1', metadata: { resourceVersion: String(srv.resourceVersion) } })
    const t0 = Date.now()
    await withTimeout(w.ended, 3000, 'timeoutSeconds end')
    assert.ok(Date.now() - t0 < 2900) // ended by the 1 s timeout, not the 3 s guard
    const noBm = await rawWatch(`${srv.url}/api/v1/namespaces?watch=true&resourceVersion=${srv.resourceVersion}&timeoutSeconds=1`)
    await withTimeout(noBm.ended, 3000, 'end')
    assert.deepEqual(noBm.lines, [])
    const si = await rawWatch(`${srv.url}/api/v1/namespaces?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`)
    await srv.waitFor(() => si.lines.some((l) => l.type === 'BOOKMARK'), 3000, 'initial-events-end')
    const idx = si.lines.findIndex((l) => l.type === 'BOOKMARK')
    assert.equal(idx, srv.count('Namespace'))
    assert.equal(si.lines[idx]!.object.metadata.annotations?.['k8s.io/initial-events-end'], 'true')
    si.close()
  })

  test('watch: compacted resourceVersion → ERROR 410 event (default) or HTTP 410', async () => {
    const old = srv.resourceVersion
    srv.create(namespace('compact-me'))
    srv.compact()
    const w = await rawWatch(`${srv.url}/api/v1/namespaces?watch=true&resourceVersion=${old}`)
    assert.equal(w.status, 200)
    await withTimeout(w.ended, 3000, 'stream end after ERROR')
    assert.equal(w.lines.length, 1)
    assert.equal(w.lines[0]!.type, 'ERROR')
    assert.deepEqual(
      [w.lines[0]!.object.kind, w.lines[0]!.object.code, w.lines[0]!.object.reason],
      ['Status', 410, 'Expired'],
    )
    assert.match(w.lines[0]!.object.message ?? '', /^too old resource version: \d+ \(\d+\)$/)
    // the current rv itself is still fine
    const ok = await rawWatch(`${srv.url}/api/v1/namespaces?watch=true&resourceVersion=${srv.resourceVersion}&timeoutSeconds=1`)
    await withTimeout(ok.ended, 3000, 'ok end')
    assert.deepEqual(ok.lines, [])
    srv.expiredWatch = 'http'
    try {
      const h = await rawWatch(`${srv.url}/api/v1/namespaces?watch=true&resourceVersion=${old}`)
      await withTimeout(h.ended, 3000, 'http 410')
      assert.equal(h.status, 410)
      assert.equal(h.lines[0]!.object.reason, 'Expired')
    } finally {
      srv.expiredWatch = 'event'
    }
  })

  test('request log, failNext, latency, onEvent hook, dropWatches', async () => {
    const seen: Array<[string, string, number]> = []
    const off = srv.onEvent((type, obj, rv, at) => {
      seen.push([type, obj.metadata.name!, rv])
      assert.ok(Math.abs(at - Date.now()) < 1000)
    })
    srv.create(namespace('hooked'))
    srv.remove('Namespace', 'hooked')
    off()
    srv.create(namespace('unhooked'))
    assert.deepEqual(seen, [
      ['ADDED', 'hooked', srv.resourceVersion - 2],
      ['DELETED', 'hooked', srv.resourceVersion - 1],
    ])
    srv.failNext(2, 503)
    const r1 = await fetch(`${srv.url}/api/v1/pods?limit=1`)
    const r2 = await fetch(`${srv.url}/api/v1/pods?limit=1`)
    const r3 = await fetch(`${srv.url}/api/v1/pods?limit=1`)
    assert.deepEqual([r1.status, r2.status, r3.status], [503, 503, 200])
    assert.equal(((await r1.json()) as { reason: string }).reason, 'ServiceUnavailable')
    const last = srv.requests.slice(-3)
    assert.deepEqual(last.map((r) => [r.method, r.path, r.query['limit'], r.status, r.watch]), [
      ['GET', '/api/v1/pods', '1', 503, false],
      ['GET', '/api/v1/pods', '1', 503, false],
      ['GET', '/api/v1/pods', '1', 200, false],
    ])
    srv.failNext(1, 500, (r) => r.watch)
    assert.equal((await fetch(`${srv.url}/api/v1/pods?limit=1`)).status, 200)
    const fw = await rawWatch(`${srv.url}/api/v1/pods?watch=true`)
    assert.equal(fw.status, 500)
    srv.latencyMs = 100
    const t0 = Date.now()
    await fetch(`${srv.url}/healthz`)
    assert.ok(Date.now() - t0 >= 90)
    srv.latencyMs = 0
    const w1 = await rawWatch(`${srv.url}/api/v1/pods?watch=true&resourceVersion=${srv.resourceVersion}`)
    const w2 = await rawWatch(`${srv.url}/api/v1/services?watch=true&resourceVersion=${srv.resourceVersion}`)
    await srv.waitForWatches(2)
    assert.equal(srv.watchCount('Pod'), 1)
    assert.equal(srv.dropWatches(), 2)
    await withTimeout(Promise.all([w1.ended, w2.ended]), 3000, 'dropped')
    assert.equal(srv.watchCount(), 0)
  })
})

// ---- @kubernetes/client-node ----

describe('@kubernetes/client-node against the fake server (http://)', () => {
  const errors: unknown[] = []
  const srv = new FakeApiServer({ bookmarkIntervalMs: 50, onError: (e) => errors.push(e) })
  let kc: KubeConfig
  let core: CoreV1Api
  before(async () => {
    await srv.start()
    // client-node 1.x refuses http:// clusters unless skipTLSVerify is set (see README).
    kc = kubeConfig(srv)
    core = kc.makeApiClient(CoreV1Api)
    for (const o of kubernetesDnsSpecFixture()) srv.create(o)
  })
  after(async () => {
    await srv.stop()
    assert.deepEqual(errors, [])
  })

  test('http:// without skipTLSVerify is refused by client-node (documented workaround)', async () => {
    const raw = new KubeConfig()
    raw.loadFromOptions({ ...srv.kubeconfig(), clusters: [{ name: 'fake', server: srv.url }] })
    await assert.rejects(raw.makeApiClient(CoreV1Api).listNamespace(), /HTTP protocol is not allowed when skipTLSVerify is not set/)
  })

  test('typed lists and pagination return everything exactly once', async () => {
    const ns = await core.listNamespace()
    assert.deepEqual(ns.items.map((n) => n.metadata?.name), ['default', 'kube-system', 'prod'])
    const es = await kc.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces()
    assert.equal(es.items.length, 4)
    const db = es.items.find((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === 'db')!
    assert.deepEqual(db.endpoints.map((e) => [e.hostname, e.conditions?.ready]), [
      ['db-0', true],
      ['db-1', true],
      ['db-2', false],
    ])
    const all = await core.listServiceForAllNamespaces()
    const seen: string[] = []
    let cont: string | undefined
    let pages = 0
    do {
      const page = await core.listServiceForAllNamespaces(cont === undefined ? { limit: 3 } : { limit: 3, _continue: cont })
      assert.ok(page.items.length <= 3)
      seen.push(...page.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`))
      cont = page.metadata?._continue
      pages++
    } while (cont !== undefined && cont !== '' && pages < 20)
    assert.equal(pages, 4)
    assert.deepEqual(seen, all.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`))
    assert.equal(new Set(seen).size, 10)
    const sel = await core.listNamespacedPod({ namespace: 'prod', labelSelector: 'app=db', fieldSelector: 'metadata.name!=db-1' })
    assert.deepEqual(sel.items.map((p) => p.metadata?.name), ['db-0', 'db-2'])
  })

  test('failNext: 500 surfaces as ApiException, then recovers', async () => {
    srv.failNext(1, 500)
    await assert.rejects(core.listNamespace(), (err: unknown) => err instanceof ApiException && err.code === 500)
    assert.equal((await core.listNamespace()).items.length, 3)
  })

  test('informer (list+watch) sees creates/updates/deletes in order; selector leave → delete', async () => {
    const inf = makeInformer<V1Service>(kc, '/api/v1/namespaces/prod/services', () => core.listNamespacedService({ namespace: 'prod' }))
    const got: string[] = []
    inf.on('add', (o) => got.push(`add ${o.metadata?.name}`))
    inf.on('update', (o) => got.push(`update ${o.metadata?.name} ${o.spec?.clusterIP}`))
    inf.on('delete', (o) => got.push(`delete ${o.metadata?.name}`))
    const labelled = makeInformer<V1Service>(
      kc,
      '/api/v1/services',
      () => core.listServiceForAllNamespaces({ labelSelector: 'tier=edge' }),
      'tier=edge',
    )
    const lgot: string[] = []
    labelled.on('add', (o) => lgot.push(`add ${o.metadata?.name}`))
    labelled.on('delete', (o) => lgot.push(`delete ${o.metadata?.name}`))
    try {
      await inf.start()
      await labelled.start()
      await srv.waitForWatches(2, 'Service')
      assert.equal(got.length, 8) // prod's services from the list
      got.length = 0
      srv.create(svc('prod', 'new1', '10.96.20.1', { tier: 'edge' }))
      srv.update(svc('prod', 'new1', '10.96.20.2', { tier: 'edge' }))
      srv.create(svc('prod', 'new2', '10.96.20.3'))
      srv.update(svc('prod', 'new1', '10.96.20.2', { tier: 'core' })) // leaves tier=edge
      srv.remove('Service', 'prod', 'new1')
      srv.create(svc('default', 'elsewhere', '10.96.20.9'))
      await srv.waitFor(() => got.length >= 5 && lgot.length >= 2, 3000, 'informer events')
      assert.deepEqual(got, ['add new1', 'update new1 10.96.20.2', 'add new2', 'update new1 10.96.20.2', 'delete new1'])
      assert.deepEqual(lgot, ['add new1', 'delete new1'])
      assert.equal(labelled.list().length, 0)
      assert.deepEqual(inf.list('prod').map((s) => s.metadata?.name).sort(), ['alias', 'dangling', 'db', 'empty', 'ext', 'lonely', 'new2', 'web', 'workers'])
      srv.remove('Service', 'prod', 'new2')
      srv.remove('Service', 'default', 'elsewhere')
    } finally {
      await inf.stop()
      await labelled.stop()
    }
  })

  test('Watch: bookmarks arrive, and dropWatches ends the stream', async () => {
    const watch = new Watch(kc)
    const types: string[] = []
    let doneErr: unknown = 'not called'
    const ctl = await watch.watch(
      '/api/v1/pods',
      { allowWatchBookmarks: true, resourceVersion: String(srv.resourceVersion) },
      (type: string) => types.push(type),
      (err: unknown) => {
        doneErr = err
      },
    )
    try {
      await srv.waitFor(() => types.filter((t) => t === 'BOOKMARK').length >= 2, 3000, 'bookmarks')
      srv.dropWatches('end')
      await srv.waitFor(() => doneErr !== 'not called', 3000, 'done callback')
      assert.equal(doneErr, null)
    } finally {
      ctl.abort()
    }
  })

  test('410: compacted watch makes the informer relist; objects deleted meanwhile disappear', async () => {
    const inf = makeInformer<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces())
    const deleted: string[] = []
    let stopped = false
    inf.on('delete', (o) => deleted.push(o.metadata?.name ?? ''))
    try {
      await inf.start()
      await srv.waitForWatches(1, 'Pod')
      assert.equal(inf.list().length, 7)
      const lists = srv.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch).length
      // Make the informer miss a delete: drop its watch, delete and compact before it resumes.
      srv.failNext(1, 503, (r) => r.watch) // keeps it from resuming at once
      srv.dropWatches()
      srv.remove('Pod', 'prod', 'workers-7d9f-xyz')
      srv.compact()
      // client-node's ListWatch stops on a non-410 error; restart it like a real informer would
      inf.on('error', () => {
        if (!stopped) setTimeout(() => void (stopped ? undefined : inf.start()), 20)
      })
      await srv.waitFor(() => deleted.includes('workers-7d9f-xyz'), 5000, 'relist removes the pod')
      assert.ok(srv.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch).length > lists, 'relisted')
      assert.ok(srv.requests.some((r) => r.path === '/api/v1/pods' && r.watch && r.status === 200))
      assert.equal(inf.list().length, 6)
      srv.create(pod({ ns: 'prod', name: 'workers-7d9f-xyz', ip: '10.244.2.9', nodeName: 'node-2', labels: { app: 'workers' } }))
    } finally {
      stopped = true
      await inf.stop()
    }
  })

  test('outage: stop()/start(samePort) — a watch resumes from the last resourceVersion and replays missed events', async () => {
    const watch = new Watch(kc)
    const events: Array<[string, string]> = []
    let lastRv = String(srv.resourceVersion)
    let dones = 0
    const onEvent = (type: string, obj: KubernetesObject): void => {
      lastRv = obj.metadata?.resourceVersion ?? lastRv
      if (type !== 'BOOKMARK') events.push([type, obj.metadata?.name ?? ''])
    }
    let ctl = await watch.watch('/api/v1/namespaces', { resourceVersion: lastRv }, onEvent, () => dones++)
    try {
      srv.create(namespace('before'))
      await srv.waitFor(() => events.length === 1, 3000, 'first event')
      const port = srv.port
      await srv.stop()
      await srv.waitFor(() => dones === 1, 3000, 'watch done on outage')
      // reconnecting while the server is away fails
      let refused: unknown
      await watch.watch('/api/v1/namespaces', { resourceVersion: lastRv }, onEvent, (e: unknown) => {
        refused = e
      })
      await srv.waitFor(() => refused !== undefined, 3000, 'connection refused')
      assert.match(String((refused as { code?: string }).code ?? refused), /ECONNREFUSED/)
      // changes while the server is away
      srv.create(namespace('during-1'))
      srv.update(namespace('before', { changed: 'yes' }))
      srv.remove('Namespace', 'during-1')
      await srv.start(port)
      assert.equal(srv.port, port)
      ctl = await watch.watch('/api/v1/namespaces', { resourceVersion: lastRv }, onEvent, () => dones++)
      await srv.waitFor(() => events.length === 4, 3000, 'replayed events')
      assert.deepEqual(events, [
        ['ADDED', 'before'],
        ['ADDED', 'during-1'],
        ['MODIFIED', 'before'],
        ['DELETED', 'during-1'],
      ])
      assert.equal(lastRv, String(srv.resourceVersion))
    } finally {
      ctl.abort()
    }
  })
})

describe('https + bearer token', () => {
  const dir = fileURLToPath(new URL('../../../test/fixtures/tls/', import.meta.url))
  const srv = new FakeApiServer({
    tls: { cert: readFileSync(`${dir}server.crt`), key: readFileSync(`${dir}server.key`) },
    token: 's3cret',
  })
  before(async () => {
    await srv.start()
    srv.create(namespace('secure'))
  })
  after(async () => {
    await srv.stop()
  })

  test('client-node with the token lists; without it gets 401; health is open', async () => {
    assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    const kc = kubeConfig(srv)
    const list = await kc.makeApiClient(CoreV1Api).listNamespace()
    assert.deepEqual(list.items.map((n) => n.metadata?.name), ['secure'])
    const noTok = new KubeConfig()
    noTok.loadFromOptions({ ...srv.kubeconfig(), users: [{ name: 'fake-user' }] })
    await assert.rejects(noTok.makeApiClient(CoreV1Api).listNamespace(), (err: unknown) => err instanceof ApiException && err.code === 401)
    const events: string[] = []
    const ctl = await new Watch(kc).watch('/api/v1/namespaces', {}, (t: string, o: KubernetesObject) => events.push(`${t} ${o.metadata?.name}`), () => {})
    try {
      await srv.waitFor(() => events.length === 1, 3000, 'https watch')
      assert.deepEqual(events, ['ADDED secure'])
    } finally {
      ctl.abort()
    }
    assert.ok(srv.requests.some((r) => r.status === 401))
  })
})

describe('scale', () => {
  const srv = new FakeApiServer()
  before(async () => {
    await srv.start()
  })
  after(async () => {
    await srv.stop()
  })

  test('a generated cluster (1/10 size) loads and lists paginated, consistent counts', async () => {
    const n = srv.load(generateCluster({ pods: 15_000, services: 820, nodes: 500, seed: 3 })) // timings: bench.ts
    assert.equal(srv.count('Pod'), 15_000)
    assert.equal(srv.count('Service'), 820)
    assert.equal(n, srv.count('Pod') + srv.count('Service') + srv.count('EndpointSlice') + srv.count('Namespace'))
    // history starts after the load: watching from 0-rv of the load is expired
    const w = await rawWatch(`${srv.url}/api/v1/pods?watch=true&resourceVersion=1`)
    await withTimeout(w.ended, 3000, 'expired')
    assert.equal(w.lines[0]?.type, 'ERROR')
    let cont = ''
    let items = 0
    let pages = 0
    let firstRemaining = -1
    for (; pages < 100; ) {
      const r = await getJson<ListBody>(`${srv.url}/api/v1/pods?limit=500${cont === '' ? '' : `&continue=${encodeURIComponent(cont)}`}`)
      if (firstRemaining < 0) firstRemaining = r.body.metadata.remainingItemCount ?? 0
      items += r.body.items.length
      pages++
      cont = r.body.metadata.continue ?? ''
      if (cont === '') break
    }
    assert.equal(items, 15_000)
    assert.equal(pages, 30)
    assert.equal(firstRemaining, 14_500)
  })
})
