/**
 * The `Cookie` request header and the `Set-Cookie` response header (RFC 6265bis,
 * draft-ietf-httpbis-rfc6265bis; section numbers below follow drafts 15 and later).
 *
 * Reading is lenient: {@link parseCookie} and {@link getCookie} accept whatever a browser (or an
 * attacker) sends and never throw on it, and {@link parseSetCookie} reads a Set-Cookie header the
 * way a browser does (it never throws either). Writing is strict: {@link stringifySetCookie} and
 * {@link createCookieWriter} refuse anything that could smuggle a second attribute or cookie into
 * the header (CVE-2024-47764), anything a browser would silently drop, and prefixed names whose
 * attributes break the prefix rules.
 *
 * @module
 */
import { CookieTooLarge } from '../errors.js'
import { MAX_LIFETIME, assertKnownKeys } from '../lib/options.js'

// Every options object is strict: a misspelt attribute would otherwise be left out of the header
// without a word.
const PARSE_KEYS: ReadonlySet<string> = new Set(['maxLength', 'decode'])
const ATTRIBUTE_KEYS: ReadonlySet<string> = new Set(['domain', 'path', 'httpOnly', 'secure', 'sameSite', 'partitioned', 'priority'])
const LIFETIME_KEYS: ReadonlySet<string> = new Set(['maxAge', 'expires', 'now'])
const SET_COOKIE_KEYS: ReadonlySet<string> = new Set([...ATTRIBUTE_KEYS, ...LIFETIME_KEYS])
// Names from `cookie` and `express`'s res.cookie that Frasco spells otherwise or leaves out.
const COOKIE_HINTS: Readonly<Record<string, string>> = {
  httponly: 'did you mean `httpOnly`?',
  samesite: 'did you mean `sameSite`?',
  maxage: 'did you mean `maxAge`? (seconds)',
  encode: 'values are written as given: encode them before (only cookie-octets are accepted)',
  signed: 'sign the value with createSigner from frasco before writing it',
}

/**
 * The longest lifetime, in seconds, a user agent keeps a cookie: 400 days. RFC 6265bis §4.1.2.1
 * and §4.1.2.2 let user agents cap Expires and Max-Age there, and §5.6.1 / §5.6.2 make them do it;
 * Chrome has applied the cap since version 104. Longer lifetimes are written capped to this value.
 *
 * @example
 * ```ts
 * stringifySetCookie('id', 'v', { maxAge: 10 * MAX_COOKIE_LIFETIME }) // 'id=v; Max-Age=34560000'
 * ```
 */
export const MAX_COOKIE_LIFETIME = MAX_LIFETIME

/**
 * The largest cookie, in bytes, that every user agent must accept, counting the name and the
 * value only (RFC 6265bis §5.6 step 5 and §5.7 step 4), as Chrome does; some user agents have also
 * counted the "=" or the attributes. Attributes are limited separately (1024 bytes each, §5.6).
 * Proxies and servers that cap header size count the whole header line instead, so leave headroom
 * when a value is close to the limit.
 *
 * @example
 * ```ts
 * const room = MAX_COOKIE_BYTES - 'session'.length // bytes left for the value
 * ```
 */
export const MAX_COOKIE_BYTES = 4096

/** Attribute values longer than this are ignored by user agents (RFC 6265bis §5.6, cookie-av step 6). */
const MAX_ATTRIBUTE_VALUE_BYTES = 1024

const DEFAULT_MAX_HEADER_LENGTH = 65_536

const MAX_LIFETIME_MS = MAX_COOKIE_LIFETIME * 1000

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/**
 * Options for {@link parseCookie} and {@link getCookie}.
 *
 * @example
 * ```ts
 * const options: ParseCookieOptions = { decode: decodeURIComponent, maxLength: 8192 }
 * parseCookie('name=J%C3%B6rg', options).name // 'Jörg'
 * ```
 */
export interface ParseCookieOptions {
  /**
   * Decodes each value (for example `decodeURIComponent`). Values are kept raw when absent; if it
   * throws or returns a non-string, the raw value is kept.
   */
  decode?: ((value: string) => string) | undefined
  /**
   * A header longer than this many characters is ignored entirely (nothing is parsed). Node.js
   * decodes header bytes as latin1, so characters are bytes. Default 65536.
   */
  maxLength?: number | undefined
}

interface ReadOptions {
  readonly maxLength: number
  readonly decode: ((value: string) => string) | undefined
}

const DEFAULT_READ_OPTIONS: ReadOptions = { maxLength: DEFAULT_MAX_HEADER_LENGTH, decode: undefined }

function readParseOptions(options: ParseCookieOptions | undefined): ReadOptions {
  if (options === undefined) return DEFAULT_READ_OPTIONS
  if (typeof options !== 'object' || options === null) throw new TypeError(`options are invalid: expected an object, got ${show(options)}`)
  assertKnownKeys(options, PARSE_KEYS, '', COOKIE_HINTS)
  const { maxLength = DEFAULT_MAX_HEADER_LENGTH, decode } = options
  if (!Number.isSafeInteger(maxLength) || maxLength <= 0) {
    throw new TypeError(
      `option maxLength is invalid: expected a positive integer number of characters, got ${show(maxLength)}`,
    )
  }
  if (decode !== undefined && typeof decode !== 'function') {
    throw new TypeError(`option decode is invalid: expected a function (value: string) => string, got ${show(decode)}`)
  }
  return { maxLength, decode }
}

const SP = 0x20
const HTAB = 0x09
const DQUOTE = 0x22
const EQUALS = 0x3d
const SEMICOLON = 0x3b

// OWS = *( SP / HTAB ) (RFC 9110 §5.6.3), the only whitespace around a cookie-pair.
function isOws(code: number): boolean {
  return code === SP || code === HTAB
}

// Whether `at` starts a pair the way browsers write them: at the header's start, or after "; ".
function startsPair(header: string, at: number): boolean {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, speed only: the fast path taken at the header's start only, or never, and the scan answers (test/mutation-equivalents.md)
  return at === 0 || (header.charCodeAt(at - 1) === SP && header.charCodeAt(at - 2) === SEMICOLON)
}

// A name a pair can have as it is: no "=" or ";" inside and no OWS around it (the scan trims).
function isPlainName(name: string): boolean {
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, speed only: a name this calls not plain takes the scan, which gives the same answer (test/mutation-equivalents.md)
  return !isOws(name.charCodeAt(0)) && !isOws(name.charCodeAt(name.length - 1)) && name.indexOf('=') === -1 && name.indexOf(';') === -1
}

