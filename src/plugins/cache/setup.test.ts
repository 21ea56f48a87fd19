import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../corefile/errors.js'
import { parseCorefile } from '../../corefile/parser.js'
import type { SetupContext } from '../../pluginkit/types.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { goAtoi, parseCacheDirective, plugin, roundCapacity, type CacheConfig } from './setup.js'

function parse(body: string): CacheConfig {
  const parsed = parseCorefile(`example.org:53 {\n${body}\n}\n`, 'Corefile')
  const d = parsed.blocks[0]!.directives.find((x) => x.name === 'cache')!
  return parseCacheDirective({ zones: ['example.org.'] } as unknown as SetupContext, d)
}

test('capacity rounding: down to a multiple of 256 shards, at least 4 per shard', () => {
  assert.equal(roundCapacity(10000), 9984)
  assert.equal(roundCapacity(5000), 4864)
  assert.equal(roundCapacity(10), 1024)
  assert.equal(roundCapacity(0), 1024)
  assert.equal(roundCapacity(-5000), 1024)
  assert.equal(roundCapacity(1279), 1024)
  assert.equal(roundCapacity(1280), 1280)
})

test('goAtoi mirrors strconv.Atoi', () => {
  assert.equal(goAtoi('+10'), 10)
  assert.equal(goAtoi('-3'), -3)
  assert.equal(goAtoi('1.5'), 'strconv.Atoi: parsing "1.5": invalid syntax')
  assert.equal(goAtoi(''), 'strconv.Atoi: parsing "": invalid syntax')
  assert.equal(goAtoi('99999999999999999999'), 'strconv.Atoi: parsing "99999999999999999999": value out of range')
})

const ok: Array<[string, Partial<CacheConfig>]> = [
  ['cache', { zones: ['example.org.'], pcap: 9984, ncap: 9984, pttl: 3600, nttl: 1800, minpttl: 5, minnttl: 5, failttl: 5, prefetch: 0, staleSec: 0, keepttl: false, pexcept: null, nexcept: null }],
  ['cache 10', { pttl: 10, nttl: 10, zones: ['example.org.'] }],
  ['cache +10', { pttl: 10, nttl: 10 }],
  ['cache 10.0.0.0/31', { zones: ['0.0.0.10.in-addr.arpa.', '1.0.0.10.in-addr.arpa.'] }],
  ['cache aaa Example.NL', { zones: ['aaa.', 'example.nl.'], pttl: 3600 }],
  ['cache example.nl {\n  success 10\n}', { pcap: 1024, ncap: 9984, zones: ['example.nl.'] }],
  ['cache {\n  success 10 1800 30\n}', { pcap: 1024, pttl: 1800, minpttl: 30 }],
  ['cache {\n  success 5000 1800 30 99\n}', { pcap: 4864, pttl: 1800, minpttl: 30 }],
  ['cache {\n  success 10\n  denial 10 15\n}', { ncap: 1024, nttl: 15, minnttl: 5 }],
  ['cache {\n  denial 10 15 2\n}', { nttl: 15, minnttl: 2 }],
  ['cache {\n  denial 10 15 0\n}', { minnttl: 0 }],
  ['cache 25 example.nl {\n  success 10\n  denial 10 15\n}', { pttl: 25, nttl: 15 }],
  ['cache {\n  prefetch 10\n}', { prefetch: 10, prefetchWindowMs: 60000, percentage: 10 }],
  ['cache {\n  prefetch 0\n}', { prefetch: 0 }],
  ['cache {\n  prefetch 2 2m 20%\n}', { prefetch: 2, prefetchWindowMs: 120000, percentage: 20 }],
  ['cache {\n  prefetch 2 10s 90%\n}', { percentage: 90, prefetchWindowMs: 10000 }],
  ['cache {\n  serve_stale\n}', { staleSec: 3600, verifyStale: false, staleTtl: 0, staleRecheckMs: 0 }],
  ['cache {\n  serve_stale 30m\n}', { staleSec: 1800 }],
  ['cache {\n  serve_stale 0\n}', { staleSec: 0 }],
  ['cache {\n  serve_stale 1h Verify\n}', { staleSec: 3600, verifyStale: true, verifyTimeoutMs: 0 }],
  ['cache {\n  serve_stale 1h immediate 30s\n}', { staleTtl: 30, verifyStale: false }],
  ['cache {\n  serve_stale 1h immediate 30s 10s\n}', { staleTtl: 30, staleRecheckMs: 10000 }],
  ['cache {\n  serve_stale 2h verify 500ms 45s 1m\n}', { staleSec: 7200, verifyStale: true, verifyTimeoutMs: 500, staleTtl: 45, staleRecheckMs: 60000 }],
  ['cache {\n  serve_stale 1h verify 0 45s\n}', { verifyTimeoutMs: 0, staleTtl: 45 }],
  ['cache {\n  serve_stale\n  serve_stale_policy prefer_positive\n}', { preferPositive: true }],
  ['cache {\n  servfail 0\n}', { failttl: 0 }],
  ['cache {\n  servfail 5m\n}', { failttl: 300 }],
  ['cache {\n  servfail 10s\n}', { failttl: 10 }],
  ['cache {\n  disable success\n}', { pexcept: ['.'], nexcept: null }],
  ['cache {\n  disable denial Example.org sub.foo.\n}', { nexcept: ['example.org.', 'sub.foo.'], pexcept: null }],
  ['cache {\n  keepttl\n}', { keepttl: true }],
]

