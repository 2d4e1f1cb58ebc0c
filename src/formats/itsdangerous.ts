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
import type { VerifyResult } from '../signer.js'

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
}

/**
 * Options of `sign` and `dumps`.
 *
 * @example
 * ```ts
 * const options: ItsdangerousSignOptions = { now: new Date('2026-01-01T00:00:00Z') }
 * const token = signer.sign('user-42', options)
 * ```
 */
export interface ItsdangerousSignOptions {
  /** The signing time: a Date or milliseconds since the epoch. Defaults to now. Stored in whole seconds. */
  now?: Date | number
}

/**
 * Options of `verify`, `unsign` and `loads`.
 *
 * @example
 * ```ts
 * const options: ItsdangerousVerifyOptions = { maxAge: 3600 } // Python: unsign(token, max_age=3600)
 * const result = signer.verify(token, options)
 * ```
 */
export interface ItsdangerousVerifyOptions {
  /** Reject timestamped tokens older than this many seconds (`max_age`). `Infinity` for no limit. */
  maxAge?: number
  /** The verification time: a Date or milliseconds since the epoch. Defaults to now. */
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
   * Verifies a token; never throws for a bad token. `issuedAt` is the token's timestamp, or an
   * Invalid Date (NaN) for an untimed signer: untimed tokens carry no time.
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
 * const options: ItsdangerousSerializerOptions = { secrets: 'secret', salt: 'reset', timestamped: true, compressThreshold: false }
 * const serializer = createItsdangerousSerializer<{ id: number }>(options)
 * ```
 */
export interface ItsdangerousSerializerOptions extends ItsdangerousSignerOptions {
  /** Default `'itsdangerous'`, the salt of itsdangerous's serializers. */
  salt?: string | Uint8Array
  /** The payload serializer. Default: JSON exactly as itsdangerous's `_CompactJSON` writes it. */
  serializer?: ItsdangerousTextSerializer
  /**
   * Payloads of at least this many UTF-8 bytes are compressed when that makes them shorter (the
   * itsdangerous rule: compressed length < length − 1). `false` never compresses. Default 0:
   * always try, as itsdangerous does.
   */
  compressThreshold?: number | false
  /** Largest payload accepted, in bytes after decompression. Default 131072. */
  maxBytes?: number
}

/**
 * Dumps and loads values the way itsdangerous's `URLSafeSerializer` / `URLSafeTimedSerializer` do.
 *
 * @example
 * ```ts
 * const reset: ItsdangerousSerializer<{ id: number }> = createItsdangerousSerializer({ secrets: 'secret', salt: 'reset' })
 * const result = reset.loads(reset.dumps({ id: 5 }))
 * if (result.ok) result.value.id // 5
 * ```
 */
export interface ItsdangerousSerializer<T = unknown> {
  /**
   * Serializes, compresses if that helps, and signs. Throws `TypeError` for values that cannot be
   * serialized, naming where they are under `options.path` (default `'value'`).
   */
  dumps(value: T, options?: ItsdangerousSignOptions & { path?: string }): string
  /** Verifies and deserializes; never throws for a bad token. The value is not validated against `T`. */
  loads(token: string, options?: ItsdangerousVerifyOptions): VerifyResult<T>
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
}

interface Opened {
  value: string
  issuedAt: Date
  expiresAt: Date | undefined
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
  const list = typeof secrets === 'string' || secrets instanceof Uint8Array ? [secrets] : secrets
  if (!Array.isArray(list) || list.length === 0) {
    throw invalid('secrets', 'give a secret (string or Uint8Array) or a non-empty list of them, newest first')
  }
  return list.map((secret: unknown, index: number) => {
    const name = list === secrets ? `secrets[${index}]` : 'secrets'
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) throw invalid(name, 'give a string or a Uint8Array')
    const bytes = toBytes(secret, name)
    if (bytes.length === 0) throw invalid(name, 'an empty secret signs nothing; give the application secret key')
    // Copy: the caller may reuse or zero their buffer later.
    return Buffer.from(bytes)
  })
}

function deriveKey(secret: Buffer, salt: Buffer, digest: ItsdangerousDigest, derivation: ItsdangerousKeyDerivation): Buffer {
  switch (derivation) {
    case 'concat':
      return createHash(digest).update(salt).update(secret).digest()
    case 'django-concat':
      return createHash(digest).update(salt).update('signer').update(secret).digest()
    case 'hmac':
      return createHmac(digest, secret).update(salt).digest()
    case 'none':
      return secret
  }
}

function assertSeconds(value: unknown, name: string, allowInfinity: boolean): asserts value is number {
  const ok = typeof value === 'number' && value >= 0 && (Number.isFinite(value) || (allowInfinity && value === Infinity))
  if (!ok) throw invalid(name, `give a number of seconds, 0 or more${allowInfinity ? ' (Infinity for no limit)' : ''}`)
}

function assertLimit(value: unknown, name: string, minimum: number): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) < minimum) throw invalid(name, `give a whole number, at least ${minimum}`)
}

function nowMilliseconds(now: Date | number | undefined): number {
  if (now === undefined) return Date.now()
  const ms = now instanceof Date ? now.getTime() : now
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw invalid('now', 'give a valid Date or milliseconds since the epoch')
  return ms
}

function createCore(options: ItsdangerousSignerOptions, defaultSalt: string, factory: string): Core {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${factory} needs an options object: ${factory}({ secrets })`)
  }
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
  const clockTolerance = options.clockTolerance ?? 0
  assertSeconds(clockTolerance, 'clockTolerance', false)
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
  }
}

