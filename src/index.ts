// Frasco's public API: what an application needs. Re-exports only: no logic lives here.
// Cookie parsing and writing are in `frasco/cookie`, Flask and itsdangerous in `frasco/flask`,
// the adapters in `frasco/node` and `frasco/fetch`.
export {
  ChangedAfterCommit,
  CsrfRefused,
  SecureCookieOverHttp,
  SessionRevoked,
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
  type CsrfRefusedCode,
  type SessionErrorCode,
} from './errors.js'
export {
  FRASCO_CSRF,
  checkCsrf,
  csrfToken,
  type CsrfOptions,
  type CsrfRequest,
  type CsrfTokenScheme,
} from './csrf.js'
export {
  MIN_SECRET_BYTES,
  createKeyring,
  deriveKeyId,
  isKeyring,
  secretsFromEnv,
  type Key,
  type Keyring,
  type KeyringEntry,
  type Secret,
  type SecretsInput,
} from './keyring.js'
export type { Clock, CompressOption } from './lib/options.js'
export type { SessionFormat } from './lib/format.js'
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
  isStoredSessions,
  type CommitContext,
  type SessionCommit,
  type SessionCookieOptions,
  type SessionSignOptions,
  type SessionVerifyOptions,
  type SessionVerifyResult,
  type SessionStoreOptions,
  type Sessions,
  type SessionsOptions,
  type StoredSessions,
  type StoredSessionsOptions,
} from './sessions.js'
