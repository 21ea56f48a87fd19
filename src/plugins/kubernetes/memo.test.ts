// The fast path's memoised answers (fast.ts) over a live KubeStore: every change applied to the
// store must show in the next answer of a name that was answered (and memoised) before.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KubeStore } from '../../kube/store.js'
import { ask, build, STOCK } from './testutil.js'
import { ep, port, slice, svc } from './testdata.js'

function liveStore(): KubeStore {
  const st = new KubeStore({ kinds: ['services', 'endpointslices', 'namespaces'] })
  st.replace('namespaces', [{ name: 'prod' }])
  st.replace('services', [svc('prod', 'web', { clusterIPs: ['10.96.1.1'], ports: [port('http', 'TCP', 80)] }), svc('prod', 'db', { headless: true, ports: [port('pg', 'TCP', 5432)] })])
  st.replace('endpointslices', [slice('prod', 'db-1', 'db', [ep(['10.244.0.1'], { hostname: 'db-0' })], [port('pg', 'TCP', 5432)])])
  for (const k of ['services', 'endpointslices', 'namespaces'] as const) st.markSynced(k)
  return st
}

test('memoised A / AAAA / SRV / PTR answers follow store changes', async () => {
  const st = liveStore()
  const b = build(STOCK, { view: st })
  const a = async (name: string, t: 'A' | 'AAAA' | 'SRV' | 'PTR' = 'A'): Promise<string> => {
    const r = await ask(b, name, t)
    return `${r.rcode} ${r.an.join(', ')}`
  }
  // answered twice: the second comes from the memo
  for (let i = 0; i < 2; i++) {
    assert.equal(await a('web.prod.svc.cluster.local.'), 'NOERROR web.prod.svc.cluster.local. 30 A 10.96.1.1')
    assert.equal(await a('web.prod.svc.cluster.local.', 'AAAA'), 'NOERROR ')
    assert.equal(await a('db.prod.svc.cluster.local.'), 'NOERROR db.prod.svc.cluster.local. 30 A 10.244.0.1')
    assert.equal(await a('db-0.db.prod.svc.cluster.local.'), 'NOERROR db-0.db.prod.svc.cluster.local. 30 A 10.244.0.1')
    assert.equal(await a('_http._tcp.web.prod.svc.cluster.local.', 'SRV'), 'NOERROR _http._tcp.web.prod.svc.cluster.local. 30 SRV 0 100 80 web.prod.svc.cluster.local.')
    assert.equal(await a('1.1.96.10.in-addr.arpa.', 'PTR'), 'NOERROR 1.1.96.10.in-addr.arpa. 30 PTR web.prod.svc.cluster.local.')
  }
  // a ClusterIP change (watch event)
  st.apply('services', 'MODIFIED', svc('prod', 'web', { clusterIPs: ['10.96.1.2', 'fd00::2'], ports: [port('http', 'TCP', 8080)] }))
  assert.equal(await a('web.prod.svc.cluster.local.'), 'NOERROR web.prod.svc.cluster.local. 30 A 10.96.1.2')
  assert.equal(await a('web.prod.svc.cluster.local.', 'AAAA'), 'NOERROR web.prod.svc.cluster.local. 30 AAAA fd00::2')
  assert.equal(await a('_http._tcp.web.prod.svc.cluster.local.', 'SRV'), 'NOERROR _http._tcp.web.prod.svc.cluster.local. 30 SRV 0 50 8080 web.prod.svc.cluster.local.')
  // the old address is no service's any more: falls through (STOCK) to the next plugin's SERVFAIL
  assert.equal(await a('1.1.96.10.in-addr.arpa.', 'PTR'), 'SERVFAIL ')
  assert.equal(await a('2.1.96.10.in-addr.arpa.', 'PTR'), 'NOERROR 2.1.96.10.in-addr.arpa. 30 PTR web.prod.svc.cluster.local.')
  // an endpoint going not ready, within a relist page (version bumped before the commit)
  const s = st.beginReplace('endpointslices')
  s.add(slice('prod', 'db-1', 'db', [ep(['10.244.0.1'], { hostname: 'db-0', ready: false })], [port('pg', 'TCP', 5432)]))
  assert.equal(await a('db.prod.svc.cluster.local.'), 'NXDOMAIN ')
  assert.equal(await a('db-0.db.prod.svc.cluster.local.'), 'NXDOMAIN ')
  s.commit()
  // the service deleted
  st.apply('services', 'DELETED', { namespace: 'prod', name: 'web' })
  assert.equal(await a('web.prod.svc.cluster.local.'), 'NXDOMAIN ')
  assert.equal(await a('_http._tcp.web.prod.svc.cluster.local.', 'SRV'), 'NXDOMAIN ')
})
