import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DecompressionTooLarge, NotYetValid, PayloadMalformed, SessionError, SessionExpired, SignatureInvalid } from '../../src/errors.js'
import { FLASK_DEFAULT_COMPRESS_THRESHOLD, FLASK_DEFAULT_LIFETIME, createFlaskCodec } from '../../src/flask/codec.js'
import { createFlaskFormat } from '../../src/flask/format.js'
import { createItsdangerousSigner } from '../../src/flask/itsdangerous.js'
import { createSessions } from '../../src/sessions.js'
import { Markup, UUID, decodeFlaskJson, encodeFlaskJson, isTuple, tuple } from '../../src/flask/json.js'
import { describeFlask, fromSpec, normalizeSpec, py, python, startOracle, toSpec, type Oracle, type Spec } from '../flask/python.js'

const NOW_S = 1_700_000_000
const NOW = NOW_S * 1000
const SECRET = 'flask-test-secret'

const vectors = JSON.parse(readFileSync(new URL('../vectors/flask.json', import.meta.url), 'utf8')) as {
  secret_key: string
  now: number
  flask: Array<{ name: string; session: Spec; cookie: string }>
}

const specOf = (value: unknown): Spec => normalizeSpec(toSpec(value))

type Result = { ok: true; value: Record<string, unknown> } | { ok: false; error: SessionError }

function expectError(result: Result, type: new (...args: never[]) => SessionError): void {
  expect(result.ok).toBe(false)
  if (!result.ok) expect(result.error).toBeInstanceOf(type)
}

/** A signer that signs any payload the way Flask's session serializer does, to forge test cookies. */
function rawSigner(secret = SECRET) {
  return createItsdangerousSigner({ secrets: secret, salt: 'cookie-session', keyDerivation: 'hmac', digest: 'sha1', timestamped: true })
}

const b64 = (text: string | Uint8Array): string => Buffer.from(text).toString('base64url')

describe('golden vectors from Flask 2.2 (test/vectors/flask.json)', () => {
  const codec = createFlaskCodec({ secrets: vectors.secret_key })
  const exact = createFlaskCodec({ secrets: vectors.secret_key, compress: false })

  it.each(vectors.flask.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const result = codec.verify(v.cookie, { now: vectors.now * 1000 })
    expect(result).toMatchObject({ ok: true, issuedAt: new Date(vectors.now * 1000), stale: false })
    // Flask cookies name no key.
    expect('keyId' in result).toBe(false)
    if (!result.ok) return
    expect(specOf(result.value)).toEqual(normalizeSpec(v.session))
    const value = fromSpec(v.session) as Record<string, unknown>
    if (v.cookie.startsWith('.')) {
      // Compressed by CPython's zlib; Node's deflate writes other (equally valid) bytes.
      const ours = codec.sign(value, { now: vectors.now * 1000 })
      const again = codec.verify(ours, { now: vectors.now * 1000 })
      expect(again.ok && specOf(again.value)).toEqual(normalizeSpec(v.session))
    } else {
      expect(exact.sign(value, { now: vectors.now * 1000 })).toBe(v.cookie)
      expect(codec.sign(result.value, { now: vectors.now * 1000 })).toBe(v.cookie)
    }
  })
})

