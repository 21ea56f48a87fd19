// Fuzz: random and mutated packets through every decoder. Each must return or throw DecodeError,
// nothing else (no RangeError from Buffer reads, no TypeError, no hang). When decodeMessage
// accepts a packet, the cheaper walkers must accept it too and agree with it.
// Reproducible: FUZZ_SEED picks the seed (printed), FUZZ_ITERATIONS the count.

import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import { decodeMessage, encodeMessage } from './message.js'
import { QueryView } from './query.js'
import { getRcodeWire, truncateWire, ttlOffsets } from './wire.js'
import { DecodeError } from './types.js'
import type { Message } from './types.js'
import { dp } from '../../test/helpers/dns-oracle.js'

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed2024)
const ITERATIONS = Number(process.env['FUZZ_ITERATIONS'] ?? 100_000)
console.log(`fuzz seed ${SEED} (set FUZZ_SEED to change), iterations ${ITERATIONS}`)

/** mulberry32: small, fast, seedable. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const rand = rng(SEED)
const int = (n: number): number => Math.floor(rand() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!

const LABELS = ['www', 'example', 'com', 'Kube-DNS', 'svc', 'cluster', 'local', '_tcp', 'a', 'ns1']
function name(): string {
  const n = int(4)
  const ls: string[] = []
  for (let i = 0; i < n; i++) ls.push(pick(LABELS))
  return ls.length === 0 ? '.' : ls.join('.')
}

function record(): object {
  const base = { name: name(), ttl: int(100000), class: 'IN' }
  switch (int(11)) {
    case 0:
      return { ...base, type: 'A', data: `10.${int(256)}.${int(256)}.${int(256)}` }
    case 1:
      return { ...base, type: 'AAAA', data: `fd00::${int(0xffff).toString(16)}` }
    case 2:
      return { ...base, type: 'CNAME', data: name() }
    case 3:
      return { ...base, type: 'NS', data: name() }
    case 4:
      return { ...base, type: 'PTR', data: name() }
    case 5:
      return { ...base, type: 'MX', data: { preference: int(100), exchange: name() } }
    case 6:
      return {
        ...base,
        type: 'SRV',
        data: { priority: int(10), weight: int(10), port: int(65536), target: name() },
      }
    case 7:
      return {
        ...base,
        type: 'SOA',
        data: {
          mname: name(),
          rname: name(),
          serial: int(1e9),
          refresh: 1,
          retry: 2,
          expire: 3,
          minimum: 4,
        },
      }
    case 8:
      return { ...base, type: 'TXT', data: [Buffer.alloc(int(40), 0x61), Buffer.from('x')] }
    case 9:
      return { ...base, type: 'HINFO', data: { cpu: 'cpu', os: 'os' } }
    default:
      return { ...base, type: 'DNAME', data: name() }
  }
}

function records(max: number): object[] {
  const out: object[] = []
  const n = int(max + 1)
  for (let i = 0; i < n; i++) out.push(record())
  return out
}

/** A valid message made by dns-packet (uncompressed) */
function dnsPacketMessage(): Buffer {
  const additionals = records(2)
  if (rand() < 0.6) {
    additionals.push({
      type: 'OPT',
      name: '.',
      udpPayloadSize: pick([512, 1232, 4096]),
      flags: rand() < 0.5 ? 0x8000 : 0,
      options: rand() < 0.5 ? [{ code: 10, data: Buffer.alloc(8, 7) }] : [],
    })
  }
  return dp.encode({
    id: int(65536),
    type: rand() < 0.5 ? 'query' : 'response',
    flags: int(0x8000),
    questions: int(4) === 0 ? [] : [{ name: name(), type: pick(['A', 'AAAA', 'SRV', 'PTR']) }],
    answers: records(4),
    authorities: records(2),
    additionals,
  })
}

const corpus: Buffer[] = []
for (let i = 0; i < 150; i++) {
  const b = dnsPacketMessage()
  corpus.push(b)
  // the same message with our compression, so mutations hit pointers too
  corpus.push(encodeMessage(decodeMessage(b)))
}

const INTERESTING = [0, 1, 0x29, 0x3f, 0x40, 0x80, 0xc0, 0xc0, 0xff]

