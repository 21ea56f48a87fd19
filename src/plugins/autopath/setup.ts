// autopath [ZONES...] RESOLV-CONF|@PLUGIN
// Server-side search path completion (plugins.md §7, CoreDNS plugin/autopath).

import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { normalizeZones } from '../../corefile/address.js'
import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import type { AutoPather, PluginDef, SetupContext } from '../../pluginkit/types.js'
import { AutoPath } from './handler.js'

const NAME = 'autopath'

/** The `search` (or `domain`) list of a resolv.conf, normalised (miekg ClientConfigFromReader). */
export function parseResolvSearch(text: string): string[] {
  let search: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line[0] === '#' || line[0] === ';') continue
    const f = line.split(/\s+/)
    if (f[0] === 'domain' && f.length > 1) search = [f[1]!]
    else if (f[0] === 'search') search = f.slice(1)
  }
  return search.map((s) => {
    const l = s.toLowerCase()
    return l.endsWith('.') ? l : l + '.'
  })
}

export interface AutoPathConfig {
  zones: string[]
  /** From the resolv.conf, with the final "" (null with @PLUGIN). */
  search: string[] | null
  /** PLUGIN of @PLUGIN, else null. */
  plugin: string | null
  /** The RESOLV-CONF|@PLUGIN token. */
  token: Token
}

/** Parses one `autopath` directive (reads the resolv.conf). Exported for tests. */
export function parseAutoPath(ctx: SetupContext, args: readonly Token[], at: Token): AutoPathConfig {
  if (args.length < 1) throw pluginError(at, NAME, 'no resolv-conf specified')
  const last = args[args.length - 1]!
  const zones = normalizeZones(args.slice(0, -1), [...ctx.zones], NAME)
  if (last.text.startsWith('@')) {
    const p = last.text.slice(1)
    if (p === '') throw pluginError(last, NAME, 'no plugin name after @')
    return { zones, search: null, plugin: p, token: last }
  }
  const path = isAbsolute(last.text) ? last.text : resolve(ctx.block.root, last.text)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : (e as Error).message
    throw pluginError(last, NAME, `failed to parse "${last.text}": open ${last.text}: ${why}`)
  }
  const search = parseResolvSearch(text)
  search.push('')
  return { zones, search, plugin: null, token: last }
}

function isAutoPather(x: unknown): x is AutoPather {
  return typeof x === 'object' && x !== null && typeof (x as { searchPath?: unknown }).searchPath === 'function'
}

/**
 * The AutoPather a plugin of this block registered under providers 'autopath' (an entry naming
 * itself with a `name` field must match; an unnamed one counts as the kubernetes plugin's).
 */
export function findProvider(ctx: SetupContext, plugin: string): AutoPather | null {
  const list = ctx.block.providers.get('autopath') ?? []
  for (const p of list) {
    if (!isAutoPather(p)) continue
    const n = (p as { name?: unknown }).name
    if (typeof n === 'string' ? n === plugin : plugin === 'kubernetes') return p
  }
  return null
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    let cfg: AutoPathConfig | null = null
    for (const d of ds) cfg = parseAutoPath(ctx, d.args, d.token) // the last one wins, as CoreDNS
    if (cfg === null) return null
    const c = cfg
    return (next) => {
      // Runs when the block's chain is built, after every plugin of the block was set up.
      let provider: AutoPather | null = null
      if (c.plugin !== null) {
        provider = findProvider(ctx, c.plugin)
        if (provider === null) throw pluginError(c.token, NAME, `${c.plugin} does not implement the AutoPather interface`)
      }
      return new AutoPath(next, c.zones, c.search, provider)
    }
  },
}
