// Search paths for the autopath plugin (`autopath @kubernetes`, plugins.md §7; CoreDNS
// plugin/kubernetes/autopath.go): only with `pods verified` and a client IP that is a known pod.

import type { AutoPather, Request } from '../../pluginkit/types.js'
import type { Backend } from './backend.js'
import { matchZone } from './parse.js'

export class KubeAutoPather implements AutoPather {
  private readonly backend: Backend
  private readonly resolvSearch: readonly string[]
  private readonly zonesLongestFirst: readonly string[]
  constructor(backend: Backend, resolvSearch: readonly string[]) {
    this.backend = backend
    this.resolvSearch = resolvSearch
    this.zonesLongestFirst = [...backend.cfg.zones].sort((a, b) => b.length - a.length)
  }

  searchPath(req: Request): readonly string[] | null {
    const zone = matchZone(this.zonesLongestFirst, req.q.qnameLower)
    if (zone === null) return null
    if (this.backend.cfg.podMode !== 'verified') return null
    let ip = req.remoteAddress
    if (ip.startsWith('::ffff:') && ip.includes('.')) ip = ip.slice(7)
    const pod = this.backend.view.podsByIP(ip)[0]
    if (pod === undefined) return null
    const out =
      zone === '.'
        ? [`${pod.namespace}.svc.`, 'svc.', '.']
        : [`${pod.namespace}.svc.${zone}`, `svc.${zone}`, zone]
    for (const s of this.resolvSearch) out.push(s)
    out.push('')
    return out
  }
}
