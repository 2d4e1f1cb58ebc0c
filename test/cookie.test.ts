import { beforeAll, describe, it, expect, expectTypeOf } from 'vitest'
import fc from 'fast-check'
import {
  MAX_COOKIE_BYTES,
  MAX_COOKIE_LIFETIME,
  createCookieWriter,
  createTokenCookieWriter,
  getCookie,
  parseCookie,
  stringifySetCookie,
  type CookieAttributes,
  type CookieAttributesFor,
  type CookieOptionsFor,
  type CookieWriter,
  type SetCookieOptions,
} from '../src/cookie/cookie.js'
import { CookieTooLarge } from '../src/errors.js'

const DAY = 86_400_000
const NOW = Date.UTC(2025, 0, 1) // Wed, 01 Jan 2025 00:00:00 GMT
const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT'

/** A plain copy, so toEqual compares keys and values only. */
function plain(record: Record<string, string>): Record<string, string> {
  return { ...record }
}

describe('parseCookie', () => {
  it.each<[string, string, Record<string, string>]>([
    ['a simple pair', 'a=1', { a: '1' }],
    ['several pairs', 'a=1; b=2; c=3', { a: '1', b: '2', c: '3' }],
    ['pairs without spaces', 'a=1;b=2', { a: '1', b: '2' }],
    ['spaces around names and values', '  a = 1 ;  b=2  ', { a: '1', b: '2' }],
    ['tabs around names and values', '\ta\t=\t1\t;\tb=2\t', { a: '1', b: '2' }],
    ['internal whitespace kept', 'a=x y', { a: 'x y' }],
    ['a quoted value', 'a="1"; b="x y"', { a: '1', b: 'x y' }],
    ['an empty quoted value', 'a=""', { a: '' }],
    ['a lone quote', 'a="', { a: '"' }],
    ['an unbalanced quote', 'a="abc; b=abc"', { a: '"abc', b: 'abc"' }],
    ['quotes inside a value', 'a=x"y"z', { a: 'x"y"z' }],
    ['an empty value', 'a=; b=2', { a: '', b: '2' }],
    ['a value with =', 'a=b=c==', { a: 'b=c==' }],
    ['pairs missing =', 'a; b=2; c', { b: '2' }],
    ['an empty name', '=1; b=2; =3', { b: '2' }],
    ['a blank name', ' \t =1; b=2', { b: '2' }],
    ['duplicate names: the first wins', 'a=1; a=2; a=3', { a: '1' }],
    ['duplicate names: an empty first value still wins', 'a=; a=2', { a: '' }],
    ['duplicates after trimming', 'a=1; a =2', { a: '1' }],
    ['empty segments', ';;a=1;; ;b=2;', { a: '1', b: '2' }],
    ['no percent-decoding by default', 'a=%20x; b=%E2%82%AC', { a: '%20x', b: '%E2%82%AC' }],
    ['base64url and dots kept as they are', 's=eyJhIjoxfQ.Zk9x_-A.sig', { s: 'eyJhIjoxfQ.Zk9x_-A.sig' }],
    ['names are case-sensitive', 'A=1; a=2', { A: '1', a: '2' }],
    ['an empty header', '', {}],
    ['only separators and spaces', ' ; ;\t; ', {}],
    ['non-ASCII kept raw', 'ü=ö; b=€', { ü: 'ö', b: '€' }],
    ['controls kept raw', 'a=\u0001x; b=\u007f', { a: '\u0001x', b: '\u007f' }],
    ['a comma is not a separator', 'a=1, b=2', { a: '1, b=2' }],
  ])('parses %s', (_, header, expected) => {
    expect(plain(parseCookie(header))).toEqual(expected)
  })

  it.each([undefined, null, 42, ['a=1'], { a: '1' }])('returns an empty object for %o', (header) => {
    const cookies = parseCookie(header as string | undefined)
    expect(plain(cookies)).toEqual({})
    expect(Object.getPrototypeOf(cookies)).toBe(null)
  })

  it('returns a null-prototype object', () => {
    expect(Object.getPrototypeOf(parseCookie('a=1'))).toBe(null)
  })

  it('treats __proto__, constructor and hasOwnProperty as plain keys', () => {
    const header = '__proto__=x; constructor=y; hasOwnProperty=z; toString=w; prototype=p; __proto__=q'
    const cookies = parseCookie(header)
    expect(Object.getPrototypeOf(cookies)).toBe(null)
    expect(Object.keys(cookies)).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'prototype'])
    expect(cookies['__proto__']).toBe('x')
    expect(cookies['constructor']).toBe('y')
    expect(cookies['hasOwnProperty']).toBe('z')
    expect(cookies['toString']).toBe('w')
    expect(({} as Record<string, unknown>)['x']).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('x')
    expect(typeof Object.prototype.toString).toBe('function')
    expect(getCookie(header, '__proto__')).toBe('x')
    expect(getCookie('a=1', 'constructor')).toBeUndefined()
    expect(getCookie('a=1', '__proto__')).toBeUndefined()
  })

  it('ignores a header longer than maxLength entirely', () => {
    const header = `a=1; b=${'x'.repeat(65_536)}`
    expect(plain(parseCookie(header))).toEqual({})
    expect(getCookie(header, 'a')).toBeUndefined()
    const exact = `a=${'x'.repeat(65_534)}`
    expect(exact.length).toBe(65_536)
    expect(parseCookie(exact)['a']).toHaveLength(65_534)
    expect(plain(parseCookie('a=1; b=2', { maxLength: 7 }))).toEqual({})
    expect(plain(parseCookie('a=1; b=2', { maxLength: 8 }))).toEqual({ a: '1', b: '2' })
  })

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '10', null, true])(
    'rejects maxLength %o',
    (maxLength) => {
      const options = { maxLength } as unknown as { maxLength: number }
      expect(() => parseCookie('a=1', options)).toThrow(TypeError)
      expect(() => parseCookie('a=1', options)).toThrow(/^option maxLength is invalid: /)
      expect(() => getCookie('a=1', 'a', options)).toThrow(/^option maxLength is invalid: /)
    },
  )

  it('rejects a decode that is not a function', () => {
    const options = { decode: 'decodeURIComponent' } as unknown as { decode: (value: string) => string }
    expect(() => parseCookie('a=1', options)).toThrow(/^option decode is invalid: /)
  })

  it('parses 10 000 cookies', () => {
    const pairs = Array.from({ length: 10_000 }, (_, index) => `c${index}=v${index}`)
    const header = pairs.join('; ')
    const cookies = parseCookie(header, { maxLength: header.length })
    expect(Object.keys(cookies)).toHaveLength(10_000)
    for (let index = 0; index < 10_000; index += 1) expect(cookies[`c${index}`]).toBe(`v${index}`)
    expect(getCookie(header, 'c9999', { maxLength: header.length })).toBe('v9999')
  })

  it('stays linear on many pairs without =', () => {
    // A parser that searches for "=" from every pair would take ~10^11 steps here.
    const header = `${'x;'.repeat(500_000)}a=b`
    const options = { maxLength: header.length }
    expect(plain(parseCookie(header, options))).toEqual({ a: 'b' })
    expect(getCookie(header, 'a', options)).toBe('b')
    expect(plain(parseCookie(';'.repeat(1_000_000), { maxLength: 1_000_000 }))).toEqual({})
  })

  it('decodes with options.decode', () => {
    const cookies = parseCookie('a=%20x; b="%E2%82%AC"; c=plain', { decode: decodeURIComponent })
    expect(plain(cookies)).toEqual({ a: ' x', b: '€', c: 'plain' })
  })

  it('keeps the raw value when decode throws', () => {
    const cookies = parseCookie('a=%E0%A4%A; b=%41', { decode: decodeURIComponent })
    expect(plain(cookies)).toEqual({ a: '%E0%A4%A', b: 'A' })
    expect(getCookie('a=%E0%A4%A', 'a', { decode: decodeURIComponent })).toBe('%E0%A4%A')
  })

  it('keeps the raw value when decode returns a non-string', () => {
    const decode = (() => 42) as unknown as (value: string) => string
    expect(parseCookie('a=1', { decode })['a']).toBe('1')
  })

  it('lets the first occurrence win even when decode throws on it', () => {
    const decode = (value: string): string => {
      if (value === 'bad') throw new Error('no')
      return value.toUpperCase()
    }
    expect(plain(parseCookie('a=bad; a=good', { decode }))).toEqual({ a: 'bad' })
  })

  it('never throws on arbitrary strings and returns string values', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (header) => {
        const cookies = parseCookie(header)
        expect(Object.getPrototypeOf(cookies)).toBe(null)
        for (const [name, value] of Object.entries(cookies)) {
          expect(name.length).toBeGreaterThan(0)
          expect(typeof value).toBe('string')
        }
      }),
    )
  })
})