/** Called with the trimmed bounds of each named pair; returning true stops the scan. */
type PairVisitor = (nameStart: number, nameEnd: number, valueStart: number, valueEnd: number) => boolean

/**
 * Walks a Cookie header pair by pair with indexOf, without splitting or allocating.
 *
 * RFC 6265bis §4.2.1:
 *   cookie-string = cookie-pair *( ";" SP cookie-pair )
 * parsed leniently, the way §5.6 splits a set-cookie-string: a pair is everything up to the next
 * ";", the name is what precedes its first "=", and OWS around name and value is dropped.
 *
 * A pair without "=" is a nameless cookie (§5.6 step 3; §5.8.3 step 4 sends it as its bare value).
 * No session uses one and a nameless "a=b" is indistinguishable from a cookie named "a", so those
 * pairs are skipped, as are pairs whose name is empty.
 *
 * The position of the next "=" is remembered, so a header of many "="-less pairs is still scanned
 * once: each character is looked at a bounded number of times whatever the input.
 */
function scanCookieHeader(header: string, visit: PairVisitor): void {
  const length = header.length
  let index = 0
  let equals = -1
  // Stryker disable next-line EqualityOperator: equivalent, a round at the end finds no "=" and returns (test/mutation-equivalents.md)
  while (index < length) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, speed only: the next "=" searched again is where it was (test/mutation-equivalents.md)
    if (equals < index) {
      equals = header.indexOf('=', index)
      // No "=" left: every remaining pair is nameless.
      // Stryker disable next-line ConditionalExpression: equivalent, speed only: each remaining pair is skipped as nameless (test/mutation-equivalents.md)
      if (equals === -1) return
    }
    let end = header.indexOf(';', index)
    if (end === -1) end = length
    // Stryker disable next-line EqualityOperator: equivalent, an "=" is never where a ";" or the end is (test/mutation-equivalents.md)
    if (equals < end) {
      let nameStart = index
      let nameEnd = equals
      // Each forward trim stops at the delimiter after it ("=", ";" or the end, where charCodeAt is NaN).
      while (isOws(header.charCodeAt(nameStart))) nameStart++
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, differs only for an all-OWS name, refused as empty all the same (test/mutation-equivalents.md)
      while (nameEnd > nameStart && isOws(header.charCodeAt(nameEnd - 1))) nameEnd--
      if (nameStart < nameEnd) {
        let valueStart = equals + 1
        let valueEnd = end
        while (isOws(header.charCodeAt(valueStart))) valueStart++
        // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, differs only for an all-OWS value, the empty string all the same (test/mutation-equivalents.md)
        while (valueEnd > valueStart && isOws(header.charCodeAt(valueEnd - 1))) valueEnd--
        if (visit(nameStart, nameEnd, valueStart, valueEnd)) return
      }
    }
    index = end + 1
  }
}

function readValue(
  header: string,
  start: number,
  end: number,
  decode: ((value: string) => string) | undefined,
): string {
  // cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE ) (RFC 6265bis §4.1.1): the
  // quotes are not part of the value a server means to send, so they are removed here.
  if (end - start >= 2 && header.charCodeAt(start) === DQUOTE && header.charCodeAt(end - 1) === DQUOTE) {
    start++
    end--
  }
  const raw = header.slice(start, end)
  if (decode === undefined) return raw
  try {
    const decoded = decode(raw)
    return typeof decoded === 'string' ? decoded : raw
  } catch {
    return raw
  }
}

/**
 * Parses a `Cookie` request header into a null-prototype object of name → value. Lenient: it
 * never throws on the header (only on invalid options), whatever it contains.
 *
 * - pairs are split on `;`, spaces and tabs around names and values are trimmed;
 * - pairs without `=` (nameless cookies) and pairs with an empty name are skipped;
 * - a value wrapped in double quotes is unwrapped;
 * - values are kept raw: no percent-decoding unless `options.decode` is given;
 * - when a name repeats, the first occurrence wins: browsers send cookies with longer paths first
 *   (RFC 6265bis §5.8.3 step 2), so the first is the most specific;
 * - a header longer than `options.maxLength` (default 65536) is ignored entirely;
 * - `__proto__`, `constructor` and the like are plain keys of the null-prototype result.
 *
 * @example
 * ```ts
 * const cookies = parseCookie('theme=dark; session="abc.def"; theme=light')
 * cookies.theme // 'dark'
 * cookies.session // 'abc.def'
 * ```
 */
export function parseCookie(
  header: string | undefined | null,
  options?: ParseCookieOptions,
): Record<string, string> {
  const { maxLength, decode } = readParseOptions(options)
  const cookies = Object.create(null) as Record<string, string>
  if (typeof header !== 'string' || header.length > maxLength) return cookies
  scanCookieHeader(header, (nameStart, nameEnd, valueStart, valueEnd) => {
    const name = header.slice(nameStart, nameEnd)
    if (cookies[name] === undefined) cookies[name] = readValue(header, valueStart, valueEnd, decode)
    return false
  })
  return cookies
}

/**
 * Finds one cookie in a `Cookie` request header without building an object: the hot-path twin of
 * {@link parseCookie}. For every header, name and options,
 * `getCookie(header, name, options) === parseCookie(header, options)[name]`.
 *
 * @example
 * ```ts
 * getCookie('a=1; session=abc.def; a=2', 'session') // 'abc.def'
 * getCookie('a=1; a=2', 'a') // '1'
 * getCookie(undefined, 'session') // undefined
 * ```
 */
