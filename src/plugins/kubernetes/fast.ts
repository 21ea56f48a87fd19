// Memoised answers for the frequent query shapes of the kubernetes plugin: A/AAAA of service and
// endpoint names, SRV of service names, PTR of service and endpoint addresses. Each answer is the
// same as the general path in handler.ts computes (kubernetes-dns.md §4-§7), but precomputed as
// RR bytes whose owner is a pointer to the question, and memoised on the identity of the records
// and index arrays the KubeView returns: records are immutable and replaced on change, and the
// view's multi-index arrays are copy-on-write (src/kube/store.ts), so a changed service, slice set
// or address index gives a new object and the memo is rebuilt on next use. Everything that is not
// one of these shapes (escapes in the name, ExternalName services, `_port._proto` A queries, the
// `namespaces` option for PTR, ...) returns SLOW and takes the general path.

import { Class, Type } from '../../dns/constants.js'
import { packName } from '../../dns/name.js'
import type { KubeView, ServiceRec, SliceRec } from '../../kube/model.js'
import { type Backend, endpointHostname, hostAddr } from './backend.js'
import { addressFromReverse, isReverseName, parseRequest, trimZone } from './parse.js'

/** Answer RRs in wire form (owner = 0xC00C, the question name), `count` of them. */
export interface RRBlock {
  readonly count: number
  readonly bytes: Buffer
}

/** A reply body: answer + additional RRs, still to be put behind header and question (shared: read only). */
export interface Body {
  readonly an: number
  readonly ar: number
  readonly bytes: Buffer
}

/** "Use the general path." */
export const SLOW = 0
/** Name error. */
export const NX = 1
export type Fast<T> = T | typeof SLOW | typeof NX

const EMPTY_BLOCK: RRBlock = { count: 0, bytes: Buffer.alloc(0) }
const CACHE_MAX = 65536
/** Bodies larger than this go the general path (which compresses names and truncates). */
const MAX_BODY = 1200

interface NameEntry {
  /** The zone of this plugin the name is in (the same for every query of the name). */
  readonly zone: string
  readonly ns: string
  readonly svc: string
  readonly ep: string
  readonly port: string
  readonly proto: string
  /** The last service lookup of this name and the (view, version) it was made against. */
  view: KubeView | null
  ver: number
  d: SvcData | typeof SLOW | typeof NX
  /**
   * A / AAAA answers for that same (view, version); undefined = not computed since (service()
   * clears them when it looks again). The hot path reads this entry and the block only.
   */
  a: Fast<RRBlock> | undefined
  aaaa: Fast<RRBlock> | undefined
}

/** SRV answer of one name, zone-independent: targets are relative labels. */
interface SrvPieces {
  /** The body last built from these pieces, for `lastBase` and the zone spelled `lastZone`. */
  last: Body | null
  lastBase: number
  lastZone: Buffer | null
  readonly weight: number
  /** Per SRV record: target labels (wire, without the zone) and port. */
  readonly recs: ReadonlyArray<{ rel: Buffer; port: number }>
  /** Per additional address record: index into recs (its target) and the RR type and rdata. */
  readonly extra: ReadonlyArray<{ rec: number; type: number; rdata: Uint8Array }>
}

interface SvcData {
  readonly svc: ServiceRec
  readonly slices: readonly SliceRec[]
  readonly ready: number
  /** A / AAAA of the service name; null = name error. */
  a: [RRBlock, RRBlock] | null | undefined
  /** endpoint label (lower case) → A / AAAA. */
  ep: Map<string, [RRBlock, RRBlock]> | undefined
  /** lower-case query name → SRV pieces (null = name error). */
  srv: Map<string, SrvPieces | null> | undefined
}

interface PtrEntry {
  readonly ip: string
  svcs: readonly ServiceRec[] | null
  slices: readonly SliceRec[] | null
  block: RRBlock | null
  /** The (view, version) `block` is known current for. */
  view: KubeView | null
  ver: number
}

