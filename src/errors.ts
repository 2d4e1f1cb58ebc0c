/**
 * Errors raised for untrusted input. Every error carries a stable `code`; messages hold
 * diagnostics only — never a secret, a raw token or an unverified payload.
 *
 * Caller mistakes (a weak secret, an invalid option) are plain `TypeError`/`RangeError`s thrown at
 * construction instead: they are bugs to fix, not input to log.
 *
 * @module
 */

/**
 * Every code a {@link SessionError} can carry.
 *
 * @example
 * ```ts
 * const code: SessionErrorCode = 'ERR_SESSION_EXPIRED'
 * if (isSessionError(error, code)) redirectToLogin()
 * ```
 */
export type SessionErrorCode =
  | 'ERR_SESSION_MALFORMED'
  | 'ERR_SESSION_SIGNATURE_INVALID'
  | 'ERR_SESSION_UNKNOWN_KEY'
  | 'ERR_SESSION_EXPIRED'
  | 'ERR_SESSION_NOT_YET_VALID'
  | 'ERR_SESSION_PAYLOAD_TOO_LARGE'
  | 'ERR_SESSION_DECOMPRESSION_TOO_LARGE'
  | 'ERR_SESSION_UNSUPPORTED_VERSION'
  | 'ERR_SESSION_COOKIE_TOO_LARGE'
  | 'ERR_SESSION_CHANGED_AFTER_COMMIT'
  | 'ERR_SESSION_SECURE_COOKIE_OVER_HTTP'
  | 'ERR_SESSION_REVOKED'
  | CsrfRefusedCode

/**
 * The codes of a {@link CsrfRefused}: why an unsafe request was refused.
 *
 * @example
 * ```ts
 * const code: CsrfRefusedCode = 'ERR_SESSION_CSRF_CROSS_SITE'
 * if (refused?.code === code) metrics.increment('csrf.cross_site')
 * ```
 */
export type CsrfRefusedCode =
  | 'ERR_SESSION_CSRF_CROSS_SITE'
  | 'ERR_SESSION_CSRF_ORIGIN'
  | 'ERR_SESSION_CSRF_TOKEN_MISSING'
  | 'ERR_SESSION_CSRF_TOKEN_INVALID'

/**
 * Base class of every error Frasco raises for untrusted input.
 *
 * @example
 * ```ts
 * const result = signer.verify(token)
 * if (!result.ok && result.error.code === 'ERR_SESSION_EXPIRED') console.info('link expired')
 * ```
 */
export class SessionError extends Error {
  /** A stable, machine-readable code; safe to log and to branch on. */
  readonly code: SessionErrorCode

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/**
 * The token or cookie is not in the expected shape (wrong field count, non-canonical base64url,
 * invalid UTF-8, JSON that does not parse, bad tags, bad compressed data).
 *
 * @example
 * ```ts
 * if (error instanceof PayloadMalformed) log.warn(error.code)
 * ```
 */
export class PayloadMalformed extends SessionError {
  constructor(message = 'token is malformed', options?: { cause?: unknown }) {
    super('ERR_SESSION_MALFORMED', message, options)
  }
}

/**
 * The signature (or authentication tag) does not match: the token was tampered with, signed for
 * another purpose, or signed with a secret that is not in the keyring under that key id.
 *
 * @example
 * ```ts
 * if (error instanceof SignatureInvalid) metrics.increment('session.tampered')
 * ```
 */
export class SignatureInvalid extends SessionError {
  constructor(message = 'signature does not match') {
    super('ERR_SESSION_SIGNATURE_INVALID', message)
  }
}

/**
 * The token names a key id that the keyring does not hold (a retired secret, or a forgery).
 *
 * @example
 * ```ts
 * if (error instanceof UnknownKey) log.info('cookie signed with a retired secret')
 * ```
 */
export class UnknownKey extends SessionError {
  constructor(message = 'token was signed with a key that is not in the keyring') {
    super('ERR_SESSION_UNKNOWN_KEY', message)
  }
}

/**
 * The token is authentic but past its expiry or older than the allowed age.
 *
 * @example
 * ```ts
 * if (error instanceof SessionExpired) console.log('expired at', error.expiredAt)
 * ```
 */
export class SessionExpired extends SessionError {
  /** When the token stopped being valid. */
  readonly expiredAt: Date

  constructor(expiredAt: Date, message = 'token has expired') {
    super('ERR_SESSION_EXPIRED', message)
    this.expiredAt = expiredAt
  }
}

/**
 * The token claims to have been issued in the future (beyond the allowed clock skew).
 *
 * @example
 * ```ts
 * if (error instanceof NotYetValid) log.warn('clock skew?', error.issuedAt)
 * ```
 */
export class NotYetValid extends SessionError {
  /** The issue time the token claims. */
  readonly issuedAt: Date

  constructor(issuedAt: Date, message = 'token was issued in the future') {
    super('ERR_SESSION_NOT_YET_VALID', message)
    this.issuedAt = issuedAt
  }
}

/**
 * The input is larger than the configured limit; it was rejected before any expensive work.
 *
 * @example
 * ```ts
 * if (error instanceof PayloadTooLarge) log.warn(error.size, error.limit)
 * ```
 */
export class PayloadTooLarge extends SessionError {
  readonly size: number
  readonly limit: number

  constructor(size: number, limit: number, message = `payload of ${size} bytes exceeds the limit of ${limit}`) {
    super('ERR_SESSION_PAYLOAD_TOO_LARGE', message)
    this.size = size
    this.limit = limit
  }
}

/**
 * Compressed data would inflate beyond the configured limit (a zip bomb); decompression stopped
 * at the limit without allocating the rest.
 *
 * @example
 * ```ts
 * if (error instanceof DecompressionTooLarge) log.warn('zip bomb', error.limit)
 * ```
 */
export class DecompressionTooLarge extends SessionError {
  readonly limit: number

