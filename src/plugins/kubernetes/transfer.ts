// Zone content for the transfer plugin (kubernetes-dns.md §13, CoreDNS plugin/kubernetes/transfer.go).

import { isReverseZone } from '../../corefile/address.js'
import { Class, Type } from '../../dns/constants.js'
import { fqdn } from '../../dns/name.js'
import type { RR } from '../../dns/types.js'
import type { ServiceRec } from '../../kube/model.js'
import type { Transferer } from '../../pluginkit/types.js'
import { type Backend, endpointHostname, hostAddr, joinName } from './backend.js'
import { soaRecord } from './reply.js'

/** CoreDNS calcSRVWeight: floor(100 / (100 n) * 100) in float64 (no minimum of 1). */
function srvWeight(n: number): number {
  const w = Math.floor((100 / (100 * n)) * 100)
  return Number.isFinite(w) ? w & 0xffff : 0
}

export class KubeTransferer implements Transferer {
  readonly zones: readonly string[]
  private readonly backend: Backend
  constructor(backend: Backend) {
    this.backend = backend
    this.zones = backend.cfg.zones.filter((z) => !isReverseZone(z))
  }

  serial(_zone: string): number {
    return this.backend.view.serial >>> 0
  }

  /** `zone` as the client sent it: it must equal one of our forward zones exactly (CoreDNS). */
  transfer(zone: string): RR[] | null {
    if (!this.zones.includes(zone)) return null
    const b = this.backend
    const ttl = b.cfg.ttl
    const soa = soaRecord({ zoneQ: zone, zoneLabels: 0, ttl, serial: b.view.serial })
    const out: RR[] = [soa]
    const seen = new Set<string>()
    for (const a of b.nsAddrs(zone)) {
      const h = hostAddr(a.ip)
      if (h === null) continue
      if (!seen.has(a.name)) {
        seen.add(a.name)
        out.push(rr(zone, Type.NS, ttl, a.name))
      }
      out.push(rr(a.name, h.type, ttl, h.text))
    }
    const list: ServiceRec[] = [...b.view.services()]
    list.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.namespace < y.namespace ? -1 : x.namespace > y.namespace ? 1 : 0))
    for (const svc of list) {
      if (!b.namespaceExposed(svc.namespace)) continue
      const svcName = joinName(`${svc.name}.${svc.namespace}.svc`, zone)
      switch (svc.type) {
        case 'ClusterIP':
        case 'NodePort':
        case 'LoadBalancer': {
          const first = svc.clusterIPs[0]
          if (!svc.headless && first !== undefined && hostAddr(first) !== null) {
            for (const ip of svc.clusterIPs) {
              const h = hostAddr(ip)
              if (h !== null) out.push(rr(svcName, h.type, ttl, h.text))
            }
            for (const p of svc.ports) {
              out.push(rr(svcName, Type.SRV, ttl, { priority: 0, weight: 100, port: p.port & 0xffff, target: svcName }))
              if (p.name === '') continue
              const owner = `_${p.name.toLowerCase()}._${p.protocol.toLowerCase()}.${svcName}`
              out.push(rr(owner, Type.SRV, ttl, { priority: 0, weight: 100, port: p.port & 0xffff, target: svcName }))
            }
            break
          }
          if (b.cfg.noEndpoints) break
          const podNames = b.cfg.endpointPodNames
          for (const sl of b.view.slicesOf(svc.namespace, svc.name)) {
            let n = 0
            for (const e of sl.endpoints) if (e.ready) n += e.addresses.length
            const weight = srvWeight(n)
            for (const e of sl.endpoints) {
              if (!e.ready) continue
              for (const addr of e.addresses) {
                const h = hostAddr(addr)
                if (h === null) continue
                out.push(rr(svcName, h.type, ttl, h.text))
                const epName = `${endpointHostname(e, addr, podNames)}.${svcName}`
                out.push(rr(epName, h.type, ttl, h.text))
                for (const p of sl.ports) {
                  if (p.name === '') continue
                  const owner = `_${p.name.toLowerCase()}._${p.protocol.toLowerCase()}.${svcName}`
                  out.push(rr(owner, Type.SRV, ttl, { priority: 0, weight, port: p.port & 0xffff, target: epName }))
                }
              }
            }
          }
          break
        }
        case 'ExternalName':
          if (svc.externalName !== '' && hostAddr(svc.externalName) === null) {
            out.push(rr(svcName, Type.CNAME, ttl, fqdn(svc.externalName)))
          }
          break
      }
    }
    out.push(soa)
    return out
  }
}

function rr(name: string, type: number, ttl: number, data: RR['data']): RR {
  return { name, type, class: Class.IN, ttl, data }
}
