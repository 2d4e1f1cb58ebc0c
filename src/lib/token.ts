/**
 * Frasco's signed token format, version 1 (`docs/format.md` describes it byte by byte):
 *
 *   token = "f1" "." kid "." body "." tag
 *   body  = base64url( flags:u8 | iat:u48be | [exp:u48be] | payload )
 *   flags = bit 0 expiry present, bit 1 payload deflated, bit 2 payload is an object (tagged JSON)
 *   tag   = base64url( HMAC-SHA256( subkey(secret, purpose), "f1" "." kid "." body ) )
 *
 * base64url has no ".", so splitting on "." is unambiguous. The tag covers the version, key id,
 * flags, timestamps and payload; the purpose is bound through the subkey.
 *
 * @internal
 */
import { Buffer } from 'node:buffer'
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto'
import { decodeBase64url, isBase64url } from '../encoding.js'
import {
  NotYetValid,
  PayloadMalformed,
  PayloadTooLarge,
  SessionExpired,
  SignatureInvalid,
  UnknownKey,
  UnsupportedVersion,
  type SessionError,
} from '../errors.js'
import { deriveSubkey, type Key, type Keyring } from '../keyring.js'

export const VERSION = 'f1'

/** Flag bits of the body's first byte. Unknown bits make a token malformed. */
export const FLAG_EXPIRES = 0b001
export const FLAG_DEFLATE = 0b010
/**
 * The payload is an object serialized by `createSerializer`/sessions, not a string or bytes from
 * `createSigner`. Inside the MAC, so a signer's token can never pass as a session (or any object
 * token) of the same purpose, and the other way round.
 */
export const FLAG_OBJECT = 0b100
const KNOWN_FLAGS = FLAG_EXPIRES | FLAG_DEFLATE | FLAG_OBJECT

const TIME_BYTES = 6
/** Largest second count a u48 holds; far beyond any real date (year 8.9 million). */
export const MAX_SECONDS = 2 ** 48 - 1
const TAG_LENGTH = 43 // 32 bytes in unpadded base64url

export const DEFAULT_CLOCK_TOLERANCE = 60
export const DEFAULT_MAX_TOKEN_LENGTH = 65_536

export interface TokenCoreOptions {
  purpose: string
  clockTolerance: number
  maxTokenLength: number
}

/** The verified content of a token, before its payload is decoded. */
export interface OpenedToken {
  ok: true
  flags: number
  issuedAt: number // seconds
  expiresAt: number | undefined // seconds
  payload: Buffer
  key: Key
}

export interface OpenOptions {
  now: number // seconds
  maxAge: number | undefined // seconds
}

interface SigningKey {
  readonly key: Key
  readonly hmacKey: KeyObject
  /** "f1.<kid>." — everything the tag covers before the body. */
  readonly prefix: string
}

/** Signs and opens version-1 tokens for one keyring and purpose; subkeys derived once, here. */
export class TokenCore implements TokenFormat {
  readonly #current: SigningKey
  readonly #byId: Map<string, SigningKey>
  readonly #clockTolerance: number
  readonly #maxTokenLength: number

  constructor(keyring: Keyring, options: TokenCoreOptions) {
    this.#byId = new Map()
    for (const key of keyring.keys) {
      this.#byId.set(key.id, {
        key,
        hmacKey: createSecretKey(deriveSubkey(key, 'sign', options.purpose)),
        prefix: `${VERSION}.${key.id}.`,
      })
    }
    this.#current = this.#byId.get(keyring.current.id) as SigningKey
    this.#clockTolerance = options.clockTolerance
    this.#maxTokenLength = options.maxTokenLength
  }

  seal(flags: number, issuedAt: number, expiresAt: number | undefined, payload: Uint8Array): string {
    const signed = this.#current.prefix + writeBody(flags, issuedAt, expiresAt, payload).toString('base64url')
    return `${signed}.${createHmac('sha256', this.#current.hmacKey).update(signed).digest('base64url')}`
  }

  open(token: string, options: OpenOptions): OpenedToken | SessionError {
    const located = locate(token, VERSION, 4, this.#maxTokenLength, this.#byId)
    if (!('entry' in located)) return located
    const [, d2, d3] = located.dots as [number, number, number]

    // The tag is checked before anything else in the token is decoded or believed. Canonical
    // base64url only, so the latin1 comparison below sees every character exactly.
    const tag = token.slice(d3 + 1)
    if (tag.length !== TAG_LENGTH || !isBase64url(tag)) return new SignatureInvalid()
    const expected = createHmac('sha256', located.entry.hmacKey).update(token.slice(0, d3)).digest('base64url')
    if (!timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(tag, 'latin1'))) return new SignatureInvalid()

    // Authentic: the text is exactly what a holder of the key wrote, which is canonical base64url.
    return readBody(Buffer.from(token.slice(d2 + 1, d3), 'base64url'), located.entry.key, options, this.#clockTolerance)
  }
}

/**
 * Finds a token's key from its version and key id fields: the steps both formats share before
 * any cryptography. `fields` is the number of dot-separated fields the version has.
 */
