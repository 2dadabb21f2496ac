/**
 * A local Stark Bank for tests and development: the v2 wire protocol for public-key, invoice,
 * transfer and event, request signatures checked, invoices paid (and their `credited` webhooks
 * signed and retried) on a schedule, and faults injectable per route. State lives in memory.
 */
export type { Fault } from './emulator/faults.ts'
export type { EmulatorRoute } from './emulator/routes.ts'
export {
  type EmulatorEvent,
  type RequestHook,
  type StarkBankEmulator,
  type StarkBankEmulatorOptions,
  startStarkBankEmulator,
} from './emulator/server.ts'
export { emulatorOptionsFromEnv, runStandaloneEmulator } from './emulator/standalone.ts'
export type { DeliveryAttempt } from './emulator/webhooks.ts'
export type { WireError, WireEvent, WireInvoice, WireTransfer } from './emulator/wire.ts'
