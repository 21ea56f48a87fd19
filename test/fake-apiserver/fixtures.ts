// Builders for realistic API objects with the fields cluster DNS reads (kubernetes-dns.md §2), the
// §15 worked-example cluster, and a seeded generator for the scale benchmark (5,000 nodes:
// 150,000 pods, 8,200 services with their EndpointSlices) that yields objects one by one.

import type { KubeObject } from './store.js'

export interface PortSpec {
  name?: string
  port: number
  protocol?: 'TCP' | 'UDP' | 'SCTP'
  targetPort?: number | string
  nodePort?: number
  appProtocol?: string
}

export interface TargetRef {
  kind?: string
  name: string
  namespace?: string
  uid?: string
}

export interface EndpointSpec {
  addresses: string[]
  ready?: boolean
  serving?: boolean
  terminating?: boolean
  hostname?: string
  /** A pod name (kind Pod in the slice's namespace) or a full reference. */
  targetRef?: string | TargetRef
  nodeName?: string
  zone?: string
}

export interface ServiceSpec {
  ns: string
  name: string
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'
  clusterIPs?: string[]
  headless?: boolean
  externalName?: string
  ports?: PortSpec[]
  publishNotReadyAddresses?: boolean
  labels?: Record<string, string>
  annotations?: Record<string, string>
  selector?: Record<string, string>
  externalIPs?: string[]
}

export interface EndpointSliceSpec {
  ns: string
  name: string
  /** Owning service (label kubernetes.io/service-name); null = a slice without that label. */
  service: string | null
  addressType?: 'IPv4' | 'IPv6' | 'FQDN'
  /** Omitted = `ports: null`, as the API serves a port-less slice. */
  ports?: PortSpec[]
  endpoints: EndpointSpec[]
  labels?: Record<string, string>
}

export interface PodSpec {
  ns: string
  name: string
  ip: string
  /** Additional IPs (e.g. the IPv6 one of a dual-stack pod) for status.podIPs. */
  ips?: string[]
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'
  ready?: boolean
  labels?: Record<string, string>
  annotations?: Record<string, string>
  deletionTimestamp?: string
  nodeName?: string
  hostIP?: string
  hostname?: string
  subdomain?: string
  ownerReferences?: unknown[]
}

const CREATED = '2024-05-01T10:00:00Z'

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  }
}

function ipFamily(ip: string): 'IPv4' | 'IPv6' {
  return ip.includes(':') ? 'IPv6' : 'IPv4'
}

export function service(s: ServiceSpec): KubeObject {
  const type = s.type ?? (s.externalName !== undefined ? 'ExternalName' : 'ClusterIP')
  const spec: Record<string, unknown> = {}
  if (s.ports !== undefined && s.ports.length > 0) {
    spec['ports'] = s.ports.map((p) => {
      const o: Record<string, unknown> = {}
      if (p.name !== undefined) o['name'] = p.name
      o['protocol'] = p.protocol ?? 'TCP'
      if (p.appProtocol !== undefined) o['appProtocol'] = p.appProtocol
      o['port'] = p.port
      o['targetPort'] = p.targetPort ?? p.port
      if (p.nodePort !== undefined) o['nodePort'] = p.nodePort
      return o
    })
  }
  if (s.selector !== undefined) spec['selector'] = s.selector
  if (type === 'ExternalName') {
    spec['type'] = 'ExternalName'
    spec['externalName'] = s.externalName ?? ''
    spec['sessionAffinity'] = 'None'
  } else {
    const ips = s.headless === true ? ['None'] : (s.clusterIPs ?? [])
    if (ips.length > 0) {
      spec['clusterIP'] = ips[0]
      spec['clusterIPs'] = ips
    }
    spec['type'] = type
    spec['sessionAffinity'] = 'None'
    if (s.externalIPs !== undefined) spec['externalIPs'] = s.externalIPs
    const fams = s.headless === true ? ['IPv4'] : ips.map(ipFamily)
    spec['ipFamilies'] = fams.length > 0 ? fams : ['IPv4']
    spec['ipFamilyPolicy'] = fams.length > 1 ? 'RequireDualStack' : 'SingleStack'
    spec['internalTrafficPolicy'] = 'Cluster'
    if (s.publishNotReadyAddresses !== undefined) spec['publishNotReadyAddresses'] = s.publishNotReadyAddresses
  }
  const metadata: KubeObject['metadata'] = { name: s.name, namespace: s.ns }
  if (s.labels !== undefined) metadata.labels = s.labels
  if (s.annotations !== undefined) metadata.annotations = s.annotations
  return { apiVersion: 'v1', kind: 'Service', metadata, spec, status: { loadBalancer: {} } }
}

