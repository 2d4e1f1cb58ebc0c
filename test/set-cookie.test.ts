/**
 * parseSetCookie, the twin of stringifySetCookie: it reads a Set-Cookie header as a user agent does
 * (RFC 6265bis §5.6, cookie-dates by §5.1.1), never throws, and gives back what
 * stringifySetCookie wrote.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_COOKIE_BYTES, MAX_COOKIE_LIFETIME, parseSetCookie, stringifySetCookie, type SetCookie, type SetCookieOptions } from '../src/cookie/cookie.js'

const NOW = Date.UTC(2025, 0, 1) // Wed, 01 Jan 2025 00:00:00 GMT
const utc = (...parts: [number, number, number, number?, number?, number?]): Date => new Date(Date.UTC(...parts))

/** A plain copy, so toEqual compares the keys and values only. */
function plain(cookie: SetCookie | null): Record<string, unknown> | null {
  return cookie === null ? null : { ...cookie }
}

describe('parseSetCookie', () => {
  it.each<[string, string, Record<string, unknown>]>([
    // What servers send.
    ['Frasco', 'session=eyJhIjoxfQ.Zk9x_-A.sig; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax', { name: 'session', value: 'eyJhIjoxfQ.Zk9x_-A.sig', path: '/', maxAge: 3600, httpOnly: true, secure: true, sameSite: 'lax' }],
    ['a Frasco deletion', 'session.1=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; SameSite=Lax', { name: 'session.1', value: '', path: '/', expires: new Date(0), maxAge: 0, httpOnly: true, sameSite: 'lax' }],
    ['Flask', 'session=.eJyrVkrOLy1KTlWyUkpKLU4tyk0sUaoFAFi6B6E.Z2H8sA.abc; Expires=Sat, 01 Feb 2025 10:00:00 GMT; HttpOnly; Path=/', { name: 'session', value: '.eJyrVkrOLy1KTlWyUkpKLU4tyk0sUaoFAFi6B6E.Z2H8sA.abc', expires: utc(2025, 1, 1, 10, 0, 0), httpOnly: true, path: '/' }],
    ['Express', 'connect.sid=s%3Aabc.def; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT; HttpOnly; SameSite=Strict', { name: 'connect.sid', value: 's%3Aabc.def', path: '/', expires: utc(2015, 9, 21, 7, 28, 0), httpOnly: true, sameSite: 'strict' }],
    ['Django', 'sessionid=abc123; expires=Tue, 06 Feb 2024 12:00:00 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax', { name: 'sessionid', value: 'abc123', expires: utc(2024, 1, 6, 12, 0, 0), httpOnly: true, maxAge: 1209600, path: '/', sameSite: 'lax' }],
    ['Rails', '_app_session=abc--def; path=/; secure; HttpOnly; SameSite=Lax', { name: '_app_session', value: 'abc--def', path: '/', secure: true, httpOnly: true, sameSite: 'lax' }],
    ['PHP', 'PHPSESSID=2b7d; path=/', { name: 'PHPSESSID', value: '2b7d', path: '/' }],
    ['PHP deleting', 'PHPSESSID=deleted; expires=Thu, 01-Jan-1970 00:00:01 GMT; Max-Age=0; path=/', { name: 'PHPSESSID', value: 'deleted', expires: new Date(1000), maxAge: 0, path: '/' }],
    ['ASP.NET Core', '.AspNetCore.Session=CfDJ8Ab%2Bc; path=/; samesite=lax; httponly', { name: '.AspNetCore.Session', value: 'CfDJ8Ab%2Bc', path: '/', sameSite: 'lax', httpOnly: true }],
    ['Google (RFC 850 date, dashes)', 'NID=511=abc; expires=Fri, 01-Aug-2025 10:00:00 GMT; path=/; domain=.google.com; HttpOnly', { name: 'NID', value: '511=abc', expires: utc(2025, 7, 1, 10, 0, 0), path: '/', domain: 'google.com', httpOnly: true }],
    ['Cloudflare (two-digit year)', '__cf_bm=x.y-1; path=/; expires=Sat, 27-Jan-24 10:30:00 GMT; domain=.Example.com; HttpOnly; Secure; SameSite=None', { name: '__cf_bm', value: 'x.y-1', path: '/', expires: utc(2024, 0, 27, 10, 30, 0), domain: 'example.com', httpOnly: true, secure: true, sameSite: 'none' }],
    ['CHIPS', '__Host-id=1; Secure; Path=/; SameSite=None; Partitioned', { name: '__Host-id', value: '1', secure: true, path: '/', sameSite: 'none', partitioned: true }],
    ['Priority', 'a=b; Priority=HIGH', { name: 'a', value: 'b', priority: 'high' }],
    ['a quoted value, kept as written', 'a="b c"; Path=/', { name: 'a', value: '"b c"', path: '/' }],
    // What user agents make of odd headers (RFC 6265bis §5.6).
    ['a nameless cookie', 'justavalue', { name: '', value: 'justavalue' }],
    ['an empty name', '=value; Secure', { name: '', value: 'value', secure: true }],
    ['an empty value', 'a=', { name: 'a', value: '' }],
    ['"=" inside the value', 'a=b=c==', { name: 'a', value: 'b=c==' }],
    ['WSP around names, values and attributes', ' \ta = b \t;  path = /x ;secure', { name: 'a', value: 'b', path: '/x', secure: true }],
    ['HTAB inside a value', 'a=b\tc', { name: 'a', value: 'b\tc' }],
    ['attribute names in any case', 'a=b; PATH=/x; DOMAIN=EXAMPLE.COM; SECURE; HTTPONLY; SAMESITE=STRICT; MAX-AGE=5', { name: 'a', value: 'b', path: '/x', domain: 'example.com', secure: true, httpOnly: true, sameSite: 'strict', maxAge: 5 }],
    ['the last attribute of a name wins', 'a=b; Path=/one; Path=/two; Max-Age=1; Max-Age=2; SameSite=Lax; SameSite=Strict', { name: 'a', value: 'b', path: '/two', maxAge: 2, sameSite: 'strict' }],
    ['flags take no value, whatever is written', 'a=b; Secure=false; HttpOnly=no; Partitioned=0', { name: 'a', value: 'b', secure: true, httpOnly: true, partitioned: true }],
    ['empty and unknown attributes', 'a=b;;  ; Foo=bar; Comment=x; Version=1', { name: 'a', value: 'b' }],
    ['a negative Max-Age: delete now', 'a=b; Max-Age=-1', { name: 'a', value: 'b', maxAge: 0 }],
    ['"-0"', 'a=b; Max-Age=-0', { name: 'a', value: 'b', maxAge: 0 }],
    ['a Max-Age over 400 days, capped', 'a=b; Max-Age=99999999999999999999999', { name: 'a', value: 'b', maxAge: MAX_COOKIE_LIFETIME }],
    ['a Max-Age with a sign or a fraction, ignored', 'a=b; Max-Age=7; Max-Age=+5; Max-Age=1.5; Max-Age=-; Max-Age=; Max-Age=1e3', { name: 'a', value: 'b', maxAge: 7 }],
    ['an Expires that is no date, ignored', 'a=b; Expires=Fri, 01 Aug 2025 10:00:00 GMT; Expires=soon', { name: 'a', value: 'b', expires: utc(2025, 7, 1, 10, 0, 0) }],
    ['an empty Domain, ignored', 'a=b; Domain=example.com; Domain=', { name: 'a', value: 'b', domain: 'example.com' }],
    ['a Domain without "=", ignored', 'a=b; Domain=example.com; Domain', { name: 'a', value: 'b', domain: 'example.com' }],
    ['a Domain of a dot alone, ignored', 'a=b; Domain=.', { name: 'a', value: 'b' }],
    ['a Path not starting with "/": the default path', 'a=b; Path=/x; Path=relative', { name: 'a', value: 'b' }],
    ['an empty Path: the default path', 'a=b; Path=', { name: 'a', value: 'b' }],
    ['an unknown SameSite: the default', 'a=b; SameSite=Lax; SameSite=Bogus', { name: 'a', value: 'b' }],
    ['an unknown Priority: the default', 'a=b; Priority=Low; Priority=urgent', { name: 'a', value: 'b' }],
    ['an attribute value over 1024 bytes, ignored', `a=b; Path=/ok; Path=/${'x'.repeat(1024)}`, { name: 'a', value: 'b', path: '/ok' }],
    ['an attribute value of 1024 bytes, kept', `a=b; Path=/${'x'.repeat(1023)}`, { name: 'a', value: 'b', path: `/${'x'.repeat(1023)}` }],
    ['a comma is no separator', 'a=1, b=2; Path=/', { name: 'a', value: '1, b=2', path: '/' }],
    ['__proto__ as a name', '__proto__=x; constructor=y', { name: '__proto__', value: 'x' }],
    ['non-ASCII kept raw', 'ü=€; Path=/é', { name: 'ü', value: '€', path: '/é' }],
    ['a name and value of exactly 4096 bytes', `n=${'v'.repeat(MAX_COOKIE_BYTES - 1)}`, { name: 'n', value: 'v'.repeat(MAX_COOKIE_BYTES - 1) }],
  ])('reads %s', (_, header, expected) => {
    expect(plain(parseSetCookie(header))).toEqual(expected)
  })

  it.each<[string, unknown]>([
    ['an empty header', ''],
    ['only WSP', ' \t '],
    ['an empty pair with attributes', '; Secure; Path=/'],
    ['"=" alone', '='],
    ['NUL in the value', 'a=b\u0000c'],
    ['a line feed (header splitting)', 'a=b\nSet-Cookie: evil=1'],
    ['a carriage return in an attribute', 'a=b; Path=/\r'],
    ['DEL', 'a=\u007f'],
    ['a name and value over 4096 bytes', `n=${'v'.repeat(MAX_COOKIE_BYTES)}`],
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { name: 'a', value: 'b' }],
    ['an array', ['a=b']],
  ])('returns null for %s, as user agents ignore it', (_, header) => {
    expect(parseSetCookie(header as string)).toBeNull()
  })

  it('returns a null-prototype object, so attribute soup cannot reach Object.prototype', () => {
    const cookie = parseSetCookie('__proto__=polluted; __proto__; constructor=x; toString')
    expect(Object.getPrototypeOf(cookie)).toBeNull()
    expect(cookie?.name).toBe('__proto__')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  // RFC 6265bis §5.1.1: tokens in any order, the formats servers have used, and what fails.
  it.each<[string, Date | undefined]>([
    ['Sun, 06 Nov 1994 08:49:37 GMT', utc(1994, 10, 6, 8, 49, 37)], // IMF-fixdate
    ['Sunday, 06-Nov-94 08:49:37 GMT', utc(1994, 10, 6, 8, 49, 37)], // RFC 850
    ['Sun Nov  6 08:49:37 1994', utc(1994, 10, 6, 8, 49, 37)], // asctime
    ['Thu, 01-Jan-1970 00:00:01 GMT', new Date(1000)],
    ['1994 Nov 6 8:9:7', utc(1994, 10, 6, 8, 9, 7)],
    ['06 november 2030 23:59:59 UTC+02', utc(2030, 10, 6, 23, 59, 59)], // month prefixes, trailing junk
    ['6 DEC 69 00:00:00', utc(2069, 11, 6, 0, 0, 0)], // 00-69 → 2000s
    ['6 Dec 70 00:00:00', utc(1970, 11, 6, 0, 0, 0)], // 70-99 → 1900s
    ['29 Feb 2024 12:00:00', utc(2024, 1, 29, 12, 0, 0)],
    ['31 Dec 9999 23:59:59', utc(9999, 11, 31, 23, 59, 59)],
    ['01 Jan 1601 00:00:00', utc(1601, 0, 1, 0, 0, 0)],
    ['29 Feb 2023 12:00:00', undefined], // no such day
    ['31 Apr 2021 00:00:00', undefined],
    ['01 Jan 1600 00:00:00', undefined], // before 1601
    ['32 Jan 2020 00:00:00', undefined],
    ['00 Jan 2020 00:00:00', undefined],
    ['01 Jan 2020 24:00:00', undefined],
    ['01 Jan 2020 23:60:00', undefined],
    ['01 Jan 2020 23:59:60', undefined],
    ['01 Jan 2020 10:60:00', undefined], // a minute over 59 the same day
    ['01 Jan 2020 10:00:60', undefined], // a second over 59 the same day
    ['21 Oct 2015 07:28:05GMT', utc(2015, 9, 21, 7, 28, 5)], // a time-field ends at a non-digit
    ['21 Oct 2015 07:28:00 10:00:00', utc(2015, 9, 21, 7, 28, 0)], // the first time counts
    ['21 Oct 2015 Nov 07:28:00', utc(2015, 9, 21, 7, 28, 0)], // the first month counts
    ['21 xOct 2015 07:28:00', undefined], // a month is the start of a token
    ['21 Oct 99 07:28:00', utc(1999, 9, 21, 7, 28, 0)], // 99 → 1999
    ['01 Jan 2020', undefined], // no time
    ['Jan 2020 10:00:00', undefined], // no day (2020 is a year, not a day)
    ['01 2020 10:00:00', undefined], // no month
    ['01 Jan 10:00:00', undefined], // no year
    ['01 Jan 12345 10:00:00', undefined], // a five-digit year is no year
    ['123:00:00 01 Jan 2020', undefined], // a three-digit hour is no time
    ['', undefined],
  ])('reads Expires=%s as a cookie-date', (date, expected) => {
    const cookie = parseSetCookie(`a=b; Expires=${date}`)
    expect(cookie?.expires).toEqual(expected)
    expect(cookie !== null && 'expires' in cookie).toBe(expected !== undefined)
  })
})

// -------------------------------------------------------------------------------------------------
// Property tests
// -------------------------------------------------------------------------------------------------

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const COOKIE_OCTETS = [...Array(0x7f).keys()]
  .filter((code) => code === 0x21 || (code >= 0x23 && code <= 0x2b) || (code >= 0x2d && code <= 0x3a) || (code >= 0x3c && code <= 0x5b) || (code >= 0x5d && code <= 0x7e))
  .map((code) => String.fromCharCode(code))
const PATH_CHARS = [...Array(0x7f).keys()].filter((code) => code >= 0x20 && code !== 0x3b && code !== 0x7f).map((code) => String.fromCharCode(code))

const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 })
const cookieName = fc.oneof(token, fc.constantFrom('session', 'session.0', '__Host-id', '__Secure-id', '__host-ID', '__SECURE-x'))
const octets = fc.string({ unit: fc.constantFrom(...COOKIE_OCTETS), maxLength: 40 })
const cookieValue = fc.oneof(octets, octets.map((value) => `"${value}"`))
const label = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,8}[A-Za-z0-9])?$/)
const domain = fc.tuple(fc.boolean(), fc.array(label, { minLength: 1, maxLength: 3 })).map(([dot, labels]) => `${dot ? '.' : ''}${labels.join('.')}`)
const path = fc.string({ unit: fc.constantFrom(...PATH_CHARS), maxLength: 20 }).map((rest) => `/${rest}`)
const keyword = <T extends string>(...words: T[]): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...words), fc.constantFrom('lower', 'upper', 'capital')).map(([word, casing]) =>
    casing === 'lower' ? word : casing === 'upper' ? word.toUpperCase() : `${word[0]?.toUpperCase()}${word.slice(1)}`,
  )

