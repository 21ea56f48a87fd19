// Parsing of one rewrite rule from its tokens (CoreDNS rewrite.go newRule and the per-field
// constructors), with CoreDNS's error texts; errors point at the offending token.

import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import { stringToClass, stringToType } from '../../dns/constants.js'
import { compileGoRegex, groupRefCount, type GoRegex } from './goregex.js'
import {
  ClassRule,
  CnameRule,
  EDNS_VARIABLES,
  EdnsLocalRule,
  EdnsNsidRule,
  EdnsSubnetRule,
  EdnsVariableRule,
  NameMatcher,
  NameResponse,
  NameRule,
  RcodeRule,
  RegexStrings,
  TtlRule,
  TypeRule,
  ValueResponse,
  type EdnsAction,
  type MatchType,
  type Mode,
  type ResponseRule,
  type Rule,
} from './rules.js'

const NAME = 'rewrite'
/** Longest accepted regex (CoreDNS caps patterns at 10000 characters). */
export const MAX_REGEX_LEN = 10000
const MATCH_TYPES: readonly string[] = ['exact', 'prefix', 'suffix', 'substring', 'regex']

class RuleError extends Error {
  readonly at: number
  constructor(message: string, at: number) {
    super(message)
    this.at = at
  }
}

function fail(msg: string, at = 0): never {
  throw new RuleError(msg, at)
}

/** plugin.Name(x).Normalize(): lower-case, fully qualified. */
export function normalize(s: string): string {
  const l = s.toLowerCase()
  return l.endsWith('.') ? l : l + '.'
}

function regex(src: string, at: number, what: string): GoRegex {
  if (src.length > MAX_REGEX_LEN) fail(`${what} longer than ${MAX_REGEX_LEN} characters`, at)
  const r = compileGoRegex(src)
  if (typeof r === 'string') fail(`invalid regex matching pattern: ${src} (${r})`, at)
  return r
}

/** isValidRegexPattern: `from` compiles and `to` uses no more `{n}` groups than it has. */
function validRegex(from: string, to: string, at: number): GoRegex {
  const r = regex(from, at, 'regex')
  if (groupRefCount(to) > r.groups) {
    fail(`the rewrite regex pattern (${to}) uses more subexpressions than its corresponding matching regex pattern (${from})`, at)
  }
  return r
}

function matcher(type: string, from: string, at: number, field: string): NameMatcher {
  switch (type) {
    case 'exact':
    case 'prefix':
    case 'suffix':
    case 'substring':
      return new NameMatcher(type, normalize(from), null)
    case 'regex': {
      if (from.length > MAX_REGEX_LEN) fail(`regex longer than ${MAX_REGEX_LEN} characters`, at)
      const r = compileGoRegex(from)
      if (typeof r === 'string') fail(`invalid regex pattern in a ${field} rule: ${from}`, at)
      return new NameMatcher('regex', from, r)
    }
    default:
      return fail(`${field} rule supports only exact, prefix, suffix, substring, and regex name matching`, at - 1)
  }
}

function parseAnswerRules(match: string, args: readonly string[], base: number): { auto: boolean; rules: ResponseRule[] } {
  let auto = false
  const rules: ResponseRule[] = []
  let nameRules = 0
  let i = 0
  let last = ''
  if (args.length < 2) fail(`invalid arguments for ${match} rule`, base)
  while (i < args.length) {
    if (args[i] !== 'answer') {
      if (last === '') fail(`exceeded the number of arguments for a non-regex ${match} rule`, base + i)
      fail(`exceeded the number of arguments for ${last} answer rule for ${match} rule`, base + i)
    }
    i++
    if (i >= args.length) fail(`type missing for answer rule for ${match} rule`, base + i - 1)
    last = args[i]!
    i++
    switch (last) {
      case 'auto':
        auto = true
        continue
      case 'name':
      case 'value': {
        if (args.length - i < 2) fail(`${last} answer rule for ${match} rule: 2 arguments required`, base + i - 1)
        const from = args[i]!
        const to = args[i + 1]!
        let r: GoRegex
        try {
          r = validRegex(from, to, base + i)
        } catch (e) {
          fail(`${last} answer rule for ${match} rule: ${(e as Error).message}`, base + i)
        }
        const s = new RegexStrings(r, normalize(to))
        rules.push(last === 'name' ? new NameResponse(s) : new ValueResponse(s))
        if (last === 'name') nameRules++
        i += 2
        break
      }
      default:
        fail(`invalid type "${last}" for answer rule for ${match} rule`, base + i - 1)
    }
  }
  if (auto && nameRules > 0) fail('auto name answer rule cannot be combined with explicit name anwer rules', base)
  return { auto, rules }
}

