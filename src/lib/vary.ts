/**
 * What the node and Fetch adapters share: merging `Cookie` into a `Vary` value, the rule that
 * decides `Secure` for `cookie.secure: 'auto'`, and the check of their options (strict: an
 * unknown key is a TypeError). Internal: not exported from any entry point.
 *
 * @module
 */

import { SecureCookieOverHttp } from '../errors.js'
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

/** The session managers already warned about a Secure cookie over plain http: once each. */
const warnedInsecure = new WeakSet<object>()

/**
 * Whether the cookies a manager just wrote carry `Secure`, for {@link insecureCookieWarning}: its
 * `cookie.secure` when fixed, and with `'auto'` what the adapter asked for (`secure` of the commit
 * context, which the manager follows).
 *
 * @example
 * ```ts
 * const secure = writesSecure(sessions, context.secure)
 * ```
 */
export function writesSecure(manager: { readonly secure: boolean | 'auto' }, asked: boolean | undefined): boolean {
  return manager.secure === 'auto' ? asked === true : manager.secure
}

// Hosts a browser treats as potentially trustworthy over plain http: it keeps Secure cookies for
// them (localhost, *.localhost, the loopback addresses).
const LOOPBACK_HOST = /^(?:localhost|.+\.localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i

// A Host header is the client's: it goes into the message only when it looks like a host.
const PLAIN_HOST = /^[a-z0-9.:[\]-]{1,255}$/i

/**
 * The protocol the browser used, as the proxy nearest to it reported: the first X-Forwarded-Proto
 * value, or the first `proto=` of a Forwarded header (RFC 7239 §5.4); undefined when neither says.
 */
function forwardedProtocol(forwardedProto: string | readonly string[] | null | undefined, forwarded: string | readonly string[] | null | undefined): string | undefined {
  const proto = typeof forwardedProto === 'string' ? forwardedProto : forwardedProto?.[0]
  if (typeof proto === 'string' && proto.trim() !== '') return (proto.split(',', 1)[0] as string).trim().toLowerCase()
  const text = typeof forwarded === 'string' ? forwarded : forwarded?.join(',')
  return text === undefined ? undefined : FORWARDED_PROTO.exec(text)?.[1]?.toLowerCase()
}

const FORWARDED_PROTO = /(?:^|[;,])[ \t]*proto="?([A-Za-z][A-Za-z0-9+.-]*)"?[ \t]*(?=[;,]|$)/i

/**
 * The warning to report when a manager just wrote a `Secure` cookie (`secure`, see
 * {@link writesSecure}) for a request that did not arrive over TLS, to a host a browser does not
 * exempt: the browser drops the cookie and the user is logged out without a trace. `undefined`
 * when all is well, or when this manager was already warned (once per manager, never per
 * request). A proxy's `X-Forwarded-Proto: https` or `Forwarded: proto=https` counts even without
 * `trustProxy`: the browser saw https, so the cookie works, and only `cookie.secure: 'auto'`
 * depends on trusting the header. The cheap tests come first: on most requests the cookie is not
 * Secure, or the request came over TLS.
 *
 * @example
 * ```ts
 * const warning = insecureCookieWarning(sessions, true, false, null, null, 'example.com')
 * if (warning !== undefined) onError(warning)
 * ```
 */
export function insecureCookieWarning(
  manager: object,
  secure: boolean,
  direct: boolean,
  forwardedProto: string | readonly string[] | null | undefined,
  forwarded: string | readonly string[] | null | undefined,
  host: string | null | undefined,
): SecureCookieOverHttp | undefined {
  if (!secure || direct || warnedInsecure.has(manager)) return undefined
  if (forwardedProtocol(forwardedProto, forwarded) === 'https') return undefined
  const hostname = (host ?? '').replace(/:\d+$/, '')
  if (LOOPBACK_HOST.test(hostname)) return undefined
  warnedInsecure.add(manager)
  return new SecureCookieOverHttp(PLAIN_HOST.test(hostname) ? hostname : '')
}
