// transfer [ZONES...] { to ADDRESS...; source ADDRESS }   (plugins.md §18, CoreDNS plugin/transfer)
// May appear several times in a block; each directive needs at least one `to`.

import { normalizeZones } from '../../corefile/address.js'
import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import { parseIP } from '../../lib/ip.js'
import type { PluginDef, SetupContext } from '../../pluginkit/types.js'
import type { Directive } from '../../corefile/parser.js'
import { Transfer, type Xfr } from './handler.js'

const NAME = 'transfer'

function argErr(sub: Directive): never {
  const last = sub.args[sub.args.length - 1] ?? sub.token
  throw pluginError(last, NAME, `Wrong argument count or unexpected line ending after '${last.text}'`)
}

/** CoreDNS parse.HostPort(host, "53"): an IP with optional port, normalized to host:port. */
export function hostPort(tok: Token): string {
  const s = tok.text
  let host: string
  let port = '53'
  const m = /^\[([^\]]*)\]:(\d*)$/.exec(s) ?? /^([^:[\]]*):(\d*)$/.exec(s)
  if (m !== null) {
    host = m[1]!
    if (m[2] !== '') port = m[2]!
  } else {
    if (parseIP(s) === null) throw pluginError(tok, NAME, `must specify an IP address: \`${s}'`)
    host = s
  }
  if (parseIP(host) === null) throw pluginError(tok, NAME, `must specify an IP address: \`${host}'`)
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

export function parseTransfer(ctx: SetupContext, ds: readonly Directive[]): Xfr[] {
  const out: Xfr[] = []
  for (const d of ds) {
    const x: Xfr = { zones: normalizeZones(d.args, [...ctx.zones], NAME), to: [] }
    for (const sub of d.block ?? []) {
      switch (sub.name) {
        case 'to':
          if (sub.args.length === 0) argErr(sub)
          for (const a of sub.args) x.to.push(a.text === '*' ? '*' : hostPort(a))
          break
        case 'source':
          // NOTIFY source address: accepted (NOTIFY is not sent by our transferers).
          if (sub.args.length !== 1) argErr(sub)
          if (parseIP(sub.args[0]!.text) === null) throw pluginError(sub.args[0]!, NAME, `must specify an IP address: \`${sub.args[0]!.text}'`)
          break
        default:
          throw pluginError(sub.token, NAME, `unknown property ${JSON.stringify(sub.name)}`)
      }
    }
    if (x.to.length === 0) throw pluginError(d.token, NAME, "'to' is required")
    out.push(x)
  }
  return out
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    const xfrs = parseTransfer(ctx, ds)
    return (next) => new Transfer(next, xfrs, ctx.block.providers, ctx.log)
  },
}
