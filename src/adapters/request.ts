/**
 * What a Fetch `Request` tells the adapters built on it (frasco/fetch, frasco/hono): whether it
 * came over https, the app's origin, and its CSRF verdict (browser headers, then a token from a
 * header or a small form body).
 *
 * @internal
 */
import { checkHeaders, checkToken, isSafeMethod, NEEDS_TOKEN, type CsrfConfig } from '../csrf.js'
import type { CsrfRefused } from '../errors.js'
import { createReporter, describeTarget, report, type Reporter } from '../lib/report.js'
import { isSecureRequest } from '../lib/vary.js'
import type { Session } from '../session.js'

// A Request carries only its URL: whether the connection itself was TLS is not in it. Most
// servers build the URL from the connection; some (@hono/node-server) take an absolute-form target
// (`GET https://host/ HTTP/1.1`, sent over plain http) as the URL. docs/frameworks.md says what
// that means and when to prefer `cookie.secure: true`.
export function isSecure(request: Request, trustProxy: boolean): boolean {
  return isSecureRequest(request.url.startsWith('https:'), request.headers.get('x-forwarded-proto'), trustProxy)
}

/** The app's origin for this request: the request URL's, made https when a trusted proxy says so. */
function appOrigin(request: Request, trustProxy: boolean): string {
  try {
    const url = new URL(request.url)
    if (url.protocol === 'http:' && isSecure(request, trustProxy)) url.protocol = 'https:'
    return url.origin
  } catch {
    return ''
  }
}

/** The browser-header part of the CSRF check (see `checkCsrf` of `frasco`); undefined for a safe method. */
export function checkRequestHeaders(request: Request, config: CsrfConfig, trustProxy: boolean): CsrfRefused | typeof NEEDS_TOKEN | undefined {
  if (isSafeMethod(request.method)) return undefined
  const { headers } = request
  return checkHeaders({ method: request.method, origin: appOrigin(request, trustProxy), header: (name) => headers.get(name) ?? undefined }, config)
}

/** The largest form body the check reads for a token (64 KiB); a larger one is left to the handler. */
const MAX_TOKEN_FORM = 64 * 1024

// RFC 9110 §8.3.1: media types are case-insensitive; parameters follow a ';'.
const FORM_TYPE = /^[ \t]*(?:application\/x-www-form-urlencoded|multipart\/form-data)[ \t]*(?:;|$)/i

/** The token: the header, else the field of a form body, read from a clone (the handler reads the original). */
export async function requestToken(request: Request, config: CsrfConfig): Promise<string | undefined> {
  const header = request.headers.get(config.header)
  if (header !== null && header !== '') return header
  if (!FORM_TYPE.test(request.headers.get('content-type') ?? '')) return undefined
  // Read only a declared, small body: anyone can send this request, before any session or body
  // limit of the app applies, and a form carrying a token is a few hundred bytes.
  const length = Number(request.headers.get('content-length') ?? Number.NaN)
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_TOKEN_FORM) return undefined
  try {
    const value = (await request.clone().formData()).get(config.field)
    return typeof value === 'string' ? value : undefined
  } catch {
    // A body already read, or one that is not the form it claims to be: no token.
    return undefined
  }
}

/** A refused request's answer: a 403 naming the code, without the session cookie. */
export function refuse(error: CsrfRefused, request: Request, onError: Reporter<Request>): Response {
  report(onError, error, request)
  return new Response(`Forbidden: ${error.code}`, { status: 403, headers: { 'content-type': 'text/plain; charset=utf-8' } })
}

/**
 * The whole CSRF check of a request whose session is already read: the browser headers, then,
 * without them, a token of the session. Undefined when the request may go on.
 */
export async function checkRequestCsrf(request: Request, session: Session<any>, config: CsrfConfig, trustProxy: boolean): Promise<CsrfRefused | undefined> {
  const verdict = checkRequestHeaders(request, config, trustProxy)
  if (verdict !== NEEDS_TOKEN) return verdict
  return checkToken(await requestToken(request, config), session, config)
}

/**
 * The default `onError` of frasco/fetch and frasco/hono: a request is named by its method and its
 * URL's path (never the query); a late change is one made after the Response was returned.
 */
export const defaultOnError: Reporter<Request> = createReporter((request) => describeTarget(request.method, request.url), 'its Response was returned')
