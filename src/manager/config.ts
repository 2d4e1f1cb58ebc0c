/**
 * `createSessions`' options, validated once into a {@link Config} that `read` and `commit` use
 * without checking anything again.
 *
 * @internal
 */
import { createTokenCookieWriter, MAX_COOKIE_BYTES, type CookieAttributes, type CookiePriority, type CookieSameSite, type TokenCookieWriter } from '../cookie/cookie.js'
import type { SessionError } from '../errors.js'
import type { Keyring, SecretsInput } from '../keyring.js'
import type { SessionCodec, SessionFormat } from '../lib/format.js'
import { SESSION_HINTS, assertKnownKeys, requiredOptions, booleanOption, clockOption, lifetimeOption, type Clock, type CompressOption } from '../lib/options.js'
import { FRASCO_FORMAT } from '../formats/frasco.js'
import type { SessionData } from '../session.js'
import type { SessionStore } from '../stores/store.js'

/**
 * The session cookie's name and attributes. Its lifetime is not among them: the cookie's Max-Age
 * derives from the session's `lifetime` and `persistent` options.
 *
 * @example
 * ```ts
 * const cookie: SessionCookieOptions = { name: '__Host-session', secure: true, sameSite: 'strict' }
 * const sessions = createSessions({ secrets: secretsFromEnv(), cookie })
 * ```
 */
export interface SessionCookieOptions {
  /** Cookie name. Default `'session'`. A `__Host-` name needs `secure: true`, `path: '/'` and no domain. */
  name?: string
  /** Default `'/'`. */
  path?: string
  /** Omit for a host-only cookie (the safest choice). */
  domain?: string
  /**
   * `true`, `false`, or `'auto'` (the default): Secure when the request came over TLS, which the
   * adapters detect (behind a proxy, with `trustProxy`, from `X-Forwarded-Proto`).
   */
  secure?: boolean | 'auto'
  /** Default `true`: scripts cannot read the session cookie. */
  httpOnly?: boolean
  /** Default `'lax'`. */
  sameSite?: CookieSameSite
  /** CHIPS partitioned cookie; needs `secure: true`. */
  partitioned?: boolean
  priority?: CookiePriority
}

/**
 * Options of `createSessions`. Every lifetime is in seconds.
 *
 * @example
 * ```ts
 * const options: SessionsOptions = { secrets: secretsFromEnv(), lifetime: 14 * 86400, persistent: true, idleTimeout: 3600 }
 * const sessions = createSessions<{ user: string }>(options)
 * ```
 */
export interface SessionsOptions {
  /** One secret or a list, newest first (at least 32 bytes each; Flask's keys as they are with the Flask format). */
  secrets: SecretsInput | Keyring
  cookie?: SessionCookieOptions
  /**
   * How long a session lasts, in seconds from login (its creation or `regenerate()`), at most 400
   * days; signed into the cookie and enforced on every read. Default 7 days (31 days, Flask's
   * `PERMANENT_SESSION_LIFETIME`, with the Flask format).
   */
  lifetime?: number
  /**
   * Whether new sessions get a persistent cookie (with a Max-Age up to `lifetime`) rather than a
   * browser-session cookie. Default `false`. Each session can change it: `session.persistent`.
   */
  persistent?: boolean
  /**
   * Seconds of inactivity after which the session expires (sliding). Activity re-issues the
   * cookie at most every tenth of this period, so a busy page does not write a cookie per request.
   */
  idleTimeout?: number
  /** Re-issue the cookie on every response that has a session, refreshing its idle window. */
  rolling?: boolean
  /**
   * Split sessions larger than one cookie (4096 bytes) across `name.0`, `name.1`, …
   * Default `true` with at most 3 chunks, which keeps the Cookie header well under Node's 16 KiB
   * header limit. `false`: a session over one cookie throws `CookieTooLarge` at commit. With the
   * Flask format the default is `false`: Flask reads the single `session` cookie only.
   */
  chunking?: boolean | { maxChunks: number }
  /**
   * Encrypt sessions with XAES-256-GCM (format `x1`; `e1` cookies are still read), so the client cannot read them. Default
   * `false` (signed only: readable, not alterable). See docs/security.md.
   */
  encrypt?: boolean
  /** The cookie format: Frasco's own (the default) or `createFlaskFormat()` from `frasco/flask`. */
  format?: SessionFormat
  /**
   * Compress large payloads: `true` (from 1 KiB), `{ threshold }` in bytes, or `false`. Default
   * `true` for signed sessions and `false` with `encrypt: true`: with compression, an encrypted
   * cookie's length reveals whether text the user controls matches secret text in the same
   * session (a compression oracle, docs/security.md). Turn it on for encrypted sessions only when
   * no part of the session is user-controlled.
   */
  compress?: CompressOption
  /** Seconds of clock difference tolerated between servers. Default 60. */
  clockTolerance?: number
  /** Called with the reason whenever a cookie is rejected; the request gets a fresh session. */
  onInvalid?: (error: SessionError) => void
  /** The clock: milliseconds since the epoch, like `Date.now` (the default). For tests. */
  clock?: Clock
}