function eqFold(a: string, b: string): boolean {
  return a.length === b.length && (a === b || a.toLowerCase() === b.toLowerCase())
}

function match(want: string, have: string): boolean {
  return want === '' || eqFold(want, have)
}

function rrHead(out: Buffer, o: number, type: number, ttl: number, rdlen: number): number {
  out[o] = 0xc0
  out[o + 1] = 0x0c
  out.writeUInt16BE(type, o + 2)
  out.writeUInt16BE(Class.IN, o + 4)
  out.writeUInt32BE(ttl >>> 0, o + 6)
  out.writeUInt16BE(rdlen, o + 10)
  return o + 12
}

/** A and AAAA blocks of address items in order, deduplicated by host text (handler.addressReply). */
function addressBlocks(hosts: readonly string[], ttl: number): [RRBlock, RRBlock] {
  const seen = new Set<string>()
  const a: Uint8Array[] = []
  const aaaa: Uint8Array[] = []
  for (const h of hosts) {
    if (seen.has(h)) continue
    seen.add(h)
    const x = hostAddr(h)
    if (x === null) continue
    ;(x.type === Type.A ? a : aaaa).push(x.bytes)
  }
  return [block(a, Type.A, ttl), block(aaaa, Type.AAAA, ttl)]
}

function block(addrs: Uint8Array[], type: number, ttl: number): RRBlock {
  if (addrs.length === 0) return EMPTY_BLOCK
  let len = 0
  for (const b of addrs) len += 12 + b.length
  const out = Buffer.alloc(len)
  let o = 0
  for (const b of addrs) {
    o = rrHead(out, o, type, ttl, b.length)
    out.set(b, o)
    o += b.length
  }
  return { count: addrs.length, bytes: out }
}

/** Wire form of a relative name (labels only, no terminator); null if it cannot be encoded. */
function relWire(rel: string): Buffer | null {
  const tmp = Buffer.allocUnsafe(rel.length + 330)
  let n: number
  try {
    n = packName(rel + '.', tmp, 0, null, false)
  } catch {
    return null
  }
  return Buffer.from(tmp.subarray(0, n - 1))
}

export class FastPath {
  private readonly b: Backend
  private readonly ttl: number
  private readonly podNames: boolean
  private readonly names = new Map<string, NameEntry | null>()
  private readonly ptrs = new Map<string, PtrEntry | null>()
  private readonly svcData = new WeakMap<ServiceRec, SvcData>()

  constructor(b: Backend) {
    this.b = b
    this.ttl = b.cfg.ttl
    this.podNames = b.cfg.endpointPodNames
  }

  /** Parsed `[ep.]svc.ns.svc` / `_port._proto.svc.ns.svc` name, or null (general path). */
  private name(lower: string, zone: string): NameEntry | null {
    let e = this.names.get(lower)
    if (e !== undefined) return e
    e = null
    if (!lower.includes('\\') && !lower.startsWith('ns.dns.') && !isReverseName(lower)) {
      const r = parseRequest(trimZone(lower, zone))
      if (r !== null && r.podOrSvc === 'svc' && r.service !== '') {
        e = {
          zone,
          ns: r.namespace,
          svc: r.service,
          ep: r.endpoint,
          port: r.port,
          proto: r.protocol,
          view: null,
          ver: 0,
          d: SLOW,
          a: undefined,
          aaaa: undefined,
        }
      }
    }
    if (this.names.size >= CACHE_MAX) this.names.clear()
    this.names.set(lower, e)
    return e
  }

  /**
   * The service of a name with its memo, NX, or SLOW. Memoised on the name for as long as the
   * view's version stays the same (no event applied meanwhile): then no index is read at all.
   */
  private service(e: NameEntry): SvcData | typeof SLOW | typeof NX {
    const view = this.b.view
    const ver = view.version
    if (e.view === view && e.ver === ver) return e.d
    const d = this.lookupService(e)
    e.view = view
    e.ver = ver
    e.d = d
    e.a = undefined
    e.aaaa = undefined
    return d
  }