// Headers built from the characters that matter to the grammar, so pairs, quotes and whitespace
// actually occur; plus fully arbitrary strings.
const cookieishHeader = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', '_', '=', ';', ' ', '\t', '"', '%', 'é', '\u0000'), maxLength: 60 }),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('', ' ', '\t'),
        fc.constantFrom('a', 'b', 'A', '__proto__', 'constructor', 'a b', ''),
        fc.constantFrom('=', ' = ', '', '=='),
        fc.string({ unit: fc.constantFrom('x', '"', ' ', '=', '%', '2'), maxLength: 6 }),
      ),
      { maxLength: 8 },
    )
    .map((pairs) => pairs.map((parts) => parts.join('')).join(';')),
  fc.string({ unit: 'binary', maxLength: 120 }),
)

describe('getCookie', () => {
  it.each<[string, string, string | undefined]>([
    ['a=1; b=2', 'b', '2'],
    ['a=1; b=2', 'c', undefined],
    ['a=1; a=2', 'a', '1'],
    [' a = 1 ', 'a', '1'],
    ['a="q"', 'a', 'q'],
    ['ab=1; a=2', 'a', '2'],
    ['xa=1; a=2', 'a', '2'],
    ['a; b=2', 'a', undefined],
    ['b=a; a', 'a', undefined],
    ['=a; a=', 'a', ''],
    ['a=1', '', undefined],
    ['=1', '', undefined],
    // "abc" right after "; " with an "=" three characters before it, but no "=" after it: a nameless pair.
    ['x=; abc', 'abc', undefined],
    ['', 'a', undefined],
    // The fast path (first occurrence of the name starts a "; "-separated pair) and its fallbacks.
    ['b=; a=2; a=3', 'a', '2'],
    ['x=1;a=2; a=3', 'a', '2'],
    ['x=1; a = 2', 'a', '2'],
    ['x=1; a=  2  ; y=3', 'a', '2'],
    ['x=1; a="q"', 'a', 'q'],
    ['a=b=c', 'a', 'b=c'],
    ['a=b=c', 'a=b', undefined],
    ['x=1; a=2', ' a', undefined],
    ['x=1; a=2', 'a ', undefined],
    ['b=xa; a=2', 'a', '2'],
    ['b=x; a=2', 'x; a', undefined],
    ['x=1; \ta=2; a=3', 'a', '2'],
    // The name inside another pair's name or value: the fast path must not take it for a pair of
    // its own (it needs "; " right before the name, or the header's start).
    ['a=1;Xsession=evil', 'session', undefined],
    ['a=1;Xsession=evil; session=good', 'session', 'good'],
    ['a=1, session=evil', 'session', undefined],
    ['a=1,;session=ok', 'session', 'ok'],
    ['a=1 ;session=ok', 'session', 'ok'],
    ['xsession=evil', 'session', undefined],
    ['a=session=evil; session=good', 'session', 'good'],
    ['session ; session=good', 'session', 'good'],
    // A name with OWS at either end is never a pair's name (the scan trims), even where the fast
    // path's "; " and "=" line up around it.
    ['x=1;  a=2', ' a', undefined],
    ['x=1; \ta=2', '\ta', undefined],
    ['x=1; a =2', 'a ', undefined],
    ['x=1; a\t=2', 'a\t', undefined],
    ['x=1; a;b=2', 'a;b', undefined],
    // The fast path reads the name's own neighbours: the character after it, and the "; " before.
    ['k=v;ca b=1', 'a b', undefined],
    ['b= a=;', 'a', undefined],
    ['b= a=1', 'a', undefined],
    ['k=; abcdef=1', 'abc', undefined],
  ])('getCookie(%o, %o) is %o', (header, name, expected) => {
    expect(getCookie(header, name)).toBe(expected)
    expect(getCookie(header, name)).toBe(parseCookie(header)[name])
  })

  it.each([undefined, null])('returns undefined for a %o header', (header) => {
    expect(getCookie(header, 'a')).toBeUndefined()
  })

  it.each([undefined, null, 42])('returns undefined for a name that is %o, even when the header spells it', (name) => {
    expect(getCookie('undefined=1; null=2; 42=3', name as never)).toBeUndefined()
  })

  it('agrees with parseCookie for every name in any header', () => {
    fc.assert(
      fc.property(cookieishHeader, fc.string({ maxLength: 4 }), (header, extra) => {
        const cookies = parseCookie(header)
        for (const name of [...Object.keys(cookies), extra, 'a', '__proto__']) {
          expect(getCookie(header, name)).toBe(cookies[name])
        }
      }),
      { numRuns: 500 },
    )
  })

  it('agrees with parseCookie when decoding', () => {
    fc.assert(
      fc.property(cookieishHeader, (header) => {
        const cookies = parseCookie(header, { decode: decodeURIComponent })
        for (const name of Object.keys(cookies)) {
          expect(getCookie(header, name, { decode: decodeURIComponent })).toBe(cookies[name])
        }
      }),
    )
  })
})

