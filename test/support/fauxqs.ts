import { join } from 'node:path'

export interface Fauxqs {
  /** `http://127.0.0.1:<port>`: pass it to `SQSClient` as `endpoint`. */
  endpoint: string
  /** The server's process id (benchmarks read its CPU time). */
  pid: number
  /** With `countCalls`: requests so far by action, and the messages receives handed out. */
  calls(): Promise<FauxqsCalls>
  stop(): Promise<void>
}

/** Test credentials and region for an `SQSClient` pointed at fauxqs. */
export const fauxqsClientConfig = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
} as const

export interface FauxqsCalls {
  calls: Record<string, number>
  received: number
}

const LAUNCHER = join(import.meta.dir, 'fauxqs-launcher.ts')

/**
 * Starts fauxqs (the SQS-compatible test server) in a child process running this same Bun, bound to
 * 127.0.0.1 on a free port, and resolves once it answers HTTP.
 */
export async function startFauxqs({ timeoutMs = 10_000, countCalls = false } = {}): Promise<Fauxqs> {
  const child = Bun.spawn([process.execPath, LAUNCHER], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
    ...(countCalls ? { env: { ...process.env, FAUXQS_COUNT_CALLS: '1' } } : {}),
  })
  const stop = async () => {
    child.kill()
    await child.exited
  }
  try {
    const endpoint = await readAddress(child.stdout, timeoutMs)
    await waitUntilAnswering(endpoint, timeoutMs)
    const calls = async () => (await (await fetch(`${endpoint}/__calls`)).json()) as FauxqsCalls
    return { endpoint, pid: child.pid, calls, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

async function readAddress(stdout: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string> {
  const reader = stdout.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const timer = setTimeout(() => reader.cancel('fauxqs did not start in time'), timeoutMs)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error(`fauxqs exited before listening: ${text}`)
      text += decoder.decode(value, { stream: true })
      const match = /listening (\S+)\n/.exec(text)
      if (match?.[1]) return match[1]
    }
  } finally {
    clearTimeout(timer)
    reader.releaseLock()
  }
}

async function waitUntilAnswering(endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) })
      return
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`fauxqs at ${endpoint} does not answer`, { cause: error })
      await Bun.sleep(50)
    }
  }
}