/**
 * The options of `createSessions` that back sessions with a store; see `StoredSessions`.
 *
 * @example
 * ```ts
 * const options: SessionStoreOptions = { store: createMemoryStore(), user: (data) => data.userId }
 * const sessions = createSessions({ secrets: secretsFromEnv(), ...options })
 * ```
 */
export interface SessionStoreOptions {
  /**
   * Keep the sessions' data in a store (`createMemoryStore()`, `createRedisStore(client)`,
   * `fromExpressStore(store)` of `frasco/stores`): the cookie carries only a signed (or, with
   * `encrypt`, encrypted) session id of 144 random bits. `createSessions` then returns
   * {@link StoredSessions}, which read and write asynchronously (`load`, `save`); the adapters hide
   * the difference. Only the keys a request changed are written, so concurrent requests do not lose
   * each other's updates, and a destroyed or revoked session stays gone. Frasco's format only.
   */
  store?: SessionStore
  /**
   * Keep the data in the cookie, as without a store, but record each session's id in this store,
   * so that `revoke` and `revokeUser` end sessions before they expire: a cookie whose id is no
   * longer in the store is refused. The cost: one store read per request that reads the session.
   * Not with `store`.
   */
  revocation?: SessionStore
  /**
   * With `store` or `revocation`: whose session this is, from its data (for example
   * `(data) => data.userId`), so that `revokeUser(id)` ends every session of that user ("log out
   * everywhere"). Return `undefined` while nobody is logged in.
   */
  user?: (data: Readonly<Record<string, any>>) => string | null | undefined
}

/** Where a store-backed manager keeps a session's data: in the store, or in the cookie (`revocation`). */
export type StoredData = 'store' | 'cookie'

/** What a store-backed manager needs beyond {@link Config}. */
export interface StoreConfig {
  readonly store: SessionStore
  readonly data: StoredData
  /** Whose session this is, for the per-user index (`revokeUser`). */
  readonly user: ((data: Readonly<SessionData>) => unknown) | undefined
}

/** Everything read and commit need, validated. */
export interface Config {
  readonly name: string
  readonly secure: boolean | 'auto'
  readonly secureWriter: TokenCookieWriter
  readonly plainWriter: TokenCookieWriter
  /** Seconds. */
  readonly lifetime: number
  readonly persistent: boolean
  readonly idleTimeout: number | undefined
  /** Seconds after an issue at which activity re-issues the cookie (Infinity: never). */
  readonly refreshAfter: number
  readonly rolling: boolean
  readonly maxChunks: number
  readonly codec: SessionCodec
  /** The age limit the codec enforces on read (the lifetime too, for formats without an expiry). */
  readonly maxReadAge: number | undefined
  readonly onInvalid: ((error: SessionError) => void) | undefined
  readonly clock: Clock
  /** Whether `clock` is the `Date.now` of construction time, which needs no checking. */
  readonly clockIsDateNow: boolean
}

const DEFAULT_MAX_CHUNKS = 3
/** Upper bound on chunks a request may claim, so a hostile header cannot make read() loop long. */
export const MAX_CHUNKS_LIMIT = 10

const OPTION_KEYS = new Set([
  'secrets', 'cookie', 'lifetime', 'persistent', 'idleTimeout', 'rolling', 'chunking', 'encrypt', 'format', 'compress', 'clockTolerance', 'onInvalid', 'clock',
  'store', 'revocation', 'user',
])

const STORE_METHODS = ['load', 'save', 'destroy', 'destroyUser'] as const

function assertStore(store: unknown, name: string): asserts store is SessionStore {
  const candidate = store as Partial<Record<string, unknown>> | null
  // Stryker disable next-line ConditionalExpression: equivalent, no primitive's prototype has the store methods (test/mutation-equivalents.md)
  const missing = (typeof candidate === 'object' || typeof candidate === 'function') && candidate !== null ? STORE_METHODS.filter((method) => typeof candidate[method] !== 'function') : STORE_METHODS
  if (missing.length > 0 && candidate !== null && (typeof candidate.sendCommand === 'function' || (typeof candidate === 'object' && typeof candidate.call === 'function'))) {
    throw new TypeError(`option ${name} is invalid: this looks like a Redis client; wrap it: createRedisStore(client) from frasco/stores`)
  }
  if (missing.length > 0 && candidate !== null && ['get', 'set', 'destroy'].every((method) => typeof (candidate as Record<string, unknown>)[method] === 'function')) {
    throw new TypeError(`option ${name} is invalid: this looks like an express-session store (get, set, destroy); wrap it: fromExpressStore(store) from frasco/stores`)
  }
  if (missing.length > 0) {
    throw new TypeError(
      `option ${name} is invalid: give a session store (createMemoryStore(), createRedisStore(client) or fromExpressStore(store) from frasco/stores); it lacks ${missing.join(', ')}`,
    )
  }
}

