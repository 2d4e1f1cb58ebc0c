/**
 * `frasco/node`: sessions for `node:http` servers and Connect/Express-style middleware.
 *
 * @module
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { format } from 'node:util'
import { checkHeaders, checkToken, csrfOption, FRASCO_CSRF, isSafeMethod, NEEDS_TOKEN, type CsrfConfig, type CsrfOptions } from '../csrf.js'
import { ChangedAfterCommit, isSessionError, type CsrfRefused } from '../errors.js'
import { createReporter, describeTarget, type Reporter } from '../lib/report.js'
import { assertTrustProxy, insecureCookieWarning, isSecureRequest, varyWithCookie, writesSecure } from '../lib/vary.js'
import {
  holdSession,
  isSessionUnread,
  openLazySession,
  watchSession,
  type Session,
  type SessionData,
  type SessionHolder,
  type SessionSource,
  type SessionWatcher,
} from '../session.js'
import { commitOf, planSaveOf, type SavePlan } from '../manager/stored.js'
import { isStoredSessions, type SessionCommit, type Sessions, type StoredSessions } from '../sessions.js'

/**
 * Options of the node adapter.
 *
 * @example
 * ```ts
 * const options: NodeSessionOptions = { trustProxy: true } // behind a proxy that sets X-Forwarded-Proto
 * commitSession(sessions, req, res, session, options)
 * ```
 */
export interface NodeSessionOptions {
  /**
   * Trust `X-Forwarded-Proto` from a reverse proxy when deciding `Secure` for `cookie.secure:
   * 'auto'`. Only enable it behind a proxy that sets (and overwrites) that header. A TLS socket
   * always counts as secure, whatever the header says; the request target (`GET https://…`, which
   * any client may send over plain http) never does.
   */
  trustProxy?: boolean
}

/**
 * Options of {@link sessionMiddleware} and {@link withSessions}.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions, {
 *   trustProxy: true,
 *   onError: (error, req) => log.error({ code: (error as { code?: string }).code, path: req.url }),
 * }))
 * ```
 */
export interface SessionMiddlewareOptions extends NodeSessionOptions {
  /**
   * Called when the session cannot be committed as the headers go out (`CookieTooLarge`, a value
   * that cannot be stored), after the response was turned into a 500 without the session cookie;
   * when the session changes after it was committed (`ChangedAfterCommit`,
   * `ERR_SESSION_CHANGED_AFTER_COMMIT`: the change is lost); with {@link withSessions}, also when
   * the handler throws or rejects; and once per session manager, when a `Secure` cookie was set
   * on a request that did not arrive over https for a host other than localhost
   * (`SecureCookieOverHttp`, `ERR_SESSION_SECURE_COOKIE_OVER_HTTP`: browsers drop that cookie).
   * An exception it throws is swallowed. Default: one `console.error` line naming the request line
   * (without its query) and the error's `code` (never the cookie or a session value), or, for a
   * handler's error, the error itself; the Secure-cookie warning is one `console.warn` line.
   */
  onError?: (error: unknown, req: IncomingMessage) => void
  /**
   * CSRF protection (docs/csrf.md): `true` for the defaults, or {@link CsrfOptions}. Before the
   * next handler runs (with a store, once the session is loaded), an unsafe request (not GET,
   * HEAD, OPTIONS or TRACE) is refused when the browser's `Sec-Fetch-Site` or `Origin` header says
   * another site sent it, or, without either header, when it carries no valid token of its
   * session in the `x-csrf-token` header or, once a body parser such as `express.urlencoded()`
   * ran before the middleware, the `_csrf` field of `req.body`. The adapter never reads the body
   * itself. A refusal is a 403 `Forbidden: <code>` (text/plain) without the session cookie; the
   * handler does not run, and `onError` gets the {@link CsrfRefused} error (the default prints
   * one `console.warn` line with its code, the method and the path). Default: off.
   */
  csrf?: boolean | CsrfOptions
}

/**
 * connect-flash's `req.flash`, which the middleware puts on every request it sees, over the same
 * messages as Flask-style {@link Session.flash}: `req.flash(type, message)` queues a message (and
 * returns how many of that type are queued), `req.flash(type, format, ...args)` formats it first
 * (`util.format`), `req.flash(type)` takes that type's messages and `req.flash()` takes them all,
 * by type. Passport's `failureFlash` and `successFlash` use it.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from 'node:http'
 * import type { RequestFlash } from 'frasco/node'
 *
 * function loginPage(req: IncomingMessage & { flash: RequestFlash }): string {
 *   const [error] = req.flash('error')
 *   return error === undefined ? '<form>…</form>' : `<p>${error}</p><form>…</form>`
 * }
 * ```
 */
export interface RequestFlash {
  /** Takes every queued message, grouped by type. */
  (): Record<string, string[]>
  /** Takes the queued messages of `type`. */
  (type: string): string[]
  /** Queues a message (or several) of `type`; returns how many of that type are queued now. */
  (type: string, message: string | readonly string[]): number
  /** Queues `util.format(format, ...args)` as a message of `type`. */
  (type: string, format: string, ...args: unknown[]): number
}

/**
 * csurf's `req.csrfToken()`, which the middleware puts on every request it sees: a CSRF token for
 * the request's session (`csrfToken(req.session, options)` of `frasco`, with the scheme of the
 * `csrf` option). Call it before the headers go out: the session's first token stores its secret.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from 'node:http'
 * import type { RequestCsrfToken } from 'frasco/node'
 *
 * function form(req: IncomingMessage & { csrfToken: RequestCsrfToken }): string {
 *   return `<form method="post"><input type="hidden" name="_csrf" value="${req.csrfToken()}">…</form>`
 * }
 * ```
 */
export interface RequestCsrfToken {
  /** A new token for the request's session (tokens differ on every call; all of them verify). */
  (): string
}

