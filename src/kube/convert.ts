// API objects (plain JSON as the API server or kubectl prints them) → the compact records of
// model.ts, per kubernetes-dns.md §2. Nothing of the API object is kept beyond what a record
// holds; strings that repeat across objects (namespaces, protocols, port names, node names, ...)
// are interned so thousands of records share one copy.

import { canonicalIP } from '../lib/ip.js'
import type {
  EndpointRec,
  Kind,
  NamespaceRec,
  PodRec,
  PortRec,
  ServiceRec,
  SliceRec,
} from './model.js'

/** Loose view of an API object: every field may be missing or null. */
export type ApiObject = { readonly [k: string]: unknown }

export type Rec = ServiceRec | SliceRec | PodRec | NamespaceRec

/** Identifies a stored object. Namespaces use namespace ''. */
export interface ObjKey {
  readonly namespace: string
  readonly name: string
}

/**
 * An object the API has but DNS cannot use (pod without IP or in a final phase, FQDN slice): when
 * it arrives as ADDED/MODIFIED any cached version is removed.
 */
export class Unusable implements ObjKey {
  readonly namespace: string
  readonly name: string
  constructor(namespace: string, name: string) {
    this.namespace = namespace
    this.name = name
  }
}

/**
 * A pod carrying metadata.deletionTimestamp. QUIRK (kubernetes-dns.md §2): never cached when first
 * seen like this; when a cached pod is modified into this state the cached version stays.
 */
export class TerminatingPod implements ObjKey {
  readonly namespace: string
  readonly name: string
  constructor(namespace: string, name: string) {
    this.namespace = namespace
    this.name = name
  }
}

/** What a source hands the store for one API object. */
export type Item = Rec | Unusable | TerminatingPod

// ---------------------------------------------------------------------------------------------
// Interning

const INTERN_MAX = 100_000
const interned = new Map<string, string>()

/** One shared copy of a repeated string (bounded: the table is dropped when it grows too big). */
export function intern(s: string): string {
  const hit = interned.get(s)
  if (hit !== undefined) return hit
  if (interned.size >= INTERN_MAX) interned.clear()
  interned.set(s, s)
  return s
}

const portsInterned = new Map<string, PortRec>()

function portRec(name: string, protocol: string, port: number): PortRec {
  const key = `${port}/${protocol}/${name}`
  const hit = portsInterned.get(key)
  if (hit !== undefined) return hit
  if (portsInterned.size >= INTERN_MAX) portsInterned.clear()
  const rec: PortRec = Object.freeze({ name: intern(name), protocol: intern(protocol), port })
  portsInterned.set(key, rec)
  return rec
}

/** The -1 sentinel of a service or slice without ports, shared by all of them. */
export const NO_PORTS: readonly PortRec[] = Object.freeze([
  Object.freeze({ name: '', protocol: '', port: -1 }),
])

const EMPTY: readonly string[] = Object.freeze([])

// ---------------------------------------------------------------------------------------------
// Field access helpers

function obj(v: unknown): ApiObject | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as ApiObject) : null
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function arr(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : EMPTY
}

function meta(o: ApiObject): ApiObject {
  return obj(o['metadata']) ?? {}
}

/** metadata.namespace / metadata.name of any object. */
export function keyOf(o: ApiObject): ObjKey {
  const m = meta(o)
  return { namespace: str(m['namespace']), name: str(m['name']) }
}

/** metadata.resourceVersion or ''. */
export function resourceVersionOf(o: ApiObject): string {
  return str(meta(o)['resourceVersion'])
}

/** metadata.labels as a plain string map (for local selector matching), or null. */
export function labelsOf(o: ApiObject): Readonly<Record<string, unknown>> | null {
  return obj(meta(o)['labels'])
}

/**
 * Canonical text of an IP, reusing the input string when it already is canonical (the usual case:
 * the API writes canonical text), so no new (cons) string is kept per address.
 */
export function canonIP(s: string): string | null {
  const c = canonicalIP(s)
  if (c === null) return null
  if (c === s) return s
  return Buffer.from(c, 'latin1').toString('latin1') // a flat copy, not a cons-string tree
}

/** Canonical, de-duplicated IPs in an exactly sized array (push-grown arrays keep spare slots). */
function ipList(values: readonly unknown[]): readonly string[] {
  const n = values.length
  if (n === 0) return EMPTY
  if (n === 1) {
    const ip = canonIP(str(values[0]))
    return ip === null ? EMPTY : [ip]
  }
  const out: string[] = []
  for (const v of values) {
    const ip = canonIP(str(v))
    if (ip !== null && !out.includes(ip)) out.push(ip)
  }
  return out.length === 0 ? EMPTY : out.slice()
}

// ---------------------------------------------------------------------------------------------
// Service

