// Record lookup of the kubernetes plugin: from a parsed name to "services" (address or target
// host, port, and the name the record would live at), exactly as CoreDNS' kubernetes.go /
// backend_lookup.go compute them (kubernetes-dns.md §3-§10). Every lookup is a KubeView index hit.

import { Type } from '../../dns/constants.js'
import type { EndpointRec, KubeView, ServiceRec, SliceRec } from '../../kube/model.js'
import { formatIPv4, parseIP } from '../../lib/ip.js'
import type { KubeConfig } from './config.js'
import { isDefaultNS, isReverseName, parseRequest, trimZone, type RecordRequest } from './parse.js'

/** What a name resolves to: one address (or a CNAME target) and where its record lives. */
export interface Item {
  /** IP text, or a host name (ExternalName target), or '' for the dns-version TXT item. */
  host: string
  /** Port (-1 = the no-ports sentinel, 0 for pod and name-server items). */
  port: number
  /** Name of the record relative to the zone ('web.prod.svc', 'db-0.db.prod.svc'); '' = use `abs`. */
  rel: string
  /** Absolute record name (name-server items). */
  abs: string
  /** TXT text (dns-version) or ''. */
  text: string
}

/** Result of a lookup: items, or null for a name error (NXDOMAIN). */
export type Items = Item[] | null

/** Parsed address: record type and rdata text (IPv4-mapped IPv6 counts as IPv4, like Go To4). */
export interface HostAddr {
  type: number
  text: string
  bytes: Uint8Array
}

const ADDR_CACHE = new Map<string, HostAddr | null>()
const ADDR_CACHE_MAX = 65536

/** CoreDNS msg.Service.HostType for a host text: A/AAAA with normalized address, or null (a name). */
export function hostAddr(host: string): HostAddr | null {
  let a = ADDR_CACHE.get(host)
  if (a !== undefined) return a
  const b = host === '' ? null : parseIP(host)
  if (b === null) a = null
  else if (b.length === 4) a = { type: Type.A, text: host, bytes: b }
  else {
    let mapped = b[10] === 0xff && b[11] === 0xff
    for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false
    if (mapped) {
      const v4 = b.slice(12)
      a = { type: Type.A, text: formatIPv4(v4), bytes: v4 }
    } else a = { type: Type.AAAA, text: host, bytes: b }
  }
  if (ADDR_CACHE.size >= ADDR_CACHE_MAX) ADDR_CACHE.clear()
  ADDR_CACHE.set(host, a)
  return a
}

/** The endpoint label of an address (§4.3). */
export function endpointHostname(e: EndpointRec, addr: string, podNames: boolean): string {
  if (e.hostname !== '') return e.hostname
  if (podNames && e.targetName !== '') return e.targetName
  if (addr.includes('.')) return addr.replaceAll('.', '-')
  if (addr.includes(':')) {
    const s = addr.replaceAll(':', '-')
    return s.endsWith('-') ? s + '0' : s
  }
  return ''
}

function eqFold(a: string, b: string): boolean {
  return a.length === b.length && (a === b || a.toLowerCase() === b.toLowerCase())
}

function matchPortAndProtocol(aPort: string, bPort: string, aProto: string, bProto: string): boolean {
  return (aPort === '' || eqFold(aPort, bPort)) && (aProto === '' || eqFold(aProto, bProto))
}

const EMPTY_ITEMS: Item[] = []

function item(host: string, port: number, rel: string): Item {
  return { host, port, rel, abs: '', text: '' }
}

/** A name-server address: the name it is published under and the address. */
export interface NsAddr {
  name: string
  ip: string
}

/** The lookups of one kubernetes plugin instance, against whatever view is current. */
export class Backend {
  readonly cfg: KubeConfig
  /** The DNS server's own addresses (§8 nsAddrs); empty for a bound server block. */
  readonly localIPs: readonly string[]
  view: KubeView
  constructor(cfg: KubeConfig, localIPs: readonly string[], view: KubeView) {
    this.cfg = cfg
    this.localIPs = localIPs
    this.view = view
  }