/**
 * A request carrying its session, as the middleware leaves it: `req.session` is the session (its
 * cookie verified on first use), `req.session = null` ends it, `req.flash` is connect-flash's and
 * `req.csrfToken()` csurf's. `req.session` is a plain property: after `req.session = null` it
 * reads `null`, and replacing it with anything else turns the response into a 500 (see
 * {@link sessionMiddleware}). To type `req` this way for Express, Connect and every
 * `IncomingMessage` at once, import `frasco/node/globals` (docs/guide.md, Typing req.session).
 *
 * @example
 * ```ts
 * function logout(req: SessionRequest<{ user: string }>): string | undefined {
 *   const user = req.session.get('user')
 *   req.session = null
 *   return user
 * }
 * ```
 */
export type SessionRequest<T extends object = SessionData> = Omit<IncomingMessage, 'session' | 'flash' | 'csrfToken'> & {
  get session(): Session<T>
  set session(value: Session<T> | null | undefined)
  flash: RequestFlash
  csrfToken: RequestCsrfToken
}

/**
 * A plain `node:http` handler that receives a request with a session.
 *
 * @example
 * ```ts
 * const handler: SessionHandler<{ visits: number }> = (req, res) => {
 *   res.end(String(req.session.get('visits') ?? 0))
 * }
 * createServer(withSessions(sessions, handler)).listen(3000)
 * ```
 */
export type SessionHandler<T extends object = SessionData> = (
  req: SessionRequest<T>,
  res: ServerResponse,
) => unknown

type Next = (error?: unknown) => void

const MIDDLEWARE_KEYS: ReadonlySet<string> = new Set(['trustProxy', 'onError', 'csrf'])

type ErrorReporter = Reporter<IncomingMessage>

type During = 'commit' | 'handler' | 'late' | 'insecure' | 'store' | 'csrf'

type WriteHead = (this: ServerResponse, ...args: unknown[]) => ServerResponse

/** The slot, on both `req` and `res`, that holds the request's {@link Attachment}. */
const ATTACHMENT: unique symbol = Symbol('frasco.node.attachment')

type Carrier = { [ATTACHMENT]?: Attachment }

/** `req.session`, as the app may have left it. */
type SessionSlot = { session?: unknown }

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/**
 * Everything one attached manager needs for one request. One class, so every request has the
 * same shape, and req.flash, req.csrfToken and the writeHead hook below are shared functions that
 * find their state here instead of closures made per request (which gave each request its own
 * hidden class); the attachment is also the lazy session's source and its holder.
 */
class Attachment implements SessionWatcher, SessionHolder, SessionSource {
  /**
   * What this layer put on `req.session`: a lazy session (read on first use) as soon as it is
   * attached, or with a store, the loaded session once it is loaded. `req.session` is a plain
   * property: what the app assigns to it is seen by {@link settle}.
   */
  session: Session<SessionData> | undefined = undefined
  /** Set once {@link settle} found `req.session` set to null or undefined and ended the session. */
  ended = false
  /**
   * Set once the hook has run, once commitSession committed this manager's session by hand, or
   * once withSessions answered 500: never commit after that.
   */
  committed = false
  /** Set once commitSession committed this manager's session by hand: a second call is refused. */
  committedByHand = false
  /** True while this layer's writeHead call is on the stack (see {@link writeHeadWithSession}). */
  active = false
  /**
   * With a store: the store write of the save planned when the headers went out, started at once
   * (so a response that never ends, an aborted stream, still writes it); `end` awaits it.
   */
  pending: Promise<unknown> | undefined = undefined
  /**
   * With a store: commitSession's save while it runs. An `end` called meanwhile (the app did not
   * await commitSession) waits for it instead of saving the session a second time.
   */
  byHand: Promise<SessionCommit> | undefined = undefined
  /** With a store: the headers of a save done before the headers went out (see {@link endWithSession}). */
  result: SessionCommit | undefined = undefined
  /**
   * A save that failed before the headers went out (with a store), or a replacement of
   * `req.session` found when another manager took it over (see handOver): the response becomes a
   * 500 and `failure` (any value, undefined too) goes to onError.
   */
  failed = false
  failure: unknown = undefined
  /** With a store: the `end` this layer replaced, and whether it is being called. */
  end: ServerResponse['end'] | undefined = undefined
  ending = false

  constructor(
    readonly sessions: Sessions<SessionData> | StoredSessions<SessionData>,
    readonly req: IncomingMessage,
    readonly trustProxy: boolean,
    readonly onError: ErrorReporter,
    /** The writeHead this layer replaced: Node's own, or another wrapper's. */
    readonly writeHead: WriteHead,
    /** The layer attached before this one to the same response (two managers, one request). */
    readonly outer: Attachment | undefined,
    /** The `csrf` option, checked: its token scheme makes `req.csrfToken()`. */
    readonly csrf: CsrfConfig | undefined,
  ) {}

  /**
   * Marks the layer committed and, from now on, reports the session's next change: it can no
   * longer reach the client (a lazy session keeps the watcher when it is first read).
   */
  seal(): void {
    this.committed = true
    if (this.session !== undefined) watchSession(this.session, this)
  }

  sessionChanged(): void {
    report(this.onError, new ChangedAfterCommit(), this.req, 'late')
  }

  /** `req.session.regenerate(callback)`: from now on `req.session` is the new session. */
  sessionReplaced(next: Session<SessionData>): void {
    this.session = next
    if ((this.req as Carrier)[ATTACHMENT] === this) (this.req as SessionSlot).session = next
    if (this.committed) watchSession(next, this)
  }

  /** The first use of the lazy `req.session`: the manager reads the request's cookie. */
  openSession(): Session<SessionData> {
    const sessions = this.sessions
    // A store-backed session is loaded (asynchronously) before the handler runs; see preload().
    if (isStoredSessions(sessions)) throw new TypeError('req.session is not loaded yet: with a store, sessionMiddleware and withSessions load it before calling the next handler')
    return sessions.read(this.req.headers.cookie)
  }