  private lookupService(e: NameEntry): SvcData | typeof SLOW | typeof NX {
    const b = this.b
    if (!b.namespaceExposed(e.ns)) return NX
    const svc = b.view.service(e.ns, e.svc)
    if (svc === undefined) return NX
    if (svc.type === 'ExternalName') return SLOW
    const slices = b.cfg.noEndpoints ? EMPTY_SLICES : b.view.slicesOf(svc.namespace, svc.name)
    let d = this.svcData.get(svc)
    if (d === undefined || d.slices !== slices) {
      let ready = 0
      for (const sl of slices) for (const ep of sl.endpoints) if (ep.ready) ready += ep.addresses.length
      d = { svc, slices, ready, a: undefined, ep: undefined, srv: undefined }
      this.svcData.set(svc, d)
    }
    if (b.cfg.ignoreEmptyService && !svc.headless && d.ready === 0) return NX
    return d
  }

  /**
   * The hottest case, before any other work (zone matching included): A / AAAA of a name answered
   * since the view last changed. The name's block and zone, or null (take the regular path).
   */
  known(qtype: number, lower: string): NameEntry | null {
    const e = this.names.get(lower)
    if (e === undefined || e === null) return null
    const view = this.b.view
    if (e.view !== view || e.ver !== view.version) return null
    const r = qtype === Type.A ? e.a : e.aaaa
    return r === undefined || typeof r === 'number' ? null : e
  }

  /** A / AAAA of a service or endpoint name. */
  address(qtype: number, lower: string, zone: string): Fast<RRBlock> {
    const e = this.name(lower, zone)
    if (e === null || e.port !== '' || e.proto !== '') return SLOW
    const view = this.b.view
    if (e.view !== view || e.ver !== view.version || e.a === undefined || e.aaaa === undefined) {
      // addressPair goes through service(), which renews (view, version) and clears a / aaaa
      const pair = this.addressPair(e)
      if (typeof pair === 'number') {
        e.a = pair
        e.aaaa = pair
      } else {
        e.a = pair[0]
        e.aaaa = pair[1]
      }
    }
    return (qtype === Type.A ? e.a : e.aaaa) as Fast<RRBlock>
  }

  private addressPair(e: NameEntry): [RRBlock, RRBlock] | typeof SLOW | typeof NX {
    const d = this.service(e)
    if (typeof d === 'number') return d
    const svc = d.svc
    let pair: [RRBlock, RRBlock] | null | undefined
    if (e.ep !== '') {
      d.ep ??= this.endpointMap(svc, d.slices)
      pair = d.ep.get(e.ep)
      if (pair === undefined) return NX
    } else {
      if (d.a === undefined) d.a = this.serviceAddresses(svc, d.slices)
      pair = d.a
      if (pair === null) return NX
    }
    return pair
  }

  private serviceAddresses(svc: ServiceRec, slices: readonly SliceRec[]): [RRBlock, RRBlock] | null {
    const hosts: string[] = []
    if (svc.headless) {
      for (const sl of slices) {
        if (sl.service !== svc.name || sl.namespace !== svc.namespace || sl.ports.length === 0) continue
        for (const ep of sl.endpoints) if (ep.ready) for (const a of ep.addresses) hosts.push(a)
      }
    } else if (svc.ports.length > 0) {
      for (const ip of svc.clusterIPs) hosts.push(ip)
    } else return null
    if (hosts.length === 0 && svc.headless) return null
    return addressBlocks(hosts, this.ttl)
  }

  private endpointMap(svc: ServiceRec, slices: readonly SliceRec[]): Map<string, [RRBlock, RRBlock]> {
    const byLabel = new Map<string, string[]>()
    for (const sl of slices) {
      if (sl.service !== svc.name || sl.namespace !== svc.namespace || sl.ports.length === 0) continue
      for (const ep of sl.endpoints) {
        if (!ep.ready) continue
        for (const a of ep.addresses) {
          const label = endpointHostname(ep, a, this.podNames).toLowerCase()
          let l = byLabel.get(label)
          if (l === undefined) byLabel.set(label, (l = []))
          l.push(a)
        }
      }
    }
    const out = new Map<string, [RRBlock, RRBlock]>()
    for (const [label, hosts] of byLabel) out.set(label, addressBlocks(hosts, this.ttl))
    return out
  }

