// Frasco's public API. Re-exports only: no logic lives here.
export {
  CookieTooLarge,
  DecompressionTooLarge,
  NotYetValid,
  PayloadMalformed,
  PayloadTooLarge,
  SessionError,
  SessionExpired,
  SignatureInvalid,
  UnknownKey,
  UnsupportedVersion,
  isSessionError,
  type SessionErrorCode,
} from './errors.js'
export { decodeBase64url, encodeBase64url, isBase64url } from './encoding.js'
export {
  MIN_SECRET_BYTES,
  createKeyring,
  deriveKeyId,
  secretsFromEnv,
  type Key,
  type Keyring,
  type KeyringEntry,
  type Secret,
  type SecretsInput,
} from './keyring.js'
export {
  createSerializer,
  createSigner,
  type Serializer,
  type SerializerOptions,
  type SignOptions,
  type Signer,
  type SignerOptions,
  type VerifyOptions,
  type VerifyResult,
} from './signer.js'
export {
  DEFAULT_COMPRESS_THRESHOLD,
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_DEPTH,
  decodePayload,
  encodePayload,
  parse,
  stringify,
  type DecodePayloadOptions,
  type EncodePayloadOptions,
  type EncodedPayload,
} from './serializer.js'
export {
  MAX_COOKIE_BYTES,
  MAX_COOKIE_LIFETIME,
  createCookieWriter,
  getCookie,
  parseCookie,
  stringifySetCookie,
  type CookieAttributes,
  type CookieAttributesFor,
  type CookieLifetime,
  type CookieOptionsFor,
  type CookiePriority,
  type CookieSameSite,
  type CookieWriter,
  type ParseCookieOptions,
  type SetCookieOptions,
} from './cookie.js'
export {
  isSession,
  type FlashFilter,
  type FlashMessage,
  type Session,
  type SessionCallback,
  type SessionData,
  type SessionEntry,
  type SessionMethods,
} from './session.js'
export {
  createSessions,
  type CommitContext,
  type SessionCookieOptions,
  type Sessions,
  type SessionsOptions,
} from './sessions.js'
