import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  convert,
  intern,
  kindOf,
  namespaceFromAPI,
  NO_PORTS,
  podFromAPI,
  serviceFromAPI,
  sliceFromAPI,
  TerminatingPod,
  Unusable,
} from './convert.js'
import type { PodRec, SliceRec } from './model.js'

const meta = (name: string, namespace = 'prod', extra: Record<string, unknown> = {}) => ({ name, namespace, ...extra })

describe('serviceFromAPI', () => {
  it('keeps name, namespace, type, clusterIPs and ports', () => {
    const s = serviceFromAPI({
      metadata: meta('web'),
      spec: {
        type: 'ClusterIP',
        clusterIP: '10.0.0.10',
        clusterIPs: ['10.0.0.10', '2001:DB8:0:0::0A'],
        ports: [
          { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
          { name: 'dns', protocol: 'UDP', port: 53 },
        ],
        selector: { app: 'web' },
      },
    })
    assert.equal(s.name, 'web')
    assert.equal(s.namespace, 'prod')
    assert.equal(s.type, 'ClusterIP')
    assert.equal(s.headless, false)
    assert.deepEqual(s.clusterIPs, ['10.0.0.10', '2001:db8::a'])
    assert.deepEqual(s.ports, [
      { name: 'http', protocol: 'TCP', port: 80 },
      { name: 'dns', protocol: 'UDP', port: 53 },
    ])
    assert.equal(s.externalName, '')
    assert.deepEqual(s.externalIPs, [])
  })

  it('falls back to spec.clusterIP when clusterIPs is absent', () => {
    const s = serviceFromAPI({ metadata: meta('a'), spec: { clusterIP: '10.0.0.1', ports: [{ port: 1 }] } })
    assert.deepEqual(s.clusterIPs, ['10.0.0.1'])
    assert.equal(s.type, 'ClusterIP')
    assert.equal(s.ports[0]!.protocol, 'TCP', 'API default protocol')
    assert.equal(s.ports[0]!.name, '')
  })

  it('marks "None" as headless and drops it from clusterIPs', () => {
    const s = serviceFromAPI({ metadata: meta('h'), spec: { clusterIP: 'None', clusterIPs: ['None'] } })
    assert.equal(s.headless, true)
    assert.deepEqual(s.clusterIPs, [])
  })

  it('uses the -1 port sentinel for a service without ports', () => {
    const s = serviceFromAPI({ metadata: meta('p'), spec: { clusterIP: '10.0.0.2' } })
    assert.equal(s.ports, NO_PORTS)
    assert.deepEqual(s.ports, [{ name: '', protocol: '', port: -1 }])
  })

  it('keeps externalName only for ExternalName services, with no clusterIPs', () => {
    const e = serviceFromAPI({ metadata: meta('ext'), spec: { type: 'ExternalName', externalName: 'example.com' } })
    assert.equal(e.type, 'ExternalName')
    assert.equal(e.externalName, 'example.com')
    assert.deepEqual(e.clusterIPs, [])
    const c = serviceFromAPI({ metadata: meta('c'), spec: { type: 'ClusterIP', clusterIP: '10.0.0.3', externalName: 'x.y' } })
    assert.equal(c.externalName, '')
  })

  it('collects externalIPs and load balancer ingress IPs and hostnames', () => {
    const s = serviceFromAPI({
      metadata: meta('lb'),
      spec: { type: 'LoadBalancer', clusterIP: '10.0.0.4', externalIPs: ['192.0.2.1'] },
      status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }, { hostname: 'lb.example.com' }] } },
    })
    assert.deepEqual(s.externalIPs, ['192.0.2.1', '198.51.100.7', 'lb.example.com'])
  })

  it('drops cluster IPs that are not valid IP text', () => {
    const s = serviceFromAPI({ metadata: meta('bad'), spec: { clusterIPs: ['10.0.0.01', '10.0.0.5'] } })
    assert.deepEqual(s.clusterIPs, ['10.0.0.5'])
  })

  it('interns namespaces and shares port records', () => {
    const a = serviceFromAPI({ metadata: meta('a', 'n' + 's1'), spec: { clusterIP: '10.0.0.1', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } })
    const b = serviceFromAPI({ metadata: meta('b', ['n', 's1'].join('')), spec: { clusterIP: '10.0.0.2', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } })
    assert.equal(a.ports[0], b.ports[0])
    assert.equal(intern('ns1'), a.namespace)
  })
})

