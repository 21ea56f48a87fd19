// Reflector integration against the fake API server (test/fake-apiserver): list pagination,
// watch events, bookmarks, stream ends, 410 relists, outages, selectors, auth.

import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { endpointSlice, namespace, pod, service } from '../../test/fake-apiserver/fixtures.js'
import { FakeApiServer, type FakeApiServerOptions } from '../../test/fake-apiserver/server.js'
import { memoryLogger } from '../log/logger.js'
import type { KubeSourceOptions } from './model.js'
import type { Reflector } from './reflector.js'
import { acquireSource, runningSources, type SourceTuning } from './source.js'

const root = join(fileURLToPath(import.meta.url), '..', '..', '..', '..')
const CERT = readFileSync(join(root, 'test/fixtures/tls/server.crt'))
const KEY = readFileSync(join(root, 'test/fixtures/tls/server.key'))
const dir = mkdtempSync(join(tmpdir(), 'kube-reflector-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const FAST: SourceTuning = { backoff: { initialMs: 20, maxMs: 100 } }

function opts(o: Partial<KubeSourceOptions>): KubeSourceOptions {
  return {
    endpoint: null,
    tls: null,
    kubeconfig: null,
    snapshot: null,
    namespaces: null,
    namespaceLabels: null,
    labels: null,
    pods: false,
    endpoints: true,
    targetNames: true,
    qps: null,
    burst: null,
    maxInflight: null,
    ...o,
  }
}

async function until(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
  assert.equal(runningSources(), 0)
})

async function fake(o: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const f = await new FakeApiServer(o).start()
  cleanup.push(() => f.stop())
  return f
}

function start(o: KubeSourceOptions, tuning: SourceTuning = FAST) {
  const { log, lines } = memoryLogger()
  const src = acquireSource(o, log, tuning)
  cleanup.push(() => src.release())
  const refl = (kind: string): Reflector => src.shared.reflectors.find((r) => r.kind === kind)!
  return { src, view: src.view, lines, refl, store: src.shared.store }
}

function seed(f: FakeApiServer, n = 5): void {
  f.create(namespace('prod'))
  f.create(namespace('dev'))
  for (let i = 0; i < n; i++) {
    f.create(service({ ns: 'prod', name: `s${i}`, clusterIPs: [`10.0.0.${i + 1}`], ports: [{ name: 'http', port: 80 }] }))
    f.create(endpointSlice({ ns: 'prod', name: `s${i}-a`, service: `s${i}`, ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: [`10.1.0.${i + 1}`] }] }))
  }
}

