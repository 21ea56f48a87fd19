import { typeToString } from '../../dns/constants.js'
import type { Logger } from '../../log/logger.js'
import type { Handler, Request, ResponseWriter, Served } from '../../pluginkit/types.js'
import type { Pattern } from './consolidate.js'

/**
 * Logs the error a query ended with (CoreDNS plugin/errors):
 * `[ERROR] plugin/errors: <rcode> <qname> <qtype>: <error text>`, or counts it into the first
 * `consolidate` pattern its text matches.
 */
export class Errors implements Handler {
  readonly name = 'errors'
  readonly next: Handler
  readonly patterns: readonly Pattern[]
  readonly log: Logger
  /** `stacktrace` was given (panic traces; the server's recovery prints them). */
  readonly stacktrace: boolean
  /** Set on shutdown: consolidation stops, errors are logged one by one. */
  stopped: boolean
  constructor(next: Handler, patterns: readonly Pattern[], log: Logger, stacktrace: boolean) {
    this.next = next
    this.patterns = patterns
    this.log = log
    this.stacktrace = stacktrace
    this.stopped = false
  }

  serve(req: Request, w: ResponseWriter): Served {
    const r = this.next.serve(req, w)
    if (typeof r === 'number') {
      if (req.error !== null) this.report(req, r, req.error)
      return r
    }
    return r.then((rc) => {
      if (req.error !== null) this.report(req, rc, req.error)
      return rc
    })
  }

  report(req: Request, rcode: number, err: Error): void {
    const text = err.message
    const line = `${rcode} ${req.q.qname === '' ? '.' : req.q.qname} ${typeToString(req.q.qtype)}: ${text}`
    if (!this.stopped) {
      const ps = this.patterns
      for (let i = 0; i < ps.length; i++) {
        const p = ps[i]!
        if (p.re.test(text)) {
          p.add(line)
          return
        }
      }
    }
    this.log.error(line)
  }

  /** Flushes pending consolidation summaries and stops consolidating (shutdown). */
  stop(): void {
    this.stopped = true
    for (const p of this.patterns) p.flush()
  }
}
