// A subset of Go's text/template, enough for CoreDNS template answers: text with `{{ ... }}`
// actions (trim markers `{{-` / `-}}`, comments `{{/* */}}`), pipelines `a | f`, parenthesised
// commands, field chains (`.Name`, `.Group.name`, `$.Zone`), string/number/bool literals, and the
// functions index, parseInt (strconv.ParseUint), printf, print, println, len and the `.Meta "x"`
// method. Control actions (if, range, with, define, template, block) and variables are refused
// when the template is compiled. Execution errors (unknown field, index out of range, bad
// parseInt input) are returned as values, as Go's Execute returns an error.

export type Value = string | number | bigint | boolean | null | readonly Value[] | ReadonlyMap<string, Value> | Obj | Method
export interface Obj {
  readonly kind: 'obj'
  readonly typeName: string
  readonly fields: Readonly<Record<string, Value>>
  /** Printed form of the object itself. */
  readonly text: () => string
}
export interface Method {
  readonly kind: 'method'
  readonly call: (args: Value[]) => Value
}

type Node =
  | { t: 'field'; root: 'dot' | 'dollar'; path: string[]; pos: number }
  | { t: 'lit'; v: Value }
  | { t: 'ident'; name: string; pos: number }
  | { t: 'pipe'; cmds: Node[][] }

type Part = string | { pipe: Node & { t: 'pipe' }; src: string }

export class TemplateError extends Error {}

const FUNCS = new Set(['index', 'parseInt', 'printf', 'print', 'println', 'len', 'not', 'and', 'or', 'eq', 'ne', 'html', 'js', 'urlquery', 'slice', 'call', 'lt', 'le', 'gt', 'ge'])
const SUPPORTED = new Set(['index', 'parseInt', 'printf', 'print', 'println', 'len'])
const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue'])

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r'
}

/** Splits an action's text into tokens. */
function lex(s: string, base: number): Array<{ v: string; pos: number; kind: 'str' | 'num' | 'word' | 'punct' }> {
  const out: Array<{ v: string; pos: number; kind: 'str' | 'num' | 'word' | 'punct' }> = []
  let i = 0
  while (i < s.length) {
    const c = s[i]!
    if (isSpace(c)) {
      i++
      continue
    }
    const pos = base + i
    if (c === '"') {
      let j = i + 1
      let v = ''
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\') {
          const e = s[++j]
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === '\\' ? '\\' : e === '"' ? '"' : (e ?? '')
        } else v += s[j]
      }
      if (j >= s.length) throw new TemplateError('unterminated quoted string')
      out.push({ v, pos, kind: 'str' })
      i = j + 1
      continue
    }
    if (c === '`') {
      const j = s.indexOf('`', i + 1)
      if (j < 0) throw new TemplateError('unterminated raw quoted string')
      out.push({ v: s.slice(i + 1, j), pos, kind: 'str' })
      i = j + 1
      continue
    }
    if (c === '(' || c === ')' || c === '|') {
      out.push({ v: c, pos, kind: 'punct' })
      i++
      continue
    }
    let j = i
    while (j < s.length && !isSpace(s[j]) && !'()|"`'.includes(s[j]!)) j++
    const w = s.slice(i, j)
    out.push({ v: w, pos, kind: /^[-+]?(\d|\.\d)/.test(w) ? 'num' : 'word' })
    i = j
  }
  return out
}

function parseNumber(w: string): number {
  const n = /^[-+]?0[xX][0-9a-fA-F_]+$/.test(w) ? parseInt(w.replace(/_/g, ''), 16) : Number(w.replace(/_/g, ''))
  if (Number.isNaN(n)) throw new TemplateError(`bad number syntax: "${w}"`)
  return n
}