  /** `console.log(req)` shows no session internals. */
  [INSPECT](): string {
    return 'FrascoAttachment'
  }
}

// Only the socket: req.url in absolute form (`GET https://host/ HTTP/1.1` over plain http) is
// whatever the client wrote, so it proves nothing.
function isSecure(req: IncomingMessage, trustProxy: boolean): boolean {
  return isSecureRequest((req.socket as TLSSocket | undefined)?.encrypted === true, req.headers['x-forwarded-proto'], trustProxy)
}

/** The key of `headers` equal to `lower` ignoring case (header names are case-insensitive). */
function findKey(headers: OutgoingHttpHeaders, lower: string): string | undefined {
  for (const key in headers) if (key.length === lower.length && key.toLowerCase() === lower) return key
  return undefined
}

/**
 * A store save's headers with `Cookie` merged into the response's `Vary` as it is now: the app may
 * have added to it while the store was saving (commitSession awaited later, or not at all).
 */
function withCurrentVary(result: SessionCommit, res: ServerResponse, headers: OutgoingHttpHeaders | undefined): SessionCommit {
  if (result.vary === undefined) return result
  const varyKey = headers === undefined ? undefined : findKey(headers, 'vary')
  return { setCookie: result.setCookie, vary: varyWithCookie(currentVary(res, headers, varyKey)) }
}

function headerText(value: unknown): string {
  if (value === undefined) return ''
  return Array.isArray(value) ? value.join(', ') : String(value)
}

/** The Vary value the response has now: in writeHead's headers object when it has one, else on the response. */
function currentVary(res: ServerResponse, headers: OutgoingHttpHeaders | undefined, key: string | undefined): string {
  return headerText(headers !== undefined && key !== undefined ? headers[key] : res.getHeader('Vary'))
}

/**
 * Reads the session of a request from its `Cookie` header. Never throws on bad input.
 *
 * @example
 * ```ts
 * const session = readSession(sessions, req)
 * ```
 */
export function readSession<T extends object>(sessions: StoredSessions<T>, req: IncomingMessage): Promise<Session<T>>
export function readSession<T extends object>(sessions: Sessions<T>, req: IncomingMessage): Session<T>
export function readSession<T extends object>(sessions: Sessions<T> | StoredSessions<T>, req: IncomingMessage): Session<T> | Promise<Session<T>> {
  return isStoredSessions(sessions) ? sessions.load(req.headers.cookie) : sessions.read(req.headers.cookie)
}

/**
 * Appends the session's `Set-Cookie` headers (never replacing ones already set) and merges `Cookie`
 * into `Vary`, on a response whose headers have not been sent yet. The same arguments, in the same
 * order, as `commitSession` of `frasco/fetch`.
 *
 * Unlike the automatic commit of {@link sessionMiddleware} and {@link withSessions}, which turns
 * a failed commit into a 500, this throws: the caller decides what to answer. On a request one of
 * them saw with the same `sessions`, this is that request's commit: they write no second
 * `Set-Cookie` for the cookie, and report a later change of the session to their `onError`. It
 * commits whatever the status (the way to keep a session on a 5xx).
 *
 * @throws {CookieTooLarge} when the session does not fit; nothing was appended.
 * @throws {TypeError} when the session holds a value that cannot be stored (the message names it);
 *   nothing was appended.
 * @example
 * ```ts
 * commitSession(sessions, req, res, session)
 * res.end('ok')
 * ```
 */
export function commitSession<T extends object>(
  sessions: StoredSessions<T>,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<T>,
  options?: NodeSessionOptions,
): Promise<void>
export function commitSession<T extends object>(
  sessions: Sessions<T>,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<T>,
  options?: NodeSessionOptions,
): void
export function commitSession<T extends object>(
  sessions: Sessions<T> | StoredSessions<T>,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<T>,
  options?: NodeSessionOptions,
): void | Promise<void> {
  const trustProxy = assertTrustProxy(options, 'commitSession')
  let attached: Attachment | undefined
  for (let layer = (res as Carrier)[ATTACHMENT]; layer !== undefined; layer = layer.outer) {
    if (layer.sessions === (sessions as unknown as Sessions<SessionData>)) {
      attached = layer
      break
    }
  }
  // A second commit would append a second Set-Cookie for the same cookie, which browsers resolve
  // in no agreed order: commit once, after the last change.
  if (attached?.committedByHand === true) {
    throw new TypeError('commitSession: this session was already committed on this response; commit once, after the last change')
  }
  // On a request the middleware saw: req.session = null ends its session, a replacement throws.
  if (attached !== undefined) settle(attached)
  const onError = attached?.onError ?? defaultOnError
  // On a request the middleware saw, this is the commit: the hook must not write a second
  // Set-Cookie for the same cookie, and a later change is reported rather than lost.
  const done = (): void => {
    if (attached === undefined) return
    attached.committedByHand = true
    attached.seal()
  }
  if (!isStoredSessions(sessions)) {
    apply(sessions, req, res, session, trustProxy, undefined, undefined, onError)
    done()
    return
  }
  if (res.headersSent) throw new Error('commitSession: the response headers were already sent')
  // res.end() already planned the save and waits for the store: a second save would race it.
  if (attached?.committed === true) throw new Error('commitSession: res.end() was called before commitSession and already saves the session; commit before answering')
  if (attached !== undefined) attached.committedByHand = true
  const secure = sessions.secureAuto && isSecure(req, trustProxy)
  const saved = sessions.save(session, { secure, vary: res.getHeader('Vary') as string | string[] | number | undefined })
  const saving = saved.then((result) => {
    if (res.headersSent) throw new Error('commitSession: the response headers were sent while the session was being saved; await commitSession before answering')
    // An `end` waiting for this save writes its headers once it has put the response back.
    if (attached?.ending !== true) write(sessions, req, res, undefined, withCurrentVary(result, res, undefined), onError, secure)
    done()
  })
  if (attached !== undefined) awaitByHand(attached, session, saved)
  return saving
}

