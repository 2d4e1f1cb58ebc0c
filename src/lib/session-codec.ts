/**
 * The cookie formats a session manager can speak: Frasco's own (signed f1 or encrypted e1) and
 * Flask's. One small interface so `createSessions` does not care which.
 *
 * @internal
 */
import { SessionError } from '../errors.js'
import { createFlaskCodec } from '../formats/flask.js'
import type { Keyring, SecretsInput } from '../keyring.js'
import { createObjectCodec } from '../signer.js'
import type { VerifyResult } from '../signer.js'

export interface DecodedSession {
  value: unknown
  issuedAt: number // seconds
  expiresAt: number | undefined // seconds
  keyId: string
  stale: boolean
}

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
  )
  return {
    absoluteExpiry: true,
    encode: (data, issuedAt, expiresAt) => codec.encode(data, issuedAt, expiresAt),
    decode(value, now, maxAge) {
      const decoded = codec.decode(value, now, maxAge)
      if (decoded instanceof SessionError) return decoded
      const { token } = decoded
      return { value: decoded.value, issuedAt: token.issuedAt, expiresAt: token.expiresAt, keyId: token.key.id, stale: token.key.index !== 0 }
    },
  }
}

function flaskCodec(options: SessionCodecOptions): SessionCodec {
  if (options.encrypt) throw new TypeError("option encrypt is invalid: Flask's cookie format cannot be encrypted; use format 'frasco' for encrypted sessions")
  if (typeof options.secrets === 'object' && options.secrets !== null && 'keys' in options.secrets && 'current' in options.secrets) {
    throw new TypeError("option secrets is invalid: for format 'flask' give Flask's SECRET_KEY (then its SECRET_KEY_FALLBACKS) as strings or bytes")
  }
  const compress = options.compress
  const flask = createFlaskCodec({
    secrets: flaskSecrets(options.secrets as SecretsInput),
    maxAge: Number.POSITIVE_INFINITY, // the manager passes the age limit on every decode
    maxTokenLength: options.maxTokenLength,
    ...(options.clockTolerance === undefined ? {} : { clockTolerance: options.clockTolerance }),
    ...(compress === undefined || compress === true ? {} : { compressThreshold: compress === false ? false : compress.threshold }),
  })
  return {
    absoluteExpiry: false,
    encode: (data, issuedAt) => flask.encode(data as Record<string, unknown>, { now: issuedAt * 1000 }),
    decode(value, now, maxAge) {
      const result: VerifyResult<Record<string, unknown>> = flask.decode(value, {
        now: now * 1000,
        maxAge: maxAge ?? Number.POSITIVE_INFINITY,
      })
      if (!result.ok) return result.error
      return {
        value: result.value,
        issuedAt: Math.floor(result.issuedAt.getTime() / 1000),
        expiresAt: undefined,
        keyId: result.keyId,
        stale: result.stale,
      }
    },
  }
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
