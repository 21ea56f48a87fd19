import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import {
  decodeMessage,
  encodeMessage,
  encodeRecord,
  getRcode,
  newMessage,
  replyTo,
  setRcode,
} from './message.js'
import { Flag, Rcode, Type } from './constants.js'
import type { Message, RR } from './types.js'
import { DecodeError, EncodeError } from './types.js'

function hex(s: string): Buffer {
  let h = ''
  for (const c of s) if (c !== ' ' && c !== '\n') h += c
  return Buffer.from(h, 'hex')
}

function rr(name: string, type: number, data: RR['data'], ttl = 300): RR {
  return { name, type, class: 1, ttl, data }
}

function query(name: string, type: number): Message {
  const m = newMessage()
  m.id = 0xbeef
  m.flags = Flag.RD
  m.question.push({ name, type, class: 1 })
  return m
}

function decodeErr(buf: Buffer, re: RegExp): void {
  assert.throws(
    () => decodeMessage(buf),
    (e: unknown) => e instanceof DecodeError && re.test(e.message),
  )
}

/** Header with the given counts + raw body. */
function raw(counts: [number, number, number, number], body: string): Buffer {
  const h = Buffer.alloc(12)
  h.writeUInt16BE(0x1234, 0)
  h.writeUInt16BE(0x8180, 2)
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + 2 * i))
  return Buffer.concat([h, hex(body)])
}

// question "ex.com." A IN, at offset 12
const Q = '02 6578 03 636f6d 00 0001 0001'

