import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Class, Rcode, Type } from '../../dns/constants.js'
import { encodeMessage, replyTo, setRcode } from '../../dns/message.js'
import { parseRR, rrToString } from '../../dns/text.js'
import { memoryLogger } from '../../log/logger.js'
import { questionMessage } from '../../pluginkit/reply.js'
import type { PluginDef, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import { Server } from '../../server/instance.js'
import { makeRequest, run, StubHandler } from '../../../test/helpers/fake.js'
import { dig } from '../../../test/helpers/dig.js'
import { PLUGINS } from '../index.js'
import { AutoPath, cnamer, firstInSearchPath, trimZone } from './handler.js'
import { plugin } from './setup.js'

const SEARCH = ['default.svc.cluster.local.', 'svc.cluster.local.', 'cluster.local.', '']

/**
 * A backend: names in `known` answer (A, TTL 30), names in `fail` return SERVFAIL unwritten,
 * everything else NXDOMAIN (written). Records every name it was asked.
 */
function backend(known: Record<string, string>, fail: string[] = [], opts: { wire?: boolean; async?: boolean } = {}) {
  const asked: string[] = []
  const h = new StubHandler(0, 'backend', (req: Request, w: ResponseWriter): Served => {
    const name = req.q.qnameLower
    asked.push(req.q.qname)
    const answer = (): number => {
      if (fail.includes(name)) return Rcode.ServFail
      const m = replyTo(questionMessage(req.q))
      const ip = known[name]
      if (ip === undefined) setRcode(m, Rcode.NXDomain)
      else m.answer = [parseRR(`${name} 30 IN A ${ip}`)]
      if (opts.wire === true) w.writeWire(encodeMessage(m), 'backend')
      else w.write(m, 'backend')
      return ip === undefined ? Rcode.NXDomain : Rcode.NoError
    }
    if (opts.async === true) return new Promise<number>((r) => setImmediate(() => r(answer())))
    return answer()
  })
  return { h, asked }
}

function ap(next: StubHandler, search: readonly string[] | null = SEARCH, zones = ['.']) {
  return new AutoPath(next, zones, search, null)
}

describe('search path walk', () => {
  test('a name found under a later element: CNAME from the name asked, question set back', async () => {
    const b = backend({ 'web.svc.cluster.local.': '10.0.0.5' })
    const h = ap(b.h)
    const req = makeRequest('web.default.svc.cluster.local.', 'A')
    const { rcode, w } = await run(h, req)
    assert.equal(rcode, Rcode.NoError)
    assert.deepEqual(b.asked, ['web.default.svc.cluster.local.', 'web.svc.cluster.local.'])
    assert.deepEqual(w.reply.question, [{ name: 'web.default.svc.cluster.local.', type: Type.A, class: Class.IN }])
    assert.deepEqual(w.reply.answer.map(rrToString), [
      'web.default.svc.cluster.local.\t30\tIN\tCNAME\tweb.svc.cluster.local.',
      'web.svc.cluster.local.\t30\tIN\tA\t10.0.0.5',
    ])
    assert.equal(h.success, 1)
    assert.equal(req.q.qname, 'web.default.svc.cluster.local.')
  })
  test('the name as absolute (final "") and wire replies', async () => {
    const b = backend({ 'example.com.': '93.184.216.34' }, [], { wire: true })
    const { w } = await run(ap(b.h), makeRequest('example.com.default.svc.cluster.local.', 'A'))
    assert.deepEqual(b.asked, [
      'example.com.default.svc.cluster.local.',
      'example.com.svc.cluster.local.',
      'example.com.cluster.local.',
      'example.com.',
    ])
    assert.equal(w.reply.answer[0]!.type, Type.CNAME)
    assert.equal(w.reply.answer[0]!.data, 'example.com.')
  })
  test('found at the first element: no CNAME (owner equals the name asked)', async () => {
    const b = backend({ 'web.default.svc.cluster.local.': '10.0.0.6' })
    const h = ap(b.h)
    const { w } = await run(h, makeRequest('web.default.svc.cluster.local.', 'A'))
    assert.deepEqual(w.reply.answer.map((r) => r.type), [Type.A])
    assert.equal(h.success, 1)
  })
  test('SERVFAIL (unwritten) attempts are skipped', async () => {
    const b = backend({ 'web.cluster.local.': '10.0.0.7' }, ['web.svc.cluster.local.'])
    const { w } = await run(ap(b.h), makeRequest('web.default.svc.cluster.local.', 'A'))
    assert.equal(b.asked.length, 3)
    assert.equal(w.reply.answer[1]!.data, '10.0.0.7')
  })
  test('all NXDOMAIN: the first reply goes out unchanged, no success counted', async () => {
    const b = backend({})
    const h = ap(b.h)
    const { rcode, w } = await run(h, makeRequest('nope.default.svc.cluster.local.', 'A'))
    assert.equal(b.asked.length, 4)
    assert.equal(rcode, Rcode.NXDomain)
    assert.equal(w.reply.flags & 0xf, Rcode.NXDomain)
    assert.equal(w.reply.question[0]!.name, 'nope.default.svc.cluster.local.')
    assert.equal(h.success, 0)
  })
  test('the first attempt unwritten and the rest NXDOMAIN: its rcode, nothing written', async () => {
    const b = backend({}, ['nope.default.svc.cluster.local.'])
    const { rcode, w } = await run(ap(b.h), makeRequest('nope.default.svc.cluster.local.', 'A'))
    assert.equal(rcode, Rcode.ServFail)
    assert.equal(w.plugin, null, 'the server, not autopath, wrote the error reply')
  })
  test('names outside the first element, outside the zones, or without a search path pass through', async () => {
    const b = backend({ 'web.svc.cluster.local.': '10.0.0.5' })
    await run(ap(b.h), makeRequest('web.svc.cluster.local.', 'A'))
    await run(ap(b.h, SEARCH, ['example.org.']), makeRequest('web.default.svc.cluster.local.', 'A'))
    await run(ap(b.h, null), makeRequest('web.default.svc.cluster.local.', 'A'))
    await run(new AutoPath(b.h, ['.'], null, { searchPath: () => null }), makeRequest('web.default.svc.cluster.local.', 'A'))
    assert.deepEqual(b.asked, ['web.svc.cluster.local.', 'web.default.svc.cluster.local.', 'web.default.svc.cluster.local.', 'web.default.svc.cluster.local.'])
  })
  test('the qname equal to the first element is SERVFAIL (CoreDNS TrimZone)', async () => {
    const b = backend({})
    const req = makeRequest('default.svc.cluster.local.', 'A')
    const { rcode } = await run(ap(b.h), req)
    assert.equal(rcode, Rcode.ServFail)
    assert.equal(b.asked.length, 0)
    assert.match(String(req.error), /trimzone: overshot qname/)
  })
  test('an error set by the chain aborts the walk', async () => {
    const asked: string[] = []
    const next = new StubHandler(0, 'x', (req) => {
      asked.push(req.q.qname)
      req.error = new Error('boom')
      return Rcode.ServFail
    })
    const { rcode } = await run(ap(next), makeRequest('web.default.svc.cluster.local.', 'A'))
    assert.equal(rcode, Rcode.ServFail)
    assert.equal(asked.length, 1)
  })
  test('asynchronous backends and a per-client search path from the provider', async () => {
    const b = backend({ 'db.cluster.local.': '10.0.0.8' }, [], { async: true })
    const seen: string[] = []
    const h = new AutoPath(b.h, ['cluster.local.'], null, {
      searchPath: (req) => {
        seen.push(req.remoteAddress)
        return ['prod.svc.cluster.local.', 'svc.cluster.local.', 'cluster.local.', '']
      },
    })
    const { w } = await run(h, makeRequest('db.prod.svc.cluster.local.', 'AAAA', { remoteAddress: '10.244.0.9' }))
    assert.deepEqual(seen, ['10.244.0.9'])
    assert.deepEqual(w.reply.answer.map((r) => r.name), ['db.prod.svc.cluster.local.', 'db.cluster.local.'])
  })
  test('helpers', () => {
    assert.equal(trimZone('a.b.default.svc.cluster.local.', 'default.svc.cluster.local.'), 'a.b')
    assert.equal(trimZone('default.svc.cluster.local.', 'default.svc.cluster.local.'), null)
    assert.equal(trimZone('x.org.', ''), 'x.org')
    assert.ok(firstInSearchPath('a.default.svc.cluster.local.', 'default.svc.cluster.local.'))
    assert.ok(!firstInSearchPath('a.xdefault.svc.cluster.local.', 'default.svc.cluster.local.'))
    assert.ok(firstInSearchPath('x.', ''))
    const m = replyTo(questionMessage(makeRequest('q.org.', 'A').q))
    m.answer = [parseRR('Q.org. 5 IN A 10.0.0.1')]
    cnamer(m, 'q.org.')
    assert.equal(m.answer.length, 1)
  })
})

function pluginsWith(...defs: PluginDef[]): PluginDef[] {
  const list = PLUGINS.filter((p) => !defs.some((d) => d.name === p.name))
  const i = list.findIndex((p) => p.name === 'hosts')
  list.splice(i, 0, ...defs)
  return list
}

describe('autopath end to end (resolv.conf search list over hosts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopath-e2e-'))
  let server: Server
  let port = 0
  before(async () => {
    writeFileSync(join(dir, 'resolv.conf'), 'search default.svc.cluster.local svc.cluster.local cluster.local\n')
    const corefile = `.:0 {
  bind 127.0.0.1
  autopath ${join(dir, 'resolv.conf')}
  hosts {
    10.96.0.5 web.svc.cluster.local
    93.184.216.34 example.com
    fallthrough
  }
  template ANY ANY {
    rcode NXDOMAIN
  }
}
`
    // template after hosts here only to turn "unknown" into NXDOMAIN (a stand-in for kubernetes).
    const { plugin: template } = await import('../template/setup.js')
    const list = pluginsWith(plugin).filter((p) => p.name !== 'template')
    list.splice(list.findIndex((p) => p.name === 'hosts') + 1, 0, template)
    const { log } = memoryLogger()
    server = new Server({ log, dnsPort: 0, quiet: true, plugins: list, readConfig: () => corefile })
    await server.start(corefile, 'Corefile')
    port = [...server.listeners.values()][0]!.port
  })
  after(async () => {
    await server.shutdown(false)
    rmSync(dir, { recursive: true, force: true })
  })

  test('the first query of the search walk is answered with a CNAME to what resolves', async () => {
    const r = await dig(port, ['web.default.svc.cluster.local', 'A'])
    assert.equal(r.status, 'NOERROR')
    assert.deepEqual(r.answer.map((a) => [a.name, a.type, a.data]), [
      ['web.default.svc.cluster.local.', 'CNAME', 'web.svc.cluster.local.'],
      ['web.svc.cluster.local.', 'A', '10.96.0.5'],
    ])
  })
  test('an external name through the final empty element', async () => {
    const r = await dig(port, ['example.com.default.svc.cluster.local', 'A'])
    assert.deepEqual(r.answer.map((a) => a.data), ['example.com.', '93.184.216.34'])
  })
  test('nothing found: NXDOMAIN for the name asked', async () => {
    const r = await dig(port, ['nothing.default.svc.cluster.local', 'A'])
    assert.equal(r.status, 'NXDOMAIN')
    assert.match(r.raw, /;nothing\.default\.svc\.cluster\.local\.\s+IN\s+A/)
  })
})
