/**
 * Tokens in the format of Python's `itsdangerous` 2.x, so that a Python service and a Node service
 * can sign and verify each other's tokens.
 *
 * The layering follows itsdangerous: a signer (`value.signature`), optionally timestamped
 * (`value.timestamp.signature`), and on top a URL-safe serializer whose value is base64url JSON,
 * zlib-compressed when that is shorter (marked by a leading `.`). The byte-level format is
 * described in `docs/flask.md`.
 *
 * Differences from itsdangerous, on purpose:
 * - `secrets` lists the newest secret FIRST (Frasco's convention); itsdangerous lists them oldest
 *   to newest. The newest signs, all verify.
 * - Reading is canonical: the signature, timestamp and payload must be exactly what an encoder
 *   would write (itsdangerous's base64 decoder skips stray characters).
 * - A timestamp in the future is rejected even when no `maxAge` is given (itsdangerous checks it
 *   only together with `max_age`); `clockTolerance` (default 0 s) relaxes both checks.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { createHash, createHmac } from 'node:crypto'
import { deflateSync, inflateSync } from 'node:zlib'
import { decodeBase64url, decodeUtf8, encodeBase64url } from '../encoding.js'
import { copyUnpooled } from '../lib/buffers.js'
import { constantTimeEqual } from '../lib/compare.js'
import {
  DecompressionTooLarge,
  NotYetValid,
  PayloadMalformed,
  PayloadTooLarge,
  SessionError,
  SessionExpired,
  SignatureInvalid,
} from '../errors.js'
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../serializer.js'
import { SIGN_HINTS, TOKEN_HINTS, VERIFY_HINTS, requiredOptions, clockOption, compressOption, lifetimeOption, strictOptions, type Clock, type CompressOption } from '../lib/options.js'
import { verified, type VerifyResult } from '../lib/result.js'
import { decodePythonJson, encodePythonJson } from './python-json.js'

/**
 * Hash functions itsdangerous can be configured with (`digest_method`).
 *
 * @example
 * ```ts
 * const digest: ItsdangerousDigest = 'sha256' // Python: Signer(key, digest_method=hashlib.sha256)
 * const signer = createItsdangerousSigner({ secrets: 'secret', digest })
 * ```
 */
export type ItsdangerousDigest = 'sha1' | 'sha256' | 'sha512'

/**
 * How itsdangerous derives the signing key from a secret and the salt (`key_derivation`).
 *
 * @example
 * ```ts
 * const keyDerivation: ItsdangerousKeyDerivation = 'hmac' // Python: Signer(key, key_derivation='hmac')
 * const signer = createItsdangerousSigner({ secrets: 'secret', keyDerivation })
 * ```
 */
export type ItsdangerousKeyDerivation = 'django-concat' | 'concat' | 'hmac' | 'none'

/**
 * One secret or a list of secrets, NEWEST FIRST. Strings are used as their UTF-8 bytes, exactly
 * as itsdangerous uses a `str` key. (Python's itsdangerous takes the list oldest → newest.)
 *
 * @example
 * ```ts
 * // Python: Signer(['old-key', 'new-key']); here newest first
 * const secrets: ItsdangerousSecrets = ['new-key', 'old-key']
 * const signer = createItsdangerousSigner({ secrets })
 * ```
 */
export type ItsdangerousSecrets = string | Uint8Array | ReadonlyArray<string | Uint8Array>

/**
 * Options of {@link createItsdangerousSigner}.
 *
 * @example
 * ```ts
 * const options: ItsdangerousSignerOptions = { secrets: 'secret', salt: 'activate', digest: 'sha256', timestamped: true }
 * const signer = createItsdangerousSigner(options)
 * ```
 */
