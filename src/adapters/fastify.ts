/**
 * `frasco/fastify`: a Fastify 5 plugin that puts the session on `request.session`.
 *
 * ```ts
 * import Fastify from 'fastify'
 * import { createSessions, secretsFromEnv } from 'frasco'
 * import { sessionPlugin } from 'frasco/fastify'
 *
 * const app = Fastify()
 * await app.register(sessionPlugin, { sessions: createSessions({ secrets: secretsFromEnv() }), csrf: true })
 * ```
 *
 * Fastify keeps a reply's headers in its own object and writes them with
 * `res.writeHead(status, headers)`, which replaces any header of the same name set on `reply.raw`;
 * so the session is committed in an `onSend` hook, onto the reply, with `reply.header`. The
 * plugin does what `fastify-plugin` does for a plugin, without depending on it: it decorates the
 * context it is registered in (the whole app from the root, a scope and its children from inside
 * `app.register(async (scope) => …)`).
 *
 * Nothing here loads Fastify at run time: its types are imported for `request.session`'s
 * declaration merging only.
 *
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import { checkHeaders, checkToken, csrfOption, isSafeMethod, NEEDS_TOKEN, type CsrfConfig, type CsrfOptions } from '../csrf.js'
import { ChangedAfterCommit, CsrfRefused } from '../errors.js'
import { assertKnownKeys, type Hints } from '../lib/options.js'
import { createReporter, describeTarget, report, type Reporter } from '../lib/report.js'
import { insecureCookieWarning, writesSecure } from '../lib/vary.js'
import { getSessionState, watchSession, type Session, type SessionData, type SessionWatcher } from '../session.js'
import { isStoredSessions, type CommitContext, type SessionCommit, type Sessions, type StoredSessions } from '../sessions.js'

/**
 * What `request.session` holds. Empty until you declare its keys; while it is empty,
 * `request.session` is an untyped {@link Session}.
 *
 * @example
 * ```ts
 * import type {} from 'frasco/fastify'
 *
 * declare module 'frasco/fastify' {
 *   interface FastifySessionData {
 *     username: string
 *   }
 * }
 * ```
 */
export interface FastifySessionData {}

/**
 * The type of `request.session`: `Session<FastifySessionData>`, or `Session` while
 * {@link FastifySessionData} declares no key.
 *
 * @example
 * ```ts
 * import type { FastifySession } from 'frasco/fastify'
 *
 * function username(session: FastifySession): unknown {
 *   return session.get('username')
 * }
 * ```
 */
export type FastifySession = Session<keyof FastifySessionData extends never ? SessionData : FastifySessionData>

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The request's session (`sessionPlugin` of `frasco/fastify`): read from its cookie on first
     * use, or, with a store, loaded before the handlers run. `request.session = null` ends it.
     */
    get session(): FastifySession
    set session(value: FastifySession | null | undefined)
  }
}

/**
 * Options of {@link sessionPlugin}. Strict: an unknown key is a `TypeError` naming it (and, for
 * @fastify/session's and @fastify/secure-session's options, where the setting lives in Frasco).
 *
 * @example
 * ```ts
 * const options: SessionPluginOptions = {
 *   sessions: createSessions({ secrets: secretsFromEnv() }),
 *   csrf: true,
 *   onError: (error, request) => request.log.warn({ code: (error as { code?: string }).code }, 'session'),
 * }
 * await app.register(sessionPlugin, options)
 * ```
 */
