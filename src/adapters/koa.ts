/**
 * `frasco/koa`: sessions for Koa 3: `app.use(sessionMiddleware(sessions))`, then `ctx.session` in
 * the middleware after it.
 *
 * Koa sends the response only once every middleware has returned, so the middleware reads the
 * session before `await next()` and commits it after, with `ctx.append('Set-Cookie', …)` and
 * `ctx.set('Vary', …)`, on top of whatever the app set. Its types are structural: `frasco/koa`
 * loads no Koa module. Importing it types `ctx.session` on Koa's `DefaultContext` (a type-only
 * augmentation of `koa`, the `@types/koa` package); say what your sessions hold with
 * {@link KoaSessionData}:
 *
 * ```ts
 * declare module 'frasco/koa' {
 *   interface KoaSessionData {
 *     username: string
 *   }
 * }
 * ```
 *
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
// Types only, erased from the JavaScript: it brings Koa's declarations (@types/koa) into the
// program, so that the augmentation below has a module to merge into.
import type {} from 'koa'
import { checkHeaders, checkToken, csrfOption, isSafeMethod, NEEDS_TOKEN, type CsrfConfig, type CsrfOptions } from '../csrf.js'
import { ChangedAfterCommit, CsrfRefused } from '../errors.js'
import { assertKnownKeys, type Hints } from '../lib/options.js'
import { createReporter, report, type Reporter } from '../lib/report.js'
import { insecureCookieWarning, writesSecure } from '../lib/vary.js'
import { getSessionState, holdSession, watchSession, type Session, type SessionData, type SessionHolder, type SessionWatcher } from '../session.js'
import { isStoredSessions, type CommitContext, type SessionCommit, type Sessions, type StoredSessions } from '../sessions.js'

/**
 * What `ctx.session` holds. Empty until you declare its keys by declaration merging; while it is
 * empty, `ctx.session` is an untyped {@link Session}.
 *
 * @example
 * ```ts
 * import type {} from 'frasco/koa'
 *
 * declare module 'frasco/koa' {
 *   interface KoaSessionData {
 *     username: string
 *     visits: number
 *   }
 * }
 * ```
 */
export interface KoaSessionData {}

/**
 * The type of `ctx.session`: `Session<KoaSessionData>`, or `Session` while {@link KoaSessionData}
 * declares no key.
 *
 * @example
 * ```ts
 * import type { KoaSession } from 'frasco/koa'
 *
 * function username(session: KoaSession): unknown {
 *   return session.get('username')
 * }
 * ```
 */
export type KoaSession = Session<keyof KoaSessionData extends never ? SessionData : KoaSessionData>

/**
 * The `ctx.session` this module adds to Koa's context: read it for the request's session, assign
 * `null` to end it (koa-session's idiom). Koa's `DefaultContext` gets it when `frasco/koa` is
 * imported; an app typed with a context of its own (`new Koa<DefaultState, AppContext>()`)
 * extends it.
 *
 * @example
 * ```ts
 * import Koa, { type DefaultState } from 'koa'
 * import type { KoaSessionContext } from 'frasco/koa'
 *
 * interface AppContext extends KoaSessionContext {
 *   requestId: string
 * }
 * const app = new Koa<DefaultState, AppContext>()
 * app.use(sessionMiddleware(sessions))
 * app.use(async (ctx) => {
 *   ctx.body = String(ctx.session.get('username') ?? 'anonymous')
 * })
 * ```
 */
export interface KoaSessionContext {
  /**
   * The request's session: with a cookie-only manager, read from its cookie on first use (a
   * request that never touches it costs no signature check and gets no `Vary: Cookie`); with a
   * store, loaded before the next middleware ran. `ctx.session = null` ends it (the cookie is
   * deleted); any other value is a `TypeError`: start over with `ctx.session.regenerate()`.
   */
  get session(): KoaSession
  set session(value: KoaSession | null | undefined)
}

declare module 'koa' {
  // Koa's own augmentation point for context properties (@types/koa).
  interface DefaultContext extends KoaSessionContext {}
}