describe('stringifySetCookie', () => {
  it.each<[string, string, string, SetCookieOptions | undefined, string]>([
    ['a bare cookie', 'a', 'b', undefined, 'a=b'],
    ['an empty value', 'a', '', {}, 'a='],
    ['a quoted value', 'a', '"b"', undefined, 'a="b"'],
    ['every cookie-octet', 'a', "!#$%&'()*+-./09:<=>?@AZ[]^_`az{|}~", undefined, "a=!#$%&'()*+-./09:<=>?@AZ[]^_`az{|}~"],
    ['every tchar in the name', "!#$%&'*+-.^_`|~09AZaz", 'v', undefined, "!#$%&'*+-.^_`|~09AZaz=v"],
    ['a chunk name', 'session.0', 'v', { path: '/' }, 'session.0=v; Path=/'],
    ['a domain', 'a', 'b', { domain: 'example.com' }, 'a=b; Domain=example.com'],
    ['a leading-dot domain', 'a', 'b', { domain: '.sub.example.com' }, 'a=b; Domain=.sub.example.com'],
    ['a digit-led label', 'a', 'b', { domain: '1password.example' }, 'a=b; Domain=1password.example'],
    ['an IPv4 domain', 'a', 'b', { domain: '127.0.0.1' }, 'a=b; Domain=127.0.0.1'],
    ['a path', 'a', 'b', { path: '/app' }, 'a=b; Path=/app'],
    ['a path with a space and a comma', 'a', 'b', { path: '/a b,c' }, 'a=b; Path=/a b,c'],
    ['httpOnly', 'a', 'b', { httpOnly: true }, 'a=b; HttpOnly'],
    ['false flags omitted', 'a', 'b', { httpOnly: false, secure: false, partitioned: false }, 'a=b'],
    ['secure', 'a', 'b', { secure: true }, 'a=b; Secure'],
    ['sameSite strict', 'a', 'b', { sameSite: 'strict' }, 'a=b; SameSite=Strict'],
    ['sameSite Lax', 'a', 'b', { sameSite: 'Lax' }, 'a=b; SameSite=Lax'],
    ['sameSite NONE', 'a', 'b', { sameSite: 'NONE' as 'none', secure: true }, 'a=b; Secure; SameSite=None'],
    ['partitioned', 'a', 'b', { partitioned: true, secure: true }, 'a=b; Secure; Partitioned'],
    ['priority', 'a', 'b', { priority: 'HIGH' as 'high' }, 'a=b; Priority=High'],
    ['priority low', 'a', 'b', { priority: 'low' }, 'a=b; Priority=Low'],
    ['maxAge', 'a', 'b', { maxAge: 3600 }, 'a=b; Max-Age=3600'],
    ['maxAge 0', 'a', 'b', { maxAge: 0 }, 'a=b; Max-Age=0'],
    ['a negative maxAge', 'a', 'b', { maxAge: -1 }, 'a=b; Max-Age=0'],
    ['expires', 'a', 'b', { expires: new Date(NOW + DAY), now: NOW }, 'a=b; Expires=Thu, 02 Jan 2025 00:00:00 GMT'],
    ['expires at the epoch', 'a', '', { expires: new Date(0) }, `a=; Expires=${EPOCH}`],
    ['expires before the epoch', 'a', '', { expires: new Date(-DAY * 365 * 500) }, `a=; Expires=${EPOCH}`],
    [
      'every attribute, in order',
      'id',
      'v',
      {
        priority: 'medium',
        partitioned: true,
        sameSite: 'none',
        secure: true,
        httpOnly: true,
        maxAge: 60,
        expires: new Date(NOW + DAY),
        path: '/',
        domain: 'example.com',
        now: new Date(NOW),
      },
      'id=v; Domain=example.com; Path=/; Expires=Thu, 02 Jan 2025 00:00:00 GMT; Max-Age=60; HttpOnly; Secure; SameSite=None; Partitioned; Priority=Medium',
    ],
    ['__Secure- with secure', '__Secure-id', 'v', { secure: true }, '__Secure-id=v; Secure'],
    ['__Secure- with a domain', '__Secure-id', 'v', { secure: true, domain: 'example.com' }, '__Secure-id=v; Domain=example.com; Secure'],
    ['__Host- gets Path=/', '__Host-id', 'v', { secure: true }, '__Host-id=v; Path=/; Secure'],
    ['__Host- with path /', '__Host-id', 'v', { secure: true, path: '/' }, '__Host-id=v; Path=/; Secure'],
    ['lower-case __host-', '__host-id', 'v', { secure: true }, '__host-id=v; Path=/; Secure'],
    ['not a prefix: __Hostile', '__Hostile', 'v', undefined, '__Hostile=v'],
    ['not a prefix: _Host-', '_Host-x', 'v', undefined, '_Host-x=v'],
  ])('writes %s', (_, name, value, options, expected) => {
    expect(stringifySetCookie(name, value, options)).toBe(expected)
  })

  it.each([
    '',
    'a b',
    'a;b',
    'a=b',
    'a\rb',
    'a\nb',
    'a\u0000',
    'a\u007f',
    'a\tb',
    'é',
    'a"b',
    'a,b',
    '(a)',
    'a/b',
    'a:b',
    'a@b',
    'a[b]',
    'a{b}',
    'a\\b',
    'a?b',
    'userName=<script>alert(1)</script>',
  ])('rejects the name %o', (name) => {
    expect(() => stringifySetCookie(name, 'v')).toThrow(TypeError)
    expect(() => stringifySetCookie(name, 'v')).toThrow(/^cookie name is invalid: /)
  })

  it.each([undefined, null, 1, {}])('rejects a non-string name %o', (name) => {
    expect(() => stringifySetCookie(name as unknown as string, 'v')).toThrow(/^cookie name is invalid: /)
  })

  it.each([
    [';', 0],
    ['a;b', 1],
    ['v; Domain=evil.example', 1],
    ['\r', 0],
    ['\n', 0],
    ['a\r\nSet-Cookie: x=y', 1],
    ['\u0000', 0],
    ['a b', 1],
    [' ', 0],
    ['\t', 0],
    ['\u007f', 0],
    ['é', 0],
    ['😀', 0],
    ['a"b', 1],
    ['"', 0],
    ['"a', 0],
    ['a"', 1],
    ['"a"b"', 2],
    ['a,b', 1],
    ['a\\b', 1],
  ])('rejects the value %o', (value, index) => {
    expect(() => stringifySetCookie('a', value)).toThrow(TypeError)
    expect(() => stringifySetCookie('a', value)).toThrow(new RegExp(`^cookie value is invalid: character U\\+[0-9A-F]{4,} at index ${index} `))
  })

  it.each([undefined, null, 1, {}])('rejects a non-string value %o', (value) => {
    expect(() => stringifySetCookie('a', value as unknown as string)).toThrow(/^cookie value is invalid: expected a string/)
  })

  it('never echoes the value in its error message', () => {
    expect(() => stringifySetCookie('a', 'secret-token;x')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secret') }))
  })

  it.each([
    'x.com; HttpOnly',
    'x.com;domain=evil.example',
    'a\r\nb.com',
    'a\u0000.com',
    'a b.com',
    ' example.com',
    '',
    '.',
    '..com',
    'a..com',
    '-a.com',
    'a-.com',
    'a.com.',
    'a_b.com',
    'é.com',
    'xn--é.com',
    '[::1]',
    '::1',
    'example.com:443',
    'a/b',
    'a,b.com',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}ab`,
  ])('rejects the domain %o', (domain) => {
    expect(() => stringifySetCookie('a', 'b', { domain })).toThrow(TypeError)
    expect(() => stringifySetCookie('a', 'b', { domain })).toThrow(/^option domain is invalid: /)
  })

  it('accepts the longest domain', () => {
    const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`
    expect(domain).toHaveLength(253)
    expect(stringifySetCookie('a', 'b', { domain })).toBe(`a=b; Domain=${domain}`)
    expect(stringifySetCookie('a', 'b', { domain: `.${domain}` })).toBe(`a=b; Domain=.${domain}`)
  })

  it.each([
    '/;domain=evil.example',
    '/a;b',
    'a',
    '',
    ' /',
    '/a\r\nb',
    '/\u0000',
    '/\t',
    '/\u007f',
    '/é',
    `/${'a'.repeat(1024)}`,
  ])('rejects the path %o', (path) => {
    expect(() => stringifySetCookie('a', 'b', { path })).toThrow(TypeError)
    expect(() => stringifySetCookie('a', 'b', { path })).toThrow(/^option path is invalid: /)
  })

  it('accepts a 1024-byte path', () => {
    const path = `/${'a'.repeat(1023)}`
    expect(stringifySetCookie('a', 'b', { path })).toBe(`a=b; Path=${path}`)
  })

  it.each<[string, Record<string, unknown>]>([
    ['httpOnly', { httpOnly: 'true' }],
    ['secure', { secure: 1 }],
    ['partitioned', { partitioned: 'yes', secure: true }],
    ['sameSite', { sameSite: 'bogus' }],
    ['sameSite', { sameSite: true }],
    ['sameSite', { sameSite: 'constructor' }],
    ['priority', { priority: 'urgent' }],
    ['priority', { priority: 1 }],
    ['expires', { expires: 'tomorrow' }],
    ['expires', { expires: Date.now() }],
    ['expires', { expires: new Date(Number.NaN) }],
    ['maxAge', { maxAge: 1.5 }],
    ['maxAge', { maxAge: Number.NaN }],
    ['maxAge', { maxAge: Number.POSITIVE_INFINITY }],
    ['maxAge', { maxAge: 2 ** 60 }],
    ['maxAge', { maxAge: '60' }],
    ['now', { now: 'now', expires: new Date() }],
    ['now', { now: new Date(Number.NaN), expires: new Date() }],
    ['domain', { domain: 42 }],
    ['path', { path: null }],
  ])('rejects a bad %s option %o', (option, options) => {
    const call = (): string => stringifySetCookie('a', 'b', options as SetCookieOptions)
    expect(call).toThrow(TypeError)
    expect(call).toThrow(new RegExp(`^option ${option} is invalid: `))
  })

  it('rejects options that are not an object', () => {
    expect(() => stringifySetCookie('a', 'b', 'secure' as unknown as SetCookieOptions)).toThrow(/^options are invalid: /)
  })

  it.each<[string, SetCookieOptions]>([
    ['sameSite none without secure', { sameSite: 'none' }],
    ['sameSite None with secure false', { sameSite: 'None', secure: false }],
    ['partitioned without secure', { partitioned: true }],
  ])('rejects %s', (_, options) => {
    expect(() => stringifySetCookie('a', 'b', options)).toThrow(/^option secure is invalid: /)
  })

  it.each<[string, string, Record<string, unknown> | undefined]>([
    ['secure', '__Secure-id', undefined],
    ['secure', '__Secure-id', { secure: false }],
    ['secure', '__secure-id', {}],
    ['secure', '__SECURE-id', { httpOnly: true }],
    ['secure', '__Host-id', undefined],
    ['secure', '__Host-id', { path: '/' }],
    ['secure', '__host-id', {}],
    ['secure', '__hOsT-id', { secure: false, path: '/' }],
    ['domain', '__Host-id', { secure: true, domain: 'example.com' }],
    ['domain', '__HOST-id', { secure: true, path: '/', domain: 'example.com' }],
    ['path', '__Host-id', { secure: true, path: '/app' }],
    ['path', '__host-id', { secure: true, path: '//' }],
  ])('enforces the prefix rules: %s for %s %o', (option, name, options) => {
    const call = (): string => stringifySetCookie(name as string, 'v', options as SetCookieOptions)
    expect(call).toThrow(TypeError)
    expect(call).toThrow(new RegExp(`^option ${option} is invalid: cookie "${name}" has the "__(Secure|Host)-" prefix`))
  })

  it('accepts a name and value of exactly MAX_COOKIE_BYTES', () => {
    const value = 'v'.repeat(MAX_COOKIE_BYTES - 'name'.length)
    expect(stringifySetCookie('name', value)).toBe(`name=${value}`)
  })

  it('refuses a name and value over MAX_COOKIE_BYTES with CookieTooLarge', () => {
    const value = 'v'.repeat(MAX_COOKIE_BYTES - 'name'.length + 1)
    expect(() => stringifySetCookie('name', value)).toThrow(CookieTooLarge)
    try {
      stringifySetCookie('name', value)
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_SESSION_COOKIE_TOO_LARGE', size: 4097, limit: 4096 })
    }
  })

  describe('caps lifetimes at 400 days', () => {
    it('exports the cap', () => {
      expect(MAX_COOKIE_LIFETIME).toBe(400 * 24 * 60 * 60)
      expect(MAX_COOKIE_BYTES).toBe(4096)
    })

    it.each<[number, number]>([
      [MAX_COOKIE_LIFETIME - 1, MAX_COOKIE_LIFETIME - 1],
      [MAX_COOKIE_LIFETIME, MAX_COOKIE_LIFETIME],
      [MAX_COOKIE_LIFETIME + 1, MAX_COOKIE_LIFETIME],
      [10 * MAX_COOKIE_LIFETIME, MAX_COOKIE_LIFETIME],
      [Number.MAX_SAFE_INTEGER, MAX_COOKIE_LIFETIME],
      [Number.MIN_SAFE_INTEGER, 0],
    ])('writes maxAge %i as Max-Age=%i', (maxAge, written) => {
      expect(stringifySetCookie('a', 'b', { maxAge })).toBe(`a=b; Max-Age=${written}`)
    })

    const limit = new Date(NOW + 400 * DAY).toUTCString() // Thu, 05 Feb 2026 00:00:00 GMT
    it.each<[string, number, string]>([
      ['a day ahead', NOW + DAY, 'Thu, 02 Jan 2025 00:00:00 GMT'],
      ['399 days ahead', NOW + 399 * DAY, 'Wed, 04 Feb 2026 00:00:00 GMT'],
      ['exactly 400 days ahead', NOW + 400 * DAY, limit],
      ['400 days and a second ahead', NOW + 400 * DAY + 1000, limit],
      ['401 days ahead', NOW + 401 * DAY, limit],
      ['a century ahead', NOW + 36_500 * DAY, limit],
      ['in the past', NOW - DAY, 'Tue, 31 Dec 2024 00:00:00 GMT'],
    ])('writes expires %s', (_, time, written) => {
      expect(limit).toBe('Thu, 05 Feb 2026 00:00:00 GMT')
      expect(stringifySetCookie('a', 'b', { expires: new Date(time), now: NOW })).toBe(`a=b; Expires=${written}`)
      expect(stringifySetCookie('a', 'b', { expires: new Date(time), now: new Date(NOW) })).toBe(`a=b; Expires=${written}`)
    })

    it('uses the real clock without now', () => {
      const header = stringifySetCookie('a', 'b', { expires: new Date(Date.now() + 1000 * DAY) })
      const written = Date.parse(header.slice('a=b; Expires='.length))
      expect(Math.abs(written - (Date.now() + 400 * DAY))).toBeLessThan(5000)
    })
  })
})

