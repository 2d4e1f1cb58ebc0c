/**
 * Signed tokens: `createSigner` for strings and bytes, `createSerializer` for whole objects.
 *
 * Both write Frasco's version-1 format (`docs/format.md`): HMAC-SHA256 under a subkey derived per
 * purpose, with the key id, issue time and optional expiry inside the MAC. Verifying never throws
 * on a bad token; it returns `{ ok: false, error }` with a typed {@link SessionError}.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { decodeUtf8 } from './encoding.js'
import { PayloadMalformed, SessionError } from './errors.js'
import { createKeyring, type Keyring, type SecretsInput } from './keyring.js'
import {
  DEFAULT_CLOCK_TOLERANCE,
  DEFAULT_MAX_TOKEN_LENGTH,
  FLAG_EXPIRES,
  MAX_SECONDS,
  TokenCore,
  type TokenCoreOptions,
  assertPurpose,
  assertSeconds,
  toSeconds,
  type OpenedToken,
} from './lib/token.js'
import { ObjectCodec, verified, type DecodedValue, type TokenFacts } from './lib/codec.js'
import { SealedCore } from './lib/seal.js'
import { DEFAULT_COMPRESS_THRESHOLD, DEFAULT_MAX_PAYLOAD_BYTES } from './serializer.js'

/**
 * The outcome of verifying a token; never thrown.
 *
 * @example
 * ```ts
 * const result: VerifyResult<string> = signer.verify(token)
 * if (result.ok) console.log(result.value, result.expiresAt, result.stale)
 * else console.warn(result.error.code)
 * ```
 */
export type VerifyResult<T> =
  | {
      ok: true
      value: T
      /** When the token was signed. */
      issuedAt: Date
      /** When the token stops being valid, if it carries an expiry. */
      expiresAt: Date | undefined
      /** The id of the key that verified the token. */
      keyId: string
      /** True when a key other than the newest verified the token: re-sign it with the newest. */
      stale: boolean
    }
  | { ok: false; error: SessionError }

/**
 * Options shared by {@link createSigner} and {@link createSerializer}.
 *
 * @example
 * ```ts
 * const options: SignerOptions = { secrets: secretsFromEnv(), purpose: 'email-confirm', clockTolerance: 30 }
 * const signer = createSigner(options)
 * ```
 */
export interface SignerOptions {
  /** One secret or a list, newest first (at least 32 bytes each). The newest signs; all verify. */
  secrets: SecretsInput | Keyring
  /**
   * What the tokens are for (`'password-reset'`, `'csrf'`). Bound into the MAC through the subkey:
   * a token made for one purpose never verifies for another.
   */
  purpose: string
  /** Seconds of clock difference tolerated between servers for issue and expiry times. Default 60. */
  clockTolerance?: number
  /** Longest token accepted, in characters; longer ones are rejected before any work. Default 65536. */
  maxTokenLength?: number
}

/**
 * Options of `sign`.
 *
 * @example
 * ```ts
 * const options: SignOptions = { expiresIn: 3600, now: new Date('2026-01-01T00:00:00Z') }
 * const token = signer.sign('user:42', options)
 * ```
 */
export interface SignOptions {
  /** Seconds until the token expires; written into the token and enforced by `verify`. */
  expiresIn?: number
  /** The signing time: a Date or milliseconds since the epoch. Defaults to now. */
  now?: Date | number
}

/**
 * Options of `verify` and `unsign`.
 *
 * @example
 * ```ts
 * const options: VerifyOptions = { maxAge: 900 } // issued at most 15 minutes ago
 * const result = signer.verify(token, options)
 * ```
 */
export interface VerifyOptions {
  /** Reject tokens issued more than this many seconds ago, whatever expiry they carry. */
  maxAge?: number
  /** The verification time: a Date or milliseconds since the epoch. Defaults to now. */
  now?: Date | number
}

/**
 * Signs and verifies strings and bytes.
 *
 * @example
 * ```ts
 * const signer: Signer = createSigner({ secrets, purpose: 'download' })
 * const token = signer.sign(new Uint8Array([1, 2, 3]))
 * const bytes = signer.unsign(token, { encoding: 'bytes' }) // Uint8Array [1, 2, 3]
 * ```
 */
export interface Signer {
  /** Signs a string (as UTF-8) or bytes. */
  sign(value: string | Uint8Array, options?: SignOptions): string
  /** Verifies a token whose value is UTF-8 text. Never throws on a bad token. */
  verify(token: string, options?: VerifyOptions & { encoding?: 'utf8' }): VerifyResult<string>
  /** Verifies a token and returns its value as bytes. Never throws on a bad token. */
  verify(token: string, options: VerifyOptions & { encoding: 'bytes' }): VerifyResult<Uint8Array>
  /** Like `verify`, but returns the value or throws the {@link SessionError}. */
  unsign(token: string, options?: VerifyOptions & { encoding?: 'utf8' }): string
  unsign(token: string, options: VerifyOptions & { encoding: 'bytes' }): Uint8Array
}