export function endpointSlice(s: EndpointSliceSpec): KubeObject {
  const labels: Record<string, string> = {}
  if (s.service !== null) labels['kubernetes.io/service-name'] = s.service
  labels['endpointslice.kubernetes.io/managed-by'] = 'endpointslice-controller.k8s.io'
  Object.assign(labels, s.labels)
  const metadata: KubeObject['metadata'] = { name: s.name, namespace: s.ns, labels }
  if (s.service !== null) {
    metadata.generateName = `${s.service}-`
    metadata.ownerReferences = [
      { apiVersion: 'v1', kind: 'Service', name: s.service, uid: fakeUid(hashString(`${s.ns}/${s.service}`)), controller: true, blockOwnerDeletion: true },
    ]
  }
  const endpoints = s.endpoints.map((e) => {
    const ready = e.ready ?? true
    const o: Record<string, unknown> = {
      addresses: e.addresses,
      conditions: { ready, serving: e.serving ?? ready, terminating: e.terminating ?? false },
    }
    if (e.hostname !== undefined) o['hostname'] = e.hostname
    if (e.targetRef !== undefined) {
      const t = typeof e.targetRef === 'string' ? { name: e.targetRef } : e.targetRef
      const ref: Record<string, unknown> = { kind: t.kind ?? 'Pod', namespace: t.namespace ?? s.ns, name: t.name }
      ref['uid'] = t.uid ?? fakeUid(hashString(`${s.ns}/${t.name}`))
      o['targetRef'] = ref
    }
    if (e.nodeName !== undefined) o['nodeName'] = e.nodeName
    if (e.zone !== undefined) o['zone'] = e.zone
    return o
  })
  const ports =
    s.ports === undefined
      ? null
      : s.ports.map((p) => {
          const o: Record<string, unknown> = {}
          if (p.name !== undefined) o['name'] = p.name
          o['protocol'] = p.protocol ?? 'TCP'
          o['port'] = p.port
          if (p.appProtocol !== undefined) o['appProtocol'] = p.appProtocol
          return o
        })
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata, addressType: s.addressType ?? 'IPv4', endpoints, ports }
}

export function pod(p: PodSpec): KubeObject {
  const ready = p.ready ?? (p.phase ?? 'Running') === 'Running'
  const phase = p.phase ?? 'Running'
  const metadata: KubeObject['metadata'] = { name: p.name, namespace: p.ns, labels: p.labels ?? {} }
  if (p.annotations !== undefined) metadata.annotations = p.annotations
  if (p.ownerReferences !== undefined) metadata.ownerReferences = p.ownerReferences
  if (p.deletionTimestamp !== undefined) {
    metadata.deletionTimestamp = p.deletionTimestamp
    metadata['deletionGracePeriodSeconds'] = 30
  }
  const nodeName = p.nodeName ?? 'node-1'
  const spec: Record<string, unknown> = {
    containers: [
      {
        name: 'main',
        image: 'registry.example.com/app:1.0.0',
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
        resources: { requests: { cpu: '100m', memory: '128Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
      },
    ],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: 'default',
    nodeName,
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
  }
  if (p.hostname !== undefined) spec['hostname'] = p.hostname
  if (p.subdomain !== undefined) spec['subdomain'] = p.subdomain
  const ips = [p.ip, ...(p.ips ?? [])]
  const status: Record<string, unknown> = {
    phase,
    conditions: [
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: CREATED },
      { type: 'Ready', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: CREATED },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: CREATED },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: CREATED },
    ],
    hostIP: p.hostIP ?? '192.168.0.1',
    podIP: p.ip,
    podIPs: ips.map((ip) => ({ ip })),
    startTime: CREATED,
    qosClass: 'Burstable',
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec, status }
}

