/**
 * `frasco/hono`: sessions for Hono 4, on any runtime it runs on (Node.js through
 * `@hono/node-server`, Bun, Deno, Cloudflare Workers): `app.use(sessionMiddleware(sessions))`,
 * then `c.get('session')` in the routes.
 *
 * The work is done by `withSessions` of `frasco/fetch` (the CSRF check, the load, the commit and
 * the reports, with its rules); this module connects it to Hono's middleware chain and writes
 * what it commits with `c.header`. Its types are structural: `frasco/hono` loads no Hono module,
 * and its declarations name none.
 *
 * @module
 */
import { csrfOption, type CsrfOptions } from '../csrf.js'
import type { Session, SessionData } from '../session.js'
import type { Sessions, StoredSessions } from '../sessions.js'
import { withSessions } from './fetch.js'
import { checkRequestCsrf, defaultOnError, refuse } from './request.js'

/**
 * The variables the middleware sets on Hono's context: `c.get('session')` (or `c.var.session`).
 * Intersect it with your own variables in an env of your own.
 *
 * @example
 * ```ts
 * type Env = { Variables: SessionVariables<{ username: string }> & { requestId: string } }
 * const app = new Hono<Env>()
 * ```
 */
export interface SessionVariables<T extends object = SessionData> {
  /** The request's session, typed by the manager's data. */
  session: Session<T>
}

/**
 * The Hono env that types `c.get('session')`: give it to `new Hono<SessionEnv<Data>>()`, with
 * `Data` the type of the manager's `createSessions<Data>()`.
 *
 * @example
 * ```ts
 * const sessions = createSessions<{ username: string }>({ secrets: secretsFromEnv() })
 * const app = new Hono<SessionEnv<{ username: string }>>()
 * app.use(sessionMiddleware(sessions))
 * app.get('/', (c) => c.text(c.get('session').username ?? 'anonymous'))
 * ```
 */
export interface SessionEnv<T extends object = SessionData> {
  Variables: SessionVariables<T>
}

/**
 * Options of {@link sessionMiddleware}. Strict: an unknown key is a `TypeError` naming it.
 *
 * @example
 * ```ts
 * const options: SessionMiddlewareOptions = {
 *   csrf: true,
 *   onError: (error, request) => log.warn({ code: (error as { code?: string }).code, url: request.url }),
 * }
 * app.use(sessionMiddleware(sessions, options))
 * ```
 */
export interface SessionMiddlewareOptions {
  /**
   * Trust `X-Forwarded-Proto` when deciding `Secure` for `cookie.secure: 'auto'` (and the app's
   * origin for the CSRF check). Only behind a proxy that sets (and overwrites) that header. An
   * https request URL always counts as secure, whatever the header says. Default false.
   */
  trustProxy?: boolean
  /**
   * Hears what cannot be answered with an exception: a request the `csrf` option refused
   * (`CsrfRefused`); a change to the session after it was committed (`ChangedAfterCommit`,
   * `ERR_SESSION_CHANGED_AFTER_COMMIT`: an outer middleware changed it after `await next()`, or
   * a streamed body did; the change is lost); and, once per session manager, a `Secure` cookie
   * set on a request that did not arrive over https for a host other than localhost
   * (`SecureCookieOverHttp`, `ERR_SESSION_SECURE_COOKIE_OVER_HTTP`: browsers drop that cookie).
   * `request` is the Fetch Request (`c.req.raw`). An exception it throws is swallowed. Default:
   * one `console.warn` line for a refusal and for the Secure-cookie warning, one `console.error`
   * line for a late change, each with the code and the request's method and path (never the
   * query, the cookie or a session value). A session that cannot be stored is thrown instead, to
   * Hono's error handler (`app.onError`).
   */
  onError?: (error: unknown, request: Request) => void
  /**
   * CSRF protection (docs/csrf.md): `true` for the defaults, or {@link CsrfOptions}. Before the
   * routes run, an unsafe request (not GET, HEAD, OPTIONS or TRACE) is refused when the browser's
   * `Sec-Fetch-Site` or `Origin` header says another site sent it (no session is read for that),
   * or, without either header, when it carries no valid token of its session in the
   * `x-csrf-token` header or the `_csrf` field of a form body (urlencoded or multipart, with a
   * declared `Content-Length` of at most 64 KiB, read from a clone: routes read the body as
   * usual). A refusal is a 403 `Forbidden: <code>` (text/plain) without the session cookie; no
   * route runs, and `onError` gets the `CsrfRefused` error. Default: off.
   */
  csrf?: boolean | CsrfOptions
}

