/**
 * Frasco's own session format: the f1 (signed) or e1 (encrypted) object token, the same one
 * `createSerializer` writes, with the session's expiry and persistence inside the MAC.
 *
 * @module
 */
import { CookieTooLarge, PayloadTooLarge } from '../errors.js'
import { createObjectCodec, setUpTokens } from '../lib/codec.js'
import type { SessionCodec, SessionFormat, SessionFormatContext } from '../lib/format.js'
import type { SecretsInput } from '../keyring.js'

// What a value that cannot be stored is called in the TypeError: `value at session.cart[0] is …`.
const SESSION_PATH = 'session'

/** Seven days, the lifetime when none is given. */
const DEFAULT_LIFETIME = 7 * 24 * 60 * 60

function createCodec(context: SessionFormatContext): SessionCodec {
  const options = {
    secrets: context.secrets as SecretsInput,
    purpose: context.purpose,
    maxTokenLength: context.maxTokenLength,
    ...(context.encrypt === undefined ? {} : { encrypt: context.encrypt }),
    ...(context.clockTolerance === undefined ? {} : { clockTolerance: context.clockTolerance }),
    ...(context.compress === undefined ? {} : { compress: context.compress }),
  }
  const setup = setUpTokens(options)
  const codec = createObjectCodec(options, setup, SESSION_PATH)
  return {
    absoluteExpiry: true,
    clockTolerance: setup.core.clockTolerance,
    encode(data, issuedAt, expiresAt, persistent) {
      try {
        return codec.encode(data, issuedAt, expiresAt, persistent)
      } catch (error) {
        // The payload cap: a session that compresses small but inflates beyond what read() accepts.
        if (!(error instanceof PayloadTooLarge)) throw error
        throw new CookieTooLarge(error.size, error.limit, `session of ${error.size} bytes (as JSON) exceeds ${error.limit} bytes, more than a reader inflates`)
      }
    },
    decode: (value, now, maxAge) => codec.decode(value, now, maxAge),
  }
}

/** The default format of `createSessions`. */
export const FRASCO_FORMAT: SessionFormat = Object.freeze({
  name: 'frasco',
  defaultLifetime: DEFAULT_LIFETIME,
  defaultChunking: true,
  createCodec,
})
