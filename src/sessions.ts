/**
 * The session manager: options validated once, then `read` (Cookie header → Session) and
 * `commit` (Session → Set-Cookie values) on every request.
 *
 * @module
 */
import { createTokenCookieWriter, getCookie, MAX_COOKIE_BYTES, type CookieAttributes, type CookiePriority, type CookieSameSite, type CookieWriter, type TokenCookieWriter } from './cookie.js'
import { CookieTooLarge, PayloadMalformed, PayloadTooLarge, SessionError, SessionExpired } from './errors.js'
import { FLASK_DEFAULT_MAX_AGE } from './formats/flask.js'
import { DecodedValue } from './lib/codec.js'
import { createSessionCodec, type DecodedSession, type SessionCodec } from './lib/session-codec.js'
import { assertSeconds, DEFAULT_CLOCK_TOLERANCE, toSeconds } from './lib/token.js'
import type { Keyring, SecretsInput } from './keyring.js'
import { getSessionState, openSession, type Session, type SessionData } from './session.js'
import type { VerifyResult } from './signer.js'

/**
 * The session cookie's name and attributes.
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
 * Options of {@link createSessions}.
 *
 * @example
 * ```ts
 * const options: SessionsOptions = { secrets: secretsFromEnv(), maxAge: 14 * 86400, idleTimeout: 3600, encrypt: true }
 * const sessions = createSessions<{ user: string }>(options)
 * ```
 */
export interface SessionsOptions {
  /** One secret or a list, newest first (at least 32 bytes each; any length with format `'flask'`). */
  secrets: SecretsInput | Keyring
  cookie?: SessionCookieOptions
  /**
   * Absolute lifetime in seconds, counted from login (session creation), enforced from the signed
   * expiry. The cookie gets a matching `Max-Age`. Omitted: a browser-session cookie (no
   * `Max-Age`), whose signed lifetime is still capped by `browserSessionLifetime`.
   */
  maxAge?: number
  /**
   * Signed lifetime cap for browser-session cookies (no `maxAge`), in seconds. Default 7 days; with
   * format `'flask'`, 31 days, as Flask's `PERMANENT_SESSION_LIFETIME`, an age limit on every cookie.
   */
  browserSessionLifetime?: number
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
   * header limit. `false`: a session over one cookie throws `CookieTooLarge` at commit. With
   * format `'flask'` the default is `false`: Flask reads the single `session` cookie only.
   */
  chunking?: boolean | { maxChunks: number }
  /**
   * Encrypt sessions with AES-256-GCM (format `e1`), so the client cannot read them. Default
   * `false` (signed only: readable, not alterable). See docs/security.md.
   */
  encrypt?: boolean
  /**
   * The cookie format: `'frasco'` (default) or `'flask'`, to read and write Flask's
   * `SecureCookieSessionInterface` cookies (then `secrets` is Flask's `SECRET_KEY`, then its
   * `SECRET_KEY_FALLBACKS`). See docs/flask.md.
   */
  format?: 'frasco' | 'flask'
  /** Compress large payloads (see `createSerializer`). Default `true`. */
  compress?: boolean | { threshold: number }
  /** Seconds of clock difference tolerated between servers. Default 60. */
  clockTolerance?: number
  /** Called with the reason whenever a cookie is rejected; the request gets a fresh session. */
  onInvalid?: (error: SessionError) => void
  /** The clock, in milliseconds since the epoch; for tests. Default `Date.now`. */
  now?: () => number
}

/**
 * Per-request context for {@link Sessions.commit}.
 *
 * @example
 * ```ts
 * const context: CommitContext = { secure: new URL(request.url).protocol === 'https:' }
 * const setCookies = sessions.commit(session, context)
 * ```
 */
export interface CommitContext {
  /** Whether the request came over HTTPS; decides `Secure` when the cookie option is `'auto'`. */
  secure?: boolean
}

/**
 * What {@link createSessions} returns.
 *
 * @example
 * ```ts
 * const sessions: Sessions<{ user: string }> = createSessions({ secrets: secretsFromEnv() })
 * const session = sessions.read(req.headers.cookie)
 * if (session.isNew) console.info(sessions.invalidReason(session)?.code)
 * for (const header of sessions.commit(session)) res.appendHeader('Set-Cookie', header)
 * ```
 */
