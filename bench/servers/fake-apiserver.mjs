#!/usr/bin/env node
// The fake Kubernetes API server (test/fake-apiserver, compiled to dist/) loaded with the scale
// cluster of the issue (5,000 nodes' size: 150,000 pods, 8,200 services with their
// EndpointSlices), in its own process so that its memory is not counted as clusterdns'.
// Used by bench/scenarios/kube.sh. Needs `npx tsc -p tsconfig.json` first (npm run bench does it).
//
// usage: node bench/servers/fake-apiserver.mjs DIR [--names N] [--pods N] [--services N] [--nodes N]
// Writes into DIR: kube-queries.txt (N distinct cluster names, see clusterQueries), kube-mix.txt,
// kube-queries-a.txt (the A names of the mix: ClusterIP, headless and endpoint names), hosts (those
// names with the addresses the kubernetes plugin answers) + hosts-queries.txt (= kube-queries-a.txt),
// kube-ready-name, hosts-ready-name,
// and last api.url (the URL, http://127.0.0.1:PORT). Serves until SIGTERM/SIGINT.
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FakeApiServer } from '../../dist/test/fake-apiserver/server.js'
import { generateCluster, SCALE_CLUSTER } from '../../dist/test/fake-apiserver/fixtures.js'
import { ClusterIndex, clusterQueries, hostsData, parseFlags } from '../../dist/test/helpers/kube-bench.js'

const dir = process.argv[2]
if (dir === undefined || dir.startsWith('--')) {
  console.error('usage: fake-apiserver.mjs DIR [--names N] [--pods N] [--services N] [--nodes N]')
  process.exit(2)
}
const f = parseFlags(process.argv.slice(3))
const names = Number(f.names ?? 4000)
const shape = {
  pods: Number(f.pods ?? SCALE_CLUSTER.pods),
  services: Number(f.services ?? SCALE_CLUSTER.services),
  nodes: Number(f.nodes ?? SCALE_CLUSTER.nodes),
  seed: SCALE_CLUSTER.seed,
}

const api = new FakeApiServer({ bookmarkIntervalMs: 1000 })
await api.start()
let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await api.stop()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

const t0 = performance.now()
const ix = new ClusterIndex()
const n = api.load(ix.tap(generateCluster(shape)))
console.log(
  `loaded ${n} objects (${api.count('Namespace')} namespaces, ${api.count('Service')} services, ${api.count('EndpointSlice')} EndpointSlices, ${api.count('Pod')} pods) in ${(performance.now() - t0).toFixed(0)} ms`,
)
const q = clusterQueries(ix, names)
writeFileSync(join(dir, 'kube-queries.txt'), q.lines.join('\n') + '\n')
writeFileSync(join(dir, 'kube-ready-name'), q.readyName + '\n')
writeFileSync(join(dir, 'kube-mix.txt'), Object.entries(q.mix).map(([k, v]) => `${v} ${k}`).join(', ') + '\n')
// the A names of the mix, served by `hosts` with the same addresses; both servers get this file
const h = hostsData(q)
writeFileSync(join(dir, 'kube-queries-a.txt'), h.queries)
writeFileSync(join(dir, 'hosts'), h.hosts)
writeFileSync(join(dir, 'hosts-queries.txt'), h.queries)
writeFileSync(join(dir, 'hosts-ready-name'), h.readyName + '\n')
console.log(`${q.lines.length} cluster queries (${Object.entries(q.mix).map(([k, v]) => `${v} ${k}`).join(', ')}); ready name ${q.readyName}`)
writeFileSync(join(dir, 'api.url.tmp'), api.url + '\n')
renameSync(join(dir, 'api.url.tmp'), join(dir, 'api.url'))
console.log(`URL ${api.url}`)
