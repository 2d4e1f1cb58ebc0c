/**
 * Values an app might put in a session that cannot be stored: every format refuses them with a
 * TypeError at commit that names the session key (`value at session.profile…`), before any header
 * is returned, and the same session commits once the value is fixed.
 */
import { describe, expect, it } from 'vitest'
import { withSessions } from '../src/adapters/node.js'
import { createFlaskCodec } from '../src/flask/codec.js'
import { createFlaskFormat } from '../src/flask/format.js'
import { createItsdangerousSerializer } from '../src/flask/itsdangerous.js'
import { encodeFlaskJson } from '../src/flask/json.js'
import { encodePythonJson } from '../src/flask/python-json.js'
import { encodePayload, stringify } from '../src/serializer.js'
import { createSessions, type Sessions } from '../src/sessions.js'
import { isDeletion, parseSetCookie, startServer, useTestServers } from './helpers/server.js'

useTestServers()

const SECRET = 'frasco-unstorable-secret-0123456789-abcdefghij'
const NOW = Date.UTC(2030, 0, 1)

type FormatName = 'signed' | 'encrypted' | 'flask'
const FORMATS: FormatName[] = ['signed', 'encrypted', 'flask']

function manager(format: FormatName): Sessions {
  return format === 'flask'
    ? createSessions({ secrets: 'any key', format: createFlaskFormat(), clock: () => NOW })
    : createSessions({ secrets: SECRET, encrypt: format === 'encrypted', clock: () => NOW })
}

class User {
  constructor(readonly name: string) {}
}
const cycle: Record<string, unknown> = { name: 'loop' }
cycle.self = cycle

/** [what, value, the path the message names, formats that refuse it (default: all)]. */
const UNSTORABLE: Array<[what: string, value: unknown, path: string, only?: FormatName[]]> = [
  ['a function', () => 'hi', 'session.profile'],
  ['a symbol', Symbol('s'), 'session.profile'],
  ['a cycle', cycle, 'session.profile.self'],
  ['a class instance', new User('ada'), 'session.profile'],
  // Python's json writes and reads NaN and Infinity, so Flask's format stores them.
  ['NaN', Number.NaN, 'session.profile', ['signed', 'encrypted']],
  ['Infinity', Number.POSITIVE_INFINITY, 'session.profile', ['signed', 'encrypted']],
  ['an invalid Date', new Date(Number.NaN), 'session.profile'],
  ['undefined in an array', ['a', undefined, 'c'], 'session.profile[1]'],
  ['a hole in an array', ['a', , 'c'], 'session.profile[1]'],
  ['a nested function', { deep: { save() {} } }, 'session.profile.deep.save'],
  ['a Map with a function value (Frasco names the entry by position, never by its key)', new Map<string, unknown>([['k', () => 1]]), 'session.profile.values()[0]', ['signed', 'encrypted']],
  ['a Map (Flask has no Map at all)', new Map<string, unknown>([['k', () => 1]]), 'session.profile', ['flask']],
  ['a Set holding a function', new Set([1, () => 1]), 'session.profile.values()[1]', ['signed', 'encrypted']],
  ['a WeakMap', new WeakMap(), 'session.profile'],
  ['a Promise', Promise.resolve(1), 'session.profile'],
  ['a function under a key that is not an identifier', { 'first name': () => 'x' }, 'session.profile["first name"]'],
]

