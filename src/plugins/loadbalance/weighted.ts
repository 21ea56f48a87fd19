// `loadbalance weighted WEIGHTFILE`: per name, weights 1..255 per address (default 1); one address
// is picked at random in proportion to its weight and moved to the top (CoreDNS weighted.go).
// The file is re-read every `reload` when its content (MD5) changed; a bad file keeps the old
// weights.

import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { Type } from '../../dns/constants.js'
import type { Message, RR } from '../../dns/types.js'
import { canonicalIP, parseIP } from '../../lib/ip.js'
import type { Logger } from '../../log/logger.js'
import type { Rand } from './shuffle.js'

/** name (lower-case FQDN) → canonical address text → weight. */
export type Weights = Map<string, Map<string, number>>

/** Parses a weight file; throws Error with CoreDNS's wording on bad lines. */
export function parseWeights(text: string, fileName: string): Weights {
  const domains: Weights = new Map()
  let dname = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line[0] === '#') continue
    const fields = line.split(/\s+/)
    if (fields.length === 1) {
      if (parseIP(fields[0]!) !== null) {
        throw new Error(`wrong domain name:"${fields[0]!}" in weight file ${fileName}. (Maybe a missing weight value?)`)
      }
      dname = fields[0]!.toLowerCase()
      if (!dname.endsWith('.')) dname += '.'
      if (!domains.has(dname)) domains.set(dname, new Map())
    } else if (fields.length === 2) {
      const ip = canonicalIP(fields[0]!)
      if (ip === null) throw new Error(`wrong IP address:"${fields[0]!}" in weight file ${fileName}`)
      const w = fields[1]!
      const v = /^\d+$/.test(w) ? Number(w) : NaN
      if (!(v >= 1 && v <= 255)) throw new Error(`wrong weight value:"${w}" in weight file ${fileName}`)
      if (dname === '') throw new Error(`missing domain name in weight file ${fileName}`)
      const ws = domains.get(dname)!
      if (!ws.has(ip)) ws.set(ip, v)
    } else {
      throw new Error(`could not parse weight line:"${line}" in weight file ${fileName}`)
    }
  }
  return domains
}

export class WeightedRR {
  readonly fileName: string
  readonly reloadMs: number
  readonly rand: Rand
  readonly log: Logger
  domains: Weights
  md5: string
  timer: NodeJS.Timeout | null
  constructor(fileName: string, reloadMs: number, rand: Rand, log: Logger) {
    this.fileName = fileName
    this.reloadMs = reloadMs
    this.rand = rand
    this.log = log
    this.domains = new Map()
    this.md5 = ''
    this.timer = null
  }

  /** Applies new file content; returns false when unchanged. Throws on a parse error. */
  apply(content: Buffer): boolean {
    const sum = createHash('md5').update(content).digest('hex')
    if (sum === this.md5) return false
    const domains = parseWeights(content.toString('utf8'), this.fileName)
    this.md5 = sum
    this.domains = domains
    this.log.info(`Successfully reloaded weight file ${this.fileName}`)
    return true
  }

  /** Reads the file now (setup). 'missing' when it cannot be opened. Throws on parse errors. */
  loadSync(): 'ok' | 'missing' {
    let content: Buffer
    try {
      content = readFileSync(this.fileName)
    } catch {
      return 'missing'
    }
    this.apply(content)
    return 'ok'
  }

  async poll(): Promise<void> {
    let content: Buffer
    try {
      content = await readFile(this.fileName)
    } catch {
      this.log.error('weight file open error')
      return
    }
    try {
      this.apply(content)
    } catch (e) {
      this.log.error((e as Error).message)
    }
  }

  start(): void {
    if (this.reloadMs <= 0 || this.timer !== null) return
    this.timer = setInterval(() => void this.poll(), this.reloadMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** Only for A, AAAA and SRV questions, on answer and additional. */
  shuffle(msg: Message): void {
    const qt = msg.question[0]?.type
    if (qt !== Type.A && qt !== Type.AAAA && qt !== Type.SRV) return
    msg.answer = this.section(msg.answer)
    msg.additional = this.section(msg.additional)
  }

  section(input: RR[]): RR[] {
    const cname: RR[] = []
    const address: RR[] = []
    const mx: RR[] = []
    const rest: RR[] = []
    for (const r of input) {
      if (r.type === Type.CNAME) cname.push(r)
      else if (r.type === Type.A || r.type === Type.AAAA) address.push(r)
      else if (r.type === Type.MX) mx.push(r)
      else rest.push(r)
    }
    if (address.length === 0) return input
    const top = this.topIndex(address)
    if (top > 0) {
      const t = address[0]!
      address[0] = address[top]!
      address[top] = t
    }
    return cname.concat(rest, address, mx)
  }

  topIndex(address: RR[]): number {
    let sum = 0
    const items: Array<{ index: number; weight: number }> = []
    for (let i = 0; i < address.length; i++) {
      const r = address[i]!
      let weight = 1
      const ws = this.domains.get(r.name.toLowerCase())
      if (ws !== undefined && typeof r.data === 'string') {
        const ip = canonicalIP(r.data)
        const v = ip === null ? undefined : ws.get(ip)
        if (v !== undefined) weight = v
      }
      items.push({ index: i, weight })
      sum += weight
    }
    items.sort((a, b) => b.weight - a.weight)
    const v = this.rand() % sum
    let psum = 0
    for (const it of items) {
      psum += it.weight
      if (v < psum) return it.index
    }
    return -1
  }
}
