// Runs one plugin's setup on a Corefile snippet, as the server would (tests of setup errors).
import { parseCorefile } from '../../src/corefile/parser.js'
import { parseServerKeys } from '../../src/corefile/address.js'
import { Services } from '../../src/server/config.js'
import { memoryLogger } from '../../src/log/logger.js'
import type { BlockSettings, Handler, PluginDef, SetupContext } from '../../src/pluginkit/types.js'

export interface SetupResult {
  ctx: SetupContext
  services: Services
  lines: string[]
  make: ((next: Handler) => Handler) | null
}

/** `body` is the inside of a server block (`key` defaults to "example.org:53"). */
export function runSetup(def: PluginDef, body: string, key = 'example.org:53', file = 'Corefile'): SetupResult {
  const parsed = parseCorefile(`${key} {\n${body}\n}\n`, file)
  const block = parsed.blocks[0]!
  const keys = parseServerKeys(block.keys, 53)
  const zones = [...new Set(keys.map((k) => k.zone))]
  const { log, lines } = memoryLogger()
  const services = new Services()
  const settings: BlockSettings = { root: process.cwd(), bindHosts: [], hasBind: false, tls: null, debug: false, allowOtherClasses: false, providers: new Map() }
  const ctx: SetupContext = { zones, keys, file, log: log.plugin(def.name), block: settings, instance: services, env: process.env }
  const ds = block.directives.filter((d) => d.name === def.name)
  const make = def.setup(ctx, ds)
  return { ctx, services, lines, make }
}
