import { describe, it, test } from 'node:test'
import { strict as assert } from 'node:assert'
import { decodeMessage, encodeMessage, newMessage } from './message.js'
import { Flag, Rcode, Type } from './constants.js'
import { QueryView } from './query.js'
import type { Message, RR } from './types.js'
import { DecodeError } from './types.js'
import {
  errorReply,
  getRcodeWire,
  minTtl,
  setId,
  setTtls,
  truncateWire,
  ttlOffsets,
} from './wire.js'

function rr(name: string, type: number, data: RR['data'], ttl: number): RR {
  return { name, type, class: 1, ttl, data }
}

function reply(): Message {
  const m = newMessage()
  m.id = 99
  m.flags = Flag.QR | Flag.RD | Flag.RA
  m.question.push({ name: 'svc.test.', type: Type.A, class: 1 })
  m.answer.push(
    rr('svc.test.', Type.CNAME, 'real.test.', 300),
    rr('real.test.', Type.A, '10.0.0.1', 30),
  )
  m.authority.push(rr('test.', Type.NS, 'ns.test.', 86400))
  m.additional.push(rr('ns.test.', Type.A, '10.0.0.53', 7))
  m.edns = { udpSize: 1232, extRcode: 0, version: 0, flags: 0x8000, options: [] }
  return m
}

function hex(s: string): Buffer {
  return Buffer.from(s.split(' ').join(''), 'hex')
}

describe('setId', () => {
  it('patches the id in place', () => {
    const b = encodeMessage(reply())
    setId(b, 0xfeed)
    assert.equal(decodeMessage(b).id, 0xfeed)
    assert.throws(() => setId(Buffer.alloc(4), 1), DecodeError)
  })
})

describe('getRcodeWire', () => {
  it('reads the header rcode', () => {
    const m = reply()
    m.flags |= Rcode.NXDomain
    assert.equal(getRcodeWire(encodeMessage(m)), 3)
  })

  it('adds the extended bits from the OPT', () => {
    const m = reply()
    m.edns!.extRcode = 1
    m.flags |= 7
    assert.equal(getRcodeWire(encodeMessage(m)), 23)
  })

  it('throws DecodeError on malformed input', () => {
    assert.throws(() => getRcodeWire(Buffer.alloc(5)), DecodeError)
  })
})

describe('ttlOffsets, minTtl, setTtls', () => {
  it('finds every TTL except the OPT', () => {
    const b = encodeMessage(reply())
    const offs = ttlOffsets(b)
    assert.equal(offs.length, 4)
    assert.deepEqual(
      offs.map((o) => b.readUInt32BE(o)),
      [300, 30, 86400, 7],
    )
    assert.equal(minTtl(b, offs), 7)
    assert.equal(minTtl(b, []), -1)
    setTtls(b, offs, 5)
    const d = decodeMessage(b)
    for (const r of [...d.answer, ...d.authority, ...d.additional]) assert.equal(r.ttl, 5)
    assert.equal(d.edns!.flags, 0x8000) // OPT "TTL" untouched
    setTtls(b, offs, 0xffffffff)
    assert.equal(minTtl(b, offs), 0xffffffff)
  })

  it('rejects malformed messages and bad offsets', () => {
    const b = encodeMessage(reply())
    assert.throws(() => ttlOffsets(b.subarray(0, b.length - 3)), DecodeError)
    assert.throws(() => minTtl(b, [b.length - 2]), DecodeError)
    assert.throws(() => setTtls(b, [-1], 1), DecodeError)
  })
})

describe('truncateWire', () => {
  function big(): Message {
    const m = reply()
    for (let i = 0; i < 60; i++) m.additional.push(rr(`h${i}.test.`, Type.A, `10.1.0.${i}`, 60))
    return m
  }

  it('returns the same buffer when it fits', () => {
    const b = encodeMessage(reply())
    assert.equal(truncateWire(b, 512), b)
  })

  it('agrees byte for byte with encodeMessage truncation', () => {
    const m = big()
    const full = encodeMessage(m)
    assert.ok(full.length > 1000)
    for (const size of [0, 512, 600, 777, 1000, full.length - 1, full.length]) {
      const t = truncateWire(full, size)
      assert.deepEqual(t, encodeMessage(m, size), `size ${size}`)
      assert.ok(t.length <= Math.max(size, 512))
    }
  })

  it('sets TC, fixes counts and keeps the OPT', () => {
    const t = truncateWire(encodeMessage(big()), 512)
    const d = decodeMessage(t)
    assert.equal(d.flags & Flag.TC, Flag.TC)
    assert.notEqual(d.edns, null)
    assert.equal(d.answer.length, 2)
    assert.equal(d.authority.length, 1)
    assert.ok(d.additional.length > 10 && d.additional.length < 60)
  })

  it('keeps an OPT found in the middle of the additional section in place', () => {
    // reply with additional: A, OPT, A, A ... (OPT not last, as some servers send it)
    const opt = hex('00 0029 04d0 00 00 8000 0000')
    const head = encodeMessage({ ...reply(), edns: null })
    const extra: Buffer[] = []
    for (let i = 0; i < 40; i++) {
      extra.push(
        encodeMessage({ ...newMessage(), answer: [rr('x.test.', Type.TXT, [Buffer.alloc(20)], 1)] })
          .subarray(12),
      )
    }
    const buf = Buffer.concat([head, opt, ...extra])
    buf.writeUInt16BE(1 + 1 + 40, 10)
    const t = truncateWire(buf, 600)
    assert.ok(t.length <= 600)
    assert.deepEqual(t.subarray(12, head.length + 11), buf.subarray(12, head.length + 11))
    const d = decodeMessage(t)
    assert.equal(d.flags & Flag.TC, Flag.TC)
    assert.notEqual(d.edns, null)
    assert.equal(t.readUInt16BE(10), d.additional.length + 1)
  })

  it('appends the OPT with a root owner when it lies after the cut', () => {
    const m = big()
    const full = encodeMessage(m)
    const t = truncateWire(full, 512)
    assert.deepEqual(t.subarray(t.length - 11), full.subarray(full.length - 11))
  })

  it('drops trailing garbage without setting TC when every record fits', () => {
    const b = encodeMessage(reply())
    const t = truncateWire(Buffer.concat([b, Buffer.alloc(600)]), 512)
    assert.deepEqual(t, b)
  })

  it('throws DecodeError for malformed input that needs cutting', () => {
    const b = Buffer.concat([encodeMessage(reply()), Buffer.alloc(600, 0xff)])
    b.writeUInt16BE(50, 6)
    assert.throws(() => truncateWire(b, 512), DecodeError)
  })
})

