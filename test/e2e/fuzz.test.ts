// Feeds 100,000+ random and mutated packets through a live server (UDP and TCP); the process must
// not crash or stall, and must still answer a real client afterwards.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import net from 'node:net'
import dnsPacket from 'dns-packet'
import { dig } from '../helpers/dig.js'
import { startServer } from '../helpers/server.js'

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1234)
const UDP_PACKETS = Number(process.env.FUZZ_PACKETS ?? 100_000)
const TCP_PACKETS = 5_000

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

function seeds(): Buffer[] {
  const names = ['example.org', 'a.b.c.example.org', '.', 'xn--bcher-kva.example', 'x'.repeat(63) + '.org']
  const out: Buffer[] = []
  for (const name of names) {
    for (const type of ['A', 'AAAA', 'TXT', 'SRV', 'PTR', 'HINFO'] as const) {
      out.push(dnsPacket.encode({ type: 'query', id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }] }))
      out.push(
        dnsPacket.encode({
          type: 'query',
          id: 2,
          questions: [{ name, type }],
          additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [{ code: 10, data: Buffer.alloc(8) }] } as unknown as dnsPacket.Answer],
        }),
      )
    }
  }
  out.push(
    dnsPacket.encode({
      type: 'response',
      id: 3,
      questions: [{ name: 'example.org', type: 'A' }],
      answers: [
        { name: 'example.org', type: 'A', ttl: 5, data: '1.2.3.4' },
        { name: 'example.org', type: 'MX', ttl: 5, data: { preference: 1, exchange: 'mx.example.org' } },
      ],
    }),
  )
  return out
}

function mutate(r: () => number, base: Buffer): Buffer {
  const b = Buffer.from(base)
  const kind = Math.floor(r() * 6)
  if (kind === 0) {
    // random bit flips
    const n = 1 + Math.floor(r() * 4)
    for (let i = 0; i < n; i++) b[Math.floor(r() * b.length)]! ^= 1 << Math.floor(r() * 8)
    return b
  }
  if (kind === 1) return b.subarray(0, Math.floor(r() * b.length)) // truncation
  if (kind === 2) {
    // header counts scrambled, QR cleared so it is not ignored
    b.writeUInt16BE(Math.floor(r() * 65536) & 0x7fff, 2)
    for (let i = 4; i < 12; i += 2) b.writeUInt16BE(Math.floor(r() * 4), i)
    return b
  }
  if (kind === 3) {
    // a compression pointer somewhere (loops, forward pointers)
    const at = 12 + Math.floor(r() * Math.max(1, b.length - 13))
    if (at + 1 < b.length) {
      b[at] = 0xc0 | Math.floor(r() * 4)
      b[at + 1] = Math.floor(r() * 256)
    }
    return b
  }
  if (kind === 4) {
    // random tail appended or spliced
    const tail = Buffer.alloc(Math.floor(r() * 64))
    for (let i = 0; i < tail.length; i++) tail[i] = Math.floor(r() * 256)
    return Buffer.concat([b.subarray(0, Math.floor(r() * b.length)), tail])
  }
  // pure random bytes with a sane-looking header
  const len = Math.floor(r() * 600)
  const x = Buffer.alloc(len)
  for (let i = 0; i < len; i++) x[i] = Math.floor(r() * 256)
  if (len >= 4) x[2]! &= 0x7f
  return x
}

test(`fuzz: ${UDP_PACKETS} UDP + ${TCP_PACKETS} TCP random/mutated packets (seed ${SEED}) leave the server answering`, async () => {
  const s = await startServer('.:0 {\n  bind 127.0.0.1\n  errors\n  any\n  whoami\n}\n')
  try {
    const r = rng(SEED)
    const base = seeds()
    const sock = dgram.createSocket('udp4')
    let replies = 0
    sock.on('message', () => void replies++)
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()))
    const deadline = Date.now() + 60_000
    for (let i = 0; i < UDP_PACKETS && Date.now() < deadline; ) {
      const batch: Promise<void>[] = []
      for (let j = 0; j < 200 && i < UDP_PACKETS; j++, i++) {
        const pkt = mutate(r, base[Math.floor(r() * base.length)]!)
        batch.push(new Promise((res) => sock.send(pkt, s.port, '127.0.0.1', () => res())))
      }
      await Promise.all(batch)
      await new Promise((res) => setImmediate(res))
    }
    // TCP: one connection carrying mutated frames, some with lying length prefixes
    await new Promise<void>((resolve) => {
      const c = net.connect(s.port, '127.0.0.1', () => {
        for (let i = 0; i < TCP_PACKETS; i++) {
          const pkt = mutate(r, base[Math.floor(r() * base.length)]!)
          const len = Buffer.alloc(2)
          len.writeUInt16BE(pkt.length)
          c.write(Buffer.concat([len, pkt]))
        }
        c.end()
      })
      c.on('data', () => {})
      c.on('error', () => resolve())
      c.on('close', () => resolve())
      setTimeout(() => {
        c.destroy()
        resolve()
      }, 10_000).unref()
    })
    await new Promise((res) => setTimeout(res, 200))
    sock.close()
    assert.ok(replies > 1000, `the server answered only ${replies} fuzz packets`)
    const after = await dig(s.port, ['still.alive.example', 'A'])
    assert.equal(after.status, 'NOERROR')
    assert.ok(after.additional.some((x) => x.type === 'A' && x.data === '127.0.0.1'))
    assert.equal(s.server.panics, 0, s.lines.filter((l) => l.includes('panic')).slice(0, 3).join('\n'))
  } finally {
    await s.close()
  }
})