  constructor(limit: number) {
    super('ERR_SESSION_DECOMPRESSION_TOO_LARGE', `compressed payload inflates beyond the limit of ${limit} bytes`)
    this.limit = limit
  }
}

/**
 * The token uses a format version this build does not know.
 *
 * @example
 * ```ts
 * if (error instanceof UnsupportedVersion) log.warn('token from a newer Frasco?')
 * ```
 */
export class UnsupportedVersion extends SessionError {
  constructor(message = 'token format version is not supported') {
    super('ERR_SESSION_UNSUPPORTED_VERSION', message)
  }
}

/**
 * A session does not fit in the cookies allowed for it. Raised when committing, before any header
 * is written, so nothing is silently dropped by the browser.
 *
 * @example
 * ```ts
 * try { sessions.commit(session) } catch (e) { if (e instanceof CookieTooLarge) shrink(session) }
 * ```
 */
export class CookieTooLarge extends SessionError {
  readonly size: number
  readonly limit: number

  constructor(size: number, limit: number, message = `cookie of ${size} bytes exceeds the limit of ${limit} bytes`) {
    super('ERR_SESSION_COOKIE_TOO_LARGE', message)
    this.size = size
    this.limit = limit
  }
}

/**
 * The session changed after it was committed: after the response headers went out (a
 * `req.session.destroy()` after the first `res.write()`), or, with the Fetch adapter's
 * `withSessions`, after the handler returned its Response (a change while the body streams).
 * The change cannot reach the client and is lost; the adapters report this error to `onError`
 * instead of dropping the change in silence. Your side, not the client's: move the change before
 * the first byte of the body.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions, {
 *   onError: (error) => { if (error instanceof ChangedAfterCommit) log.warn(error.code) },
 * }))
 * ```
 */
export class ChangedAfterCommit extends SessionError {
  constructor(message = 'the session changed after its cookie was committed (the response headers were already sent); the change is lost') {
    super('ERR_SESSION_CHANGED_AFTER_COMMIT', message)
  }
}

/**
 * A `Secure` session cookie was set on a request that did not arrive over TLS (no TLS socket or
 * https URL, no `X-Forwarded-Proto: https` or `Forwarded: proto=https` from a proxy) for a host
 * other than localhost. Browsers drop such a cookie, so every login is lost without a trace. The
 * adapters report it once per session manager, to `onError`, not per request. Your side: serve
 * over https (behind a proxy that terminates TLS, have it send `X-Forwarded-Proto` and pass
 * `trustProxy: true`), or use `cookie.secure: 'auto'` where plain http is expected.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions, {
 *   onError: (error) => { if (error instanceof SecureCookieOverHttp) log.warn(error.message) },
 * }))
 * ```
 */
export class SecureCookieOverHttp extends SessionError {
  constructor(host: string) {
    super(
      'ERR_SESSION_SECURE_COOKIE_OVER_HTTP',
      `the session cookie is Secure but a request${host === '' ? '' : ` to ${host}`} did not arrive over https, so browsers drop it and every session is lost: ` +
        "serve over https (behind a TLS proxy: trustProxy: true and X-Forwarded-Proto), or set cookie.secure: 'auto'; reported once per session manager",
    )
  }
}

/**
 * The cookie is authentic, but its session id is not in the session store: the session was
 * destroyed (a logout, a `regenerate()` elsewhere), revoked (`sessions.revoke`,
 * `sessions.revokeUser`), or it expired or was evicted there. The request gets a fresh session.
 *
 * @example
 * ```ts
 * const sessions = createSessions({ secrets, store, onInvalid: (error) => {
 *   if (error instanceof SessionRevoked) log.info('a revoked session came back')
 * } })
 * ```
 */
export class SessionRevoked extends SessionError {
  constructor() {
    super('ERR_SESSION_REVOKED', 'the session is not in the store: it was destroyed, revoked, or it expired or was evicted there')
  }
}

/**
 * An unsafe request (POST, PUT, PATCH, DELETE, …) refused by CSRF protection (`checkCsrf`, or the
 * adapters' `csrf` option): `ERR_SESSION_CSRF_CROSS_SITE` (the browser said, in `Sec-Fetch-Site`,
 * that another site sent it), `ERR_SESSION_CSRF_ORIGIN` (its `Origin` is neither the app's nor one
 * of `origins`), `ERR_SESSION_CSRF_TOKEN_MISSING` or `ERR_SESSION_CSRF_TOKEN_INVALID` (a client
 * that sent neither header, and no valid token of this session). `reason` says which check failed,
 * for logs; it never holds the token.
 *
 * @example
 * ```ts
 * const refused = checkCsrf(csrfRequest, session)
 * if (refused instanceof CsrfRefused) log.warn({ code: refused.code, reason: refused.reason })
 * ```
 */
export class CsrfRefused extends SessionError {
  declare readonly code: CsrfRefusedCode
  /** Which check failed, for logs (never the token). */
  readonly reason: string

  constructor(code: CsrfRefusedCode, reason: string) {
    super(code, `request refused by CSRF protection: ${reason}`)
    this.reason = reason
  }
}

/**
 * Whether `value` is a {@link SessionError}, optionally with the given code.
 *
 * @example
 * ```ts
 * if (isSessionError(error, 'ERR_SESSION_EXPIRED')) redirectToLogin()
 * ```
 */
export function isSessionError(value: unknown, code?: SessionErrorCode): value is SessionError {
  return value instanceof SessionError && (code === undefined || value.code === code)
}
