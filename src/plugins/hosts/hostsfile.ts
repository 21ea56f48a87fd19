// Hosts-file text → name/address maps (CoreDNS plugin/hosts/hostsfile.go, itself Go's net/hosts.go)
// → a lookup table whose answers are precomputed: one Map hit per query on the lower-cased qname.

import { Class, Type } from '../../dns/constants.js'
import { fqdn, isValidDomainName, lowerName, nameToWire } from '../../dns/name.js'
import type { RR } from '../../dns/types.js'
import { formatIP, parseIP, reverseName } from '../../lib/ip.js'

/** Names and addresses as read, before answers are built. Names are lower-case FQDNs. */
export class HostsMap {
  /** name → IPv4 addresses (canonical text, file order, no duplicates). */
  readonly v4: Map<string, string[]>
  /** name → IPv6 addresses. */
  readonly v6: Map<string, string[]>
  /** address → names (wildcards excluded): the source of PTR answers. */
  readonly byAddr: Map<string, string[]>
  /** Lines with two or more fields whose address did not parse. */
  skipped: number
  constructor() {
    this.v4 = new Map()
    this.v6 = new Map()
    this.byAddr = new Map()
    this.skipped = 0
  }
  /** Adds one (address, name) pair; duplicates are ignored. */
  add(addr: string, v6: boolean, name: string): void {
    push(v6 ? this.v6 : this.v4, name, addr)
    if (!isWildcard(name)) push(this.byAddr, addr, name)
  }
  /** Appends every pair of `other` (file entries first, then inline ones). */
  merge(other: HostsMap): void {
    for (const [name, addrs] of other.v4) for (const a of addrs) push(this.v4, name, a)
    for (const [name, addrs] of other.v6) for (const a of addrs) push(this.v6, name, a)
    for (const [addr, names] of other.byAddr) for (const n of names) push(this.byAddr, addr, n)
    this.skipped += other.skipped
  }
}

function push(m: Map<string, string[]>, key: string, value: string): void {
  const list = m.get(key)
  if (list === undefined) m.set(key, [value])
  else if (!list.includes(value)) list.push(value)
}

/** `*.` as the leftmost label. */
export function isWildcard(name: string): boolean {
  return name.length > 2 && name.charCodeAt(0) === 0x2a && name.charCodeAt(1) === 0x2e
}

const WS = /\s+/

/**
 * Parses hosts-file text: `#` starts a comment, fields are separated by white space, the first is
 * an IPv4 or IPv6 address (an IPv6 zone `%eth0` is dropped), the rest are names and aliases.
 * Lines with fewer than two fields or a bad address are skipped, as are invalid names and names
 * outside `inZone` (CoreDNS keeps only names in the plugin's ZONES).
 */
export function parseHosts(text: string, inZone: (nameLower: string) => boolean, into = new HostsMap()): HostsMap {
  let start = 0
  const n = text.length
  while (start <= n) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = n
    let line = text.slice(start, end)
    start = end + 1
    const hash = line.indexOf('#')
    if (hash >= 0) line = line.slice(0, hash)
    line = line.trim()
    if (line === '') continue
    const f = line.split(WS)
    if (f.length < 2) continue
    let addrText = f[0]!
    const pct = addrText.indexOf('%')
    if (pct >= 0) addrText = addrText.slice(0, pct)
    const ip = parseIP(addrText)
    if (ip === null) {
      into.skipped++
      continue
    }
    const addr = formatIP(ip)
    const v6 = ip.length === 16
    for (let i = 1; i < f.length; i++) {
      const name = lowerName(fqdn(f[i]!))
      if (!isValidDomainName(name) || !inZone(name)) continue
      into.add(addr, v6, name)
    }
  }
  return into
}

export const NO_RRS: readonly RR[] = Object.freeze([])
const NO_WIRE = Buffer.alloc(0)

/**
 * One answer RRset in two precomputed forms: RR objects (frozen, shared) and the answer section's
 * wire bytes with every owner a compression pointer to the question name (offset 12), so a reply
 * is header + the client's own question bytes + these bytes.
 */
export class RRSet {
  readonly rrs: readonly RR[]
  readonly wire: Buffer
  constructor(rrs: readonly RR[], wire: Buffer) {
    this.rrs = rrs
    this.wire = wire
  }
}

