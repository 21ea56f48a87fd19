// Rewrite rules (CoreDNS plugin/rewrite): each rule looks at the query being rewritten (a
// RewriteState), may change it, and returns the response rules to run on the reply, or null when
// it did not apply. Response rules undo or adjust what comes back: owner names, name-valued RDATA,
// TTLs, the rcode, CNAME targets (re-resolved), EDNS0 options.

import { Type } from '../../dns/constants.js'
import type { QueryView } from '../../dns/query.js'
import { decodeMessage } from '../../dns/message.js'
import { nameEquals, nameToWire, readName } from '../../dns/name.js'
import type { Edns, Message, RR } from '../../dns/types.js'
import { parseIP } from '../../lib/ip.js'
import type { Request } from '../../pluginkit/types.js'
import { expandGroups, findSubmatch, type GoRegex } from './goregex.js'

export type Mode = 'stop' | 'continue'
export type MatchType = 'exact' | 'prefix' | 'suffix' | 'substring' | 'regex'

/** The query as rewritten so far. Decoding of the full message happens only for EDNS0 rules. */
export class RewriteState {
  readonly req: Request
  readonly orig: QueryView
  /** Current question name as it will be sent on (case as written). */
  name: string
  /** Lower-cased current name (what rules match against, CoreDNS state.Name()). */
  lower: string
  type: number
  klass: number
  /** The query's OPT, decoded on first use by an EDNS0 rule. */
  edns: Edns | null
  ednsLoaded: boolean
  nameChanged: boolean
  /** Anything of the query changed (it must be re-encoded). */
  modified: boolean
  constructor(req: Request) {
    const q = req.q
    this.req = req
    this.orig = q
    this.name = q.qname
    this.lower = q.qnameLower
    this.type = q.qtype
    this.klass = q.qclass
    this.edns = null
    this.ednsLoaded = false
    this.nameChanged = false
    this.modified = false
  }
  setName(name: string): void {
    this.name = name
    this.lower = name.toLowerCase()
    this.nameChanged = true
    this.modified = true
  }
  /** The OPT of the query, created (UDP size 4096) when the query has none. */
  opt(): Edns {
    if (!this.ednsLoaded) {
      this.ednsLoaded = true
      if (this.orig.hasEdns) {
        try {
          this.edns = decodeMessage(this.orig.buf).edns
        } catch {
          this.edns = null
        }
      }
    }
    if (this.edns === null) this.edns = { udpSize: 4096, extRcode: 0, version: 0, flags: 0, options: [] }
    return this.edns
  }
}

// ---------------------------------------------------------------------------------------------
// Response rules

export interface ResponseRule {
  /** Called for every record of authority, answer and additional (in that order). */
  rr(rr: RR, msg: Message): void
  /** Called once per reply, after the records. */
  msg(msg: Message): void
}

/** Maps one exact name back (answer auto). Case-insensitive, as names are. */
export class RemapStrings {
  readonly from: string
  readonly to: string
  constructor(from: string, to: string) {
    this.from = from
    this.to = to
  }
  apply(s: string): string {
    return nameEquals(s, this.from) ? this.to : s
  }
}

/** `answer name|value FROM TO`: regex with `{n}` groups. */
export class RegexStrings {
  readonly pattern: GoRegex
  readonly replacement: string
  constructor(pattern: GoRegex, replacement: string) {
    this.pattern = pattern
    this.replacement = replacement
  }
  apply(s: string): string {
    const g = findSubmatch(this.pattern, s)
    return g === null ? s : expandGroups(this.replacement, g)
  }
}

export type StringRewriter = RemapStrings | RegexStrings

export class NameResponse implements ResponseRule {
  readonly s: StringRewriter
  constructor(s: StringRewriter) {
    this.s = s
  }
  rr(rr: RR): void {
    rr.name = this.s.apply(rr.name)
  }
  msg(): void {}
}

