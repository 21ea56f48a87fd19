// Corefile lexer (Caddyfile v1 dialect, coredns/caddy caddyfile/lexer.go), spec corefile.md §2.
// Braces are not special here: `{` and `}` are structural only as whole tokens, which the parser
// decides. Columns are 1-based and counted in Unicode code points.

export interface Token {
  /** Token text; for quoted tokens without the quotes and with `\"` unescaped. */
  text: string
  /** File the token was read from (the name given to the lexer; absolute for imported files). */
  file: string
  /** 1-based line where the token starts. */
  line: number
  /** 1-based column (code points) where the token starts; for quoted tokens the opening quote. */
  col: number
  /** True when the token was written in double quotes. */
  quoted: boolean
}

/** Go's unicode.IsSpace: Latin-1 spaces plus the White_Space property. */
export function isSpace(cp: number): boolean {
  if (cp <= 0xff) {
    return (
      cp === 0x20 ||
      (cp >= 0x09 && cp <= 0x0d) ||
      cp === 0x85 ||
      cp === 0xa0
    )
  }
  return (
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  )
}

/** Line on which a token ends (a quoted token may contain newlines). */
export function tokenEndLine(t: Token): number {
  let n = t.line
  const s = t.text
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++
  return n
}

/**
 * Splits Corefile text into tokens:
 * - a UTF-8 BOM at the start is dropped; `\r` outside quotes is ignored (not even a separator);
 * - tokens are separated by Unicode white space;
 * - a `"` at the start of a token opens a quoted token running to the next unescaped `"`; inside,
 *   `\"` gives `"` and a backslash before anything else is kept; an unterminated quoted token
 *   runs to the end of the input (and is dropped if empty, as in CoreDNS);
 * - outside quotes `#` ends the token and discards the rest of the line.
 */
export function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = []
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  let col = 1
  let val = ''
  let started = false // a token (possibly empty and quoted) is being collected
  let quoted = false
  let escaped = false
  let comment = false
  let tokLine = 0
  let tokCol = 0
  let tokQuoted = false

  const emit = (): void => {
    tokens.push({ text: val, file, line: tokLine, col: tokCol, quoted: tokQuoted })
    val = ''
    started = false
  }

  while (i < text.length) {
    const cp = text.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    i += ch.length
    const chLine = line
    const chCol = col
    if (cp === 0x0a) {
      line++
      col = 1
    } else col++

    if (quoted) {
      if (!escaped) {
        if (ch === '\\') {
          escaped = true
          continue
        }
        if (ch === '"') {
          quoted = false
          emit()
          continue
        }
      }
      if (escaped && ch !== '"') val += '\\'
      val += ch
      escaped = false
      continue
    }

    if (isSpace(cp)) {
      if (cp === 0x0d) continue
      if (cp === 0x0a) comment = false
      if (val.length > 0) emit()
      continue
    }
    if (ch === '#') comment = true
    if (comment) continue

    if (val.length === 0) {
      started = true
      tokLine = chLine
      tokCol = chCol
      tokQuoted = false
      if (ch === '"') {
        quoted = true
        tokQuoted = true
        continue
      }
    }
    val += ch
  }
  if (started && val.length > 0) emit()
  return tokens
}
