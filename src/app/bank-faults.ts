import { BankError, type BankErrorDetail } from '../ports/bank.ts'

/**
 * What a failed Stark Bank call means for the relay:
 * - `relay-wide`: the bank refused paybridge itself (credentials, request clock, permissions), or a
 *   4xx came without Stark Bank's error list (a proxy, a firewall). Every call would fail alike, so it
 *   opens the relay's circuit; it is never a transfer's fault.
 * - `duplicate`: the bank refused the externalId: the transfer may exist there, so it is looked up.
 * - `rejected`: the bank refused this request with its reasons (bad account, invalid field).
 * - `unknown`: timeout, network, 5xx, 408/425/429 or anything else: it may have reached the bank.
 */
export type BankFault = 'relay-wide' | 'duplicate' | 'rejected' | 'unknown'

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
 * A refusal whose code concerns the externalId (`invalidExternalId`, in any case): the externalId may
 * be taken by this very transfer. Matched on the code alone: Stark Bank's wording is not a contract,
 * and the cost of reading a malformed externalId as "may exist" is a lookup, never a lost payment.
 */
export function isExternalIdRefusal(details: BankErrorDetail[]): boolean {
  return details.some((d) => /externalid/i.test(d.code))
}

export function bankFault(err: unknown): BankFault {
  if (!(err instanceof BankError) || err.kind === 'transient') return 'unknown'
  if (
    err.kind === 'blocked' ||
    err.status === 401 ||
    err.status === 403 ||
    err.details.some((d) => ACCESS_CODES.has(d.code))
  )
    return 'relay-wide'
  if (isExternalIdRefusal(err.details)) return 'duplicate'
  return 'rejected'
}

/** The bank's reasons, or the error's message. */
export function faultReason(err: unknown): string {
  if (err instanceof BankError && err.details.length > 0)
    return err.details.map((d) => `${d.code}: ${d.message}`).join('; ')
  return err instanceof Error ? err.message : String(err)
}
