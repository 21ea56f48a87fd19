// The cache handler (CoreDNS plugin/cache): answers from stored wire bytes, or lets the query go
// on with a wrapping writer that stores the reply. See README.md for behaviour and deviations.
//
// Hot path (a hit): one Map.get on the lower-cased qname the query view already holds (no key
// string is built), a walk of a one- or two-slot chain comparing (qtype|DO|CD, qclass), one
// Buffer.allocUnsafe, two copies (the client's own question bytes, then the stored records), TTLs
// and header patched in place, writeWire. No decode, no encode, no closure.
// A miss stores one string per entry (Entry.data: message + TTL offsets), found with one more
// Map.get (SlotTable.slot creates and links a new slot in the same probe).

import { Buffer } from 'node:buffer'
import { Flag, HEADER_SIZE, Opcode, Rcode, Type } from '../../dns/constants.js'
import { decodeMessage, encodeMessage, MAX_MSG_SIZE } from '../../dns/message.js'
import type { QueryView } from '../../dns/query.js'
import type { Message, RR } from '../../dns/types.js'
import type { Clock } from '../../lib/coarse-clock.js'
import { ZoneSet } from '../../lib/zone-set.js'
import type { Handler, Proto, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import { A, analyze, nodata, RespType, ttlOffs } from './classify.js'
import type { CacheConfig } from './setup.js'
import { DENIAL, Entry, SlotTable, Store, SUCCESS, type Slot } from './store.js'
import { writeClientOpt } from '../../dns/wire.js'

const OPCODE_MASK = 0x7800
/** Where store() assembles an entry before it becomes a string (grows on demand). */
let scratch = Buffer.allocUnsafeSlow(4096)
const OPT_LEN = 11

/** What the wrapping writer does with a reply. */
const MISS = 0 // store, forward to the client
const REFRESH = 1 // store only (prefetch, serve_stale immediate)
const VERIFY = 2 // serve_stale verify: store and forward only a reply that refreshes the entry
type Mode = typeof MISS | typeof REFRESH | typeof VERIFY

/** absorb() results. */
const PASS = 0 // not analysable (or a transfer/update): forward unchanged
const FORWARD = 1 // forward the rewritten copy (TTLs, AD)
const REJECT = 2 // do not forward
type Absorbed = typeof PASS | typeof FORWARD | typeof REJECT

/** The key's number part: qtype | DO << 16 | CD << 17 (the qname and qclass are the rest). */
export function keyTq(q: QueryView): number {
  return q.qtype | (q.do ? 0x10000 : 0) | ((q.flags & Flag.CD) !== 0 ? 0x20000 : 0)
}

function clamp(ttl: number, min: number, max: number): number {
  if (ttl < min) ttl = min
  if (ttl > max) ttl = max
  return ttl
}

function writeTtls(buf: Buffer, offs: ArrayLike<number>, n: number, ttl: number): void {
  const b0 = (ttl >>> 24) & 0xff
  const b1 = (ttl >>> 16) & 0xff
  const b2 = (ttl >>> 8) & 0xff
  const b3 = ttl & 0xff
  for (let i = 0; i < n; i++) {
    const o = offs[i]!
    buf[o] = b0
    buf[o + 1] = b1
    buf[o + 2] = b2
    buf[o + 3] = b3
  }
}

function withTtl(rrs: readonly RR[], ttl: number): RR[] {
  const out: RR[] = []
  for (let i = 0; i < rrs.length; i++) {
    const r = rrs[i]!
    out.push({ name: r.name, type: r.type, class: r.class, ttl, data: r.data })
  }
  return out
}

export class Cache implements Handler {
  readonly name = 'cache'
  readonly next: Handler
  readonly cfg: CacheConfig
  readonly clock: Clock
  readonly zones: ZoneSet
  /** Comma-joined zones: the `zones` metric label. */
  readonly zonesLabel: string
  readonly table: SlotTable
  readonly pcache: Store
  readonly ncache: Store
  private readonly pexcept: ZoneSet | null
  private readonly nexcept: ZoneSet | null

  // Counters, named after CoreDNS's metrics (README "Metrics").
  /** coredns_cache_requests_total */
  requests: number
  /** coredns_cache_hits_total{type="success"} / {type="denial"} */
  hitsSuccess: number
  hitsDenial: number
  /** coredns_cache_misses_total */
  misses: number
  /** coredns_cache_prefetch_total */
  prefetches: number
  /** coredns_cache_drops_total */
  drops: number
  /** coredns_cache_served_stale_total */
  servedStale: number

  /** Set by absorb(): the cache duration of the last reply, the entry it stored (or null). */
  private lastTtl: number
  private lastStored: Entry | null
  /** Set by absorb(): the last reply refreshes an entry (matches, complete, NOERROR/NXDOMAIN). */
  private lastRefreshed: boolean

  constructor(next: Handler, cfg: CacheConfig, clock: Clock, random: () => number = Math.random) {
    this.next = next
    this.cfg = cfg
    this.clock = clock
    this.zones = new ZoneSet(cfg.zones)
    this.zonesLabel = cfg.zones.join(',')
    this.table = new SlotTable()
    this.pcache = new Store(SUCCESS, cfg.pcap, random)
    this.ncache = new Store(DENIAL, cfg.ncap, random)
    this.pexcept = cfg.pexcept === null ? null : new ZoneSet(cfg.pexcept)
    this.nexcept = cfg.nexcept === null ? null : new ZoneSet(cfg.nexcept)
    this.requests = 0
    this.hitsSuccess = 0
    this.hitsDenial = 0
    this.misses = 0
    this.prefetches = 0
    this.drops = 0
    this.servedStale = 0
    this.lastTtl = 0
    this.lastStored = null
    this.lastRefreshed = false
  }

  /** coredns_cache_entries{type="success"} */
  get entriesSuccess(): number {
    return this.pcache.size
  }
  /** coredns_cache_entries{type="denial"} */
  get entriesDenial(): number {
    return this.ncache.size
  }
  /** coredns_cache_evictions_total{type="success"} */
  get evictionsSuccess(): number {
    return this.pcache.evictions
  }
  /** coredns_cache_evictions_total{type="denial"} */
  get evictionsDenial(): number {
    return this.ncache.evictions
  }

  serve(req: Request, w: ResponseWriter): Served {
    const q = req.q
    if (q.opcode !== Opcode.Query || q.qtype === Type.AXFR || q.qtype === Type.IXFR) return this.next.serve(req, w)
    if (!this.zones.all && !this.zones.contains(q.qnameLower)) return this.next.serve(req, w)
    this.requests++
    const slot = this.table.get(q.qnameLower, keyTq(q), q.qclass)
    if (slot !== null) {
      const now = this.clock.ms
      const e = this.pick(slot, now)
      if (e !== null) {
        if (e === slot.pos) this.hitsSuccess++
        else this.hitsDenial++
        const rem = e.remaining(now)
        if (rem > 0) {
          this.reply(e, q, w, this.cfg.keepttl ? e.ttl : rem)
          if (this.cfg.prefetch > 0 && this.shouldPrefetch(e, now, rem)) this.refresh(e, req)
          return Rcode.NoError
        }
        return this.serveStale(e, req, w, now)
      }
    }
    this.misses++
    return this.next.serve(req, new CacheWriter(this, req.q, w, MISS))
  }

  /**
   * The entry to answer with, or null: denial first (CoreDNS order), but a SERVFAIL never hides
   * a usable positive entry, and prefer_positive prefers an answering positive entry.
   */
  private pick(slot: Slot, now: number): Entry | null {
    const neg = slot.neg
    const pos = slot.pos
    const posOk = pos !== null && this.usable(pos, now)
    if (neg !== null && this.usable(neg, now)) {
      if (posOk && ((this.cfg.preferPositive && pos.answering) || (neg.servfail && (this.cfg.staleSec > 0 || pos.remaining(now) > 0)))) {
        return pos
      }
      return neg
    }
    return posOk ? pos : null
  }

  private usable(e: Entry, now: number): boolean {
    const rem = e.remaining(now)
    return rem > 0 || (this.cfg.staleSec > 0 && -rem < this.cfg.staleSec)
  }

  /** CoreDNS shouldPrefetch: frequency update, then hits ≥ AMOUNT and TTL ≤ ceil(P% × TTL). */
  private shouldPrefetch(e: Entry, now: number, rem: number): boolean {
    if (e.last < now - this.cfg.prefetchWindowMs) e.hits = 1
    else e.hits++
    e.last = now
    const threshold = Math.ceil((this.cfg.percentage / 100) * e.ttl)
    return e.hits >= this.cfg.prefetch && rem <= threshold
  }

  private serveStale(e: Entry, req: Request, w: ResponseWriter, now: number): Served {
    const cfg = this.cfg
    const ttl = cfg.staleTtl > 0 ? cfg.staleTtl : cfg.keepttl ? e.ttl : 0
    if (cfg.verifyStale) {
      if (now >= e.retryAfter && !e.refreshing) return this.verify(e, req, w, ttl)
    } else {
      this.servedStale++
      this.reply(e, req.q, w, ttl)
      this.refresh(e, req)
      return Rcode.NoError
    }
    this.servedStale++
    this.reply(e, req.q, w, ttl)
    return Rcode.NoError
  }

  /** serve_stale verify: ask the chain first, serve the stale entry if that does not refresh it. */
  private verify(e: Entry, req: Request, w: ResponseWriter, ttl: number): Served {
    e.refreshing = true
    const vw = new CacheWriter(this, req.q, w, VERIFY)
    let r: Served
    try {
      r = this.next.serve(req, vw)
    } catch {
      r = Rcode.ServFail
    }
    if (typeof r === 'number') return this.verified(e, vw, req.q, w, ttl, r)
    const timeoutMs = this.cfg.verifyTimeoutMs
    const p = r
    return new Promise<number>((resolve) => {
      let timer: NodeJS.Timeout | null = null
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          timer = null
          // Too slow: serve the stale entry now, let the refresh finish in the background.
          if (!w.written) {
            this.servedStale++
            this.reply(e, req.q, w, ttl)
          }
          resolve(Rcode.NoError)
        }, timeoutMs)
      }
      const done = (rc: number): void => {
        if (timer !== null) clearTimeout(timer)
        resolve(this.verified(e, vw, req.q, w, ttl, rc))
      }
      p.then(done, () => done(Rcode.ServFail))
    })
  }

  private verified(e: Entry, vw: CacheWriter, q: QueryView, w: ResponseWriter, ttl: number, rc: number): number {
    e.refreshing = false
    if (vw.refreshed) {
      const ne = vw.stored
      if (ne !== null && ne !== e) {
        ne.hits = e.hits
        ne.last = this.clock.ms
      }
      return rc
    }
    if (this.cfg.staleRecheckMs > 0) e.retryAfter = this.clock.ms + this.cfg.staleRecheckMs
    if (!w.written) {
      this.servedStale++
      this.reply(e, q, w, ttl)
    }
    return Rcode.NoError
  }

  /** Background refresh (prefetch, serve_stale immediate): one at a time per entry, TCP sizes. */
  private refresh(e: Entry, req: Request): void {
    if (e.refreshing || this.clock.ms < e.retryAfter) return
    e.refreshing = true
    this.prefetches++
    const rq = new RefreshRequest(req)
    const cw = new CacheWriter(this, rq.q, null, REFRESH)
    let r: Served
    try {
      r = this.next.serve(rq, cw)
    } catch {
      this.refreshed(e, cw)
      return
    }
    if (typeof r === 'number') this.refreshed(e, cw)
    else r.then(() => this.refreshed(e, cw), () => this.refreshed(e, cw))
  }

  private refreshed(e: Entry, cw: CacheWriter): void {
    e.refreshing = false
    if (!cw.refreshed) {
      if (this.cfg.staleRecheckMs > 0) e.retryAfter = this.clock.ms + this.cfg.staleRecheckMs
      return
    }
    // CoreDNS copies the hit frequency to the new item (Freq.Reset(now, hits)).
    const ne = cw.stored
    if (ne !== null && ne !== e) {
      ne.hits = e.hits
      ne.last = this.clock.ms
    }
  }

  /** Writes the reply for a hit: stored bytes with the client's id, question, flags, TTL, OPT. */
  reply(e: Entry, q: QueryView, w: ResponseWriter, ttl: number): void {
    const qEnd = q.questionEnd
    if (qEnd !== e.qEnd) {
      this.replySlow(e, q, w, ttl)
      return
    }
    const data = e.data
    const n = e.len
    const edns = q.hasEdns
    const out = Buffer.allocUnsafe(edns ? n + OPT_LEN : n)
    // Char loops beat a native write's call overhead for the usual few dozen bytes; a large
    // entry is written whole first, header and question overwritten below.
    if (n - qEnd > 128) out.write(data, 0, n, 'latin1')
    else for (let i = qEnd; i < n; i++) out[i] = data.charCodeAt(i)
    const qf = q.flags
    const ef = e.flags
    let flags = Flag.QR | Flag.AA | (qf & (OPCODE_MASK | Flag.RD | Flag.CD)) | (ef & (Flag.RA | 0xf))
    if ((ef & Flag.AD) !== 0 && (q.do || (qf & Flag.AD) !== 0)) flags |= Flag.AD
    out[0] = q.id >>> 8
    out[1] = q.id & 0xff
    out[2] = flags >>> 8
    out[3] = flags & 0xff
    out[4] = data.charCodeAt(4)
    out[5] = data.charCodeAt(5)
    out[6] = data.charCodeAt(6)
    out[7] = data.charCodeAt(7)
    out[8] = data.charCodeAt(8)
    out[9] = data.charCodeAt(9)
    const ar = ((data.charCodeAt(10) << 8) | data.charCodeAt(11)) + (edns ? 1 : 0)
    out[10] = ar >>> 8
    out[11] = ar & 0xff
    const qb = q.buf
    for (let i = HEADER_SIZE; i < qEnd; i++) out[i] = qb[i]!
    const b0 = (ttl >>> 24) & 0xff
    const b1 = (ttl >>> 16) & 0xff
    const b2 = (ttl >>> 8) & 0xff
    const b3 = ttl & 0xff
    for (let k = 0, p = n, end = n + 2 * e.nTtl; p < end; k++, p += 2) {
      const o = (data.charCodeAt(p) << 8) | data.charCodeAt(p + 1)
      out[o] = b0
      out[o + 1] = b1
      out[o + 2] = b2
      out[o + 3] = b3
    }
    if (edns) writeClientOpt(out, n, q)
    w.writeWire(out, 'cache')
  }

  /** A client question of another length (compression pointers): decode and re-encode. */
  private replySlow(e: Entry, q: QueryView, w: ResponseWriter, ttl: number): void {
    let msg: Message
    const wire = e.wire()
    try {
      msg = decodeMessage(wire)
    } catch {
      // Stored bytes our decoder rejects (rdata it is stricter about): answer from the stored
      // form with the stored question instead of failing the query.
      const out = wire
      out[0] = q.id >>> 8
      out[1] = q.id & 0xff
      const offs = e.ttlOffsets()
      writeTtls(out, offs, offs.length, ttl)
      w.writeWire(out, 'cache')
      return
    }
    const ef = e.flags
    let flags = Flag.QR | Flag.AA | (q.flags & (OPCODE_MASK | Flag.RD | Flag.CD)) | (ef & (Flag.RA | 0xf))
    if ((ef & Flag.AD) !== 0 && (q.do || (q.flags & Flag.AD) !== 0)) flags |= Flag.AD
    msg.id = q.id
    msg.flags = flags
    msg.question = [{ name: q.qname, type: q.qtype, class: q.qclass }]
    for (const rr of msg.answer) rr.ttl = ttl
    for (const rr of msg.authority) rr.ttl = ttl
    for (const rr of msg.additional) rr.ttl = ttl
    msg.edns = null
    w.write(msg, 'cache')
  }

  /**
   * Looks at a reply coming back through the cache: computes the cache duration, stores it when
   * cacheable, and (FORWARD) rewrites `clientCopy` — a copy of `buf` or null — for the client:
   * every TTL set to the duration, AD cleared unless the client set DO or AD.
   */
  absorb(buf: Buffer, q: QueryView, mode: Mode, clientCopy: Buffer | null): Absorbed {
    const cfg = this.cfg
    this.lastStored = null
    this.lastRefreshed = false
    const now = this.clock.ms
    if (!analyze(buf, q, Math.floor(now / 1000), cfg.pttl, cfg.nttl)) return mode === VERIFY ? REJECT : PASS
    const t = A.type
    if (t === RespType.Meta || t === RespType.Update) return mode === VERIFY ? REJECT : PASS
    let ttl: number
    if (t === RespType.NameError || t === RespType.NoData) ttl = clamp(A.minTtl, cfg.minnttl, cfg.nttl)
    else if (t === RespType.ServerError) ttl = cfg.failttl
    else ttl = clamp(A.minTtl, cfg.minpttl, cfg.pttl)
    if (ttl > 0x7fffffff) ttl = 0x7fffffff
    this.lastTtl = ttl
    const complete = !A.truncated && A.match
    const rcode = A.rcode
    const refreshes = complete && t !== RespType.OtherError && (rcode === Rcode.NoError || rcode === Rcode.NXDomain)
    const answering = t === RespType.NoError && A.nAnswer > 0 && !nodata
    if (clientCopy !== null) {
      writeTtls(clientCopy, ttlOffs, A.nTtl, ttl)
      if (!q.do && (q.flags & Flag.AD) === 0) clientCopy[3] = clientCopy[3]! & ~Flag.AD
    }
    // CoreDNS key(): not truncated, no other errors, no SOA-less dangling CNAME chain.
    const hasKey = !A.truncated && t !== RespType.OtherError && !(t === RespType.NoError && !A.hasSoa && nodata)
    if (hasKey && ttl > 0) {
      if (A.match) this.store(buf, q, t, ttl, now, answering)
      else this.drops++
    }
    this.lastRefreshed = refreshes
    if (mode === VERIFY) {
      if (cfg.preferPositive ? !(complete && answering) : !refreshes) {
        this.lastRefreshed = false
        return REJECT
      }
    }
    return FORWARD
  }

  private store(buf: Buffer, q: QueryView, t: RespType, ttl: number, now: number, answering: boolean): void {
    const positive = t === RespType.NoError || t === RespType.Delegation
    const except = positive ? this.pexcept : this.nexcept
    if (except !== null && except.contains(q.qnameLower)) return
    let src = buf
    let len = buf.length
    let optRemoved = false
    if (A.optStart >= 0) {
      if (A.optEnd === buf.length) {
        len = A.optStart
        optRemoved = true
      } else {
        // OPT not last (never from our encoders): re-encode without it so offsets stay valid.
        try {
          const msg = decodeMessage(buf)
          msg.edns = null
          src = encodeMessage(msg, MAX_MSG_SIZE)
        } catch {
          return
        }
        len = src.length
        if (!analyze(src, q, Math.floor(now / 1000), this.cfg.pttl, this.cfg.nttl)) return
      }
    }
    // The stored form (Entry.data): the message without its OPT, TTLs set, then the TTL offsets.
    const nTtl = A.nTtl
    const total = len + 2 * nTtl
    let tmp = scratch
    if (tmp.length < total) tmp = scratch = Buffer.allocUnsafeSlow(Math.max(total, 2 * tmp.length))
    if (len <= 256) for (let i = 0; i < len; i++) tmp[i] = src[i]!
    else src.copy(tmp, 0, 0, len)
    if (optRemoved) {
      const ar = ((tmp[10]! << 8) | tmp[11]!) - 1
      tmp[10] = ar >>> 8
      tmp[11] = ar & 0xff
    }
    writeTtls(tmp, ttlOffs, nTtl, ttl)
    for (let k = 0, p = len; k < nTtl; k++, p += 2) {
      const o = ttlOffs[k]!
      tmp[p] = o >>> 8
      tmp[p + 1] = o & 0xff
    }
    const data = tmp.toString('latin1', 0, total)
    const slot = this.table.slot(q.qnameLower, keyTq(q), q.qclass)
    const e = new Entry(slot, data, len, A.qEnd, nTtl, ttl, now, t === RespType.ServerError, answering)
    if (positive) {
      this.pcache.add(this.table, e)
      // The newest state for this key: drop a denial it would otherwise hide behind (under
      // prefer_positive only when this reply answers the question).
      const neg = slot.neg
      if (neg !== null && (!this.cfg.preferPositive || answering)) this.ncache.remove(this.table, neg)
    } else {
      this.ncache.add(this.table, e)
    }
    this.lastStored = e
  }

  /** Results of the last absorb(), read by CacheWriter right after the call. */
  get lastAbsorbTtl(): number {
    return this.lastTtl
  }
  get lastAbsorbStored(): Entry | null {
    return this.lastStored
  }
  get lastAbsorbRefreshed(): boolean {
    return this.lastRefreshed
  }

  /** Drops every entry (tests, reload). */
  clear(): void {
    this.table.clear()
    this.pcache.clear()
    this.ncache.clear()
  }
}

