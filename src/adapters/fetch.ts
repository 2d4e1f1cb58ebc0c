/**
 * `frasco/fetch`: sessions for the Web Fetch API (`Request`, `Response`, `Headers`), for Hono,
 * Next.js route handlers, Bun, Deno and any server built on those types.
 *
 * @module
 */
import { checkToken, csrfOption, NEEDS_TOKEN, type CsrfOptions } from '../csrf.js'
import { ChangedAfterCommit, CsrfRefused } from '../errors.js'
import { report, type Reporter } from '../lib/report.js'
import { assertTrustProxy, insecureCookieWarning, writesSecure } from '../lib/vary.js'
import { watchSession, type Session, type SessionData, type SessionWatcher } from '../session.js'
import { isStoredSessions, type SessionCommit, type Sessions, type StoredSessions } from '../sessions.js'
import { checkRequestHeaders, defaultOnError, isSecure, refuse, requestToken } from './request.js'

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
   * proxy that sets (and overwrites) that header. An https request URL always counts as secure,
   * whatever the header says (the rule of `frasco/node`, where a TLS socket wins).
   */
  trustProxy?: boolean
}

/**
 * Options of {@link withSessions}.
 *
 * @example
 * ```ts
 * const handler = withSessions(sessions, app, {
 *   onError: (error, request) => log.warn({ code: (error as { code?: string }).code, url: request.url }),
 * })
 * ```
 */
export interface WithSessionsOptions extends FetchSessionOptions {
  /**
   * Called when the session changes after the handler returned its Response (say, while its body
   * streams): the cookie is already on that Response, so the change is lost, and this hears of it
   * as `ChangedAfterCommit` (`ERR_SESSION_CHANGED_AFTER_COMMIT`). An exception it throws is
   * swallowed. Also called once per session manager when a `Secure` cookie was set on a request
   * that did not arrive over https for a host other than localhost (`SecureCookieOverHttp`,
   * `ERR_SESSION_SECURE_COOKIE_OVER_HTTP`: browsers drop that cookie; `commitSession` reports it
   * with a `console.warn` line). Default: one `console.error` line with the code and the request's
   * method and path (never the query, the cookie or a session value); the Secure-cookie warning is
   * one `console.warn` line.
   */
  onError?: (error: unknown, request: Request) => void
  /**
   * CSRF protection (docs/csrf.md): `true` for the defaults, or {@link CsrfOptions}. Before the
   * handler runs, an unsafe request (not GET, HEAD, OPTIONS or TRACE) is refused when the
   * browser's `Sec-Fetch-Site` or `Origin` header says another site sent it, or, without either
   * header, when it carries no valid token of its session in the `x-csrf-token` header or the
   * `_csrf` field of a form body (`application/x-www-form-urlencoded` or `multipart/form-data`,
   * read from a clone, so the handler can still read the body). A refusal is a 403
   * `Forbidden: <code>` without the session cookie; the handler does not run, and `onError` gets
   * the {@link CsrfRefused} error (the default prints one `console.warn` line with its code, the
   * method and the path). Default: off.
   */
  csrf?: boolean | CsrfOptions
}

const WITH_SESSIONS_KEYS: ReadonlySet<string> = new Set(['trustProxy', 'onError', 'csrf'])

/**
 * Reads the session of a request from its `Cookie` header. Never throws on bad input. With a
 * store-backed manager (`createSessions({ store })`) it returns a promise: `await` works on both.
 *
 * @example
 * ```ts
 * const session = await readSession(sessions, request)
 * session.get('username')
 * ```
 */
export function readSession<T extends object>(sessions: StoredSessions<T>, request: Request): Promise<Session<T>>
export function readSession<T extends object>(sessions: Sessions<T>, request: Request): Session<T>
export function readSession<T extends object>(sessions: Sessions<T> | StoredSessions<T>, request: Request): Session<T> | Promise<Session<T>> {
  const cookie = request.headers.get('cookie')
  return isStoredSessions(sessions) ? sessions.load(cookie) : sessions.read(cookie)
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
  sessions: StoredSessions<T>,
  request: Request,
  target: R,
  session: Session<T>,
  options?: FetchSessionOptions,
): Promise<R>
export function commitSession<T extends object, R extends Headers | Response>(
  sessions: Sessions<T>,
  request: Request,
  target: R,
  session: Session<T>,
  options?: FetchSessionOptions,
): R
export function commitSession<T extends object, R extends Headers | Response>(
  sessions: Sessions<T> | StoredSessions<T>,
  request: Request,
  target: R,
  session: Session<T>,
  options?: FetchSessionOptions,
): R | Promise<R> {
  return commitTo(sessions, request, target, session, assertTrustProxy(options, 'commitSession'), undefined, defaultOnError)
}

