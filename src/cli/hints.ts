/**
 * What `frasco verify` says when a token does not verify: which flag reads a token of another
 * format, and what a failed signature, an unknown key or an expiry most likely mean.
 *
 * @internal
 */
import { NotYetValid, SessionExpired, type SessionError } from '../errors.js'
import { DEFAULT_CLOCK_TOLERANCE } from '../lib/token.js'
import type { TokenFormat } from './inspect.js'
import { DEFAULT_CLI_PURPOSE } from './io.js'

/** The flags that choose how `verify` reads a token. */
export interface ReadFlags {
  format: 'frasco' | 'flask' | undefined
  encrypt: boolean
  purpose: string
  /**
   * The name of the cookie the token was pasted with (`sid=f1.…`) when, without `--purpose`, it
   * chose the purpose `session:<name>`; undefined otherwise.
   */
  cookieName: string | undefined
  clockTolerance: number | undefined
}

/** A token that cannot verify with these flags, and why: its code and a one-line reason. */
export interface Mismatch {
  code: 'ERR_SESSION_UNSUPPORTED_VERSION' | 'ERR_SESSION_MALFORMED'
  message: string
}

/**
 * The flag to add (or drop) when the token is of a format other than the one the flags read;
 * undefined when they match or the token has no recognizable shape (the verifier then says why).
 */
export function formatMismatch(seen: TokenFormat, flags: ReadFlags): Mismatch | undefined {
  if (seen === 'unknown') return undefined
  if (flags.format === 'flask') {
    if (seen === 'flask') return undefined
    const encrypted = seen === 'f1' ? '' : ' and add --encrypt'
    return { code: 'ERR_SESSION_MALFORMED', message: `this is a Frasco token (${seen}), not a Flask session cookie: drop --format flask${encrypted}` }
  }
  if (seen === 'flask') {
    const encrypt = flags.encrypt ? ' and drop --encrypt' : ''
    return { code: 'ERR_SESSION_MALFORMED', message: `this is a Flask session cookie: add --format flask${encrypt} (the secrets are then Flask's SECRET_KEY)` }
  }
  if (seen === 'f1' && flags.encrypt) {
    return { code: 'ERR_SESSION_UNSUPPORTED_VERSION', message: 'this is a signed Frasco token (f1), not an encrypted one: drop --encrypt' }
  }
  if (seen !== 'f1' && !flags.encrypt) {
    return { code: 'ERR_SESSION_UNSUPPORTED_VERSION', message: `this is an encrypted Frasco token (${seen}): add --encrypt` }
  }
  return undefined
}

/**
 * Said of input that has the shape of no format Frasco reads (`formatMismatch` handled the
 * others): most often a cookie pasted with more around it than `name=value; attributes`.
 */
export const NO_TOKEN_HINT = 'this is not a token: give the cookie value alone, or one cookie as name=value, not a whole Cookie header'

/** The verifier's reason, with what most likely caused it and the flag that would change it. */
export function explain(error: SessionError, flags: ReadFlags): string {
  const tolerance = flags.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE
  const clocks = `clocks may differ by ${tolerance} s (--clock-tolerance)`
  if (error instanceof SessionExpired) return `${error.message} (at ${error.expiredAt.toISOString()}; ${clocks})`
  if (error instanceof NotYetValid) return `${error.message} (at ${error.issuedAt.toISOString()}; ${clocks})`
  const flask = flags.format === 'flask'
  switch (error.code) {
    case 'ERR_SESSION_SIGNATURE_INVALID':
      return flask ? flaskSignature() : frascoSignature(flags.purpose, flags.cookieName)
    case 'ERR_SESSION_UNKNOWN_KEY':
      return `${error.message}: add the secret that signed it to FRASCO_SECRETS or --secrets-file, after the newest`
    default:
      return error.message
  }
}

// The purpose (and with it the cookie name of a session) is part of what is signed.
function frascoSignature(purpose: string, cookieName: string | undefined): string {
  const question = 'signature does not match: was it signed with another secret, or for another purpose?'
  if (cookieName !== undefined) {
    return `${question} (this checked the purpose ${purpose} of a session cookie named ${cookieName}; give --purpose P if it was signed for another)`
  }
  if (purpose === DEFAULT_CLI_PURPOSE) {
    return (
      `${question} (the default purpose is ${DEFAULT_CLI_PURPOSE}, the purpose of createSessions' cookie "session"; ` +
      'give --purpose session:<cookie name> for another cookie name)'
    )
  }
  return `${question} (this checked --purpose ${purpose}; createSessions signs a cookie named NAME with the purpose session:NAME)`
}

function flaskSignature(): string {
  return (
    "signature does not match: was it signed with another SECRET_KEY? (give the app's SECRET_KEY, then its " +
    "SECRET_KEY_FALLBACKS, newest first; this reads Flask's default salt 'cookie-session')"
  )
}
