// Corefile parser (coredns/caddy caddyfile/parse.go semantics), spec corefile.md §3-§5, §11.
// Produces server blocks whose directives are trees: a directive line is NAME ARGS... with an
// optional `{ ... }` block of lines of the same shape, to any depth.

import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { replaceEnvVars, type Env } from './env.js'
import { ConfigError, ErrCode, parseError, type SourcePos } from './errors.js'
import { tokenEndLine, tokenize, type Token } from './lexer.js'

export interface Directive {
  /** Directive (or sub-directive) name after env substitution. */
  name: string
  /** The name token (text env-substituted), for error positions. */
  token: Token
  /** Arguments on the directive's line before any `{`, env-substituted. */
  args: Token[]
  /** Lines of the `{ ... }` block, or null when the directive has no block. */
  block: Directive[] | null
  /** The block's opening `{` token, when there is a block. */
  open?: Token
}

export interface ServerBlock {
  /** Keys as written (env-substituted, trailing commas removed, empty keys skipped). */
  keys: Token[]
  /** Directive lines in file order (imports and snippets expanded). */
  directives: Directive[]
  /** File of the first key. */
  file: string
}

export interface ParseOptions {
  /** Environment for {$VAR} / {%VAR%}; default process.env. */
  env?: Record<string, string | undefined>
  /** Reads an imported file; default fs.readFileSync(p, 'utf8'). Throw an error with code ENOENT for a missing file. */
  readFile?: (absPath: string) => string
  /** Lists the entry names of a directory (for glob imports); default fs.readdirSync. */
  listDir?: (absDir: string) => string[]
  /** Default: fs.statSync(p).isDirectory(), false when missing. */
  isDirectory?: (absPath: string) => boolean
  /** When given, a directive name not in the set is fatal. */
  knownDirectives?: ReadonlySet<string>
  /** Non-fatal problems (e.g. an import glob matching nothing); default: `[WARNING] <msg>` on stderr. */
  warn?: (msg: string) => void
  /** Caps; defaults 10000 snippet expansions and 100000 file imports per parse (CoreDNS). */
  maxSnippetExpansions?: number
  maxFileImports?: number
}

export interface ParsedCorefile {
  blocks: ServerBlock[]
  /** Fully expanded, env-substituted stream of the tokens that make up the blocks, for hashing. */
  tokens: Token[]
}

export const MAX_SNIPPET_EXPANSIONS = 10000
export const MAX_FILE_IMPORTS = 100000

/** CoreDNS 1.14 plugin names in plugin.cfg order (spec corefile.md §8). */
export const COREDNS_PLUGINS: readonly string[] = [
  'root', 'metadata', 'geoip', 'cancel', 'proxyproto', 'quic', 'grpc_server', 'https', 'https3',
  'timeouts', 'multisocket', 'reload', 'nsid', 'bufsize', 'bind', 'debug', 'trace', 'ready',
  'health', 'pprof', 'shed', 'prometheus', 'errors', 'log', 'dnstap', 'local', 'dns64', 'any',
  'chaos', 'loadbalance', 'tsig', 'rewrite', 'autopath', 'acl', 'cache', 'header', 'dnssec', 'tls',
  'minimal', 'template', 'transfer', 'hosts', 'route53', 'azure', 'clouddns', 'k8s_external',
  'kubernetes', 'file', 'auto', 'secondary', 'etcd', 'loop', 'forward', 'grpc', 'erratic',
  'whoami', 'on', 'sign', 'view', 'nomad',
]
const COREDNS_PLUGIN_SET: ReadonlySet<string> = new Set(COREDNS_PLUGINS)

export function isCoreDnsPlugin(name: string): boolean {
  return COREDNS_PLUGIN_SET.has(name)
}

/** Parses a Corefile (snippets, imports and env placeholders resolved). Throws ConfigError. */
export function parseCorefile(text: string, file: string, opts: ParseOptions = {}): ParsedCorefile {
  const p = new Parser(tokenize(text, file), opts)
  return p.parseAll()
}