function storePurpose(options: SessionStoreOptions): string {
  if (options.store !== undefined) return ':store'
  return options.revocation !== undefined ? ':revocation' : ''
}

/**
 * The store options of `createSessions`, or undefined for a cookie-only manager. Checked beside
 * {@link resolveConfig}, which validates everything else.
 */
export function resolveStore(options: SessionsOptions & SessionStoreOptions, config: Config): StoreConfig | undefined {
  const { store, revocation, user } = options
  if (store !== undefined && revocation !== undefined) {
    throw new TypeError('option revocation is invalid beside store: with store, the store already holds every session (revoke and revokeUser work); give one of them')
  }
  if (user !== undefined && typeof user !== 'function') throw new TypeError("option user is invalid: give a function of the session's data returning the user's id, e.g. (data) => data.userId")
  // null is a mistake to report, not a missing option: it must not quietly mean cookie sessions.
  const backing = store !== undefined ? store : revocation
  if (backing === undefined) {
    if (user !== undefined) throw new TypeError('option user is invalid without store or revocation: the per-user index lives in a store')
    return undefined
  }
  assertStore(backing as unknown, store !== undefined ? 'store' : 'revocation')
  if (!config.codec.absoluteExpiry) {
    throw new TypeError(`option ${store !== undefined ? 'store' : 'revocation'} is invalid with the Flask format: store-backed sessions use Frasco's format (omit format)`)
  }
  return { store: backing, data: store !== undefined ? 'store' : 'cookie', user: user as StoreConfig['user'] }
}
const COOKIE_KEYS = new Set(['name', 'path', 'domain', 'secure', 'httpOnly', 'sameSite', 'partitioned', 'priority'])
const COOKIE_HINTS: Readonly<Record<string, string>> = {
  maxAge: "the cookie's Max-Age derives from `lifetime` (seconds) and `persistent`; set those instead",
  expires: "the cookie's Expires derives from `lifetime` (seconds) and `persistent`; set those instead",
  signed: 'Frasco cookies are always signed',
  overwrite: 'Frasco always replaces the session cookie',
}
const CHUNKING_KEYS = new Set(['maxChunks'])

/** Validates `createSessions`' options; every TypeError names the option and the fix. */
export function resolveConfig(options: SessionsOptions): Config {
  requiredOptions(options, OPTION_KEYS, 'createSessions', '{ secrets }', SESSION_HINTS)
  if (options.secrets === undefined) {
    throw new TypeError('option secrets is missing: give one secret or a list, newest first; generate one with `npx frasco keygen`')
  }
  const format = resolveFormat(options.format)
  const clock = clockOption(options.clock)
  const { name, secure, secureWriter, plainWriter } = resolveCookie(options.cookie)
  const lifetime = options.lifetime === undefined ? format.defaultLifetime : lifetimeOption(options.lifetime, 'lifetime')
  const idleTimeout = options.idleTimeout === undefined ? undefined : lifetimeOption(options.idleTimeout, 'idleTimeout')
  const maxChunks = resolveChunking(options.chunking ?? format.defaultChunking)
  const onInvalid = options.onInvalid
  if (onInvalid !== undefined && typeof onInvalid !== 'function') throw new TypeError('option onInvalid is invalid: give a function (error) => void')
  const codec = format.createCodec({
    secrets: options.secrets,
    // Each kind of cookie has its own purpose, so a store-backed manager never accepts a cookie
    // session's cookie (or the other way round) as one of its own.
    purpose: `session:${name}${storePurpose(options as SessionStoreOptions)}`,
    encrypt: options.encrypt,
    compress: options.compress,
    clockTolerance: options.clockTolerance,
    // Chunked cookies never exceed maxChunks * 4 KiB; refuse anything longer unread.
    maxTokenLength: maxChunks * MAX_COOKIE_BYTES,
  })
  return {
    name,
    secure,
    secureWriter,
    plainWriter,
    lifetime,
    persistent: booleanOption(options.persistent, 'persistent', false),
    idleTimeout,
    refreshAfter: idleTimeout === undefined ? Infinity : Math.max(1, Math.floor(idleTimeout / 10)),
    rolling: booleanOption(options.rolling, 'rolling', false),
    maxChunks,
    codec,
    // Frasco tokens carry the absolute expiry; Flask's carry only an issue time, so there the
    // lifetime is an age limit on every read, as in Flask itself.
    maxReadAge: codec.absoluteExpiry ? idleTimeout : Math.min(idleTimeout ?? Infinity, lifetime),
    onInvalid,
    clock,
    // Stryker disable next-line ConditionalExpression: equivalent, a shortcut: Date.now passes the custom clock's check (test/mutation-equivalents.md)
    clockIsDateNow: clock === Date.now,
  }
}

