/**
 * CSRF protection: which unsafe requests to refuse, and the session-bound tokens that let a client
 * without browser headers through.
 *
 * The check follows Go 1.25's `http.CrossOriginProtection`: a browser says where a request comes
 * from in `Sec-Fetch-Site` (every current browser) or, failing that, `Origin`; a request that
 * another site sent is refused whatever cookies it carries. Unlike Go, a request with neither
 * header (a non-browser client, a very old browser) is not waved through: it must carry a token
 * bound to its session, so an unusual client cannot become the way around the check.
 *
 * @module
 */
import { decodeBase64url, encodeBase64url } from './encoding.js'
import { CsrfRefused } from './errors.js'
import { assertKnownKeys, booleanOption, type Hints } from './lib/options.js'
import type { Session } from './session.js'

/**
 * How a session-bound token is made and checked. The default is Frasco's ({@link FRASCO_CSRF});
 * frasco/flask will provide Flask-WTF's.
 *
 * @example
 * ```ts
 * // A scheme that delegates to Frasco's and counts the tokens it issues.
 * let issued = 0
 * const counted: CsrfTokenScheme = {
 *   issue: (session) => (issued++, FRASCO_CSRF.issue(session)),
 *   verify: (session, token) => FRASCO_CSRF.verify(session, token),
 * }
 * ```
 */
export interface CsrfTokenScheme {
  /** A token for this session, issuing the session's secret when it has none (which changes the session, so its cookie is written). */
  issue(session: Session<any>): string
  /** Whether `token` is valid for this session; false (never a throw) on any hostile input, and when the session has no secret. */
  verify(session: Session<any>, token: string): boolean
}

/**
 * Options of {@link checkCsrf}, {@link csrfToken} and the adapters' `csrf` option. Strict: an
 * unknown key is a `TypeError` naming it.
 *
 * @example
 * ```ts
 * const options: CsrfOptions = { origins: ['https://admin.example.com'], header: 'x-xsrf-token' }
 * app.use(sessionMiddleware(sessions, { csrf: options }))
 * ```
 */
export interface CsrfOptions {
  /** Other origins allowed to send unsafe requests, exactly as browsers send Origin ('https://admin.example.com'). Default none. */
  origins?: readonly string[]
  /** Accept `Sec-Fetch-Site: same-site` (sibling subdomains). Default false: same-origin only. */
  sameSite?: boolean
  /** Form field that carries the token. Default '_csrf'. */
  field?: string
  /** Header that carries the token. Default 'x-csrf-token'. */
  header?: string
  /** The token scheme. Default: Frasco's (a random secret in the session under '_csrf', tokens masked per use against BREACH). */
  token?: CsrfTokenScheme
}

/**
 * What the check needs from a request; the adapters build it.
 *
 * @example
 * ```ts
 * const csrfRequest: CsrfRequest = {
 *   method: request.method,
 *   origin: new URL(request.url).origin,
 *   header: (name) => request.headers.get(name) ?? undefined,
 *   token: request.headers.get('x-csrf-token') ?? undefined,
 * }
 * ```
 */
export interface CsrfRequest {
  readonly method: string
  /**
   * The app's own origin for this request, e.g. 'https://app.example' (scheme://host[:port]),
   * serialized as browsers send `Origin`: lower-case, without the scheme's default port.
   */
  readonly origin: string
  /** A request header (lower-case name), or undefined. */
  header(name: string): string | undefined
  /** The token from the form field or the header, as the adapter found it, or undefined. */
  readonly token: string | undefined
}

// ------------------------------------------------------------------------------------------------
// Frasco's token scheme
// ------------------------------------------------------------------------------------------------

/** The session key of the secret tokens are made from. */
const SECRET_KEY = '_csrf'
const SECRET_BYTES = 32

/** The session's secret as bytes, or undefined when it holds none (or something else under the key). */
function secretOf(session: Session<any>): Uint8Array | undefined {
  // decodeBase64url refuses anything but the canonical text of some bytes: a number, an object, a
  // wrong alphabet; only 32 of them are a secret.
  const bytes = decodeBase64url(session.get(SECRET_KEY) as string)
  return bytes?.length === SECRET_BYTES ? bytes : undefined
}

function issueFrascoToken(session: Session<any>): string {
  let secret = secretOf(session)
  if (secret === undefined) {
    secret = globalThis.crypto.getRandomValues(new Uint8Array(SECRET_BYTES))
    session.set(SECRET_KEY, encodeBase64url(secret))
  }
  // A fresh pad per token: the page never carries the same bytes twice, so a compression oracle
  // (BREACH) has no stable secret in the body to guess a byte at a time.
  const token = new Uint8Array(SECRET_BYTES * 2)
  globalThis.crypto.getRandomValues(token.subarray(0, SECRET_BYTES))
  // Stryker disable next-line EqualityOperator: equivalent, a write one past the end of a Uint8Array is ignored (test/mutation-equivalents.md)
  for (let i = 0; i < SECRET_BYTES; i++) token[SECRET_BYTES + i] = (token[i] as number) ^ (secret[i] as number)
  return encodeBase64url(token)
}

