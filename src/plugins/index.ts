// The plugin registry. Its order IS the execution order (CoreDNS plugin.cfg, corefile.md §8),
// whatever the order of directives in the Corefile: the first handler sees the query first.
// Setup runs in this order too, so setup-only plugins (root, bind, debug, tls ...) fill the
// block's settings before the handler plugins are set up. The one place to add a plugin.

import type { PluginDef } from '../pluginkit/types.js'
import { plugin as root } from './root/setup.js'
import { plugin as bind } from './bind/setup.js'
import { plugin as debug } from './debug/setup.js'
import { plugin as tls } from './tls/setup.js'
import { plugin as ready } from './ready/setup.js'
import { plugin as health } from './health/setup.js'
import { plugin as errors } from './errors/setup.js'
import { plugin as log } from './log/setup.js'
import { plugin as any } from './any/setup.js'
import { plugin as loadbalance } from './loadbalance/setup.js'
import { plugin as rewrite } from './rewrite/setup.js'
import { plugin as autopath } from './autopath/setup.js'
import { plugin as cache } from './cache/setup.js'
import { plugin as template } from './template/setup.js'
import { plugin as transfer } from './transfer/setup.js'
import { plugin as hosts } from './hosts/setup.js'
import { plugin as kubernetes } from './kubernetes/setup.js'
import { plugin as loop } from './loop/setup.js'
import { plugin as forward } from './forward/setup.js'
import { plugin as whoami } from './whoami/setup.js'

export const PLUGINS: readonly PluginDef[] = [
  root,
  // reload
  bind,
  debug,
  tls, // setup only; CoreDNS lists it later, but it must precede listener grouping only
  ready,
  health,
  // prometheus
  errors,
  log,
  // local
  any,
  loadbalance,
  rewrite,
  autopath,
  // acl
  cache,
  // minimal
  template,
  transfer,
  hosts,
  kubernetes,
  // file
  loop,
  forward,
  whoami,
]