export interface SessionPluginOptions {
  /**
   * The session manager: what `createSessions` returns, with or without a `store`. Its type
   * parameter does not type `request.session`; {@link FastifySessionData} does.
   */
  sessions: Sessions<any> | StoredSessions<any>
  /**
   * CSRF protection (docs/csrf.md): `true` for the defaults, or {@link CsrfOptions}. An unsafe
   * request (not GET, HEAD, OPTIONS or TRACE) is refused when the browser's `Sec-Fetch-Site` or
   * `Origin` header says another site sent it (checked in `onRequest`, before the body is parsed
   * or the session read), or, without either header, when it carries no valid token of its
   * session in the `x-csrf-token` header (`csrf.header`) or the `_csrf` field (`csrf.field`) of
   * the parsed body (checked in `preHandler`). A refusal is a 403 `Forbidden: <code>`
   * (text/plain) without the session cookie; the route does not run, and `onError` gets the
   * {@link CsrfRefused} error. Default: off.
   */
  csrf?: boolean | CsrfOptions
  /**
   * Told of what cannot reach the client and would otherwise go unseen: a change to the session
   * after its cookie was committed, or on a reply the app took over with `reply.hijack()`, which
   * commits nothing (`ChangedAfterCommit`, `ERR_SESSION_CHANGED_AFTER_COMMIT`: the change is
   * lost), a request refused by `csrf` ({@link CsrfRefused}), once per session manager a `Secure`
   * cookie set on a request that did not arrive over https for a host other than localhost
   * (`SecureCookieOverHttp`, `ERR_SESSION_SECURE_COOKIE_OVER_HTTP`: browsers drop it), and, with
   * a store, the store's error when it fails to remove the session a request created whose reply
   * became a 5xx after the save. A session that cannot be committed (`CookieTooLarge`) or a store
   * that fails to load or save is not reported here: it is thrown into Fastify's error handling (a
   * 500, logged by Fastify, seen by `setErrorHandler`). An exception `onError` throws is
   * swallowed. Default: one `console.warn` line for a refusal and for the Secure-cookie warning,
   * one `console.error` line for a late change and for a session left in the store, naming the
   * error's code and the request's method and path (never the query, the cookie, a session value
   * or the store error's message).
   */
  onError?: (error: unknown, request: FastifyRequest) => void
}

// -------------------------------------------------------------------------------------------------
// What the plugin uses of Fastify: structural, so that nothing imports Fastify at run time
// -------------------------------------------------------------------------------------------------

type Done = (error?: Error) => void

/** The request, with the plugin's slot (see {@link Plugin.slot}). */
interface HookRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  /** `'https'` for a TLS socket, or, with Fastify's `trustProxy`, a forwarded https. */
  readonly protocol: string | undefined
  /** The Host header, or, with Fastify's `trustProxy`, X-Forwarded-Host. */
  readonly host: string | undefined
  readonly body: unknown
  [slot: symbol]: unknown
}

/** What the plugin uses of `reply.raw` (Node's `ServerResponse`). */
interface RawReply {
  getHeader(name: string): unknown
  setHeader(name: string, value: unknown): unknown
  removeHeader(name: string): void
  writeHead(statusCode: number, ...rest: unknown[]): unknown
}

interface HookReply {
  readonly statusCode: number
  readonly raw: RawReply
  code(statusCode: number): HookReply
  type(contentType: string): HookReply
  header(name: string, value: unknown): HookReply
  getHeader(name: string): unknown
  send(payload?: unknown): HookReply
}

interface Host {
  decorateRequest(name: string | symbol, value: unknown): unknown
  addHook(name: string, hook: unknown): unknown
}

// -------------------------------------------------------------------------------------------------
// Per request
// -------------------------------------------------------------------------------------------------

/**
 * One registration's state for one request, in the request's slot. Cookie sessions get it on
 * their first read, or in `onRequest` when the CSRF check will need the session's token (a
 * request that never reads its session allocates nothing); store sessions in `onRequest`, where
 * they are loaded.
 */
class RequestState implements SessionWatcher {
  session: Session<SessionData> | undefined = undefined
  /** Set once `onSend` ran for this registration: from then on, a change cannot reach the client. */
  committed: boolean
  /** Set in `onRequest` when the CSRF check needs a token (no browser headers): `preHandler` checks it. */
  needsToken = false
  /** With a store: the id the session was loaded with (undefined for a new one), which a late 5xx keeps. */
  loadedId: string | undefined = undefined

  constructor(
    readonly plugin: Plugin,
    readonly request: HookRequest,
    committed: boolean,
  ) {
    this.committed = committed
  }

  sessionChanged(): void {
    report(this.plugin.onError, new ChangedAfterCommit(), this.request)
  }
}

/** In a request's slot once `onSend` ran while nothing had read the session: a later read is watched. */
const SENT = 'sent'

/** Requests a registration refused (CSRF): no registration commits a session on them. */
const refusedRequests = new WeakSet<object>()

// -------------------------------------------------------------------------------------------------
// Per registration
// -------------------------------------------------------------------------------------------------