function verifyFrascoToken(session: Session<any>, token: string): boolean {
  let secret: Uint8Array | undefined
  try {
    secret = secretOf(session)
  } catch {
    // A session that cannot be read (a leftover of regenerate(callback)) has no secret, so no
    // valid token: `secret` stays undefined.
  }
  // Only the canonical text of 64 bytes (86 characters) decodes to a pad and a masked secret.
  const bytes = decodeBase64url(token)
  if (secret === undefined || bytes?.length !== SECRET_BYTES * 2) return false
  // Unmask and compare in one pass with no early exit: the time does not show where it differs.
  let difference = 0
  for (let i = 0; i < SECRET_BYTES; i++) difference |= (bytes[i] as number) ^ (bytes[SECRET_BYTES + i] as number) ^ (secret[i] as number)
  return difference === 0
}

/**
 * Frasco's token scheme: a 32-byte random secret in the session under `'_csrf'` (base64url), made
 * by the first `issue`; each token is `base64url(pad ‖ pad XOR secret)` with a fresh 32-byte
 * random pad, so tokens differ on every render (against BREACH-style compression attacks) and all
 * verify. No key is involved, so tokens survive secret rotation; `regenerate()` and `clear()`
 * drop the secret, so a new session gets new tokens.
 *
 * @example
 * ```ts
 * const token = FRASCO_CSRF.issue(session) // 86 characters, different each time
 * FRASCO_CSRF.verify(session, token) // true
 * FRASCO_CSRF.verify(session, 'forged') // false, never a throw
 * ```
 */
export const FRASCO_CSRF: CsrfTokenScheme = Object.freeze({ issue: issueFrascoToken, verify: verifyFrascoToken })

// ------------------------------------------------------------------------------------------------
// Options
// ------------------------------------------------------------------------------------------------

/**
 * {@link CsrfOptions} checked and with their defaults: what the check runs on.
 *
 * @internal
 */
export interface CsrfConfig {
  readonly origins: ReadonlySet<string>
  readonly sameSite: boolean
  readonly field: string
  /** Lower-case. */
  readonly header: string
  readonly token: CsrfTokenScheme
}

const CSRF_KEYS: ReadonlySet<string> = new Set(['origins', 'sameSite', 'field', 'header', 'token'])

/** Names from csurf, Django, Go and Rails, with what to write instead. */
const CSRF_HINTS: Hints = {
  cookie: "Frasco keeps the CSRF secret in the session (signed with it), never in a cookie of its own: drop csurf's `cookie` option",
  ignoreMethods: 'GET, HEAD, OPTIONS and TRACE are never checked, and no other method can be exempted: a route that must accept cross-site POSTs belongs behind its own middleware without `csrf`',
  value: "csurf's `value(req)`: name where the token comes from with `field` (form) or `header`",
  sessionKey: "the secret lives under the session key '_csrf'; give a `token` scheme to make tokens another way",
  trustedOrigins: 'did you mean `origins`?',
  allowedOrigins: 'did you mean `origins`?',
  origin: 'did you mean `origins`? (a list)',
  headerName: 'did you mean `header`?',
  fieldName: 'did you mean `field`?',
  sameOrigin: 'same-origin requests are always allowed; `sameSite: true` also allows sibling subdomains',
}

// RFC 9110 §5.1: field-name = token; token = 1*tchar.
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

const DEFAULT_CONFIG: CsrfConfig = Object.freeze({
  origins: new Set<string>(),
  sameSite: false,
  field: '_csrf',
  header: 'x-csrf-token',
  token: FRASCO_CSRF,
})

/** One `origins` entry, as browsers serialize an origin; a TypeError with the fix otherwise. */
function originOption(entry: unknown, where: string): string {
  let parsed: URL | undefined
  try {
    parsed = typeof entry === 'string' ? new URL(entry) : undefined
  } catch {
    // Not a URL at all: `parsed` stays undefined, and nothing is suggested.
  }
  const origin = parsed === undefined || parsed.origin === 'null' ? undefined : parsed.origin
  if (origin !== undefined && origin === entry) return origin
  const fix = origin === undefined ? '' : `; did you mean '${origin}'?`
  throw new TypeError(
    `option ${where} is invalid: ${typeof entry === 'string' ? JSON.stringify(entry) : `a ${entry === null ? 'null' : typeof entry}`} is not an origin; write each as browsers send Origin, scheme://host[:port] with no path or trailing slash, e.g. 'https://admin.example.com'${fix}`,
  )
}

