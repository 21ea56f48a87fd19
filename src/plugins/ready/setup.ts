// ready [ADDRESS] { monitor until-ready|continuously }: GET /ready answers 200 "OK" once every
// plugin that reports readiness is ready, else 503 with the names of those that are not.
import { expectArgs, oncePerBlock, unknownProperty } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { PluginDef, Readiness } from '../../pluginkit/types.js'
import { parseHostPort } from '../../server/http.js'

export const plugin: PluginDef = {
  name: 'ready',
  setup(ctx, ds) {
    oncePerBlock(ds, 'ready')
    const d = ds[0]!
    expectArgs(d, 'ready', 0, 1)
    const address = d.args[0]?.text ?? ':8181'
    try {
      parseHostPort(address)
    } catch (e) {
      throw pluginError(d.args[0]!, 'ready', (e as Error).message)
    }
    let continuously = false
    for (const sub of d.block ?? []) {
      if (sub.name !== 'monitor') throw unknownProperty(sub.token, 'ready', ['monitor'])
      expectArgs(sub, 'ready', 1, 1)
      const v = sub.args[0]!.text
      if (v !== 'until-ready' && v !== 'continuously') {
        throw pluginError(sub.args[0]!, 'ready', `monitor type '${v}' not supported; expected until-ready or continuously`)
      }
      continuously = v === 'continuously'
    }
    const once = new Set<Readiness>()
    const services = ctx.instance
    services.addHttpRoute({
      address,
      path: '/ready',
      handle() {
        const notReady: string[] = []
        for (const r of services.readiness()) {
          if (!continuously && once.has(r)) continue
          if (r.ready()) once.add(r)
          else notReady.push(r.name)
        }
        if (notReady.length === 0) return { status: 200, body: 'OK' }
        return { status: 503, body: [...new Set(notReady)].sort().join(',') }
      },
    })
    return null
  },
}
