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
import type { Keyring, SecretsInput } from './keyring.js'
import { OBJECT_OPTION_KEYS, TOKEN_OPTION_KEYS, createObjectCodec, setUpTokens, type TokenSetup } from './lib/codec.js'
import { SIGN_HINTS, TOKEN_HINTS, VERIFY_HINTS, lifetimeOption, requiredOptions, strictOptions, type Clock, type CompressOption } from './lib/options.js'
import { verified, type DecodedValue, type TokenFacts, type VerifyResult } from './lib/result.js'
import { FLAG_EXPIRES, MAX_SECONDS, TokenCore, instant, type OpenedToken } from './lib/token.js'

export type { VerifyResult } from './lib/result.js'

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
  /** The clock: milliseconds since the epoch, like `Date.now` (the default). For tests. */
  clock?: Clock
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
  /**
   * Seconds until the token expires (at most 400 days); written into the token and enforced by
   * `verify`. Omitted: the token never expires by itself (give `verify` a `maxAge`).
   */
  expiresIn?: number
  /** The signing time: a Date or milliseconds since the epoch. Defaults to the factory's clock. */
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
  /** Reject tokens issued more than this many seconds ago (at most 400 days), whatever expiry they carry. */
  maxAge?: number
  /** The verification time: a Date or milliseconds since the epoch. Defaults to the factory's clock. */
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
   * Compress payloads with raw deflate when that makes the token shorter: `true` from 1 KiB of
   * JSON on (`docs/serialization.md` explains the threshold), `{ threshold }` from that many bytes
   * on, `false` never. Default `true` for signed tokens and `false` with `encrypt: true`:
   * compressing before encrypting lets the token's length reveal whether text an attacker chose
   * matches secret text in the same payload (a compression oracle, docs/security.md); turn it on
   * for encrypted tokens only when no part of the payload is attacker-controlled.
   */
  compress?: CompressOption
  /** Largest payload accepted, in bytes after decompression. Default 131072. */
  maxBytes?: number
  /**
   * Encrypt with XAES-256-GCM (format `x1`; `e1` tokens are still read) instead of only signing (`f1`): the holder of a token
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

const SIGNER_KEYS = new Set(TOKEN_OPTION_KEYS)
const SERIALIZER_KEYS = new Set(OBJECT_OPTION_KEYS)
const SIGN_KEYS = new Set(['expiresIn', 'now'])
const VERIFY_KEYS = new Set(['maxAge', 'now'])
const SIGNER_VERIFY_KEYS = new Set(['maxAge', 'now', 'encoding'])

const factoryOptions = <T extends object>(options: T, keys: ReadonlySet<string>, factory: string): T =>
  requiredOptions(options, keys, factory, '{ secrets, purpose }', TOKEN_HINTS)

function issueTimes(setup: TokenSetup, options: SignOptions | undefined): [issuedAt: number, expiresAt: number | undefined] {
  const { expiresIn, now } = strictOptions(options, SIGN_KEYS, 'sign', SIGN_HINTS)
  const issuedAt = instant(now, setup.clock)
  if (expiresIn === undefined) return [issuedAt, undefined]
  const expiresAt = issuedAt + lifetimeOption(expiresIn, 'expiresIn')
  if (expiresAt > MAX_SECONDS) throw new TypeError('option now is invalid: the expiry falls beyond the year 8,900,000')
  return [issuedAt, expiresAt]
}

/** The verification time and age limit of `verify` options, in seconds. */
function verifyTimes(setup: TokenSetup, options: VerifyOptions | undefined, keys: ReadonlySet<string>): [now: number, maxAge: number | undefined] {
  if (options === undefined) return [instant(undefined, setup.clock), undefined]
  const { maxAge, now } = strictOptions(options, keys, 'verify', VERIFY_HINTS)
  return [instant(now, setup.clock), maxAge === undefined ? undefined : lifetimeOption(maxAge, 'maxAge', true)]
}

function openToken(core: TokenCore, setup: TokenSetup, token: string, options: VerifyOptions | undefined): OpenedToken | SessionError {
  const [now, maxAge] = verifyTimes(setup, options, SIGNER_VERIFY_KEYS)
  return core.open(token, now, maxAge)
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
 * import { createSigner, secretsFromEnv } from 'frasco'
 *
 * const signer = createSigner({ secrets: secretsFromEnv(), purpose: 'password-reset' })
 * const token = signer.sign('user:42', { expiresIn: 3600 })
 * const result = signer.verify(token)
 * if (result.ok) resetPassword(result.value)
 * else console.warn(result.error.code) // e.g. 'ERR_SESSION_EXPIRED'
 * ```
 */
export function createSigner(options: SignerOptions): Signer {
  const setup = setUpTokens(factoryOptions(options, SIGNER_KEYS, 'createSigner'))
  const core = new TokenCore(setup.keyring, setup.core)

  function verify(token: string, verifyOptions?: VerifyOptions & { encoding?: 'utf8' | 'bytes' }): VerifyResult<string | Uint8Array> {
    // Every option is read before the token is opened: the payload is a view of memory the next
    // open reuses, and an option getter could run one in between.
    const encoding = verifyOptions?.encoding
    if (encoding !== undefined && encoding !== 'utf8' && encoding !== 'bytes') throw new TypeError("option encoding is invalid: give 'utf8' (the default) or 'bytes'")
    const opened = openToken(core, setup, token, verifyOptions)
    if (opened instanceof SessionError) return { ok: false, error: opened }
    if (opened.flags !== 0 && opened.flags !== FLAG_EXPIRES) {
      return { ok: false, error: new PayloadMalformed('token holds an object; verify it with createSerializer') }
    }
    const about: TokenFacts = { issuedAt: opened.issuedAt, expiresAt: opened.expiresAt, keyId: opened.key.id, stale: opened.key.index !== 0 }
    if (encoding === 'bytes') return verified(about, new Uint8Array(opened.payload))
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
      const [issuedAt, expiresAt] = issueTimes(setup, signOptions)
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
 * import { createSerializer, secretsFromEnv } from 'frasco'
 *
 * const invites = createSerializer<{ team: string; role: string }>({ secrets: secretsFromEnv(), purpose: 'invite' })
 * const token = invites.sign({ team: 'core', role: 'editor' }, { expiresIn: 7 * 86400 })
 * const { team } = invites.unsign(token) // throws a SessionError if tampered or expired
 * ```
 */
export function createSerializer<T = unknown>(options: SerializerOptions): Serializer<T> {
  const checked = factoryOptions(options, SERIALIZER_KEYS, 'createSerializer')
  const setup = setUpTokens(checked)
  const codec = createObjectCodec(checked, setup)

  function decode(token: string, verifyOptions: VerifyOptions | undefined): DecodedValue | SessionError {
    const [now, maxAge] = verifyTimes(setup, verifyOptions, VERIFY_KEYS)
    return codec.decode(token, now, maxAge)
  }

  return {
    sign(value, signOptions) {
      const [issuedAt, expiresAt] = issueTimes(setup, signOptions)
      return codec.encode(value, issuedAt, expiresAt)
    },
    verify(token, verifyOptions) {
      const decoded = decode(token, verifyOptions)
      if (decoded instanceof SessionError) return { ok: false, error: decoded }
      return verified(decoded, decoded.value as T)
    },
    // Without the result object verify builds: unsign is the hot path.
    unsign(token, verifyOptions) {
      const decoded = decode(token, verifyOptions)
      if (decoded instanceof SessionError) throw decoded
      return decoded.value as T
    },
  }
}