function originsOption(value: unknown, where: string): ReadonlySet<string> {
  if (value === undefined) return DEFAULT_CONFIG.origins
  if (!Array.isArray(value)) throw new TypeError(`option ${where} is invalid: give a list of origins, e.g. ['https://admin.example.com']`)
  return new Set(value.map((entry: unknown) => originOption(entry, where)))
}

function fieldOption(value: unknown, where: string): string {
  if (value === undefined) return DEFAULT_CONFIG.field
  if (typeof value !== 'string' || value === '') throw new TypeError(`option ${where} is invalid: give the name of the form field that carries the token, e.g. '_csrf'`)
  return value
}

function headerOption(value: unknown, where: string): string {
  if (value === undefined) return DEFAULT_CONFIG.header
  if (typeof value !== 'string' || !FIELD_NAME.test(value)) throw new TypeError(`option ${where} is invalid: give a header name, e.g. 'x-csrf-token'`)
  return value.toLowerCase()
}

function schemeOption(value: unknown, where: string): CsrfTokenScheme {
  if (value === undefined) return FRASCO_CSRF
  const scheme = value as Partial<CsrfTokenScheme> | null
  if (typeof scheme?.issue !== 'function' || typeof scheme.verify !== 'function') {
    throw new TypeError(
      `option ${where} is invalid: give a CsrfTokenScheme, an object with issue(session) and verify(session, token): FRASCO_CSRF (the default) or createFlaskWtfCsrf() from frasco/flask`,
    )
  }
  return scheme as CsrfTokenScheme
}

/**
 * Checks {@link CsrfOptions} (`undefined` is the defaults). `prefix` goes before each option name
 * in messages (`'csrf.'` for the adapters' option); `caller` names the function for a non-object.
 *
 * @internal
 */
export function csrfConfig(options: unknown, prefix: string, caller: string): CsrfConfig {
  if (options === undefined) return DEFAULT_CONFIG
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options are invalid: ${caller} takes CSRF options, an object such as { origins: ['https://admin.example.com'] }, or nothing`)
  }
  assertKnownKeys(options, CSRF_KEYS, prefix, CSRF_HINTS)
  const given = options as Record<keyof CsrfOptions, unknown>
  return {
    origins: originsOption(given.origins, `${prefix}origins`),
    sameSite: booleanOption(given.sameSite, `${prefix}sameSite`, false),
    field: fieldOption(given.field, `${prefix}field`),
    header: headerOption(given.header, `${prefix}header`),
    token: schemeOption(given.token, `${prefix}token`),
  }
}

/**
 * The adapters' `csrf` option: `true` (the defaults), an options object, or `false`/absent (no
 * protection, `undefined`).
 *
 * @internal
 */
export function csrfOption(value: unknown): CsrfConfig | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return DEFAULT_CONFIG
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('option csrf is invalid: give true (the defaults), an options object such as { origins: [\'https://admin.example.com\'] }, or false')
  }
  // Stryker disable next-line StringLiteral: equivalent, the caller's name is only in a message for options csrfOption refuses first (test/mutation-equivalents.md)
  return csrfConfig(value, 'csrf.', 'the csrf option')
}

// ------------------------------------------------------------------------------------------------
// The check
// ------------------------------------------------------------------------------------------------

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/**
 * Whether a method is one the check never refuses (GET, HEAD, OPTIONS, TRACE, in any case).
 *
 * @internal
 */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase())
}

/**
 * What {@link checkHeaders} returns when the browser headers are absent and only a token can
 * decide.
 *
 * @internal
 */
// Stryker disable next-line StringLiteral: equivalent, an internal sentinel every reader compares with the constant itself (test/mutation-equivalents.md)
export const NEEDS_TOKEN = 'token'

/** An Origin for a log line: quoted and cut short (it is the client's text). */
function quote(origin: string): string {
  return JSON.stringify(origin.length > 100 ? `${origin.slice(0, 100)}…` : origin)
}

/** A header's value, with an empty one counted as absent (as Go's Header.Get does). */
function present(request: Pick<CsrfRequest, 'header'>, name: string): string | undefined {
  const value = request.header(name)
  return typeof value === 'string' && value !== '' ? value : undefined
}

function checkFetchSite(site: string, config: CsrfConfig): CsrfRefused | undefined {
  // Fetch Metadata §2.1: same-origin, same-site, cross-site, or none (the user typed the URL or
  // used a bookmark, so no other site is involved).
  if (site === 'same-origin' || site === 'none') return undefined
  if (site === 'same-site') {
    return config.sameSite ? undefined : new CsrfRefused('ERR_SESSION_CSRF_CROSS_SITE', 'Sec-Fetch-Site is same-site (a sibling subdomain) and the sameSite option is off')
  }
  const what = site === 'cross-site' ? 'cross-site' : 'not a value browsers send'
  return new CsrfRefused('ERR_SESSION_CSRF_CROSS_SITE', `Sec-Fetch-Site is ${what}`)
}

/**
 * The part of the check that reads only the method and the browser's headers: `undefined`
 * (allowed), a refusal, or {@link NEEDS_TOKEN} when neither `Sec-Fetch-Site` nor `Origin` was
 * sent. Adapters run it first, so a refused request costs no session read and no body parsing.
 *
 * @internal
 */
export function checkHeaders(request: Pick<CsrfRequest, 'method' | 'origin' | 'header'>, config: CsrfConfig): CsrfRefused | typeof NEEDS_TOKEN | undefined {
  if (isSafeMethod(request.method)) return undefined
  const origin = present(request, 'origin')
  if (origin !== undefined && config.origins.has(origin)) return undefined
  const site = present(request, 'sec-fetch-site')
  if (site !== undefined) return checkFetchSite(site, config)
  if (origin === undefined) return NEEDS_TOKEN
  // Only browsers too old for Fetch Metadata get here. Unlike Go, which compares hosts only, the
  // scheme counts: an http page must not post to the https app.
  if (origin === request.origin) return undefined
  const reason = origin === 'null' ? 'Origin is null (a sandboxed frame, a data: URL or a privacy redirect)' : `Origin ${quote(origin)} is not this app's origin nor one of the origins option`
  return new CsrfRefused('ERR_SESSION_CSRF_ORIGIN', reason)
}

