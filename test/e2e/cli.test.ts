// The command line as an operator uses it: flags, check, startup lines, signals, reload, pidfile.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dig } from '../helpers/dig.js'
import { freePort, repoRoot, runCli, startCli } from '../helpers/proc.js'

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'clusterdns-cli-'))
}

describe('flags', () => {
  test('-version prints the version', async () => {
    const r = await runCli(['-version'])
    assert.equal(r.code, 0)
    assert.match(r.out, /^clusterdns-\d+\.\d+\.\d+/)
  })
  test('--help and -h print usage and exit 0', async () => {
    for (const f of ['--help', '-h', '-help']) {
      const r = await runCli([f])
      assert.equal(r.code, 0)
      assert.match(r.out, /Usage: clusterdns/)
      assert.match(r.out, /-conf FILE/)
    }
  })
  test('check --help prints its own usage', async () => {
    const r = await runCli(['check', '--help'])
    assert.equal(r.code, 0)
    assert.match(r.out, /Usage: clusterdns check/)
  })
  test('an unknown flag is an error with usage', async () => {
    const r = await runCli(['-nosuchflag'])
    assert.equal(r.code, 2)
    assert.match(r.out, /flag provided but not defined: -nosuchflag/)
  })
  test('-plugins lists plugins in execution order', async () => {
    const r = await runCli(['-plugins'])
    assert.equal(r.code, 0)
    const i = r.out.indexOf('dns.errors')
    const j = r.out.indexOf('dns.whoami')
    assert.ok(i > 0 && j > i, r.out)
  })
})

describe('check', () => {
  test('a good Corefile is OK', async () => {
    const d = tmp()
    writeFileSync(join(d, 'Corefile'), '.:1053 {\n  whoami\n  log\n}\n')
    const r = await runCli(['check', join(d, 'Corefile')])
    assert.equal(r.code, 0, r.out)
    assert.match(r.out, /OK/)
    rmSync(d, { recursive: true })
  })
  test('an unknown directive is rejected with file:line:col', async () => {
    const d = tmp()
    const f = join(d, 'Corefile')
    writeFileSync(f, '.:1053 {\n  whoami\n  nosuchplugin foo\n}\n')
    const r = await runCli(['check', f])
    assert.equal(r.code, 1)
    assert.ok(r.out.includes(`${f}:3:3`), r.out)
    assert.match(r.out, /Unknown directive 'nosuchplugin'; known directives: root, bind, .*whoami/)
    rmSync(d, { recursive: true })
  })
  test('errors in imported files name the imported file', async () => {
    const d = tmp()
    writeFileSync(join(d, 'extra.conf'), 'example.org {\n  whoami extra\n}\n')
    writeFileSync(join(d, 'Corefile'), 'import extra.conf\n')
    const r = await runCli(['check', join(d, 'Corefile')])
    assert.equal(r.code, 1)
    assert.ok(r.out.includes(`${join(d, 'extra.conf')}:2:`), r.out)
    rmSync(d, { recursive: true })
  })
})