export function serviceFromAPI(o: ApiObject): ServiceRec {
  const m = meta(o)
  const spec = obj(o['spec']) ?? {}
  const type = str(spec['type']) || 'ClusterIP'
  let raw = arr(spec['clusterIPs'])
  if (raw.length === 0) {
    const one = str(spec['clusterIP'])
    raw = one === '' ? EMPTY : [one]
  }
  const headless = raw[0] === 'None'
  const externalName = type === 'ExternalName' ? str(spec['externalName']) : ''
  const clusterIPs = headless || type === 'ExternalName' ? EMPTY : ipList(raw)

  const apiPorts = arr(spec['ports'])
  let ports: readonly PortRec[] = NO_PORTS
  if (apiPorts.length > 0) {
    const out: PortRec[] = []
    for (const p of apiPorts) {
      const po = obj(p)
      if (po === null) continue
      const n = po['port']
      out.push(portRec(str(po['name']), str(po['protocol']) || 'TCP', typeof n === 'number' ? n : -1))
    }
    if (out.length > 0) ports = out.slice()
  }

  const ext: unknown[] = [...arr(spec['externalIPs'])]
  const status = obj(o['status'])
  const lb = status !== null ? obj(status['loadBalancer']) : null
  const hostnames: string[] = []
  if (lb !== null) {
    for (const ing of arr(lb['ingress'])) {
      const io = obj(ing)
      if (io === null) continue
      const ip = str(io['ip'])
      if (ip !== '') ext.push(ip)
      else if (str(io['hostname']) !== '') hostnames.push(str(io['hostname']))
    }
  }
  let externalIPs = ipList(ext)
  if (hostnames.length > 0) externalIPs = [...externalIPs, ...hostnames]

  return {
    name: intern(str(m['name'])), // shared with the service-name label of its slices
    namespace: intern(str(m['namespace'])),
    type: intern(type),
    headless,
    clusterIPs,
    externalName,
    ports,
    externalIPs,
  }
}

// ---------------------------------------------------------------------------------------------
// EndpointSlice

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'

/** `targetNames`: keep endpoints' targetRef names (only `endpoint_pod_names` reads them). */
export function sliceFromAPI(o: ApiObject, targetNames = true): SliceRec | Unusable {
  const m = meta(o)
  const namespace = intern(str(m['namespace']))
  const name = str(m['name'])
  const addressType = str(o['addressType'])
  if (addressType !== 'IPv4' && addressType !== 'IPv6') return new Unusable(namespace, name)
  const labels = obj(m['labels'])
  const service = labels !== null ? intern(str(labels[SERVICE_NAME_LABEL])) : ''

  const apiPorts = arr(o['ports'])
  let ports: readonly PortRec[] = NO_PORTS
  if (apiPorts.length > 0) {
    const out: PortRec[] = []
    for (const p of apiPorts) {
      const po = obj(p)
      if (po === null) continue
      const n = po['port']
      out.push(portRec(str(po['name']), str(po['protocol']) || 'TCP', typeof n === 'number' ? n : -1))
    }
    if (out.length > 0) ports = out.slice()
  }

  const endpoints: EndpointRec[] = []
  for (const e of arr(o['endpoints'])) {
    const eo = obj(e)
    if (eo === null) continue
    const addresses = ipList(arr(eo['addresses']))
    if (addresses.length === 0) continue
    const cond = obj(eo['conditions'])
    const r = cond !== null ? cond['ready'] : undefined
    const ready = r !== false // nil (absent or null) = ready
    const ref = targetNames ? obj(eo['targetRef']) : null
    const targetName = ref !== null ? str(ref['name']) : ''
    endpoints.push({
      addresses,
      ready,
      hostname: str(eo['hostname']),
      targetName: targetName.length < 64 ? targetName : '',
    })
  }

  return { name, namespace, service, addressType: intern(addressType), ports, endpoints: endpoints.slice() }
}

// ---------------------------------------------------------------------------------------------
// Pod

/**
 * A pod record, or Unusable when it has no IP or a final phase, or TerminatingPod when it carries
 * a deletionTimestamp (QUIRK §2). The IP stays exactly as the API wrote it (verified pods compare
 * the text).
 */
export function podFromAPI(o: ApiObject): PodRec | Unusable | TerminatingPod {
  const m = meta(o)
  const namespace = intern(str(m['namespace']))
  const name = str(m['name'])
  const dt = m['deletionTimestamp']
  if (dt !== undefined && dt !== null && dt !== '') return new TerminatingPod(namespace, name)
  const status = obj(o['status']) ?? {}
  const phase = str(status['phase'])
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Unknown') return new Unusable(namespace, name)
  const ip = str(status['podIP'])
  if (ip === '') return new Unusable(namespace, name)
  return { name, namespace, ip }
}

// ---------------------------------------------------------------------------------------------
// Namespace

export function namespaceFromAPI(o: ApiObject): NamespaceRec {
  return { name: intern(str(meta(o)['name'])) }
}

// ---------------------------------------------------------------------------------------------

/** The converter of a watched kind; `targetNames` as for sliceFromAPI. */
export function convert(kind: Kind, o: ApiObject, targetNames = true): Item {
  switch (kind) {
    case 'services':
      return serviceFromAPI(o)
    case 'endpointslices':
      return sliceFromAPI(o, targetNames)
    case 'pods':
      return podFromAPI(o)
    case 'namespaces':
      return namespaceFromAPI(o)
  }
}

/** The kind of an object by its `kind` field (kubectl output), or null for kinds DNS ignores. */
export function kindOf(o: ApiObject): Kind | null {
  switch (o['kind']) {
    case 'Service':
      return 'services'
    case 'EndpointSlice':
      return 'endpointslices'
    case 'Pod':
      return 'pods'
    case 'Namespace':
      return 'namespaces'
    default:
      return null
  }
}
