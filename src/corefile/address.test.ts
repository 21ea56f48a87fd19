import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkZoneSyntax, isDomainName, isReverseZone, normalizeZones, parseServerKeys } from './address.js'
import type { Token } from './lexer.js'
import { assertError } from './test-helpers.js'

const tok = (text: string, col = 1): Token => ({ text, file: 'Corefile', line: 7, col, quoted: false })
const keys = (texts: string[], port = 53) =>
  parseServerKeys(texts.map((t) => tok(t)), port).map((k) => `${k.scheme}://${k.zone}:${k.port}`)

test('scheme, zone and port with per-scheme default ports', () => {
  assert.deepEqual(keys(['.', 'example.org', 'Example.ORG:1053', 'dns://a.org', 'tls://a.org', 'quic://a.org', 'grpc://a.org', 'https://a.org', 'https3://a.org']), [
    'dns://.:53',
    'dns://example.org.:53',
    'dns://example.org.:1053',
    'dns://a.org.:53',
    'tls://a.org.:853',
    'quic://a.org.:853',
    'grpc://a.org.:443',
    'https://a.org.:443',
    'https3://a.org.:443',
  ])
  assert.deepEqual(keys(['.', 'tls://.', 'a.org:0053', 'a.org.:5300'], 1053), [
    'dns://.:1053',
    'tls://.:853',
    'dns://a.org.:53',
    'dns://a.org.:5300',
  ])
})

test('ServerKey keeps the key token', () => {
  const t = tok('example.org', 9)
  const [k] = parseServerKeys([t], 53)
  assert.equal(k!.token, t)
})

test('CIDR keys expand to reverse zones at octet/nibble boundaries', () => {
  assert.deepEqual(keys(['10.0.0.0/24']), ['dns://0.0.10.in-addr.arpa.:53'])
  assert.deepEqual(keys(['10.0.0.0/8:1053']), ['dns://10.in-addr.arpa.:1053'])
  const k17 = keys(['10.0.0.0/17'])
  assert.equal(k17.length, 128)
  assert.equal(k17[0], 'dns://0.0.10.in-addr.arpa.:53')
  assert.equal(k17[127], 'dns://127.0.10.in-addr.arpa.:53')
  const k12 = keys(['10.240.0.0/12'])
  assert.equal(k12.length, 16)
  assert.equal(k12[0], 'dns://240.10.in-addr.arpa.:53')
  assert.equal(k12[15], 'dns://255.10.in-addr.arpa.:53')
  assert.deepEqual(keys(['fd00::/8']), ['dns://d.f.ip6.arpa.:53'])
  assert.deepEqual(keys(['2001:db8::/32']), ['dns://8.b.d.0.1.0.0.2.ip6.arpa.:53'])
  assert.deepEqual(keys(['2001:db8::/32:5353']), ['dns://8.b.d.0.1.0.0.2.ip6.arpa.:5353'])
  assert.deepEqual(keys(['10.0.0.1/24']), ['dns://0.0.10.in-addr.arpa.:53'])
  // not a CIDR: stays a (strange) name
  assert.deepEqual(keys(['10.0.0.0/33']), ['dns://10.0.0.0/33.:53'])
})

test('key errors: trailing colon, invalid name, too long, invalid CIDR, bad port', () => {
  const P = 'Corefile:7:3 - error inspecting server blocks: '
  const run = (t: string) => () => parseServerKeys([tok(t, 3)], 53)
  assertError(run('example.net:'), `${P}expecting data after last colon: "example.net:"`)
  assertError(run('dns://x:'), `${P}expecting data after last colon: "x:"`)
  assertError(run('a..b'), `${P}zone is not a valid domain name: a..b`)
  assertError(run('.a'), `${P}zone is not a valid domain name: .a`)
  assertError(run(':53'), `${P}zone is not a valid domain name: `)
  assertError(run(`${'a'.repeat(64)}.org`), `${P}zone is not a valid domain name: ${'a'.repeat(64)}.org`)
  const long = `${'a'.repeat(60)}.`.repeat(4) + 'abcdefghijklmnopqrstuvwxyz'
  assertError(run(long), `${P}specified zone is too long: ${long.length} > 255`)
  assertError(run('::/0'), `${P}invalid CIDR ::/0`)
  assertError(run('0::/0'), `${P}invalid CIDR 0::/0`)
  assertError(run('a.org:70000'), `${P}invalid port "70000": expecting a number between 0 and 65535`)
})

test('isDomainName follows miekg/dns', () => {
  assert.equal(isDomainName('.'), true)
  assert.equal(isDomainName('example.org'), true)
  assert.equal(isDomainName('example.org.'), true)
  assert.equal(isDomainName('a\\.b.org'), true)
  assert.equal(isDomainName('\\065.org'), true)
  assert.equal(isDomainName(''), false)
  assert.equal(isDomainName('..'), false)
  assert.equal(isDomainName('a..org'), false)
  assert.equal(isDomainName(`${'a'.repeat(63)}.org`), true)
  assert.equal(isDomainName(`${'a'.repeat(64)}.org`), false)
  // 4 labels of 63 = 256 octets of wire labels: too long
  assert.equal(isDomainName(`${'a'.repeat(63)}.`.repeat(3) + 'a'.repeat(61)), true)
  assert.equal(isDomainName(`${'a'.repeat(63)}.`.repeat(4)), false)
})

test('RFC1035 preferred-syntax warnings, root and reverse zones exempt', () => {
  const warnings: string[] = []
  parseServerKeys(['.', 'example.org', '10.0.0.0/24', 'my_zone.local', '1bad.org', 'my_zone.local:54'].map((t) => tok(t)), 53, (w) => warnings.push(w))
  assert.deepEqual(warnings, [
    'Domain "my_zone.local." does not follow RFC1035 preferred syntax',
    'Domain "1bad.org." does not follow RFC1035 preferred syntax',
  ])
  assert.equal(checkZoneSyntax('ip6.arpa.'), true)
  assert.equal(checkZoneSyntax('-a.org.'), false)
})

test('isReverseZone', () => {
  assert.equal(isReverseZone('in-addr.arpa.'), true)
  assert.equal(isReverseZone('10.IN-ADDR.ARPA'), true)
  assert.equal(isReverseZone('d.f.ip6.arpa.'), true)
  assert.equal(isReverseZone('arpa.'), false)
  assert.equal(isReverseZone('xin-addr.arpa.'), false)
  assert.equal(isReverseZone('cluster.local.'), false)
})

test('normalizeZones: lower-case FQDN, CIDR → reverse zones, empty → fallback', () => {
  assert.deepEqual(normalizeZones([tok('Cluster.Local'), tok('in-addr.arpa'), tok('.')], ['x.']), ['cluster.local.', 'in-addr.arpa.', '.'])
  const z = normalizeZones([tok('10.0.0.0/17'), tok('example.org')], [])
  assert.equal(z.length, 129)
  assert.equal(z[5], '5.0.10.in-addr.arpa.')
  assert.deepEqual(normalizeZones([], ['cluster.local.', 'Example.org']), ['cluster.local.', 'example.org.'])
  assert.deepEqual(normalizeZones([tok('dns://a.org:53')], []), ['a.org.'])
  assertError(() => normalizeZones([tok('a..b', 12)], [], 'kubernetes'), 'Corefile:7:12 - plugin/kubernetes: zone is not a valid domain name: a..b')
  assertError(() => normalizeZones([tok('a.org:', 2)], []), 'Corefile:7:2 - Error during parsing: expecting data after last colon: "a.org:"')
})
