#!/usr/bin/env node
// API-outage benchmark (issue: "the API server going away for 30 s during a query load: no query
// fails, and changes made while it was away are served within a second of its return").
//
// In this process: the fake API server with the scale cluster (--cluster scale, default) or only
// the §15 fixture (--cluster spec); the §15 fixture is always there, its names are the load.
// clusterdns runs as the real CLI (CLUSTERDNS_CMD, pinned to --server-cpu if given). A steady load
// of --qps queries/s (raw UDP, paced every 10 ms, cycling over 8 §15 names with known answers
// incl. an NXDOMAIN; a reply later than 2 s counts as lost) runs from 2 s before the outage to
// 2 s after the catch-up. The API server is stopped for --outage-s seconds (connections refused,
// watches cut); half-way through, 4 changes are made (a Service created, one deleted, one's
// ClusterIP changed, a headless endpoint turned ready; with --compact the history is then
// compacted so the return means 410 + relist). After start(), each changed name is polled back to
// back until it answers the new data: catch-up = the latest of those, from the API's return.
//
// usage: node bench/kube-outage.mjs [--outage-s 30] [--qps 1000] [--cluster scale|spec] [--pods insecure|verified]
//          [--catch-up-ms 1000] [--compact] [--server-cpu CPU] [--dir DIR]
// stdout: PASS/FAIL lines and "RESULT key=value ..." (sent ok timeouts servfail wrong catch_up_ms ...).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeApiServer } from '../dist/test/fake-apiserver/server.js'
import { generateCluster, kubernetesDnsSpecFixture, SCALE_CLUSTER } from '../dist/test/fake-apiserver/fixtures.js'
import { kubeCorefile, outageSetup, pollUntil, QueryLoad, runOutage, sleep, SPEC_LOAD, UdpDns } from '../dist/test/helpers/kube.js'
import { parseFlags, spawnClusterdns } from '../dist/test/helpers/kube-bench.js'
import { freePort } from '../dist/test/helpers/proc.js'

const f = parseFlags(process.argv.slice(2))
const outageS = Number(f['outage-s'] ?? 30)
const qps = Number(f.qps ?? 1000)
const cluster = f.cluster ?? 'scale'
const pods = f.pods ?? 'insecure'
const catchUpTarget = Number(f['catch-up-ms'] ?? 1000)
const compact = f.compact === 'true'
const cmd = process.env.CLUSTERDNS_CMD ?? 'node bin/clusterdns'
const log = (s) => console.error(`[kube-outage] ${s}`)

const dir = f.dir ?? mkdtempSync(join(tmpdir(), 'kube-outage-'))
const api = await new FakeApiServer({ bookmarkIntervalMs: 1000 }).start()
let cd = null
let c = null
try {
  if (cluster === 'scale') {
    const t = performance.now()
    const n = api.load(generateCluster(SCALE_CLUSTER))
    log(`loaded the scale cluster: ${n} objects in ${(performance.now() - t).toFixed(0)} ms`)
  }
  for (const o of kubernetesDnsSpecFixture()) api.create(o)
  const setup = outageSetup(api, 1)
  const port = await freePort()
  cd = await spawnClusterdns({
    cmd,
    dir,
    port,
    cpu: f['server-cpu'],
    readyName: 'kubernetes.default.svc.cluster.local',
    corefile: kubeCorefile(api.url, { port, lines: [`pods ${pods}`, 'ttl 30', 'startup_timeout 300s'] }),
    log,
  })
  c = await UdpDns.open(port)
  for (const q of setup) {
    const r = await pollUntil(c, q.name, q.type, q.want, 5000)
    if (!r.ok) throw new Error(`setup name ${q.name} does not answer as expected`)
  }
  const load = new QueryLoad(c, SPEC_LOAD, qps, 2000)
  load.start()
  await sleep(2000)
  const r = await runOutage(api, c, load, { round: 1, outageMs: outageS * 1000, catchUpTimeoutMs: 30_000, tailMs: 2000, compact, log })
  const st = await load.stop()
  for (const s of st.samples) console.log(`failed query: ${s}`)
  const failed = st.timeouts + st.servfail + st.wrong
  const fx = (x) => (Number.isFinite(x) ? x.toFixed(0) : 'nan')
  const per = Object.entries(r.perChange).map(([k, v]) => `${k.split(' ').slice(0, -1).join(' ')} ${fx(v)} ms`).join(', ')
  console.log(
    `outage (${cluster} cluster, pods ${pods}${compact ? ', history compacted: relist' : ''}): API away ${(r.outageMs / 1000).toFixed(1)} s under ${qps} QPS: ${st.sent} queries, ${failed} failed (${st.timeouts} lost, ${st.servfail} SERVFAIL, ${st.wrong} wrong) (target 0): ${failed === 0 && st.sent > 0 ? 'PASS' : 'FAIL'}`,
  )
  console.log(
    `outage catch-up: changes made while the API was away answered ${fx(r.catchUpMs)} ms after its return (${per}) (target <= ${catchUpTarget} ms): ${Number.isFinite(r.catchUpMs) && r.catchUpMs <= catchUpTarget ? 'PASS' : 'FAIL'}`,
  )
  console.log(
    `RESULT outage_s=${(r.outageMs / 1000).toFixed(1)} qps=${qps} sent=${st.sent} ok=${st.ok} timeouts=${st.timeouts} servfail=${st.servfail} wrong=${st.wrong} failed=${failed} catch_up_ms=${fx(r.catchUpMs)} sync_ms=${cd.syncedMs} compact=${compact ? 1 : 0}`,
  )
} catch (e) {
  console.error(`[kube-outage] error: ${e instanceof Error ? e.message : e}`)
  process.exitCode = 1
} finally {
  c?.close()
  await cd?.stop()
  await api.stop()
  if (f.dir === undefined) rmSync(dir, { recursive: true, force: true })
}