/**
 * The worked-example cluster of kubernetes-dns.md §15, in creation order (namespaces, services,
 * slices, pods). Invented details not fixed by the spec: pod/slice names, kube-dns pod IPs
 * 10.244.0.2/3, node names, the second worker's pod name, `lonely` having port http 80/TCP.
 */
export function kubernetesDnsSpecFixture(): KubeObject[] {
  const out: KubeObject[] = [namespace('default'), namespace('kube-system'), namespace('prod')]
  out.push(
    service({ ns: 'default', name: 'kubernetes', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, targetPort: 6443 }], labels: { component: 'apiserver', provider: 'kubernetes' } }),
    service({
      ns: 'kube-system',
      name: 'kube-dns',
      clusterIPs: ['10.96.0.10'],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        { name: 'metrics', port: 9153, protocol: 'TCP' },
      ],
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' },
      selector: { 'k8s-app': 'kube-dns' },
    }),
    service({
      ns: 'prod',
      name: 'web',
      clusterIPs: ['10.96.10.20', 'fd00:96::20'],
      ports: [
        { name: 'http', port: 80 },
        { name: 'alt', port: 8080 },
      ],
      selector: { app: 'web' },
    }),
    service({ ns: 'prod', name: 'db', headless: true, ports: [{ name: 'pg', port: 5432 }], selector: { app: 'db' } }),
    service({ ns: 'prod', name: 'workers', headless: true, selector: { app: 'workers' } }),
    service({ ns: 'prod', name: 'ext', externalName: 'api.example.com' }),
    service({ ns: 'prod', name: 'empty', headless: true, selector: { app: 'empty' } }),
    service({ ns: 'prod', name: 'lonely', clusterIPs: ['10.96.10.30'], ports: [{ name: 'http', port: 80 }], selector: { app: 'lonely' } }),
    service({ ns: 'prod', name: 'alias', externalName: 'lonely.prod.svc.cluster.local' }),
    service({ ns: 'prod', name: 'dangling', externalName: 'gone.prod.svc.cluster.local' }),
  )
  const dnsPods = [
    { name: 'coredns-7db6d8ff4d-4xk2p', ip: '10.244.0.2' },
    { name: 'coredns-7db6d8ff4d-9lq8s', ip: '10.244.0.3' },
  ]
  out.push(
    endpointSlice({
      ns: 'kube-system',
      name: 'kube-dns-x7k2m',
      service: 'kube-dns',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        { name: 'metrics', port: 9153, protocol: 'TCP' },
      ],
      endpoints: dnsPods.map((p) => ({ addresses: [p.ip], targetRef: p.name, nodeName: 'node-0' })),
    }),
    endpointSlice({
      ns: 'prod',
      name: 'db-4fj8q',
      service: 'db',
      ports: [{ name: 'pg', port: 5432 }],
      endpoints: [
        { addresses: ['10.244.1.5'], hostname: 'db-0', targetRef: 'db-0', nodeName: 'node-1' },
        { addresses: ['10.244.2.7'], hostname: 'db-1', targetRef: 'db-1', nodeName: 'node-2' },
        { addresses: ['10.244.3.9'], hostname: 'db-2', targetRef: 'db-2', nodeName: 'node-3', ready: false },
      ],
    }),
    endpointSlice({
      ns: 'prod',
      name: 'workers-9xq2z',
      service: 'workers',
      endpoints: [
        { addresses: ['10.244.1.8'], targetRef: 'workers-7d9f-abc', nodeName: 'node-1' },
        { addresses: ['10.244.2.9'], targetRef: 'workers-7d9f-xyz', nodeName: 'node-2' },
      ],
    }),
    endpointSlice({ ns: 'prod', name: 'empty-8dk3j', service: 'empty', endpoints: [] }),
  )
  for (const p of dnsPods) {
    out.push(pod({ ns: 'kube-system', name: p.name, ip: p.ip, nodeName: 'node-0', labels: { 'k8s-app': 'kube-dns', 'pod-template-hash': '7db6d8ff4d' } }))
  }
  const dbPods: Array<[string, string, string, boolean]> = [
    ['db-0', '10.244.1.5', 'node-1', true],
    ['db-1', '10.244.2.7', 'node-2', true],
    ['db-2', '10.244.3.9', 'node-3', false],
  ]
  for (const [name, ip, node, ready] of dbPods) {
    out.push(
      pod({
        ns: 'prod',
        name,
        ip,
        nodeName: node,
        ready,
        hostname: name,
        subdomain: 'db',
        labels: { app: 'db', 'statefulset.kubernetes.io/pod-name': name, 'controller-revision-hash': 'db-6b8f7c9d5' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: fakeUid(hashString('prod/sts/db')), controller: true, blockOwnerDeletion: true }],
      }),
    )
  }
  out.push(
    pod({ ns: 'prod', name: 'workers-7d9f-abc', ip: '10.244.1.8', nodeName: 'node-1', labels: { app: 'workers', 'pod-template-hash': '7d9f' } }),
    pod({ ns: 'prod', name: 'workers-7d9f-xyz', ip: '10.244.2.9', nodeName: 'node-2', labels: { app: 'workers', 'pod-template-hash': '7d9f' } }),
  )
  return out
}