describe('encodeFlaskJson / decodeFlaskJson', () => {
  // Each value is built inside its test: a constructor that throws (Markup, UUID, tuple) then fails
  // that test, not the collection of the whole file.
  it.each<[string, () => object, string]>([
    ['sorted keys, compact', () => ({ b: 1, a: [true, null] }), '{"a":[true,null],"b":1}'],
    ['ensure_ascii', () => ({ s: 'é😀\u007f' }), '{"s":"\\u00e9\\ud83d\\ude00\\u007f"}'],
    ['tuple', () => ({ t: tuple(1, tuple()) }), '{"t":{" t":[1,{" t":[]}]}}'],
    ['flashes', () => ({ _flashes: [tuple('message', 'Hi')] }), '{"_flashes":[{" t":["message","Hi"]}]}'],
    ['bytes as padded standard base64', () => ({ b: new Uint8Array([0xfb, 0xff]) }), '{"b":{" b":"+/8="}}'],
    ['a Buffer is bytes', () => ({ b: Buffer.from('abc') }), '{"b":{" b":"YWJj"}}'],
    ['markup', () => ({ m: new Markup('<b>x</b>') }), '{"m":{" m":"<b>x</b>"}}'],
    ['uuid as 32 hex digits', () => ({ u: new UUID('1B4E28BA-2FA1-11D2-883F-0016D3CCA427') }), '{"u":{" u":"1b4e28ba2fa111d2883f0016d3cca427"}}'],
    ['datetime as an HTTP date, whole seconds', () => ({ d: new Date('2024-02-29T12:34:56.999Z') }), '{"d":{" d":"Thu, 29 Feb 2024 12:34:56 GMT"}}'],
    ['year below 1000 padded', () => ({ d: new Date('0999-01-01T00:00:00Z') }), '{"d":{" d":"Tue, 01 Jan 0999 00:00:00 GMT"}}'],
    ['one-key dict named like a tag', () => ({ x: { ' t': 'no' } }), '{"x":{" di":{" t__":"no"}}}'],
    ['nested di', () => ({ x: { ' di': { ' b': 1 } } }), '{"x":{" di":{" di__":{" di":{" b__":1}}}}}'],
    ['two keys need no di', () => ({ x: { ' t': 1, y: 2 } }), '{"x":{" t":1,"y":2}}'],
    ['top-level di', () => ({ ' u': 1 }), '{" di":{" u__":1}}'],
    ['undefined is left out (and does not count as a key)', () => ({ x: { ' t': 1, y: undefined }, z: undefined }), '{"x":{" di":{" t__":1}}}'],
    ['integers and floats', () => ({ i: 1, f: 1.5, big: 2n ** 64n, unsafe: 2 ** 53, nan: Number.NaN }), '{"big":18446744073709551616,"f":1.5,"i":1,"nan":NaN,"unsafe":9007199254740992.0}'],
  ])('%s', (_name, make, json) => {
    const value = make()
    expect(encodeFlaskJson(value)).toBe(json)
    const decoded = decodeFlaskJson(json)
    expect(specOf(decoded)).toEqual(specOf(value))
  })

  // Every month and every weekday, against ECMA-262's own IMF-fixdate (Date#toUTCString), which is
  // what werkzeug's http_date writes for years 1000 to 9999.
  const everyMonth = Array.from({ length: 12 }, (_, month) => new Date(Date.UTC(2026, month, 1 + 2 * month, month, 7 + month, 59 - month)))
  const everyDay = Array.from({ length: 7 }, (_, day) => new Date(Date.UTC(2027, 8, 5 + day, 23, 59, 58)))
  it.each([...everyMonth, ...everyDay].map((date) => [date.toUTCString(), date] as const))('writes and reads %s', (text, date) => {
    const json = `{"d":{" d":"${text}"}}`
    expect(encodeFlaskJson({ d: date })).toBe(json)
    expect(decodeFlaskJson(json)).toEqual({ d: date })
  })

  it('marks decoded tuples, so they are written back as tuples', () => {
    const value = decodeFlaskJson('{"f":[{" t":["message","Hi"]}],"l":["message","Hi"]}') as Record<string, unknown[]>
    expect(isTuple(value.f?.[0])).toBe(true)
    expect(isTuple(value.l)).toBe(false)
    expect(encodeFlaskJson(value)).toBe('{"f":[{" t":["message","Hi"]}],"l":["message","Hi"]}')
  })

  it('maps years below 100 the way Flask reads them (email.utils: 0-68 → 20xx, 69-99 → 19xx)', () => {
    expect(decodeFlaskJson('{" d":"Mon, 01 Jan 0050 00:00:00 GMT"}')).toEqual(new Date('2050-01-01T00:00:00Z'))
    expect(decodeFlaskJson('{" d":"Mon, 01 Jan 0068 00:00:00 GMT"}')).toEqual(new Date('2068-01-01T00:00:00Z'))
    expect(decodeFlaskJson('{" d":"Mon, 01 Jan 0069 00:00:00 GMT"}')).toEqual(new Date('1969-01-01T00:00:00Z'))
    expect(decodeFlaskJson('{" d":"Mon, 01 Jan 0099 00:00:00 GMT"}')).toEqual(new Date('1999-01-01T00:00:00Z'))
    expect(decodeFlaskJson('{" d":"Mon, 01 Jan 0000 00:00:00 GMT"}')).toEqual(new Date('2000-01-01T00:00:00Z'))
    // From 100 on, the year is the year.
    expect(decodeFlaskJson('{" d":"Fri, 01 Jan 0100 00:00:00 GMT"}')).toEqual(new Date('0100-01-01T00:00:00Z'))
    // Like Flask, the weekday is not checked.
    expect(decodeFlaskJson('{" d":"Sun, 01 Jan 2024 00:00:00 GMT"}')).toEqual(new Date('2024-01-01T00:00:00Z'))
  })

  it.each([
    ['tuple of a string', '{" t":"ab"}', 'payload has a malformed " t" tag: not a list'],
    ['bytes, not padded', '{" b":"YWJjZA"}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, with junk', '{" b":"YW Jj"}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, non-canonical bits', '{" b":"YR=="}', 'payload has a malformed " b" tag: not canonical base64'],
    ['bytes of a number', '{" b":5}', 'payload has a malformed " b" tag: not padded base64'],
    ['markup of a number', '{" m":1}', 'payload has a malformed " m" tag: not a string'],
    ['uuid, short', '{" u":"abc"}', 'payload has a malformed " u" tag: not a UUID'],
    ['uuid of a number', '{" u":5}', 'payload has a malformed " u" tag: not a UUID'],
    ['date, other format', '{" d":"2024-01-01T00:00:00Z"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, text before it', '{" d":"xMon, 01 Jan 2024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, text after it', '{" d":"Mon, 01 Jan 2024 00:00:00 GMTx"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, an unknown month', '{" d":"Mon, 01 Foo 2024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, of a number', '{" d":1700000000}', 'payload has a malformed " d" (datetime) tag'],
    ['uuid with text before it', '{" u":"x1b4e28ba2fa111d2883f0016d3cca427"}', 'payload has a malformed " u" tag: not a UUID'],
    ['uuid with text after it', '{" u":"1b4e28ba2fa111d2883f0016d3cca427x"}', 'payload has a malformed " u" tag: not a UUID'],
    ['uuid, 33 hex digits', '{" u":"1b4e28ba2fa111d2883f0016d3cca4270"}', 'payload has a malformed " u" tag: not a UUID'],
    ['uuid, dashed with text around it', '{" u":"{1b4e28ba-2fa1-11d2-883f-0016d3cca427}"}', 'payload has a malformed " u" tag: not a UUID'],
    ['date, impossible day', '{" d":"Fri, 30 Feb 2024 00:00:00 GMT"}', 'payload has an impossible " d" (datetime) tag'],
    ['date, hour 24', '{" d":"Mon, 01 Jan 2024 24:00:00 GMT"}', 'payload has an impossible " d" (datetime) tag'],
    ['di of a string', '{" di":"x"}', 'payload has a malformed " di" tag: not an object'],
    ['di with two keys', '{" di":{"a__":1,"b__":2}}', 'payload has a malformed " di" tag: not one key ending in "__"'],
    ['di without the suffix', '{" di":{"ab":1}}', 'payload has a malformed " di" tag: not one key ending in "__"'],
    ['date, minute 60', '{" d":"Mon, 01 Jan 2024 00:60:00 GMT"}', 'payload has an impossible " d" (datetime) tag'],
    ['date, second 60 (no leap seconds in a datetime)', '{" d":"Sun, 31 Dec 2023 23:59:60 GMT"}', 'payload has an impossible " d" (datetime) tag'],
    ['date, day 00', '{" d":"Mon, 00 Jan 2024 00:00:00 GMT"}', 'payload has an impossible " d" (datetime) tag'],
    ['date, day 32', '{" d":"Tue, 32 Dec 2024 00:00:00 GMT"}', 'payload has an impossible " d" (datetime) tag'],
    ['date, a one-digit day', '{" d":"Mon, 1 Jan 2024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a three-digit day', '{" d":"Mon, 001 Jan 2024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a five-digit year', '{" d":"Mon, 01 Jan 02024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a two-digit year', '{" d":"Mon, 01 Jan 24 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a one-digit hour', '{" d":"Mon, 01 Jan 2024 0:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a three-digit minute', '{" d":"Mon, 01 Jan 2024 00:000:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a one-digit second', '{" d":"Mon, 01 Jan 2024 00:00:0 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, no weekday', '{" d":"01 Jan 2024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, an unknown weekday', '{" d":"Mun, 01 Jan 2024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a time zone other than GMT', '{" d":"Mon, 01 Jan 2024 00:00:00 UTC"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, letters for digits', '{" d":"Mon, 0a Jan 2024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['bytes, one padding character too many', '{" b":"YWI=="}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, URL-safe alphabet', '{" b":"-_8="}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, a character outside base64', '{" b":"YWJ*"}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, text before it', '{" b":"!YWJj"}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, text after it', '{" b":"YWJj!"}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, padding inside', '{" b":"YQ==YWJj"}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, three characters', '{" b":"YWJ"}', 'payload has a malformed " b" tag: not padded base64'],
    ['uuid, dashed with text before it', '{" u":"x1b4e28ba-2fa1-11d2-883f-0016d3cca427"}', 'payload has a malformed " u" tag: not a UUID'],
    ['uuid, dashed with text after it', '{" u":"1b4e28ba-2fa1-11d2-883f-0016d3cca427x"}', 'payload has a malformed " u" tag: not a UUID'],
    ['uuid, dashes in the wrong places', '{" u":"1b4e28ba2-fa1-11d2-883f-0016d3cca427"}', 'payload has a malformed " u" tag: not a UUID'],
    ['uuid, a group one digit short', '{" u":"1b4e28ba-2fa1-11d2-883f-0016d3cca42"}', 'payload has a malformed " u" tag: not a UUID'],
    ['uuid, a non-hex digit', '{" u":"1b4e28ba-2fa1-11d2-883f-0016d3cca42g"}', 'payload has a malformed " u" tag: not a UUID'],
    ['uuid, 31 hex digits', '{" u":"1b4e28ba2fa111d2883f0016d3cca42"}', 'payload has a malformed " u" tag: not a UUID'],
    ['di, an array', '{" di":[1]}', 'payload has a malformed " di" tag: not an object'],
    ['di, an empty object', '{" di":{}}', 'payload has a malformed " di" tag: not one key ending in "__"'],
    ['di, a key of one underscore', '{" di":{"a_":1}}', 'payload has a malformed " di" tag: not one key ending in "__"'],
    ['date, a three-digit hour', '{" d":"Mon, 01 Jan 2024 000:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a one-digit minute', '{" d":"Mon, 01 Jan 2024 00:0:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a three-digit second', '{" d":"Mon, 01 Jan 2024 00:00:000 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a three-digit year', '{" d":"Mon, 01 Jan 024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, no space before GMT', '{" d":"Mon, 01 Jan 2024 00:00:00GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, no comma after the weekday', '{" d":"Mon 01 Jan 2024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, a month in lower case', '{" d":"Mon, 01 jan 2024 00:00:00 GMT"}', 'payload has a malformed " d" (datetime) tag'],
    ['date, inside a list', '{" d":["Mon, 01 Jan 2024 00:00:00 GMT"]}', 'payload has a malformed " d" (datetime) tag'],
    ['date, null', '{" d":null}', 'payload has a malformed " d" (datetime) tag'],
    ['bytes, five characters and ==', '{" b":"YWJjZ=="}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, five characters and =', '{" b":"YWJjZ="}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, two characters and =', '{" b":"YW="}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, three characters and ==', '{" b":"YWJ=="}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, inside a list', '{" b":["YWJj"]}', 'payload has a malformed " b" tag: not padded base64'],
    ['bytes, null', '{" b":null}', 'payload has a malformed " b" tag: not padded base64'],
    ['uuid, dashed, inside a list', '{" u":["1b4e28ba-2fa1-11d2-883f-0016d3cca427"]}', 'payload has a malformed " u" tag: not a UUID'],
    ['uuid, hex, inside a list', '{" u":["1b4e28ba2fa111d2883f0016d3cca427"]}', 'payload has a malformed " u" tag: not a UUID'],
  ])('rejects a malformed tag: %s', (_name, json, message) => {
    expect(() => decodeFlaskJson(json)).toThrow(PayloadMalformed)
    expect(() => decodeFlaskJson(json)).toThrow(new PayloadMalformed(message))
  })

  it.each([
    ['the first second of year 100', new Date('0100-01-01T00:00:00Z'), 'Fri, 01 Jan 0100 00:00:00 GMT'],
    ['the last second of year 9999', new Date('9999-12-31T23:59:59.999Z'), 'Fri, 31 Dec 9999 23:59:59 GMT'],
  ])('writes and reads %s, the ends of the range Flask reads back', (_name, date, text) => {
    expect(encodeFlaskJson({ d: date })).toBe(`{"d":{" d":"${text}"}}`)
    expect(decodeFlaskJson(`{"d":{" d":"${text}"}}`)).toEqual({ d: new Date(Math.floor(date.getTime() / 1000) * 1000) })
  })

  it.each([
    ['29 Feb of a leap year', 'Thu, 29 Feb 2024 00:00:00 GMT', '2024-02-29T00:00:00Z'],
    ['29 Feb 2000, a century divisible by 400', 'Tue, 29 Feb 2000 00:00:00 GMT', '2000-02-29T00:00:00Z'],
    ['31 Jan', 'Wed, 31 Jan 2024 00:00:00 GMT', '2024-01-31T00:00:00Z'],
    ['30 Apr', 'Tue, 30 Apr 2024 00:00:00 GMT', '2024-04-30T00:00:00Z'],
    ['31 Dec', 'Tue, 31 Dec 2024 00:00:00 GMT', '2024-12-31T00:00:00Z'],
    ['the first day of a month', 'Fri, 01 Mar 2024 00:00:00 GMT', '2024-03-01T00:00:00Z'],
    ['hour 23, minute 59, second 59', 'Mon, 01 Jan 2024 23:59:59 GMT', '2024-01-01T23:59:59Z'],
  ])('reads the last (or first) valid day and time: %s', (_name, text, iso) => {
    expect(decodeFlaskJson(`{"d":{" d":"${text}"}}`)).toEqual({ d: new Date(iso) })
  })

  it.each([
    ['29 Feb of a common year', 'Wed, 29 Feb 2023 00:00:00 GMT'],
    ['29 Feb 1900, a century not divisible by 400', 'Thu, 29 Feb 1900 00:00:00 GMT'],
    ['31 Apr', 'Wed, 31 Apr 2024 00:00:00 GMT'],
    ['32 Jan', 'Thu, 32 Jan 2024 00:00:00 GMT'],
    ['hour 99', 'Mon, 01 Jan 2024 99:00:00 GMT'],
    ['minute 99', 'Mon, 01 Jan 2024 00:99:00 GMT'],
    ['second 99', 'Mon, 01 Jan 2024 00:00:99 GMT'],
  ])('refuses a day past its month or a time past 23:59:59 as datetime() does: %s', (_name, text) => {
    expect(() => decodeFlaskJson(`{"d":{" d":"${text}"}}`)).toThrow(new PayloadMalformed('payload has an impossible " d" (datetime) tag'))
  })

  it.each([
    ['the last second of year 99', new Date('0099-12-31T23:59:59Z')],
    ['the first second of year 10000', new Date('+010000-01-01T00:00:00Z')],
  ])('refuses to write %s, naming where it is and why', (_name, date) => {
    expect(() => encodeFlaskJson({ d: date }, 'session')).toThrow(/^value at session\.d is invalid: a Date must be valid and within the years 100 to 9999 to survive a trip through Flask/)
  })

  it.each([
    ['a Map', new Map()],
    ['a Set', new Set()],
    ['a symbol', Symbol('x')],
    ['a function', () => 1],
    ['a class instance', new (class User {})()],
    ['an ArrayBuffer', new ArrayBuffer(1)],
    ['an Invalid Date', new Date(Number.NaN)],
    ['a Date after 9999', new Date('+010000-01-01T00:00:00Z')],
    ['a Date before 100 (Flask would read 2050)', new Date('0050-01-01T00:00:00Z')],
    ['undefined in an array', [undefined]],
  ])('refuses to write %s', (_name, value) => {
    expect(() => encodeFlaskJson({ value })).toThrow(TypeError)
  })

  it('keeps "__proto__" as a plain key and never touches a prototype', () => {
    const value = decodeFlaskJson('{"__proto__":{"admin":true},"x":{" di":{"__proto____":1}}}') as Record<string, Record<string, unknown>>
    expect(Object.getPrototypeOf(value)).toBeNull()
    expect(Object.keys(value)).toEqual(['__proto__', 'x'])
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
    expect(Object.keys(value.x as object)).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(value.x)).toBeNull()
  })
})