class Plugin {
  /** The request property holding this registration's {@link RequestState}: one per registration, so nested scopes with their own manager keep apart. */
  readonly slot = Symbol('frasco.fastify.session')

  constructor(
    readonly sessions: Sessions<SessionData> | StoredSessions<SessionData>,
    readonly onError: ErrorReporter,
    readonly csrf: CsrfConfig | undefined,
  ) {}

  stateOf(request: HookRequest): RequestState | undefined {
    const value = request[this.slot]
    return value instanceof RequestState ? value : undefined
  }

  /** `request.session`: a cookie session is read here, on first use; a stored one was loaded in `onRequest`. */
  sessionOf(request: HookRequest): Session<SessionData> {
    const value = request[this.slot]
    const existing = value instanceof RequestState ? value : undefined
    if (existing?.session !== undefined) return existing.session
    const sessions = this.sessions
    if (isStoredSessions(sessions)) {
      throw new TypeError(
        'request.session is not loaded: with a store, sessionPlugin loads it in its onRequest hook, so read it in the hooks registered after the plugin (await app.register(sessionPlugin, …) first), in preHandler hooks and in handlers; after a store failure it stays unloaded',
      )
    }
    const state = existing ?? new RequestState(this, request, value === SENT)
    state.session = sessions.read(request.headers.cookie)
    request[this.slot] = state
    // First read after the commit: any change to it is already too late.
    if (state.committed) watchSession(state.session, state)
    return state.session
  }

  /** The app's origin for this request, as browsers serialize it ('' when the Host header is unusable). */
  appOrigin(request: HookRequest): string {
    const host = request.host
    if (typeof host !== 'string' || !PLAIN_HOST.test(host)) return ''
    try {
      return new URL(`${request.protocol === 'https' ? 'https' : 'http'}://${host}`).origin
    } catch {
      return ''
    }
  }

  /** The browser-header part of the CSRF check: no session read, no body needed. */
  screen(request: HookRequest, config: CsrfConfig): CsrfRefused | typeof NEEDS_TOKEN | undefined {
    const { headers } = request
    return checkHeaders({ method: request.method, origin: this.appOrigin(request), header: (name) => headerValue(headers[name]) }, config)
  }

  /** Writes a commit onto the reply: each Set-Cookie appended, Vary replaced by the merged value. */
  write(request: HookRequest, reply: HookReply, { setCookie, vary }: SessionCommit): void {
    if (setCookie.length > 0) {
      appendSetCookie(reply, setCookie)
      const { headers } = request
      const direct = request.protocol === 'https'
      const secure = writesSecure(this.sessions, this.sessions.secureAuto && direct)
      const warning = insecureCookieWarning(this.sessions, secure, direct, headers['x-forwarded-proto'], headers.forwarded, request.host)
      if (warning !== undefined) report(this.onError, warning, request)
    }
    if (vary !== undefined) reply.header('vary', vary)
  }

  /** The commit context: `secure` from Fastify's own notion of https (its `trustProxy`). */
  context(request: HookRequest, reply: HookReply): CommitContext {
    return {
      secure: this.sessions.secureAuto && request.protocol === 'https',
      vary: reply.getHeader('vary') as CommitContext['vary'],
      // No session cookie on a 5xx: a failed request keeps the session the client had.
      status: reply.statusCode,
    }
  }
}

// A Host header is the client's: only one that looks like a host makes an origin.
const PLAIN_HOST = /^[a-z0-9.:[\]-]{1,255}$/i

/** A request header for the CSRF check: repeated values joined, as Node joins most headers. */
function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}

/**
 * Appends to the reply's Set-Cookie. Fastify's `reply.header('set-cookie', …)` appends to what
 * the reply holds; a Set-Cookie the app put on `reply.raw` instead (an Express middleware under
 * @fastify/middie, say) would be replaced by Fastify's writeHead once the reply holds one, so it
 * is moved onto the reply first.
 */
function appendSetCookie(reply: HookReply, cookies: string[]): void {
  const raw = reply.raw.getHeader('set-cookie')
  // getHeader falls back to reply.raw's value only when the reply holds none: the same value then.
  if (raw !== undefined && reply.getHeader('set-cookie') === raw) {
    reply.raw.removeHeader('set-cookie')
    reply.header('set-cookie', Array.isArray(raw) ? raw.map(String) : [String(raw)])
  }
  reply.header('set-cookie', cookies)
}

