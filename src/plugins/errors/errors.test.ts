import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Rcode } from '../../dns/constants.js'
import type { Handler, Request } from '../../pluginkit/types.js'
import { memoryLogger } from '../../log/logger.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { makeRequest, RecordingWriter, runSync, StubHandler } from '../../../test/helpers/fake.js'
import { plugin } from './setup.js'
import { goDurationString, Pattern } from './consolidate.js'
import { Errors } from './handler.js'

/** A next handler failing with `text` (rcode SERVFAIL, nothing written). */
function failing(text: string | null, rcode: number = Rcode.ServFail): StubHandler {
  return new StubHandler(rcode, 'forward', (req: Request) => {
    if (text !== null) req.error = new Error(text)
    return rcode
  })
}

function setup(body: string, next: Handler): { h: Errors; lines: string[]; shutdown: () => Promise<void> } {
  const r = runSetup(plugin, body)
  return {
    h: r.make!(next) as Errors,
    lines: r.lines,
    shutdown: async () => {
      for (const f of r.services.shutdown) await f()
    },
  }
}

describe('errors logging', () => {
  test('an error is logged as "<rcode> <qname> <qtype>: <text>" and the rcode passed on', () => {
    const { h, lines } = setup('errors', failing('read udp 10.0.0.1:53->8.8.8.8:53: i/o timeout'))
    const { rcode, w } = runSync(h, makeRequest('example.org.', 'A'))
    assert.equal(rcode, Rcode.ServFail)
    assert.equal(w.written, false)
    assert.deepEqual(lines, ['[ERROR] plugin/errors: 2 example.org. A: read udp 10.0.0.1:53->8.8.8.8:53: i/o timeout'])
  })
  test('no error, no line; the qname keeps its case', () => {
    const { h, lines } = setup('errors stdout', failing(null, Rcode.NoError))
    runSync(h, makeRequest('example.org.', 'A'))
    assert.equal(lines.length, 0)
    const e = setup('errors', failing('x', Rcode.Refused))
    runSync(e.h, makeRequest('Mixed.Example.ORG.', 'AAAA'))
    assert.deepEqual(e.lines, ['[ERROR] plugin/errors: 5 Mixed.Example.ORG. AAAA: x'])
  })
  test('async chains are logged when they settle', async () => {
    const next = new StubHandler(0, 'forward', (req) =>
      new Promise<number>((resolve) =>
        setImmediate(() => {
          req.error = new Error('upstream timeout')
          resolve(Rcode.ServFail)
        }),
      ),
    )
    const { h, lines } = setup('errors', next)
    const req = makeRequest('example.org.', 'MX')
    const p = h.serve(req, new RecordingWriter(req))
    assert.equal(typeof p, 'object')
    assert.equal(lines.length, 0)
    assert.equal(await p, Rcode.ServFail)
    assert.deepEqual(lines, ['[ERROR] plugin/errors: 2 example.org. MX: upstream timeout'])
  })
  test('stacktrace is accepted and recorded', () => {
    assert.equal(setup('errors {\n  stacktrace\n}', failing(null)).h.stacktrace, true)
    assert.equal(setup('errors', failing(null)).h.stacktrace, false)
  })
})

