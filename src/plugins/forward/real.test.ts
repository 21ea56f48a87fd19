// forward against real upstream servers started by the test on 127.0.0.1 (test/upstreams/proc.ts):
// NSD authoritative for a test zone (UDP, TCP, truncation) and Unbound as a DNS-over-TLS upstream
// with the test certificate (test/fixtures/tls). Skipped when the binaries are missing.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { dig } from '../../../test/helpers/dig.js'
import { repoRoot } from '../../../test/helpers/proc.js'
import { have, startNsd, startUnbound, type RealUpstream } from '../../../test/upstreams/proc.js'
import { startChain, type ChainServer } from '../../../test/upstreams/server.js'
import type { Forward } from './handler.js'

const crt = join(repoRoot, 'test/fixtures/tls/server.crt')
const key = join(repoRoot, 'test/fixtures/tls/server.key')

const ZONE = [
  '$ORIGIN example.test.',
  '$TTL 300',
  '@ IN SOA ns1 hostmaster 1 3600 600 86400 300',
  '@ IN NS ns1',
  'ns1 IN A 192.0.2.1',
  'www IN A 192.0.2.10',
  'www IN AAAA 2001:db8::10',
  'alias IN CNAME www',
  ...Array.from({ length: 20 }, (_, i) => `big IN TXT "${String(i).padStart(2, '0')}-${'x'.repeat(60)}"`),
  '',
].join('\n')

const servers: ChainServer[] = []
async function serve(body: string): Promise<ChainServer> {
  const s = await startChain(`.:0 {\n  bind 127.0.0.1\n${body}\n}\n`)
  servers.push(s)
  return s
}
function forwards(s: ChainServer): Forward[] {
  return s.server.config!.blocks[0]!.settings.providers.get('forward') as Forward[]
}

describe('forward → NSD', { skip: have('nsd') ? false : 'nsd is not installed' }, () => {
  let nsd: RealUpstream
  before(async () => {
    nsd = await startNsd('example.test.', ZONE)
  })
  after(async () => {
    for (const s of servers.splice(0)) await s.close()
    await nsd?.stop()
  })

  test('UDP: answers, NXDOMAIN with SOA, AA flag from the authoritative upstream', async () => {
    const s = await serve(`  forward . 127.0.0.1:${nsd.port}`)
    const r = await dig(s.port, ['www.example.test', 'A'])
    assert.equal(r.status, 'NOERROR')
    assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.10'])
    assert.ok(r.flags.includes('aa'), 'upstream flags are passed through')
    const c = await dig(s.port, ['alias.example.test', 'A'])
    assert.deepEqual(c.answer.map((a) => a.type), ['CNAME', 'A'])
    const nx = await dig(s.port, ['nope.example.test', 'A'])
    assert.equal(nx.status, 'NXDOMAIN')
    assert.equal(nx.authority[0]?.type, 'SOA')
  })

  test('TCP client → TCP upstream', async () => {
    const s = await serve(`  forward . 127.0.0.1:${nsd.port}`)
    const r = await dig(s.port, ['+tcp', 'www.example.test', 'AAAA'])
    assert.deepEqual(r.answer.map((a) => a.data), ['2001:db8::10'])
    assert.equal(forwards(s)[0]!.proxies[0]!.stats.missesTcp, 1)
  })

  test('truncation: a 512-byte UDP client sees TC, dig falls back to TCP and gets all 20 TXT', async () => {
    const s = await serve(`  forward . 127.0.0.1:${nsd.port}`)
    const tc = await dig(s.port, ['+ignore', '+noedns', 'big.example.test', 'TXT'])
    assert.ok(tc.flags.includes('tc'), tc.raw)
    const full = await dig(s.port, ['+noedns', 'big.example.test', 'TXT'])
    assert.equal(full.answer.length, 20)
  })

  test('prefer_udp: a TCP client gets the full answer after the truncated UDP reply is retried over TCP', async () => {
    const s = await serve(`  forward . 127.0.0.1:${nsd.port} {\n    prefer_udp\n  }`)
    const r = await dig(s.port, ['+tcp', '+noedns', 'big.example.test', 'TXT'])
    assert.equal(r.answer.length, 20)
    const st = forwards(s)[0]!.proxies[0]!.stats
    assert.equal(st.requests, 2, 'one UDP attempt, one TCP retry')
  })

  test('force_tcp: connection reused across queries', async () => {
    const s = await serve(`  forward . 127.0.0.1:${nsd.port} {\n    force_tcp\n  }`)
    for (let i = 0; i < 5; i++) assert.equal((await dig(s.port, ['www.example.test', 'A'])).status, 'NOERROR')
    const st = forwards(s)[0]!.proxies[0]!.stats
    assert.equal(st.missesTcp, 1)
    assert.equal(st.hitsTcp, 4)
  })

  test('upstream answers REFUSED for a zone it does not serve: passed through', async () => {
    const s = await serve(`  forward . 127.0.0.1:${nsd.port}`)
    const r = await dig(s.port, ['www.example.com', 'A'])
    assert.equal(r.status, 'REFUSED')
  })
})

