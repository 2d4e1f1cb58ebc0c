/**
 * What the cookie format decides about the manager's defaults, seen on the wire: the default
 * lifetime (7 days with Frasco's format, Flask's 31-day PERMANENT_SESSION_LIFETIME with the Flask
 * format) as a persistent cookie's Max-Age, the age limit of a Flask cookie (it carries no expiry),
 * and chunking (on with Frasco's format, off with Flask's, which reads one cookie only).
 */
import { describe, expect, it } from 'vitest'
import { CookieTooLarge } from '../../src/errors.js'
import { createFlaskFormat } from '../../src/flask/index.js'
import { createSessions, type SessionsOptions } from '../../src/sessions.js'
import { parseSetCookie } from '../helpers/server.js'

const SECRET = 'frasco-test-secret-0123456789-abcdefghijklmnop'
const NOW = Date.UTC(2030, 0, 1)
const DAY = 86_400

/** The Max-Age of a new persistent session's cookie. */
function maxAge(options: Partial<SessionsOptions>): string | true | undefined {
  const sessions = createSessions({ secrets: SECRET, clock: () => NOW, persistent: true, ...options })
  const session = sessions.read(undefined)
  session.set('user', 'ada')
  return parseSetCookie(sessions.commit(session).setCookie[0] as string).attributes['max-age']
}

describe('the default lifetime comes from the format', () => {
  it.each<[string, Partial<SessionsOptions>, number]>([
    ["Frasco's format", {}, 7 * DAY],
    ['the Flask format', { format: createFlaskFormat() }, 31 * DAY],
    ["Frasco's format with a lifetime", { lifetime: 3600 }, 3600],
    ['the Flask format with a lifetime', { format: createFlaskFormat(), lifetime: 3600 }, 3600],
    ['the Flask format with a shorter idleTimeout', { format: createFlaskFormat(), idleTimeout: 600 }, 600],
    ["Frasco's format with a shorter idleTimeout", { idleTimeout: 600 }, 600],
  ])("%s: a persistent cookie's Max-Age is %i", (_name, options, seconds) => {
    expect(maxAge(options)).toBe(String(seconds))
  })

  it.each<[string, Partial<SessionsOptions>, number]>([
    ["Frasco's format", {}, 7 * DAY],
    ['the Flask format', { format: createFlaskFormat() }, 31 * DAY],
    // A Flask cookie carries no expiry: every read limits its age, here to the idle timeout.
    ['the Flask format with an idle timeout', { format: createFlaskFormat(), idleTimeout: 600 }, 600],
  ])('%s: a session read back expires at the default lifetime (or idle timeout)', (_name, options, seconds) => {
    let now = NOW
    const sessions = createSessions({ secrets: SECRET, clock: () => now, clockTolerance: 0, ...options })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    const cookie = (sessions.commit(session).setCookie[0] as string).split(';', 1)[0] as string
    const result = sessions.verify(cookie.slice('session='.length))
    if (!result.ok) throw result.error
    expect(result.expiresAt?.getTime()).toBe(NOW + seconds * 1000)
    now = NOW + (seconds - 1) * 1000
    expect(sessions.read(cookie).get('user')).toBe('ada')
    now = NOW + (seconds + 1) * 1000
    expect(sessions.invalidReason(sessions.read(cookie))?.code).toBe('ERR_SESSION_EXPIRED')
  })
})

describe('chunking defaults to what the format can read', () => {
  const big = 'x'.repeat(6_000)

  it("Frasco's format splits a large session into chunks", () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, compress: false })
    const session = sessions.read(undefined)
    session.set('blob', big)
    expect(sessions.commit(session).setCookie.map((header) => parseSetCookie(header).name)).toEqual(['session.0', 'session.1'])
  })

  it('the Flask format refuses it (Flask reads one cookie), unless chunking is asked for', () => {
    const flask = createSessions({ secrets: SECRET, clock: () => NOW, compress: false, format: createFlaskFormat() })
    const session = flask.read(undefined)
    session.set('blob', big)
    expect(() => flask.commit(session)).toThrow(CookieTooLarge)
    const chunked = createSessions({ secrets: SECRET, clock: () => NOW, compress: false, format: createFlaskFormat(), chunking: true })
    const again = chunked.read(undefined)
    again.set('blob', big)
    expect(chunked.commit(again).setCookie).toHaveLength(2)
  })
})

describe('encrypt is a boolean, and decides what the cookie shows', () => {
  it.each<unknown>(['true', 1, 'yes', null])('refuses encrypt: %j (it would not mean "encrypted")', (encrypt) => {
    expect(() => createSessions({ secrets: SECRET, encrypt: encrypt as boolean })).toThrow(/^option encrypt is invalid: give true to encrypt with XAES-256-GCM, or false$/)
  })

  it.each<[boolean | undefined, RegExp, boolean]>([
    [undefined, /^f1\./, true],
    [false, /^f1\./, true],
    [true, /^x1\./, false],
  ])('encrypt: %s writes %s cookies; the data is readable in them: %s', (encrypt, prefix, readable) => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, ...(encrypt === undefined ? {} : { encrypt }) })
    const session = sessions.read(undefined)
    session.set('user', 'ada-lovelace')
    const value = parseSetCookie(sessions.commit(session).setCookie[0] as string).value
    expect(value).toMatch(prefix)
    const shown = value.split('.').some((part) => Buffer.from(part, 'base64url').toString('latin1').includes('ada-lovelace'))
    expect(shown).toBe(readable)
    expect(sessions.read(`session=${value}`).get('user')).toBe('ada-lovelace')
  })
})
