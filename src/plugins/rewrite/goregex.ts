// Go RE2 regular expressions (the syntax of CoreDNS Corefile patterns) translated to JS RegExp.
// Used by rewrite and template. RE2 is a subset of what JS backtracking regexps can match, with the
// same leftmost-first semantics, so most patterns carry over unchanged; the differences handled
// here are syntax: `(?P<name>`, leading `(?flags)`, `\A` `\z` `\Q..\E`, POSIX classes `[[:alpha:]]`,
// `\pL`, and the things RE2 refuses (look-around, back-references, repeat counts above 1000),
// which are refused here too. Flags in the middle of a pattern or on a group (`(?i:x)`) cannot be
// expressed in Node 20's RegExp and are rejected with a clear message.
// Candidate for src/pluginkit/ (shared by two plugins).

const POSIX: ReadonlyMap<string, string> = new Map([
  ['alnum', '0-9A-Za-z'],
  ['alpha', 'A-Za-z'],
  ['ascii', '\\x00-\\x7f'],
  ['blank', '\\t '],
  ['cntrl', '\\x00-\\x1f\\x7f'],
  ['digit', '0-9'],
  ['graph', '!-~'],
  ['lower', 'a-z'],
  ['print', ' -~'],
  ['punct', '!-\\/:-@\\[-`{-~'],
  ['space', '\\t\\n\\v\\f\\r '],
  ['upper', 'A-Z'],
  ['word', '0-9A-Za-z_'],
  ['xdigit', '0-9A-Fa-f'],
])

/** Max RE2 repeat count. */
const MAX_REPEAT = 1000

export interface GoRegex {
  readonly re: RegExp
  /** Capture groups (RE2 NumSubexp). */
  readonly groups: number
  /** Name of each group, index 0 = whole match (""), "" for unnamed groups (RE2 SubexpNames). */
  readonly names: readonly string[]
  /** The pattern as written. */
  readonly source: string
}

function escapeLiteral(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
}

/**
 * Translates and compiles a Go regexp. Returns the compiled pattern or an error text in the
 * spirit of Go's `regexp: Compile(...)` errors.
 */
