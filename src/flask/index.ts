// `frasco/flask`: Flask session cookies and itsdangerous tokens. Re-exports only: no logic here.
export { createFlaskFormat, type FlaskFormatOptions } from './format.js'
export {
  FLASK_DEFAULT_COMPRESS_THRESHOLD,
  FLASK_DEFAULT_LIFETIME,
  createFlaskCodec,
  type FlaskCodec,
  type FlaskCodecOptions,
  type FlaskSignOptions,
  type FlaskVerifyOptions,
} from './codec.js'
export { createFlaskWtfCsrf, type FlaskWtfCsrfOptions } from './csrf.js'
export { Markup, UUID, isTuple, tuple } from './json.js'
export {
  createItsdangerousSerializer,
  createItsdangerousSigner,
  type ItsdangerousDigest,
  type ItsdangerousKeyDerivation,
  type ItsdangerousSecrets,
  type ItsdangerousSerializer,
  type ItsdangerousSerializerOptions,
  type ItsdangerousSignOptions,
  type ItsdangerousSigner,
  type ItsdangerousSignerOptions,
  type ItsdangerousTextSerializer,
  type ItsdangerousVerifyOptions,
} from './itsdangerous.js'