const rows = UNSTORABLE.flatMap(([what, value, path, only]) =>
  (only ?? FORMATS).map((format) => [`${format}: ${what}`, format, value, path] as [string, FormatName, unknown, string]),
)

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('values that cannot be stored', () => {
  it.each(rows)('%s: a TypeError at commit naming the key, nothing written, and a fixed value commits', (_, format, value, path) => {
    const sessions = manager(format)
    const session = sessions.read(`session=${sessions.sign({ user: 'ada' })}`)
    expect(session.isNew).toBe(false)
    session.set('profile', value)

    let headers: string[] | undefined
    let thrown: unknown
    try {
      headers = sessions.commit(session).setCookie
    } catch (error) {
      thrown = error
    }
    expect(headers).toBeUndefined()
    expect(thrown).toBeInstanceOf(TypeError)
    expect((thrown as TypeError).message).toMatch(new RegExp(`^value at ${escape(path)} (is|\\b)`))

    // The failed commit changed nothing: the session still holds its data, and once the value is
    // fixed it commits and reads back.
    expect(session.get('user')).toBe('ada')
    session.set('profile', { name: 'ada' })
    const written = sessions.commit(session).setCookie
    expect(written).toHaveLength(1)
    const again = sessions.read(written[0]!.split(';', 1)[0])
    expect(again.toJSON()).toEqual({ user: 'ada', profile: { name: 'ada' } })
  })

  it.each(FORMATS)('%s: BigInt is stored, and comes back as a BigInt', (format) => {
    const sessions = manager(format)
    const session = sessions.read(undefined)
    session.set('big', 2n ** 100n)
    const again = sessions.read(sessions.commit(session).setCookie[0]!.split(';', 1)[0])
    expect(again.get('big')).toBe(2n ** 100n)
  })

  it('flask: a Date outside the years 100 to 9999 names its key', () => {
    const sessions = manager('flask')
    const session = sessions.read(undefined)
    session.set('when', new Date(Date.UTC(10_000, 0, 1)))
    expect(() => sessions.commit(session)).toThrow(/^value at session\.when is invalid: a Date must be valid and within the years 100 to 9999/)
  })

  it.each(FORMATS)('%s: over HTTP, a 500 without any Set-Cookie, and the error names the key', async (format) => {
    const sessions = manager(format)
    const errors: unknown[] = []
    const server = await startServer(
      withSessions(
        sessions,
        (req, res) => {
          req.session.set('user', 'ada')
          req.session.set('callback', () => 'not data')
          res.end('ok')
        },
        { onError: (error) => errors.push(error) },
      ),
    )
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(500)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(TypeError)
    expect((errors[0] as TypeError).message).toMatch(/^value at session\.callback is/)
  })

  it.each(FORMATS)('%s: a session emptied of its unstorable value deletes the cookie instead', (format) => {
    const sessions = manager(format)
    const session = sessions.read(`session=${sessions.sign({ user: 'ada' })}`)
    session.set('fn', () => 1)
    expect(() => sessions.commit(session)).toThrow(TypeError)
    session.clear()
    const headers = sessions.commit(session).setCookie
    expect(headers.length).toBeGreaterThan(0)
    expect(headers.map(parseSetCookie).every((cookie) => isDeletion(cookie))).toBe(true)
  })
})

describe('the path option behind those messages', () => {
  it('stringify and encodePayload name the root "value" unless told otherwise', () => {
    expect(() => stringify({ a: () => 1 })).toThrow(/^value at value\.a is a function/)
    expect(() => encodePayload({ a: () => 1 })).toThrow(/^value at value\.a is a function/)
    expect(() => encodePayload({ a: () => 1 }, { path: 'session' })).toThrow(/^value at session\.a is a function/)
    expect(() => encodePayload(() => 1, { path: 'session' })).toThrow(/^session is a function/)
  })

  it('encodePythonJson, encodeFlaskJson and the Flask codec name the path; the codec and the serializer name their own root', () => {
    expect(() => encodePythonJson(() => 1)).toThrow(/^value is invalid: function has no JSON form/)
    expect(() => encodePythonJson({ a: [1, { b: Symbol('x') }] })).toThrow(/^value at value\.a\[1\]\.b is invalid: symbol has no JSON form/)
    expect(() => encodePythonJson({ 'a b': new Set() }, { path: 'data' })).toThrow(/^value at data\["a b"\] is invalid: Set has no JSON form/)
    expect(() => encodeFlaskJson({ when: new Date(Number.NaN) }, 'session')).toThrow(/^value at session\.when is invalid: a Date must be valid/)
    expect(() => encodeFlaskJson(new Date(Number.NaN))).toThrow(/^value is invalid: a Date must be valid/)
    const cyclic: Record<string, unknown> = {}
    cyclic.me = cyclic
    expect(() => encodeFlaskJson({ x: cyclic }, 'session')).toThrow(/^value at session\.x\.me is invalid: .*circular/)
    // 1.0: sign() takes no path; a Flask codec's value is a session, a serializer's is a value.
    const codec = createFlaskCodec({ secrets: 'k' })
    expect(() => codec.sign({ f: () => 1 })).toThrow(/^value at session\.f is invalid/)
    const serializer = createItsdangerousSerializer({ secrets: 'k' })
    expect(() => serializer.sign({ f: [() => 1] })).toThrow(/^value at value\.f\[0\] is invalid/)
  })
})