export function getCookie(
  header: string | undefined | null,
  name: string,
  options?: ParseCookieOptions,
): string | undefined {
  const { maxLength, decode } = readParseOptions(options)
  if (typeof header !== 'string' || header.length > maxLength) return undefined
  if (typeof name !== 'string' || name.length === 0) return undefined
  const first = header.indexOf(name)
  // Stryker disable next-line ConditionalExpression: equivalent, speed only: the scan finds nothing either (test/mutation-equivalents.md)
  if (first === -1) return undefined
  // The common case without the scan: the first occurrence of the name anywhere in the header
  // starts a pair the way browsers write them (at the start, or after "; ") and ends at its "=".
  // No earlier pair can then have this name, so this is the pair the scan would find first.
  // Stryker disable next-line ConditionalExpression,BlockStatement: equivalent, speed only: the fast path never taken, and the scan answers (test/mutation-equivalents.md)
  if (header.charCodeAt(first + name.length) === EQUALS && startsPair(header, first) && isPlainName(name)) {
    let valueStart = first + name.length + 1
    let valueEnd = header.indexOf(';', valueStart)
    if (valueEnd === -1) valueEnd = header.length
    while (isOws(header.charCodeAt(valueStart))) valueStart++
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, differs only for an all-OWS value, the empty string all the same (test/mutation-equivalents.md)
    while (valueEnd > valueStart && isOws(header.charCodeAt(valueEnd - 1))) valueEnd--
    return readValue(header, valueStart, valueEnd, decode)
  }
  let found: string | undefined
  scanCookieHeader(header, (nameStart, nameEnd, valueStart, valueEnd) => {
    if (nameEnd - nameStart !== name.length || !header.startsWith(name, nameStart)) return false
    found = readValue(header, valueStart, valueEnd, decode)
    return true
  })
  return found
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/**
 * The SameSite attribute (RFC 6265bis §4.1.2.7). Any casing is accepted; it is written capitalized.
 *
 * @example
 * ```ts
 * const sameSite: CookieSameSite = 'lax'
 * stringifySetCookie('theme', 'dark', { sameSite }) // 'theme=dark; SameSite=Lax'
 * ```
 */
export type CookieSameSite = 'strict' | 'lax' | 'none' | 'Strict' | 'Lax' | 'None'

/**
 * Chrome's Priority attribute. Any casing is accepted; it is written capitalized.
 *
 * @example
 * ```ts
 * const priority: CookiePriority = 'high'
 * stringifySetCookie('theme', 'dark', { priority }) // 'theme=dark; Priority=High'
 * ```
 */
export type CookiePriority = 'low' | 'medium' | 'high' | 'Low' | 'Medium' | 'High'

/**
 * Every Set-Cookie attribute except the lifetime (Expires, Max-Age).
 *
 * @example
 * ```ts
 * const attributes: CookieAttributes = { path: '/', httpOnly: true, secure: true, sameSite: 'strict' }
 * const writer = createCookieWriter('session', attributes)
 * ```
 */
export interface CookieAttributes {
  /** Domain attribute (§4.1.2.3): a host name, optionally with a leading dot. Omit for a host-only cookie. */
  domain?: string | undefined
  /** Path attribute (§4.1.2.4): starts with `/`. Omitted, browsers use the request's directory. */
  path?: string | undefined
  /** HttpOnly attribute (§4.1.2.6): hidden from scripts. */
  httpOnly?: boolean | undefined
  /** Secure attribute (§4.1.2.5): sent over HTTPS only. */
  secure?: boolean | undefined
  /** SameSite attribute (§4.1.2.7). `'none'` requires `secure: true`. */
  sameSite?: CookieSameSite | undefined
  /** Partitioned attribute (CHIPS). Requires `secure: true`. */
  partitioned?: boolean | undefined
  /** Priority attribute (Chrome). */
  priority?: CookiePriority | undefined
}

/**
 * The lifetime part of a Set-Cookie header.
 *
 * @example
 * ```ts
 * const lifetime: CookieLifetime = { maxAge: 3600 }
 * createCookieWriter('theme').serialize('dark', lifetime) // 'theme=dark; Max-Age=3600'
 * ```
 */
export interface CookieLifetime {
  /** Max-Age in whole seconds (§4.1.2.2). 0 or less deletes the cookie; above 400 days is capped. */
  maxAge?: number | undefined
  /** Expires (§4.1.2.1). Later than `now` + 400 days is capped; before 1970 is written as 1970. */
  expires?: Date | undefined
  /** The current time for the Expires cap, as a Date or epoch milliseconds. Default `Date.now()`. */
  now?: Date | number | undefined
}

/**
 * Options for {@link stringifySetCookie}: attributes plus lifetime.
 *
 * @example
 * ```ts
 * const options: SetCookieOptions = { path: '/', httpOnly: true, maxAge: 600 }
 * stringifySetCookie('theme', 'dark', options) // 'theme=dark; Path=/; Max-Age=600; HttpOnly'
 * ```
 */
export interface SetCookieOptions extends CookieAttributes, CookieLifetime {}

type HostPrefix = `__host-${string}`
type SecurePrefix = `__secure-${string}`

// Browsers match the prefixes case-insensitively (§5.7), so the types lower-case the name first.
// A union of names gets the strictest rules of any of its members.
type PrefixRules<N extends string, Base extends CookieAttributes> = [Extract<Lowercase<N>, HostPrefix>] extends [never]
  ? [Extract<Lowercase<N>, SecurePrefix>] extends [never]
    ? Base
    : Omit<Base, 'secure'> & { secure: true }
  : Omit<Base, 'secure' | 'path' | 'domain'> & { secure: true; path?: '/' | undefined; domain?: undefined }

type IsPrefixed<N extends string> = [Extract<Lowercase<N>, HostPrefix | SecurePrefix>] extends [never] ? false : true

/** The options parameter of a cookie function: required for `__Host-`/`__Secure-` names, optional otherwise
 * (a prefixed name must at least say `secure: true`).
 *
 * @example
 * ```ts
 * function setCookie<N extends string>(name: N, value: string, ...options: OptionsArgument<N, CookieOptionsFor<N>>) {
 *   return stringifySetCookie(name, value, ...options)
 * }
 * setCookie('theme', 'dark') // options optional
 * setCookie('__Host-id', 'abc', { secure: true }) // options required
 * ```
 */
export type OptionsArgument<N extends string, Options> = IsPrefixed<N> extends true ? [options: Options] : [options?: Options]

/**
 * {@link SetCookieOptions} narrowed by the cookie name's prefix (RFC 6265bis §4.1.3): for a literal
 * name starting with `__Host-` (any casing), `secure: true` is required, `path` may only be `'/'`
 * and `domain` is forbidden; for `__Secure-`, `secure: true` is required; otherwise unchanged.
 * A name typed as plain `string` gets the unchanged options; the rules are enforced at runtime.
 *
 * @example
 * ```ts
 * const options: CookieOptionsFor<'__Host-id'> = { secure: true, httpOnly: true }
 * ```
 */
export type CookieOptionsFor<N extends string> = PrefixRules<N, SetCookieOptions>

/**
 * {@link CookieAttributes} narrowed by the cookie name's prefix, as {@link CookieOptionsFor}.
 *
 * @example
 * ```ts
 * const attributes: CookieAttributesFor<'__Secure-id'> = { secure: true, sameSite: 'lax' }
 * ```
 */
export type CookieAttributesFor<N extends string> = PrefixRules<N, CookieAttributes>

/** The validated, formatted attributes, split around where the lifetime goes. */
interface CompiledAttributes {
  /** `; Domain=…; Path=…` */
  readonly before: string
  /** `; HttpOnly; Secure; SameSite=…; Partitioned; Priority=…` */
  readonly after: string
  readonly secure: boolean
  readonly domain: boolean
  readonly path: string | undefined
}

// RFC 9110 §5.6.2 (formerly RFC 7230 §3.2.6):
//   token = 1*tchar
//   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
// RFC 6265 §4.1.1 has cookie-name = token; RFC 6265bis §4.1.1 widens it to 1*cookie-octet. Every
// tchar is a cookie-octet, so a token satisfies both and avoids "=", quotes and separators.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

// RFC 6265bis §4.1.1:
//   cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
//   cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
//                  ; US-ASCII characters excluding CTLs, whitespace, DQUOTE, comma, semicolon
//                  ; and backslash
const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/
const QUOTED_COOKIE_VALUE = /^"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*"$/
const NOT_COOKIE_OCTET = /[^\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]/

// RFC 6265bis §4.1.1: domain-value = <subdomain>, as defined by RFC 1034 §3.5 and enhanced by
// RFC 1123 §2.1 (labels may start with a digit):
//   <subdomain> ::= <label> | <subdomain> "." <label>
//   <label>     ::= <let-dig> [ [ <ldh-str> ] <let-dig> ]   ; at most 63 characters
// plus an optional leading "." that user agents ignore (§4.1.2.3, §5.6.3 step 2). IP literals in
// brackets are not subdomains: an IPv6 host can only have host-only cookies (omit the domain).
const DOMAIN_VALUE = /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
// RFC 1034 §3.1: a name is at most 255 octets on the wire, 253 characters in text (+1 for the dot).
const MAX_DOMAIN_LENGTH = 254

// RFC 6265bis §4.1.1:
//   path-value = *av-octet
//   av-octet   = %x20-3A / %x3C-7E ; any CHAR except CTLs or ";"
// and it must start with "/", or user agents replace it with the default path (§5.6.4 step 1).
const PATH_VALUE = /^\/[\x20-\x3A\x3C-\x7E]*$/

// RFC 6265bis §4.1.2.1: sane-cookie-date = IMF-fixdate (RFC 9110 §5.6.7), which toUTCString()
// produces. The Unix epoch is the conventional "already expired" date.
const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT'

const SAME_SITE: ReadonlyMap<string, string> = new Map([
  ['strict', 'Strict'],
  ['lax', 'Lax'],
  ['none', 'None'],
])
const PRIORITY: ReadonlyMap<string, string> = new Map([
  ['low', 'Low'],
  ['medium', 'Medium'],
  ['high', 'High'],
])

/** Describes a rejected option value for an error message; long strings are cut, objects named. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  // Stryker disable next-line ConditionalExpression: equivalent, typeof undefined is 'undefined', as String(undefined) (test/mutation-equivalents.md)
  if (value === null || value === undefined) return String(value)
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  return typeof value
}

function hasPrefix(name: string, lowerPrefix: string): boolean {
  // Names are validated tokens (ASCII) before this runs, so toLowerCase() is the ASCII case map.
  // Stryker disable next-line ConditionalExpression: equivalent, a shorter name cannot equal the longer prefix (test/mutation-equivalents.md)
  return name.length >= lowerPrefix.length && name.slice(0, lowerPrefix.length).toLowerCase() === lowerPrefix
}

function assertName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new TypeError(
      `cookie name is invalid: ${show(name)} is not a token (RFC 6265bis §4.1.1, RFC 9110 §5.6.2); ` +
        "use letters, digits and !#$%&'*+-.^_`|~ only",
    )
  }
}

function explainValue(value: unknown): string {
  if (typeof value !== 'string') return `expected a string, got ${show(value)}`
  // Say which character and where, never the value itself: it may be a session token. A string
  // that is not a cookie-value has one such character (between the quotes, when it is quoted; a
  // lone '"' has nothing between them, and its index 0 is right all the same).
  const quoted = value.startsWith('"') && value.endsWith('"')
  const index = quoted ? value.slice(1, -1).search(NOT_COOKIE_OCTET) + 1 : value.search(NOT_COOKIE_OCTET)
  const code = value.codePointAt(index) ?? 0
  return (
    `character U+${code.toString(16).toUpperCase().padStart(4, '0')} at index ${index} is not a cookie-octet ` +
    '(RFC 6265bis §4.1.1); encode the value first, for example as base64url'
  )
}

function assertValue(name: string, value: unknown): asserts value is string {
  // cookie-value in its two forms: unquoted, or between double quotes.
  if (typeof value !== 'string' || !(COOKIE_OCTETS.test(value) || QUOTED_COOKIE_VALUE.test(value))) {
    throw new TypeError(`cookie value is invalid: ${explainValue(value)}`)
  }
  // Both are ASCII by now, so characters are bytes. User agents drop larger cookies silently
  // (RFC 6265bis §5.6 step 5), so refuse to write one.
  const size = name.length + value.length
  if (size > MAX_COOKIE_BYTES) throw new CookieTooLarge(size, MAX_COOKIE_BYTES)
}

function readFlag(option: string, value: unknown): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw new TypeError(`option ${option} is invalid: expected a boolean, got ${show(value)}`)
  return value
}

function formatDomain(domain: unknown): string {
  if (typeof domain !== 'string' || domain.length > MAX_DOMAIN_LENGTH || !DOMAIN_VALUE.test(domain)) {
    throw new TypeError(
      `option domain is invalid: ${show(domain)} is not a host name (RFC 6265bis §4.1.2.3, RFC 1034 §3.5); ` +
        'use letters, digits, hyphens and dots (an optional leading dot), or omit it for a host-only cookie',
    )
  }
  return domain
}

function formatPath(path: unknown): string {
  if (typeof path !== 'string' || !PATH_VALUE.test(path)) {
    throw new TypeError(
      `option path is invalid: ${show(path)} is not a path-value (RFC 6265bis §4.1.2.4); ` +
        'start it with "/" and use printable ASCII without ";", percent-encoding anything else',
    )
  }
  if (path.length > MAX_ATTRIBUTE_VALUE_BYTES) {
    throw new TypeError(
      `option path is invalid: it is ${path.length} bytes; user agents ignore attribute values over ` +
        `${MAX_ATTRIBUTE_VALUE_BYTES} bytes (RFC 6265bis §5.6), so shorten it`,
    )
  }
  return path
}

function formatKeyword(option: string, value: unknown, keywords: ReadonlyMap<string, string>): string {
  const written = typeof value === 'string' ? keywords.get(value.toLowerCase()) : undefined
  if (written === undefined) {
    const expected = [...keywords.keys()].map((keyword) => `"${keyword}"`)
    throw new TypeError(`option ${option} is invalid: expected one of ${expected.join(', ')}, got ${show(value)}`)
  }
  return written
}

/**
 * Prefix rules (RFC 6265bis §4.1.3), checked case-insensitively like user agents do (§5.7: "If the
 * cookie-name begins with a case-insensitive match for the string "__Secure-" / "__Host-"").
 */
function assertPrefixRules(name: string, compiled: CompiledAttributes): void {
  if (hasPrefix(name, '__secure-') && !compiled.secure) {
    throw new TypeError(
      `option secure is invalid: cookie ${show(name)} has the "__Secure-" prefix, which requires ` +
        'secure: true (RFC 6265bis §4.1.3.1); browsers reject it otherwise',
    )
  }
  if (hasPrefix(name, '__host-')) {
    if (!compiled.secure) {
      throw new TypeError(
        `option secure is invalid: cookie ${show(name)} has the "__Host-" prefix, which requires ` +
          'secure: true (RFC 6265bis §4.1.3.2); browsers reject it otherwise',
      )
    }
    if (compiled.domain) {
      throw new TypeError(
        `option domain is invalid: cookie ${show(name)} has the "__Host-" prefix, which forbids a Domain ` +
          'attribute (RFC 6265bis §4.1.3.2); remove the domain option',
      )
    }
    if (compiled.path !== '/') {
      throw new TypeError(
        `option path is invalid: cookie ${show(name)} has the "__Host-" prefix, which requires path "/" ` +
          `(RFC 6265bis §4.1.3.2), got ${show(compiled.path)}; use "/" or omit it`,
      )
    }
  }
}

/** Validates and formats every attribute except the lifetime: the one path both writers share. */
function compileAttributes(name: string, attributes: CookieAttributes | undefined, known: ReadonlySet<string>): CompiledAttributes {
  if (attributes === undefined) attributes = {}
  else if (typeof attributes !== 'object' || attributes === null) {
    throw new TypeError(`options are invalid: expected an object, got ${show(attributes)}`)
  }
  assertKnownKeys(attributes, known, '', COOKIE_HINTS)
  const { domain, path, httpOnly, secure, sameSite, partitioned, priority } = attributes

  let before = ''
  if (domain !== undefined) before += `; Domain=${formatDomain(domain)}`
  let writtenPath = path === undefined ? undefined : formatPath(path)
  // A "__Host-" cookie must carry an explicit Path=/ (RFC 6265bis §4.1.3.2, §5.7), so it is
  // written even when the caller left the path out.
  if (writtenPath === undefined && hasPrefix(name, '__host-')) writtenPath = '/'
  if (writtenPath !== undefined) before += `; Path=${writtenPath}`

  const isSecure = readFlag('secure', secure)
  let after = ''
  if (readFlag('httpOnly', httpOnly)) after += '; HttpOnly'
  if (isSecure) after += '; Secure'
  if (sameSite !== undefined) {
    const written = formatKeyword('sameSite', sameSite, SAME_SITE)
    // RFC 6265bis §5.7: a cookie whose same-site-flag is "None" is ignored unless it is Secure.
    if (written === 'None' && !isSecure) {
      throw new TypeError(
        'option secure is invalid: sameSite "none" requires secure: true; browsers reject ' +
          'SameSite=None cookies without Secure (RFC 6265bis §5.7)',
      )
    }
    after += `; SameSite=${written}`
  }
  if (readFlag('partitioned', partitioned)) {
    // CHIPS (draft-cutler-httpbis-partitioned-cookies §2.1): Partitioned requires Secure.
    if (!isSecure) {
      throw new TypeError(
        'option secure is invalid: partitioned: true requires secure: true; browsers reject ' +
          'Partitioned cookies without Secure (CHIPS)',
      )
    }
    after += '; Partitioned'
  }
  if (priority !== undefined) after += `; Priority=${formatKeyword('priority', priority, PRIORITY)}`

  const compiled: CompiledAttributes = {
    before,
    after,
    secure: isSecure,
    domain: domain !== undefined,
    path: writtenPath,
  }
  assertPrefixRules(name, compiled)
  return compiled
}

function readNow(now: unknown): number {
  const time = now instanceof Date ? now.getTime() : now
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new TypeError(`option now is invalid: expected a valid Date or epoch milliseconds, got ${show(now)}`)
  }
  return time
}