/**
 * The writer handed down the chain on a miss, a refresh or a stale verify. It sees both write()
 * and writeWire() replies; the first one wins.
 */
export class CacheWriter implements ResponseWriter {
  private readonly cache: Cache
  private readonly q: QueryView
  /** The client's writer; null for a background refresh. */
  private readonly w: ResponseWriter | null
  private readonly mode: Mode
  private done: boolean
  /** The reply refreshed the entry (matching, complete, NOERROR/NXDOMAIN). */
  refreshed: boolean
  /** The entry the reply was stored as, if any. */
  stored: Entry | null
  constructor(cache: Cache, q: QueryView, w: ResponseWriter | null, mode: Mode) {
    this.cache = cache
    this.q = q
    this.w = w
    this.mode = mode
    this.done = false
    this.refreshed = false
    this.stored = null
  }

  get written(): boolean {
    return this.done || (this.w !== null && this.w.written)
  }

  writeWire(buf: Buffer, plugin: string): void {
    // Not `written`: a verify that timed out (client already answered) still stores its reply.
    if (this.done) return
    this.done = true
    const w = this.w
    const copy = w === null ? null : Buffer.allocUnsafe(buf.length)
    if (copy !== null) buf.copy(copy)
    const r = this.cache.absorb(buf, this.q, this.mode, copy)
    this.refreshed = this.cache.lastAbsorbRefreshed
    this.stored = this.cache.lastAbsorbStored
    if (w === null || r === REJECT || w.written) return
    w.writeWire(r === PASS ? buf : copy!, plugin)
  }