/** SHA-512 (hex) over the expanded token stream: text, file and line of every token. */
export function hashCorefile(p: ParsedCorefile): string {
  const h = createHash('sha512')
  for (const t of p.tokens) {
    h.update(t.text)
    h.update('\0')
    h.update(t.file)
    h.update('\0')
    h.update(String(t.line))
    h.update('\n')
  }
  return h.digest('hex')
}

// ---------------------------------------------------------------------------------------------

interface Frame {
  readonly toks: readonly Token[]
  pos: number
}

function defaultIsDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() === true
}

function defaultWarn(msg: string): void {
  process.stderr.write(`[WARNING] ${msg}\n`)
}

class Parser {
  private readonly frames: Frame[]
  /** Last token taken (raw), for "same line" decisions and EOF error positions. */
  private last: Token | null = null
  /** The next token starts a new line whatever its position (first token after an import). */
  private forceNewLine = true
  private readonly snippets = new Map<string, readonly Token[]>()
  private snippetExpansions = 0
  private fileImports = 0
  private readonly out: Token[] = []
  private readonly env: Env
  private readonly readFile: (p: string) => string
  private readonly listDir: (p: string) => string[]
  private readonly isDirectory: (p: string) => boolean
  private readonly known: ReadonlySet<string> | null
  private readonly warn: (msg: string) => void
  private readonly maxSnippets: number
  private readonly maxFiles: number

  constructor(tokens: Token[], opts: ParseOptions) {
    this.frames = [{ toks: tokens, pos: 0 }]
    this.env = opts.env ?? process.env
    this.readFile = opts.readFile ?? ((p) => fs.readFileSync(p, 'utf8'))
    this.listDir = opts.listDir ?? ((p) => fs.readdirSync(p))
    this.isDirectory = opts.isDirectory ?? defaultIsDirectory
    this.known = opts.knownDirectives ?? null
    this.warn = opts.warn ?? defaultWarn
    this.maxSnippets = opts.maxSnippetExpansions ?? MAX_SNIPPET_EXPANSIONS
    this.maxFiles = opts.maxFileImports ?? MAX_FILE_IMPORTS
  }

  // --- token stream ------------------------------------------------------------------------

  private peek(): Token | null {
    for (;;) {
      const f = this.frames[this.frames.length - 1]
      if (!f) return null
      const t = f.toks[f.pos]
      if (t) return t
      if (this.frames.length === 1) return null
      this.frames.pop()
    }
  }

  private take(): Token {
    const t = this.peek()
    if (!t) throw new Error('corefile parser: take() past end')
    this.frames[this.frames.length - 1]!.pos++
    this.last = t
    this.forceNewLine = false
    return t
  }

  /** True when `t` (the next token) does not continue the line of the previous token. */
  private startsLine(t: Token): boolean {
    const l = this.last
    return this.forceNewLine || l === null || l.file !== t.file || tokenEndLine(l) !== t.line
  }

  /** Position for "Unexpected EOF" style errors: the last token read. */
  private eofPos(): SourcePos {
    return this.last ?? { file: '?', line: 0, col: 0 }
  }

  private subst(t: Token): Token {
    const text = replaceEnvVars(t.text, this.env, t)
    return text === t.text ? t : { ...t, text }
  }

  private eofError(): ConfigError {
    return parseError(this.eofPos(), 'Unexpected EOF', ErrCode.UnexpectedEof)
  }

  // --- structure -----------------------------------------------------------------------------

  parseAll(): ParsedCorefile {
    const blocks: ServerBlock[] = []
    while (this.peek() !== null) {
      const b = this.parseOne()
      if (b && b.keys.length > 0) blocks.push(b)
    }
    return { blocks, tokens: this.out }
  }