/** The token: the header, else the field of the body Fastify parsed (a form, JSON). */
function tokenOf(request: HookRequest, config: CsrfConfig): string | undefined {
  const header = headerValue(request.headers[config.header])
  if (header !== undefined && header !== '') return header
  const body = request.body
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, config.field)) return undefined
  const value = (body as Record<string, unknown>)[config.field]
  return typeof value === 'string' ? value : undefined
}

/** Answers a refused request with a 403; no registration commits its session on it. */
function refuse(plugin: Plugin, request: HookRequest, reply: HookReply, error: CsrfRefused): void {
  refusedRequests.add(request)
  reply.code(403).type('text/plain; charset=utf-8').send(`Forbidden: ${error.code}`)
  report(plugin.onError, error, request)
}

// -------------------------------------------------------------------------------------------------
// The hooks
// -------------------------------------------------------------------------------------------------

/** onRequest, cookie sessions with `csrf`: the browser's headers; a client without them needs a token. */
function screenHook(plugin: Plugin, config: CsrfConfig) {
  return function screen(request: HookRequest, reply: HookReply, done: Done): void {
    if (isSafeMethod(request.method)) return done()
    const verdict = plugin.screen(request, config)
    if (verdict === undefined) return done()
    if (verdict !== NEEDS_TOKEN) return refuse(plugin, request, reply, verdict)
    let state = plugin.stateOf(request)
    if (state === undefined) request[plugin.slot] = state = new RequestState(plugin, request, false)
    state.needsToken = true
    done()
  }
}

/** onRequest, store sessions: the browser's headers first (a refusal costs no store read), then the load. */
function loadHook(plugin: Plugin, sessions: StoredSessions<SessionData>, config: CsrfConfig | undefined) {
  return async function load(request: HookRequest, reply: HookReply): Promise<HookReply | undefined> {
    const state = new RequestState(plugin, request, false)
    request[plugin.slot] = state
    if (config !== undefined && !isSafeMethod(request.method)) {
      const verdict = plugin.screen(request, config)
      if (verdict instanceof CsrfRefused) {
        refuse(plugin, request, reply, verdict)
        return reply
      }
      state.needsToken = verdict === NEEDS_TOKEN
    }
    // No cookie, no store read: load answers a new session at once.
    state.session = await sessions.load(request.headers.cookie)
    state.loadedId = sessions.sessionId(state.session)
    return undefined
  }
}

/** preHandler, with `csrf`: after the body parser, the token of a request without browser headers. */
function tokenHook(plugin: Plugin, config: CsrfConfig) {
  return function checkCsrfToken(request: HookRequest, reply: HookReply, done: Done): void {
    const state = plugin.stateOf(request)
    if (state === undefined || !state.needsToken) return done()
    let refused: CsrfRefused | undefined
    try {
      refused = checkToken(tokenOf(request, config), plugin.sessionOf(request), config)
    } catch (error) {
      // A token scheme that threw: Fastify's 500.
      return done(error as Error)
    }
    if (refused === undefined) return done()
    refuse(plugin, request, reply, refused)
  }
}

/**
 * onSend, cookie sessions. Once per request: when this throws (or a later onSend hook does),
 * Fastify sends its error reply through onSend again, and the session must neither be appended
 * twice nor fail twice.
 */
function commitHook(plugin: Plugin, sessions: Sessions<SessionData>) {
  return function commit(request: HookRequest, reply: HookReply, _payload: unknown, done: Done): void {
    const state = plugin.stateOf(request)
    if (state === undefined) {
      // Never read: nothing to write, and no Vary. A read from now on is too late to change it.
      request[plugin.slot] = SENT
      return done()
    }
    if (state.committed) return done()
    state.committed = true
    const session = state.session
    if (session === undefined || refusedRequests.has(request)) return done()
    let result: SessionCommit
    try {
      result = sessions.commit(session, plugin.context(request, reply))
    } catch (error) {
      // CookieTooLarge, or a value that cannot be stored: nothing was written; Fastify answers 500.
      return done(error as Error)
    }
    plugin.write(request, reply, result)
    if (result.setCookie.length > 0) withdrawOn5xx(plugin, request, reply, result.setCookie, undefined)
    watchSession(session, state)
    done()
  }
}