/**
 * What the middleware uses of Hono's `Context`, declared here so that `frasco/hono` needs no Hono
 * types: the request, the response after the routes ran, `c.header` to write onto it, and
 * `c.set('session', …)`. Hono's own `Context` fits it, typed (`new Hono<SessionEnv<T>>()`) or not.
 *
 * @example
 * ```ts
 * // A test double, for calling the middleware without Hono.
 * const headers = new Headers()
 * const c: SessionContext<{ username: string }> = {
 *   req: { raw: new Request('https://app.example/') },
 *   res: new Response('ok'),
 *   header: (name, value, options) => (options?.append === true ? headers.append(name, value) : headers.set(name, value)),
 *   set: () => {},
 * }
 * ```
 */
export interface SessionContext<T extends object = SessionData> {
  readonly req: { readonly raw: Request }
  /** The response as the routes (and inner middleware) left it, read after `await next()`. */
  readonly res: Response
  /** Sets a response header, or appends it with `{ append: true }`; copies a response whose headers are immutable. */
  header(name: string, value: string, options?: { append?: boolean }): void
  set(key: 'session', value: Session<T>): void
  /**
   * Not used at run time: it lets the types refuse a Hono app whose env declares `session` as
   * something other than this manager's session.
   */
  readonly var?: { readonly session?: Session<T>; readonly [name: string]: unknown }
}

/**
 * The middleware {@link sessionMiddleware} returns: a Hono `MiddlewareHandler`, declared
 * structurally. `app.use` takes it on any `Hono`; type the app with {@link SessionEnv} for a
 * typed `c.get('session')`.
 *
 * @example
 * ```ts
 * const middleware: SessionMiddleware<{ username: string }> = sessionMiddleware(sessions)
 * new Hono<SessionEnv<{ username: string }>>().use(middleware)
 * ```
 */
export type SessionMiddleware<T extends object = SessionData> = (c: SessionContext<T>, next: () => Promise<void>) => Promise<Response | void>

const OPTION_KEYS: readonly string[] = ['trustProxy', 'onError', 'csrf']

/**
 * One request through the middleware: the Hono side of the handler `withSessions` calls. The
 * handler runs the rest of the chain, then hands `withSessions` a stand-in of Hono's response to
 * commit onto (its status and `Vary`, which is all a commit reads); {@link HonoCall.write} copies
 * what the commit added to Hono's response with `c.header`, Hono's own way of changing a response
 * after the routes, immutable ones (`fetch()` results, `Response.redirect()`) included.
 */
class HonoCall<T extends object> {
  /** Set once the chain ran: a request `withSessions` answered itself (a CSRF refusal) never gets here. */
  ran = false
  /** The app's `Vary`, as the routes left it. */
  vary: string | null = null

  constructor(
    readonly c: SessionContext<T>,
    readonly next: () => Promise<void>,
  ) {}

  async run(session: Session<T>): Promise<Response> {
    this.ran = true
    this.c.set('session', session)
    held.set(this.c, session)
    await this.next()
    // A network error (status 0) has nothing to carry a cookie: withSessions passes it by. So is
    // a request a second mount's CSRF check refused: no session cookie, no store write, whatever
    // rolling, a refresh or a middleware between the two mounts would otherwise commit.
    if (refusedInside.has(this.c)) return Response.error()
    const { status, headers } = this.c.res
    this.vary = headers.get('vary')
    if (status === 0) return Response.error()
    // A Response takes 200 to 599; the commit only asks whether the status is a 5xx (then no
    // cookie), so a 1xx (a WebSocket upgrade) stands in as a 200.
    const stand = status >= 200 && status <= 599 ? status : 200
    return new Response(null, this.vary === null ? { status: stand } : { status: stand, headers: { vary: this.vary } })
  }

  write(committed: Response): void {
    for (const cookie of committed.headers.getSetCookie()) this.c.header('Set-Cookie', cookie, { append: true })
    const vary = committed.headers.get('vary')
    if (vary !== null && vary !== this.vary) this.c.header('Vary', vary)
  }
}

/** Per Hono context (one per request, shared by sub-apps mounted with `app.route`): the manager whose middleware runs on it. */
const running = new WeakMap<object, object>()
/** Per Hono context: the session that manager's middleware set, for a second mount's CSRF check. */
const held = new WeakMap<object, Session<any>>()
/** Hono contexts whose request a second mount's CSRF check refused: the first mount commits nothing for them. */
const refusedInside = new WeakSet<object>()

