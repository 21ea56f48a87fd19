// Leveled logger in CoreDNS's format: "[LEVEL] plugin/<name>: message", no timestamp (container
// runtimes add one). Injected everywhere, never global, so tests can capture or mute it.

export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'FATAL'

export interface LogSink {
  (level: Level, line: string): void
}

export const stdoutSink: LogSink = (level, line) => {
  if (level === 'ERROR' || level === 'FATAL') process.stderr.write(line + '\n')
  else process.stdout.write(line + '\n')
}

export class Logger {
  readonly prefix: string
  readonly sink: LogSink
  debugEnabled: boolean
  constructor(sink: LogSink = stdoutSink, prefix = '', debugEnabled = false) {
    this.sink = sink
    this.prefix = prefix
    this.debugEnabled = debugEnabled
  }
  /** A logger whose lines read "[LEVEL] plugin/<name>: ...". */
  plugin(name: string): Logger {
    return new Logger(this.sink, `plugin/${name}: `, this.debugEnabled)
  }
  debug(msg: string): void {
    if (this.debugEnabled) this.sink('DEBUG', `[DEBUG] ${this.prefix}${msg}`)
  }
  info(msg: string): void {
    this.sink('INFO', `[INFO] ${this.prefix}${msg}`)
  }
  warn(msg: string): void {
    this.sink('WARNING', `[WARNING] ${this.prefix}${msg}`)
  }
  error(msg: string): void {
    this.sink('ERROR', `[ERROR] ${this.prefix}${msg}`)
  }
  fatal(msg: string): void {
    this.sink('FATAL', `[FATAL] ${this.prefix}${msg}`)
  }
  /** Plain line without level (startup listing). */
  raw(msg: string): void {
    this.sink('INFO', msg)
  }
}

/** A logger that keeps lines in memory (tests). */
export function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = []
  return { log: new Logger((_l, line) => void lines.push(line), '', true), lines }
}
