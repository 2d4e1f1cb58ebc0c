/**
 * Objects in the f1 and e1 formats: the serializer layer on top of the token core. Shared by
 * `createSerializer` and the session manager so both read and write exactly the same tokens.
 *
 * @internal
 */
import { PayloadMalformed, SessionError } from '../errors.js'
import type { VerifyResult } from '../signer.js'
import { decodeValue, encodeText, stringify } from '../serializer.js'
import { FLAG_DEFLATE, FLAG_OBJECT, type OpenedToken, type TokenFormat } from './token.js'

/** What a verified token says besides its value; every format reports the same. */
export interface TokenFacts {
  /** Seconds since the epoch. */
  readonly issuedAt: number
  /** Seconds since the epoch, if the token carries an expiry. */
  readonly expiresAt: number | undefined
  readonly keyId: string
  /** Whether a key other than the newest verified it. */
  readonly stale: boolean
}

/** A verified token: its value and what the token said about it. */
export class DecodedValue implements TokenFacts {
  constructor(
    readonly value: unknown,
    /** Seconds since the epoch. */
    readonly issuedAt: number,
    /** Seconds since the epoch, if the token carries an expiry. */
    readonly expiresAt: number | undefined,
    readonly keyId: string,
    /** Whether a key other than the newest verified it. */
    readonly stale: boolean,
  ) {}
}

export class ObjectCodec {
  readonly #core: TokenFormat
  readonly #compressThreshold: number
  readonly #maxBytes: number
  readonly #path: string | undefined

  /**
   * The options are validated by the caller (createObjectCodec). `path` names the value in the
   * TypeError thrown for something that cannot be stored.
   */
  constructor(core: TokenFormat, compressThreshold: number, maxBytes: number, path?: string) {
    this.#core = core
    this.#compressThreshold = compressThreshold
    this.#maxBytes = maxBytes
    this.#path = path
  }

  encode(value: unknown, issuedAt: number, expiresAt: number | undefined): string {
    const text = stringify(value, this.#path)
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: text this short can neither exceed
    // maxBytes nor reach the compression threshold, so the core writes it into the token body
    // directly, without an intermediate copy.
    const most = 3 * text.length
    if (most < this.#compressThreshold && most <= this.#maxBytes) return this.#core.seal(FLAG_OBJECT, issuedAt, expiresAt, text)
    const { bytes, compressed } = encodeText(text, this.#compressThreshold, this.#maxBytes)
    return this.#core.seal(compressed ? FLAG_OBJECT | FLAG_DEFLATE : FLAG_OBJECT, issuedAt, expiresAt, bytes)
  }

  decode(token: string, now: number, maxAge: number | undefined): DecodedValue | SessionError {
    const opened = this.#core.open(token, now, maxAge)
    if (opened instanceof SessionError) return opened
    if ((opened.flags & FLAG_OBJECT) === 0) return new PayloadMalformed('token holds a string or bytes value, not an object')
    try {
      const value = decodeValue(opened.payload, (opened.flags & FLAG_DEFLATE) !== 0, this.#maxBytes)
      return new DecodedValue(value, opened.issuedAt, opened.expiresAt, opened.key.id, opened.key.index !== 0)
    } catch (error) {
      return error instanceof SessionError ? error : new PayloadMalformed('token payload could not be decoded')
    }
  }
}

/** The success shape of `verify`: times as Dates, and which key verified. */
export function verified<T>(token: TokenFacts, value: T): VerifyResult<T> {
  return {
    ok: true,
    value,
    issuedAt: new Date(token.issuedAt * 1000),
    expiresAt: token.expiresAt === undefined ? undefined : new Date(token.expiresAt * 1000),
    keyId: token.keyId,
    stale: token.stale,
  }
}
