// Starts an in-process clusterdns Server from a Corefile string on free ports (key port 0).
import { Server } from '../../src/server/instance.js'
import { memoryLogger } from '../../src/log/logger.js'

export interface TestServer {
  server: Server
  /** Port of the first dns:// listener (UDP and TCP share it). */
  port: number
  lines: string[]
  close(): Promise<void>
}

export async function startServer(corefile: string, file = 'Corefile', cwd?: string): Promise<TestServer> {
  const { log, lines } = memoryLogger()
  const server = new Server({ log, dnsPort: 0, ...(cwd ? { cwd } : {}), readConfig: () => corefile })
  await server.start(corefile, file)
  const first = [...server.listeners.values()][0]
  return {
    server,
    port: first ? first.port : 0,
    lines,
    close: () => server.shutdown(false),
  }
}