describe('createCookieWriter', () => {
  const attributeSets: Array<[string, CookieAttributes]> = [
    ['plain', {}],
    ['typical', { path: '/', httpOnly: true, secure: true, sameSite: 'lax' }],
    ['everything', { domain: '.example.com', path: '/app', httpOnly: true, secure: true, sameSite: 'none', partitioned: true, priority: 'high' }],
    ['lower-case keywords', { sameSite: 'strict', priority: 'low' }],
  ]
  const lifetimes: Array<SetCookieOptions | undefined> = [
    undefined,
    {},
    { maxAge: 3600 },
    { maxAge: 0 },
    { maxAge: 10 * MAX_COOKIE_LIFETIME },
    { expires: new Date(NOW + DAY), now: NOW },
    { expires: new Date(NOW + 1000 * DAY), maxAge: -5, now: new Date(NOW) },
  ]

  describe.each(attributeSets)('with %s attributes', (_, attributes) => {
    // Built in a hook, not in the describe body: a writer that fails to build then fails these
    // tests instead of the whole file's collection (which `npm run mutation` would not count).
    let writer: CookieWriter
    beforeAll(() => {
      writer = createCookieWriter('session', attributes)
    })

    it.each(lifetimes)('matches stringifySetCookie for lifetime %o', (lifetime) => {
      for (const value of ['', 'abc.def', '"quoted"', 'v'.repeat(4087)]) {
        expect(writer.serialize(value, lifetime)).toBe(stringifySetCookie('session', value, { ...attributes, ...lifetime }))
        expect(writer.serialize(value, lifetime, 'session.1')).toBe(
          stringifySetCookie('session.1', value, { ...attributes, ...lifetime }),
        )
      }
    })

    it('reports the cached attribute length', () => {
      const header = stringifySetCookie('session', 'abc', attributes)
      expect(writer.attributeLength).toBe(header.length - 'session=abc'.length)
      expect(writer.serialize('abc')).toHaveLength('session=abc'.length + writer.attributeLength)
    })

    it('expires with the same scope', () => {
      const expected = stringifySetCookie('session', '', { ...attributes, expires: new Date(0), maxAge: 0 })
      expect(writer.expire()).toBe(expected)
      expect(writer.expire('session.3')).toBe(
        stringifySetCookie('session.3', '', { ...attributes, expires: new Date(0), maxAge: 0 }),
      )
    })

    it('validates the value and the alternative name', () => {
      expect(() => writer.serialize('a;b')).toThrow(/^cookie value is invalid: /)
      expect(() => writer.serialize('v', undefined, 'a=b')).toThrow(/^cookie name is invalid: /)
      expect(() => writer.expire('a b')).toThrow(/^cookie name is invalid: /)
      expect(() => writer.serialize('v'.repeat(4090))).toThrow(CookieTooLarge)
      expect(() => writer.serialize('v', { maxAge: 0.5 })).toThrow(/^option maxAge is invalid: /)
      expect(() => writer.serialize('v', { expires: new Date(Number.NaN) })).toThrow(/^option expires is invalid: /)
    })
  })

  it('matches stringifySetCookie for random inputs', () => {
    const attributes = fc.record(
      {
        domain: fc.constantFrom('example.com', '.example.com', 'a-b.example'),
        path: fc.constantFrom('/', '/app', '/a b'),
        httpOnly: fc.boolean(),
        secure: fc.constant(true),
        sameSite: fc.constantFrom('strict', 'Lax', 'none'),
        partitioned: fc.boolean(),
        priority: fc.constantFrom('low', 'Medium', 'high'),
      },
      { requiredKeys: ['secure'] },
    ) as fc.Arbitrary<CookieAttributes>
    const lifetime = fc.record(
      {
        maxAge: fc.integer({ min: -100, max: 2 * MAX_COOKIE_LIFETIME }),
        expires: fc.integer({ min: -DAY, max: 2 * MAX_COOKIE_LIFETIME * 1000 }).map((offset) => new Date(NOW + offset)),
        now: fc.constant(NOW),
      },
      { requiredKeys: ['now'] },
    )
    const name: fc.Arbitrary<string> = fc.constantFrom('s', 'session.0', '__Secure-s', "x!#$%&'*+-.^_`|~")
    const value = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', '=', '!', '~'), maxLength: 40 })
    fc.assert(
      fc.property(name, attributes, lifetime, value, (cookieName, cookieAttributes, cookieLifetime, cookieValue) => {
        const writer = createCookieWriter(cookieName, cookieAttributes)
        const expected = stringifySetCookie(cookieName, cookieValue, { ...cookieAttributes, ...cookieLifetime })
        expect(writer.serialize(cookieValue, cookieLifetime)).toBe(expected)
        expect(parseCookie(expected.slice(0, expected.indexOf(';') >>> 0))[cookieName]).toBe(cookieValue)
      }),
    )
  })

  it('writes the deletion header', () => {
    const writer = createCookieWriter('__Host-session', { secure: true, httpOnly: true, sameSite: 'none', partitioned: true })
    expect(writer.expire()).toBe(
      `__Host-session=; Path=/; Expires=${EPOCH}; Max-Age=0; HttpOnly; Secure; SameSite=None; Partitioned`,
    )
    expect(writer.expire('__Host-session.2')).toBe(
      `__Host-session.2=; Path=/; Expires=${EPOCH}; Max-Age=0; HttpOnly; Secure; SameSite=None; Partitioned`,
    )
    const scoped = createCookieWriter('s', { domain: 'example.com', path: '/app' })
    expect(scoped.expire()).toBe(`s=; Domain=example.com; Path=/app; Expires=${EPOCH}; Max-Age=0`)
  })

  it('exposes the name and is frozen', () => {
    const writer: CookieWriter = createCookieWriter('session', { path: '/' })
    expect(writer.name).toBe('session')
    expect(writer.attributeLength).toBe('; Path=/'.length)
    expect(Object.isFrozen(writer)).toBe(true)
  })

  it('validates the name and attributes once, at creation', () => {
    expect(() => createCookieWriter('a b')).toThrow(/^cookie name is invalid: /)
    expect(() => createCookieWriter('a', { path: '/;domain=evil' })).toThrow(/^option path is invalid: /)
    expect(() => createCookieWriter('a', { domain: 'x.com; HttpOnly' })).toThrow(/^option domain is invalid: /)
    expect(() => createCookieWriter('a', { sameSite: 'none' })).toThrow(/^option secure is invalid: /)
    expect(() => createCookieWriter('__Host-a' as string, { secure: true, path: '/x' })).toThrow(/^option path is invalid: /)
    expect(() => createCookieWriter('__secure-a' as string)).toThrow(/^option secure is invalid: /)
  })

  it.each(['maxAge', 'expires', 'now'])('refuses a lifetime option %s in the attributes', (option) => {
    const attributes = { [option]: 1 } as CookieAttributes
    expect(() => createCookieWriter('a', attributes)).toThrow(new RegExp(`^option ${option} is invalid: .*serialize`))
  })

  it('applies the prefix rules to alternative names', () => {
    const plainWriter = createCookieWriter('session', { path: '/' })
    expect(() => plainWriter.serialize('v', undefined, '__Secure-session')).toThrow(/^option secure is invalid: /)
    expect(() => plainWriter.expire('__host-session')).toThrow(/^option secure is invalid: /)
    const secureWriter = createCookieWriter('session', { path: '/app', secure: true })
    expect(secureWriter.serialize('v', undefined, '__Secure-s')).toBe('__Secure-s=v; Path=/app; Secure')
    expect(() => secureWriter.serialize('v', undefined, '__Host-s')).toThrow(/^option path is invalid: /)
    const hostWriter = createCookieWriter('__Host-s', { secure: true })
    expect(hostWriter.serialize('v', undefined, '__Host-s.1')).toBe('__Host-s.1=v; Path=/; Secure')
  })
})