/** Validates and formats `; Expires=…; Max-Age=…`, capping both at 400 days. */
/** `known`: the keys `lifetime` may have, when it is an object of its own (not SetCookieOptions, checked whole). */
function formatLifetime(lifetime: CookieLifetime | undefined, known?: ReadonlySet<string>): string {
  if (lifetime === undefined) return ''
  if (typeof lifetime !== 'object' || lifetime === null) {
    throw new TypeError(`lifetime is invalid: expected an object, got ${show(lifetime)}`)
  }
  if (known !== undefined) assertKnownKeys(lifetime, known, '', COOKIE_HINTS)
  const { expires, maxAge, now } = lifetime
  const currentTime = now === undefined ? undefined : readNow(now)
  let text = ''
  if (expires !== undefined) {
    if (!(expires instanceof Date) || Number.isNaN(expires.getTime())) {
      throw new TypeError(`option expires is invalid: expected a valid Date, got ${show(expires)}`)
    }
    // RFC 6265bis §4.1.2.1 / §5.6.1 step 4: user agents reduce Expires to at most 400 days ahead.
    // Dates before 1970 mean "expired" just as well, and stay within the years user agents can
    // parse (cookie-date requires year >= 1601, §5.1.1).
    const limit = (currentTime ?? Date.now()) + MAX_LIFETIME_MS
    const time = Math.max(0, Math.min(expires.getTime(), limit))
    text += `; Expires=${new Date(time).toUTCString()}`
  }
  if (maxAge !== undefined) {
    if (!Number.isSafeInteger(maxAge)) {
      throw new TypeError(`option maxAge is invalid: expected an integer number of seconds, got ${show(maxAge)}`)
    }
    text += formatMaxAge(maxAge)
  }
  return text
}