/**
 * What the middleware uses of Koa's `ctx`, declared here so that `frasco/koa` needs no Koa
 * module: the request and how Koa reads it (`ctx.protocol`, `ctx.host` and `ctx.secure` follow
 * `app.proxy`), the response's status and headers, and `ctx.throw`. Koa's own context fits it,
 * whatever the app's state and context types.
 *
 * @example
 * ```ts
 * import type { Context } from 'koa'
 * import type { SessionContext } from 'frasco/koa'
 *
 * const fits = (ctx: Context): SessionContext => ctx
 * ```
 */
export interface SessionContext {
  readonly req: IncomingMessage
  /** `ctx.request`: its `body`, when a body parser put one there, may carry the CSRF token's form field. */
  readonly request: object
  readonly response: { get(field: string): string | readonly string[] | number | undefined }
  readonly method: string
  readonly path: string
  readonly protocol: string
  readonly host: string
  readonly secure: boolean
  readonly headerSent: boolean
  readonly status: number
  /** A request header, `''` when absent. */
  get(field: string): string
  set(field: string, value: string | string[]): void
  append(field: string, value: string | string[]): void
  throw(status: number, message: string, properties: { code: string }): never
}

/**
 * The middleware {@link sessionMiddleware} returns: a Koa middleware, declared structurally.
 * `app.use` takes it on any Koa app, typed with its own state and context or not.
 *
 * @example
 * ```ts
 * const middleware: SessionMiddleware = sessionMiddleware(sessions)
 * new Koa().use(middleware)
 * ```
 */
export type SessionMiddleware = (ctx: SessionContext, next: () => Promise<unknown>) => Promise<void>

/**
 * Options of {@link sessionMiddleware}. Strict: an unknown key is a `TypeError` naming it. There
 * is no `trustProxy`: Koa has its own, `app.proxy`, which `ctx.secure` (and so `cookie.secure:
 * 'auto'`) and the CSRF check's idea of the app's origin follow.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions, {
 *   csrf: true,
 *   onError: (error, ctx) => log.warn({ code: (error as { code?: string }).code, path: ctx.path }),
 * }))
 * ```
 */
export interface SessionMiddlewareOptions {
  /**
   * CSRF protection (docs/csrf.md): `true` for the defaults, or {@link CsrfOptions}. Before the
   * next middleware runs, an unsafe request (not GET, HEAD, OPTIONS or TRACE) is refused when the
   * browser's `Sec-Fetch-Site` or `Origin` header says another site sent it (no session is read
   * for that; the app's origin is `ctx.protocol://ctx.host`, which follow `app.proxy`), or,
   * without either header, when it carries no valid token of its session in the `x-csrf-token`
   * header or, once a body parser such as `@koa/bodyparser` ran before the middleware, the
   * `_csrf` field of `ctx.request.body`. The middleware never reads the body itself. A refusal is
   * `ctx.throw(403, 'Forbidden: <code>', { code })`: Koa answers it in plain text, without the
   * session cookie (an error middleware of yours sees it first); `onError` gets the
   * {@link CsrfRefused} error. Default: off.
   */
  csrf?: boolean | CsrfOptions
  /**
   * Hears what cannot be answered with an exception: a request the `csrf` option refused
   * (`CsrfRefused`); a change to the session after it was committed (`ChangedAfterCommit`,
   * `ERR_SESSION_CHANGED_AFTER_COMMIT`: an outer middleware changed it after `await next()`, or
   * the app changed it and then sent the headers itself; the change is lost); and, once per
   * session manager, a `Secure` cookie set on a request that did not arrive over https for a host
   * other than localhost (`SecureCookieOverHttp`, `ERR_SESSION_SECURE_COOKIE_OVER_HTTP`: browsers
   * drop that cookie). An exception it throws is swallowed. Default: one `console.warn` line for
   * a refusal and for the Secure-cookie warning, one `console.error` line for a late change,
   * each with the code and the request's method and path (never the query, the cookie or a
   * session value). A session that cannot be stored (`CookieTooLarge`) and a failing store are
   * thrown instead, to Koa's error handling (your error middleware, `app.on('error')`), whose 500
   * goes out without the session cookie.
   */
  onError?(error: unknown, ctx: SessionContext): void
}