  private parseOne(): ServerBlock | null {
    const { keys, eof } = this.readKeys()
    const first = keys[0]
    if (keys.length === 1 && first && first.text.startsWith('(') && first.text.endsWith(')')) {
      this.defineSnippet(first, eof)
      return null
    }
    if (!first) {
      // only empty keys: CoreDNS drops such a block; still consume its body
      if (!eof) this.blockContents()
      return null
    }
    for (const k of keys) this.out.push(k)
    const block: ServerBlock = { keys, directives: [], file: first.file }
    if (!eof) block.directives = this.blockContents()
    return block
  }

  /** Reads the key line(s); leaves the block's `{` (or first directive) unread. */
  private readKeys(): { keys: Token[]; eof: boolean } {
    const keys: Token[] = []
    let expectingAnother = false
    let consumed = false
    for (;;) {
      const t = this.peek()
      if (t === null) {
        if (expectingAnother) throw this.eofError()
        return { keys, eof: true }
      }
      if (consumed && !expectingAnother && this.startsLine(t)) break
      if (t.text === 'import' && this.startsLine(t)) {
        this.doImport()
        continue
      }
      if (t.text === '{') {
        if (expectingAnother) {
          throw parseError(
            t,
            "Expected another address but had '{' - check for extra comma",
            ErrCode.Syntax,
          )
        }
        break
      }
      this.take()
      consumed = true
      const s = this.subst(t)
      if (s.text === '') continue
      let text = s.text
      if (text.endsWith(',')) {
        text = text.slice(0, -1)
        expectingAnother = true
      } else expectingAnother = false
      if (text !== '') keys.push(text === s.text ? s : { ...s, text })
    }
    return { keys, eof: false }
  }

  private defineSnippet(key: Token, eof: boolean): void {
    const name = key.text.slice(1, -1)
    if (this.snippets.has(name)) {
      throw parseError(key, `redeclaration of previously declared snippet ${name}`, ErrCode.Snippet)
    }
    const open = eof ? null : this.peek()
    if (!open) throw this.eofError()
    if (open.text !== '{') {
      throw new ConfigError(
        `Unexpected token '${open.text}', expecting '{'`,
        open,
        ErrCode.Syntax,
        'syntax',
      )
    }
    this.take()
    const body: Token[] = []
    let depth = 1
    for (;;) {
      const t = this.peek()
      if (t === null) throw this.eofError()
      this.take()
      if (t.text === '}' && --depth === 0) break
      if (t.text === '{') depth++
      body.push(t)
    }
    // a body that imports itself at a line start can only recurse
    for (let i = 0; i + 1 < body.length; i++) {
      const t = body[i]!
      const prev = body[i - 1]
      const atLineStart = !prev || prev.file !== t.file || tokenEndLine(prev) !== t.line
      if (t.text === 'import' && atLineStart) {
        const arg = body[i + 1]!
        if (arg.line === tokenEndLine(t) && replaceEnvVars(arg.text, this.env, arg) === name) {
          throw parseError(
            t,
            `maximum snippet import depth (${this.maxSnippets}) exceeded`,
            ErrCode.Snippet,
          )
        }
      }
    }
    this.snippets.set(name, body)
  }

  /** Server block body: `{ lines }` or, without a brace, every line to EOF. */
  private blockContents(): Directive[] {
    const directives: Directive[] = []
    const open = this.peek()
    const braced = open !== null && open.text === '{'
    if (braced) this.take()
    for (;;) {
      const t = this.peek()
      if (t === null) {
        if (braced) throw this.eofError()
        break
      }
      if (t.text === '}') {
        if (!braced) {
          throw parseError(
            t,
            "Unexpected '}' because no matching opening brace",
            ErrCode.UnmatchedBrace,
          )
        }
        this.take()
        break
      }
      if (t.text === 'import') {
        this.doImport()
        continue
      }
      directives.push(this.directive())
    }
    return directives
  }

  private directive(): Directive {
    const raw = this.take()
    const tok = this.subst(raw)
    const name = tok.text
    if (raw.text === '{' || name === '' || (this.known !== null && !this.known.has(name))) {
      const extra =
        this.known !== null && isCoreDnsPlugin(name)
          ? ' (CoreDNS plugin not supported by this server)'
          : ''
      throw parseError(tok, `Unknown directive '${name}'${extra}`, ErrCode.UnknownDirective)
    }
    return this.line(tok, 0)
  }

