/**
 * The session manager: options validated once, then `read` (Cookie header → Session) and
 * `commit` (Session → the headers to write) on every request.
 *
 * @module
 */
import { SessionError } from './errors.js'
import { SIGN_HINTS, VERIFY_HINTS, lifetimeOption, strictOptions } from './lib/options.js'
import { verified, type VerifyResult } from './lib/result.js'
import { MAX_SECONDS, instant, toSeconds } from './lib/token.js'
import { resolveConfig, resolveStore, type Config, type SessionStoreOptions, type SessionsOptions, type StoreConfig } from './manager/config.js'
import { load, registerPlanner, save, sessionId } from './manager/stored.js'
import type { SessionStore } from './stores/store.js'
import { deletions, writeToken } from './manager/cookies.js'
import { Meta, assertCommittable, commitResult, readContext, decode, isEmpty, nowSeconds, read, writerFor, type CommitContext, type MetaBag, type SessionCommit } from './manager/shared.js'
import { getSessionState, type Session, type SessionData, type SessionState } from './session.js'

export type { SessionCookieOptions, SessionStoreOptions, SessionsOptions } from './manager/config.js'
export type { CommitContext, SessionCommit } from './manager/shared.js'

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
  /** The cookie's `secure` option as resolved: `true`, `false` or `'auto'` (the default). */
  readonly secure: boolean | 'auto'
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

const SIGN_KEYS = new Set(['expiresIn', 'persistent', 'now'])
const VERIFY_KEYS = new Set(['now'])