function nameRule(mode: Mode, args: readonly string[], base: number): Rule {
  if (args.length < 2) fail('too few arguments for a name rule', base - 1)
  let type: string
  let from: string
  let to: string
  if (args.length === 2) {
    type = 'exact'
    from = normalize(args[0]!)
    to = normalize(args[1]!)
  } else {
    type = args[0]!.toLowerCase()
    if (!MATCH_TYPES.includes(type)) {
      fail(`name rule supports only exact, prefix, suffix, substring, and regex name matching, received: ${type}`, base)
    }
    if (type === 'regex') {
      from = args[1]!
      to = args[2]!
    } else {
      from = normalize(args[1]!)
      to = normalize(args[2]!)
    }
  }
  let auto = false
  let answers: ResponseRule[] = []
  if (args.length > 3) {
    const r = parseAnswerRules(type, args.slice(3), base + 3)
    auto = r.auto
    answers = r.rules
  }
  switch (type) {
    case 'exact':
      // CoreDNS compiles TO as a pattern here (it is used to match answers back).
      validRegex(to, from, base + args.length - 1)
      return new NameRule(mode, new NameMatcher('exact', from, null), to, true, answers)
    case 'prefix':
    case 'suffix':
    case 'substring':
      return new NameRule(mode, new NameMatcher(type, from, null), to, auto, answers)
    default: {
      const r = validRegex(from, to, base + 1)
      return new NameRule(mode, new NameMatcher('regex', from, r), normalize(to), auto, answers)
    }
  }
}

/** "30", "30-300", "-300", "30-" → [min, max]; null when invalid. */
export function parseTtlRange(v: string): [number, number] | null {
  const u32 = (s: string): number | null => (/^\d+$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : null)
  const parts = v.split('-')
  if (parts.length === 1) {
    const n = u32(parts[0]!)
    return n === null ? null : [n, n]
  }
  if (parts.length !== 2) return null
  const [a, b] = parts as [string, string]
  const min = a === '' ? 0 : u32(a)
  if (min === null) return null
  let max: number | null
  if (b === '') {
    if (a === '') return null
    max = 2147483647
  } else max = u32(b)
  if (max === null || min > max) return null
  return [min, max]
}

function ttlRule(mode: Mode, args: readonly string[], base: number): Rule {
  if (args.length < 2) fail(`too few (${args.length}) arguments for a ttl rule`, base - 1)
  if (args.length > 3) fail('many few arguments for a ttl rule', base + 3)
  const s = args.length === 2 ? args[1]! : args[2]!
  const range = parseTtlRange(s)
  if (range === null) fail(`invalid TTL '${s}' for a ttl rule`, base + args.length - 1)
  const m = args.length === 3 ? matcher(args[0]!.toLowerCase(), args[1]!, base + 1, 'ttl') : new NameMatcher('exact', normalize(args[0]!), null)
  return new TtlRule(mode, m, range[0], range[1])
}

/** Rcode by number (0..23) or name (case-insensitive), as CoreDNS isValidRCode. */
export function parseRcode(v: string): number | null {
  if (/^\d+$/.test(v)) {
    const n = Number(v)
    return n <= 23 ? n : null
  }
  const names: Record<string, number> = {
    NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7,
    NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10, BADSIG: 16, BADVERS: 16, BADKEY: 17, BADTIME: 18, BADMODE: 19,
    BADNAME: 20, BADALG: 21, BADTRUNC: 22, BADCOOKIE: 23,
  }
  const r = names[v.toUpperCase()]
  return r === undefined ? null : r
}