const setCookieOptions = fc.record(
  {
    domain,
    path,
    expires: fc.date({ min: new Date(-1e13), max: new Date(1e14), noInvalidDate: true }),
    maxAge: fc.oneof(fc.integer({ min: -1e6, max: 1e9 }), fc.constantFrom(0, -1, MAX_COOKIE_LIFETIME, MAX_COOKIE_LIFETIME + 1, Number.MAX_SAFE_INTEGER)),
    httpOnly: fc.boolean(),
    secure: fc.boolean(),
    sameSite: keyword('strict', 'lax', 'none'),
    partitioned: fc.boolean(),
    priority: keyword('low', 'medium', 'high'),
  },
  { requiredKeys: [] },
)

/** Options stringifySetCookie accepts for `name`: Secure where a rule needs it, a __Host- cookie host-only at "/". */
function acceptable(name: string, options: Record<string, unknown>): SetCookieOptions {
  const fixed: Record<string, unknown> = { ...options }
  const lower = name.toLowerCase()
  if (lower.startsWith('__host-') || lower.startsWith('__secure-') || fixed.partitioned === true || String(fixed.sameSite).toLowerCase() === 'none') fixed.secure = true
  if (lower.startsWith('__host-')) {
    delete fixed.domain
    if (fixed.path !== undefined) fixed.path = '/'
  }
  return fixed as SetCookieOptions
}

