import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import { messageToString, parseRR, rrToString } from './text.js'
import { decodeMessage, encodeMessage, newMessage } from './message.js'
import { Flag, Type } from './constants.js'
import type { RR } from './types.js'

describe('rrToString', () => {
  const rows: Array<[RR, string]> = [
    [
      { name: 'example.org.', type: Type.A, class: 1, ttl: 3600, data: '127.0.0.1' },
      'example.org.\t3600\tIN\tA\t127.0.0.1',
    ],
    [
      { name: 'a.', type: Type.AAAA, class: 1, ttl: 5, data: 'fd00::1' },
      'a.\t5\tIN\tAAAA\tfd00::1',
    ],
    [{ name: 'a.', type: Type.NS, class: 1, ttl: 5, data: 'ns.a.' }, 'a.\t5\tIN\tNS\tns.a.'],
    [
      { name: 'a.', type: Type.MX, class: 1, ttl: 5, data: { preference: 10, exchange: 'mx.a.' } },
      'a.\t5\tIN\tMX\t10 mx.a.',
    ],
    [
      {
        name: '_dns._udp.a.',
        type: Type.SRV,
        class: 1,
        ttl: 5,
        data: { priority: 0, weight: 100, port: 53, target: 'ns.a.' },
      },
      '_dns._udp.a.\t5\tIN\tSRV\t0 100 53 ns.a.',
    ],
    [
      {
        name: 'a.',
        type: Type.SOA,
        class: 1,
        ttl: 5,
        data: {
          mname: 'ns.a.',
          rname: 'h.a.',
          serial: 1,
          refresh: 7200,
          retry: 1800,
          expire: 86400,
          minimum: 5,
        },
      },
      'a.\t5\tIN\tSOA\tns.a. h.a. 1 7200 1800 86400 5',
    ],
    [
      {
        name: 'a.',
        type: Type.TXT,
        class: 1,
        ttl: 5,
        data: [Buffer.from('hello world'), Buffer.from('q"b\\'), Buffer.from([0, 0xff, 0x3b])],
      },
      'a.\t5\tIN\tTXT\t"hello world" "q\\"b\\\\" "\\000\\255;"',
    ],
    [
      { name: 'a.', type: Type.HINFO, class: 1, ttl: 5, data: { cpu: 'x86', os: 'Linux 6' } },
      'a.\t5\tIN\tHINFO\t"x86" "Linux 6"',
    ],
    [
      { name: 'a.', type: 65280, class: 1, ttl: 5, data: Buffer.from([1, 0xab]) },
      'a.\t5\tIN\tTYPE65280\t\\# 2 01ab',
    ],
    [
      { name: 'a.', type: 65280, class: 255, ttl: 0, data: Buffer.alloc(0) },
      'a.\t0\tANY\tTYPE65280\t\\# 0',
    ],
    [
      { name: 'v.bind.', type: Type.TXT, class: 3, ttl: 0, data: [Buffer.from('1.0')] },
      'v.bind.\t0\tCH\tTXT\t"1.0"',
    ],
  ]
  for (const [r, want] of rows) {
    it(`prints ${want.split('\t')[3]} ${want.split('\t')[2]}`, () => {
      assert.equal(rrToString(r), want)
      assert.deepEqual(parseRR(want), r)
    })
  }
})

