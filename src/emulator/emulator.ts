/**
 * A local Stark Bank for tests and development: the v2 wire protocol for public-key, invoice,
 * transfer, event, webhook and balance, request signatures checked, invoices paid (and their
 * `credited` webhooks signed and retried, to the webhook URL and to every subscription to `invoice`)
 * on a schedule, and faults injectable per route. State lives in memory.
 */
export type { Fault } from './faults.ts'
export type { EmulatorRoute } from './routes.ts'
export {
  type EmulatorEvent,
  type RequestHook,
  type StarkBankEmulator,
  type StarkBankEmulatorOptions,
  startStarkBankEmulator,
} from './server.ts'
export { runStandaloneEmulator } from './standalone.ts'
export type { DeliveryAttempt } from './webhooks.ts'
export type { WireError, WireEvent, WireInvoice, WireTransfer } from './wire.ts'