/** onSend, store sessions: the save is awaited, so the store has the session before the client does. */
function saveHook(plugin: Plugin, sessions: StoredSessions<SessionData>) {
  return async function save(request: HookRequest, reply: HookReply, payload: unknown): Promise<unknown> {
    const state = plugin.stateOf(request)
    if (state === undefined || state.committed) return payload
    state.committed = true
    const session = state.session
    if (session === undefined || refusedRequests.has(request)) return payload
    // save() decides what to write before its first await: a change from here on misses it.
    const saving = sessions.save(session, plugin.context(request, reply))
    watchSession(session, state)
    // A store failure rejects: Fastify answers 500, without the session cookie.
    const result = await saving
    plugin.write(request, reply, result)
    if (result.setCookie.length > 0) {
      const id = sessions.sessionId(session)
      // A session this request created (saved by the handler too, it keeps its id) leaves the store.
      withdrawOn5xx(plugin, request, reply, result.setCookie, id !== undefined && id !== state.loadedId ? () => sessions.revoke(id) : undefined)
    }
    return payload
  }
}

/**
 * onResponse: a reply that never went through onSend (`reply.hijack()`, then the app wrote
 * `reply.raw` itself) committed nothing, so a change this request made to its session is lost:
 * reported as `ChangedAfterCommit`, as a change after the commit is. Any other reply went
 * through onSend, which committed it.
 */
function hijackedHook(plugin: Plugin) {
  return function reportHijacked(request: HookRequest, _reply: HookReply, done: Done): void {
    const state = plugin.stateOf(request)
    if (state === undefined) {
      // Never read: nothing lost. A read from now on is watched, as after onSend.
      if (request[plugin.slot] !== SENT) request[plugin.slot] = SENT
      return done()
    }
    if (state.committed) return done()
    state.committed = true
    const session = state.session
    if (session !== undefined) {
      const { modified, destroyed, regenerated } = getSessionState(session)
      if (modified || destroyed || regenerated) report(plugin.onError, new ChangedAfterCommit(), request)
      watchSession(session, state)
    }
    done()
  }
}

/**
 * A reply can still become a 5xx after the plugin's onSend hook appended the session cookie while
 * it was a 2xx-4xx: an onSend hook registered after the plugin throws (Fastify then sends its error
 * reply through onSend again, with the headers the reply holds), or sets a 5xx itself, or the
 * payload is a `Response` whose status Fastify applies once the onSend hooks are done. A 5xx
 * carries no session cookie, so the cookies the plugin appended are taken back at the last moment:
 * in `reply.raw.writeHead`, which every reply Fastify sends goes through (with Fastify's headers
 * object, or implicitly, when a stream's first chunk is written after Fastify copied its headers
 * onto `reply.raw`). `forget`, with a store, removes the session this request created (best
 * effort: a failure goes to `onError`). A session the request changed under its old id keeps the
 * change in the store; the client keeps the cookie it had.
 */
function withdrawOn5xx(plugin: Plugin, request: HookRequest, reply: HookReply, cookies: readonly string[], forget: (() => Promise<void>) | undefined): void {
  const raw = reply.raw
  const writeHead = raw.writeHead
  let checked = false
  raw.writeHead = function writeHeadWithoutSession(this: RawReply, statusCode: number, ...rest: unknown[]): unknown {
    if (!checked && typeof statusCode === 'number' && statusCode >= 500) {
      // writeHead(status, [statusMessage], [headers]): Fastify passes its headers object.
      const headers = rest.at(-1)
      if (typeof headers === 'object' && headers !== null && !Array.isArray(headers)) {
        const record = headers as Record<string, unknown>
        for (const name of Object.keys(record)) {
          if (name.toLowerCase() !== 'set-cookie') continue
          const kept = without(record[name], cookies)
          if (kept === undefined) delete record[name]
          else record[name] = kept
        }
      }
      const set = raw.getHeader('set-cookie')
      if (set !== undefined) {
        const kept = without(set, cookies)
        if (kept === undefined) raw.removeHeader('set-cookie')
        else raw.setHeader('set-cookie', kept)
      }
      forget?.().catch((error: unknown) => {
        if (typeof error === 'object' && error !== null) unremoved.add(error)
        report(plugin.onError, error, request)
      })
    }
    checked = true
    return writeHead.call(this, statusCode, ...rest)
  }
}

