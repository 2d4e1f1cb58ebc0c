/**
 * Frasco's signed token format, version 1 (`docs/format.md` describes it byte by byte):
 *
 *   token = "f1" "." kid "." body "." tag
 *   body  = base64url( flags:u8 | iat:u48be | [exp:u48be] | payload )
 *   flags = bit 0 expiry present, bit 1 payload deflated, bit 2 payload is an object (tagged JSON),
 *           bit 3 a persistent session (object tokens of the session manager only)
 *   tag   = base64url( HMAC-SHA256( subkey(secret, purpose), "f1" "." kid "." body ) )
 *
 * base64url has no ".", so splitting on "." is unambiguous. The tag covers the version, key id,
 * flags, timestamps and payload; the purpose is bound through the subkey.
 *
 * @internal
 */
import { Buffer } from 'node:buffer'
import { decodeBase64url, encodesBackTo } from '../encoding.js'
import { SCRATCH_LIMIT, scratchFor, writeBase64url, writeUtf8 } from './buffers.js'
import { constantTimeEqual } from './compare.js'
import { HmacSha256 } from './hmac.js'
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
/**
 * A session marked persistent ("remember me"): the session manager gives its cookie a Max-Age.
 * Only object tokens carry it; inside the MAC like every flag.
 */
export const FLAG_PERSISTENT = 0b1000
const KNOWN_FLAGS = FLAG_EXPIRES | FLAG_DEFLATE | FLAG_OBJECT | FLAG_PERSISTENT

const TIME_BYTES = 6
/** Largest second count a u48 holds; far beyond any real date (year 8.9 million). */
export const MAX_SECONDS = 2 ** 48 - 1

export const DEFAULT_CLOCK_TOLERANCE = 60
export const DEFAULT_MAX_TOKEN_LENGTH = 65_536

export interface TokenCoreOptions {
  purpose: string
  clockTolerance: number
  maxTokenLength: number
}

/** The verified content of a token, before its payload is decoded. */
export interface OpenedToken {
  flags: number
  issuedAt: number // seconds
  expiresAt: number | undefined // seconds
  /** For f1 a view of shared memory (see decodeField): decode or copy it before the next open. */
  payload: Buffer
  key: Key
}

