import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../corefile/errors.js'
import { parseCorefile } from '../../corefile/parser.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { StubHandler } from '../../../test/helpers/fake.js'
import { Forward } from './handler.js'
import { plugin, parseForward, formatGoDuration } from './setup.js'
import { parseTo, splitHostPort } from './to.js'

const dir = mkdtempSync(join(tmpdir(), 'forward-setup-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const resolv = join(dir, 'resolv.conf')
writeFileSync(resolv, '# comment\nsearch svc.cluster.local\nnameserver 10.0.0.10\nnameserver fe80::1%eth0\nnameserver 10.0.0.10\noptions ndots:5\n')
const emptyResolv = join(dir, 'empty.conf')
writeFileSync(emptyResolv, 'search example.org\n')
const crt = join(process.cwd(), 'test/fixtures/tls/server.crt')
const key = join(process.cwd(), 'test/fixtures/tls/server.key')

/** Parses the first forward directive of `body` with runSetup's context. */
function cfg(body: string) {
  const r = runSetup(plugin, body)
  const parsed = parseCorefile(`example.org:53 {\n${body}\n}\n`, 'Corefile')
  return { r, cfg: parseForward(r.ctx, parsed.blocks[0]!.directives.find((d) => d.name === 'forward')!) }
}

const ok: string[] = [
  'forward . 8.8.8.8',
  'forward . 8.8.8.8:5353 [2001:db8::1]:53 dns://1.1.1.1 2001:db8::2',
  `forward . ${resolv}`,
  `forward example.org ${resolv} 9.9.9.9`,
  'forward . tls://9.9.9.9 {\n  tls_servername dns.quad9.net\n}',
  'forward . tls://9.9.9.9%dns.quad9.net tls://[2620:fe::fe]%dns.quad9.net:853',
  `forward . tls://127.0.0.1 {\n  tls ${crt} ${key} ${crt}\n}`,
  `forward . tls://127.0.0.1 {\n  tls ${crt}\n}`,
  'forward . tls://127.0.0.1 {\n  tls\n}',
  'forward 10.0.0.0/8 8.8.8.8',
  [
    'forward . 8.8.8.8 8.8.4.4 {',
    '  except example.com internal.example.org',
    '  force_tcp',
    '  prefer_udp',
    '  expire 30s',
    '  max_age 1m',
    '  max_idle_conns 4',
    '  read_timeout 500ms',
    '  max_fails 3',
    '  max_connect_attempts 0',
    '  doh_method GET',
    '  policy round_robin',
    '  health_check 1s no_rec domain example.org',
    '  max_concurrent 1000',
    '  next NXDOMAIN servfail',
    '  next_on_nodata',
    '  failfast_all_unhealthy_upstreams',
    '  failover SERVFAIL REFUSED',
    '  source_address 127.0.0.1',
    '  resolver 1.1.1.1 [2001:db8::1]:53',
    '}',
  ].join('\n'),
  'forward example.org 1.1.1.1\nforward . 8.8.8.8',
  'forward . 8.8.8.8 {\n  expire 0\n  health_check 0\n  max_fails 0\n}',
]

for (const body of ok) {
  test(`ok: ${JSON.stringify(body)}`, () => {
    const r = runSetup(plugin, body)
    assert.ok(r.make)
    const h = r.make(new StubHandler())
    assert.ok(h instanceof Forward)
    assert.equal(r.ctx.block.allowOtherClasses, true, 'forward allows other classes')
  })
}

const bad: Array<[string, string, number]> = [
  // [body, error substring, line]
  ['forward', "Wrong argument count or unexpected line ending after 'forward'", 2],
  ['forward .', "Wrong argument count or unexpected line ending after '.'", 2],
  [`forward . ${Array.from({ length: 16 }, (_, i) => `10.0.0.${i + 1}`).join(' ')}`, 'plugin/forward: more than 15 TOs configured: 16', 2],
  ['forward . grpc://1.2.3.4', "'grpc' is not supported as a destination protocol in forward: grpc://1.2.3.4", 2],
  ['forward . quic://1.2.3.4', "'quic' is not supported as a destination protocol in forward", 2],
  ['forward . https://1.2.3.4', "'https' is not supported as a destination protocol in forward: https://1.2.3.4", 2],
  ['forward . dns.google', 'not an IP address or file: "dns.google"', 2],
  ['forward . /nonexistent/resolv.conf', 'not an IP address or file: "/nonexistent/resolv.conf"', 2],
  [`forward . ${emptyResolv}`, 'no nameservers found', 2],
  ['forward . 1.2.3.4:99999', 'invalid port in address', 2],
  ['forward . tls://', 'invalid address: "tls://"', 2],
  ['forward a..b 1.2.3.4', 'zone is not a valid domain name: a..b', 2],
  ['forward . 1.2.3.4 {\n  except\n}', "Wrong argument count or unexpected line ending after 'except'", 3],
  ['forward . 1.2.3.4 {\n  force_tcp yes\n}', "Wrong argument count or unexpected line ending after 'yes'", 3],
  ['forward . 1.2.3.4 {\n  prefer_udp yes\n}', "Wrong argument count or unexpected line ending after 'yes'", 3],
  ['forward . 1.2.3.4 {\n  expire\n}', "Wrong argument count or unexpected line ending after 'expire'", 3],
  ['forward . 1.2.3.4 {\n  expire -90s\n}', "expire can't be negative: -1m30s", 3],
  ['forward . 1.2.3.4 {\n  expire 10x\n}', 'time: unknown unit "x" in duration "10x"', 3],
  ['forward . 1.2.3.4 {\n  max_age -1s\n}', "max_age can't be negative: -1s", 3],
  ['forward . 1.2.3.4 {\n  max_age 5s\n}', 'max_age (5s) must be greater than or equal to expire', 3],
  ['forward . 1.2.3.4 {\n  max_idle_conns x\n}', 'strconv.Atoi: parsing "x": invalid syntax', 3],
  ['forward . 1.2.3.4 {\n  max_idle_conns -1\n}', "max_idle_conns can't be negative: -1", 3],
  ['forward . 1.2.3.4 {\n  read_timeout 0\n}', 'read_timeout must be positive: 0s', 3],
  ['forward . 1.2.3.4 {\n  max_fails -1\n}', 'strconv.ParseUint: parsing "-1": invalid syntax', 3],
  ['forward . 1.2.3.4 {\n  max_fails 4294967296\n}', 'strconv.ParseUint: parsing "4294967296": value out of range', 3],
  ['forward . 1.2.3.4 {\n  max_connect_attempts x\n}', 'strconv.ParseUint: parsing "x": invalid syntax', 3],
  ['forward . 1.2.3.4 {\n  doh_method PUT\n}', "unsupported doh_method 'PUT'", 3],
  ['forward . 1.2.3.4 {\n  tls a b c d\n}', "Wrong argument count or unexpected line ending after 'd'", 3],
  ['forward . 1.2.3.4 {\n  tls /nonexistent/ca.pem\n}', 'error reading CA file: open /nonexistent/ca.pem: no such file or directory', 3],
  ['forward . 1.2.3.4 {\n  tls /nonexistent/c.pem /nonexistent/k.pem\n}', 'could not load TLS cert: open /nonexistent/c.pem', 3],
  [`forward . 1.2.3.4 {\n  tls ${resolv} ${resolv}\n}`, 'could not load TLS config', 3],
  ['forward . 1.2.3.4 {\n  tls_servername\n}', "Wrong argument count or unexpected line ending after 'tls_servername'", 3],
  ['forward . tls://1.2.3.4%a.example {\n  tls_servername b.example\n}', "tls_servername 'b.example' conflicts with the server name 'a.example'", 3],
  ['forward . 1.2.3.4 {\n  policy fastest\n}', "unknown policy 'fastest'", 3],
  ['forward . 1.2.3.4 {\n  policy\n}', "Wrong argument count or unexpected line ending after 'policy'", 3],
  ['forward . 1.2.3.4 {\n  health_check\n}', "Wrong argument count or unexpected line ending after 'health_check'", 3],
  ['forward . 1.2.3.4 {\n  health_check -1s\n}', "health_check can't be negative: -1000000000", 3],
  ['forward . 1.2.3.4 {\n  health_check 1s yes\n}', 'health_check: unknown option yes', 3],
  ['forward . 1.2.3.4 {\n  health_check 1s domain\n}', "Wrong argument count or unexpected line ending after 'domain'", 3],
  ['forward . 1.2.3.4 {\n  health_check 1s domain a..b\n}', 'health_check: invalid domain name a..b', 3],
  ['forward . 1.2.3.4 {\n  max_concurrent x\n}', 'strconv.Atoi: parsing "x": invalid syntax', 3],
  ['forward . 1.2.3.4 {\n  max_concurrent -1\n}', "max_concurrent can't be negative: -1", 3],
  ['forward . 1.2.3.4 {\n  next\n}', "Wrong argument count or unexpected line ending after 'next'", 3],
  ['forward . 1.2.3.4 {\n  next NOPE\n}', 'NOPE is not a valid rcode', 3],
  ['forward . 1.2.3.4 {\n  next_on_nodata yes\n}', "Wrong argument count or unexpected line ending after 'yes'", 3],
  ['forward . 1.2.3.4 {\n  failfast_all_unhealthy_upstreams yes\n}', "Wrong argument count or unexpected line ending after 'yes'", 3],
  ['forward . 1.2.3.4 {\n  failover\n}', "Wrong argument count or unexpected line ending after 'failover'", 3],
  ['forward . 1.2.3.4 {\n  failover NOERROR\n}', 'NoError cannot be used in failover', 3],
  ['forward . 1.2.3.4 {\n  failover BOGUS\n}', 'BOGUS is not a valid rcode', 3],
  ['forward . 1.2.3.4 {\n  source_address nope\n}', "source_address: invalid IP address 'nope'", 3],
  ['forward . 1.2.3.4 {\n  resolver\n}', "Wrong argument count or unexpected line ending after 'resolver'", 3],
  ['forward . 1.2.3.4 {\n  resolver dns.google\n}', "resolver: invalid address 'dns.google'", 3],
  ['forward . 1.2.3.4 {\n  polcy random\n}', "unknown property 'polcy'; expected one of: except, force_tcp", 3],
]

for (const [body, msg, line] of bad) {
  test(`error: ${JSON.stringify(body)} → ${msg}`, () => {
    assert.throws(
      () => runSetup(plugin, body),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e))
        assert.ok(e.message.includes(msg), `${e.message} should include ${msg}`)
        assert.ok(e.message.includes('plugin/forward: '), e.message)
        assert.equal(e.line, line, e.message)
        return true
      },
    )
  })
}