describe('types', () => {
  it('narrows options by the name prefix', () => {
    expectTypeOf<CookieOptionsFor<'__Host-id'>['secure']>().toEqualTypeOf<true>()
    expectTypeOf<CookieOptionsFor<'__Host-id'>['path']>().toEqualTypeOf<'/' | undefined>()
    expectTypeOf<CookieOptionsFor<'__Host-id'>['domain']>().toEqualTypeOf<undefined>()
    expectTypeOf<CookieOptionsFor<'__host-id'>['secure']>().toEqualTypeOf<true>()
    expectTypeOf<CookieOptionsFor<'__Secure-id'>['secure']>().toEqualTypeOf<true>()
    expectTypeOf<CookieOptionsFor<'__SECURE-id'>['secure']>().toEqualTypeOf<true>()
    expectTypeOf<CookieOptionsFor<'__Secure-id'>['domain']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<CookieOptionsFor<'__Host-id'>>().toHaveProperty('maxAge')
    expectTypeOf<CookieOptionsFor<'id'>>().toEqualTypeOf<SetCookieOptions>()
    expectTypeOf<CookieOptionsFor<string>>().toEqualTypeOf<SetCookieOptions>()
    expectTypeOf<CookieOptionsFor<'id' | '__Host-id'>['secure']>().toEqualTypeOf<true>()
    expectTypeOf<CookieAttributesFor<'id'>>().toEqualTypeOf<CookieAttributes>()
    expectTypeOf<CookieAttributesFor<'__Host-id'>['secure']>().toEqualTypeOf<true>()
    expectTypeOf<CookieAttributesFor<'__Host-id'>>().not.toHaveProperty('maxAge')
    expectTypeOf(parseCookie).returns.toEqualTypeOf<Record<string, string>>()
    expectTypeOf(getCookie).returns.toEqualTypeOf<string | undefined>()
    expectTypeOf(createCookieWriter).returns.toEqualTypeOf<CookieWriter>()
  })

  it('rejects option objects that break the prefix rules at compile time', () => {
    // Never called: these lines exist for the type checker (`npx tsc --noEmit`).
    const compileOnly = (): void => {
      // @ts-expect-error __Host- requires secure: true
      stringifySetCookie('__Host-id', 'v', { secure: false })
      // @ts-expect-error a prefixed name needs options
      stringifySetCookie('__Host-id', 'v')
      // @ts-expect-error __Host- forbids a domain
      stringifySetCookie('__Host-id', 'v', { secure: true, domain: 'example.com' })
      // @ts-expect-error __Host- requires path "/"
      stringifySetCookie('__Host-id', 'v', { secure: true, path: '/app' })
      // @ts-expect-error prefixes match case-insensitively
      stringifySetCookie('__host-id', 'v', { httpOnly: true })
      // @ts-expect-error __Secure- requires secure: true
      stringifySetCookie('__Secure-id', 'v', {})
      // @ts-expect-error __Secure- requires secure: true
      createCookieWriter('__Secure-id', { secure: false })
      // @ts-expect-error __Host- forbids a domain
      createCookieWriter('__Host-id', { secure: true, domain: 'example.com' })
      // @ts-expect-error the writer's attributes carry no lifetime
      createCookieWriter('id', { maxAge: 60 })
      // @ts-expect-error sameSite is one of three words
      stringifySetCookie('id', 'v', { sameSite: 'sometimes' })

      stringifySetCookie('__Host-id', 'v', { secure: true })
      stringifySetCookie('__Host-id', 'v', { secure: true, path: '/', httpOnly: true, maxAge: 60 })
      stringifySetCookie('__Secure-id', 'v', { secure: true, domain: 'example.com', path: '/app' })
      stringifySetCookie('id', 'v')
      stringifySetCookie('id', 'v', { secure: false, domain: 'example.com', path: '/app' })
      createCookieWriter('id')
      createCookieWriter('__Host-id', { secure: true, sameSite: 'lax' })
      const dynamic: string = 'id'
      stringifySetCookie(dynamic, 'v', { secure: false })
    }
    expectTypeOf(compileOnly).toBeFunction()
  })
})

