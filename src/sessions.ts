/**
 * The session manager: options validated once, then `read` (Cookie header → Session) and
 * `commit` (Session → the headers to write) on every request.
 *
 * @module
 */
import { PayloadMalformed, SessionError, SessionExpired } from './errors.js'
import { varyWithCookie } from './lib/vary.js'
import { SIGN_HINTS, VERIFY_HINTS, lifetimeOption, strictOptions } from './lib/options.js'
import { DecodedValue, verified, type VerifyResult } from './lib/result.js'
import { MAX_SECONDS, instant, toSeconds } from './lib/token.js'
import { resolveConfig, type Config, type SessionsOptions } from './manager/config.js'
import { Incoming, deletions, readCookieValue, writeToken } from './manager/cookies.js'
import { getSessionState, openSession, type Session, type SessionData, type SessionState } from './session.js'

export type { SessionCookieOptions, SessionsOptions } from './manager/config.js'

/**
 * Per-request context for {@link Sessions.commit}.
 *
 * @example
 * ```ts
 * const context: CommitContext = { secure: new URL(request.url).protocol === 'https:', vary: response.headers.get('vary') }
 * const { setCookie, vary } = sessions.commit(session, context)
 * ```
 */
export interface CommitContext {
  /** Whether the request came over HTTPS; decides `Secure` when the cookie option is `'auto'`. */
  secure?: boolean
  /**
   * The response's `Vary` header as it stands, so the result can merge `Cookie` into it: as
   * frameworks return it (`res.getHeader('Vary')`, `reply.getHeader('vary')`, `ctx.response.get('Vary')`),
   * a list of values included.
   */
  vary?: string | readonly string[] | number | null | undefined
  /**
   * The response's status. On a 5xx (a failed request, such as the error page for a handler that
   * threw halfway) no session cookie is written: the client keeps the session it had. Omit it to
   * commit whatever the status (the way to keep a session on a 5xx on purpose).
   */
  status?: number
}

/**
 * What an adapter writes for a session: every header, computed by the manager.
 *
 * @example
 * ```ts
 * const { setCookie, vary } = sessions.commit(session, { vary: res.getHeader('Vary') })
 * for (const value of setCookie) res.appendHeader('Set-Cookie', value)
 * if (vary !== undefined) res.setHeader('Vary', vary)
 * ```
 */
export interface SessionCommit {
  /** `Set-Cookie` values to append (never to replace others with): the cookie, its chunks, deletions. */
  readonly setCookie: string[]
  /**
   * The `Vary` value to set, with `Cookie` merged into the context's `vary`, when the response
   * depends on the session; undefined when `Vary` needs no change.
   */
  readonly vary: string | undefined
}

/**
 * Options of {@link Sessions.sign}.
 *
 * @example
 * ```ts
 * const options: SessionSignOptions = { expiresIn: 3600, persistent: true }
 * const cookieValue = sessions.sign({ user: 'ada' }, options)
 * ```
 */
export interface SessionSignOptions {
  /** Seconds until the session expires; at most the manager's `lifetime` (the default). */
  expiresIn?: number
  /** Whether the session is persistent. Default: the manager's `persistent`. */
  persistent?: boolean
  /** The signing time: a Date or milliseconds since the epoch. Defaults to the manager's clock. */
  now?: Date | number
}

/**
 * Options of {@link Sessions.verify}.
 *
 * @example
 * ```ts
 * const result = sessions.verify(cookieValue, { now: new Date('2026-01-01') })
 * ```
 */
export interface SessionVerifyOptions {
  /** The verification time: a Date or milliseconds since the epoch. Defaults to the manager's clock. */
  now?: Date | number
}

/**
 * What {@link Sessions.verify} returns: a {@link VerifyResult} that also says, when the cookie
 * verified, whether the session is persistent.
 *
 * @example
 * ```ts
 * const result: SessionVerifyResult<{ user: string }> = sessions.verify(cookieValue)
 * if (result.ok && result.persistent) console.log('remembered until', result.expiresAt)
 * ```
 */
export type SessionVerifyResult<T> = (Extract<VerifyResult<T>, { ok: true }> & { persistent: boolean }) | Extract<VerifyResult<T>, { ok: false }>

