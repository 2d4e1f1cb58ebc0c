/**
 * Flask-WTF's CSRF tokens (`flask_wtf.csrf`, 1.x), as a token scheme for `checkCsrf` and the
 * adapters' `csrf` option: a form Flask rendered can post to Node, and one Node rendered to Flask,
 * while both share the Flask session cookie.
 *
 * The format (docs/flask.md has it byte by byte): the session holds a random secret under
 * `csrf_token`, 40 hex digits; the form token is the itsdangerous token
 * `URLSafeTimedSerializer(WTF_CSRF_SECRET_KEY or SECRET_KEY, salt='wtf-csrf-token').dumps(secret)`
 * (HMAC-SHA1, `django-concat` key derivation); a token is valid while it is at most
 * `WTF_CSRF_TIME_LIMIT` seconds old and its value equals the session's secret.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import type { CsrfTokenScheme } from '../csrf.js'
import { constantTimeEqual } from '../lib/compare.js'
import { clockOption, lifetimeOption, requiredOptions, type Clock, type Hints } from '../lib/options.js'
import type { Session } from '../session.js'
import { itsdangerousSerializer, type ItsdangerousSecrets, type ItsdangerousSerializer } from './itsdangerous.js'

/**
 * Options of {@link createFlaskWtfCsrf}. Each mirrors one of Flask-WTF's settings.
 *
 * @example
 * ```ts
 * const options: FlaskWtfCsrfOptions = { secrets: process.env.SECRET_KEY!, lifetime: 8 * 3600 } // WTF_CSRF_TIME_LIMIT = 8 * 3600
 * const token = createFlaskWtfCsrf(options)
 * ```
 */
export interface FlaskWtfCsrfOptions {
  /**
   * The key Flask-WTF signs with: `WTF_CSRF_SECRET_KEY` when the Flask app sets it, else
   * `SECRET_KEY` (string or bytes). A list is newest first: the newest signs, every one verifies.
   */
  secrets: ItsdangerousSecrets
  /**
   * `WTF_CSRF_TIME_LIMIT`: how many seconds a token stays valid (at most 400 days). Default 3600,
   * as Flask-WTF. `null` for no limit (`WTF_CSRF_TIME_LIMIT = None`).
   */
  lifetime?: number | null
  /** The session key of the secret, `WTF_CSRF_FIELD_NAME`. Default `'csrf_token'`. */
  sessionKey?: string
  /** Seconds of clock difference tolerated between the Flask and Node hosts. Default 0, as Flask-WTF. */
  clockTolerance?: number
  /** The clock: milliseconds since the epoch, like `Date.now` (the default). For tests. */
  clock?: Clock
}

// Fixed in flask_wtf.csrf: generate_csrf and validate_csrf both use this salt.
const SALT = 'wtf-csrf-token'
// WTF_CSRF_TIME_LIMIT's default.
const DEFAULT_LIFETIME = 3600
const DEFAULT_SESSION_KEY = 'csrf_token'
// Flask-WTF 1.2's secrets.token_hex(20), and 1.1's sha1(os.urandom(64)).hexdigest(): 40 hex digits.
const SECRET_BYTES = 20
// Flask-WTF compares with hmac.compare_digest, which refuses str with non-ASCII characters (a 500
// in Flask), so only an ASCII secret can be verified on both sides. The length cap keeps a token
// well below MAX_TOKEN_LENGTH.
const USABLE_SECRET = /^[\x00-\x7f]{1,256}$/
// A token travels in a form field or a header; a longer one is refused before any HMAC.
const MAX_TOKEN_LENGTH = 4096

const OPTION_KEYS = new Set(['secrets', 'lifetime', 'sessionKey', 'clockTolerance', 'clock'])
const SECRETS_HINT = "did you mean `secrets`? (Flask-WTF's key: WTF_CSRF_SECRET_KEY if set, else SECRET_KEY; a list newest first)"
const LIFETIME_HINT = 'did you mean `lifetime`? (WTF_CSRF_TIME_LIMIT, in seconds; null for no limit)'
const SESSION_KEY_HINT =
  'did you mean `sessionKey`? (WTF_CSRF_FIELD_NAME names the session key of the secret; the form field and header are options of checkCsrf)'
// Flask-WTF's and itsdangerous's names, and the other factories' ones.
const HINTS: Hints = {
  secret: SECRETS_HINT,
  secretKey: SECRETS_HINT,
  secret_key: SECRETS_HINT,
  SECRET_KEY: SECRETS_HINT,
  WTF_CSRF_SECRET_KEY: SECRETS_HINT,
  keys: SECRETS_HINT,
  key: SECRETS_HINT,
  timeLimit: LIFETIME_HINT,
  time_limit: LIFETIME_HINT,
  WTF_CSRF_TIME_LIMIT: LIFETIME_HINT,
  maxAge: LIFETIME_HINT,
  max_age: LIFETIME_HINT,
  expiresIn: LIFETIME_HINT,
  ttl: LIFETIME_HINT,
  fieldName: SESSION_KEY_HINT,
  field_name: SESSION_KEY_HINT,
  WTF_CSRF_FIELD_NAME: SESSION_KEY_HINT,
  tokenKey: SESSION_KEY_HINT,
  token_key: SESSION_KEY_HINT,
  salt: "Flask-WTF's salt is fixed ('wtf-csrf-token'); there is nothing to set",
  now: 'give the clock as `clock: () => milliseconds` (like Date.now)',
}