describe('Markup, UUID, tuple', () => {
  it('UUID accepts the dashed and hex forms and prints like Python', () => {
    const id = new UUID('1b4e28ba2fa111d2883f0016d3cca427')
    expect(String(id)).toBe('1b4e28ba-2fa1-11d2-883f-0016d3cca427')
    expect(JSON.stringify({ id })).toBe('{"id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427"}')
    expect(id.equals(new UUID('1B4E28BA-2FA1-11D2-883F-0016D3CCA427'))).toBe(true)
    expect(() => new UUID('1b4e28ba-2fa1-11d2-883f')).toThrow(TypeError)
    for (const text of ['x1b4e28ba2fa111d2883f0016d3cca427', '1b4e28ba2fa111d2883f0016d3cca427x', '1b4e28ba-2fa1-11d2-883f-0016d3cca427x', 'x1b4e28ba-2fa1-11d2-883f-0016d3cca427', '1b4e28ba2fa111d2883f0016d3cca42g']) {
      expect(() => new UUID(text), text).toThrow(new TypeError('value is invalid: give a UUID as 32 hex digits or in the 8-4-4-4-12 form'))
    }
    expect(() => new UUID(5 as unknown as string)).toThrow(TypeError)
    for (const value of [['1b4e28ba-2fa1-11d2-883f-0016d3cca427'], ['1b4e28ba2fa111d2883f0016d3cca427'], null]) {
      expect(() => new UUID(value as unknown as string)).toThrow(new TypeError('value is invalid: give a UUID as 32 hex digits or in the 8-4-4-4-12 form'))
    }
  })

  it('Markup wraps HTML without escaping it', () => {
    expect(`${new Markup('<i>x</i>')}`).toBe('<i>x</i>')
    expect(JSON.stringify({ m: new Markup('<i>x</i>') })).toBe('{"m":"<i>x</i>"}')
    expect(() => new Markup(1 as unknown as string)).toThrow(new TypeError('html is invalid: give the HTML as a string'))
  })

  it('UUID equals only a UUID of the same value', () => {
    const id = new UUID('1b4e28ba2fa111d2883f0016d3cca427')
    expect(id.equals(new UUID('1b4e28ba-2fa1-11d2-883f-0016d3cca427'))).toBe(true)
    expect(id.equals(new UUID('1b4e28ba2fa111d2883f0016d3cca428'))).toBe(false)
    expect(id.equals({ hex: '1b4e28ba2fa111d2883f0016d3cca427' })).toBe(false)
    expect(id.equals('1b4e28ba2fa111d2883f0016d3cca427')).toBe(false)
    expect(new UUID('1B4E28BA2FA111D2883F0016D3CCA427').hex).toBe('1b4e28ba2fa111d2883f0016d3cca427')
  })

  it('tuple() makes ordinary arrays that remember they are tuples', () => {
    const t = tuple('a', 1)
    expect(Array.isArray(t) && isTuple(t)).toBe(true)
    expect(t).toEqual(['a', 1])
    expect(isTuple([...t])).toBe(false)
    expect(isTuple('ab')).toBe(false)
  })
})

