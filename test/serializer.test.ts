import { randomBytes } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import { describe, it, expect, beforeAll } from 'vitest'
import fc from 'fast-check'
import {
  DEFAULT_COMPRESS_THRESHOLD,
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_DEPTH,
  decodePayload,
  encodePayload,
  parse,
  stringify,
} from '../src/serializer.js'
import { DecompressionTooLarge, PayloadMalformed, PayloadTooLarge, SessionError } from '../src/errors.js'

const SUPPORTED = 'only JSON values, Date, Uint8Array, BigInt, Map and Set can be stored'

function roundTrip(value: unknown): unknown {
  return parse(stringify(value))
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}

function nest(levels: number, wrap: (inner: unknown) => unknown, leaf: unknown = 1): unknown {
  let value = leaf
  for (let i = 0; i < levels; i++) value = wrap(value)
  return value
}

function expectMalformed(run: () => unknown): void {
  let caught: unknown
  try {
    run()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(PayloadMalformed)
  expect((caught as PayloadMalformed).code).toBe('ERR_SESSION_MALFORMED')
}

/** An own, enumerable `__proto__` data property, as JSON.parse would create. */
function withProtoKey(value: unknown, rest: Record<string, unknown> = {}): Record<string, unknown> {
  const object: Record<string, unknown> = {}
  Object.defineProperty(object, '__proto__', { value, enumerable: true, writable: true, configurable: true })
  return Object.assign(object, rest)
}

describe('stringify / parse round trips', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['true', true],
    ['false', false],
    ['zero', 0],
    ['negative float', -1.5],
    ['max safe integer', Number.MAX_SAFE_INTEGER],
    ['tiny float', 5e-324],
    ['empty string', ''],
    ['unicode string', 'héllo 🌍 \u0000 \u2028'],
    ['lone high surrogate', '\ud800'],
    ['lone low surrogate in text', 'a\udc00b'],
    ['empty array', []],
    ['empty object', {}],
    ['plain object', { username: 'admin', userId: 42, roles: ['admin', 'editor'] }],
    ['Date', new Date(1_700_000_000_000)],
    ['Date at epoch', new Date(0)],
    ['Date before epoch', new Date(-1)],
    ['Date with a negative year', new Date(Date.UTC(-1, 0, 1))],
    ['Date with a 6-digit year', new Date(8.64e15)],
    ['earliest Date', new Date(-8.64e15)],
    ['bytes', new Uint8Array([0, 1, 2, 253, 254, 255])],
    ['empty bytes', new Uint8Array(0)],
    ['bytes of every length mod 3', [new Uint8Array([1]), new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])]],
    ['BigInt zero', 0n],
    ['negative BigInt', -42n],
    ['huge BigInt', 2n ** 200n],
    ['huge negative BigInt', -(3n ** 150n)],
    ['empty Map', new Map()],
    ['empty Set', new Set()],
    ['Map with mixed keys', new Map<unknown, unknown>([['a', 1], [2, 'b'], [3n, null], [true, []], [null, {}]])],
    ['Map with object keys', new Map<unknown, unknown>([[{ id: 1 }, 'x'], [[1, 2], 'y'], [new Date(0), 'z']])],
    ['Set of mixed values', new Set<unknown>([1, 'a', null, false, 5n, { a: 1 }])],
    ['Map of Sets of Dates', new Map([['deadlines', new Set([new Date(0), new Date(86_400_000)])]])],
    ['bytes inside arrays inside Maps', new Map([['blobs', [new Uint8Array([1]), [new Uint8Array([2, 3])]]]])],
    ['Set of Maps', new Set([new Map([[1, 2]]), new Map([[1, 2]])])],
    ['tags nested in plain objects', { user: { id: 7n, seen: new Date(0), key: new Uint8Array([9]) } }],
    ['objects with 0, 2 and non-$ keys', { a: {}, b: { $a: 1, $b: 2 }, c: { a$: 1 } }],
    ['one-key $ objects (escaped)', { a: { $d: 'x' }, b: { $o: 1 }, c: { $: 1 }, d: { $x: { $y: new Date(0) } } }],
    ['one-key $ object holding a tag', { $when: new Date(0) }],
    ['escape inside a Map key', new Map([[{ $n: '1' }, { $b: 'x' }]])],
    ['a session', {
      username: 'admin',
      userId: 42,
      roles: new Set(['admin', 'editor']),
      csrf: 'a'.repeat(32),
      createdAt: new Date(1_700_000_000_000),
      quota: 10n ** 30n,
      prefs: new Map<string, unknown>([['theme', 'dark'], ['avatar', new Uint8Array([137, 80, 78, 71])]]),
    }],
  ])('%s', (_name, value) => {
    expect(roundTrip(value)).toEqual(value)
  })

  it('keeps -0 as JSON does (it becomes 0)', () => {
    expect(Object.is(roundTrip(-0), 0)).toBe(true)
  })

  it('decodes Buffers as plain Uint8Arrays that own their memory', () => {
    const result = roundTrip({ b: Buffer.from('hi') }) as { b: Uint8Array }
    expect(Object.getPrototypeOf(result.b)).toBe(Uint8Array.prototype)
    expect(Array.from(result.b)).toEqual([104, 105])
    // Not a view into Node's shared Buffer pool.
    expect(result.b.buffer.byteLength).toBe(2)
  })

  it('accepts null-prototype objects and decodes them as ordinary objects', () => {
    const value = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, $b: 2 })
    const single = Object.assign(Object.create(null) as Record<string, unknown>, { $b: 2 })
    expect(stringify(value)).toBe('{"a":1,"$b":2}')
    expect(stringify(single)).toBe('{"$o":{"$b":2}}')
    expect(roundTrip(single)).toEqual({ $b: 2 })
  })

  it('skips undefined object properties like JSON, before deciding on the escape', () => {
    expect(stringify({ a: undefined, b: 1 })).toBe('{"b":1}')
    expect(stringify({ a: undefined, b: new Date(0) })).toBe('{"b":{"$d":"1970-01-01T00:00:00.000Z"}}')
    expect(stringify({ $a: 1, b: undefined })).toBe('{"$o":{"$a":1}}')
    expect(stringify({ $a: undefined })).toBe('{}')
    expect(roundTrip({ $a: 1, b: undefined })).toEqual({ $a: 1 })
  })

  it('is deterministic and keeps insertion order', () => {
    const value = { b: 1, a: new Map([['z', 1], ['y', 2]]), c: new Set([3, 1, 2]) }
    expect(stringify(value)).toBe(stringify(value))
    expect(stringify(value)).toBe('{"b":1,"a":{"$m":[["z",1],["y",2]]},"c":{"$s":[3,1,2]}}')
  })

  it('does not modify its input', () => {
    const value = { a: [new Date(0), { $d: 'x' }], b: new Map([[1, new Set([2])]]) }
    const before = stringify(value)
    stringify(value)
    expect(value.a[0]).toBeInstanceOf(Date)
    expect(value.a[1]).toEqual({ $d: 'x' })
    expect(stringify(value)).toBe(before)
  })

  it('returns exactly JSON.stringify for plain JSON', () => {
    const value = { username: 'admin', userId: 42, roles: ['admin', 'editor'], n: null, s: 'a"\\\u0001\ud800' }
    expect(stringify(value)).toBe(JSON.stringify(value))
  })

  it('shares repeated (acyclic) references by copying them, like JSON', () => {
    const shared = { at: new Date(0) }
    expect(roundTrip({ a: shared, b: shared })).toEqual({ a: shared, b: shared })
  })
})

