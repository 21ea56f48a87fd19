import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Class, Flag, Rcode, Type } from '../../dns/constants.js'
import { encodeMessage, replyTo } from '../../dns/message.js'
import type { Message, RR } from '../../dns/types.js'
import type { Handler, Request, ResponseWriter } from '../../pluginkit/types.js'
import { questionMessage } from '../../pluginkit/reply.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { makeRequest, RecordingWriter, run, runSync, StubHandler, type RequestOptions } from '../../../test/helpers/fake.js'
import { plugin } from './setup.js'
import { compileFormat, flagsToString, formatDuration, P } from './format.js'
import { classify, ReplyFacts, typify, Cls } from './classify.js'

const A_RR: RR = { name: 'web.example.org.', type: Type.A, class: Class.IN, ttl: 30, data: '10.0.0.1' }
const SOA_RR: RR = {
  name: 'example.org.',
  type: Type.SOA,
  class: Class.IN,
  ttl: 30,
  data: { mname: 'ns.example.org.', rname: 'h.example.org.', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 },
}
const NS_RR: RR = { name: 'sub.example.org.', type: Type.NS, class: Class.IN, ttl: 30, data: 'ns.sub.example.org.' }

interface Answer {
  rcode?: number
  answer?: RR[]
  authority?: RR[]
  aa?: boolean
  wire?: boolean
}

/** A next handler that writes a reply of the given shape. */
function answering(a: Answer): StubHandler {
  return new StubHandler(0, 'next', (req: Request, w: ResponseWriter): number => {
    const m: Message = replyTo(questionMessage(req.q))
    m.flags |= (a.rcode ?? 0) & 0xf
    if (a.aa !== false) m.flags |= Flag.AA
    m.answer = a.answer ?? []
    m.authority = a.authority ?? []
    if (a.wire === true) w.writeWire(encodeMessage(m), 'next')
    else w.write(m, 'next')
    return Rcode.NoError
  })
}

function setup(body: string, next: Handler): { h: Handler; lines: string[] } {
  const r = runSetup(plugin, body)
  return { h: r.make!(next), lines: r.lines }
}

function logOne(body: string, next: Handler, name = 'web.example.org.', type: keyof typeof Type = 'A', o: RequestOptions = {}): string[] {
  const { h, lines } = setup(body, next)
  runSync(h, makeRequest(name, type, o))
  return lines
}

const DUR = /^\d+(\.\d{1,9})?s$/

