import { Class, classToString, Flag, Rcode, Type, typeToString } from '../../dns/constants.js'
import { decodeMessage, replyTo, setRcode } from '../../dns/message.js'
import { isSubdomain } from '../../dns/name.js'
import { messageToString, parseRR } from '../../dns/text.js'
import type { Message, RR } from '../../dns/types.js'
import type { Fall } from '../../pluginkit/fall.js'
import { questionMessage } from '../../pluginkit/reply.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import { findSubmatch, type GoRegex } from '../rewrite/goregex.js'
import type { GoTemplate, Obj, Value } from './gotmpl.js'

const PLUGIN = 'template'
/** EDNS0 option code of Extended DNS Errors (RFC 8914). */
export const EDNS_EDE = 15

export interface Ede {
  code: number
  reason: string
}

/** One `template` directive. */
export interface TemplateRule {
  readonly zones: readonly string[]
  readonly qclass: number
  readonly qtype: number
  readonly regex: readonly GoRegex[]
  readonly answer: readonly GoTemplate[]
  readonly additional: readonly GoTemplate[]
  readonly authority: readonly GoTemplate[]
  readonly rcode: number
  readonly ede: Ede | null
  readonly fall: Fall
}

/** Longest of `zones` that `name` is in, or null (CoreDNS plugin.Zones.Matches). */
export function matchZone(zones: readonly string[], name: string): string | null {
  let best: string | null = null
  for (const z of zones) if (isSubdomain(name, z) && (best === null || z.length > best.length)) best = z
  return best
}

function obj(typeName: string, fields: Record<string, Value>, text: () => string): Obj {
  return { kind: 'obj', typeName, fields, text }
}

/** The data a template sees (CoreDNS templateData). */
export function templateData(req: Request, t: TemplateRule, zone: string, regex: GoRegex, groups: string[]): Value {
  const q = req.q
  const name = q.qnameLower
  const group = new Map<string, Value>()
  for (let i = 0; i < groups.length; i++) group.set(String(i), groups[i]!)
  for (let i = 0; i < groups.length; i++) {
    const n = regex.names[i]
    if (n !== undefined && n !== '') group.set(n, groups[i]!)
  }
  const question = obj('*dns.Question', { Name: q.qname, Qtype: q.qtype, Qclass: q.qclass }, () => `;${q.qname}\t${classToString(q.qclass)}\t${typeToString(q.qtype)}`)
  const message = obj(
    '*dns.Msg',
    {
      Id: q.id,
      Opcode: q.opcode,
      RecursionDesired: (q.flags & Flag.RD) !== 0,
      CheckingDisabled: (q.flags & Flag.CD) !== 0,
      AuthenticatedData: (q.flags & Flag.AD) !== 0,
      Question: [question as unknown as Value],
    },
    () => {
      try {
        return messageToString(decodeMessage(q.buf))
      } catch {
        return ''
      }
    },
  )
  return obj(
    '*template.templateData',
    {
      Zone: zone,
      Name: name,
      Regex: regex.source,
      Match: groups,
      Group: group,
      Class: classToString(q.qclass !== Class.ANY ? q.qclass : t.qclass),
      Type: typeToString(q.qtype !== Type.ANY ? q.qtype : t.qtype),
      Message: message,
      Question: question,
      Remote: req.remoteAddress,
      Meta: { kind: 'method', call: (args) => (typeof args[0] === 'string' ? (req.meta?.get(args[0]) ?? '') : '') },
    },
    () => '',
  )
}

/**
 * Answers queries from templates (CoreDNS plugin/template). The first template whose zone, class,
 * type and one of whose regexes match answers; a template in zone whose regexes all miss ends
 * the search with SERVFAIL unless it has `fallthrough`.
 */
export class Template implements Handler {
  readonly name = PLUGIN
  readonly next: Handler
  readonly zones: readonly string[]
  readonly templates: readonly TemplateRule[]
  /** coredns_template_matches_total by "zone|class|type". */
  readonly matches: Map<string, number>
  /** coredns_template_template_failures_total by "zone|class|type|section|template". */
  readonly templateFailures: Map<string, number>
  /** coredns_template_rr_failures_total by "zone|class|type|section|template". */
  readonly rrFailures: Map<string, number>
  constructor(next: Handler, zones: readonly string[], templates: readonly TemplateRule[]) {
    this.next = next
    this.zones = zones
    this.templates = templates
    this.matches = new Map()
    this.templateFailures = new Map()
    this.rrFailures = new Map()
  }