function formatMaxAge(maxAge: number): string {
  // RFC 6265bis §4.1.2.2 / §5.6.2 step 5 caps Max-Age at 400 days; §5.6.2 step 6 treats any
  // value <= 0 as "expire now", and the server grammar (§4.1.1) has no sign, so 0 is written.
  return `; Max-Age=${Math.min(Math.max(maxAge, 0), MAX_COOKIE_LIFETIME)}`
}

const EXPIRED = `; Expires=${EPOCH}; Max-Age=0`

function assemble(name: string, value: string, compiled: CompiledAttributes, lifetime: string): string {
  return `${name}=${value}${compiled.before}${lifetime}${compiled.after}`
}

/**
 * Builds one `Set-Cookie` header value. Strict: the name must be a token, the value a
 * cookie-value, every attribute well-formed, and the prefix rules of `__Secure-` and `__Host-`
 * names hold (case-insensitively, like browsers); anything else throws a `TypeError` whose message
 * names the option and the fix. A name and value over {@link MAX_COOKIE_BYTES} throw
 * `CookieTooLarge`, since browsers would drop the cookie silently.
 *
 * Attributes are written in a fixed order: Domain, Path, Expires, Max-Age, HttpOnly, Secure,
 * SameSite, Partitioned, Priority. Lifetimes over 400 days are capped ({@link MAX_COOKIE_LIFETIME}).
 * A `__Host-` cookie always gets `Path=/`.
 *
 * For a literal prefixed name the options are type-checked against the prefix rules
 * ({@link CookieOptionsFor}), so `stringifySetCookie('__Host-id', 'v', { secure: false })` does
 * not compile.
 *
 * @example
 * ```ts
 * stringifySetCookie('__Host-session', 'abc.def', { secure: true, httpOnly: true, sameSite: 'lax', maxAge: 3600 })
 * // '__Host-session=abc.def; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax'
 * ```
 */