/** NAPTR RDATA: order, preference, flags, services, regexp, replacement (uncompressed name). */
function naptrReplacement(data: Buffer): { head: Buffer; name: string } | null {
  let p = 4
  for (let k = 0; k < 3; k++) {
    if (p >= data.length) return null
    p += 1 + data[p]!
  }
  if (p >= data.length) return null
  try {
    const r = readName(data, p)
    return { head: data.subarray(0, p), name: r.name }
  } catch {
    return null
  }
}

export class ValueResponse implements ResponseRule {
  readonly s: StringRewriter
  constructor(s: StringRewriter) {
    this.s = s
  }
  rr(rr: RR): void {
    const d = rr.data
    switch (rr.type) {
      case Type.CNAME:
      case Type.NS:
      case Type.DNAME:
      case Type.PTR:
        if (typeof d === 'string') rr.data = this.s.apply(d)
        break
      case Type.MX:
        if (typeof d === 'object' && 'exchange' in d) rr.data = { preference: d.preference, exchange: this.s.apply(d.exchange) }
        break
      case Type.SRV:
        if (typeof d === 'object' && 'target' in d) rr.data = { ...d, target: this.s.apply(d.target) }
        break
      case Type.SOA:
        if (typeof d === 'object' && 'mname' in d) rr.data = { ...d, mname: this.s.apply(d.mname) }
        break
      case Type.NAPTR:
        if (Buffer.isBuffer(d)) {
          const n = naptrReplacement(d)
          if (n === null) break
          const to = this.s.apply(n.name)
          if (to === n.name) break
          try {
            rr.data = Buffer.concat([n.head, nameToWire(to)])
          } catch {
            // an unencodable name leaves the record as it was
          }
        }
        break
      default:
    }
  }
  msg(): void {}
}

export class TtlResponse implements ResponseRule {
  readonly min: number
  readonly max: number
  constructor(min: number, max: number) {
    this.min = min
    this.max = max
  }
  rr(rr: RR): void {
    if (rr.ttl < this.min) rr.ttl = this.min
    else if (rr.ttl > this.max) rr.ttl = this.max
  }
  msg(): void {}
}

export class RcodeResponse implements ResponseRule {
  readonly from: number
  readonly to: number
  constructor(from: number, to: number) {
    this.from = from
    this.to = to
  }
  rr(): void {}
  msg(m: Message): void {
    const cur = m.edns === null ? m.flags & 0xf : (m.edns.extRcode << 4) | (m.flags & 0xf)
    if (cur !== this.from) return
    m.flags = (m.flags & 0xfff0) | (this.to & 0xf)
    if (m.edns !== null) m.edns.extRcode = this.to >>> 4
    else if (this.to > 15) m.edns = { udpSize: 1232, extRcode: this.to >>> 4, version: 0, flags: 0, options: [] }
  }
}

/** `edns0 ... revert`: puts the option as the client sent it back into the reply's OPT. */
export class EdnsRevertResponse implements ResponseRule {
  readonly code: number
  /** The client's option data, or null when it had none. */
  readonly original: Buffer | null
  constructor(code: number, original: Buffer | null) {
    this.code = code
    this.original = original
  }
  rr(): void {}
  msg(m: Message): void {
    if (m.edns === null) return
    m.edns.options = m.edns.options.filter((o) => o.code !== this.code)
    if (this.original !== null) m.edns.options.push({ code: this.code, data: this.original })
  }
}

/** Rewrites a CNAME target in the reply and resolves the new target (needs I/O: run apart). */
export class CnameResponse {
  readonly rule: CnameRule
  readonly qtype: number
  constructor(rule: CnameRule, qtype: number) {
    this.rule = rule
    this.qtype = qtype
  }
  /** The first CNAME whose target the rule rewrites: [from, to], or null. */
  find(m: Message): { from: string; to: string } | null {
    for (const rr of m.answer) {
      if (rr.type !== Type.CNAME || typeof rr.data !== 'string') continue
      const ft = this.rule.fromTo(rr.data)
      if (ft !== null && rr.data === ft.from) return ft
    }
    return null
  }
  /** Every CNAME of the answer gets the new target; then the records of `up` owned by it. */
  apply(m: Message, to: string, up: Message | null): void {
    const answer: RR[] = []
    for (const rr of m.answer) {
      if (rr.type === Type.CNAME) {
        rr.data = to
        answer.push(rr)
      }
    }
    if (up !== null) for (const rr of up.answer) if (nameEquals(rr.name, to)) answer.push(rr)
    m.answer = answer
  }
}