  /**
   * SRV of a service, endpoint or `_port._proto` name. `msg[zoneStart, zoneEnd)` = the zone's
   * labels as in the question (targets end with them, so they keep the query's spelling); `base` =
   * where the body will start in the message (the additional records' owners point at the targets).
   */
  srv(lower: string, zone: string, msg: Buffer, zoneStart: number, zoneEnd: number, base: number): Fast<Body> {
    if (zone === '.') return SLOW
    const e = this.name(lower, zone)
    if (e === null) return SLOW
    const d = this.service(e)
    if (typeof d === 'number') return d
    d.srv ??= new Map()
    let p = d.srv.get(lower)
    if (p === undefined) {
      p = this.srvPieces(d.svc, d.slices, e)
      if (p === undefined) return SLOW
      if (d.srv.size >= 64) d.srv.clear() // bounded: distinct `_port._proto` spellings per service
      d.srv.set(lower, p)
    }
    if (p === null) return NX
    // the body is the same for the same question position and zone spelling (the usual case)
    const lz = p.lastZone
    if (p.last !== null && p.lastBase === base && lz !== null && lz.length === zoneEnd - zoneStart) {
      let same = true
      for (let i = 0; i < lz.length; i++) {
        if (lz[i] !== msg[zoneStart + i]) {
          same = false
          break
        }
      }
      if (same) return p.last
    }
    const zoneWire = Buffer.from(msg.subarray(zoneStart, zoneEnd))
    const body = this.srvBody(p, zoneWire, base)
    if (typeof body !== 'number') {
      p.last = body
      p.lastBase = base
      p.lastZone = zoneWire
    }
    return body
  }

  private srvPieces(svc: ServiceRec, slices: readonly SliceRec[], e: NameEntry): SrvPieces | null | undefined {
    // the items of backend.findServices, in order
    const hosts: string[] = []
    const rels: string[] = []
    const ports: number[] = []
    if (svc.headless || e.ep !== '') {
      const base = `${svc.name}.${svc.namespace}.svc`
      for (const sl of slices) {
        if (sl.service !== svc.name || sl.namespace !== svc.namespace) continue
        for (const ep of sl.endpoints) {
          if (!ep.ready) continue
          for (const a of ep.addresses) {
            const epName = endpointHostname(ep, a, this.podNames)
            if (e.ep !== '' && !eqFold(e.ep, epName)) continue
            for (const pr of sl.ports) {
              if (!match(e.port, pr.name) || !match(e.proto, pr.protocol)) continue
              hosts.push(a)
              rels.push(`${epName}.${base}`)
              ports.push(pr.port)
            }
          }
        }
      }
    } else {
      const base = `${svc.name}.${svc.namespace}.svc`
      for (const pr of svc.ports) {
        if (!match(e.port, pr.name) || !match(e.proto, pr.protocol)) continue
        for (const ip of svc.clusterIPs) {
          hosts.push(ip)
          rels.push(base)
          ports.push(pr.port)
        }
      }
    }
    const n = hosts.length
    if (n === 0) return null
    // handler.srv
    let weight = Math.floor((100 / (100 * n)) * 100)
    if (weight === 0) weight = 1
    const recs: Array<{ rel: Buffer; port: number }> = []
    const extra: Array<{ rec: number; type: number; rdata: Uint8Array }> = []
    const recOf = new Map<string, number>()
    const dup = new Set<string>()
    for (let i = 0; i < n; i++) {
      if (ports[i] === -1) continue
      const h = hostAddr(hosts[i]!)
      if (h === null) continue
      const rel = rels[i]!
      const port = ports[i]! & 0xffff
      const k1 = `${rel}\u0000${port}`
      let ri = recOf.get(k1)
      if (ri === undefined) {
        const w = relWire(rel)
        if (w === null) return undefined
        ri = recs.length
        recs.push({ rel: w, port })
        recOf.set(k1, ri)
      }
      const k2 = `${rel}\u0001${hosts[i]}`
      if (!dup.has(k2)) {
        dup.add(k2)
        // the owner of the address record: any SRV record with this target
        extra.push({ rec: ri, type: h.type, rdata: h.bytes })
      }
    }
    return { last: null, lastBase: 0, lastZone: null, weight, recs, extra }
  }