export interface Sessions<T extends object = SessionData> {
  /** The session cookie's name. */
  readonly cookieName: string
  /** Whether the cookie's `secure` option is `'auto'` (decided per request). */
  readonly secureAuto: boolean
  /**
   * Reads the session from a `Cookie` header. Never throws on bad input: a missing, malformed,
   * tampered or expired cookie gives a fresh empty session, and the reason goes to `onInvalid`
   * and {@link Sessions.invalidReason}.
   */
  read(cookieHeader: string | null | undefined): Session<T>
  /**
   * The `Set-Cookie` values to append for this session: none when nothing needs writing, deletions
   * when it was emptied or destroyed, a freshly signed cookie (or chunks) otherwise.
   *
   * @throws {CookieTooLarge} when the session does not fit; nothing should be sent then.
   * @throws {TypeError} when the session holds a value that cannot be stored; the message names it.
   */
  commit(session: Session<T>, context?: CommitContext): string[]
  /** Why the cookie this session was read from was rejected, if it was. */
  invalidReason(session: Session<T>): SessionError | undefined
  /** Signs session data into a cookie value, exactly as `commit` would. */
  sign(data: Partial<T>, options?: { now?: Date | number; maxAge?: number }): string
  /** Verifies a cookie value, exactly as `read` would. Never throws on bad input. */
  verify(value: string, options?: { now?: Date | number }): VerifyResult<Partial<T>>
}

// What the manager keeps in a session's meta bag. A class, so every read builds the same shape.
class Meta {
  /** How the cookie came in: 0 not at all, -1 as one cookie, n as n chunks. */
  incoming = 0
  /** Chunk cookies seen beside a single cookie (left over from a larger session): delete them. */
  strayChunks = 0
  issuedAt: number | undefined = undefined
  expiresAt: number | undefined = undefined
  stale = false
  error: SessionError | undefined = undefined
}
// The manager's entry in a session's meta bag (other code may keep its own entries there).
type MetaBag = { frasco?: Meta }

const DEFAULT_BROWSER_SESSION_LIFETIME = 7 * 24 * 60 * 60
const DEFAULT_MAX_CHUNKS = 3
// Upper bound on chunks a request may claim, so a hostile header cannot make read() loop long.
const MAX_CHUNKS_LIMIT = 10

// Lifetimes are counted in whole seconds: under one second would issue already-expired cookies.
// A century: far beyond any sensible session, far below what the 48-bit time fields hold.
const MAX_LIFETIME = 100 * 365.25 * 24 * 60 * 60

function assertLifetime(value: unknown, where: string): asserts value is number {
  assertSeconds(value, where, { allowZero: false })
  if (value < 1) throw new TypeError(`option ${where} is invalid: give at least 1 second`)
  if (value > MAX_LIFETIME) throw new TypeError(`option ${where} is invalid: give at most ${MAX_LIFETIME} seconds (100 years)`)
}

// cookie.ts names its options as its own (`option path is invalid`, `cookie name is invalid`);
// say where they live in createSessions' options instead.
function cookieOptionError(error: unknown): unknown {
  if (!(error instanceof TypeError)) return error
  const message = error.message
    .replace(/^option (\w+) is invalid/, 'option cookie.$1 is invalid')
    .replace(/^cookie name is invalid/, 'option cookie.name is invalid')
  return new TypeError(message, { cause: error })
}

// What read() and verify() accept as session data: a plain object, not another tagged value.
function isSessionData(data: unknown): data is SessionData {
  return (
    typeof data === 'object' &&
    data !== null &&
    !Array.isArray(data) &&
    !(data instanceof Map || data instanceof Set || data instanceof Uint8Array || data instanceof Date)
  )
}

function assertBoolean(value: unknown, where: string): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`option ${where} is invalid: give true or false`)
}

/**
 * Creates a session manager. All options are validated here, once; `read` and `commit` do no
 * option parsing.
 *
 * @example
 * ```ts
 * import { createSessions, secretsFromEnv } from 'frasco'
 *
 * const sessions = createSessions<{ username: string }>({
 *   secrets: secretsFromEnv(),
 *   maxAge: 14 * 24 * 3600,
 *   cookie: { secure: true },
 * })
 * const session = sessions.read(request.headers.cookie)
 * session.set('username', 'admin')
 * for (const header of sessions.commit(session)) response.appendHeader('Set-Cookie', header)
 * ```
 */
