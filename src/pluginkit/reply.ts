// Small helpers plugins use to build replies.
import type { QueryView } from '../dns/query.js'
import type { Message } from '../dns/types.js'

/** A Message holding just the query's header fields and question (input for replyTo). */
export function questionMessage(q: QueryView): Message {
  return {
    id: q.id,
    flags: q.flags,
    question: [{ name: q.qname, type: q.qtype, class: q.qclass }],
    answer: [],
    authority: [],
    additional: [],
    edns: null,
  }
}