  /**
   * Rest of a line whose name token was just taken: args up to the end of the line, and a block
   * if `{` appears on the line. depth 0 = directive of a server block.
   */
  private line(nameTok: Token, depth: number): Directive {
    this.out.push(nameTok)
    const d: Directive = { name: nameTok.text, token: nameTok, args: [], block: null }
    for (;;) {
      const t = this.peek()
      if (t === null || this.startsLine(t)) break
      if (t.text === '{') {
        this.take()
        this.out.push(t)
        d.open = t
        d.block = this.nested(depth + 1)
        const after = this.peek()
        if (after !== null && !this.startsLine(after)) {
          if (after.text === '}' && depth === 0) {
            throw parseError(
              after,
              "Unexpected '}' because no matching opening brace",
              ErrCode.UnmatchedBrace,
            )
          }
          throw parseError(
            after,
            `Unexpected token '${after.text}' after '}', expecting a new line`,
            ErrCode.Syntax,
          )
        }
        break
      }
      if (t.text === '}') {
        if (depth === 0) {
          throw parseError(t, "Unexpected '}' because no matching opening brace", ErrCode.UnmatchedBrace)
        }
        // `forward . /etc/resolv.conf { max_concurrent 1000 }`: the `}` closes the enclosing
        // block on this line, as CoreDNS's dispenser lets it (the seed article writes this form).
        break
      }
      this.take()
      const a = this.subst(t)
      this.out.push(a)
      d.args.push(a)
    }
    return d
  }

  /** Lines inside a directive's block, after its `{`; consumes the matching `}`. */
  private nested(depth: number): Directive[] {
    const lines: Directive[] = []
    for (;;) {
      const t = this.peek()
      if (t === null) throw this.eofError()
      if (t.text === '}') {
        this.out.push(this.take())
        return lines
      }
      if (t.text === 'import' && this.startsLine(t)) {
        this.doImport()
        continue
      }
      if (t.text === '{') {
        throw parseError(
          t,
          "Unexpected '{' at the start of a line, expecting a name (a block opens on its directive's line)",
          ErrCode.Syntax,
        )
      }
      this.take()
      lines.push(this.line(this.subst(t), depth))
    }
  }

  // --- import --------------------------------------------------------------------------------

  /** `import X` at the current position: replaces the two tokens by the snippet or file tokens. */
  private doImport(): void {
    const imp = this.take()
    const argRaw = this.peek()
    if (argRaw === null || this.startsLine(argRaw)) {
      throw parseError(imp, `Wrong argument count or unexpected line ending after '${imp.text}'`)
    }
    this.take()
    const pattern = replaceEnvVars(argRaw.text, this.env, argRaw)
    if (pattern === '') throw parseError(argRaw, 'Import requires a non-empty filepath', ErrCode.Import)
    const extra = this.peek()
    if (extra !== null && !this.startsLine(extra)) {
      throw parseError(extra, 'Import takes only one argument (glob pattern or file)', ErrCode.Import)
    }

    let imported: readonly Token[]
    const snippet = this.snippets.get(pattern)
    if (snippet !== undefined) {
      if (this.snippetExpansions >= this.maxSnippets) {
        throw parseError(
          argRaw,
          `maximum snippet import depth (${this.maxSnippets}) exceeded`,
          ErrCode.Snippet,
        )
      }
      this.snippetExpansions++
      imported = snippet
    } else {
      if (this.fileImports >= this.maxFiles) {
        throw parseError(argRaw, `maximum file import depth (${this.maxFiles}) exceeded`, ErrCode.Import)
      }
      this.fileImports++
      imported = this.importFiles(argRaw, pattern)
    }
    // drop exhausted frames so import cycles do not grow the stack
    while (this.frames.length > 1) {
      const f = this.frames[this.frames.length - 1]!
      if (f.pos < f.toks.length) break
      this.frames.pop()
    }
    if (imported.length > 0) this.frames.push({ toks: imported, pos: 0 })
    this.forceNewLine = true
  }

