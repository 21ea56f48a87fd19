import { performance } from 'node:perf_hooks'
import { hrtime } from 'node:process'
import { QueryView } from '../dns/query.js'
import { encodeMessage } from '../dns/message.js'
import { Class, Flag } from '../dns/constants.js'
import { EDNS_DO } from '../dns/types.js'
import type { Proto, Request } from '../pluginkit/types.js'
import { dispatch, type ZoneMux } from './dispatch.js'
import { CaptureWriter } from './writer.js'

/** hrtime.bigint() - performance.now() in ns (both read the same monotonic clock). */
const HR_OFFSET = hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6))

/** Nested subqueries (ExternalName → ExternalName ...) stop here. */
const MAX_SUBQUERY_DEPTH = 8

export class ServerRequest implements Request {
  q: QueryView
  readonly proto: Proto
  readonly transport: string
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
  readonly family: 1 | 2
  readonly server: string
  zone: string
  readonly maxSize: number
  error: Error | null
  meta: Map<string, string> | null
  replyRcode: number
  replySize: number
  replyFlags: number
  replyPlugin: string
  /** performance.now() on arrival (cheaper than hrtime.bigint(); `start` converts on demand). */
  private readonly t0: number
  /** The zone map this query was routed through (set by dispatch); subqueries use it too. */
  mux: ZoneMux | null
  depth: number
  constructor(
    q: QueryView,
    proto: Proto,
    transport: string,
    remoteAddress: string,
    remotePort: number,
    localAddress: string,
    localPort: number,
    server: string,
  ) {
    this.q = q
    this.proto = proto
    this.transport = transport
    this.remoteAddress = remoteAddress
    this.remotePort = remotePort
    this.localAddress = localAddress
    this.localPort = localPort
    this.family = remoteAddress.includes(':') ? 2 : 1
    this.server = server
    this.zone = '.'
    this.maxSize = proto === 'tcp' ? 65535 : q.hasEdns ? Math.max(512, q.udpSize) : 512
    this.error = null
    this.meta = null
    this.replyRcode = -1
    this.replySize = 0
    this.replyFlags = 0
    this.replyPlugin = ''
    this.t0 = performance.now()
    this.mux = null
    this.depth = 0
  }

  /** process.hrtime.bigint() when the query arrived. */
  get start(): bigint {
    return HR_OFFSET + BigInt(Math.round(this.t0 * 1e6))
  }

  subquery(name: string, type: number): Promise<Buffer | null> {
    const mux = this.mux
    if (mux === null || this.depth >= MAX_SUBQUERY_DEPTH) return Promise.resolve(null)
    const q0 = this.q
    const wire = encodeMessage({
      id: (Math.random() * 0x10000) | 0,
      flags: Flag.RD | (q0.flags & Flag.CD),
      question: [{ name, type, class: Class.IN }],
      answer: [],
      authority: [],
      additional: [],
      edns: q0.hasEdns ? { udpSize: q0.udpSize, extRcode: 0, version: 0, flags: q0.do ? EDNS_DO : 0, options: [] } : null,
    })
    const q = new QueryView()
    q.parseHeader(wire)
    q.parseBody()
    const sub = new ServerRequest(q, this.proto, this.transport, this.remoteAddress, this.remotePort, this.localAddress, this.localPort, this.server)
    sub.depth = this.depth + 1
    return new Promise((resolve) => {
      const w = new CaptureWriter(sub, resolve)
      dispatch(mux, sub, w, () => {
        if (!w.written) resolve(null)
      })
    })
  }
}