/**
 * What {@link createSessions} returns.
 *
 * @example
 * ```ts
 * const sessions: Sessions<{ user: string }> = createSessions({ secrets: secretsFromEnv() })
 * const session = sessions.read(req.headers.cookie)
 * if (session.isNew) console.info(sessions.invalidReason(session)?.code)
 * const { setCookie, vary } = sessions.commit(session)
 * ```
 */
export interface Sessions<T extends object = SessionData> {
  /** The session cookie's name. */
  readonly cookieName: string
  /** Whether the cookie's `secure` option is `'auto'`: adapters then pass `secure` to commit. */
  readonly secureAuto: boolean
  /**
   * Reads the session from a `Cookie` header. Never throws on bad input: a missing, malformed,
   * tampered or expired cookie gives a fresh empty session, and the reason goes to `onInvalid`
   * and {@link Sessions.invalidReason}.
   */
  read(cookieHeader: string | null | undefined): Session<T>
  /**
   * The headers to write for this session: `Set-Cookie` values (none when nothing needs writing,
   * deletions when it was emptied or destroyed, a freshly signed cookie or chunks otherwise) and
   * the merged `Vary`.
   *
   * @throws {CookieTooLarge} when the session does not fit; nothing should be sent then.
   * @throws {TypeError} when the session holds a value that cannot be stored; the message names it.
   */
  commit(session: Session<T>, context?: CommitContext): SessionCommit
  /** Why the cookie this session was read from was rejected, if it was. */
  invalidReason(session: Session<T>): SessionError | undefined
  /** Signs session data into a cookie value, exactly as `commit` would. */
  sign(data: Partial<T>, options?: SessionSignOptions): string
  /** Verifies a cookie value, exactly as `read` would, and says whether it is persistent. Never throws on bad input. */
  verify(value: string, options?: SessionVerifyOptions): SessionVerifyResult<Partial<T>>
}

/** What the manager keeps in a session's meta bag. A class, so every read builds the same shape. */
class Meta {
  readonly incoming = new Incoming()
  issuedAt: number | undefined = undefined
  expiresAt: number | undefined = undefined
  stale = false
  error: SessionError | undefined = undefined
}
// The manager's entry in a session's meta bag (other code may keep its own entries there).
type MetaBag = { frasco?: Meta }

// What read() and verify() accept as session data: a plain object, not another tagged value.
function isSessionData(data: unknown): data is SessionData {
  return (
    typeof data === 'object' &&
    data !== null &&
    !Array.isArray(data) &&
    !(data instanceof Map || data instanceof Set || data instanceof Uint8Array || data instanceof Date)
  )
}

const SIGN_KEYS = new Set(['expiresIn', 'persistent', 'now'])
const CONTEXT_KEYS = new Set(['secure', 'vary', 'status'])
const VERIFY_KEYS = new Set(['now'])

/**
 * Verifies a cookie value. A Frasco token's expiry is also capped at the lifetime from its issue:
 * a token minted without one (createSerializer with the session purpose) would otherwise never
 * expire, and sessions issued before `lifetime` was lowered would keep their longer expiry.
 */
function decode(config: Config, value: string, now: number): DecodedValue | SessionError {
  const decoded = config.codec.decode(value, now, config.maxReadAge)
  if (decoded instanceof SessionError) return decoded
  if (!isSessionData(decoded.value)) return new PayloadMalformed('session payload is not an object')
  if (decoded.issuedAt === undefined) return decoded
  if (!config.codec.absoluteExpiry) {
    // The format carries no expiry: the session ends where the age limit of every read puts it.
    const limit = config.maxReadAge as number
    return new DecodedValue(decoded.value, decoded.issuedAt, decoded.issuedAt + limit, decoded.keyId, decoded.stale, decoded.persistent)
  }
  const cap = decoded.issuedAt + config.lifetime
  if (decoded.expiresAt !== undefined && decoded.expiresAt <= cap) return decoded
  if (now - config.codec.clockTolerance >= cap) return new SessionExpired(new Date(cap * 1000))
  return new DecodedValue(decoded.value, decoded.issuedAt, cap, decoded.keyId, decoded.stale, decoded.persistent)
}

