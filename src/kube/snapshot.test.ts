import assert from 'node:assert/strict'
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { memoryLogger } from '../log/logger.js'
import type { KubeSourceOptions } from './model.js'
import { parseSelector, SelectorError } from './selector.js'
import { parseSnapshot, SnapshotSource } from './snapshot.js'
import { acquireSource, runningSources } from './source.js'
import { KubeStore } from './store.js'

const dir = mkdtempSync(join(tmpdir(), 'kube-snapshot-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const LIST_YAML = `apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    namespace: prod
    labels: {app: web}
  spec:
    clusterIP: 10.96.0.10
    clusterIPs: [10.96.0.10]
    ports:
    - name: http
      port: 80
      protocol: TCP
    type: ClusterIP
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata:
    name: web-abc
    namespace: prod
    labels:
      kubernetes.io/service-name: web
      app: web
  addressType: IPv4
  endpoints:
  - addresses: [10.244.1.5]
    conditions: {ready: true}
  ports:
  - name: http
    port: 8080
    protocol: TCP
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-0
    namespace: prod
    labels: {app: web}
  status:
    phase: Running
    podIP: 10.244.1.5
- apiVersion: v1
  kind: Pod
  metadata:
    name: done
    namespace: prod
  status:
    phase: Succeeded
    podIP: 10.244.1.6
- apiVersion: v1
  kind: Namespace
  metadata:
    name: prod
    labels: {team: a}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: ignored, namespace: prod}
`

function opts(file: string, o: Partial<KubeSourceOptions> = {}): KubeSourceOptions {
  return {
    endpoint: null,
    tls: null,
    kubeconfig: null,
    snapshot: file,
    namespaces: null,
    namespaceLabels: null,
    labels: null,
    pods: true,
    endpoints: true,
    targetNames: true,
    qps: null,
    burst: null,
    maxInflight: null,
    ...o,
  }
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('parseSnapshot', () => {
  it('reads a v1 List of mixed kinds', () => {
    const objs = parseSnapshot(LIST_YAML)
    assert.deepEqual(
      objs.map((o) => o['kind']),
      ['Service', 'EndpointSlice', 'Pod', 'Pod', 'Namespace', 'ConfigMap'],
    )
  })

  it('reads multi-document YAML, typed lists and single objects', () => {
    const text = `kind: Namespace
metadata: {name: a}
---
kind: ServiceList
apiVersion: v1
items:
- metadata: {name: s1, namespace: a}
  spec: {clusterIP: 10.0.0.1}
---
`
    const objs = parseSnapshot(text)
    assert.deepEqual(
      objs.map((o) => `${o['kind']}`),
      ['Namespace', 'Service'],
    )
  })

  it('reads JSON', () => {
    const objs = parseSnapshot(JSON.stringify({ kind: 'List', items: [{ kind: 'Namespace', metadata: { name: 'x' } }] }))
    assert.equal(objs.length, 1)
    assert.equal(parseSnapshot('{"kind":"Namespace","metadata":{"name":"y"}}').length, 1)
  })

  it('rejects garbage', () => {
    assert.throws(() => parseSnapshot('kind: [unclosed'))
    assert.throws(() => parseSnapshot('- 1\n- 2\n'))
  })
})

describe('SnapshotSource', () => {
  it('serves the file, filters, and marks every kind synced', () => {
    const file = join(dir, 'list.yaml')
    writeFileSync(file, LIST_YAML)
    const store = new KubeStore({ kinds: ['services', 'endpointslices', 'pods', 'namespaces'] })
    const { log } = memoryLogger()
    const s = new SnapshotSource({ file, store, log, kinds: ['services', 'endpointslices', 'pods', 'namespaces'], labels: null, namespaceLabels: null })
    s.start()
    s.stop()
    assert.equal(store.synced, true)
    assert.equal(store.service('prod', 'web')?.clusterIPs[0], '10.96.0.10')
    assert.equal(store.slicesOf('prod', 'web').length, 1)
    assert.equal(store.slicesByIP('10.244.1.5').length, 1)
    assert.equal(store.podsByIP('10.244.1.5').length, 1)
    assert.equal(store.podsByIP('10.244.1.6').length, 0, 'Succeeded pods are dropped')
    assert.equal(store.namespaceExists('prod'), true)
  })

  it('applies label selectors locally', () => {
    const file = join(dir, 'sel.yaml')
    writeFileSync(file, LIST_YAML)
    const store = new KubeStore({ kinds: ['services', 'endpointslices', 'namespaces'] })
    const { log } = memoryLogger()
    const s = new SnapshotSource({
      file,
      store,
      log,
      kinds: ['services', 'endpointslices', 'namespaces'],
      labels: parseSelector('app in (api)'),
      namespaceLabels: parseSelector('team=b'),
    })
    s.start()
    s.stop()
    assert.equal(store.count('services'), 0)
    assert.equal(store.count('endpointslices'), 0)
    assert.equal(store.namespaceExists('prod'), false)
  })

  it('re-reads the file when it changes and keeps the last data on a bad file', async () => {
    const file = join(dir, 'reload.json')
    const doc = (ip: string) =>
      JSON.stringify({
        kind: 'List',
        items: [
          { kind: 'Namespace', metadata: { name: 'prod' } },
          { kind: 'Service', metadata: { name: 'web', namespace: 'prod' }, spec: { clusterIP: ip } },
        ],
      })
    writeFileSync(file, doc('10.0.0.1'))
    const { log, lines } = memoryLogger()
    const src = acquireSource(opts(file, { pods: false }), log, { snapshotPollMs: 50 })
    try {
      assert.equal(await src.waitSynced(1000), true)
      assert.deepEqual(src.view.service('prod', 'web')?.clusterIPs, ['10.0.0.1'])
      // rewrite in place
      writeFileSync(file, doc('10.0.0.2'))
      await until(() => src.view.service('prod', 'web')?.clusterIPs[0] === '10.0.0.2')
      // bad content: last data kept, error logged
      writeFileSync(file, '{"kind": "List", "items": [')
      await until(() => lines.some((l) => l.includes('[ERROR]') && l.includes('reload.json')))
      assert.deepEqual(src.view.service('prod', 'web')?.clusterIPs, ['10.0.0.2'])
      // replaced by rename (editors, ConfigMap updates)
      const tmp = join(dir, 'reload.json.tmp')
      writeFileSync(tmp, doc('10.0.0.3'))
      renameSync(tmp, file)
      await until(() => src.view.service('prod', 'web')?.clusterIPs[0] === '10.0.0.3')
      // removed: keep serving
      unlinkSync(file)
      await new Promise((r) => setTimeout(r, 120))
      assert.deepEqual(src.view.service('prod', 'web')?.clusterIPs, ['10.0.0.3'])
      assert.match(src.progress(), /services 1, endpointslices 0, namespaces 1 synced in/)
    } finally {
      await src.release()
    }
    assert.equal(runningSources(), 0)
  })

  it('shares one source between acquirers with the same options', async () => {
    const file = join(dir, 'shared.yaml')
    writeFileSync(file, LIST_YAML)
    const { log } = memoryLogger()
    const a = acquireSource(opts(file), log)
    const b = acquireSource(opts(file), log)
    const c = acquireSource(opts(file, { pods: false }), log)
    assert.equal(a.view, b.view)
    assert.notEqual(a.view, c.view)
    assert.equal(runningSources(), 2)
    await a.release()
    await a.release() // idempotent
    assert.equal(runningSources(), 2)
    await b.release()
    await c.release()
    assert.equal(runningSources(), 0)
  })
})

describe('parseSelector', () => {
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['', {}, true],
    ['a=b', { a: 'b' }, true],
    ['a==b', { a: 'c' }, false],
    ['a!=b', {}, true],
    ['a!=b', { a: 'b' }, false],
    ['environment in (staging, qa),application=nginx', { environment: 'qa', application: 'nginx' }, true],
    ['environment in (staging, qa),application=nginx', { environment: 'prod', application: 'nginx' }, false],
    ['tier notin (frontend)', {}, true],
    ['tier notin (frontend)', { tier: 'frontend' }, false],
    ['app', { app: '' }, true],
    ['!app', { app: 'x' }, false],
    ['!app', {}, true],
    ['k8s.io/name=x', { 'k8s.io/name': 'x' }, true],
    ['n > 3', { n: '4' }, true],
    ['n < 3', { n: '4' }, false],
  ]
  for (const [sel, labels, want] of cases) {
    it(`"${sel}" on ${JSON.stringify(labels)} → ${want}`, () => {
      assert.equal(parseSelector(sel).matches(labels), want)
    })
  }
  it('rejects invalid selectors', () => {
    for (const bad of ['a in b', 'a in (b', '=b', 'a=b,', 'a !x b', 'a=(b)']) {
      assert.throws(() => parseSelector(bad), SelectorError, bad)
    }
  })
})