/**
 * The token part of the check, for a request without browser headers.
 *
 * @internal
 */
export function checkToken(token: string | undefined, session: Session<any>, config: CsrfConfig): CsrfRefused | undefined {
  if (token === undefined || token === '') {
    return new CsrfRefused(
      'ERR_SESSION_CSRF_TOKEN_MISSING',
      `neither Sec-Fetch-Site nor Origin was sent, and no token in the ${config.header} header or the ${config.field} field`,
    )
  }
  if (config.token.verify(session, token)) return undefined
  return new CsrfRefused('ERR_SESSION_CSRF_TOKEN_INVALID', 'neither Sec-Fetch-Site nor Origin was sent, and the token is not valid for this session')
}

/**
 * Whether to refuse a request as cross-site: `undefined` to go on, or the {@link CsrfRefused} to
 * answer with (403). Safe methods (GET, HEAD, OPTIONS, TRACE) always go on, so never change state
 * in them. For the others: an `Origin` listed in `origins` goes on; then `Sec-Fetch-Site` decides
 * when present (`same-origin` and `none` go on, `same-site` only with `sameSite: true`), else
 * `Origin` must be the app's own; a request with neither header must carry a token of this
 * session (see {@link csrfToken}). The adapters' `csrf` option runs this for you.
 *
 * @throws {TypeError} for invalid options.
 * @example
 * ```ts
 * const refused = checkCsrf({
 *   method: request.method,
 *   origin: new URL(request.url).origin,
 *   header: (name) => request.headers.get(name) ?? undefined,
 *   token: request.headers.get('x-csrf-token') ?? undefined,
 * }, session)
 * if (refused !== undefined) return new Response(`Forbidden: ${refused.code}`, { status: 403 })
 * ```
 */
export function checkCsrf(request: CsrfRequest, session: Session<any>, options?: CsrfOptions): CsrfRefused | undefined {
  const config = csrfConfig(options, '', 'checkCsrf')
  if (typeof request !== 'object' || request === null || typeof request.header !== 'function' || typeof request.method !== 'string') {
    throw new TypeError('request is invalid: checkCsrf takes a CsrfRequest, { method, origin, header(name), token }')
  }
  const verdict = checkHeaders(request, config)
  return verdict === NEEDS_TOKEN ? checkToken(request.token, session, config) : verdict
}

/**
 * A CSRF token for this session, for a form's hidden field (named by `field`, default `_csrf`) or
 * the `x-csrf-token` header of a script's requests. The first token of a session stores its
 * secret in it, so call this before the response headers go out. Tokens differ on every call; all
 * of them verify until the session is regenerated, cleared or ends.
 *
 * @throws {TypeError} for invalid options, and when the session was destroyed.
 * @example
 * ```ts
 * const token = csrfToken(session)
 * const form = `<form method="post"><input type="hidden" name="_csrf" value="${token}">…</form>`
 * ```
 */
export function csrfToken(session: Session<any>, options?: CsrfOptions): string {
  return csrfConfig(options, '', 'csrfToken').token.issue(session)
}
