import { Class, Rcode, Type } from '../../dns/constants.js'
import { decodeMessage, encodeMessage, getRcode } from '../../dns/message.js'
import { isSubdomain, labelCount, nameEquals, nameToWire, splitLabels } from '../../dns/name.js'
import { QueryView } from '../../dns/query.js'
import type { Message } from '../../dns/types.js'
import { NO_REPLY, type AutoPather, type Handler, type Request, type ResponseWriter, type Served } from '../../pluginkit/types.js'

const PLUGIN = 'autopath'
/** `after` result: go on with the next search element. */
const CONTINUE = -2

/** Keeps what a sub-chain writes instead of sending it. */
export class CaptureWriter implements ResponseWriter {
  msg: Message | null = null
  wire: Buffer | null = null
  plugin = ''
  written = false
  write(msg: Message, plugin: string): void {
    if (this.written) return
    this.written = true
    this.msg = msg
    this.plugin = plugin
  }
  writeWire(wire: Buffer, plugin: string): void {
    if (this.written) return
    this.written = true
    this.wire = wire
    this.plugin = plugin
  }
  /** The captured reply as a Message (decoded once), or null. */
  message(): Message | null {
    if (this.msg === null && this.wire !== null) {
      try {
        this.msg = decodeMessage(this.wire)
      } catch {
        this.wire = null
      }
    }
    return this.msg
  }
}

/** Longest of `zones` that `name` is in, or null (CoreDNS plugin.Zones.Matches). */
function matchZone(zones: readonly string[], name: string): string | null {
  let best: string | null = null
  for (const z of zones) if (isSubdomain(name, z) && (best === null || z.length > best.length)) best = z
  return best
}

/** CoreDNS plugin.ClientWrite: these rcodes mean "nothing was written". */
function clientWrite(rcode: number): boolean {
  return rcode !== Rcode.ServFail && rcode !== Rcode.Refused && rcode !== Rcode.FormErr && rcode !== Rcode.NotImp && rcode !== NO_REPLY
}

/**
 * dnsutil.TrimZone: `q` without the labels of `zone` (no trailing dot), or null when that would
 * leave nothing (q is the zone, or shorter).
 */
export function trimZone(q: string, zone: string): string | null {
  const zl = labelCount(zone)
  const labels = splitLabels(q)
  if (labels.length <= zl) return null
  return labels.slice(0, labels.length - zl).join('.')
}

/** Whether name is the first search element or below it (the element "" takes every name). */
export function firstInSearchPath(name: string, first: string): boolean {
  if (first === '' || first === '.') return true
  const z = first.endsWith('.') ? first : first + '.'
  if (name === z) return true
  return name.length > z.length && name.endsWith(z) && name[name.length - z.length - 1] === '.'
}

/** Prepends `original CNAME <owner>` for the first answer owned by another name; sets the question back. */
export function cnamer(m: Message, original: string): void {
  for (const a of m.answer) {
    if (nameEquals(original, a.name)) continue
    m.answer.unshift({ name: original, type: Type.CNAME, class: Class.IN, ttl: a.ttl, data: a.name })
    break
  }
  const q = m.question[0]
  if (q !== undefined) q.name = original
}

/** The query with only its question name changed, as a new QueryView. */
export function withName(orig: QueryView, name: string): QueryView | null {
  let wire: Buffer
  try {
    const nameWire = nameToWire(name)
    if (orig.qdcount === 1 && orig.ancount === 0 && orig.nscount === 0 && (orig.arcount === 0 || (orig.arcount === 1 && orig.hasEdns))) {
      // Header, new name, then type/class and the OPT as they were (no pointers into the question).
      wire = Buffer.concat([orig.buf.subarray(0, 12), nameWire, orig.buf.subarray(orig.questionEnd - 4)])
    } else {
      const m = decodeMessage(orig.buf)
      m.question[0]!.name = name
      wire = encodeMessage(m)
    }
  } catch {
    return null
  }
  const q = new QueryView()
  q.parseHeader(wire)
  q.parseBody()
  return q
}

