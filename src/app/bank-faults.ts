import { BankError, type BankErrorDetail } from '../ports/bank.ts'

/**
 * What a failed Stark Bank call means for the relay:
 * - `access`: the bank refused paybridge itself (credentials, request clock, permissions). Every call
 *   would fail alike, so it is a relay-wide fault, never a transfer's.
 * - `duplicate`: the bank refused the externalId as already used: the transfer exists there.
 * - `rejected`: the bank refused this request for good (bad account, invalid field).
 * - `unknown`: timeout, network, 5xx, 429 or anything else: it may have reached the bank.
 */
export type BankFault = 'access' | 'duplicate' | 'rejected' | 'unknown'

/**
 * Stark Bank's codes for a request it could not authenticate (starkcore's docs name
 * `invalidCredentials`; the access time and id are checked with their own codes). With 401 and 403
 * they mean "fix paybridge's access", not "this transfer is wrong".
 */
export const ACCESS_CODES = new Set([
  'invalidCredentials',
  'invalidAccessTime',
  'invalidAccessId',
  'invalidAccessSignature',
  'invalidSignature',
])

/**
 * Stark Bank's refusal of a transfer whose externalId an earlier transfer took: the code
 * `invalidExternalId` with a message saying it is already used. The same code also names a malformed
 * externalId, which is not proof of anything, so the message is part of the match.
 */
export const DUPLICATE_EXTERNAL_ID = {
  code: 'invalidExternalId',
  message: /already (exists|in use|used|taken)/i,
}

export function isDuplicateExternalId(details: BankErrorDetail[]): boolean {
  return details.some(
    (d) => d.code === DUPLICATE_EXTERNAL_ID.code && DUPLICATE_EXTERNAL_ID.message.test(d.message),
  )
}

export function bankFault(err: unknown): BankFault {
  if (!(err instanceof BankError) || err.kind === 'transient') return 'unknown'
  if (err.status === 401 || err.status === 403 || err.details.some((d) => ACCESS_CODES.has(d.code)))
    return 'access'
  if (isDuplicateExternalId(err.details)) return 'duplicate'
  return 'rejected'
}

/** The bank's reasons, or the error's message. */
export function faultReason(err: unknown): string {
  if (err instanceof BankError && err.details.length > 0)
    return err.details.map((d) => `${d.code}: ${d.message}`).join('; ')
  return err instanceof Error ? err.message : String(err)
}