function parsePipeline(toks: ReturnType<typeof lex>, start: number, stopAtParen: boolean): { node: Node & { t: 'pipe' }; next: number } {
  const cmds: Node[][] = []
  let cmd: Node[] = []
  let i = start
  for (; i < toks.length; i++) {
    const tk = toks[i]!
    if (tk.kind === 'punct') {
      if (tk.v === '|') {
        if (cmd.length === 0) throw new TemplateError('missing command before |')
        cmds.push(cmd)
        cmd = []
        continue
      }
      if (tk.v === ')') {
        if (!stopAtParen) throw new TemplateError('unexpected right paren')
        break
      }
      const sub = parsePipeline(toks, i + 1, true)
      if (sub.next >= toks.length) throw new TemplateError('unclosed left paren')
      cmd.push(sub.node)
      i = sub.next
      continue
    }
    if (tk.kind === 'str') cmd.push({ t: 'lit', v: tk.v })
    else if (tk.kind === 'num') cmd.push({ t: 'lit', v: parseNumber(tk.v) })
    else if (tk.v === 'true' || tk.v === 'false') cmd.push({ t: 'lit', v: tk.v === 'true' })
    else if (tk.v === 'nil') cmd.push({ t: 'lit', v: null })
    else if (tk.v === '.') cmd.push({ t: 'field', root: 'dot', path: [], pos: tk.pos })
    else if (tk.v.startsWith('.')) cmd.push({ t: 'field', root: 'dot', path: tk.v.slice(1).split('.'), pos: tk.pos })
    else if (tk.v === '$' || tk.v.startsWith('$.')) cmd.push({ t: 'field', root: 'dollar', path: tk.v === '$' ? [] : tk.v.slice(2).split('.'), pos: tk.pos })
    else if (tk.v.startsWith('$')) throw new TemplateError(`variables are not supported: ${tk.v}`)
    else if (KEYWORDS.has(tk.v)) throw new TemplateError(`unsupported action "${tk.v}"`)
    else if (tk.v === ':=' || tk.v === '=') throw new TemplateError('variables are not supported')
    else if (FUNCS.has(tk.v)) {
      if (!SUPPORTED.has(tk.v)) throw new TemplateError(`function "${tk.v}" is not supported`)
      cmd.push({ t: 'ident', name: tk.v, pos: tk.pos })
    } else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(tk.v)) throw new TemplateError(`function "${tk.v}" not defined`)
    else throw new TemplateError(`unexpected "${tk.v}" in command`)
  }
  if (cmd.length === 0) throw new TemplateError(cmds.length === 0 ? 'missing value for command' : 'missing command after |')
  cmds.push(cmd)
  return { node: { t: 'pipe', cmds }, next: i }
}

export class GoTemplate {
  readonly name: string
  readonly source: string
  readonly parts: readonly Part[]
  private constructor(name: string, source: string, parts: Part[]) {
    this.name = name
    this.source = source
    this.parts = parts
  }

  /** Compiles; throws TemplateError in Go's spirit (`template: answer:1: ...`). */
  static parse(name: string, src: string): GoTemplate {
    const parts: Part[] = []
    let i = 0
    let trimNext = false
    while (i < src.length) {
      const open = src.indexOf('{{', i)
      let text = open < 0 ? src.slice(i) : src.slice(i, open)
      if (trimNext) text = text.replace(/^[ \t\r\n]+/, '')
      trimNext = false
      if (open < 0) {
        if (text !== '') parts.push(text)
        break
      }
      let body = open + 2
      if (src[body] === '-' && isSpace(src[body + 1])) {
        text = text.replace(/[ \t\r\n]+$/, '')
        body += 2
      }
      if (text !== '') parts.push(text)
      const close = src.indexOf('}}', body)
      if (close < 0) throw new TemplateError(`template: ${name}:1: unclosed action`)
      let end = close
      if (src[close - 1] === '-' && isSpace(src[close - 2])) {
        end = close - 2
        trimNext = true
      }
      const inner = src.slice(body, end)
      const trimmed = inner.trim()
      if (trimmed.startsWith('/*')) {
        if (!trimmed.endsWith('*/')) throw new TemplateError(`template: ${name}:1: unclosed comment`)
      } else {
        try {
          const toks = lex(inner, body)
          if (toks.length === 0) throw new TemplateError('missing value for command')
          const p = parsePipeline(toks, 0, false)
          parts.push({ pipe: p.node, src: trimmed })
        } catch (e) {
          if (e instanceof TemplateError) throw new TemplateError(`template: ${name}:1: ${e.message}`)
          throw e
        }
      }
      i = close + 2
    }
    return new GoTemplate(name, src, parts)
  }

  /** Renders with `data` as dot; returns the text or an Error (Go's Execute error). */
  execute(data: Value): string | TemplateError {
    let out = ''
    for (const p of this.parts) {
      if (typeof p === 'string') {
        out += p
        continue
      }
      try {
        out += printValue(evalPipe(p.pipe, data, data, null))
      } catch (e) {
        if (e instanceof TemplateError) return new TemplateError(`template: ${this.name}:1: executing "${this.name}" at <${p.src}>: ${e.message}`)
        throw e
      }
    }
    return out
  }
}

const NO_VALUE = Symbol('no value')

function fieldOf(v: Value | typeof NO_VALUE, name: string, args: Value[] | null): Value | typeof NO_VALUE {
  if (v === NO_VALUE || v === null) throw new TemplateError(`nil pointer evaluating .${name}`)
  if (v instanceof Map) return v.has(name) ? (v.get(name) as Value) : NO_VALUE
  if (typeof v === 'object' && !Array.isArray(v) && 'kind' in v && v.kind === 'obj') {
    const f = (v as Obj).fields[name]
    if (f === undefined) throw new TemplateError(`can't evaluate field ${name} in type ${(v as Obj).typeName}`)
    if (typeof f === 'object' && f !== null && !Array.isArray(f) && !(f instanceof Map) && 'kind' in f && f.kind === 'method') {
      return (f as Method).call(args ?? [])
    }
    return f
  }
  throw new TemplateError(`can't evaluate field ${name} in type ${goTypeName(v)}`)
}