describe('encodeMessage', () => {
  it('writes golden bytes with 0xC00C owners and compressed CNAME rdata', () => {
    const m: Message = {
      id: 1,
      flags: 0x8180,
      question: [{ name: 'Example.com.', type: Type.A, class: 1 }],
      answer: [
        rr('Example.com.', Type.A, '1.2.3.4', 60),
        rr('www.Example.com.', Type.CNAME, 'Example.com.', 60),
      ],
      authority: [],
      additional: [],
      edns: { udpSize: 1232, extRcode: 0, version: 0, flags: 0x8000, options: [] },
    }
    const want = hex(`
      0001 8180 0001 0002 0000 0001
      07 4578616d706c65 03 636f6d 00 0001 0001
      c00c 0001 0001 0000003c 0004 01020304
      03 777777 c00c 0005 0001 0000003c 0002 c00c
      00 0029 04d0 00 00 8000 0000`)
    assert.deepEqual(encodeMessage(m), want)
  })

  it('compresses case-sensitively (never changes letter case)', () => {
    const m = query('a.example.', Type.A)
    m.answer.push(rr('A.EXAMPLE.', Type.A, '10.0.0.1'))
    const b = encodeMessage(m)
    // owner written in full: no suffix of "A.EXAMPLE." matches "a.example." / "example."
    assert.equal(b.indexOf(Buffer.from('EXAMPLE')) > 0, true)
    assert.equal(decodeMessage(b).answer[0]!.name, 'A.EXAMPLE.')
  })

  it('compresses names in NS, PTR, MX and SOA rdata but not in SRV or DNAME', () => {
    const m = query('ex.com.', Type.ANY)
    m.answer.push(
      rr('ex.com.', Type.NS, 'ns.ex.com.'),
      rr('ex.com.', Type.MX, { preference: 10, exchange: 'ex.com.' }),
      rr('ex.com.', Type.SRV, { priority: 1, weight: 2, port: 53, target: 'ex.com.' }),
      rr('ex.com.', Type.DNAME, 'ex.com.'),
      rr('ex.com.', Type.PTR, 'ex.com.'),
    )
    const want = hex(`
      beef 0100 0001 0005 0000 0000
      02 6578 03 636f6d 00 00ff 0001
      c00c 0002 0001 0000012c 0005 02 6e73 c00c
      c00c 000f 0001 0000012c 0004 000a c00c
      c00c 0021 0001 0000012c 000e 0001 0002 0035 02 6578 03 636f6d 00
      c00c 0027 0001 0000012c 0008 02 6578 03 636f6d 00
      c00c 000c 0001 0000012c 0002 c00c`)
    assert.deepEqual(encodeMessage(m), want)

    const s = query('ex.com.', Type.SOA)
    s.authority.push(
      rr('ex.com.', Type.SOA, {
        mname: 'ns.ex.com.',
        rname: 'host.ex.com.',
        serial: 1,
        refresh: 2,
        retry: 3,
        expire: 4,
        minimum: 5,
      }),
    )
    const wantSoa = hex(`
      beef 0100 0001 0000 0001 0000
      02 6578 03 636f6d 00 0006 0001
      c00c 0006 0001 0000012c 0020 02 6e73 c00c 04 686f7374 c00c
      00000001 00000002 00000003 00000004 00000005`)
    assert.deepEqual(encodeMessage(s), wantSoa)
  })

  it('points later names at suffixes first written inside SRV rdata', () => {
    const m = query('q.', Type.SRV)
    m.answer.push(
      rr('q.', Type.SRV, { priority: 0, weight: 0, port: 1, target: 'host.ex.com.' }),
      rr('host.ex.com.', Type.A, '10.0.0.1'),
    )
    const b = encodeMessage(m)
    // SRV target at 12 + 3 + 4 (question) + 2 + 10 + 6 = 37
    assert.equal(b.readUInt16BE(37 + 13), 0xc000 | 37)
    assert.equal(decodeMessage(b).answer[1]!.name, 'host.ex.com.')
  })

  it('encodes every supported type and decodes it back', () => {
    const m = query('all.test.', Type.ANY)
    m.answer.push(
      rr('all.test.', Type.A, '192.0.2.1'),
      rr('all.test.', Type.AAAA, '2001:db8::1'),
      rr('all.test.', Type.NS, 'ns1.all.test.'),
      rr('c.all.test.', Type.CNAME, 'all.test.'),
      rr('1.2.0.192.in-addr.arpa.', Type.PTR, 'all.test.'),
      rr('d.all.test.', Type.DNAME, 'other.test.'),
      rr('all.test.', Type.MX, { preference: 5, exchange: 'mx.all.test.' }),
      rr('_x._tcp.all.test.', Type.SRV, { priority: 1, weight: 2, port: 3, target: 't.test.' }),
      rr('all.test.', Type.SOA, {
        mname: 'ns1.all.test.',
        rname: 'h\\.m.all.test.',
        serial: 4294967295,
        refresh: 7200,
        retry: 3600,
        expire: 1209600,
        minimum: 300,
      }),
      rr('all.test.', Type.TXT, [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([0, 255])]),
      rr('all.test.', Type.HINFO, { cpu: 'x86\u00ff', os: 'linux' }),
      rr('all.test.', 65280, Buffer.from([1, 2, 3])),
      rr('all.test.', 65281, Buffer.alloc(0)),
      { name: 'ch.test.', type: Type.TXT, class: 3, ttl: 0, data: [Buffer.from('x')] },
    )
    m.additional.push(rr('ns1.all.test.', Type.A, '192.0.2.53'))
    m.edns = {
      udpSize: 4096,
      extRcode: 0,
      version: 0,
      flags: 0x8000,
      options: [{ code: 10, data: Buffer.from('0123456789abcdef', 'hex') }],
    }
    const b = encodeMessage(m)
    assert.deepEqual(decodeMessage(b), m)
    assert.deepEqual(encodeMessage(decodeMessage(b)), b)
  })

  it('encodes a record without compression via encodeRecord', () => {
    const b = encodeRecord(rr('a.b.', Type.CNAME, 'a.b.', 1))
    assert.deepEqual(b, hex('01 61 01 62 00 0005 0001 00000001 0005 01 61 01 62 00'))
  })

  it('throws EncodeError for unencodable content', () => {
    const bad: RR[] = [
      rr('a.', Type.A, '1.2.3'),
      rr('a.', Type.A, '01.2.3.4'),
      rr('a.', Type.AAAA, '1.2.3.4'),
      rr('a.', Type.CNAME, 'x..y.'),
      rr('a'.repeat(64) + '.', Type.A, '1.2.3.4'),
      rr('a.', Type.TXT, [Buffer.alloc(256)]),
      rr('a.', Type.MX, { preference: 70000, exchange: 'b.' }),
      rr('a.', Type.MX, 'b.'),
      rr('a.', 65280, 'text'),
      rr('a.', 65280, Buffer.alloc(65536)),
      { name: 'a.', type: Type.A, class: 1, ttl: -1, data: '1.2.3.4' },
      { name: 'a.', type: 70000, class: 1, ttl: 1, data: Buffer.alloc(0) },
    ]
    for (const r of bad) {
      const m = query('q.', Type.A)
      m.answer.push(r)
      assert.throws(() => encodeMessage(m), EncodeError, JSON.stringify(r).slice(0, 80))
    }
  })

  it('encodes a message with no question and no records', () => {
    assert.deepEqual(encodeMessage(newMessage()), Buffer.alloc(12))
  })
})

