// The server core end to end, through real clients (dig over UDP/TCP, kdig over TLS) and raw sockets.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import dnsPacket from 'dns-packet'
import { dig, kdig } from '../helpers/dig.js'
import { startServer, type TestServer } from '../helpers/server.js'

const fixtures = join(fileURLToPath(import.meta.url), '../../../../test/fixtures')

function udpExchange(port: number, msg: Buffer, timeoutMs = 1000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4')
    const t = setTimeout(() => {
      s.close()
      resolve(null)
    }, timeoutMs)
    s.on('message', (m: Buffer) => {
      clearTimeout(t)
      s.close()
      resolve(m)
    })
    s.send(msg, port, '127.0.0.1')
  })
}

function query(name: string, type: dnsPacket.RecordType, id = 4242, extra: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }], ...extra })
}

describe('whoami over UDP, TCP and TLS', () => {
  let s: TestServer
  let tlsPort: number
  before(async () => {
    s = await startServer(`.:0 {\n  bind 127.0.0.1\n  whoami\n}\ntls://.:0 {\n  bind 127.0.0.1\n  tls ${fixtures}/tls/server.crt ${fixtures}/tls/server.key\n  whoami\n}\n`)
    tlsPort = s.server.portOf('tls', '127.0.0.1')
  })
  after(() => s.close())

  test('dig over UDP sees its own address and port in ADDITIONAL', async () => {
    const r = await dig(s.port, ['example.org', 'A'])
    assert.equal(r.status, 'NOERROR')
    assert.ok(r.flags.includes('aa'))
    assert.equal(r.answer.length, 0)
    const a = r.additional.find((x) => x.type === 'A')
    assert.equal(a?.name, 'example.org.')
    assert.equal(a?.data, '127.0.0.1')
    const srv = r.additional.find((x) => x.type === 'SRV')
    assert.equal(srv?.name, '_udp.example.org.')
  })

  test('dig over TCP gets the _tcp SRV', async () => {
    const r = await dig(s.port, ['+tcp', 'example.org', 'A'])
    assert.equal(r.status, 'NOERROR')
    assert.ok(r.additional.some((x) => x.type === 'SRV' && x.name === '_tcp.example.org.'))
  })

  test('kdig over DNS-over-TLS answers', async () => {
    const r = await kdig(tlsPort, ['+tls', 'example.org', 'A'])
    assert.equal(r.status, 'NOERROR')
    assert.ok(r.additional.some((x) => x.type === 'SRV' && x.name === '_tcp.example.org.'), r.raw)
  })

  test('the root query gets the SRV owner _udp.', async () => {
    const r = await dig(s.port, ['.', 'NS'])
    assert.ok(r.additional.some((x) => x.type === 'SRV' && x.name === '_udp.'), r.raw)
  })
})

describe('zone routing and error replies', () => {
  let s: TestServer
  before(async () => {
    s = await startServer(
      [
        'example.org:0 {',
        '  bind 127.0.0.1',
        '  any',
        '  whoami',
        '}',
        'sub.example.org:0 {',
        '  bind 127.0.0.1',
        '}',
        'a.example.org:0 {',
        '  bind 127.0.0.1',
        '  errors',
        '}',
        '',
      ].join('\n'),
    )
  })
  after(() => s.close())

  test('a name under no zone of the listener is REFUSED', async () => {
    const r = await dig(s.port, ['example.com', 'A'])
    assert.equal(r.status, 'REFUSED')
  })
  test('the longest matching zone wins: a zone without plugins refuses', async () => {
    const r = await dig(s.port, ['x.sub.example.org', 'A'])
    assert.equal(r.status, 'REFUSED')
    const ok = await dig(s.port, ['x.other.example.org', 'A'])
    assert.equal(ok.status, 'NOERROR')
  })
  test('a chain where no plugin writes answers SERVFAIL', async () => {
    const r = await dig(s.port, ['x.a.example.org', 'A'])
    assert.equal(r.status, 'SERVFAIL')
  })
  test('plugin order is fixed, not Corefile order: any runs before whoami', async () => {
    const r = await dig(s.port, ['example.org', 'ANY'])
    assert.equal(r.status, 'NOERROR')
    assert.equal(r.answer[0]?.type, 'HINFO')
    assert.match(r.answer[0]!.data, /ANY obsoleted/)
  })
  test('class CH is REFUSED', async () => {
    const r = await dig(s.port, ['-c', 'CH', 'example.org', 'TXT'])
    assert.equal(r.status, 'REFUSED')
  })
  test('EDNS version 1 gets BADVERS with an OPT of version 0', async () => {
    const r = await dig(s.port, ['+edns=1', '+noednsnegotiation', 'example.org', 'A'])
    assert.equal(r.status, 'BADVERS')
    assert.match(r.raw, /EDNS: version: 0/)
  })
  test('a packet shorter than a header is dropped', async () => {
    assert.equal(await udpExchange(s.port, Buffer.from([1, 2, 3]), 300), null)
  })
  test('a readable header with a broken question gets FORMERR with the same id', async () => {
    const q = query('example.org', 'A', 777)
    const broken = q.subarray(0, q.length - 3)
    const r = await udpExchange(s.port, broken)
    assert.ok(r)
    assert.equal(r!.readUInt16BE(0), 777)
    assert.equal(r!.readUInt16BE(2) & 0x8000, 0x8000)
    assert.equal(r!.readUInt16BE(2) & 0xf, 1)
  })
  test('two questions get FORMERR; an UPDATE gets NOTIMP; a response is ignored', async () => {
    const two = dnsPacket.encode({
      type: 'query',
      id: 9,
      questions: [
        { type: 'A', name: 'a.example.org' },
        { type: 'A', name: 'b.example.org' },
      ],
    })
    const r1 = await udpExchange(s.port, two)
    assert.equal(r1!.readUInt16BE(2) & 0xf, 1)
    const upd = Buffer.from(query('example.org', 'SOA', 10))
    upd.writeUInt16BE((5 << 11) | 0, 2)
    const r2 = await udpExchange(s.port, upd)
    assert.equal(r2!.readUInt16BE(2) & 0xf, 4)
    const resp = Buffer.from(query('example.org', 'A', 11))
    resp.writeUInt16BE(0x8000, 2)
    assert.equal(await udpExchange(s.port, resp, 300), null)
  })
})