export function compileGoRegex(src: string): GoRegex | string {
  let out = ''
  let flags = ''
  let unicode = false
  let groups = 0
  const names: string[] = ['']
  let i = 0
  const n = src.length
  // Leading flag groups: (?i) (?s) (?m) (?is) ...
  while (src.startsWith('(?', i)) {
    const m = /^\(\?([imsU]+)\)/.exec(src.slice(i))
    if (m === null) break
    for (const f of m[1]!) {
      if (f === 'U') return `unsupported flag U (ungreedy) in ${JSON.stringify(src)}`
      if (!flags.includes(f)) flags += f
    }
    i += m[0].length
  }
  let inClass = false
  let classStart = false
  while (i < n) {
    const c = src[i]!
    if (c === '\\') {
      const d = src[i + 1]
      if (d === undefined) return `trailing backslash at end of expression: ${JSON.stringify(src)}`
      if (d === 'Q') {
        const end = src.indexOf('\\E', i + 2)
        const lit = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end)
        out += escapeLiteral(lit)
        i = end < 0 ? n : end + 2
        classStart = false
        continue
      }
      if (!inClass && d === 'A') {
        out += '^'
        i += 2
        continue
      }
      if (!inClass && d === 'z') {
        out += '$(?![\\s\\S])'
        i += 2
        continue
      }
      if (d === 'p' || d === 'P') {
        unicode = true
        if (src[i + 2] === '{') {
          const end = src.indexOf('}', i + 3)
          if (end < 0) return `invalid character class range: ${JSON.stringify(src)}`
          out += '\\' + d + src.slice(i + 2, end + 1)
          i = end + 1
        } else {
          const l = src[i + 2]
          if (l === undefined) return `invalid character class range: ${JSON.stringify(src)}`
          out += '\\' + d + '{' + l + '}'
          i += 3
        }
        classStart = false
        continue
      }
      if (d >= '1' && d <= '9') return `invalid escape sequence: \\${d} (back-references are not supported)`
      if ('CZGKXRgkNo'.includes(d) || d === 'z' || d === 'A') return `invalid escape sequence: \\${d}`
      if (d === 'x' && src[i + 2] === '{') {
        const end = src.indexOf('}', i + 3)
        if (end < 0) return `invalid escape sequence: ${JSON.stringify(src.slice(i))}`
        const hex = src.slice(i + 3, end)
        if (!/^[0-9A-Fa-f]{1,6}$/.test(hex)) return `invalid escape sequence: \\x{${hex}}`
        const cp = parseInt(hex, 16)
        if (cp > 0xffff) unicode = true
        out += cp > 0xffff ? `\\u{${hex}}` : '\\u' + cp.toString(16).padStart(4, '0')
        i = end + 1
        classStart = false
        continue
      }
      out += c + d
      i += 2
      classStart = false
      continue
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2)
        if (end > 0) {
          let name = src.slice(i + 2, end)
          const neg = name.startsWith('^')
          if (neg) name = name.slice(1)
          const set = POSIX.get(name)
          if (set === undefined) return `invalid character class range: [:${name}:]`
          if (neg) return `negated POSIX class [:^${name}:] is not supported`
          out += set
          i = end + 2
          classStart = false
          continue
        }
      }
      if (c === ']' && !classStart) {
        inClass = false
        out += c
        i++
        continue
      }
      if (c === '[') {
        out += '\\['
        i++
        classStart = false
        continue
      }
      if (c === ']') {
        // "[]a]": a leading ] is a literal in RE2.
        out += '\\]'
        i++
        classStart = false
        continue
      }
      if (c === '^' && classStart && out.endsWith('[')) {
        out += c
        i++
        continue // "[^]a]" keeps classStart for the literal ]
      }
      out += c
      i++
      classStart = false
      continue
    }
    switch (c) {
      case '[':
        inClass = true
        classStart = true
        out += c
        i++
        continue
      case '(': {
        if (src[i + 1] === '?') {
          const rest = src.slice(i)
          let m = /^\(\?P?<([A-Za-z0-9_]+)>/.exec(rest)
          if (m !== null) {
            groups++
            names.push(m[1]!)
            out += `(?<${m[1]!}>`
            i += m[0].length
            continue
          }
          if (rest.startsWith('(?:')) {
            out += '(?:'
            i += 3
            continue
          }
          if (/^\(\?(=|!|<=|<!)/.test(rest)) return `invalid or unsupported Perl syntax: ${JSON.stringify(rest.slice(0, 4))}`
          m = /^\(\?[imsU-]+[:)]/.exec(rest)
          if (m !== null) return `flags inside the pattern (${m[0]}) are not supported; put them at the start, e.g. (?i)`
          return `invalid or unsupported Perl syntax: ${JSON.stringify(rest.slice(0, 3))}`
        }
        groups++
        names.push('')
        out += c
        i++
        continue
      }
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i))
        if (m !== null) {
          const lo = Number(m[1])
          const hi = m[3] === undefined || m[3] === '' ? lo : Number(m[3])
          if (lo > MAX_REPEAT || hi > MAX_REPEAT) return `invalid repeat count: ${m[0]}`
          if (m[3] !== undefined && m[3] !== '' && hi < lo) return `invalid repeat count: ${m[0]}`
          out += m[0]
          i += m[0].length
          continue
        }
        out += '\\{'
        i++
        continue
      }
      case '}':
        out += '\\}'
        i++
        continue
      default:
        out += c
        i++
    }
  }
  if (inClass) return `missing closing ]: ${JSON.stringify(src)}`
  if (unicode) flags += 'u'
  try {
    const re = new RegExp(out, flags)
    return { re, groups, names, source: src }
  } catch (e) {
    return `error parsing regexp: ${(e as Error).message}`
  }
}

/**
 * Go's FindStringSubmatch: the whole match and each group ("" for groups that did not take
 * part), or null when there is no match.
 */
export function findSubmatch(g: GoRegex, s: string): string[] | null {
  g.re.lastIndex = 0
  const m = g.re.exec(s)
  if (m === null) return null
  const r: string[] = new Array<string>(m.length)
  for (let k = 0; k < m.length; k++) r[k] = m[k] ?? ''
  return r
}

/** CoreDNS's `{0}`…`{n}` substitution: every `{i}` in `template` becomes group i. */
export function expandGroups(template: string, groups: readonly string[]): string {
  let s = template
  for (let k = 0; k < groups.length; k++) s = s.split(`{${k}}`).join(groups[k]!)
  return s
}

/** Number of distinct `{0}`…`{100}` references in s (CoreDNS getSubExprUsage). */
export function groupRefCount(s: string): number {
  let c = 0
  for (let k = 0; k <= 100; k++) if (s.includes(`{${k}}`)) c++
  return c
}