// ---------------------------------------------------------------------------------------------
// Rules

export interface Rule {
  readonly mode: Mode
  /** Rewrites `st` and returns the response rules, or null when the rule does not apply. */
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null
}

/** How ttl/rcode/name rules match the (lower-cased) query name. */
export class NameMatcher {
  readonly type: MatchType
  readonly from: string
  readonly regex: GoRegex | null
  constructor(type: MatchType, from: string, regex: GoRegex | null) {
    this.type = type
    this.from = from
    this.regex = regex
  }
  test(name: string): boolean {
    switch (this.type) {
      case 'exact':
        return name === this.from
      case 'prefix':
        return name.startsWith(this.from)
      case 'suffix':
        return name.endsWith(this.from)
      case 'substring':
        return name.includes(this.from)
      case 'regex':
        return findSubmatch(this.regex!, name) !== null
    }
  }
}

const EMPTY: Array<ResponseRule | CnameResponse> = []

export class NameRule implements Rule {
  readonly mode: Mode
  readonly match: NameMatcher
  readonly to: string
  /** `answer auto` (always on for exact). */
  readonly auto: boolean
  readonly answers: readonly ResponseRule[]
  constructor(mode: Mode, match: NameMatcher, to: string, auto: boolean, answers: readonly ResponseRule[]) {
    this.mode = mode
    this.match = match
    this.to = to
    this.auto = auto
    this.answers = answers
  }
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null {
    const name = st.lower
    const m = this.match
    let out: string
    switch (m.type) {
      case 'exact':
        if (name !== m.from) return null
        out = this.to
        break
      case 'prefix':
        if (!name.startsWith(m.from)) return null
        out = this.to + name.slice(m.from.length)
        break
      case 'suffix':
        if (!name.endsWith(m.from)) return null
        out = name.slice(0, name.length - m.from.length) + this.to
        break
      case 'substring':
        if (!name.includes(m.from)) return null
        out = name.split(m.from).join(this.to)
        break
      case 'regex': {
        const g = findSubmatch(m.regex!, name)
        if (g === null) return null
        out = expandGroups(this.to, g)
        break
      }
    }
    st.setName(out)
    if (!this.auto) return this.answers.length === 0 ? EMPTY : [...this.answers]
    const rules: Array<ResponseRule | CnameResponse> = [new NameResponse(new RemapStrings(st.lower, name))]
    for (const a of this.answers) rules.push(a)
    return rules
  }
}

export class TypeRule implements Rule {
  readonly mode: Mode
  readonly from: number
  readonly to: number
  constructor(mode: Mode, from: number, to: number) {
    this.mode = mode
    this.from = from
    this.to = to
  }
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null {
    if (st.type !== this.from) return null
    st.type = this.to
    st.modified = true
    return EMPTY
  }
}

export class ClassRule implements Rule {
  readonly mode: Mode
  readonly from: number
  readonly to: number
  constructor(mode: Mode, from: number, to: number) {
    this.mode = mode
    this.from = from
    this.to = to
  }
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null {
    if (st.klass !== this.from) return null
    st.klass = this.to
    st.modified = true
    return EMPTY
  }
}

export class TtlRule implements Rule {
  readonly mode: Mode
  readonly match: NameMatcher
  readonly response: TtlResponse
  constructor(mode: Mode, match: NameMatcher, min: number, max: number) {
    this.mode = mode
    this.match = match
    this.response = new TtlResponse(min, max)
  }
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null {
    return this.match.test(st.lower) ? [this.response] : null
  }
}

