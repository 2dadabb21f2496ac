import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'

export const ADMIN_COOKIE = 'paybridge_admin'

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest()

/** Constant-time equality: both sides are hashed first, so lengths never differ and never leak. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected))
}

/** The cookie's value: derived from the token, so the token itself never sits in a browser. */
function sessionFor(token: string): string {
  return createHmac('sha256', token).update('paybridge admin session v1').digest('base64url')
}

/**
 * Admin access, three ways, all checked against ADMIN_TOKEN in constant time:
 * - `Authorization: Bearer <token>` (scripts, curl);
 * - `?token=<token>` once, from a browser: answered with an HttpOnly, SameSite=Strict cookie scoped to
 *   `basePath` (Secure over https) and a redirect to the same URL without the token, so the token
 *   leaves the address bar and history;
 * - that cookie, on later page loads and the page's replay forms (SameSite=Strict keeps other sites'
 *   forms from carrying it).
 * Anything else is a 401; the token is never echoed.
 */
export function adminAuth(options: {
  token: string
  basePath: string
  sessionSeconds?: number
}): MiddlewareHandler {
  const { token, basePath } = options
  const session = sessionFor(token)
  return async (c, next) => {
    const header = c.req.header('Authorization')
    if (header !== undefined) {
      const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]
      if (bearer && sameSecret(bearer, token)) return next()
      return refuse(c.req.header('Accept'), 'wrong bearer token')
    }
    const query = c.req.query('token')
    if (query !== undefined) {
      if (c.req.method !== 'GET' || !sameSecret(query, token))
        return refuse(c.req.header('Accept'), 'wrong token')
      const url = new URL(c.req.url)
      url.searchParams.delete('token')
      const https = url.protocol === 'https:' || c.req.header('X-Forwarded-Proto') === 'https'
      setCookie(c, ADMIN_COOKIE, session, {
        httpOnly: true,
        sameSite: 'Strict',
        secure: https,
        path: basePath,
        maxAge: options.sessionSeconds ?? 8 * 3600,
      })
      return c.redirect(`${url.pathname}${url.search}`, 303)
    }
    const cookie = getCookie(c, ADMIN_COOKIE)
    if (cookie !== undefined && sameSecret(cookie, session)) return next()
    return refuse(c.req.header('Accept'), cookie === undefined ? 'missing token' : 'expired or wrong session')
  }
}

function refuse(accept: string | undefined, reason: string): Response {
  const headers = { 'WWW-Authenticate': 'Bearer realm="paybridge admin"' }
  if (accept?.includes('text/html')) {
    const page =
      '<!doctype html><meta charset="utf-8"><title>paybridge admin</title>' +
      `<h1>401: ${reason}</h1><p>Open this page once as <code>/admin?token=&lt;ADMIN_TOKEN&gt;</code>, ` +
      'or send <code>Authorization: Bearer &lt;ADMIN_TOKEN&gt;</code>.</p>'
    return new Response(page, {
      status: 401,
      headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8' },
    })
  }
  return Response.json({ error: reason }, { status: 401, headers })
}
