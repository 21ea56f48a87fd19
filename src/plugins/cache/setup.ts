// cache [TTL] [ZONES...] { success CAPACITY [TTL] [MINTTL]; denial CAPACITY [TTL] [MINTTL];
//   prefetch AMOUNT [DURATION [PERCENTAGE%]]; serve_stale [DURATION] [immediate [RESPONSE_TTL
//   [RECHECK]] | verify [TIMEOUT [RESPONSE_TTL [RECHECK]]]]; serve_stale_policy prefer_positive;
//   servfail DURATION; disable success|denial [ZONES...]; keepttl }
// Parsing and validation follow CoreDNS plugin/cache/setup.go, error texts included (plugins.md §9).

import { normalizeZones, isDomainName } from '../../corefile/address.js'
import { expectArgs, goParseDuration, oncePerBlock, unknownProperty } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import type { Directive } from '../../corefile/parser.js'
import { fqdn, lowerName } from '../../dns/name.js'
import type { PluginDef, SetupContext } from '../../pluginkit/types.js'
import { coarseClock } from '../../lib/coarse-clock.js'
import { Cache } from './handler.js'

const NAME = 'cache'

/** CoreDNS plugin/pkg/cache: 256 shards, at least 4 items each. */
export const SHARDS = 256
export const MIN_SHARD_SIZE = 4
/** dnsutil.MaximumDefaultTTL / MinimalDefaultTTL. */
export const MAX_TTL = 3600
export const MIN_TTL = 5
export const MAX_NTTL = MAX_TTL / 2
export const MIN_NTTL = MIN_TTL
export const DEFAULT_CAP = 10000
export const DEFAULT_STALE_SEC = 3600
/** RFC 2308 §7.1: SERVFAIL may be cached for at most 5 minutes. */
export const MAX_SERVFAIL_SEC = 300

const PROPERTIES = ['denial', 'disable', 'keepttl', 'prefetch', 'serve_stale', 'serve_stale_policy', 'servfail', 'success']

export interface CacheConfig {
  zones: string[]
  /** Capacities after rounding to the shard layout (entries). */
  pcap: number
  ncap: number
  /** Seconds. */
  pttl: number
  minpttl: number
  nttl: number
  minnttl: number
  failttl: number
  /** prefetch AMOUNT (0 = off), window and percentage. */
  prefetch: number
  prefetchWindowMs: number
  percentage: number
  /** serve_stale DURATION in whole seconds; 0 = off. */
  staleSec: number
  verifyStale: boolean
  /** verify TIMEOUT; 0 = wait for the chain. */
  verifyTimeoutMs: number
  /** RESPONSE_TTL in seconds; 0 = TTL 0 (CoreDNS's legacy behaviour). */
  staleTtl: number
  /** RECHECK: no refresh attempt for this long after a failed one; 0 = always retry. */
  staleRecheckMs: number
  preferPositive: boolean
  /** disable success|denial ZONES; null = not disabled. */
  pexcept: string[] | null
  nexcept: string[] | null
  keepttl: boolean
}

/** CoreDNS cache.New(size): size/256 per shard (Go integer division), at least 4. */
export function roundCapacity(size: number): number {
  let per = Math.trunc(size / SHARDS)
  if (per < MIN_SHARD_SIZE) per = MIN_SHARD_SIZE
  return per * SHARDS
}