describe('sliceFromAPI', () => {
  const base = {
    metadata: meta('web-abc', 'prod', { labels: { 'kubernetes.io/service-name': 'web' } }),
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  }
  it('keeps service label, ports and endpoints with readiness', () => {
    const s = sliceFromAPI({
      ...base,
      endpoints: [
        { addresses: ['10.1.0.1'], conditions: { ready: true }, hostname: 'web-0', targetRef: { kind: 'Pod', name: 'web-0' }, nodeName: 'n1', zone: 'z1' },
        { addresses: ['10.1.0.2'], conditions: { ready: false, serving: true } },
        { addresses: ['10.1.0.3'], conditions: {} },
        { addresses: ['10.1.0.4'] },
        { addresses: ['10.1.0.5'], conditions: { ready: null } },
      ],
    }) as SliceRec
    assert.equal(s.name, 'web-abc')
    assert.equal(s.service, 'web')
    assert.equal(s.addressType, 'IPv4')
    assert.deepEqual(s.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }])
    assert.deepEqual(
      s.endpoints.map((e) => e.ready),
      [true, false, true, true, true],
    )
    // nodeName and zone are not kept: DNS never reads them
    assert.deepEqual(s.endpoints[0], { addresses: ['10.1.0.1'], ready: true, hostname: 'web-0', targetName: 'web-0' })
    assert.deepEqual(s.endpoints[1], { addresses: ['10.1.0.2'], ready: false, hostname: '', targetName: '' })
  })

  it('drops targetRef names unless asked to keep them (endpoint_pod_names)', () => {
    const o = { ...base, endpoints: [{ addresses: ['10.1.0.1'], hostname: 'h', targetRef: { kind: 'Pod', name: 'web-0' } }] }
    assert.equal((sliceFromAPI(o, false) as SliceRec).endpoints[0]!.targetName, '')
    assert.equal((sliceFromAPI(o, false) as SliceRec).endpoints[0]!.hostname, 'h')
    assert.equal((sliceFromAPI(o, true) as SliceRec).endpoints[0]!.targetName, 'web-0')
  })

  it('keeps targetRef.name only when shorter than 64 characters', () => {
    const n63 = 'a'.repeat(63)
    const n64 = 'b'.repeat(64)
    const s = sliceFromAPI({
      ...base,
      endpoints: [
        { addresses: ['10.1.0.1'], targetRef: { name: n63 } },
        { addresses: ['10.1.0.2'], targetRef: { name: n64 } },
      ],
    }) as SliceRec
    assert.equal(s.endpoints[0]!.targetName, n63)
    assert.equal(s.endpoints[1]!.targetName, '')
  })

  it('uses -1 for a nil port and the sentinel for no ports', () => {
    const s = sliceFromAPI({ ...base, ports: [{ name: 'x', protocol: 'TCP' }], endpoints: [] }) as SliceRec
    assert.deepEqual(s.ports, [{ name: 'x', protocol: 'TCP', port: -1 }])
    const n = sliceFromAPI({ ...base, ports: null, endpoints: [] }) as SliceRec
    assert.equal(n.ports, NO_PORTS)
  })

  it('has service "" without the service-name label', () => {
    const s = sliceFromAPI({ metadata: meta('web-x'), addressType: 'IPv4', endpoints: [] }) as SliceRec
    assert.equal(s.service, '')
  })

  it('drops FQDN slices', () => {
    const s = sliceFromAPI({ ...base, addressType: 'FQDN', endpoints: [{ addresses: ['a.example.com'] }] })
    assert.ok(s instanceof Unusable)
    assert.equal(s.name, 'web-abc')
  })

  it('writes addresses in canonical form', () => {
    const s = sliceFromAPI({ ...base, addressType: 'IPv6', endpoints: [{ addresses: ['2001:DB8::0:1'] }] }) as SliceRec
    assert.deepEqual(s.endpoints[0]!.addresses, ['2001:db8::1'])
  })
})

describe('podFromAPI', () => {
  it('keeps name, namespace and the primary IP as written', () => {
    const p = podFromAPI({ metadata: meta('p1'), status: { phase: 'Running', podIP: '10.2.0.1', podIPs: [{ ip: '10.2.0.1' }, { ip: 'fd00::1' }] } })
    assert.deepEqual(p, { name: 'p1', namespace: 'prod', ip: '10.2.0.1' })
    const v6 = podFromAPI({ metadata: meta('p2'), status: { phase: 'Running', podIP: 'FD00:0::1' } }) as PodRec
    assert.equal(v6.ip, 'FD00:0::1', 'not canonicalised: verified pods compare the API text')
  })

  it('is Unusable without an IP or in a final phase', () => {
    assert.ok(podFromAPI({ metadata: meta('p'), status: { phase: 'Pending' } }) instanceof Unusable)
    for (const phase of ['Succeeded', 'Failed', 'Unknown']) {
      assert.ok(podFromAPI({ metadata: meta('p'), status: { phase, podIP: '10.2.0.9' } }) instanceof Unusable, phase)
    }
  })

  it('is TerminatingPod with a deletionTimestamp', () => {
    const p = podFromAPI({ metadata: meta('p', 'prod', { deletionTimestamp: '2024-01-01T00:00:00Z' }), status: { phase: 'Running', podIP: '10.2.0.1' } })
    assert.ok(p instanceof TerminatingPod)
    assert.equal(p.namespace, 'prod')
  })
})

describe('kinds', () => {
  it('namespaceFromAPI keeps the name', () => {
    assert.deepEqual(namespaceFromAPI({ metadata: { name: 'prod', labels: { a: 'b' } } }), { name: 'prod' })
  })
  it('kindOf maps kubectl kinds and ignores others', () => {
    assert.equal(kindOf({ kind: 'Service' }), 'services')
    assert.equal(kindOf({ kind: 'EndpointSlice' }), 'endpointslices')
    assert.equal(kindOf({ kind: 'Pod' }), 'pods')
    assert.equal(kindOf({ kind: 'Namespace' }), 'namespaces')
    assert.equal(kindOf({ kind: 'Endpoints' }), null)
  })
  it('convert dispatches by kind and tolerates missing fields', () => {
    const s = convert('services', {})
    assert.equal((s as { name: string }).name, '')
    assert.ok(convert('pods', {}) instanceof Unusable)
  })
})
