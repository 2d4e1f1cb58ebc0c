/**
 * How every adapter tells the app what cannot reach the client (its `onError` option): the call
 * that keeps a throwing reporter from breaking a response, the default reporter's console lines,
 * and the `METHOD /path` those lines name a request by. Internal: not exported from any entry
 * point.
 *
 * @internal
 */
import { CsrfRefused, isSessionError } from '../errors.js'

/** An adapter's `onError`: the error, and the request as that adapter's users know it. */
export type Reporter<R> = (error: unknown, request: R) => void

/**
 * Hands `error` to `onError`; an exception it throws is swallowed. A report is made while a
 * response is under way, or inside the code that changed a session: a broken reporter must
 * break neither.
 */
export function report<R>(onError: Reporter<R>, error: unknown, request: R): void {
  try {
    onError(error, request)
  } catch {
    // Reporting must not break the response, nor the code that changed the session.
  }
}

/**
 * `GET /path` from a request's method and target (a request line's origin-form `/path?query`, or
 * an absolute URL), without the query string, which may carry tokens. An absolute target
 * (`https://user:pass@host/path`) is shown by its path alone; one that does not parse as `/`.
 */
export function describeTarget(method: string, target: string): string {
  let path = target
  // RFC 9112 §3.2: origin-form starts with "/", asterisk-form is "*"; anything else is a URL here.
  if (!path.startsWith('/') && path !== '*') {
    try {
      path = new URL(path).pathname
    } catch {
      path = '/'
    }
  }
  const query = path.indexOf('?')
  return `${method} ${query === -1 ? path : path.slice(0, query)}`
}

/**
 * An adapter's default `onError`: one `console.warn` line for the Secure-cookie warning
 * (`ERR_SESSION_SECURE_COOKIE_OVER_HTTP`) and for a {@link CsrfRefused} refusal, one
 * `console.error` line for a change after the commit (whatever else is reported). A line names the
 * error's code and the request as `describe` puts it, never the query, the cookie or a session
 * value.
 *
 * @param describe the request as `METHOD /path` (see {@link describeTarget}).
 * @param committed when the commit happened, in the adapter's words: the late-change line says
 *   `changed after <committed>`.
 */
export function createReporter<R>(describe: (request: R) => string, committed: string): Reporter<R> {
  return (error, request) => {
    if (isSessionError(error, 'ERR_SESSION_SECURE_COOKIE_OVER_HTTP')) {
      console.warn(`frasco: warning: ${error.message}`)
      return
    }
    if (error instanceof CsrfRefused) {
      console.warn(`frasco: refused ${describe(request)} as a possible CSRF: ${error.code} (${error.reason})`)
      return
    }
    const code = isSessionError(error) ? error.code : 'ERR_SESSION_CHANGED_AFTER_COMMIT'
    console.error(`frasco: the session of ${describe(request)} changed after ${committed}; the change is lost: ${code}`)
  }
}
