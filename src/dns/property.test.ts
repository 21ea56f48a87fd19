// Property tests: the codec cross-checked against dns-packet (an independent implementation) in
// both directions, self round trips, and truncation rules.

import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import * as fc from 'fast-check'
import { decodeMessage, encodeMessage, MIN_MSG_SIZE } from './message.js'
import { Flag, Type } from './constants.js'
import { QueryView } from './query.js'
import { truncateWire, ttlOffsets } from './wire.js'
import { rrToString, parseRR } from './text.js'
import { canonical, dp, escapeLabel, fromDp, toDp, TYPED } from '../../test/helpers/dns-oracle.js'
import type { Edns, Message, RR } from './types.js'
import { DecodeError } from './types.js'

const SEED = Number(process.env['PROPERTY_SEED'] ?? 20240601)
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 300)
const params = { seed: SEED, numRuns: RUNS }
console.log(`property seed ${SEED} (set PROPERTY_SEED to change), runs ${RUNS}`)

/** fc.record with ordinary prototypes (assert.deepEqual compares prototypes). */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>
}

// ---------------------------------------------------------------------------------------------
// Arbitraries compatible with dns-packet (LDH-ish labels, class IN, no escapes)

const ldh = fc.string({
  unit: fc.constantFrom(...'abcxyzABCXYZ0189-_'),
  minLength: 1,
  maxLength: 12,
})
const label = fc.oneof(fc.constantFrom('www', 'example', 'Example', 'com', 'ns1', '_tcp', 'a'), ldh)
/** Mostly a few shared suffixes so compression gets exercised. */
const simpleName = fc
  .tuple(
    fc.array(label, { minLength: 0, maxLength: 3 }),
    fc.constantFrom(
      [],
      ['com'],
      ['example', 'com'],
      ['Example', 'com'],
      ['svc', 'cluster', 'local'],
    ),
  )
  .map(([head, tail]) => {
    const ls = [...head, ...tail]
    return ls.length === 0 ? '.' : ls.join('.') + '.'
  })

const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const printable = fc.string({ unit: fc.constantFrom(...'abc XYZ019-_.;'), maxLength: 20 })
const unknownType = fc.integer({ min: 0xff00, max: 0xfffe })

function rdataFor(nameArb: fc.Arbitrary<string>, textArb: fc.Arbitrary<string>) {
  return fc.oneof(
    rec({ type: fc.constant(Type.A), data: fc.ipV4() }),
    rec({ type: fc.constant(Type.AAAA), data: fc.ipV6() }),
    rec({ type: fc.constantFrom(Type.NS, Type.CNAME, Type.PTR, Type.DNAME), data: nameArb }),
    rec({
      type: fc.constant(Type.MX),
      data: rec({ preference: u16, exchange: nameArb }),
    }),
    rec({
      type: fc.constant(Type.SRV),
      data: rec({ priority: u16, weight: u16, port: u16, target: nameArb }),
    }),
    rec({
      type: fc.constant(Type.SOA),
      data: rec({
        mname: nameArb,
        rname: nameArb,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
      }),
    }),
    rec({
      type: fc.constant(Type.TXT),
      data: fc.array(
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a.subarray(0, 255))),
        { maxLength: 4 },
      ),
    }),
    rec({ type: fc.constant(Type.HINFO), data: rec({ cpu: textArb, os: textArb }) }),
    rec({
      type: unknownType,
      data: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    }),
  )
}

function rrArb(
  nameArb: fc.Arbitrary<string>,
  textArb: fc.Arbitrary<string>,
  klass: fc.Arbitrary<number>,
) {
  return fc
    .tuple(nameArb, rdataFor(nameArb, textArb), klass, u32)
    .map(([name, rd, k, ttl]): RR => ({ name, type: rd.type, class: k, ttl, data: rd.data }))
}

const ednsArb: fc.Arbitrary<Edns | null> = fc.option(
  rec({
    udpSize: fc.integer({ min: 1, max: 0xffff }),
    extRcode: fc.integer({ min: 0, max: 255 }),
    version: fc.integer({ min: 0, max: 255 }),
    flags: u16,
    options: fc.array(
      rec({
        code: fc.constantFrom(3, 10, 15, 65001),
        data: fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
      }),
      { maxLength: 3 },
    ),
  }),
)