describe('encodeMessage truncation', () => {
  function big(n: number, edns: boolean): Message {
    const m = query('example.com.', Type.A)
    m.flags |= Flag.QR
    for (let i = 0; i < n; i++) {
      m.answer.push(rr('example.com.', Type.A, `10.0.${i >> 8}.${i & 255}`))
    }
    if (edns) m.edns = { udpSize: 512, extRcode: 0, version: 0, flags: 0, options: [] }
    return m
  }

  it('keeps whole records that fit, the OPT, and sets TC', () => {
    // header 12 + question 17 = 29; each answer 16; OPT 11 → budget 501 → 29 answers, 504 bytes
    const b = encodeMessage(big(40, true), 512)
    assert.equal(b.length, 29 + 29 * 16 + 11)
    const d = decodeMessage(b)
    assert.equal(d.answer.length, 29)
    assert.equal(d.flags & Flag.TC, Flag.TC)
    assert.notEqual(d.edns, null)
    assert.equal(b.readUInt16BE(6), 29)
    assert.equal(b.readUInt16BE(10), 1)
  })

  it('without EDNS uses the whole size', () => {
    const d = decodeMessage(encodeMessage(big(40, false), 512))
    assert.equal(d.answer.length, 30)
    assert.equal(d.flags & Flag.TC, Flag.TC)
  })

  it('treats sizes below 512 as 512', () => {
    assert.deepEqual(encodeMessage(big(40, true), 100), encodeMessage(big(40, true), 512))
    assert.deepEqual(encodeMessage(big(40, true), 0), encodeMessage(big(40, true), 512))
  })

  it('does not set TC when everything fits, keeps TC when already set', () => {
    const m = big(10, true)
    assert.equal(decodeMessage(encodeMessage(m, 512)).flags & Flag.TC, 0)
    m.flags |= Flag.TC
    assert.equal(decodeMessage(encodeMessage(m, 512)).flags & Flag.TC, Flag.TC)
  })

  it('stops at the first record that does not fit, across sections', () => {
    const m = big(20, true) // 29 + 20*16 = 349
    m.authority.push(rr('example.com.', Type.TXT, [Buffer.alloc(200)])) // 2+10+201 = 213 → 562
    m.additional.push(rr('example.com.', Type.A, '10.9.9.9')) // would fit alone
    const d = decodeMessage(encodeMessage(m, 512))
    assert.equal(d.answer.length, 20)
    assert.equal(d.authority.length, 0)
    assert.equal(d.additional.length, 0)
    assert.notEqual(d.edns, null)
    assert.equal(d.flags & Flag.TC, Flag.TC)
  })

  it('keeps the question even when it alone exceeds the size', () => {
    // three distinct 255-octet names: 3 x 259 octets of question, nothing to compress
    const long = (c: string) => `${c.repeat(63)}.${c.repeat(63)}.${c.repeat(63)}.${c.repeat(61)}.`
    const m = newMessage()
    for (const c of 'abc') m.question.push({ name: long(c), type: 1, class: 1 })
    m.answer.push(rr(long('a'), Type.A, '1.1.1.1'))
    const b = encodeMessage(m, 512)
    assert.equal(b.length, 12 + 3 * 259)
    const d = decodeMessage(b)
    assert.equal(d.question.length, 3)
    assert.equal(d.answer.length, 0)
    assert.equal(d.flags & Flag.TC, Flag.TC)
  })
})