/** Go strconv.Atoi: optional sign and decimal digits, 64-bit range; else Go's error text. */
export function goAtoi(s: string): number | string {
  let i = 0
  if (s.length > 0 && (s[0] === '+' || s[0] === '-')) i = 1
  if (i === s.length) return `strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j)
    if (c < 0x30 || c > 0x39) return `strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`
  }
  const n = BigInt(s)
  if (n > 9223372036854775807n || n < -9223372036854775808n) {
    return `strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`
  }
  return Number(n)
}

function atoi(tok: Token): number {
  const r = goAtoi(tok.text)
  if (typeof r === 'string') throw pluginError(tok, NAME, r)
  return r
}

/** Go time.ParseDuration, in nanoseconds; the Go error text at the token. */
function duration(tok: Token): bigint {
  const r = goParseDuration(tok.text)
  if (typeof r === 'string') throw pluginError(tok, NAME, r)
  return r
}

const NS_PER_SEC = 1_000_000_000n

/** int(d.Seconds()) for a non-negative duration. */
function wholeSeconds(ns: bigint): number {
  return Number(ns / NS_PER_SEC)
}

function argErr(tok: Token): never {
  throw pluginError(tok, NAME, `Wrong argument count or unexpected line ending after '${tok.text}'`)
}

/** `success|denial CAPACITY [TTL] [MINTTL]`; extra arguments are ignored, as in CoreDNS. */
function parseClass(sub: Directive): { cap: number; ttl: number | null; minttl: number | null } {
  const args = sub.args
  if (args.length === 0) argErr(sub.token)
  const cap = atoi(args[0]!)
  let ttl: number | null = null
  let minttl: number | null = null
  if (args.length > 1) {
    ttl = atoi(args[1]!)
    if (ttl <= 0) throw pluginError(args[1]!, NAME, `cache TTL can not be zero or negative: ${ttl}`)
    if (args.length > 2) {
      minttl = atoi(args[2]!)
      if (minttl < 0) throw pluginError(args[2]!, NAME, `cache min TTL can not be negative: ${minttl}`)
    }
  }
  return { cap, ttl, minttl }
}

function goQuoteByte(c: string): string {
  if (c === "'") return "'\\''"
  if (c === '\\') return "'\\\\'"
  return `'${c}'`
}

function parseServeStale(sub: Directive, cfg: CacheConfig): void {
  const args = sub.args
  if (args.length > 5) argErr(args[5]!)
  cfg.staleSec = DEFAULT_STALE_SEC
  cfg.verifyStale = false
  cfg.verifyTimeoutMs = 0
  cfg.staleTtl = 0
  cfg.staleRecheckMs = 0
  if (args.length > 0) {
    const d = duration(args[0]!)
    if (d < 0n) throw pluginError(args[0]!, NAME, 'invalid negative duration for serve_stale')
    cfg.staleSec = wholeSeconds(d)
  }
  if (args.length < 2) return
  const mode = args[1]!.text.toLowerCase()
  if (mode !== 'immediate' && mode !== 'verify') {
    throw pluginError(args[1]!, NAME, `invalid value for serve_stale refresh mode: ${mode}`)
  }
  cfg.verifyStale = mode === 'verify'
  let i = 2
  if (cfg.verifyStale) {
    if (args.length > i) {
      const t = duration(args[i]!)
      if (t < 0n) throw pluginError(args[i]!, NAME, 'invalid negative timeout for serve_stale verify')
      cfg.verifyTimeoutMs = Number(t) / 1e6
    }
    i++
  } else if (args.length > 4) {
    argErr(args[4]!)
  }
  if (args.length > i) {
    const t = duration(args[i]!)
    if (t < 0n) throw pluginError(args[i]!, NAME, 'invalid negative response TTL for serve_stale')
    cfg.staleTtl = wholeSeconds(t)
  }
  i++
  if (args.length > i) {
    const t = duration(args[i]!)
    if (t < 0n) throw pluginError(args[i]!, NAME, 'invalid negative recheck duration for serve_stale')
    cfg.staleRecheckMs = Number(t) / 1e6
  }
}

/** Parses the (single) cache directive. Exported for tests. */
export function parseCacheDirective(ctx: SetupContext, d: Directive): CacheConfig {
  const cfg: CacheConfig = {
    zones: [],
    pcap: roundCapacity(DEFAULT_CAP),
    ncap: roundCapacity(DEFAULT_CAP),
    pttl: MAX_TTL,
    minpttl: MIN_TTL,
    nttl: MAX_NTTL,
    minnttl: MIN_NTTL,
    failttl: MIN_NTTL,
    prefetch: 0,
    prefetchWindowMs: 60_000,
    percentage: 10,
    staleSec: 0,
    verifyStale: false,
    verifyTimeoutMs: 0,
    staleTtl: 0,
    staleRecheckMs: 0,
    preferPositive: false,
    pexcept: null,
    nexcept: null,
    keepttl: false,
  }
  let args = d.args
  if (args.length > 0) {
    // The first argument is the TTL when it is a number, else a zone.
    const ttl = goAtoi(args[0]!.text)
    if (typeof ttl === 'number') {
      if (ttl <= 0) throw pluginError(args[0]!, NAME, `cache TTL can not be zero or negative: ${ttl}`)
      cfg.pttl = ttl
      cfg.nttl = ttl
      args = args.slice(1)
    }
  }
  cfg.zones = normalizeZones(args, [...ctx.zones], NAME)
  let policyTok: Token | null = null
  let staleSeen = false
  for (const sub of d.block ?? []) {
    switch (sub.name) {
      case 'success': {
        const r = parseClass(sub)
        cfg.pcap = roundCapacity(r.cap)
        if (r.ttl !== null) cfg.pttl = r.ttl
        if (r.minttl !== null) cfg.minpttl = r.minttl
        break
      }
      case 'denial': {
        const r = parseClass(sub)
        cfg.ncap = roundCapacity(r.cap)
        if (r.ttl !== null) cfg.nttl = r.ttl
        if (r.minttl !== null) cfg.minnttl = r.minttl
        break
      }
      case 'prefetch': {
        const a = sub.args
        if (a.length === 0) argErr(sub.token)
        if (a.length > 3) argErr(a[3]!)
        const amount = atoi(a[0]!)
        if (amount < 0) throw pluginError(a[0]!, NAME, `prefetch amount should be positive: ${amount}`)
        cfg.prefetch = amount
        if (a.length > 1) cfg.prefetchWindowMs = Number(duration(a[1]!)) / 1e6
        if (a.length > 2) {
          const t = a[2]!
          const last = t.text[t.text.length - 1] ?? ''
          if (last !== '%') {
            throw pluginError(t, NAME, `last character of percentage should be \`%\`, but is: ${goQuoteByte(last)}`)
          }
          const r = goAtoi(t.text.slice(0, -1))
          if (typeof r === 'string') throw pluginError(t, NAME, r)
          if (r < 10 || r > 90) throw pluginError(t, NAME, `percentage should fall in range [10, 90]: ${r}`)
          cfg.percentage = r
        }
        break
      }
      case 'serve_stale':
        parseServeStale(sub, cfg)
        staleSeen = true
        break
      case 'serve_stale_policy': {
        expectArgs(sub, NAME, 1, 1)
        const v = sub.args[0]!.text.toLowerCase()
        if (v !== 'prefer_positive') {
          throw pluginError(sub.args[0]!, NAME, `invalid value for serve_stale_policy: ${sub.args[0]!.text}`)
        }
        cfg.preferPositive = true
        policyTok = sub.token
        break
      }
      case 'servfail': {
        if (sub.args.length !== 1) argErr(sub.args[1] ?? sub.token)
        const t = duration(sub.args[0]!)
        if (t < 0n) throw pluginError(sub.args[0]!, NAME, 'invalid negative ttl for servfail')
        if (t > BigInt(MAX_SERVFAIL_SEC) * NS_PER_SEC) {
          throw pluginError(sub.args[0]!, NAME, 'caching SERVFAIL responses over 5 minutes is not permitted')
        }
        cfg.failttl = wholeSeconds(t)
        break
      }
      case 'disable': {
        const a = sub.args
        if (a.length < 1) argErr(sub.token)
        const zones: string[] = []
        if (a.length > 1) {
          for (const z of a.slice(1)) {
            const nz = lowerName(fqdn(z.text))
            if (!isDomainName(nz)) throw pluginError(z, NAME, `invalid disabled zone: ${z.text}`)
            zones.push(nz)
          }
        } else zones.push('.')
        if (a[0]!.text === 'denial') cfg.nexcept = zones
        else if (a[0]!.text === 'success') cfg.pexcept = zones
        else throw pluginError(a[0]!, NAME, 'cache type for disable must be "success" or "denial"')
        break
      }
      case 'keepttl':
        expectArgs(sub, NAME, 0, 0)
        cfg.keepttl = true
        break
      default:
        throw unknownProperty(sub.token, NAME, PROPERTIES)
    }
  }
  if (policyTok !== null && !staleSeen) {
    throw pluginError(policyTok, NAME, 'serve_stale_policy requires serve_stale')
  }
  return cfg
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    oncePerBlock(ds, NAME)
    const cfg = parseCacheDirective(ctx, ds[0]!)
    return (next) => new Cache(next, cfg, coarseClock())
  },
}