function messageArb(
  nameArb: fc.Arbitrary<string>,
  textArb: fc.Arbitrary<string>,
  klass: fc.Arbitrary<number>,
  maxRecords: number,
): fc.Arbitrary<Message> {
  const rrs = fc.array(rrArb(nameArb, textArb, klass), { maxLength: maxRecords })
  return fc
    .record({
      id: u16,
      flags: u16,
      question: fc.array(
        rec({ name: nameArb, type: fc.constantFrom(1, 28, 33, 255), class: klass }),
        { maxLength: 2 },
      ),
      answer: rrs,
      authority: rrs,
      additional: rrs,
      edns: ednsArb,
    })
    .map((m) => m as Message)
}

const dpMessage = messageArb(simpleName, printable, fc.constant(1), 6)

// ---------------------------------------------------------------------------------------------
// Richer arbitraries for our own round trips: any label bytes (escaped), any class, any type

const rawLabel = fc.oneof(
  { weight: 3, arbitrary: label },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 10 }).map(escapeLabel) },
)
const anyName = fc
  .tuple(fc.array(rawLabel, { maxLength: 4 }), fc.constantFrom([], ['com'], ['Example', 'com']))
  .map(([h, t]) => {
    const ls = [...h, ...t]
    return ls.length === 0 ? '.' : ls.join('.') + '.'
  })
const latin1 = fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a).toString('latin1'))
const anyMessage = messageArb(anyName, latin1, u16, 6)

// ---------------------------------------------------------------------------------------------

describe('cross-check with dns-packet', () => {
  it('our encode → dns-packet decode gives the same message', () => {
    fc.assert(
      fc.property(dpMessage, (m) => {
        const b = encodeMessage(m)
        assert.deepEqual(fromDp(dp.decode(b)), canonical(m))
      }),
      params,
    )
  })

  it('dns-packet encode → our decode gives the same message', () => {
    fc.assert(
      fc.property(dpMessage, (m) => {
        const b = dp.encode(toDp(m))
        assert.deepEqual(decodeMessage(b), canonical(m))
      }),
      params,
    )
  })

  it('our encoding is never longer than dns-packet’s (compression)', () => {
    let shorter = 0
    fc.assert(
      fc.property(dpMessage, (m) => {
        const ours = encodeMessage(m).length
        const theirs = dp.encode(toDp(m)).length
        assert.ok(ours <= theirs)
        if (ours < theirs) shorter++
      }),
      params,
    )
    assert.ok(shorter > RUNS / 4, `compression used in only ${shorter} of ${RUNS} runs`)
  })
})

describe('self round trips', () => {
  it('encode → decode gives the message back; decode → encode is byte-identical', () => {
    fc.assert(
      fc.property(anyMessage, (m) => {
        const b = encodeMessage(m)
        const d = decodeMessage(b)
        assert.deepEqual(d, canonical(m))
        assert.deepEqual(encodeMessage(d), b)
      }),
      params,
    )
  })

  it('QueryView and ttlOffsets agree with decodeMessage', () => {
    fc.assert(
      fc.property(anyMessage, (m) => {
        const b = encodeMessage(m)
        const v = new QueryView()
        v.parseHeader(b)
        v.parseBody()
        const q0 = m.question[0]
        assert.equal(v.qname, q0 === undefined ? '' : q0.name)
        assert.equal(v.qtype, q0 === undefined ? 0 : q0.type)
        assert.equal(v.hasEdns, m.edns !== null)
        assert.equal(v.udpSize, m.edns === null ? 0 : m.edns.udpSize)
        const ttls = ttlOffsets(b).map((o) => b.readUInt32BE(o))
        assert.deepEqual(ttls, [...m.answer, ...m.authority, ...m.additional].map((r) => r.ttl))
      }),
      params,
    )
  })

  it('rrToString → parseRR gives the record back', () => {
    fc.assert(
      fc.property(rrArb(anyName, latin1, fc.constantFrom(1, 3, 4, 255)), (r) => {
        const want = canonical({ ...emptyMsg(), answer: [r] }).answer[0]!
        const got = parseRR(rrToString(r))
        assert.deepEqual(got, want)
      }),
      params,
    )
  })
})

function emptyMsg(): Message {
  return { id: 0, flags: 0, question: [], answer: [], authority: [], additional: [], edns: null }
}

