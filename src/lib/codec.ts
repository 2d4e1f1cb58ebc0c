/**
 * Objects in the f1 and e1 formats: the serializer layer on top of the token core. Shared by
 * `createSerializer` and the session manager so both read and write exactly the same tokens.
 *
 * @internal
 */
import { PayloadMalformed, SessionError } from '../errors.js'
import type { VerifyResult } from '../signer.js'
import { decodePayload, encodePayload, type DecodePayloadOptions, type EncodePayloadOptions } from '../serializer.js'
import { FLAG_DEFLATE, FLAG_OBJECT, type OpenedToken, type TokenFormat } from './token.js'

export interface DecodedValue {
  value: unknown
  token: OpenedToken
}

export class ObjectCodec {
  readonly #core: TokenFormat
  readonly #encode: EncodePayloadOptions
  readonly #decode: DecodePayloadOptions

  /** `path` names the value in the TypeError thrown for something that cannot be stored. */
  constructor(core: TokenFormat, compressThreshold: number, maxBytes: number, path?: string) {
    this.#core = core
    this.#encode = path === undefined ? { compressThreshold, maxBytes } : { compressThreshold, maxBytes, path }
    this.#decode = { maxBytes }
  }

  encode(value: unknown, issuedAt: number, expiresAt: number | undefined): string {
    const { bytes, compressed } = encodePayload(value, this.#encode)
    return this.#core.seal(compressed ? FLAG_OBJECT | FLAG_DEFLATE : FLAG_OBJECT, issuedAt, expiresAt, bytes)
  }

  decode(token: string, now: number, maxAge: number | undefined): DecodedValue | SessionError {
    const opened = this.#core.open(token, { now, maxAge })
    if (opened instanceof SessionError) return opened
    if ((opened.flags & FLAG_OBJECT) === 0) return new PayloadMalformed('token holds a string or bytes value, not an object')
    try {
      return { value: decodePayload(opened.payload, (opened.flags & FLAG_DEFLATE) !== 0, this.#decode), token: opened }
    } catch (error) {
      return error instanceof SessionError ? error : new PayloadMalformed('token payload could not be decoded')
    }
  }
}

/** The success shape of `verify` for an opened token. */
export function verified<T>(token: OpenedToken, value: T): VerifyResult<T> {
  return {
    ok: true,
    value,
    issuedAt: new Date(token.issuedAt * 1000),
    expiresAt: token.expiresAt === undefined ? undefined : new Date(token.expiresAt * 1000),
    keyId: token.key.id,
    stale: token.key.index !== 0,
  }
}