describe('createTokenCookieWriter (internal: the session manager writes its own tokens)', () => {
  const token = 'f1.AbCd_-12.' + 'x'.repeat(100) + '.Zz09-_'
  let writer: ReturnType<typeof createTokenCookieWriter>
  beforeAll(() => {
    writer = createTokenCookieWriter('__Host-session', { secure: true, httpOnly: true, sameSite: 'lax' })
  })

  it.each([undefined, 0, -5, 1, 3600, MAX_COOKIE_LIFETIME, MAX_COOKIE_LIFETIME * 10])('writes exactly what serialize writes (maxAge %s)', (maxAge) => {
    expect(writer.serializeToken(token, maxAge)).toBe(writer.serialize(token, maxAge === undefined ? undefined : { maxAge }))
  })

  it('still refuses a cookie too large for a browser, and writes one of exactly MAX_COOKIE_BYTES', () => {
    expect(() => writer.serializeToken('a'.repeat(MAX_COOKIE_BYTES), 60)).toThrow(CookieTooLarge)
    const fits = 'a'.repeat(MAX_COOKIE_BYTES - writer.name.length)
    expect(writer.serializeToken(fits, 60)).toBe(writer.serialize(fits, { maxAge: 60 }))
    expect(() => writer.serializeToken(`${fits}a`, 60)).toThrow(CookieTooLarge)
  })

  it('is not part of the public writer', () => {
    expect('serializeToken' in createCookieWriter('session')).toBe(false)
  })
})

