import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import {
  fqdn,
  isSubdomain,
  isValidDomainName,
  labelCount,
  lowerName,
  nameEquals,
  nameToWire,
  parentName,
  readName,
  skipName,
  splitLabels,
} from './name.js'
import { DecodeError, EncodeError } from './types.js'

/** A fake message: 12 zero header bytes followed by `body`. */
function msg(...body: number[]): Buffer {
  return Buffer.from([...new Array<number>(12).fill(0), ...body])
}

function label(s: string): number[] {
  return [s.length, ...Buffer.from(s, 'latin1')]
}

function decodeErr(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof DecodeError && re.test(e.message))
}

describe('readName', () => {
  it('decodes a plain name with trailing dot and keeps the case', () => {
    const b = msg(...label('WwW'), ...label('Example'), ...label('com'), 0)
    assert.deepEqual(readName(b, 12), { name: 'WwW.Example.com.', end: 12 + 17 })
  })

  it('decodes the root as "."', () => {
    assert.deepEqual(readName(msg(0), 12), { name: '.', end: 13 })
  })

  it('follows a compression pointer; end is just after the pointer', () => {
    const b = msg(...label('example'), ...label('com'), 0, ...label('www'), 0xc0, 12)
    assert.deepEqual(readName(b, 25), { name: 'www.example.com.', end: 31 })
  })

  it('follows chained pointers', () => {
    // 12: com. ; 17: example + ptr(12) ; 27: www + ptr(17)
    const b = msg(...label('com'), 0, ...label('example'), 0xc0, 12, ...label('www'), 0xc0, 17)
    assert.equal(b.length, 33)
    assert.deepEqual(readName(b, 27), { name: 'www.example.com.', end: 33 })
    assert.deepEqual(readName(b, 17), { name: 'example.com.', end: 27 })
  })

  it('escapes special and non-printable bytes like miekg/dns', () => {
    const raw = [0x2e, 0x5c, 0x20, 0x40, 0x22, 0x28, 0x29, 0x3b, 0x27, 0x00, 0x7f, 0xff, 0x41, 0x2d]
    const b = msg(raw.length, ...raw, 0)
    assert.equal(readName(b, 12).name, '\\.\\\\\\ \\@\\"\\(\\)\\;\\\'\\000\\127\\255A-.')
  })

  it('rejects a pointer to itself (loop)', () => {
    decodeErr(() => readName(msg(0xc0, 12), 12), /backwards/)
  })

  it('rejects a pointer loop through two names', () => {
    // 12: "a" + ptr(15) ; 15: "b" + ptr(12): the second pointer goes back to 12 but the first
    // jump went forward, so it fails at the first hop; a backward-only loop needs a pointer that
    // points at or after its own jump target, which is refused too.
    const b = msg(...label('a'), 0xc0, 16, ...label('b'), 0xc0, 12)
    decodeErr(() => readName(b, 12), /backwards/)
    decodeErr(() => readName(b, 16), /backwards/)
  })

  it('rejects a forward pointer', () => {
    decodeErr(() => readName(msg(0xc0, 14, 0), 12), /backwards/)
  })

  it('caps pointer hops', () => {
    // 12: root; 13, 15, 17, ...: each a pointer to the one before.
    const body = [0]
    for (let i = 0; i < 200; i++) {
      const t = i === 0 ? 12 : 13 + 2 * (i - 1)
      body.push(0xc0 | (t >> 8), t & 0xff)
    }
    const b = msg(...body)
    assert.equal(readName(b, 13 + 2 * 100).name, '.')
    decodeErr(() => readName(b, 13 + 2 * 199), /too many compression pointers/)
    decodeErr(() => skipName(b, 13 + 2 * 199), /too many compression pointers/)
  })

  it('rejects reads past the end', () => {
    decodeErr(() => readName(msg(3, 0x61, 0x62), 12), /label runs past end/)
    decodeErr(() => readName(msg(...label('abc')), 12), /read past end/)
    decodeErr(() => readName(msg(0xc0), 12), /truncated compression pointer/)
    decodeErr(() => readName(msg(), 12), /read past end/)
    decodeErr(() => readName(msg(0), 99), /read past end/)
  })

  it('rejects label types 0x40 and 0x80 (label length above 63)', () => {
    decodeErr(() => readName(msg(0x40, ...new Array<number>(64).fill(0x61), 0), 12), /label type/)
    decodeErr(() => readName(msg(0x80, 0), 12), /label type/)
  })

  it('rejects a name longer than 255 octets, accepts exactly 255', () => {
    const l63 = label('a'.repeat(63))
    const l61 = label('a'.repeat(61))
    const ok = msg(...l63, ...l63, ...l63, ...l61, 0) // 64*3 + 62 + 1 = 255
    assert.equal(readName(ok, 12).end, 12 + 255)
    const tooLong = msg(...l63, ...l63, ...l63, ...label('a'.repeat(62)), 0) // 256
    decodeErr(() => readName(tooLong, 12), /longer than 255/)
    decodeErr(() => skipName(tooLong, 12), /longer than 255/)
  })

  it('counts compressed parts toward the 255 limit', () => {
    const l63 = label('a'.repeat(63))
    // 12: 3 x 63 + root = 193 octets; then a 62-octet label pointing to it → 256
    const b = msg(...l63, ...l63, ...l63, 0, ...label('b'.repeat(62)), 0xc0, 12)
    decodeErr(() => readName(b, 12 + 193), /longer than 255/)
  })
})

