// The cache's storage. A SlotTable maps the lower-cased qname to a short chain of Slots, one per
// (qtype, qclass, DO, CD) asked for that name; a Slot holds at most one success and one denial
// entry, so a lookup is one Map.get (on the qname string the query view already made — no key
// string is built per query) whichever store answers. Per store, a dense array of its entries
// gives O(1) random eviction.
//
// Bound: each store holds at most `capacity` entries (CoreDNS's rounded CAPACITY); there are never
// more Slots than entries. When a store is full a uniformly random entry of that store is evicted
// (CoreDNS evicts a random entry of the full shard; with one pool eviction starts only when the
// whole store is full, never earlier — the hard bound is the same).

/** A cached reply. Fields are all set in the constructor (stable shape). */
export class Entry {
  readonly slot: Slot
  /** Index in its store's dense array. */
  idx: number
  /**
   * The reply as stored, as a one-byte (latin1) string: bytes [0, len) are the upstream's header
   * (flags, counts; arcount without the OPT) and question, then every RR except the OPT, all TTLs
   * set to `ttl`; then the `nTtl` TTL field offsets, 2 bytes each, big-endian. A string instead of
   * a Buffer + Uint16Array: one heap object per entry, no ArrayBuffer (cheaper to allocate, to
   * promote and to collect). Never sent as is.
   */
  readonly data: string
  /** Length of the message in `data`. */
  readonly len: number
  /** Offset after the question. */
  readonly qEnd: number
  /** Number of TTL fields. */
  readonly nTtl: number
  /** The reply's 16-bit flags word (RA, AD, rcode low bits are used on hits). */
  readonly flags: number
  /** Cache duration in seconds (CoreDNS origTTL). */
  readonly ttl: number
  /** Clock ms when stored. */
  readonly stored: number
  /** SERVFAIL / NOTIMP (never shadows a usable positive entry). */
  readonly servfail: boolean
  /** Answers the question (a positive entry usable under prefer_positive). */
  readonly answering: boolean
  /** Prefetch frequency (CoreDNS freq.Freq): hits within the window, last hit ms. */
  hits: number
  last: number
  /** A refresh (prefetch or stale) is in flight for this entry. */
  refreshing: boolean
  /** Clock ms before which no new refresh is tried (RECHECK after a failure). */
  retryAfter: number
  constructor(slot: Slot, data: string, len: number, qEnd: number, nTtl: number, ttl: number, stored: number, servfail: boolean, answering: boolean) {
    this.slot = slot
    this.idx = -1
    this.data = data
    this.len = len
    this.qEnd = qEnd
    this.nTtl = nTtl
    this.flags = (data.charCodeAt(2) << 8) | data.charCodeAt(3)
    this.ttl = ttl
    this.stored = stored
    this.servfail = servfail
    this.answering = answering
    this.hits = 0
    this.last = 0
    this.refreshing = false
    this.retryAfter = 0
  }
  /** Remaining seconds (CoreDNS item.ttl): negative once expired. */
  remaining(nowMs: number): number {
    return this.ttl - Math.floor((nowMs - this.stored) / 1000)
  }
  /** The stored message as a fresh Buffer (slow paths). */
  wire(): Buffer {
    return Buffer.from(this.data.slice(0, this.len), 'latin1')
  }
  /** The TTL field offsets (slow paths). */
  ttlOffsets(): number[] {
    const out: number[] = []
    const d = this.data
    for (let k = 0, o = this.len; k < this.nTtl; k++, o += 2) out.push((d.charCodeAt(o) << 8) | d.charCodeAt(o + 1))
    return out
  }
}

export class Slot {
  /** Lower-cased qname (the table key). */
  readonly name: string
  /** qtype | DO << 16 | CD << 17. */
  readonly tq: number
  readonly cls: number
  pos: Entry | null
  neg: Entry | null
  /** Next slot for the same name. */
  next: Slot | null
  constructor(name: string, tq: number, cls: number) {
    this.name = name
    this.tq = tq
    this.cls = cls
    this.pos = null
    this.neg = null
    this.next = null
  }
}

