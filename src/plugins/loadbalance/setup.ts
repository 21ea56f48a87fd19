// loadbalance [round_robin | weighted WEIGHTFILE] { reload DURATION; prefer CIDR... }
// Reorders A, AAAA and MX records of NOERROR replies (plugins.md §12, CoreDNS plugin/loadbalance).

import { isAbsolute, resolve } from 'node:path'
import { goParseDuration } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { Directive } from '../../corefile/parser.js'
import { parseCidr, type Cidr } from '../../lib/ip.js'
import type { PluginDef, SetupContext } from '../../pluginkit/types.js'
import { LoadBalance, type ShuffleFn } from './handler.js'
import { defaultRand, preferSubnets, randomShuffle, type Rand } from './shuffle.js'
import { WeightedRR } from './weighted.js'

const NAME = 'loadbalance'
export const DEFAULT_RELOAD_MS = 30_000

export interface LoadBalanceConfig {
  policy: 'round_robin' | 'weighted'
  /** Absolute path of the weight file (weighted only). */
  weightFile: string | null
  reloadMs: number
  prefer: Cidr[]
  /** The `prefer` arguments as written (for tests). */
  preferText: string[]
}

/** Parses one `loadbalance` directive (no file access). Exported for tests. */
export function parseLoadBalance(ctx: SetupContext, d: Directive): LoadBalanceConfig {
  const cfg: LoadBalanceConfig = { policy: 'round_robin', weightFile: null, reloadMs: DEFAULT_RELOAD_MS, prefer: [], preferText: [] }
  const args = d.args
  if (args.length > 0) {
    const p = args[0]!
    if (p.text === 'round_robin') {
      if (args.length > 1) throw pluginError(args[1]!, NAME, `unknown property for ${p.text}`)
    } else if (p.text === 'weighted') {
      if (args.length < 2) throw pluginError(p, NAME, 'missing weight file argument')
      if (args.length > 2) throw pluginError(args[2]!, NAME, 'unexpected argument(s)')
      cfg.policy = 'weighted'
      const f = args[1]!.text
      cfg.weightFile = isAbsolute(f) ? f : resolve(ctx.block.root, f)
    } else {
      throw pluginError(p, NAME, `unknown policy: ${p.text}`)
    }
  }
  for (const sub of d.block ?? []) {
    switch (sub.name) {
      case 'reload': {
        if (cfg.policy !== 'weighted') throw pluginError(sub.token, NAME, `unknown property '${sub.name}'`)
        if (sub.args.length < 1) throw pluginError(sub.token, NAME, 'reload duration value is missing')
        if (sub.args.length > 1) throw pluginError(sub.args[1]!, NAME, 'unexpected argument')
        const t = sub.args[0]!
        const ns = goParseDuration(t.text)
        if (typeof ns === 'string' || ns < 0n) throw pluginError(t, NAME, `invalid reload duration '${t.text}'`)
        cfg.reloadMs = Number(ns) / 1e6
        break
      }
      case 'prefer':
        if (sub.args.length === 0) throw pluginError(sub.token, NAME, 'prefer needs at least one CIDR')
        for (const a of sub.args) {
          const c = parseCidr(a.text)
          if (c === null) throw pluginError(a, NAME, `invalid CIDR "${a.text}": invalid CIDR address: ${a.text}`)
          cfg.prefer.push(c)
          cfg.preferText.push(a.text)
        }
        break
      default:
        throw pluginError(sub.token, NAME, `unknown property '${sub.name}'`)
    }
  }
  return cfg
}

/** Builds the reordering function of a config. */
export function makeShuffle(cfg: LoadBalanceConfig, weighted: WeightedRR | null, rand: Rand): ShuffleFn {
  const base: ShuffleFn = weighted !== null ? (m) => weighted.shuffle(m) : (m) => randomShuffle(m, rand)
  if (cfg.prefer.length === 0) return base
  const subnets = cfg.prefer
  return (m) => {
    base(m)
    preferSubnets(m, subnets)
  }
}

export const plugin: PluginDef = {
  name: NAME,
  setup(ctx, ds) {
    // Several directives: the last one wins, as CoreDNS's parse loop.
    let cfg: LoadBalanceConfig | null = null
    let last: Directive | null = null
    for (const d of ds) {
      cfg = parseLoadBalance(ctx, d)
      last = d
    }
    if (cfg === null || last === null) return null
    const rand = defaultRand
    let weighted: WeightedRR | null = null
    if (cfg.policy === 'weighted') {
      const w = new WeightedRR(cfg.weightFile!, cfg.reloadMs, rand, ctx.log)
      let r: 'ok' | 'missing'
      try {
        r = w.loadSync()
      } catch (e) {
        throw pluginError(last.args[1]!, NAME, (e as Error).message)
      }
      if (r === 'missing') {
        if (cfg.reloadMs === 0) throw pluginError(last.args[1]!, NAME, `weight file open error: ${cfg.weightFile!}`)
        ctx.log.warn(`Failed to open weight file:weight file open error. Will try again in ${cfg.reloadMs / 1000}s`)
      }
      ctx.instance.onStartup(() => w.start())
      ctx.instance.onShutdown(() => w.stop())
      weighted = w
    }
    const shuffle = makeShuffle(cfg, weighted, rand)
    return (next) => new LoadBalance(next, shuffle)
  },
}