for (const [body, want] of ok) {
  test(`ok: ${JSON.stringify(body)}`, () => {
    const r = runSetup(plugin, body)
    assert.ok(r.make)
    const cfg = parse(body)
    for (const [k, v] of Object.entries(want)) assert.deepEqual(cfg[k as keyof CacheConfig], v, k)
  })
}

const bad: Array<[string, string, number]> = [
  ['cache\ncache', 'plugin/cache: this plugin can only be used once per Server Block', 3],
  ['cache 0', 'plugin/cache: cache TTL can not be zero or negative: 0', 2],
  ['cache -1 example.nl', 'cache TTL can not be zero or negative: -1', 2],
  ['cache a..b', 'zone is not a valid domain name: a..b', 2],
  ['cache {\n  success\n  denial 10 15\n}', "Wrong argument count or unexpected line ending after 'success'", 3],
  ['cache {\n  denial aaa\n}', 'strconv.Atoi: parsing "aaa": invalid syntax', 3],
  ['cache {\n  success 10 x\n}', 'strconv.Atoi: parsing "x": invalid syntax', 3],
  ['cache {\n  success 10 0\n}', 'cache TTL can not be zero or negative: 0', 3],
  ['cache {\n  denial 10 -5\n}', 'cache TTL can not be zero or negative: -5', 3],
  ['cache {\n  success 10 10 -1\n}', 'cache min TTL can not be negative: -1', 3],
  ['cache {\n  denial 10 10 y\n}', 'strconv.Atoi: parsing "y": invalid syntax', 3],
  ['cache {\n  positive 15\n}', "unknown property 'positive'; expected one of: denial, disable, keepttl, prefetch, serve_stale, serve_stale_policy, servfail, success", 3],
  ['cache {\n  prefetch\n}', "Wrong argument count or unexpected line ending after 'prefetch'", 3],
  ['cache {\n  prefetch 1 1m 10% 4\n}', "Wrong argument count or unexpected line ending after '4'", 3],
  ['cache {\n  prefetch -1\n}', 'prefetch amount should be positive: -1', 3],
  ['cache {\n  prefetch x\n}', 'strconv.Atoi: parsing "x": invalid syntax', 3],
  ['cache {\n  prefetch 0 blurp\n}', 'time: invalid duration "blurp"', 3],
  ['cache {\n  prefetch 1 1m 10\n}', "last character of percentage should be `%`, but is: '0'", 3],
  ['cache {\n  prefetch 1 1m 5%\n}', 'percentage should fall in range [10, 90]: 5', 3],
  ['cache {\n  prefetch 1 1m 91%\n}', 'percentage should fall in range [10, 90]: 91', 3],
  ['cache {\n  prefetch 1 1m a%\n}', 'strconv.Atoi: parsing "a": invalid syntax', 3],
  ['cache {\n  serve_stale -1s\n}', 'invalid negative duration for serve_stale', 3],
  ['cache {\n  serve_stale 1x\n}', 'time: unknown unit "x" in duration "1x"', 3],
  ['cache {\n  serve_stale 1h later\n}', 'invalid value for serve_stale refresh mode: later', 3],
  ['cache {\n  serve_stale 1h immediate 1s 1s 1s\n}', "Wrong argument count or unexpected line ending after '1s'", 3],
  ['cache {\n  serve_stale 1h verify 1s 1s 1s 1s\n}', "Wrong argument count or unexpected line ending after '1s'", 3],
  ['cache {\n  serve_stale 1h verify -1s\n}', 'invalid negative timeout for serve_stale verify', 3],
  ['cache {\n  serve_stale 1h immediate -1s\n}', 'invalid negative response TTL for serve_stale', 3],
  ['cache {\n  serve_stale 1h immediate 1s -1s\n}', 'invalid negative recheck duration for serve_stale', 3],
  ['cache {\n  serve_stale 1h verify 1s 1s zz\n}', 'time: invalid duration "zz"', 3],
  ['cache {\n  serve_stale_policy prefer_positive\n}', 'serve_stale_policy requires serve_stale', 3],
  ['cache {\n  serve_stale\n  serve_stale_policy prefer_negative\n}', 'invalid value for serve_stale_policy: prefer_negative', 4],
  ['cache {\n  serve_stale\n  serve_stale_policy\n}', "Wrong argument count or unexpected line ending after 'serve_stale_policy'", 4],
  ['cache {\n  servfail\n}', "Wrong argument count or unexpected line ending after 'servfail'", 3],
  ['cache {\n  servfail 1s 2s\n}', "Wrong argument count or unexpected line ending after '2s'", 3],
  ['cache {\n  servfail -1s\n}', 'invalid negative ttl for servfail', 3],
  ['cache {\n  servfail 5m1s\n}', 'caching SERVFAIL responses over 5 minutes is not permitted', 3],
  ['cache {\n  servfail abc\n}', 'time: invalid duration "abc"', 3],
  ['cache {\n  disable\n}', "Wrong argument count or unexpected line ending after 'disable'", 3],
  ['cache {\n  disable positive\n}', 'cache type for disable must be "success" or "denial"', 3],
  ['cache {\n  disable success a..b\n}', 'invalid disabled zone: a..b', 3],
  ['cache {\n  keepttl yes\n}', "Wrong argument count or unexpected line ending after 'yes'", 3],
]

