// tls CERT KEY [CA] { client_auth nocert|request|require|verify_if_given|require_and_verify }
// The certificate of this block's tls:// (DNS-over-TLS) listeners.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { expectArgs, oncePerBlock, unknownProperty } from '../../corefile/args.js'
import { pluginError } from '../../corefile/errors.js'
import type { Token } from '../../corefile/lexer.js'
import type { PluginDef } from '../../pluginkit/types.js'

const CLIENT_AUTH = ['nocert', 'request', 'require', 'verify_if_given', 'require_and_verify']

function readPem(root: string, t: Token, what: string): Buffer {
  try {
    return readFileSync(resolve(root, t.text))
  } catch (e) {
    throw pluginError(t, 'tls', `cannot read ${what} file "${t.text}": ${(e as Error).message}`)
  }
}

export const plugin: PluginDef = {
  name: 'tls',
  setup(ctx, ds) {
    oncePerBlock(ds, 'tls')
    const d = ds[0]!
    expectArgs(d, 'tls', 2, 3)
    const cert = readPem(ctx.block.root, d.args[0]!, 'certificate')
    const key = readPem(ctx.block.root, d.args[1]!, 'key')
    const ca = d.args[2] ? readPem(ctx.block.root, d.args[2], 'CA') : null
    let clientAuth = 'nocert'
    for (const sub of d.block ?? []) {
      if (sub.name !== 'client_auth') throw unknownProperty(sub.token, 'tls', ['client_auth'])
      expectArgs(sub, 'tls', 1, 1)
      const v = sub.args[0]!.text
      if (!CLIENT_AUTH.includes(v)) {
        throw pluginError(sub.args[0]!, 'tls', `unknown authentication type '${v}'; expected one of: ${CLIENT_AUTH.join(', ')}`)
      }
      clientAuth = v
    }
    ctx.block.tls = { cert, key, ca, clientAuth }
    return null
  },
}