/**
 * Options of {@link createSerializer}.
 *
 * @example
 * ```ts
 * const options: SerializerOptions = { secrets, purpose: 'invite', encrypt: true, compress: { threshold: 256 } }
 * const invites = createSerializer<{ team: string }>(options)
 * ```
 */
export interface SerializerOptions extends SignerOptions {
  /**
   * Compress payloads of at least this many bytes with raw deflate, when that makes the token
   * shorter. `false` never compresses. Default: `true`, meaning the measured threshold
   * (`docs/serialization.md`).
   */
  compress?: boolean | { threshold: number }
  /** Largest payload accepted, in bytes after decompression. Default 131072. */
  maxBytes?: number
  /**
   * Encrypt with AES-256-GCM (format `e1`) instead of only signing (`f1`): the holder of a token
   * can then read nothing but its key id. Encrypted and signed tokens never verify as each other.
   */
  encrypt?: boolean
}

/**
 * Signs and verifies objects (JSON plus Date, Uint8Array, BigInt, Map and Set).
 *
 * @example
 * ```ts
 * const carts: Serializer<{ items: string[] }> = createSerializer({ secrets, purpose: 'cart' })
 * const token = carts.sign({ items: ['tea'] }, { expiresIn: 86400 })
 * carts.unsign(token).items // ['tea']
 * ```
 */
export interface Serializer<T = unknown> {
  sign(value: T, options?: SignOptions): string
  verify(token: string, options?: VerifyOptions): VerifyResult<T>
  unsign(token: string, options?: VerifyOptions): T
}