describe('skipName', () => {
  it('returns the end offset for plain and compressed names', () => {
    const b = msg(...label('example'), ...label('com'), 0, ...label('www'), 0xc0, 12)
    assert.equal(skipName(b, 12), 25)
    assert.equal(skipName(b, 25), 31)
    assert.equal(skipName(msg(0), 12), 13)
  })

  it('validates pointer targets it does not render', () => {
    const b = msg(0x80, 0, ...label('www'), 0xc0, 12)
    decodeErr(() => skipName(b, 14), /label type/)
    decodeErr(() => skipName(msg(0xc0, 14, 0), 12), /backwards/)
    decodeErr(() => skipName(msg(5, 1, 2), 12), /past end/)
  })
})

describe('nameToWire', () => {
  it('encodes with or without the trailing dot', () => {
    const want = Buffer.from([3, 0x77, 0x77, 0x77, 2, 0x63, 0x6f, 0])
    assert.deepEqual(nameToWire('www.co.'), want)
    assert.deepEqual(nameToWire('www.co'), want)
  })

  it('encodes the root', () => {
    assert.deepEqual(nameToWire('.'), Buffer.from([0]))
    assert.deepEqual(nameToWire(''), Buffer.from([0]))
  })

  it('parses escapes', () => {
    assert.deepEqual(nameToWire('a\\.b.c.'), Buffer.from([3, 0x61, 0x2e, 0x62, 1, 0x63, 0]))
    assert.deepEqual(nameToWire('\\065\\\\\\000.'), Buffer.from([3, 0x41, 0x5c, 0, 0]))
    assert.deepEqual(nameToWire('a\\ b'), Buffer.from([3, 0x61, 0x20, 0x62, 0]))
  })

  it('accepts 63-octet labels and 255-octet names', () => {
    const name = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}.`
    assert.equal(nameToWire(name).length, 255)
    assert.equal(nameToWire('\\000'.repeat(63)).length, 65)
  })

  it('rejects bad names with EncodeError', () => {
    const bad = [
      'a'.repeat(64) + '.',
      '\\000'.repeat(64),
      `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}.`,
      'a..b.',
      '.a.',
      '..',
      'a\\',
      'a\\25',
      'a\\2x5',
      'a\\256',
      'caf\u0100.',
    ]
    for (const n of bad) {
      assert.throws(() => nameToWire(n), EncodeError, n)
      assert.equal(isValidDomainName(n), false, n)
    }
  })

  it('round-trips through readName', () => {
    for (const n of ['a.b.c.', 'x\\.y.z.', '\\000\\255\\ .', 'MiXeD.case.', '.', '*.wild.']) {
      const w = nameToWire(n)
      const b = Buffer.concat([Buffer.alloc(12), w])
      assert.deepEqual(readName(b, 12), { name: n, end: 12 + w.length })
    }
  })
})

describe('presentation helpers', () => {
  it('fqdn adds a missing trailing dot, escape-aware', () => {
    assert.equal(fqdn('a.b'), 'a.b.')
    assert.equal(fqdn('a.b.'), 'a.b.')
    assert.equal(fqdn('a\\.'), 'a\\..')
    assert.equal(fqdn('a\\\\.'), 'a\\\\.')
    assert.equal(fqdn(''), '.')
    assert.equal(fqdn('.'), '.')
  })

  it('lowerName lower-cases ASCII only', () => {
    assert.equal(lowerName('WwW.ExAmPlE.COM.'), 'www.example.com.')
    assert.equal(lowerName('ÄBC.'), 'Äbc.')
    const same = 'already.lower.'
    assert.equal(lowerName(same), same)
  })

  it('nameEquals ignores ASCII case and the trailing dot', () => {
    assert.equal(nameEquals('Example.COM.', 'example.com'), true)
    assert.equal(nameEquals('.', ''), true)
    assert.equal(nameEquals('a.b.', 'a.c.'), false)
    assert.equal(nameEquals('a.b.', 'a.b.c.'), false)
    assert.equal(nameEquals('a\\.', 'a.'), false)
  })

  it('isSubdomain', () => {
    const rows: Array<[string, string, boolean]> = [
      ['www.example.com.', 'example.com.', true],
      ['WWW.Example.COM.', 'example.com', true],
      ['example.com.', 'example.com.', true],
      ['anything.', '.', true],
      ['.', '.', true],
      ['wwwexample.com.', 'example.com.', false],
      ['example.com.', 'www.example.com.', false],
      ['com.', 'example.com.', false],
      ['a\\.example.com.', 'example.com.', false],
      ['a\\.example.com.', 'a\\.example.com.', true],
      ['x.a\\.example.com.', 'a\\.example.com.', true],
      ['a\\\\.example.com.', 'example.com.', true],
      ['abc\\.com.', 'com.', false],
    ]
    for (const [child, zone, want] of rows) {
      assert.equal(isSubdomain(child, zone), want, `${child} in ${zone}`)
    }
  })

  it('labelCount and splitLabels', () => {
    assert.equal(labelCount('.'), 0)
    assert.equal(labelCount(''), 0)
    assert.equal(labelCount('com.'), 1)
    assert.equal(labelCount('www.example.com'), 3)
    assert.equal(labelCount('a\\.b.c.'), 2)
    assert.equal(labelCount('a\\\\.b.'), 2)
    assert.deepEqual(splitLabels('www.example.com.'), ['www', 'example', 'com'])
    assert.deepEqual(splitLabels('.'), [])
    assert.deepEqual(splitLabels('a\\.b.c'), ['a\\.b', 'c'])
    assert.deepEqual(splitLabels('a\\\\.b.'), ['a\\\\', 'b'])
  })

  it('parentName strips the leftmost label', () => {
    assert.equal(parentName('www.example.com.'), 'example.com.')
    assert.equal(parentName('com.'), '.')
    assert.equal(parentName('.'), null)
    assert.equal(parentName('a\\.b.c.'), 'c.')
    assert.equal(parentName('a.b'), 'b.')
  })

  it('isValidDomainName', () => {
    assert.equal(isValidDomainName('example.com.'), true)
    assert.equal(isValidDomainName('.'), true)
    assert.equal(isValidDomainName('_srv._tcp.x'), true)
    assert.equal(isValidDomainName('a..b'), false)
  })
})
