// Several reply messages for one request (zone transfers over TCP: one AXFR answer is a sequence
// of messages). A ResponseWriter that can do this implements StreamWriter; the server's TCP
// writer is expected to (each message framed with its own length prefix, in order).

import type { ResponseWriter } from './types.js'

export interface StreamWriter extends ResponseWriter {
  /**
   * Sends every message, in order, as separate replies to this one request. Counts as the
   * request's write (later writes are ignored). Messages are sent as given (no truncation).
   */
  writeStream(msgs: readonly Buffer[], plugin: string): void
}

export function canStream(w: ResponseWriter): w is StreamWriter {
  return typeof (w as Partial<StreamWriter>).writeStream === 'function'
}
