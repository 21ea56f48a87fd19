// loop — detects a forwarding loop at startup (CoreDNS plugin/loop, plugins.md §10): a probe
// `<random>.<random>.<zone> HINFO` is sent to the block's own first listen address; if it comes
// back to this server more than twice, the process stops with a message that says what to fix.

import { randomBytes } from 'node:crypto'
import { expectArgs, oncePerBlock } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { PluginDef } from '../../pluginkit/types.js'
import { Loop, probeAddress, setFatal as _setFatal, type FatalFn } from './handler.js'

const NAME = 'loop'

/** A random non-negative 63-bit integer in decimal (Go rand.Int()). */
function int63(): string {
  const b = randomBytes(8)
  b[0] = b[0]! & 0x7f
  return b.readBigUInt64BE(0).toString()
}

/** `<int63>.<int63>.<zone>` */
export function probeName(zone: string): string {
  return `${int63()}.${int63()}.${zone === '.' ? '' : zone}`
}

/** Replaces what happens on a detected loop (tests); returns the previous function. */
export function setFatal(fn: FatalFn): FatalFn {
  return _setFatal(fn)
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    oncePerBlock(ds, NAME)
    const d = ds[0]!
    expectArgs(d, NAME, 0, 0)
    if (d.block !== null) throw pluginError(d.open ?? d.token, NAME, "Wrong argument count or unexpected line ending after '{'")
    const key = ctx.keys[0]!
    const zone = key.zone
    const host = ctx.block.hasBind && ctx.block.bindHosts.length > 0 ? ctx.block.bindHosts[0]! : ''
    const probe = probeAddress(host, key.port)
    let handler: Loop | null = null
    ctx.instance.onStartup(() => {
      if (probe.port === 0) {
        ctx.log.warn('listen port 0 (chosen at run time): loop detection probe skipped')
        return
      }
      handler?.startProbing()
    })
    ctx.instance.onShutdown(() => {
      handler?.stop()
    })
    return (next) => {
      handler = new Loop(next, zone, probeName(zone), probe, ctx.log)
      return handler
    }
  },
}