  serve(req: Request, w: ResponseWriter): Served {
    const q = req.q
    const name = q.qnameLower
    if (matchZone(this.zones, name) === null) return this.next.serve(req, w)
    for (const t of this.templates) {
      const zone = matchZone(t.zones, name)
      if (zone === null) continue
      if (t.qclass !== Class.ANY && q.qclass !== Class.ANY && q.qclass !== t.qclass) continue
      if (t.qtype !== Type.ANY && q.qtype !== Type.ANY && q.qtype !== t.qtype) continue
      let groups: string[] | null = null
      let regex: GoRegex | null = null
      for (const r of t.regex) {
        groups = findSubmatch(r, name)
        if (groups !== null) {
          regex = r
          break
        }
      }
      if (groups === null || regex === null) {
        if (t.fall.through(name)) continue
        return Rcode.ServFail
      }
      const cls = classToString(q.qclass !== Class.ANY ? q.qclass : t.qclass)
      const typ = typeToString(q.qtype !== Type.ANY ? q.qtype : t.qtype)
      const key = `${zone}|${cls}|${typ}`
      this.matches.set(key, (this.matches.get(key) ?? 0) + 1)
      if (t.rcode === Rcode.ServFail) return Rcode.ServFail
      const data = templateData(req, t, zone, regex, groups)
      const msg = replyTo(questionMessage(q))
      msg.flags |= Flag.AA
      setRcode(msg, t.rcode)
      const sections: Array<[string, readonly GoTemplate[], RR[]]> = [
        ['answer', t.answer, msg.answer],
        ['additional', t.additional, msg.additional],
        ['authority', t.authority, msg.authority],
      ]
      for (const [section, tmpls, out] of sections) {
        for (const tmpl of tmpls) {
          const rr = this.render(req, key, section, tmpl, data)
          if (rr === null) return Rcode.ServFail
          out.push(rr)
        }
      }
      if (t.ede !== null) {
        const text = Buffer.from(t.ede.reason, 'utf8')
        const d = Buffer.allocUnsafe(2 + text.length)
        d.writeUInt16BE(t.ede.code, 0)
        text.copy(d, 2)
        msg.edns = { udpSize: 4096, extRcode: msg.edns?.extRcode ?? 0, version: 0, flags: 0, options: [{ code: EDNS_EDE, data: d }] }
      }
      // CNAME answers to A/AAAA questions: the target is resolved through this server.
      if (q.qtype === Type.A || q.qtype === Type.AAAA) {
        const targets: string[] = []
        for (const rr of msg.answer) if (rr.type === Type.CNAME && typeof rr.data === 'string') targets.push(rr.data)
        if (targets.length > 0) return this.resolve(req, w, msg, targets, t.rcode)
      }
      w.write(msg, PLUGIN)
      return t.rcode
    }
    return this.next.serve(req, w)
  }

  private render(req: Request, key: string, section: string, tmpl: GoTemplate, data: Value): RR | null {
    const text = tmpl.execute(data)
    if (typeof text !== 'string') {
      const k = `${key}|${section}|${tmpl.source}`
      this.templateFailures.set(k, (this.templateFailures.get(k) ?? 0) + 1)
      req.error = text
      return null
    }
    try {
      return parseRR(text)
    } catch (e) {
      const k = `${key}|${section}|${tmpl.source}`
      this.rrFailures.set(k, (this.rrFailures.get(k) ?? 0) + 1)
      req.error = new Error(`template: invalid record ${JSON.stringify(text)}: ${(e as Error).message}`)
      return null
    }
  }

  private async resolve(req: Request, w: ResponseWriter, msg: Message, targets: string[], rcode: number): Promise<number> {
    const extra: RR[][] = []
    for (const target of targets) {
      const wire = await req.subquery(target, req.q.qtype)
      let up: Message | null = null
      if (wire !== null) {
        try {
          up = decodeMessage(wire)
        } catch {
          up = null
        }
      }
      if (up === null) {
        extra.push([])
        continue
      }
      if ((up.flags & Flag.TC) !== 0) msg.flags |= Flag.TC
      extra.push(up.answer)
    }
    // Each CNAME's resolution follows it, as CoreDNS appends per answer.
    const answer: RR[] = []
    let k = 0
    for (const rr of msg.answer) {
      answer.push(rr)
      if (rr.type === Type.CNAME && typeof rr.data === 'string') {
        const e = extra[k++]
        if (e !== undefined) for (const x of e) answer.push(x)
      }
    }
    msg.answer = answer
    w.write(msg, PLUGIN)
    return rcode
  }
}