describe('createFlaskCodec', () => {
  const codec = createFlaskCodec({ secrets: SECRET })

  it('defaults to Flask: 31 days, salt cookie-session, HMAC-SHA1 with hmac derivation', () => {
    expect(FLASK_DEFAULT_LIFETIME).toBe(2_678_400)
    const cookie = codec.sign({ a: 1 }, { now: NOW })
    expect(cookie).toBe(rawSigner().sign(b64('{"a":1}'), { now: NOW }))
    expect(codec.verify(cookie, { now: NOW + FLASK_DEFAULT_LIFETIME * 1000 })).toMatchObject({
      ok: true,
      expiresAt: new Date(NOW + FLASK_DEFAULT_LIFETIME * 1000),
    })
    expectError(codec.verify(cookie, { now: NOW + (FLASK_DEFAULT_LIFETIME + 1) * 1000 }), SessionExpired)
    expectError(codec.verify(cookie, { now: NOW + 61_000, maxAge: 60 }), SessionExpired)
    expectError(codec.verify(cookie, { now: NOW - 1000 }), NotYetValid)
  })

  it('accepts short and bytes secrets (Flask keys are what they are) but not empty ones', () => {
    expect(createFlaskCodec({ secrets: 'k' }).sign({})).toMatch(/^e30\./)
    expect(createFlaskCodec({ secrets: new Uint8Array([1]) }).sign({})).toMatch(/^e30\./)
    expect(() => createFlaskCodec({ secrets: '' })).toThrow('option secrets is invalid')
    expect(() => createFlaskCodec({ secrets: [SECRET, ''] })).toThrow('option secrets[1] is invalid')
    expect(() => createFlaskCodec({ secrets: SECRET, lifetime: -1 })).toThrow('option lifetime is invalid')
    expect(() => createFlaskCodec(undefined as never)).toThrow(TypeError)
  })

  it('only takes a plain object as the session', () => {
    expect(() => codec.sign([] as never)).toThrow(TypeError)
    expect(() => codec.sign(new Map() as never)).toThrow(TypeError)
    expect(codec.sign(Object.create(null) as Record<string, unknown>, { now: NOW })).toBe(codec.sign({}, { now: NOW }))
  })

  it('compresses from compress.threshold bytes of JSON on (default 1024), when it helps', () => {
    expect(FLASK_DEFAULT_COMPRESS_THRESHOLD).toBe(1024)
    const small = { flag_0: true, flag_1: false, flag_2: true, flag_3: false }
    expect(encodeFlaskJson(small).length).toBeLessThan(64)
    expect(codec.sign(small).startsWith('.')).toBe(false)
    expect(createFlaskCodec({ secrets: SECRET, compress: { threshold: 0 } }).sign(small).startsWith('.')).toBe(true)
    // 10 flashes, 281 bytes: below the default, so written as is (Flask reads it at any size).
    const medium = { _flashes: Array.from({ length: 10 }, () => tuple('message', 'Saved.')) }
    expect(encodeFlaskJson(medium).length).toBeLessThan(1024)
    expect(codec.sign(medium).startsWith('.')).toBe(false)
    expect(createFlaskCodec({ secrets: SECRET, compress: { threshold: 64 } }).sign(medium).startsWith('.')).toBe(true)
    const large = { _flashes: Array.from({ length: 40 }, () => tuple('message', 'Saved.')) }
    expect(encodeFlaskJson(large).length).toBeGreaterThanOrEqual(1024)
    expect(codec.sign(large).startsWith('.')).toBe(true)
    expect(createFlaskCodec({ secrets: SECRET, compress: false }).sign(large).startsWith('.')).toBe(false)
  })

  it('caps decompression (zip bomb) and the cookie length', () => {
    const bomb = rawSigner().sign('.' + b64(deflateSync(Buffer.alloc(5_000_000, 0x20))), { now: NOW })
    expectError(codec.verify(bomb, { now: NOW }), DecompressionTooLarge)
    const short = createFlaskCodec({ secrets: SECRET, maxTokenLength: 100 })
    expect(short.verify('x'.repeat(101)).ok).toBe(false)
  })

  it('reports a fallback secret as stale, newest first, without a keyId', () => {
    const old = createFlaskCodec({ secrets: 'old' }).sign({ a: 1 }, { now: NOW })
    const rotated = createFlaskCodec({ secrets: ['new', 'old'] })
    const result = rotated.verify(old, { now: NOW })
    expect(result).toMatchObject({ ok: true, value: { a: 1 }, stale: true })
    expect('keyId' in result).toBe(false)
    expect(rotated.verify(rotated.sign({ a: 1 }, { now: NOW }), { now: NOW })).toMatchObject({ ok: true, stale: false })
  })

  it.each([
    ['not JSON', b64('not json')],
    ['not a dict', b64('[["a",1]]')],
    ['a bad tag', b64('{"u":{" u":"zz"}}')],
    ['bad zlib', '.' + b64('zzzz')],
    ['invalid UTF-8', b64(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))],
    ['base64 with junk', 'e30!'],
  ])('turns a signed payload that is %s into PayloadMalformed', (_name, payload) => {
    expectError(codec.verify(rawSigner().sign(payload, { now: NOW }), { now: NOW }), PayloadMalformed)
  })

  const flaskValue = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.string({ unit: 'binary' }),
      fc.double(),
      fc.bigInt(),
      fc.uint8Array({ maxLength: 8 }),
      fc.string().map((s) => new Markup(s)),
      fc.uuid().map((u) => new UUID(u)),
      fc.date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.array(tie('value'), { maxLength: 4 }).map((items) => tuple(...items)),
      tie('dict'),
    ),
    dict: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(' t', ' di', ' b', ' m', ' u', ' d', '__proto__')), tie('value'), { maxKeys: 4 }),
  }))

  it('round-trips Flask values with their types (property)', () => {
    fc.assert(
      fc.property(flaskValue.dict, (data) => {
        const session = data as Record<string, unknown>
        const result = codec.verify(codec.sign(session, { now: NOW }), { now: NOW })
        expect(result.ok).toBe(true)
        if (result.ok) expect(specOf(result.value)).toEqual(specOf(session))
      }),
    )
  })

  it('never throws on arbitrary cookies or signed payloads (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 48 }), fc.boolean(), (cookie, bytes, zip) => {
        expect(codec.verify(cookie).ok).toBe(false)
        const signed = rawSigner().sign((zip ? '.' : '') + b64(bytes), { now: NOW })
        codec.verify(signed, { now: NOW })
      }),
    )
  })
})