describe('log lines', () => {
  test('default: Common Log Format with [INFO] prefix through the injected logger', () => {
    const req = makeRequest('web.example.org.', 'A')
    const { h, lines } = setup('log', answering({ answer: [A_RR] }))
    const { w } = runSync(h, req)
    assert.equal(lines.length, 1)
    const line = lines[0]!
    const m = /^\[INFO\] 10\.244\.1\.7:51234 - 4711 "A IN web\.example\.org\. udp (\d+) false 512" NOERROR qr,aa,rd (\d+) (\S+)$/.exec(line)
    assert.ok(m, line)
    assert.equal(Number(m[1]), req.q.buf.length)
    assert.equal(Number(m[2]), w.wire!.length)
    assert.match(m[3]!, DUR)
  })
  test('{combined} adds the opcode; {common} in a custom format expands', () => {
    const l1 = logOne('log . {combined}', answering({ answer: [A_RR] }))
    assert.match(l1[0]!, / "0"$/)
    const l2 = logOne('log . "<{common}>"', answering({ answer: [A_RR] }))
    assert.match(l2[0]!, /^\[INFO\] <10\.244\.1\.7:51234 - 4711 "A IN .*s>$/)
  })
  test('every placeholder', () => {
    const fmt = '"{type}|{name}|{class}|{proto}|{remote}|{local}|{port}|{size}|{rcode}|{rsize}|{>rflags}|{>bufsize}|{>do}|{>id}|{>opcode}|{/meta1}|{/nope}|{>ID}|{foo}|{>nope}"'
    const req = makeRequest('Web.Example.org.', 'AAAA', {
      id: 99,
      proto: 'tcp',
      remoteAddress: 'fd00::7',
      remotePort: 4000,
      localAddress: '::1',
      ednsSize: 1400,
      do: true,
    })
    req.meta = new Map([['meta1', 'm-value']])
    const { h, lines } = setup(`log . ${fmt}`, answering({ rcode: Rcode.NXDomain, authority: [SOA_RR] }))
    const { w } = runSync(h, req)
    assert.equal(
      lines[0],
      `[INFO] AAAA|Web.Example.org.|IN|tcp|[fd00::7]|[::1]|4000|${req.q.buf.length}|NXDOMAIN|${w.wire!.length}|qr,aa,rd|65535|true|99|0|m-value|-|99|{foo}|{>nope}`,
    )
  })
  test('{>bufsize}: EDNS size over UDP, 512 without EDNS, 65535 over TCP', () => {
    const next = answering({ answer: [A_RR] })
    assert.match(logOne('log . {>bufsize}', next, 'a.example.org.', 'A', { ednsSize: 4096 })[0]!, / 4096$/)
    assert.match(logOne('log . {>bufsize}', next, 'a.example.org.', 'A', { ednsSize: 100 })[0]!, / 512$/)
    assert.match(logOne('log . {>bufsize}', next)[0]!, / 512$/)
    assert.match(logOne('log . {>bufsize}', next, 'a.example.org.', 'A', { proto: 'tcp' })[0]!, / 65535$/)
  })
  test('nothing written: rcode and rflags are "-", rsize 0', () => {
    const lines = logOne('log . "{rcode} {>rflags} {rsize}"', new StubHandler(Rcode.ServFail))
    assert.deepEqual(lines, ['[INFO] - - 0'])
  })
  test('{duration} measures from req.start', () => {
    const start = process.hrtime.bigint() - 1_500_000_000n
    const lines = logOne('log . {duration}', answering({}), 'a.example.org.', 'A', { start })
    const secs = Number(lines[0]!.slice('[INFO] '.length, -1))
    assert.ok(secs >= 1.5 && secs < 60, lines[0])
  })
  test('the handler returns the next rcode and logs after the chain (async too)', async () => {
    const asyncNext = new StubHandler(0, 'next', (req, w) => {
      return new Promise<number>((resolve) => {
        setImmediate(() => {
          const m = replyTo(questionMessage(req.q))
          m.answer = [A_RR]
          w.write(m, 'forward')
          resolve(Rcode.NoError)
        })
      })
    })
    const { h, lines } = setup('log . "{rcode} {name}"', asyncNext)
    const req = makeRequest('web.example.org.', 'A')
    const p = h.serve(req, new RecordingWriter(req))
    assert.equal(typeof p, 'object')
    assert.equal(lines.length, 0, 'not logged before the reply')
    assert.equal(await p, Rcode.NoError)
    assert.deepEqual(lines, ['[INFO] NOERROR web.example.org.'])
  })
  test('a rejected chain propagates without a log line', async () => {
    const failing = new StubHandler(0, 'next', () => Promise.reject(new Error('boom')))
    const { h, lines } = setup('log', failing)
    const req = makeRequest('web.example.org.', 'A')
    await assert.rejects(async () => {
      await run(h, req)
    }, /boom/)
    assert.equal(lines.length, 0)
  })
})

describe('log names and classes', () => {
  test('NAMES: only queries under a name are logged; others still served', () => {
    const next = answering({ answer: [A_RR] })
    const { h, lines } = setup('log example.org', next)
    runSync(h, makeRequest('web.Example.ORG.', 'A'))
    const other = runSync(h, makeRequest('web.example.net.', 'A'))
    assert.equal(lines.length, 1)
    assert.equal(other.w.written, true)
    assert.equal(next.calls, 2)
  })
  test('several names with a format; several log lines add rules; first match wins', () => {
    const next = answering({ answer: [A_RR] })
    const { h, lines } = setup('log a.example.org b.example.org "A {name}"\nlog example.org "B {name}"', next)
    runSync(h, makeRequest('x.a.example.org.', 'A'))
    runSync(h, makeRequest('x.b.example.org.', 'A'))
    runSync(h, makeRequest('x.c.example.org.', 'A'))
    runSync(h, makeRequest('x.example.com.', 'A'))
    assert.deepEqual(lines, ['[INFO] A x.a.example.org.', '[INFO] A x.b.example.org.', '[INFO] B x.c.example.org.'])
  })
  test('one argument is a name even with a brace', () => {
    const { h, lines } = setup('log {name}', answering({}))
    runSync(h, makeRequest('web.example.org.', 'A'))
    assert.equal(lines.length, 0)
  })

  const cases: Array<[string, Answer | number, boolean[]]> = [
    // [what, reply shape or returned rcode, logged under [success, denial, error]]
    ['NOERROR with answers', { answer: [A_RR] }, [true, false, false]],
    ['NODATA with SOA', { authority: [SOA_RR] }, [false, true, false]],
    ['NODATA without SOA', {}, [false, true, false]],
    ['NODATA via writeWire', { wire: true }, [false, true, false]],
    ['delegation', { authority: [NS_RR], aa: false }, [true, false, false]],
    ['delegation via writeWire', { authority: [NS_RR], aa: false, wire: true }, [true, false, false]],
    ['NXDOMAIN', { rcode: Rcode.NXDomain, authority: [SOA_RR] }, [false, true, false]],
    ['NXDOMAIN without SOA via wire', { rcode: Rcode.NXDomain, wire: true }, [false, true, false]],
    ['SERVFAIL written', { rcode: Rcode.ServFail }, [false, false, true]],
    ['REFUSED written', { rcode: Rcode.Refused }, [false, false, true]],
    ['SERVFAIL returned, nothing written', Rcode.ServFail, [false, false, true]],
  ]
  for (const [what, shape, expected] of cases) {
    test(`class: ${what}`, () => {
      const classes = ['success', 'denial', 'error'] as const
      for (let i = 0; i < 3; i++) {
        const next = typeof shape === 'number' ? new StubHandler(shape) : answering(shape)
        const lines = logOne(`log {\n  class ${classes[i]}\n}`, next)
        assert.equal(lines.length, expected[i] ? 1 : 0, `${classes[i]}: ${lines.join('|')}`)
      }
      const next = typeof shape === 'number' ? new StubHandler(shape) : answering(shape)
      assert.equal(logOne('log {\n  class all\n}', next).length, 1)
    })
  }
  test('class lines and arguments OR together', () => {
    const body = 'log {\n  class denial\n  class error\n}'
    assert.equal(logOne(body, answering({ answer: [A_RR] })).length, 0)
    assert.equal(logOne(body, answering({ rcode: Rcode.NXDomain })).length, 1)
    assert.equal(logOne(body, new StubHandler(Rcode.ServFail)).length, 1)
    assert.equal(logOne('log {\n  class success denial\n}', answering({ answer: [A_RR] })).length, 1)
  })
  test('{/log/class} and {/log/type}', () => {
    assert.deepEqual(logOne('log . "{/log/class} {/log/type}"', answering({ rcode: Rcode.NXDomain })), ['[INFO] denial NAMEERROR'])
    assert.deepEqual(logOne('log . "{/log/class} {/log/type}"', answering({})), ['[INFO] denial NODATA'])
    assert.deepEqual(logOne('log . "{/log/class} {/log/type}"', answering({ answer: [A_RR] })), ['[INFO] success NOERROR'])
    assert.deepEqual(logOne('log . "{/log/class} {/log/type}"', new StubHandler(2)), ['[INFO] error OTHERERROR'])
    assert.deepEqual(logOne('log . "{/log/class} {/log/type}"', answering({ rcode: 2 })), ['[INFO] error SERVERERROR'])
  })
  test('the class filter does not change what the client gets', () => {
    const { h } = setup('log {\n  class error\n}', answering({ answer: [A_RR] }))
    const req = makeRequest('web.example.org.', 'A')
    const { w, rcode } = runSync(h, req)
    assert.equal(rcode, 0)
    assert.equal(w.reply.answer.length, 1)
    assert.equal(w.plugin, 'next')
    assert.equal(req.replyPlugin, 'next')
  })
})

describe('log helpers', () => {
  test('formatDuration prints seconds like Go FormatFloat(f, -1)', () => {
    assert.equal(formatDuration(245_000n), '0.000245s')
    assert.equal(formatDuration(311_123n), '0.000311123s')
    assert.equal(formatDuration(1n), '0.000000001s')
    assert.equal(formatDuration(0n), '0s')
    assert.equal(formatDuration(1_000_000_000n), '1s')
    assert.equal(formatDuration(2_500_000_000n), '2.5s')
  })
  test('flagsToString in miekg order', () => {
    assert.equal(flagsToString(0x8000 | 0x0400 | 0x0100 | 0x0080), 'qr,aa,rd,ra')
    assert.equal(flagsToString(0xffff), 'qr,aa,tc,rd,ra,z,ad,cd')
    assert.equal(flagsToString(0), '-')
  })
  test('compileFormat: literals merged, unknown placeholders literal, nested braces', () => {
    const c = compileFormat('x {name} {bogus} {{type}} {/a/b} {>Do}')
    assert.deepEqual(
      c.parts.map((p) => [p.code, p.text]),
      [
        [P.Literal, 'x '],
        [P.Name, ''],
        [P.Literal, ' {bogus} {'],
        [P.Type, ''],
        [P.Literal, '} '],
        [P.Meta, 'a/b'],
        [P.Literal, ' '],
        [P.Do, ''],
      ],
    )
    assert.equal(c.needsClass, false)
    assert.equal(compileFormat('{/log/type}').needsClass, true)
  })
  test('typify/classify edge cases', () => {
    const f = new ReplyFacts()
    f.ancount = 0
    assert.equal(typify(0, 5, Type.A, f), 'UPDATE')
    assert.equal(typify(0, 4, Type.A, f), 'META')
    assert.equal(typify(0, 0, Type.AXFR, f), 'META')
    assert.equal(classify('META'), Cls.Error)
    assert.equal(typify(Rcode.NotImp, 0, Type.A, f), 'SERVERERROR')
    assert.equal(typify(Rcode.FormErr, 0, Type.A, f), 'OTHERERROR')
  })
})