export interface ItsdangerousSignerOptions {
  /** The secret key(s), newest first. The newest signs; every one verifies. No minimum length. */
  secrets: ItsdangerousSecrets
  /** Separates contexts: a token signed with one salt never verifies with another. Default `'itsdangerous.Signer'`. */
  salt?: string | Uint8Array
  /** HMAC hash. Default `'sha1'`, as in itsdangerous. */
  digest?: ItsdangerousDigest
  /** Key derivation. Default `'django-concat'`, as in itsdangerous. */
  keyDerivation?: ItsdangerousKeyDerivation
  /** Between the value, the timestamp and the signature. No base64url character nor `=`. Default `'.'`. */
  separator?: string
  /** Add a timestamp, like `TimestampSigner`. Default `false`. */
  timestamped?: boolean
  /** Seconds of clock difference tolerated for future timestamps and for `maxAge`. Default 0, as itsdangerous. */
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
 * const options: ItsdangerousSignOptions = { now: new Date('2026-01-01T00:00:00Z') }
 * const token = signer.sign('user-42', options)
 * ```
 */
export interface ItsdangerousSignOptions {
  /** The signing time: a Date or milliseconds since the epoch. Defaults to the factory's clock. Stored in whole seconds. */
  now?: Date | number
}

/**
 * Options of `verify` and `unsign`.
 *
 * @example
 * ```ts
 * const options: ItsdangerousVerifyOptions = { maxAge: 3600 } // Python: unsign(token, max_age=3600)
 * const result = signer.verify(token, options)
 * ```
 */
export interface ItsdangerousVerifyOptions {
  /** Reject timestamped tokens older than this many seconds (`max_age`; at most 400 days). Omitted: no age limit. */
  maxAge?: number
  /** The verification time: a Date or milliseconds since the epoch. Defaults to the factory's clock. */
  now?: Date | number
}

/**
 * Signs and verifies strings the way itsdangerous's `Signer` / `TimestampSigner` do.
 *
 * @example
 * ```ts
 * const signer: ItsdangerousSigner = createItsdangerousSigner({ secrets: 'secret' })
 * signer.unsign(signer.sign('hello')) // 'hello'
 * ```
 */
export interface ItsdangerousSigner {
  /** Signs a string, or bytes that are UTF-8 text. Throws `TypeError` for a value that cannot be a token. */
  sign(value: string | Uint8Array, options?: ItsdangerousSignOptions): string
  /**
   * Verifies a token; never throws for a bad token. `issuedAt` is the token's timestamp, absent
   * for an untimed signer (untimed tokens carry no time); `keyId` is always absent (itsdangerous
   * tokens name no key).
   */
  verify(token: string, options?: ItsdangerousVerifyOptions): VerifyResult<string>
  /** Like `verify`, but returns the value or throws the {@link SessionError}. */
  unsign(token: string, options?: ItsdangerousVerifyOptions): string
}

/**
 * The text serializer below the signature, like the `serializer` argument of itsdangerous.
 *
 * @example
 * ```ts
 * const json: ItsdangerousTextSerializer = { dumps: (value) => JSON.stringify(value), loads: (text) => JSON.parse(text) }
 * const serializer = createItsdangerousSerializer({ secrets: 'secret', serializer: json })
 * ```
 */
export interface ItsdangerousTextSerializer {
  /**
   * Turns a value into text; throws `TypeError` for values it cannot represent. `path`, when
   * given, is the value's name for error messages (`value at session.cart[0] is invalid: …`).
   */
  dumps(value: unknown, path?: string): string
  /** Turns text back into a value; throws (preferably a {@link SessionError}) for bad text. */
  loads(text: string): unknown
}

/**
 * Options of {@link createItsdangerousSerializer}.
 *
 * @example
 * ```ts
 * const options: ItsdangerousSerializerOptions = { secrets: 'secret', salt: 'reset', timestamped: true, compress: false }
 * const serializer = createItsdangerousSerializer<{ id: number }>(options)
 * ```
 */
export interface ItsdangerousSerializerOptions extends ItsdangerousSignerOptions {
  /** Default `'itsdangerous'`, the salt of itsdangerous's serializers. */
  salt?: string | Uint8Array
  /** The payload serializer. Default: JSON exactly as itsdangerous's `_CompactJSON` writes it. */
  serializer?: ItsdangerousTextSerializer
  /**
   * Compress with zlib when that makes the payload shorter (the itsdangerous rule: compressed
   * length < length − 1). `true` (the default) tries on every payload, as itsdangerous does;
   * `{ threshold }` only from that many UTF-8 bytes on; `false` never.
   */
  compress?: CompressOption
  /** Largest payload accepted, in bytes after decompression. Default 131072. */
  maxBytes?: number
}

/**
 * Signs and verifies values the way itsdangerous's `URLSafeSerializer` / `URLSafeTimedSerializer` do.
 *
 * @example
 * ```ts
 * const reset: ItsdangerousSerializer<{ id: number }> = createItsdangerousSerializer({ secrets: 'secret', salt: 'reset' })
 * const result = reset.verify(reset.sign({ id: 5 }))
 * if (result.ok) result.value.id // 5
 * ```
 */
export interface ItsdangerousSerializer<T = unknown> {
  /**
   * Serializes, compresses if that helps, and signs (itsdangerous's `dumps`). Throws `TypeError`
   * for values that cannot be serialized, naming where they are.
   */
  sign(value: T, options?: ItsdangerousSignOptions): string
  /** Verifies and deserializes (`loads`); never throws for a bad token. The value is not validated against `T`. */
  verify(token: string, options?: ItsdangerousVerifyOptions): VerifyResult<T>
  /** Like `verify`, but returns the value or throws the {@link SessionError}. */
  unsign(token: string, options?: ItsdangerousVerifyOptions): T
}

const DIGEST_BYTES: Record<ItsdangerousDigest, number> = { sha1: 20, sha256: 32, sha512: 64 }
const KEY_DERIVATIONS: readonly string[] = ['django-concat', 'concat', 'hmac', 'none']
const DEFAULT_MAX_TOKEN_LENGTH = 65_536
// itsdangerous's separator must not occur in base64url signatures, nor be '=' (its padding).
const SEPARATOR_FORBIDDEN = /[A-Za-z0-9_=-]/
// int_to_bytes packs the timestamp as a big-endian unsigned 64-bit integer without leading zeros.
const MAX_TIMESTAMP_BYTES = 8
// The last second a JavaScript Date can represent (ECMA-262 §21.4.1.1: ±8.64e15 ms).
const MAX_DATE_SECONDS = 8.64e12

interface Core {
  readonly keys: readonly Buffer[]
  readonly digest: ItsdangerousDigest
  readonly separator: string
  readonly timestamped: boolean
  readonly clockTolerance: number
  readonly maxTokenLength: number
  readonly signatureLength: number
  readonly clock: Clock
}

interface Opened {
  value: string
  /** Seconds since the epoch; undefined for an untimed token. */
  issuedAt: number | undefined
  expiresAt: number | undefined
  keyIndex: number
}

function invalid(name: string, why: string): TypeError {
  return new TypeError(`option ${name} is invalid: ${why}`)
}

function toBytes(value: string | Uint8Array, name: string): Buffer {
  if (typeof value === 'string') {
    if (!value.isWellFormed()) throw invalid(name, 'the string contains a lone surrogate, which UTF-8 cannot encode')
    return Buffer.from(value, 'utf8')
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  throw invalid(name, 'give a string or a Uint8Array')
}

function secretList(secrets: unknown): Buffer[] {
  if (secrets === undefined) throw new TypeError('option secrets is missing: give the secret key (string or bytes), or a list of them, newest first')
  const list = typeof secrets === 'string' || secrets instanceof Uint8Array ? [secrets] : secrets
  if (!Array.isArray(list) || list.length === 0) {
    throw invalid('secrets', 'give a secret (string or Uint8Array) or a non-empty list of them, newest first')
  }
  return list.map((secret: unknown, index: number) => {
    const name = list === secrets ? `secrets[${index}]` : 'secrets'
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) throw invalid(name, 'give a string or a Uint8Array')
    if (typeof secret === 'string' && !secret.isWellFormed()) throw invalid(name, 'the string contains a lone surrogate, which UTF-8 cannot encode')
    if (secret.length === 0) throw invalid(name, 'an empty secret signs nothing; give the application secret key')
    // A copy of its own, outside Node's shared Buffer pool: the caller may reuse or zero theirs,
    // and a pooled slab is visible through any other small Buffer's `.buffer`.
    return copyUnpooled(secret)
  })
}

/**
 * The signing key of a secret. Takes ownership of `secret` (a copy from secretList): zeroed once a
 * key is derived from it, kept as the key itself for `'none'`. Digests have memory of their own,
 * outside the shared Buffer pool.
 */
function deriveKey(secret: Buffer, salt: Buffer, digest: ItsdangerousDigest, derivation: ItsdangerousKeyDerivation): Buffer {
  if (derivation === 'none') return secret
  const key =
    derivation === 'concat'
      ? createHash(digest).update(salt).update(secret).digest()
      : derivation === 'django-concat'
        ? createHash(digest).update(salt).update('signer').update(secret).digest()
        : createHmac(digest, secret).update(salt).digest()
  secret.fill(0)
  return key
}

function assertLimit(value: unknown, name: string, minimum: number): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) < minimum) throw invalid(name, `give a whole number, at least ${minimum}`)
}

function nowMilliseconds(now: Date | number | undefined, clock: Clock): number {
  const ms = now === undefined ? clock() : now instanceof Date ? now.getTime() : now
  if (!Number.isFinite(ms)) {
    throw invalid(now === undefined ? 'clock' : 'now', 'give a valid Date or milliseconds since the epoch')
  }
  return ms
}

const SIGNER_KEYS = ['secrets', 'salt', 'digest', 'keyDerivation', 'separator', 'timestamped', 'clockTolerance', 'maxTokenLength', 'clock']
const SIGNER_OPTION_KEYS = new Set(SIGNER_KEYS)
const SERIALIZER_OPTION_KEYS = new Set([...SIGNER_KEYS, 'serializer', 'compress', 'maxBytes'])
const SIGN_KEYS = new Set(['now'])
// itsdangerous tokens carry no expiry, so Frasco's hints towards `expiresIn` do not apply here.
const NO_EXPIRY = 'itsdangerous tokens carry no expiry: give verify(token, { maxAge }) an age limit instead'
const ITSDANGEROUS_SIGN_HINTS: Readonly<Record<string, string>> = {
  ...SIGN_HINTS,
  expiresIn: NO_EXPIRY,
  maxAge: NO_EXPIRY,
  ttl: NO_EXPIRY,
}
const VERIFY_KEYS = new Set(['maxAge', 'now'])
// itsdangerous's own names, for Python users.
const PYTHON_NAMES: Readonly<Record<string, string>> = {
  ...TOKEN_HINTS,
  expiresIn: NO_EXPIRY,
  ttl: NO_EXPIRY,
  password: 'did you mean `secrets`? (newest first)',
  maxAge: 'give `maxAge` (seconds) to verify(token, { maxAge }), not to the factory',
  secret_key: 'did you mean `secrets`? (newest first)',
  digest_method: 'did you mean `digest`?',
  key_derivation: 'did you mean `keyDerivation`?',
  sep: 'did you mean `separator`?',
  max_age: 'did you mean `maxAge`? (give it to verify)',
  compressThreshold: 'use `compress: { threshold }` (bytes), or `compress: false`',
}

function createCore(options: ItsdangerousSignerOptions, keys: ReadonlySet<string>, defaultSalt: string, factory: string): Core {
  requiredOptions(options, keys, factory, '{ secrets }', PYTHON_NAMES)
  const secrets = secretList(options.secrets)
  const salt = toBytes(options.salt ?? defaultSalt, 'salt')
  const digest = options.digest ?? 'sha1'
  if (!Object.hasOwn(DIGEST_BYTES, digest)) throw invalid('digest', "give 'sha1', 'sha256' or 'sha512'")
  const derivation = options.keyDerivation ?? 'django-concat'
  if (!KEY_DERIVATIONS.includes(derivation)) throw invalid('keyDerivation', "give 'django-concat', 'concat', 'hmac' or 'none'")
  const separator = options.separator ?? '.'
  if (typeof separator !== 'string' || separator.length === 0 || SEPARATOR_FORBIDDEN.test(separator) || !separator.isWellFormed()) {
    throw invalid('separator', 'give a non-empty string without ASCII letters, digits, "-", "_" or "="')
  }
  const timestamped = options.timestamped ?? false
  if (typeof timestamped !== 'boolean') throw invalid('timestamped', 'give true or false')
  const clockTolerance = options.clockTolerance === undefined ? 0 : lifetimeOption(options.clockTolerance, 'clockTolerance', true)
  const maxTokenLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH
  assertLimit(maxTokenLength, 'maxTokenLength', 64)
  return {
    // Derived once here: verifying tries each key, and the derivation costs as much as the MAC.
    keys: secrets.map((secret) => deriveKey(secret, salt, digest, derivation)),
    digest,
    separator,
    timestamped,
    clockTolerance,
    maxTokenLength,
    signatureLength: Math.ceil((DIGEST_BYTES[digest] * 4) / 3),
    clock: clockOption(options.clock),
  }
}

// Scratch space for encodeTimestamp; encoding is synchronous, so one buffer serves every call.
const TIMESTAMP_BYTES = Buffer.alloc(MAX_TIMESTAMP_BYTES)

function encodeTimestamp(seconds: number): string {
  // itsdangerous int_to_bytes: big-endian, leading zero bytes stripped (so 0 is the empty string).
  // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: equivalent, a fast path: the loop below writes the same bytes (test/mutation-equivalents.md)
  if (seconds <= Number.MAX_SAFE_INTEGER) {
    TIMESTAMP_BYTES.writeUInt32BE(Math.floor(seconds / 0x1_0000_0000), 0)
    TIMESTAMP_BYTES.writeUInt32BE(seconds % 0x1_0000_0000, 4)
    let first = 0
    // Stryker disable next-line EqualityOperator,ConditionalExpression: equivalent, TIMESTAMP_BYTES[8] is undefined, not 0 (test/mutation-equivalents.md)
    while (first < MAX_TIMESTAMP_BYTES && TIMESTAMP_BYTES[first] === 0) first++
    return TIMESTAMP_BYTES.toString('base64url', first)
  }
  // Beyond 2^53 (far past any Date): the general form, which readers refuse past 8 bytes.
  const bytes: number[] = []
  for (let rest = seconds; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
  return encodeBase64url(Uint8Array.from(bytes))
}

function decodeTimestamp(text: string): number | undefined {
  const bytes = decodeBase64url(text)
  // Canonical only: itsdangerous strips leading zero bytes, so a token with one was not written by it.
  if (bytes === undefined || bytes[0] === 0) return undefined
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, the range check below refuses 7 bytes and more alike (test/mutation-equivalents.md)
  if (bytes.length > MAX_TIMESTAMP_BYTES) return undefined
  let seconds = 0
  for (const byte of bytes) seconds = seconds * 256 + byte
  return seconds <= MAX_DATE_SECONDS ? seconds : undefined
}

function signToken(core: Core, value: string, options: ItsdangerousSignOptions | undefined): string {
  let signed = value
  const { now } = strictOptions(options, SIGN_KEYS, 'sign', ITSDANGEROUS_SIGN_HINTS)
  if (core.timestamped) {
    const ms = nowMilliseconds(now, core.clock)
    if (ms < 0) throw invalid('now', 'itsdangerous timestamps cannot be before 1970')
    signed += core.separator + encodeTimestamp(Math.floor(ms / 1000))
  }
  // The newest key is first; the key list is never empty.
  return signed + core.separator + createHmac(core.digest, core.keys[0] as Buffer).update(signed, 'utf8').digest('base64url')
}

function openToken(core: Core, token: unknown, options: ItsdangerousVerifyOptions | undefined): Opened {
  const checked = strictOptions(options, VERIFY_KEYS, 'verify', VERIFY_HINTS)
  const maxAge = checked.maxAge === undefined ? undefined : lifetimeOption(checked.maxAge, 'maxAge', true)
  const nowMs = nowMilliseconds(checked.now, core.clock)

  if (typeof token !== 'string') throw new PayloadMalformed('token is not a string')
  if (token.length > core.maxTokenLength) throw new PayloadTooLarge(token.length, core.maxTokenLength)
  const cut = token.lastIndexOf(core.separator)
  if (cut < 0) throw new PayloadMalformed('token has no separator')
  const signed = token.slice(0, cut)
  const signature = token.slice(cut + core.separator.length)
  // Compared as text, in full: only the canonical encoding of the right MAC can match.
  if (signature.length !== core.signatureLength) throw new SignatureInvalid()
  if (!signed.isWellFormed()) throw new PayloadMalformed('token is not valid text')
  const keyIndex = core.keys.findIndex((key) =>
    constantTimeEqual(createHmac(core.digest, key).update(signed, 'utf8').digest('base64url'), signature),
  )
  if (keyIndex < 0) throw new SignatureInvalid()

  if (!core.timestamped) return { value: signed, issuedAt: undefined, expiresAt: undefined, keyIndex }

  const split = signed.lastIndexOf(core.separator)
  if (split < 0) throw new PayloadMalformed('token has no timestamp')
  const issued = decodeTimestamp(signed.slice(split + core.separator.length))
  if (issued === undefined) throw new PayloadMalformed('token timestamp is malformed')
  // itsdangerous compares whole seconds: age = int(time.time()) - timestamp.
  const age = Math.floor(nowMs / 1000) - issued
  if (age < -core.clockTolerance) throw new NotYetValid(new Date(issued * 1000))
  let expiresAt: number | undefined
  if (maxAge !== undefined) {
    expiresAt = issued + maxAge
    if (age > maxAge + core.clockTolerance) throw new SessionExpired(new Date(expiresAt * 1000))
  }
  return { value: signed.slice(0, split), issuedAt: issued, expiresAt, keyIndex }
}

function settle<T>(open: () => Opened, read: (value: string) => T): VerifyResult<T> {
  let opened: Opened
  let value: T
  try {
    opened = open()
    value = read(opened.value)
  } catch (error) {
    if (error instanceof SessionError) return { ok: false, error }
    throw error
  }
  return verified({ issuedAt: opened.issuedAt, expiresAt: opened.expiresAt, keyId: undefined, stale: opened.keyIndex > 0 }, value)
}

/**
 * Creates a signer compatible with itsdangerous's `Signer` (or `TimestampSigner` with
 * `timestamped: true`). A verified token reports no key id (itsdangerous tokens name none);
 * `stale` is true when a secret other than the newest matched.
 *
 * @example
 * ```ts
 * // Python: TimestampSigner('secret', salt='activate').sign('user-42')
 * const signer = createItsdangerousSigner({ secrets: 'secret', salt: 'activate', timestamped: true })
 * const token = signer.sign('user-42')
 * const result = signer.verify(token, { maxAge: 3600 })
 * if (result.ok) console.log(result.value, result.issuedAt)
 * ```
 */
export function createItsdangerousSigner(options: ItsdangerousSignerOptions): ItsdangerousSigner {
  const core = createCore(options, SIGNER_OPTION_KEYS, 'itsdangerous.Signer', 'createItsdangerousSigner')
  const verify = (token: string, verifyOptions?: ItsdangerousVerifyOptions): VerifyResult<string> =>
    settle(() => openToken(core, token, verifyOptions), (value) => value)
  return {
    sign(value, signOptions) {
      let text: string | undefined
      if (typeof value === 'string') {
        if (!value.isWellFormed()) throw new TypeError('value is invalid: the string contains a lone surrogate, which UTF-8 cannot encode')
        text = value
      } else if (value instanceof Uint8Array) {
        text = decodeUtf8(value)
        if (text === undefined) throw new TypeError('value is invalid: the bytes are not UTF-8 text, so they cannot be part of a string token')
      } else {
        throw new TypeError('value is invalid: give a string or a Uint8Array')
      }
      return signToken(core, text, signOptions)
    },
    verify,
    unsign(token, verifyOptions) {
      const result = verify(token, verifyOptions)
      if (!result.ok) throw result.error
      return result.value
    },
  }
}

/**
 * Creates a serializer compatible with itsdangerous's `URLSafeSerializer` (or
 * `URLSafeTimedSerializer` with `timestamped: true`): compact JSON, zlib-compressed when that is
 * shorter, base64url, signed. Values map to Python as described at {@link encodePythonJson}.
 *
 * Compression uses Node's zlib, whose deflate output differs from CPython's at the byte level;
 * both inflate each other's data, so tokens interoperate but compressed tokens are not
 * byte-identical to Python's.
 *
 * @example
 * ```ts
 * // Python: URLSafeTimedSerializer('secret', salt='reset').dumps({'id': 5})
 * const serializer = createItsdangerousSerializer({ secrets: 'secret', salt: 'reset', timestamped: true })
 * const token = serializer.sign({ id: 5 })
 * const result = serializer.verify(token, { maxAge: 600 })
 * ```
 */
export function createItsdangerousSerializer<T = unknown>(options: ItsdangerousSerializerOptions): ItsdangerousSerializer<T> {
  return itsdangerousSerializer(options, 'value')
}

/**
 * {@link createItsdangerousSerializer}, naming the value `path` in the TypeError for something
 * that cannot be stored (the Flask codec says `session`).
 *
 * @internal
 */
export function itsdangerousSerializer<T = unknown>(options: ItsdangerousSerializerOptions, path: string, factory = 'createItsdangerousSerializer'): ItsdangerousSerializer<T> {
  const core = createCore(options, SERIALIZER_OPTION_KEYS, 'itsdangerous', factory)
  const serializer = options.serializer ?? COMPACT_JSON
  if (typeof serializer.dumps !== 'function' || typeof serializer.loads !== 'function') {
    throw invalid('serializer', 'give an object with dumps(value): string and loads(text): unknown')
  }
  // itsdangerous tries zlib on every payload: the default threshold is 0.
  const threshold = compressOption(options.compress, 0)
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
  assertLimit(maxBytes, 'maxBytes', 1)

  const read = (payload: string): T => {
    // URLSafeSerializerMixin marks a compressed payload with a leading '.', whatever the separator.
    const compressed = payload.startsWith('.')
    const bytes = decodeBase64url(compressed ? payload.slice(1) : payload)
    if (bytes === undefined) throw new PayloadMalformed('payload is not canonical base64url')
    let data: Buffer
    if (compressed) {
      try {
        data = inflateSync(bytes, { maxOutputLength: maxBytes })
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw new DecompressionTooLarge(maxBytes)
        throw new PayloadMalformed('payload is not valid zlib data')
      }
    } else {
      if (bytes.length > maxBytes) throw new PayloadTooLarge(bytes.length, maxBytes)
      data = bytes
    }
    const text = decodeUtf8(data)
    if (text === undefined) throw new PayloadMalformed('payload is not valid UTF-8')
    try {
      return serializer.loads(text) as T
    } catch (error) {
      if (error instanceof SessionError) throw error
      // No `cause`: a custom serializer's error may quote the payload (JSON.parse's SyntaxError
      // does), and SessionErrors reach logs; they carry diagnostics only.
      throw new PayloadMalformed('payload could not be deserialized')
    }
  }

  return {
    sign(value, signOptions) {
      const text = serializer.dumps(value, path)
      if (typeof text !== 'string' || !text.isWellFormed()) {
        throw new TypeError('value is invalid: the serializer must return well-formed text (no lone surrogates)')
      }
      const json = Buffer.from(text, 'utf8')
      if (json.length > maxBytes) {
        throw new RangeError(`value is invalid: its payload of ${json.length} bytes exceeds maxBytes (${maxBytes}), so verify would reject it`)
      }
      let payload: string | undefined
      if (json.length >= threshold) {
        const deflated = deflateSync(json)
        // The itsdangerous rule: compress only when it saves more than the one-character marker.
        if (deflated.length < json.length - 1) payload = '.' + encodeBase64url(deflated)
      }
      payload ??= encodeBase64url(json)
      const token = signToken(core, payload, signOptions)
      if (token.length > core.maxTokenLength) {
        throw new RangeError(`value is invalid: the token of ${token.length} characters exceeds maxTokenLength (${core.maxTokenLength})`)
      }
      return token
    },
    verify(token, verifyOptions) {
      return settle(() => openToken(core, token, verifyOptions), read)
    },
    unsign(token, verifyOptions) {
      const result = settle(() => openToken(core, token, verifyOptions), read)
      if (!result.ok) throw result.error
      return result.value
    },
  }
}

// itsdangerous's _CompactJSON: json.dumps(obj, ensure_ascii=False, separators=(',', ':')).
const COMPACT_JSON: ItsdangerousTextSerializer = {
  // Stryker disable next-line ObjectLiteral: equivalent, path only names the value in an error: 'value' is the default, and a Flask-WTF token always encodes (test/mutation-equivalents.md)
  dumps: (value, path) => encodePythonJson(value, path === undefined ? {} : { path }),
  loads: (text) => decodePythonJson(text),
}
