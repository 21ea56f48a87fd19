// HTTP endpoints of health, ready and prometheus. One http.Server per distinct address; its
// route table is swapped on reload so /health never flaps while a new configuration loads.

import http from 'node:http'
import type { HttpRoute } from '../pluginkit/types.js'

/** ":8080" → {host: undefined, port: 8080}; "localhost:9153"; "[::1]:8181". */
export function parseHostPort(address: string): { host: string | undefined; port: number } {
  let host: string
  let portText: string
  if (address.startsWith('[')) {
    const end = address.indexOf(']')
    host = address.slice(1, end)
    portText = address.slice(end + 2)
  } else {
    const c = address.lastIndexOf(':')
    host = c < 0 ? address : address.slice(0, c)
    portText = c < 0 ? '' : address.slice(c + 1)
  }
  const port = Number(portText)
  if (!/^\d{1,5}$/.test(portText) || port > 65535) throw new Error(`invalid address "${address}": expected [HOST]:PORT`)
  return { host: host === '' ? undefined : host, port }
}

export class HttpEndpoint {
  readonly address: string
  private routes = new Map<string, HttpRoute>()
  private server: http.Server | null = null
  port = 0
  constructor(address: string) {
    this.address = address
  }
  setRoutes(routes: HttpRoute[]): void {
    const m = new Map<string, HttpRoute>()
    for (const r of routes) m.set(r.path, r)
    this.routes = m
  }
  async listen(): Promise<void> {
    const { host, port } = parseHostPort(this.address)
    const srv = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!
      const route = this.routes.get(path)
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' })
        res.end('404 page not found\n')
        return
      }
      Promise.resolve()
        .then(() => route.handle())
        .then(
          (r) => {
            res.writeHead(r.status, { 'content-type': r.contentType ?? 'text/plain; charset=utf-8' })
            res.end(r.body)
          },
          (e: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' })
            res.end(String(e))
          },
        )
    })
    srv.keepAliveTimeout = 5000
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(host === undefined ? { port } : { port, host }, () => {
        srv.off('error', reject)
        resolve()
      })
    })
    srv.on('error', () => {})
    const a = srv.address()
    if (a && typeof a === 'object') this.port = a.port
    this.server = srv
  }
  async close(): Promise<void> {
    const s = this.server
    this.server = null
    if (!s) return
    s.closeAllConnections()
    await new Promise<void>((r) => s.close(() => r()))
  }
}