interface SigningKey {
  readonly key: Key
  readonly mac: HmacSha256
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
        mac: new HmacSha256(deriveSubkey(key, 'sign', options.purpose)),
        prefix: `${VERSION}.${key.id}.`,
      })
    }
    this.#current = this.#byId.get(keyring.current.id) as SigningKey
    this.#clockTolerance = options.clockTolerance
    this.#maxTokenLength = options.maxTokenLength
  }

  seal(flags: number, issuedAt: number, expiresAt: number | undefined, payload: Uint8Array | string): string {
    const signed = this.#current.prefix + writeBody(flags, issuedAt, expiresAt, payload).toString('base64url')
    return `${signed}.${this.#current.mac.digest(signed)}`
  }

  open(token: string, now: number, maxAge: number | undefined): OpenedToken | SessionError {
    const located = locate(token, VERSION, 4, this.#maxTokenLength, this.#byId)
    if (!(located instanceof Located)) return located
    const { entry, kidEnd, lastDot } = located

    // The tag is checked before anything else in the token is decoded or believed.
    const tag = token.slice(lastDot + 1)
    const expected = entry.mac.digest(token.slice(0, lastDot))
    if (!constantTimeEqual(expected, tag)) return new SignatureInvalid()

    // Authentic: the text is exactly what a holder of the key wrote, which is canonical base64url.
    return readBody(decodeField(token.slice(kidEnd + 1, lastDot)), entry.key, now, maxAge, this.#clockTolerance)
  }
}

/** A token's key, and where its key id and its last field start. */
export class Located<E> {
  constructor(
    readonly entry: E,
    /** Index of the dot after the key id. */
    readonly kidEnd: number,
    /** Index of the last dot, before the last field. */
    readonly lastDot: number,
  ) {}
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
): Located<E> | SessionError {
  if (typeof token !== 'string') return new PayloadMalformed('token is not a string')
  if (token.length > maxLength) return new PayloadTooLarge(token.length, maxLength)
  const versionEnd = token.indexOf('.')
  if (versionEnd === -1) return new PayloadMalformed('token has no version field')
  if (versionEnd !== version.length || !token.startsWith(version)) return new UnsupportedVersion(`token is not a ${version} token`)
  let dots = 1
  let kidEnd = -1
  let lastDot = versionEnd
  for (let at = token.indexOf('.', versionEnd + 1); at !== -1; at = token.indexOf('.', at + 1)) {
    if (++dots === fields) break
    if (kidEnd === -1) kidEnd = at
    lastDot = at
  }
  if (dots !== fields - 1) return new PayloadMalformed(`token does not have ${fields} fields`)
  const entry = keys.get(token.slice(versionEnd + 1, kidEnd))
  if (entry === undefined) return new UnknownKey()
  return new Located(entry, kidEnd, lastDot)
}

// Token fields are decoded into this buffer rather than a fresh one per token. Buffer.from(text,
// 'base64url') reserves four bytes of Node's shared 8 KiB pool per character and replaces the
// pool (a new ArrayBuffer) when short of that, which a token-sized field does often.
let fieldScratch: Buffer = Buffer.allocUnsafeSlow(4096)

/**
 * Decodes a base64url field of a token. The result is a view of shared memory, valid until the
 * next call: decode, decrypt or copy it at once. Lenient like Buffer.from, unless `canonical`, when
 * anything but the canonical spelling gives undefined (decodeBase64url's rule, encodesBackTo).
 */
export function decodeField(text: string): Buffer
export function decodeField(text: string, canonical: true): Buffer | undefined
export function decodeField(text: string, canonical = false): Buffer | undefined {
  // base64url carries 3 bytes per 4 characters; a lenient decode never writes more.
  // Stryker disable next-line ArithmeticOperator: equivalent, allocation only: more room than the decoded bytes need (test/mutation-equivalents.md)
  const room = Math.ceil((text.length * 3) / 4)
  const target = scratchFor(fieldScratch, room)
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, allocation only: whether a grown buffer within SCRATCH_LIMIT is kept (test/mutation-equivalents.md)
  if (target.length <= SCRATCH_LIMIT) fieldScratch = target
  const length = writeBase64url(target, text, 0)
  if (canonical && !encodesBackTo(target, length, text)) return undefined
  return target.subarray(0, length)
}

// The body is built here and consumed (encoded or encrypted) before the next one is: one buffer
// serves every token instead of a fresh allocation and a copy of the payload per token. It holds
// the plaintext of encrypted tokens, so it is allocated outside Node's shared Buffer pool (where
// any other small Buffer's `.buffer` would expose it), and encrypting formats zero what they used.
let bodyScratch: Buffer = Buffer.allocUnsafeSlow(1024)

/**
 * The body both formats carry (f1 in clear, e1 encrypted): flags, times, payload. A string payload
 * is written as UTF-8. The result is a view of shared memory, valid until the next call: encode or
 * encrypt it at once, and zero it (`fill(0)`) once encrypted, so no plaintext stays behind.
 */
export function writeBody(flags: number, issuedAt: number, expiresAt: number | undefined, payload: Uint8Array | string): Buffer {
  const hasExpiry = expiresAt !== undefined
  const header = 1 + TIME_BYTES + (hasExpiry ? TIME_BYTES : 0)
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  // Stryker disable next-line ConditionalExpression: equivalent, allocation only: a byte payload reserves more room than it needs (test/mutation-equivalents.md)
  const room = header + (typeof payload === 'string' ? 3 * payload.length : payload.length)
  const body = scratchFor(bodyScratch, room)
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, allocation only: whether a grown buffer within SCRATCH_LIMIT is kept (test/mutation-equivalents.md)
  if (body.length <= SCRATCH_LIMIT) bodyScratch = body
  body[0] = hasExpiry ? flags | FLAG_EXPIRES : flags & ~FLAG_EXPIRES
  writeTime(body, 1, issuedAt)
  if (hasExpiry) writeTime(body, 1 + TIME_BYTES, expiresAt)
  if (typeof payload !== 'string') {
    body.set(payload, header)
    return body.subarray(0, header + payload.length)
  }
  return body.subarray(0, header + writeUtf8(body, payload, header))
}

// u48 big-endian, written and read byte by byte: Buffer#writeUIntBE/readUIntBE dispatch on the
// width at every call. Callers keep values within 0 … MAX_SECONDS.
const TWO_32 = 2 ** 32

function writeTime(body: Buffer, at: number, seconds: number): void {
  // Callers validate their options; this catches a time computed past the format's range (a clock
  // near the year 8.9 million plus a lifetime), which would otherwise wrap around.
  if (!(Number.isInteger(seconds) && seconds >= 0 && seconds <= MAX_SECONDS)) {
    throw new RangeError(`time ${seconds} is outside what a token holds: whole seconds from 0 to ${MAX_SECONDS}`)
  }
  const high = Math.floor(seconds / TWO_32)
  const low = seconds >>> 0
  body[at] = high >>> 8
  body[at + 1] = high & 0xff
  body[at + 2] = low >>> 24
  body[at + 3] = (low >>> 16) & 0xff
  body[at + 4] = (low >>> 8) & 0xff
  body[at + 5] = low & 0xff
}

function readTime(body: Buffer, at: number): number {
  const high = ((body[at] as number) << 8) | (body[at + 1] as number)
  const low = (((body[at + 2] as number) << 24) >>> 0) + (((body[at + 3] as number) << 16) | ((body[at + 4] as number) << 8) | (body[at + 5] as number))
  return high * TWO_32 + low
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
    issuedAt: readTime(body, 1),
    expiresAt: hasExpiry ? readTime(body, 1 + TIME_BYTES) : undefined,
    payload: body.subarray(header),
  }
}

