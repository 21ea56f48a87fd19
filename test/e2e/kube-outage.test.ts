// kubernetes-dns.md §2.1: the API server going away during a query load. No query may fail
// (the last known state keeps being served), and the changes made while the API was away must be
// answered within a second of its return. The bench scenario `kube` runs the full 30 s version;
// here the outage lasts 3 s under a steady ~300 QPS load.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, type TestServer } from '../helpers/server.js'
import { FakeApiServer } from '../fake-apiserver/server.js'
import { kubernetesDnsSpecFixture } from '../fake-apiserver/fixtures.js'
import { kubeCorefile, outageSetup, pollUntil, QueryLoad, runOutage, sleep, SPEC_LOAD, UdpDns } from '../helpers/kube.js'

const OUTAGE_MS = 3000
const QPS = 300
const CATCH_UP_MS = 1000

describe('API server outage during a query load', () => {
  let api: FakeApiServer
  let s: TestServer
  let c: UdpDns

  before(async () => {
    api = await new FakeApiServer({ bookmarkIntervalMs: 200 }).start()
    for (const o of kubernetesDnsSpecFixture()) api.create(o)
    s = await startServer(kubeCorefile(api.url))
    c = await UdpDns.open(s.port)
    await api.waitForWatches(3)
  })
  after(async () => {
    c?.close()
    await s?.close()
    await api?.stop()
  })

  for (const [round, compact] of [
    [1, false],
    [2, true],
  ] as const) {
    test(`${OUTAGE_MS / 1000} s outage${compact ? ', history compacted meanwhile (410 → relist on return)' : ' (watch resumes from the last version)'}: no query fails, changes answered within ${CATCH_UP_MS} ms of the return`, async (t) => {
      for (const q of outageSetup(api, round)) {
        const r = await pollUntil(c, q.name, q.type, q.want, 2000)
        assert.ok(r.ok, `setup: ${q.name}`)
      }
      const load = new QueryLoad(c, SPEC_LOAD, QPS, 2000)
      load.start()
      await sleep(300)
      const r = await runOutage(api, c, load, { round, outageMs: OUTAGE_MS, catchUpTimeoutMs: 5000, tailMs: 300, compact, log: (m) => t.diagnostic(m) })
      const st = await load.stop()
      t.diagnostic(`load: ${st.sent} sent, ${st.ok} ok, ${st.timeouts} timeouts, ${st.servfail} SERVFAIL, ${st.wrong} wrong`)
      t.diagnostic(`catch-up ${r.catchUpMs.toFixed(0)} ms after the return: ${JSON.stringify(Object.fromEntries(Object.entries(r.perChange).map(([k, v]) => [k, Math.round(v)])))}`)
      assert.ok(st.sent >= QPS * (OUTAGE_MS / 1000) * 0.9, `load kept up (${st.sent} queries sent)`)
      assert.deepEqual({ timeouts: st.timeouts, servfail: st.servfail, wrong: st.wrong }, { timeouts: 0, servfail: 0, wrong: 0 }, st.samples.join('\n'))
      assert.equal(st.ok, st.sent)
      assert.ok(!Number.isNaN(r.catchUpMs), `every change answered after the return: ${JSON.stringify(r.perChange)}`)
      assert.ok(r.catchUpMs <= CATCH_UP_MS, `changes made during the outage answered ${r.catchUpMs.toFixed(0)} ms after the return (target ≤ ${CATCH_UP_MS} ms): ${JSON.stringify(r.perChange)}`)
    })
  }
})