/** Lower-cased qname → chain of slots. */
export class SlotTable {
  readonly map: Map<string, Slot>
  /** Number of slots (≤ entries of both stores). */
  size: number
  constructor() {
    this.map = new Map()
    this.size = 0
  }
  get(name: string, tq: number, cls: number): Slot | null {
    let s = this.map.get(name)
    while (s !== undefined) {
      if (s.tq === tq && s.cls === cls) return s
      if (s.next === null) return null
      s = s.next
    }
    return null
  }
  /**
   * The slot for the key, created and linked when missing (one Map.get, plus a Map.set for a new
   * name). The caller must add an entry to a new slot right away.
   */
  slot(name: string, tq: number, cls: number): Slot {
    const map = this.map
    const head = map.get(name)
    if (head === undefined) {
      const s = new Slot(name, tq, cls)
      map.set(name, s)
      this.size++
      return s
    }
    for (let x: Slot | null = head; x !== null; x = x.next) if (x.tq === tq && x.cls === cls) return x
    const s = new Slot(name, tq, cls)
    s.next = head.next
    head.next = s
    this.size++
    return s
  }
  /** Unlinks an empty slot. */
  unlink(s: Slot): void {
    const head = this.map.get(s.name)
    if (head === undefined) return
    if (head === s) {
      if (s.next === null) this.map.delete(s.name)
      else this.map.set(s.name, s.next)
      s.next = null
      this.size--
      return
    }
    for (let x = head; x.next !== null; x = x.next) {
      if (x.next === s) {
        x.next = s.next
        s.next = null
        this.size--
        return
      }
    }
  }
  clear(): void {
    this.map.clear()
    this.size = 0
  }
}

export const SUCCESS = 0
export const DENIAL = 1

/** One class of entries (success or denial) with its own capacity. */
export class Store {
  readonly kind: 0 | 1
  readonly capacity: number
  readonly items: Entry[]
  /** coredns_cache_evictions_total{type} */
  evictions: number
  private readonly random: () => number
  constructor(kind: 0 | 1, capacity: number, random: () => number = Math.random) {
    this.kind = kind
    this.capacity = capacity
    this.items = []
    this.evictions = 0
    this.random = random
  }
  get size(): number {
    return this.items.length
  }

  /**
   * Puts `e` in its slot (replacing this store's entry there), evicting a random entry when
   * full. Keeps `table` in step: a slot left empty by an eviction is unlinked; `e`'s slot must be
   * linked already (SlotTable.slot).
   * Returns true when something was evicted.
   */
  add(table: SlotTable, e: Entry): boolean {
    const slot = e.slot
    const old = this.kind === SUCCESS ? slot.pos : slot.neg
    let evicted = false
    if (old !== null) {
      e.idx = old.idx
      this.items[old.idx] = e
    } else if (this.items.length >= this.capacity) {
      const i = Math.floor(this.random() * this.items.length)
      const victim = this.items[i]!
      this.detach(table, victim)
      e.idx = i
      this.items[i] = e
      this.evictions++
      evicted = true
    } else {
      e.idx = this.items.length
      this.items.push(e)
    }
    if (this.kind === SUCCESS) slot.pos = e
    else slot.neg = e
    return evicted
  }

  /** Removes `e` (which must be this store's current entry in its slot). */
  remove(table: SlotTable, e: Entry): void {
    const items = this.items
    const last = items.pop()!
    if (last !== e) {
      items[e.idx] = last
      last.idx = e.idx
    }
    this.detach(table, e)
  }

  private detach(table: SlotTable, e: Entry): void {
    const slot = e.slot
    if (this.kind === SUCCESS) slot.pos = null
    else slot.neg = null
    e.idx = -1
    if (slot.pos === null && slot.neg === null) table.unlink(slot)
  }

  clear(): void {
    this.items.length = 0
  }
}
