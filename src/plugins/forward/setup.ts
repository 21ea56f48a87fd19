// forward FROM TO... { except, force_tcp, prefer_udp, expire, max_age, max_idle_conns,
//   read_timeout, max_fails, max_connect_attempts, doh_method, tls, tls_servername, policy,
//   health_check, max_concurrent, next, next_on_nodata, failfast_all_unhealthy_upstreams,
//   failover, source_address, resolver }
// Setup of CoreDNS plugin/forward (plugins.md §8). Several `forward` lines in a block chain to
// each other in file order. No traffic at setup: health checking starts at startup.

import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import tls from 'node:tls'
import { normalizeZones } from '../../corefile/address.js'
import { expectArgs, goParseDuration, unknownProperty } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import type { Directive } from '../../corefile/parser.js'
import { Rcode, stringToRcode } from '../../dns/constants.js'
import { isValidDomainName } from '../../dns/name.js'
import { canonicalIP } from '../../lib/ip.js'
import type { Handler, PluginDef, SetupContext } from '../../pluginkit/types.js'
import { makePolicy, type PolicyName } from '../../upstream/policy.js'
import { Proxy, UdpPools } from '../../upstream/proxy.js'
import { TimeoutQueue } from '../../upstream/sweeper.js'
import { Forward } from './handler.js'
import { parseTo, splitHostPort, type UpstreamSpec } from './to.js'

const NAME = 'forward'
/** CoreDNS `max`: most upstreams per forward. */
export const MAX_UPSTREAMS = 15
export const DEFAULT_EXPIRE_MS = 10_000
export const DEFAULT_READ_TIMEOUT_MS = 2000
export const DEFAULT_MAX_FAILS = 2
export const DEFAULT_HC_INTERVAL_MS = 500

const PROPERTIES = [
  'except',
  'force_tcp',
  'prefer_udp',
  'expire',
  'max_age',
  'max_idle_conns',
  'read_timeout',
  'max_fails',
  'max_connect_attempts',
  'doh_method',
  'tls',
  'tls_servername',
  'policy',
  'health_check',
  'max_concurrent',
  'next',
  'next_on_nodata',
  'failfast_all_unhealthy_upstreams',
  'failover',
  'source_address',
  'resolver',
]

/** Everything one `forward` line says, validated; no sockets. Exported for tests. */
export interface ForwardConfig {
  from: string
  ignored: string[]
  upstreams: UpstreamSpec[]
  forceTcp: boolean
  preferUdp: boolean
  expireMs: number
  maxAgeMs: number
  maxIdleConns: number
  readTimeoutMs: number
  maxFails: number
  /** null = default (2 × upstreams); 0 = no cap. */
  maxConnectAttempts: number | null
  dohMethod: 'GET' | 'POST'
  tlsArgs: string[] | null
  tlsOptions: tls.ConnectionOptions
  tlsServerName: string | null
  policy: PolicyName
  hcIntervalMs: number
  hcRecursionDesired: boolean
  hcDomain: string
  maxConcurrent: number
  maxConcurrentText: string
  nextRcodes: number[]
  nextOnNodata: boolean
  failfastAllUnhealthy: boolean
  failoverRcodes: number[]
  sourceAddress: string | null
  resolvers: string[]
}

/** Go time.Duration.String() for an integer number of nanoseconds. */
export function formatGoDuration(d: bigint): string {
  if (d === 0n) return '0s'
  const sign = d < 0n ? '-' : ''
  const u = d < 0n ? -d : d
  const frac = (v: bigint, div: bigint): string => {
    const ip = v / div
    let f = (v % div).toString().padStart(div.toString().length - 1, '0')
    f = f.replace(/0+$/, '')
    return f === '' ? ip.toString() : `${ip}.${f}`
  }
  if (u < 1000n) return `${sign}${u}ns`
  if (u < 1000000n) return `${sign}${frac(u, 1000n)}µs`
  if (u < 1000000000n) return `${sign}${frac(u, 1000000n)}ms`
  const h = u / 3600000000000n
  const m = (u / 60000000000n) % 60n
  const sNs = u % 60000000000n
  let out = sign
  if (h > 0n) out += `${h}h`
  if (h > 0n || m > 0n) out += `${m}m`
  return out + frac(sNs, 1000000000n) + 's'
}

