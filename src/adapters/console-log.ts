import type { Fields, Log } from '../ports/log.ts'

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const
type Level = keyof typeof LEVELS

/**
 * Logs one line per step: `time LEVEL message key=value …` for people, or JSON lines with
 * `format: 'json'`. Writes to stderr so CLI tables on stdout stay clean.
 */
export function consoleLog(
  options: { level?: Level; format?: 'text' | 'json'; write?: (line: string) => void; base?: Fields } = {},
): Log {
  const min = LEVELS[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const format = options.format ?? 'text'
  const base = options.base ?? {}
  const emit = (level: Level, message: string, fields: Fields = {}) => {
    if (LEVELS[level] < min) return
    const all = { ...base, ...fields }
    const time = new Date().toISOString()
    if (format === 'json') {
      write(JSON.stringify({ time, level, msg: message, ...all }))
      return
    }
    const pairs = Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : v}`)
      .join(' ')
    write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${pairs ? ` ${pairs}` : ''}`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => consoleLog({ ...options, base: { ...base, ...fields } }),
  }
}
