/**
 * `frasco/node/globals`: types `req.session`, `req.flash` and `req.csrfToken()` on every
 * `http.IncomingMessage`, and so on Express's and Connect's `req`, for an app that uses
 * `sessionMiddleware` or `withSessions`. Import it once, for its types, and say what your sessions hold:
 *
 * ```ts
 * import type {} from 'frasco/node/globals'
 *
 * declare module 'frasco/node/globals' {
 *   interface RequestSessionData {
 *     username: string
 *     visits: number
 *   }
 * }
 * ```
 *
 * Opt-in, because it changes a global type: a program that needs two session types on its
 * requests types them with `SessionRequest<T>` of `frasco/node` instead.
 *
 * @module
 */
import type { Session, SessionData } from '../session.js'
import type { RequestCsrfToken, RequestFlash } from './node.js'

/**
 * What `req.session` holds. Empty until you declare its keys (see the module's example); while
 * it is empty, `req.session` is an untyped {@link Session}.
 *
 * @example
 * ```ts
 * import type {} from 'frasco/node/globals'
 *
 * declare module 'frasco/node/globals' {
 *   interface RequestSessionData {
 *     user: string
 *   }
 * }
 * ```
 */
export interface RequestSessionData {}

/**
 * The type of `req.session`: `Session<RequestSessionData>`, or `Session` while
 * {@link RequestSessionData} declares no key.
 *
 * @example
 * ```ts
 * import type { RequestSession } from 'frasco/node/globals'
 *
 * function username(session: RequestSession): unknown {
 *   return session.get('username')
 * }
 * ```
 */
export type RequestSession = Session<keyof RequestSessionData extends never ? SessionData : RequestSessionData>

declare module 'http' {
  interface IncomingMessage {
    /**
     * The request's session, read from its cookie on first use (`sessionMiddleware` and
     * `withSessions` of `frasco/node` put it there). `req.session = null` ends it.
     */
    get session(): RequestSession
    set session(value: RequestSession | null | undefined)
    /** connect-flash's `req.flash`, over the session's flashes. */
    flash: RequestFlash
    /** csurf's `req.csrfToken()`: a CSRF token for the request's session. */
    csrfToken: RequestCsrfToken
  }
}