describe('errorReply', () => {
  function view(buf: Buffer): QueryView {
    const v = new QueryView()
    v.parseHeader(buf)
    try {
      v.parseBody()
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
    }
    return v
  }

  it('echoes the question and copies id, opcode, RD, CD', () => {
    const qm = newMessage()
    qm.id = 0x4242
    qm.flags = Flag.RD | Flag.CD | Flag.AD
    qm.question.push({ name: 'Mixed.Case.', type: Type.MX, class: 1 })
    const qb = encodeMessage(qm)
    const r = errorReply(view(qb), Rcode.Refused)
    assert.deepEqual(decodeMessage(r), {
      id: 0x4242,
      flags: Flag.QR | Flag.RD | Flag.CD | Rcode.Refused,
      question: [{ name: 'Mixed.Case.', type: Type.MX, class: 1 }],
      answer: [],
      authority: [],
      additional: [],
      edns: null,
    })
  })

  it('adds an OPT when the query had EDNS and copies DO', () => {
    const qm = newMessage()
    qm.flags = 5 << 11
    qm.question.push({ name: 'a.', type: Type.A, class: 1 })
    qm.edns = { udpSize: 4000, extRcode: 0, version: 1, flags: 0x8000, options: [] }
    const d = decodeMessage(errorReply(view(encodeMessage(qm)), Rcode.BadVers))
    assert.equal(d.flags, Flag.QR | (5 << 11))
    assert.deepEqual(d.edns, { udpSize: 4000, extRcode: 1, version: 0, flags: 0x8000, options: [] })
    assert.equal(d.question.length, 1)
  })

  it('omits the question when it could not be parsed, keeps it when later parts failed', () => {
    const broken = hex('1234 0100 0001 0000 0000 0000 05 6162')
    const d = decodeMessage(errorReply(view(broken), Rcode.FormErr))
    assert.equal(d.id, 0x1234)
    assert.equal(d.flags, Flag.QR | Flag.RD | Rcode.FormErr)
    assert.deepEqual(d.question, [])
    const later = hex('1234 0000 0001 0001 0000 0000 01 61 00 0001 0001 ff')
    const d2 = decodeMessage(errorReply(view(later), Rcode.FormErr))
    assert.deepEqual(d2.question, [{ name: 'a.', type: 1, class: 1 }])
    assert.equal(d2.answer.length, 0)
  })

  it('works for qdcount 0', () => {
    const r = errorReply(view(hex('0007 0000 0000 0000 0000 0000')), Rcode.NotImp)
    assert.deepEqual(r, hex('0007 8004 0000 0000 0000 0000'))
  })

  it('writes into maxOut when it is large enough', () => {
    const out = Buffer.alloc(512, 0xaa)
    const v = view(hex('0007 0000 0000 0000 0000 0000'))
    const r = errorReply(v, Rcode.ServFail, out)
    assert.equal(r.buffer, out.buffer)
    assert.equal(r.byteOffset, out.byteOffset)
    assert.deepEqual(r, hex('0007 8002 0000 0000 0000 0000'))
    const small = Buffer.alloc(4)
    assert.equal(errorReply(v, Rcode.ServFail, small).length, 12)
  })
})

test('errorReply re-encodes a question name that points into the header', () => {
  // qname = pointer to offset 2 (inside the header): legal backwards pointer, but meaningless once copied
  const q = Buffer.from('d75c06900001000000000000c0020001' + '0001', 'hex')
  const v = new QueryView()
  v.parseHeader(q)
  v.parseBody()
  const r = errorReply(v, 5)
  const m = decodeMessage(r)
  assert.equal(m.question[0]!.name, v.qname)
  assert.equal(getRcodeWire(r), 5)
})
