// bind ADDRESS|IFACE ... [{ except ADDRESS|IFACE ... }]: the addresses this block listens on
// (corefile.md §9). Interfaces expand to all their addresses at setup (startup or reload).
import os from 'node:os'
import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import { canonicalIP } from '../../lib/ip.js'
import type { PluginDef } from '../../pluginkit/types.js'

/** IP text → [canonical IP]; interface name → its addresses; else null. */
export function resolveBindArg(
  t: Token,
  ifaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): string[] | null {
  const ip = canonicalIP(t.text)
  if (ip !== null) return [ip]
  const list = ifaces[t.text]
  if (!list) return null
  return list.map((a) => (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80') ? `${a.address}%${t.text}` : a.address))
}

export const plugin: PluginDef = {
  name: 'bind',
  setup(ctx, ds) {
    const ifaces = os.networkInterfaces()
    const all: string[] = []
    for (const d of ds) {
      if (d.args.length === 0) throw pluginError(d.token, 'bind', 'at least one address or interface name is expected')
      const mine: string[] = []
      for (const a of d.args) {
        const r = resolveBindArg(a, ifaces)
        if (r === null) throw pluginError(a, 'bind', `not a valid IP address or interface name: "${a.text}"`)
        for (const x of r) if (!mine.includes(x)) mine.push(x)
      }
      const except = new Set<string>()
      for (const sub of d.block ?? []) {
        if (sub.name !== 'except') throw pluginError(sub.token, 'bind', `invalid option "${sub.name}"`)
        if (sub.args.length === 0) {
          throw pluginError(sub.token, 'bind', 'at least one address or interface must be given to except subdirective')
        }
        for (const a of sub.args) {
          const r = resolveBindArg(a, ifaces)
          if (r === null) throw pluginError(a, 'bind', `not a valid IP address or interface name: "${a.text}"`)
          for (const x of r) except.add(x)
        }
      }
      for (const x of mine) if (!except.has(x) && !all.includes(x)) all.push(x)
    }
    ctx.block.hasBind = true
    ctx.block.bindHosts = all
    return null
  },
}