describe('createFlaskCodec, 1.0 options and results', () => {
  it('uses the clock option when a call gives no now, and a per-call now over it', () => {
    let clock = NOW
    const codec = createFlaskCodec({ secrets: SECRET, lifetime: 60, clock: () => clock })
    const cookie = codec.sign({ a: 1 })
    expect(cookie).toBe(createFlaskCodec({ secrets: SECRET }).sign({ a: 1 }, { now: NOW }))
    expect(codec.verify(cookie)).toEqual({ ok: true, value: { a: 1 }, issuedAt: new Date(NOW), expiresAt: new Date(NOW + 60_000), stale: false })
    clock = NOW + 61_000
    expectError(codec.verify(cookie), SessionExpired)
    expect(codec.verify(cookie, { now: NOW + 60_000 }).ok).toBe(true)
    clock = NOW - 1000
    expectError(codec.verify(cookie), NotYetValid)
    expect(() => createFlaskCodec({ secrets: SECRET, clock: 'now' as never })).toThrow('option clock is invalid')
  })

  it('results carry issuedAt and expiresAt (the age limit), never a keyId', () => {
    const codec = createFlaskCodec({ secrets: SECRET })
    const result = codec.verify(codec.sign({ a: 1 }, { now: NOW }), { now: NOW })
    expect(Object.keys(result).sort()).toEqual(['expiresAt', 'issuedAt', 'ok', 'stale', 'value'])
    expect(result).toMatchObject({ issuedAt: new Date(NOW), expiresAt: new Date(NOW + FLASK_DEFAULT_LIFETIME * 1000) })
  })

  it('unsign returns the data or throws the SessionError', () => {
    const codec = createFlaskCodec({ secrets: SECRET })
    expect(codec.unsign(codec.sign({ a: 1 }, { now: NOW }), { now: NOW })).toEqual({ a: 1 })
    expect(() => codec.unsign(codec.sign({ a: 1 }, { now: NOW }), { now: NOW - 1000 })).toThrow(NotYetValid)
    expect(() => createFlaskCodec({ secrets: 'other' }).unsign(codec.sign({}))).toThrow(SignatureInvalid)
  })

  it.each([
    ['compressThreshold (0.1)', { compressThreshold: 0 }, /^option compressThreshold is unknown: use `compress: \{ threshold \}`/],
    ['max_age (Python)', { max_age: 60 }, /^option max_age is unknown: did you mean `lifetime`\?/],
    ['maxAge (the per-call name)', { maxAge: 60 }, /^option maxAge is unknown: use `lifetime`/],
    ['secret (singular)', { secret: 'x' }, /^option secret is unknown: did you mean `secrets`\?/],
    ['now (a clock is `clock`)', { now: () => NOW }, /^option now is unknown: give the clock as `clock/],
    ['digest (Flask sessions are always HMAC-SHA1)', { digest: 'sha256' }, /^option digest is unknown/],
    ['timestamped', { timestamped: false }, /^option timestamped is unknown/],
  ])('refuses an unknown option: %s', (_name, extra, message) => {
    expect(() => createFlaskCodec({ secrets: SECRET, ...extra } as never)).toThrow(TypeError)
    expect(() => createFlaskCodec({ secrets: SECRET, ...extra } as never)).toThrow(message)
  })

  it('refuses unknown keys in sign and verify options (0.1\'s per-call path is gone)', () => {
    const codec = createFlaskCodec({ secrets: SECRET })
    const cookie = codec.sign({ a: 1 }, { now: NOW })
    expect(() => codec.sign({ a: 1 }, { now: NOW, path: 'session' } as never)).toThrow(/^option path is unknown/)
    expect(() => codec.sign({ a: 1 }, { permanent: true } as never)).toThrow(/^option permanent is unknown/)
    expect(() => codec.verify(cookie, { max_age: 60 } as never)).toThrow(/^option max_age is unknown: did you mean `maxAge`\?/)
    expect(() => codec.unsign(cookie, { clockTolerance: 5 } as never)).toThrow(/^option clockTolerance is unknown/)
  })

  const compressible = { note: 'x'.repeat(200) } // 211 bytes of JSON, very compressible
  const isCompressed = (options: object) => createFlaskCodec({ secrets: SECRET, ...options }).sign(compressible, { now: NOW }).startsWith('.')

  it('compress: true means the Flask default threshold (1024 bytes), as omitting it does', () => {
    expect(isCompressed({})).toBe(false)
    expect(isCompressed({ compress: true })).toBe(false)
  })

  it('compress: { threshold } sets the threshold, false never compresses', () => {
    expect(encodeFlaskJson(compressible)).toHaveLength(211)
    expect(isCompressed({ compress: { threshold: 211 } })).toBe(true)
    expect(isCompressed({ compress: { threshold: 212 } })).toBe(false)
    expect(isCompressed({ compress: { threshold: 0 } })).toBe(true)
    expect(isCompressed({ compress: false })).toBe(false)
    expect(() => createFlaskCodec({ secrets: SECRET, compress: 1024 as never })).toThrow('option compress is invalid')
    expect(() => createFlaskCodec({ secrets: SECRET, compress: { threshold: 0, min: 1 } as never })).toThrow(/^option compress\.min is unknown/)
  })

  it('takes maxAge in seconds, at most 400 days: milliseconds are refused, in the factory and per call', () => {
    expect(() => createFlaskCodec({ secrets: SECRET, lifetime: 86_400_000 })).toThrow(TypeError)
    expect(() => createFlaskCodec({ secrets: SECRET, lifetime: 86_400_000 })).toThrow('seconds, not milliseconds')
    expect(() => createFlaskCodec({ secrets: SECRET, lifetime: Infinity })).toThrow('option lifetime is invalid')
    const codec = createFlaskCodec({ secrets: SECRET, lifetime: 34_560_000 })
    const cookie = codec.sign({}, { now: NOW })
    expect(codec.verify(cookie, { now: NOW })).toMatchObject({ ok: true, expiresAt: new Date(NOW + 34_560_000_000) })
    expect(() => codec.verify(cookie, { now: NOW, maxAge: 86_400_000 })).toThrow('seconds, not milliseconds')
    expect(() => codec.verify(cookie, { now: NOW, maxAge: Infinity })).toThrow('option maxAge is invalid')
  })
})

// ---------------------------------------------------------------------------------------------
// Against real Flask 2.2.

interface Made {
  cookie: string | null
}
interface Opened {
  session: Spec | null
  permanent: boolean
  open_error: string | null
  loads_error: string | null
}

interface Case {
  name: string
  session: Spec
  permanent?: boolean
  flash?: Array<[string, string]>
  /** Made with the signing serializer (Flask does not write a cookie for an empty session). */
  dumps?: boolean
  /** When the JavaScript mapping is lossy: what Flask reads after Frasco writes the decoded value back. */
  back?: Spec
  check?: (decoded: Record<string, unknown>) => void
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex')

const CASES: Case[] = [
  { name: 'plain values', session: py.dict({ username: py.str('ada'), visits: py.int(3), admin: py.bool(false), ratio: py.float('0.5'), nothing: py.none, neg: py.int(-12) }) },
  {
    name: 'unicode and escapes',
    session: py.dict({ text: py.str('h\u00e9llo \u2603 \ud83d\ude00 \u2028\u2029 \u0000\u001f\u007f\u0080 "q" \\ / \t\n\r\b\f \ufeff'), '\u00e9t\u00e9': py.str('\u65e5\u672c\u8a9e') }),
  },
  { name: 'keys in code point order', session: py.dict([['\uffff', py.int(1)], ['\ud83d\ude00', py.int(2)], ['a', py.int(3)], ['B', py.int(4)], ['', py.int(5)], ['\ud800', py.int(6)]]) },
  { name: 'lone surrogates survive (escaped JSON)', session: py.dict({ s: py.str('\ud800x\udfff') }) },
  {
    name: 'nesting',
    session: py.dict({ a: py.list(py.dict({ b: py.list(py.int(1), py.dict({ c: py.list() })) }), py.list(py.list(py.none))), z: py.dict({ y: py.dict({ x: py.str('deep') }) }) }),
  },
  {
    name: 'every tag',
    session: py.dict({
      tuple: py.tuple(py.int(1), py.str('two'), py.tuple(), py.tuple(py.tuple(py.bool(true)))),
      bytes: py.bytes(allBytes),
      empty_bytes: py.bytes(''),
      markup: py.markup('<b>bold</b> &amp; <script>'),
      uuid: py.uuid('1b4e28ba2fa111d2883f0016d3cca427'),
      when: py.datetime('2024-02-29T12:34:56+00:00'),
    }),
    check: (d) => {
      expect(isTuple(d.tuple)).toBe(true)
      expect(d.bytes).toBeInstanceOf(Uint8Array)
      expect(d.markup).toEqual(new Markup('<b>bold</b> &amp; <script>'))
      expect(d.uuid).toBeInstanceOf(UUID)
      expect(d.when).toEqual(new Date('2024-02-29T12:34:56Z'))
    },
  },
  {
    name: 'datetimes Flask itself changes (naive, offset, microseconds, year < 100)',
    session: py.dict({
      naive: py.datetime('2024-05-06T07:08:09.123456'),
      offset: py.datetime('2024-05-06T07:08:09+02:00'),
      old: py.datetime('0999-12-31T23:59:59+00:00'),
      y50: py.datetime('0050-01-01T00:00:00+00:00'),
    }),
    check: (d) => {
      expect(d.naive).toEqual(new Date('2024-05-06T07:08:09Z'))
      expect(d.offset).toEqual(new Date('2024-05-06T05:08:09Z'))
      expect((d.y50 as Date).getUTCFullYear()).toBe(2050)
    },
  },
  {
    name: 'one-key dicts named like tags (di)',
    session: py.dict({
      wrapped: py.dict({ ' t': py.str('not a tuple') }),
      deeper: py.dict({ ' di': py.dict({ ' b': py.str('not bytes') }) }),
      two_keys: py.dict({ ' t': py.int(1), x: py.int(2) }),
      lookalike: py.dict({ ' x': py.int(3) }),
      suffix: py.dict({ ' t__': py.int(4) }),
    }),
  },
  { name: 'a whole session that is one tag-like key', session: py.dict({ ' m': py.str('not markup') }) },
  {
    name: 'a large session (compressed)',
    session: py.dict({
      cart: py.list(...Array.from({ length: 60 }, (_, i) => py.dict({ sku: py.str(`A${1000 + i}`), qty: py.int((i % 3) + 1) }))),
      note: py.str('lorem ipsum '.repeat(100)),
    }),
  },
  { name: 'empty session', session: py.dict({}), dumps: true },
  { name: 'permanent session', session: py.dict({ user_id: py.int(42) }), permanent: true, check: (d) => expect(d._permanent).toBe(true) },
  {
    name: 'flashes as flask.flash stores them',
    session: py.dict({ username: py.str('ada') }),
    flash: [
      ['message', 'Welcome back'],
      ['error', 'Wrong password \u2013 try again'],
    ],
    check: (d) => {
      const flashes = d._flashes as unknown[]
      expect(flashes).toEqual([
        ['message', 'Welcome back'],
        ['error', 'Wrong password \u2013 try again'],
      ])
      expect(flashes.every(isTuple)).toBe(true)
    },
  },
  {
    name: 'numbers beyond JSON',
    session: py.dict({
      big: py.int('123456789012345678901234567890'),
      negbig: py.int('-9007199254740993'),
      maxsafe: py.int('9007199254740991'),
      nan: py.float('nan'),
      inf: py.float('inf'),
      ninf: py.float('-inf'),
      huge: py.float('1e+300'),
      tiny: py.float('5e-324'),
      third: py.float('0.3333333333333333'),
    }),
    check: (d) => {
      expect(d.big).toBe(123456789012345678901234567890n)
      expect(d.negbig).toBe(-9007199254740993n)
      expect(d.maxsafe).toBe(Number.MAX_SAFE_INTEGER)
      expect(d.nan).toBeNaN()
    },
  },
  {
    name: 'floats with integral values (lossy: they come back as int)',
    session: py.dict({ one: py.float('1.0'), negzero: py.float('-0.0'), e16: py.float('1e+16') }),
    back: py.dict({ one: py.int(1), negzero: py.int(0), e16: py.float('1e+16') }),
    check: (d) => expect(d).toEqual({ one: 1, negzero: -0, e16: 1e16 }),
  },
  {
    name: 'keys that are Object.prototype names',
    session: py.dict([
      ['__proto__', py.dict({ polluted: py.bool(true) })],
      ['constructor', py.str('c')],
      ['toString', py.int(1)],
      ['hasOwnProperty', py.int(2)],
    ]),
    check: (d) => {
      expect(Object.getPrototypeOf(d)).toBeNull()
      expect(Object.keys(d)).toContain('__proto__')
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    },
  },
]

interface JsCase {
  name: string
  /** A function when building the data can throw (a constructor): it then fails the test, not the file's collection. */
  data: Record<string, unknown> | (() => Record<string, unknown>)
  expected: Spec
  permanent?: boolean
}

const JS_CASES: JsCase[] = [
  { name: 'a tuple() for flashes', data: { _flashes: [tuple('message', 'Hi'), tuple('error', 'Oops')] }, expected: py.dict({ _flashes: py.list(py.tuple(py.str('message'), py.str('Hi')), py.tuple(py.str('error'), py.str('Oops'))) }) },
  { name: 'plain arrays are lists', data: { l: [1, [2]] }, expected: py.dict({ l: py.list(py.int(1), py.list(py.int(2))) }) },
  {
    name: 'tag classes',
    data: () => ({
      m: new Markup('<em>hi</em>'),
      u: new UUID('6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
      b: new Uint8Array([0, 1, 255]),
      buf: Buffer.from('hello'),
      d: new Date('2024-01-02T03:04:05.678Z'),
    }),
    expected: py.dict({
      m: py.markup('<em>hi</em>'),
      u: py.uuid('6ba7b8109dad11d180b400c04fd430c8'),
      b: py.bytes('0001ff'),
      buf: py.bytes('68656c6c6f'),
      d: py.datetime('2024-01-02T03:04:05+00:00'),
    }),
  },
  {
    name: 'numbers',
    data: { i: 1, negzero: -0, f: 1.5, unsafe: 2 ** 53, e21: 1e21, small: 1.5e-7, nan: Number.NaN, inf: Infinity, big: 12345678901234567890n, smallbig: 5n },
    expected: py.dict({
      i: py.int(1),
      negzero: py.int(0),
      f: py.float('1.5'),
      unsafe: py.float('9007199254740992.0'),
      e21: py.float('1e+21'),
      small: py.float('1.5e-07'),
      nan: py.float('nan'),
      inf: py.float('inf'),
      big: py.int('12345678901234567890'),
      smallbig: py.int(5),
    }),
  },
  { name: 'strings', data: { s: 'é😀\ud800\u0000"\\' }, expected: py.dict({ s: py.str('é😀\ud800\u0000"\\') }) },
  { name: 'tag-like one-key objects', data: { x: { ' t': 'no' }, ' d': 'top' }, expected: py.dict({ x: py.dict({ ' t': py.str('no') }), ' d': py.str('top') }) },
  { name: 'a whole session that is one tag-like key', data: { ' b': 'x' }, expected: py.dict({ ' b': py.str('x') }) },
  {
    name: 'null-prototype objects, an own "__proto__" key, undefined left out',
    data: JSON.parse('{"__proto__": {"a": 1}, "n": {}}') as Record<string, unknown>,
    expected: py.dict([
      ['__proto__', py.dict({ a: py.int(1) })],
      ['n', py.dict({})],
    ]),
  },
  { name: 'undefined values are left out', data: { a: undefined, b: { c: undefined } }, expected: py.dict({ b: py.dict({}) }) },
  { name: '_permanent makes it permanent', data: { _permanent: true, user: 'ada' }, expected: py.dict({ _permanent: py.bool(true), user: py.str('ada') }), permanent: true },
  {
    name: 'large, compressed by Node zlib',
    data: { items: Array.from({ length: 200 }, (_, i) => tuple(i, `item ${i}`)) },
    expected: py.dict({ items: py.list(...Array.from({ length: 200 }, (_, i) => py.tuple(py.int(i), py.str(`item ${i}`)))) }),
  },
  { name: 'empty', data: {}, expected: py.dict({}) },
]

describeFlask('interoperability with Flask 2.2 sessions (real Flask)', () => {
  let oracle: Oracle
  const codec = createFlaskCodec({ secrets: SECRET })
  const exact = createFlaskCodec({ secrets: SECRET, compress: false })
  const made: string[] = []
  const flaskViews: Opened[] = []
  const decoded: Array<Result & { keyId?: string }> = []
  const reopened: Opened[] = []
  const jsCookies: string[] = []
  const jsOpened: Opened[] = []

  const open = (cookie: string, extra: Record<string, unknown> = {}) => ({ op: 'flask_open' as const, secret_key: SECRET, cookie, now: NOW_S, ...extra })

  beforeAll(async () => {
    oracle = startOracle()
    // 1. Flask writes a cookie for every case.
    const cookies = await oracle.run<Made>(
      CASES.map((c) =>
        c.dumps === true
          ? { op: 'flask_dumps', secret_key: SECRET, session: c.session, now: NOW_S }
          : { op: 'flask_save', secret_key: SECRET, session: c.session, now: NOW_S, permanent: c.permanent === true, flash: c.flash ?? [] },
      ),
    )
    made.push(...cookies.map((m) => m.cookie as string))
    // 2. Frasco reads each one and writes it back; Flask reads both its own and Frasco's.
    for (const cookie of made) decoded.push(codec.verify(cookie, { now: NOW }))
    const rewritten = decoded.map((r) => (r.ok ? codec.sign(r.value, { now: NOW }) : ''))
    jsCookies.push(...JS_CASES.map((c) => codec.sign(typeof c.data === 'function' ? c.data() : c.data, { now: NOW })))
    const views = await oracle.run<Opened>([...made.map((c) => open(c)), ...rewritten.map((c) => open(c)), ...jsCookies.map((c) => open(c))])
    flaskViews.push(...views.slice(0, made.length))
    reopened.push(...views.slice(made.length, 2 * made.length))
    jsOpened.push(...views.slice(2 * made.length))
  })
  afterAll(() => oracle.close())

  describe('cookies Flask wrote, read by Frasco and written back unchanged', () => {
    it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
      const view = flaskViews[i] as Opened
      expect(view.loads_error).toBeNull()
      const result = decoded[i] as Result
      expect(result.ok).toBe(true)
      if (!result.ok) return
      // Frasco reads what Flask reads (types included), up to the documented int/float merge.
      if (c.back === undefined) expect(specOf(result.value)).toEqual(normalizeSpec(view.session as Spec))
      c.check?.(result.value)
      // Written back, Flask reads the same Python values and types again.
      const again = reopened[i] as Opened
      expect(again.loads_error).toBeNull()
      expect(normalizeSpec(again.session as Spec)).toEqual(normalizeSpec(c.back ?? (view.session as Spec)))
      expect(again.permanent).toBe(view.permanent)
      // Uncompressed, Frasco's cookie is byte-for-byte Flask's.
      const cookie = made[i] as string
      if (!cookie.startsWith('.') && c.back === undefined) expect(exact.sign(result.value, { now: NOW })).toBe(cookie)
    })

    it('the permanent and large cases are what they claim', () => {
      const permanent = CASES.findIndex((c) => c.permanent === true)
      expect(flaskViews[permanent]?.permanent).toBe(true)
      const large = CASES.findIndex((c) => c.name.includes('compressed'))
      expect(made[large]?.startsWith('.')).toBe(true)
    })
  })

  describe('cookies Frasco wrote, opened by Flask', () => {
    it.each(JS_CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
      const view = jsOpened[i] as Opened
      expect(view.loads_error).toBeNull()
      expect(view.open_error).toBeNull()
      expect(normalizeSpec(view.session as Spec)).toEqual(normalizeSpec(c.expected))
      expect(view.permanent).toBe(c.permanent === true)
      if (c.name.includes('compressed')) expect(jsCookies[i]?.startsWith('.')).toBe(true)
    })
  })

  describe('rejections', () => {
    let base = ''
    beforeAll(async () => {
      const [m] = await oracle.run<Made>([{ op: 'flask_save', secret_key: SECRET, session: py.dict({ username: py.str('ada'), n: py.int(1) }), now: NOW_S }])
      base = m?.cookie as string
    })

    it('a wrong key', () => {
      expectError(createFlaskCodec({ secrets: 'not-the-key' }).verify(base, { now: NOW }), SignatureInvalid)
    })

    it('every single character changed: Frasco rejects all; Flask accepts only base64 aliases of its signature', async () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const variants: string[] = []
      for (let i = 0; i < base.length; i++) {
        const c = base[i] as string
        const at = alphabet.indexOf(c)
        // Another character, and the neighbour differing in the lowest bit (probes unused bits).
        for (const replacement of new Set([c === 'A' ? 'B' : 'A', at < 0 ? '.' : (alphabet[at ^ 1] as string)])) {
          if (replacement !== c) variants.push(base.slice(0, i) + replacement + base.slice(i + 1))
        }
      }
      for (const variant of variants) expect(codec.verify(variant, { now: NOW }).ok, variant).toBe(false)
      const views = await oracle.run<Opened>(variants.map((v) => open(v)))
      const acceptedByFlask = variants.filter((_, i) => views[i]?.loads_error === null)
      const sig = base.slice(base.lastIndexOf('.') + 1)
      // The last of 27 characters carries 2 unused bits: Flask's lenient base64 accepts an alias.
      expect(acceptedByFlask).toHaveLength(1)
      for (const variant of acceptedByFlask) {
        const theirs = variant.slice(variant.lastIndexOf('.') + 1)
        expect(variant.slice(0, variant.lastIndexOf('.'))).toBe(base.slice(0, base.lastIndexOf('.')))
        expect(Buffer.from(theirs, 'base64url')).toEqual(Buffer.from(sig, 'base64url'))
      }
    })

    it('truncated cookies', async () => {
      const cuts = [0, 1, 10, base.indexOf('.'), base.indexOf('.') + 1, base.lastIndexOf('.'), base.lastIndexOf('.') + 1, base.length - 1]
      const truncated = cuts.map((n) => base.slice(0, n))
      for (const t of truncated) expect(codec.verify(t, { now: NOW }).ok).toBe(false)
      const views = await oracle.run<Opened>(truncated.filter((t) => t !== '').map((t) => open(t)))
      expect(views.every((v) => v.loads_error !== null)).toBe(true)
    })

    it('expiry at the same second as Flask, with an injected clock', async () => {
      const lifetime = 3600
      const times = [NOW_S + lifetime, NOW_S + lifetime + 1, NOW_S - 1]
      const views = await oracle.run<Opened>(times.map((now) => open(base, { now, lifetime })))
      expect(views.map((v) => v.loads_error)).toEqual([null, 'SignatureExpired', 'SignatureExpired'])
      const short = createFlaskCodec({ secrets: SECRET, lifetime })
      expect(short.verify(base, { now: (NOW_S + lifetime) * 1000 + 999 }).ok).toBe(true)
      expectError(short.verify(base, { now: (NOW_S + lifetime + 1) * 1000 }), SessionExpired)
      expectError(short.verify(base, { now: (NOW_S - 1) * 1000 }), NotYetValid)
    })

    it('another salt', async () => {
      expectError(createFlaskCodec({ secrets: SECRET, salt: 'other' }).verify(base, { now: NOW }), SignatureInvalid)
      const ours = createFlaskCodec({ secrets: SECRET, salt: 'other' }).sign({ a: 1 }, { now: NOW })
      const [withSalt, withoutSalt] = await oracle.run<Opened>([open(ours, { salt: 'other' }), open(ours)])
      expect(withSalt?.session).toEqual(py.dict({ a: py.int(1) }))
      expect(withoutSalt?.loads_error).toBe('BadTimeSignature')
    })

    it('a bytes SECRET_KEY', async () => {
      const key = { hex: '00ff10e9' }
      const [m] = await oracle.run<Made>([{ op: 'flask_save', secret_key: key, session: py.dict({ a: py.int(1) }), now: NOW_S }])
      const bytesCodec = createFlaskCodec({ secrets: Buffer.from(key.hex, 'hex') })
      expect(bytesCodec.verify(m?.cookie as string, { now: NOW })).toMatchObject({ ok: true, value: { a: 1 } })
    })

    it('fallback keys: an older key verifies and reports stale; re-signing uses the newest', async () => {
      const [old] = await oracle.run<Made>([{ op: 'flask_save', secret_key: 'old-key', session: py.dict({ a: py.int(1) }), now: NOW_S }])
      const rotated = createFlaskCodec({ secrets: [SECRET, 'old-key'] })
      const result = rotated.verify(old?.cookie as string, { now: NOW })
      expect(result).toMatchObject({ ok: true, value: { a: 1 }, stale: true })
      expect('keyId' in result).toBe(false)
      if (!result.ok) return
      const [reopenedByNew] = await oracle.run<Opened>([open(rotated.sign(result.value, { now: NOW }))])
      expect(reopenedByNew?.session).toEqual(py.dict({ a: py.int(1) }))
    })

    // Signed with itsdangerous itself, so only the payload is wrong. `flask` is what Flask does.
    const SIGNED_BAD: Array<[name: string, flask: string, payload: string]> = [
      ['not JSON', 'BadPayload', b64('not json')],
      ['bad zlib', 'BadPayload', '.' + b64('garbage!')],
      ['invalid UTF-8', 'BadPayload', b64(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))],
      ['a JSON string, not a dict', 'ValueError', b64('"text"')],
      ['a bad uuid tag', 'BadPayload', b64('{"u":{" u":"zz"}}')],
      ['a tuple tag on a number', 'BadPayload', b64('{"t":{" t":5}}')],
      ['a list of pairs', 'accepts', b64('[["a",1]]')],
      ['a bad date tag', 'accepts', b64('{"d":{" d":"nope"}}')],
      ['bytes tag with junk', 'accepts', b64('{"b":{" b":"YW Jj"}}')],
      ['a di tag without the suffix', 'accepts', b64('{"x":{" di":{"ab":1}}}')],
      ['base64 with padding', 'accepts', 'e30='],
      ['base64 with junk characters', 'BadPayload', 'e3!0'],
      ['base64 with junk characters that still decodes', 'accepts', 'e3!0='],
    ]

    it.each(SIGNED_BAD)('a signed payload that is %s: PayloadMalformed (Flask: %s)', async (_name, flask, payload) => {
      const [signed] = await oracle.run<{ token: string }>([
        { op: 'its', kind: 'TimestampSigner', secret_key: SECRET, salt: 'cookie-session', key_derivation: 'hmac', digest: 'sha1', action: 'dumps', value: payload, now: NOW_S },
      ])
      const token = signed?.token as string
      expect(token).toBe(rawSigner().sign(payload, { now: NOW }))
      expectError(codec.verify(token, { now: NOW }), PayloadMalformed)
      const [view] = await oracle.run<Opened>([open(token)])
      expect(view?.open_error ?? (view?.loads_error === null ? 'accepts' : view?.loads_error)).toBe(flask)
    })
  })

  it('a live Flask app (test/flask/app.py): log in there, read the cookie here, and back', async () => {
    const script = fileURLToPath(new URL('../flask/app.py', import.meta.url))
    const child = spawn(python as string, [script, '--port', '0', '--secret-key', SECRET], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve)
        child.once('exit', (code) => reject(new Error(`app.py exited with ${code}`)))
      })
      const port = Number(/^LISTENING (\d+)$/.exec(line)?.[1])
      const base = `http://127.0.0.1:${port}`
      const login = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ username: 'ada' }), redirect: 'manual' })
      expect(login.status).toBe(302)
      const cookie = /^session=([^;]*)/.exec(login.headers.getSetCookie()[0] ?? '')?.[1] as string
      expect(codec.verify(cookie)).toMatchObject({ ok: true, value: { username: 'ada' } })
      const asGrace = await fetch(`${base}/`, { headers: { cookie: `session=${codec.sign({ username: 'grace' })}` } })
      expect(await asGrace.text()).toBe('Logged in as grace')
      const forged = createFlaskCodec({ secrets: 'wrong' }).sign({ username: 'mallory' })
      const rejected = await fetch(`${base}/`, { headers: { cookie: `session=${forged}` } })
      expect(await rejected.text()).toBe('You are not logged in')
    } finally {
      child.kill()
    }
  })
})

