// Child processes of the real CLI, started and always ended by PID; free ports from the kernel.
import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

export const repoRoot = join(fileURLToPath(import.meta.url), '../../../..')
export const cli = join(repoRoot, 'bin/clusterdns')

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const u = dgram.createSocket('udp4')
    await new Promise<void>((r) => u.bind(0, '127.0.0.1', () => r()))
    const port = u.address().port
    const ok = await new Promise<boolean>((r) => {
      const t = net.createServer()
      t.once('error', () => r(false))
      t.listen(port, '127.0.0.1', () => t.close(() => r(true)))
    })
    u.close()
    if (ok) return port
  }
  throw new Error('no free port found')
}

export interface Proc {
  child: ChildProcess
  out: () => string
  /** Resolves when the output contains `text` (rejects after timeoutMs). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>
  exit: Promise<number | null>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export function startCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  child.stdout!.on('data', (d) => (text += String(d)))
  child.stderr!.on('data', (d) => (text += String(d)))
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  const proc: Proc = {
    child,
    out: () => text,
    waitFor(want, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now()
        const tick = (): void => {
          const hit = typeof want === 'string' ? text.includes(want) : want.test(text)
          if (hit) return resolve()
          if (child.exitCode !== null) return reject(new Error(`process exited (${child.exitCode}) before "${want}":\n${text}`))
          if (Date.now() - started > timeoutMs) return reject(new Error(`timeout waiting for "${want}":\n${text}`))
          setTimeout(tick, 20)
        }
        tick()
      })
    },
    exit,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.pid) process.kill(child.pid, signal)
      const t = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000)
      const code = await exit
      clearTimeout(t)
      return code
    },
  }
  return proc
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; out: string }> {
  const p = startCli(args, opts.cwd ? { cwd: opts.cwd } : {})
  const t = setTimeout(() => p.child.pid && process.kill(p.child.pid, 'SIGKILL'), opts.timeoutMs ?? 15_000)
  const code = await p.exit
  clearTimeout(t)
  return { code, out: p.out() }
}