function read<T extends object>(config: Config, cookieHeader: string | null | undefined): Session<T> {
  const meta = new Meta()
  const header = typeof cookieHeader === 'string' ? cookieHeader : undefined
  const value = readCookieValue(header, config.name, config.maxChunks, meta.incoming)
  if (value instanceof SessionError) return reject(config, value, meta)
  if (value === undefined || value === '') return openSession<T>(undefined, true, { frasco: meta }, config.persistent, config.persistent)
  const decoded = decode(config, value, nowSeconds(config))
  if (decoded instanceof SessionError) return reject(config, decoded, meta)
  meta.issuedAt = decoded.issuedAt
  meta.expiresAt = decoded.expiresAt
  meta.stale = decoded.stale
  return openSession<T>(decoded.value as SessionData, false, { frasco: meta }, decoded.persistent, config.persistent)
}

function reject<T extends object>(config: Config, error: SessionError, meta: Meta): Session<T> {
  meta.error = error
  if (config.onInvalid !== undefined) {
    try {
      config.onInvalid(error)
    } catch {
      // A logging callback must not turn a bad cookie into a failed request.
    }
  }
  return openSession<T>(undefined, true, { frasco: meta }, config.persistent, config.persistent)
}

// Date.now (as captured at construction) needs no checking; an application's clock is validated
// on every call.
function nowSeconds(config: Config): number {
  return config.clockIsDateNow ? Math.floor(config.clock() / 1000) : toSeconds(config.clock(), 'clock')
}

function isEmpty(data: Readonly<SessionData>): boolean {
  for (const _ in data) return false
  return true
}

/** The Set-Cookie values for a session: nothing, deletions, or a freshly signed cookie. */
function setCookies(config: Config, state: SessionState, meta: Meta, secure: boolean | undefined): string[] {
  const writer = config.secure === true || (config.secure === 'auto' && secure === true) ? config.secureWriter : config.plainWriter
  if (state.destroyed || isEmpty(state.data)) {
    // Nothing to keep: delete whatever cookie came in (including a rejected one, so the browser
    // stops sending it), and write nothing for a session that never had one.
    const incoming = meta.incoming
    return incoming.count !== 0 || incoming.strayChunks > 0 ? deletions(writer, config.name, incoming, false, 0) : []
  }
  const now = nowSeconds(config)
  const codec = config.codec
  const fresh = state.isNew || state.regenerated || (codec.absoluteExpiry && meta.expiresAt === undefined)
  const due =
    state.modified ||
    fresh ||
    meta.stale ||
    config.rolling ||
    meta.incoming.strayChunks > 0 ||
    (meta.issuedAt !== undefined && now - meta.issuedAt >= config.refreshAfter)
  if (!due) return []

  const expiresAt = !codec.absoluteExpiry ? undefined : fresh ? now + config.lifetime : (meta.expiresAt as number)
  const token = codec.encode(state.data, now, expiresAt, state.persistent)
  // A persistent session's cookie lives until the session expires (or idles out); any other is a
  // browser-session cookie.
  const maxAge = state.persistent ? Math.max(1, Math.min((expiresAt ?? now + config.lifetime) - now, config.idleTimeout ?? Infinity)) : undefined
  return writeToken(writer, token, maxAge, config.maxChunks, meta.incoming)
}

function commit<T extends object>(config: Config, session: Session<T>, context: CommitContext | undefined): SessionCommit {
  let vary = ''
  let failed = false
  if (context !== undefined) {
    strictOptions(context, CONTEXT_KEYS, 'sessions.commit')
    if (context.secure !== undefined && typeof context.secure !== 'boolean') throw new TypeError('option secure is invalid: give true when the request came over HTTPS, else false')
    vary = varyText(context.vary)
    failed = isServerError(context.status)
  }
  const state = getSessionState(session)
  const meta = (state.meta as MetaBag).frasco ?? new Meta()
  const setCookie = failed ? [] : setCookies(config, state, meta, context?.secure)
  // A new result every time: the caller may add to its list.
  if (setCookie.length === 0 && !state.accessed) return { setCookie, vary: undefined }
  return { setCookie, vary: varyWithCookie(vary) }
}

