import { join } from 'node:path'

/** What `post-webhooks.ts` prints: failures, elapsed ms, latency percentiles, its own CPU ms. */
export interface Load {
  sent: number
  failed: number
  ms: number
  p50: number
  p99: number
  cpuMs: number
}

/**
 * Posts every webhook of `file` (see `wrkRequests`) once over `connections` from a load client in its
 * own process (`post-webhooks.ts`), pinned to `cpus` with `taskset -c` when given.
 */
export async function postWebhooks(
  url: string,
  file: string,
  connections: number,
  cpus?: string,
): Promise<Load> {
  const cmd = [process.execPath, join(import.meta.dir, 'post-webhooks.ts'), url, file, String(connections)]
  const client = Bun.spawn(cpus ? ['taskset', '-c', cpus, ...cmd] : cmd, {
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const [out, code] = await Promise.all([new Response(client.stdout).text(), client.exited])
  if (code !== 0) throw new Error(`the load client exited ${code}`)
  return JSON.parse(out) as Load
}
