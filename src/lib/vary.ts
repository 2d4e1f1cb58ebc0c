/**
 * What the node and Fetch adapters share: merging `Cookie` into a `Vary` value, the rule that
 * decides `Secure` for `cookie.secure: 'auto'`, and the check of their options (strict: an
 * unknown key is a TypeError). Internal: not exported from any entry point.
 *
 * @module
 */

import { ADAPTER_HINTS, assertKnownKeys } from './options.js'

const TRUST_PROXY_ONLY: ReadonlySet<string> = new Set(['trustProxy'])

/** The options both adapters take. */
export interface AdapterOptions {
  trustProxy?: boolean
}

// RFC 9110 §12.5.5: Vary = #( "*" / field-name ). A list member (between commas, optional
// whitespace around it; field names are case-insensitive) that is already "*" or "Cookie" covers
// the session.
const COVERS_COOKIE = /(?:^|,)[ \t]*(?:\*|cookie)[ \t]*(?:,|$)/i

/**
 * The `Vary` value with `Cookie` merged in, or `undefined` when `current` already covers it
 * (`*`, or a `Cookie` member in any case). Never repeats `Cookie`, never drops a member.
 *
 * @example
 * ```ts
 * varyWithCookie('')            // 'Cookie'
 * varyWithCookie('Accept')      // 'Accept, Cookie'
 * varyWithCookie('accept, COOKIE') // undefined: nothing to add
 * ```
 */
export function varyWithCookie(current: string): string | undefined {
  // The common case, no Vary yet, without a regex.
  if (current === '') return 'Cookie'
  if (COVERS_COOKIE.test(current)) return undefined
  return current.trim() === '' ? 'Cookie' : `${current}, Cookie`
}

/**
 * The one rule both adapters use for `cookie.secure: 'auto'`. `direct` is what the server itself
 * knows (node: a TLS socket; Fetch: an https request URL) and always wins: a proxy header cannot
 * downgrade it. Otherwise the first `X-Forwarded-Proto` value counts, and only with `trustProxy`
 * (a client can send that header to any server; only a proxy that overwrites it makes it true).
 *
 * @example
 * ```ts
 * isSecureRequest(false, 'https', true)  // true: behind a trusted proxy that terminated TLS
 * isSecureRequest(true, 'http', true)    // true: the TLS connection wins
 * isSecureRequest(false, 'https', false) // false: the header is not trusted
 * ```
 */
export function isSecureRequest(direct: boolean, forwardedProto: string | readonly string[] | null | undefined, trustProxy: boolean): boolean {
  if (direct) return true
  if (!trustProxy || forwardedProto === null || forwardedProto === undefined) return false
  const value = typeof forwardedProto === 'string' ? forwardedProto : forwardedProto[0]
  return value?.split(',', 1)[0]?.trim().toLowerCase() === 'https'
}

/**
 * Checks an adapter's options (`undefined` is no options) and returns whether to trust
 * `X-Forwarded-Proto`. `caller` names the function in the message.
 *
 * @throws {TypeError} `option trustProxy is invalid: …` for anything but a boolean, and for an
 *   options argument that is not an object.
 * @example
 * ```ts
 * const trustProxy = assertTrustProxy(options, 'sessionMiddleware')
 * ```
 */
export function assertTrustProxy(options: unknown, caller: string, known: ReadonlySet<string> = TRUST_PROXY_ONLY): boolean {
  if (options === undefined) return false
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options are invalid: ${caller} takes an options object, e.g. { trustProxy: true }, or nothing`)
  }
  assertKnownKeys(options, known, '', ADAPTER_HINTS)
  const trustProxy = (options as AdapterOptions).trustProxy
  if (trustProxy === undefined || trustProxy === false) return false
  if (trustProxy === true) return true
  throw new TypeError(
    'option trustProxy is invalid: give true (only behind a proxy that sets X-Forwarded-Proto itself) or false',
  )
}