  namespaceExposed(ns: string): boolean {
    const only = this.cfg.namespaces
    if (only !== null && !only.has(ns)) return false
    return this.view.namespaceExists(ns)
  }

  private slicesOf(ns: string, svc: string): readonly SliceRec[] {
    return this.cfg.noEndpoints ? EMPTY_SLICES : this.view.slicesOf(ns, svc)
  }

  /**
   * CoreDNS Kubernetes.Services for `qtype` on `lower` (lower-cased name) in zone `zoneQ` (the
   * zone part as spelled in the query).
   */
  services(qtype: number, lower: string, zoneQ: string): Items {
    if (qtype === Type.TXT) {
      const base = trimZone(lower, zoneQ)
      if (base === 'dns-version') return [{ host: '', port: 0, rel: '', abs: '', text: '1.1.0' }]
      const s = this.records(lower, zoneQ)
      return s !== null && s.length > 0 ? EMPTY_ITEMS : null
    }
    if (qtype === Type.NS) {
      const out: Item[] = []
      for (const a of this.nsAddrs(zoneQ)) out.push({ host: a.ip, port: 0, rel: '', abs: a.name, text: '' })
      return out
    }
    if (isDefaultNS(lower, zoneQ)) {
      const out: Item[] = []
      if (qtype !== Type.A && qtype !== Type.AAAA) return out
      for (const a of this.nsAddrs(zoneQ)) {
        const h = hostAddr(a.ip)
        if (h !== null && h.type === qtype) out.push({ host: a.ip, port: 0, rel: '', abs: '', text: '' })
      }
      return out
    }
    const s = this.records(lower, zoneQ)
    if (qtype !== Type.SRV || s === null) return s
    let internal: Item[] | null = null
    for (let i = 0; i < s.length; i++) {
      const it = s[i]!
      if (hostAddr(it.host) === null) {
        if (internal === null) internal = s.slice(0, i)
      } else if (internal !== null) internal.push(it)
    }
    return internal ?? s
  }

  /** CoreDNS Kubernetes.Records. */
  records(lower: string, zoneQ: string): Items {
    const r = parseRequest(trimZone(lower, zoneQ))
    if (r === null) return null
    if (r.podOrSvc === '') return EMPTY_ITEMS
    if (isReverseName(lower)) return null
    if (!this.namespaceExposed(r.namespace)) return null
    if (r.podOrSvc === 'pod') return this.findPods(r)
    return this.findServices(r)
  }

  private findPods(r: RecordRequest): Items {
    const mode = this.cfg.podMode
    if (mode === 'disabled') return null
    const ns = r.namespace
    const podname = r.service
    if (podname === '') return EMPTY_ITEMS
    const rel = `${podname}.${ns}.pod`
    let ip: string
    if (countDashes(podname) === 3 && !podname.includes('--')) ip = podname.replaceAll('-', '.')
    else ip = podname.replaceAll('-', ':')
    if (mode === 'insecure') {
      if (parseIP(ip) === null) return null
      return [item(ip, 0, rel)]
    }
    let out: Item[] | null = null
    for (const p of this.view.podsByIP(ip)) {
      if (p.ip === ip && eqFold(ns, p.namespace)) (out ??= []).push(item(ip, 0, rel))
    }
    return out
  }

