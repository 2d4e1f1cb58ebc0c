/**
 * The options of the Flask codec and of the Flask session format, each shown to take effect (a
 * dropped option is a codec that quietly runs on its default): maxBytes, clockTolerance, salt and
 * the option hints of createFlaskCodec; the clock tolerance, age limit, persistence, flashes,
 * secrets and size limit of createFlaskFormat under createSessions. No Python here: the
 * byte-for-byte agreement with Flask is test/formats/flask.test.ts and test/flask/.
 */
import { deflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { CookieTooLarge, DecompressionTooLarge, NotYetValid, PayloadMalformed, PayloadTooLarge, SessionExpired, SignatureInvalid, type SessionError } from '../../src/errors.js'
import { FLASK_DEFAULT_LIFETIME, createFlaskCodec } from '../../src/flask/codec.js'
import { createFlaskFormat } from '../../src/flask/format.js'
import { createItsdangerousSigner } from '../../src/flask/itsdangerous.js'
import { isTuple, tuple } from '../../src/flask/json.js'
import { createSessions } from '../../src/sessions.js'

const NOW_S = 1_700_000_000
const NOW = NOW_S * 1000
const SECRET = 'flask-test-secret'

type Result = { ok: true; value: unknown } | { ok: false; error: SessionError }

function errorOf(result: Result): SessionError {
  if (result.ok) throw new Error('expected the cookie to be refused')
  return result.error
}

/** Signs any payload the way Flask's session serializer does, to make cookies of a given shape. */
function flaskSigned(payload: string, now = NOW, salt = 'cookie-session'): string {
  return createItsdangerousSigner({ secrets: SECRET, salt, keyDerivation: 'hmac', digest: 'sha1', timestamped: true }).sign(payload, { now })
}

const b64 = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url')

describe('createFlaskCodec: maxBytes', () => {
  // Built in each test: a mutant that makes the factory throw fails the tests, not the file's load.
  const small = () => createFlaskCodec({ secrets: SECRET, maxBytes: 64, compress: false })
  const json = (length: number): string => `{"a":"${'x'.repeat(length - 8)}"}` // `length` bytes of JSON

  it('refuses to write a session whose JSON exceeds it, naming the limit', () => {
    expect(small().sign({ a: 'x'.repeat(56) }, { now: NOW })).toBe(flaskSigned(b64(json(64))))
    expect(() => small().sign({ a: 'x'.repeat(57) }, { now: NOW })).toThrow(
      new RangeError('value is invalid: its payload of 65 bytes exceeds maxBytes (64), so verify would reject it'),
    )
  })

  it('refuses to read a payload over it, plain or compressed', () => {
    expect(small().verify(flaskSigned(b64(json(64))), { now: NOW })).toMatchObject({ ok: true })
    const plain = errorOf(small().verify(flaskSigned(b64(json(65))), { now: NOW }))
    expect(plain).toBeInstanceOf(PayloadTooLarge)
    const compressed = flaskSigned('.' + b64(deflateSync(Buffer.from(json(65)))))
    expect(errorOf(small().verify(compressed, { now: NOW }))).toBeInstanceOf(DecompressionTooLarge)
    expect(small().verify(flaskSigned('.' + b64(deflateSync(Buffer.from(json(64))))), { now: NOW })).toMatchObject({ ok: true })
  })

  it('defaults to 128 KiB', () => {
    const codec = createFlaskCodec({ secrets: SECRET })
    const limit = 128 * 1024
    expect(codec.verify(codec.sign({ a: 'x'.repeat(limit - 8) }, { now: NOW }), { now: NOW })).toMatchObject({ ok: true })
    expect(() => codec.sign({ a: 'x'.repeat(limit - 7) }, { now: NOW })).toThrow(/exceeds maxBytes \(131072\)/)
    expect(errorOf(codec.verify(flaskSigned('.' + b64(deflateSync(Buffer.from(json(limit + 1))))), { now: NOW }))).toBeInstanceOf(DecompressionTooLarge)
  })

  it('is a whole number of at least 1', () => {
    for (const maxBytes of [0, 1.5, '64', Infinity]) {
      expect(() => createFlaskCodec({ secrets: SECRET, maxBytes: maxBytes as number })).toThrow(/^option maxBytes is invalid: give a whole number, at least 1$/)
    }
  })
})

describe('createFlaskCodec: the other options and methods', () => {
  it('defaults to 31 days, the lifetime of every cookie', () => {
    expect(FLASK_DEFAULT_LIFETIME).toBe(31 * 86_400)
    const codec = createFlaskCodec({ secrets: SECRET })
    const cookie = codec.sign({ a: 1 }, { now: NOW })
    expect(codec.verify(cookie, { now: NOW + 2_678_400_000 })).toMatchObject({ ok: true, expiresAt: new Date(NOW + 2_678_400_000) })
    expect(errorOf(codec.verify(cookie, { now: NOW + 2_678_401_000 }))).toBeInstanceOf(SessionExpired)
  })

  it('names the session in the TypeError for a value it cannot store', () => {
    expect(() => createFlaskCodec({ secrets: SECRET }).sign({ seen: new Set() })).toThrow(/^value at session\.seen is invalid: /)
  })

  it('refuses options that are not an object, a lifetime that is not seconds, verify options that are not an object', () => {
    expect(() => createFlaskCodec(undefined as never)).toThrow(new TypeError('options are invalid: createFlaskCodec needs an options object, e.g. createFlaskCodec({ secrets })'))
    expect(() => createFlaskCodec({ secrets: SECRET, lifetime: 0 })).toThrow(new TypeError('option lifetime is invalid: give a number of seconds, 1 or more'))
    expect(() => createFlaskCodec({ secrets: SECRET }).verify('x', 60 as never)).toThrow(new TypeError('options are invalid: verify takes an options object'))
  })

  it('defaults to Flask: salt cookie-session, HMAC-SHA1 with the hmac derivation, timestamped', () => {
    const cookie = createFlaskCodec({ secrets: SECRET }).sign({ a: 1 }, { now: NOW })
    expect(cookie).toBe(flaskSigned(b64('{"a":1}')))
  })

  it('maxTokenLength refuses a longer cookie unread, and takes one of exactly that length', () => {
    const cookie = createFlaskCodec({ secrets: SECRET }).sign({ a: 'x'.repeat(60) }, { now: NOW })
    expect(cookie.length).toBeGreaterThan(65)
    const exact = createFlaskCodec({ secrets: SECRET, maxTokenLength: cookie.length })
    expect(exact.verify(cookie, { now: NOW })).toMatchObject({ ok: true })
    expect(errorOf(createFlaskCodec({ secrets: SECRET, maxTokenLength: cookie.length - 1 }).verify(cookie, { now: NOW }))).toBeInstanceOf(PayloadTooLarge)
  })

  it('clock is the time of every call that gives none', () => {
    let now = NOW
    const codec = createFlaskCodec({ secrets: SECRET, lifetime: 60, clock: () => now })
    const cookie = codec.sign({ a: 1 })
    expect(cookie).toBe(flaskSigned(b64('{"a":1}'), NOW))
    now = NOW + 60_000
    expect(codec.verify(cookie)).toMatchObject({ ok: true })
    now = NOW + 61_000
    expect(errorOf(codec.verify(cookie))).toBeInstanceOf(SessionExpired)
    expect(codec.verify(cookie, { now: NOW })).toMatchObject({ ok: true })
    expect(() => createFlaskCodec({ secrets: SECRET, clock: 5 as never })).toThrow(/^option clock is invalid/)
  })

  it('a per-call maxAge replaces the lifetime for that call', () => {
    const codec = createFlaskCodec({ secrets: SECRET, lifetime: 600 })
    const cookie = codec.sign({ a: 1 }, { now: NOW })
    expect(codec.verify(cookie, { now: NOW + 60_000, maxAge: 60 })).toMatchObject({ ok: true, expiresAt: new Date(NOW + 60_000) })
    expect(errorOf(codec.verify(cookie, { now: NOW + 61_000, maxAge: 60 }))).toBeInstanceOf(SessionExpired)
    expect(codec.verify(cookie, { now: NOW + 601_000, maxAge: 700 })).toMatchObject({ ok: true })
    expect(() => codec.verify(cookie, { now: NOW, path: 'x' } as never)).toThrow(/^option path is unknown/)
  })

  it('compresses from 1024 bytes of JSON by default and with compress: true, from a threshold, or never', () => {
    const sign = (options: object, data: Record<string, unknown>) => createFlaskCodec({ secrets: SECRET, ...options }).sign(data, { now: NOW })
    const medium = { a: 'x'.repeat(1015) } // 1023 bytes of JSON
    const large = { a: 'x'.repeat(1016) } // 1024 bytes
    for (const options of [{}, { compress: true }]) {
      expect(sign(options, medium).startsWith('.')).toBe(false)
      expect(sign(options, large).startsWith('.')).toBe(true)
    }
    expect(sign({ compress: { threshold: 0 } }, { a: 'x'.repeat(20) }).startsWith('.')).toBe(true)
    expect(sign({ compress: false }, large).startsWith('.')).toBe(false)
  })

  it('unsign returns the session or throws the SessionError', () => {
    const codec = createFlaskCodec({ secrets: SECRET })
    const cookie = codec.sign({ a: 1 }, { now: NOW })
    expect(codec.unsign(cookie, { now: NOW })).toEqual({ a: 1 })
    expect(() => codec.unsign(cookie, { now: NOW - 1000 })).toThrow(NotYetValid)
    expect(() => codec.unsign(`${cookie}x`, { now: NOW })).toThrow(SignatureInvalid)
  })

  it('a signed payload that is JSON but not an object is PayloadMalformed', () => {
    for (const json of ['[1]', '1', '"a"', 'null']) {
      const error = errorOf(createFlaskCodec({ secrets: SECRET }).verify(flaskSigned(b64(json)), { now: NOW }))
      expect(error).toBeInstanceOf(PayloadMalformed)
      expect(error.message).toBe('payload is not a JSON object')
    }
  })

  it('secret (singular) names `secrets`', () => {
    expect(() => createFlaskCodec({ secrets: SECRET, secret: SECRET } as never)).toThrow(/^option secret is unknown: did you mean `secrets`\?/)
  })
})

describe('createFlaskCodec: clockTolerance, salt, hints', () => {
  it('clockTolerance relaxes both the future-timestamp check and the age limit, by that many seconds', () => {
    const codec = createFlaskCodec({ secrets: SECRET, lifetime: 60, clockTolerance: 30 })
    const cookie = codec.sign({ a: 1 }, { now: NOW })
    expect(codec.verify(cookie, { now: NOW - 30_000 })).toMatchObject({ ok: true })
    expect(errorOf(codec.verify(cookie, { now: NOW - 31_000 }))).toBeInstanceOf(NotYetValid)
    expect(codec.verify(cookie, { now: NOW + 90_000 })).toMatchObject({ ok: true })
    expect(errorOf(codec.verify(cookie, { now: NOW + 91_000 }))).toBeInstanceOf(SessionExpired)
    // Flask's own: none.
    expect(errorOf(createFlaskCodec({ secrets: SECRET, lifetime: 60 }).verify(cookie, { now: NOW - 1000 }))).toBeInstanceOf(NotYetValid)
  })

  it('salt is the signing salt', () => {
    const salted = createFlaskCodec({ secrets: SECRET, salt: 'other-salt' })
    const cookie = salted.sign({ a: 1 }, { now: NOW })
    expect(cookie).toBe(flaskSigned(b64('{"a":1}'), NOW, 'other-salt'))
    expect(salted.verify(cookie, { now: NOW })).toMatchObject({ ok: true, value: { a: 1 } })
    expect(errorOf(createFlaskCodec({ secrets: SECRET }).verify(cookie, { now: NOW }))).toBeInstanceOf(SignatureInvalid)
  })

  it('a session that is not a plain object is a TypeError saying so', () => {
    for (const data of [[], new Map(), 'a=1', null]) {
      expect(() => createFlaskCodec({ secrets: SECRET }).sign(data as never)).toThrow(new TypeError('data is invalid: a Flask session is a plain object'))
    }
  })

  it.each([
    ['PERMANENT_SESSION_LIFETIME', /^option PERMANENT_SESSION_LIFETIME is unknown: did you mean `lifetime`\? \(seconds\)/],
    ['expiresIn', /^option expiresIn is unknown: a Flask cookie carries no expiry: `lifetime` limits the age of every cookie verify reads/],
    ['maxAge', /^option maxAge is unknown: use `lifetime` \(Flask's PERMANENT_SESSION_LIFETIME, seconds\); `maxAge` is the age limit of one verify call/],
    ['ttl', /^option ttl is unknown: use `lifetime` \(Flask's PERMANENT_SESSION_LIFETIME, seconds\)$/],
    ['password', /^option password is unknown: did you mean `secrets`\? \(Flask's SECRET_KEY, newest first\)$/],
    ['max_age', /^option max_age is unknown: did you mean `lifetime`\? \(Flask's PERMANENT_SESSION_LIFETIME, seconds\)/],
  ])('option %s names the one to give', (name, message) => {
    expect(() => createFlaskCodec({ secrets: SECRET, [name]: 60 } as never)).toThrow(message)
  })
})

describe('createFlaskFormat under createSessions', () => {
  const codec = { sign: (data: Record<string, unknown>, options?: { now?: number }) => createFlaskCodec({ secrets: SECRET }).sign(data, options), unsign: (value: string, options?: { now?: number }) => createFlaskCodec({ secrets: SECRET }).unsign(value, options) }

  it('tolerates 60 seconds of clock difference by default, clockTolerance when given', () => {
    const sessions = createSessions({ secrets: SECRET, format: createFlaskFormat(), clock: () => NOW })
    expect(sessions.verify(codec.sign({ a: 1 }, { now: NOW + 60_000 }))).toMatchObject({ ok: true, value: { a: 1 } })
    expect(errorOf(sessions.verify(codec.sign({ a: 1 }, { now: NOW + 61_000 })))).toBeInstanceOf(NotYetValid)
    const strict = createSessions({ secrets: SECRET, format: createFlaskFormat(), clock: () => NOW, clockTolerance: 0 })
    expect(strict.verify(codec.sign({ a: 1 }, { now: NOW }))).toMatchObject({ ok: true })
    expect(errorOf(strict.verify(codec.sign({ a: 1 }, { now: NOW + 1000 })))).toBeInstanceOf(NotYetValid)
  })

  it("limits every cookie's age to the lifetime (31 days by default), as Flask does", () => {
    const sessions = (now: number, lifetime?: number) =>
      createSessions({ secrets: SECRET, format: createFlaskFormat(), clock: () => now, clockTolerance: 0, ...(lifetime === undefined ? {} : { lifetime }) })
    const cookie = codec.sign({ a: 1 }, { now: NOW })
    expect(sessions(NOW + FLASK_DEFAULT_LIFETIME * 1000).verify(cookie)).toMatchObject({ ok: true, expiresAt: new Date(NOW + FLASK_DEFAULT_LIFETIME * 1000) })
    expect(errorOf(sessions(NOW + (FLASK_DEFAULT_LIFETIME + 1) * 1000).verify(cookie))).toBeInstanceOf(SessionExpired)
    expect(sessions(NOW + 600_000, 600).verify(cookie)).toMatchObject({ ok: true, issuedAt: new Date(NOW), expiresAt: new Date(NOW + 600_000) })
    expect(errorOf(sessions(NOW + 601_000, 600).verify(cookie))).toBeInstanceOf(SessionExpired)
  })

  it("reads Flask's _permanent as the session's persistence, and keeps it out of the data", () => {
    const sessions = createSessions({ secrets: SECRET, format: createFlaskFormat(), clock: () => NOW })
    for (const [permanent, persistent] of [[true, true], [false, false], [1, false], ['true', false]] as const) {
      const result = sessions.verify(codec.sign({ _permanent: permanent, user: 'ada' }, { now: NOW }))
      expect(result, String(permanent)).toMatchObject({ ok: true, persistent })
      if (result.ok) expect(Object.keys(result.value)).toEqual(['user'])
    }
    const plain = sessions.verify(codec.sign({ user: 'ada' }, { now: NOW }))
    expect(plain).toMatchObject({ ok: true, persistent: false, value: { user: 'ada' } })
    // Written back: _permanent for a persistent session only.
    expect(codec.unsign(sessions.sign({ user: 'ada' }, { persistent: true }), { now: NOW })).toEqual({ _permanent: true, user: 'ada' })
    expect(codec.unsign(sessions.sign({ user: 'ada' }, { persistent: false }), { now: NOW })).toEqual({ user: 'ada' })
  })

  it('refuses _permanent in the data, pointing at session.persistent', () => {
    const sessions = createSessions({ secrets: SECRET, format: createFlaskFormat() })
    expect(() => sessions.sign({ _permanent: true, user: 'ada' })).toThrow(
      new TypeError('value at session._permanent is invalid: Frasco keeps it for you; set session.persistent = true (or sign(data, { persistent: true })) instead'),
    )
  })

  it('writes flashed (category, message) pairs as the tuples Flask stores, in a list', () => {
    const sessions = createSessions({ secrets: SECRET, format: createFlaskFormat(), clock: () => NOW })
    const other = ['message']
    const flashes = [['message', 'Saved.'], tuple('error', 'Oops'), other, ['a', 1]]
    for (const persistent of [false, true]) {
      for (const outer of [flashes, tuple(...flashes)]) {
        const data = { _flashes: outer, user: 'ada' }
        const read = codec.unsign(sessions.sign(data, { persistent }), { now: NOW })
        const written = read._flashes as unknown[]
        expect(isTuple(written)).toBe(false)
        expect(written).toEqual(flashes)
        expect(written.map(isTuple)).toEqual([true, true, false, false])
        // The session's own data is left as it was.
        expect(isTuple(flashes[0])).toBe(false)
        expect(data._flashes).toBe(outer)
      }
    }
    // A list of tuples already, or no list at all: written as is.
    for (const value of [[tuple('message', 'Hi')], 'not a list', []]) {
      expect(codec.unsign(sessions.sign({ _flashes: value }), { now: NOW })).toEqual({ _flashes: value })
    }
  })

  it('writes plain (category, message) pairs as tuples when no entry is a tuple yet, and an outer tuple as a list', () => {
    const sessions = createSessions({ secrets: SECRET, format: createFlaskFormat(), clock: () => NOW })
    const plain = codec.unsign(sessions.sign({ _flashes: [['message', 'Hi'], ['error', 'Oops']] }), { now: NOW })._flashes as unknown[]
    expect(plain.map(isTuple)).toEqual([true, true])
    const outer = codec.unsign(sessions.sign({ _flashes: tuple(tuple('message', 'Hi')) }), { now: NOW })._flashes as unknown[]
    expect(isTuple(outer)).toBe(false)
    expect(outer.map(isTuple)).toEqual([true])
    // Only arrays of exactly two strings are pairs: not a two-character string, not three strings, not a number first.
    const others = codec.unsign(sessions.sign({ _flashes: ['ab', ['x', 'y', 'z'], [1, 'x'], ['message', 'Hi']] }), { now: NOW })._flashes as unknown[]
    expect(others).toEqual(['ab', ['x', 'y', 'z'], [1, 'x'], ['message', 'Hi']])
    expect(others.map(isTuple)).toEqual([false, false, false, true])
  })

  it('names the session in the TypeError for a value it cannot store, persistent or not', () => {
    const sessions = createSessions({ secrets: SECRET, format: createFlaskFormat() })
    class User {
      name = 'ada'
    }
    for (const persistent of [false, true]) {
      expect(() => sessions.sign({ seen: new Set() }, { persistent })).toThrow(/^value at session\.seen is invalid: /)
      expect(() => sessions.sign(new User() as never, { persistent })).toThrow(/User has no JSON form/)
    }
  })

  it('takes the compress option of createSessions, and refuses encrypt: true', () => {
    const large = { a: 'x'.repeat(2000) }
    expect(createSessions({ secrets: SECRET, format: createFlaskFormat() }).sign(large).startsWith('.')).toBe(true)
    expect(createSessions({ secrets: SECRET, format: createFlaskFormat(), compress: false }).sign(large).startsWith('.')).toBe(false)
    expect(createSessions({ secrets: SECRET, format: createFlaskFormat(), compress: { threshold: 0 } }).sign({ a: 'x'.repeat(20) }).startsWith('.')).toBe(true)
    expect(() => createSessions({ secrets: SECRET, format: createFlaskFormat(), encrypt: true })).toThrow(
      new TypeError("option encrypt is invalid: Flask's cookie format cannot be encrypted; drop format for encrypted Frasco sessions"),
    )
    expect(createSessions({ secrets: SECRET, format: createFlaskFormat(), encrypt: false }).sign({ a: 1 })).toMatch(/^eyJhIjoxfQ\./)
  })

  it('takes key entries with a secret, and refuses a keyring or anything else by name', () => {
    const sessions = createSessions({ secrets: [{ id: 'new', secret: 'new-key' }, 'old-key'] as never, format: createFlaskFormat(), clock: () => NOW })
    expect(sessions.verify(createFlaskCodec({ secrets: 'new-key' }).sign({ a: 1 }, { now: NOW }))).toMatchObject({ ok: true, stale: false })
    expect(sessions.verify(createFlaskCodec({ secrets: 'old-key' }).sign({ a: 1 }, { now: NOW }))).toMatchObject({ ok: true, stale: true })
    expect(() => createSessions({ secrets: { keys: [], current: 'x' } as never, format: createFlaskFormat() })).toThrow(
      new TypeError("option secrets is invalid: for the Flask format give Flask's SECRET_KEY (then its SECRET_KEY_FALLBACKS) as strings or bytes"),
    )
    expect(() => createSessions({ secrets: ['key', 42] as never, format: createFlaskFormat() })).toThrow(
      new TypeError("option secrets[1] is invalid: give Flask's SECRET_KEY as a string or bytes"),
    )
    // Neither a keyring (keys and current) nor a key: refused as an entry of the list.
    for (const secrets of [[null], null, { keys: ['a'] }, { current: 'a' }, [{ id: 'k' }]]) {
      expect(() => createSessions({ secrets: secrets as never, format: createFlaskFormat() })).toThrow(
        new TypeError("option secrets[0] is invalid: give Flask's SECRET_KEY as a string or bytes"),
      )
    }
  })

  it('a session that inflates past 128 KiB is CookieTooLarge at sign, saying why', () => {
    const sessions = createSessions({ secrets: SECRET, format: createFlaskFormat() })
    const json = `{"blob":"${'x'.repeat(200_000)}"}`
    expect(() => sessions.sign({ blob: 'x'.repeat(200_000) })).toThrow(CookieTooLarge)
    expect(() => sessions.sign({ blob: 'x'.repeat(200_000) })).toThrow(`session payload of ${json.length} bytes exceeds 131072 bytes, more than a reader inflates`)
  })

  it('is a frozen format named flask: 31 days by default, one cookie by default', () => {
    const format = createFlaskFormat()
    expect(format).toMatchObject({ name: 'flask', defaultLifetime: FLASK_DEFAULT_LIFETIME, defaultChunking: false })
    expect(Object.isFrozen(format)).toBe(true)
    expect(createSessions({ secrets: SECRET, format }).sign({ a: 1 }, { now: NOW })).toBe(codec.sign({ a: 1 }, { now: NOW }))
  })

  it('option hints and a salt that is not a non-empty string', () => {
    expect(() => createFlaskFormat('salt' as never)).toThrow(new TypeError('options are invalid: createFlaskFormat takes an options object'))
    expect(() => createFlaskFormat({ secrets: SECRET } as never)).toThrow(
      /^option secrets is unknown: give Flask's SECRET_KEY to createSessions: createSessions\(\{ secrets, format: createFlaskFormat\(\) \}\)/,
    )
    expect(() => createFlaskFormat({ lifetime: 60 } as never)).toThrow(/^option lifetime is unknown: give `lifetime` \(PERMANENT_SESSION_LIFETIME, seconds\) to createSessions/)
    expect(() => createFlaskFormat({ maxAge: 60 } as never)).toThrow(/^option maxAge is unknown: give `lifetime` \(PERMANENT_SESSION_LIFETIME, seconds\) to createSessions/)
    for (const salt of [5, '', false]) {
      expect(() => createFlaskFormat({ salt } as never)).toThrow(new TypeError("option salt is invalid: give the Flask app's session salt (default 'cookie-session')"))
    }
    const salted = createSessions({ secrets: SECRET, format: createFlaskFormat({ salt: 'other-salt' }), clock: () => NOW })
    expect(salted.verify(createFlaskCodec({ secrets: SECRET, salt: 'other-salt' }).sign({ a: 1 }, { now: NOW }))).toMatchObject({ ok: true })
    expect(errorOf(salted.verify(codec.sign({ a: 1 }, { now: NOW })))).toBeInstanceOf(SignatureInvalid)
  })
})
