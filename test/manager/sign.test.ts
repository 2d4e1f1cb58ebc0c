/**
 * `sessions.sign` and `sessions.verify` at their boundaries: an `expiresIn` of exactly the
 * manager's lifetime is issued (one second more is refused, since read() would cut it); an expiry
 * that falls exactly on the last second a token holds is issued (one more is refused); `persistent`
 * is the manager's default unless given, and only a boolean; verify's own `now` decides instead of
 * the manager's clock.
 */
import { describe, expect, it } from 'vitest'
import { createFlaskFormat } from '../../src/flask/index.js'
import { MAX_SECONDS } from '../../src/lib/token.js'
import { createSessions } from '../../src/sessions.js'

const SECRET = 'frasco-test-secret-0123456789-abcdefghijklmnop'
const NOW = Date.UTC(2030, 0, 1)
const LIFETIME = 3600

describe('sessions.sign: expiresIn', () => {
  const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME, clock: () => NOW })

  it.each([1, 600, LIFETIME - 1, LIFETIME])('issues a session of %i seconds, which expires exactly then', (expiresIn) => {
    const result = sessions.verify(sessions.sign({ a: 1 }, { expiresIn }))
    expect(result).toMatchObject({ ok: true, value: { a: 1 } })
    if (result.ok) expect(result.expiresAt?.getTime()).toBe(NOW + expiresIn * 1000)
  })

  it.each([LIFETIME + 1, 2 * LIFETIME])("refuses %i seconds, longer than the manager's lifetime", (expiresIn) => {
    expect(() => sessions.sign({ a: 1 }, { expiresIn })).toThrow(
      new RegExp(`^option expiresIn is invalid: sessions.sign cannot issue a session longer than this manager's lifetime \\(${LIFETIME} s\\)$`),
    )
  })

  it('without expiresIn, issues a session of the lifetime', () => {
    const result = sessions.verify(sessions.sign({ a: 1 }))
    if (!result.ok) throw result.error
    expect(result.expiresAt?.getTime()).toBe(NOW + LIFETIME * 1000)
    expect(result.issuedAt?.getTime()).toBe(NOW)
  })

  it('refuses expiresIn with a format that carries no expiry (Flask)', () => {
    const flask = createSessions({ secrets: 'flask-secret-key', format: createFlaskFormat(), clock: () => NOW })
    expect(() => flask.sign({ a: 1 }, { expiresIn: 60 })).toThrow(/^option expiresIn is invalid: this format carries no expiry; every read limits the age to the lifetime$/)
    expect(flask.verify(flask.sign({ a: 1 })).ok).toBe(true)
  })
})

describe('sessions.sign: the last second a token holds', () => {
  const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME })

  it('issues a session whose expiry is exactly the last second, and refuses one a second later', () => {
    const last = (MAX_SECONDS - LIFETIME) * 1000
    const token = sessions.sign({ a: 1 }, { now: last })
    // (A Date cannot show a time that far: the result's dates are invalid, the session is valid.)
    expect(sessions.verify(token, { now: last }).ok).toBe(true)
    expect(sessions.verify(token, { now: (MAX_SECONDS - 1) * 1000 }).ok).toBe(true)
    expect(() => sessions.sign({ a: 1 }, { now: last + 1000 })).toThrow(/^option now is invalid: the expiry falls beyond what a token holds$/)
    // A shorter session still fits a second later.
    expect(() => sessions.sign({ a: 1 }, { now: last + 1000, expiresIn: LIFETIME - 1 })).not.toThrow()
  })
})

describe('sessions.sign: persistent', () => {
  it.each<[boolean, boolean | undefined, boolean]>([
    [false, undefined, false],
    [true, undefined, true],
    [false, true, true],
    [true, false, false],
  ])('a manager with persistent: %s, given %s, issues persistent: %s', (managerDefault, given, expected) => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, persistent: managerDefault })
    const result = sessions.verify(sessions.sign({ a: 1 }, given === undefined ? {} : { persistent: given }))
    expect(result).toMatchObject({ ok: true, persistent: expected })
    // read() gives the session the same persistence.
    expect(sessions.read(`session=${sessions.sign({ a: 1 }, given === undefined ? {} : { persistent: given })}`).persistent).toBe(expected)
  })

  it.each<unknown>(['yes', 1, null])('refuses persistent: %j', (persistent) => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW })
    expect(() => sessions.sign({ a: 1 }, { persistent: persistent as boolean })).toThrow(/^option persistent is invalid: give true or false$/)
  })
})

describe('sessions.verify: now', () => {
  const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME, clockTolerance: 0, clock: () => NOW })
  const token = sessions.sign({ a: 1 })

  it.each<[string, number | Date, boolean]>([
    ['just before the expiry', NOW + (LIFETIME - 1) * 1000, true],
    ['at the expiry', NOW + LIFETIME * 1000, false],
    ['as a Date, at the expiry', new Date(NOW + LIFETIME * 1000), false],
    ['before the issue', NOW - 1000, false],
  ])('decides by its own now (%s), not the clock', (_name, now, ok) => {
    expect(sessions.verify(token, { now }).ok).toBe(ok)
    expect(sessions.verify(token).ok).toBe(true)
  })

  it('refuses a now that is not a time', () => {
    expect(() => sessions.verify(token, { now: Number.NaN })).toThrow(/^option now is invalid/)
    expect(() => sessions.verify(token, { when: NOW } as never)).toThrow(/^option when is unknown/)
  })
})
