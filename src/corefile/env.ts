// Environment placeholders {$NAME} and {%NAME%} (coredns/caddy replaceEnvVars), spec §5.

import { ConfigError, ErrCode, type SourcePos } from './errors.js'

export type Env = Readonly<Record<string, string | undefined>>

/** Substitutions per token before we call it a self-reference (Go would loop forever). */
const MAX_REPLACEMENTS = 1000
const MAX_LENGTH = 1 << 20

/**
 * Replaces `{%NAME%}` first, then `{$NAME}`, with env values ('' when unset). Replacement text is
 * re-scanned from the start; an unterminated placeholder leaves the rest unchanged and an empty
 * name (`{$}`, `{%%}`) stops substitution of that kind in the token. A self-referencing value
 * raises a ConfigError at `at` (when given) instead of looping.
 */
export function replaceEnvVars(s: string, env: Env, at?: SourcePos): string {
  if (!s.includes('{')) return s
  s = replaceRefs(s, '{%', '%}', env, at)
  return replaceRefs(s, '{$', '}', env, at)
}

function replaceRefs(s: string, start: string, end: string, env: Env, at?: SourcePos): string {
  let index = s.indexOf(start)
  let rounds = 0
  while (index !== -1) {
    const endIndex = s.indexOf(end, index)
    if (endIndex === -1) break
    if (endIndex <= index + start.length) return s
    const ref = s.slice(index, endIndex + end.length)
    const value = env[ref.slice(start.length, ref.length - end.length)] ?? ''
    s = s.split(ref).join(value)
    if (++rounds > MAX_REPLACEMENTS || s.length > MAX_LENGTH) {
      const pos = at ?? { file: '?', line: 0, col: 0 }
      throw new ConfigError(
        `environment substitution of ${ref} does not terminate (self-referencing value?)`,
        pos,
        ErrCode.Env,
      )
    }
    index = s.indexOf(start)
  }
  return s
}