/** `lifetime` as the serializer's maxAge: undefined for no limit. */
function lifetimeSeconds(value: unknown): number | undefined {
  if (value === undefined) return DEFAULT_LIFETIME
  if (value === null) return undefined
  if (value === 0) {
    // In Flask-WTF, 0 is a limit of 0 seconds (a token dies when the second turns), not "none".
    throw new TypeError('option lifetime is invalid: 0 would expire every token within a second; give null for no limit (WTF_CSRF_TIME_LIMIT = None)')
  }
  return lifetimeOption(value, 'lifetime')
}

function sessionKeyOption(value: unknown): string {
  if (value === undefined) return DEFAULT_SESSION_KEY
  if (typeof value !== 'string' || value === '') throw new TypeError("option sessionKey is invalid: give the session key of the secret, a non-empty string (Flask-WTF's default is 'csrf_token')")
  return value
}

/** The session's secret, when it is one both Flask-WTF and Frasco can use. */
function secretOf(session: Session<any>, key: string): string | undefined {
  const secret: unknown = session.get(key)
  return typeof secret === 'string' && USABLE_SECRET.test(secret) ? secret : undefined
}

function newSecret(): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(SECRET_BYTES))).toString('hex')
}

function createSerializer(options: FlaskWtfCsrfOptions): ItsdangerousSerializer {
  return itsdangerousSerializer(
    {
      secrets: options.secrets,
      salt: SALT,
      digest: 'sha1',
      keyDerivation: 'django-concat',
      timestamped: true,
      // itsdangerous compresses when that saves 2 bytes or more; the JSON of 40 random hex digits
      // never deflates below 43 bytes, so Flask-WTF's tokens are never compressed, and Frasco's are
      // the same bytes. (Reading takes both, for a compressible secret someone else stored.)
      compress: false,
      maxTokenLength: MAX_TOKEN_LENGTH,
      ...(options.clockTolerance === undefined ? {} : { clockTolerance: options.clockTolerance }),
      clock: clockOption(options.clock),
    },
    'token',
    'createFlaskWtfCsrf',
  )
}

/**
 * Creates the token scheme of Flask-WTF's `CSRFProtect` and `FlaskForm`, for a session in Flask's
 * cookie format (`createFlaskFormat`): Node issues tokens Flask accepts and accepts tokens Flask
 * issued, with the secret either side may have put in the session.
 *
 * - `issue(session)` signs the session's secret (`session['csrf_token']`), first storing a new
 *   one when the session has none (or holds something Flask-WTF could not compare: not a string,
 *   not ASCII, or over 256 characters). Like `generate_csrf()`.
 * - `verify(session, token)` is `validate_csrf(token)` without the exceptions: true when the token
 *   is signed with one of `secrets`, at most `lifetime` seconds old, not from the future (beyond
 *   `clockTolerance`), and carries the session's secret; false otherwise, never a throw.
 *
 * @example
 * ```ts
 * import { createSessions } from 'frasco'
 * import { createFlaskFormat, createFlaskWtfCsrf } from 'frasco/flask'
 * import { sessionMiddleware } from 'frasco/node'
 *
 * const sessions = createSessions({ format: createFlaskFormat(), secrets: process.env.SECRET_KEY! })
 * const token = createFlaskWtfCsrf({ secrets: process.env.SECRET_KEY! }) // WTF_CSRF_SECRET_KEY, if the app sets one
 * // Flask-WTF's form field and header, so that one form or script can post to either app.
 * app.use(sessionMiddleware(sessions, { csrf: { token, field: 'csrf_token', header: 'X-CSRFToken' } }))
 * // in a form: <input type="hidden" name="csrf_token" value="${req.csrfToken()}">
 * ```
 */
export function createFlaskWtfCsrf(options: FlaskWtfCsrfOptions): CsrfTokenScheme {
  requiredOptions(options, OPTION_KEYS, 'createFlaskWtfCsrf', '{ secrets: process.env.SECRET_KEY }', HINTS)
  const maxAge = lifetimeSeconds(options.lifetime)
  const key = sessionKeyOption(options.sessionKey)
  const serializer = createSerializer(options)
  const verifyOptions = maxAge === undefined ? undefined : { maxAge }
  return {
    issue(session) {
      let secret = secretOf(session, key)
      if (secret === undefined) {
        secret = newSecret()
        session.set(key, secret)
      }
      return serializer.sign(secret)
    },
    verify(session, token) {
      if (typeof token !== 'string') return false
      let secret: string | undefined
      try {
        secret = secretOf(session, key)
      } catch {
        // A session that cannot be read has no secret, so no valid token (the contract: never a throw).
        return false
      }
      if (secret === undefined) return false
      const result = serializer.verify(token, verifyOptions)
      // validate_csrf: hmac.compare_digest(session['csrf_token'], loaded value).
      return result.ok && typeof result.value === 'string' && constantTimeEqual(result.value, secret)
    },
  }
}
