// Server-block keys → (scheme, zone, port); zone arguments of plugins (spec corefile.md §6).
// Mirrors CoreDNS core/dnsserver/register.go + plugin/normalize.go SplitHostPort.

import { parseCidr, reverseZones } from '../lib/ip.js'
import { ConfigError, ErrCode, pluginError, type SourcePos } from './errors.js'
import type { Token } from './lexer.js'

export type Scheme = 'dns' | 'tls' | 'https' | 'grpc' | 'quic' | 'https3'

export interface ServerKey {
  scheme: Scheme
  /** Lower-case, fully qualified zone ('.' for the root). */
  zone: string
  port: number
  /** The key token this zone came from (CIDR keys give several ServerKeys with one token). */
  token: Token
}

export const DEFAULT_PORTS: Readonly<Record<Scheme, number>> = {
  dns: 53,
  tls: 853,
  quic: 853,
  grpc: 443,
  https: 443,
  https3: 443,
}

const SCHEMES: readonly Scheme[] = ['dns', 'tls', 'https3', 'https', 'grpc', 'quic']

/**
 * Parses server-block keys `[SCHEME://]ZONE[:PORT]`. CIDR zones expand to their reverse zones
 * (one ServerKey each). Errors are ConfigErrors at the key token:
 * `error inspecting server blocks: zone is not a valid domain name: <z>` etc.
 * `onWarning` receives `Domain "<zone>" does not follow RFC1035 preferred syntax` (once per zone).
 */
export function parseServerKeys(
  keys: Token[],
  defaultDnsPort: number,
  onWarning?: (msg: string) => void,
): ServerKey[] {
  const out: ServerKey[] = []
  const warned = new Set<string>()
  for (const token of keys) {
    const { scheme, rest } = splitScheme(token.text)
    const r = splitHostPort(rest)
    if (typeof r === 'string') throw keyError(token, r)
    const port = r.port ?? (scheme === 'dns' ? defaultDnsPort : DEFAULT_PORTS[scheme])
    for (const zone of r.zones) {
      out.push({ scheme, zone, port, token })
      if (onWarning && !warned.has(zone) && !checkZoneSyntax(zone)) {
        warned.add(zone)
        onWarning(`Domain ${goQuote(zone)} does not follow RFC1035 preferred syntax`)
      }
    }
  }
  return out
}

/**
 * Zone arguments of a plugin (e.g. `kubernetes cluster.local 10.0.0.0/17`): scheme and port are
 * stripped, names lower-cased and fully qualified, CIDRs replaced by their reverse zones. Empty
 * `args` → `fallback` (the block's zones). Invalid zones throw a ConfigError at the argument
 * (CoreDNS silently drops them); with `plugin` the error reads `plugin/<plugin>: ...`.
 */
export function normalizeZones(args: Token[], fallback: string[], plugin?: string): string[] {
  if (args.length === 0) return fallback.map(fqdnLower)
  const out: string[] = []
  for (const a of args) {
    const r = splitHostPort(splitScheme(a.text).rest)
    if (typeof r === 'string') {
      throw plugin === undefined ? keyError(a, r, 'parse') : pluginError(a, plugin, r)
    }
    for (const z of r.zones) out.push(z)
  }
  return out
}

/** True for in-addr.arpa. / ip6.arpa. and names below them (case-insensitive). */
export function isReverseZone(zone: string): boolean {
  const z = fqdnLower(zone)
  return (
    z === 'in-addr.arpa.' ||
    z === 'ip6.arpa.' ||
    z.endsWith('.in-addr.arpa.') ||
    z.endsWith('.ip6.arpa.')
  )
}

/** CoreDNS checkZoneSyntax: RFC 1035 preferred syntax; root and reverse zones always pass. */
export function checkZoneSyntax(zone: string): boolean {
  if (zone === '.' || isReverseZone(zone)) return true
  return /^(([A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?)\.)+$/.test(zone)
}

/**
 * miekg/dns IsDomainName: non-empty, no empty labels (a leading dot only for the root), labels
 * ≤ 63 octets, ≤ 255 octets in wire form; `\X` and `\DDD` escapes count as one octet.
 */
export function isDomainName(s: string): boolean {
  if (s.length === 0) return false
  const b = Buffer.from(isFqdn(s) ? s : s + '.', 'utf8')
  const maxWire = 255 // octets including the root label
  let off = 0
  let begin = 0
  let wasDot = false
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!
    if (c === 0x5c /* \ */) {
      if (off + 1 > maxWire) return false
      if (isDigit(b[i + 1]) && isDigit(b[i + 2]) && isDigit(b[i + 3])) {
        i += 3
        begin += 3
      } else {
        i++
        begin++
      }
      wasDot = false
    } else if (c === 0x2e /* . */) {
      if (i === 0 && b.length > 1) return false
      if (wasDot) return false
      wasDot = true
      const labelLen = i - begin
      if (labelLen >= 64) return false
      off += 1 + labelLen
      if (off + 1 > maxWire) return false
      begin = i + 1
    } else {
      wasDot = false
    }
  }
  return true
}

// ---------------------------------------------------------------------------------------------

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39
}

/** A trailing dot that is not escaped (an even number of backslashes before it). */
function isFqdn(s: string): boolean {
  if (!s.endsWith('.')) return false
  let n = 0
  for (let i = s.length - 2; i >= 0 && s[i] === '\\'; i--) n++
  return n % 2 === 0
}

function fqdnLower(s: string): string {
  const l = s.toLowerCase()
  return isFqdn(l) ? l : l + '.'
}

function splitScheme(s: string): { scheme: Scheme; rest: string } {
  for (const sc of SCHEMES) {
    const prefix = sc + '://'
    if (s.startsWith(prefix)) return { scheme: sc, rest: s.slice(prefix.length) }
  }
  return { scheme: 'dns', rest: s }
}

/** plugin.SplitHostPort; returns the error text on failure. */
function splitHostPort(s: string): { zones: string[]; port: number | null } | string {
  let host = s
  let port: number | null = null
  const colon = s.lastIndexOf(':')
  if (colon !== -1 && colon === s.length - 1) return `expecting data after last colon: ${goQuote(s)}`
  if (colon !== -1) {
    const p = s.slice(colon + 1)
    if (/^[+-]?\d+$/.test(p)) {
      const n = Number(p)
      if (!Number.isSafeInteger(n) || n < 0 || n > 65535) {
        return `invalid port ${goQuote(p)}: expecting a number between 0 and 65535`
      }
      port = n
      host = s.slice(0, colon)
    }
  }
  const len = Buffer.byteLength(host, 'utf8')
  if (len > 255) return `specified zone is too long: ${len} > 255`
  if (!isDomainName(host)) return `zone is not a valid domain name: ${host}`
  if (host.includes('/')) {
    const c = parseCidr(host)
    if (c !== null) {
      if (host[0] === ':' || (host[0] === '0' && host.includes(':'))) return `invalid CIDR ${host}`
      return { zones: reverseZones(c), port }
    }
  }
  return { zones: [fqdnLower(host)], port }
}

function keyError(at: SourcePos, detail: string, kind: 'inspect' | 'parse' = 'inspect'): ConfigError {
  return new ConfigError(detail, at, ErrCode.ServerKey, kind)
}

/** Go's %q for the printable-ASCII case (JSON escaping otherwise). */
function goQuote(s: string): string {
  return JSON.stringify(s)
}