function goTypeName(v: Value): string {
  if (typeof v === 'string') return 'string'
  if (typeof v === 'number') return 'int'
  if (typeof v === 'bigint') return 'uint64'
  if (typeof v === 'boolean') return 'bool'
  if (Array.isArray(v)) return '[]string'
  if (v instanceof Map) return 'map[string]string'
  return 'interface {}'
}

function evalNode(n: Node, dot: Value, root: Value, final: Value | null, args: Value[] | null): Value | typeof NO_VALUE {
  switch (n.t) {
    case 'lit':
      return n.v
    case 'pipe':
      return evalPipe(n, dot, root, final)
    case 'field': {
      let v: Value | typeof NO_VALUE = n.root === 'dot' ? dot : root
      for (let k = 0; k < n.path.length; k++) v = fieldOf(v, n.path[k]!, k === n.path.length - 1 ? args : null)
      return v
    }
    case 'ident':
      throw new TemplateError(`unexpected function ${n.name}`)
  }
}

function evalArg(n: Node, dot: Value, root: Value): Value {
  const v = evalNode(n, dot, root, null, null)
  return v === NO_VALUE ? null : v
}

function evalPipe(p: Node & { t: 'pipe' }, dot: Value, root: Value, _final: Value | null): Value {
  let prev: Value | typeof NO_VALUE | undefined
  for (const cmd of p.cmds) {
    const head = cmd[0]!
    if (head.t === 'ident') {
      const args = cmd.slice(1).map((a) => evalArg(a, dot, root))
      if (prev !== undefined) args.push(prev === NO_VALUE ? null : prev)
      prev = callFunc(head.name, args)
      continue
    }
    if (head.t === 'field' && cmd.length > 1) {
      const args = cmd.slice(1).map((a) => evalArg(a, dot, root))
      if (prev !== undefined) args.push(prev === NO_VALUE ? null : prev)
      prev = evalNode(head, dot, root, null, args)
      continue
    }
    if (cmd.length > 1) throw new TemplateError(`can't give argument to non-function ${describe(head)}`)
    if (prev !== undefined) throw new TemplateError(`can't give argument to non-function ${describe(head)}`)
    prev = evalNode(head, dot, root, null, null)
  }
  return prev === NO_VALUE || prev === undefined ? NO_VALUE_TEXT : prev
}

const NO_VALUE_TEXT = '<no value>'

function describe(n: Node): string {
  if (n.t === 'field') return (n.root === 'dollar' ? '$' : '') + '.' + n.path.join('.')
  if (n.t === 'lit') return String(n.v)
  return 'command'
}

function toInt(v: Value, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'bigint') return Number(v)
  throw new TemplateError(`${what}: wrong type for value; expected int; got ${goTypeName(v)}`)
}

/** strconv.ParseUint(s, base, bitSize) → BigInt, or throws TemplateError with Go's text. */
export function parseUint(s: string, base: number, bitSize: number): bigint {
  const err = (why: string): never => {
    throw new TemplateError(`error calling parseInt: strconv.ParseUint: parsing ${JSON.stringify(s)}: ${why}`)
  }
  if (s === '') err('invalid syntax')
  let t = s
  let b = base
  let underscores = false
  if (b === 0) {
    b = 10
    if (t[0] === '0') {
      if (t.length >= 3 && 'xX'.includes(t[1]!)) {
        b = 16
        t = t.slice(2)
      } else if (t.length >= 3 && 'bB'.includes(t[1]!)) {
        b = 2
        t = t.slice(2)
      } else if (t.length >= 3 && 'oO'.includes(t[1]!)) {
        b = 8
        t = t.slice(2)
      } else {
        b = 8
        t = t.slice(1)
      }
      underscores = true
    }
    if (t === '' && b !== 8) err('invalid syntax')
  } else if (b < 2 || b > 36) {
    throw new TemplateError(`error calling parseInt: strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid base ${base}`)
  }
  let bits = bitSize
  if (bits === 0) bits = 64
  else if (bits < 0 || bits > 64) throw new TemplateError(`error calling parseInt: strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid bit size ${bitSize}`)
  if (underscores) t = t.replace(/_/g, '')
  let n = 0n
  const B = BigInt(b)
  for (const ch of t.toLowerCase()) {
    const d = ch >= '0' && ch <= '9' ? ch.charCodeAt(0) - 48 : ch >= 'a' && ch <= 'z' ? ch.charCodeAt(0) - 87 : 99
    if (d >= b) err('invalid syntax')
    n = n * B + BigInt(d)
  }
  if (n >= 1n << BigInt(bits)) err('value out of range')
  return n
}

