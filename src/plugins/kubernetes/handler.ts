// The kubernetes plugin's handler: CoreDNS plugin/kubernetes ServeDNS + plugin/backend_lookup.go
// over a KubeView (kubernetes-dns.md §3-§11). Synchronous except when an ExternalName target
// outside the zone must be resolved through the server (Request.subquery).

import { Class, Flag, HEADER_SIZE, Rcode, Type } from '../../dns/constants.js'
import { decodeMessage } from '../../dns/message.js'
import { fqdn, isSubdomain, lowerName, nameEquals } from '../../dns/name.js'
import type { RR } from '../../dns/types.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import { Backend, hostAddr, joinName, type Item } from './backend.js'
import type { KubeConfig } from './config.js'
import { FastPath, NX, SLOW, type RRBlock } from './fast.js'
import { addressFromReverse, matchZone } from './parse.js'
import { plainQuestion, soaRecord, writeAddresses, writeMessage, writeNegative, writeRRs, type SoaParams } from './reply.js'

/**
 * Longest CNAME chain followed inside the zone (kubernetes-dns.md §4.5: "at most 11 CNAME links";
 * a link is added while fewer than this many precede it).
 */
export const MAX_CNAME_LINKS = 11

/** Plain counters, for the prometheus plugin to read later. */
export class KubeCounters {
  requests = 0
  answers = 0
  nodata = 0
  nxdomain = 0
  servfailUnsynced = 0
  fallthrough = 0
  refused = 0
  externalLookups = 0
}

/** The trailing `zone` of a question name as the question spells it (case kept). */
function zoneSpelled(qname: string, zone: string): string {
  return zone === '.' ? '.' : qname.slice(qname.length - zone.length)
}

/** External (through-the-server) lookups of one query: answers known so far, lookups still needed. */
class ExtLookups {
  readonly known = new Map<string, { answer: RR[]; tc: boolean } | null>()
  pending: Array<{ name: string; type: number }> = []
}

interface AddrResult {
  records: RR[]
  tc: boolean
  /** A name error (NXDOMAIN) from the lookup itself. */
  err: boolean
}

const NO_EXTRA: RR[] = []

/** Outcome of one pass over a query: what to write. */
interface Outcome {
  kind: 'next' | 'refused' | 'negative' | 'answer'
  rcode: number
  answer: RR[]
  extra: RR[]
  tc: boolean
}

export class Kubernetes implements Handler {
  readonly name = 'kubernetes'
  readonly next: Handler
  readonly cfg: KubeConfig
  readonly backend: Backend
  readonly counters = new KubeCounters()
  private readonly zonesLongestFirst: readonly string[]
  private readonly zoneLabels: Map<string, number>
  private readonly fast: FastPath

  constructor(next: Handler, cfg: KubeConfig, backend: Backend) {
    this.next = next
    this.cfg = cfg
    this.backend = backend
    this.fast = new FastPath(backend)
    this.zonesLongestFirst = [...cfg.zones].sort((a, b) => b.length - a.length)
    this.zoneLabels = new Map()
    for (const z of cfg.zones) this.zoneLabels.set(z, z === '.' ? 0 : z.split('.').length - 1)
  }

