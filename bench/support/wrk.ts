import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SignedWebhook } from './signed-webhooks.ts'

export interface WrkResult {
  requests: number
  seconds: number
  rps: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** Answers other than 2xx/3xx, plus connect/read/write/timeout errors. */
  failed: number
}

/** wrk, or a line telling how to get it (the benches drive load with it from a separate process). */
export function requireWrk(): string {
  const path = Bun.which('wrk')
  if (path) return path
  process.stderr.write(
    'wrk not found: install it (Debian/Ubuntu: apt-get install -y wrk; macOS: brew install wrk)\n',
  )
  process.exit(2)
}

// Each wrk thread takes its own share of the file and posts every line once before it wraps around:
// a run shorter than `lines / rate` seconds never repeats an event.
const SCRIPT = `
local threads = {}
local counter = 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local count = tonumber(args[2])
  requests = {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % count == index then
      local tab = line:find("\\t", 1, true)
      requests[#requests + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["Digital-Signature"] = line:sub(1, tab - 1),
      }, line:sub(tab + 1))
    end
    n = n + 1
  end
  at = 0
end
function request()
  at = at % #requests + 1
  return requests[at]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKJSON {\\"requests\\":%d,\\"us\\":%d,\\"p50\\":%d,\\"p99\\":%d,\\"max\\":%d,\\"failed\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.status + e.connect + e.read + e.write + e.timeout))
end
`

/** Writes the webhooks for wrk's script into `dir`; returns the file to pass to `runWrk`. */
export function wrkRequests(dir: string, name: string, webhooks: SignedWebhook[]): string {
  const file = join(dir, `${name}.tsv`)
  writeFileSync(file, `${webhooks.map((w) => `${w.signature}\t${w.body}`).join('\n')}\n`)
  writeFileSync(join(dir, 'post-lines.lua'), SCRIPT)
  return file
}

/** Runs wrk against `url` for `seconds`, posting the lines of `file` (see `wrkRequests`). */
export async function runWrk(options: {
  url: string
  file: string
  connections: number
  threads: number
  seconds: number
}): Promise<WrkResult> {
  const { url, file, connections, threads, seconds } = options
  const script = join(file, '..', 'post-lines.lua')
  const wrk = Bun.spawn(
    [
      requireWrk(),
      `-t${threads}`,
      `-c${connections}`,
      `-d${seconds}s`,
      '--timeout',
      '10s',
      '-s',
      script,
      url,
      '--',
      file,
      String(threads),
    ],
    { stdout: 'pipe', stderr: 'inherit' },
  )
  const out = await new Response(wrk.stdout).text()
  await wrk.exited
  const line = out.split('\n').find((l) => l.startsWith('WRKJSON '))
  if (!line) throw new Error(`wrk printed no summary:\n${out}`)
  const r = JSON.parse(line.slice(8)) as Record<'requests' | 'us' | 'p50' | 'p99' | 'max' | 'failed', number>
  return {
    requests: r.requests,
    seconds: r.us / 1e6,
    rps: r.requests / (r.us / 1e6),
    p50Ms: r.p50 / 1000,
    p99Ms: r.p99 / 1000,
    maxMs: r.max / 1000,
    failed: r.failed,
  }
}
