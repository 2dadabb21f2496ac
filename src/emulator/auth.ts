import { publicKeyFromPem, verify } from '../adapters/starkbank/ecdsa.ts'
import type { WireError } from './wire.ts'

/** Stark Bank refuses requests whose Access-Time is further than this from its clock. */
export const ACCESS_TIME_TOLERANCE_S = 600

/** The 401 codes Stark Bank answers a request it will not authenticate with. */
export type AuthErrorCode = 'invalidCredentials' | 'invalidAccessTime'

const BAD_SIGNATURE =
  'Provided digital signature in the header Access-Signature does not check out. See https://docs.api.starkbank.com/#auth for details.'

/** Stark's error for `code`, as its API words it (`detail` replaces the message for access-time errors). */
export function authError(code: AuthErrorCode, detail?: string): WireError {
  return code === 'invalidCredentials'
    ? { code, message: detail ?? BAD_SIGNATURE }
    : {
        code,
        message:
          detail ?? 'Access-Time is too far from the server clock. See https://docs.api.starkbank.com/#auth',
      }
}

export type Authentication = { ok: true; accessId: string | null } | { ok: false; error: WireError }

/** Registered projects by id, with their public keys. */
export function projectRegistry(initial: Record<string, string> = {}) {
  const keys = new Map<string, Uint8Array>()
  const register = (id: string, publicPem: string) => keys.set(id, publicKeyFromPem(publicPem))
  for (const [id, pem] of Object.entries(initial)) register(id, pem)

  return {
    register,

    /**
     * Checks `Access-Id`, `Access-Time` and `Access-Signature` over "<id>:<time>:<raw body>".
     * With no project registered the emulator is open: anyone may call it.
     */
    authenticate(headers: Headers, rawBody: string, nowMs: number): Authentication {
      if (keys.size === 0) return { ok: true, accessId: headers.get('access-id') }
      const accessId = headers.get('access-id')
      const accessTime = headers.get('access-time')
      const signature = headers.get('access-signature')
      if (!accessId || !accessTime || !signature) {
        return {
          ok: false,
          error: authError(
            'invalidCredentials',
            'Missing Access-Id, Access-Time or Access-Signature header. See https://docs.api.starkbank.com/#auth',
          ),
        }
      }
      const key = keys.get(accessId.replace(/^project\//, ''))
      if (!accessId.startsWith('project/') || !key) {
        return { ok: false, error: { code: 'invalidAccessId', message: `Unknown Access-Id ${accessId}` } }
      }
      const seconds = Number(accessTime)
      if (!Number.isFinite(seconds) || Math.abs(nowMs / 1000 - seconds) > ACCESS_TIME_TOLERANCE_S) {
        return {
          ok: false,
          error: authError(
            'invalidAccessTime',
            `Access-Time ${accessTime} is more than ${ACCESS_TIME_TOLERANCE_S} s away from the server clock`,
          ),
        }
      }
      if (!verify(`${accessId}:${accessTime}:${rawBody}`, signature, key)) {
        return { ok: false, error: authError('invalidCredentials') }
      }
      return { ok: true, accessId }
    },
  }
}
