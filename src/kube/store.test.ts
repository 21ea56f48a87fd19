import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { podFromAPI, serviceFromAPI, sliceFromAPI, TerminatingPod, Unusable, type Item } from './convert.js'
import type { PodRec, ServiceRec, SliceRec } from './model.js'
import { KubeStore } from './store.js'

function svc(ns: string, name: string, ip: string | null, extra: Record<string, unknown> = {}): ServiceRec {
  return serviceFromAPI({
    metadata: { name, namespace: ns },
    spec: { ...(ip === null ? { clusterIP: 'None' } : { clusterIP: ip }), ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...extra },
  })
}

function slice(ns: string, name: string, service: string | null, eps: Array<[string, boolean?, string?]>, ports: unknown = [{ name: 'http', port: 80 }]): SliceRec {
  return sliceFromAPI({
    metadata: { name, namespace: ns, labels: service === null ? {} : { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports,
    endpoints: eps.map(([ip, ready, hostname]) => ({ addresses: [ip], conditions: { ready: ready ?? true }, ...(hostname ? { hostname } : {}) })),
  }) as SliceRec
}

function pod(ns: string, name: string, ip: string, terminating = false): Item {
  return podFromAPI({
    metadata: { name, namespace: ns, ...(terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    status: { phase: 'Running', podIP: ip },
  })
}

function clockStore(kinds = ['services', 'endpointslices', 'pods', 'namespaces'] as const, namespaces: string[] | null = null) {
  const clock = { t: 1000 }
  const store = new KubeStore({ kinds, namespaces, now: () => clock.t })
  return { store, clock }
}

describe('KubeStore services', () => {
  it('finds services by name and by cluster IP, and forgets them on delete', () => {
    const { store } = clockStore()
    const a = svc('prod', 'web', '10.0.0.1')
    store.apply('services', 'ADDED', a)
    assert.equal(store.service('prod', 'web'), a)
    assert.deepEqual(store.servicesByIP('10.0.0.1'), [a])
    assert.equal(store.service('prod', 'nope'), undefined)
    assert.equal(store.service('other', 'web'), undefined)
    store.apply('services', 'DELETED', { namespace: 'prod', name: 'web' })
    assert.equal(store.service('prod', 'web'), undefined)
    assert.deepEqual(store.servicesByIP('10.0.0.1'), [])
    assert.equal(store.count('services'), 0)
  })

  it('keeps several services on one IP in insertion order, also across modifications', () => {
    const { store } = clockStore()
    const a = svc('a', 's', '10.0.0.1')
    const b = svc('b', 's', '10.0.0.1')
    store.apply('services', 'ADDED', a)
    store.apply('services', 'ADDED', b)
    const before = store.servicesByIP('10.0.0.1')
    const a2 = svc('a', 's', '10.0.0.1', { externalIPs: ['192.0.2.1'] })
    store.apply('services', 'MODIFIED', a2)
    assert.deepEqual(store.servicesByIP('10.0.0.1'), [a2, b])
    assert.deepEqual(before, [a, b], 'arrays handed out never change')
    const a3 = svc('a', 's', '10.0.0.2')
    store.apply('services', 'MODIFIED', a3)
    assert.deepEqual(store.servicesByIP('10.0.0.1'), [b])
    assert.deepEqual(store.servicesByIP('10.0.0.2'), [a3])
  })

  it('iterates all services', () => {
    const { store } = clockStore()
    store.apply('services', 'ADDED', svc('a', 'x', '10.0.0.1'))
    store.apply('services', 'ADDED', svc('b', 'y', null))
    assert.deepEqual([...store.services()].map((s) => `${s.namespace}/${s.name}`).sort(), ['a/x', 'b/y'])
  })
})

describe('KubeStore endpoint slices', () => {
  it('merges the slices of a service and indexes ready addresses only', () => {
    const { store } = clockStore()
    const s1 = slice('prod', 'web-1', 'web', [['10.1.0.1'], ['10.1.0.2', false]])
    const s2 = slice('prod', 'web-2', 'web', [['10.1.0.3']])
    store.apply('endpointslices', 'ADDED', s1)
    store.apply('endpointslices', 'ADDED', s2)
    assert.deepEqual(store.slicesOf('prod', 'web'), [s1, s2])
    assert.deepEqual(store.slicesByIP('10.1.0.1'), [s1])
    assert.deepEqual(store.slicesByIP('10.1.0.2'), [], 'not ready')
    assert.deepEqual(store.slicesByIP('10.1.0.3'), [s2])
    // readiness flips
    const s1b = slice('prod', 'web-1', 'web', [['10.1.0.1', false], ['10.1.0.2', true]])
    store.apply('endpointslices', 'MODIFIED', s1b)
    assert.deepEqual(store.slicesOf('prod', 'web'), [s1b, s2])
    assert.deepEqual(store.slicesByIP('10.1.0.1'), [])
    assert.deepEqual(store.slicesByIP('10.1.0.2'), [s1b])
    store.apply('endpointslices', 'DELETED', s2)
    assert.deepEqual(store.slicesOf('prod', 'web'), [s1b])
    assert.deepEqual(store.slicesByIP('10.1.0.3'), [])
  })

  it('follows a slice whose service label changes, and ignores slices without the label', () => {
    const { store } = clockStore()
    const s = slice('prod', 'foo-abc', 'bar', [['10.1.0.9']])
    store.apply('endpointslices', 'ADDED', s)
    assert.deepEqual(store.slicesOf('prod', 'bar'), [s])
    assert.deepEqual(store.slicesOf('prod', 'foo'), [])
    const s2 = slice('prod', 'foo-abc', 'foo', [['10.1.0.9']])
    store.apply('endpointslices', 'MODIFIED', s2)
    assert.deepEqual(store.slicesOf('prod', 'bar'), [])
    assert.deepEqual(store.slicesOf('prod', 'foo'), [s2])
    const orphan = slice('prod', 'foo-abc', null, [['10.1.0.9']])
    store.apply('endpointslices', 'MODIFIED', orphan)
    assert.deepEqual(store.slicesOf('prod', 'foo'), [])
    assert.deepEqual(store.slicesOf('prod', ''), [])
    assert.deepEqual(store.slicesByIP('10.1.0.9'), [])
    assert.equal(store.count('endpointslices'), 1)
  })

  it('an FQDN slice replacing an IP slice removes it', () => {
    const { store } = clockStore()
    store.apply('endpointslices', 'ADDED', slice('prod', 's', 'web', [['10.1.0.1']]))
    store.apply('endpointslices', 'MODIFIED', new Unusable('prod', 's'))
    assert.deepEqual(store.slicesOf('prod', 'web'), [])
    assert.equal(store.count('endpointslices'), 0)
  })
})

describe('KubeStore pods', () => {
  it('indexes pods by IP and moves them when the IP changes', () => {
    const { store } = clockStore()
    const p = pod('prod', 'p1', '10.2.0.1') as PodRec
    store.apply('pods', 'ADDED', p)
    assert.deepEqual(store.podsByIP('10.2.0.1'), [p])
    const p2 = pod('prod', 'p1', '10.2.0.2') as PodRec
    store.apply('pods', 'MODIFIED', p2)
    assert.deepEqual(store.podsByIP('10.2.0.1'), [])
    assert.deepEqual(store.podsByIP('10.2.0.2'), [p2])
    store.apply('pods', 'MODIFIED', pod('prod', 'p1', '') /* lost its IP */)
    assert.deepEqual(store.podsByIP('10.2.0.2'), [])
    assert.equal(store.count('pods'), 0)
  })

  it('QUIRK: never caches a pod first seen terminating', () => {
    const { store } = clockStore()
    const t = pod('prod', 'p1', '10.2.0.1', true)
    assert.ok(t instanceof TerminatingPod)
    store.apply('pods', 'ADDED', t)
    assert.deepEqual(store.podsByIP('10.2.0.1'), [])
    store.apply('pods', 'MODIFIED', t)
    assert.deepEqual(store.podsByIP('10.2.0.1'), [])
    store.replace('pods', [t])
    assert.deepEqual(store.podsByIP('10.2.0.1'), [])
  })

  it('QUIRK: keeps the previous version when a MODIFIED adds a deletionTimestamp, until DELETED', () => {
    const { store } = clockStore()
    const p = pod('prod', 'p1', '10.2.0.1') as PodRec
    store.apply('pods', 'ADDED', p)
    store.apply('pods', 'MODIFIED', pod('prod', 'p1', '10.2.0.1', true))
    assert.deepEqual(store.podsByIP('10.2.0.1'), [p])
    store.replace('pods', [pod('prod', 'p1', '10.2.0.1', true)])
    assert.deepEqual(store.podsByIP('10.2.0.1'), [p], 'a relist listing it terminating keeps it too')
    store.apply('pods', 'DELETED', { namespace: 'prod', name: 'p1' })
    assert.deepEqual(store.podsByIP('10.2.0.1'), [])
  })

  it('keeps several pods sharing an IP (host network)', () => {
    const { store } = clockStore()
    const a = pod('a', 'p', '192.168.0.1') as PodRec
    const b = pod('b', 'p', '192.168.0.1') as PodRec
    store.apply('pods', 'ADDED', a)
    store.apply('pods', 'ADDED', b)
    assert.deepEqual(store.podsByIP('192.168.0.1'), [a, b])
    store.apply('pods', 'DELETED', a)
    assert.deepEqual(store.podsByIP('192.168.0.1'), [b])
  })
})

describe('KubeStore replace', () => {
  it('removes objects missing from the new list and updates the others', () => {
    const { store } = clockStore()
    store.replace('services', [svc('a', 'x', '10.0.0.1'), svc('a', 'y', '10.0.0.2')])
    const x2 = svc('a', 'x', '10.0.0.3')
    const z = svc('b', 'z', '10.0.0.4')
    store.replace('services', [x2, z])
    assert.equal(store.service('a', 'y'), undefined)
    assert.deepEqual(store.servicesByIP('10.0.0.2'), [])
    assert.equal(store.service('a', 'x'), x2)
    assert.deepEqual(store.servicesByIP('10.0.0.1'), [])
    assert.deepEqual(store.servicesByIP('10.0.0.3'), [x2])
    assert.equal(store.service('b', 'z'), z)
    assert.equal(store.count('services'), 2)
  })

  it('a session reset forgets what was seen before (restarted list)', () => {
    const { store } = clockStore()
    store.replace('pods', [pod('a', 'p1', '10.2.0.1'), pod('a', 'p2', '10.2.0.2')])
    const s = store.beginReplace('pods')
    s.add(pod('a', 'p1', '10.2.0.1'))
    s.add(pod('a', 'p2', '10.2.0.2'))
    s.reset()
    s.add(pod('a', 'p1', '10.2.0.1'))
    assert.equal(s.commit(), 1)
    assert.deepEqual(store.podsByIP('10.2.0.2'), [])
    assert.equal(store.count('pods'), 1)
  })

  it('replaces namespaces', () => {
    const { store } = clockStore()
    store.replace('namespaces', [{ name: 'a' }, { name: 'b' }])
    store.replace('namespaces', [{ name: 'b' }, { name: 'c' }])
    assert.equal(store.namespaceExists('a'), false)
    assert.equal(store.namespaceExists('b'), true)
    assert.equal(store.namespaceExists('c'), true)
    assert.equal(store.count('namespaces'), 2)
  })
})

describe('KubeStore serial', () => {
  it('moves on relevant changes only', () => {
    const { store, clock } = clockStore()
    assert.equal(store.serial, 0)
    store.apply('services', 'ADDED', svc('a', 'x', '10.0.0.1'))
    assert.equal(store.serial, 1000)
    clock.t = 1001
    store.apply('services', 'MODIFIED', svc('a', 'x', '10.0.0.1', { externalIPs: ['192.0.2.1'] }))
    assert.equal(store.serial, 1000, 'externalIPs do not count')
    store.apply('services', 'MODIFIED', svc('a', 'x', '10.0.0.1', { ports: [{ name: 'http', port: 81 }] }))
    assert.equal(store.serial, 1001, 'ports count')
    clock.t = 1002
    store.apply('namespaces', 'ADDED', { name: 'a' })
    store.apply('namespaces', 'DELETED', { name: 'a' })
    assert.equal(store.serial, 1001, 'namespaces never count')
    store.apply('endpointslices', 'ADDED', slice('a', 's', 'x', [['10.1.0.1'], ['10.1.0.2', false]]))
    assert.equal(store.serial, 1002)
    clock.t = 1003
    store.apply('endpointslices', 'MODIFIED', slice('a', 's', 'x', [['10.1.0.1'], ['10.1.0.3', false]]))
    assert.equal(store.serial, 1002, 'not-ready endpoints do not count')
    store.apply('endpointslices', 'MODIFIED', slice('a', 's', 'x', [['10.1.0.1', true, 'h0'], ['10.1.0.3', false]]))
    assert.equal(store.serial, 1003, 'hostnames count')
    clock.t = 1004
    store.apply('pods', 'ADDED', pod('a', 'p', '10.2.0.1'))
    assert.equal(store.serial, 1004)
    clock.t = 1005
    store.apply('pods', 'MODIFIED', pod('a', 'p', '10.2.0.1'))
    assert.equal(store.serial, 1004, 'same IP')
    store.replace('services', [svc('a', 'x', '10.0.0.1', { ports: [{ name: 'http', port: 81 }] })])
    assert.equal(store.serial, 1004, 'an identical relist changes nothing')
    store.replace('services', [])
    assert.equal(store.serial, 1005, 'a relist that drops a service counts')
    clock.t = 1006
    store.apply('services', 'DELETED', { namespace: 'a', name: 'nope' })
    assert.equal(store.serial, 1005, 'deleting the unknown changes nothing')
  })
})

describe('KubeStore namespaces filter, sync and change feed', () => {
  it('drops objects of other namespaces at ingest', () => {
    const { store } = clockStore(undefined, ['prod'])
    store.apply('services', 'ADDED', svc('prod', 'x', '10.0.0.1'))
    store.apply('services', 'ADDED', svc('dev', 'x', '10.0.0.2'))
    store.replace('namespaces', [{ name: 'prod' }, { name: 'dev' }])
    store.replace('pods', [pod('dev', 'p', '10.2.0.1'), pod('prod', 'p', '10.2.0.2')])
    assert.equal(store.service('dev', 'x'), undefined)
    assert.deepEqual(store.servicesByIP('10.0.0.2'), [])
    assert.ok(store.service('prod', 'x'))
    assert.equal(store.namespaceExists('dev'), false)
    assert.equal(store.namespaceExists('prod'), true)
    assert.equal(store.count('pods'), 1)
  })

  it('is synced once every watched kind is', async () => {
    const store = new KubeStore({ kinds: ['services', 'namespaces'] })
    let done = false
    const p = store.whenSynced().then(() => (done = true))
    store.markSynced('services')
    assert.equal(store.synced, false)
    store.markSynced('namespaces')
    assert.equal(store.synced, true)
    await p
    assert.equal(done, true)
  })

  it('counts versions and notifies listeners', () => {
    const { store } = clockStore()
    const seen: string[] = []
    const off = store.onChange((kind, key) => seen.push(`${kind}:${key === null ? '*' : key.namespace + '/' + key.name}`))
    const v0 = store.version
    store.apply('services', 'ADDED', svc('a', 'x', '10.0.0.1'))
    const v1 = store.version
    assert.ok(v1 > v0)
    // a relist page applied while serving changes the version before the commit (answers are
    // memoised on it)
    const s = store.beginReplace('namespaces')
    s.add({ name: 'a' })
    const v2 = store.version
    assert.ok(v2 > v1)
    s.commit()
    const v3 = store.version
    assert.ok(v3 > v2)
    off()
    store.apply('services', 'DELETED', { namespace: 'a', name: 'x' })
    assert.ok(store.version > v3)
    assert.deepEqual(seen, ['services:a/x', 'namespaces:*'])
  })
})