describe('decodeMessage', () => {
  it('decodes a hand-made reply with compression', () => {
    const b = raw([1, 1, 0, 0], `${Q} c00c 0005 0001 00000e10 0006 03 777777 c00c`)
    assert.deepEqual(decodeMessage(b), {
      id: 0x1234,
      flags: 0x8180,
      question: [{ name: 'ex.com.', type: 1, class: 1 }],
      answer: [{ name: 'ex.com.', type: 5, class: 1, ttl: 3600, data: 'www.ex.com.' }],
      authority: [],
      additional: [],
      edns: null,
    })
  })

  it('moves the OPT into edns and ignores trailing bytes', () => {
    const b = raw([1, 0, 0, 1], `${Q} 00 0029 1000 01 02 8000 0008 000a 0004 01020304 ffff`)
    const d = decodeMessage(b)
    assert.deepEqual(d.additional, [])
    assert.deepEqual(d.edns, {
      udpSize: 4096,
      extRcode: 1,
      version: 2,
      flags: 0x8000,
      options: [{ code: 10, data: Buffer.from([1, 2, 3, 4]) }],
    })
    assert.equal(getRcode(d), 16)
  })

  it('keeps an OPT-typed record outside additional as an opaque record', () => {
    const b = raw([1, 1, 0, 0], `${Q} c00c 0029 0001 00000000 0001 ff`)
    assert.deepEqual(decodeMessage(b).answer[0]!.data, Buffer.from([0xff]))
  })

  it('rejects every strict prefix of a valid message with DecodeError', () => {
    const m = query('all.test.', Type.ANY)
    m.answer.push(
      rr('all.test.', Type.SOA, {
        mname: 'ns.all.test.',
        rname: 'h.all.test.',
        serial: 1,
        refresh: 2,
        retry: 3,
        expire: 4,
        minimum: 5,
      }),
      rr('all.test.', Type.MX, { preference: 1, exchange: 'mx.all.test.' }),
      rr('_s._tcp.all.test.', Type.SRV, { priority: 1, weight: 1, port: 1, target: 'x.test.' }),
      rr('all.test.', Type.TXT, [Buffer.from('abc'), Buffer.from('de')]),
      rr('all.test.', Type.HINFO, { cpu: 'c', os: 'o' }),
      rr('all.test.', Type.AAAA, '::1'),
    )
    const options = [{ code: 3, data: Buffer.from('id') }]
    m.edns = { udpSize: 1232, extRcode: 0, version: 0, flags: 0, options }
    const b = encodeMessage(m)
    assert.deepEqual(decodeMessage(b), m)
    for (let n = 0; n < b.length; n++) {
      assert.throws(() => decodeMessage(b.subarray(0, n)), DecodeError, `prefix ${n}`)
    }
  })

  it('rejects malformed messages with DecodeError', () => {
    const rows: Array<[Buffer, RegExp]> = [
      [Buffer.alloc(11), /header/],
      [raw([1, 0, 0, 0], '02 6578 03 636f6d 00 0001 00'), /question/],
      [raw([2, 0, 0, 0], Q), /past end/],
      [raw([1, 1, 0, 0], `${Q} c00c 0001 0001 00000000 00`), /fixed fields/],
      [raw([1, 1, 0, 0], `${Q} c00c 0001 0001 00000000 0003 010203`), /A rdata/],
      [raw([1, 1, 0, 0], `${Q} c00c 0001 0001 00000000 0005 0102030405`), /A rdata/],
      [raw([1, 1, 0, 0], `${Q} c00c 001c 0001 00000000 000f ${'00'.repeat(15)}`), /AAAA rdata/],
      [raw([1, 1, 0, 0], `${Q} c00c 0001 0001 00000000 0004 0102`), /rdata past end/],
      [raw([1, 1, 0, 0], `${Q} c00c 0005 0001 00000000 0002 03 777777 00`), /runs past rdlength/],
      [raw([1, 1, 0, 0], `${Q} c00c 0005 0001 00000000 0003 c00c 00`), /exactly/],
      [raw([1, 1, 0, 0], `${Q} c00c 000f 0001 00000000 0002 000a`), /MX rdata too short/],
      [raw([1, 1, 0, 0], `${Q} c00c 000f 0001 00000000 0005 000a c00c 00`), /exactly/],
      [raw([1, 1, 0, 0], `${Q} c00c 0021 0001 00000000 0006 000000000000`), /SRV/],
      [raw([1, 1, 0, 0], `${Q} c00c 0006 0001 00000000 0005 c00c c00c 00`), /SOA/],
      [raw([1, 1, 0, 0], `${Q} c00c 0010 0001 00000000 0003 05 6162`), /TXT/],
      [raw([1, 1, 0, 0], `${Q} c00c 000d 0001 00000000 0004 01 61 00 00`), /HINFO/],
      [raw([1, 1, 0, 0], `${Q} c00c 000d 0001 00000000 0002 01 61`), /HINFO os/],
      [raw([1, 1, 0, 0], `${Q} c01c 0001 0001 00000000 0004 01020304`), /backwards/],
      [raw([1, 1, 0, 0], `${Q} c00c 0005 0001 00000000 0002 c030`), /backwards/],
      [raw([1, 0, 0, 1], `${Q} c00c 0029 1000 00000000 0000`), /OPT owner/],
      [raw([1, 0, 0, 2], `${Q} 00 0029 1000 00000000 0000 00 0029 1000 00000000 0000`), /OPT/],
      [raw([1, 0, 0, 1], `${Q} 00 0029 1000 00000000 0003 000a00`), /option header/],
      [raw([1, 0, 0, 1], `${Q} 00 0029 1000 00000000 0005 000a 0002 00`), /option data/],
      [raw([1, 0, 0, 0], '40 ' + '61'.repeat(64) + ' 00 0001 0001'), /label type/],
    ]
    for (const [buf, re] of rows) decodeErr(buf, re)
  })
})