export function stringifySetCookie<N extends string>(
  name: N,
  value: string,
  ...options: OptionsArgument<N, CookieOptionsFor<N>>
): string
export function stringifySetCookie(name: string, value: string, options?: SetCookieOptions): string {
  assertName(name)
  const compiled = compileAttributes(name, options, SET_COOKIE_KEYS)
  assertValue(name, value)
  return assemble(name, value, compiled, formatLifetime(options))
}

/**
 * A compiled Set-Cookie writer; see {@link createCookieWriter}.
 *
 * @example
 * ```ts
 * const writer: CookieWriter = createCookieWriter('theme', { path: '/' })
 * writer.serialize('dark', { maxAge: 86400 }) // 'theme=dark; Path=/; Max-Age=86400'
 * writer.expire() // 'theme=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0'
 * ```
 */
export interface CookieWriter {
  /** The cookie name the writer was created for. */
  readonly name: string
  /**
   * Length in bytes of the cached attribute text (everything after `name=value` except the
   * lifetime). A header is `name.length + 1 + value.length + attributeLength` bytes, plus the
   * lifetime (`; Expires=<29 characters>` is 39, `; Max-Age=<n>` is 10 plus the digits).
   */
  readonly attributeLength: number
  /**
   * Builds a `Set-Cookie` header value. Validates only the value, the lifetime and, when given,
   * the alternative `name` (for chunks such as `session.0`; it must be a token and satisfy the
   * prefix rules with the writer's attributes).
   */
  serialize(value: string, lifetime?: CookieLifetime, name?: string): string
  /**
   * Builds a header that deletes the cookie: empty value, `Expires` at the epoch and `Max-Age=0`,
   * with the writer's Domain, Path, Secure, SameSite and Partitioned so the browser matches the
   * stored cookie (a cookie is only replaced by one with the same name, domain and path, RFC 6265bis
   * §4.1.2, §5.7); Secure is kept because a prefixed name needs it even to be deleted.
   */
  expire(name?: string): string
}

/**
 * Validates a cookie's name and attributes once and returns a writer for the hot path: each
 * header reuses the cached attribute text, and output is identical to
 * {@link stringifySetCookie} for the same inputs (both share one validation and formatting path).
 *
 * The attributes carry no lifetime; pass `maxAge`/`expires` to `serialize` (passing them here
 * throws, rather than being ignored).
 *
 * @example
 * ```ts
 * const writer = createCookieWriter('__Host-session', { secure: true, httpOnly: true, sameSite: 'lax' })
 * writer.serialize('abc.def', { maxAge: 3600 })
 * // '__Host-session=abc.def; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax'
 * writer.serialize('chunk', undefined, '__Host-session.1')
 * writer.expire()
 * // '__Host-session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax'
 * ```
 */
export function createCookieWriter<N extends string>(
  name: N,
  ...attributes: OptionsArgument<N, CookieAttributesFor<N>>
): CookieWriter
export function createCookieWriter(name: string, attributes?: CookieAttributes): CookieWriter {
  const { serializeToken: _, ...writer } = createTokenCookieWriter(name, attributes)
  return Object.freeze(writer)
}

/**
 * A {@link CookieWriter} that can also write values known to be cookie-octets without checking
 * them again: the session manager's own tokens, which consist of base64url characters and dots.
 *
 * @internal
 */
export interface TokenCookieWriter extends CookieWriter {
  /**
   * `name=token` with the cached attributes and `Max-Age=maxAge` (an integer number of seconds,
   * capped like {@link CookieLifetime.maxAge}). The caller guarantees that `token` consists of
   * base64url characters and dots; only its size is checked.
   */
  serializeToken(token: string, maxAge: number | undefined): string
}

/**
 * {@link createCookieWriter} plus {@link TokenCookieWriter.serializeToken}, for the session manager.
 *
 * @internal
 */
