import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import * as packet from 'dns-packet'
import { QueryView } from './query.js'
import { DecodeError } from './types.js'

function q(name: string, opts: { edns?: boolean; do?: boolean; id?: number } = {}): Buffer {
  const additionals: packet.Answer[] = []
  if (opts.edns === true) {
    additionals.push({
      type: 'OPT',
      name: '.',
      udpPayloadSize: 1400,
      flags: opts.do === true ? packet.DNSSEC_OK : 0,
      options: [{ code: 10, data: Buffer.from('cookie!!') }],
    } as unknown as packet.Answer)
  }
  return packet.encode({
    type: 'query',
    id: opts.id ?? 42,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: 'AAAA', name }],
    additionals,
  })
}

function hex(s: string): Buffer {
  return Buffer.from(s.split(' ').join(''), 'hex')
}

function parseErr(buf: Buffer, re: RegExp): void {
  const v = new QueryView()
  assert.throws(
    () => {
      v.parseHeader(buf)
      v.parseBody()
    },
    (e: unknown) => e instanceof DecodeError && re.test(e.message),
  )
}

describe('QueryView', () => {
  it('reads header, question and EDNS of a query', () => {
    const buf = q('WwW.Example.org', { edns: true, do: true, id: 0xabcd })
    const v = new QueryView()
    v.parseHeader(buf)
    assert.equal(v.id, 0xabcd)
    assert.equal(v.flags, 0x0100)
    assert.equal(v.opcode, 0)
    assert.deepEqual([v.qdcount, v.ancount, v.nscount, v.arcount], [1, 0, 0, 1])
    assert.equal(v.qname, '')
    v.parseBody()
    assert.equal(v.qname, 'WwW.Example.org.')
    assert.equal(v.qnameLower, 'www.example.org.')
    assert.equal(v.qtype, 28)
    assert.equal(v.qclass, 1)
    assert.equal(v.questionEnd, 12 + 17 + 4)
    assert.equal(v.hasEdns, true)
    assert.equal(v.udpSize, 1400)
    assert.equal(v.ednsVersion, 0)
    assert.equal(v.ednsFlags, 0x8000)
    assert.equal(v.do, true)
    assert.equal(v.optStart, 33)
    assert.equal(v.optEnd, buf.length)
  })

  it('shares the string when the qname is already lower case', () => {
    const v = new QueryView()
    v.parseHeader(q('a.b'))
    v.parseBody()
    assert.equal(v.qname, 'a.b.')
    assert.equal(v.qnameLower, v.qname)
  })

  it('escapes odd bytes in the qname and lower-cases only ASCII', () => {
    const buf = hex('0000 0000 0001 0000 0000 0000 04 412e5cc4 00 0001 0001')
    const v = new QueryView()
    v.parseHeader(buf)
    v.parseBody()
    assert.equal(v.qname, 'A\\.\\\\\\196.')
    assert.equal(v.qnameLower, 'a\\.\\\\\\196.')
  })

  it('resets every field when re-filled with another packet', () => {
    const v = new QueryView()
    v.parseHeader(q('Edns.test', { edns: true, do: true }))
    v.parseBody()
    v.parseHeader(q('plain.test', { id: 7 }))
    assert.equal(v.hasEdns, false)
    assert.equal(v.qname, '')
    v.parseBody()
    assert.equal(v.id, 7)
    assert.equal(v.qname, 'plain.test.')
    assert.equal(v.hasEdns, false)
    assert.equal(v.do, false)
    assert.equal(v.udpSize, 0)
    assert.equal(v.optStart, -1)
    assert.equal(v.optEnd, -1)
  })

  it('leaves the question empty when qdcount is 0', () => {
    const v = new QueryView()
    v.parseHeader(hex('0001 0000 0000 0000 0000 0001 00 0029 0200 00000000 0000'))
    v.parseBody()
    assert.equal(v.qname, '')
    assert.equal(v.qnameLower, '')
    assert.equal(v.qtype, 0)
    assert.equal(v.qclass, 0)
    assert.equal(v.questionEnd, 12)
    assert.equal(v.hasEdns, true)
    assert.equal(v.udpSize, 512)
    assert.equal(v.optStart, 12)
    assert.equal(v.optEnd, 23)
  })

  it('walks answer and authority records and later questions', () => {
    const buf = packet.encode({
      type: 'query',
      id: 1,
      questions: [
        { type: 'A', name: 'one.test' },
        { type: 'MX', name: 'two.test' },
      ],
      answers: [{ type: 'A', name: 'one.test', data: '1.2.3.4' }],
      authorities: [{ type: 'NS', name: 'test', data: 'ns.test' }],
      additionals: [
        { type: 'A', name: 'ns.test', data: '5.6.7.8' },
        { type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0 } as unknown as packet.Answer,
      ],
    })
    const v = new QueryView()
    v.parseHeader(buf)
    v.parseBody()
    assert.equal(v.qname, 'one.test.')
    assert.equal(v.qtype, 1)
    assert.equal(v.hasEdns, true)
    assert.equal(v.udpSize, 4096)
    assert.equal(v.do, false)
    assert.equal(v.optEnd, buf.length)
    assert.equal(v.optStart, buf.length - 11)
  })

  it('keeps the parsed question when a later part is malformed', () => {
    const buf = Buffer.concat([q('x.test'), hex('ff')])
    buf.writeUInt16BE(1, 6) // claims one answer
    const v = new QueryView()
    v.parseHeader(buf)
    assert.throws(() => v.parseBody(), DecodeError)
    assert.equal(v.qname, 'x.test.')
    assert.equal(v.questionEnd, 12 + 8 + 4)
  })

  it('rejects malformed queries with DecodeError', () => {
    const rows: Array<[Buffer, RegExp]> = [
      [Buffer.alloc(11), /header/],
      [hex('0000 0000 0001 0000 0000 0000 03 6162'), /past end/],
      [hex('0000 0000 0001 0000 0000 0000 01 61 00 0001 00'), /question/],
      [hex('0000 0000 0002 0000 0000 0000 01 61 00 0001 0001 c00c 0001'), /question/],
      [hex('0000 0000 0001 0000 0000 0000 c00c 0001 0001'), /backwards/],
      [hex('0000 0000 0000 0001 0000 0000 00 0001 0001 00000000'), /fixed fields/],
      [hex('0000 0000 0000 0001 0000 0000 00 0001 0001 00000000 0004 0102'), /rdata past/],
      [hex('0000 0000 0000 0000 0000 0001 01 61 00 0029 0200 00000000 0000'), /OPT owner/],
      [
        hex('0000 0000 0000 0000 0000 0002 00 0029 0200 00000000 0000 00 0029 0200 00000000 0000'),
        /more than one OPT/,
      ],
      [hex('0000 0000 0000 0000 0000 0001 00 0029 0200 00000000 0002 000a'), /option header/],
      [hex('0000 0000 0000 0000 0000 0001 00 0029 0200 00000000 0004 000a 0001'), /option data/],
      [hex('0000 0000 0001 0000 0000 0000 80 00 0001 0001'), /label type/],
    ]
    for (const [buf, re] of rows) parseErr(buf, re)
  })

  it('accepts an OPT whose owner is a pointer to the root', () => {
    const v = new QueryView()
    v.parseHeader(hex('0000 0000 0001 0000 0000 0001 00 0001 0001 c00c 0029 0300 00000000 0000'))
    v.parseBody()
    assert.equal(v.qname, '.')
    assert.equal(v.hasEdns, true)
    assert.equal(v.udpSize, 768)
  })
})
