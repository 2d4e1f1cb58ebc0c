/**
 * `frasco/fetch`: sessions for the Web Fetch API (`Request`, `Response`, `Headers`), for Hono,
 * Next.js route handlers, Bun, Deno and any server built on those types.
 *
 * @module
 */
import { assertTrustProxy } from '../lib/vary.js'
import type { Session, SessionData } from '../session.js'
import type { Sessions } from '../sessions.js'

/**
 * Options of the Fetch adapter.
 *
 * @example
 * ```ts
 * const options: FetchSessionOptions = { trustProxy: true } // behind a proxy that sets X-Forwarded-Proto
 * const fetchHandler = withSessions(sessions, (request, session) => new Response('ok'), options)
 * ```
 */
export interface FetchSessionOptions {
  /**
   * Trust `X-Forwarded-Proto` when deciding `Secure` for `cookie.secure: 'auto'`. Only behind a
   * proxy that sets (and overwrites) that header.
   */
  trustProxy?: boolean
}

function isSecure(request: Request, trustProxy: boolean): boolean {
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

/**
 * Appends the session's `Set-Cookie` headers (never replacing existing ones) and merges `Cookie`
 * into `Vary`: the same arguments, in the same order, as `commitSession` of `frasco/node`.
 * Given a `Headers`, it is changed in place and returned. Given a `Response`, its headers are
 * changed in place when they are mutable; a response with immutable headers (such as
 * `Response.redirect()` or a `fetch()` result) is copied. A network error (`Response.error()`,
 * status 0) is returned unchanged: no cookie can travel with it. Always use the returned value.
 *
 * @throws {CookieTooLarge} when the session does not fit; nothing was appended.
 * @throws {TypeError} when the session holds a value that cannot be stored; nothing was appended.
 * @example
 * ```ts
 * const session = readSession(sessions, request)
 * session.set('username', 'admin')
 * return commitSession(sessions, request, Response.redirect(new URL('/', request.url), 303), session)
 * ```
 */
export function commitSession<T extends object, R extends Headers | Response>(
  sessions: Sessions<T>,
  request: Request,
  target: R,
  session: Session<T>,
  options?: FetchSessionOptions,
): R {
  const trustProxy = assertTrustProxy(options, 'commitSession')
  // Duck-typed: a Request of another realm or library (undici's, a framework's subclass) also works.
  if (typeof (request as Partial<Request> | null)?.url !== 'string' || typeof (request as Partial<Request>).headers?.get !== 'function') {
    throw new TypeError('request is invalid: commitSession takes (sessions, request, response, session, options); 0.1 took (sessions, session, response, { request })')
  }
  // A network error (Response.error(), type 'error'), or an opaque fetch result: status 0, headers
  // that cannot change, and `new Response(…)` cannot copy it (status 0 is out of range). A network
  // error reaches the client as a failed fetch, cookies or not, so it goes back as it came.
  if (!(target instanceof Headers) && (target as Response).status === 0) return target
  const headers = target instanceof Headers ? target : (target as Response).headers
  const { setCookie, vary } = sessions.commit(session, {
    secure: sessions.secureAuto && isSecure(request, trustProxy),
    vary: headers.get('vary'),
  })
  if (setCookie.length === 0 && vary === undefined) return target
  if (target instanceof Headers) {
    write(target, setCookie, vary)
    return target
  }
  const response = target as Response
  try {
    write(response.headers, setCookie, vary)
    return target
  } catch {
    // Immutable headers (Response.redirect, fetch results): copy the response.
    const copy = new Response(response.body, response)
    write(copy.headers, setCookie, vary)
    return copy as R
  }
}

function write(headers: Headers, cookies: readonly string[], vary: string | undefined): void {
  for (const cookie of cookies) headers.append('set-cookie', cookie)
  if (vary !== undefined) headers.set('vary', vary)
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
  options?: FetchSessionOptions,
): (request: Request) => Promise<Response> {
  const trustProxy = assertTrustProxy(options, 'withSessions')
  return async (request) => {
    const session = readSession(sessions, request)
    const response = await handler(request, session)
    return commitSession(sessions, request, response, session, { trustProxy })
  }
}