// Every misuse message names the option (or what was wrong), shows the value it got (cut short,
// never a cookie value) and says how to fix it: the whole text is documented behaviour.
describe('misuse messages, word for word', () => {
  const long = `a b${'x'.repeat(100)}`
  let writer: CookieWriter
  beforeAll(() => {
    writer = createCookieWriter('w')
  })
  it.each<[string, () => unknown, string]>([
    ['parse options that are null', () => parseCookie('a=1', null as never), 'options are invalid: expected an object, got null'],
    ['parse options that are a number', () => getCookie('a=1', 'a', 5 as never), 'options are invalid: expected an object, got 5'],
    ['a maxLength as text', () => parseCookie('a=1', { maxLength: '10' as never }), 'option maxLength is invalid: expected a positive integer number of characters, got "10"'],
    ['a maxLength of 0', () => getCookie('a=1', 'a', { maxLength: 0 }), 'option maxLength is invalid: expected a positive integer number of characters, got 0'],
    ['a decode that is text', () => parseCookie('a=1', { decode: 'x' as never }), 'option decode is invalid: expected a function (value: string) => string, got "x"'],
    ['a misspelt parse option', () => parseCookie('a=1', { maxlength: 5 } as never), 'option maxlength is unknown: did you mean `maxLength`?'],
    ["cookie's encode option", () => parseCookie('a=1', { encode: String } as never), 'option encode is unknown: values are written as given: encode them before (only cookie-octets are accepted)'],
    ['a name with a space', () => stringifySetCookie('a b', 'v'), 'cookie name is invalid: "a b" is not a token (RFC 6265bis §4.1.1, RFC 9110 §5.6.2); use letters, digits and !#$%&\'*+-.^_`|~ only'],
    ['a long name, cut short', () => stringifySetCookie(long, 'v'), `cookie name is invalid: "${long.slice(0, 64)}…" is not a token (RFC 6265bis §4.1.1, RFC 9110 §5.6.2); use letters, digits and !#$%&'*+-.^_\`|~ only`],
    ['a name that is a number', () => stringifySetCookie(1 as never, 'v'), "cookie name is invalid: 1 is not a token (RFC 6265bis §4.1.1, RFC 9110 §5.6.2); use letters, digits and !#$%&'*+-.^_`|~ only"],
    ['a name that is an object', () => createCookieWriter({} as never), "cookie name is invalid: object is not a token (RFC 6265bis §4.1.1, RFC 9110 §5.6.2); use letters, digits and !#$%&'*+-.^_`|~ only"],
    ['a value with a semicolon', () => stringifySetCookie('a', 'x;y'), 'cookie value is invalid: character U+003B at index 1 is not a cookie-octet (RFC 6265bis §4.1.1); encode the value first, for example as base64url'],
    ['a value beyond the BMP', () => stringifySetCookie('a', 'ok😀'), 'cookie value is invalid: character U+1F600 at index 2 is not a cookie-octet (RFC 6265bis §4.1.1); encode the value first, for example as base64url'],
    ['a quoted value with a quote inside', () => writer.serialize('"a"b"'), 'cookie value is invalid: character U+0022 at index 2 is not a cookie-octet (RFC 6265bis §4.1.1); encode the value first, for example as base64url'],
    ['a quoted value with a space inside', () => writer.serialize('"ab c"'), 'cookie value is invalid: character U+0020 at index 3 is not a cookie-octet (RFC 6265bis §4.1.1); encode the value first, for example as base64url'],
    ['a lone double quote', () => writer.serialize('"'), 'cookie value is invalid: character U+0022 at index 0 is not a cookie-octet (RFC 6265bis §4.1.1); encode the value first, for example as base64url'],
    ['a value with a comma after a quote', () => writer.serialize('"a,'), 'cookie value is invalid: character U+0022 at index 0 is not a cookie-octet (RFC 6265bis §4.1.1); encode the value first, for example as base64url'],
    ['a value that starts with a quote and does not end with one', () => writer.serialize('"a,b'), 'cookie value is invalid: character U+0022 at index 0 is not a cookie-octet (RFC 6265bis §4.1.1); encode the value first, for example as base64url'],
    ['a value that is a number', () => stringifySetCookie('a', 7 as never), 'cookie value is invalid: expected a string, got 7'],
    ['a domain with a space', () => stringifySetCookie('a', 'b', { domain: 'x y' }), 'option domain is invalid: "x y" is not a host name (RFC 6265bis §4.1.2.3, RFC 1034 §3.5); use letters, digits, hyphens and dots (an optional leading dot), or omit it for a host-only cookie'],
    ['a domain that is a Date', () => stringifySetCookie('a', 'b', { domain: new Date(0) as never }), 'option domain is invalid: 1970-01-01T00:00:00.000Z is not a host name (RFC 6265bis §4.1.2.3, RFC 1034 §3.5); use letters, digits, hyphens and dots (an optional leading dot), or omit it for a host-only cookie'],
    ['a path without a slash', () => stringifySetCookie('a', 'b', { path: 'a' }), 'option path is invalid: "a" is not a path-value (RFC 6265bis §4.1.2.4); start it with "/" and use printable ASCII without ";", percent-encoding anything else'],
    ['a path that is null', () => createCookieWriter('a', { path: null as never }), 'option path is invalid: null is not a path-value (RFC 6265bis §4.1.2.4); start it with "/" and use printable ASCII without ";", percent-encoding anything else'],
    ['a path of 1025 bytes', () => stringifySetCookie('a', 'b', { path: `/${'a'.repeat(1024)}` }), 'option path is invalid: it is 1025 bytes; user agents ignore attribute values over 1024 bytes (RFC 6265bis §5.6), so shorten it'],
    ['a flag as text', () => stringifySetCookie('a', 'b', { httpOnly: 'true' as never }), 'option httpOnly is invalid: expected a boolean, got "true"'],
    ['a sameSite word', () => stringifySetCookie('a', 'b', { sameSite: 'bogus' as never }), 'option sameSite is invalid: expected one of "strict", "lax", "none", got "bogus"'],
    ['a sameSite of 64 characters, shown whole', () => stringifySetCookie('a', 'b', { sameSite: 'x'.repeat(64) as never }), `option sameSite is invalid: expected one of "strict", "lax", "none", got "${'x'.repeat(64)}"`],
    ['a sameSite of 65 characters, cut short', () => stringifySetCookie('a', 'b', { sameSite: 'x'.repeat(65) as never }), `option sameSite is invalid: expected one of "strict", "lax", "none", got "${'x'.repeat(64)}…"`],
    ['a sameSite that is null', () => stringifySetCookie('a', 'b', { sameSite: null as never }), 'option sameSite is invalid: expected one of "strict", "lax", "none", got null'],
    ['a sameSite boolean', () => stringifySetCookie('a', 'b', { sameSite: true as never }), 'option sameSite is invalid: expected one of "strict", "lax", "none", got true'],
    ['a priority number', () => stringifySetCookie('a', 'b', { priority: 1 as never }), 'option priority is invalid: expected one of "low", "medium", "high", got 1'],
    ['sameSite none without secure', () => stringifySetCookie('a', 'b', { sameSite: 'none' }), 'option secure is invalid: sameSite "none" requires secure: true; browsers reject SameSite=None cookies without Secure (RFC 6265bis §5.7)'],
    ['partitioned without secure', () => stringifySetCookie('a', 'b', { partitioned: true }), 'option secure is invalid: partitioned: true requires secure: true; browsers reject Partitioned cookies without Secure (CHIPS)'],
    ['__Secure- without secure', () => stringifySetCookie('__Secure-id', 'v', {} as never), 'option secure is invalid: cookie "__Secure-id" has the "__Secure-" prefix, which requires secure: true (RFC 6265bis §4.1.3.1); browsers reject it otherwise'],
    ['__Host- without secure', () => stringifySetCookie('__Host-id', 'v', {} as never), 'option secure is invalid: cookie "__Host-id" has the "__Host-" prefix, which requires secure: true (RFC 6265bis §4.1.3.2); browsers reject it otherwise'],
    ['the bare prefix __Host- as a name', () => stringifySetCookie('__Host-', 'v', {} as never), 'option secure is invalid: cookie "__Host-" has the "__Host-" prefix, which requires secure: true (RFC 6265bis §4.1.3.2); browsers reject it otherwise'],
    ['__Host- with a domain', () => stringifySetCookie('__Host-id', 'v', { secure: true, domain: 'example.com' } as never), 'option domain is invalid: cookie "__Host-id" has the "__Host-" prefix, which forbids a Domain attribute (RFC 6265bis §4.1.3.2); remove the domain option'],
    ['__Host- with another path', () => stringifySetCookie('__Host-id', 'v', { secure: true, path: '/app' } as never), 'option path is invalid: cookie "__Host-id" has the "__Host-" prefix, which requires path "/" (RFC 6265bis §4.1.3.2), got "/app"; use "/" or omit it'],
    ['options that are text', () => stringifySetCookie('a', 'b', 'secure' as never), 'options are invalid: expected an object, got "secure"'],
    ['writer attributes that are null', () => createCookieWriter('a', null as never), 'options are invalid: expected an object, got null'],
    ['a now that is text', () => stringifySetCookie('a', 'b', { now: 'now' as never, expires: new Date(NOW) }), 'option now is invalid: expected a valid Date or epoch milliseconds, got "now"'],
    ['a now that is an invalid Date', () => writer.serialize('v', { now: new Date(Number.NaN) }), 'option now is invalid: expected a valid Date or epoch milliseconds, got Invalid Date'],
    ['a lifetime that is a number', () => writer.serialize('v', 5 as never), 'lifetime is invalid: expected an object, got 5'],
    ['a lifetime that is null', () => writer.serialize('v', null as never), 'lifetime is invalid: expected an object, got null'],
    ['an expires that is text', () => stringifySetCookie('a', 'b', { expires: 'tomorrow' as never }), 'option expires is invalid: expected a valid Date, got "tomorrow"'],
    ['an expires that is an invalid Date', () => stringifySetCookie('a', 'b', { expires: new Date(Number.NaN) }), 'option expires is invalid: expected a valid Date, got Invalid Date'],
    ['an expires that is a number', () => writer.serialize('v', { expires: NOW as never }), `option expires is invalid: expected a valid Date, got ${NOW}`],
    ['a fractional maxAge', () => stringifySetCookie('a', 'b', { maxAge: 1.5 }), 'option maxAge is invalid: expected an integer number of seconds, got 1.5'],
    ['a maxAge as text', () => writer.serialize('v', { maxAge: '60' as never }), 'option maxAge is invalid: expected an integer number of seconds, got "60"'],
    ['a maxAge as a bigint', () => writer.serialize('v', { maxAge: 60n as never }), 'option maxAge is invalid: expected an integer number of seconds, got 60'],
    ['a maxAge given to a writer', () => createCookieWriter('a', { maxAge: 60 } as never), 'option maxAge is invalid: a cookie writer caches attributes only; pass the lifetime to serialize(value, { maxAge }) instead'],
    ['an expires given to a writer', () => createCookieWriter('a', { expires: new Date(NOW) } as never), 'option expires is invalid: a cookie writer caches attributes only; pass the lifetime to serialize(value, { expires }) instead'],
    ["express's httponly", () => stringifySetCookie('a', 'b', { httponly: true } as never), 'option httponly is unknown: did you mean `httpOnly`?'],
    ["express's samesite", () => stringifySetCookie('a', 'b', { samesite: 'lax' } as never), 'option samesite is unknown: did you mean `sameSite`?'],
    ["express's maxage", () => stringifySetCookie('a', 'b', { maxage: 60 } as never), 'option maxage is unknown: did you mean `maxAge`? (seconds)'],
    ["express's signed", () => createCookieWriter('a', { signed: true } as never), 'option signed is unknown: sign the value with createSigner from frasco before writing it'],
    ['an attribute among lifetime options', () => writer.serialize('v', { path: '/' } as never), 'option path is unknown: the options are `maxAge`, `expires`, `now`'],
    ['a lifetime option misspelt', () => writer.serialize('v', { maxAges: 1 } as never), 'option maxAges is unknown: did you mean `maxAge`?'],
  ])('%s', (_, call, message) => {
    expect(call).toThrow(TypeError)
    expect(call).toThrow(new TypeError(message))
  })
})
