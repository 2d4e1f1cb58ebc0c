/**
 * What both kinds of session manager share: the manager's entry in a session's meta bag, decoding
 * a cookie value into session data, rejecting a bad cookie, the clock, and reading the commit
 * context.
 *
 * @internal
 */
import { PayloadMalformed, SessionError, SessionExpired } from '../errors.js'
import { strictOptions } from '../lib/options.js'
import { DecodedValue } from '../lib/result.js'
import { toSeconds } from '../lib/token.js'
import { openSession, type Session, type SessionData } from '../session.js'
import type { TokenCookieWriter } from '../cookie/cookie.js'
import { varyWithCookie } from '../lib/vary.js'
import type { Config } from './config.js'
import { Incoming, readCookieValue } from './cookies.js'

/**
 * Per-request context for {@link Sessions.commit}.
 *
 * @example
 * ```ts
 * const context: CommitContext = { secure: new URL(request.url).protocol === 'https:', vary: response.headers.get('vary') }
 * const { setCookie, vary } = sessions.commit(session, context)
 * ```
 */
export interface CommitContext {
  /** Whether the request came over HTTPS; decides `Secure` when the cookie option is `'auto'`. */
  secure?: boolean
  /**
   * The response's `Vary` header as it stands, so the result can merge `Cookie` into it: as
   * frameworks return it (`res.getHeader('Vary')`, `reply.getHeader('vary')`, `ctx.response.get('Vary')`),
   * a list of values included.
   */
  vary?: string | readonly string[] | number | null | undefined
  /**
   * The response's status. On a 5xx (a failed request, such as the error page for a handler that
   * threw halfway) no session cookie is written: the client keeps the session it had. Omit it to
   * commit whatever the status (the way to keep a session on a 5xx on purpose).
   */
  status?: number
}

/**
 * What an adapter writes for a session: every header, computed by the manager.
 *
 * @example
 * ```ts
 * const { setCookie, vary } = sessions.commit(session, { vary: res.getHeader('Vary') })
 * for (const value of setCookie) res.appendHeader('Set-Cookie', value)
 * if (vary !== undefined) res.setHeader('Vary', vary)
 * ```
 */
export interface SessionCommit {
  /** `Set-Cookie` values to append (never to replace others with): the cookie, its chunks, deletions. */
  readonly setCookie: string[]
  /**
   * The `Vary` value to set, with `Cookie` merged into the context's `vary`, when the response
   * depends on the session; undefined when `Vary` needs no change.
   */
  readonly vary: string | undefined
}

/** What the manager keeps in a session's meta bag. A class, so every read builds the same shape. */
export class Meta {
  readonly incoming = new Incoming()
  issuedAt: number | undefined = undefined
  expiresAt: number | undefined = undefined
  // Stryker disable next-line BooleanLiteral: equivalent, a session whose staleness counts got it from the token (test/mutation-equivalents.md)
  stale = false
  error: SessionError | undefined = undefined
  /** With a store: the session's id in it (undefined until the session is first saved). */
  id: string | undefined = undefined
  /**
   * With `store`: each stored field's size (name and encoded value) as loaded or last written: the
   * fields a full write must remove, and the size of those a request leaves as they are.
   */
  storedSizes: ReadonlyMap<string, number> | undefined = undefined
  /** With a store and `user`: whose session it was when loaded (the index to add it to on change). */
  user: string | undefined = undefined
}
// The manager's entry in a session's meta bag (other code may keep its own entries there).
export type MetaBag = { frasco?: Meta }

// What read() and verify() accept as session data: a plain object, not another tagged value.
export function isSessionData(data: unknown): data is SessionData {
  return (
    typeof data === 'object' &&
    data !== null &&
    !Array.isArray(data) &&
    !(data instanceof Map || data instanceof Set || data instanceof Uint8Array || data instanceof Date)
  )
}

/**
 * Verifies a cookie value. A Frasco token's expiry is also capped at the lifetime from its issue:
 * a token minted without one (createSerializer with the session purpose) would otherwise never
 * expire, and sessions issued before `lifetime` was lowered would keep their longer expiry.
 */
