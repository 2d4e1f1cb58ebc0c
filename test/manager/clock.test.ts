/**
 * The `clock` option of createSessions: an application's clock is checked on every use, so a clock
 * that returns nonsense (NaN, a negative time, a time past what a token holds, a string) is a
 * TypeError naming the option, never a session read or written at a time no check can compare
 * against (with a NaN "now", every expiry comparison is false and an expired session would pass).
 */
import { describe, expect, it } from 'vitest'
import { createSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'

const SECRET = 'frasco-test-secret-0123456789-abcdefghijklmnop'
const NOW = Date.UTC(2030, 0, 1)
const LIFETIME = 3600

/** A clock that answers `NOW` until it is switched to `broken`. */
function switchable(): { clock: () => number; breakWith(value: unknown): void } {
  let value: unknown = NOW
  return { clock: () => value as number, breakWith: (next) => void (value = next) }
}

const BROKEN: [string, unknown][] = [
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['a negative time', -1],
  ['a time past what a token holds', 2 ** 48 * 1000 + 1000],
  ['seconds as a string', String(NOW)],
]

describe('createSessions({ clock }): a clock that returns nonsense', () => {
  it.each(BROKEN)('read() of a valid cookie throws when the clock returns %s', (_name, value) => {
    const time = switchable()
    const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME, clock: time.clock })
    const cookie = `session=${sessions.sign({ user: 'ada' })}`
    expect(sessions.read(cookie).get('user')).toBe('ada')
    time.breakWith(value)
    expect(() => sessions.read(cookie)).toThrow(TypeError)
    expect(() => sessions.read(cookie)).toThrow(/^option clock is invalid: give a Date or a number of milliseconds since the epoch$/)
    // verify() without its own `now` runs on the same clock.
    expect(() => sessions.verify(cookie.slice('session='.length))).toThrow(/^option clock is invalid/)
  })

  it.each(BROKEN)('commit() of a changed session throws when the clock returns %s', (_name, value) => {
    const time = switchable()
    const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME, clock: time.clock })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    time.breakWith(value)
    expect(() => sessions.commit(session)).toThrow(/^option clock is invalid/)
  })

  it.each(BROKEN)('load() and save() of a store-backed manager throw when the clock returns %s', async (_name, value) => {
    const time = switchable()
    const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME, clock: time.clock, store: createMemoryStore({ clock: time.clock }) })
    const session = await sessions.load(undefined)
    session.set('user', 'ada')
    const cookie = (await sessions.save(session)).setCookie[0] as string
    const header = cookie.slice(0, cookie.indexOf(';'))
    expect((await sessions.load(header)).get('user')).toBe('ada')
    const fresh = await sessions.load(undefined)
    fresh.set('user', 'bob')
    time.breakWith(value)
    await expect(sessions.load(header)).rejects.toThrow(/^option clock is invalid/)
    await expect(sessions.save(fresh)).rejects.toThrow(/^option clock is invalid/)
  })

  it('an expired session stays expired on a clock that is a function of Date.now but not Date.now itself', () => {
    let offset = 0
    const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME, clockTolerance: 0, clock: () => Date.now() + offset })
    const cookie = `session=${sessions.sign({ user: 'ada' })}`
    expect(sessions.read(cookie).get('user')).toBe('ada')
    offset = (LIFETIME + 1) * 1000
    const session = sessions.read(cookie)
    expect(session.isNew).toBe(true)
    expect(sessions.invalidReason(session)?.code).toBe('ERR_SESSION_EXPIRED')
  })

  it('the default clock (Date.now) needs no option and gives the time of the commit', () => {
    const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    const before = Math.floor(Date.now() / 1000)
    const header = sessions.commit(session).setCookie[0] as string
    const after = Math.floor(Date.now() / 1000)
    const result = sessions.verify(header.slice(header.indexOf('=') + 1, header.indexOf(';')))
    expect(result.ok).toBe(true)
    if (!result.ok) return
    const issued = (result.issuedAt as Date).getTime() / 1000
    expect(issued).toBeGreaterThanOrEqual(before)
    expect(issued).toBeLessThanOrEqual(after)
    expect((result.expiresAt as Date).getTime() / 1000).toBe(issued + LIFETIME)
  })
})