/** A Set-Cookie header's values without `cookies` (each once); undefined when none is left. */
function without(value: unknown, cookies: readonly string[]): string[] | undefined {
  const kept = (Array.isArray(value) ? value : [value]).map(String)
  for (const cookie of cookies) {
    const at = kept.indexOf(cookie)
    if (at !== -1) kept.splice(at, 1)
  }
  return kept.length > 0 ? kept : undefined
}

/** Store failures `withdrawOn5xx` reported: the default `onError` names them as such. */
const unremoved = new WeakSet<object>()

// -------------------------------------------------------------------------------------------------
// Reporting
// -------------------------------------------------------------------------------------------------

/** `onError` as the hooks call it: Fastify hands them the `FastifyRequest` the option is typed with. */
type ErrorReporter = Reporter<HookRequest>

/** A request as the default `onError` names it: its method and its URL's path (never the query). */
const describeRequest = (request: HookRequest): string => describeTarget(request.method, typeof request.url === 'string' ? request.url : '/')

const reportDefault: ErrorReporter = createReporter(describeRequest, 'its cookie was sent')

/**
 * The default `onError`: {@link createReporter}'s lines, and one `console.error` line for a store
 * that failed to remove the session a request created before its reply became a 5xx (the store's
 * error named by its code or name only: its message may hold the session's id).
 */
const defaultOnError: ErrorReporter = (error, request) => {
  if (typeof error !== 'object' || error === null || !unremoved.has(error)) return reportDefault(error, request)
  const { code, name } = error as { code?: unknown; name?: unknown }
  console.error(`frasco: the session ${describeRequest(request)} created stays in the store: its reply became a 5xx and the store failed to remove it: ${String(code ?? name)}`)
}

// -------------------------------------------------------------------------------------------------
// Options and registration
// -------------------------------------------------------------------------------------------------

const OPTION_KEYS: ReadonlySet<string> = new Set(['sessions', 'csrf', 'onError'])

const MANAGER = 'give it the session manager createSessions returns: app.register(sessionPlugin, { sessions: createSessions({ secrets: secretsFromEnv() }) })'

/** @fastify/session's, @fastify/secure-session's and Fastify's register options, with what to write instead. */
const OPTION_HINTS: Hints = {
  session: 'did you mean `sessions`? (the session manager createSessions returns)',
  secret: `@fastify/session's secret goes to createSessions({ secrets }); ${MANAGER}`,
  secrets: `secrets go to createSessions({ secrets }); ${MANAGER}`,
  key: `@fastify/secure-session's key goes to createSessions({ secrets }) (the secret's text or bytes); ${MANAGER}`,
  sessionName: '@fastify/secure-session\'s sessionName: the session is always request.session',
  cookieName: "the cookie's name goes to createSessions({ cookie: { name } })",
  cookie: 'cookie attributes go to createSessions({ cookie: { … } })',
  expiry: 'a session lasts `lifetime` seconds: createSessions({ lifetime })',
  store: 'give the store to createSessions({ store }): the manager it returns loads and saves through it',
  rolling: 'give `rolling` to createSessions',
  saveUninitialized: 'Frasco has no `saveUninitialized`: an empty session never sets a cookie',
  trustProxy: "https is Fastify's own notion: Fastify({ trustProxy: true }) makes request.protocol, and so cookie.secure: 'auto', follow X-Forwarded-Proto",
  prefix:
    'sessionPlugin decorates the context it is registered in, whatever the prefix: for routes under a prefix only, register it inside a scope, app.register(async (scope) => { await scope.register(sessionPlugin, { sessions }) }, { prefix })',
  logLevel: "sessionPlugin logs nothing through Fastify's logger: give `onError` to see what it reports",
}

