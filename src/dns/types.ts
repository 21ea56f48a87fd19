// The decoded message model. Names are presentation-form text, fully qualified (trailing dot),
// with RFC 1035 escapes (\. \\ \DDD) for bytes that are not plain label characters; the letter
// case is kept as on the wire. Compare names with the helpers in name.ts, never with ===.

export interface Question {
  name: string
  type: number
  class: number
}

export interface MX {
  preference: number
  exchange: string
}
export interface SRV {
  priority: number
  weight: number
  port: number
  target: string
}
export interface SOA {
  mname: string
  rname: string
  serial: number
  refresh: number
  retry: number
  expire: number
  minimum: number
}
export interface HINFO {
  cpu: string // latin1 text of the character-string
  os: string
}

/**
 * RDATA by type:
 * - A, AAAA: address text ("10.0.0.1", "fd00::1")
 * - NS, CNAME, PTR, DNAME: a name
 * - MX, SRV, SOA, HINFO: the objects above
 * - TXT: the character-strings, each a Buffer (≤ 255 bytes)
 * - anything else (RFC 3597): the raw RDATA bytes
 */
export type RData = string | MX | SRV | SOA | HINFO | Buffer[] | Buffer

export interface RR {
  name: string
  type: number
  class: number
  ttl: number
  data: RData
}

export interface EdnsOption {
  code: number
  data: Buffer
}

/** The OPT pseudo-record, kept apart from the additional section. */
export interface Edns {
  udpSize: number // the OPT CLASS field
  extRcode: number // upper 8 bits of the 12-bit rcode
  version: number
  flags: number // 16 bits; DO = 0x8000
  options: EdnsOption[]
}

export interface Message {
  id: number
  /** The whole 16-bit flags word: QR, opcode (bits 11-14), AA, TC, RD, RA, Z, AD, CD, low 4 rcode bits. */
  flags: number
  question: Question[]
  answer: RR[]
  authority: RR[]
  /** Never holds the OPT record: that is `edns`. */
  additional: RR[]
  edns: Edns | null
}

export const EDNS_DO = 0x8000

/** Thrown by every decoder for malformed input, and only by them. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError'
  readonly code = 'ERR_DNS_DECODE'
  constructor(
    message: string,
    /** Offset where decoding failed. */
    readonly offset: number,
  ) {
    super(message)
  }
}

/** Thrown when a message cannot be encoded (bad name, bad address text, over-long data). */
export class EncodeError extends Error {
  override readonly name = 'EncodeError'
  readonly code = 'ERR_DNS_ENCODE'
}