describe('TCP', () => {
  let s: TestServer
  before(async () => {
    s = await startServer('.:0 {\n  bind 127.0.0.1\n  whoami\n}\n')
  })
  after(() => s.close())

  test('pipelined queries on one connection are all answered with their ids', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => 1000 + i)
    const frames = ids.map((id) => {
      const q = query(`n${id}.example.org`, 'A', id)
      const len = Buffer.alloc(2)
      len.writeUInt16BE(q.length)
      return Buffer.concat([len, q])
    })
    const got = await new Promise<number[]>((resolve, reject) => {
      const c = net.connect(s.port, '127.0.0.1')
      const seen: number[] = []
      let buf = Buffer.alloc(0)
      const t = setTimeout(() => {
        c.destroy()
        reject(new Error(`timeout, got ${seen.length}`))
      }, 3000)
      c.on('data', (d) => {
        buf = Buffer.concat([buf, d])
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const m = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)))
          buf = buf.subarray(2 + buf.readUInt16BE(0))
          seen.push(m.id!)
          assert.equal(m.questions![0]!.name, `n${m.id}.example.org`)
        }
        if (seen.length === ids.length) {
          clearTimeout(t)
          c.end()
          resolve(seen)
        }
      })
      // split the stream at odd places to exercise framing
      const all = Buffer.concat(frames)
      c.write(all.subarray(0, 7))
      setTimeout(() => c.write(all.subarray(7)), 20)
    })
    assert.deepEqual([...got].sort(), [...ids].sort())
  })
})

describe('hosts through the server: truncation and case', () => {
  let s: TestServer
  before(async () => {
    const lines = Array.from({ length: 60 }, (_, i) => `    10.0.${i >> 8}.${i & 255} many.example.org`).join('\n')
    s = await startServer(`example.org:0 {\n  bind 127.0.0.1\n  hosts {\n${lines}\n    10.1.1.1 One.Example.Org\n  }\n}\n`)
  })
  after(() => s.close())

  test('a reply larger than 512 bytes is truncated with TC over UDP without EDNS, complete over TCP', async () => {
    const udp = await dig(s.port, ['+noedns', '+ignore', 'many.example.org', 'A'])
    assert.ok(udp.flags.includes('tc'), udp.raw)
    assert.ok(udp.answer.length < 60)
    const tcp = await dig(s.port, ['+tcp', 'many.example.org', 'A'])
    assert.equal(tcp.answer.length, 60)
    const edns = await dig(s.port, ['+bufsize=4096', 'many.example.org', 'A'])
    assert.equal(edns.answer.length, 60)
    assert.ok(!edns.flags.includes('tc'))
  })
  test('dig retries over TCP by itself after TC', async () => {
    const r = await dig(s.port, ['+noedns', 'many.example.org', 'A'])
    assert.equal(r.answer.length, 60)
  })
  test('the owner name keeps the letters as the client sent them', async () => {
    const r = await dig(s.port, ['oNe.EXAMPLE.org', 'A'])
    assert.equal(r.answer[0]?.name, 'oNe.EXAMPLE.org.')
    assert.equal(r.answer[0]?.data, '10.1.1.1')
    assert.ok(r.flags.includes('aa'))
  })
})

describe('wildcard listener (no bind)', () => {
  let s: TestServer
  before(async () => {
    s = await startServer('.:0 {\n  whoami\n}\n')
  })
  after(() => s.close())
  test('answers IPv4 clients (mapped on a dual-stack socket) over UDP and TCP, and IPv6 clients', async () => {
    const v4 = await dig(s.port, ['example.org', 'A'], '127.0.0.1')
    assert.equal(v4.status, 'NOERROR')
    assert.ok(v4.additional.some((x) => x.type === 'A' && x.data === '127.0.0.1'), v4.raw)
    const v4tcp = await dig(s.port, ['+tcp', 'example.org', 'A'], '127.0.0.1')
    assert.ok(v4tcp.additional.some((x) => x.type === 'A' && x.data === '127.0.0.1'), v4tcp.raw)
    const v6 = await dig(s.port, ['example.org', 'A'], '::1')
    assert.ok(v6.additional.some((x) => x.type === 'AAAA' && x.data === '::1'), v6.raw)
  })
})
