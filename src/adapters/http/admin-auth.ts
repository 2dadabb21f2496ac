import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { Clock } from '../../ports/clock.ts'

export const ADMIN_COOKIE = 'paybridge_admin'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest()

/** Constant-time equality: both sides are hashed first, so lengths never differ and never leak. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected))
}

/**
 * The cookie's value, `<issued at ms>.<MAC>`: the MAC is keyed by the token, so the token itself
 * never sits in a browser, a cookie cannot be made without it, and its issue time cannot be moved.
 */
function sessionFor(token: string, issuedAt: number): string {
  const mac = createHmac('sha256', token).update(`paybridge admin session v2:${issuedAt}`).digest('base64url')
  return `${issuedAt}.${mac}`
}

/** `valid` for a session this token issued within `maxAgeMs` of `now`; `expired` or `forged` else. */
function checkSession(token: string, cookie: string, now: number, maxAgeMs: number) {
  const issuedAt = Number(cookie.slice(0, cookie.indexOf('.')))
  if (!Number.isSafeInteger(issuedAt) || !sameSecret(cookie, sessionFor(token, issuedAt))) return 'forged'
  // A session from the future is a clock gone wrong: it is not accepted either.
  return now - issuedAt < maxAgeMs && issuedAt <= now + 60_000 ? 'valid' : 'expired'
}

/**
 * A state-changing request must come from the admin page itself: `Sec-Fetch-Site: same-origin` when
 * the browser sends it, else an `Origin` whose host is this one (Host or X-Forwarded-Host, as a proxy
 * in front sets). With neither header only a bearer token passes: a browser always sends one of them
 * on a POST, so a cookie without them cannot show where the request came from.
 */
function sameOrigin(c: Context, viaBearer: boolean): boolean {
  const site = c.req.header('Sec-Fetch-Site')
  if (site !== undefined) return site === 'same-origin'
  const origin = c.req.header('Origin')
  if (origin === undefined) return viaBearer
  const host = c.req.header('X-Forwarded-Host') ?? c.req.header('Host') ?? new URL(c.req.url).host
  try {
    return new URL(origin).host === host
  } catch {
    return false // `Origin: null` (sandboxed frames, some redirects) and garbage
  }
}

/**
 * Admin access, three ways, all checked against ADMIN_TOKEN in constant time:
 * - `Authorization: Bearer <token>` (scripts, curl);
 * - `?token=<token>` once, from a browser: answered with an HttpOnly, SameSite=Strict cookie scoped to
 *   `basePath` (Secure over https) and a redirect to the same URL without the token, so the token
 *   leaves the address bar and history;
 * - that cookie, on later page loads and the page's replay forms, for `sessionSeconds` (default 12 h)
 *   from sign-in, checked server-side: an expired or forged cookie is a 401 asking for the token again.
 * Anything else is a 401; the token is never echoed. A state-changing request (POST etc.) also passes
 * a same-origin check (`sameOrigin`) or is refused with 403, whatever SameSite a browser applies.
 */
export function adminAuth(options: {
  token: string
  basePath: string
  sessionSeconds?: number
  clock?: Clock
}): MiddlewareHandler {
  const { token, basePath } = options
  const clock = options.clock ?? Date.now
  const maxAgeSeconds = options.sessionSeconds ?? 12 * 3600
  return async (c, next) => {
    const accept = c.req.header('Accept')
    const guarded = async (viaBearer: boolean) => {
      if (!SAFE_METHODS.has(c.req.method) && !sameOrigin(c, viaBearer)) {
        return c.json({ error: 'cross-site request refused: send it from the admin page itself' }, 403)
      }
      return next()
    }
    const header = c.req.header('Authorization')
    if (header !== undefined) {
      const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]
      if (bearer && sameSecret(bearer, token)) return guarded(true)
      return refuse(accept, basePath, 'wrong bearer token')
    }
    const query = c.req.query('token')
    if (query !== undefined) {
      if (c.req.method !== 'GET' || !sameSecret(query, token)) return refuse(accept, basePath, 'wrong token')
      const url = new URL(c.req.url)
      url.searchParams.delete('token')
      const https = url.protocol === 'https:' || c.req.header('X-Forwarded-Proto') === 'https'
      setCookie(c, ADMIN_COOKIE, sessionFor(token, clock()), {
        httpOnly: true,
        sameSite: 'Strict',
        secure: https,
        path: basePath,
        maxAge: maxAgeSeconds,
      })
      return c.redirect(`${url.pathname}${url.search}`, 303)
    }
    const cookie = getCookie(c, ADMIN_COOKIE)
    if (cookie === undefined) return refuse(accept, basePath, 'missing token')
    const session = checkSession(token, cookie, clock(), maxAgeSeconds * 1000)
    if (session === 'valid') return guarded(false)
    deleteCookie(c, ADMIN_COOKIE, { path: basePath })
    const response = refuse(accept, basePath, session === 'expired' ? 'session expired' : 'wrong session')
    for (const value of c.res.headers.getSetCookie()) response.headers.append('Set-Cookie', value)
    return response
  }
}

function refuse(accept: string | undefined, basePath: string, reason: string): Response {
  const headers = { 'WWW-Authenticate': 'Bearer realm="paybridge admin"' }
  if (accept?.includes('text/html')) {
    const page =
      '<!doctype html><meta charset="utf-8"><title>paybridge admin</title>' +
      `<h1>401: ${reason}</h1><p>Enter ADMIN_TOKEN to open the admin page:</p>` +
      `<form method="get" action="${basePath}"><input type="password" name="token" autocomplete="off" ` +
      'required autofocus> <button>Sign in</button></form>' +
      `<p>or open <code>${basePath}?token=&lt;ADMIN_TOKEN&gt;</code> once; scripts send ` +
      '<code>Authorization: Bearer &lt;ADMIN_TOKEN&gt;</code>.</p>'
    return new Response(page, {
      status: 401,
      headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8' },
    })
  }
  return Response.json({ error: reason }, { status: 401, headers })
}
