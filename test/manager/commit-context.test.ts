/**
 * The commit context at its boundaries (every status from 100 to 999 is a status, only 500 to 599
 * a failure; a Vary a framework keeps as a number), and the expiry cap that a lowered `lifetime`
 * puts on sessions issued before, with the clock tolerance on the right side of it.
 */
import { describe, expect, it } from 'vitest'
import { SessionExpired } from '../../src/errors.js'
import { createSessions } from '../../src/sessions.js'

const SECRET = 'frasco-test-secret-0123456789-abcdefghijklmnop'
const NOW = Date.UTC(2030, 0, 1)

describe('commit({ status })', () => {
  const sessions = createSessions({ secrets: SECRET, clock: () => NOW })

  it.each([100, 101, 200, 499, 600, 998, 999])('commits as usual on a %i', (status) => {
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    expect(sessions.commit(session, { status }).setCookie).toHaveLength(1)
  })

  it.each([500, 501, 598, 599])('writes no session cookie on a %i', (status) => {
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    expect(sessions.commit(session, { status }).setCookie).toEqual([])
  })

  it.each([99, 1000, -500, 200.5, Number.POSITIVE_INFINITY])('refuses a status of %d', (status) => {
    const session = sessions.read(undefined)
    expect(() => sessions.commit(session, { status })).toThrow(/^option status is invalid: give the response status, a whole number from 100 to 999$/)
  })
})

describe('commit({ vary })', () => {
  const sessions = createSessions({ secrets: SECRET, clock: () => NOW })

  it('takes a Vary the framework keeps as a number, as text', () => {
    const session = sessions.read(undefined)
    session.get('user')
    expect(sessions.commit(session, { vary: 42 }).vary).toBe('42, Cookie')
  })

  it.each<[string, unknown]>([
    ['an object', {}],
    ['a boolean', true],
    ['a function', () => 'Accept'],
  ])('refuses %s', (_name, vary) => {
    const session = sessions.read(undefined)
    expect(() => sessions.commit(session, { vary: vary as string })).toThrow(/^option vary is invalid: give the response's Vary header as a string or a list of strings \(or nothing\)$/)
  })

  it.each<unknown>(['yes', 1, null])('refuses secure: %j', (secure) => {
    const session = sessions.read(undefined)
    expect(() => sessions.commit(session, { secure: secure as boolean })).toThrow(/^option secure is invalid: give true when the request came over HTTPS, else false$/)
  })
})

describe('a lowered lifetime caps sessions issued before it', () => {
  const LONG = 30 * 86_400
  const SHORT = 3600
  const TOLERANCE = 60

  function issuedUnderLongLifetime(): string {
    const long = createSessions({ secrets: SECRET, lifetime: LONG, clock: () => NOW })
    const session = long.read(undefined)
    session.set('user', 'ada')
    return (long.commit(session).setCookie[0] as string).split(';', 1)[0] as string
  }

  it.each<[string, number, boolean]>([
    ['just before the cap', SHORT - 1, true],
    ['at the cap, within the clock tolerance', SHORT, true],
    ['past the cap by less than the tolerance', SHORT + TOLERANCE - 1, true],
    ['past the cap by the tolerance', SHORT + TOLERANCE, false],
    ['long after the cap', SHORT * 2, false],
  ])('read %s: valid %s', (_name, after, valid) => {
    const cookie = issuedUnderLongLifetime()
    const short = createSessions({ secrets: SECRET, lifetime: SHORT, clockTolerance: TOLERANCE, clock: () => NOW + after * 1000 })
    const session = short.read(cookie)
    expect(session.get('user')).toBe(valid ? 'ada' : undefined)
    expect(short.invalidReason(session)?.code).toBe(valid ? undefined : 'ERR_SESSION_EXPIRED')
    if (!valid) expect((short.invalidReason(session) as SessionExpired).expiredAt.getTime()).toBe(NOW + SHORT * 1000)
  })

  it('verify() gives the capped expiry', () => {
    const cookie = issuedUnderLongLifetime()
    const short = createSessions({ secrets: SECRET, lifetime: SHORT, clock: () => NOW })
    const result = short.verify(cookie.slice('session='.length))
    if (!result.ok) throw result.error
    expect(result.expiresAt?.getTime()).toBe(NOW + SHORT * 1000)
    expect(result.issuedAt?.getTime()).toBe(NOW)
  })
})