/**
 * Records commitSession's save on the layer, for an `end` called before it settles (see
 * {@link Attachment.byHand}). The save holds the session as it was when commitSession was called:
 * from then on a change is reported, as after any commit. `saved` is the store's save, not the
 * promise the app holds, so a rejection the app drops still surfaces as unhandled.
 */
function awaitByHand(layer: Attachment, session: Session<SessionData>, saved: Promise<SessionCommit>): void {
  layer.byHand = saved
  watchSession(session, layer)
  // Cleared as the save settles, after commitSession's own handler and before an app awaiting it
  // goes on: only an `end` called while the save runs waits for it.
  saved.then(
    () => {
      layer.byHand = undefined
    },
    () => {
      layer.byHand = undefined
      // Nothing was committed: the session is the app's to change and to commit again (as after a
      // failed commit without a store), and otherwise `end` saves it.
      if (!layer.committed) {
        layer.committedByHand = false
        watchSession(session, undefined)
      }
    },
  )
}

function apply<T extends object>(
  sessions: Sessions<T>,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<T>,
  trustProxy: boolean,
  headers: OutgoingHttpHeaders | undefined,
  status: number | undefined,
  onError: ErrorReporter,
): void {
  if (res.headersSent) throw new Error('commitSession: the response headers were already sent')
  // writeHead(200, { VARY: … }) replaces a Vary set before, so merge with the object when it has one.
  const varyKey = headers === undefined ? undefined : findKey(headers, 'vary')
  const current = currentVary(res, headers, varyKey)
  // Throws before anything is changed, so a failed commit leaves the response as it was.
  const secure = sessions.secureAuto && isSecure(req, trustProxy)
  const context = status === undefined ? { secure, vary: current } : { secure, vary: current, status }
  write(sessions, req, res, headers, sessions.commit(session, context), onError, secure)
}

/** The save planned as the headers go out, for a store-backed manager: its store write is awaited by `end`. */
function applyPlanned(layer: Attachment, res: ServerResponse, headers: OutgoingHttpHeaders | undefined, status: number | undefined): void {
  const varyKey = headers === undefined ? undefined : findKey(headers, 'vary')
  const current = currentVary(res, headers, varyKey)
  const secure = layer.sessions.secureAuto && isSecure(layer.req, layer.trustProxy)
  const context = status === undefined ? { secure, vary: current } : { secure, vary: current, status }
  const plan = planSaveOf(layer.sessions, layer.session as Session<SessionData>, context)
  write(layer.sessions, layer.req, res, headers, commitOf(plan, true), layer.onError, secure)
  // Started now, not at end(): a streamed response may never end (the client went away), and the
  // store must still get a logout's destroy. A failure can only be reported: the headers are out.
  layer.pending = plan.persist().catch((error: unknown) => report(layer.onError, error, layer.req, 'store'))
}

/** Writes a commit's headers: appends its cookies, merges its Vary (into writeHead's headers when given). */
function write(
  sessions: { readonly secure: boolean | 'auto' },
  req: IncomingMessage,
  res: ServerResponse,
  headers: OutgoingHttpHeaders | undefined,
  { setCookie: cookies, vary }: SessionCommit,
  onError: ErrorReporter,
  /** The `secure` the commit was asked for. */
  secure: boolean,
): void {
  const varyKey = headers === undefined ? undefined : findKey(headers, 'vary')
  if (cookies.length > 0) {
    const warning = insecureCookieWarning(
      sessions,
      writesSecure(sessions, secure),
      (req.socket as TLSSocket | undefined)?.encrypted === true,
      req.headers['x-forwarded-proto'],
      req.headers.forwarded,
      req.headers.host,
    )
    if (warning !== undefined) report(onError, warning, req, 'insecure')
    const key = headers === undefined ? undefined : findKey(headers, 'set-cookie')
    if (headers !== undefined && key !== undefined) {
      // writeHead(status, { 'Set-Cookie': … }) would replace what we append; merge into it instead.
      const existing = headers[key]
      headers[key] = [...(Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)]), ...cookies]
    } else {
      res.appendHeader('Set-Cookie', cookies)
    }
  }
  if (vary === undefined) return
  if (headers !== undefined && varyKey !== undefined) headers[varyKey] = vary
  else res.setHeader('Vary', vary)
}

function attachmentOf(self: unknown): Attachment {
  const attachment = (self as Carrier | null | undefined)?.[ATTACHMENT]
  if (attachment === undefined) throw new TypeError('req.session is only available on the request the session middleware saw')
  return attachment
}

const REPLACED = 'req.session cannot be replaced: set its keys, call req.session.regenerate() for a new session, or assign null to end it'

/**
 * The layer's session, brought in line with what the app left on `req.session`: null or undefined
 * ends the session (once: it is destroyed, so its cookie is deleted), and any other value than the
 * session the layer handed out is refused. `req.session` is a plain property, because an accessor
 * defined on every request costs more than the cookie check it defers (docs/performance.md), so
 * an assignment is seen here: when req.flash, req.csrfToken or commitSession runs, and when the
 * session is committed.
 *
 * @throws {TypeError} when the app put something else on `req.session`.
 */
function settle(layer: Attachment): Session<SessionData> | undefined {
  const session = layer.session
  // With two managers on one request, req.session belongs to the one attached last.
  if (session === undefined || (layer.req as Carrier)[ATTACHMENT] !== layer) return session
  const value = (layer.req as SessionSlot).session
  if (value === session) return session
  if (value !== null && value !== undefined) throw new TypeError(REPLACED)
  // cookie-session's idiom: `req.session = null` ends the session.
  if (!layer.ended) {
    layer.ended = true
    session.destroy()
  }
  return session
}