describe('the Flask session format: review fixes of 1.0', () => {
  const clock = () => Date.UTC(2030, 0, 1)
  const codec = createFlaskCodec({ secrets: SECRET, clock })
  const sessions = createSessions({ secrets: SECRET, format: createFlaskFormat(), clock })

  it('signs own keys only, whatever Object.prototype holds', () => {
    const proto = Object.prototype as Record<string, unknown>
    proto.isAdmin = true
    try {
      for (const persistent of [false, true]) {
        const value = codec.unsign(sessions.sign({ user: 'ada' }, { persistent }))
        expect(Object.keys(value)).toEqual(persistent ? ['_permanent', 'user'] : ['user'])
      }
    } finally {
      delete proto.isAdmin
    }
  })

  it('refuses a class instance whether or not the session is persistent', () => {
    class User {
      name = 'ada'
    }
    for (const persistent of [false, true]) expect(() => sessions.sign(new User() as never, { persistent })).toThrow(/User has no JSON form/)
  })

  it('refuses an expiry it cannot carry, and reports the one every read enforces', () => {
    expect(() => sessions.sign({ a: 1 }, { expiresIn: 60 })).toThrow(/^option expiresIn is invalid: this format carries no expiry/)
    const result = sessions.verify(sessions.sign({ a: 1 }))
    expect(result).toMatchObject({ ok: true, persistent: false })
    if (!result.ok) throw new Error('unreachable')
    expect(result.expiresAt!.getTime() - result.issuedAt!.getTime()).toBe(FLASK_DEFAULT_LIFETIME * 1000)
  })

  it('points a Flask option given to the format at createSessions', () => {
    expect(() => createFlaskFormat({ secrets: SECRET } as never)).toThrow(/^option secrets is unknown: give Flask's SECRET_KEY to createSessions/)
    expect(() => createFlaskCodec({} as never)).toThrow(/^option secrets is missing/)
  })
})