/** The Set-Cookie values for a session: nothing, deletions, or a freshly signed cookie. */
function setCookies(config: Config, state: SessionState, meta: Meta, secure: boolean | undefined): string[] {
  const writer = writerFor(config, secure)
  if (state.destroyed || isEmpty(state.data)) {
    // Nothing to keep: delete whatever cookie came in (including a rejected one, so the browser
    // stops sending it), and write nothing for a session that never had one.
    return deletions(writer, config.name, meta.incoming, false, 0)
  }
  const now = nowSeconds(config)
  const codec = config.codec
  // A regenerated session is new too. The expiry test guards the cast below: every token read has one.
  // Stryker disable next-line ConditionalExpression: equivalent, every Frasco token read has an expiry (test/mutation-equivalents.md)
  const fresh = state.isNew || (codec.absoluteExpiry && meta.expiresAt === undefined)
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
  const { vary, failed } = readContext(context, 'sessions.commit')
  const state = getSessionState(session)
  assertCommittable(state)
  const meta = (state.meta as MetaBag).frasco ?? new Meta()
  return commitResult(failed ? [] : setCookies(config, state, meta, context?.secure), state.accessed, vary)
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
 * What {@link createSessions} returns when given a `store` (the data in the store, an id in the
 * cookie) or a `revocation` store (the data in the cookie, its id in the store): a manager that
 * reads and writes asynchronously, and can end sessions before they expire. The adapters of
 * `frasco/node` and `frasco/fetch` take it as they take {@link Sessions}.
 *
 * @example
 * ```ts
 * import { createSessions, secretsFromEnv } from 'frasco'
 * import { createMemoryStore } from 'frasco/stores'
 *
 * const sessions: StoredSessions<{ userId: string }> = createSessions<{ userId: string }>({
 *   secrets: secretsFromEnv(),
 *   store: createMemoryStore(),
 *   user: (data) => data.userId,
 * })
 * const session = await sessions.load(request.headers.get('cookie'))
 * session.set('userId', 'u1')
 * const { setCookie } = await sessions.save(session)
 * await sessions.revokeUser('u1') // log out everywhere
 * ```
 */
export interface StoredSessions<T extends object = SessionData> {
  /** The session cookie's name. */
  readonly cookieName: string
  /** Whether the cookie's `secure` option is `'auto'`: adapters then pass `secure` to save. */
  readonly secureAuto: boolean
  /** The cookie's `secure` option as resolved: `true`, `false` or `'auto'` (the default). */
  readonly secure: boolean | 'auto'
  /** The store: the `store` option, or the `revocation` option. */
  readonly store: SessionStore
  /** Where the data lives: `'store'` (the `store` option) or `'cookie'` (the `revocation` option). */
  readonly data: 'store' | 'cookie'
  /**
   * Loads the session of a `Cookie` header. A missing, malformed, tampered or expired cookie, or
   * one whose id the store no longer holds (`ERR_SESSION_REVOKED`), gives a fresh empty session,
   * and the reason goes to `onInvalid` and {@link StoredSessions.invalidReason}. Rejects only when
   * the store fails.
   */
  load(cookieHeader: string | null | undefined): Promise<Session<T>>
  /**
   * Writes what the request changed to the store (only the keys it set or deleted; a new session,
   * or a regenerated one, under a new id, the old id deleted; a destroyed or emptied one deleted),
   * and returns the headers to write, as {@link Sessions.commit} does. When the session is no
   * longer in the store (destroyed, regenerated or revoked since it was loaded), nothing is
   * written back and its cookie is deleted: a logout is never undone by a slower request.
   *
   * @throws {CookieTooLarge} with `revocation`, when the session does not fit in its cookies.
   * @throws {PayloadTooLarge} with `store`, when the session would hold more than 1 MiB of encoded
   *   fields in the store; nothing was written.
   * @throws {TypeError} when the session holds a value that cannot be stored; the message names it.
   */
  save(session: Session<T>, context?: CommitContext): Promise<SessionCommit>
  /** Why the cookie this session was loaded from was rejected, if it was. */
  invalidReason(session: Session<T>): SessionError | undefined
  /** The session's id in the store: after it was loaded from a valid cookie, or once its first save succeeded. */
  sessionId(session: Session<T>): string | undefined
  /** Ends one session now, by its id: its cookie is refused from the next request on. */
  revoke(id: string): Promise<void>
  /**
   * Ends every session of a user now (with the `user` option): "log out everywhere", after a
   * password change. Resolves how many sessions there were.
   */
  revokeUser(user: string): Promise<number>
}

/** `createSessions`' options with a `store` or a `revocation` store. */
export type StoredSessionsOptions = SessionsOptions & SessionStoreOptions & ({ store: SessionStore } | { revocation: SessionStore })

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
export function createSessions<T extends object = SessionData>(options: StoredSessionsOptions): StoredSessions<T>
export function createSessions<T extends object = SessionData>(options: SessionsOptions): Sessions<T>
export function createSessions<T extends object = SessionData>(options: SessionsOptions & SessionStoreOptions): Sessions<T> | StoredSessions<T> {
  const config = resolveConfig(options)
  const store = resolveStore(options, config)
  if (store !== undefined) return createStoredSessions<T>(config, store)
  return {
    cookieName: config.name,
    secureAuto: config.secure === 'auto',
    secure: config.secure,
    read: (cookieHeader) => read<T>(config, cookieHeader),
    commit: (session, context) => commit(config, session, context),
    invalidReason: (session) => (getSessionState(session).meta as MetaBag).frasco?.error,
    sign: (data, signOptions) => sign(config, data, signOptions),
    verify: (value, verifyOptions) => verify<T>(config, value, verifyOptions),
  }
}

function createStoredSessions<T extends object>(config: Config, store: StoreConfig): StoredSessions<T> {
  const backing = store.store
  const sessions: StoredSessions<T> = {
    cookieName: config.name,
    secureAuto: config.secure === 'auto',
    secure: config.secure,
    store: backing,
    data: store.data,
    load: (cookieHeader) => load<T>(config, store, cookieHeader),
    save: (session, context) => save(config, store, session, context),
    invalidReason: (session) => (getSessionState(session).meta as MetaBag).frasco?.error,
    sessionId: (session) => sessionId(session),
    revoke: (id) => backing.destroy(id),
    revokeUser: (user) => backing.destroyUser(user),
  }
  registerPlanner(sessions, config, store)
  return sessions
}

/**
 * Whether `sessions` is a store-backed manager ({@link StoredSessions}), whose `load` and `save`
 * are asynchronous.
 *
 * @example
 * ```ts
 * const session = isStoredSessions(sessions) ? await sessions.load(cookie) : sessions.read(cookie)
 * ```
 */
export function isStoredSessions<T extends object>(sessions: Sessions<T> | StoredSessions<T>): sessions is StoredSessions<T> {
  return 'load' in sessions && typeof sessions.load === 'function'
}