describe('golden strings (the wire format)', () => {
  it.each<[string, unknown, string, unknown?]>([
    ['plain JSON', { a: 1, b: [true, null, 'x'] }, '{"a":1,"b":[true,null,"x"]}'],
    ['Date', new Date(0), '{"$d":"1970-01-01T00:00:00.000Z"}'],
    ['Date with a negative year', new Date(Date.UTC(-1, 0, 1)), '{"$d":"-000001-01-01T00:00:00.000Z"}'],
    ['Date with a 6-digit year', new Date(8.64e15), '{"$d":"+275760-09-13T00:00:00.000Z"}'],
    ['bytes', new Uint8Array([1, 2, 3]), '{"$b":"AQID"}'],
    ['bytes without padding, URL-safe alphabet', new Uint8Array([0xfb, 0xff]), '{"$b":"-_8"}'],
    ['Buffer (read back as a plain Uint8Array)', Buffer.from('hi'), '{"$b":"aGk"}', new Uint8Array([104, 105])],
    ['empty bytes', new Uint8Array(0), '{"$b":""}'],
    ['BigInt', -12345678901234567890n, '{"$n":"-12345678901234567890"}'],
    ['Map', new Map<unknown, unknown>([['a', 1], [2n, new Date(0)]]), '{"$m":[["a",1],[{"$n":"2"},{"$d":"1970-01-01T00:00:00.000Z"}]]}'],
    ['Set', new Set<unknown>([1, 'x']), '{"$s":[1,"x"]}'],
    ['escaped one-key $ object', { $d: 'x' }, '{"$o":{"$d":"x"}}'],
    ['escaped $o', { $o: 1 }, '{"$o":{"$o":1}}'],
    ['escaped bare $', { $: 1 }, '{"$o":{"$":1}}'],
    ['escape holding a tag', { $d: new Date(0) }, '{"$o":{"$d":{"$d":"1970-01-01T00:00:00.000Z"}}}'],
    ['two $ keys are not escaped', { $a: 1, $b: 2 }, '{"$a":1,"$b":2}'],
    ['a $ key among others is not escaped', { $a: 1, b: 2 }, '{"$a":1,"b":2}'],
    ['$ not at the start is not escaped', { a$: 1 }, '{"a$":1}'],
    ['lone surrogate', '\ud800', '"\\ud800"'],
    ['__proto__ key', withProtoKey(1), '{"__proto__":1}'],
    ['__proto__ key needing a tag', withProtoKey(new Date(0), { a: 1 }), '{"__proto__":{"$d":"1970-01-01T00:00:00.000Z"},"a":1}'],
  ])('%s', (_name, value, text, decoded = value) => {
    expect(stringify(value)).toBe(text)
    expect(parse(text)).toStrictEqual(decoded)
  })

  it('encodes a typical session byte for byte', () => {
    const session = {
      userId: 42,
      roles: new Set(['admin']),
      createdAt: new Date(1_700_000_000_000),
      avatar: new Uint8Array([255]),
      quota: 2n ** 64n,
      prefs: new Map([['theme', 'dark']]),
    }
    expect(stringify(session)).toBe(
      '{"userId":42,"roles":{"$s":["admin"]},"createdAt":{"$d":"2023-11-14T22:13:20.000Z"},' +
        '"avatar":{"$b":"_w"},"quota":{"$n":"18446744073709551616"},"prefs":{"$m":[["theme","dark"]]}}',
    )
  })

  it('reads $ keys that JSON spells with a \\u0024 escape like any other', () => {
    expect(parse('{"\\u0024d":"1970-01-01T00:00:00.000Z"}')).toEqual(new Date(0))
    expect(parse('{"\\u0024o":{"\\u0024a":1}}')).toEqual({ $a: 1 })
  })
})

