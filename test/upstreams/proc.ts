// Real upstream DNS servers (NSD, Unbound) for tests: started on 127.0.0.1 with ports chosen at
// run time and a config that never sends anything elsewhere; always ended by PID.
import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeMessage } from '../../src/dns/message.js'
import { Class, Flag, Type } from '../../src/dns/constants.js'
import { freePort } from '../helpers/proc.js'

export interface RealUpstream {
  port: number
  /** DNS-over-TLS port (unbound only). */
  tlsPort: number
  dir: string
  child: ChildProcess
  stop(): Promise<void>
}

/** Whether a binary is installed (tests skip, with a reason, when it is not). */
export function have(bin: string): boolean {
  return ['/usr/sbin/', '/usr/bin/', '/sbin/', '/bin/'].some((d) => existsSync(d + bin))
}

/** One UDP query; resolves true when any reply comes within timeoutMs. */
export function probeUdp(port: number, name: string, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4')
    const t = setTimeout(() => {
      s.close()
      resolve(false)
    }, timeoutMs)
    s.on('error', () => {})
    s.on('message', () => {
      clearTimeout(t)
      s.close()
      resolve(true)
    })
    s.send(
      encodeMessage({ id: 7, flags: Flag.RD, question: [{ name, type: Type.SOA, class: Class.IN }], answer: [], authority: [], additional: [], edns: null }),
      port,
      '127.0.0.1',
    )
  })
}

async function waitReady(child: ChildProcess, port: number, name: string, out: () => string): Promise<void> {
  // Bounded: at most 100 probes of ≤ 300 ms.
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`upstream exited (${child.exitCode}): ${out()}`)
    if (await probeUdp(port, name)) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`upstream on port ${port} did not answer: ${out()}`)
}

function launch(cmd: string, args: string[], dir: string, port: number, tlsPort: number, probeName: string): Promise<RealUpstream> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  child.stdout!.on('data', (d) => (text += String(d)))
  child.stderr!.on('data', (d) => (text += String(d)))
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const up: RealUpstream = {
    port,
    tlsPort,
    dir,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGTERM')
      const t = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL')
      }, 5000)
      await exited
      clearTimeout(t)
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return waitReady(child, port, probeName, () => text).then(
    () => up,
    async (e: unknown) => {
      await up.stop()
      throw e
    },
  )
}

/** NSD, authoritative for `zone` from `zoneText`, without response rate limiting. */
export async function startNsd(zone: string, zoneText: string): Promise<RealUpstream> {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-'))
  const port = await freePort()
  writeFileSync(join(dir, 'zone.db'), zoneText)
  writeFileSync(
    join(dir, 'nsd.conf'),
    `server:
  ip-address: 127.0.0.1@${port}
  port: ${port}
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  database: ""
  zonelistfile: "${dir}/zone.list"
  xfrdfile: "${dir}/xfrd.state"
  xfrdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  logfile: "${dir}/nsd.log"
  verbosity: 0
  do-ip6: no
  hide-version: yes
  refuse-any: no
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: ${zone}
  zonefile: "${dir}/zone.db"
`,
  )
  return launch('nsd', ['-d', '-c', join(dir, 'nsd.conf')], dir, port, 0, zone)
}

/**
 * Unbound answering only from local data (`local-zone: "." static`, so it never recurses or
 * sends a packet anywhere), plain DNS on `port` and DNS-over-TLS on `tlsPort` with the given
 * certificate and key.
 */
export async function startUnbound(localData: string[], certFile: string, keyFile: string): Promise<RealUpstream> {
  const dir = mkdtempSync(join(tmpdir(), 'unbound-'))
  const port = await freePort()
  let tlsPort = await freePort()
  for (let i = 0; i < 5 && tlsPort === port; i++) tlsPort = await freePort()
  writeFileSync(
    join(dir, 'unbound.conf'),
    `server:
  interface: 127.0.0.1@${port}
  interface: 127.0.0.1@${tlsPort}
  tls-port: ${tlsPort}
  tls-service-key: "${keyFile}"
  tls-service-pem: "${certFile}"
  port: ${port}
  do-ip6: no
  do-tcp: yes
  num-threads: 1
  so-reuseport: no
  access-control: 127.0.0.0/8 allow
  outgoing-interface: 127.0.0.1
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  use-syslog: no
  logfile: "${dir}/unbound.log"
  verbosity: 0
  module-config: "iterator"
  local-zone: "." static
${localData.map((d) => `  local-data: "${d}"`).join('\n')}
remote-control:
  control-enable: no
`,
  )
  return launch('unbound', ['-d', '-p', '-c', join(dir, 'unbound.conf')], dir, port, tlsPort, '.')
}