function pluginOf(options: unknown): Plugin {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options are invalid: sessionPlugin takes an options object; ${MANAGER}`)
  }
  assertKnownKeys(options, OPTION_KEYS, '', OPTION_HINTS)
  const { sessions, csrf, onError } = options as Partial<Record<keyof SessionPluginOptions, unknown>>
  if (!isManager(sessions)) throw new TypeError(`option sessions is ${sessions === undefined ? 'missing' : 'invalid'}: ${MANAGER}`)
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError('option onError is invalid: give a function (error, request) => void')
  return new Plugin(sessions, onError === undefined ? defaultOnError : (onError as unknown as ErrorReporter), csrfOption(csrf))
}

function isManager(value: unknown): value is Sessions<SessionData> | StoredSessions<SessionData> {
  if (typeof value !== 'object' || value === null) return false
  const manager = value as Partial<Sessions<SessionData> & StoredSessions<SessionData>>
  if (typeof manager.cookieName !== 'string' || typeof manager.secureAuto !== 'boolean') return false
  return isStoredSessions(manager as StoredSessions<SessionData>) ? typeof manager.save === 'function' : typeof manager.read === 'function' && typeof manager.commit === 'function'
}

/** The manager registered in each Fastify context (a scope is an object whose prototype is its parent's). */
const registered = new WeakMap<object, object>()
/** Per app (the root context): the manager of each cookie name, and the contexts the plugin is registered in. */
const apps = new WeakMap<object, { names: Map<string, object>; contexts: object[] }>()

const SIBLINGS =
  'for a second session manager (with its own cookie name), register each manager in a scope of its own, side by side: app.register(async (scope) => { await scope.register(sessionPlugin, { sessions: adminSessions }) })'

/**
 * Refuses a registration that would make two layers read and write one cookie, or check one
 * request twice: a second one in the same context, one in a scope inside (or around) a context
 * that has it (both hooks would run on the inner scope's requests: the outer one's CSRF check
 * against the outer session, two sessions read per request), or two managers with one cookie name
 * in one app (each would delete the other's cookie as invalid).
 */
function claim(context: object, sessions: Sessions<SessionData> | StoredSessions<SessionData>): void {
  if (registered.has(context)) throw new TypeError(`sessionPlugin is already registered in this context: register it once; ${SIBLINGS}`)
  let root = context
  for (let parent = Object.getPrototypeOf(context) as object | null; parent !== null && parent !== Object.prototype; parent = Object.getPrototypeOf(parent) as object | null) {
    const owner = registered.get(parent)
    if (owner === sessions) {
      throw new TypeError('sessionPlugin is already registered with this session manager in a parent context: request.session is already there in this scope; register it once')
    }
    if (owner !== undefined) {
      throw new TypeError(
        `sessionPlugin is already registered in a parent context: its hooks run on this scope's requests too (its CSRF check against its own session), so a scope cannot have a session manager of its own inside one that has one; ${SIBLINGS}`,
      )
    }
    root = parent
  }
  let app = apps.get(root)
  if (app === undefined) apps.set(root, (app = { names: new Map(), contexts: [] }))
  // A scope made before the parent registered the plugin gets the parent's hooks all the same.
  if (app.contexts.some((inner) => Object.prototype.isPrototypeOf.call(context, inner))) {
    throw new TypeError(
      `sessionPlugin is already registered in a scope inside this context: this registration's hooks would run on that scope's requests too (its CSRF check against this session), so a context cannot have a session manager around a scope that has one; ${SIBLINGS}`,
    )
  }
  const names = app.names
  const owner = names.get(sessions.cookieName)
  if (owner !== undefined && owner !== sessions) {
    throw new TypeError(
      `option sessions is invalid: another session manager of this app already uses the cookie name '${sessions.cookieName}', and each would delete the other's cookie as invalid; give this one its own: createSessions({ …, cookie: { name: 'admin_session' } })`,
    )
  }
  names.set(sessions.cookieName, sessions)
  app.contexts.push(context)
  registered.set(context, sessions)
}

