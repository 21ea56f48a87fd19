// root PATH: base directory for the relative file paths of the plugins after it in this block.
import { resolve } from 'node:path'
import { expectArgs, oncePerBlock } from '../../corefile/args.js'
import type { PluginDef } from '../../pluginkit/types.js'

export const plugin: PluginDef = {
  name: 'root',
  setup(ctx, ds) {
    oncePerBlock(ds, 'root')
    const d = ds[0]!
    expectArgs(d, 'root', 1, 1)
    ctx.block.root = resolve(ctx.block.root, d.args[0]!.text)
    return null
  },
}
