/**
 * `frasco inspect`: what a token shows without a secret, always marked unverified.
 *
 * @internal
 */
import { inflateSync } from 'node:zlib'
import { decodeBase64url, decodeUtf8 } from '../encoding.js'
import { SessionError } from '../errors.js'
import { decodeFlaskJson } from '../flask/json.js'
import { FLAG_DEFLATE, FLAG_EXPIRES, FLAG_OBJECT, FLAG_PERSISTENT, peekToken } from '../lib/token.js'
import { DEFAULT_MAX_PAYLOAD_BYTES, decodePayload, stringify } from '../serializer.js'

// What a Flask session cookie looks like: [.]payload.timestamp.signature (27 characters of SHA-1).
const FLASK_COOKIE = /^(\.?)([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)\.[A-Za-z0-9_-]{27}$/
// The payload cap: inspect inflates no more than verify would.
const FLASK_MAX_PAYLOAD = DEFAULT_MAX_PAYLOAD_BYTES

type Peeked = NonNullable<ReturnType<typeof peekToken>>

/** What a token looks like: a Frasco version, a Flask session cookie, or neither. */
export type TokenFormat = 'f1' | 'x1' | 'e1' | 'flask' | 'unknown'

/**
 * Tells the formats Frasco reads apart by their shape, without a secret: a Frasco token starts
 * with its version (`f1.`, `x1.`, `e1.`); a Flask payload is base64url JSON, so it starts with `e`
 * (never `e1.`), or `.` when compressed.
 *
 * @example
 * ```ts
 * detectFormat('x1.k.abc') // 'x1'
 * ```
 */
export function detectFormat(token: string): TokenFormat {
  const version = /^([efx]1)\./.exec(token)?.[1]
  if (version !== undefined) return version as TokenFormat
  return FLASK_COOKIE.test(token) ? 'flask' : 'unknown'
}

/**
 * What `frasco inspect` shows: everything readable without a secret, marked unverified. Without
 * `format`, Frasco tokens (`f1.`, `x1.`, `e1.`) and Flask session cookies are told apart by their shape
 * (a Flask payload is base64url JSON, so it starts with `e`, or `.` when compressed).
 *
 * @example
 * ```ts
 * const shown = inspect(cookieValue) // format detected: 'frasco', 'flask' or 'unknown'
 * shown.verified // false: inspect never checks a signature
 * ```
 */
export function inspect(token: string, format?: 'frasco' | 'flask'): Record<string, unknown> {
  if (format === 'flask' || (format === undefined && detectFormat(token) === 'flask')) return inspectFlask(token)
  // The encrypted versions: x1 (XAES-256-GCM, written today) and e1 (AES-256-GCM, read only).
  const sealed = /^([ex]1)\.([A-Za-z0-9_-]{1,32})\.[A-Za-z0-9_-]+$/.exec(token)
  if (sealed !== null) {
    return {
      verified: false,
      format: 'frasco',
      version: sealed[1],
      encrypted: true,
      keyId: sealed[2],
      note: 'the payload and its times are encrypted; only the key id is visible',
    }
  }
  const peeked = peekToken(token)
  if (peeked === undefined) {
    return { verified: false, format: 'unknown', note: format === 'frasco' ? 'not a Frasco f1 token' : 'neither a Frasco token nor a Flask session cookie' }
  }
  const isObject = (peeked.flags & FLAG_OBJECT) !== 0
  const { payload, payloadError } = isObject ? frascoObject(peeked) : { payload: frascoString(peeked), payloadError: undefined }
  return {
    verified: false,
    warning: 'UNVERIFIED: anyone can write a token like this; use `frasco verify` to check it',
    format: 'frasco',
    version: peeked.version,
    encrypted: false,
    kind: isObject ? 'object' : 'string',
    keyId: peeked.keyId,
    compressed: (peeked.flags & FLAG_DEFLATE) !== 0,
    persistent: (peeked.flags & FLAG_PERSISTENT) !== 0,
    issuedAt: date(peeked.issuedAt),
    expiresAt: (peeked.flags & FLAG_EXPIRES) !== 0 ? date(peeked.expiresAt) : null,
    payload,
    ...(payloadError === undefined ? {} : { payloadError }),
  }
}

// A createSigner token: its value is a string (or bytes, shown as base64url).
function frascoString(peeked: Peeked): unknown {
  return decodeUtf8(peeked.payload) ?? { $b: peeked.payload.toString('base64url') }
}

// An object token: its tagged JSON, or the raw text and the reason it does not decode.
function frascoObject(peeked: Peeked): { payload: unknown; payloadError: string | undefined } {
  try {
    const value = decodePayload(peeked.payload, (peeked.flags & FLAG_DEFLATE) !== 0)
    return { payload: JSON.parse(stringify(value)), payloadError: undefined }
  } catch (error) {
    return { payload: decodeUtf8(peeked.payload) ?? null, payloadError: error instanceof SessionError ? error.code : 'unreadable' }
  }
}

function inspectFlask(token: string): Record<string, unknown> {
  const match = FLASK_COOKIE.exec(token)
  if (match === null) return { verified: false, format: 'unknown', note: 'not a Flask session cookie (payload.timestamp.signature)' }
  const compressed = match[1] === '.'
  const read = flaskPayloadText(match[2] as string, compressed)
  let payload: unknown = null
  let payloadError = 'error' in read ? read.error : undefined
  let permanent = false
  if ('text' in read) {
    try {
      const value = decodeFlaskJson(read.text) as Record<string, unknown> | null
      permanent = typeof value === 'object' && value !== null && value._permanent === true
    } catch (error) {
      payloadError = error instanceof SessionError ? error.code : 'unreadable'
    }
    // Flask's tagged JSON as JavaScript reads it; NaN or Infinity (valid for Python) keep the text.
    try {
      payload = JSON.parse(read.text)
    } catch {
      payload = read.text
    }
  }
  return {
    verified: false,
    warning: 'UNVERIFIED: anyone can write a cookie like this; use `frasco verify --format flask` to check it',
    format: 'flask',
    compressed,
    issuedAt: flaskIssuedAt(match[3] as string),
    permanent,
    note: "a Flask cookie carries no expiry: the reader's PERMANENT_SESSION_LIFETIME (31 days by default) counts from issuedAt",
    payload,
    ...(payloadError === undefined ? {} : { payloadError }),
  }
}

function flaskPayloadText(field: string, compressed: boolean): { text: string } | { error: string } {
  const bytes = decodeBase64url(field)
  if (bytes === undefined) return { error: 'ERR_SESSION_MALFORMED' }
  let text: string | undefined
  try {
    text = decodeUtf8(compressed ? inflateSync(bytes, { maxOutputLength: FLASK_MAX_PAYLOAD }) : bytes)
  } catch (error) {
    return { error: (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' ? 'ERR_SESSION_DECOMPRESSION_TOO_LARGE' : 'ERR_SESSION_MALFORMED' }
  }
  return text === undefined ? { error: 'ERR_SESSION_MALFORMED' } : { text }
}

function flaskIssuedAt(field: string): string | null {
  const time = decodeBase64url(field)
  // itsdangerous writes the seconds big-endian without leading zero bytes (0 is the empty string).
  if (time === undefined || time.length > 8 || time[0] === 0) return null
  let seconds = 0
  for (const byte of time) seconds = seconds * 256 + byte
  // Beyond what a Date holds (ECMA-262 §21.4.1.1) the time is shown as unreadable.
  return seconds <= 8.64e12 ? date(seconds) : null
}

function date(seconds: number | undefined): string | null {
  return seconds === undefined ? null : new Date(seconds * 1000).toISOString()
}
