// TO arguments of `forward` (CoreDNS plugin/pkg/parse HostPortOrFile + Transport, plugins.md §8):
// `[dns://]IP[:port]`, `tls://IP[%servername][:port]`, `https://IP[:port]`, or a resolv.conf
// style file whose `nameserver` lines each give IP:53. Returns errors as text (the caller throws
// at the offending token).

import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { canonicalIP } from '../../lib/ip.js'

export interface UpstreamSpec {
  /** 'dns' | 'tls' | 'https' | other scheme names as written (rejected by the caller). */
  transport: string
  /** Canonical IP literal (no brackets, no zone). */
  host: string
  port: number
  /** Per-upstream TLS server name (`tls://IP%name`), else null. */
  serverName: string | null
  /** The argument this upstream came from. */
  source: string
}

const SCHEMES = ['tls', 'dns', 'quic', 'grpc', 'https', 'unix'] as const
const DEFAULT_PORT: Record<string, number> = { dns: 53, tls: 853, quic: 853, grpc: 443, https: 443 }

/** CoreDNS parse.Transport: the scheme prefix (default dns) and the rest. */
export function splitTransport(s: string): { transport: string; rest: string } {
  for (const t of SCHEMES) {
    if (s.startsWith(t + '://')) return { transport: t, rest: s.slice(t.length + 3) }
  }
  return { transport: 'dns', rest: s }
}

/** Go net.SplitHostPort, or null when `s` is not host:port. */
export function splitHostPort(s: string): { host: string; port: string } | null {
  if (s.startsWith('[')) {
    const end = s.indexOf(']')
    if (end < 0 || s[end + 1] !== ':') return null
    const host = s.slice(1, end)
    const port = s.slice(end + 2)
    if (port.includes(':')) return null
    return { host, port }
  }
  const i = s.lastIndexOf(':')
  if (i < 0) return null
  const host = s.slice(0, i)
  if (host.includes(':')) return null // too many colons
  return { host, port: s.slice(i + 1) }
}

function stripZone(h: string): string {
  const i = h.indexOf('%')
  return i >= 0 ? h.slice(0, i) : h
}

function parsePort(p: string): number | null {
  if (!/^\d{1,5}$/.test(p)) return null
  const n = Number(p)
  return n <= 65535 ? n : null
}

function goQuote(s: string): string {
  return JSON.stringify(s)
}

/** miekg/dns ClientConfigFromFile: the `nameserver` entries of a resolv.conf file. */
export function readResolvConf(path: string): string[] {
  const text = readFileSync(path, 'utf8')
  const out: string[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f[0] === 'nameserver' && f.length > 1) out.push(f[1]!)
  }
  return out
}

/**
 * Parses TO arguments. `root` resolves relative file names. Duplicates (same transport, IP and
 * port) are removed keeping the first. Returns the upstreams or an error text.
 */
export function parseTo(args: readonly string[], root: string, warn: (m: string) => void): UpstreamSpec[] | string {
  const out: UpstreamSpec[] = []
  const seen = new Set<string>()
  const add = (u: UpstreamSpec): void => {
    const key = `${u.transport}|${u.host}|${u.port}`
    if (seen.has(key)) return
    seen.add(key)
    out.push(u)
  }
  const tryFile = (name: string): boolean => {
    const path = isAbsolute(name) ? name : resolve(root, name)
    let servers: string[]
    try {
      servers = readResolvConf(path)
    } catch {
      return false
    }
    for (const s of servers) {
      const ip = canonicalIP(stripZone(s))
      if (ip === null) {
        warn(`Skipping nameserver ${goQuote(s)} in ${path}: not an IP address`)
        continue
      }
      add({ transport: 'dns', host: ip, port: 53, serverName: null, source: name })
    }
    return true
  }
  for (const h of args) {
    const { transport, rest } = splitTransport(h)
    if (rest.length === 0) return `invalid address: ${goQuote(h)}`
    if (transport !== 'dns' && transport !== 'tls' && transport !== 'https') {
      return `'${transport}' is not supported as a destination protocol in forward: ${h}`
    }
    let hostPart = rest
    let serverName: string | null = null
    if (transport === 'tls') {
      // tls://IP%servername[:port] (IPv6 in brackets: tls://[::1]%name:853)
      const m = /^(\[[^\]]+\]|[^%[\]]+)%([^:%[\]]+)(:.*)?$/.exec(rest)
      if (m !== null && canonicalIP(m[1]!.replace(/^\[|\]$/g, '')) !== null) {
        serverName = m[2]!
        hostPart = m[1]! + (m[3] ?? '')
      }
    }
    const hp = splitHostPort(hostPart)
    if (hp === null) {
      const ip = canonicalIP(stripZone(hostPart.replace(/^\[|\]$/g, '')))
      if (ip === null || (hostPart.startsWith('[') && !hostPart.endsWith(']'))) {
        if (transport === 'dns' && tryFile(hostPart)) continue
        return `not an IP address or file: ${goQuote(hostPart)}`
      }
      add({ transport, host: ip, port: DEFAULT_PORT[transport] ?? 53, serverName, source: h })
      continue
    }
    const ip = canonicalIP(stripZone(hp.host))
    if (ip === null) {
      if (transport === 'dns' && tryFile(hostPart)) continue
      return `not an IP address or file: ${goQuote(hostPart)}`
    }
    const port = parsePort(hp.port)
    if (port === null) return `invalid port in address: ${goQuote(h)}`
    add({ transport, host: ip, port, serverName, source: h })
  }
  if (out.length === 0) return 'no nameservers found'
  return out
}