describe('rcode and builders', () => {
  it('getRcode combines header and extended bits', () => {
    const m = newMessage()
    m.flags = 0x8183
    assert.equal(getRcode(m), 3)
    m.edns = { udpSize: 1232, extRcode: 1, version: 0, flags: 0, options: [] }
    assert.equal(getRcode(m), 19)
  })

  it('setRcode sets both parts and creates an OPT only when needed', () => {
    const m = newMessage()
    m.flags = Flag.QR | Flag.RD | 0xf
    setRcode(m, Rcode.NXDomain)
    assert.equal(m.flags, Flag.QR | Flag.RD | 3)
    assert.equal(m.edns, null)
    setRcode(m, Rcode.BadVers)
    assert.equal(m.flags & 0xf, 0)
    assert.deepEqual(m.edns, { udpSize: 1232, extRcode: 1, version: 0, flags: 0, options: [] })
    setRcode(m, Rcode.ServFail)
    assert.equal((m as Message).edns?.extRcode, 0)
    assert.equal(getRcode(m), 2)
    setRcode(m, 0xfff)
    assert.equal(getRcode(m), 0xfff)
    assert.throws(() => setRcode(m, 4096), EncodeError)
  })

  it('newMessage is empty', () => {
    assert.deepEqual(newMessage(), {
      id: 0,
      flags: 0,
      question: [],
      answer: [],
      authority: [],
      additional: [],
      edns: null,
    })
  })

  it('replyTo copies id, opcode, RD, CD and the question', () => {
    const q = query('Ex.com.', Type.AAAA)
    q.flags = (5 << 11) | Flag.RD | Flag.CD | Flag.AD | Flag.AA | 3
    q.edns = { udpSize: 4096, extRcode: 0, version: 0, flags: 0x8000, options: [] }
    const r = replyTo(q)
    assert.equal(r.id, 0xbeef)
    assert.equal(r.flags, Flag.QR | (5 << 11) | Flag.RD | Flag.CD)
    assert.deepEqual(r.question, q.question)
    assert.notEqual(r.question[0], q.question[0])
    assert.equal(r.edns, null)
    assert.deepEqual(r.answer, [])
  })
})
