import type { QueryView } from '../dns/query.js'
import type { Proto, Request } from '../pluginkit/types.js'

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
  readonly start: bigint
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
    this.start = process.hrtime.bigint()
  }
}
