/**
 * Flask's session cookie as a session format: `createSessions({ format: createFlaskFormat() })`
 * reads and writes the cookies a Flask app shares, so Node and Flask services share a login.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { CookieTooLarge } from '../errors.js'
import type { SessionCodec, SessionFormat, SessionFormatContext } from '../lib/format.js'
import { strictOptions } from '../lib/options.js'
import { DecodedValue } from '../lib/result.js'
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../serializer.js'
import { FLASK_DEFAULT_LIFETIME, FLASK_SALT, flaskSerializer } from './codec.js'
import { encodeFlaskJson, isTuple, tuple } from './json.js'
import { isPlainObject } from './python-json.js'

/**
 * Options of {@link createFlaskFormat}.
 *
 * @example
 * ```ts
 * const options: FlaskFormatOptions = { salt: 'cookie-session' }
 * const sessions = createSessions({ secrets: process.env.SECRET_KEY!, format: createFlaskFormat(options) })
 * ```
 */
export interface FlaskFormatOptions {
  /** `SecureCookieSessionInterface.salt` of the Flask app. Default `'cookie-session'`. */
  salt?: string
}

// Flask's createSessions default: two servers share cookies, and their clocks may differ by a
// second or more; Flask itself tolerates none.
const DEFAULT_CLOCK_TOLERANCE = 60

// Flask keeps `session.permanent` in the data under this key.
const PERMANENT = '_permanent'

const FORMAT_KEYS = new Set(['salt'])
const FORMAT_HINTS: Readonly<Record<string, string>> = {
  secrets: "give Flask's SECRET_KEY to createSessions: createSessions({ secrets, format: createFlaskFormat() })",
  lifetime: 'give `lifetime` (PERMANENT_SESSION_LIFETIME, seconds) to createSessions',
  maxAge: 'give `lifetime` (PERMANENT_SESSION_LIFETIME, seconds) to createSessions',
}

/**
 * Flask's session cookie format for `createSessions`. The manager's `secrets` are then Flask's
 * `SECRET_KEY` followed by its `SECRET_KEY_FALLBACKS` (any length: they are the Flask app's);
 * `session.persistent` is Flask's `session.permanent` (`_permanent`); the lifetime defaults to
 * Flask's `PERMANENT_SESSION_LIFETIME` of 31 days, an age limit on every cookie as in Flask; and
 * sessions are never split into chunk cookies by default, because Flask reads one cookie only.
 *
 * @example
 * ```ts
 * import { createSessions } from 'frasco'
 * import { createFlaskFormat } from 'frasco/flask'
 *
 * const sessions = createSessions({ secrets: process.env.SECRET_KEY!, format: createFlaskFormat() })
 * ```
 */
export function createFlaskFormat(options: FlaskFormatOptions = {}): SessionFormat {
  const salt = strictOptions(options, FORMAT_KEYS, 'createFlaskFormat', FORMAT_HINTS).salt ?? FLASK_SALT
  if (typeof salt !== 'string' || salt === '') throw new TypeError("option salt is invalid: give the Flask app's session salt (default 'cookie-session')")
  return Object.freeze({
    name: 'flask',
    defaultLifetime: FLASK_DEFAULT_LIFETIME,
    defaultChunking: false,
    createCodec: (context: SessionFormatContext) => flaskCodec(context, salt),
  })
}

function flaskCodec(context: SessionFormatContext, salt: string): SessionCodec {
  if (context.encrypt === true) {
    throw new TypeError("option encrypt is invalid: Flask's cookie format cannot be encrypted; drop format for encrypted Frasco sessions")
  }
  const clockTolerance = context.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE
  const shared = {
    secrets: flaskSecrets(context.secrets),
    salt,
    maxBytes: DEFAULT_MAX_PAYLOAD_BYTES,
    clockTolerance,
    ...(context.compress === undefined ? {} : { compress: context.compress }),
  }
  // Stryker disable next-line StringLiteral: equivalent, the factory name is only in a message for options that are not an object (test/mutation-equivalents.md)
  const reader = flaskSerializer({ ...shared, maxTokenLength: context.maxTokenLength }, 'createSessions')
  // Writing is not capped by the token length: commit measures the cookie and throws
  // CookieTooLarge itself, as for Frasco's format (the serializer would throw a bare RangeError).
  // Stryker disable next-line StringLiteral: equivalent, as for the reader (test/mutation-equivalents.md)
  const writer = flaskSerializer({ ...shared, maxTokenLength: Number.MAX_SAFE_INTEGER }, 'createSessions')
  return {
    absoluteExpiry: false,
    clockTolerance,
    encode(data, issuedAt, _expiresAt, persistent) {
      const flaskData = toFlask(data as Record<string, unknown>, persistent)
      try {
        return writer.sign(flaskData, { now: issuedAt * 1000 })
      } catch (error) {
        // Only the payload cap is left: a session that inflates beyond what any reader accepts.
        if (!(error instanceof RangeError)) throw error
        const size = Buffer.byteLength(encodeFlaskJson(flaskData), 'utf8')
        throw new CookieTooLarge(size, DEFAULT_MAX_PAYLOAD_BYTES, `session payload of ${size} bytes exceeds ${DEFAULT_MAX_PAYLOAD_BYTES} bytes, more than a reader inflates`)
      }
    },
    decode(value, now, maxAge) {
      // Stryker disable next-line ObjectLiteral,ArithmeticOperator: equivalent, the manager always passes maxAge (test/mutation-equivalents.md)
      const result = reader.verify(value, maxAge === undefined ? { now: now * 1000 } : { now: now * 1000, maxAge })
      if (!result.ok) return result.error
      const persistent = result.value[PERMANENT] === true
      const data = PERMANENT in result.value ? withoutKey(result.value, PERMANENT) : result.value
      const issuedAt = result.issuedAt === undefined ? undefined : Math.floor(result.issuedAt.getTime() / 1000)
      return new DecodedValue(data, issuedAt, undefined, undefined, result.stale, persistent)
    },
  }
}