/** {@link commitSession} with its options checked; `status` is passed to commit (no cookie on a 5xx). */
function commitTo<T extends object, R extends Headers | Response>(
  sessions: Sessions<T> | StoredSessions<T>,
  request: Request,
  target: R,
  session: Session<T>,
  trustProxy: boolean,
  status: number | undefined,
  onError: Reporter<Request>,
): R | Promise<R> {
  // Duck-typed: a Request of another realm or library (undici's, a framework's subclass) also works.
  if (typeof (request as Partial<Request> | null)?.url !== 'string' || typeof (request as Partial<Request>).headers?.get !== 'function') {
    throw new TypeError('request is invalid: commitSession takes (sessions, request, response, session, options); 0.1 took (sessions, session, response, { request })')
  }
  // A network error (Response.error(), type 'error'), or an opaque fetch result: status 0, headers
  // that cannot change, and `new Response(…)` cannot copy it (status 0 is out of range). A network
  // error reaches the client as a failed fetch, cookies or not, so it goes back as it came.
  if (!(target instanceof Headers) && (target as Response).status === 0) return target
  const headers = target instanceof Headers ? target : (target as Response).headers
  const secure = sessions.secureAuto && isSecure(request, trustProxy)
  const vary = headers.get('vary')
  const context = status === undefined ? { secure, vary } : { secure, vary, status }
  if (isStoredSessions(sessions)) return sessions.save(session, context).then((result) => finish(sessions, request, target, result, onError, secure))
  return finish(sessions, request, target, sessions.commit(session, context), onError, secure)
}

/** `secure`: what the commit was asked for (see writesSecure). */
function finish<R extends Headers | Response>(sessions: { readonly secure: boolean | 'auto' }, request: Request, target: R, result: SessionCommit, onError: Reporter<Request>, secure: boolean): R {
  if (result.setCookie.length > 0 && writesSecure(sessions, secure)) warnIfInsecure(sessions, request, onError)
  return writeTo(target, result.setCookie, result.vary)
}

/** Writes onto `target` in place, or onto a copy when its headers are immutable. */
function writeTo<R extends Headers | Response>(target: R, setCookie: readonly string[], vary: string | undefined): R {
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

/** Reports the Secure session cookie just set, when the request did not arrive over https (once per manager). */
function warnIfInsecure(sessions: object, request: Request, onError: Reporter<Request>): void {
  let host = ''
  try {
    host = new URL(request.url).host
  } catch {
    // A Request always has an absolute URL; a look-alike might not.
  }
  const { headers } = request
  const warning = insecureCookieWarning(sessions, true, request.url.startsWith('https:'), headers.get('x-forwarded-proto'), headers.get('forwarded'), host)
  if (warning !== undefined) report(onError, warning, request)
}

/** Reports a change made after the Response was returned. One small object per request, no closure. */
class LateChange implements SessionWatcher {
  constructor(
    readonly request: Request,
    readonly onError: Reporter<Request>,
  ) {}

  sessionChanged(): void {
    report(this.onError, new ChangedAfterCommit(), this.request)
  }
}

/**
 * Wraps a Fetch handler so it receives the request's session, committed onto its response.
 *
 * A handler that throws or rejects commits nothing (the rejection is passed on), and a 5xx
 * Response it returns carries no session cookie: the client keeps the session it had. To keep a
 * session on a 5xx anyway, call {@link commitSession} on it yourself. A change to the session
 * after the handler returned (while a streamed body is still being written) cannot reach the
 * client: it is reported to `options.onError` as `ChangedAfterCommit`.
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
  sessions: Sessions<T> | StoredSessions<T>,
  handler: (request: Request, session: Session<T>) => Response | Promise<Response>,
  options?: WithSessionsOptions,
): (request: Request) => Promise<Response> {
  const trustProxy = assertTrustProxy(options, 'withSessions', WITH_SESSIONS_KEYS)
  const onError = options?.onError === undefined ? defaultOnError : options.onError
  if (typeof onError !== 'function') throw new TypeError('option onError is invalid: give a function (error, request) => void')
  const csrf = csrfOption(options?.csrf)
  return async (request) => {
    // The browser's headers first: a refusal costs no session read (no store round trip).
    const verdict = csrf === undefined ? undefined : checkRequestHeaders(request, csrf, trustProxy)
    if (verdict instanceof CsrfRefused) return refuse(verdict, request, onError)
    const cookie = request.headers.get('cookie')
    const session = isStoredSessions(sessions) ? await sessions.load(cookie) : sessions.read(cookie)
    if (csrf !== undefined && verdict === NEEDS_TOKEN) {
      const refused = checkToken(await requestToken(request, csrf), session, csrf)
      if (refused !== undefined) return refuse(refused, request, onError)
    }
    const response = await handler(request, session)
    // With the status, commit writes no cookie on a 5xx: nothing half-written goes out.
    const status = (response as Partial<Response> | null)?.status
    const committed = await commitTo(sessions, request, response, session, trustProxy, typeof status === 'number' && status >= 100 ? status : undefined, onError)
    watchSession(session, new LateChange(request, onError))
    return committed
  }
}