function setUp(options: SignerOptions, factory: string): { keyring: Keyring; core: TokenCoreOptions } {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options are invalid: ${factory} needs an options object, e.g. ${factory}({ secrets, purpose })`)
  }
  const keyring = createKeyring(options.secrets)
  assertPurpose(options.purpose)
  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE
  assertSeconds(clockTolerance, 'clockTolerance')
  const maxTokenLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH
  if (!Number.isSafeInteger(maxTokenLength) || maxTokenLength < 64) {
    throw new TypeError('option maxTokenLength is invalid: give a whole number of characters, at least 64')
  }
  return { keyring, core: { purpose: options.purpose, clockTolerance, maxTokenLength } }
}

function issueTimes(options: SignOptions | undefined): [issuedAt: number, expiresAt: number | undefined] {
  const issuedAt = toSeconds(options?.now)
  const expiresIn = options?.expiresIn
  if (expiresIn === undefined) return [issuedAt, undefined]
  assertSeconds(expiresIn, 'expiresIn')
  const expiresAt = issuedAt + Math.floor(expiresIn)
  if (expiresAt > MAX_SECONDS) throw new TypeError('option expiresIn is invalid: the expiry falls beyond the year 8,900,000; give fewer seconds')
  return [issuedAt, expiresAt]
}

function openToken(core: TokenCore, token: string, options: VerifyOptions | undefined): OpenedToken | SessionError {
  const maxAge = options?.maxAge
  if (maxAge !== undefined) assertSeconds(maxAge, 'maxAge')
  return core.open(token, toSeconds(options?.now), maxAge)
}

function unwrap<T>(result: VerifyResult<T>): T {
  if (!result.ok) throw result.error
  return result.value
}

/**
 * Creates a signer for strings and bytes: password-reset links, e-mail confirmations, CSRF
 * tokens, anything that must come back unaltered. The value is readable by whoever holds the
 * token; signing proves who made it, it does not hide it.
 *
 * @example
 * ```ts
 * import { createSigner } from 'frasco'
 *
 * const signer = createSigner({ secrets: process.env.FRASCO_SECRETS!.split(','), purpose: 'password-reset' })
 * const token = signer.sign('user:42', { expiresIn: 3600 })
 * const result = signer.verify(token)
 * if (result.ok) resetPassword(result.value)
 * else console.warn(result.error.code) // e.g. 'ERR_SESSION_EXPIRED'
 * ```
 */
export function createSigner(options: SignerOptions): Signer {
  const { keyring, core: coreOptions } = setUp(options, 'createSigner')
  const core = new TokenCore(keyring, coreOptions)

  function verify(token: string, verifyOptions?: VerifyOptions & { encoding?: 'utf8' | 'bytes' }): VerifyResult<string | Uint8Array> {
    // Every option is read before the token is opened: the payload is a view of memory the next
    // open reuses, and an option getter could run one in between.
    const bytes = verifyOptions?.encoding === 'bytes'
    const opened = openToken(core, token, verifyOptions)
    if (opened instanceof SessionError) return { ok: false, error: opened }
    if (opened.flags !== 0 && opened.flags !== FLAG_EXPIRES) {
      return { ok: false, error: new PayloadMalformed('token holds an object; verify it with createSerializer') }
    }
    const about: TokenFacts = { issuedAt: opened.issuedAt, expiresAt: opened.expiresAt, keyId: opened.key.id, stale: opened.key.index !== 0 }
    if (bytes) return verified(about, new Uint8Array(opened.payload))
    const text = decodeUtf8(opened.payload)
    if (text === undefined) return { ok: false, error: new PayloadMalformed('token value is not valid UTF-8') }
    return verified(about, text)
  }

  return {
    sign(value, signOptions) {
      let bytes: Uint8Array
      if (typeof value === 'string') {
        if (!value.isWellFormed()) throw new TypeError('value is invalid: the string contains a lone surrogate, which UTF-8 cannot encode')
        bytes = Buffer.from(value, 'utf8')
      } else if (value instanceof Uint8Array) {
        bytes = value
      } else {
        throw new TypeError('value is invalid: sign a string or a Uint8Array; use createSerializer for objects')
      }
      const [issuedAt, expiresAt] = issueTimes(signOptions)
      return core.seal(0, issuedAt, expiresAt, bytes)
    },
    verify: verify as Signer['verify'],
    unsign: ((token: string, verifyOptions?: VerifyOptions & { encoding?: 'utf8' | 'bytes' }) =>
      unwrap(verify(token, verifyOptions))) as Signer['unsign'],
  }
}

/**
 * Creates a serializer that signs whole values: objects, arrays and scalars made of JSON values,
 * `Date`, `Uint8Array`, `BigInt`, `Map` and `Set`. Large payloads are compressed when that makes
 * the token shorter; decompression is capped, so a zip bomb is rejected without being inflated.
 *
 * @example
 * ```ts
 * import { createSerializer } from 'frasco'
 *
 * const invites = createSerializer<{ team: string; role: string }>({ secrets, purpose: 'invite' })
 * const token = invites.sign({ team: 'core', role: 'editor' }, { expiresIn: 7 * 86400 })
 * const { team } = invites.unsign(token) // throws a SessionError if tampered or expired
 * ```
 */
export function createSerializer<T = unknown>(options: SerializerOptions): Serializer<T> {
  const codec = createObjectCodec(options, 'createSerializer')

  function decode(token: string, verifyOptions: VerifyOptions | undefined): DecodedValue | SessionError {
    const maxAge = verifyOptions?.maxAge
    if (maxAge !== undefined) assertSeconds(maxAge, 'maxAge')
    return codec.decode(token, toSeconds(verifyOptions?.now), maxAge)
  }

  return {
    sign(value, signOptions) {
      const [issuedAt, expiresAt] = issueTimes(signOptions)
      return codec.encode(value, issuedAt, expiresAt)
    },
    verify(token, verifyOptions) {
      const decoded = decode(token, verifyOptions)
      if (decoded instanceof SessionError) return { ok: false, error: decoded }
      return verified(decoded, decoded.value as T)
    },
    // Without the result object verify builds (two Dates among it): unsign is the hot path.
    unsign(token, verifyOptions) {
      const decoded = decode(token, verifyOptions)
      if (decoded instanceof SessionError) throw decoded
      return decoded.value as T
    },
  }
}

/**
 * Validates serializer options and builds the object codec that `createSerializer` and
 * `createSessions` share.
 *
 * @internal
 */
export function createObjectCodec(options: SerializerOptions, factory: string, path?: string): ObjectCodec {
  const { keyring, core: coreOptions } = setUp(options, factory)
  if (options.encrypt !== undefined && typeof options.encrypt !== 'boolean') {
    throw new TypeError('option encrypt is invalid: give true to encrypt with AES-256-GCM, or false')
  }
  const core = options.encrypt === true ? new SealedCore(keyring, coreOptions) : new TokenCore(keyring, coreOptions)
  const compress = options.compress ?? true
  let compressThreshold: number
  if (compress === true) compressThreshold = DEFAULT_COMPRESS_THRESHOLD
  else if (compress === false) compressThreshold = Number.POSITIVE_INFINITY
  else if (typeof compress === 'object' && compress !== null && Number.isSafeInteger(compress.threshold) && compress.threshold >= 0) {
    compressThreshold = compress.threshold
  } else {
    throw new TypeError('option compress is invalid: give true, false or { threshold: bytes } with a whole, non-negative number of bytes')
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > 2 ** 31 - 1) {
    throw new TypeError('option maxBytes is invalid: give a positive whole number of bytes')
  }
  return new ObjectCodec(core, compressThreshold, maxBytes, path)
}
