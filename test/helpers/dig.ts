// Runs the real `dig` / `kdig` clients and parses their output (header status, flags, sections).
import { execFile } from 'node:child_process'

export interface DigRecord {
  name: string
  ttl: number
  class: string
  type: string
  data: string
}

export interface DigResult {
  status: string
  flags: string[]
  answer: DigRecord[]
  authority: DigRecord[]
  additional: DigRecord[]
  raw: string
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message} ${stderr}`))
      else resolve(stdout)
    })
  })
}

function parseRecord(line: string): DigRecord | null {
  const parts = line.trim().split(/\s+/)
  if (parts.length < 4) return null
  const [name, ttl, klass, type, ...rest] = parts
  return { name: name!, ttl: Number(ttl), class: klass!, type: type!, data: rest.join(' ') }
}

/** Parses dig's (or kdig's) default multi-section output. */
export function parseDig(out: string): DigResult {
  const r: DigResult = { status: '', flags: [], answer: [], authority: [], additional: [], raw: out }
  const st = /status: ([A-Z]+)/.exec(out)
  if (st) r.status = st[1]!
  const fl = /;; flags: ([a-z ]+);/.exec(out) ?? /;; Flags: ([a-z ]+);/.exec(out)
  if (fl) r.flags = fl[1]!.trim().split(/\s+/)
  let section: DigRecord[] | null = null
  for (const line of out.split('\n')) {
    const l = line.trim()
    if (/^;; ANSWER SECTION:/i.test(l)) section = r.answer
    else if (/^;; AUTHORITY SECTION:/i.test(l)) section = r.authority
    else if (/^;; ADDITIONAL SECTION:/i.test(l)) section = r.additional
    else if (l === '' || l.startsWith(';;')) {
      if (l === '') section = null
    } else if (section && !l.startsWith(';')) {
      const rec = parseRecord(l)
      if (rec) section.push(rec)
    }
  }
  return r
}

/** dig @127.0.0.1 -p PORT ARGS... (+tries=1 +time=2 so a lost reply fails fast). */
export async function dig(port: number, args: string[], server = '127.0.0.1'): Promise<DigResult> {
  const out = await run('dig', [`@${server}`, '-p', String(port), '+tries=1', '+time=2', ...args], 10_000)
  return parseDig(out)
}

/** kdig (Knot) — used for DNS-over-TLS (+tls). */
export async function kdig(port: number, args: string[], server = '127.0.0.1'): Promise<DigResult> {
  const out = await run('kdig', [`@${server}`, '-p', String(port), '+retry=0', '+time=2', ...args], 10_000)
  return parseDig(out)
}