function mutate(src: Buffer): Buffer {
  let b = Buffer.from(src)
  const rounds = 1 + int(3)
  for (let r = 0; r < rounds; r++) {
    switch (int(9)) {
      case 0: {
        const flips = 1 + int(4)
        for (let i = 0; i < flips && b.length > 0; i++) b[int(b.length)]! ^= 1 << int(8)
        break
      }
      case 1:
        if (b.length > 0) b[int(b.length)] = pick(INTERESTING)
        break
      case 2:
        b = b.subarray(0, int(b.length + 1))
        break
      case 3: {
        const o = pick(corpus)
        b = Buffer.concat([b.subarray(0, int(b.length + 1)), o.subarray(int(o.length + 1))])
        break
      }
      case 4:
        if (b.length >= 12) {
          const v = pick([0, 1, 2, 3, int(256), 0xffff])
          b.writeUInt16BE(v, 4 + 2 * int(4))
        }
        break
      case 5: {
        const at = int(b.length + 1)
        const ins = Buffer.alloc(1 + int(8))
        for (let i = 0; i < ins.length; i++) ins[i] = pick(INTERESTING)
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)])
        break
      }
      case 6: {
        const at = int(b.length + 1)
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(8)))])
        break
      }
      case 7:
        if (b.length > 2) {
          const at = 12 + int(Math.max(1, b.length - 13))
          const target = int(Math.min(b.length + 20, 0x3fff))
          if (at + 1 < b.length) {
            b[at] = 0xc0 | (target >> 8)
            b[at + 1] = target & 0xff
          }
        }
        break
      default:
        b = Buffer.concat([b, b.subarray(12)])
    }
  }
  return b
}

function randomPacket(): Buffer {
  const b = Buffer.alloc(int(300))
  for (let i = 0; i < b.length; i++) b[i] = rand() < 0.3 ? pick(INTERESTING) : int(256)
  // make the counts small often, so bodies get walked
  if (b.length >= 12 && rand() < 0.7) {
    for (let i = 4; i < 12; i += 2) b.writeUInt16BE(int(3), i)
  }
  return b
}

describe('fuzz', () => {
  it(`${ITERATIONS} random and mutated packets only ever throw DecodeError`, () => {
    const view = new QueryView()
    const stats = { decoded: 0, viewOk: 0, rejected: 0 }
    let current: Buffer = Buffer.alloc(0)
    let iteration = 0
    const fail = (what: string, e: unknown): never => {
      assert.fail(
        `${what} threw ${String(e)} (seed ${SEED}, iteration ${iteration}, ` +
          `packet ${current.toString('hex')})`,
      )
    }
    const guard = <T>(what: string, fn: () => T): T | undefined => {
      try {
        return fn()
      } catch (e) {
        if (e instanceof DecodeError) return undefined
        return fail(what, e)
      }
    }
    const started = Date.now()
    for (iteration = 0; iteration < ITERATIONS; iteration++) {
      const b = (current = rand() < 0.2 ? randomPacket() : mutate(pick(corpus)))
      const viewOk = guard('QueryView', () => {
        view.parseHeader(b)
        view.parseBody()
        return true
      })
      if (viewOk) stats.viewOk++
      const msg: Message | undefined = guard('decodeMessage', () => decodeMessage(b))
      const offs = guard('ttlOffsets', () => ttlOffsets(b))
      const size = 512 + int(600)
      const cut = guard('truncateWire', () => truncateWire(b, size))
      guard('getRcodeWire', () => getRcodeWire(b))
      if (msg === undefined) {
        stats.rejected++
        continue
      }
      stats.decoded++
      // Whatever decodeMessage accepts, the walkers accept, and they agree with it.
      assert.equal(viewOk, true, `QueryView rejected a decodable packet ${b.toString('hex')}`)
      assert.equal(view.qname, msg.question[0]?.name ?? '')
      assert.equal(view.hasEdns, msg.edns !== null)
      assert.ok(offs !== undefined && cut !== undefined, `walker rejected ${b.toString('hex')}`)
      assert.equal(offs.length, msg.answer.length + msg.authority.length + msg.additional.length)
      const again = decodeMessage(cut)
      assert.equal(again.edns === null, msg.edns === null)
      assert.deepEqual(decodeMessage(encodeMessage(msg)), msg)
    }
    const ms = Date.now() - started
    console.log(
      `fuzz: ${ITERATIONS} packets in ${ms} ms; decodable ${stats.decoded}, ` +
        `QueryView ok ${stats.viewOk}, rejected ${stats.rejected}`,
    )
    // the corpus must keep both outcomes well represented, or the fuzzer tests little
    assert.ok(stats.decoded > ITERATIONS / 20, 'too few packets decoded')
    assert.ok(stats.rejected > ITERATIONS / 5, 'too few packets rejected')
  })
})