describe('errors consolidate', () => {
  test('matching errors are counted and summarised after the period; others still logged', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { h, lines } = setup('errors {\n  consolidate 5m ".* i/o timeout$"\n}', failing('read udp: i/o timeout'))
    for (let i = 0; i < 3; i++) runSync(h, makeRequest('example.org.', 'A'))
    assert.equal(lines.length, 0)
    const other = setup('errors {\n  consolidate 5m "i/o timeout$"\n}', failing('connection refused'))
    runSync(other.h, makeRequest('example.org.', 'A'))
    assert.deepEqual(other.lines, ['[ERROR] plugin/errors: 2 example.org. A: connection refused'])
    t.mock.timers.tick(5 * 60 * 1000 - 1)
    assert.equal(lines.length, 0)
    t.mock.timers.tick(1)
    assert.deepEqual(lines, ["[ERROR] plugin/errors: 3 errors like '.* i/o timeout$' occurred in last 5m0s"])
    // a new period starts with the next match
    runSync(h, makeRequest('example.org.', 'A'))
    t.mock.timers.tick(5 * 60 * 1000)
    assert.equal(lines.length, 2)
    assert.equal(lines[1], "[ERROR] plugin/errors: 1 errors like '.* i/o timeout$' occurred in last 5m0s")
  })
  test('levels and the first matching pattern', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const body = 'errors {\n  consolidate 30s "^a" warning\n  consolidate 1m "^ab" info\n  consolidate 90s "^c" debug\n}'
    const next = new StubHandler(2, 'forward', (req) => {
      req.error = new Error(req.q.qname.startsWith('c') ? 'cx' : 'abc')
      return 2
    })
    const { h, lines } = setup(body, next)
    runSync(h, makeRequest('a.example.org.', 'A'))
    runSync(h, makeRequest('c.example.org.', 'A'))
    t.mock.timers.tick(90_000)
    assert.deepEqual(lines, [
      "[WARNING] plugin/errors: 1 errors like '^a' occurred in last 30s",
      "[DEBUG] plugin/errors: 1 errors like '^c' occurred in last 1m30s",
    ])
  })
  test('show_first logs the first occurrence at once and the summary only for more', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { h, lines } = setup('errors {\n  consolidate 10s timeout warning show_first\n}', failing('a timeout'))
    runSync(h, makeRequest('example.org.', 'A'))
    assert.deepEqual(lines, ['[WARNING] plugin/errors: 2 example.org. A: a timeout'])
    t.mock.timers.tick(10_000)
    assert.equal(lines.length, 1, 'no summary for a single error')
    runSync(h, makeRequest('example.org.', 'A'))
    runSync(h, makeRequest('example.org.', 'A'))
    t.mock.timers.tick(10_000)
    assert.deepEqual(lines.slice(1), [
      '[WARNING] plugin/errors: 2 example.org. A: a timeout',
      "[WARNING] plugin/errors: 2 errors like 'timeout' occurred in last 10s",
    ])
  })
  test('show_first without a level uses error', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { h, lines } = setup('errors {\n  consolidate 10s timeout show_first\n}', failing('timeout'))
    runSync(h, makeRequest('example.org.', 'A'))
    assert.deepEqual(lines, ['[ERROR] plugin/errors: 2 example.org. A: timeout'])
  })
  test('shutdown flushes pending counters and stops consolidating', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { h, lines, shutdown } = setup('errors {\n  consolidate 1h timeout\n}', failing('timeout'))
    runSync(h, makeRequest('example.org.', 'A'))
    runSync(h, makeRequest('example.org.', 'A'))
    await shutdown()
    assert.deepEqual(lines, ["[ERROR] plugin/errors: 2 errors like 'timeout' occurred in last 1h0m0s"])
    runSync(h, makeRequest('example.org.', 'A'))
    assert.equal(lines[1], '[ERROR] plugin/errors: 2 example.org. A: timeout')
    t.mock.timers.tick(3_600_000)
    assert.equal(lines.length, 2)
  })
  test('consolidation timers are unref\'d', () => {
    const { log } = memoryLogger()
    const p = new Pattern(/x/, 'x', 1_000_000_000n, 'error', false, log)
    p.add('line')
    assert.ok(p.timer)
    assert.equal(p.timer.hasRef(), false)
    p.flush()
    assert.equal(p.timer, null)
  })
  test('goDurationString matches Go time.Duration.String()', () => {
    const cases: Array<[bigint, string]> = [
      [0n, '0s'],
      [1n, '1ns'],
      [1500n, '1.5µs'],
      [100_000_000n, '100ms'],
      [1_500_000_000n, '1.5s'],
      [30_000_000_000n, '30s'],
      [90_000_000_000n, '1m30s'],
      [300_000_000_000n, '5m0s'],
      [3_600_000_000_000n, '1h0m0s'],
      [9_045_500_000_000n, '2h30m45.5s'],
      [-2_000_000_000n, '-2s'],
    ]
    for (const [ns, s] of cases) assert.equal(goDurationString(ns), s, String(ns))
  })
})