  private findServices(r: RecordRequest): Items {
    if (r.service === '') return EMPTY_ITEMS
    const svc = this.view.service(r.namespace, r.service)
    if (svc === undefined) return null
    if (this.cfg.ignoreEmptyService && svc.type !== 'ExternalName' && !svc.headless) {
      if (readyCount(this.slicesOf(svc.namespace, svc.name)) === 0) return null
    }
    const base = `${svc.name}.${svc.namespace}.svc`
    if (svc.type === 'ExternalName') {
      if (r.endpoint !== '' || r.port !== '' || r.protocol !== '') return null
      if (hostAddr(svc.externalName) !== null || svc.externalName === '') return null
      return [item(svc.externalName, 0, base)]
    }
    let found = false
    const out: Item[] = []
    if (svc.headless || r.endpoint !== '') {
      const podNames = this.cfg.endpointPodNames
      for (const sl of this.slicesOf(svc.namespace, svc.name)) {
        if (sl.service !== svc.name || sl.namespace !== svc.namespace) continue
        for (const e of sl.endpoints) {
          if (!e.ready) continue
          for (const addr of e.addresses) {
            const epName = endpointHostname(e, addr, podNames)
            if (r.endpoint !== '' && !eqFold(r.endpoint, epName)) continue
            for (const p of sl.ports) {
              if (!matchPortAndProtocol(r.port, p.name, r.protocol, p.protocol)) continue
              found = true
              out.push(item(addr, p.port, `${epName}.${base}`))
            }
          }
        }
      }
      return found ? out : null
    }
    for (const p of svc.ports) {
      if (!matchPortAndProtocol(r.port, p.name, r.protocol, p.protocol)) continue
      found = true
      for (const ip of svc.clusterIPs) out.push(item(ip, p.port, base))
    }
    return found ? out : null
  }

  /** PTR lookup of an address (§7): targets, or null when nothing is found. */
  reverse(ip: string): string[] | null {
    const only = this.cfg.namespaces !== null
    const primary = this.cfg.primaryZone
    for (const s of this.view.servicesByIP(ip)) {
      if (only && !this.namespaceExposed(s.namespace)) continue
      return [joinName(`${s.name}.${s.namespace}.svc`, primary)]
    }
    if (this.cfg.noEndpoints) return null
    let out: string[] | null = null
    const podNames = this.cfg.endpointPodNames
    for (const sl of this.view.slicesByIP(ip)) {
      if (sl.service === '') continue
      if (only && !this.namespaceExposed(sl.namespace)) continue
      for (const e of sl.endpoints) {
        if (!e.ready) continue
        for (const a of e.addresses) {
          if (a !== ip) continue
          ;(out ??= []).push(joinName(`${endpointHostname(e, a, podNames)}.${sl.service}.${sl.namespace}.svc`, primary))
        }
      }
    }
    return out
  }

  /** The server's published name-server names and addresses for `zone` (§8, CoreDNS nsAddrs). */
  nsAddrs(zone: string): NsAddr[] {
    const out: NsAddr[] = []
    if (!this.cfg.noEndpoints) {
      const podNames = this.cfg.endpointPodNames
      for (const local of this.localIPs) {
        for (const sl of this.view.slicesByIP(local)) {
          if (sl.service === '') continue
          const svc: ServiceRec | undefined = this.view.service(sl.namespace, sl.service)
          if (svc === undefined) continue
          const svcName = joinName(`${svc.name}.${svc.namespace}.svc`, zone)
          if (svc.headless) {
            for (const e of sl.endpoints) {
              if (!e.ready) continue
              for (const a of e.addresses) out.push({ name: `${endpointHostname(e, a, podNames)}.${svcName}`, ip: a })
            }
          } else {
            for (const ip of svc.clusterIPs) out.push({ name: svcName, ip })
          }
        }
      }
    }
    if (out.length === 0) {
      const name = joinName('ns.dns', zone)
      for (const local of this.localIPs) out.push({ name, ip: local })
    }
    return out
  }
}

const EMPTY_SLICES: readonly SliceRec[] = []

/** `rel` + '.' + zone (zone '.' gives `rel.`). */
export function joinName(rel: string, zone: string): string {
  return zone === '.' ? rel + '.' : rel + '.' + zone
}

function countDashes(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 0x2d) n++
  return n
}

function readyCount(slices: readonly SliceRec[]): number {
  let n = 0
  for (const sl of slices) for (const e of sl.endpoints) if (e.ready) n += e.addresses.length
  return n
}