type AnySessions = Sessions<SessionData> | StoredSessions<SessionData>

type ErrorReporter = Reporter<SessionContext>

/** The slot, on `ctx`, that holds the request's {@link Layer}. */
const LAYER: unique symbol = Symbol('frasco.koa.session')

type Carrier = { [LAYER]?: Layer }

/**
 * One request's session. One class, so every request has the same shape, and the `ctx.session`
 * accessor (one for the whole app) finds its state here.
 */
class Layer implements SessionWatcher, SessionHolder {
  session: Session<SessionData> | undefined = undefined
  /** Set once the session was committed (or could no longer be): a change after that is reported. */
  committed = false

  constructor(
    readonly sessions: AnySessions,
    readonly ctx: SessionContext,
    readonly onError: ErrorReporter,
  ) {}

  /** The session, read from the cookie on first use (cookie-only managers). */
  read(): Session<SessionData> {
    if (this.session !== undefined) return this.session
    const sessions = this.sessions
    if (isStoredSessions(sessions)) throw new TypeError('ctx.session is not loaded yet: with a store, sessionMiddleware loads it before calling the next middleware')
    const session = sessions.read(this.ctx.req.headers.cookie)
    this.hold(session)
    return session
  }

  hold(session: Session<SessionData>): void {
    this.session = session
    // ctx.session.regenerate(callback), express-session's form (Passport's), hands out a new session.
    holdSession(session, this)
    // First read after the commit: any change to it is already too late.
    if (this.committed) watchSession(session, this)
  }

  /** From now on, a change to the session cannot reach the client: report it. */
  seal(): void {
    this.committed = true
    if (this.session !== undefined) watchSession(this.session, this)
  }

  sessionChanged(): void {
    report(this.onError, new ChangedAfterCommit(), this.ctx)
  }

  sessionReplaced(next: Session<SessionData>): void {
    this.session = next
    if (this.committed) watchSession(next, this)
  }
}

function layerOf(ctx: unknown): Layer {
  const layer = (ctx as Carrier | null | undefined)?.[LAYER]
  if (layer === undefined) {
    throw new TypeError('ctx.session is only available once sessionMiddleware of frasco/koa ran on this request: app.use(sessionMiddleware(sessions)) before the middleware that uses it')
  }
  return layer
}

// One accessor for the whole app, on the prototype Koa makes each ctx from: a request that never
// touches ctx.session pays for no read, and no request gets a property defined of its own.
const SESSION_PROPERTY: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: unknown) {
    return layerOf(this).read()
  },
  set(this: unknown, value: unknown) {
    const layer = layerOf(this)
    // koa-session's idiom: `ctx.session = null` ends the session.
    if (value === null || value === undefined) {
      layer.read().destroy()
      return
    }
    throw new TypeError('ctx.session cannot be replaced: set its keys (after ctx.session.regenerate() to start a new session), or assign null to end it')
  },
}

/** The context prototypes that have the accessor (one per Koa app). */
const installed = new WeakSet<object>()

function install(ctx: SessionContext): void {
  const proto: unknown = Object.getPrototypeOf(ctx)
  if (typeof proto !== 'object' || proto === null || installed.has(proto)) return
  let ours = false
  for (let at: object | null = proto; at !== null && !ours; at = Object.getPrototypeOf(at) as object | null) {
    const existing = Object.getOwnPropertyDescriptor(at, 'session')
    if (existing === undefined) continue
    if (existing.get !== SESSION_PROPERTY.get) {
      throw new TypeError('ctx.session is already defined on this app (by koa-session?): sessionMiddleware of frasco/koa replaces it; remove the other session middleware')
    }
    ours = true
  }
  if (!ours) Object.defineProperty(proto, 'session', SESSION_PROPERTY)
  installed.add(proto)
}

/** The default `onError`: a request is named by `ctx.method` and `ctx.path` (never the query). */
const defaultOnError: ErrorReporter = createReporter((ctx) => `${ctx.method} ${ctx.path}`, 'it was committed')

