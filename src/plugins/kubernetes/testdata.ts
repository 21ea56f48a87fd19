// A small indexed KubeView built from records, and the worked-examples cluster of
// kubernetes-dns.md §15 as records. Used by the plugin's tests (and usable by others' tests):
// every lookup is a Map hit, like the real store.

import type { EndpointRec, KubeView, PodRec, PortRec, ServiceRec, SliceRec } from '../../kube/model.js'

export const NO_PORTS: readonly PortRec[] = [{ name: '', protocol: '', port: -1 }]

export interface MemoryViewInit {
  namespaces?: readonly string[]
  services?: readonly ServiceRec[]
  slices?: readonly SliceRec[]
  pods?: readonly PodRec[]
  synced?: boolean
  serial?: number
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k)
  if (a === undefined) m.set(k, [v])
  else a.push(v)
}

const NONE: readonly never[] = []

/** KubeView over fixed records; mutable fields for tests (synced, serial). */
export class MemoryView implements KubeView {
  synced: boolean
  serial: number
  /** Immutable after construction. */
  readonly version = 0
  private readonly ns: Set<string>
  private readonly svcByKey = new Map<string, ServiceRec>()
  private readonly svcByIP = new Map<string, ServiceRec[]>()
  private readonly slicesBySvc = new Map<string, SliceRec[]>()
  private readonly slicesByAddr = new Map<string, SliceRec[]>()
  private readonly podsByAddr = new Map<string, PodRec[]>()
  private readonly all: ServiceRec[]
  constructor(init: MemoryViewInit) {
    this.synced = init.synced ?? true
    this.serial = init.serial ?? 1700000000
    this.ns = new Set(init.namespaces ?? [])
    this.all = [...(init.services ?? [])]
    for (const s of this.all) {
      this.svcByKey.set(`${s.namespace}/${s.name}`, s)
      for (const ip of s.clusterIPs) push(this.svcByIP, ip, s)
    }
    for (const sl of init.slices ?? []) {
      if (sl.service !== '') push(this.slicesBySvc, `${sl.namespace}/${sl.service}`, sl)
      const seen = new Set<string>()
      for (const ep of sl.endpoints) {
        if (!ep.ready) continue
        for (const a of ep.addresses) {
          if (seen.has(a)) continue
          seen.add(a)
          push(this.slicesByAddr, a, sl)
        }
      }
    }
    for (const p of init.pods ?? []) push(this.podsByAddr, p.ip, p)
  }
  namespaceExists(ns: string): boolean {
    return this.ns.has(ns)
  }
  service(namespace: string, name: string): ServiceRec | undefined {
    return this.svcByKey.get(`${namespace}/${name}`)
  }
  servicesByIP(ip: string): readonly ServiceRec[] {
    return this.svcByIP.get(ip) ?? NONE
  }
  slicesOf(namespace: string, service: string): readonly SliceRec[] {
    return this.slicesBySvc.get(`${namespace}/${service}`) ?? NONE
  }
  slicesByIP(ip: string): readonly SliceRec[] {
    return this.slicesByAddr.get(ip) ?? NONE
  }
  podsByIP(ip: string): readonly PodRec[] {
    return this.podsByAddr.get(ip) ?? NONE
  }
  services(): Iterable<ServiceRec> {
    return this.all
  }
}

// ---------------------------------------------------------------------------------------------
// Record builders

export function svc(
  namespace: string,
  name: string,
  o: { type?: string; clusterIPs?: string[]; headless?: boolean; externalName?: string; ports?: PortRec[] } = {},
): ServiceRec {
  const headless = o.headless ?? false
  return {
    name,
    namespace,
    type: o.type ?? (o.externalName !== undefined ? 'ExternalName' : 'ClusterIP'),
    headless,
    clusterIPs: o.clusterIPs ?? [],
    externalName: o.externalName ?? '',
    ports: o.ports !== undefined && o.ports.length > 0 ? o.ports : NO_PORTS,
    externalIPs: [],
  }
}

export function port(name: string, protocol: string, n: number): PortRec {
  return { name, protocol, port: n }
}

export function ep(
  addresses: string[],
  o: { ready?: boolean; hostname?: string; targetName?: string } = {},
): EndpointRec {
  return {
    addresses,
    ready: o.ready ?? true,
    hostname: o.hostname ?? '',
    targetName: o.targetName ?? '',
  }
}

