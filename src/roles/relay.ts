import { Poller } from '../app/poller.ts'
import { transferRelay } from '../app/relay-transfers.ts'
import { bankSteps, type RoleModule, type Shared } from './shared.ts'

/** Claims of this size mean more are due: the relay goes again at once instead of waiting. */
const FULL_CLAIM = 100

/**
 * The transfer relay role: sends the outbox's transfers to Stark Bank every RELAY_INTERVAL_MS, at
 * once when `poke()`d (the worker just recorded some).
 */
export function relayRole(deps: Shared): RoleModule & {
  poke(): void
  readiness(): true | string
} {
  const { config, log } = deps
  const relay = transferRelay({
    ...bankSteps(deps),
    leaseMs: config.relayLeaseMs,
    callTimeoutMs: config.starkTimeoutMs,
    limits: config.transferLimits,
    paused: () => config.transfersPaused,
  })
  const poller = new Poller(
    'transfer relay',
    async () => (await relay.relayOnce()).claimed >= FULL_CLAIM,
    config.relayIntervalMs,
    log,
  )
  return {
    poke: () => poller.poke(),
    readiness: relay.readiness,
    start: () => poller.start(),
    stop: () => poller.stop(),
  }
}