export function decode(config: Config, value: string, now: number): DecodedValue | SessionError {
  const decoded = config.codec.decode(value, now, config.maxReadAge)
  if (decoded instanceof SessionError) return decoded
  if (!isSessionData(decoded.value)) return new PayloadMalformed('session payload is not an object')
  if (decoded.issuedAt === undefined) return decoded
  if (!config.codec.absoluteExpiry) {
    // The format carries no expiry: the session ends where the age limit of every read puts it.
    const limit = config.maxReadAge as number
    return new DecodedValue(decoded.value, decoded.issuedAt, decoded.issuedAt + limit, decoded.keyId, decoded.stale, decoded.persistent)
  }
  const cap = decoded.issuedAt + config.lifetime
  // Stryker disable next-line EqualityOperator: equivalent, at expiresAt === cap the value built below is the same (test/mutation-equivalents.md)
  if (decoded.expiresAt !== undefined && decoded.expiresAt <= cap) return decoded
  if (now - config.codec.clockTolerance >= cap) return new SessionExpired(new Date(cap * 1000))
  return new DecodedValue(decoded.value, decoded.issuedAt, cap, decoded.keyId, decoded.stale, decoded.persistent)
}

/** read() of a cookie-mode manager. */
export function read<T extends object>(config: Config, cookieHeader: string | null | undefined): Session<T> {
  const meta = new Meta()
  const header = typeof cookieHeader === 'string' ? cookieHeader : undefined
  const value = readCookieValue(header, config.name, config.maxChunks, meta.incoming)
  if (value instanceof SessionError) return reject(config, value, meta)
  if (value === undefined || value === '') return openSession<T>(undefined, true, { frasco: meta }, config.persistent, config.persistent)
  const decoded = decode(config, value, nowSeconds(config))
  if (decoded instanceof SessionError) return reject(config, decoded, meta)
  meta.issuedAt = decoded.issuedAt
  meta.expiresAt = decoded.expiresAt
  meta.stale = decoded.stale
  return openSession<T>(decoded.value as SessionData, false, { frasco: meta }, decoded.persistent, config.persistent)
}

export function reject<T extends object>(config: Config, error: SessionError, meta: Meta): Session<T> {
  meta.error = error
  if (config.onInvalid !== undefined) {
    try {
      config.onInvalid(error)
    } catch {
      // A logging callback must not turn a bad cookie into a failed request.
    }
  }
  return openSession<T>(undefined, true, { frasco: meta }, config.persistent, config.persistent)
}

/** The writer of this response's cookies: with `secure: 'auto'` the request's scheme picks (with `secure: true` the plain writer is the secure one, see resolveCookie). */
export function writerFor(config: Config, secure: boolean | undefined): TokenCookieWriter {
  return config.secure === 'auto' && secure === true ? config.secureWriter : config.plainWriter
}

/**
 * A commit's headers. `Vary: Cookie` goes with every response that depends on the request's cookie:
 * one whose session was looked at, or that writes cookies (a deletion too). A new list every time:
 * the caller may add to it.
 */
export function commitResult(setCookie: string[], accessed: boolean, vary: string): SessionCommit {
  if (setCookie.length === 0 && !accessed) return { setCookie, vary: undefined }
  return { setCookie, vary: varyWithCookie(vary) }
}

// Date.now (as captured at construction) needs no checking; an application's clock is validated
// on every call.
export function nowSeconds(config: Config): number {
  return config.clockIsDateNow ? Math.floor(config.clock() / 1000) : toSeconds(config.clock(), 'clock')
}

export function isEmpty(data: Readonly<SessionData>): boolean {
  for (const _ in data) return false
  return true
}

/** RFC 9110 §15.6: a 5xx says the server failed to fulfil the request. */
export function isServerError(status: unknown): boolean {
  if (status === undefined) return false
  if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 999) {
    throw new TypeError('option status is invalid: give the response status, a whole number from 100 to 999')
  }
  return (status as number) >= 500 && (status as number) <= 599
}

/** The Vary value a framework handed over, as one comma-separated text. */
export function varyText(current: unknown): string {
  if (typeof current === 'string') return current
  if (current === undefined || current === null) return ''
  if (Array.isArray(current)) return current.join(', ')
  if (typeof current === 'number') return String(current)
  throw new TypeError("option vary is invalid: give the response's Vary header as a string or a list of strings (or nothing)")
}

/** A session that regenerate(callback) replaced on req.session is a read-only leftover. */
export function assertCommittable(state: { readonly replaced: boolean }): void {
  if (state.replaced) {
    throw new TypeError('this session was regenerated and replaced: commit req.session (read it again after regenerate()), not the old object')
  }
}

const CONTEXT_KEYS = new Set(['secure', 'vary', 'status'])

/** A commit context, checked: the Vary text to merge into, and whether the response failed (5xx). */
export function readContext(context: CommitContext | undefined, where: string): { vary: string; failed: boolean } {
  if (context === undefined) return { vary: '', failed: false }
  strictOptions(context, CONTEXT_KEYS, where)
  if (context.secure !== undefined && typeof context.secure !== 'boolean') throw new TypeError('option secure is invalid: give true when the request came over HTTPS, else false')
  return { vary: varyText(context.vary), failed: isServerError(context.status) }
}
