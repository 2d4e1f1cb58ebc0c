/**
 * base64url (RFC 4648 §5, no padding) and strict UTF-8, accepting canonical forms only.
 *
 * Node's own base64url decoder is lenient: it skips characters outside the alphabet and ignores
 * non-zero bits in the last character, so many strings decode to the same bytes. A signature
 * check over decoded bytes would then accept altered tokens. Everything here rejects any input that
 * is not exactly what {@link encodeBase64url} would have produced.
 *
 * @module
 */
import { Buffer, isUtf8 } from 'node:buffer'

// RFC 4648 §5: the URL and filename safe alphabet, with padding omitted (§3.2).
const BASE64URL = /^[A-Za-z0-9_-]*$/

// For a final group of 2 characters only the top 2 bits of the second character carry data; for
// a group of 3, the top 4 bits of the third. Canonical encoders leave the rest zero (RFC 4648 §3.5).
const TAIL_MASK_2 = 0b001111
const TAIL_MASK_3 = 0b000011

function sextet(code: number): number {
  if (code >= 65 && code <= 90) return code - 65 // A-Z
  if (code >= 97 && code <= 122) return code - 71 // a-z
  if (code >= 48 && code <= 57) return code + 4 // 0-9
  return code === 45 ? 62 : 63 // '-' or '_' (the alphabet was checked before)
}

/**
 * Whether `text` is canonical unpadded base64url: only alphabet characters, a length that some
 * byte string encodes to, and zero bits where the encoding has no data.
 *
 * @example
 * ```ts
 * isBase64url('AQID') // true
 * isBase64url('AQIE=') // false: padding
 * isBase64url('AR') // false: non-zero trailing bits
 * ```
 */
export function isBase64url(text: string): boolean {
  const rest = text.length % 4
  if (rest === 1 || !BASE64URL.test(text)) return false
  if (rest === 0) return true
  const last = sextet(text.charCodeAt(text.length - 1))
  return (last & (rest === 2 ? TAIL_MASK_2 : TAIL_MASK_3)) === 0
}

/**
 * Encodes bytes or a string (as UTF-8) to unpadded base64url.
 *
 * @example
 * ```ts
 * encodeBase64url('hi') // 'aGk'
 * ```
 */
export function encodeBase64url(input: Uint8Array | string): string {
  if (typeof input === 'string') return Buffer.from(input, 'utf8').toString('base64url')
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('base64url')
}

/**
 * Decodes canonical unpadded base64url; returns `undefined` for anything else.
 *
 * @example
 * ```ts
 * decodeBase64url('aGk') // Uint8Array [104, 105]
 * decodeBase64url('aG k') // undefined
 * ```
 */
export function decodeBase64url(text: string): Buffer | undefined {
  if (typeof text !== 'string') return undefined
  // Whatever the lenient decoder made of the text, only the canonical spelling encodes back to
  // itself (alphabet, length and trailing bits in one comparison), so no regex pass over the text
  // is needed first (docs/performance.md, "Why the code is shaped so").
  const bytes = Buffer.from(text, 'base64url')
  return encodesBackTo(bytes, bytes.length, text) ? bytes : undefined
}

/**
 * Whether the first `length` bytes of `bytes`, decoded from `text` by Node's lenient decoder, came
 * from canonical base64url: only then do they encode back to exactly `text`.
 *
 * @internal
 */
export function encodesBackTo(bytes: Buffer, length: number, text: string): boolean {
  return bytes.toString('base64url', 0, length) === text
}

/**
 * Decodes UTF-8 strictly: overlong forms, surrogates and truncated sequences give `undefined`
 * instead of U+FFFD replacement characters.
 *
 * @example
 * ```ts
 * decodeUtf8(new Uint8Array([0xc3, 0xa9])) // 'é'
 * decodeUtf8(new Uint8Array([0xc3])) // undefined
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  // A Buffer (what the token formats hand over) decodes as it is; a view costs as much again.
  const text = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8')
  // Node replaces every invalid sequence with U+FFFD, so text without one came from valid UTF-8;
  // only text with one (a replacement, or a genuine U+FFFD) needs the full check.
  if (text.indexOf('\uFFFD') !== -1 && !isUtf8(bytes)) return undefined
  return text
}

/**
 * Encodes a string to UTF-8. Lone surrogates cannot be represented and are rejected with a
 * `TypeError` rather than silently replaced.
 *
 * @example
 * ```ts
 * encodeUtf8('é') // Buffer [0xc3, 0xa9]
 * ```
 */
export function encodeUtf8(text: string): Buffer {
  if (!text.isWellFormed()) throw new TypeError('value is invalid: the string contains a lone surrogate, which UTF-8 cannot encode')
  return Buffer.from(text, 'utf8')
}
