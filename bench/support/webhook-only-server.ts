/**
 * paybridge's webhook path alone: the same adapters `src/main.ts` wires (signature verifier with the
 * key fetched from Stark Bank, `POST /webhook/starkbank`, the embedded queue on the ledger), without
 * the worker, relay and scheduler. Binds with `reusePort`, so several of these processes share one
 * port and the kernel spreads connections across them.
 *
 * Env: PORT, DATABASE_PATH, STARK_API_URL, STARK_PROJECT_ID, STARK_PRIVATE_KEY.
 */
import { consoleLog } from '../../src/adapters/console-log.ts'
import { sqliteQueue } from '../../src/adapters/embedded-queue/queue.ts'
import { healthRoutes } from '../../src/adapters/http/health.ts'
import { httpApp } from '../../src/adapters/http/server.ts'
import { starkWebhook } from '../../src/adapters/http/stark-webhook.ts'
import { openLedger } from '../../src/adapters/ledger/sqlite/database.ts'
import { starkBank } from '../../src/adapters/starkbank/bank.ts'
import { starkSignatureVerifier } from '../../src/adapters/starkbank/webhook-signature.ts'

const env = process.env as Record<string, string>
const log = consoleLog({ level: 'warn' })
const ledger = openLedger(env.DATABASE_PATH ?? ':memory:')
const queue = sqliteQueue({ ledger, name: 'stark-events' })
const bank = starkBank({
  projectId: env.STARK_PROJECT_ID ?? '',
  privateKeyPem: env.STARK_PRIVATE_KEY ?? '',
  environment: 'sandbox',
  apiUrl: env.STARK_API_URL,
  timeoutMs: 5000,
})
const verifier = starkSignatureVerifier({ fetchPublicKey: () => bank.publicKey(), clock: Date.now, log })
const app = httpApp({
  log,
  routes: { '/webhook/starkbank': starkWebhook({ verifier, queue, log }), '/': healthRoutes({ checks: {} }) },
})
Bun.serve({ port: Number(env.PORT), hostname: '127.0.0.1', reusePort: true, fetch: app.fetch })
// Wait for the key before saying so: the first webhooks must not pay for the fetch.
await verifier.verify(new Uint8Array(0), 'AA==')
process.stdout.write('listening\n')
process.on('SIGTERM', () => {
  ledger.close()
  process.exit(0)
})
