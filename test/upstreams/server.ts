// An in-process clusterdns Server whose plugin list includes loop and forward in CoreDNS order
// (… kubernetes, file, loop, forward, whoami), independent of src/plugins/index.ts.
import { Server } from '../../src/server/instance.js'
import { memoryLogger } from '../../src/log/logger.js'
import { PLUGINS } from '../../src/plugins/index.js'
import type { PluginDef } from '../../src/pluginkit/types.js'
import { plugin as forward } from '../../src/plugins/forward/setup.js'
import { plugin as loop } from '../../src/plugins/loop/setup.js'

/** The registry with loop and forward placed just before whoami. */
export function pluginsWithForward(): PluginDef[] {
  const base = PLUGINS.filter((p) => p.name !== 'forward' && p.name !== 'loop')
  const at = base.findIndex((p) => p.name === 'whoami')
  const out = [...base]
  out.splice(at < 0 ? out.length : at, 0, loop, forward)
  return out
}

export interface ChainServer {
  server: Server
  port: number
  lines: string[]
  close(): Promise<void>
}

/** Starts `corefile` (keys without a port get a free one). */
export async function startChain(corefile: string, cwd?: string): Promise<ChainServer> {
  const { log, lines } = memoryLogger()
  let server: Server
  // Bounded retry: port 0 gives a free UDP port whose TCP twin may be taken (EADDRINUSE).
  for (let attempt = 0; ; attempt++) {
    server = new Server({ log, dnsPort: 0, quiet: true, plugins: pluginsWithForward(), ...(cwd ? { cwd } : {}) })
    try {
      await server.start(corefile, 'Corefile')
      break
    } catch (e) {
      await server.shutdown(false)
      if (attempt >= 10 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e
    }
  }
  const first = [...server.listeners.values()][0]
  return { server, port: first ? first.port : 0, lines, close: () => server.shutdown(false) }
}