// ---------------------------------------------------------------------------------------------
// Truncation

const bigRecord = fc.oneof(
  rrArb(simpleName, printable, fc.constant(1)),
  fc.tuple(simpleName, fc.integer({ min: 0, max: 400 })).map(
    ([name, n]): RR => ({ name, type: Type.TXT, class: 1, ttl: 1, data: [Buffer.alloc(n % 256)] }),
  ),
)
const truncMessage = fc
  .record({
    id: u16,
    flags: fc.constantFrom(0x8180, 0x8180 | Flag.TC, 0x8580),
    question: fc.array(rec({ name: simpleName, type: fc.constant(1), class: fc.constant(1) }), {
      maxLength: 1,
    }),
    answer: fc.array(bigRecord, { maxLength: 30 }),
    authority: fc.array(bigRecord, { maxLength: 10 }),
    additional: fc.array(bigRecord, { maxLength: 20 }),
    edns: ednsArb,
  })
  .map((m) => m as Message)

describe('truncation', () => {
  it('fits maxSize, keeps a maximal prefix and the OPT, TC iff something was dropped', () => {
    let truncatedRuns = 0
    fc.assert(
      fc.property(truncMessage, fc.integer({ min: 0, max: 5000 }), (m, size) => {
        const limit = Math.max(size, MIN_MSG_SIZE)
        const full = encodeMessage(m)
        const b = encodeMessage(m, size)
        assert.ok(b.length <= limit, `${b.length} > ${limit}`)
        const d = decodeMessage(b)
        const all = [...m.answer, ...m.authority, ...m.additional]
        const kept = d.answer.length + d.authority.length + d.additional.length
        const dropped = kept < all.length
        assert.equal((d.flags & Flag.TC) !== 0, dropped || (m.flags & Flag.TC) !== 0)
        assert.deepEqual(d.edns, m.edns)
        if (!dropped) assert.deepEqual(b, full)
        // the kept records are a prefix of answer, authority, additional in order
        const c = canonical(m)
        const want = [...c.answer, ...c.authority, ...c.additional].slice(0, kept)
        assert.deepEqual([...d.answer, ...d.authority, ...d.additional], want)
        assert.equal(d.answer.length, Math.min(kept, m.answer.length))
        const nsKept = Math.min(Math.max(kept - m.answer.length, 0), m.authority.length)
        assert.equal(d.authority.length, nsKept)
        if (dropped) {
          truncatedRuns++
          // maximal: one more record would not have fit
          const one = prefixMessage(m, kept + 1)
          assert.ok(encodeMessage(one).length > limit)
        }
        // the wire truncation agrees byte for byte
        assert.deepEqual(truncateWire(full, size), b)
      }),
      { ...params, numRuns: RUNS * 2 },
    )
    assert.ok(truncatedRuns > RUNS / 5, `truncation happened in only ${truncatedRuns} runs`)
  })
})

/** m with only the first n records (answer, then authority, then additional). */
function prefixMessage(m: Message, n: number): Message {
  const a = m.answer.slice(0, n)
  const ns = m.authority.slice(0, Math.max(0, n - a.length))
  const ar = m.additional.slice(0, Math.max(0, n - a.length - ns.length))
  return { ...m, answer: a, authority: ns, additional: ar }
}

describe('arbitrary bytes', () => {
  it('every decoder returns or throws DecodeError', () => {
    const v = new QueryView()
    const only = (fn: () => unknown): void => {
      try {
        fn()
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(3000), (a, size) => {
        const b = Buffer.from(a)
        only(() => {
          v.parseHeader(b)
          v.parseBody()
        })
        only(() => decodeMessage(b))
        only(() => ttlOffsets(b))
        only(() => truncateWire(b, size))
      }),
      { ...params, numRuns: RUNS * 10 },
    )
  })
})

// TYPED is imported to document which types the generators must cover; assert it stays in sync.
describe('generators', () => {
  it('cover every typed rdata kind', () => {
    const seen = new Set<number>()
    fc.assert(
      fc.property(rdataFor(simpleName, printable), (rd) => {
        seen.add(rd.type)
      }),
      { seed: SEED, numRuns: 500 },
    )
    for (const t of TYPED) assert.ok(seen.has(t), `type ${t} never generated`)
  })
})
