/**
 * The one result shape every verifier returns (Frasco's signer and serializer, the session
 * manager, Flask and itsdangerous tokens), and the facts a verified token reports.
 *
 * @internal
 */
import type { SessionError } from '../errors.js'

/**
 * The outcome of verifying a token; never thrown. `issuedAt`, `expiresAt` and `keyId` are present
 * only when the token carries them (an untimed itsdangerous token carries no time, and
 * itsdangerous tokens carry no key id).
 *
 * @example
 * ```ts
 * const result: VerifyResult<string> = signer.verify(token)
 * if (result.ok) console.log(result.value, result.expiresAt, result.stale)
 * else console.warn(result.error.code)
 * ```
 */
export type VerifyResult<T> =
  | {
      ok: true
      value: T
      /** When the token was signed, if it says. */
      issuedAt?: Date
      /** When the token stops being valid, if it carries an expiry. */
      expiresAt?: Date
      /** The id of the key that verified the token, if the format has key ids. */
      keyId?: string
      /** True when a key other than the newest verified the token: re-sign it with the newest. */
      stale: boolean
    }
  | { ok: false; error: SessionError }

/** What a verified token says besides its value; every format reports the same. */
export interface TokenFacts {
  /** Seconds since the epoch, if the token carries a time. */
  readonly issuedAt: number | undefined
  /** Seconds since the epoch, if the token carries an expiry. */
  readonly expiresAt: number | undefined
  /** The key id, if the format has key ids. */
  readonly keyId: string | undefined
  /** Whether a key other than the newest verified it. */
  readonly stale: boolean
}

/** A verified token: its value and what the token said about it. */
export class DecodedValue implements TokenFacts {
  constructor(
    readonly value: unknown,
    readonly issuedAt: number | undefined,
    readonly expiresAt: number | undefined,
    readonly keyId: string | undefined,
    readonly stale: boolean,
    /** Whether the session was marked persistent (a flag bit in Frasco's format, `_permanent` in Flask's). */
    readonly persistent = false,
  ) {}
}

/** The success shape of `verify`: times as Dates, each fact present only when the token has it. */
export function verified<T>(token: TokenFacts, value: T): VerifyResult<T> {
  const result: VerifyResult<T> = { ok: true, value, stale: token.stale }
  if (token.issuedAt !== undefined) result.issuedAt = new Date(token.issuedAt * 1000)
  if (token.expiresAt !== undefined) result.expiresAt = new Date(token.expiresAt * 1000)
  if (token.keyId !== undefined) result.keyId = token.keyId
  return result
}