describe('parseRR', () => {
  it('completes relative names with the origin and handles @', () => {
    assert.deepEqual(parseRR('www 60 IN CNAME @', 'example.org.'), {
      name: 'www.example.org.',
      type: Type.CNAME,
      class: 1,
      ttl: 60,
      data: 'example.org.',
    })
    assert.deepEqual(parseRR('@ MX 10 mail', 'example.org'), {
      name: 'example.org.',
      type: Type.MX,
      class: 1,
      ttl: 3600,
      data: { preference: 10, exchange: 'mail.example.org.' },
    })
    assert.equal(parseRR('x A 1.2.3.4').name, 'x.')
  })

  it('accepts class before TTL, default TTL, units, comments and parentheses', () => {
    const r = parseRR('a.example. IN 1h30m A 10.0.0.1 ; comment')
    assert.equal(r.ttl, 5400)
    assert.equal(r.class, 1)
    assert.equal(parseRR('a. A 10.0.0.1', '.', 42).ttl, 42)
    assert.equal(parseRR('a. ch txt "x"').class, 3)
    const soa = parseRR('@ IN SOA ns hostmaster ( 2024010101 2h 15m 1w 30 )', 'z.')
    assert.deepEqual(soa.data, {
      mname: 'ns.z.',
      rname: 'hostmaster.z.',
      serial: 2024010101,
      refresh: 7200,
      retry: 900,
      expire: 604800,
      minimum: 30,
    })
  })

  it('normalises addresses and parses escapes in TXT', () => {
    assert.equal(parseRR('a. AAAA FD00:0:0::0001').data, 'fd00::1')
    assert.deepEqual(parseRR('a. TXT "a\\"b" c\\032d "\\065"').data, [
      Buffer.from('a"b'),
      Buffer.from('c d'),
      Buffer.from('A'),
    ])
    assert.deepEqual(parseRR('a. TXT "é"').data, [Buffer.from('é', 'utf8')])
  })

  it('parses RFC 3597 generic rdata, typed for known types', () => {
    assert.deepEqual(parseRR('a. TYPE1 \\# 4 0a000001').data, '10.0.0.1')
    assert.deepEqual(parseRR('a. A \\# 4 0a00 0001').data, '10.0.0.1')
    assert.deepEqual(parseRR('a. TYPE999 \\# 3 abcdef').data, Buffer.from([0xab, 0xcd, 0xef]))
    assert.deepEqual(parseRR('a. CAA \\# 0').data, Buffer.alloc(0))
  })

  it('throws readable errors on bad input', () => {
    const rows: Array<[string, RegExp]> = [
      ['', /empty/],
      [' a A 1.2.3.4', /owner/],
      ['a.', /missing type/],
      ['a. 60 IN', /missing type/],
      ['a. BOGUS x', /unknown type/],
      ['a. A 1.2.3', /IPv4/],
      ['a. A 1.2.3.4 5.6.7.8', /expected 1/],
      ['a. AAAA 1.2.3.4', /IPv6/],
      ['a. MX x y', /preference/],
      ['a. MX 70000 y', /preference/],
      ['a. CNAME b..c', /bad CNAME target/],
      ['a..b A 1.2.3.4', /bad owner/],
      ['a. TXT', /at least one/],
      [`a. TXT "${'x'.repeat(256)}"`, /255/],
      ['a. TXT "open', /unterminated/],
      ['a. TXT "\\300"', /bad escape/],
      ['a. SOA ns h 1 2 3 4', /expected 7/],
      ['a. SOA ns h 1 2 3 4 x', /SOA minimum/],
      ['a. TYPE999 \\# 3 abcd', /length 3/],
      ['a. TYPE999 \\# 2 abcx', /bad hex/],
      ['a. A \\# 3 0a0000', /not valid A/],
      ['a. NAPTR 1 2 "" "" "" .', /RFC 3597/],
    ]
    for (const [line, re] of rows) {
      assert.throws(() => parseRR(line), re, line)
    }
  })
})

describe('messageToString', () => {
  it('prints a dig-like dump', () => {
    const m = newMessage()
    m.id = 7
    m.flags = Flag.QR | Flag.RD | Flag.RA | 3
    m.question.push({ name: 'x.test.', type: Type.A, class: 1 })
    m.authority.push(parseRR('test. 60 IN SOA ns.test. h.test. 1 2 3 4 5'))
    m.edns = { udpSize: 1232, extRcode: 0, version: 0, flags: 0x8000, options: [] }
    const s = messageToString(decodeMessage(encodeMessage(m)))
    assert.equal(
      s,
      [
        ';; opcode: QUERY, status: NXDOMAIN, id: 7',
        ';; flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1',
        '',
        ';; OPT PSEUDOSECTION:',
        '; EDNS: version 0; flags: do; udp: 1232',
        '',
        ';; QUESTION SECTION:',
        ';x.test.\tIN\t A',
        '',
        ';; AUTHORITY SECTION:',
        'test.\t60\tIN\tSOA\tns.test. h.test. 1 2 3 4 5',
        '',
      ].join('\n'),
    )
  })
})
