/**
 * Flask's session cookie (`SecureCookieSessionInterface`), byte for byte: read a cookie a Flask
 * app wrote, write one it accepts. The cookie is an itsdangerous `URLSafeTimedSerializer` token
 * (salt `cookie-session`, HMAC-SHA1, `hmac` key derivation) whose payload is Flask's tagged JSON
 * (`./json.ts`).
 *
 * @module
 */
import { PayloadMalformed } from '../errors.js'
import { TOKEN_HINTS, VERIFY_HINTS, requiredOptions, clockOption, lifetimeOption, strictOptions, type Clock, type CompressOption } from '../lib/options.js'
import type { VerifyResult } from '../lib/result.js'
import { itsdangerousSerializer, type ItsdangerousSecrets, type ItsdangerousSerializer } from './itsdangerous.js'
import { decodeFlaskJson, encodeFlaskJson } from './json.js'
import { isPlainObject } from './python-json.js'

/**
 * Flask's default `PERMANENT_SESSION_LIFETIME`, 31 days, in seconds: the age limit Flask puts on
 * every session cookie, and the Max-Age of a permanent one.
 *
 * @example
 * ```ts
 * FLASK_DEFAULT_LIFETIME // 2678400
 * const flask = createFlaskCodec({ secrets, lifetime: FLASK_DEFAULT_LIFETIME / 31 }) // one day
 * ```
 */
export const FLASK_DEFAULT_LIFETIME = 31 * 24 * 60 * 60

/**
 * JSON payloads shorter than this many bytes are written without trying zlib (Flask always tries;
 * it reads uncompressed payloads of any size). docs/flask.md has the measurement behind it.
 *
 * @example
 * ```ts
 * FLASK_DEFAULT_COMPRESS_THRESHOLD // 1024
 * const flask = createFlaskCodec({ secrets, compress: { threshold: 0 } }) // try zlib on every write, as Flask does
 * ```
 */
export const FLASK_DEFAULT_COMPRESS_THRESHOLD = 1024

/** Flask's `SecureCookieSessionInterface.salt`. */
export const FLASK_SALT = 'cookie-session'

function decodeSession(text: string): Record<string, unknown> {
  const value = decodeFlaskJson(text)
  // Flask builds the session with dict(value); anything but an object is refused here.
  if (!isPlainObject(value)) throw new PayloadMalformed('payload is not a JSON object')
  return value
}

/**
 * Options of {@link createFlaskCodec}.
 *
 * @example
 * ```ts
 * const options: FlaskCodecOptions = { secrets: [process.env.SECRET_KEY!, process.env.OLD_SECRET_KEY!], lifetime: 3600 }
 * const flask = createFlaskCodec(options)
 * ```
 */
export interface FlaskCodecOptions {
  /** Flask's `SECRET_KEY` (string or bytes), then its `SECRET_KEY_FALLBACKS`: newest first. Not empty. */
  secrets: ItsdangerousSecrets
  /** The signing salt, `SecureCookieSessionInterface.salt`. Default `'cookie-session'`. */
  salt?: string
  /**
   * `PERMANENT_SESSION_LIFETIME` in seconds (at most 400 days): Flask refuses every session cookie
   * older than this, permanent or not, so `verify` does too. Default 31 days.
   */
  lifetime?: number
  /**
   * Compress with zlib when that makes the cookie shorter: `true` (the default) from
   * {@link FLASK_DEFAULT_COMPRESS_THRESHOLD} bytes of JSON on, `{ threshold }` from that many
   * (0 tries on every write, as Flask does), `false` never.
   */
  compress?: CompressOption
  /** Largest session payload accepted, in bytes of JSON after decompression. Default 131072. */
  maxBytes?: number
  /** Longest cookie value accepted, in characters. Default 65536. */
  maxTokenLength?: number
  /** Seconds of clock difference tolerated between the Flask and Node hosts. Default 0, as Flask. */
  clockTolerance?: number
  /** The clock: milliseconds since the epoch, like `Date.now` (the default). For tests. */
  clock?: Clock
}

/**
 * Options of {@link FlaskCodec.sign}.
 *
 * @example
 * ```ts
 * const options: FlaskSignOptions = { now: Date.now() }
 * const cookieValue = flask.sign({ user: 'ada', _permanent: true }, options)
 * ```
 */
export interface FlaskSignOptions {
  /** The signing time: a Date or milliseconds since the epoch. Defaults to the codec's clock. */
  now?: Date | number
}

/**
 * Options of {@link FlaskCodec.verify} and {@link FlaskCodec.unsign}.
 *
 * @example
 * ```ts
 * const options: FlaskVerifyOptions = { maxAge: 600 } // stricter than the codec's lifetime, for this call
 * const result = flask.verify(cookieValue, options)
 * ```
 */
export interface FlaskVerifyOptions {
  /** The verification time: a Date or milliseconds since the epoch. Defaults to the codec's clock. */
  now?: Date | number
  /** The age limit of this call, instead of the codec's `lifetime` (seconds, at most 400 days). */
  maxAge?: number
}

/**
 * Reads and writes the value of Flask's `session` cookie, with the same method names and result
 * shape as Frasco's serializer.
 *
 * @example
 * ```ts
 * const flask: FlaskCodec = createFlaskCodec({ secrets: process.env.SECRET_KEY! })
 * const result = flask.verify(flask.sign({ user: 'ada' }))
 * if (result.ok) result.value.user // 'ada'
 * ```
 */