// ---- scale generator ----

export interface ClusterShape {
  pods?: number
  services?: number
  nodes?: number
  seed?: number
  /** Default: services / 20. */
  namespaces?: number
}

/** The benchmark cluster of the issue: 5,000 nodes, 150,000 pods, 8,200 services. */
export const SCALE_CLUSTER: Required<Omit<ClusterShape, 'namespaces'>> = { pods: 150_000, services: 8_200, nodes: 5_000, seed: 1 }

/** mulberry32: small, fast, seeded. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function hashString(s: string): number {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h >>> 0
}

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, '0').slice(-width)
}

function fakeUid(n: number, m = 0): string {
  return `${hex(n, 8)}-${hex(m >>> 16, 4)}-4${hex(m, 3)}-8${hex(n >>> 4, 3)}-${hex(m * 2654435761, 8)}${hex(n ^ m, 4)}`
}

const ALNUM = 'bcdfghjklmnpqrstvwxz2456789'
function token(r: () => number, n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) s += ALNUM[Math.floor(r() * ALNUM.length)]
  return s
}

const WORDS = [
  'api', 'auth', 'billing', 'cart', 'catalog', 'checkout', 'search', 'orders', 'payments', 'ledger', 'users', 'profile',
  'notify', 'mailer', 'media', 'thumbs', 'ingest', 'stream', 'events', 'audit', 'metrics', 'logs', 'gateway', 'edge',
  'session', 'cache', 'queue', 'worker', 'scheduler', 'report', 'export', 'import', 'inventory', 'pricing', 'promo',
  'reviews', 'ratings', 'shipping', 'tax', 'fraud', 'risk', 'geo', 'maps', 'chat', 'feed', 'graph', 'ml', 'ranker',
]
const TEAMS = ['core', 'growth', 'platform', 'data', 'infra', 'mobile', 'web', 'sre', 'finance', 'search']
const PORT_SETS: PortSpec[][] = [
  [{ name: 'http', port: 80, targetPort: 8080 }],
  [{ name: 'http', port: 8080 }],
  [{ name: 'grpc', port: 9090 }],
  [
    { name: 'http', port: 80, targetPort: 8080 },
    { name: 'metrics', port: 9100 },
  ],
  [
    { name: 'grpc', port: 9090 },
    { name: 'http', port: 8080 },
    { name: 'metrics', port: 9100 },
  ],
  [{ name: 'tcp', port: 6379 }],
]

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
}

/**
 * Yields a seeded, realistic cluster: namespaces, then per service its Service, EndpointSlices
 * (≤ 100 endpoints each) and backing Pods. ~85% ClusterIP, ~10% headless (StatefulSet pods with
 * hostnames), ~5% ExternalName; every pod backs exactly one service; ~2% of endpoints not ready.
 */
