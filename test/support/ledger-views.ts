import { queuedMentions } from '../../src/adapters/embedded-queue/mentions.ts'
import { sqliteRead } from '../../src/adapters/ledger/read.ts'
import type { Ledger } from '../../src/adapters/ledger/sqlite/database.ts'
import { ledgerViews } from '../../src/adapters/ledger/views.ts'
import type { LedgerViews } from '../../src/ports/ledger-views.ts'

/** The operator views of an open SQLite ledger, as the service builds them; `close` ends their reads. */
export function viewsOf(ledger: Ledger): LedgerViews & { close(): Promise<void> } {
  const read = sqliteRead(ledger)
  return { ...ledgerViews(read, { queued: queuedMentions }), close: () => read.close() }
}