export function createSessions<T extends object = SessionData>(options: SessionsOptions): Sessions<T> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options are invalid: createSessions needs an options object, e.g. createSessions({ secrets })')
  }
  const cookie = options.cookie ?? {}
  if (typeof cookie !== 'object' || cookie === null) throw new TypeError('option cookie is invalid: give an object of cookie attributes')
  const name = cookie.name ?? 'session'
  if (typeof name !== 'string' || name.length === 0) throw new TypeError("option cookie.name is invalid: give a cookie name such as 'session'")
  const secure = cookie.secure ?? 'auto'
  if (secure !== 'auto' && typeof secure !== 'boolean') throw new TypeError("option cookie.secure is invalid: give true, false or 'auto'")
  if (/^__(host|secure)-/i.test(name) && secure !== true) {
    throw new TypeError(`option cookie.secure is invalid: a cookie named ${name} must be Secure; set cookie.secure to true`)
  }
  assertBoolean(cookie.httpOnly, 'cookie.httpOnly')
  assertBoolean(cookie.partitioned, 'cookie.partitioned')

  const attributes: CookieAttributes = {
    path: cookie.path ?? '/',
    httpOnly: cookie.httpOnly ?? true,
    sameSite: cookie.sameSite ?? 'lax',
    ...(cookie.domain === undefined ? {} : { domain: cookie.domain }),
    ...(cookie.partitioned === undefined ? {} : { partitioned: cookie.partitioned }),
    ...(cookie.priority === undefined ? {} : { priority: cookie.priority }),
  }
  // Both variants are compiled (and so validated) now; 'auto' picks one per request.
  let secureWriter: TokenCookieWriter
  let plainWriter: TokenCookieWriter
  try {
    secureWriter = createTokenCookieWriter(name, { ...attributes, secure: true })
    plainWriter = secure === true ? secureWriter : createTokenCookieWriter(name, { ...attributes, secure: false })
  } catch (error) {
    throw cookieOptionError(error)
  }

  const maxAge = options.maxAge
  if (maxAge !== undefined) assertLifetime(maxAge, 'maxAge')
  // Flask checks every cookie against PERMANENT_SESSION_LIFETIME (31 days by default); match it.
  const browserSessionLifetime = options.browserSessionLifetime ?? (options.format === 'flask' ? FLASK_DEFAULT_MAX_AGE : DEFAULT_BROWSER_SESSION_LIFETIME)
  assertLifetime(browserSessionLifetime, 'browserSessionLifetime')
  const lifetime = Math.floor(maxAge ?? browserSessionLifetime)
  if (options.idleTimeout !== undefined) assertLifetime(options.idleTimeout, 'idleTimeout')
  // Whole seconds, like every other lifetime: Max-Age takes an integer.
  const idleTimeout = options.idleTimeout === undefined ? undefined : Math.floor(options.idleTimeout)
  const refreshAfter = idleTimeout === undefined ? Infinity : Math.max(1, Math.floor(idleTimeout / 10))
  assertBoolean(options.rolling, 'rolling')
  const rolling = options.rolling ?? false

  // Flask reads one cookie: a Flask-format session split into chunks would log the user out there.
  const chunking = options.chunking ?? options.format !== 'flask'
  let maxChunks: number
  if (chunking === true) maxChunks = DEFAULT_MAX_CHUNKS
  else if (chunking === false) maxChunks = 1
  else if (typeof chunking === 'object' && chunking !== null && Number.isInteger(chunking.maxChunks) && chunking.maxChunks >= 1 && chunking.maxChunks <= MAX_CHUNKS_LIMIT) {
    maxChunks = chunking.maxChunks
  } else {
    throw new TypeError(`option chunking is invalid: give true, false or { maxChunks: 1 to ${MAX_CHUNKS_LIMIT} }`)
  }

  const onInvalid = options.onInvalid
  if (onInvalid !== undefined && typeof onInvalid !== 'function') throw new TypeError('option onInvalid is invalid: give a function (error) => void')
  const clock = options.now ?? Date.now
  if (typeof clock !== 'function') throw new TypeError('option now is invalid: give a function returning milliseconds, like Date.now')

  const format = options.format ?? 'frasco'
  if (format !== 'frasco' && format !== 'flask') throw new TypeError("option format is invalid: give 'frasco' (the default) or 'flask'")
  if (options.encrypt !== undefined && typeof options.encrypt !== 'boolean') {
    throw new TypeError('option encrypt is invalid: give true to encrypt with AES-256-GCM, or false')
  }
  const codec: SessionCodec = createSessionCodec({
    format,
    secrets: options.secrets,
    purpose: `session:${name}`,
    encrypt: options.encrypt === true,
    clockTolerance: options.clockTolerance,
    compress: options.compress,
    // Chunked cookies never exceed maxChunks * 4 KiB; refuse anything longer unread.
    maxTokenLength: maxChunks * MAX_COOKIE_BYTES,
  })
  // Frasco tokens carry the absolute expiry; Flask's carry only an issue time, so there the
  // lifetime is an age limit on every read, as in Flask itself.
  const maxReadAge = codec.absoluteExpiry ? idleTimeout : Math.min(idleTimeout ?? Infinity, lifetime)
  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE

  // A Frasco token's expiry is capped at the current lifetime from its last write: a token minted
  // without one (createSerializer with the session purpose) would otherwise never expire, and
  // sessions issued before maxAge was lowered would keep their old, longer expiry.
  function decode(value: string, now: number): DecodedSession | SessionError {
    const decoded = codec.decode(value, now, maxReadAge)
    if (decoded instanceof SessionError || !codec.absoluteExpiry) return decoded
    const cap = decoded.issuedAt + lifetime
    if (decoded.expiresAt !== undefined && decoded.expiresAt <= cap) return decoded
    if (now - clockTolerance >= cap) return new SessionExpired(new Date(cap * 1000))
    return new DecodedValue(decoded.value, decoded.issuedAt, cap, decoded.keyId, decoded.stale)
  }

  // Date.now() needs no checking; a clock of the application's is validated on every read.
  const nowSeconds = clock === Date.now ? (): number => Math.floor(clock() / 1000) : (): number => toSeconds(clock())

  function reject(error: SessionError, meta: Meta): Session<T> {
    meta.error = error
    if (onInvalid !== undefined) {
      try {
        onInvalid(error)
      } catch {
        // A logging callback must not turn a bad cookie into a failed request.
      }
    }
    return openSession<T>(undefined, true, { frasco: meta })
  }

  const firstChunk = `${name}.0=`

  function countChunks(header: string, from: number): number {
    let count = from
    while (count <= MAX_CHUNKS_LIMIT && getCookie(header, `${name}.${count}`) !== undefined) count++
    return count
  }

  function read(cookieHeader: string | null | undefined): Session<T> {
    const meta: Meta = new Meta()
    const header = typeof cookieHeader === 'string' ? cookieHeader : undefined
    let value = getCookie(header, name)
    if (value !== undefined) {
      meta.incoming = -1
      // Rare: chunks left over from a larger session. Counted so the next commit deletes them.
      if (header !== undefined && header.includes(firstChunk)) meta.strayChunks = countChunks(header, 0)
    } else if (header !== undefined) {
      const first = getCookie(header, `${name}.0`)
      if (first !== undefined) {
        const parts = [first]
        for (let i = 1; i <= maxChunks; i++) {
          const part = getCookie(header, `${name}.${i}`)
          if (part === undefined) break
          parts.push(part)
        }
        meta.incoming = parts.length
        // A gap (a chunk the browser dropped) strands the chunks after it: count them so that
        // commit deletes them, or they would corrupt a later, shorter chunked session.
        for (let i = parts.length + 1; i < maxChunks; i++) if (getCookie(header, `${name}.${i}`) !== undefined) meta.incoming = i + 1
        if (parts.length > maxChunks) {
          meta.incoming = countChunks(header, parts.length)
          return reject(new PayloadTooLarge(parts.join('').length, maxChunks * MAX_COOKIE_BYTES, 'session arrived in more chunks than allowed'), meta)
        }
        value = parts.join('')
      }
    }
    if (value === undefined || value === '') return openSession<T>(undefined, true, { frasco: meta })
    const decoded = decode(value, nowSeconds())
    if (decoded instanceof SessionError) return reject(decoded, meta)
    const data = decoded.value
    if (!isSessionData(data)) return reject(new PayloadMalformed('session payload is not an object'), meta)
    meta.issuedAt = decoded.issuedAt
    meta.expiresAt = decoded.expiresAt
    meta.stale = decoded.stale
    return openSession<T>(data, false, { frasco: meta })
  }

  function deletions(writer: CookieWriter, meta: Meta, keepSingle: boolean, keepChunks: number): string[] {
    const headers: string[] = []
    if (meta.incoming === -1 && !keepSingle) headers.push(writer.expire())
    const chunksSeen = meta.incoming > 0 ? meta.incoming : meta.strayChunks
    for (let i = keepChunks; i < chunksSeen; i++) headers.push(writer.expire(`${name}.${i}`))
    return headers
  }

  function commit(session: Session<T>, context?: CommitContext): string[] {
    const state = getSessionState(session)
    const meta = (state.meta as MetaBag).frasco ?? new Meta()
    const writer = secure === true || (secure === 'auto' && context?.secure === true) ? secureWriter : plainWriter
    const data = state.data
    let empty = true
    for (const _ in data) {
      empty = false
      break
    }

    if (state.destroyed || empty) {
      // Nothing to keep: delete whatever cookie came in (including a rejected one, so the browser
      // stops sending it), and write nothing for a session that never had one.
      return meta.incoming !== 0 || meta.strayChunks > 0 ? deletions(writer, meta, false, 0) : []
    }

    const now = nowSeconds()
    const fresh = state.isNew || state.regenerated || (codec.absoluteExpiry && meta.expiresAt === undefined)
    const due =
      state.modified ||
      fresh ||
      meta.stale === true ||
      rolling ||
      meta.strayChunks > 0 ||
      (meta.issuedAt !== undefined && now - meta.issuedAt >= refreshAfter)
    if (!due) return []

    const expiresAt = !codec.absoluteExpiry ? undefined : fresh ? now + lifetime : (meta.expiresAt as number)
    const token = codec.encode(data, now, expiresAt)
    let cookieMaxAge: number | undefined
    // Flask sends Expires for permanent sessions (`_permanent` in the data); we do the same.
    if (maxAge !== undefined || (format === 'flask' && data._permanent === true)) {
      cookieMaxAge = Math.max(1, Math.min((expiresAt ?? now + lifetime) - now, idleTimeout ?? Infinity))
    }

    // The common case, decided without building a header: name, '=', token, the cached attributes
    // and at most `; Max-Age=34560000` (18 characters) fit with room to spare. Both formats write
    // tokens of base64url characters and dots, so the writer need not check the value's characters.
    if (name.length + 1 + token.length + writer.attributeLength + 18 <= MAX_COOKIE_BYTES) {
      const single = writer.serializeToken(token, cookieMaxAge)
      return meta.incoming === 0 && meta.strayChunks === 0 ? [single] : [single, ...deletions(writer, meta, true, 0)]
    }
    // Near the limit, measure exactly on an empty value: serialize() itself refuses a token too
    // long for one cookie (CookieTooLarge), and that token is exactly the one to split into chunks.
    const lifetimeOption = cookieMaxAge === undefined ? undefined : { maxAge: cookieMaxAge }
    const bare = writer.serialize('', lifetimeOption).length
    const singleLength = bare + token.length
    if (singleLength <= MAX_COOKIE_BYTES) {
      return [writer.serialize(token, lifetimeOption), ...deletions(writer, meta, true, 0)]
    }
    if (maxChunks === 1) throw new CookieTooLarge(singleLength, MAX_COOKIE_BYTES, `session cookie of ${singleLength} bytes exceeds ${MAX_COOKIE_BYTES} bytes and chunking is off`)

    // Everything in a chunk header but the token slice: name, ".N=", attributes and lifetime.
    const overhead = bare + String(maxChunks - 1).length + 1
    const capacity = MAX_COOKIE_BYTES - overhead
    const count = Math.ceil(token.length / capacity)
    if (count > maxChunks) {
      throw new CookieTooLarge(token.length + count * overhead, maxChunks * MAX_COOKIE_BYTES, `session of ${token.length} bytes needs ${count} cookies; the limit is ${maxChunks} (option chunking.maxChunks)`)
    }
    const headers: string[] = []
    for (let i = 0; i < count; i++) headers.push(writer.serialize(token.slice(i * capacity, (i + 1) * capacity), lifetimeOption, `${name}.${i}`))
    return [...headers, ...deletions(writer, meta, false, count)]
  }

  return {
    cookieName: name,
    secureAuto: secure === 'auto',
    read,
    commit,
    invalidReason(session) {
      return (getSessionState(session).meta as MetaBag).frasco?.error
    },
    sign(data, signOptions) {
      const now = toSeconds(signOptions?.now ?? clock())
      const life = signOptions?.maxAge ?? lifetime
      assertLifetime(life, 'maxAge')
      // read() caps every expiry at the configured lifetime; a longer one would be cut silently.
      if (life > lifetime) {
        throw new TypeError(`option maxAge is invalid: sessions.sign cannot issue a session longer than this manager's lifetime (${lifetime} s)`)
      }
      return codec.encode(data, now, codec.absoluteExpiry ? now + Math.floor(life) : undefined)
    },
    verify(value, verifyOptions) {
      const decoded = decode(value, toSeconds(verifyOptions?.now ?? clock()))
      if (decoded instanceof SessionError) return { ok: false, error: decoded }
      if (!isSessionData(decoded.value)) return { ok: false, error: new PayloadMalformed('session payload is not an object') }
      return {
        ok: true,
        value: decoded.value as Partial<T>,
        issuedAt: new Date(decoded.issuedAt * 1000),
        expiresAt: decoded.expiresAt === undefined ? undefined : new Date(decoded.expiresAt * 1000),
        keyId: decoded.keyId,
        stale: decoded.stale,
      }
    },
  }
}