test('defaults follow CoreDNS', () => {
  const { cfg: c } = cfg('forward . 8.8.8.8')
  assert.equal(c.from, '.')
  assert.equal(c.expireMs, 10_000)
  assert.equal(c.readTimeoutMs, 2000)
  assert.equal(c.maxFails, 2)
  assert.equal(c.hcIntervalMs, 500)
  assert.equal(c.hcRecursionDesired, true)
  assert.equal(c.hcDomain, '.')
  assert.equal(c.policy, 'random')
  assert.equal(c.maxConcurrent, 0)
  assert.equal(c.maxConnectAttempts, null)
  assert.equal(c.dohMethod, 'POST')
  assert.equal(c.forceTcp, false)
  assert.equal(c.preferUdp, false)
  const f = runSetup(plugin, 'forward . 8.8.8.8 8.8.4.4').make!(new StubHandler()) as Forward
  assert.equal(f.maxConnectAttempts, 4, '2 × upstreams')
})

test('every option lands in the config', () => {
  const { cfg: c } = cfg(
    'forward example.ORG 8.8.8.8 {\n  except Sub.example.org\n  force_tcp\n  expire 30s\n  max_age 1m\n  max_idle_conns 4\n  read_timeout 500ms\n  max_fails 0\n  max_connect_attempts 7\n  policy sequential\n  health_check 2s no_rec domain Example.COM\n  max_concurrent 1000\n  next nxdomain\n  next_on_nodata\n  failfast_all_unhealthy_upstreams\n  failover REFUSED\n  source_address 127.0.0.1\n}',
  )
  assert.equal(c.from, 'example.org.')
  assert.deepEqual(c.ignored, ['sub.example.org.'])
  assert.equal(c.forceTcp, true)
  assert.equal(c.expireMs, 30_000)
  assert.equal(c.maxAgeMs, 60_000)
  assert.equal(c.maxIdleConns, 4)
  assert.equal(c.readTimeoutMs, 500)
  assert.equal(c.maxFails, 0)
  assert.equal(c.maxConnectAttempts, 7)
  assert.equal(c.policy, 'sequential')
  assert.equal(c.hcIntervalMs, 2000)
  assert.equal(c.hcRecursionDesired, false)
  assert.equal(c.hcDomain, 'example.com.')
  assert.equal(c.maxConcurrent, 1000)
  assert.deepEqual(c.nextRcodes, [3])
  assert.equal(c.nextOnNodata, true)
  assert.equal(c.failfastAllUnhealthy, true)
  assert.deepEqual(c.failoverRcodes, [5])
  assert.equal(c.sourceAddress, '127.0.0.1')
})

