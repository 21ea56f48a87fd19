import { Rcode } from '../../dns/constants.js'
import { decodeMessage, encodeMessage, replyTo, setRcode } from '../../dns/message.js'
import { isValidDomainName } from '../../dns/name.js'
import { QueryView } from '../../dns/query.js'
import type { Message, RR } from '../../dns/types.js'
import { questionMessage } from '../../pluginkit/reply.js'
import { NO_REPLY, type Handler, type Request, type ResponseWriter, type Served } from '../../pluginkit/types.js'
import { CnameResponse, RewriteState, type ResponseRule, type Rule } from './rules.js'

const PLUGIN = 'rewrite'

/** A copy of a reply that can be changed without touching the writer's (possibly shared) objects. */
function copyMessage(m: Message): Message {
  const rrs = (list: RR[]): RR[] => list.map((r) => ({ name: r.name, type: r.type, class: r.class, ttl: r.ttl, data: r.data }))
  return {
    id: m.id,
    flags: m.flags,
    question: m.question.map((q) => ({ name: q.name, type: q.type, class: q.class })),
    answer: rrs(m.answer),
    authority: rrs(m.authority),
    additional: rrs(m.additional),
    edns: m.edns === null ? null : { ...m.edns, options: m.edns.options.slice() },
  }
}

/** The query with the rewritten question / OPT, as a new QueryView (new bytes). */
export function buildQuery(st: RewriteState): QueryView {
  const orig = st.orig
  const msg = decodeMessage(orig.buf)
  const q0 = msg.question[0]
  const name = st.nameChanged ? st.name : orig.qname
  if (q0 !== undefined) {
    q0.name = name
    q0.type = st.type
    q0.class = st.klass
  } else msg.question.push({ name, type: st.type, class: st.klass })
  if (st.ednsLoaded) msg.edns = st.edns
  const q = new QueryView()
  q.parseHeader(encodeMessage(msg))
  q.parseBody()
  return q
}

/**
 * Sits between the chain below and the real writer while a rewritten query is served: puts the
 * client's question back in every reply (clients reject mismatches) and runs the response rules,
 * last applied rule first. While the real writer encodes, `req.q` is the client's query again (the
 * writer reads EDNS facts from it).
 */
export class RewriteWriter implements ResponseWriter {
  readonly inner: ResponseWriter
  readonly req: Request
  readonly orig: QueryView
  readonly rules: readonly ResponseRule[]
  /** CNAME target rules: replies are held and finished after the chain returns. */
  readonly cname: readonly CnameResponse[]
  held: Message | null
  heldPlugin: string
  private done: boolean
  constructor(inner: ResponseWriter, req: Request, orig: QueryView, rules: readonly ResponseRule[], cname: readonly CnameResponse[]) {
    this.inner = inner
    this.req = req
    this.orig = orig
    this.rules = rules
    this.cname = cname
    this.held = null
    this.heldPlugin = ''
    this.done = false
  }
  get written(): boolean {
    return this.done || this.inner.written
  }
  write(msg: Message, plugin: string): void {
    if (this.written) return
    this.done = true
    const m = this.revert(copyMessage(msg))
    if (this.cname.length > 0) {
      this.held = m
      this.heldPlugin = plugin
      return
    }
    this.send(m, plugin)
  }
  writeWire(wire: Buffer, plugin: string): void {
    if (this.written) return
    let msg: Message
    try {
      msg = decodeMessage(wire)
    } catch {
      this.done = true
      this.sendWire(wire, plugin)
      return
    }
    this.write(msg, plugin)
  }
  /** Restores the question and applies the response rules (in reverse order). */
  revert(m: Message): Message {
    const o = this.orig
    const q = m.question[0]
    if (q !== undefined) {
      q.name = o.qname
      q.type = o.qtype
      q.class = o.qclass
    }
    const rules = this.rules
    if (rules.length > 0) {
      const sections = [m.authority, m.answer, m.additional]
      for (const sec of sections) {
        for (const rr of sec) for (let i = rules.length - 1; i >= 0; i--) rules[i]!.rr(rr, m)
      }
      for (let i = rules.length - 1; i >= 0; i--) rules[i]!.msg(m)
    }
    return m
  }
  send(m: Message, plugin: string): void {
    const req = this.req
    const cur = req.q
    req.q = this.orig
    try {
      this.inner.write(m, plugin)
    } finally {
      req.q = cur
    }
  }
  sendWire(wire: Buffer, plugin: string): void {
    const req = this.req
    const cur = req.q
    req.q = this.orig
    try {
      this.inner.writeWire(wire, plugin)
    } finally {
      req.q = cur
    }
  }
  /** Finishes a held reply: rewrites matching CNAME targets and resolves the new target. */
  async flush(): Promise<void> {
    const m = this.held
    if (m === null) return
    this.held = null
    for (const c of this.cname) {
      const ft = c.find(m)
      if (ft === null) continue
      let up: Message | null = null
      const wire = await this.req.subquery(ft.to, c.qtype)
      if (wire !== null) {
        try {
          up = decodeMessage(wire)
        } catch {
          up = null
        }
      }
      c.apply(m, ft.to, up)
    }
    this.send(m, this.heldPlugin)
  }
}

