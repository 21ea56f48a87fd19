// Fakes for driving a handler directly: a Request built from a qname/qtype (encoded with our codec,
// parsed by QueryView exactly as a listener does), a writer that records what was sent (and fills
// the Request's reply facts like the real one), and stub next handlers.

import { Class, Flag, Type } from '../../src/dns/constants.js'
import { decodeMessage, encodeMessage } from '../../src/dns/message.js'
import { QueryView } from '../../src/dns/query.js'
import type { Message } from '../../src/dns/types.js'
import { NO_REPLY, type Handler, type Proto, type Request, type ResponseWriter, type Served } from '../../src/pluginkit/types.js'
import { BaseWriter } from '../../src/server/writer.js'

export interface QueryOptions {
  id?: number
  qclass?: number
  /** RD is set unless false. */
  rd?: boolean
  cd?: boolean
  opcode?: number
  /** Adds an OPT with this UDP size. */
  ednsSize?: number
  do?: boolean
}

/** Wire bytes of a query. */
export function queryWire(qname: string, qtype: number, o: QueryOptions = {}): Buffer {
  let flags = 0
  if (o.rd !== false) flags |= Flag.RD
  if (o.cd === true) flags |= Flag.CD
  flags |= ((o.opcode ?? 0) & 0xf) << 11
  const msg: Message = {
    id: o.id ?? 4711,
    flags,
    question: [{ name: qname, type: qtype, class: o.qclass ?? Class.IN }],
    answer: [],
    authority: [],
    additional: [],
    edns:
      o.ednsSize !== undefined || o.do === true
        ? { udpSize: o.ednsSize ?? 1232, extRcode: 0, version: 0, flags: o.do === true ? 0x8000 : 0, options: [] }
        : null,
  }
  return encodeMessage(msg)
}

export function queryView(qname: string, qtype: number, o: QueryOptions = {}): QueryView {
  const q = new QueryView()
  q.parseHeader(queryWire(qname, qtype, o))
  q.parseBody()
  return q
}

export interface RequestOptions extends QueryOptions {
  proto?: Proto
  remoteAddress?: string
  remotePort?: number
  localAddress?: string
  localPort?: number
  zone?: string
  /** Overrides Request.start (process.hrtime.bigint()). */
  start?: bigint
  /** Answers Request.subquery (default: null, as when nothing answers). */
  subquery?: (name: string, type: number) => Promise<Buffer | null>
}

export class FakeRequest implements Request {
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
  readonly subqueries: Array<{ name: string; type: number }> = []
  private readonly sub: ((name: string, type: number) => Promise<Buffer | null>) | null
  constructor(q: QueryView, o: RequestOptions = {}) {
    this.q = q
    this.proto = o.proto ?? 'udp'
    this.transport = 'dns'
    this.remoteAddress = o.remoteAddress ?? '10.244.1.7'
    this.remotePort = o.remotePort ?? 51234
    this.localAddress = o.localAddress ?? '10.96.0.10'
    this.localPort = o.localPort ?? 53
    this.family = this.remoteAddress.includes(':') ? 2 : 1
    this.server = 'dns://:53'
    this.zone = o.zone ?? '.'
    this.maxSize = this.proto === 'tcp' ? 65535 : q.hasEdns ? Math.max(512, q.udpSize) : 512
    this.error = null
    this.meta = null
    this.replyRcode = -1
    this.replySize = 0
    this.replyFlags = 0
    this.replyPlugin = ''
    this.start = o.start ?? process.hrtime.bigint()
    this.sub = o.subquery ?? null
  }
  subquery(name: string, type: number): Promise<Buffer | null> {
    this.subqueries.push({ name, type })
    return this.sub ? this.sub(name, type) : Promise.resolve(null)
  }
}

export function makeRequest(qname: string, qtype: number | keyof typeof Type, o: RequestOptions = {}): FakeRequest {
  const t = typeof qtype === 'number' ? qtype : Type[qtype]
  return new FakeRequest(queryView(qname, t, o), o)
}

/** The listener's writer with `send` replaced by a recorder. */
export class RecordingWriter extends BaseWriter {
  /** The message given to write(), as given (before EDNS fitting). */
  msg: Message | null
  /** The bytes that would have gone to the client. */
  wire: Buffer | null
  plugin: string | null
  /** Every write call, including ignored second writes. */
  calls: number
  readonly request: Request
  constructor(req: Request) {
    super(req)
    this.request = req
    this.msg = null
    this.wire = null
    this.plugin = null
    this.calls = 0
  }
  override write(msg: Message, plugin: string): void {
    this.calls++
    if (!this.written) {
      this.msg = msg
      this.plugin = plugin
    }
    super.write(msg, plugin)
  }
  override writeWire(wire: Buffer, plugin: string): void {
    this.calls++
    if (!this.written) this.plugin = plugin
    super.writeWire(wire, plugin)
  }
  override writeError(rcode: number): void {
    this.calls++
    super.writeError(rcode)
  }
  protected send(buf: Buffer): void {
    this.wire = buf
  }
  /** The sent reply, decoded. Throws if nothing was sent. */
  get reply(): Message {
    if (this.wire === null) throw new Error('no reply was written')
    return decodeMessage(this.wire)
  }
}

/** A next handler that answers nothing and returns a fixed rcode (or runs `fn`). */
export class StubHandler implements Handler {
  readonly name: string
  calls: number
  rcode: number
  fn: ((req: Request, w: ResponseWriter) => Served) | null
  constructor(rcode = 2, name = 'stub', fn: ((req: Request, w: ResponseWriter) => Served) | null = null) {
    this.name = name
    this.calls = 0
    this.rcode = rcode
    this.fn = fn
  }
  serve(req: Request, w: ResponseWriter): Served {
    this.calls++
    if (this.fn !== null) return this.fn(req, w)
    return this.rcode
  }
}

/** Runs a handler like dispatch does (awaiting a Promise, writing the server's error reply). */
export async function run(h: Handler, req: Request): Promise<{ rcode: number; w: RecordingWriter }> {
  const w = new RecordingWriter(req)
  const r = h.serve(req, w)
  const rcode = typeof r === 'number' ? r : await r
  if (!w.written && rcode !== NO_REPLY) w.writeError(rcode === 5 || rcode === 1 || rcode === 4 ? rcode : 2)
  return { rcode, w }
}

/** Serves synchronously; fails if the handler returned a Promise. */
export function runSync(h: Handler, req: Request): { rcode: number; w: RecordingWriter } {
  const w = new RecordingWriter(req)
  const r = h.serve(req, w)
  if (typeof r !== 'number') throw new Error(`${h.name} returned a Promise on a synchronous path`)
  return { rcode: r, w }
}