describe('serving', () => {
  test('startup lines, pidfile, SIGUSR1 reload (bad reload keeps serving), SIGTERM', async () => {
    const d = tmp()
    const port = await freePort()
    const conf = join(d, 'Corefile')
    const pidfile = join(d, 'pid')
    writeFileSync(conf, `example.org:${port} {\n  bind 127.0.0.1\n  whoami\n}\n`)
    const p = startCli(['-conf', conf, '-pidfile', pidfile])
    try {
      await p.waitFor(`example.org.:${port} on 127.0.0.1`)
      await p.waitFor('clusterdns-')
      assert.equal(readFileSync(pidfile, 'utf8').trim(), String(p.child.pid))
      assert.equal((await dig(port, ['www.example.org', 'A'])).status, 'NOERROR')
      assert.equal((await dig(port, ['example.com', 'A'])).status, 'REFUSED')

      // a good reload adds a zone
      writeFileSync(conf, `example.org:${port} example.com:${port} {\n  bind 127.0.0.1\n  whoami\n}\n`)
      process.kill(p.child.pid!, 'SIGUSR1')
      await p.waitFor('Reloaded configuration')
      assert.equal((await dig(port, ['example.com', 'A'])).status, 'NOERROR')

      // a bad reload is refused and the old configuration keeps serving
      writeFileSync(conf, `example.org:${port} {\n  bind 127.0.0.1\n  whoami\n  bogus\n}\n`)
      process.kill(p.child.pid!, 'SIGUSR1')
      await p.waitFor('reload failed')
      assert.match(p.out(), new RegExp(`${conf.replace(/[/.]/g, '\\$&')}:4:3`))
      assert.equal((await dig(port, ['example.com', 'A'])).status, 'NOERROR')

      assert.equal(await p.stop('SIGTERM'), 0)
      assert.equal(existsSync(pidfile), false)
    } finally {
      await p.stop('SIGKILL')
      rmSync(d, { recursive: true })
    }
  })

  test('a port already in use fails startup with exit 1 and a clear message', async () => {
    const port = await freePort()
    const d = tmp()
    const conf = join(d, 'Corefile')
    writeFileSync(conf, `.:${port} {\n  bind 127.0.0.1\n  whoami\n}\n`)
    const a = startCli(['-conf', conf])
    try {
      await a.waitFor('clusterdns-')
      const b = await runCli(['-conf', conf])
      assert.equal(b.code, 1)
      assert.match(b.out, /EADDRINUSE|address already in use/)
    } finally {
      await a.stop()
      rmSync(d, { recursive: true })
    }
  })

  test('npm start default: examples/Corefile answers the README query', async () => {
    // Same file as `npm start`, with its port 1053 swapped for a free one (tests pick ports at run time).
    const port = await freePort()
    const d = tmp()
    const conf = join(d, 'Corefile')
    writeFileSync(conf, readFileSync(join(repoRoot, 'examples/Corefile'), 'utf8').replaceAll(':1053', `:${port}`))
    const p = startCli(['-conf', conf], { cwd: repoRoot })
    try {
      await p.waitFor('clusterdns-')
      const r = await dig(port, ['kubernetes.default.svc.cluster.local'])
      assert.equal(r.status, 'NOERROR')
      assert.equal(r.answer[0]?.data, '10.96.0.1')
    } finally {
      await p.stop()
      rmSync(d, { recursive: true })
    }
  })
})

describe('health, ready and lameduck', () => {
  async function get(port: number, path: string): Promise<number> {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${path}`)
      await r.text()
      return r.status
    } catch {
      return 0 // connection refused
    }
  }
  test('SIGTERM: /ready goes down, DNS and /health keep serving for the lameduck, then exit 0', async () => {
    const [dns, hp, rp] = [await freePort(), await freePort(), await freePort()]
    const d = tmp()
    const conf = join(d, 'Corefile')
    writeFileSync(
      conf,
      `.:${dns} {\n  bind 127.0.0.1\n  health 127.0.0.1:${hp} {\n    lameduck 1500ms\n  }\n  ready 127.0.0.1:${rp}\n  whoami\n}\n`,
    )
    const p = startCli(['-conf', conf])
    try {
      await p.waitFor('clusterdns-')
      assert.equal(await get(hp, '/health'), 200)
      assert.equal(await get(rp, '/ready'), 200)
      assert.equal(await get(hp, '/nope'), 404)
      process.kill(p.child.pid!, 'SIGTERM')
      await p.waitFor('lameduck')
      assert.notEqual(await get(rp, '/ready'), 200)
      assert.equal(await get(hp, '/health'), 200)
      assert.equal((await dig(dns, ['example.org', 'A'])).status, 'NOERROR')
      const t0 = Date.now()
      assert.equal(await p.exit, 0)
      assert.ok(Date.now() - t0 > 500, 'lameduck kept the process up')
    } finally {
      await p.stop('SIGKILL')
      rmSync(d, { recursive: true })
    }
  })
})