describe('reflector against the fake API server', () => {
  it('syncs with pagination, then applies watch events', async () => {
    const f = await fake()
    seed(f, 7)
    const { src, view, refl } = start(opts({ endpoint: f.url }), { ...FAST, pageSize: 2 })
    assert.equal(await src.waitSynced(5000), true)
    assert.equal(view.synced, true)
    assert.equal(view.service('prod', 's6')?.clusterIPs[0], '10.0.0.7')
    assert.equal(view.slicesOf('prod', 's3').length, 1)
    assert.equal(view.namespaceExists('dev'), true)
    const pages = f.requests.filter((r) => !r.watch && r.path === '/api/v1/services')
    assert.equal(pages.length, 4, '7 services in pages of 2')
    assert.ok(pages.every((r) => r.query['limit'] === '2'))
    assert.ok(pages.slice(1).every((r) => r.query['continue'] !== undefined))
    assert.match(src.progress(), /^services 7, endpointslices 7, namespaces 2 synced in \d+\.\ds$/)

    await f.waitForWatches(3)
    const w = f.requests.find((r) => r.watch && r.path === '/api/v1/services')!
    assert.equal(w.query['allowWatchBookmarks'], 'true')
    assert.match(w.query['resourceVersion'] ?? '', /^\d+$/, 'watch starts from the list version')
    assert.ok(Number(w.query['resourceVersion']) <= Number(refl('services').resourceVersion))

    f.create(service({ ns: 'prod', name: 'new', clusterIPs: ['10.0.0.100'] }))
    await until(() => view.service('prod', 'new') !== undefined, 2000, 'ADDED applied')
    assert.equal(view.servicesByIP('10.0.0.100').length, 1)
    f.remove('Service', 'prod', 's0')
    await until(() => view.service('prod', 's0') === undefined, 2000, 'DELETED applied')
    const s = f.get('EndpointSlice', 'prod', 's1-a')!
    ;(s as unknown as { endpoints: Array<{ conditions: { ready: boolean } }> }).endpoints[0]!.conditions.ready = false
    f.update(s)
    await until(() => view.slicesByIP('10.1.0.2').length === 0, 2000, 'MODIFIED applied')
    assert.equal(refl('services').lists, 1)
  })

  it('tracks bookmarks', async () => {
    const f = await fake({ bookmarkIntervalMs: 20 })
    seed(f, 1)
    const { src, refl } = start(opts({ endpoint: f.url }))
    assert.equal(await src.waitSynced(5000), true)
    const r = refl('services')
    const rv0 = r.resourceVersion
    // a change of another kind moves the global resourceVersion; only a bookmark can tell us
    f.create(namespace('later'))
    await until(() => r.bookmarks > 0 && r.resourceVersion !== rv0, 3000, 'bookmark')
    assert.equal(r.resourceVersion, String(f.resourceVersion))
  })

  it('resumes an ended or broken stream from the last resourceVersion, without relisting', async () => {
    const f = await fake()
    seed(f, 2)
    const { src, view, refl } = start(opts({ endpoint: f.url }))
    assert.equal(await src.waitSynced(5000), true)
    await f.waitForWatches(3)
    for (const mode of ['end', 'destroy'] as const) {
      const before = refl('services').watches
      f.dropWatches(mode)
      // changes made while no watch is open are replayed by the next one
      f.create(service({ ns: 'prod', name: `after-${mode}`, clusterIPs: ['10.0.1.1'] }))
      await until(() => view.service('prod', `after-${mode}`) !== undefined, 3000, `resume after ${mode}`)
      assert.ok(refl('services').watches > before)
      f.remove('Service', 'prod', `after-${mode}`)
      await until(() => view.service('prod', `after-${mode}`) === undefined, 3000)
    }
    for (const r of src.shared.reflectors) assert.equal(r.lists, 1, `${r.kind} not relisted`)
    const rewatch = f.requests.filter((r) => r.watch && r.path === '/api/v1/services')
    assert.ok(rewatch.length >= 3)
    assert.ok(rewatch.slice(1).every((r) => r.query['resourceVersion'] !== undefined && r.query['resourceVersion'] !== ''))
  })

  for (const expiredWatch of ['event', 'http'] as const) {
    it(`relists on 410 (${expiredWatch}) and drops objects deleted meanwhile`, async () => {
      const f = await fake({ expiredWatch })
      seed(f, 3)
      const { src, view, refl, lines } = start(opts({ endpoint: f.url }))
      assert.equal(await src.waitSynced(5000), true)
      await f.waitForWatches(3)
      const port = f.port
      await f.stop()
      f.remove('Service', 'prod', 's1')
      f.create(service({ ns: 'prod', name: 'born', clusterIPs: ['10.0.2.1'] }))
      f.compact()
      assert.ok(view.service('prod', 's1'), 'keeps serving while the API is away')
      await f.start(port)
      await until(() => view.service('prod', 's1') === undefined && view.service('prod', 'born') !== undefined, 5000, 'relist')
      assert.deepEqual(view.servicesByIP('10.0.0.2'), [])
      assert.equal(refl('services').lists, 2)
      assert.ok(refl('services').relists >= 1)
      assert.ok(lines.some((l) => l.startsWith('[INFO]') && l.includes('relisting')))
    })
  }

  it('keeps serving through an outage and catches up within a second of the return', async () => {
    const f = await fake()
    seed(f, 3)
    const { src, view, refl, lines } = start(opts({ endpoint: f.url }), {}) // default backoff
    assert.equal(await src.waitSynced(5000), true)
    await f.waitForWatches(3)
    const port = f.port
    await f.stop()
    f.create(service({ ns: 'prod', name: 'during', clusterIPs: ['10.0.3.1'] }))
    f.remove('Service', 'prod', 's2')
    await new Promise((r) => setTimeout(r, 1500))
    assert.ok(view.service('prod', 's2'), 'last known records keep serving')
    assert.equal(view.synced, true)
    await f.start(port)
    const t0 = Date.now()
    await until(() => view.service('prod', 'during') !== undefined && view.service('prod', 's2') === undefined, 3000, 'catch-up')
    const ms = Date.now() - t0
    assert.ok(ms < 1000, `caught up in ${ms} ms`)
    for (const r of src.shared.reflectors) assert.equal(r.lists, 1, `${r.kind} resumed without relist`)
    assert.equal(refl('services').state, 'watching')
    assert.ok(lines.some((l) => l.startsWith('[WARNING]') && l.includes('retrying')))
    assert.ok(lines.some((l) => l.includes('reachable again')))
  })

  it('retries 5xx answers with backoff', async () => {
    const f = await fake()
    seed(f, 1)
    f.failNext(3, 503)
    const { src, view } = start(opts({ endpoint: f.url }))
    assert.equal(await src.waitSynced(5000), true)
    assert.ok(view.service('prod', 's0'))
    assert.ok(f.requests.filter((r) => r.status === 503).length === 3)
  })

  it('restarts a list whose continue token expired', async () => {
    const f = await fake({ latencyMs: 30 })
    seed(f, 6)
    const { src, view, refl } = start(opts({ endpoint: f.url, endpoints: false }), { ...FAST, pageSize: 2 })
    // after the first services page: delete one not yet listed and compact history
    await until(() => f.requests.some((r) => r.path === '/api/v1/services' && !r.watch), 3000)
    f.remove('Service', 'prod', 's5')
    f.compact()
    assert.equal(await src.waitSynced(5000), true)
    assert.equal(view.service('prod', 's5'), undefined)
    assert.equal(view.service('prod', 's4')?.name, 's4')
    assert.ok(f.requests.some((r) => r.path === '/api/v1/services' && r.status === 410))
    assert.equal(refl('services').lists, 1)
  })

  it('sends selectors and watches one namespace by path', async () => {
    const f = await fake()
    f.create(namespace('prod', { team: 'a' }))
    f.create(namespace('dev', { team: 'b' }))
    f.create(service({ ns: 'prod', name: 'web', clusterIPs: ['10.0.0.1'], labels: { app: 'web' } }))
    f.create(service({ ns: 'prod', name: 'db', clusterIPs: ['10.0.0.2'], labels: { app: 'db' } }))
    f.create(service({ ns: 'dev', name: 'web', clusterIPs: ['10.0.0.3'], labels: { app: 'web' } }))
    f.create(pod({ ns: 'prod', name: 'p1', ip: '10.2.0.1', labels: { app: 'web' } }))
    f.create(pod({ ns: 'prod', name: 'p2', ip: '10.2.0.2', labels: { app: 'web' }, phase: 'Succeeded' }))
    f.create(pod({ ns: 'prod', name: 'p3', ip: '10.2.0.3', labels: { app: 'web' }, deletionTimestamp: '2024-01-01T00:00:00Z' }))

    const a = start(opts({ endpoint: f.url, labels: 'app=web', namespaceLabels: 'team=a', pods: true }))
    assert.equal(await a.src.waitSynced(5000), true)
    assert.ok(a.view.service('prod', 'web'))
    assert.equal(a.view.service('prod', 'db'), undefined)
    assert.ok(a.view.service('dev', 'web'))
    assert.equal(a.view.namespaceExists('prod'), true)
    assert.equal(a.view.namespaceExists('dev'), false)
    assert.equal(a.view.podsByIP('10.2.0.1').length, 1)
    assert.equal(a.view.podsByIP('10.2.0.2').length, 0, 'field selector')
    assert.equal(a.view.podsByIP('10.2.0.3').length, 0, 'QUIRK: first seen terminating')
    const podList = f.requests.find((r) => r.path === '/api/v1/pods' && !r.watch)!
    assert.equal(podList.query['fieldSelector'], 'status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown')
    assert.equal(podList.query['labelSelector'], 'app=web')
    assert.equal(f.requests.find((r) => r.path === '/api/v1/namespaces')!.query['labelSelector'], 'team=a')
    // a label change moves a service out of the selector: the watch reports DELETED
    await f.waitForWatches(4)
    const web = f.get('Service', 'prod', 'web')!
    web.metadata.labels = { app: 'other' }
    f.update(web)
    await until(() => a.view.service('prod', 'web') === undefined, 2000, 'left the selector')

    const b = start(opts({ endpoint: f.url, namespaces: ['dev'] }))
    assert.equal(await b.src.waitSynced(5000), true)
    assert.ok(b.view.service('dev', 'web'))
    assert.equal(b.view.service('prod', 'db'), undefined)
    assert.equal(b.view.namespaceExists('prod'), false)
    assert.equal(b.view.namespaceExists('dev'), true)
    assert.ok(f.requests.some((r) => r.path === '/api/v1/namespaces/dev/services'))
    assert.ok(f.requests.some((r) => r.path === '/apis/discovery.k8s.io/v1/namespaces/dev/endpointslices'))
  })

  it('QUIRK: a pod modified into terminating keeps answering until deleted', async () => {
    const f = await fake()
    f.create(namespace('prod'))
    f.create(pod({ ns: 'prod', name: 'p1', ip: '10.2.0.1' }))
    const { src, view } = start(opts({ endpoint: f.url, pods: true }))
    assert.equal(await src.waitSynced(5000), true)
    await f.waitForWatches(4)
    f.update(pod({ ns: 'prod', name: 'p1', ip: '10.2.0.1', deletionTimestamp: '2024-01-01T00:00:00Z' }))
    f.create(service({ ns: 'prod', name: 'marker', clusterIPs: ['10.0.0.9'] }))
    await until(() => view.service('prod', 'marker') !== undefined)
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(view.podsByIP('10.2.0.1').length, 1)
    f.remove('Pod', 'prod', 'p1')
    await until(() => view.podsByIP('10.2.0.1').length === 0, 2000, 'pod DELETED')
  })

  it('shares the running source across a reload with the same options (no relist)', async () => {
    const f = await fake()
    seed(f, 1)
    const o = opts({ endpoint: f.url })
    const { log } = memoryLogger()
    const first = acquireSource(o, log, FAST)
    assert.equal(await first.waitSynced(5000), true)
    const lists = f.requests.filter((r) => !r.watch).length
    const second = acquireSource(o, log, FAST) // new config set up ...
    await first.release() // ... old config shut down
    assert.equal(await second.waitSynced(10), true)
    assert.equal(f.requests.filter((r) => !r.watch).length, lists)
    await second.release()
    assert.equal(runningSources(), 0)
  })

  it('a release followed by an acquire with the same options (reload order) resumes without relisting', async () => {
    const f = await fake()
    seed(f, 2)
    const o = opts({ endpoint: f.url })
    const { log } = memoryLogger()
    const first = acquireSource(o, log, FAST)
    assert.equal(await first.waitSynced(5000), true)
    await f.waitForWatches(3)
    const lists = f.requests.filter((r) => !r.watch).length
    await first.release() // old config's shutdown hook
    assert.equal(runningSources(), 0)
    await f.waitFor(() => f.watchCount() === 0, 2000, 'watches closed while parked')
    f.create(service({ ns: 'prod', name: 'while-parked', clusterIPs: ['10.0.9.1'] }))
    const second = acquireSource(o, log, FAST) // new config's startup hook
    cleanup.push(() => second.release())
    assert.equal(second.view, first.view, 'same records')
    assert.equal(await second.waitSynced(10), true, 'still synced')
    await until(() => second.view.service('prod', 'while-parked') !== undefined, 3000, 'resumed watch')
    assert.equal(f.requests.filter((r) => !r.watch).length, lists, 'no LIST request')
  })

  it('authenticates with a kubeconfig context over https (token + CA) and honours the named context', async () => {
    const f = await fake({ tls: { cert: CERT, key: KEY }, token: 's3cret' })
    seed(f, 1)
    const caFile = join(dir, 'ca.crt')
    writeFileSync(caFile, CERT)
    const kcFile = join(dir, 'kubeconfig')
    writeFileSync(
      kcFile,
      `apiVersion: v1
kind: Config
current-context: elsewhere
clusters:
- name: fake
  cluster: {server: "${f.url}", certificate-authority: ca.crt}
- name: unreachable
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: s3cret}
contexts:
- name: elsewhere
  context: {cluster: unreachable, user: u}
- name: mine
  context: {cluster: fake, user: u}
`,
    )
    const { src, view } = start(opts({ kubeconfig: { file: kcFile, context: 'mine' } }))
    assert.equal(await src.waitSynced(5000), true)
    assert.ok(view.service('prod', 's0'))
    assert.ok(f.requests.every((r) => r.status !== 401))
  })

  it('uses the in-cluster service account (token file + CA) and re-reads the token', async () => {
    const f = await fake({ tls: { cert: CERT, key: KEY }, token: 'sa-token' })
    seed(f, 1)
    const sa = join(dir, 'sa')
    mkdirSync(sa, { recursive: true })
    writeFileSync(join(sa, 'ca.crt'), CERT)
    writeFileSync(join(sa, 'token'), 'sa-token')
    const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(f.port) }
    const { src, view } = start(opts({}), { ...FAST, env, saRoot: sa })
    assert.equal(await src.waitSynced(5000), true)
    assert.ok(view.service('prod', 's0'))
    assert.ok(f.requests.every((r) => r.status !== 401))
  })

  it('authenticates an https endpoint with tls CERT KEY CACERT', async () => {
    const f = await fake({ tls: { cert: CERT, key: KEY } })
    seed(f, 1)
    const crt = join(dir, 'client.crt')
    const key = join(dir, 'client.key')
    writeFileSync(crt, CERT)
    writeFileSync(key, KEY)
    const { src, view } = start(opts({ endpoint: f.url, tls: { cert: crt, key, ca: crt } }))
    assert.equal(await src.waitSynced(5000), true)
    assert.ok(view.service('prod', 's0'))
  })

  it('talks plain http to an http:// endpoint and sends no credentials over it', async () => {
    const seen: Array<string | undefined> = []
    const f = await fake()
    seed(f, 1)
    // a proxy in front of the fake that records the Authorization header
    const proxy = http.createServer((req, res) => {
      seen.push(req.headers.authorization)
      const up = http.request(f.url + req.url, { method: req.method, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers)
        ur.pipe(res)
      })
      up.on('error', () => res.destroy())
      req.pipe(up)
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()))
    cleanup.push(async () => {
      proxy.closeAllConnections()
      await new Promise((r) => proxy.close(r))
    })
    const port = (proxy.address() as { port: number }).port
    const kcFile = join(dir, 'kubeconfig-http')
    writeFileSync(
      kcFile,
      `apiVersion: v1
kind: Config
current-context: c
clusters:
- name: c
  cluster: {server: "http://127.0.0.1:${port}"}
users:
- name: u
  user: {token: not-sent, username: a, password: b}
contexts:
- name: c
  context: {cluster: c, user: u}
`,
    )
    const { src, view } = start(opts({ kubeconfig: { file: kcFile, context: null } }))
    assert.equal(await src.waitSynced(5000), true)
    assert.ok(view.service('prod', 's0'))
    assert.ok(seen.length > 0)
    assert.ok(seen.every((h) => h === undefined))
  })

  it('rejects a kubeconfig context that does not exist', () => {
    const kcFile = join(dir, 'kubeconfig-missing')
    writeFileSync(kcFile, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n')
    const { log } = memoryLogger()
    assert.throws(() => acquireSource(opts({ kubeconfig: { file: kcFile, context: 'nope' } }), log), /context "nope" not found/)
    assert.throws(() => acquireSource(opts({}), log, { env: {} }), /KUBERNETES_SERVICE_HOST/)
    assert.equal(runningSources(), 0)
  })

  it('honours apiserver_max_inflight and qps limits', async () => {
    const f = await fake({ latencyMs: 20 })
    seed(f, 4)
    const { src } = start(opts({ endpoint: f.url, maxInflight: 1, qps: 50, burst: 1 }), { ...FAST, pageSize: 1 })
    assert.equal(await src.waitSynced(5000), true)
    const lists = f.requests.filter((r) => !r.watch)
    // with qps 50 / burst 1 requests are >= ~20 ms apart
    for (let i = 1; i < lists.length; i++) assert.ok(lists[i]!.atMs - lists[i - 1]!.atMs >= 15, `gap ${i}`)
  })
})
