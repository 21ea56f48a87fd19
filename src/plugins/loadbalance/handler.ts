import { Type } from '../../dns/constants.js'
import { decodeMessage, getRcode } from '../../dns/message.js'
import type { Message } from '../../dns/types.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'

/** Reorders a NOERROR reply's sections in place. */
export type ShuffleFn = (msg: Message) => void

/**
 * Wraps the writer so that replies coming back up the chain are reordered (CoreDNS
 * LoadBalanceResponseWriter). Messages are changed in place; wire replies (cache hits, forwarded
 * answers) are decoded, reordered and written as a message. Only NOERROR replies to questions
 * other than AXFR/IXFR are touched.
 */
export class LoadBalanceWriter implements ResponseWriter {
  readonly inner: ResponseWriter
  readonly shuffle: ShuffleFn
  constructor(inner: ResponseWriter, shuffle: ShuffleFn) {
    this.inner = inner
    this.shuffle = shuffle
  }
  get written(): boolean {
    return this.inner.written
  }
  write(msg: Message, plugin: string): void {
    if (!this.inner.written && eligible(msg)) this.shuffle(msg)
    this.inner.write(msg, plugin)
  }
  writeWire(wire: Buffer, plugin: string): void {
    if (this.inner.written || wire.length < 12) {
      this.inner.writeWire(wire, plugin)
      return
    }
    // Nothing to reorder: NOERROR low bits unset, or at most one record per section.
    const an = (wire[6]! << 8) | wire[7]!
    const ns = (wire[8]! << 8) | wire[9]!
    const ar = (wire[10]! << 8) | wire[11]!
    if ((wire[3]! & 0xf) !== 0 || (an <= 1 && ns <= 1 && ar <= 1)) {
      this.inner.writeWire(wire, plugin)
      return
    }
    let msg: Message
    try {
      msg = decodeMessage(wire)
    } catch {
      this.inner.writeWire(wire, plugin)
      return
    }
    if (!eligible(msg)) {
      this.inner.writeWire(wire, plugin)
      return
    }
    this.shuffle(msg)
    this.inner.write(msg, plugin)
  }
}

function eligible(msg: Message): boolean {
  if (getRcode(msg) !== 0) return false
  const q = msg.question[0]
  if (q !== undefined && (q.type === Type.AXFR || q.type === Type.IXFR)) return false
  return true
}

export class LoadBalance implements Handler {
  readonly name = 'loadbalance'
  readonly next: Handler
  readonly shuffle: ShuffleFn
  constructor(next: Handler, shuffle: ShuffleFn) {
    this.next = next
    this.shuffle = shuffle
  }
  serve(req: Request, w: ResponseWriter): Served {
    return this.next.serve(req, new LoadBalanceWriter(w, this.shuffle))
  }
}