export interface FlaskCodec {
  /** Writes a session as Flask would. `_permanent: true` marks a permanent session, as in Flask. */
  sign(data: Record<string, unknown>, options?: FlaskSignOptions): string
  /** Verifies and reads a session cookie value; never throws for a bad cookie. */
  verify(value: string, options?: FlaskVerifyOptions): VerifyResult<Record<string, unknown>>
  /** Like `verify`, but returns the session data or throws the `SessionError`. */
  unsign(value: string, options?: FlaskVerifyOptions): Record<string, unknown>
}

const CODEC_KEYS = new Set(['secrets', 'salt', 'lifetime', 'compress', 'maxBytes', 'maxTokenLength', 'clockTolerance', 'clock'])
const VERIFY_KEYS = new Set(['now', 'maxAge'])
const CODEC_HINTS: Readonly<Record<string, string>> = {
  ...TOKEN_HINTS,
  maxAge: "use `lifetime` (Flask's PERMANENT_SESSION_LIFETIME, seconds); `maxAge` is the age limit of one verify call",
  max_age: "did you mean `lifetime`? (Flask's PERMANENT_SESSION_LIFETIME, seconds)",
  PERMANENT_SESSION_LIFETIME: 'did you mean `lifetime`? (seconds)',
  expiresIn: 'a Flask cookie carries no expiry: `lifetime` limits the age of every cookie verify reads',
  ttl: "use `lifetime` (Flask's PERMANENT_SESSION_LIFETIME, seconds)",
  password: "did you mean `secrets`? (Flask's SECRET_KEY, newest first)",
}

/** The itsdangerous serializer under a Flask session cookie. @internal */
export function flaskSerializer(options: Omit<FlaskCodecOptions, 'lifetime'>, factory: string): ItsdangerousSerializer<Record<string, unknown>> {
  return itsdangerousSerializer<Record<string, unknown>>(
    {
      secrets: options.secrets,
      salt: options.salt ?? FLASK_SALT,
      digest: 'sha1',
      keyDerivation: 'hmac',
      timestamped: true,
      serializer: { dumps: encodeFlaskJson, loads: decodeSession },
      // `true` is Flask's default here, not itsdangerous's (which tries zlib on every payload).
      compress: options.compress === undefined || options.compress === true ? { threshold: FLASK_DEFAULT_COMPRESS_THRESHOLD } : options.compress,
      // Stryker disable next-line ConditionalExpression: equivalent, an option given as undefined is the option left out (test/mutation-equivalents.md)
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      // Stryker disable next-line ConditionalExpression: equivalent, an option given as undefined is the option left out (test/mutation-equivalents.md)
      ...(options.maxTokenLength === undefined ? {} : { maxTokenLength: options.maxTokenLength }),
      // Stryker disable next-line ConditionalExpression: equivalent, an option given as undefined is the option left out (test/mutation-equivalents.md)
      ...(options.clockTolerance === undefined ? {} : { clockTolerance: options.clockTolerance }),
      // Stryker disable next-line ConditionalExpression: equivalent, an option given as undefined is the option left out (test/mutation-equivalents.md)
      ...(options.clock === undefined ? {} : { clock: clockOption(options.clock) }),
    },
    'session',
    factory,
  )
}

/**
 * Creates a codec for Flask's default session cookie (`SecureCookieSessionInterface`). For
 * sessions over HTTP, hand {@link createFlaskFormat} to `createSessions` instead.
 *
 * @example
 * ```ts
 * const flask = createFlaskCodec({ secrets: process.env.FLASK_SECRET_KEY! })
 * const result = flask.verify(cookies.session)
 * if (result.ok) {
 *   const data = result.value // { username: 'ada', _flashes: [tuple('message', 'Hi')] }
 *   setCookie('session', flask.sign({ ...data, visits: 2 }))
 * }
 * ```
 */
export function createFlaskCodec(options: FlaskCodecOptions): FlaskCodec {
  requiredOptions(options, CODEC_KEYS, 'createFlaskCodec', '{ secrets }', CODEC_HINTS)
  const maxAge = options.lifetime === undefined ? FLASK_DEFAULT_LIFETIME : lifetimeOption(options.lifetime, 'lifetime')
  const { lifetime: _, ...rest } = options
  // Stryker disable next-line StringLiteral: equivalent, the factory name is only in a message for options that are not an object (test/mutation-equivalents.md)
  const serializer = flaskSerializer(rest, 'createFlaskCodec')
  const verify = (value: string, verifyOptions?: FlaskVerifyOptions): VerifyResult<Record<string, unknown>> => {
    const checked = strictOptions(verifyOptions, VERIFY_KEYS, 'verify', VERIFY_HINTS)
    // Stryker disable next-line ConditionalExpression: equivalent, { now: undefined } is no now (test/mutation-equivalents.md)
    return serializer.verify(value, { maxAge: checked.maxAge ?? maxAge, ...(checked.now === undefined ? {} : { now: checked.now }) })
  }
  return {
    sign(data, signOptions) {
      if (!isPlainObject(data)) throw new TypeError('data is invalid: a Flask session is a plain object')
      return serializer.sign(data, signOptions)
    },
    verify,
    unsign(value, verifyOptions) {
      const result = verify(value, verifyOptions)
      if (!result.ok) throw result.error
      return result.value
    },
  }
}