export class Rewrite implements Handler {
  readonly name = PLUGIN
  readonly next: Handler
  readonly rules: readonly Rule[]
  constructor(next: Handler, rules: readonly Rule[]) {
    this.next = next
    this.rules = rules
  }

  serve(req: Request, w: ResponseWriter): Served {
    let st: RewriteState | null = null
    let resp: ResponseRule[] | null = null
    let cname: CnameResponse[] | null = null
    for (const rule of this.rules) {
      if (st === null) st = new RewriteState(req)
      const r = rule.apply(st)
      if (r === null) continue
      if (st.nameChanged && !isValidDomainName(st.name)) {
        req.error = new Error(`invalid name after rewrite: ${st.name}`)
        return Rcode.ServFail
      }
      for (const x of r) {
        if (x instanceof CnameResponse) (cname ??= []).push(x)
        else (resp ??= []).push(x)
      }
      if (rule.mode === 'stop') break
    }
    if (st === null || (!st.modified && resp === null && cname === null)) return this.next.serve(req, w)
    const orig = req.q
    let nq = orig
    if (st.modified) {
      try {
        nq = buildQuery(st)
      } catch (e) {
        req.error = new Error(`invalid name after rewrite: ${st.name}`, { cause: e })
        return Rcode.ServFail
      }
    }
    const rw = new RewriteWriter(w, req, orig, resp ?? [], cname ?? [])
    req.q = nq
    let r: Served
    try {
      r = this.next.serve(req, rw)
    } catch (e) {
      req.q = orig
      throw e
    }
    if (typeof r === 'number') return this.finish(req, orig, rw, r)
    return r.then(
      (rc) => this.finish(req, orig, rw, rc),
      (e: unknown) => {
        req.q = orig
        throw e
      },
    )
  }

  private finish(req: Request, orig: QueryView, rw: RewriteWriter, rcode: number): Served {
    req.q = orig
    if (rw.held !== null) return rw.flush().then(() => rcode)
    if (rw.written || rcode === NO_REPLY) return rcode
    if (rw.rules.length === 0) return rcode
    // Nothing written below: answer here so the response rules (rcode ...) see the reply, as
    // CoreDNS's rewrite does for a stop rule.
    const m = replyTo(questionMessage(orig))
    setRcode(m, rcode === Rcode.Refused || rcode === Rcode.FormErr || rcode === Rcode.NotImp ? rcode : Rcode.ServFail)
    rw.send(rw.revert(m), PLUGIN)
    return Rcode.NoError
  }
}