function resolveFormat(format: unknown): SessionFormat {
  if (format === undefined) return FRASCO_FORMAT
  if (format === 'flask') throw new TypeError("option format is invalid: give createFlaskFormat() from 'frasco/flask' for Flask cookies")
  // null and primitives have no createCodec function either.
  const candidate = format as Partial<SessionFormat> | null
  if (
    typeof candidate?.createCodec !== 'function' ||
    typeof candidate.name !== 'string' ||
    typeof candidate.defaultChunking !== 'boolean' ||
    typeof candidate.defaultLifetime !== 'number'
  ) {
    throw new TypeError("option format is invalid: omit it for Frasco's format, or give createFlaskFormat() from 'frasco/flask' (a format has name, defaultLifetime, defaultChunking and createCodec)")
  }
  lifetimeOption(candidate.defaultLifetime, 'format.defaultLifetime')
  return candidate as SessionFormat
}

function resolveChunking(chunking: unknown): number {
  if (chunking === true) return DEFAULT_MAX_CHUNKS
  if (chunking === false) return 1
  if (typeof chunking === 'object' && chunking !== null) {
    assertKnownKeys(chunking, CHUNKING_KEYS, 'chunking.')
    const maxChunks = (chunking as { maxChunks?: unknown }).maxChunks
    if (Number.isInteger(maxChunks) && (maxChunks as number) >= 1 && (maxChunks as number) <= MAX_CHUNKS_LIMIT) return maxChunks as number
  }
  throw new TypeError(`option chunking is invalid: give true, false or { maxChunks: 1 to ${MAX_CHUNKS_LIMIT} }`)
}

interface CookieConfig {
  name: string
  secure: boolean | 'auto'
  secureWriter: TokenCookieWriter
  plainWriter: TokenCookieWriter
}

function resolveCookie(input: SessionCookieOptions | undefined): CookieConfig {
  const cookie = input ?? {}
  if (typeof cookie !== 'object') throw new TypeError('option cookie is invalid: give an object of cookie attributes')
  assertKnownKeys(cookie, COOKIE_KEYS, 'cookie.', COOKIE_HINTS)
  const name = cookie.name ?? 'session'
  if (typeof name !== 'string' || name.length === 0) throw new TypeError("option cookie.name is invalid: give a cookie name such as 'session'")
  const secure = cookie.secure ?? 'auto'
  if (secure !== 'auto' && typeof secure !== 'boolean') throw new TypeError("option cookie.secure is invalid: give true, false or 'auto'")
  if (/^__(host|secure)-/i.test(name) && secure !== true) {
    throw new TypeError(`option cookie.secure is invalid: a cookie named ${name} must be Secure; set cookie.secure to true`)
  }
  const attributes: CookieAttributes = {
    path: cookie.path ?? '/',
    httpOnly: booleanOption(cookie.httpOnly, 'cookie.httpOnly', true),
    sameSite: cookie.sameSite ?? 'lax',
    // An attribute given as undefined is one left out.
    domain: cookie.domain,
    partitioned: booleanOption(cookie.partitioned, 'cookie.partitioned', false),
    priority: cookie.priority,
  }
  // Both variants are compiled (and so validated) now; 'auto' picks one per request.
  try {
    const secureWriter = createTokenCookieWriter(name, { ...attributes, secure: true })
    const plainWriter = secure === true ? secureWriter : createTokenCookieWriter(name, { ...attributes, secure: false })
    return { name, secure, secureWriter, plainWriter }
  } catch (error) {
    throw cookieOptionError(error)
  }
}

// cookie.ts names its options as its own (`option path is invalid`, `cookie name is invalid`, at
// the start of its messages); say where they live in createSessions' options instead.
function cookieOptionError(error: unknown): unknown {
  if (!(error instanceof TypeError)) return error
  const message = error.message
    .replace(/option (\w+) is invalid/, 'option cookie.$1 is invalid')
    .replace(/cookie name is invalid/, 'option cookie.name is invalid')
  return new TypeError(message, { cause: error })
}
