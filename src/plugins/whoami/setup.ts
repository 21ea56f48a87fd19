// whoami: answers every query with the client's address and port in ADDITIONAL.
import { expectArgs } from '../../corefile/args.js'
import type { PluginDef } from '../../pluginkit/types.js'
import { Whoami } from './handler.js'

export const plugin: PluginDef = {
  name: 'whoami',
  setup(_ctx, ds) {
    for (const d of ds) expectArgs(d, 'whoami', 0, 0)
    return (next) => new Whoami(next)
  },
}
