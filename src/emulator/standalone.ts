import { type StarkBankEmulator, type StarkBankEmulatorOptions, startStarkBankEmulator } from './server.ts'

/**
 * Starts the emulator alone (`bun run src/main.ts emulator`; its options come from config.ts's
 * `loadLocalStarkBankConfig`) and prints where it listens and its webhook public key.
 */
export async function runStandaloneEmulator(
  options: StarkBankEmulatorOptions,
  print: (line: string) => void = console.log,
): Promise<StarkBankEmulator> {
  const emulator = await startStarkBankEmulator(options)
  print(`Stark Bank emulator listening on ${emulator.url} (point starkBank({ apiUrl }) at it)`)
  print(`webhook signing public key:\n${emulator.publicKeyPem}`)
  return emulator
}
