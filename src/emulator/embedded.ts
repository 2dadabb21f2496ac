import { generateKeyPair } from '../adapters/starkbank/ecdsa.ts'
import type { LocalStarkBankBehaviour } from '../config/local-stark-bank.ts'
import type { StarkCredentials } from '../config.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from './emulator.ts'

/** The project id paybridge uses with its embedded emulator. */
const EMBEDDED_PROJECT_ID = '1000000000000001'

/**
 * The local Stark Bank emulator in this process, with a fresh project key registered, and the
 * credentials that point the real SDK at it. For running with no Stark Bank credentials.
 */
export async function startEmbeddedStarkBank(
  options: LocalStarkBankBehaviour,
): Promise<{ emulator: StarkBankEmulator; credentials: StarkCredentials }> {
  const keys = generateKeyPair()
  const emulator = await startStarkBankEmulator({
    port: 0,
    projects: { [EMBEDDED_PROJECT_ID]: keys.publicPem },
    payShare: options.payShare,
    payDelayMs: options.payDelayMs,
    // The transfers paybridge makes are confirmed (or fail) as at Stark Bank, so the demo shows both.
    transferEvents: options.transferEvents,
  })
  return {
    emulator,
    credentials: {
      projectId: EMBEDDED_PROJECT_ID,
      privateKeyPem: keys.privatePem,
      environment: 'sandbox',
      apiUrl: emulator.url,
    },
  }
}
