// The record reorderings of CoreDNS plugin/loadbalance, on decoded sections (RR arrays), in place
// or returning a new array. The random source is injected (tests pin it).

import { Type } from '../../dns/constants.js'
import type { Message, RR } from '../../dns/types.js'
import { cidrContains, parseIP, type Cidr } from '../../lib/ip.js'

/** A random non-negative 32-bit integer (CoreDNS uses dns.Id()). */
export type Rand = () => number

export const defaultRand: Rand = () => (Math.random() * 0x100000000) >>> 0

/** CoreDNS roundRobinShuffle: a swap for two records, a Fisher-Yates-like pass otherwise. */
export function shuffleInPlace(records: RR[], rand: Rand): void {
  const l = records.length
  if (l <= 1) return
  if (l === 2) {
    if (rand() % 2 === 0) {
      const t = records[0]!
      records[0] = records[1]!
      records[1] = t
    }
    return
  }
  for (let j = 0; j < l; j++) {
    const p = j + (rand() % (l - j))
    if (p === j) continue
    const t = records[j]!
    records[j] = records[p]!
    records[p] = t
  }
}

/**
 * One section: only A or only AAAA records → shuffled in place; otherwise CNAMEs first, then the
 * other types in their order, then the shuffled A/AAAA, then the shuffled MX.
 */
export function roundRobin(input: RR[], rand: Rand): RR[] {
  const n = input.length
  if (n <= 1) return input
  const first = input[0]!.type
  let allSame = true
  for (let i = 1; i < n; i++) {
    if (input[i]!.type !== first) {
      allSame = false
      break
    }
  }
  if (allSame && (first === Type.A || first === Type.AAAA)) {
    shuffleInPlace(input, rand)
    return input
  }
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
  shuffleInPlace(address, rand)
  shuffleInPlace(mx, rand)
  return cname.concat(rest, address, mx)
}

/** round_robin applied to answer, authority and additional separately. */
export function randomShuffle(msg: Message, rand: Rand): void {
  msg.answer = roundRobin(msg.answer, rand)
  msg.authority = roundRobin(msg.authority, rand)
  msg.additional = roundRobin(msg.additional, rand)
}

function addressBytes(r: RR): Uint8Array | null {
  if ((r.type !== Type.A && r.type !== Type.AAAA) || typeof r.data !== 'string') return null
  return parseIP(r.data)
}

/**
 * `prefer`: CNAMEs, then addresses inside the prefixes (in prefix order, then record order), then
 * the other addresses, then MX, then the rest (CoreDNS reorderRecords).
 */
export function reorderPreferred(records: RR[], subnets: readonly Cidr[]): RR[] {
  const cname: RR[] = []
  const address: RR[] = []
  const mx: RR[] = []
  const rest: RR[] = []
  for (const r of records) {
    if (r.type === Type.CNAME) cname.push(r)
    else if (r.type === Type.A || r.type === Type.AAAA) address.push(r)
    else if (r.type === Type.MX) mx.push(r)
    else rest.push(r)
  }
  const matched: RR[] = []
  const seen = new Array<boolean>(address.length).fill(false)
  for (const subnet of subnets) {
    for (let i = 0; i < address.length; i++) {
      if (seen[i]) continue
      const ip = addressBytes(address[i]!)
      if (ip !== null && cidrContains(subnet, ip)) {
        matched.push(address[i]!)
        seen[i] = true
      }
    }
  }
  for (let i = 0; i < address.length; i++) if (!seen[i]) matched.push(address[i]!)
  return cname.concat(matched, mx, rest)
}

/** `prefer` on answer and additional (not authority, as CoreDNS). */
export function preferSubnets(msg: Message, subnets: readonly Cidr[]): void {
  msg.answer = reorderPreferred(msg.answer, subnets)
  msg.additional = reorderPreferred(msg.additional, subnets)
}
