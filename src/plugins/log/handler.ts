import { isSubdomain } from '../../dns/name.js'
import type { LogSink } from '../../log/logger.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import { classify, classToString, Cls, FactsRecorder, typify, type ReplyFacts } from './classify.js'
import { renderLine, type Part } from './format.js'

/** One `log NAME... [FORMAT] { class ... }` name scope. */
export class Rule {
  /** Lower-case FQDN; '.' matches every name. */
  readonly name: string
  readonly parts: readonly Part[]
  /** OR of Cls bits. */
  readonly classes: number
  /** A recorder is needed: class filtering or {/log/class}/{/log/type} in the format. */
  readonly needsFacts: boolean
  constructor(name: string, parts: readonly Part[], classes: number, needsClass: boolean) {
    this.name = name
    this.parts = parts
    this.classes = classes
    this.needsFacts = needsClass || classes !== Cls.All
  }
}

/**
 * Query log (CoreDNS plugin/log). The first rule whose name scope contains the qname applies; the
 * rest of the chain runs first and the line is written after it, from the reply facts the writer
 * left on the Request. Synchronous results are logged at once, Promises when they settle.
 */
export class Log implements Handler {
  readonly name = 'log'
  readonly next: Handler
  readonly rules: readonly Rule[]
  readonly sink: LogSink
  constructor(next: Handler, rules: readonly Rule[], sink: LogSink) {
    this.next = next
    this.rules = rules
    this.sink = sink
  }

  serve(req: Request, w: ResponseWriter): Served {
    const rule = this.match(req.q.qnameLower)
    if (rule === null) return this.next.serve(req, w)
    if (!rule.needsFacts) {
      const r = this.next.serve(req, w)
      if (typeof r === 'number') {
        this.write(rule, req, null)
        return r
      }
      return r.then((rc) => {
        this.write(rule, req, null)
        return rc
      })
    }
    const rec = new FactsRecorder(w)
    const r = this.next.serve(req, rec)
    if (typeof r === 'number') {
      this.filtered(rule, req, rec.facts)
      return r
    }
    return r.then((rc) => {
      this.filtered(rule, req, rec.facts)
      return rc
    })
  }

  private match(nameLower: string): Rule | null {
    const rules = this.rules
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!
      if (r.name === '.' || isSubdomain(nameLower, r.name)) return r
    }
    return null
  }

  private filtered(rule: Rule, req: Request, facts: ReplyFacts): void {
    const type = typify(req.replyRcode, req.q.opcode, req.q.qtype, facts)
    const cls = classify(type)
    if ((rule.classes & cls) === 0) return
    this.write(rule, req, { cls: classToString(cls), type })
  }

  private write(rule: Rule, req: Request, extras: { cls: string; type: string } | null): void {
    this.sink('INFO', '[INFO] ' + renderLine(rule.parts, req, process.hrtime.bigint(), extras))
  }
}