async function frasco(instance: unknown, options: unknown): Promise<void> {
  const plugin = pluginOf(options)
  const host = instance as Host
  const { sessions, csrf, slot } = plugin
  claim(host, sessions)
  // The slot first, as a plain value: every request is built with it, so requests keep one shape.
  host.decorateRequest(slot, null)
  try {
    // On the prototype: no property is defined per request.
    host.decorateRequest('session', {
      getter(this: HookRequest) {
        return plugin.sessionOf(this)
      },
      setter(this: HookRequest, value: unknown) {
        // cookie-session's idiom: `request.session = null` ends the session.
        if (value !== null && value !== undefined) throw new TypeError('request.session cannot be replaced; use request.session.regenerate() or set its keys (request.session = null ends it)')
        plugin.sessionOf(this).destroy()
      },
    })
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'FST_ERR_DEC_ALREADY_PRESENT') throw error
    throw new TypeError('request.session is already decorated in this context by another plugin (@fastify/session or @fastify/secure-session?): use one session plugin', { cause: error })
  }
  if (isStoredSessions(sessions)) host.addHook('onRequest', loadHook(plugin, sessions, csrf))
  else if (csrf !== undefined) host.addHook('onRequest', screenHook(plugin, csrf))
  if (csrf !== undefined) host.addHook('preHandler', tokenHook(plugin, csrf))
  host.addHook('onSend', isStoredSessions(sessions) ? saveHook(plugin, sessions) : commitHook(plugin, sessions))
  host.addHook('onResponse', hijackedHook(plugin))
}

/**
 * The Fastify 5 plugin: `request.session` on every request of the context it is registered in
 * (the whole app from the root, a scope and its children from inside a scope; never a sibling
 * scope), committed in an `onSend` hook: the session cookie's `Set-Cookie` appended to the app's,
 * `Cookie` merged into the app's `Vary`, and nothing written for a request whose session did not
 * change.
 *
 * A cookie session is read on first use of `request.session`, from any hook or handler: a request
 * that never touches it costs no signature check and gets no `Vary: Cookie`. A store-backed one
 * (`createSessions({ store })`) is loaded in an `onRequest` hook (no store read without a session
 * cookie) and saved in `onSend`, awaited, before the reply goes out. A 5xx reply carries no
 * session cookie: a handler that threw, the app's own 5xx, and a reply that becomes a 5xx after
 * the plugin's `onSend` hook (a later `onSend` hook that throws or sets a 5xx, a `Response`
 * payload's status), whose session cookie is taken back as the headers are written; with a store,
 * the session such a request created is removed from the store again (a change to an existing
 * session stays saved). A session that cannot be committed (`CookieTooLarge`) or a failing store
 * becomes Fastify's 500, without the session cookie. A reply the app takes over with
 * `reply.hijack()` commits nothing: a change to its session is reported to `onError` as
 * `ChangedAfterCommit`.
 * `secure` for `cookie.secure: 'auto'` is `request.protocol === 'https'`, which follows Fastify's
 * own `trustProxy` option. `request.session = null` ends the session, as `destroy()` does.
 *
 * Register it once per context; a second manager (with its own cookie name) goes in a scope of
 * its own, beside the first one's, never inside (or around) a context that has one: the outer
 * registration's hooks would run on the inner scope's requests too. It decorates the context it is registered in as `fastify-plugin` would
 * (`Symbol.for('skip-override')`), and is named `frasco` (`app.hasPlugin('frasco')`).
 *
 * @throws {TypeError} (from `app.register`, `app.ready()` or `app.listen()`) for invalid or
 *   unknown options, when registered twice in one context, inside or around a context that has it,
 *   or with the cookie name of another manager of the app.
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { createSessions, secretsFromEnv } from 'frasco'
 * import { sessionPlugin } from 'frasco/fastify'
 *
 * const app = Fastify()
 * await app.register(sessionPlugin, { sessions: createSessions({ secrets: secretsFromEnv() }), csrf: true })
 * app.get('/', async (request) => `visit ${(request.session.visits = Number(request.session.visits ?? 0) + 1)}`)
 * await app.listen({ port: 3000 })
 * ```
 */
export const sessionPlugin: FastifyPluginAsync<SessionPluginOptions> = Object.defineProperties(frasco, {
  // What fastify-plugin sets: no encapsulation of its own, so it decorates the context it is
  // registered in; a name for Fastify's messages and app.hasPlugin; the Fastify it was built for.
  [Symbol.for('skip-override')]: { value: true },
  [Symbol.for('fastify.display-name')]: { value: 'frasco' },
  [Symbol.for('plugin-meta')]: { value: Object.freeze({ name: 'frasco', fastify: '5.x' }) },
}) as unknown as FastifyPluginAsync<SessionPluginOptions>
