/**
 * Objects in the f1, x1 and e1 formats: the serializer layer on top of the token core, and the
 * validation of the options every f1/e1 factory shares. Used by `createSigner`,
 * `createSerializer` and the native session format, so all read and write exactly the same tokens.
 *
 * @internal
 */
import { PayloadMalformed, SessionError } from '../errors.js'
import { createKeyring, type Keyring, type SecretsInput } from '../keyring.js'
import { DEFAULT_COMPRESS_THRESHOLD, DEFAULT_MAX_PAYLOAD_BYTES, decodeValue, encodeText, stringify } from '../serializer.js'
import { clockOption, compressOption, lifetimeOption, type Clock, type CompressOption } from './options.js'
import { DecodedValue } from './result.js'
import {
  DEFAULT_CLOCK_TOLERANCE,
  DEFAULT_MAX_TOKEN_LENGTH,
  FLAG_DEFLATE,
  FLAG_OBJECT,
  FLAG_PERSISTENT,
  TokenCore,
  assertPurpose,
  type TokenCoreOptions,
  type TokenFormat,
} from './token.js'
import { ExtendedCore } from './xaes.js'

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

  encode(value: unknown, issuedAt: number, expiresAt: number | undefined, persistent = false): string {
    const text = stringify(value, this.#path)
    const flags = persistent ? FLAG_OBJECT | FLAG_PERSISTENT : FLAG_OBJECT
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: text this short can neither exceed
    // maxBytes nor reach the compression threshold, so the core writes it into the token body
    // directly, without an intermediate copy.
    const most = 3 * text.length
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a shortcut: encodeText would write the same bytes (test/mutation-equivalents.md)
    if (most < this.#compressThreshold && most <= this.#maxBytes) return this.#core.seal(flags, issuedAt, expiresAt, text)
    const { bytes, compressed } = encodeText(text, this.#compressThreshold, this.#maxBytes)
    const token = this.#core.seal(compressed ? flags | FLAG_DEFLATE : flags, issuedAt, expiresAt, bytes)
    // Our own copy of the payload (plaintext, for an encrypting core): not left behind in memory.
    bytes.fill(0)
    return token
  }

  decode(token: string, now: number, maxAge: number | undefined): DecodedValue | SessionError {
    const opened = this.#core.open(token, now, maxAge)
    if (opened instanceof SessionError) return opened
    if ((opened.flags & FLAG_OBJECT) === 0) return new PayloadMalformed('token holds a string or bytes value, not an object')
    try {
      const value = decodeValue(opened.payload, (opened.flags & FLAG_DEFLATE) !== 0, this.#maxBytes)
      const persistent = (opened.flags & FLAG_PERSISTENT) !== 0
      return new DecodedValue(value, opened.issuedAt, opened.expiresAt, opened.key.id, opened.key.index !== 0, persistent)
    } catch (error) {
      // Stryker disable next-line StringLiteral: equivalent, decodeValue throws only SessionErrors (test/mutation-equivalents.md)
      return error instanceof SessionError ? error : new PayloadMalformed('token payload could not be decoded')
    }
  }
}

/** The options of every f1/e1 token factory (`createSigner`, and with more, `createSerializer`). */
export interface TokenFactoryOptions {
  secrets: SecretsInput | Keyring
  purpose: string
  clockTolerance?: number
  maxTokenLength?: number
  clock?: Clock
}

/** The options of the object codec (`createSerializer`, the native session format). */
export interface ObjectCodecOptions extends TokenFactoryOptions {
  compress?: CompressOption
  maxBytes?: number
  encrypt?: boolean
}

export const TOKEN_OPTION_KEYS: readonly string[] = ['secrets', 'purpose', 'clockTolerance', 'maxTokenLength', 'clock']
export const OBJECT_OPTION_KEYS: readonly string[] = [...TOKEN_OPTION_KEYS, 'compress', 'maxBytes', 'encrypt']

/** Validated factory options: the keyring, the core's options and the clock. */
export interface TokenSetup {
  readonly keyring: Keyring
  readonly core: TokenCoreOptions
  readonly clock: Clock
}

/** Validates what every f1/e1 factory shares. The caller has checked the keys already. */
export function setUpTokens(options: TokenFactoryOptions): TokenSetup {
  const keyring = createKeyring(options.secrets)
  assertPurpose(options.purpose)
  const clockTolerance = options.clockTolerance === undefined ? DEFAULT_CLOCK_TOLERANCE : lifetimeOption(options.clockTolerance, 'clockTolerance', true)
  const maxTokenLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH
  if (!Number.isSafeInteger(maxTokenLength) || maxTokenLength < 64) {
    throw new TypeError('option maxTokenLength is invalid: give a whole number of characters, at least 64')
  }
  return { keyring, core: { purpose: options.purpose, clockTolerance, maxTokenLength }, clock: clockOption(options.clock) }
}

/**
 * Validates object-codec options and builds the codec. `path` names the value in the TypeError
 * for something that cannot be stored.
 */
export function createObjectCodec(options: ObjectCodecOptions, setup: TokenSetup, path?: string): ObjectCodec {
  if (options.encrypt !== undefined && typeof options.encrypt !== 'boolean') {
    throw new TypeError('option encrypt is invalid: give true to encrypt with XAES-256-GCM, or false')
  }
  // Encrypted tokens are written as x1 (XAES-256-GCM, no per-key message limit); the x1 core
  // still reads e1 (AES-256-GCM) tokens, so sessions sealed before stay valid.
  const core = options.encrypt === true ? new ExtendedCore(setup.keyring, setup.core) : new TokenCore(setup.keyring, setup.core)
  // Encrypted payloads are not compressed unless asked for: the length of compressed ciphertext
  // tells whether text the user controls matches secret text beside it (docs/security.md).
  const compress = options.compress === undefined && options.encrypt === true ? false : options.compress
  const compressThreshold = compressOption(compress, DEFAULT_COMPRESS_THRESHOLD)
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > 2 ** 31 - 1) {
    throw new TypeError('option maxBytes is invalid: give a positive whole number of bytes')
  }
  return new ObjectCodec(core, compressThreshold, maxBytes, path)
}