function durationNs(tok: Token): bigint {
  const r = goParseDuration(tok.text)
  if (typeof r === 'string') throw pluginError(tok, NAME, r)
  return r
}

/** Go strconv.ParseUint(s, 10, 32). */
function parseUint32(tok: Token): number {
  const t = tok.text
  if (!/^\d+$/.test(t)) throw pluginError(tok, NAME, `strconv.ParseUint: parsing ${JSON.stringify(t)}: invalid syntax`)
  const n = Number(t)
  if (n > 0xffffffff) throw pluginError(tok, NAME, `strconv.ParseUint: parsing ${JSON.stringify(t)}: value out of range`)
  return n
}

/** Go strconv.Atoi. */
function atoi(tok: Token): number {
  const t = tok.text
  if (!/^[+-]?\d+$/.test(t)) throw pluginError(tok, NAME, `strconv.Atoi: parsing ${JSON.stringify(t)}: invalid syntax`)
  const n = Number(t)
  if (!Number.isSafeInteger(n)) throw pluginError(tok, NAME, `strconv.Atoi: parsing ${JSON.stringify(t)}: value out of range`)
  return n
}

function oneArg(sub: Directive): Token {
  expectArgs(sub, NAME, 1, 1)
  return sub.args[0]!
}

function rcodes(sub: Directive, failover: boolean): number[] {
  expectArgs(sub, NAME, 1, Infinity)
  const out: number[] = []
  for (const a of sub.args) {
    const rc = stringToRcode(a.text)
    if (rc === undefined || /^\d+$/.test(a.text)) throw pluginError(a, NAME, `${a.text} is not a valid rcode`)
    if (failover && rc === Rcode.NoError) throw pluginError(a, NAME, 'NoError cannot be used in failover')
    out.push(rc)
  }
  return out
}

function goFileError(path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return `open ${path}: no such file or directory`
  if (code === 'EACCES') return `open ${path}: permission denied`
  return e instanceof Error ? e.message : String(e)
}

/** `tls [CERT KEY] [CA]` → Node TLS client options (files read now, PEM validated). */
function tlsOptions(sub: Directive, root: string): tls.ConnectionOptions {
  expectArgs(sub, NAME, 0, 3)
  const files = sub.args.map((a) => (isAbsolute(a.text) ? a.text : resolve(root, a.text)))
  const read = (i: number, what: string): Buffer => {
    try {
      return readFileSync(files[i]!)
    } catch (e) {
      throw pluginError(sub.args[i]!, NAME, `${what}: ${goFileError(files[i]!, e)}`)
    }
  }
  const o: tls.ConnectionOptions = {}
  if (files.length === 1) o.ca = read(0, 'error reading CA file')
  if (files.length >= 2) {
    o.cert = read(0, 'could not load TLS cert')
    o.key = read(1, 'could not load TLS cert')
  }
  if (files.length === 3) o.ca = read(2, 'error reading CA file')
  try {
    tls.createSecureContext({ ...(o.cert ? { cert: o.cert, key: o.key! } : {}), ...(o.ca ? { ca: o.ca } : {}) })
  } catch (e) {
    throw pluginError(sub.args[0]!, NAME, `could not load TLS config: ${(e as Error).message}`)
  }
  return o
}

