// Log line formats: placeholders are resolved once at setup into a list of parts, so a query that
// is logged costs one pass of string concatenation and nothing when it is not logged.

import { classToString as dnsClassToString, rcodeToString, typeToString } from '../../dns/constants.js'
import type { Request } from '../../pluginkit/types.js'

export const COMMON_FORMAT =
  '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}'
export const COMBINED_FORMAT = COMMON_FORMAT + ' "{>opcode}"'
export const DEFAULT_FORMAT = COMMON_FORMAT

/** Placeholder codes. */
export const P = {
  Literal: 0,
  Type: 1,
  Name: 2,
  Class: 3,
  Proto: 4,
  Remote: 5,
  Local: 6,
  Port: 7,
  Size: 8,
  Duration: 9,
  Rcode: 10,
  Rsize: 11,
  Rflags: 12,
  Bufsize: 13,
  Do: 14,
  Id: 15,
  Opcode: 16,
  Meta: 17,
  LogClass: 18,
  LogType: 19,
} as const

const PLAIN: ReadonlyMap<string, number> = new Map([
  ['type', P.Type],
  ['name', P.Name],
  ['class', P.Class],
  ['proto', P.Proto],
  ['remote', P.Remote],
  ['local', P.Local],
  ['port', P.Port],
  ['size', P.Size],
  ['duration', P.Duration],
  ['rcode', P.Rcode],
  ['rsize', P.Rsize],
])

// Header placeholders are case-insensitive in CoreDNS ({>ID} works).
const HEADER: ReadonlyMap<string, number> = new Map([
  ['rflags', P.Rflags],
  ['bufsize', P.Bufsize],
  ['do', P.Do],
  ['id', P.Id],
  ['opcode', P.Opcode],
])

export class Part {
  readonly code: number
  /** Literal text, or the metadata label for P.Meta. */
  readonly text: string
  constructor(code: number, text: string) {
    this.code = code
    this.text = text
  }
}

export interface CompiledFormat {
  readonly parts: readonly Part[]
  /** The format needs the response class/type ({/log/class}, {/log/type}). */
  readonly needsClass: boolean
}

/** Expands {common} and {combined} and splits the format into parts. Unknown {x} stay literal. */
export function compileFormat(format: string): CompiledFormat {
  const f = format.replaceAll('{common}', COMMON_FORMAT).replaceAll('{combined}', COMBINED_FORMAT)
  const parts: Part[] = []
  let lit = ''
  let needsClass = false
  let i = 0
  while (i < f.length) {
    const open = f.indexOf('{', i)
    if (open < 0) {
      lit += f.slice(i)
      break
    }
    const close = f.indexOf('}', open + 1)
    if (close < 0) {
      lit += f.slice(i)
      break
    }
    // A nested '{' starts the placeholder later: "{{name}" is "{" + {name}.
    const inner = f.lastIndexOf('{', close)
    lit += f.slice(i, inner)
    const key = f.slice(inner + 1, close)
    let code: number | undefined
    let text = ''
    if (key.startsWith('>')) code = HEADER.get(key.slice(1).toLowerCase())
    else if (key.startsWith('/') && key.length > 1) {
      text = key.slice(1)
      if (text === 'log/class') code = P.LogClass
      else if (text === 'log/type') code = P.LogType
      else code = P.Meta
      if (code !== P.Meta) needsClass = true
    } else code = PLAIN.get(key)
    if (code === undefined) lit += f.slice(inner, close + 1)
    else {
      if (lit !== '') parts.push(new Part(P.Literal, lit))
      lit = ''
      parts.push(new Part(code, text))
    }
    i = close + 1
  }
  if (lit !== '') parts.push(new Part(P.Literal, lit))
  return { parts, needsClass }
}

function bracket(addr: string): string {
  return addr.includes(':') ? '[' + addr + ']' : addr
}

/** `{>rflags}`: set header flags, comma separated, in miekg order. */
export function flagsToString(flags: number): string {
  let s = ''
  if (flags & 0x8000) s += 'qr,'
  if (flags & 0x0400) s += 'aa,'
  if (flags & 0x0200) s += 'tc,'
  if (flags & 0x0100) s += 'rd,'
  if (flags & 0x0080) s += 'ra,'
  if (flags & 0x0040) s += 'z,'
  if (flags & 0x0020) s += 'ad,'
  if (flags & 0x0010) s += 'cd,'
  return s === '' ? '-' : s.slice(0, -1)
}

/** Go strconv.FormatFloat(seconds, 'f', -1, 64) + "s" for a nanosecond count. */
export function formatDuration(ns: bigint): string {
  const neg = ns < 0n
  const a = neg ? -ns : ns
  const whole = a / 1000000000n
  const frac = a % 1000000000n
  let s = whole.toString()
  if (frac !== 0n) {
    let f = frac.toString().padStart(9, '0')
    let end = f.length
    while (end > 0 && f.charCodeAt(end - 1) === 0x30) end--
    f = f.slice(0, end)
    s += '.' + f
  }
  return (neg ? '-' : '') + s + 's'
}

/** The facts a line needs besides the Request: the response class and type, when computed. */
export interface LineExtras {
  cls: string
  type: string
}

/** Renders one line. `now` is process.hrtime.bigint() when the chain finished. */
export function renderLine(parts: readonly Part[], req: Request, now: bigint, extras: LineExtras | null): string {
  const q = req.q
  let s = ''
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!
    switch (p.code) {
      case P.Literal:
        s += p.text
        break
      case P.Type:
        s += typeToString(q.qtype)
        break
      case P.Name:
        s += q.qname === '' ? '-' : q.qname
        break
      case P.Class:
        s += dnsClassToString(q.qclass)
        break
      case P.Proto:
        s += req.proto
        break
      case P.Remote:
        s += req.remoteAddress === '' ? '-' : bracket(req.remoteAddress)
        break
      case P.Local:
        s += req.localAddress === '' ? '-' : bracket(req.localAddress)
        break
      case P.Port:
        s += req.remotePort
        break
      case P.Size:
        s += q.buf.length
        break
      case P.Duration:
        s += formatDuration(now - req.start)
        break
      case P.Rcode:
        s += req.replyRcode < 0 ? '-' : rcodeToString(req.replyRcode)
        break
      case P.Rsize:
        s += req.replySize
        break
      case P.Rflags:
        s += req.replyRcode < 0 ? '-' : flagsToString(req.replyFlags)
        break
      case P.Bufsize:
        s += req.maxSize
        break
      case P.Do:
        s += q.do ? 'true' : 'false'
        break
      case P.Id:
        s += q.id
        break
      case P.Opcode:
        s += q.opcode
        break
      case P.Meta: {
        const v = req.meta === null ? undefined : req.meta.get(p.text)
        s += v === undefined || v === '' ? '-' : v
        break
      }
      case P.LogClass:
        s += extras === null ? '-' : extras.cls
        break
      case P.LogType:
        s += extras === null ? '-' : extras.type
        break
    }
  }
  return s
}