describe('stringify refuses what cannot come back unchanged', () => {
  class Point {
    x = 1
  }
  class SubMap extends Map {}
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  const deepCycle: { user: { friends: unknown[] } } = { user: { friends: [] } }
  deepCycle.user.friends.push(deepCycle.user)
  const mapCycle = new Map<string, unknown>()
  mapCycle.set('me', mapCycle)

  it.each<[string, unknown, string]>([
    ['a function', { user: { roles: ['a', 'b', () => 1] } }, `value at value.user.roles[2] is a function; ${SUPPORTED}`],
    ['a method', { user: { save() {} } }, `value at value.user.save is a function; ${SUPPORTED}`],
    ['a root function', () => 1, `value is a function; ${SUPPORTED}`],
    ['a symbol', { s: Symbol('x') }, `value at value.s is a symbol; ${SUPPORTED}`],
    ['undefined at the root', undefined, 'value is undefined'],
    ['undefined in an array', [1, undefined], 'value at value[1] is undefined'],
    // eslint-disable-next-line no-sparse-arrays
    ['a hole in an array', [1, , 3], 'value at value[1] is undefined'],
    // Map values are named by position, never by key: keys are often user data (an e-mail address).
    ['undefined as a Map value', new Map([['k', undefined]]), 'value at value.values()[0] is undefined'],
    ['undefined in a Set', new Set([undefined]), 'value at value.values()[0] is undefined'],
    ['NaN', { n: NaN }, `value at value.n is NaN; ${SUPPORTED}`],
    ['Infinity', [Infinity], 'value at value[0] is Infinity'],
    ['-Infinity', { a: { b: -Infinity } }, 'value at value.a.b is -Infinity'],
    ['an invalid Date', { when: new Date(NaN) }, 'value at value.when is an invalid Date'],
    ['a class instance', { p: new Point() }, 'value at value.p is an instance of Point (convert it to a plain object first)'],
    ['a Map subclass', { m: new SubMap() }, 'value at value.m is an instance of SubMap'],
    ['a boxed string', [new String('x')], 'value at value[0] is an instance of String'],
    ['a RegExp', { r: /x/ }, 'value at value.r is an instance of RegExp'],
    ['an Error', { e: new Error('x') }, 'value at value.e is an instance of Error'],
    ['a Promise', { p: Promise.resolve() }, 'value at value.p is an instance of Promise'],
    ['a WeakMap', { w: new WeakMap() }, 'value at value.w is an instance of WeakMap'],
    ['an ArrayBuffer', { b: new ArrayBuffer(1) }, 'value at value.b is an instance of ArrayBuffer'],
    ['another typed array', { b: new Uint16Array(1) }, 'value at value.b is an instance of Uint16Array'],
    ['a Uint8ClampedArray', { b: new Uint8ClampedArray(1) }, 'value at value.b is an instance of Uint8ClampedArray'],
    ['an object with a custom prototype', { o: Object.create({ x: 1 }) }, 'value at value.o is an object with an unsupported prototype'],
    ['a bad Map key', { m: new Map([[() => 1, 'x']]) }, 'value at value.m.keys()[0] is a function'],
    ['a bad Map value under a string key', { m: new Map([['theme', Symbol('x')]]) }, 'value at value.m.values()[0] is a symbol'],
    ['a bad Map value under a number key', new Map([[1, NaN]]), 'value at value.values()[0] is NaN'],
    ['a bad Map value under a BigInt key', new Map([[1n, NaN]]), 'value at value.values()[0] is NaN'],
    ['a bad Map value under an object key', new Map<object, unknown>([[{}, 'ok'], [{}, NaN]]), 'value at value.values()[1] is NaN'],
    ['a bad Set member', { s: new Set([1, NaN]) }, 'value at value.s.values()[1] is NaN'],
    ['a key that is not an identifier', { 'a b': { c: () => 1 } }, 'value at value["a b"].c is a function'],
    ['a bad value inside an escaped object', { $x: () => 1 }, 'value at value.$x is a function'],
    ['a cycle', cyclic, 'value at value.self is a cycle (it refers back to value); cyclic structures cannot be stored'],
    ['a deeper cycle', deepCycle, 'value at value.user.friends[0] is a cycle (it refers back to value.user)'],
    ['a cycle through a Map', mapCycle, 'value at value.values()[0] is a cycle (it refers back to value)'],
  ])('%s', (_name, value, message) => {
    expect(() => stringify(value)).toThrow(TypeError)
    expect(() => stringify(value)).toThrow(message)
  })

  it('uses the given root name in messages', () => {
    expect(() => stringify({ user: { roles: ['a', 'b', () => 1] } }, 'session')).toThrow(
      `value at session.user.roles[2] is a function; ${SUPPORTED}`,
    )
    expect(() => stringify(Symbol('x'), 'session')).toThrow(`session is a symbol; ${SUPPORTED}`)
  })

  it(`accepts exactly ${MAX_DEPTH} levels of nesting, of any container type`, () => {
    const wraps: Array<(inner: unknown) => unknown> = [
      (inner) => [inner],
      (inner) => ({ a: inner }),
      (inner) => new Map([['k', inner]]),
      (inner) => new Set([inner]),
      (inner) => ({ $o: inner }),
      (inner) => new Map([[inner, 1]]),
    ]
    for (const wrap of wraps) {
      const deepest = nest(MAX_DEPTH, wrap, new Date(0))
      expect(roundTrip(deepest)).toEqual(deepest)
      expect(() => stringify(nest(MAX_DEPTH + 1, wrap))).toThrow(`is nested deeper than ${MAX_DEPTH} levels; ${SUPPORTED}`)
    }
  })

  it('refuses a very deep object with a TypeError, not a stack overflow', () => {
    const deep = nest(100_000, (inner) => ({ next: inner }))
    expect(() => stringify(deep)).toThrow(TypeError)
    expect(() => stringify(deep)).toThrow(/^value at value(\.next){64} is nested deeper than 64 levels/)
  })

  it('lets errors from getters through unchanged', () => {
    const boom = new Error('getter failed')
    const value = {
      get x(): never {
        throw boom
      },
    }
    expect(() => stringify(value)).toThrow(boom)
  })
})