/**
 * Parses an authenticated body and enforces its times. Expiry is exclusive (a token is invalid
 * from its `exp` second on) and `maxAge` inclusive (valid while at most `maxAge` seconds old, as
 * in itsdangerous); `tolerance` widens both, and the future check, for clock differences.
 */
export function readBody(body: Buffer, key: Key, now: number, maxAge: number | undefined, tolerance: number): OpenedToken | SessionError {
  const parsed = parseBody(body)
  if (parsed instanceof PayloadMalformed) return parsed
  const { flags, issuedAt, expiresAt, payload } = parsed
  if (issuedAt > now + tolerance) return new NotYetValid(new Date(issuedAt * 1000))
  if (expiresAt !== undefined && now - tolerance >= expiresAt) return new SessionExpired(new Date(expiresAt * 1000))
  if (maxAge !== undefined && now - tolerance > issuedAt + maxAge) return new SessionExpired(new Date((issuedAt + maxAge) * 1000))
  // Listed field by field: a spread copies through the generic object path on every verify.
  return { flags, issuedAt, expiresAt, payload, key }
}

/** What the object codec needs from a token format (signed f1 or encrypted e1). */
export interface TokenFormat {
  /** Signs or encrypts a payload: bytes, or a string written as UTF-8. */
  seal(flags: number, issuedAt: number, expiresAt: number | undefined, payload: Uint8Array | string): string
  /** Verifies or decrypts a token at `now` (seconds), refusing one issued more than `maxAge` ago. */
  open(token: string, now: number, maxAge: number | undefined): OpenedToken | SessionError
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

/**
 * Seconds since the epoch of one call: its `now` option when given, else the factory's clock (and
 * a bad value is then blamed on `clock`, where it came from).
 */
export function instant(now: Date | number | undefined, clock: () => number): number {
  return now === undefined ? toSeconds(clock(), 'clock') : toSeconds(now, 'now')
}

/** Seconds since the epoch from a `now` option (a Date, or milliseconds like `Date.now()`). */
export function toSeconds(now: Date | number | undefined, where = 'now'): number {
  const ms = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now
  if (!Number.isFinite(ms) || ms < 0 || ms / 1000 > MAX_SECONDS) {
    throw new TypeError(`option ${where} is invalid: give a Date or a number of milliseconds since the epoch`)
  }
  return Math.floor(ms / 1000)
}

export function assertPurpose(purpose: unknown): asserts purpose is string {
  if (typeof purpose !== 'string' || purpose.length === 0 || purpose.length > 256 || purpose.includes('\0')) {
    throw new TypeError(
      "option purpose is invalid: give a short string naming what the tokens are for, e.g. 'password-reset' (1 to 256 characters, no NUL)",
    )
  }
  // The purpose reaches HKDF and the e1 AAD as UTF-8, where every lone surrogate would become
  // U+FFFD: purposes differing only there would share keys.
  if (!purpose.isWellFormed()) {
    throw new TypeError('option purpose is invalid: it contains a lone surrogate (half of a UTF-16 pair), which UTF-8 cannot encode; use well-formed text')
  }
}