// -------------------------------------------------------------------------------------------------
// CSRF
// -------------------------------------------------------------------------------------------------

// A Host header is the client's: only one that looks like a host makes an origin.
const PLAIN_HOST = /^[a-z0-9.:[\]-]{1,255}$/i

/**
 * The app's origin for this request, as browsers serialize it ('' when unusable, which no Origin
 * matches). Not `ctx.origin`: since Koa 3 that is the request's Origin header, which would always
 * match itself. `ctx.protocol` and `ctx.host` follow `app.proxy`, as `ctx.secure` does.
 */
function appOrigin(ctx: SessionContext): string {
  const scheme = ctx.protocol
  const host = ctx.host
  if ((scheme !== 'http' && scheme !== 'https') || !PLAIN_HOST.test(host)) return ''
  try {
    return new URL(`${scheme}://${host}`).origin
  } catch {
    return ''
  }
}

/** The token: the header, else the form field a body parser (@koa/bodyparser) put on ctx.request.body. */
function requestToken(ctx: SessionContext, config: CsrfConfig): string | undefined {
  const header = ctx.get(config.header)
  if (header !== '') return header
  const body = (ctx.request as { body?: unknown }).body
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, config.field)) return undefined
  const value = (body as Record<string, unknown>)[config.field]
  return typeof value === 'string' ? value : undefined
}

/** A refused request: nothing it carried is written back, and the next middleware never runs. */
function refuse(ctx: SessionContext, layer: Layer, error: CsrfRefused): never {
  layer.seal()
  report(layer.onError, error, ctx)
  ctx.throw(403, `Forbidden: ${error.code}`, { code: error.code })
}

/** The browser's headers: refused (thrown), allowed (undefined), or a token is needed. */
function checkBrowser(ctx: SessionContext, layer: Layer, config: CsrfConfig): typeof NEEDS_TOKEN | undefined {
  const method = ctx.method
  if (isSafeMethod(method)) return undefined
  const verdict = checkHeaders({ method, origin: appOrigin(ctx), header: (name) => ctx.get(name) }, config)
  if (verdict instanceof CsrfRefused) refuse(ctx, layer, verdict)
  return verdict
}

function checkRequestToken(ctx: SessionContext, layer: Layer, config: CsrfConfig): void {
  const refused = checkToken(requestToken(ctx, config), layer.read(), config)
  if (refused !== undefined) refuse(ctx, layer, refused)
}

// -------------------------------------------------------------------------------------------------
// The commit
// -------------------------------------------------------------------------------------------------

/** Appends the session's cookies after the app's own, and sets the merged Vary. */
function write(layer: Layer, { setCookie, vary }: SessionCommit): void {
  const { ctx } = layer
  if (setCookie.length > 0) {
    const { headers, socket } = ctx.req
    const direct = (socket as TLSSocket | null | undefined)?.encrypted === true
    // The commit context's secure is ctx.secure (see commit below), which 'auto' follows.
    const secure = writesSecure(layer.sessions, ctx.secure)
    const warning = insecureCookieWarning(layer.sessions, secure, direct, headers['x-forwarded-proto'], headers.forwarded, headers.host)
    if (warning !== undefined) report(layer.onError, warning, ctx)
    ctx.append('Set-Cookie', setCookie)
  }
  if (vary !== undefined) ctx.set('Vary', vary)
}

/**
 * Commits the layer's session onto the response: with `status`, none on a 5xx (the automatic
 * commit); without, whatever the status (by hand). Throws (or rejects) what commit and save throw.
 */
async function commit(layer: Layer, status: number | undefined): Promise<void> {
  const { session, sessions, ctx } = layer
  if (session === undefined) {
    // Never read: nothing to write, and the response does not depend on the cookie.
    layer.seal()
    return
  }
  if (ctx.headerSent) {
    // The app answered on its own (ctx.respond = false, ctx.flushHeaders()) before the commit.
    layer.seal()
    const state = getSessionState(session)
    if (state.modified || state.destroyed || state.regenerated) report(layer.onError, new ChangedAfterCommit(), ctx)
    return
  }
  const context: CommitContext = { secure: ctx.secure, vary: ctx.response.get('Vary') }
  if (status !== undefined) context.status = status
  if (!isStoredSessions(sessions)) {
    // Sealed first: a failed commit is not retried, and a change after it is reported.
    layer.seal()
    write(layer, sessions.commit(session, context))
    return
  }
  const saving = sessions.save(session, context)
  layer.seal()
  write(layer, await saving)
}

