// Scale check of the API source (not a test; run by hand after tsc):
//   node --expose-gc dist/src/kube/bench-sync.js [pods|nopods] [podCount] [serviceCount]
// Starts the fake API server with the generated benchmark cluster in a child process (so its
// memory is not counted), syncs a source against it, and prints sync time, RSS / heap after
// sync, and the latency from a Service created/deleted on the server to the store having it.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Logger } from '../log/logger.js'
import { acquireSource } from './source.js'

const here = fileURLToPath(import.meta.url)
const fakeModule = pathToFileURL(join(here, '..', '..', '..', 'test', 'fake-apiserver', 'server.js')).href
const fixturesModule = pathToFileURL(join(here, '..', '..', '..', 'test', 'fake-apiserver', 'fixtures.js')).href

const withPods = process.argv[2] !== 'nopods'
const pageSize = Number(process.env['PAGE'] ?? 500)
const pods = Number(process.argv[3] ?? 150_000)
const services = Number(process.argv[4] ?? 8_200)

// child: fake API server; reads "create N" / "delete N" commands on stdin, answers the time
// (epoch ms) each event was written to the watch streams
const childCode = `
import { FakeApiServer, nowMs } from ${JSON.stringify(fakeModule)}
import { generateCluster, service } from ${JSON.stringify(fixturesModule)}
import { createInterface } from 'node:readline'
const srv = new FakeApiServer({ bookmarkIntervalMs: 60000 })
await srv.start()
srv.load(generateCluster({ pods: ${pods}, services: ${services}, nodes: 5000, seed: 1 }))
srv.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } })
console.log('URL ' + srv.url)
const rl = createInterface({ input: process.stdin })
for await (const line of rl) {
  const [cmd, n] = line.split(' ')
  const name = 'bench-' + n
  if (cmd === 'create') srv.create(service({ ns: 'bench', name, clusterIPs: ['10.255.' + (Number(n) >> 8 & 255) + '.' + (Number(n) & 255)] }))
  else if (cmd === 'delete') srv.remove('Service', 'bench', name)
  else break
  console.log('T ' + nowMs())
}
await srv.stop()
`

const child = spawn(process.execPath, ['--input-type=module', '-e', childCode], { stdio: ['pipe', 'pipe', 'inherit'] })
const lines: string[] = []
let wake: (() => void) | null = null
let buf = ''
child.stdout.setEncoding('utf8')
child.stdout.on('data', (d: string) => {
  buf += d
  let i: number
  while ((i = buf.indexOf('\n')) >= 0) {
    lines.push(buf.slice(0, i))
    buf = buf.slice(i + 1)
    wake?.()
  }
})
async function nextLine(): Promise<string> {
  while (lines.length === 0) await new Promise<void>((r) => (wake = r))
  return lines.shift()!
}

const first = await nextLine()
const url = first.slice(4)
const gc = (globalThis as { gc?: () => void }).gc
gc?.()
const base = process.memoryUsage()
console.log(`baseline rss ${(base.rss / 1e6).toFixed(0)} MB heap ${(base.heapUsed / 1e6).toFixed(0)} MB`)

const log = new Logger(() => {}, 'plugin/kubernetes: ')
const t0 = performance.now()
const src = acquireSource(
  {
    endpoint: url,
    tls: null,
    kubeconfig: null,
    snapshot: null,
    namespaces: null,
    namespaceLabels: null,
    labels: null,
    pods: withPods,
    endpoints: true,
    targetNames: false,
    qps: null,
    burst: null,
    maxInflight: null,
  },
  log,
  { pageSize },
)
const timer = setInterval(() => console.log('  ' + src.progress()), 1000)
const ok = await src.waitSynced(600_000)
clearInterval(timer)
console.log(`synced=${ok} in ${((performance.now() - t0) / 1000).toFixed(1)}s: ${src.progress()}`)
for (let i = 0; i < 3; i++) {
  gc?.()
  await new Promise((r) => setTimeout(r, 100))
}
const m = process.memoryUsage()
console.log(
  `after sync: rss ${(m.rss / 1e6).toFixed(0)} MB, heapUsed ${(m.heapUsed / 1e6).toFixed(0)} MB (+${((m.heapUsed - base.heapUsed) / 1e6).toFixed(0)} MB), external ${(m.external / 1e6).toFixed(0)} MB`,
)
for (const waitS of [2, 5]) {
  await new Promise((r) => setTimeout(r, waitS * 1000))
  gc?.()
  const mm = process.memoryUsage()
  console.log(`  +${waitS}s: rss ${(mm.rss / 1e6).toFixed(0)} MB, heapTotal ${(mm.heapTotal / 1e6).toFixed(0)} MB, heapUsed ${(mm.heapUsed / 1e6).toFixed(0)} MB, arrayBuffers ${(mm.arrayBuffers / 1e6).toFixed(0)} MB`)
}
const st = src.shared.store
const objs = st.count('services') + st.count('endpointslices') + st.count('pods')
console.log(`objects ${objs}: ${((m.heapUsed - base.heapUsed) / objs).toFixed(0)} heap bytes per object`)

// watch-event latency: server wrote the event → store has it
const view = src.view
const lat: number[] = []
const N = 1000
for (let i = 0; i < N; i++) {
  const create = i % 2 === 0
  const name = `bench-${i >> 1}`
  child.stdin.write(`${create ? 'create' : 'delete'} ${i >> 1}\n`)
  const sent = Number((await nextLine()).slice(2))
  for (let spin = 0; spin < 100_000; spin++) {
    if ((view.service('bench', name) !== undefined) === create) break
    await new Promise((r) => setImmediate(r))
  }
  lat.push(performance.timeOrigin + performance.now() - sent)
}
lat.sort((a, b) => a - b)
console.log(`event → store latency over ${N} changes: p50 ${lat[N >> 1]!.toFixed(2)} ms, p99 ${lat[Math.floor(N * 0.99)]!.toFixed(2)} ms, max ${lat[N - 1]!.toFixed(2)} ms`)

child.stdin.write('quit\n')
await src.release()
await once(child, 'exit')
