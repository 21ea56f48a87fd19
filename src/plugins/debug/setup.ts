// debug: panics in plugins are not recovered (the process crashes) and DEBUG lines are printed.
import { expectArgs } from '../../corefile/args.js'
import type { PluginDef } from '../../pluginkit/types.js'

export const plugin: PluginDef = {
  name: 'debug',
  setup(ctx, ds) {
    for (const d of ds) expectArgs(d, 'debug', 0, 0)
    ctx.block.debug = true
    ctx.log.debugEnabled = true
    return null
  },
}