// -------------------------------------------------------------------------------------------------
// The middleware
// -------------------------------------------------------------------------------------------------

const OPTION_KEYS: ReadonlySet<string> = new Set(['csrf', 'onError'])

const PROXY_HINT = 'Koa has its own: set app.proxy = true behind a proxy that sets X-Forwarded-Proto (ctx.secure, cookie.secure: \'auto\' and the CSRF check follow it)'

/** Options users bring from the node and Hono adapters and from koa-session, with what to write instead. */
const OPTION_HINTS: Hints = {
  trustProxy: PROXY_HINT,
  proxy: PROXY_HINT,
  key: "koa-session's key is the cookie's name: give it to createSessions({ cookie: { name } })",
  maxAge: "give createSessions a `lifetime` in seconds (koa-session's maxAge was milliseconds)",
  rolling: 'give `rolling` to createSessions, not to the middleware',
  renew: 'Frasco re-issues a cookie by itself (createSessions: `rolling`, `idleTimeout`)',
  autoCommit: 'the middleware always commits after `await next()`; with ctx.respond = false, call `await commitSession(ctx)` before writing to ctx.res',
  store: 'give the store to createSessions({ store })',
  httpOnly: 'cookie attributes go to createSessions({ cookie: { httpOnly } })',
  secure: "cookie attributes go to createSessions({ cookie: { secure } }); 'auto' follows ctx.secure",
  sameSite: 'cookie attributes go to createSessions({ cookie: { sameSite } })',
  signed: 'Frasco cookies are always signed; createSessions({ encrypt: true }) also hides their content',
}

function assertManager(sessions: unknown): void {
  const manager = sessions as Partial<Sessions & StoredSessions> | null
  if (typeof manager !== 'object' || manager === null || (typeof manager.read !== 'function' && typeof manager.load !== 'function')) {
    throw new TypeError('sessions is invalid: give the manager createSessions returns, e.g. sessionMiddleware(createSessions({ secrets: secretsFromEnv() }))')
  }
}

function errorReporter(options: unknown): ErrorReporter {
  if (options === undefined) return defaultOnError
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('options are invalid: sessionMiddleware takes an options object with `csrf`, `onError`, e.g. { csrf: true }, or nothing')
  }
  assertKnownKeys(options, OPTION_KEYS, '', OPTION_HINTS)
  const onError = (options as SessionMiddlewareOptions).onError
  if (onError === undefined) return defaultOnError
  if (typeof onError !== 'function') throw new TypeError('option onError is invalid: give a function (error, ctx) => void')
  return onError
}

/**
 * Koa middleware: puts the request's session on `ctx.session` and, after `await next()`, commits
 * it with `ctx.append('Set-Cookie', …)` (the app's own cookies stay) and `ctx.set('Vary', …)`
 * (`Cookie` merged into the app's `Vary`): nothing written when nothing changed, a deletion on
 * logout or `ctx.session = null`. A cookie-only session is read from its cookie on first use; a
 * store-backed one is loaded before the next middleware runs (a request without a cookie reads
 * nothing from the store), and the store has it before the response goes out. `cookie.secure:
 * 'auto'` follows `ctx.secure`, so `app.proxy`.
 *
 * A middleware that throws commits nothing (Koa's error response drops every header anyway),
 * and a 5xx the app sets itself writes no session cookie: the client keeps the session it had.
 * A session that cannot be stored (`CookieTooLarge`) or a store that fails is thrown to Koa's
 * error handling: a 500 without the session cookie. A change to the session after the commit
 * (in an outer middleware) is reported to `options.onError`. An app that answers on its own
 * (`ctx.respond = false`, `ctx.flushHeaders()`) commits first with {@link commitSession}.
 * Mounted twice with the same manager (on the app and on a router), the first does the work and
 * the second only adds its `csrf` check.
 *
 * @throws {TypeError} when `sessions` is not a session manager, or an option is unknown or invalid
 *   (the message names it).
 * @example
 * ```ts
 * import Koa from 'koa'
 * import { bodyParser } from '@koa/bodyparser'
 * import { createSessions, secretsFromEnv } from 'frasco'
 * import { sessionMiddleware } from 'frasco/koa'
 *
 * const app = new Koa()
 * app.use(bodyParser()) // first: a form's _csrf field reaches the CSRF check
 * app.use(sessionMiddleware(createSessions({ secrets: secretsFromEnv() }), { csrf: true }))
 * app.use(async (ctx) => {
 *   ctx.body = String(ctx.session.get('username') ?? 'anonymous')
 * })
 * ```
 */
