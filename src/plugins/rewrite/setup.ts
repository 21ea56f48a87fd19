// rewrite [continue|stop] FIELD [MATCH] ARGS... [OPTIONS]
// rewrite [continue|stop] { FIELD [MATCH] ARGS...  answer name|value FROM TO }
// Rewrites queries before the rest of the chain sees them and reverts the replies (plugins.md §14,
// CoreDNS plugin/rewrite). All `rewrite` lines of a block form one rule list, in file order.

import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import type { Directive } from '../../corefile/parser.js'
import type { PluginDef } from '../../pluginkit/types.js'
import { Rewrite } from './handler.js'
import { newRule } from './parse.js'
import type { Rule } from './rules.js'

const NAME = 'rewrite'

function flatten(ds: readonly Directive[], out: Token[]): void {
  for (const d of ds) {
    out.push(d.token)
    for (const a of d.args) out.push(a)
    if (d.block !== null) flatten(d.block, out)
  }
}

/** The tokens of one rule: the line's arguments, or (fewer than two) those plus the block's tokens. */
export function ruleTokens(d: Directive): Token[] {
  const toks = d.args.slice()
  if (d.block !== null) {
    if (toks.length >= 2) throw pluginError(d.open ?? d.token, NAME, 'unexpected block after a complete rule')
    flatten(d.block, toks)
  }
  return toks
}

export function parseRules(ds: readonly Directive[]): Rule[] {
  const rules: Rule[] = []
  for (const d of ds) rules.push(newRule(ruleTokens(d), d.token))
  return rules
}

export const plugin: PluginDef = {
  name: NAME,
  setup(_ctx, ds) {
    const rules = parseRules(ds)
    if (rules.length === 0) return null
    return (next) => new Rewrite(next, rules)
  },
}