// Scratch space for encodeTimestamp; encoding is synchronous, so one buffer serves every call.
const TIMESTAMP_BYTES = Buffer.alloc(MAX_TIMESTAMP_BYTES)

function encodeTimestamp(seconds: number): string {
  // itsdangerous int_to_bytes: big-endian, leading zero bytes stripped (so 0 is the empty string).
  if (seconds <= Number.MAX_SAFE_INTEGER) {
    TIMESTAMP_BYTES.writeUInt32BE(Math.floor(seconds / 0x1_0000_0000), 0)
    TIMESTAMP_BYTES.writeUInt32BE(seconds % 0x1_0000_0000, 4)
    let first = 0
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
  if (bytes === undefined || bytes.length > MAX_TIMESTAMP_BYTES || bytes[0] === 0) return undefined
  let seconds = 0
  for (const byte of bytes) seconds = seconds * 256 + byte
  return seconds <= MAX_DATE_SECONDS ? seconds : undefined
}

function signToken(core: Core, value: string, options: ItsdangerousSignOptions | undefined): string {
  let signed = value
  if (core.timestamped) {
    const ms = nowMilliseconds(options?.now)
    if (ms < 0) throw invalid('now', 'itsdangerous timestamps cannot be before 1970')
    signed += core.separator + encodeTimestamp(Math.floor(ms / 1000))
  }
  // The newest key is first; the key list is never empty.
  return signed + core.separator + createHmac(core.digest, core.keys[0] as Buffer).update(signed, 'utf8').digest('base64url')
}

function openToken(core: Core, token: unknown, options: ItsdangerousVerifyOptions | undefined): Opened {
  const maxAge = options?.maxAge
  if (maxAge !== undefined) assertSeconds(maxAge, 'maxAge', true)
  const nowMs = nowMilliseconds(options?.now)

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

  if (!core.timestamped) return { value: signed, issuedAt: new Date(Number.NaN), expiresAt: undefined, keyIndex }

  const split = signed.lastIndexOf(core.separator)
  if (split < 0) throw new PayloadMalformed('token has no timestamp')
  const issued = decodeTimestamp(signed.slice(split + core.separator.length))
  if (issued === undefined) throw new PayloadMalformed('token timestamp is malformed')
  const issuedAt = new Date(issued * 1000)
  // itsdangerous compares whole seconds: age = int(time.time()) - timestamp.
  const age = Math.floor(nowMs / 1000) - issued
  if (age < -core.clockTolerance) throw new NotYetValid(issuedAt)
  let expiresAt: Date | undefined
  if (maxAge !== undefined && maxAge !== Infinity) {
    expiresAt = new Date((issued + maxAge) * 1000)
    if (age > maxAge + core.clockTolerance) throw new SessionExpired(expiresAt)
  }
  return { value: signed.slice(0, split), issuedAt, expiresAt, keyIndex }
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
  return {
    ok: true,
    value,
    issuedAt: opened.issuedAt,
    expiresAt: opened.expiresAt,
    keyId: String(opened.keyIndex),
    stale: opened.keyIndex > 0,
  }
}

/**
 * Creates a signer compatible with itsdangerous's `Signer` (or `TimestampSigner` with
 * `timestamped: true`). The key id of a verified token is the index of the secret that matched
 * (`'0'` for the newest); `stale` is true for any older secret.
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
  const core = createCore(options, 'itsdangerous.Signer', 'createItsdangerousSigner')
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
 * const token = serializer.dumps({ id: 5 })
 * const result = serializer.loads(token, { maxAge: 600 })
 * ```
 */
export function createItsdangerousSerializer<T = unknown>(options: ItsdangerousSerializerOptions): ItsdangerousSerializer<T> {
  const core = createCore(options, 'itsdangerous', 'createItsdangerousSerializer')
  const serializer = options.serializer ?? COMPACT_JSON
  if (typeof serializer?.dumps !== 'function' || typeof serializer.loads !== 'function') {
    throw invalid('serializer', 'give an object with dumps(value): string and loads(text): unknown')
  }
  const threshold = options.compressThreshold ?? 0
  if (threshold !== false) assertLimit(threshold, 'compressThreshold', 0)
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
    dumps(value, signOptions) {
      const path = signOptions?.path
      const text = path === undefined ? serializer.dumps(value) : serializer.dumps(value, path)
      if (typeof text !== 'string' || !text.isWellFormed()) {
        throw new TypeError('value is invalid: the serializer must return well-formed text (no lone surrogates)')
      }
      const json = Buffer.from(text, 'utf8')
      if (json.length > maxBytes) {
        throw new RangeError(`value is invalid: its payload of ${json.length} bytes exceeds maxBytes (${maxBytes}), so loads would reject it`)
      }
      let payload: string | undefined
      if (threshold !== false && json.length >= threshold) {
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
    loads(token, verifyOptions) {
      return settle(() => openToken(core, token, verifyOptions), read)
    },
  }
}

// ---------------------------------------------------------------------------------------------
// JSON as Python's json module writes and reads it.

/**
 * A value put in place of another by an {@link PythonJsonEncodeOptions.tag} hook: written as `{"key": inner}`.
 *
 * @example
 * ```ts
 * const tag = (value: unknown): PythonJsonTagged | undefined => (value instanceof Date ? { key: ' d', inner: value.getTime() } : undefined)
 * encodePythonJson({ at: new Date(0) }, { tag }) // '{"at":{" d":0}}'
 * ```
 */
export interface PythonJsonTagged {
  readonly key: string
  /** Written with the same rules (and the same hook) as any other value. */
  readonly inner: unknown
}

/**
 * Options of {@link encodePythonJson}.
 *
 * @example
 * ```ts
 * const options: PythonJsonEncodeOptions = { sortKeys: true, ensureAscii: true }
 * encodePythonJson({ b: 1, a: 'é' }, options) // '{"a":"\\u00e9","b":1}'
 * ```
 */
export interface PythonJsonEncodeOptions {
  /** Escape every non-ASCII character as `\uXXXX` (Python's `ensure_ascii`). Default `false`. */
  ensureAscii?: boolean
  /** Write object keys in code point order (Python's `sort_keys`). Default `false`: insertion order. */
  sortKeys?: boolean
  /**
   * Called on every value before it is written. Return `undefined` to write the value as usual, or
   * `{ key, inner }` to write `{"key": inner}` instead (how Flask's tagged JSON works). A
   * `TypeError` it throws is reported with the value's path, its message as the reason.
   */
  tag?: (value: unknown) => PythonJsonTagged | undefined
  /** The name of the value in error messages (`value at session.cart[0] is invalid: …`). Default `'value'`. */
  path?: string
}

/**
 * Options of {@link decodePythonJson}.
 *
 * @example
 * ```ts
 * const options: PythonJsonDecodeOptions = { objectHook: (object) => ('$date' in object ? new Date(Number(object.$date)) : object) }
 * decodePythonJson('{"at":{"$date":0}}', options) // { at: 1970-01-01T00:00:00.000Z }
 * ```
 */
export interface PythonJsonDecodeOptions {
  /**
   * Called on every object once its members are decoded, innermost first, in document order
   * (Python's `object_hook`). One difference, for text with repeated keys only (no JSON encoder
   * writes them): an object that a repeated key replaced (`{"a":{…},"a":1}`) is not passed to it,
   * and the order of calls then follows the kept values; Python passes every object in text order.
   */
  objectHook?: (object: Record<string, unknown>) => unknown
}

/** Deeper nesting is refused when writing and reading (CPython gives up near 1000). */
const MAX_DEPTH = 512

// Python's json escapes '"', '\\' and C0 controls; with ensure_ascii also everything above '~'.
const ESCAPE_UTF8 = /["\\\u0000-\u001f]/
const ESCAPE_ASCII = /["\\\u0000-\u001f\u007f-\uffff]/
const ESCAPE_UTF8_ALL = /["\\\u0000-\u001f]/g
const ESCAPE_ASCII_ALL = /["\\\u0000-\u001f\u007f-\uffff]/g
const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escapeUnit(unit: string): string {
  return SHORT_ESCAPES[unit] ?? '\\u' + unit.charCodeAt(0).toString(16).padStart(4, '0')
}

function writeString(text: string, ensureAscii: boolean): string {
  if (ensureAscii) return ESCAPE_ASCII.test(text) ? `"${text.replace(ESCAPE_ASCII_ALL, escapeUnit)}"` : `"${text}"`
  return ESCAPE_UTF8.test(text) ? `"${text.replace(ESCAPE_UTF8_ALL, escapeUnit)}"` : `"${text}"`
}

/** `repr(float)` of CPython: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
function pythonFloat(value: number): string {
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e')
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  const exponent = Number(exponentText)
  const sign = negative ? '-' : ''
  if (exponent < -4 || exponent >= 16) {
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    return `${sign}${head}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0')
  return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`
}

function writeNumber(value: number): string {
  if (Number.isSafeInteger(value)) return String(value) // an int (and -0 becomes 0)
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return 'Infinity'
  if (value === -Infinity) return '-Infinity'
  return pythonFloat(value)
}

/** Code point order, as Python sorts str (JavaScript's `<` compares UTF-16 code units). */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      if (x < 0xd800 && y < 0xd800) return x - y
      return (a.codePointAt(i) as number) - (b.codePointAt(i) as number)
    }
  }
  return a.length - b.length
}

/** A plain or null-prototype object: what both Python JSON codecs accept as a dict. @internal */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === null || prototype === Object.prototype
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object'
}

// Thrown inside the writer and turned into a TypeError at the top: each container adds its key or
// index while the stack unwinds, so the path costs nothing until something is refused.
class Rejection {
  readonly segments: Array<string | number> = []
  constructor(readonly reason: string) {}
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function describeRejection(rejection: Rejection, root: string): string {
  if (rejection.segments.length === 0) return `${root} is invalid: ${rejection.reason}`
  let path = root
  for (const segment of rejection.segments.reverse()) {
    if (typeof segment === 'number') path += `[${segment}]`
    else path += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`
  }
  return `value at ${path} is invalid: ${rejection.reason}`
}

class PythonJsonWriter {
  readonly #ensureAscii: boolean
  readonly #sortKeys: boolean
  readonly #tag: ((value: unknown) => PythonJsonTagged | undefined) | undefined
  readonly #path = new Set<object>()

  constructor(options: PythonJsonEncodeOptions) {
    this.#ensureAscii = options.ensureAscii ?? false
    this.#sortKeys = options.sortKeys ?? false
    this.#tag = options.tag
  }

  write(value: unknown, depth: number): string {
    const tagged = this.#tagOf(value)
    if (tagged !== undefined) {
      return `{${writeString(tagged.key, this.#ensureAscii)}:${this.#enter(value, depth, () => this.write(tagged.inner, depth + 1))}}`
    }
    switch (typeof value) {
      case 'string':
        return writeString(value, this.#ensureAscii)
      case 'number':
        return writeNumber(value)
      case 'bigint':
        return value.toString()
      case 'boolean':
        return value ? 'true' : 'false'
      case 'object':
        if (value === null) return 'null'
        if (Array.isArray(value)) return this.#enter(value, depth, () => this.#array(value, depth))
        if (isPlainObject(value)) return this.#enter(value, depth, () => this.#object(value, depth))
    }
    throw new Rejection(`${typeName(value)} has no JSON form here; convert it to a string, number, array or plain object`)
  }

  #tagOf(value: unknown): PythonJsonTagged | undefined {
    if (this.#tag === undefined) return undefined
    try {
      return this.#tag(value)
    } catch (error) {
      if (error instanceof TypeError) throw new Rejection(error.message)
      throw error
    }
  }

  #enter(value: unknown, depth: number, write: () => string): string {
    if (depth >= MAX_DEPTH) throw new Rejection(`it nests deeper than ${MAX_DEPTH} levels`)
    if (typeof value !== 'object' || value === null) return write()
    if (this.#path.has(value)) throw new Rejection('it refers back to a value that contains it (a circular reference)')
    this.#path.add(value)
    try {
      return write()
    } finally {
      this.#path.delete(value)
    }
  }

  #array(value: readonly unknown[], depth: number): string {
    const parts: string[] = []
    let i = 0
    try {
      for (; i < value.length; i++) {
        const item = value[i]
        if (item === undefined) throw new Rejection('arrays cannot hold undefined (Python has no such value)')
        parts.push(this.write(item, depth + 1))
      }
    } catch (error) {
      if (error instanceof Rejection) error.segments.push(i)
      throw error
    }
    return `[${parts.join(',')}]`
  }

  #object(value: Record<string, unknown>, depth: number): string {
    const keys = Object.keys(value)
    if (this.#sortKeys) keys.sort(compareCodePoints)
    const parts: string[] = []
    let key = ''
    try {
      for (key of keys) {
        const item = value[key]
        // Like JSON.stringify, a property set to undefined is left out.
        if (item !== undefined) parts.push(`${writeString(key, this.#ensureAscii)}:${this.write(item, depth + 1)}`)
      }
    } catch (error) {
      if (error instanceof Rejection) error.segments.push(key)
      throw error
    }
    return `{${parts.join(',')}}`
  }
}

/**
 * Writes JSON exactly as Python's `json.dumps(value, separators=(',', ':'))` would for the
 * corresponding Python value: `null`/booleans/strings as usual; a number that is a safe integer
 * as a Python `int`, any other number as a `float` in `repr` form (`1e+16`, `1.5e-05`, `NaN`,
 * `Infinity`); a `bigint` as an `int`; arrays as lists; plain (or null-prototype) objects as
 * dicts, leaving out properties whose value is `undefined`. Anything else is a `TypeError`.
 *
 * @example
 * ```ts
 * encodePythonJson({ b: 1.5e-5, a: 'é' }, { ensureAscii: true, sortKeys: true })
 * // '{"a":"\\u00e9","b":1.5e-05}'
 * ```
 */
export function encodePythonJson(value: unknown, options: PythonJsonEncodeOptions = {}): string {
  try {
    return new PythonJsonWriter(options).write(value, 0)
  } catch (error) {
    if (error instanceof Rejection) throw new TypeError(describeRejection(error, options.path ?? 'value'))
    throw error
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y
const STRING_SPECIAL = /["\\\u0000-\u001f]/g
const HEX4 = /^[0-9a-fA-F]{4}$/
const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

class PythonJsonReader {
  readonly #text: string
  readonly #hook: ((object: Record<string, unknown>) => unknown) | undefined
  #at = 0

  constructor(text: string, hook: ((object: Record<string, unknown>) => unknown) | undefined) {
    this.#text = text
    this.#hook = hook
  }

  read(): unknown {
    const value = this.#value(0)
    this.#space()
    if (this.#at !== this.#text.length) this.#fail('unexpected data after the value')
    return value
  }

  #fail(why: string): never {
    throw new PayloadMalformed(`payload is not valid JSON: ${why} at position ${this.#at}`)
  }

  #space(): void {
    const text = this.#text
    let at = this.#at
    for (let c = text.charCodeAt(at); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++at));
    this.#at = at
  }

  #literal(word: string, value: unknown): unknown {
    if (!this.#text.startsWith(word, this.#at)) this.#fail('unexpected character')
    this.#at += word.length
    return value
  }

  #value(depth: number): unknown {
    this.#space()
    const c = this.#text[this.#at]
    switch (c) {
      case '"':
        return this.#string()
      case '{':
        return this.#object(depth + 1)
      case '[':
        return this.#array(depth + 1)
      case 't':
        return this.#literal('true', true)
      case 'f':
        return this.#literal('false', false)
      case 'n':
        return this.#literal('null', null)
      // Python's json reads (and writes) these three non-standard constants.
      case 'N':
        return this.#literal('NaN', Number.NaN)
      case 'I':
        return this.#literal('Infinity', Infinity)
      case '-':
        if (this.#text.startsWith('-Infinity', this.#at)) return this.#literal('-Infinity', -Infinity)
        return this.#number()
      default:
        if (c !== undefined && c >= '0' && c <= '9') return this.#number()
        return this.#fail(c === undefined ? 'unexpected end' : 'unexpected character')
    }
  }

  #number(): number | bigint {
    NUMBER.lastIndex = this.#at
    const match = NUMBER.exec(this.#text)
    if (match === null) return this.#fail('malformed number')
    const text = match[0]
    this.#at += text.length
    if (match[1] !== undefined || match[2] !== undefined) return Number(text) // a float
    // A Python int: exact as a number when it fits, as a bigint when it does not.
    if (text.length < 16) return Number(text) || 0
    const big = BigInt(text)
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
  }

  #string(): string {
    const text = this.#text
    let at = this.#at + 1
    let out = ''
    for (;;) {
      STRING_SPECIAL.lastIndex = at
      const match = STRING_SPECIAL.exec(text)
      if (match === null) {
        this.#at = text.length
        return this.#fail('unterminated string')
      }
      out += text.slice(at, match.index)
      at = match.index + 1
      const c = match[0]
      if (c === '"') break
      if (c !== '\\') {
        this.#at = match.index
        return this.#fail('control character in string')
      }
      const e = text[at]
      if (e === 'u') {
        const hex = text.slice(at + 1, at + 5)
        if (!HEX4.test(hex)) {
          this.#at = at
          return this.#fail('malformed \\u escape')
        }
        // Surrogates are joined or kept alone by simply concatenating UTF-16 units, as Python does.
        out += String.fromCharCode(Number.parseInt(hex, 16))
        at += 5
      } else {
        const simple = e === undefined ? undefined : SIMPLE_ESCAPES[e]
        if (simple === undefined) {
          this.#at = at
          return this.#fail('invalid escape')
        }
        out += simple
        at += 1
      }
    }
    this.#at = at
    return out
  }

  #array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) this.#fail(`nesting deeper than ${MAX_DEPTH} levels`)
    this.#at++
    const items: unknown[] = []
    this.#space()
    if (this.#text[this.#at] === ']') {
      this.#at++
      return items
    }
    for (;;) {
      items.push(this.#value(depth))
      this.#space()
      const c = this.#text[this.#at++]
      if (c === ']') return items
      if (c !== ',') {
        this.#at--
        this.#fail("expected ',' or ']'")
      }
    }
  }

  #object(depth: number): unknown {
    if (depth > MAX_DEPTH) this.#fail(`nesting deeper than ${MAX_DEPTH} levels`)
    this.#at++
    // A null prototype: a "__proto__" key is just a key, and nothing is inherited.
    const object: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    this.#space()
    if (this.#text[this.#at] === '}') {
      this.#at++
    } else {
      for (;;) {
        this.#space()
        if (this.#text[this.#at] !== '"') this.#fail('expected a string key')
        const key = this.#string()
        this.#space()
        if (this.#text[this.#at] !== ':') this.#fail("expected ':'")
        this.#at++
        // A repeated key keeps its first position and its last value, as in a Python dict.
        object[key] = this.#value(depth)
        this.#space()
        const c = this.#text[this.#at++]
        if (c === '}') break
        if (c !== ',') {
          this.#at--
          this.#fail("expected ',' or '}'")
        }
      }
    }
    return this.#hook === undefined ? object : this.#hook(object)
  }
}

/**
 * Reads JSON the way Python's `json.loads` does, into values that {@link encodePythonJson} writes
 * back unchanged: objects become null-prototype objects (a `"__proto__"` key is an ordinary own
 * property), integers beyond ±2^53 − 1 become `bigint`, and `NaN`/`Infinity`/`-Infinity` are
 * accepted. Throws {@link PayloadMalformed} for anything Python would refuse.
 *
 * @example
 * ```ts
 * decodePythonJson('{"n":12345678901234567890,"x":NaN}') // { n: 12345678901234567890n, x: NaN }
 * ```
 */
export function decodePythonJson(text: string, options: PythonJsonDecodeOptions = {}): unknown {
  if (typeof text !== 'string') throw new PayloadMalformed('payload is not valid JSON: not a string')
  const hook = options.objectHook
  // Fast path: V8's JSON.parse, when its reading is provably Python's (adoptParsed), then the hook.
  // JSON.parse refuses NaN and Infinity, which Python reads; those, and whatever adoptParsed
  // refuses, go to the exact reader. The hook runs only once the fast path is sure, so it never
  // sees an object twice.
  let parsed: unknown
  let ok = false
  try {
    parsed = JSON.parse(text)
    ok = true
  } catch {
    // Not standard JSON: the exact reader accepts Python's extras or says what is wrong.
  }
  if (ok && adoptParsed(parsed, hook !== undefined, 0)) return hook === undefined ? parsed : applyHook(parsed, hook)
  return new PythonJsonReader(text, hook).read()
}

/**
 * A number JSON.parse may have read differently from Python: an integer literal of 16 digits or
 * more (JSON.parse rounds it; Python keeps it exact, a bigint here) always parses to 1e15 or more
 * in size, and an integer `-0` (Python's int reads it as 0) parses to -0. Floats that land here
 * (1e300, -0.0) read the same in both and merely take the slow path.
 */
function isInexact(value: number): boolean {
  return value >= 1e15 || value <= -1e15 || (value === 0 && 1 / value < 0)
}

/**
 * Whether JSON.parse's output is exactly what the exact reader would return (up to prototypes,
 * which it sets to null here, in place, so objects keep V8's fast properties; a "__proto__" key
 * is an own data property either way). False for an inexact number (see isInexact), for nesting
 * past the reader's limit (the reader reports it), and, when a hook will run, for an object with
 * a key like "0": JavaScript lists such keys first, and the hook must see objects in document
 * order. Strings, escapes, lone surrogates, whitespace and repeated keys (first position, last
 * value) read the same in both; the one difference left is that an object a repeated key
 * replaced never reaches the hook, since JSON.parse drops it first, which also changes the order
 * of the remaining hook calls (no JSON encoder writes repeated keys, and payloads are
 * authenticated before they are parsed).
 */
function adoptParsed(value: unknown, ordered: boolean, depth: number): boolean {
  if (typeof value === 'number') return !isInexact(value)
  if (typeof value !== 'object' || value === null) return true
  if (depth >= MAX_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!adoptParsed(value[i], ordered, depth + 1)) return false
    return true
  }
  const object = Object.setPrototypeOf(value, null) as Record<string, unknown>
  let first = ordered
  for (const key in object) {
    // Index-like keys come first in enumeration order, so the first key tells whether there are any.
    if (first) {
      const c = key.charCodeAt(0)
      if (c >= 0x30 && c <= 0x39) return false
      first = false
    }
    if (!adoptParsed(object[key], ordered, depth + 1)) return false
  }
  return true
}

/** Python's object_hook over adopted values: every object, innermost first, in document order. */
function applyHook(value: unknown, hook: (object: Record<string, unknown>) => unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as unknown
      if (typeof item === 'object' && item !== null) value[i] = applyHook(item, hook)
    }
    return value
  }
  const object = value as Record<string, unknown>
  for (const key in object) {
    const item = object[key]
    if (typeof item === 'object' && item !== null) object[key] = applyHook(item, hook)
  }
  return hook(object)
}

// itsdangerous's _CompactJSON: json.dumps(obj, ensure_ascii=False, separators=(',', ':')).
const COMPACT_JSON: ItsdangerousTextSerializer = {
  dumps: (value, path) => encodePythonJson(value, path === undefined ? {} : { path }),
  loads: (text) => decodePythonJson(text),
}
