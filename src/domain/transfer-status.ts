import { type TransferUpdate, transferUpdateIn } from './bank-event.ts'

/**
 * Stark Bank's transfer statuses: `created` → `processing` → one of the terminal ones. A terminal
 * status is final: a late or repeated event never moves a transfer out of it.
 */
export const TERMINAL_BANK_STATUSES: readonly string[] = ['success', 'failed', 'canceled']

const RANK: Record<string, number> = { created: 0, processing: 1 }
/** Statuses paybridge does not know are taken as on the way (after `created`, before terminal). */
const rank = (status: string) => (TERMINAL_BANK_STATUSES.includes(status) ? 2 : (RANK[status] ?? 1))

/**
 * The bank status a transfer has after `incoming` is reported while it was `current`: never back
 * along the lifecycle, and never out of a terminal status (the first terminal report sticks).
 */
export function nextBankStatus(current: string | null, incoming: string): string {
  if (current === null) return incoming
  if (TERMINAL_BANK_STATUSES.includes(current)) return current
  return rank(incoming) >= rank(current) ? incoming : current
}

/** A transfer row as a transfer event finds it (by Stark Bank id, else by externalId = our id). */
export interface LedgerTransferRef {
  id: string
  starkId: string | null
  bankStatus: string | null
}

export type TransferEventSettlement =
  | { kind: 'apply'; transferId: string; bankStatus: string; outcome: string }
  /** No transfer known by this event's ids yet: kept, and applied when the transfer is created. */
  | { kind: 'unmatched'; outcome: string }
  | { kind: 'anomaly'; outcome: string }

/** What a transfer event does to the transfer it names. */
export function settleTransferEvent(
  update: TransferUpdate,
  row: LedgerTransferRef | undefined,
): TransferEventSettlement {
  const names = `Stark Bank id ${update.transferId}${update.externalId ? ` or externalId ${update.externalId}` : ''}`
  if (!row || row.starkId === null) {
    return {
      kind: 'unmatched',
      outcome: `unmatched: no created transfer with ${names} yet; "${update.status}" kept until it is created`,
    }
  }
  if (row.starkId !== update.transferId) {
    return {
      kind: 'anomaly',
      outcome: `anomaly: transfer ${row.id} is Stark Bank id ${row.starkId}, but this "${update.status}" names ${update.transferId}; nothing changed`,
    }
  }
  const bankStatus = nextBankStatus(row.bankStatus, update.status)
  return {
    kind: 'apply',
    transferId: row.id,
    bankStatus,
    outcome:
      bankStatus === update.status
        ? `transfer ${update.transferId} is ${update.status}`
        : `transfer ${update.transferId} stays ${bankStatus}: a late "${update.status}" does not move it back`,
  }
}

/** What kept (`unmatched`) events do once their transfer is created: the events resolved, its status. */
export interface KeptEventsApplied {
  resolved: { id: string; flag: 'anomaly' | null; outcome: string }[]
  /** The transfer's Stark Bank status after them; undefined when none applied. */
  bankStatus: string | undefined
}

/**
 * Applies, in arrival order, the transfer events that came before the transfer was created. An event
 * that still matches nothing stays kept; the others are resolved with the outcome they have now.
 */
export function applyKeptEvents(
  kept: { id: string; payload: string }[],
  row: LedgerTransferRef | undefined,
): KeptEventsApplied {
  const applied: KeptEventsApplied = { resolved: [], bankStatus: undefined }
  let current = row
  for (const e of kept) {
    const update = transferUpdateIn(e.payload)
    if (!update || !current) continue
    const settled = settleTransferEvent(update, current)
    if (settled.kind === 'unmatched') continue
    applied.resolved.push({
      id: e.id,
      flag: settled.kind === 'anomaly' ? 'anomaly' : null,
      outcome: `${settled.outcome} (applied when the transfer was created)`,
    })
    if (settled.kind === 'apply') {
      applied.bankStatus = settled.bankStatus
      current = { ...current, bankStatus: settled.bankStatus }
    }
  }
  return applied
}
