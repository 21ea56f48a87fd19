// Test helpers for the kubernetes and transfer plugins: build a handler over a KubeView from a
// Corefile snippet, run queries, and print records as zone-file-like text.

import { parseCorefile } from '../../corefile/parser.js'
import { Flag, Rcode, Type, rcodeToString, typeToString } from '../../dns/constants.js'
import type { Message, RR, SOA, SRV } from '../../dns/types.js'
import type { KubeView } from '../../kube/model.js'
import type { Handler } from '../../pluginkit/types.js'
import { makeRequest, run, StubHandler, type RequestOptions } from '../../../test/helpers/fake.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { Backend } from './backend.js'
import { Kubernetes } from './handler.js'
import { parseKubernetes, plugin } from './setup.js'
import { FIXTURE_LOCAL_IPS, fixtureView } from './testdata.js'

export const STOCK = 'kubernetes cluster.local in-addr.arpa ip6.arpa {\n  pods insecure\n  fallthrough in-addr.arpa ip6.arpa\n  ttl 30\n}'

export interface Built {
  h: Kubernetes
  next: StubHandler
  view: KubeView
}

export function build(body = STOCK, o: { view?: KubeView; localIPs?: readonly string[]; key?: string } = {}): Built {
  const key = o.key ?? '.:53'
  const r = runSetup(plugin, body, key)
  const d = parseCorefile(`${key} {\n${body}\n}\n`, 'Corefile').blocks[0]!.directives.find((x) => x.name === 'kubernetes')!
  const cfg = parseKubernetes(r.ctx, d)
  const view = o.view ?? fixtureView()
  const next = new StubHandler(Rcode.ServFail, 'next')
  const h = new Kubernetes(next, cfg, new Backend(cfg, o.localIPs ?? FIXTURE_LOCAL_IPS, view))
  return { h, next, view }
}

export function fmt(r: RR): string {
  const d = r.data
  let data: string
  switch (r.type) {
    case Type.SRV: {
      const s = d as SRV
      data = `${s.priority} ${s.weight} ${s.port} ${s.target}`
      break
    }
    case Type.SOA: {
      const s = d as SOA
      data = `${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`
      break
    }
    case Type.TXT:
      data = (d as Buffer[]).map((b) => JSON.stringify(b.toString('latin1'))).join(' ')
      break
    default:
      data = String(d)
  }
  return `${r.name} ${r.ttl} ${typeToString(r.type)} ${data}`
}

export interface Answer {
  rcode: string
  /** Handler's returned rcode. */
  returned: number
  msg: Message | null
  an: string[]
  ns: string[]
  ar: string[]
  aa: boolean
  rd: boolean
  ra: boolean
  tc: boolean
  plugin: string | null
  nextCalls: number
}

export async function ask(b: Built, name: string, type: keyof typeof Type | number, o: RequestOptions = {}): Promise<Answer> {
  const before = b.next.calls
  const req = makeRequest(name, type, o)
  const { rcode, w } = await run(b.h as Handler, req)
  const msg = w.wire === null ? null : w.reply
  const flags = msg?.flags ?? 0
  return {
    rcode: msg === null ? '-' : rcodeToString(flags & 0xf),
    returned: rcode,
    msg,
    an: msg?.answer.map(fmt) ?? [],
    ns: msg?.authority.map(fmt) ?? [],
    ar: msg?.additional.map(fmt) ?? [],
    aa: (flags & Flag.AA) !== 0,
    rd: (flags & Flag.RD) !== 0,
    ra: (flags & Flag.RA) !== 0,
    tc: (flags & Flag.TC) !== 0,
    plugin: w.plugin,
    nextCalls: b.next.calls - before,
  }
}
