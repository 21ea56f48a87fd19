import { Class, Flag, Rcode, Type } from '../../dns/constants.js'
import { replyTo } from '../../dns/message.js'
import type { Message } from '../../dns/types.js'
import type { Handler, Request, ResponseWriter } from '../../pluginkit/types.js'
import { questionMessage } from '../../pluginkit/reply.js'

/**
 * Empty answer, AA=1; ADDITIONAL: `<qname> 0 IN A|AAAA <client ip>` and
 * `_<udp|tcp>.<qname> 0 IN SRV 0 0 <client port> .` (CoreDNS plugin/whoami).
 */
export class Whoami implements Handler {
  readonly name = 'whoami'
  readonly next: Handler
  constructor(next: Handler) {
    this.next = next
  }
  serve(req: Request, w: ResponseWriter): number {
    const m: Message = replyTo(questionMessage(req.q))
    m.flags |= Flag.AA
    const qname = req.q.qname
    const ip = req.remoteAddress
    m.additional.push({ name: qname, type: ip.includes(':') ? Type.AAAA : Type.A, class: Class.IN, ttl: 0, data: ip.split('%')[0]! })
    const srvOwner = qname === '.' ? `_${req.proto}.` : `_${req.proto}.${qname}`
    m.additional.push({
      name: srvOwner,
      type: Type.SRV,
      class: Class.IN,
      ttl: 0,
      data: { priority: 0, weight: 0, port: req.remotePort, target: '.' },
    })
    w.write(m, this.name)
    return Rcode.NoError
  }
}