test('a CIDR FROM uses its first zone and warns', () => {
  const { r, cfg: c } = cfg('forward 10.0.0.0/7 8.8.8.8')
  assert.equal(c.from, '10.in-addr.arpa.')
  assert.ok(r.lines.some((l) => l.includes("Unsupported CIDR notation: '10.0.0.0/7' expands to multiple zones. Using only '10.in-addr.arpa.'")), r.lines.join('\n'))
})

test('resolv.conf TOs: every nameserver on port 53, zone stripped, duplicates removed', () => {
  const ups = parseTo([resolv, '10.0.0.10:53', '10.0.0.11'], dir, () => {})
  assert.ok(Array.isArray(ups))
  assert.deepEqual(
    ups.map((u) => `${u.transport}|${u.host}|${u.port}`),
    ['dns|10.0.0.10|53', 'dns|fe80::1|53', 'dns|10.0.0.11|53'],
  )
})

test('a relative resolv.conf path resolves against the block root', () => {
  const ups = parseTo(['resolv.conf'], dir, () => {})
  assert.ok(Array.isArray(ups) && ups.length === 2)
})

test('TO forms: schemes, default ports, per-upstream server name', () => {
  const ups = parseTo(['dns://1.1.1.1', 'tls://9.9.9.9', 'tls://9.9.9.9%dns.quad9.net:8853', 'tls://[2620:fe::fe]%dns.quad9.net', '[2001:DB8::1]:5353'], '/', () => {})
  assert.ok(Array.isArray(ups))
  assert.deepEqual(
    ups.map((u) => [u.transport, u.host, u.port, u.serverName]),
    [
      ['dns', '1.1.1.1', 53, null],
      ['tls', '9.9.9.9', 853, null],
      ['tls', '9.9.9.9', 8853, 'dns.quad9.net'],
      ['tls', '2620:fe::fe', 853, 'dns.quad9.net'],
      ['dns', '2001:db8::1', 5353, null],
    ],
  )
})

test('several forward lines chain in file order', () => {
  const r = runSetup(plugin, 'forward example.org 127.0.0.1:1\nforward . 127.0.0.1:2')
  const last = new StubHandler()
  const first = r.make!(last) as Forward
  assert.equal(first.from, 'example.org.')
  assert.ok(first.next instanceof Forward)
  assert.equal((first.next as Forward).from, '.')
  assert.equal((first.next as Forward).next, last)
  assert.equal(r.services.startup.length, 2)
  assert.equal(r.services.shutdown.length, 2)
  assert.equal(r.ctx.block.providers.get('forward')?.length, 2)
})

test('Go-style helpers', () => {
  assert.equal(formatGoDuration(-90_000_000_000n), '-1m30s')
  assert.equal(formatGoDuration(3_600_000_000_000n), '1h0m0s')
  assert.equal(formatGoDuration(1_500_000n), '1.5ms')
  assert.equal(formatGoDuration(0n), '0s')
  assert.deepEqual(splitHostPort('[::1]:53'), { host: '::1', port: '53' })
  assert.equal(splitHostPort('::1'), null)
  assert.equal(splitHostPort('1.2.3.4'), null)
})