function rcodeRule(mode: Mode, args: readonly string[], base: number): Rule {
  if (args.length < 3) fail(`too few (${args.length}) arguments for a rcode rule`, base - 1)
  if (args.length > 4) fail('many few arguments for a rcode rule', base + 4)
  const [oldS, newS] = args.length === 3 ? [args[1]!, args[2]!] : [args[2]!, args[3]!]
  const from = parseRcode(oldS)
  if (from === null) fail(`invalid matching RCODE '${oldS}' for a rcode rule`, base + args.length - 2)
  const to = parseRcode(newS)
  if (to === null) fail(`invalid replacement RCODE '${newS}' for a rcode rule`, base + args.length - 1)
  const m = args.length === 4 ? matcher(args[0]!.toLowerCase(), args[1]!, base + 1, 'rcode') : new NameMatcher('exact', normalize(args[0]!), null)
  return new RcodeRule(mode, m, from, to)
}

function cnameRule(mode: Mode, args: readonly string[], base: number): Rule {
  let type: string
  let from: string
  let to: string
  if (args.length === 3) {
    type = args[0]!.toLowerCase()
    if (!MATCH_TYPES.includes(type)) fail(`unknown cname rewrite type: ${type}`, base)
    from = args[1]!.toLowerCase()
    to = args[2]!.toLowerCase()
  } else if (args.length === 2) {
    type = 'exact'
    from = args[0]!.toLowerCase()
    to = args[1]!.toLowerCase()
  } else {
    fail(`too few (${args.length}) arguments for a cname rule`, base - 1)
  }
  const r = type === 'regex' ? regex(from, base + 1, 'regex') : null
  return new CnameRule(mode, type as MatchType, from, to, r)
}

function goParseUint(s: string, bits: number): number | null {
  // strconv.ParseUint(s, 0, bits): 0x / 0o / 0b / leading-0 octal prefixes, underscores allowed with a prefix.
  let t = s
  let base = 10
  if (/^0[xX]/.test(t)) {
    base = 16
    t = t.slice(2)
  } else if (/^0[bB]/.test(t)) {
    base = 2
    t = t.slice(2)
  } else if (/^0[oO]/.test(t)) {
    base = 8
    t = t.slice(2)
  } else if (t.length > 1 && t[0] === '0') {
    base = 8
    t = t.slice(1)
  }
  if (base !== 10) t = t.replace(/_/g, '')
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, base)
  if (t === '' || ![...t.toLowerCase()].every((c) => digits.includes(c))) return null
  const n = parseInt(t, base)
  return n < 2 ** bits ? n : null
}

const ACTIONS: readonly string[] = ['set', 'append', 'replace', 'unset']

