// hosts [FILE [ZONES...]] { INLINE ENTRIES; ttl SECONDS; no_reverse; reload DURATION;
//   fallthrough [ZONES...]; fallthrough_unsupported }
// Answers A/AAAA/PTR from a hosts file and inline entries (plugins.md §13, CoreDNS plugin/hosts).

import { isAbsolute, resolve } from 'node:path'
import { normalizeZones } from '../../corefile/address.js'
import { expectArgs, goParseDuration, oncePerBlock } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import type { Directive } from '../../corefile/parser.js'
import { parseIP } from '../../lib/ip.js'
import type { PluginDef, SetupContext } from '../../pluginkit/types.js'
import { Fall, NO_FALL } from '../../pluginkit/fall.js'
import { Hosts } from './handler.js'
import { HostsMap, parseHosts } from './hostsfile.js'
import { HostsStore } from './store.js'
import { ZoneSet } from './zones.js'

const NAME = 'hosts'
export const DEFAULT_PATH = '/etc/hosts'
export const DEFAULT_TTL = 3600
export const DEFAULT_RELOAD_MS = 5000
const PROPERTIES = ['fallthrough', 'fallthrough_unsupported', 'no_reverse', 'reload', 'ttl']

export interface HostsConfig {
  path: string
  /** true when FILE was given (a missing file is then worth a warning). */
  explicitPath: boolean
  zones: string[]
  ttl: number
  reverse: boolean
  reloadMs: number
  fall: Fall
  fallUnsupported: boolean
  /** Inline entry lines, as written. */
  inline: string[]
}

/** Whether a sub-directive name is an inline entry's address (IPv6 zone allowed). */
function isAddress(t: string): boolean {
  const pct = t.indexOf('%')
  return parseIP(pct >= 0 ? t.slice(0, pct) : t) !== null
}

function parseTtl(sub: Directive): number {
  const t = sub.args[0]
  if (t === undefined) throw pluginError(sub.token, NAME, 'ttl needs a time in second')
  expectArgs(sub, NAME, 1, 1)
  if (!/^[+-]?\d+$/.test(t.text)) throw pluginError(t, NAME, 'ttl needs a number of second')
  const n = Number(t.text)
  if (n <= 0 || n > 65535) throw pluginError(t, NAME, 'ttl provided is invalid')
  return n
}

function parseReload(sub: Directive): number {
  if (sub.args.length !== 1) {
    throw pluginError(sub.args[1] ?? sub.token, NAME, 'reload needs a duration (zero seconds to disable)')
  }
  const t = sub.args[0]!
  const ns = goParseDuration(t.text)
  if (typeof ns === 'string') throw pluginError(t, NAME, `invalid duration for reload '${t.text}'`)
  if (ns < 0n) throw pluginError(t, NAME, `invalid negative duration for reload '${t.text}'`)
  return Number(ns) / 1e6
}

/** Parses the directive into a config (no file access). Exported for tests. */
export function parseHostsDirective(ctx: SetupContext, d: Directive): HostsConfig {
  const fileTok = d.args[0]
  const cfg: HostsConfig = {
    path: fileTok === undefined ? DEFAULT_PATH : isAbsolute(fileTok.text) ? fileTok.text : resolve(ctx.block.root, fileTok.text),
    explicitPath: fileTok !== undefined,
    zones: normalizeZones(d.args.slice(1), [...ctx.zones], NAME),
    ttl: DEFAULT_TTL,
    reverse: true,
    reloadMs: DEFAULT_RELOAD_MS,
    fall: NO_FALL,
    fallUnsupported: false,
    inline: [],
  }
  let unsupportedTok: Token | null = null
  for (const sub of d.block ?? []) {
    switch (sub.name) {
      case 'ttl':
        cfg.ttl = parseTtl(sub)
        break
      case 'no_reverse':
        expectArgs(sub, NAME, 0, 0)
        cfg.reverse = false
        break
      case 'reload':
        cfg.reloadMs = parseReload(sub)
        break
      case 'fallthrough':
        cfg.fall = new Fall(normalizeZones(sub.args, ['.'], NAME))
        break
      case 'fallthrough_unsupported':
        expectArgs(sub, NAME, 0, 0)
        cfg.fallUnsupported = true
        unsupportedTok = sub.token
        break
      default: {
        if (sub.block !== null || !isAddress(sub.name)) {
          throw pluginError(
            sub.token,
            NAME,
            `unknown property '${sub.name}'; expected one of: ${PROPERTIES.join(', ')}, or an inline entry 'ADDRESS NAME...'`,
          )
        }
        if (sub.args.length === 0) throw pluginError(sub.token, NAME, `inline entry '${sub.name}' has no host name`)
        let line = sub.name
        for (const a of sub.args) line += ' ' + a.text
        cfg.inline.push(line)
      }
    }
  }
  if (unsupportedTok !== null && !cfg.fall.enabled) {
    throw pluginError(unsupportedTok, NAME, 'fallthrough_unsupported requires fallthrough')
  }
  return cfg
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    oncePerBlock(ds, NAME)
    const d = ds[0]!
    const cfg = parseHostsDirective(ctx, d)
    const zones = new ZoneSet(cfg.zones, ctx.zones)
    const inline = new HostsMap()
    if (cfg.inline.length > 0) parseHosts(cfg.inline.join('\n'), (n) => zones.contains(n), inline)
    const store = new HostsStore({ path: cfg.path, ttl: cfg.ttl, reverse: cfg.reverse, zones, inline, log: ctx.log })
    let r
    try {
      r = store.loadSync()
    } catch (e) {
      throw pluginError(d.args[0] ?? d.token, NAME, `unable to access hosts file '${cfg.path}': ${(e as Error).message}`)
    }
    if (r === 'missing' && cfg.explicitPath) ctx.log.warn(`File does not exist: ${cfg.path}`)
    else if (r === 'directory') ctx.log.warn(`Hosts file "${cfg.path}" is a directory`)
    if (cfg.reloadMs > 0) {
      ctx.instance.onStartup(() => {
        store.start(cfg.reloadMs)
        return store.poll()
      })
      ctx.instance.onShutdown(() => store.stop())
    }
    return (next) => new Hosts(next, store, zones, cfg.fall, cfg.fallUnsupported)
  },
}
