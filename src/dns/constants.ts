// DNS code tables (RFC 1035, 2136, 2671/6891, 3596, 2782, 4034, 8482 ...), named by RFC mnemonics.

export const Type = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  SVCB: 64,
  HTTPS: 65,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
  CAA: 257,
} as const

export const Class = {
  IN: 1,
  CH: 3,
  HS: 4,
  NONE: 254,
  ANY: 255,
} as const

export const Rcode = {
  NoError: 0,
  FormErr: 1,
  ServFail: 2,
  NXDomain: 3,
  NotImp: 4,
  Refused: 5,
  YXDomain: 6,
  YXRRSet: 7,
  NXRRSet: 8,
  NotAuth: 9,
  NotZone: 10,
  BadVers: 16,
  BadKey: 17,
  BadTime: 18,
  BadMode: 19,
  BadName: 20,
  BadAlg: 21,
  BadTrunc: 22,
  BadCookie: 23,
} as const

export const Opcode = {
  Query: 0,
  IQuery: 1,
  Status: 2,
  Notify: 4,
  Update: 5,
} as const

/** Bits of the 16-bit flags word (header bytes 2-3). Opcode and rcode live in it too. */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  Z: 0x0040,
  AD: 0x0020,
  CD: 0x0010,
} as const

export const HEADER_SIZE = 12

const typeNames = new Map<number, string>()
const typeCodes = new Map<string, number>()
for (const [k, v] of Object.entries(Type)) {
  typeNames.set(v, k)
  typeCodes.set(k, v)
}
const classNames = new Map<number, string>()
const classCodes = new Map<string, number>()
for (const [k, v] of Object.entries(Class)) {
  classNames.set(v, k)
  classCodes.set(k, v)
}
const rcodeNames = new Map<number, string>([
  [0, 'NOERROR'], [1, 'FORMERR'], [2, 'SERVFAIL'], [3, 'NXDOMAIN'], [4, 'NOTIMP'], [5, 'REFUSED'],
  [6, 'YXDOMAIN'], [7, 'YXRRSET'], [8, 'NXRRSET'], [9, 'NOTAUTH'], [10, 'NOTZONE'], [16, 'BADSIG'],
  [17, 'BADKEY'], [18, 'BADTIME'], [19, 'BADMODE'], [20, 'BADNAME'], [21, 'BADALG'], [22, 'BADTRUNC'],
  [23, 'BADCOOKIE'],
])
const rcodeCodes = new Map<string, number>()
for (const [k, v] of rcodeNames) rcodeCodes.set(v, k)
rcodeCodes.set('BADVERS', 16)

/** "A", "AAAA", ... or "TYPE123" (RFC 3597) for unknown codes. */
export function typeToString(t: number): string {
  return typeNames.get(t) ?? `TYPE${t}`
}
/** Accepts mnemonics (any case) and "TYPEnnn"; returns undefined if neither. */
export function stringToType(s: string): number | undefined {
  const u = s.toUpperCase()
  const t = typeCodes.get(u)
  if (t !== undefined) return t
  if (/^TYPE\d{1,5}$/.test(u)) {
    const n = Number(u.slice(4))
    if (n <= 0xffff) return n
  }
  return undefined
}
export function classToString(c: number): string {
  return classNames.get(c) ?? `CLASS${c}`
}
export function stringToClass(s: string): number | undefined {
  const u = s.toUpperCase()
  const c = classCodes.get(u)
  if (c !== undefined) return c
  if (/^CLASS\d{1,5}$/.test(u)) {
    const n = Number(u.slice(5))
    if (n <= 0xffff) return n
  }
  return undefined
}
/** "NOERROR", "NXDOMAIN", ... or the number as text. */
export function rcodeToString(r: number): string {
  return rcodeNames.get(r) ?? String(r)
}
export function stringToRcode(s: string): number | undefined {
  const u = s.toUpperCase()
  const r = rcodeCodes.get(u)
  if (r !== undefined) return r
  if (/^\d{1,4}$/.test(u) && Number(u) <= 4095) return Number(u)
  return undefined
}