export class RcodeRule implements Rule {
  readonly mode: Mode
  readonly match: NameMatcher
  readonly response: RcodeResponse
  constructor(mode: Mode, match: NameMatcher, from: number, to: number) {
    this.mode = mode
    this.match = match
    this.response = new RcodeResponse(from, to)
  }
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null {
    return this.match.test(st.lower) ? [this.response] : null
  }
}

export class CnameRule implements Rule {
  readonly mode: Mode
  readonly type: MatchType
  readonly from: string
  readonly to: string
  readonly regex: GoRegex | null
  constructor(mode: Mode, type: MatchType, from: string, to: string, regex: GoRegex | null) {
    this.mode = mode
    this.type = type
    this.from = from
    this.to = to
    this.regex = regex
  }
  /** CoreDNS getFromAndToTarget. */
  fromTo(target: string): { from: string; to: string } | null {
    switch (this.type) {
      case 'exact':
        return { from: this.from, to: this.to }
      case 'prefix':
        return target.startsWith(this.from) ? { from: target, to: this.to + target.slice(this.from.length) } : null
      case 'suffix':
        return target.endsWith(this.from) ? { from: target, to: target.slice(0, target.length - this.from.length) + this.to } : null
      case 'substring':
        return target.includes(this.from) ? { from: target, to: target.split(this.from).join(this.to) } : null
      case 'regex': {
        const g = findSubmatch(this.regex!, target)
        return g === null ? null : { from: target, to: expandGroups(this.to, g) }
      }
    }
  }
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null {
    return [new CnameResponse(this, st.type)]
  }
}

// ---------------------------------------------------------------------------------------------
// EDNS0

export type EdnsAction = 'set' | 'append' | 'replace' | 'unset'

export const EDNS_NSID = 3
export const EDNS_SUBNET = 8

/** Finds, sets, appends or removes one option code in the query's OPT. */
function applyOption(st: RewriteState, action: EdnsAction, code: number, data: () => Buffer | null, revert: boolean): Array<ResponseRule | CnameResponse> | null {
  const opt = st.opt()
  const idx = opt.options.findIndex((o) => o.code === code)
  const before = idx >= 0 ? opt.options[idx]!.data : null
  const done = (): Array<ResponseRule | CnameResponse> => {
    st.modified = true
    return revert ? [new EdnsRevertResponse(code, before)] : EMPTY
  }
  if (action === 'unset') {
    if (idx < 0) return null
    opt.options = opt.options.filter((o) => o.code !== code)
    return done()
  }
  if (idx >= 0) {
    if (action === 'append') return null
    const d = data()
    if (d === null) return null
    opt.options[idx] = { code, data: d }
    return done()
  }
  if (action === 'replace') return null
  const d = data()
  if (d === null) return null
  opt.options.push({ code, data: d })
  return done()
}

export class EdnsLocalRule implements Rule {
  readonly mode: Mode
  readonly action: EdnsAction
  readonly code: number
  readonly data: Buffer
  readonly revert: boolean
  constructor(mode: Mode, action: EdnsAction, code: number, data: Buffer, revert: boolean) {
    this.mode = mode
    this.action = action
    this.code = code
    this.data = data
    this.revert = revert
  }
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null {
    return applyOption(st, this.action, this.code, () => this.data, this.revert)
  }
}

export const EDNS_VARIABLES = ['{qname}', '{qtype}', '{client_ip}', '{client_port}', '{protocol}', '{server_ip}', '{server_port}'] as const

function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2)
  b.writeUInt16BE(n & 0xffff, 0)
  return b
}

/** IPv4 (also IPv4-mapped IPv6) → 4 bytes, else 16; null when unparsable. */
export function ipBytes(text: string): Uint8Array | null {
  const pct = text.indexOf('%')
  const ip = parseIP(pct >= 0 ? text.slice(0, pct) : text)
  if (ip === null) return null
  if (ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff) return ip.slice(12)
  return ip
}

