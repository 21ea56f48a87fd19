// template CLASS TYPE [ZONES...] { match REGEX...; answer RR; additional RR; authority RR;
//   rcode CODE; ederror CODE [REASON]; fallthrough [ZONES...] }
// Synthesises answers from Go-template RRs for names matching a regex (plugins.md §17, CoreDNS
// plugin/template). All `template` directives of a block form one handler, tried in file order.

import { normalizeZones } from '../../corefile/address.js'
import { expectArgs } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import type { Directive } from '../../corefile/parser.js'
import { Class, Rcode, stringToClass, stringToRcode, stringToType } from '../../dns/constants.js'
import { Fall, NO_FALL } from '../../pluginkit/fall.js'
import type { PluginDef, SetupContext } from '../../pluginkit/types.js'
import { compileGoRegex, type GoRegex } from '../rewrite/goregex.js'
import { GoTemplate, TemplateError } from './gotmpl.js'
import { Template, type Ede, type TemplateRule } from './handler.js'

const NAME = 'template'
export const MAX_REGEX_LEN = 10000
/** Highest Extended DNS Error info-code defined by RFC 8914. */
export const MAX_EDE_CODE = 24
const PROPERTIES = ['additional', 'answer', 'authority', 'ederror', 'fallthrough', 'match', 'rcode', 'upstream']
const CLASSES = new Set(['IN', 'CS', 'CH', 'HS', 'NONE', 'ANY'])

function needArgs(sub: Directive): void {
  if (sub.args.length === 0) expectArgs(sub, NAME, 1, Infinity)
}

function compileTemplates(sub: Directive, section: string): GoTemplate[] {
  needArgs(sub)
  const out: GoTemplate[] = []
  for (const a of sub.args) {
    try {
      out.push(GoTemplate.parse(section, a.text))
    } catch (e) {
      if (e instanceof TemplateError) throw pluginError(a, NAME, `could not compile template: ${a.text}, ${e.message}`)
      throw e
    }
  }
  return out
}

function parseClass(t: Token): number {
  const c = CLASSES.has(t.text) ? stringToClass(t.text) : undefined
  if (c === undefined) throw pluginError(t, NAME, `invalid query class ${t.text}`)
  return c
}

function parseType(t: Token): number {
  const v = t.text
  const n = v === v.toUpperCase() && !/^TYPE\d/.test(v) ? stringToType(v) : undefined
  if (n === undefined) throw pluginError(t, NAME, `invalid RR class ${v}`)
  return n
}

/** Parses one `template` directive. Exported for tests. */
export function parseTemplate(ctx: SetupContext, d: Directive): TemplateRule {
  expectArgs(d, NAME, 2, Infinity)
  const qclass = parseClass(d.args[0]!)
  const qtype = parseType(d.args[1]!)
  const zoneToks: Token[] = []
  for (const z of d.args.slice(2)) {
    for (const f of z.text.replace(/^['"]+|['"]+$/g, '').split(/\s+/)) if (f !== '') zoneToks.push({ ...z, text: f })
  }
  const zones = normalizeZones(zoneToks, [...ctx.zones], NAME)
  const regex: GoRegex[] = []
  let answer: GoTemplate[] = []
  let additional: GoTemplate[] = []
  let authority: GoTemplate[] = []
  let rcode: number = Rcode.NoError
  let ede: Ede | null = null
  let fall: Fall = NO_FALL
  for (const sub of d.block ?? []) {
    switch (sub.name) {
      case 'match':
        needArgs(sub)
        for (const a of sub.args) {
          if (a.text.length > MAX_REGEX_LEN) throw pluginError(a, NAME, `regex ${a.text.slice(0, 32)}... is longer than ${MAX_REGEX_LEN} characters`)
          const r = compileGoRegex(a.text)
          if (typeof r === 'string') throw pluginError(a, NAME, `could not parse regex: ${a.text}, ${r}`)
          regex.push(r)
        }
        break
      case 'answer':
        answer = answer.concat(compileTemplates(sub, 'answer'))
        break
      case 'additional':
        additional = additional.concat(compileTemplates(sub, 'additional'))
        break
      case 'authority':
        authority = authority.concat(compileTemplates(sub, 'authority'))
        break
      case 'rcode': {
        expectArgs(sub, NAME, 1, 1)
        const t = sub.args[0]!
        const r = /^\d+$/.test(t.text) ? undefined : stringToRcode(t.text)
        if (r === undefined) throw pluginError(t, NAME, `unknown rcode ${t.text}`)
        rcode = r
        break
      }
      case 'ederror': {
        expectArgs(sub, NAME, 1, 2)
        const t = sub.args[0]!
        const code = /^\d+$/.test(t.text) ? Number(t.text) : NaN
        if (!(code >= 0 && code <= MAX_EDE_CODE)) throw pluginError(t, NAME, `invalid ederror code ${t.text}; expected 0..${MAX_EDE_CODE}`)
        ede = { code, reason: sub.args[1]?.text ?? '' }
        break
      }
      case 'fallthrough':
        fall = new Fall(normalizeZones(sub.args, ['.'], NAME))
        break
      case 'upstream':
        // Deprecated in CoreDNS: CNAME targets are always resolved through the server itself.
        break
      case 'var':
      case 'expr':
        throw pluginError(sub.token, NAME, `'${sub.name}' (expr language) is not supported; use match groups and Go templates`)
      default:
        throw pluginError(sub.token, NAME, `unknown property '${sub.name}'; expected one of: ${PROPERTIES.join(', ')}`)
    }
  }
  if (regex.length === 0) regex.push(compileGoRegex('.*') as GoRegex)
  if (answer.length === 0 && authority.length === 0 && rcode === Rcode.NoError) {
    throw pluginError(d.token, NAME, 'no answer section for template found')
  }
  return { zones, qclass, qtype, regex, answer, additional, authority, rcode, ede, fall }
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    const templates: TemplateRule[] = []
    const zones: string[] = []
    for (const d of ds) {
      const t = parseTemplate(ctx, d)
      templates.push(t)
      for (const z of t.zones) if (!zones.includes(z)) zones.push(z)
    }
    if (templates.length === 0) return null
    // Classes other than IN reach the chain only when the block allows them (as forward does).
    if (templates.some((t) => t.qclass !== Class.IN)) ctx.block.allowOtherClasses = true
    return (next) => new Template(next, zones, templates)
  },
}
