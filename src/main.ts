// clusterdns command line: CoreDNS's flags (-conf, -dns.port, -pidfile, -plugins, -quiet,
// -version) plus `clusterdns check FILE`. Single-dash flags as CoreDNS (Go flag package) takes
// them; double dashes and -flag=value work too.

import { readFileSync, existsSync, writeFileSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { Server } from './server/instance.js'
import { loadConfig } from './server/config.js'
import { Logger } from './log/logger.js'
import { PLUGINS } from './plugins/index.js'
import { VERSION } from './version.js'

const USAGE = `Usage: clusterdns [flags]
       clusterdns check [-dns.port PORT] FILE

A Kubernetes cluster DNS server and node-local DNS cache, configured by a CoreDNS Corefile.

Flags:
  -conf FILE       Corefile to load ("stdin" reads standard input); default ./Corefile,
                   else the built-in ".:PORT { whoami log }"
  -dns.port PORT   port for server keys without one (default 53); alias -p
  -pidfile FILE    write the process id here once serving; removed at exit
  -plugins         list the plugins, in execution order, and exit
  -quiet           do not print the zones and listeners at startup
  -version         print the version and exit
  -h, --help       this help

Signals: SIGTERM graceful stop (health lameduck), SIGUSR1 reload the Corefile, SIGINT stop.
Commands:
  check FILE       parse and set up FILE (and its imports) without serving; exit 1 on errors
`

const CHECK_USAGE = `Usage: clusterdns check [-dns.port PORT] FILE

Parses FILE with its imports and snippets, sets up every plugin and checks listener overlaps,
without opening any socket. Prints "FILE: OK" or every error as FILE:LINE:COL - message, and
exits 1 on errors.
`

interface Flags {
  conf: string | null
  port: number
  pidfile: string | null
  plugins: boolean
  quiet: boolean
  version: boolean
  help: boolean
  rest: string[]
}

export function parseFlags(argv: string[]): Flags {
  const f: Flags = { conf: null, port: 53, pidfile: null, plugins: false, quiet: false, version: false, help: false, rest: [] }
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!
    if (!a.startsWith('-') || a === '-') {
      f.rest.push(a)
      continue
    }
    a = a.replace(/^--?/, '')
    let value: string | undefined
    const eq = a.indexOf('=')
    if (eq >= 0) {
      value = a.slice(eq + 1)
      a = a.slice(0, eq)
    }
    const need = (): string => {
      if (value !== undefined) return value
      const v = argv[++i]
      if (v === undefined) throw new Error(`flag needs an argument: -${a}`)
      return v
    }
    const bool = (): boolean => value === undefined || value === 'true' || value === '1'
    switch (a) {
      case 'conf':
        f.conf = need()
        break
      case 'dns.port':
      case 'p': {
        const v = need()
        if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new Error(`invalid value "${v}" for flag -${a}: expected a port number`)
        f.port = Number(v)
        break
      }
      case 'pidfile':
        f.pidfile = need()
        break
      case 'plugins':
        f.plugins = bool()
        break
      case 'quiet':
        f.quiet = bool()
        break
      case 'version':
        f.version = bool()
        break
      case 'h':
      case 'help':
        f.help = true
        break
      default:
        throw new Error(`flag provided but not defined: -${a}`)
    }
  }
  return f
}

function readCorefile(conf: string | null, port: number): { text: string; file: string } {
  if (conf === 'stdin') return { text: readFileSync(0, 'utf8'), file: 'stdin' }
  if (conf !== null) return { text: readFileSync(conf, 'utf8'), file: resolve(conf) }
  if (existsSync('Corefile')) return { text: readFileSync('Corefile', 'utf8'), file: resolve('Corefile') }
  return { text: `.:${port} {\n    whoami\n    log\n}\n`, file: '<default>' }
}

async function check(argv: string[]): Promise<number> {
  const f = parseFlags(argv)
  if (f.help) {
    process.stdout.write(CHECK_USAGE)
    return 0
  }
  if (f.rest.length !== 1) {
    process.stderr.write(CHECK_USAGE)
    return 2
  }
  const path = f.rest[0]!
  const warnings: string[] = []
  const log = new Logger((_lvl, line) => void warnings.push(line))
  try {
    const text = readFileSync(path, 'utf8')
    loadConfig(text, resolve(path), { log, dnsPort: f.port })
  } catch (e) {
    for (const w of warnings) process.stderr.write(w + '\n')
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
  for (const w of warnings) process.stdout.write(w + '\n')
  process.stdout.write(`${path}: OK\n`)
  return 0
}

async function serve(f: Flags): Promise<void> {
  const log = new Logger()
  const { text, file } = readCorefile(f.conf, f.port)
  const canReload = f.conf !== 'stdin' && file !== '<default>'
  const server = new Server({
    log,
    dnsPort: f.port,
    quiet: f.quiet,
    ...(canReload ? { readConfig: () => readFileSync(file, 'utf8') } : {}),
  })
  try {
    await server.start(text, file)
  } catch (e) {
    log.fatal(e instanceof Error ? e.message : String(e))
    await server.shutdown(false)
    process.exit(1)
  }
  if (f.pidfile) {
    writeFileSync(f.pidfile, `${process.pid}\n`)
    const pidfile = f.pidfile
    process.on('exit', () => {
      try {
        rmSync(pidfile, { force: true })
      } catch {
        /* best effort */
      }
    })
  }
  let interrupts = 0
  process.on('SIGTERM', () => {
    log.info('SIGTERM: shutting down')
    void server.shutdown(true).then(() => process.exit(0))
  })
  process.on('SIGINT', () => {
    if (++interrupts > 1) process.exit(1)
    log.info('SIGINT: shutting down')
    void server.shutdown(false).then(() => process.exit(0))
  })
  process.on('SIGQUIT', () => process.exit(0))
  process.on('SIGHUP', () => {
    /* ignored, as CoreDNS */
  })
  process.on('SIGUSR1', () => {
    void server.reload('SIGUSR1')
  })
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'check') {
    process.exit(await check(argv.slice(1)))
  }
  let f: Flags
  try {
    f = parseFlags(argv)
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}`)
    process.exit(2)
  }
  if (f.help) {
    process.stdout.write(USAGE)
    return
  }
  if (f.version) {
    process.stdout.write(`clusterdns-${VERSION}\n${process.platform}/${process.arch}, node ${process.version}\n`)
    return
  }
  if (f.plugins) {
    process.stdout.write('Server types:\n  dns\n\nCaddyfile loaders:\n  flag\n  default\n\nOther plugins:\n')
    for (const p of PLUGINS) process.stdout.write(`  dns.${p.name}\n`)
    return
  }
  if (f.rest.length > 0) {
    process.stderr.write(`extra command line arguments: ${f.rest.join(' ')}\n${USAGE}`)
    process.exit(2)
  }
  await serve(f)
}

await main(process.argv.slice(2))