function fmtVerb(verb: string, flags: string, width: number, v: Value): string {
  let s: string
  switch (verb) {
    case 'd':
      s = typeof v === 'number' || typeof v === 'bigint' ? String(v) : `%!d(${goTypeName(v)}=${printValue(v)})`
      break
    case 'x':
    case 'X':
      s =
        typeof v === 'number' || typeof v === 'bigint'
          ? v.toString(16)
          : typeof v === 'string'
            ? Buffer.from(v, 'latin1').toString('hex')
            : printValue(v)
      if (verb === 'X') s = s.toUpperCase()
      break
    case 'o':
      s = typeof v === 'number' || typeof v === 'bigint' ? v.toString(8) : printValue(v)
      break
    case 'q':
      s = JSON.stringify(printValue(v))
      break
    default:
      s = printValue(v)
  }
  if (s.length < width) {
    if (flags.includes('-')) s = s.padEnd(width, ' ')
    else if (flags.includes('0') && verb !== 's' && verb !== 'q') s = s.padStart(width, '0')
    else s = s.padStart(width, ' ')
  }
  return s
}

function sprintf(format: string, args: Value[]): string {
  let out = ''
  let a = 0
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!
    if (c !== '%') {
      out += c
      continue
    }
    const m = /^([-+# 0]*)(\d*)([a-zA-Z%])/.exec(format.slice(i + 1))
    if (m === null) {
      out += '%!(NOVERB)'
      continue
    }
    i += m[0].length
    if (m[3] === '%') {
      out += '%'
      continue
    }
    if (a >= args.length) {
      out += `%!${m[3]!}(MISSING)`
      continue
    }
    out += fmtVerb(m[3]!, m[1]!, m[2] === '' ? 0 : Number(m[2]), args[a++]!)
  }
  if (a < args.length) out += '%!(EXTRA ' + args.slice(a).map((v) => `${goTypeName(v)}=${printValue(v)}`).join(', ') + ')'
  return out
}

function callFunc(name: string, args: Value[]): Value {
  switch (name) {
    case 'index': {
      if (args.length === 0) throw new TemplateError('wrong number of args for index: want at least 1 got 0')
      let v: Value = args[0]!
      for (let k = 1; k < args.length; k++) {
        const key = args[k]!
        if (Array.isArray(v)) {
          const i = toInt(key, 'error calling index')
          if (i < 0 || i >= v.length) throw new TemplateError(`error calling index: index out of range: ${i}`)
          v = (v as readonly Value[])[i]!
        } else if (v instanceof Map) {
          if (typeof key !== 'string') throw new TemplateError('error calling index: value has type int; should be string')
          v = v.has(key) ? (v.get(key) as Value) : ''
        } else throw new TemplateError(`error calling index: can't index item of type ${goTypeName(v)}`)
      }
      return v
    }
    case 'parseInt': {
      if (args.length !== 3) throw new TemplateError(`wrong number of args for parseInt: want 3 got ${args.length}`)
      const s = args[0]!
      if (typeof s !== 'string') throw new TemplateError(`wrong type for value; expected string; got ${goTypeName(s)}`)
      return parseUint(s, toInt(args[1]!, 'parseInt'), toInt(args[2]!, 'parseInt'))
    }
    case 'printf': {
      const f = args[0]
      if (typeof f !== 'string') throw new TemplateError('wrong type for value; expected string')
      return sprintf(f, args.slice(1))
    }
    case 'print': {
      // Go's fmt.Sprint: a space between operands when neither is a string.
      let s = ''
      for (let k = 0; k < args.length; k++) {
        if (k > 0 && typeof args[k] !== 'string' && typeof args[k - 1] !== 'string') s += ' '
        s += printValue(args[k]!)
      }
      return s
    }
    case 'println':
      return args.map(printValue).join(' ') + '\n'
    case 'len': {
      const v = args[0]
      if (typeof v === 'string' || Array.isArray(v)) return v.length
      if (v instanceof Map) return v.size
      throw new TemplateError(`error calling len: len of type ${v === undefined ? 'nil' : goTypeName(v)}`)
    }
    default:
      throw new TemplateError(`function "${name}" not defined`)
  }
}

/** Go's default formatting of a value in a template. */
export function printValue(v: Value): string {
  if (v === null) return '<nil>'
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (Array.isArray(v)) return '[' + v.map(printValue).join(' ') + ']'
  if (v instanceof Map) {
    const keys = [...v.keys()].sort()
    return 'map[' + keys.map((k) => `${k}:${printValue(v.get(k) as Value)}`).join(' ') + ']'
  }
  if (typeof v === 'object' && 'kind' in v && v.kind === 'obj') return (v as Obj).text()
  return ''
}
