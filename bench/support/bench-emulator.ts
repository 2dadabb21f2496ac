import { startStarkBankEmulator } from '../../src/emulator/emulator.ts'

/**
 * The Stark Bank emulator every benchmark drives: one project, no invoice paid by the emulator
 * itself (the benchmark sends the credits), its webhooks signed with `signingPem` when given.
 */
export function benchEmulator(projectId: string, projectPublicPem: string, signingPem?: string) {
  return startStarkBankEmulator({
    port: 0,
    projects: { [projectId]: projectPublicPem },
    payShare: 0,
    signingKey: signingPem,
  })
}