export function locate<E>(
  token: unknown,
  version: string,
  fields: number,
  maxLength: number,
  keys: ReadonlyMap<string, E>,
): { entry: E; dots: number[] } | SessionError {
  if (typeof token !== 'string') return new PayloadMalformed('token is not a string')
  if (token.length > maxLength) return new PayloadTooLarge(token.length, maxLength)
  const dots: number[] = []
  for (let at = token.indexOf('.'); at !== -1 && dots.length < fields; at = token.indexOf('.', at + 1)) dots.push(at)
  if (dots.length === 0) return new PayloadMalformed('token has no version field')
  if (token.slice(0, dots[0]) !== version) return new UnsupportedVersion(`token is not a ${version} token`)
  if (dots.length !== fields - 1) return new PayloadMalformed(`token does not have ${fields} fields`)
  const entry = keys.get(token.slice((dots[0] as number) + 1, dots[1]))
  if (entry === undefined) return new UnknownKey()
  return { entry, dots }
}

/** The body both formats carry (f1 in clear, e1 encrypted): flags, times, payload. */
export function writeBody(flags: number, issuedAt: number, expiresAt: number | undefined, payload: Uint8Array): Buffer {
  const hasExpiry = expiresAt !== undefined
  const header = 1 + TIME_BYTES + (hasExpiry ? TIME_BYTES : 0)
  const body = Buffer.allocUnsafe(header + payload.length)
  body[0] = hasExpiry ? flags | FLAG_EXPIRES : flags & ~FLAG_EXPIRES
  body.writeUIntBE(issuedAt, 1, TIME_BYTES)
  if (hasExpiry) body.writeUIntBE(expiresAt, 1 + TIME_BYTES, TIME_BYTES)
  body.set(payload, header)
  return body
}

interface Body {
  flags: number
  issuedAt: number
  expiresAt: number | undefined
  payload: Buffer
}

/** Splits a body into flags, times and payload; structure only, no decisions. */
export function parseBody(body: Buffer): Body | PayloadMalformed {
  if (body.length < 1 + TIME_BYTES) return new PayloadMalformed('token body is truncated')
  const flags = body[0] as number
  if ((flags & ~KNOWN_FLAGS) !== 0) return new PayloadMalformed('token has unknown flags')
  const hasExpiry = (flags & FLAG_EXPIRES) !== 0
  const header = 1 + TIME_BYTES + (hasExpiry ? TIME_BYTES : 0)
  if (body.length < header) return new PayloadMalformed('token body is truncated')
  return {
    flags,
    issuedAt: body.readUIntBE(1, TIME_BYTES),
    expiresAt: hasExpiry ? body.readUIntBE(1 + TIME_BYTES, TIME_BYTES) : undefined,
    payload: body.subarray(header),
  }
}

/**
 * Parses an authenticated body and enforces its times. Expiry is exclusive (a token is invalid
 * from its `exp` second on) and `maxAge` inclusive (valid while at most `maxAge` seconds old, as
 * in itsdangerous); `tolerance` widens both, and the future check, for clock differences.
 */
export function readBody(body: Buffer, key: Key, options: OpenOptions, tolerance: number): OpenedToken | SessionError {
  const parsed = parseBody(body)
  if (parsed instanceof PayloadMalformed) return parsed
  const { issuedAt, expiresAt } = parsed
  const { now, maxAge } = options
  if (issuedAt > now + tolerance) return new NotYetValid(new Date(issuedAt * 1000))
  if (expiresAt !== undefined && now - tolerance >= expiresAt) return new SessionExpired(new Date(expiresAt * 1000))
  if (maxAge !== undefined && now - tolerance > issuedAt + maxAge) return new SessionExpired(new Date((issuedAt + maxAge) * 1000))
  return { ok: true, ...parsed, key }
}

/** What the object codec needs from a token format (signed f1 or encrypted e1). */
export interface TokenFormat {
  seal(flags: number, issuedAt: number, expiresAt: number | undefined, payload: Uint8Array): string
  open(token: string, options: OpenOptions): OpenedToken | SessionError
}

/** Reads the unauthenticated parts of a token for `frasco inspect`; never used to make decisions. */
export function peekToken(token: string):
  | { version: string; keyId: string; flags: number; issuedAt: number; expiresAt: number | undefined; payload: Buffer }
  | undefined {
  const parts = token.split('.')
  if (parts.length !== 4 || parts[0] !== VERSION) return undefined
  const body = decodeBase64url(parts[2] as string)
  const parsed = body === undefined ? undefined : parseBody(body)
  if (parsed === undefined || parsed instanceof PayloadMalformed) return undefined
  return { version: VERSION, keyId: parts[1] as string, ...parsed }
}

/** Seconds since the epoch from a `now` option (a Date, or milliseconds like `Date.now()`). */
export function toSeconds(now: Date | number | undefined, where = 'now'): number {
  const ms = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms / 1000 > MAX_SECONDS) {
    throw new TypeError(`option ${where} is invalid: give a Date or a number of milliseconds since the epoch`)
  }
  return Math.floor(ms / 1000)
}

/** Validates a duration option in seconds (a non-negative finite number). */
export function assertSeconds(value: unknown, where: string, { allowZero = true } = {}): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || value > MAX_SECONDS) {
    throw new TypeError(`option ${where} is invalid: give a ${allowZero ? 'non-negative' : 'positive'} number of seconds`)
  }
}

export function assertPurpose(purpose: unknown): asserts purpose is string {
  if (typeof purpose !== 'string' || purpose.length === 0 || purpose.length > 256 || purpose.includes('\0')) {
    throw new TypeError(
      "option purpose is invalid: give a short string naming what the tokens are for, e.g. 'password-reset' (1 to 256 characters, no NUL)",
    )
  }
}
