#!/usr/bin/env node
// Micro-benchmark of the cache plugin's two paths, run against the compiled tree:
//   npx tsc -p tsconfig.json && node bench/micro/cache-hit.mjs [--n 500000]
// - hit:           a Request for a cached name → reply bytes built and handed to the writer
// - hit (EDNS+DO): the same with an OPT to append (DO is its own key)
// - miss+store:    a name never seen → next handler writes a wire reply → classify, store
//                  (with random eviction once the 9984-entry store is full), client copy
// Queries are parsed up front (QueryView per query, as a listener does), so the numbers are the
// plugin's own cost. Prints ns/op (median of 5 rounds) and ops/s.
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const dist = join(fileURLToPath(import.meta.url), '../../../dist')
const { Cache } = await import(join(dist, 'src/plugins/cache/handler.js'))
const { parseCacheDirective } = await import(join(dist, 'src/plugins/cache/setup.js'))
const { parseCorefile } = await import(join(dist, 'src/corefile/parser.js'))
const { encodeMessage } = await import(join(dist, 'src/dns/message.js'))
const { ManualClock } = await import(join(dist, 'src/lib/coarse-clock.js'))
const { makeRequest } = await import(join(dist, 'test/helpers/fake.js'))

const argN = process.argv.indexOf('--n')
const N = argN > 0 ? Number(process.argv[argN + 1]) : 300_000
const ROUNDS = 5

function config(body) {
  const d = parseCorefile(`.:53 {\n${body}\n}\n`, 'Corefile').blocks[0].directives[0]
  return parseCacheDirective({ zones: ['.'] }, d)
}

/** Upstream stand-in: writes a two-record A reply (what forward hands to writeWire). */
const upstream = {
  name: 'up',
  serve(req, w) {
    const q = req.q
    const wire = encodeMessage({
      id: q.id,
      flags: 0x8180,
      question: [{ name: q.qname, type: q.qtype, class: q.qclass }],
      answer: [
        { name: q.qname, type: 1, class: 1, ttl: 300, data: '10.0.0.1' },
        { name: q.qname, type: 1, class: 1, ttl: 300, data: '10.0.0.2' },
      ],
      authority: [],
      additional: [],
      edns: q.hasEdns ? { udpSize: 1232, extRcode: 0, version: 0, flags: q.do ? 0x8000 : 0, options: [] } : null,
    })
    w.writeWire(wire, 'forward')
    return 0
  },
}

class SinkWriter {
  constructor() {
    this.written = false
    this.last = null
  }
  write() {
    this.written = true
  }
  writeWire(b) {
    this.written = true
    this.last = b
  }
}

function median(a) {
  const s = [...a].sort((x, y) => x - y)
  return s[s.length >> 1]
}

function bench(name, reqs, fn) {
  const times = []
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now()
    for (let i = 0; i < reqs.length; i++) fn(reqs[i])
    times.push(((performance.now() - t0) * 1e6) / reqs.length)
  }
  const ns = median(times)
  return { name, ns, ops: 1e9 / ns }
}

const clock = new ManualClock()
const results = []

// Hits: 1000 cached names, queried round-robin (mixed case in half of them).
{
  const c = new Cache(upstream, config('cache'), clock)
  const names = Array.from({ length: 1000 }, (_, i) => `host-${i}.default.svc.cluster.local.`)
  for (const n of names) c.serve(makeRequest(n, 'A'), new SinkWriter())
  for (const n of names) c.serve(makeRequest(n, 'A', { ednsSize: 1232, do: true }), new SinkWriter())
  const plain = Array.from({ length: N }, (_, i) => makeRequest(i & 1 ? names[i % 1000].toUpperCase() : names[i % 1000], 'A', { id: i & 0xffff }))
  const edns = Array.from({ length: N }, (_, i) => makeRequest(names[i % 1000], 'A', { id: i & 0xffff, ednsSize: 1232, do: true }))
  const w = new SinkWriter()
  for (let k = 0; k < 3; k++) for (const r of plain.slice(0, 20000)) ((w.written = false), c.serve(r, w))
  results.push(bench('hit', plain, (r) => ((w.written = false), c.serve(r, w))))
  results.push(bench('hit (EDNS+DO)', edns, (r) => ((w.written = false), c.serve(r, w))))
  if (c.misses !== 2000) throw new Error(`unexpected misses: ${c.misses}`)
}

// Misses: every query a new name; the store fills up, then evicts at random.
{
  const c = new Cache(upstream, config('cache'), clock)
  const all = Array.from({ length: N * ROUNDS }, (_, i) => makeRequest(`miss-${i}.example.org.`, 'A', { id: i & 0xffff }))
  let round = 0
  const times = []
  for (let r = 0; r < ROUNDS; r++) {
    const reqs = all.slice(round * N, (round + 1) * N)
    round++
    const t0 = performance.now()
    for (let i = 0; i < reqs.length; i++) c.serve(reqs[i], new SinkWriter())
    times.push(((performance.now() - t0) * 1e6) / reqs.length)
  }
  const ns = median(times)
  results.push({ name: 'miss+store (+evict)', ns, ops: 1e9 / ns })
  if (c.entriesSuccess !== 9984) throw new Error(`unexpected size ${c.entriesSuccess}`)
}

// The stand-in upstream alone (encodes a reply per call): subtract it from miss+store.
{
  const reqs = Array.from({ length: N }, (_, i) => makeRequest(`up-${i}.example.org.`, 'A', { id: i & 0xffff }))
  results.push(bench('(upstream stub alone)', reqs, (r) => upstream.serve(r, new SinkWriter())))
}

console.log(`cache micro-bench — Node ${process.version}, N=${N}, median of ${ROUNDS} rounds`)
console.log('| path                  |   ns/op |      ops/s |')
console.log('|-----------------------|--------:|-----------:|')
for (const r of results) {
  console.log(`| ${r.name.padEnd(21)} | ${r.ns.toFixed(0).padStart(7)} | ${Math.round(r.ops).toLocaleString('en-US').padStart(10)} |`)
}