/**
 * Settles a layer whose `req.session` another manager's layer is about to take over. A
 * replacement cannot throw here (out of a middleware, or a server's request listener): the
 * layer's commit then turns the response into a 500 and reports it, as for a failed save.
 */
function handOver(layer: Attachment): void {
  try {
    settle(layer)
  } catch (error) {
    layer.failed = true
    layer.failure = error
  }
}

/** The request's session for req.flash, req.csrfToken and the CSRF check. */
function sessionOf(layer: Attachment): Session<SessionData> {
  const session = settle(layer)
  if (session === undefined) throw new TypeError('req.session is not loaded yet: with a store, sessionMiddleware and withSessions load it before calling the next handler')
  return session
}

/**
 * connect-flash's `req.flash` over the session's Flask-style flashes (see {@link RequestFlash}).
 * One function for every request: the request is `this`.
 */
function requestFlash(this: unknown, ...args: unknown[]): Record<string, string[]> | string[] | number {
  const session = sessionOf(attachmentOf(this))
  const [type, message] = args
  if (type === undefined) {
    // A null prototype: a type named __proto__ stays a plain key.
    const all: Record<string, string[]> = Object.create(null) as Record<string, string[]>
    for (const { category, message: text } of session.consumeFlashes()) (all[category] ??= []).push(text)
    return all
  }
  if (typeof type !== 'string') throw new TypeError('req.flash(type, message): type must be a string')
  if (message === undefined) return session.consumeFlashes(type).map((flash) => flash.message)
  if (args.length === 2 && Array.isArray(message) && message.some((text) => typeof text !== 'string')) throw new TypeError('req.flash(type, messages): every message must be a string')
  if (args.length > 2 && typeof message !== 'string') throw new TypeError('req.flash(type, format, ...args): format must be a string')
  if (args.length > 2) session.flash(format(...(args.slice(1) as [unknown, ...unknown[]])), type)
  else if (Array.isArray(message)) for (const text of message as unknown[]) session.flash(text as string, type)
  else session.flash(message as string, type)
  return session.peekFlashes(type).length
}

/** csurf's `req.csrfToken()` (see {@link RequestCsrfToken}); one function for every request. */
function requestCsrfToken(this: unknown): string {
  const layer = attachmentOf(this)
  return (layer.csrf?.token ?? FRASCO_CSRF).issue(sessionOf(layer))
}

/**
 * Commits just before the headers go out. `end()`, `write()` and `flushHeaders()` without an
 * explicit writeHead all reach writeHead through ServerResponse's implicit header path.
 *
 * One function for every response: its state is the {@link Attachment} on `res`. When several
 * managers are attached to one response, their layers form a chain (each replaced the writeHead
 * before it, possibly with another library's wrapper in between); each call takes the outermost
 * layer not already on the stack, so every layer runs exactly once, in order.
 */
function writeHeadWithSession(this: ServerResponse, ...args: unknown[]): ServerResponse {
  let layer = (this as Carrier)[ATTACHMENT]
  while (layer !== undefined && layer.active) layer = layer.outer
  if (layer === undefined) throw new TypeError('res.writeHead was called on a response Frasco was not attached to')
  let failure: unknown
  let failed = false
  layer.active = true
  try {
    // A save `end` already did (or failed) before the headers: its headers go out now, although
    // the layer was sealed when end() planned it.
    const saved = layer.result !== undefined || layer.failed
    if (!layer.committed || saved) {
      // Before seal(): ending the session on req.session = null is no late change.
      let session: Session<SessionData> | undefined
      try {
        session = settle(layer)
      } catch (error) {
        failure = error
        failed = true
      }
      layer.seal()
      if (failed) failResponse(args, prepareHeaders(this, args))
      // A lazy session never used has nothing to commit: no cookie, no Vary.
      else if (session !== undefined && (saved || !isSessionUnread(session))) {
        const headers = prepareHeaders(this, args)
        // commit writes no cookie on a 5xx (a failed request, often an error page for a handler
        // that threw halfway). The status as Node converts it (writeHead('500') is a 500); one
        // Node will refuse is left for Node to refuse.
        const code = args[0] === undefined ? this.statusCode : Number(args[0]) | 0
        const status = code >= 100 && code <= 999 ? code : undefined
        try {
          const { sessions } = layer
          // With a store: the headers of the save `end` already did, or a save planned now whose
          // store write `end` awaits (see endWithSession).
          if (layer.failed) {
            layer.failed = false
            throw layer.failure
          }
          if (layer.result !== undefined) {
            write(sessions, layer.req, this, headers, withCurrentVary(layer.result, this, headers), layer.onError, sessions.secureAuto && isSecure(layer.req, layer.trustProxy))
            layer.result = undefined
          } else if (isStoredSessions(sessions)) applyPlanned(layer, this, headers, status)
          else apply(sessions, layer.req, this, session, layer.trustProxy, headers, status, layer.onError)
        } catch (error) {
          // Thrown here, the error would escape from res.end() or a stream's pipe, often on a path
          // nobody awaits, and crash the process. Answer 500 instead, with the app's headers but
          // without the session cookie (apply() changed nothing), and report it.
          failure = error
          failed = true
          failResponse(args, headers)
        }
      }
    }
    return layer.writeHead.apply(this, args)
  } finally {
    layer.active = false
    if (failed) report(layer.onError, failure, layer.req, 'commit')
  }
}

/**
 * Makes the headers writeHead was given mergeable, in place in `args`, and returns the headers
 * object to merge into (or undefined: merge into the response).
 */