/** Parses one `forward` directive. Exported for tests. */
export function parseForward(ctx: SetupContext, d: Directive): ForwardConfig {
  expectArgs(d, NAME, 2, Infinity)
  const fromTok = d.args[0]!
  const zones = normalizeZones([fromTok], [], NAME)
  if (zones.length === 0) throw pluginError(fromTok, NAME, `unable to normalize '${fromTok.text}'`)
  const from = zones[0]!
  if (zones.length > 1) {
    ctx.log.warn(`Unsupported CIDR notation: '${fromTok.text}' expands to multiple zones. Using only '${from}'.`)
  }
  const toToks = d.args.slice(1)
  const ups = parseTo(
    toToks.map((t) => t.text),
    ctx.block.root,
    (m) => ctx.log.warn(m),
  )
  if (typeof ups === 'string') {
    const bad = toToks.find((t) => ups.includes(JSON.stringify(t.text)) || ups.endsWith(t.text)) ?? toToks[0]!
    throw pluginError(bad, NAME, ups)
  }
  for (const u of ups) {
    if (u.transport === 'https') {
      const tok = toToks.find((t) => t.text === u.source) ?? toToks[0]!
      throw pluginError(
        tok,
        NAME,
        `'https' is not supported as a destination protocol in forward: ${u.source} (DNS-over-HTTPS upstreams are not implemented yet; use tls://)`,
      )
    }
  }
  const cfg: ForwardConfig = {
    from,
    ignored: [],
    upstreams: ups,
    forceTcp: false,
    preferUdp: false,
    expireMs: DEFAULT_EXPIRE_MS,
    maxAgeMs: 0,
    maxIdleConns: 0,
    readTimeoutMs: DEFAULT_READ_TIMEOUT_MS,
    maxFails: DEFAULT_MAX_FAILS,
    maxConnectAttempts: null,
    dohMethod: 'POST',
    tlsArgs: null,
    tlsOptions: {},
    tlsServerName: null,
    policy: 'random',
    hcIntervalMs: DEFAULT_HC_INTERVAL_MS,
    hcRecursionDesired: true,
    hcDomain: '.',
    maxConcurrent: 0,
    maxConcurrentText: '0',
    nextRcodes: [],
    nextOnNodata: false,
    failfastAllUnhealthy: false,
    failoverRcodes: [],
    sourceAddress: null,
    resolvers: [],
  }
  let maxAgeTok: Token | null = null
  let sniTok: Token | null = null
  for (const sub of d.block ?? []) {
    switch (sub.name) {
      case 'except':
        expectArgs(sub, NAME, 1, Infinity)
        for (const z of normalizeZones(sub.args, [], NAME)) cfg.ignored.push(z)
        break
      case 'force_tcp':
        expectArgs(sub, NAME, 0, 0)
        cfg.forceTcp = true
        break
      case 'prefer_udp':
        expectArgs(sub, NAME, 0, 0)
        cfg.preferUdp = true
        break
      case 'expire': {
        const t = oneArg(sub)
        const ns = durationNs(t)
        if (ns < 0n) throw pluginError(t, NAME, `expire can't be negative: ${formatGoDuration(ns)}`)
        cfg.expireMs = Number(ns) / 1e6
        break
      }
      case 'max_age': {
        const t = oneArg(sub)
        const ns = durationNs(t)
        if (ns < 0n) throw pluginError(t, NAME, `max_age can't be negative: ${formatGoDuration(ns)}`)
        cfg.maxAgeMs = Number(ns) / 1e6
        maxAgeTok = t
        break
      }
      case 'max_idle_conns': {
        const t = oneArg(sub)
        const n = atoi(t)
        if (n < 0) throw pluginError(t, NAME, `max_idle_conns can't be negative: ${n}`)
        cfg.maxIdleConns = n
        break
      }
      case 'read_timeout': {
        const t = oneArg(sub)
        const ns = durationNs(t)
        if (ns <= 0n) throw pluginError(t, NAME, `read_timeout must be positive: ${formatGoDuration(ns)}`)
        cfg.readTimeoutMs = Number(ns) / 1e6
        break
      }
      case 'max_fails':
        cfg.maxFails = parseUint32(oneArg(sub))
        break
      case 'max_connect_attempts':
        cfg.maxConnectAttempts = parseUint32(oneArg(sub))
        break
      case 'doh_method': {
        const t = oneArg(sub)
        const m = t.text.toUpperCase()
        if (m !== 'GET' && m !== 'POST') throw pluginError(t, NAME, `unsupported doh_method '${t.text}'; expected GET or POST`)
        cfg.dohMethod = m
        break
      }
      case 'tls':
        cfg.tlsOptions = tlsOptions(sub, ctx.block.root)
        cfg.tlsArgs = sub.args.map((a) => a.text)
        break
      case 'tls_servername':
        sniTok = oneArg(sub)
        cfg.tlsServerName = sniTok.text
        break
      case 'policy': {
        const t = oneArg(sub)
        if (t.text !== 'random' && t.text !== 'round_robin' && t.text !== 'sequential') {
          throw pluginError(t, NAME, `unknown policy '${t.text}'`)
        }
        cfg.policy = t.text
        break
      }
      case 'health_check': {
        expectArgs(sub, NAME, 1, Infinity)
        const t = sub.args[0]!
        const ns = durationNs(t)
        if (ns < 0n) throw pluginError(t, NAME, `health_check can't be negative: ${ns}`)
        cfg.hcIntervalMs = Number(ns) / 1e6
        cfg.hcDomain = '.'
        for (let k = 1; k < sub.args.length; k++) {
          const o = sub.args[k]!
          if (o.text === 'no_rec') cfg.hcRecursionDesired = false
          else if (o.text === 'domain') {
            const dn = sub.args[k + 1]
            if (dn === undefined) throw pluginError(o, NAME, `Wrong argument count or unexpected line ending after '${o.text}'`)
            if (!isValidDomainName(dn.text)) throw pluginError(dn, NAME, `health_check: invalid domain name ${dn.text}`)
            cfg.hcDomain = normalizeZones([dn], [], NAME)[0]!
            k++
          } else throw pluginError(o, NAME, `health_check: unknown option ${o.text}`)
        }
        break
      }
      case 'max_concurrent': {
        const t = oneArg(sub)
        const n = atoi(t)
        if (n < 0) throw pluginError(t, NAME, `max_concurrent can't be negative: ${n}`)
        cfg.maxConcurrent = n
        cfg.maxConcurrentText = t.text
        break
      }
      case 'next':
        cfg.nextRcodes = rcodes(sub, false)
        break
      case 'next_on_nodata':
        expectArgs(sub, NAME, 0, 0)
        cfg.nextOnNodata = true
        break
      case 'failfast_all_unhealthy_upstreams':
        expectArgs(sub, NAME, 0, 0)
        cfg.failfastAllUnhealthy = true
        break
      case 'failover':
        cfg.failoverRcodes = rcodes(sub, true)
        break
      case 'source_address': {
        const t = oneArg(sub)
        const ip = canonicalIP(t.text)
        if (ip === null) throw pluginError(t, NAME, `source_address: invalid IP address '${t.text}'`)
        cfg.sourceAddress = ip
        break
      }
      case 'resolver':
        expectArgs(sub, NAME, 1, Infinity)
        for (const a of sub.args) {
          const hp = splitHostPort(a.text)
          const ip = canonicalIP(hp === null ? a.text.replace(/^\[|\]$/g, '') : hp.host)
          const portOk = hp === null || /^\d{1,5}$/.test(hp.port)
          if (ip === null || !portOk) throw pluginError(a, NAME, `resolver: invalid address '${a.text}'; expected IP[:PORT]`)
          cfg.resolvers.push(a.text)
        }
        break
      default:
        throw unknownProperty(sub.token, NAME, PROPERTIES)
    }
  }
  if (maxAgeTok !== null && cfg.maxAgeMs > 0 && cfg.maxAgeMs < cfg.expireMs) {
    throw pluginError(maxAgeTok, NAME, `max_age (${maxAgeTok.text}) must be greater than or equal to expire`)
  }
  if (cfg.tlsServerName !== null) {
    for (const u of cfg.upstreams) {
      if (u.serverName !== null && u.serverName !== cfg.tlsServerName) {
        throw pluginError(
          sniTok!,
          NAME,
          `tls_servername '${cfg.tlsServerName}' conflicts with the server name '${u.serverName}' of ${u.source}`,
        )
      }
    }
  }
  if (cfg.upstreams.length > MAX_UPSTREAMS) {
    throw pluginError(d.token, NAME, `more than ${MAX_UPSTREAMS} TOs configured: ${cfg.upstreams.length}`)
  }
  return cfg
}