export function* generateCluster(shape: ClusterShape = {}): Generator<KubeObject> {
  const podsN = shape.pods ?? SCALE_CLUSTER.pods
  const svcN = shape.services ?? SCALE_CLUSTER.services
  const nodesN = Math.max(1, shape.nodes ?? SCALE_CLUSTER.nodes)
  const seed = shape.seed ?? SCALE_CLUSTER.seed
  const nsN = Math.max(1, shape.namespaces ?? Math.ceil(svcN / 20))
  const r = rng(seed)

  const nsNames: string[] = []
  for (let i = 0; i < nsN; i++) {
    const name = `${WORDS[i % WORDS.length]}-${TEAMS[Math.floor(i / WORDS.length) % TEAMS.length]}${i >= WORDS.length * TEAMS.length ? `-${i}` : ''}`
    nsNames.push(name)
    yield namespace(name, { team: TEAMS[i % TEAMS.length]!, env: i % 7 === 0 ? 'staging' : 'production' })
  }

  // Service kinds and sizes (skewed: most small, a few with hundreds or thousands of pods).
  const kinds: Array<'clusterip' | 'headless' | 'external'> = []
  const weights: number[] = []
  let wsum = 0
  for (let i = 0; i < svcN; i++) {
    const x = r()
    const k = x < 0.05 ? 'external' : x < 0.15 ? 'headless' : 'clusterip'
    kinds.push(k)
    let w = 0
    if (k !== 'external') {
      const y = r()
      w = y < 0.7 ? 1 + r() * 9 : y < 0.97 ? 10 + r() * 50 : 100 + r() * 900
      if (k === 'headless') w = Math.min(w, 50)
    }
    weights.push(w)
    wsum += w
  }
  const sizes = weights.map((w) => (wsum > 0 ? Math.floor((w * podsN) / wsum) : 0))
  let assigned = sizes.reduce((a, b) => a + b, 0)
  for (let i = 0; assigned < podsN && wsum > 0; i = (i + 1) % svcN) {
    if (weights[i]! > 0) {
      sizes[i]!++
      assigned++
    }
  }

  const perNode = Math.ceil(podsN / nodesN)
  let block = 256
  while (block - 2 < perNode) block *= 2
  const podBase = (10 << 24) | (128 << 16) // 10.128.0.0
  const svcBase = (10 << 24) | (96 << 16) // 10.96.0.0/12
  const nodeName = (n: number): string => `node-${String(n).padStart(4, '0')}`
  const nodeIP = (n: number): string => ipv4(((172 << 24) | (16 << 16)) + n + 10)

  let podIndex = 0
  const usedNames = new Map<string, number>()
  for (let s = 0; s < svcN; s++) {
    const ns = nsNames[s % nsN]!
    let base = `${WORDS[Math.floor(r() * WORDS.length)]}-${WORDS[Math.floor(r() * WORDS.length)]}`
    const key = `${ns}/${base}`
    const dup = usedNames.get(key) ?? 0
    usedNames.set(key, dup + 1)
    if (dup > 0) base = `${base}-${dup}`
    const name = base
    const kind = kinds[s]!
    const team = TEAMS[Math.floor(r() * TEAMS.length)]!
    const appLabels = { app: name, 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': ns, team }
    const annotations = {
      'meta.helm.sh/release-name': name,
      'meta.helm.sh/release-namespace': ns,
      'prometheus.io/scrape': r() < 0.5 ? 'true' : 'false',
    }
    if (kind === 'external') {
      yield service({ ns, name, externalName: `${name}.${team}.example.com`, labels: { ...appLabels, 'app.kubernetes.io/managed-by': 'Helm' }, annotations })
      continue
    }
    const ports = PORT_SETS[Math.floor(r() * PORT_SETS.length)]!
    const svcUidN = hashString(`${seed}/${ns}/${name}`)
    const clusterIP = ipv4(svcBase + 16 + s)
    const svc = service({
      ns,
      name,
      clusterIPs: kind === 'headless' ? [] : [clusterIP],
      headless: kind === 'headless',
      ports,
      selector: { app: name },
      labels: { ...appLabels, 'app.kubernetes.io/managed-by': 'Helm' },
      annotations,
    })
    svc.metadata.uid = fakeUid(svcUidN, s)
    svc.metadata.creationTimestamp = CREATED
    yield svc

    const n = sizes[s]!
    const sts = kind === 'headless'
    const hash = token(r, 10)
    const podLabels: Record<string, string> = sts
      ? { ...appLabels, 'controller-revision-hash': `${name}-${hash}` }
      : { ...appLabels, 'pod-template-hash': hash }
    const owner = sts
      ? { apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid: fakeUid(svcUidN ^ 0x5a5a, s), controller: true, blockOwnerDeletion: true }
      : { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-${hash}`, uid: fakeUid(svcUidN ^ 0xa5a5, s), controller: true, blockOwnerDeletion: true }
    const podAnnotations = { 'kubectl.kubernetes.io/restartedAt': CREATED, 'prometheus.io/port': '9100' }
    const slicePorts = ports.map((p) => ({ name: p.name ?? '', port: typeof p.targetPort === 'number' ? p.targetPort : p.port }))
    const first = podIndex
    const podNames: string[] = []
    const ready: boolean[] = []
    const seen = new Set<string>()
    for (let i = 0; i < n; i++) {
      let pn = sts ? `${name}-${i}` : `${name}-${hash}-${token(r, 5)}`
      while (seen.has(pn)) pn = `${name}-${hash}-${token(r, 5)}`
      seen.add(pn)
      podNames.push(pn)
      ready.push(r() >= 0.02)
    }
    const addr = (i: number): { ip: string; node: number } => {
      const p = first + i
      const node = p % nodesN
      return { ip: ipv4(podBase + node * block + 1 + Math.floor(p / nodesN)), node }
    }
    for (let off = 0, sl = 0; off < n || (off === 0 && sl === 0); off += 100, sl++) {
      const endpoints: EndpointSpec[] = []
      for (let i = off; i < Math.min(n, off + 100); i++) {
        const a = addr(i)
        const e: EndpointSpec = {
          addresses: [a.ip],
          ready: ready[i]!,
          targetRef: { name: podNames[i]!, uid: fakeUid(svcUidN + i, s) },
          nodeName: nodeName(a.node),
          zone: `zone-${String.fromCharCode(97 + (a.node % 3))}`,
        }
        if (sts) e.hostname = podNames[i]!
        endpoints.push(e)
      }
      let sliceName = `${name}-${token(r, 5)}`
      while (seen.has(sliceName)) sliceName = `${name}-${token(r, 5)}`
      seen.add(sliceName)
      const es = endpointSlice({ ns, name: sliceName, service: name, ports: slicePorts, endpoints })
      es.metadata.uid = fakeUid(svcUidN ^ (sl + 1), s)
      es.metadata.creationTimestamp = CREATED
      yield es
      if (n === 0) break
    }
    for (let i = 0; i < n; i++) {
      const a = addr(i)
      const labels = sts ? { ...podLabels, 'statefulset.kubernetes.io/pod-name': podNames[i]! } : podLabels
      const spec: PodSpec = {
        ns,
        name: podNames[i]!,
        ip: a.ip,
        ready: ready[i]!,
        nodeName: nodeName(a.node),
        hostIP: nodeIP(a.node),
        labels,
        annotations: podAnnotations,
        ownerReferences: [owner],
      }
      if (sts) {
        spec.hostname = podNames[i]!
        spec.subdomain = name
      }
      const p = pod(spec)
      p.metadata.uid = fakeUid(svcUidN + i, s)
      p.metadata.creationTimestamp = CREATED
      yield p
    }
    podIndex += n
  }
}
