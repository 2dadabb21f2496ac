import type { LedgerViews } from '../../ports/ledger-views.ts'
import type { LedgerRead } from './read.ts'
import { ledgerCounts } from './views/counts.ts'
import { deadItems } from './views/dead-items.ts'
import { ledgerStatus } from './views/ledger-status.ts'
import { reconcileRows } from './views/reconcile-rows.ts'
import { viewRows } from './views/rows.ts'
import { type QueuedMentions, traceOf } from './views/trace.ts'

/**
 * The operator's read side of either ledger, written once over `LedgerRead` (see its SQL rules).
 * `queued`: how to find messages of a queue kept in the ledger (the embedded queue in the SQLite
 * file); without it a trace shows no waiting messages.
 */
export function ledgerViews(read: LedgerRead, options: { queued?: QueuedMentions } = {}): LedgerViews {
  return {
    rows: viewRows(read),
    trace: traceOf(read, options.queued),
    counts: () => ledgerCounts(read),
    dead: (limit) => deadItems(read, limit),
    status: (status) => ledgerStatus(read, status),
    reconcileRows: (window) => reconcileRows(read, window),
  }
}
