import pino from 'pino'
import { redactUrlsIn } from '../domain/redacted-url.ts'
import type { Fields, Log } from '../ports/log.ts'

type Level = 'debug' | 'info' | 'warn' | 'error'

// Keys that may carry secrets are censored by pino wherever they appear in the fields; a PEM private
// key that slips into a message or an error text is cut out of the line as a last line of defence,
// and so are the credentials of any URL in it (callers redact the URLs they log themselves too).
const REDACT = [
  'privateKey',
  'privateKeyPem',
  'token',
  'secret',
  'webhookSecret',
  'password',
  'authorization',
]
const PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g

/** Renders pino's JSON line as `time LEVEL message key=value …` for people at a terminal. */
function asText(line: string): string {
  const { time, level, msg, ...fields } = JSON.parse(line) as Record<string, unknown>
  const pairs = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ')
  return `${time} ${String(level).toUpperCase().padEnd(5)} ${msg ?? ''}${pairs ? ` ${pairs}` : ''}`
}

/**
 * Structured logs through pino: one JSON line per step (`time`, `level`, `msg`, and the ids it
 * concerns), or the same as a readable text line with `format: 'text'`. Writes to stderr, so tables
 * a command prints on stdout stay clean; tests pass `write` to capture lines.
 */
export function consoleLog(
  options: { level?: Level; format?: 'text' | 'json'; write?: (line: string) => void; base?: Fields } = {},
): Log {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const format = options.format ?? 'text'
  const destination = {
    write(chunk: string) {
      let line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk
      if (line.includes('PRIVATE KEY')) line = line.replace(PEM, '[redacted private key]')
      line = redactUrlsIn(line)
      write(format === 'json' ? line : asText(line))
    },
  }
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? null,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT, ...REDACT.map((k) => `*.${k}`)], censor: '[redacted]' },
    },
    destination,
  )
  return wrap(logger)
}

function wrap(logger: pino.Logger): Log {
  return {
    debug: (m, f) => logger.debug(f ?? {}, m),
    info: (m, f) => logger.info(f ?? {}, m),
    warn: (m, f) => logger.warn(f ?? {}, m),
    error: (m, f) => logger.error(f ?? {}, m),
    child: (fields) => wrap(logger.child(fields)),
  }
}
