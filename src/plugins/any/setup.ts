// any: RFC 8482 — a query of type ANY gets a single HINFO "ANY obsoleted" "See RFC 8482".
import { expectArgs } from '../../corefile/args.js'
import type { PluginDef } from '../../pluginkit/types.js'
import { Any } from './handler.js'

export const plugin: PluginDef = {
  name: 'any',
  setup(_ctx, ds) {
    for (const d of ds) expectArgs(d, 'any', 0, 0)
    return (next) => new Any(next)
  },
}
