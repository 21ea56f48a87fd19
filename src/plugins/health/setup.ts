// health [ADDRESS] { lameduck DURATION }: GET /health answers 200 "OK" while the process runs;
// on SIGTERM the server keeps serving for the lameduck duration before it stops.
import { expectArgs, parseDuration, unknownProperty } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { PluginDef } from '../../pluginkit/types.js'
import { parseHostPort } from '../../server/http.js'

export const plugin: PluginDef = {
  name: 'health',
  setup(ctx, ds) {
    for (const d of ds) {
      expectArgs(d, 'health', 0, 1)
      const address = d.args[0]?.text ?? ':8080'
      try {
        parseHostPort(address)
      } catch (e) {
        throw pluginError(d.args[0]!, 'health', (e as Error).message)
      }
      for (const sub of d.block ?? []) {
        if (sub.name !== 'lameduck') throw unknownProperty(sub.token, 'health', ['lameduck'])
        expectArgs(sub, 'health', 1, 1)
        const ms = parseDuration(sub.args[0]!, 'health')
        if (ms < 0) throw pluginError(sub.args[0]!, 'health', 'lameduck duration must be positive')
        ctx.instance.setLameduck(ms)
      }
      ctx.instance.addHttpRoute({ address, path: '/health', handle: () => ({ status: 200, body: 'OK' }) })
    }
    return null
  },
}