function prepareHeaders(res: ServerResponse, args: unknown[]): OutgoingHttpHeaders | undefined {
  // writeHead(status[, reason][, headers]): the headers are the first object after the status.
  for (let i = 1; i < args.length; i++) {
    const value = args[i]
    if (typeof value !== 'object' || value === null) continue
    if (!Array.isArray(value)) {
      // Merge into a copy: apps pass one constant headers object to every response, and one
      // user's session cookie must never be left in it for the next response.
      const headers = { ...(value as OutgoingHttpHeaders) }
      args[i] = headers
      return headers
    }
    if (value.length % 2 === 0 && value.every((item, j) => j % 2 === 1 || typeof item === 'string')) {
      // Raw header arrays cannot be merged in place safely; move them onto the response first,
      // as Node would apply them: each name replaces what was set before, and repeats within the
      // array are kept. (Anything else, such as an odd length or nested pairs, is left to Node.)
      for (let j = 0; j < value.length; j += 2) res.removeHeader(String(value[j]))
      for (let j = 0; j < value.length; j += 2) res.appendHeader(String(value[j]), value[j + 1] as string)
      args.splice(i, 1)
    }
    return undefined
  }
  return undefined
}

/** Rewrites writeHead's arguments into a 500 that keeps the app's headers. */
function failResponse(args: unknown[], headers: OutgoingHttpHeaders | undefined): void {
  const rest: unknown[] = [500, 'Internal Server Error']
  if (headers !== undefined) rest.push(headers)
  else for (let i = 1; i < args.length; i++) if (Array.isArray(args[i])) rest.push(args[i])
  args.length = 0
  args.push(...rest)
}

function report(onError: ErrorReporter, error: unknown, req: IncomingMessage, during: During): void {
  try {
    if (onError === defaultOnError) logError(error, req, during)
    else onError(error, req)
  } catch {
    // Reporting must not take the server down either.
  }
}

function attach<T extends object>(
  sessions: Sessions<T> | StoredSessions<T>,
  req: IncomingMessage,
  res: ServerResponse,
  trustProxy: boolean,
  onError: ErrorReporter,
  csrf: CsrfConfig | undefined,
): void {
  // Another manager's layer owns req.session until now: it takes what the app left there first.
  const previous = (req as Carrier)[ATTACHMENT]
  if (previous !== undefined && previous.sessions !== (sessions as unknown as Sessions<SessionData>)) handOver(previous)
  // Mounted twice (on the app and on a router, say): keep the first layer. A second one would
  // read the cookie again and commit a second Set-Cookie of the same name over the first.
  for (let layer = (res as Carrier)[ATTACHMENT]; layer !== undefined; layer = layer.outer) {
    if (layer.sessions === (sessions as unknown as Sessions<SessionData>)) {
      // Mounted again after another manager: req.session is this layer's session again.
      if (previous !== layer && layer.session !== undefined) (req as SessionSlot).session = layer.ended ? null : layer.session
      ;(req as Carrier)[ATTACHMENT] = layer
      return
    }
  }
  const attachment = new Attachment(
    sessions as unknown as Sessions<SessionData>,
    req,
    trustProxy,
    onError,
    res.writeHead as unknown as WriteHead,
    (res as Carrier)[ATTACHMENT],
    csrf,
  )
  ;(req as Carrier)[ATTACHMENT] = attachment
  ;(res as Carrier)[ATTACHMENT] = attachment
  // With a store, req.session is set once the session is loaded (see preload()). Held by the
  // attachment: req.session.regenerate(callback) hands out a new session, as express-session does.
  if (!isStoredSessions(sessions)) (req as SessionSlot).session = attachment.session = openLazySession(attachment, attachment)
  ;(req as { flash?: unknown }).flash = requestFlash
  ;(req as { csrfToken?: unknown }).csrfToken = requestCsrfToken
  res.writeHead = writeHeadWithSession as unknown as ServerResponse['writeHead']
  if (isStoredSessions(sessions)) {
    attachment.end = res.end
    res.end = endWithSession as unknown as ServerResponse['end']
  }
}

/**
 * With a store: loads the request's session before the next handler runs (the lazy, synchronous
 * `req.session` of cookie sessions cannot wait for a store), then calls `then`. A store that
 * fails goes to `fail`: an outage is not a logout.
 */
function preload(req: IncomingMessage, then: () => void, fail: (error: unknown) => void): void {
  const layer = (req as Carrier)[ATTACHMENT] as Attachment
  const sessions = layer.sessions
  if (!isStoredSessions(sessions) || layer.session !== undefined) {
    then()
    return
  }
  sessions.load(req.headers.cookie).then((session) => {
    if (layer.session === undefined) {
      layer.session = session
      holdSession(session, layer)
      if ((req as Carrier)[ATTACHMENT] === layer) (req as SessionSlot).session = session
    }
    then()
  }, fail).catch((error: unknown) => report(layer.onError, error, req, 'handler'))
}

// A Host header is the client's: only one that looks like a host makes an origin.
const PLAIN_HOST = /^[a-z0-9.:[\]-]{1,255}$/i

/** The app's origin for this request, as browsers serialize it ('' when the Host header is unusable). */
function appOrigin(req: IncomingMessage, trustProxy: boolean): string {
  const host = req.headers.host
  if (host === undefined || !PLAIN_HOST.test(host)) return ''
  try {
    return new URL(`${isSecure(req, trustProxy) ? 'https' : 'http'}://${host}`).origin
  } catch {
    return ''
  }
}

/** A request header for the CSRF check: repeated values joined, as Node joins most headers. */
function requestHeader(this: IncomingMessage, name: string): string | undefined {
  const value = this.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** The token: the header, else the form field a body parser (express.urlencoded()) put on req.body. */
function requestToken(req: IncomingMessage, config: CsrfConfig): string | undefined {
  const header = requestHeader.call(req, config.header)
  if (header !== undefined && header !== '') return header
  const body = (req as { body?: unknown }).body
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, config.field)) return undefined
  const value = (body as Record<string, unknown>)[config.field]
  return typeof value === 'string' ? value : undefined
}

/**
 * Answers a refused request with a 403: no layer commits its session (nothing the request carried
 * is written back), and the next handler never runs.
 */