export const EMPTY_SET = new RRSet(NO_RRS, NO_WIRE)

/** Precomputed answers for one owner name. */
export class HostEntry {
  readonly a: RRSet
  readonly aaaa: RRSet
  readonly ptr: RRSet
  /** The name has A or AAAA data: other types get NODATA instead of "unknown name". */
  readonly known: boolean
  /** Owner inside the plugin's ZONES (reverse names may be outside; only PTR is answered then). */
  readonly inZone: boolean
  constructor(a: RRSet, aaaa: RRSet, ptr: RRSet, inZone: boolean) {
    this.a = a
    this.aaaa = aaaa
    this.ptr = ptr
    this.known = a.rrs.length > 0 || aaaa.rrs.length > 0
    this.inZone = inZone
  }
}

/** What the handler reads per query; replaced as a whole on reload. */
export class HostsTable {
  /** Exact owner names (forward and reverse), lower-case. */
  readonly names: Map<string, HostEntry>
  /** Wildcard entries keyed by the name below `*.`; null when there are none. */
  readonly wild: Map<string, HostEntry> | null
  /** CoreDNS's count: A + AAAA addresses plus PTR names. */
  readonly entries: number
  constructor(names: Map<string, HostEntry>, wild: Map<string, HostEntry> | null, entries: number) {
    this.names = names
    this.wild = wild
    this.entries = entries
  }
}

export const EMPTY_TABLE = new HostsTable(new Map(), null, 0)

function rdata(type: number, d: string): Uint8Array {
  if (type === Type.PTR) return nameToWire(d)
  const ip = parseIP(d)
  if (ip === null) throw new Error(`bad address ${d}`) // cannot happen: parsed before
  return ip
}

function rrs(owner: string, type: number, ttl: number, data: readonly string[] | undefined): RRSet {
  if (data === undefined || data.length === 0) return EMPTY_SET
  const out: RR[] = []
  const parts: Buffer[] = []
  for (const d of data) {
    out.push(Object.freeze({ name: owner, type, class: Class.IN, ttl, data: d }))
    const rd = rdata(type, d)
    const b = Buffer.allocUnsafe(12 + rd.length)
    b[0] = 0xc0 // pointer to the question name at offset 12
    b[1] = 0x0c
    b.writeUInt16BE(type, 2)
    b.writeUInt16BE(Class.IN, 4)
    b.writeUInt32BE(ttl >>> 0, 6)
    b.writeUInt16BE(rd.length, 10)
    b.set(rd, 12)
    parts.push(b)
  }
  return new RRSet(Object.freeze(out), Buffer.concat(parts))
}

/**
 * Builds the lookup table: per name its A and AAAA answers, and (unless `reverse` is off) per
 * address its PTR answers under the reverse name. `inZone` decides whether a reverse owner is
 * inside the plugin's zones.
 */
export function buildTable(m: HostsMap, ttl: number, reverse: boolean, inZone: (nameLower: string) => boolean): HostsTable {
  const names = new Map<string, HostEntry>()
  let wild: Map<string, HostEntry> | null = null
  let entries = 0
  const owners = new Set<string>()
  for (const k of m.v4.keys()) owners.add(k)
  for (const k of m.v6.keys()) owners.add(k)
  for (const name of owners) {
    const v4 = m.v4.get(name)
    const v6 = m.v6.get(name)
    entries += (v4?.length ?? 0) + (v6?.length ?? 0)
    const e = new HostEntry(rrs(name, Type.A, ttl, v4), rrs(name, Type.AAAA, ttl, v6), EMPTY_SET, true)
    if (isWildcard(name)) {
      if (wild === null) wild = new Map()
      wild.set(name.slice(2), e)
    } else names.set(name, e)
  }
  if (reverse) {
    for (const [addr, hostnames] of m.byAddr) {
      const ip = parseIP(addr)
      if (ip === null) continue
      entries += hostnames.length
      const owner = reverseName(ip)
      const ptr = rrs(owner, Type.PTR, ttl, hostnames)
      const fwd = names.get(owner)
      names.set(owner, fwd === undefined ? new HostEntry(EMPTY_SET, EMPTY_SET, ptr, inZone(owner)) : new HostEntry(fwd.a, fwd.aaaa, ptr, true))
    }
  }
  return new HostsTable(names, wild, entries)
}
