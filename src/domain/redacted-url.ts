// Log lines leave the process (files, collectors, screenshots): a URL's user info and the values of
// token-like query parameters are credentials, so every logged URL goes through `redactUrl`.

const SCHEME_AND_USERINFO = /^([a-z][a-z\d+.-]*:\/\/)[^/?#\s@]*@/i
const QUERY_PAIR = /([?&])([^=&#\s]+)=([^&#\s]*)/g
const SECRET_KEY = /token|secret|pass(word)?|pwd|key|sig(nature)?|auth|credential|session|code/i
const URL_IN_TEXT = /\b[a-z][a-z\d+.-]*:\/\/[^\s"'<>\\]+/gi

/**
 * `https://user:pass@host/x?token=t&page=2` → `https://***@host/x?token=***&page=2`. The rest of the
 * text is left exactly as it was, so the host and path stay readable.
 */
export function redactUrl(url: string): string {
  const withoutUser = url.replace(SCHEME_AND_USERINFO, '$1***@')
  const queryAt = withoutUser.search(/[?]/)
  if (queryAt < 0) return withoutUser
  const head = withoutUser.slice(0, queryAt)
  const query = withoutUser
    .slice(queryAt)
    .replace(QUERY_PAIR, (pair, sep: string, key: string) =>
      SECRET_KEY.test(key) ? `${sep}${key}=***` : pair,
    )
  return head + query
}

/** Every URL inside free text (an error message, a whole log line) redacted as `redactUrl` does. */
export function redactUrlsIn(text: string): string {
  return text.includes('://') ? text.replace(URL_IN_TEXT, redactUrl) : text
}
