import type { DeadItem } from '../../../ports/ledger-views.ts'
import type { LedgerRead } from '../read.ts'

/**
 * Every dead transfer, forward and dead letter, newest first, at most `limit`. Reasons are the
 * ledger's own; payloads and message bodies are never included.
 */
export async function deadItems(read: LedgerRead, limit: number): Promise<DeadItem[]> {
  const outboxDead = await read.all<{ kind: 'transfer' | 'forward'; id: string; reason: string; at: number }>(
    `SELECT kind, ref_id AS id, coalesce(last_error, '') AS reason, updated_at AS at
     FROM outbox WHERE status = 'dead' ORDER BY updated_at DESC LIMIT ?`,
    [limit],
  )
  const letters = await read.all<{ id: number; queue: string; reason: string; at: number }>(
    'SELECT id, queue, reason, created_at AS at FROM dead_letters ORDER BY created_at DESC LIMIT ?',
    [limit],
  )
  const dead: DeadItem[] = [
    ...outboxDead.map((o) => ({ ...o, where: `${o.kind} outbox` })),
    ...letters.map((d) => ({
      kind: 'dead-letter' as const,
      id: String(d.id),
      where: `queue ${d.queue}`,
      reason: d.reason,
      at: d.at,
    })),
  ].sort((a, b) => b.at - a.at)
  return dead.slice(0, limit)
}