  private importFiles(at: Token, pattern: string): Token[] {
    const base = path.dirname(path.resolve(at.file))
    const globPattern = path.isAbsolute(pattern) ? pattern : path.join(base, pattern)
    if (
      count(globPattern, '*') > 1 ||
      count(globPattern, '?') > 1 ||
      (globPattern.includes('[') && globPattern.includes(']'))
    ) {
      throw parseError(
        at,
        `Glob pattern may only contain one wildcard (*), but has others: ${globPattern}`,
        ErrCode.Import,
      )
    }
    let matches: string[]
    if (hasMeta(globPattern)) {
      if (globPattern.includes('[') || globPattern.endsWith('\\')) {
        throw parseError(
          at,
          `Failed to use import pattern ${pattern}: syntax error in pattern`,
          ErrCode.Import,
        )
      }
      matches = this.glob(globPattern)
    } else {
      matches = [globPattern]
    }
    const globby = /[*?[\]]/.test(globPattern)
    if (matches.length === 0) {
      if (globby) {
        this.warn(`No files matching import glob pattern: ${pattern}`)
        return []
      }
      throw parseError(at, `File to import not found: ${pattern}`, ErrCode.Import)
    }
    const out: Token[] = []
    for (const m of matches) {
      const abs = path.resolve(m)
      if (this.isDirectory(abs)) {
        throw parseError(at, `Could not import ${m}: is a directory`, ErrCode.Import)
      }
      let text: string
      try {
        text = this.readFile(abs)
      } catch (e) {
        const code = (e as NodeJS.ErrnoException | null)?.code
        if (code === 'ENOENT' && !globby) {
          throw parseError(at, `File to import not found: ${pattern}`, ErrCode.Import)
        }
        const msg = e instanceof Error ? e.message : String(e)
        throw parseError(at, `Could not import ${m}: ${msg}`, ErrCode.Import)
      }
      for (const t of tokenize(text, abs)) out.push(t)
    }
    return out
  }

  /** filepath.Glob for patterns with at most one `*` and one `?` (no classes). Sorted by bytes. */
  private glob(pattern: string): string[] {
    // only called with patterns that contain a wildcard; a trailing '/' leaves an empty last element
    if (pattern.endsWith('/')) return []
    const dir = path.dirname(pattern)
    const file = path.basename(pattern)
    const dirs = hasMeta(dir) ? this.glob(dir) : [dir]
    const out: string[] = []
    for (const d of dirs) {
      if (!this.isDirectory(d)) continue
      let names: string[]
      try {
        names = this.listDir(d)
      } catch {
        continue
      }
      names = [...names].sort(byteCompare)
      for (const n of names) if (matchName(file, n)) out.push(path.join(d, n))
    }
    return out
  }
}

function count(s: string, ch: string): number {
  let n = 0
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++
  return n
}

/** Go's filepath hasMeta on Unix. */
function hasMeta(s: string): boolean {
  return /[*?[\\]/.test(s)
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** filepath.Match for one path element: `*` any run, `?` one character, `\x` literal x. */
function matchName(pattern: string, name: string): boolean {
  const p = Array.from(pattern)
  const n = Array.from(name)
  const rec = (pi: number, ni: number): boolean => {
    while (pi < p.length) {
      const c = p[pi]!
      if (c === '*') {
        for (let k = ni; k <= n.length; k++) if (rec(pi + 1, k)) return true
        return false
      }
      if (ni >= n.length) return false
      if (c === '?') {
        pi++
        ni++
        continue
      }
      let lit = c
      if (c === '\\') {
        pi++
        lit = p[pi] ?? ''
      }
      if (n[ni] !== lit) return false
      pi++
      ni++
    }
    return ni === n.length
  }
  return rec(0, 0)
}