export function createTokenCookieWriter(name: string, attributes?: CookieAttributes): TokenCookieWriter {
  assertName(name)
  if (typeof attributes === 'object' && attributes !== null) {
    for (const option of ['maxAge', 'expires', 'now'] as const) {
      if ((attributes as Record<string, unknown>)[option] !== undefined) {
        throw new TypeError(
          `option ${option} is invalid: a cookie writer caches attributes only; ` +
            `pass the lifetime to serialize(value, { ${option} }) instead`,
        )
      }
    }
  }
  const compiled = compileAttributes(name, attributes, ATTRIBUTE_KEYS)
  const writerName = name

  function checkName(cookieName: string): void {
    // Stryker disable next-line ConditionalExpression: equivalent, the writer's own name passed the same checks when the writer was built (test/mutation-equivalents.md)
    if (cookieName === writerName) return
    assertName(cookieName)
    assertPrefixRules(cookieName, compiled)
  }

  return {
    name: writerName,
    attributeLength: compiled.before.length + compiled.after.length,
    serialize(value: string, lifetime?: CookieLifetime, cookieName: string = writerName): string {
      checkName(cookieName)
      assertValue(cookieName, value)
      return assemble(cookieName, value, compiled, formatLifetime(lifetime, LIFETIME_KEYS))
    },
    expire(cookieName: string = writerName): string {
      checkName(cookieName)
      return assemble(cookieName, '', compiled, EXPIRED)
    },
    serializeToken(token: string, maxAge: number | undefined): string {
      const size = writerName.length + token.length
      if (size > MAX_COOKIE_BYTES) throw new CookieTooLarge(size, MAX_COOKIE_BYTES)
      return assemble(writerName, token, compiled, maxAge === undefined ? '' : formatMaxAge(maxAge))
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a Set-Cookie header: the twin of stringifySetCookie
// ---------------------------------------------------------------------------------------------

/**
 * A `Set-Cookie` header as {@link parseSetCookie} reads it: the cookie's name and value, and each
 * attribute the header sets in a form user agents honour (one they would ignore is absent). Its
 * attributes are options {@link stringifySetCookie} takes.
 *
 * @example
 * ```ts
 * const cookie: SetCookie | null = parseSetCookie('id=abc; Path=/; HttpOnly')
 * if (cookie !== null) {
 *   const { name, value, ...options } = cookie
 *   stringifySetCookie(name, value, options) // 'id=abc; Path=/; HttpOnly'
 * }
 * ```
 */
export interface SetCookie {
  /** The name; empty for a nameless cookie (a header without "=", RFC 6265bis §5.6 step 3). */
  name: string
  /** The value as written: not percent-decoded, and double quotes around it kept, as user agents keep them. */
  value: string
  /** Domain (§5.6.3): lower-cased, without a leading dot. */
  domain?: string
  /** Path (§5.6.4). Absent when the last Path does not start with "/": user agents then use the default path. */
  path?: string
  /** Expires (§5.6.1), read as a cookie-date (§5.1.1), which takes the formats servers have written over the years. */
  expires?: Date
  /** Max-Age (§5.6.2) in whole seconds, bounded as user agents bound it: 0 (delete now) to 400 days. */
  maxAge?: number
  /** HttpOnly (§5.6.6). */
  httpOnly?: true
  /** Secure (§5.6.5). */
  secure?: true
  /** SameSite (§5.6.7), lower-cased. Absent when the last SameSite is another word: user agents then apply their default. */
  sameSite?: 'strict' | 'lax' | 'none'
  /** Partitioned (CHIPS). */
  partitioned?: true
  /** Priority (Chrome), lower-cased. Absent when the last Priority is another word (Chrome's default, medium). */
  priority?: 'low' | 'medium' | 'high'
}

// RFC 6265bis §5.6 step 1: a set-cookie-string holding a control character other than HTAB
// (%x00-08 / %x0A-1F / %x7F) is ignored entirely.
const FORBIDDEN_CONTROL = /[\x00-\x08\x0A-\x1F\x7F]/

// RFC 6265bis §5.6.2: a Max-Age value is "-" or a DIGIT, then DIGITs only.
const MAX_AGE_VALUE = /^-?[0-9]+$/

const SAME_SITE_READ: ReadonlyMap<string, 'strict' | 'lax' | 'none'> = new Map([
  ['strict', 'strict'],
  ['lax', 'lax'],
  ['none', 'none'],
])
const PRIORITY_READ: ReadonlyMap<string, 'low' | 'medium' | 'high'> = new Map([
  ['low', 'low'],
  ['medium', 'medium'],
  ['high', 'high'],
])

// RFC 6265bis §5.1.1, the cookie-date a user agent parses:
//   cookie-date     = *delimiter date-token-list *delimiter
//   date-token-list = date-token *( 1*delimiter date-token )
//   date-token      = 1*non-delimiter
//   delimiter       = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E
//   non-delimiter   = %x00-08 / %x0A-1F / DIGIT / ":" / ALPHA / %x7F-FF
//   non-digit       = %x00-2F / %x3A-FF
//   day-of-month    = 1*2DIGIT [ non-digit *OCTET ]
//   month           = ( "jan" / "feb" / "mar" / "apr" / "may" / "jun" /
//                       "jul" / "aug" / "sep" / "oct" / "nov" / "dec" ) *OCTET
//   year            = 2*4DIGIT [ non-digit *OCTET ]
//   time            = hms-time [ non-digit *OCTET ]
//   hms-time        = time-field ":" time-field ":" time-field
//   time-field      = 1*2DIGIT
// Each pattern matches the start of one date-token: "[ non-digit *OCTET ]" is "a non-digit or the end".
// Stryker disable next-line Regex: equivalent, runs of delimiters split into empty tokens, which match no date part (test/mutation-equivalents.md)
const DATE_DELIMITERS = /[\x09\x20-\x2F\x3B-\x40\x5B-\x60\x7B-\x7E]+/
const TIME_TOKEN = /^([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9]|$)/
const DAY_TOKEN = /^([0-9]{1,2})(?:[^0-9]|$)/
const MONTH_TOKEN = /^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i
const YEAR_TOKEN = /^([0-9]{2,4})(?:[^0-9]|$)/
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

/** `text` without the SP and HTAB (WSP) around it, trimmed by index: `/[ \t]+$/` is quadratic on long runs. */
function trimWsp(text: string): string {
  let start = 0
  let end = text.length
  // The first loop stops at the end: charCodeAt past it is NaN.
  while (isOws(text.charCodeAt(start))) start++
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, differs only for all-OWS text, the empty string all the same (test/mutation-equivalents.md)
  while (end > start && isOws(text.charCodeAt(end - 1))) end--
  return text.slice(start, end)
}

/** The date of a cookie-date (RFC 6265bis §5.1.1), or undefined when a user agent would fail to parse it. */
function parseCookieDate(text: string): Date | undefined {
  let time: RegExpExecArray | undefined
  let day: number | undefined
  let month: number | undefined
  let year: number | undefined
  // Step 2: each token is tried as a time, a day, a month, then a year, each found once.
  for (const token of text.split(DATE_DELIMITERS)) {
    const timeMatch = time === undefined ? TIME_TOKEN.exec(token) : null
    if (timeMatch !== null) time = timeMatch
    else if (day === undefined && DAY_TOKEN.test(token)) day = Number.parseInt(token, 10)
    else if (month === undefined && MONTH_TOKEN.test(token)) month = MONTHS.indexOf(token.slice(0, 3).toLowerCase())
    else if (year === undefined && YEAR_TOKEN.test(token)) year = Number.parseInt(token, 10)
  }
  // Stryker disable next-line ConditionalExpression: equivalent, Date.UTC with an undefined month is NaN, refused by the day check below (test/mutation-equivalents.md)
  if (time === undefined || day === undefined || month === undefined || year === undefined) return undefined
  // Steps 3 and 4: two-digit years.
  if (year >= 70 && year <= 99) year += 1900
  else if (year <= 69) year += 2000
  const [, hour, minute, second] = time.map(Number) as [number, number, number, number]
  // Step 5: out-of-range fields fail the parse. A day out of 1–31 or an hour over 23 needs no test
  // of its own: Date.UTC rolls it over to another day of the month, which step 6 refuses.
  if (year < 1601 || minute > 59 || second > 59) return undefined
  const date = new Date(Date.UTC(year, month, day, hour, minute, second))
  // Step 6: a date that does not exist (February 30) fails too; Date.UTC would roll it over.
  return date.getUTCDate() === day ? date : undefined
}

/** Max-Age in seconds (RFC 6265bis §5.6.2), bounded to 0 … 400 days; undefined for a value user agents ignore. */
function parseMaxAge(value: string): number | undefined {
  if (!MAX_AGE_VALUE.test(value)) return undefined
  // A long run of digits is Infinity here, capped like any other value over 400 days.
  return Math.max(0, Math.min(Number(value), MAX_COOKIE_LIFETIME))
}

/** Applies one cookie-av (RFC 6265bis §5.6 step 8): a later attribute of the same name wins. */
function readAttribute(cookie: SetCookie, av: string): void {
  const equals = av.indexOf('=')
  const name = trimWsp(equals === -1 ? av : av.slice(0, equals)).toLowerCase()
  const value = equals === -1 ? '' : trimWsp(av.slice(equals + 1))
  // §5.6 step 8: an attribute-value over 1024 octets is ignored, and so is the cookie-av.
  if (value.length > MAX_ATTRIBUTE_VALUE_BYTES) return
  switch (name) {
    case 'expires': {
      const expires = parseCookieDate(value)
      if (expires !== undefined) cookie.expires = expires
      return
    }
    case 'max-age': {
      const maxAge = parseMaxAge(value)
      if (maxAge !== undefined) cookie.maxAge = maxAge
      return
    }
    case 'domain': {
      // §5.6.3: an empty Domain is ignored; a leading "." is dropped; the rest is lower-cased.
      const domain = (value.startsWith('.') ? value.slice(1) : value).toLowerCase()
      if (domain !== '') cookie.domain = domain
      return
    }
    case 'path':
      // §5.6.4: a Path not starting with "/" stands for the default path, which overrides an earlier Path.
      if (value.startsWith('/')) cookie.path = value
      else delete cookie.path
      return
    case 'secure':
      cookie.secure = true
      return
    case 'httponly':
      cookie.httpOnly = true
      return
    case 'samesite':
      // §5.6.7: any other word is the "Default" enforcement, which overrides an earlier SameSite.
      setOrDelete(cookie, 'sameSite', SAME_SITE_READ.get(value.toLowerCase()))
      return
    case 'partitioned':
      cookie.partitioned = true
      return
    case 'priority':
      setOrDelete(cookie, 'priority', PRIORITY_READ.get(value.toLowerCase()))
      return
    default:
    // Extension attributes (§5.6 step 8, last case) are ignored.
  }
}

function setOrDelete<K extends 'sameSite' | 'priority'>(cookie: SetCookie, key: K, value: SetCookie[K] | undefined): void {
  if (value === undefined) delete cookie[key]
  else cookie[key] = value
}

/**
 * Parses one `Set-Cookie` header value the way a user agent does (RFC 6265bis §5.6): the twin of
 * {@link stringifySetCookie}. Lenient: it never throws, whatever the input, and returns `null`
 * only where a user agent ignores the header entirely: a control character other than HTAB
 * (§5.6 step 1), a name and value both empty, or a name and value over {@link MAX_COOKIE_BYTES}
 * together (§5.6 step 5). The result is a null-prototype object.
 *
 * - the value is kept as written: no percent-decoding, and surrounding double quotes are kept;
 * - attribute names are case-insensitive, and when one repeats the last counts;
 * - an attribute written in a form user agents ignore is absent: an Expires that is not a
 *   cookie-date, a Max-Age that is not an integer, an empty Domain, a Path not starting with "/",
 *   an attribute value over 1024 bytes, unknown attributes;
 * - Max-Age is bounded to 0 … {@link MAX_COOKIE_LIFETIME} as user agents bound it (a negative one
 *   is 0: delete now); Expires is the date as written;
 * - no storage-model rule applies (prefixes, SameSite=None without Secure, the request's host and
 *   path): a user agent may still refuse a cookie this returns.
 *
 * For every name, value and options `stringifySetCookie` accepts, `parseSetCookie` returns them
 * back, as `stringifySetCookie` wrote them: the domain lower-cased without its leading dot, Expires
 * to the second, the lifetimes capped, the keywords lower-cased and `false` flags left out.
 *
 * @example
 * ```ts
 * parseSetCookie('__Host-id=abc; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Lax')
 * // { name: '__Host-id', value: 'abc', path: '/', maxAge: 3600, secure: true, httpOnly: true, sameSite: 'lax' }
 * parseSetCookie('NID=1; expires=Fri, 01-Aug-2025 10:00:00 GMT; domain=.Example.com')?.domain // 'example.com'
 * parseSetCookie('bad=\u0000') // null
 * ```
 */
export function parseSetCookie(header: string | null | undefined): SetCookie | null {
  if (typeof header !== 'string' || FORBIDDEN_CONTROL.test(header)) return null
  // §5.6 steps 2 to 4: the name-value-pair runs to the first ";", the name to its first "=".
  let end = header.indexOf(';')
  if (end === -1) end = header.length
  const pair = header.slice(0, end)
  const equals = pair.indexOf('=')
  const name = equals === -1 ? '' : trimWsp(pair.slice(0, equals))
  // Without "=" the pair is the value (equals + 1 is then 0).
  const value = trimWsp(pair.slice(equals + 1))
  if (name === '' && value === '') return null
  if (name.length + value.length > MAX_COOKIE_BYTES) return null
  const cookie = Object.create(null) as SetCookie
  cookie.name = name
  cookie.value = value
  while (end < header.length) {
    let next = header.indexOf(';', end + 1)
    if (next === -1) next = header.length
    readAttribute(cookie, header.slice(end + 1, next))
    end = next
  }
  return cookie
}