export function slice(
  namespace: string,
  name: string,
  service: string,
  endpoints: EndpointRec[],
  ports: PortRec[] = [],
  addressType = 'IPv4',
): SliceRec {
  return { name, namespace, service, addressType, ports: ports.length > 0 ? ports : NO_PORTS, endpoints }
}

// ---------------------------------------------------------------------------------------------
// The §15 fixture

/** Address of the answering DNS server (one of the kube-dns endpoints). */
export const FIXTURE_LOCAL_IPS: readonly string[] = ['10.244.0.10']
export const FIXTURE_SERIAL = 1700000000

export const FIXTURE_SERVICES: readonly ServiceRec[] = [
  svc('default', 'kubernetes', { clusterIPs: ['10.96.0.1'], ports: [port('https', 'TCP', 443)] }),
  svc('kube-system', 'kube-dns', {
    clusterIPs: ['10.96.0.10'],
    ports: [port('dns', 'UDP', 53), port('dns-tcp', 'TCP', 53), port('metrics', 'TCP', 9153)],
  }),
  svc('prod', 'web', {
    clusterIPs: ['10.96.10.20', 'fd00:96::20'],
    ports: [port('http', 'TCP', 80), port('alt', 'TCP', 8080)],
  }),
  svc('prod', 'db', { headless: true, ports: [port('pg', 'TCP', 5432)] }),
  svc('prod', 'workers', { headless: true }),
  svc('prod', 'ext', { externalName: 'api.example.com' }),
  svc('prod', 'empty', { headless: true, ports: [port('http', 'TCP', 80)] }),
  svc('prod', 'lonely', { clusterIPs: ['10.96.10.30'], ports: [port('http', 'TCP', 80)] }),
  svc('prod', 'alias', { externalName: 'lonely.prod.svc.cluster.local' }),
  svc('prod', 'dangling', { externalName: 'gone.prod.svc.cluster.local' }),
]

export const FIXTURE_SLICES: readonly SliceRec[] = [
  slice('default', 'kubernetes', 'kubernetes', [ep(['172.18.0.2'])], [port('https', 'TCP', 6443)]),
  slice(
    'kube-system',
    'kube-dns-x1',
    'kube-dns',
    [ep(['10.244.0.10'], { targetName: 'coredns-abc' }), ep(['10.244.0.11'], { targetName: 'coredns-def' })],
    [port('dns', 'UDP', 53), port('dns-tcp', 'TCP', 53), port('metrics', 'TCP', 9153)],
  ),
  slice('prod', 'web-v4', 'web', [ep(['10.244.1.20'], { targetName: 'web-1' })], [port('http', 'TCP', 8080), port('alt', 'TCP', 8081)]),
  slice(
    'prod',
    'db-abc',
    'db',
    [
      ep(['10.244.1.5'], { hostname: 'db-0', targetName: 'db-0' }),
      ep(['10.244.2.7'], { hostname: 'db-1', targetName: 'db-1' }),
      ep(['10.244.3.9'], { hostname: 'db-2', targetName: 'db-2', ready: false }),
    ],
    [port('pg', 'TCP', 5432)],
  ),
  slice('prod', 'workers-abc', 'workers', [ep(['10.244.1.8'], { targetName: 'workers-7d9f-abc' }), ep(['10.244.2.9'])]),
  slice('prod', 'empty-abc', 'empty', [ep(['10.244.3.3'], { ready: false })], [port('http', 'TCP', 80)]),
]

export const FIXTURE_PODS: readonly PodRec[] = [
  { name: 'db-0', namespace: 'prod', ip: '10.244.1.5' },
  { name: 'db-1', namespace: 'prod', ip: '10.244.2.7' },
  { name: 'workers-7d9f-abc', namespace: 'prod', ip: '10.244.1.8' },
  { name: 'v6pod', namespace: 'prod', ip: 'fd00::5' },
  { name: 'coredns-abc', namespace: 'kube-system', ip: '10.244.0.10' },
]

export const FIXTURE_NAMESPACES: readonly string[] = ['default', 'kube-system', 'prod']

export function fixtureView(o: Partial<MemoryViewInit> = {}): MemoryView {
  return new MemoryView({
    namespaces: FIXTURE_NAMESPACES,
    services: FIXTURE_SERVICES,
    slices: FIXTURE_SLICES,
    pods: FIXTURE_PODS,
    synced: true,
    serial: FIXTURE_SERIAL,
    ...o,
  })
}
