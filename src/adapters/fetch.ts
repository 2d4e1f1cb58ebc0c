/**
 * `frasco/fetch`: sessions for the Web Fetch API (`Request`, `Response`, `Headers`), for Hono,
 * Next.js route handlers, Bun, Deno and any server built on those types.
 *
 * @module
 */
import { getSessionState, type Session, type SessionData } from '../session.js'
import type { Sessions } from '../sessions.js'

/** Options of the Fetch adapter. */
export interface FetchSessionOptions {
  /**
   * Trust `X-Forwarded-Proto` when deciding `Secure` for `cookie.secure: 'auto'`. Only behind a
   * proxy that sets (and overwrites) that header.
   */
  trustProxy?: boolean
}

function isSecure(request: Request | undefined, trustProxy: boolean): boolean {
  if (request === undefined) return false
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-proto')?.split(',', 1)[0]?.trim().toLowerCase()
    if (forwarded !== undefined && forwarded !== '') return forwarded === 'https'
  }
  return request.url.startsWith('https:')
}

/**
 * Reads the session of a request from its `Cookie` header. Never throws on bad input.
 *
 * @example
 * ```ts
 * const session = readSession(sessions, request)
 * session.get('username')
 * ```
 */
export function readSession<T extends object>(sessions: Sessions<T>, request: Request): Session<T> {
  return sessions.read(request.headers.get('cookie'))
}

function addVary(headers: Headers): void {
  const current = headers.get('vary') ?? ''
  if (current.trim() === '*' || /(^|,)\s*cookie\s*(,|$)/i.test(current)) return
  headers.set('vary', current.trim() === '' ? 'Cookie' : `${current}, Cookie`)
}

/**
 * Appends the session's `Set-Cookie` headers (never replacing existing ones) and `Vary: Cookie`.
 * Given a `Headers`, it is changed in place and returned. Given a `Response`, its headers are
 * changed in place when they are mutable; a response with immutable headers (such as
 * `Response.redirect()`) is copied. Always use the returned value.
 *
 * @throws {CookieTooLarge} when the session does not fit; nothing was appended.
 * @example
 * ```ts
 * const session = readSession(sessions, request)
 * session.set('username', 'admin')
 * return commitSession(sessions, session, Response.redirect(new URL('/', request.url), 303), { request })
 * ```
 */
export function commitSession<T extends object, R extends Headers | Response>(
  sessions: Sessions<T>,
  session: Session<T>,
  target: R,
  options: FetchSessionOptions & { request?: Request } = {},
): R {
  const cookies = sessions.commit(session, { secure: sessions.secureAuto && isSecure(options.request, options.trustProxy === true) })
  const vary = cookies.length > 0 || getSessionState(session).accessed
  if (cookies.length === 0 && !vary) return target
  const write = (headers: Headers) => {
    for (const cookie of cookies) headers.append('set-cookie', cookie)
    if (vary) addVary(headers)
  }
  if (target instanceof Headers) {
    write(target)
    return target
  }
  const response = target as Response
  try {
    write(response.headers)
    return target
  } catch {
    // Immutable headers (Response.redirect, Response.error, fetch results): copy the response.
    const copy = new Response(response.body, response)
    write(copy.headers)
    return copy as R
  }
}

/**
 * Wraps a Fetch handler so it receives the request's session, committed onto its response.
 *
 * @example
 * ```ts
 * const handler = withSessions(sessions, async (request, session) => {
 *   session.set('visits', Number(session.get('visits') ?? 0) + 1)
 *   return new Response(`visit ${session.get('visits')}`)
 * })
 * // Bun.serve({ fetch: handler }), Deno.serve(handler), export const GET = handler, …
 * ```
 */
export function withSessions<T extends object = SessionData>(
  sessions: Sessions<T>,
  handler: (request: Request, session: Session<T>) => Response | Promise<Response>,
  options: FetchSessionOptions = {},
): (request: Request) => Promise<Response> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options is invalid: give an object')
  if (options.trustProxy !== undefined && typeof options.trustProxy !== 'boolean') {
    throw new TypeError('option trustProxy is invalid: give true or false')
  }
  return async (request) => {
    const session = readSession(sessions, request)
    const response = await handler(request, session)
    return commitSession(sessions, session, response, { ...options, request })
  }
}