describe('forward → Unbound over DNS-over-TLS', { skip: have('unbound') ? false : 'unbound is not installed' }, () => {
  let ub: RealUpstream
  before(async () => {
    ub = await startUnbound(['dot.test. 300 A 192.0.2.53'], crt, key)
  })
  after(async () => {
    for (const s of servers.splice(0)) await s.close()
    await ub?.stop()
  })

  test('tls CA + tls_servername: answers over TLS, one connection reused', async () => {
    const s = await serve(`  forward . tls://127.0.0.1:${ub.tlsPort} {\n    tls ${crt}\n    tls_servername dns.test\n  }`)
    for (let i = 0; i < 3; i++) {
      const r = await dig(s.port, ['dot.test', 'A'])
      assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.53'])
    }
    const st = forwards(s)[0]!.proxies[0]!.stats
    assert.equal(st.missesTls, 1)
    assert.equal(st.hitsTls, 2)
    assert.equal(st.missesUdp + st.hitsUdp, 0, 'tls upstreams never get plain UDP')
  })

  test('per-upstream server name: tls://IP%name', async () => {
    const s = await serve(`  forward . tls://127.0.0.1%dns.test:${ub.tlsPort} {\n    tls ${crt}\n  }`)
    const r = await dig(s.port, ['+tcp', 'dot.test', 'A'])
    assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.53'])
  })

  test('no server name: the certificate is verified against the IP (SAN 127.0.0.1)', async () => {
    const s = await serve(`  forward . tls://127.0.0.1:${ub.tlsPort} {\n    tls ${crt}\n  }`)
    const r = await dig(s.port, ['dot.test', 'A'])
    assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.53'])
  })

  test('a server name the certificate does not cover: SERVFAIL, nothing answered insecurely', async () => {
    const s = await serve(`  errors\n  forward . tls://127.0.0.1:${ub.tlsPort} {\n    tls ${crt}\n    tls_servername wrong.example\n  }`)
    const r = await dig(s.port, ['dot.test', 'A'])
    assert.equal(r.status, 'SERVFAIL')
  })

  test('untrusted certificate (system CAs only): SERVFAIL', async () => {
    const s = await serve(`  forward . tls://127.0.0.1:${ub.tlsPort} {\n    tls_servername dns.test\n  }`)
    const r = await dig(s.port, ['dot.test', 'A'])
    assert.equal(r.status, 'SERVFAIL')
  })

  test('plain DNS to the same Unbound works too (UDP upstream)', async () => {
    const s = await serve(`  forward . 127.0.0.1:${ub.port}`)
    const r = await dig(s.port, ['dot.test', 'A'])
    assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.53'])
  })
})
