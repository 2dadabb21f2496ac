import { asc, or } from 'drizzle-orm'
import type { TransferUpdate } from '../../../domain/bank-event.ts'
import { type LedgerTransferRef, settleTransferEvent } from '../../../domain/transfer-status.ts'
import type { RecordedEvent } from '../../../ports/store.ts'
import * as bankWrites from '../bank-event-writes.ts'
import type { PgTx } from './database.ts'
import { anyOf, insertEach, updateEach } from './many-rows.ts'
import { events, transfers } from './schema.ts'

// A receive's transfer events (Stark Bank's created, processing, success… of the transfers the relay
// made) in four statements instead of three or four per event: the transfers they name read and
// locked at once, the inbox ids they already have read, then one insert of their inbox rows and one
// update of the transfers' bank statuses. The decisions are settleTransferEvent's, event by event in
// order, each on the transfer as the events before it left it: what recordIn (./bank-events.ts)
// would write one event after another.

export type TransferInput = bankWrites.RecordInput & { decision: TransferUpdate }

export const isTransferEvent = (input: bankWrites.RecordInput): input is TransferInput =>
  input.decision.kind === 'transfer-update'

const transferRef = bankWrites.transferRefColumns(transfers)

/**
 * Records transfer events inside the caller's transaction; answers each as recordIn would. The
 * transfers are locked in id order, so two workers with overlapping receives take turns.
 */
export async function recordTransferEvents(
  t: PgTx,
  inputs: TransferInput[],
  now: number,
): Promise<RecordedEvent[]> {
  const starkIds = [...new Set(inputs.map((i) => i.decision.transferId))]
  const externalIds = [...new Set(inputs.flatMap((i) => i.decision.externalId ?? []))]
  const found = await t
    .select(transferRef)
    .from(transfers)
    .where(or(anyOf(transfers.starkId, starkIds), anyOf(transfers.id, externalIds)))
    .orderBy(asc(transfers.id))
    .for('update')
  // One object per row, in both maps: an event sees the bank status the events before it applied.
  const rows = found.map((r): LedgerTransferRef => ({ ...r }))
  const byId = new Map(rows.map((r) => [r.id, r]))
  const byStarkId = new Map<string, LedgerTransferRef>()
  for (const r of rows) if (r.starkId !== null && !byStarkId.has(r.starkId)) byStarkId.set(r.starkId, r)
  // Read after the locks: a worker recording one of these events holds its transfer until it commits.
  const recorded = new Set(
    (
      await t
        .select({ id: events.id })
        .from(events)
        .where(
          anyOf(
            events.id,
            inputs.map((i) => i.event.id),
          ),
        )
    ).map((r) => r.id),
  )

  const settled = inputs.map((input) => {
    const { decision } = input
    if (recorded.has(input.event.id)) return undefined
    recorded.add(input.event.id)
    const row =
      byStarkId.get(decision.transferId) ??
      (decision.externalId === null ? undefined : byId.get(decision.externalId))
    const s = settleTransferEvent(decision, row)
    if (s.kind === 'apply' && row) row.bankStatus = s.bankStatus
    return s
  })

  const inboxRows = inputs.flatMap((input, i) => {
    const s = settled[i]
    if (!s) return []
    return [
      bankWrites.bankInboxRow(
        input,
        s.outcome,
        bankWrites.transferEventFlag(s),
        input.decision.externalId,
        now,
      ),
    ]
  })
  inboxRows.sort((a, b) => (a.id < b.id ? -1 : 1))
  const inserted = await insertEach(t, events, inboxRows)
  const statuses = new Map<string, string>()
  const results = inputs.map((input, i): RecordedEvent => {
    const s = settled[i]
    if (!s) return { kind: 'duplicate' }
    if (!inserted.has(input.event.id)) {
      // Recorded meanwhile by a worker that held no lock this step took: only an event that changed
      // nothing can be that one (its transfer was locked here otherwise).
      if (s.kind === 'apply')
        throw new Error(`event ${input.event.id} applied a transfer status, then was a duplicate`)
      return { kind: 'duplicate' }
    }
    // The last status applied to a transfer is the one it ends with, as one update after another.
    if (s.kind === 'apply') statuses.set(s.transferId, s.bankStatus)
    return bankWrites.recordedTransferEvent(s)
  })
  const updates = [...statuses]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, bankStatus]) => ({ id, ...bankWrites.bankStatusColumns(bankStatus, now) }))
  if (updates.length > 0) await updateEach(t, transfers, 'id', updates)
  return results
}