/** Builds the handler's runtime pieces (proxies, pools, policy) from a config. No traffic. */
export function buildForward(cfg: ForwardConfig, next: Handler): Forward {
  const pools = new UdpPools(cfg.sourceAddress)
  const queue = new TimeoutQueue(cfg.readTimeoutMs)
  const proxies = cfg.upstreams.map((u) => {
    let tlsOpts: tls.ConnectionOptions | null = null
    if (u.transport === 'tls') {
      tlsOpts = { ...cfg.tlsOptions }
      const sni = u.serverName ?? cfg.tlsServerName
      if (sni !== null) tlsOpts.servername = sni
    }
    return new Proxy({
      host: u.host,
      port: u.port,
      transport: u.transport === 'tls' ? 'tls' : 'dns',
      pools,
      queue,
      tls: tlsOpts,
      sourceAddress: cfg.sourceAddress,
      expireMs: cfg.expireMs,
      maxAgeMs: cfg.maxAgeMs,
      maxIdleConns: cfg.maxIdleConns,
      hcDomain: cfg.hcDomain,
      hcRecursionDesired: cfg.hcRecursionDesired,
      hcTcp: cfg.forceTcp,
    })
  })
  return new Forward(next, {
    from: cfg.from,
    ignored: cfg.ignored,
    proxies,
    pools,
    policy: makePolicy(cfg.policy, proxies.length),
    maxFails: cfg.maxFails,
    maxConnectAttempts: cfg.maxConnectAttempts ?? 2 * proxies.length,
    forceTcp: cfg.forceTcp,
    preferUdp: cfg.preferUdp,
    maxConcurrent: cfg.maxConcurrent,
    maxConcurrentText: cfg.maxConcurrentText,
    nextRcodes: cfg.nextRcodes,
    nextOnNodata: cfg.nextOnNodata,
    failfastAllUnhealthy: cfg.failfastAllUnhealthy,
    failoverRcodes: cfg.failoverRcodes,
    hcIntervalMs: cfg.hcIntervalMs,
  })
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    const cfgs = ds.map((d) => parseForward(ctx, d))
    if (cfgs.length === 0) return null
    // CoreDNS: a server block with forward accepts classes other than IN.
    ctx.block.allowOtherClasses = true
    if (cfgs.some((c) => c.resolvers.length > 0)) {
      ctx.log.warn('resolver is accepted but unused: upstreams must be IP addresses or resolv.conf files')
    }
    return (next) => {
      // Build last to first: each forward's next is the following forward, the last one's the chain.
      const fs: Forward[] = []
      let n: Handler = next
      for (let i = cfgs.length - 1; i >= 0; i--) {
        const f = buildForward(cfgs[i]!, n)
        fs.unshift(f)
        n = f
      }
      for (const f of fs) {
        ctx.instance.onStartup(() => f.start())
        ctx.instance.onShutdown(() => f.stop())
      }
      const list = ctx.block.providers.get(NAME)
      if (list) list.push(...fs)
      else ctx.block.providers.set(NAME, [...fs])
      return fs[0]!
    }
  },
}