describe('parse refuses malformed input with PayloadMalformed', () => {
  it.each<[string, string]>([
    ['empty text', ''],
    ['truncated JSON', '{"a":'],
    ['single quotes', "{'a':1}"],
    ['a trailing comma', '[1,]'],
    ['NaN', 'NaN'],
    ['undefined', 'undefined'],
    ['$d holding a number', '{"$d":5}'],
    ['$d holding null', '{"$d":null}'],
    ['$d that is not a date', '{"$d":"not a date"}'],
    ['$d on a day that does not exist', '{"$d":"2024-02-30T00:00:00.000Z"}'],
    ['$d without the time', '{"$d":"2024-01-01"}'],
    ['$d without milliseconds', '{"$d":"2024-01-01T00:00:00Z"}'],
    ['$d with an offset', '{"$d":"2024-01-01T00:00:00.000+00:00"}'],
    ['$d with a needless extended year', '{"$d":"+002024-01-01T00:00:00.000Z"}'],
    ['$d with year -0', '{"$d":"-000000-01-01T00:00:00.000Z"}'],
    ['$d out of range', '{"$d":"+275760-09-13T00:00:00.001Z"}'],
    ['$b with padding', '{"$b":"AQI="}'],
    ['$b with non-zero trailing bits', '{"$b":"AR"}'],
    ['$b with an impossible length', '{"$b":"A"}'],
    ['$b in the standard alphabet', '{"$b":"a+b/"}'],
    ['$b with a space', '{"$b":"AQ ID"}'],
    ['$b holding a number', '{"$b":1}'],
    ['$b holding an array', '{"$b":[1,2]}'],
    ['$n empty', '{"$n":""}'],
    ['$n with a leading zero', '{"$n":"01"}'],
    ['$n negative zero', '{"$n":"-0"}'],
    ['$n with a plus sign', '{"$n":"+1"}'],
    ['$n with a fraction', '{"$n":"1.5"}'],
    ['$n with an exponent', '{"$n":"1e3"}'],
    ['$n in hex', '{"$n":"0x10"}'],
    ['$n with whitespace', '{"$n":" 1"}'],
    ['$n holding a number', '{"$n":1}'],
    ['$m holding an object', '{"$m":{}}'],
    ['$m holding null', '{"$m":null}'],
    ['$m entry that is not an array', '{"$m":[1]}'],
    ['$m entry with one element', '{"$m":[[1]]}'],
    ['$m entry with three elements', '{"$m":[[1,2,3]]}'],
    ['$m with a duplicate key', '{"$m":[["a",1],["a",2]]}'],
    ['$m with a malformed key', '{"$m":[[{"$n":"x"},1]]}'],
    ['$s holding an object', '{"$s":{}}'],
    ['$s holding a string', '{"$s":"ab"}'],
    ['$s with a duplicate member', '{"$s":[1,1]}'],
    ['an unknown tag', '{"$x":1}'],
    ['a bare $ tag', '{"$":1}'],
    ['an unknown tag spelled with \\u0024', '{"\\u0024x":1}'],
    ['$o holding a number', '{"$o":1}'],
    ['$o holding an array', '{"$o":[]}'],
    ['$o holding null', '{"$o":null}'],
    ['$o holding an empty object', '{"$o":{}}'],
    ['$o holding a key without $', '{"$o":{"a":1}}'],
    ['$o holding two $ keys', '{"$o":{"$a":1,"$b":2}}'],
    ['$o holding a $ key and another key', '{"$o":{"$a":1,"b":2}}'],
    ['a malformed tag inside an array', '[1,{"$d":5}]'],
    ['a malformed tag inside an object', '{"a":{"b":{"$n":"x"}}}'],
    ['a malformed tag inside $o', '{"$o":{"$a":{"$d":5}}}'],
    ['a malformed tag inside a Set', '{"$s":[{"$b":"="}]}'],
  ])('%s', (_name, text) => {
    expectMalformed(() => parse(text))
  })

  it.each<[string, string]>([
    ['1e400 in short text', '[1e400]'],
    ['-1E999 in short text', '{"a":-1E999}'],
    ['a 400-digit integer', `[${'9'.repeat(400)}]`],
    ['300 digits with a two-digit exponent', `[${'9'.repeat(300)}e10]`],
    ['210 digits with exponent 99', `[${'9'.repeat(210)}e99]`],
    ['a fraction with a big exponent', '[1.5e+0309]'],
    ['1e400 in long text', `{"pad":"${'x'.repeat(200)}","n":1e400}`],
    ['1e400 next to a tag', '{"$s":[1e400]}'],
    ['1e400 inside a Map entry', '{"a":{"$m":[["k",1e400]]}}'],
  ])('refuses a number beyond the range of a double (%s): JSON.parse reads it as Infinity', (_name, text) => {
    expectMalformed(() => parse(text))
    expect(() => parse(text)).toThrow('payload has a number beyond the range of a double')
  })

  it('still reads large, tiny and exponent-form numbers that fit a double', () => {
    expect(parse('[1e308,-1.5E-300,5e-324,1e+21,"1e400"]')).toEqual([1e308, -1.5e-300, 5e-324, 1e21, '1e400'])
  })

  it('does not quote the input in the message', () => {
    expect(() => parse('{"secret":"hunter2"')).toThrow('payload is not valid JSON')
  })

  it('throws a TypeError when not given a string', () => {
    expect(() => parse(42 as unknown as string)).toThrow(TypeError)
  })

  it(`refuses nesting deeper than ${MAX_DEPTH} levels, consistently with stringify`, () => {
    const ok = '['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH)
    const tooDeep = '['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1)
    expect(parse(ok)).toEqual(nest(MAX_DEPTH - 1, (inner) => [inner], []))
    expectMalformed(() => parse(tooDeep))
    expectMalformed(() => parse(`{"$s":${tooDeep}}`))
    expectMalformed(() => parse('{"a":'.repeat(MAX_DEPTH + 1) + '1' + '}'.repeat(MAX_DEPTH + 1)))
    expectMalformed(() => parse('{"$m":[["k",'.repeat(MAX_DEPTH + 1) + '1' + ']]}'.repeat(MAX_DEPTH + 1)))
    expect(() => parse(tooDeep)).toThrow(`payload is nested deeper than ${MAX_DEPTH} levels`)
  })

  it.each<[string, string]>([
    ['100,000 unclosed [', '['.repeat(100_000)],
    ['100,000 nested arrays', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['100,000 nested objects', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)],
    ['100,000 nested $o escapes', '{"$o":{"$a":'.repeat(100_000) + '1' + '}}'.repeat(100_000)],
    ['100,000 nested Sets', '{"$s":['.repeat(100_000) + ']}'.repeat(100_000)],
  ])('refuses %s with a typed error, not a crash', (_name, text) => {
    expectMalformed(() => parse(text))
  })
})