export class EdnsVariableRule implements Rule {
  readonly mode: Mode
  readonly action: EdnsAction
  readonly code: number
  readonly variable: string
  readonly revert: boolean
  constructor(mode: Mode, action: EdnsAction, code: number, variable: string, revert: boolean) {
    this.mode = mode
    this.action = action
    this.code = code
    this.variable = variable
    this.revert = revert
  }
  data(st: RewriteState): Buffer | null {
    const req = st.req
    switch (this.variable) {
      case '{qname}':
        return Buffer.from(st.name, 'latin1')
      case '{qtype}':
        return u16(st.type)
      case '{client_ip}': {
        const ip = ipBytes(req.remoteAddress)
        return ip === null ? null : Buffer.from(ip)
      }
      case '{server_ip}': {
        const ip = ipBytes(req.localAddress)
        return ip === null ? null : Buffer.from(ip)
      }
      case '{client_port}':
        return u16(req.remotePort)
      case '{server_port}':
        return u16(req.localPort)
      case '{protocol}':
        return Buffer.from(req.proto, 'latin1')
      default: {
        const v = req.meta?.get(this.variable.slice(1, -1))
        return v === undefined || v === '' ? null : Buffer.from(v, 'utf8')
      }
    }
  }
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null {
    if (this.action !== 'unset') {
      const d = this.data(st)
      if (d === null) return null
      return applyOption(st, this.action, this.code, () => d, this.revert)
    }
    return applyOption(st, this.action, this.code, () => null, this.revert)
  }
}

export class EdnsNsidRule implements Rule {
  readonly mode: Mode
  readonly action: EdnsAction
  readonly revert: boolean
  constructor(mode: Mode, action: EdnsAction, revert: boolean) {
    this.mode = mode
    this.action = action
    this.revert = revert
  }
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null {
    return applyOption(st, this.action, EDNS_NSID, () => Buffer.alloc(0), this.revert)
  }
}

/** ECS option data: family, source prefix, scope 0, the address cut to the prefix. */
export function ecsData(ip: Uint8Array, bits: number): Buffer {
  const family = ip.length === 4 ? 1 : 2
  const n = Math.ceil(bits / 8)
  const out = Buffer.alloc(4 + n)
  out.writeUInt16BE(family, 0)
  out[2] = bits
  out[3] = 0
  for (let i = 0; i < n; i++) {
    const keep = Math.min(8, bits - i * 8)
    out[4 + i] = ip[i]! & ((0xff << (8 - keep)) & 0xff)
  }
  return out
}

export class EdnsSubnetRule implements Rule {
  readonly mode: Mode
  readonly action: EdnsAction
  readonly v4Bits: number
  readonly v6Bits: number
  readonly revert: boolean
  constructor(mode: Mode, action: EdnsAction, v4Bits: number, v6Bits: number, revert: boolean) {
    this.mode = mode
    this.action = action
    this.v4Bits = v4Bits
    this.v6Bits = v6Bits
    this.revert = revert
  }
  apply(st: RewriteState): Array<ResponseRule | CnameResponse> | null {
    const opt = st.opt()
    const existing = opt.options.find((o) => o.code === EDNS_SUBNET)
    const data = (): Buffer | null => {
      const ip = ipBytes(st.req.remoteAddress)
      if (ip === null) return null
      // An existing option keeps its (shorter) source prefix, as CoreDNS fillEcsData.
      let bits = existing !== undefined && existing.data.length >= 3 ? existing.data[2]! : 128
      const limit = ip.length === 4 ? this.v4Bits : this.v6Bits
      if (limit < bits) bits = limit
      if (bits > ip.length * 8) bits = ip.length * 8
      return ecsData(ip, bits)
    }
    return applyOption(st, this.action, EDNS_SUBNET, data, this.revert)
  }
}