export function sessionMiddleware<T extends object = SessionData>(sessions: Sessions<T> | StoredSessions<T>, options?: SessionMiddlewareOptions): SessionMiddleware {
  assertManager(sessions)
  const onError = errorReporter(options)
  const csrf = csrfOption(options?.csrf)
  const manager = sessions as unknown as AnySessions
  return async (ctx, next) => {
    const attached = (ctx as Carrier)[LAYER]
    if (attached !== undefined) {
      if (attached.sessions !== manager) {
        throw new TypeError('sessionMiddleware: two session managers\' middleware run on one request, and Koa has one ctx.session: use one manager per app (or per route)')
      }
      // Mounted again (a router after the app): the first layer reads and commits; this one may
      // still protect its routes.
      if (csrf !== undefined && checkBrowser(ctx, attached, csrf) === NEEDS_TOKEN) checkRequestToken(ctx, attached, csrf)
      await next()
      return
    }
    install(ctx)
    const layer = new Layer(manager, ctx, onError)
    ;(ctx as Carrier)[LAYER] = layer
    // The browser's headers first: a refusal costs no session read (no store round trip).
    const verdict = csrf === undefined ? undefined : checkBrowser(ctx, layer, csrf)
    if (isStoredSessions(manager)) layer.hold(await manager.load(ctx.req.headers.cookie))
    if (verdict === NEEDS_TOKEN) checkRequestToken(ctx, layer, csrf as CsrfConfig)
    try {
      await next()
    } catch (error) {
      // Nothing of a failed request is written; a change made while handling its error is reported.
      layer.seal()
      throw error
    }
    if (!layer.committed) await commit(layer, ctx.status)
  }
}

/**
 * Commits the request's session now, for an app that answers on its own: `ctx.respond = false`
 * (writing to `ctx.res`), or `ctx.flushHeaders()` before a streamed body. Call it, and await it,
 * before the headers go out; {@link sessionMiddleware} then commits nothing more, and reports a
 * later change of the session to its `onError`. It commits whatever the status (the way to keep a
 * session on a 5xx).
 *
 * @throws {TypeError} when `sessionMiddleware` did not run on this request, or already committed.
 * @throws {Error} when the response headers were already sent.
 * @throws {CookieTooLarge} (rejects) when the session does not fit; nothing was written.
 * @example
 * ```ts
 * app.use(async (ctx) => {
 *   ctx.session.set('visits', Number(ctx.session.get('visits') ?? 0) + 1)
 *   await commitSession(ctx)
 *   ctx.respond = false
 *   ctx.res.writeHead(200, { 'content-type': 'text/plain' })
 *   ctx.res.end('counted')
 * })
 * ```
 */
export async function commitSession(ctx: SessionContext): Promise<void> {
  const layer = (ctx as Carrier | null | undefined)?.[LAYER]
  if (layer === undefined) throw new TypeError('commitSession(ctx): sessionMiddleware of frasco/koa did not run on this request')
  if (layer.committed) throw new TypeError('commitSession(ctx): the session of this request was already committed; commit once, after the last change')
  if (ctx.headerSent) throw new Error('commitSession(ctx): the response headers were already sent; commit before writing to ctx.res')
  await commit(layer, undefined)
}