function edns0Rule(mode: Mode, argsIn: readonly string[], base: number): Rule {
  if (argsIn.length < 2) fail('too few arguments for an EDNS0 rule', base - 1)
  let args = argsIn
  let revert = false
  if (args.length > 2 && args[args.length - 1]!.toLowerCase() === 'revert') {
    revert = true
    args = args.slice(0, -1)
  }
  const type = args[0]!.toLowerCase()
  const action = args[1]!.toLowerCase()
  if (!ACTIONS.includes(action)) fail(`invalid action: "${action}"`, base + 1)
  const act = action as EdnsAction
  switch (type) {
    case 'local': {
      if (act === 'unset') {
        if (args.length !== 3) fail('EDNS0 local unset rules require exactly one arg', base + 1)
      } else if (args.length !== 4) fail('EDNS0 local rules require exactly three args', base + 1)
      const codeS = args[2]!
      const code = goParseUint(codeS, 16)
      if (code === null) fail(`strconv.ParseUint: parsing "${codeS}": invalid syntax`, base + 2)
      if (act === 'unset') return new EdnsLocalRule(mode, act, code, Buffer.alloc(0), revert)
      const data = args[3]!
      if (data.startsWith('{') && data.endsWith('}')) {
        const ok = (EDNS_VARIABLES as readonly string[]).includes(data) || /^\{[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\}$/.test(data)
        if (!ok) fail(`unsupported variable name "${data}"`, base + 3)
        return new EdnsVariableRule(mode, act, code, data, revert)
      }
      let bytes: Buffer
      if (data.startsWith('0x')) {
        const hex = data.slice(2)
        if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) fail(`encoding/hex: invalid byte in "${data}"`, base + 3)
        bytes = Buffer.from(hex, 'hex')
      } else bytes = Buffer.from(data, 'utf8')
      return new EdnsLocalRule(mode, act, code, bytes, revert)
    }
    case 'nsid':
      if (args.length !== 2) fail('EDNS0 NSID rules do not accept args', base + 2)
      return new EdnsNsidRule(mode, act, revert)
    case 'subnet': {
      if (act === 'unset') {
        if (args.length !== 2 && args.length !== 4) fail('EDNS0 subnet unset rules accept no args', base + 2)
        return new EdnsSubnetRule(mode, act, 32, 128, revert)
      }
      if (args.length !== 4) fail('EDNS0 subnet rules require exactly three args', base + 1)
      const v4 = goParseUint(args[2]!, 16)
      if (v4 === null) fail(`strconv.ParseUint: parsing "${args[2]!}": invalid syntax`, base + 2)
      if (v4 > 32) fail(`invalid IPv4 bit mask length ${v4}`, base + 2)
      const v6 = goParseUint(args[3]!, 16)
      if (v6 === null) fail(`strconv.ParseUint: parsing "${args[3]!}": invalid syntax`, base + 3)
      if (v6 > 128) fail(`invalid IPv6 bit mask length ${v6}`, base + 3)
      return new EdnsSubnetRule(mode, act, v4, v6, revert)
    }
    default:
      return fail(`invalid rule type "${type}"`, base)
  }
}

function typeOrClass(field: 'type' | 'class', mode: Mode, args: readonly string[], base: number): Rule {
  const conv = field === 'type' ? stringToType : stringToClass
  const a = args[0]!.toUpperCase()
  const b = args[1]!.toUpperCase()
  const from = conv(a)
  if (from === undefined || /^(TYPE|CLASS)\d/.test(a)) fail(`invalid ${field} "${a}"`, base)
  const to = conv(b)
  if (to === undefined || /^(TYPE|CLASS)\d/.test(b)) fail(`invalid ${field} "${b}"`, base + 1)
  return field === 'type' ? new TypeRule(mode, from, to) : new ClassRule(mode, from, to)
}

/** Builds a rule from its tokens (everything after `rewrite`, block tokens flattened). */
export function newRule(toks: readonly Token[], at: Token): Rule {
  const args = toks.map((t) => t.text)
  try {
    if (args.length === 0) fail('no rule type specified for rewrite')
    const arg0 = args[0]!.toLowerCase()
    let mode: Mode = 'stop'
    let start = 1
    if (arg0 === 'continue' || arg0 === 'stop') {
      mode = arg0
      if (args.length < 2) fail('no rule type specified for rewrite')
      start = 2
    }
    const ruleType = args[start - 1]!.toLowerCase()
    const rest = args.slice(start)
    const expect = rest.length + 1
    switch (ruleType) {
      case 'answer':
        return fail('response rewrites must begin with a name rule', start - 1)
      case 'name':
        return nameRule(mode, rest, start)
      case 'class':
      case 'type':
        if (expect !== 3) fail(`${ruleType} rules must have exactly two arguments`, start - 1)
        return typeOrClass(ruleType, mode, rest, start)
      case 'edns0':
        return edns0Rule(mode, rest, start)
      case 'ttl':
        return ttlRule(mode, rest, start)
      case 'rcode':
        return rcodeRule(mode, rest, start)
      case 'cname':
        return cnameRule(mode, rest, start)
      default:
        return fail(`invalid rule type "${args[start - 1]!}"`, start - 1)
    }
  } catch (e) {
    if (e instanceof RuleError) {
      const tok = toks[Math.max(0, Math.min(e.at, toks.length - 1))] ?? at
      throw pluginError(tok, NAME, e.message)
    }
    throw e
  }
}