function refuse(req: IncomingMessage, res: ServerResponse, error: CsrfRefused, onError: ErrorReporter): void {
  for (let layer = (res as Carrier)[ATTACHMENT]; layer !== undefined; layer = layer.outer) layer.committed = true
  res.statusCode = 403
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.end(`Forbidden: ${error.code}`)
  report(onError, error, req, 'csrf')
}

/**
 * The `csrf` option: the browser's headers first (a refusal costs no store read), then, for a
 * client without them, the token, once the session is loaded. `then` runs the next handler;
 * `fail` gets a store failure or a token scheme that threw.
 */
function protect(req: IncomingMessage, res: ServerResponse, config: CsrfConfig, onError: ErrorReporter, then: () => void, fail: (error: unknown) => void): void {
  const layer = (req as Carrier)[ATTACHMENT] as Attachment
  const method = req.method ?? 'GET'
  if (isSafeMethod(method)) {
    preload(req, then, fail)
    return
  }
  const verdict = checkHeaders({ method, origin: appOrigin(req, layer.trustProxy), header: requestHeader.bind(req) }, config)
  if (verdict === undefined) {
    preload(req, then, fail)
    return
  }
  if (verdict !== NEEDS_TOKEN) {
    refuse(req, res, verdict, onError)
    return
  }
  preload(req, () => {
    let refused: CsrfRefused | undefined
    try {
      refused = checkToken(requestToken(req, config), sessionOf(layer), config)
    } catch (error) {
      fail(error)
      return
    }
    if (refused === undefined) then()
    else refuse(req, res, refused, onError)
  }, fail)
}

/**
 * With a store, the response does not end before the store has the session: a browser's next
 * request must find what this one wrote. When `end()` comes before the headers (the usual case:
 * `res.send`, `res.redirect`, `res.end(body)`), the whole save runs first, so a failing store
 * turns the response into a 500 without the cookie, as a cookie that cannot be stored does. When
 * the headers went out earlier (`writeHead`, a streamed body), the cookie went with them, and
 * `end` waits for the store write planned then; a failure can only be reported.
 */
function endWithSession(this: ServerResponse, ...args: unknown[]): ServerResponse {
  let layer = (this as Carrier)[ATTACHMENT]
  while (layer !== undefined && (layer.ending || layer.end === undefined)) layer = layer.outer
  // A second res.end() while the first waits for the store: the first one ends the response.
  if (layer === undefined) return this
  const current = layer
  const end = current.end as unknown as (...rest: unknown[]) => ServerResponse
  current.ending = true
  const finish = (): void => {
    try {
      end.apply(this, args)
    } catch (error) {
      report(current.onError, error, current.req, 'store')
    }
  }
  const { sessions } = current
  let session: Session<SessionData> | undefined
  try {
    session = settle(current)
  } catch (error) {
    // Before the headers: the 500 of a failed commit. After: the app's mistake, reported.
    if (current.committed || this.headersSent) report(current.onError, error, current.req, 'handler')
    else {
      current.failed = true
      current.failure = error
    }
    return end.apply(this, args)
  }
  if (session === undefined || !isStoredSessions(sessions)) return end.apply(this, args)
  // commitSession's save still runs (the app did not await it): that save is the commit.
  if (current.byHand !== undefined && !current.committed && !this.headersSent) {
    endOnceSaved(current, current.byHand, this, finish)
    return this
  }
  if (!current.committed && !this.headersSent) {
    let plan: SavePlan
    try {
      const secure = sessions.secureAuto && isSecure(current.req, current.trustProxy)
      plan = planSaveOf(sessions, session, { secure, vary: this.getHeader('Vary'), status: this.statusCode })
    } catch (error) {
      current.failed = true
      current.failure = error
      return end.apply(this, args)
    }
    // From here the session is committed: a change after end() is reported, not lost in silence.
    current.seal()
    endOnceSaved(current, plan.persist().then((written) => commitOf(plan, written)), this, finish)
    return this
  }
  const pending = current.pending
  if (pending === undefined) return end.apply(this, args)
  pending.then(finish, finish)
  return this
}

/**
 * Ends the response once the store has the session: the save `end()` planned, or commitSession's
 * when the app did not await it. Until then the response is not sent, so code running meanwhile
 * (an error handler, for a route that threw after `res.send`) could still change it; the response
 * `end()` was called for is the one that goes out, with the save's headers (writeHead writes
 * `layer.result`), or as the 500 of a failed save.
 */
function endOnceSaved(layer: Attachment, saved: Promise<SessionCommit>, res: ServerResponse, finish: () => void): void {
  const { statusCode, statusMessage } = res
  const headers = res.getHeaders()
  const restore = (): void => {
    for (const name of res.getHeaderNames()) if (!(name in headers)) res.removeHeader(name)
    for (const name of Object.keys(headers)) res.setHeader(name, headers[name] as number | string | readonly string[])
    res.statusCode = statusCode
    res.statusMessage = statusMessage
  }
  saved.then(
    (result) => {
      layer.result = result
    },
    (error: unknown) => {
      layer.failed = true
      layer.failure = error
    },
  ).then(() => {
    restore()
    finish()
  }).catch((error: unknown) => report(layer.onError, error, layer.req, 'store'))
}

