// HTTP GETs to the API server for LIST pages and WATCH streams, with the client-side limits of
// `apiserver_qps` / `apiserver_burst` (token bucket per request) and `apiserver_max_inflight`
// (concurrent LIST pages and watch *openings*: a watch holds a slot until its response headers
// arrive, not for its whole life, else a small limit would starve the other kinds).
// node:http(s) directly (not node-fetch) so watch bodies are consumed chunk by chunk and aborted
// cleanly.

import http from 'node:http'
import https from 'node:https'
import { StringDecoder } from 'node:string_decoder'
import { VERSION } from '../version.js'
import type { Connection } from './config.js'

export class ApiError extends Error {
  override name = 'ApiError'
  readonly code = 'ERR_KUBE_API'
  /** HTTP status, or 0 for transport errors. */
  readonly status: number
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options)
    this.status = status
  }
}

export interface Limits {
  readonly qps: number | null
  readonly burst: number | null
  readonly maxInflight: number | null
}

function abortError(): Error {
  return new ApiError('aborted', 0)
}

/** Waits ms, or less when aborted (then rejects). */
export function delay(ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(abortError())
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(abortError())
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Token bucket: `qps` tokens per second, at most `burst` stored. */
class TokenBucket {
  private tokens: number
  private last: number
  private readonly qps: number
  private readonly burst: number
  constructor(qps: number, burst: number) {
    this.qps = qps
    this.burst = Math.max(1, burst)
    this.tokens = this.burst
    this.last = performance.now()
  }
  async take(signal: AbortSignal | null): Promise<void> {
    for (;;) {
      const now = performance.now()
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps)
      this.last = now
      if (this.tokens >= 1) {
        this.tokens -= 1
        return
      }
      await delay(Math.ceil(((1 - this.tokens) / this.qps) * 1000), signal)
    }
  }
}

/** Counting semaphore with abortable waits. */
class Semaphore {
  private free: number
  private readonly waiters: Array<() => void> = []
  constructor(n: number) {
    this.free = n
  }
  acquire(signal: AbortSignal | null): Promise<void> {
    if (this.free > 0) {
      this.free--
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        const i = this.waiters.indexOf(grant)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(abortError())
      }
      if (signal?.aborted === true) return reject(abortError())
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(grant)
    })
  }
  release(): void {
    const w = this.waiters.shift()
    if (w !== undefined) w()
    else this.free++
  }
}

export interface GetOptions {
  readonly signal: AbortSignal
  /** Give up when the response headers took longer. */
  readonly headersTimeoutMs: number
}

/** A response whose headers arrived; the body is still to be read (or destroyed). */
export interface ApiResponse {
  readonly status: number
  readonly body: http.IncomingMessage
}

export class ApiClient {
  readonly conn: Connection
  private readonly bucket: TokenBucket | null
  private readonly inflight: Semaphore | null
  /** Requests sent (tests, metrics). */
  requests: number

  constructor(conn: Connection, limits: Limits) {
    this.conn = conn
    this.bucket =
      limits.qps !== null && limits.qps > 0 ? new TokenBucket(limits.qps, limits.burst ?? Math.ceil(limits.qps * 2)) : null
    this.inflight = limits.maxInflight !== null && limits.maxInflight > 0 ? new Semaphore(limits.maxInflight) : null
    this.requests = 0
  }

  /** GET path?query; resolves once the status line and headers arrived. */
  async get(path: string, query: URLSearchParams, o: GetOptions): Promise<ApiResponse> {
    if (this.bucket !== null) await this.bucket.take(o.signal)
    if (this.inflight !== null) await this.inflight.acquire(o.signal)
    try {
      return await this.send(path, query, o)
    } finally {
      this.inflight?.release()
    }
  }

  /** GET and parse a JSON body (LIST pages, error statuses). */
  async getJSON(path: string, query: URLSearchParams, o: GetOptions, bodyTimeoutMs: number): Promise<{ status: number; body: unknown; bytes: number }> {
    if (this.bucket !== null) await this.bucket.take(o.signal)
    if (this.inflight !== null) await this.inflight.acquire(o.signal)
    try {
      const r = await this.send(path, query, o)
      const text = await readBody(r.body, bodyTimeoutMs)
      let body: unknown = null
      try {
        body = JSON.parse(text)
      } catch (e) {
        if (r.status === 200) throw new ApiError(`GET ${path}: invalid JSON: ${(e as Error).message}`, r.status, { cause: e })
      }
      return { status: r.status, body, bytes: text.length }
    } finally {
      this.inflight?.release()
    }
  }

  private async send(path: string, query: URLSearchParams, o: GetOptions): Promise<ApiResponse> {
    const auth = await this.conn.auth()
    const qs = query.toString()
    const url = new URL(this.conn.server + path + (qs === '' ? '' : '?' + qs))
    this.requests++
    return new Promise<ApiResponse>((resolve, reject) => {
      const mod = url.protocol === 'https:' ? https : http
      const req = mod.request(url, {
        method: 'GET',
        agent: auth.agent,
        headers: { Accept: 'application/json', 'User-Agent': `clusterdns/${VERSION}`, ...auth.headers },
        signal: o.signal,
      })
      const timer = setTimeout(() => {
        req.destroy(new ApiError(`GET ${path}: no response within ${o.headersTimeoutMs}ms`, 0))
      }, o.headersTimeoutMs)
      req.on('error', (e) => {
        clearTimeout(timer)
        reject(e instanceof ApiError ? e : new ApiError(`GET ${url.pathname}: ${e.message}`, 0, { cause: e }))
      })
      req.on('socket', (s) => {
        s.setKeepAlive(true, 30_000)
      })
      req.on('response', (res) => {
        clearTimeout(timer)
        res.on('error', () => {}) // readers attach their own; never an unhandled 'error'
        resolve({ status: res.statusCode ?? 0, body: res })
      })
      req.end()
    })
  }
}

/**
 * Reads a whole (page-sized) body as UTF-8. Each chunk is decoded as it arrives and the pieces
 * joined once: no page-sized Buffer (Buffer.concat) is ever allocated. Those come from malloc,
 * and a MB-sized one per page raises glibc's mmap threshold so that the following ones land in
 * the brk heap, which then stays fragmented and resident after the initial sync.
 */
export function readBody(res: http.IncomingMessage, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: string[] = []
    const dec = new StringDecoder('utf8')
    const timer = setTimeout(() => res.destroy(new ApiError(`response body not complete within ${timeoutMs}ms`, 0)), timeoutMs)
    res.on('data', (c: Buffer) => parts.push(dec.write(c)))
    res.on('end', () => {
      clearTimeout(timer)
      parts.push(dec.end())
      resolve(parts.join(''))
    })
    res.on('error', (e) => {
      clearTimeout(timer)
      reject(e instanceof ApiError ? e : new ApiError(`reading response: ${e.message}`, 0, { cause: e }))
    })
    res.on('close', () => {
      clearTimeout(timer)
      if (!res.complete) reject(new ApiError('connection closed before the response was complete', 0))
    })
  })
}
