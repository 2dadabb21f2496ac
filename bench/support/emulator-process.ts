/**
 * The Stark Bank emulator in a process of its own, so a benchmark can read its CPU time apart from
 * its own. It pays no invoice and sends no webhook (the benchmark posts them itself). `spawnEmulator`
 * starts it; run directly, this file is that process:
 *
 *   env EMULATOR_PROJECT_ID, EMULATOR_PROJECT_PUBLIC_KEY (PEM), EMULATOR_SIGNING_KEY (private PEM)
 *   over IPC: sends `{ url }` once listening; answers `'transfers'` with `{ transfers, externalIds, requests }`
 */
import { benchEmulator } from './bench-emulator.ts'
import { type Meter, processMeter } from './cpu-meter.ts'

/** Transfers the emulator has received, the distinct externalIds among them, and requests by route. */
export interface Received {
  transfers: number
  externalIds: number
  requests: Record<string, number>
}

export interface EmulatorProcess {
  url: string
  meter: Meter
  received(): Promise<Received>
  stop(): Promise<void>
}

/** Starts this file as a process for project `projectId` (its public key) signing webhooks with `signingPem`. */
export async function spawnEmulator(projectId: string, projectPublicPem: string, signingPem: string) {
  let answer: ((got: Received) => void) | undefined
  let listening: ((url: string) => void) | undefined
  const url = new Promise<string>((resolve) => {
    listening = resolve
  })
  const child = Bun.spawn([process.execPath, import.meta.path], {
    env: {
      ...process.env,
      EMULATOR_PROJECT_ID: projectId,
      EMULATOR_PROJECT_PUBLIC_KEY: projectPublicPem,
      EMULATOR_SIGNING_KEY: signingPem,
    },
    stdout: 'ignore',
    stderr: 'inherit',
    ipc(message) {
      if ('url' in message) listening?.(message.url)
      else answer?.(message)
    },
  })
  const started = await Promise.race([url, child.exited.then((code) => code)])
  if (typeof started !== 'string')
    throw new Error(`the emulator process exited (${started}) before listening`)
  return {
    url: started,
    meter: processMeter('Stark Bank emulator', child.pid),
    received: () =>
      new Promise<Received>((resolve) => {
        answer = resolve
        child.send('transfers')
      }),
    async stop() {
      child.kill('SIGTERM')
      await child.exited
    },
  } satisfies EmulatorProcess
}

async function serve() {
  const env = process.env
  const emulator = await benchEmulator(
    env.EMULATOR_PROJECT_ID ?? '',
    env.EMULATOR_PROJECT_PUBLIC_KEY ?? '',
    env.EMULATOR_SIGNING_KEY,
  )
  process.on('message', (message) => {
    if (message !== 'transfers') return
    const transfers = emulator.transfers()
    const externalIds = new Set(transfers.map((t) => t.externalId)).size
    process.send?.({
      transfers: transfers.length,
      externalIds,
      requests: { ...emulator.counts },
    } satisfies Received)
  })
  process.on('SIGTERM', async () => {
    await emulator.stop()
    process.exit(0)
  })
  process.send?.({ url: emulator.url })
}

if (import.meta.main) await serve()