interface Walk {
  req: Request
  w: ResponseWriter
  orig: QueryView
  search: readonly string[]
  base: string
  first: CaptureWriter | null
  firstRcode: number
}

/**
 * Server-side search path (CoreDNS plugin/autopath): for a name under the first search element,
 * tries base + each element through the rest of the chain and answers with the first reply that
 * is not NXDOMAIN (nor an unwritten error), a CNAME from the name asked to the name found
 * prepended. Otherwise the first attempt's reply goes out unchanged.
 */
export class AutoPath implements Handler {
  readonly name = PLUGIN
  readonly next: Handler
  readonly zones: readonly string[]
  /** Search list from a resolv.conf (ends with ""), or null when a plugin provides it. */
  readonly search: readonly string[] | null
  readonly provider: AutoPather | null
  /** coredns_autopath_success_total */
  success: number
  constructor(next: Handler, zones: readonly string[], search: readonly string[] | null, provider: AutoPather | null) {
    this.next = next
    this.zones = zones
    this.search = search
    this.provider = provider
    this.success = 0
  }

  serve(req: Request, w: ResponseWriter): Served {
    const q = req.q
    const name = q.qnameLower
    if (matchZone(this.zones, name) === null) return this.next.serve(req, w)
    const search = this.provider !== null ? this.provider.searchPath(req) : this.search
    if (search === null || search.length === 0) return this.next.serve(req, w)
    if (!firstInSearchPath(name, search[0]!)) return this.next.serve(req, w)
    const base = trimZone(q.qname, search[0]!)
    if (base === null) {
      req.error = new Error(`trimzone: overshot qname: ${q.qname}for zone ${search[0]!}`)
      return Rcode.ServFail
    }
    const walk: Walk = { req, w, orig: q, search, base, first: null, firstRcode: Rcode.ServFail }
    return this.run(walk, 0)
  }

  private run(walk: Walk, from: number): Served {
    const { req, orig, search } = walk
    for (let i = from; i < search.length; i++) {
      const s = search[i]!
      const nq = withName(orig, s === '' || s === '.' ? walk.base + '.' : walk.base + '.' + s)
      if (nq === null) continue
      const cw = new CaptureWriter()
      req.q = nq
      let r: Served
      try {
        r = this.next.serve(req, cw)
      } catch (e) {
        req.q = orig
        throw e
      }
      if (typeof r !== 'number') {
        const at = i
        return r.then(
          (rc) => {
            const d = this.after(walk, at, cw, rc)
            return d === CONTINUE ? this.run(walk, at + 1) : d
          },
          (e: unknown) => {
            req.q = orig
            throw e
          },
        )
      }
      const d = this.after(walk, i, cw, r)
      if (d !== CONTINUE) return d
    }
    return this.end(walk)
  }

  /** Looks at one attempt: the final rcode, or CONTINUE. */
  private after(walk: Walk, i: number, cw: CaptureWriter, rcode: number): number {
    const req = walk.req
    if (req.error !== null) {
      req.q = walk.orig
      return rcode
    }
    if (i === 0) {
      walk.first = cw
      walk.firstRcode = rcode
    }
    if (!cw.written || !clientWrite(rcode)) return CONTINUE
    const m = cw.message()
    if (m === null || getRcode(m) === Rcode.NXDomain) return CONTINUE
    req.q = walk.orig
    cnamer(m, walk.orig.qname)
    walk.w.write(m, cw.plugin)
    this.success++
    return rcode
  }

  private end(walk: Walk): number {
    walk.req.q = walk.orig
    const first = walk.first
    if (first !== null && first.written && clientWrite(walk.firstRcode)) {
      const m = first.message()
      if (m !== null) {
        const q = m.question[0]
        if (q !== undefined) q.name = walk.orig.qname
        walk.w.write(m, first.plugin)
      } else if (first.wire !== null) walk.w.writeWire(first.wire, first.plugin)
    }
    return walk.firstRcode
  }
}
