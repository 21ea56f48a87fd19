// Scale check of the fake API server: generate + load the benchmark cluster, then list every
// resource paginated (limit 500) and unpaginated over HTTP. Not a test; run by hand:
//   node dist/test/fake-apiserver/bench.js [pods] [services] [nodes]

import { performance } from 'node:perf_hooks'
import { generateCluster, SCALE_CLUSTER } from './fixtures.js'
import { FakeApiServer } from './server.js'

interface ListBody {
  metadata: { continue?: string; resourceVersion: string }
  items: unknown[]
}

async function listAll(url: string, limit: number): Promise<{ items: number; bytes: number; pages: number }> {
  let cont = ''
  let items = 0
  let bytes = 0
  let pages = 0
  for (let guard = 0; guard < 100_000; guard++) {
    const q = new URLSearchParams()
    if (limit > 0) q.set('limit', String(limit))
    if (cont !== '') q.set('continue', cont)
    const res = await fetch(`${url}?${q}`)
    const text = await res.text()
    bytes += text.length
    const body = JSON.parse(text) as ListBody
    items += body.items.length
    pages++
    cont = body.metadata.continue ?? ''
    if (cont === '') break
  }
  return { items, bytes, pages }
}

const [pods, services, nodes] = process.argv.slice(2).map(Number)
const shape = { pods: pods ?? SCALE_CLUSTER.pods, services: services ?? SCALE_CLUSTER.services, nodes: nodes ?? SCALE_CLUSTER.nodes, seed: 1 }
const srv = new FakeApiServer()
await srv.start()
let t = performance.now()
const n = srv.load(generateCluster(shape))
const genMs = performance.now() - t
const mem = process.memoryUsage()
console.log(
  `generate+load ${n} objects (${srv.count('Namespace')} ns, ${srv.count('Service')} svc, ${srv.count('EndpointSlice')} slices, ${srv.count('Pod')} pods): ${genMs.toFixed(0)} ms; heapUsed ${(mem.heapUsed / 1e6).toFixed(0)} MB, rss ${(mem.rss / 1e6).toFixed(0)} MB`,
)
for (const path of ['/api/v1/namespaces', '/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices', '/api/v1/pods']) {
  for (const limit of [500, 0]) {
    t = performance.now()
    const r = await listAll(srv.url + path, limit)
    console.log(
      `list ${path} limit=${limit}: ${r.items} items, ${r.pages} pages, ${(r.bytes / 1e6).toFixed(1)} MB in ${(performance.now() - t).toFixed(0)} ms`,
    )
  }
}
console.log(`rss after lists ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`)
await srv.stop()