describe('prototype pollution', () => {
  function expectUnpolluted(result: unknown): void {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
    if (typeof result === 'object' && result !== null && !(result instanceof Map) && !(result instanceof Set)) {
      expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
    }
  }

  it('keeps __proto__ a plain own property', () => {
    const result = parse('{"__proto__":{"polluted":1}}') as Record<string, unknown>
    expectUnpolluted(result)
    expect(Object.keys(result)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual({ polluted: 1 })
    expect(result.polluted).toBeUndefined()
  })

  it('keeps __proto__ a plain own property when its value is decoded in place', () => {
    const result = parse('{"__proto__":{"$d":"1970-01-01T00:00:00.000Z"},"a":{"__proto__":{"$s":[1]}}}') as Record<string, unknown>
    expectUnpolluted(result)
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual(new Date(0))
    const inner = result.a as object
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(inner, '__proto__')?.value).toEqual(new Set([1]))
  })

  it('keeps __proto__ plain inside $o', () => {
    const result = parse('{"$o":{"$a":{"__proto__":{"polluted":1,"at":{"$d":"1970-01-01T00:00:00.000Z"}}}}}') as Record<string, unknown>
    expectUnpolluted(result)
    const inner = result.$a as object
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype)
    expect(Object.keys(inner)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(inner, '__proto__')?.value).toEqual({ polluted: 1, at: new Date(0) })
  })

  it('keeps __proto__ plain inside Map entries and Sets', () => {
    const result = parse(
      '{"$m":[["__proto__",{"__proto__":{"polluted":1}}],[{"__proto__":{"$n":"1"}},{"$s":[{"__proto__":{"polluted":1}}]}]]}',
    ) as Map<unknown, unknown>
    expectUnpolluted(result)
    expect(result.get('__proto__')).toEqual(withProtoKey({ polluted: 1 }))
    const [, [key, value]] = [...result] as [unknown, [object, Set<object>]]
    expect(Object.getPrototypeOf(key)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(key, '__proto__')?.value).toBe(1n)
    const [member] = [...value]
    expect(Object.getPrototypeOf(member)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(member, '__proto__')?.value).toEqual({ polluted: 1 })
  })

  it('writes an own __proto__ key as an ordinary key and reads it back as one', () => {
    const value = withProtoKey({ polluted: 1, at: new Date(0) }, { b: new Set([1]) })
    const text = stringify(value)
    expect(text).toBe('{"__proto__":{"polluted":1,"at":{"$d":"1970-01-01T00:00:00.000Z"}},"b":{"$s":[1]}}')
    const result = parse(text) as Record<string, unknown>
    expectUnpolluted(result)
    expect(Object.keys(result)).toEqual(['__proto__', 'b'])
    expect(result).toEqual(value)
  })
})