/**
 * Connect/Express-style middleware: puts a lazily read session on `req.session` and commits it
 * just before the headers go out, appending to any `Set-Cookie` already set. `req.session.save(cb)`
 * and `req.session.regenerate(cb)` exist, so Passport's login works.
 *
 * A session that cannot be committed then (`CookieTooLarge`, a value that cannot be stored) never
 * throws out of `res.end()`: the response goes out as a 500 with the app's headers and body but
 * without the session cookie, and the error goes to `options.onError`.
 *
 * `req.session` is a plain property holding a session that verifies the cookie on first use, so
 * a request that never touches it costs no HMAC. `req.session = null` (or `undefined`) ends the
 * session: its cookie is deleted when the response is committed, and `req.session` reads what was
 * assigned. Any other value is refused when it is seen: `req.flash`, `req.csrfToken()` and
 * {@link commitSession} throw a `TypeError` naming `req.session`, and at the commit the response
 * becomes a 500 without the session cookie and the `TypeError` goes to `options.onError`.
 *
 * A 5xx response (Express's error page for a route that threw, or any status 500 to 599) writes
 * no session cookie: the client keeps the session it had, so a handler that changed the session
 * and then failed leaves nothing half-written. To keep a session on a 5xx anyway, call
 * {@link commitSession} before sending it. A change after the headers went out
 * (`req.session.destroy()` after the first `res.write()`) cannot reach the client: it is
 * reported to `options.onError` as `ChangedAfterCommit`.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { createSessions } from 'frasco'
 * import { sessionMiddleware } from 'frasco/node'
 *
 * const app = express()
 * app.use(sessionMiddleware(createSessions({ secrets: process.env.FRASCO_SECRETS!.split(',') })))
 * app.get('/', (req, res) => res.send(req.session.username ? `Hi ${req.session.username}` : 'Log in'))
 * ```
 */
export function sessionMiddleware<T extends object = SessionData>(
  sessions: Sessions<T> | StoredSessions<T>,
  options?: SessionMiddlewareOptions,
): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const trustProxy = assertTrustProxy(options, 'sessionMiddleware', MIDDLEWARE_KEYS)
  const onError = errorReporter(options)
  const csrf = csrfOption(options?.csrf)
  if (csrf !== undefined) {
    return (req, res, next) => {
      attach(sessions, req, res, trustProxy, onError, csrf)
      protect(req, res, csrf, onError, () => next(), next)
    }
  }
  if (!isStoredSessions(sessions)) {
    return (req, res, next) => {
      attach(sessions, req, res, trustProxy, onError, undefined)
      next()
    }
  }
  return (req, res, next) => {
    attach(sessions, req, res, trustProxy, onError, undefined)
    preload(req, () => next(), next)
  }
}

/**
 * Wraps a plain `http.createServer` handler so it receives `req.session`. A handler that throws or
 * rejects gets a plain 500 (its half-updated session is not committed), and the error goes to
 * `options.onError`; so do a session that cannot be committed and a change after the headers
 * went out, and a 5xx the handler sends itself writes no session cookie, as with
 * {@link sessionMiddleware}.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { withSessions } from 'frasco/node'
 *
 * createServer(withSessions(sessions, (req, res) => {
 *   req.session.set('visits', (req.session.get('visits') ?? 0) + 1)
 *   res.end(`visit ${req.session.get('visits')}`)
 * })).listen(3000)
 * ```
 */
export function withSessions<T extends object = SessionData>(
  sessions: Sessions<T> | StoredSessions<T>,
  handler: SessionHandler<T>,
  options?: SessionMiddlewareOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const trustProxy = assertTrustProxy(options, 'withSessions', MIDDLEWARE_KEYS)
  const onError = errorReporter(options)
  const csrf = csrfOption(options?.csrf)
  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    // First: whatever the handler left in its session must not go out with the error page.
    for (let layer = (res as Carrier)[ATTACHMENT]; layer !== undefined; layer = layer.outer) layer.committed = true
    // The handler threw: answer 500 rather than leaving the client hanging or crashing the server;
    // unless it already answered and its end() only waits for the store (that answer goes out).
    let answered = false
    for (let layer = (res as Carrier)[ATTACHMENT]; layer !== undefined; layer = layer.outer) answered ||= layer.ending
    if (answered) {
      report(onError, error, req, 'handler')
      return
    }
    if (!res.headersSent) {
      res.statusCode = 500
      res.removeHeader('Set-Cookie')
      res.setHeader('Content-Type', 'text/plain; charset=utf-8')
      res.end('Internal Server Error')
    } else {
      res.destroy()
    }
    report(onError, error, req, 'handler')
  }
  const run = (req: IncomingMessage, res: ServerResponse): void => {
    let result: unknown
    try {
      result = handler(req as unknown as SessionRequest<T>, res)
    } catch (error) {
      fail(req, res, error)
      return
    }
    if (result instanceof Promise) result.catch((error: unknown) => fail(req, res, error))
  }
  return (req, res) => {
    attach(sessions, req, res, trustProxy, onError, csrf)
    const failed = (error: unknown): void => fail(req, res, error)
    if (csrf === undefined) preload(req, () => run(req, res), failed)
    else protect(req, res, csrf, onError, () => run(req, res), failed)
  }
}

function errorReporter(options: SessionMiddlewareOptions | undefined): ErrorReporter {
  const onError = options?.onError === undefined ? defaultOnError : options.onError
  if (typeof onError !== 'function') throw new TypeError('option onError is invalid: give a function (error, req) => void')
  return onError
}

/** `GET /path`: the request line's method and path, never the query (see `describeTarget`). */
function describeRequest(req: IncomingMessage): string {
  return describeTarget(req.method ?? 'GET', req.url ?? '/')
}

/** The lines every adapter prints for a CSRF refusal, the Secure-cookie warning and a late change. */
const logReport = createReporter(describeRequest, 'its cookie was sent')

function defaultOnError(error: unknown, req: IncomingMessage): void {
  logError(error, req, 'handler')
}

function logError(error: unknown, req: IncomingMessage, during: During): void {
  if (during === 'handler') {
    console.error(`frasco: handler for ${describeRequest(req)} failed:`, error)
    return
  }
  if (during === 'commit' || during === 'store') {
    // A SessionError's message holds diagnostics only, never the cookie; so does the TypeError
    // naming a value that cannot be stored (its path and type, not the value).
    const reason = isSessionError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    console.error(`frasco: the session of ${describeRequest(req)} could not be committed; sent a 500 without it: ${reason}`)
    return
  }
  // 'insecure', 'csrf', 'late': a SecureCookieOverHttp, a CsrfRefused, a ChangedAfterCommit.
  logReport(error, req)
}