  /** The SRV body placed right after the question (which ends at `base`). */
  private srvBody(p: SrvPieces, zoneWire: Buffer, base: number): Fast<Body> {
    const zl = zoneWire.length
    let len = 0
    for (const r of p.recs) len += 12 + 6 + r.rel.length + zl
    for (const x of p.extra) len += 12 + x.rdata.length
    if (len > MAX_BODY || base + len > 0x3fff) return SLOW
    const out = Buffer.allocUnsafe(len)
    const ttl = this.ttl
    const starts: number[] = []
    let o = 0
    for (const r of p.recs) {
      o = rrHead(out, o, Type.SRV, ttl, 6 + r.rel.length + zl)
      out.writeUInt16BE(0, o)
      out.writeUInt16BE(p.weight, o + 2)
      out.writeUInt16BE(r.port, o + 4)
      o += 6
      starts.push(base + o)
      r.rel.copy(out, o)
      o += r.rel.length
      // uncompressed, as the Message encoder writes SRV targets; zone as spelled in the query
      zoneWire.copy(out, o)
      o += zl
    }
    for (const x of p.extra) {
      // owner: the target of its SRV record
      const t = starts[x.rec]!
      o = rrHead(out, o, x.type, ttl, x.rdata.length)
      out[o - 12] = 0xc0 | (t >>> 8)
      out[o - 11] = t & 0xff
      out.set(x.rdata, o)
      o += x.rdata.length
    }
    return { an: p.recs.length, ar: p.extra.length, bytes: out }
  }

  /** PTR of a reverse name: the answer block, NX, or SLOW. */
  ptr(lower: string): Fast<RRBlock> {
    const b = this.b
    if (b.cfg.namespaces !== null) return SLOW
    let e = this.ptrs.get(lower)
    if (e === undefined) {
      const ip = addressFromReverse(lower)
      e = ip === '' ? null : { ip, svcs: null, slices: null, block: null, view: null, ver: 0 }
      if (this.ptrs.size >= CACHE_MAX) this.ptrs.clear()
      this.ptrs.set(lower, e)
    }
    if (e === null) return SLOW
    const view = b.view
    const ver = view.version
    if (e.view === view && e.ver === ver) return e.block === null ? NX : e.block
    const svcs = b.view.servicesByIP(e.ip)
    const slices = b.cfg.noEndpoints || svcs.length > 0 ? null : b.view.slicesByIP(e.ip)
    if (e.svcs !== svcs || e.slices !== slices) {
      const targets = b.reverse(e.ip)
      let blk: RRBlock | null = null
      if (targets !== null) {
        const uniq = [...new Set(targets)]
        const wires: Buffer[] = []
        let len = 0
        for (const t of uniq) {
          const w = relWire(t.endsWith('.') ? t.slice(0, -1) : t)
          if (w === null) return SLOW
          wires.push(w)
          len += 12 + w.length + 1
        }
        if (len > MAX_BODY) return SLOW
        const out = Buffer.alloc(len)
        let o = 0
        for (const w of wires) {
          o = rrHead(out, o, Type.PTR, this.ttl, w.length + 1)
          w.copy(out, o)
          o += w.length
          out[o++] = 0
        }
        blk = { count: wires.length, bytes: out }
      }
      e.svcs = svcs
      e.slices = slices
      e.block = blk
    }
    e.view = view
    e.ver = ver
    return e.block === null ? NX : e.block
  }
}

const EMPTY_SLICES: readonly SliceRec[] = []
