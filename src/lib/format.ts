/**
 * What a session format is to the session manager: how a session's data becomes a cookie value
 * and back. Frasco's own format (signed f1 or encrypted e1) is the default; Flask's lives in
 * `frasco/flask` and is handed to `createSessions` as `format`. The manager knows nothing of either.
 *
 * @internal
 */
import type { SessionError } from '../errors.js'
import type { CompressOption } from './options.js'
import type { DecodedValue } from './result.js'

/** What the manager hands a format when it is created: its own options, already checked. */
export interface SessionFormatContext {
  /** The `secrets` option as the application gave it; the format validates it. */
  readonly secrets: unknown
  /** What the tokens are bound to: `session:<cookie name>`. */
  readonly purpose: string
  readonly encrypt: boolean | undefined
  readonly compress: CompressOption | undefined
  /** Seconds; undefined for the format's default. */
  readonly clockTolerance: number | undefined
  /** Longest cookie value accepted, in characters. */
  readonly maxTokenLength: number
}

/** One manager's session codec. Times are whole seconds since the epoch. */
export interface SessionCodec {
  /** Whether tokens carry an absolute expiry (Frasco) or only an issue time (Flask). */
  readonly absoluteExpiry: boolean
  /** The clock tolerance in force, in seconds. */
  readonly clockTolerance: number
  /**
   * Writes the session. Throws `CookieTooLarge` when the payload exceeds what a reader inflates,
   * `TypeError` for a value that cannot be stored.
   */
  encode(data: object, issuedAt: number, expiresAt: number | undefined, persistent: boolean): string
  /** Verifies a cookie value; a token issued more than `maxAge` seconds ago is expired. */
  decode(value: string, now: number, maxAge: number | undefined): DecodedValue | SessionError
}

/**
 * A session cookie format for `createSessions({ format })`: Frasco's own (the default) or Flask's
 * (`createFlaskFormat()` from `frasco/flask`).
 *
 * @example
 * ```ts
 * import { createFlaskFormat } from 'frasco/flask'
 *
 * const format: SessionFormat = createFlaskFormat()
 * const sessions = createSessions({ secrets: process.env.SECRET_KEY!, format })
 * ```
 */
export interface SessionFormat {
  /** `'frasco'` or `'flask'`; for messages and logs. */
  readonly name: string
  /** The session lifetime in seconds when `createSessions` is given none. */
  readonly defaultLifetime: number
  /** Whether sessions may be split over several cookies by default (a Flask app reads one cookie only). */
  readonly defaultChunking: boolean
  /** Builds the codec for one manager; throws a TypeError for an option the format cannot honour. */
  createCodec(context: SessionFormatContext): SessionCodec
}
