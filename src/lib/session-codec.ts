/**
 * The cookie formats a session manager can speak: Frasco's own (signed f1 or encrypted e1) and
 * Flask's. One small interface so `createSessions` does not care which.
 *
 * @internal
 */
import { Buffer } from 'node:buffer'
import { CookieTooLarge, PayloadTooLarge, SessionError } from '../errors.js'
import { createFlaskCodec, encodeFlaskJson, isTuple, tuple } from '../formats/flask.js'
import type { Keyring, SecretsInput } from '../keyring.js'
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../serializer.js'
import { createObjectCodec } from '../signer.js'
import type { VerifyResult } from '../signer.js'
import { DecodedValue } from './codec.js'
import { DEFAULT_CLOCK_TOLERANCE } from './token.js'

/** A verified session cookie, whichever format it came in. */
export type DecodedSession = DecodedValue

export interface SessionCodec {
  /** Whether tokens carry an absolute expiry (Frasco) or only an issue time (Flask). */
  readonly absoluteExpiry: boolean
  encode(data: object, issuedAt: number, expiresAt: number | undefined): string
  decode(value: string, now: number, maxAge: number | undefined): DecodedSession | SessionError
}

export interface SessionCodecOptions {
  format: 'frasco' | 'flask'
  secrets: SecretsInput | Keyring
  purpose: string
  encrypt: boolean
  clockTolerance: number | undefined
  compress: boolean | { threshold: number } | undefined
  maxTokenLength: number
}

// The payload cap (JSON bytes after inflating) is the serializer's, for every format.
const FLASK_MAX_PAYLOAD_BYTES = DEFAULT_MAX_PAYLOAD_BYTES

// What a value that cannot be stored is called in the TypeError: `value at session.cart[0] is …`.
const SESSION_PATH = 'session'

export function createSessionCodec(options: SessionCodecOptions): SessionCodec {
  if (options.format === 'flask') return flaskCodec(options)
  const codec = createObjectCodec(
    {
      secrets: options.secrets,
      purpose: options.purpose,
      encrypt: options.encrypt,
      maxTokenLength: options.maxTokenLength,
      ...(options.clockTolerance === undefined ? {} : { clockTolerance: options.clockTolerance }),
      ...(options.compress === undefined ? {} : { compress: options.compress }),
    },
    'createSessions',
    SESSION_PATH,
  )
  return {
    absoluteExpiry: true,
    encode(data, issuedAt, expiresAt) {
      try {
        return codec.encode(data, issuedAt, expiresAt)
      } catch (error) {
        // The payload cap: a session that compresses small but inflates beyond what read() accepts.
        if (!(error instanceof PayloadTooLarge)) throw error
        throw new CookieTooLarge(error.size, error.limit, `session of ${error.size} bytes (as JSON) exceeds ${error.limit} bytes, more than a reader inflates`)
      }
    },
    decode: (value, now, maxAge) => codec.decode(value, now, maxAge),
  }
}

function flaskCodec(options: SessionCodecOptions): SessionCodec {
  if (options.encrypt) throw new TypeError("option encrypt is invalid: Flask's cookie format cannot be encrypted; use format 'frasco' for encrypted sessions")
  if (typeof options.secrets === 'object' && options.secrets !== null && 'keys' in options.secrets && 'current' in options.secrets) {
    throw new TypeError("option secrets is invalid: for format 'flask' give Flask's SECRET_KEY (then its SECRET_KEY_FALLBACKS) as strings or bytes")
  }
  const compress = options.compress
  let compressThreshold: number | false | undefined
  if (compress === false) compressThreshold = false
  else if (typeof compress === 'object' && compress !== null && Number.isSafeInteger(compress.threshold) && compress.threshold >= 0) compressThreshold = compress.threshold
  else if (compress !== undefined && compress !== true) {
    throw new TypeError('option compress is invalid: give true, false or { threshold: bytes } with a non-negative threshold')
  }
  const shared = {
    secrets: flaskSecrets(options.secrets as SecretsInput),
    maxAge: Number.POSITIVE_INFINITY, // the manager passes the age limit on every decode
    maxBytes: FLASK_MAX_PAYLOAD_BYTES,
    // The codec alone defaults to 0, as Flask; a session manager shares cookies with a Flask app on
    // another host, whose clock may be a second ahead: keep createSessions' documented 60 s.
    clockTolerance: options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE,
    ...(compressThreshold === undefined ? {} : { compressThreshold }),
  }
  const flask = createFlaskCodec({ ...shared, maxTokenLength: options.maxTokenLength })
  // Writing is not capped by the token length: commit measures the cookie and throws
  // CookieTooLarge itself, as for Frasco's format (the codec would throw a bare RangeError).
  const writer = createFlaskCodec({ ...shared, maxTokenLength: Number.MAX_SAFE_INTEGER })
  return {
    absoluteExpiry: false,
    encode(data, issuedAt) {
      const flaskData = withFlashTuples(data as Record<string, unknown>)
      try {
        return writer.encode(flaskData, { now: issuedAt * 1000, path: SESSION_PATH })
      } catch (error) {
        // Only the payload cap is left: a session that inflates beyond what any reader accepts.
        if (!(error instanceof RangeError)) throw error
        const size = Buffer.byteLength(encodeFlaskJson(flaskData), 'utf8')
        throw new CookieTooLarge(size, FLASK_MAX_PAYLOAD_BYTES, `session payload of ${size} bytes exceeds ${FLASK_MAX_PAYLOAD_BYTES} bytes, more than a reader inflates`)
      }
    },
    decode(value, now, maxAge) {
      const result: VerifyResult<Record<string, unknown>> = flask.decode(value, {
        now: now * 1000,
        maxAge: maxAge ?? Number.POSITIVE_INFINITY,
      })
      if (!result.ok) return result.error
      return new DecodedValue(result.value, Math.floor(result.issuedAt.getTime() / 1000), undefined, result.keyId, result.stale)
    },
  }
}

const isFlashPair = (entry: unknown): entry is [string, string] =>
  Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && typeof entry[1] === 'string'

// flash() stores (category, message) tuples, and get_flashed_messages hands them to the Flask app
// as they are; session.flash() stores plain arrays (the Frasco format has no tuples). Write them
// as tuples, on a copy: the session's own data is not touched.
function withFlashTuples(data: Record<string, unknown>): Record<string, unknown> {
  const flashes = data._flashes
  if (!Array.isArray(flashes) || !flashes.some((entry) => isFlashPair(entry) && !isTuple(entry))) return data
  return { ...data, _flashes: flashes.map((entry: unknown) => (isFlashPair(entry) && !isTuple(entry) ? tuple(...entry) : entry)) }
}

// Flask's keys are whatever the Flask app has: strings or bytes, no key ids, no minimum length.
function flaskSecrets(secrets: SecretsInput): Array<string | Uint8Array> {
  const list = Array.isArray(secrets) ? secrets : [secrets]
  return list.map((item: unknown, index) => {
    if (typeof item === 'string' || item instanceof Uint8Array) return item
    if (typeof item === 'object' && item !== null && 'secret' in item) return (item as { secret: string | Uint8Array }).secret
    throw new TypeError(`option secrets[${index}] is invalid: give Flask's SECRET_KEY as a string or bytes`)
  })
}