  write(msg: Message, plugin: string): void {
    if (this.done) return
    this.done = true
    const w = this.w
    let wire: Buffer
    try {
      wire = encodeMessage(msg, MAX_MSG_SIZE)
    } catch {
      if (w !== null && this.mode !== VERIFY && !w.written) w.write(msg, plugin)
      return
    }
    const r = this.cache.absorb(wire, this.q, this.mode, null)
    this.refreshed = this.cache.lastAbsorbRefreshed
    this.stored = this.cache.lastAbsorbStored
    if (w === null || r === REJECT || w.written) return
    if (r === PASS) {
      w.write(msg, plugin)
      return
    }
    // The message may be the plugin's own (precomputed records): send a copy with the new TTLs.
    const ttl = this.cache.lastAbsorbTtl
    let flags = msg.flags
    if (!this.q.do && (this.q.flags & Flag.AD) === 0) flags &= ~Flag.AD
    w.write(
      {
        id: msg.id,
        flags,
        question: msg.question,
        answer: withTtl(msg.answer, ttl),
        authority: withTtl(msg.authority, ttl),
        additional: withTtl(msg.additional, ttl),
        edns: msg.edns,
      },
      plugin,
    )
  }
}

/** The Request of a background refresh: the triggering query, TCP semantics (no truncation). */
export class RefreshRequest implements Request {
  q: QueryView
  readonly proto: Proto
  readonly transport: string
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
  readonly family: 1 | 2
  readonly server: string
  zone: string
  readonly maxSize: number
  error: Error | null
  meta: Map<string, string> | null
  replyRcode: number
  replySize: number
  replyFlags: number
  replyPlugin: string
  readonly start: bigint
  private readonly orig: Request
  constructor(orig: Request) {
    this.q = orig.q
    this.proto = 'tcp'
    this.transport = orig.transport
    this.remoteAddress = orig.remoteAddress
    this.remotePort = orig.remotePort
    this.localAddress = orig.localAddress
    this.localPort = orig.localPort
    this.family = orig.family
    this.server = orig.server
    this.zone = orig.zone
    this.maxSize = MAX_MSG_SIZE
    this.error = null
    this.meta = null
    this.replyRcode = -1
    this.replySize = 0
    this.replyFlags = 0
    this.replyPlugin = ''
    this.start = process.hrtime.bigint()
    this.orig = orig
  }
  subquery(name: string, type: number): Promise<Buffer | null> {
    return this.orig.subquery(name, type)
  }
}