describe('stringify walks own keys only, in order', () => {
  it('ignores enumerable properties inherited from a polluted Object.prototype, as JSON.stringify does', () => {
    Object.defineProperty(Object.prototype, 'inherited', { value: 'x', enumerable: true, configurable: true, writable: true })
    try {
      const value = { a: 1, nested: { b: [2] }, at: new Date(0) }
      expect(stringify(value)).toBe('{"a":1,"nested":{"b":[2]},"at":{"$d":"1970-01-01T00:00:00.000Z"}}')
      // A null-prototype root inherits nothing; its nested plain objects still do.
      const bare = Object.assign(Object.create(null) as Record<string, unknown>, { c: { d: 1 } })
      expect(stringify(bare)).toBe('{"c":{"d":1}}')
    } finally {
      delete (Object.prototype as Record<string, unknown>).inherited
    }
  })

  it('parses untagged payloads whatever enumerable properties Object.prototype has been given', () => {
    for (const polluted of [{}, [[[]]], Number.POSITIVE_INFINITY, Number.NaN]) {
      Object.defineProperty(Object.prototype, 'polluted', { value: polluted, enumerable: true, configurable: true, writable: true })
      try {
        expect(parse('{"userId":42,"roles":["admin"],"nested":{"a":{"b":1}}}')).toEqual({ userId: 42, roles: ['admin'], nested: { a: { b: 1 } } })
        expect(() => parse('{"n":1e400}')).toThrow(PayloadMalformed)
      } finally {
        delete (Object.prototype as Record<string, unknown>).polluted
      }
    }
  })

  it('keeps key order when a tagged value in the middle forces a copy', () => {
    const value = { 2: 'two', z: 1, skipped: undefined, at: new Date(0), a: 2, 1: 'one' }
    expect(stringify(value)).toBe('{"1":"one","2":"two","z":1,"at":{"$d":"1970-01-01T00:00:00.000Z"},"a":2}')
    expect(parse(stringify(value))).toEqual({ 1: 'one', 2: 'two', z: 1, at: new Date(0), a: 2 })
  })
})