for (const [body, msg, line] of bad) {
  test(`error: ${JSON.stringify(body)} → ${msg}`, () => {
    assert.throws(
      () => runSetup(plugin, body),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e))
        assert.ok(e.message.includes(msg), `${e.message} lacks ${msg}`)
        assert.ok(e.message.includes('plugin/cache: '), e.message)
        assert.equal(e.line, line, e.message)
        return true
      },
    )
  })
}

test('README corefile examples set up', async () => {
  const { readFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { repoRoot } = await import('../../../test/helpers/proc.js')
  const readme = readFileSync(join(repoRoot, 'src/plugins/cache/README.md'), 'utf8')
  let n = 0
  for (const m of readme.matchAll(/~~~ corefile\n([\s\S]*?)~~~/g)) {
    const parsed = parseCorefile(m[1]!, 'README.md', { knownDirectives: new Set(['cache', 'whoami', 'hosts']) })
    const d = parsed.blocks[0]!.directives.find((x) => x.name === 'cache')!
    parseCacheDirective({ zones: ['.'] } as unknown as SetupContext, d)
    n++
  }
  assert.equal(n, 3)
  // The node-local example (txt: forward may not be registered in every build) parses too.
  const txt = [...readme.matchAll(/~~~ txt\n(cluster\.local[\s\S]*?)~~~/g)][0]![1]!
  const d = parseCorefile(txt, 'README.md').blocks[0]!.directives.find((x) => x.name === 'cache')!
  const cfg = parseCacheDirective({ zones: ['cluster.local.'] } as unknown as SetupContext, d)
  assert.equal(cfg.staleTtl, 30)
  assert.equal(cfg.staleRecheckMs, 10000)
})
