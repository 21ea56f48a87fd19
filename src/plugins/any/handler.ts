import { Class, Rcode, Type } from '../../dns/constants.js'
import { replyTo } from '../../dns/message.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import { questionMessage } from '../../pluginkit/reply.js'

export class Any implements Handler {
  readonly name = 'any'
  readonly next: Handler
  constructor(next: Handler) {
    this.next = next
  }
  serve(req: Request, w: ResponseWriter): Served {
    if (req.q.qtype !== Type.ANY) return this.next.serve(req, w)
    const m = replyTo(questionMessage(req.q))
    m.answer.push({
      name: req.q.qname,
      type: Type.HINFO,
      class: Class.IN,
      ttl: 8482,
      data: { cpu: 'ANY obsoleted', os: 'See RFC 8482' },
    })
    w.write(m, this.name)
    return Rcode.NoError
  }
}