  serve(req: Request, w: ResponseWriter): Served {
    const q = req.q
    const lower = q.qnameLower
    // A / AAAA of a name answered before, with no change since: one map lookup (fast.ts)
    if (q.qtype === Type.A || q.qtype === Type.AAAA) {
      const e = this.fast.known(q.qtype, lower)
      if (e !== null && plainQuestion(q)) {
        const r = (q.qtype === Type.A ? e.a : e.aaaa) as RRBlock
        this.counters.requests++
        return this.fastReply(req, w, r.count, 0, r.bytes, e.zone)
      }
    }
    const zone = matchZone(this.zonesLongestFirst, lower)
    if (zone === null) return this.next.serve(req, w)
    this.counters.requests++
    const qtype = q.qtype

    // The common cases, memoised and answered as bytes (fast.ts); SLOW = the general path below.
    if ((qtype === Type.A || qtype === Type.AAAA || qtype === Type.PTR || qtype === Type.SRV) && plainQuestion(q)) {
      const f = this.fast
      if (qtype === Type.SRV) {
        const zoneOff = HEADER_SIZE + lower.length - zone.length
        const r = f.srv(lower, zone, q.buf, zoneOff, q.questionEnd - 4, q.questionEnd)
        if (r === NX) return this.finish(req, w, outcome('negative', Rcode.NXDomain), zone, zoneSpelled(q.qname, zone))
        // larger replies take the Message path (its truncation)
        if (r !== SLOW && q.questionEnd + r.bytes.length + 11 <= req.maxSize) return this.fastReply(req, w, r.an, r.ar, r.bytes, zone)
      } else {
        const r = qtype === Type.PTR ? f.ptr(lower) : f.address(qtype, lower, zone)
        if (r === NX) return this.finish(req, w, outcome('negative', Rcode.NXDomain), zone, zoneSpelled(q.qname, zone))
        if (r !== SLOW && (qtype !== Type.PTR || q.questionEnd + r.bytes.length + 11 <= req.maxSize)) return this.fastReply(req, w, r.count, 0, r.bytes, zone)
      }
    }
    // the zone as the question spells it (SOA owner, ExternalName chains)
    const zoneQ = zoneSpelled(q.qname, zone)
    if ((qtype === Type.A || qtype === Type.AAAA) && plainQuestion(q)) {
      const items = this.backend.services(qtype, lower, zoneQ)
      if (items === null) return this.finish(req, w, outcome('negative', Rcode.NXDomain), zone, zoneQ)
      if (allAddresses(items)) return this.addressReply(req, w, items, zone, zoneQ)
    }

    const ext = new ExtLookups()
    const o = this.resolve(req, zone, zoneQ, ext)
    if (ext.pending.length === 0) return this.finish(req, w, o, zone, zoneQ)
    return this.resolveAsync(req, w, zone, zoneQ, ext)
  }

