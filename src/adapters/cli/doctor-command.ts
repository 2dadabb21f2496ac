import { parseArgs } from 'node:util'
import { type CheckOutcome, type DoctorDeps, doctorChecks, runDoctor } from '../../app/doctor.ts'

export const DOCTOR_USAGE = `usage: bun run src/main.ts doctor [--json]
  checks Stark Bank (credentials, clock, public key, webhook subscription, balance), the SQS queues,
  the Stripe downstream and the ledger; prints one line per check with the fix for each failure.
  Exit 0 when every check passes, 1 otherwise.
`

/** One line per check, `ok` or `FAIL`, the fix indented under a failure. */
export function renderChecklist(outcomes: CheckOutcome[]): string {
  const width = Math.max(...outcomes.map((o) => o.name.length))
  const lines = outcomes.flatMap(({ name, result }) => [
    `${result.ok ? 'ok  ' : 'FAIL'}  ${name.padEnd(width)}  ${result.detail}`,
    ...(result.ok ? [] : [`      ${' '.repeat(width)}  fix: ${result.fix}`]),
  ])
  const failed = outcomes.filter((o) => !o.result.ok).length
  const summary =
    failed === 0 ? `all ${outcomes.length} checks pass` : `${failed} of ${outcomes.length} checks FAIL`
  return `${lines.join('\n')}\n${summary}\n`
}

/** `doctor [--json]`. Exit codes: 0 all pass, 1 a check failed, 2 usage. */
export async function doctorCommand(
  args: string[],
  deps: DoctorDeps & { out(text: string): void; err(text: string): void },
): Promise<number> {
  let json: boolean
  try {
    json = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true }).values.json === true
  } catch (error) {
    deps.err(`paybridge: ${(error as Error).message}\n${DOCTOR_USAGE}`)
    return 2
  }
  const outcomes = await runDoctor(doctorChecks(deps))
  deps.out(json ? `${JSON.stringify({ checks: outcomes }, null, 2)}\n` : renderChecklist(outcomes))
  return outcomes.every((o) => o.result.ok) ? 0 : 1
}
