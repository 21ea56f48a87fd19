// log [NAMES...] [FORMAT] { class success|denial|error|all ... }
// Query logging (plugins.md §2, CoreDNS plugin/log). Several `log` lines add rules; the first rule
// whose name contains the qname logs it.

import { expectArgs } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { Directive } from '../../corefile/parser.js'
import { fqdn, lowerName } from '../../dns/name.js'
import type { PluginDef } from '../../pluginkit/types.js'
import { classFromString, Cls } from './classify.js'
import { compileFormat, DEFAULT_FORMAT } from './format.js'
import { Log, Rule } from './handler.js'

const NAME = 'log'

/** The rules of all `log` directives of a block, in order. Exported for tests. */
export function parseLogRules(ds: readonly Directive[]): Rule[] {
  const rules: Rule[] = []
  for (const d of ds) {
    const args = d.args
    let names: string[]
    let format = DEFAULT_FORMAT
    if (args.length === 0) names = ['.']
    else if (args.length === 1) names = [args[0]!.text]
    else {
      const last = args[args.length - 1]!.text
      let n = args.length
      if (last.includes('{')) {
        format = last
        n--
      }
      names = []
      for (let i = 0; i < n; i++) names.push(args[i]!.text)
    }
    let classes = 0
    for (const sub of d.block ?? []) {
      if (sub.name !== 'class') {
        throw pluginError(sub.token, NAME, `unknown property '${sub.name}'; expected one of: class`)
      }
      expectArgs(sub, NAME, 1, Infinity)
      for (const a of sub.args) {
        const c = classFromString(a.text)
        if (c === undefined) throw pluginError(a, NAME, `invalid Class: ${a.text}`)
        classes |= c
      }
    }
    if (classes === 0) classes = Cls.All
    const compiled = compileFormat(format)
    for (const n of names) rules.push(new Rule(lowerName(fqdn(n)), compiled.parts, classes, compiled.needsClass))
  }
  return rules
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    const rules = parseLogRules(ds)
    const sink = ctx.log.sink
    return (next) => new Log(next, rules, sink)
  },
}