/** RFC 9110 §15.6: a 5xx says the server failed to fulfil the request. */
function isServerError(status: unknown): boolean {
  if (status === undefined) return false
  if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 999) {
    throw new TypeError('option status is invalid: give the response status, a whole number from 100 to 999')
  }
  return (status as number) >= 500 && (status as number) <= 599
}

/** The Vary value a framework handed over, as one comma-separated text. */
function varyText(current: unknown): string {
  if (typeof current === 'string') return current
  if (current === undefined || current === null) return ''
  if (Array.isArray(current)) return current.join(', ')
  if (typeof current === 'number') return String(current)
  throw new TypeError("option vary is invalid: give the response's Vary header as a string or a list of strings (or nothing)")
}

function sign<T extends object>(config: Config, data: Partial<T>, options: SessionSignOptions | undefined): string {
  const { expiresIn, persistent, now } = strictOptions(options, SIGN_KEYS, 'sessions.sign', SIGN_HINTS)
  const issuedAt = instant(now, config.clock)
  if (expiresIn !== undefined && !config.codec.absoluteExpiry) {
    throw new TypeError('option expiresIn is invalid: this format carries no expiry; every read limits the age to the lifetime')
  }
  const life = expiresIn === undefined ? config.lifetime : lifetimeOption(expiresIn, 'expiresIn')
  // read() caps every expiry at the configured lifetime; a longer one would be cut silently.
  if (life > config.lifetime) {
    throw new TypeError(`option expiresIn is invalid: sessions.sign cannot issue a session longer than this manager's lifetime (${config.lifetime} s)`)
  }
  if (issuedAt + life > MAX_SECONDS) throw new TypeError('option now is invalid: the expiry falls beyond what a token holds')
  const isPersistent = persistent === undefined ? config.persistent : persistent
  if (typeof isPersistent !== 'boolean') throw new TypeError('option persistent is invalid: give true or false')
  return config.codec.encode(data, issuedAt, config.codec.absoluteExpiry ? issuedAt + life : undefined, isPersistent)
}

function verify<T extends object>(config: Config, value: string, options: SessionVerifyOptions | undefined): SessionVerifyResult<Partial<T>> {
  const { now } = strictOptions(options, VERIFY_KEYS, 'sessions.verify', VERIFY_HINTS)
  const decoded = decode(config, value, now === undefined ? nowSeconds(config) : toSeconds(now))
  if (decoded instanceof SessionError) return { ok: false, error: decoded }
  // Added in place: a spread plus a property takes V8's slow path (docs/performance.md).
  const result = verified(decoded, decoded.value as Partial<T>) as SessionVerifyResult<Partial<T>> & { ok: true }
  result.persistent = decoded.persistent
  return result
}

/**
 * Creates a session manager. All options are validated here, once; `read` and `commit` do no
 * option parsing. Every unknown option, including the names other session libraries use, is a
 * TypeError that names the Frasco equivalent.
 *
 * @example
 * ```ts
 * import { createSessions, secretsFromEnv } from 'frasco'
 *
 * const sessions = createSessions<{ username: string }>({
 *   secrets: secretsFromEnv(),
 *   lifetime: 14 * 24 * 3600,
 *   cookie: { secure: true },
 * })
 * const session = sessions.read(request.headers.cookie)
 * session.set('username', 'admin')
 * for (const header of sessions.commit(session).setCookie) response.appendHeader('Set-Cookie', header)
 * ```
 */
export function createSessions<T extends object = SessionData>(options: SessionsOptions): Sessions<T> {
  const config = resolveConfig(options)
  return {
    cookieName: config.name,
    secureAuto: config.secure === 'auto',
    read: (cookieHeader) => read<T>(config, cookieHeader),
    commit: (session, context) => commit(config, session, context),
    invalidReason: (session) => (getSessionState(session).meta as MetaBag).frasco?.error,
    sign: (data, signOptions) => sign(config, data, signOptions),
    verify: (value, verifyOptions) => verify<T>(config, value, verifyOptions),
  }
}
