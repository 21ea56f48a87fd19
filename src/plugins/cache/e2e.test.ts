// cache through a real server and the real `dig` client: a stub plugin after it plays the upstream
// (answers, or fails like a dead forward: SERVFAIL returned without a reply).
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Class, Flag, Rcode, Type } from '../../dns/constants.js'
import { memoryLogger } from '../../log/logger.js'
import { ManualClock } from '../../lib/coarse-clock.js'
import type { Handler, PluginDef, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import { Server } from '../../server/instance.js'
import { plugin as bind } from '../bind/setup.js'
import { dig } from '../../../test/helpers/dig.js'
import { Cache } from './handler.js'
import { parseCacheDirective } from './setup.js'

const state = { up: true, calls: 0, ip: 1 }
const clock = new ManualClock()

/** Upstream stand-in: A records with TTL 30 and a changing address; SERVFAIL (no reply) when down. */
class Upstream implements Handler {
  readonly name = 'upstub'
  serve(req: Request, w: ResponseWriter): Served {
    state.calls++
    if (!state.up) return Rcode.ServFail
    const q = req.q
    w.write(
      {
        id: q.id,
        flags: Flag.QR | Flag.RD | Flag.RA | (q.qname.toLowerCase().startsWith('nx') ? Rcode.NXDomain : 0),
        question: [{ name: q.qname, type: q.qtype, class: q.qclass }],
        answer: q.qname.toLowerCase().startsWith('nx') ? [] : [{ name: q.qname, type: Type.A, class: Class.IN, ttl: 30, data: `192.0.2.${state.ip}` }],
        authority: q.qname.toLowerCase().startsWith('nx')
          ? [{ name: 'example.org.', type: Type.SOA, class: Class.IN, ttl: 60, data: { mname: 'ns.example.org.', rname: 'h.example.org.', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } }]
          : [],
        additional: [],
        edns: null,
      },
      'upstub',
    )
    return Rcode.NoError
  }
}

const upstub: PluginDef = { name: 'upstub', setup: () => () => new Upstream() }
/** The real setup, with the test's clock. */
const cache: PluginDef = {
  name: 'cache',
  setup(ctx, ds) {
    const cfg = parseCacheDirective(ctx, ds[0]!)
    return (next) => new Cache(next, cfg, clock)
  },
}

describe('cache in front of an upstream, through dig', () => {
  let server: Server
  let port = 0
  before(async () => {
    const corefile = '.:0 {\n  bind 127.0.0.1\n  cache {\n    serve_stale 1h immediate\n  }\n  upstub\n}\n'
    const { log } = memoryLogger()
    server = new Server({ log, dnsPort: 0, quiet: true, plugins: [bind, cache, upstub], readConfig: () => corefile })
    await server.start(corefile, 'Corefile')
    port = [...server.listeners.values()][0]!.port
  })
  after(() => server.shutdown(false))

  test('miss then hit: one upstream call, TTL counting down, AA on the hit', async () => {
    const m = await dig(port, ['www.example.org', 'A'])
    assert.equal(m.status, 'NOERROR')
    assert.equal(m.answer[0]!.ttl, 30)
    assert.equal(state.calls, 1)
    clock.advanceSec(10)
    const h = await dig(port, ['www.example.org', 'A', '+tcp'])
    assert.equal(h.answer[0]!.ttl, 20)
    assert.equal(h.answer[0]!.data, '192.0.2.1')
    assert.ok(h.flags.includes('aa'))
    assert.equal(state.calls, 1)
  })

  test('the 0x20 case of the asker comes back on a hit', async () => {
    const h = await dig(port, ['WwW.eXaMpLe.OrG', 'A'])
    assert.equal(h.answer[0]!.name, 'WwW.eXaMpLe.OrG.')
    assert.equal(state.calls, 1)
  })

  test('NXDOMAIN with SOA is cached', async () => {
    await dig(port, ['nx.example.org', 'A'])
    const h = await dig(port, ['nx.example.org', 'A'])
    assert.equal(h.status, 'NXDOMAIN')
    assert.equal(h.authority[0]!.type, 'SOA')
    assert.equal(state.calls, 2)
  })

  test('upstream killed: serve_stale keeps answering the cached name with TTL 0', async () => {
    state.up = false
    clock.advanceSec(60)
    for (let i = 0; i < 3; i++) {
      const r = await dig(port, ['www.example.org', 'A'])
      assert.equal(r.status, 'NOERROR')
      assert.equal(r.answer[0]!.data, '192.0.2.1')
      assert.equal(r.answer[0]!.ttl, 0)
    }
    const unknown = await dig(port, ['new.example.org', 'A'])
    assert.equal(unknown.status, 'SERVFAIL')
    state.up = true
    state.ip = 2
    await dig(port, ['www.example.org', 'A']) // stale once more; the background refresh succeeds
    const fresh = await dig(port, ['www.example.org', 'A'])
    assert.equal(fresh.answer[0]!.data, '192.0.2.2')
    assert.equal(fresh.answer[0]!.ttl, 30)
  })
})