const isFlashPair = (entry: unknown): entry is [string, string] =>
  Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && typeof entry[1] === 'string'

/**
 * The data as Flask stores it, on a copy when anything changes (the session's own data is not
 * touched): `_permanent` from the session's persistence, and flashes as a list of (category,
 * message) tuples. flash() stores tuples and get_flashed_messages hands them to the Flask app as
 * they are; session.flash() stores plain arrays (the Frasco format has no tuples). The outer
 * container is always a list: flash() appends to it, and a tuple there would make it fail (500).
 */
function toFlask(data: Record<string, unknown>, persistent: boolean): Record<string, unknown> {
  // Anything but a plain object goes to the encoder as it is, which names what cannot be stored.
  if (!isPlainObject(data)) return data
  if (Object.hasOwn(data, PERMANENT)) {
    // Flask's own spelling, or 0.1's: refused rather than dropped, so the app learns the new one.
    throw new TypeError('value at session._permanent is invalid: Frasco keeps it for you; set session.persistent = true (or sign(data, { persistent: true })) instead')
  }
  let out = data
  if (persistent) {
    // Assigned after the copy: a spread with an extra computed key takes V8's slow path. Into a
    // null-prototype object, so a `__proto__` data key stays a plain key.
    out = Object.assign(Object.setPrototypeOf({}, null) as Record<string, unknown>, data)
    out[PERMANENT] = true
  }
  const flashes = out._flashes
  if (!Array.isArray(flashes)) return out
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, a shortcut: the map below copies such a list as it is (test/mutation-equivalents.md)
  if (!isTuple(flashes) && !flashes.some((entry) => isFlashPair(entry) && !isTuple(entry))) return out
  // map() returns a plain array, so an outer tuple becomes the list Flask expects.
  return { ...out, _flashes: flashes.map((entry: unknown) => (isFlashPair(entry) && !isTuple(entry) ? tuple(...entry) : entry)) }
}

/**
 * A null-prototype copy of decoded JSON without `key`. Copied rather than deleted: deleting a key
 * (here the first, as Flask sorts them) turns an object into a slow dictionary-mode one.
 */
function withoutKey(data: Record<string, unknown>, key: string): Record<string, unknown> {
  const out = Object.setPrototypeOf({}, null) as Record<string, unknown>
  // Decoded JSON objects have a null prototype: for-in sees their own keys only.
  for (const name in data) if (name !== key) out[name] = data[name]
  return out
}

// Flask's keys are whatever the Flask app has: strings or bytes, no key ids, no minimum length.
function flaskSecrets(secrets: unknown): Array<string | Uint8Array> {
  if (typeof secrets === 'object' && secrets !== null && 'keys' in secrets && 'current' in secrets) {
    throw new TypeError("option secrets is invalid: for the Flask format give Flask's SECRET_KEY (then its SECRET_KEY_FALLBACKS) as strings or bytes")
  }
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, createSessions refuses a missing secrets first (test/mutation-equivalents.md)
  if (secrets === undefined) throw new TypeError("option secrets is missing: give Flask's SECRET_KEY (then its SECRET_KEY_FALLBACKS)")
  const list: unknown[] = Array.isArray(secrets) ? secrets : [secrets]
  return list.map((item: unknown, index) => {
    if (typeof item === 'string' || item instanceof Uint8Array) return item
    if (typeof item === 'object' && item !== null && 'secret' in item) return (item as { secret: string | Uint8Array }).secret
    throw new TypeError(`option secrets[${index}] is invalid: give Flask's SECRET_KEY as a string or bytes`)
  })
}