/** What parseSetCookie must return for a header stringifySetCookie wrote (see parseSetCookie's JSDoc). */
function expected(name: string, value: string, options: SetCookieOptions): Record<string, unknown> {
  const cookie: Record<string, unknown> = { name, value }
  if (options.domain !== undefined) cookie.domain = options.domain.replace(/^\./, '').toLowerCase()
  // User agents trim WSP around an attribute value (§5.6 step 8): a path ending in spaces loses them.
  const writtenPath = options.path ?? (name.toLowerCase().startsWith('__host-') ? '/' : undefined)
  if (writtenPath !== undefined) cookie.path = writtenPath.replace(/[ \t]+$/, '')
  if (options.expires !== undefined) {
    const capped = Math.max(0, Math.min(options.expires.getTime(), NOW + MAX_COOKIE_LIFETIME * 1000))
    cookie.expires = new Date(Math.floor(capped / 1000) * 1000) // IMF-fixdate has whole seconds
  }
  if (options.maxAge !== undefined) cookie.maxAge = Math.min(Math.max(options.maxAge, 0), MAX_COOKIE_LIFETIME)
  for (const flag of ['httpOnly', 'secure', 'partitioned'] as const) if (options[flag] === true) cookie[flag] = true
  if (options.sameSite !== undefined) cookie.sameSite = options.sameSite.toLowerCase()
  if (options.priority !== undefined) cookie.priority = options.priority.toLowerCase()
  return cookie
}