describe('property tests', () => {
  // Any UTF-16 code unit, so lone surrogates appear too.
  const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
  const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: codeUnit }))
  const key = fc.oneof(text, fc.constantFrom('$', '$d', '$b', '$n', '$m', '$s', '$o', '$x', '__proto__', 'constructor', 'toJSON'))
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    // JSON has no -0.
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
    text,
    fc.date({ noInvalidDate: true }),
    fc.uint8Array({ maxLength: 40 }),
    fc.bigInt(),
    fc.bigInt({ min: -(2n ** 512n), max: 2n ** 512n }),
  )
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(key, tie('value'), { maxKeys: 5 }),
      fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
      fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
    ),
  }))

  it('round trips any value built from the supported types', () => {
    fc.assert(
      fc.property(value, (v) => {
        const text = stringify(v)
        expect(parse(text)).toEqual(v)
        // Deterministic, and stable across a round trip.
        expect(stringify(parse(text))).toBe(text)
      }),
      { numRuns: 1000 },
    )
  })

  it('round trips through encodePayload / decodePayload, compressed or not', () => {
    fc.assert(
      fc.property(value, fc.constantFrom(0, 64, Infinity), (v, compressThreshold) => {
        const { bytes, compressed } = encodePayload(v, { compressThreshold })
        expect(decodePayload(bytes, compressed)).toEqual(v)
      }),
      { numRuns: 300 },
    )
  })

  function onlySessionErrors(run: () => unknown): void {
    try {
      run()
    } catch (error) {
      if (!(error instanceof SessionError)) throw error
    }
  }

  const tagged = fc
    .tuple(fc.constantFrom('$d', '$b', '$n', '$m', '$s', '$o', '$x', '$'), fc.jsonValue())
    .map(([tag, content]) => JSON.stringify({ [tag]: content }))
  const mutated = fc
    .tuple(value, fc.nat(), fc.string({ unit: 'binary-ascii', maxLength: 3 }))
    .map(([v, at, insert]) => {
      const text = stringify(v)
      const i = at % (text.length + 1)
      return text.slice(0, i) + insert + text.slice(i + 1)
    })

  it('parse throws nothing but SessionErrors for any string', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.json(), tagged, mutated), (input) => {
        onlySessionErrors(() => parse(input))
      }),
      { numRuns: 2000 },
    )
  })

  it('decodePayload throws nothing but SessionErrors for any bytes', () => {
    const compressedValid = value.map((v) => deflateRawSync(stringify(v)))
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      compressedValid,
      compressedValid.chain((z) =>
        fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
          const copy = new Uint8Array(z)
          copy[at % copy.length] = byte
          return copy
        }),
      ),
    )
    fc.assert(
      fc.property(bytes, fc.boolean(), fc.constantFrom(undefined, 1, 16, 1024), (input, compressed, maxBytes) => {
        onlySessionErrors(() => decodePayload(input, compressed, maxBytes === undefined ? {} : { maxBytes }))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('encodePayload / decodePayload', () => {
  const session = { username: 'admin', userId: 42, roles: ['admin', 'editor'], csrf: 'f'.repeat(32), createdAt: 1_700_000_000_000 }
  const bigSession = {
    ...session,
    cart: Array.from({ length: 60 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: 1 + (i % 3), addedAt: new Date(1_700_000_000_000 + i * 60_000) })),
  }

  it('does not compress a typical session', () => {
    const { bytes, compressed } = encodePayload(session)
    expect(compressed).toBe(false)
    expect(Buffer.from(bytes).toString('utf8')).toBe(stringify(session))
    expect(decodePayload(bytes, compressed)).toEqual(session)
  })

  it(`compresses from DEFAULT_COMPRESS_THRESHOLD (${DEFAULT_COMPRESS_THRESHOLD}) bytes on`, () => {
    // Highly compressible, sized exactly around the threshold.
    const sized = (length: number) => ({ pad: 'a'.repeat(length - '{"pad":""}'.length) })
    expect(utf8(stringify(sized(DEFAULT_COMPRESS_THRESHOLD))).length).toBe(DEFAULT_COMPRESS_THRESHOLD)
    expect(encodePayload(sized(DEFAULT_COMPRESS_THRESHOLD - 1)).compressed).toBe(false)
    expect(encodePayload(sized(DEFAULT_COMPRESS_THRESHOLD)).compressed).toBe(true)
  })

  it('compresses a large compressible session and round trips it', () => {
    const json = utf8(stringify(bigSession))
    expect(json.length).toBeGreaterThan(DEFAULT_COMPRESS_THRESHOLD)
    const { bytes, compressed } = encodePayload(bigSession)
    expect(compressed).toBe(true)
    expect(bytes.length).toBeLessThan(json.length / 2)
    expect(decodePayload(bytes, true)).toEqual(bigSession)
  })

  it('keeps DEFLATE output only when it is strictly shorter', () => {
    // Too short for DEFLATE to win: its block header alone costs a few bytes.
    for (const v of [1, 'ab', {}, { a: 1 }, { t: randomBytes(24) }]) {
      const { bytes, compressed } = encodePayload(v, { compressThreshold: 0 })
      expect(compressed).toBe(false)
      expect(Buffer.from(bytes).toString('utf8')).toBe(stringify(v))
    }
    // Random bytes travel as base64url, which DEFLATE's Huffman stage still shrinks by about a
    // quarter (6 bits of entropy per 8-bit character), so the rule is "shorter", not "compressible".
    const random = { blob: new Uint8Array(randomBytes(4096)) }
    const json = utf8(stringify(random))
    const { bytes, compressed } = encodePayload(random)
    expect(compressed).toBe(deflateRawSync(json).length < json.length)
    expect(bytes.length).toBeLessThanOrEqual(json.length)
    expect(decodePayload(bytes, compressed)).toEqual(random)
  })

  it('never compresses with compressThreshold: Infinity', () => {
    const { bytes, compressed } = encodePayload(bigSession, { compressThreshold: Infinity })
    expect(compressed).toBe(false)
    expect(decodePayload(bytes, false)).toEqual(bigSession)
  })

  it('passes stringify TypeErrors through, naming the root after the path option', () => {
    expect(() => encodePayload({ f: () => 1 })).toThrow(`value at value.f is a function; ${SUPPORTED}`)
    expect(() => encodePayload({ f: () => 1 }, { path: 'session' })).toThrow(`value at session.f is a function; ${SUPPORTED}`)
  })

  it('refuses to write JSON longer than maxBytes, which no reader would accept', () => {
    // Compresses to almost nothing, but would inflate past the reader's cap.
    const huge = { pad: 'a'.repeat(DEFAULT_MAX_PAYLOAD_BYTES) }
    let caught: unknown
    try {
      encodePayload(huge)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(PayloadTooLarge)
    expect(caught).toMatchObject({ code: 'ERR_SESSION_PAYLOAD_TOO_LARGE', size: DEFAULT_MAX_PAYLOAD_BYTES + 10, limit: DEFAULT_MAX_PAYLOAD_BYTES })
    const exact = { pad: 'a'.repeat(90) }
    const { bytes, compressed } = encodePayload(exact, { maxBytes: 100 })
    expect(decodePayload(bytes, compressed, { maxBytes: 100 })).toEqual(exact)
    expect(() => encodePayload(exact, { maxBytes: 99 })).toThrow(PayloadTooLarge)
    expect(() => encodePayload(exact, { maxBytes: 0 })).toThrow(/^option maxBytes is invalid/)
  })

  it.each<[string, unknown]>([
    ['negative', -1],
    ['NaN', NaN],
    ['-Infinity', -Infinity],
    ['fractional', 1.5],
    ['a string', '1024'],
    ['null', null],
  ])('refuses a %s compressThreshold', (_name, compressThreshold) => {
    expect(() => encodePayload(session, { compressThreshold: compressThreshold as number })).toThrow(TypeError)
    expect(() => encodePayload(session, { compressThreshold: compressThreshold as number })).toThrow(
      /^option compressThreshold is invalid: expected a non-negative integer number of bytes, or Infinity to disable compression/,
    )
  })

  it.each<[string, unknown]>([
    ['zero', 0],
    ['negative', -1],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['fractional', 10.5],
    ['a string', '1024'],
    ['beyond the largest Buffer', 2 ** 53],
  ])('refuses a %s maxBytes', (_name, maxBytes) => {
    expect(() => decodePayload(utf8('1'), false, { maxBytes: maxBytes as number })).toThrow(TypeError)
    expect(() => decodePayload(utf8('1'), false, { maxBytes: maxBytes as number })).toThrow(
      /^option maxBytes is invalid: expected a positive integer number of bytes/,
    )
  })

  it('refuses input that is not a Uint8Array with a TypeError', () => {
    expect(() => decodePayload('{}' as unknown as Uint8Array, false)).toThrow(TypeError)
  })

  it('accepts input up to maxBytes and refuses longer input before decoding it', () => {
    const text = utf8('"' + 'a'.repeat(98) + '"')
    expect(decodePayload(text, false, { maxBytes: 100 })).toBe('a'.repeat(98))
    let caught: unknown
    try {
      decodePayload(text, false, { maxBytes: 99 })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(PayloadTooLarge)
    expect(caught).toMatchObject({ code: 'ERR_SESSION_PAYLOAD_TOO_LARGE', size: 100, limit: 99 })
    // Checked before UTF-8 and JSON: garbage that is too long is "too large", not "malformed".
    expect(() => decodePayload(new Uint8Array(DEFAULT_MAX_PAYLOAD_BYTES + 1).fill(0xff), false)).toThrow(PayloadTooLarge)
    expect(() => decodePayload(new Uint8Array(DEFAULT_MAX_PAYLOAD_BYTES + 1), true)).toThrow(PayloadTooLarge)
  })

  it('caps what compressed input may inflate to', () => {
    const json = utf8('"' + 'a'.repeat(998) + '"')
    const z = deflateRawSync(json)
    expect(decodePayload(z, true, { maxBytes: 1000 })).toBe('a'.repeat(998))
    let caught: unknown
    try {
      decodePayload(z, true, { maxBytes: 999 })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(DecompressionTooLarge)
    expect(caught).toMatchObject({ code: 'ERR_SESSION_DECOMPRESSION_TOO_LARGE', limit: 999 })
  })

  describe('a zip bomb', () => {
    let bomb: Uint8Array
    beforeAll(() => {
      bomb = deflateRawSync(Buffer.alloc(50_000_000))
    })

    it('stops at the default cap without allocating the whole output', () => {
      expect(bomb.length).toBeLessThan(100_000)
      const before = process.memoryUsage().arrayBuffers
      let caught: unknown
      try {
        decodePayload(bomb, true)
      } catch (error) {
        caught = error
      }
      const grown = process.memoryUsage().arrayBuffers - before
      expect(caught).toBeInstanceOf(DecompressionTooLarge)
      expect(caught).toMatchObject({ code: 'ERR_SESSION_DECOMPRESSION_TOO_LARGE', limit: DEFAULT_MAX_PAYLOAD_BYTES })
      expect(grown).toBeLessThan(5_000_000)
    })
  })

  it.each<[string, Uint8Array]>([
    ['garbage', utf8('this is not deflate data')],
    ['an invalid block type', new Uint8Array([0xff, 0xff])],
    ['empty input', new Uint8Array(0)],
    ['a truncated stream', deflateRawSync('{"a":"hello hello hello"}').subarray(0, 5)],
    ['trailing bytes after the stream', Buffer.concat([deflateRawSync('{"a":1}'), Buffer.from('xyz')])],
    ['a zlib (not raw) stream', new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])],
  ])('refuses %s when compressed with PayloadMalformed', (_name, bytes) => {
    expectMalformed(() => decodePayload(bytes, true))
  })

  it.each<[string, number[]]>([
    ['0xff', [0x22, 0xff, 0x22]],
    ['an overlong NUL', [0x22, 0xc0, 0x80, 0x22]],
    ['an encoded lone surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['a truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
    ['a code point above U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
  ])('refuses invalid UTF-8 (%s) with PayloadMalformed, compressed or not', (_name, bytes) => {
    expectMalformed(() => decodePayload(new Uint8Array(bytes), false))
    expectMalformed(() => decodePayload(deflateRawSync(new Uint8Array(bytes)), true))
  })

  it('refuses malformed JSON and tags inside a valid payload', () => {
    expectMalformed(() => decodePayload(utf8('{"$d":5}'), false))
    expectMalformed(() => decodePayload(deflateRawSync('{"a":'), true))
  })

  it('decodes a payload held in a view into a larger buffer', () => {
    const inner = utf8('{"a":{"$n":"7"}}')
    const outer = new Uint8Array(inner.length + 8)
    outer.set(inner, 4)
    expect(decodePayload(outer.subarray(4, 4 + inner.length), false)).toEqual({ a: 7n })
  })
})
