// errors [stdout] { stacktrace; consolidate DURATION REGEXP [warning|error|info|debug] [show_first] }
// Logs the errors queries end with (plugins.md §1, CoreDNS plugin/errors).

import { expectArgs, goParseDuration, oncePerBlock } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { Directive } from '../../corefile/parser.js'
import type { Logger } from '../../log/logger.js'
import type { PluginDef } from '../../pluginkit/types.js'
import { Pattern, type Level } from './consolidate.js'
import { Errors } from './handler.js'

const NAME = 'errors'
export const MAX_REGEXP_LEN = 10000
const LEVELS: readonly string[] = ['warning', 'error', 'info', 'debug']

export interface ErrorsConfig {
  stacktrace: boolean
  patterns: Pattern[]
}

const GO_FLAGS = /^\(\?([ims]+)\)/

/**
 * A Go (RE2) regexp as a JavaScript RegExp: the syntax mostly carries over; a leading flag group
 * such as `(?i)` becomes the RegExp flag (JavaScript has no inline flag groups in Node 20).
 */
export function compileGoRegexp(src: string): RegExp {
  const m = GO_FLAGS.exec(src)
  if (m === null) return new RegExp(src)
  return new RegExp(src.slice(m[0].length), [...new Set(m[1]!)].join(''))
}

function parseConsolidate(sub: Directive, log: Logger): Pattern {
  expectArgs(sub, NAME, 2, 4)
  const durTok = sub.args[0]!
  const ns = goParseDuration(durTok.text)
  if (typeof ns === 'string') throw pluginError(durTok, NAME, ns)
  if (ns <= 0n) throw pluginError(durTok, NAME, `consolidate duration must be positive: ${durTok.text}`)
  const reTok = sub.args[1]!
  if (reTok.text.length > MAX_REGEXP_LEN) {
    throw pluginError(reTok, NAME, `regex pattern too long: ${reTok.text.length} > ${MAX_REGEXP_LEN}`)
  }
  let re: RegExp
  try {
    re = compileGoRegexp(reTok.text)
  } catch (e) {
    throw pluginError(reTok, NAME, `invalid regexp '${reTok.text}': ${(e as Error).message}`)
  }
  let level: Level | null = null
  let showFirst = false
  for (let i = 2; i < sub.args.length; i++) {
    const t = sub.args[i]!
    if (t.text === 'show_first') {
      if (showFirst) throw pluginError(t, NAME, 'show_first given twice in consolidate')
      showFirst = true
      continue
    }
    if (!LEVELS.includes(t.text)) {
      throw pluginError(t, NAME, `unknown log level argument in consolidate: ${t.text}; expected one of: ${LEVELS.join(', ')}, show_first`)
    }
    if (showFirst) throw pluginError(t, NAME, `log level '${t.text}' must precede show_first in consolidate`)
    if (level !== null) throw pluginError(t, NAME, `multiple log levels in consolidate: ${level}, ${t.text}`)
    level = t.text as Level
  }
  return new Pattern(re, reTok.text, ns, level ?? 'error', showFirst, log)
}

/** Parses the (single) errors directive. Exported for tests. */
export function parseErrorsDirective(d: Directive, log: Logger): ErrorsConfig {
  expectArgs(d, NAME, 0, 1)
  const out = d.args[0]
  if (out !== undefined && out.text !== 'stdout') throw pluginError(out, NAME, `invalid log file: ${out.text}`)
  const cfg: ErrorsConfig = { stacktrace: false, patterns: [] }
  for (const sub of d.block ?? []) {
    switch (sub.name) {
      case 'stacktrace':
        expectArgs(sub, NAME, 0, 0)
        cfg.stacktrace = true
        break
      case 'consolidate':
        cfg.patterns.push(parseConsolidate(sub, log))
        break
      default:
        throw pluginError(sub.token, NAME, `unknown property '${sub.name}'; expected one of: consolidate, stacktrace`)
    }
  }
  return cfg
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    oncePerBlock(ds, NAME)
    const cfg = parseErrorsDirective(ds[0]!, ctx.log)
    const handlers: Errors[] = []
    if (cfg.patterns.length > 0) {
      ctx.instance.onShutdown(() => {
        for (const h of handlers) h.stop()
        for (const p of cfg.patterns) p.flush()
      })
    }
    return (next) => {
      const h = new Errors(next, cfg.patterns, ctx.log, cfg.stacktrace)
      handlers.push(h)
      return h
    }
  },
}