describe('parseSetCookie and stringifySetCookie (properties)', () => {
  it('parseSetCookie reads back what stringifySetCookie wrote', () => {
    fc.assert(
      fc.property(cookieName, cookieValue, setCookieOptions, (name, value, options) => {
        const accepted = acceptable(name, options)
        const header = stringifySetCookie(name, value, { ...accepted, now: NOW })
        expect(plain(parseSetCookie(header))).toEqual(expected(name, value, accepted))
      }),
      { numRuns: 2000 },
    )
  })

  it("parseSetCookie's result is stringifySetCookie's input: writing it again reads back the same cookie", () => {
    fc.assert(
      fc.property(cookieName, cookieValue, setCookieOptions, (name, value, options) => {
        const first = parseSetCookie(stringifySetCookie(name, value, { ...acceptable(name, options), now: NOW })) as SetCookie
        const { name: again, value: same, ...attributes } = first
        expect(plain(parseSetCookie(stringifySetCookie(again, same, { ...attributes, now: NOW })))).toEqual(plain(first))
      }),
      { numRuns: 1000 },
    )
  })

  /** Every field of a result in its documented range. */
  function expectWellFormed(cookie: SetCookie | null): void {
    if (cookie === null) return
    expect(Object.getPrototypeOf(cookie)).toBeNull()
    expect(typeof cookie.name).toBe('string')
    expect(typeof cookie.value).toBe('string')
    expect(cookie.name.length + cookie.value.length).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
    expect(Object.keys(cookie).filter((key) => !['name', 'value', 'domain', 'path', 'expires', 'maxAge', 'httpOnly', 'secure', 'sameSite', 'partitioned', 'priority'].includes(key))).toEqual([])
    if (cookie.maxAge !== undefined) expect(Number.isSafeInteger(cookie.maxAge) && cookie.maxAge >= 0 && cookie.maxAge <= MAX_COOKIE_LIFETIME).toBe(true)
    if (cookie.expires !== undefined) expect(Number.isNaN(cookie.expires.getTime())).toBe(false)
    if (cookie.path !== undefined) expect(cookie.path.startsWith('/')).toBe(true)
    if (cookie.domain !== undefined) expect(cookie.domain).toBe(cookie.domain.toLowerCase())
    if (cookie.sameSite !== undefined) expect(['strict', 'lax', 'none']).toContain(cookie.sameSite)
    if (cookie.priority !== undefined) expect(['low', 'medium', 'high']).toContain(cookie.priority)
    for (const flag of ['httpOnly', 'secure', 'partitioned'] as const) if (flag in cookie) expect(cookie[flag]).toBe(true)
  }

  // Mostly printable latin1 (as Node.js decodes header bytes), now and then a control character or
  // any UTF-16 unit: text of control characters only would be refused at its first one.
  const text = fc.string({
    unit: fc.oneof(
      { arbitrary: fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code)), weight: 40 },
      { arbitrary: fc.constantFrom(';', '=', ' ', '\t', '"'), weight: 20 },
      { arbitrary: fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)), weight: 1 },
      { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 1 },
    ),
    maxLength: 300,
  })

  it('never throws on random text, and what it returns is well-formed', () => {
    fc.assert(
      fc.property(text, (header) => {
        expectWellFormed(parseSetCookie(header))
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws on attribute soup', () => {
    const attributeName = fc.constantFrom('Expires', 'max-age', 'DOMAIN', 'Path', 'Secure', 'httponly', 'SameSite', 'Partitioned', 'Priority', '__proto__', 'constructor', '')
    const attributeValue = fc.oneof(
      fc.string({ unit: fc.constantFrom('0', '9', '-', ':', ' ', '.', '/', 'a', 'J', 'n', 'G', '=', '"', '\t', 'é'), maxLength: 30 }),
      fc.constantFrom('Thu, 01 Jan 1970 00:00:00 GMT', '-99999999999999999999', '1e309', 'None', 'LAX', 'high', '.', ''),
    )
    const av = fc.tuple(attributeName, fc.constantFrom('=', ' = ', '', '=='), attributeValue).map(([name, equals, value]) => `${name}${equals}${value}`)
    const header = fc.tuple(fc.string({ maxLength: 20 }), fc.array(av, { maxLength: 8 }), fc.constantFrom(';', '; ', ' ;\t')).map(([pair, avs, separator]) => [pair, ...avs].join(separator))
    fc.assert(
      fc.property(header, (text) => {
        expectWellFormed(parseSetCookie(text))
      }),
      { numRuns: 3000 },
    )
  })

  it('reads a long header in linear time (no quadratic trimming or splitting)', () => {
    const spaces = ' '.repeat(200_000)
    const started = performance.now()
    parseSetCookie(`a=b${spaces}x; Path=/${spaces}x${';'.repeat(100_000)}; Expires=${'1 '.repeat(500)}`)
    parseSetCookie(`${spaces}=${spaces}`)
    // Linear: milliseconds, or a second on a loaded machine. A quadratic trim (`/[ \t]+$/`) spends
    // seconds on 50,000 spaces and minutes on these 200,000, so the bound leaves room for load.
    expect(performance.now() - started).toBeLessThan(5000)
  })
})