  private async resolveAsync(req: Request, w: ResponseWriter, zone: string, zoneQ: string, ext: ExtLookups): Promise<number> {
    // Each round resolves the lookups the previous pass needed, then recomputes the answer (the
    // view may have moved on meanwhile; the answer is always computed from one consistent pass).
    for (let round = 0; round < 4 && ext.pending.length > 0; round++) {
      const pending = ext.pending
      ext.pending = []
      this.counters.externalLookups += pending.length
      const replies = await Promise.all(pending.map((p) => req.subquery(p.name, p.type)))
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i]!
        ext.known.set(extKey(p.name, p.type), parseSubReply(replies[i] ?? null))
      }
      const o = this.resolve(req, zone, zoneQ, ext)
      if (ext.pending.length === 0) return this.finish(req, w, o, zone, zoneQ)
    }
    for (const p of ext.pending) ext.known.set(extKey(p.name, p.type), null)
    ext.pending = []
    return this.finish(req, w, this.resolve(req, zone, zoneQ, ext), zone, zoneQ)
  }

  private soaParams(zone: string, zoneQ: string): SoaParams {
    return { zoneQ, zoneLabels: this.zoneLabels.get(zone) ?? 0, ttl: this.cfg.ttl, serial: this.backend.view.serial }
  }

  private fastReply(req: Request, w: ResponseWriter, an: number, ar: number, bytes: Buffer, zone: string): number {
    if (an === 0) {
      this.counters.nodata++
      writeNegative(req.q, w, Rcode.NoError, this.soaParams(zone, zoneSpelled(req.q.qname, zone)))
      return Rcode.NoError
    }
    this.counters.answers++
    writeRRs(req.q, w, an, ar, bytes)
    return Rcode.NoError
  }

  private addressReply(req: Request, w: ResponseWriter, items: Item[], zone: string, zoneQ: string): number {
    const qtype = req.q.qtype
    const types: number[] = []
    const bytes: Uint8Array[] = []
    const seen: string[] = []
    for (let i = 0; i < items.length; i++) {
      const h = hostAddr(items[i]!.host)!
      if (h.type !== qtype) continue
      const host = items[i]!.host
      if (seen.includes(host)) continue
      seen.push(host)
      types.push(h.type)
      bytes.push(h.bytes)
    }
    if (bytes.length === 0) {
      this.counters.nodata++
      writeNegative(req.q, w, Rcode.NoError, this.soaParams(zone, zoneQ))
      return Rcode.NoError
    }
    this.counters.answers++
    writeAddresses(req.q, w, types, bytes, this.cfg.ttl, false)
    return Rcode.NoError
  }

  private finish(req: Request, w: ResponseWriter, o: Outcome, zone: string, zoneQ: string): Served {
    switch (o.kind) {
      case 'next':
        return this.next.serve(req, w)
      case 'refused':
        this.counters.refused++
        return Rcode.Refused
      case 'negative': {
        if (o.rcode === Rcode.NXDomain) {
          if (this.cfg.fall.through(req.q.qnameLower)) {
            this.counters.fallthrough++
            return this.next.serve(req, w)
          }
          if (!this.backend.view.synced) {
            this.counters.servfailUnsynced++
            writeNegative(req.q, w, Rcode.ServFail, this.soaParams(zone, zoneQ))
            return Rcode.NoError
          }
          this.counters.nxdomain++
        } else this.counters.nodata++
        writeNegative(req.q, w, o.rcode, this.soaParams(zone, zoneQ))
        return Rcode.NoError
      }
      case 'answer':
        this.counters.answers++
        writeMessage(req.q, w, Rcode.NoError, o.answer, [], o.extra, o.tc)
        return Rcode.NoError
    }
  }

  /** One pass over the query (ServeDNS minus the writing). */
  private resolve(req: Request, zone: string, zoneQ: string, ext: ExtLookups): Outcome {
    const q = req.q
    const lower = q.qnameLower
    const qname = q.qname
    const qtype = q.qtype
    const b = this.backend
    const ttl = this.cfg.ttl
    let records: RR[] = []
    let extra: RR[] = NO_EXTRA
    let err = false
    let tc = false
    switch (qtype) {
      case Type.AXFR:
      case Type.IXFR:
        return outcome('refused', Rcode.Refused)
      case Type.A:
      case Type.AAAA: {
        const r = this.address(qtype, lower, qname, zoneQ, [], ext)
        records = r.records
        tc = r.tc
        err = r.err
        break
      }
      case Type.TXT: {
        const items = b.services(Type.TXT, lower, zoneQ)
        if (items === null) err = true
        else for (const it of items) if (it.text !== '') records.push(rr(qname, Type.TXT, 28800, [Buffer.from(it.text, 'latin1')]))
        break
      }
      case Type.CNAME: {
        const items = b.services(Type.CNAME, lower, zoneQ)
        if (items === null) err = true
        else if (items.length > 0 && hostAddr(items[0]!.host) === null && items[0]!.text === '') {
          records.push(rr(qname, Type.CNAME, ttl, fqdn(items[0]!.host)))
        }
        break
      }
      case Type.PTR: {
        const ip = addressFromReverse(lower)
        if (ip === '') {
          if (b.records(lower, zoneQ) === null) err = true
          break
        }
        const targets = b.reverse(ip)
        if (targets === null) {
          err = true
          break
        }
        const dup = new Set<string>()
        for (const t of targets) {
          if (dup.has(t)) continue
          dup.add(t)
          records.push(rr(qname, Type.PTR, ttl, t))
        }
        break
      }
      case Type.MX:
        if (b.services(Type.MX, lower, zoneQ) === null) err = true
        break
      case Type.SRV: {
        const items = b.services(Type.SRV, lower, zoneQ)
        if (items === null) {
          err = true
          break
        }
        extra = []
        this.srv(items, qname, zoneQ, records, extra)
        break
      }
      case Type.SOA:
        if (qname === zoneQ) records.push(soaRecord(this.soaParams(zone, zoneQ)))
        break
      case Type.NS:
        if (lower === zoneQ) {
          extra = []
          const items = b.services(Type.NS, lower, zoneQ)!
          const seen = new Set<string>()
          for (const it of items) {
            const h = hostAddr(it.host)
            if (h === null) continue
            extra.push(rr(it.abs, h.type, ttl, h.text))
            if (seen.has(it.abs)) continue
            seen.add(it.abs)
            records.push(rr(qname, Type.NS, ttl, it.abs))
          }
          break
        }
        if (b.services(Type.A, lower, zoneQ) === null) err = true
        break
      default:
        // Existence probe: an A lookup of the same name decides NXDOMAIN vs NODATA.
        if (b.services(Type.A, lower, zoneQ) === null) err = true
    }
    if (err) return outcome('negative', Rcode.NXDomain)
    if (records.length === 0) return outcome('negative', Rcode.NoError)
    return { kind: 'answer', rcode: Rcode.NoError, answer: records, extra, tc }
  }

  /** plugin.A / plugin.AAAA with CNAME following (kubernetes-dns.md §4.5). */
  private address(qtype: number, lower: string, owner: string, zoneQ: string, prev: RR[], ext: ExtLookups): AddrResult {
    const items = this.backend.services(qtype, lower, zoneQ)
    if (items === null) return { records: [], tc: false, err: true }
    const records: RR[] = []
    let tc = false
    const ttl = this.cfg.ttl
    let dup: Set<string> | null = null
    for (const it of items) {
      const h = hostAddr(it.host)
      if (h === null) {
        if (it.text !== '') continue
        const target = fqdn(it.host)
        // x CNAME x (or a target below the name) is a loop
        if (nameEquals(lower, target) || isSubdomain(target, lower)) continue
        const cname = rr(owner, Type.CNAME, ttl, target)
        if (prev.length >= MAX_CNAME_LINKS) continue
        if (prev.some((p) => p.data === target)) continue
        if (isSubdomain(target, zoneQ)) {
          const next = this.address(qtype, lowerName(target), target, zoneQ, [...prev, cname], ext)
          if (!next.err && next.records.length > 0) {
            records.push(cname)
            for (const r of next.records) records.push(r)
          }
          if (next.tc) tc = true
          continue
        }
        const key = extKey(target, qtype)
        const known = ext.known.get(key)
        if (known === undefined) {
          if (!ext.pending.some((p) => p.name === target && p.type === qtype)) ext.pending.push({ name: target, type: qtype })
          continue
        }
        if (known === null) continue
        if (known.tc) tc = true
        records.push(cname)
        for (const r of known.answer) records.push(r)
        continue
      }
      if (h.type !== qtype) continue
      dup ??= new Set()
      if (dup.has(it.host)) continue
      dup.add(it.host)
      records.push(rr(owner, qtype, ttl, h.text))
    }
    return { records, tc, err: false }
  }

  /** plugin.SRV (kubernetes-dns.md §5). */
  private srv(items: Item[], qname: string, zoneQ: string, records: RR[], extra: RR[]): void {
    const n = items.length
    const ttl = this.cfg.ttl
    // CoreDNS: weight = floor(100 / (100 * n) * 100), at least 1 (float64 arithmetic).
    let weight = Math.floor((100 / (100 * n)) * 100)
    if (weight === 0) weight = 1
    const dup = new Set<string>()
    for (const it of items) {
      if (it.port === -1) continue
      const h = hostAddr(it.host)
      if (h === null) continue
      const target = it.abs !== '' ? it.abs : joinName(it.rel, zoneQ)
      const port = it.port & 0xffff
      const k1 = `${target}\u0000${port}`
      if (!dup.has(k1)) {
        dup.add(k1)
        records.push(rr(qname, Type.SRV, ttl, { priority: 0, weight, port, target }))
      }
      const k2 = `${target}\u0001${it.host}`
      if (!dup.has(k2)) {
        dup.add(k2)
        extra.push(rr(target, h.type, ttl, h.text))
      }
    }
  }
}

function allAddresses(items: Item[]): boolean {
  for (let i = 0; i < items.length; i++) if (hostAddr(items[i]!.host) === null) return false
  return true
}

function outcome(kind: Outcome['kind'], rcode: number): Outcome {
  return { kind, rcode, answer: NO_EXTRA, extra: NO_EXTRA, tc: false }
}

function rr(name: string, type: number, ttl: number, data: RR['data']): RR {
  return { name, type, class: Class.IN, ttl, data }
}

function extKey(name: string, type: number): string {
  return `${type}/${name}`
}

/** The answer section and TC bit of an inner reply; null when there was no usable reply. */
function parseSubReply(buf: Buffer | null): { answer: RR[]; tc: boolean } | null {
  if (buf === null) return null
  try {
    const m = decodeMessage(buf)
    return { answer: m.answer, tc: (m.flags & Flag.TC) !== 0 }
  } catch {
    return null
  }
}