function assertManager(sessions: unknown): void {
  const manager = sessions as Partial<Sessions & StoredSessions> | null
  if (typeof manager !== 'object' || manager === null || (typeof manager.read !== 'function' && typeof manager.load !== 'function')) {
    throw new TypeError('sessions is invalid: give the manager createSessions returns, e.g. sessionMiddleware(createSessions({ secrets: secretsFromEnv() }))')
  }
}

function assertOptionsObject(options: unknown): void {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new TypeError(`options are invalid: sessionMiddleware takes an options object with ${OPTION_KEYS.map((key) => `\`${key}\``).join(', ')}, e.g. { csrf: true }, or nothing`)
  }
}

/**
 * Hono middleware: before the routes, the request's session is read from its cookie (with a
 * store-backed manager, loaded and awaited) and set as `c.get('session')`; after them, it is
 * committed onto `c.res` with `c.header`: each `Set-Cookie` appended (the app's own cookies stay),
 * `Cookie` merged into the app's `Vary`, nothing written when nothing changed, a deletion on
 * logout. With a store, the store has the session before the response goes out.
 *
 * A 5xx response (`app.onError`'s answer to a route that threw, or one the app sends) gets no
 * session cookie: the client keeps the session it had. A session that cannot be stored
 * (`CookieTooLarge`), or a store that fails to save, is thrown to Hono's error handler, whose 500
 * goes out without the session cookie. A change to the session after the commit is reported to
 * `options.onError`. Mounted again in a sub-app (`app.route`) with the same manager, the first one
 * reads and commits the session, and the second adds its own CSRF check (if it has one): a
 * request that check refuses is committed by neither (no cookie, no store write), whatever a
 * middleware between the two mounts changed. Types: see {@link SessionEnv}.
 *
 * Use it first (`app.use` before any other middleware): a middleware around it that throws after
 * `await next()` gets `app.onError`'s answer, onto which Hono copies the headers already set,
 * the session cookie committed for the 200 included.
 *
 * @throws {TypeError} when `sessions` is not a session manager, or an option is unknown or invalid
 *   (the message names it).
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { createSessions, secretsFromEnv } from 'frasco'
 * import { sessionMiddleware, type SessionEnv } from 'frasco/hono'
 *
 * type Data = { username: string }
 * const sessions = createSessions<Data>({ secrets: secretsFromEnv() })
 * const app = new Hono<SessionEnv<Data>>()
 * app.use(sessionMiddleware(sessions, { csrf: true }))
 * app.get('/', (c) => c.text(c.get('session').username ?? 'anonymous'))
 * ```
 */
export function sessionMiddleware<T extends object = SessionData>(sessions: Sessions<T> | StoredSessions<T>, options?: SessionMiddlewareOptions): SessionMiddleware<T> {
  assertManager(sessions)
  assertOptionsObject(options)
  // withSessions hands its handler the Request only; the call of that request waits here.
  const calls = new WeakMap<Request, HonoCall<T>>()
  const handle = withSessions<T>(
    sessions,
    (request, session) => {
      const call = calls.get(request) as HonoCall<T>
      calls.delete(request)
      return call.run(session)
    },
    options,
  )
  // For a second mount of the same manager (a sub-app's own middleware), which withSessions never
  // sees: its CSRF check still applies to the routes behind it. Options are checked by withSessions.
  const csrf = csrfOption(options?.csrf)
  const trustProxy = options?.trustProxy === true
  const onError = options?.onError ?? defaultOnError
  return async (c, next) => {
    const manager = running.get(c)
    if (manager === sessions) {
      const refused = csrf === undefined ? undefined : await checkRequestCsrf(c.req.raw, held.get(c) as Session<T>, csrf, trustProxy)
      if (refused === undefined) return next()
      refusedInside.add(c)
      return refuse(refused, c.req.raw, onError)
    }
    if (manager !== undefined) {
      throw new TypeError("sessionMiddleware: two session managers' middleware run on one request, and Hono has one c.get('session'): use one manager per app (or per route)")
    }
    running.set(c, sessions)
    const request = c.req.raw
    const call = new HonoCall(c, next)
    calls.set(request, call)
    try {
      const response = await handle(request)
      // Not run: withSessions answered itself, a CSRF refusal (403, no session cookie).
      if (!call.ran) return response
      call.write(response)
      return undefined
    } finally {
      if (calls.get(request) === call) calls.delete(request)
    }
  }
}
