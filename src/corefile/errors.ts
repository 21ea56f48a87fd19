// Configuration errors raised while reading a Corefile. Every error carries the file, line and
// column of the offending token; the message reproduces CoreDNS' wording with a column added.

/** Where an error points: a token or anything shaped like one. */
export interface SourcePos {
  readonly file: string
  readonly line: number
  readonly col: number
}

/**
 * How the message is prefixed:
 * - parse:   `<file>:<line>:<col> - Error during parsing: <detail>`
 * - syntax:  `<file>:<line>:<col> - Syntax error: <detail>`
 * - plugin:  `<file>:<line>:<col> - plugin/<name>: <detail>`
 * - inspect: `<file>:<line>:<col> - error inspecting server blocks: <detail>` (server keys, §6)
 * - plain:   `<file>:<line>:<col> - <detail>` (e.g. listener validation, §7.2)
 */
export type ConfigErrorKind = 'parse' | 'syntax' | 'plugin' | 'inspect' | 'plain'

/** Stable error codes (ERR_<AREA>_<WHAT>). */
export const ErrCode = {
  Parse: 'ERR_COREFILE_PARSE',
  Syntax: 'ERR_COREFILE_SYNTAX',
  UnexpectedEof: 'ERR_COREFILE_UNEXPECTED_EOF',
  UnmatchedBrace: 'ERR_COREFILE_UNMATCHED_BRACE',
  UnknownDirective: 'ERR_COREFILE_UNKNOWN_DIRECTIVE',
  Snippet: 'ERR_COREFILE_SNIPPET',
  Import: 'ERR_COREFILE_IMPORT',
  Env: 'ERR_COREFILE_ENV',
  ServerKey: 'ERR_COREFILE_SERVER_KEY',
  Plugin: 'ERR_COREFILE_PLUGIN',
} as const
export type ErrCode = (typeof ErrCode)[keyof typeof ErrCode]

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly code: string
  readonly file: string
  readonly line: number
  readonly col: number
  readonly kind: ConfigErrorKind
  /** Plugin name for kind 'plugin', otherwise null. */
  readonly plugin: string | null
  /** The message without the location prefix. */
  readonly detail: string

  constructor(
    detail: string,
    at: SourcePos,
    code: string = ErrCode.Parse,
    kind: ConfigErrorKind = 'parse',
    plugin: string | null = null,
  ) {
    super(formatMessage(at, detail, kind, plugin))
    this.code = code
    this.file = at.file
    this.line = at.line
    this.col = at.col
    this.kind = kind
    this.plugin = plugin
    this.detail = detail
  }
}

function formatMessage(
  at: SourcePos,
  detail: string,
  kind: ConfigErrorKind,
  plugin: string | null,
): string {
  const where = `${at.file}:${at.line}:${at.col}`
  switch (kind) {
    case 'parse':
      return `${where} - Error during parsing: ${detail}`
    case 'syntax':
      return `${where} - Syntax error: ${detail}`
    case 'plugin':
      return `${where} - plugin/${plugin ?? '?'}: ${detail}`
    case 'inspect':
      return `${where} - error inspecting server blocks: ${detail}`
    case 'plain':
      return `${where} - ${detail}`
  }
}

/** `<file>:<line>:<col> - Error during parsing: <detail>` */
export function parseError(at: SourcePos, detail: string, code: string = ErrCode.Parse): ConfigError {
  return new ConfigError(detail, at, code, 'parse')
}

/** `<file>:<line>:<col> - plugin/<name>: <detail>` at the offending token. */
export function pluginError(tok: SourcePos, plugin: string, detail: string): ConfigError {
  return new ConfigError(detail, tok, ErrCode.Plugin, 'plugin', plugin)
}
