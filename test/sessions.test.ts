import { randomBytes } from 'node:crypto'
import { describe, it, expect, vi } from 'vitest'
import fc from 'fast-check'
import { MAX_COOKIE_BYTES, getCookie } from '../src/cookie/cookie.js'
import {
  CookieTooLarge,
  PayloadTooLarge,
  NotYetValid,
  PayloadMalformed,
  SessionError,
  SessionExpired,
  SignatureInvalid,
  UnknownKey,
  type SessionErrorCode,
} from '../src/errors.js'
import { createSerializer, createSigner } from '../src/signer.js'
import { createSessions, type SessionsOptions } from '../src/sessions.js'
import { createFlaskFormat } from '../src/flask/format.js'
import type { Session, SessionFormat, Sessions } from '../src/index.js'
import { CookieJar, isDeletion, parseSetCookie } from './helpers/server.js'

const SECRET = 'frasco-test-secret-0123456789-abcdefghijklmnop'
const OLD_SECRET = 'frasco-old-secret-9876543210-zyxwvutsrqponmlkj'
const NOW = Date.UTC(2030, 0, 1) // a fixed clock for every test that signs
const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT'

function clock(start = NOW): { clock: () => number; advance(seconds: number): void } {
  let time = start
  return { clock: () => time, advance: (seconds) => void (time += seconds * 1000) }
}

/** The Cookie header a browser would send back after receiving `setCookies`. */
function cookieHeader(setCookies: readonly string[], jar = new CookieJar(() => NOW)): string | undefined {
  jar.apply(setCookies)
  return jar.header()
}

/** A string that DEFLATE cannot shrink below base64url's own overhead: random base64. */
function incompressible(bytes: number): string {
  return randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').slice(0, bytes)
}

describe('createSessions: option validation', () => {
  it.each<[name: string, options: Record<string, unknown>]>([
    ['secrets', { secrets: 'too short' }],
    ['secrets', { secrets: [] }],
    ['secrets', { secrets: 'a'.repeat(64) }],
    ['secrets', { secrets: 42 }],
    ['secrets[1]', { secrets: [SECRET, 'short'] }],
    ['secrets[1]', { secrets: [SECRET, SECRET] }],
    ['cookie', { cookie: 'session' }],
    ['cookie.name', { cookie: { name: '' } }],
    ['cookie.name', { cookie: { name: 42 } }],
    ['cookie.name', { cookie: { name: 'my session' } }],
    ['cookie.name', { cookie: { name: 'a;b' } }],
    ['cookie.secure', { cookie: { secure: 'yes' } }],
    ['cookie.secure', { cookie: { name: '__Host-session' } }],
    ['cookie.secure', { cookie: { name: '__Host-session', secure: false } }],
    ['cookie.secure', { cookie: { name: '__host-session', secure: 'auto' } }],
    ['cookie.secure', { cookie: { name: '__Secure-session', secure: false } }],
    ['cookie.secure', { cookie: { sameSite: 'none' } }],
    ['cookie.secure', { cookie: { partitioned: true } }],
    ['cookie.path', { cookie: { name: '__Host-session', secure: true, path: '/app' } }],
    ['cookie.domain', { cookie: { name: '__Host-session', secure: true, domain: 'example.com' } }],
    ['cookie.path', { cookie: { path: 'app' } }],
    ['cookie.path', { cookie: { path: '/a;b' } }],
    ['cookie.domain', { cookie: { domain: 'exa mple.com' } }],
    ['cookie.httpOnly', { cookie: { httpOnly: 'yes' } }],
    ['cookie.partitioned', { cookie: { partitioned: 1 } }],
    ['cookie.sameSite', { cookie: { sameSite: 'loose' } }],
    ['cookie.priority', { cookie: { priority: 'urgent' } }],
    ['lifetime', { lifetime: 0 }],
    ['lifetime', { lifetime: -1 }],
    ['lifetime', { lifetime: Number.NaN }],
    ['lifetime', { lifetime: Number.POSITIVE_INFINITY }],
    ['lifetime', { lifetime: '3600' }],
    ['lifetime', { lifetime: 0.5 }],
    ['lifetime', { lifetime: 86_400_000 }],
    ['persistent', { persistent: 'yes' }],
    ['persistent', { persistent: 1 }],
    ['idleTimeout', { idleTimeout: 0 }],
    ['idleTimeout', { idleTimeout: -5 }],
    ['idleTimeout', { idleTimeout: '5m' }],
    ['idleTimeout', { idleTimeout: 400 * 86400 + 1 }],
    ['rolling', { rolling: 'yes' }],
    ['rolling', { rolling: 1 }],
    ['chunking', { chunking: 'yes' }],
    ['chunking', { chunking: { maxChunks: 0 } }],
    ['chunking', { chunking: { maxChunks: 11 } }],
    ['chunking', { chunking: { maxChunks: 1.5 } }],
    ['chunking', { chunking: {} }],
    ['compress', { compress: 'yes' }],
    ['compress', { compress: { threshold: -1 } }],
    ['clockTolerance', { clockTolerance: -1 }],
    ['clockTolerance', { clockTolerance: '60' }],
    ['onInvalid', { onInvalid: 'console.warn' }],
    ['clock', { clock: NOW }],
    ['format', { format: 'flask' }],
    ['format', { format: {} }],
    ['chunking.unknown', { chunking: { unknown: 1 } }],
    ['compress.level', { compress: { level: 9 } }],
  ])('rejects an invalid %s: %j', (name, options) => {
    const create = () => createSessions({ secrets: SECRET, ...options } as unknown as SessionsOptions)
    expect(create).toThrow(TypeError)
    const pattern = new RegExp(`^option ${name.replace(/[.[\]]/g, '\\$&')} is (invalid|unknown): `)
    expect(create).toThrow(pattern)
  })

  it('rejects a missing options object', () => {
    expect(() => createSessions(undefined as unknown as SessionsOptions)).toThrow(TypeError)
    expect(() => createSessions(null as unknown as SessionsOptions)).toThrow(TypeError)
  })

  it('accepts every valid option together', () => {
    const sessions = createSessions({
      secrets: [SECRET, OLD_SECRET],
      cookie: { name: '__Host-sid', secure: true, httpOnly: true, sameSite: 'strict', partitioned: true, priority: 'high' },
      lifetime: 3600,
      persistent: true,
      idleTimeout: 900,
      rolling: true,
      chunking: { maxChunks: 4 },
      compress: { threshold: 10 },
      clockTolerance: 5,
      onInvalid: () => {},
      clock: Date.now,
      encrypt: false,
    })
    expect(sessions.cookieName).toBe('__Host-sid')
    expect(sessions.secureAuto).toBe(false)
  })

  it('defaults to a cookie named session with secure decided per request', () => {
    const sessions = createSessions({ secrets: SECRET })
    expect(sessions.cookieName).toBe('session')
    expect(sessions.secureAuto).toBe(true)
  })
})

describe('createSessions: read and commit', () => {
  const sessions = createSessions<{ user?: string; n?: number }>({ secrets: SECRET, clock: () => NOW })

  it('writes nothing for an untouched new session, or one only looked at', () => {
    expect(sessions.commit(sessions.read(undefined)).setCookie).toEqual([])
    expect(sessions.commit(sessions.read(null)).setCookie).toEqual([])
    expect(sessions.commit(sessions.read('other=1')).setCookie).toEqual([])
    const looked = sessions.read('')
    expect(looked.get('user')).toBeUndefined()
    expect(looked.accessed).toBe(true)
    expect(sessions.commit(looked).setCookie).toEqual([])
  })

  it('writes nothing for an untouched valid session, or one only read', () => {
    const header = `session=${sessions.sign({ user: 'ada' })}`
    expect(sessions.commit(sessions.read(header)).setCookie).toEqual([])
    const read = sessions.read(header)
    expect(read.get('user')).toBe('ada')
    expect(read.isNew).toBe(false)
    expect(sessions.commit(read).setCookie).toEqual([])
  })

  it('writes one cookie with the default attributes when data is set', () => {
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    const headers = sessions.commit(session).setCookie
    expect(headers).toHaveLength(1)
    const cookie = parseSetCookie(headers[0] as string)
    expect(cookie.name).toBe('session')
    expect(cookie.attributes).toEqual({ path: '/', httponly: true, samesite: 'Lax' })
    // The value is the signed token that read() accepts.
    expect(sessions.read(`session=${cookie.value}`).get('user')).toBe('ada')
  })

  it('adds Secure when the request was secure and cookie.secure is auto', () => {
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    expect(parseSetCookie(sessions.commit(session, { secure: true }).setCookie[0] as string).attributes.secure).toBe(true)
    expect(parseSetCookie(sessions.commit(session, { secure: false }).setCookie[0] as string).attributes.secure).toBeUndefined()
  })

  it('honours secure: true and secure: false whatever the request', () => {
    const always = createSessions({ secrets: SECRET, cookie: { secure: true } })
    const never = createSessions({ secrets: SECRET, cookie: { secure: false } })
    for (const [manager, expected] of [
      [always, true],
      [never, undefined],
    ] as const) {
      const session = manager.read(undefined)
      session.set('x', 1)
      expect(parseSetCookie(manager.commit(session, { secure: false }).setCookie[0] as string).attributes.secure).toBe(expected)
      expect(parseSetCookie(manager.commit(session, { secure: true }).setCookie[0] as string).attributes.secure).toBe(expected)
    }
  })

  it('deletes the cookie when the session is emptied', () => {
    const session = sessions.read(`session=${sessions.sign({ user: 'ada' })}`)
    expect(session.pop('user')).toBe('ada')
    expect(sessions.commit(session).setCookie).toEqual([`session=; Path=/; Expires=${EPOCH}; Max-Age=0; HttpOnly; SameSite=Lax`])
  })

  it('deletes the cookie on destroy() and on clear()', () => {
    const destroyed = sessions.read(`session=${sessions.sign({ user: 'ada' })}`)
    destroyed.destroy()
    const cleared = sessions.read(`session=${sessions.sign({ user: 'ada' })}`)
    cleared.clear()
    for (const session of [destroyed, cleared]) {
      const headers = sessions.commit(session).setCookie
      expect(headers).toHaveLength(1)
      expect(isDeletion(parseSetCookie(headers[0] as string))).toBe(true)
    }
  })

  it('writes nothing when a new session is emptied before commit', () => {
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    session.delete('user')
    expect(sessions.commit(session).setCookie).toEqual([])
    const destroyed = sessions.read(undefined)
    destroyed.destroy()
    expect(sessions.commit(destroyed).setCookie).toEqual([])
  })

  // Untyped, so that any key may be stored.
  const untyped = createSessions({ secrets: SECRET, clock: () => NOW })

  it('round trips every stored type through the cookie', () => {
    const session = untyped.read(undefined)
    const value = {
      date: new Date(NOW),
      bytes: new Uint8Array([0, 1, 255]),
      big: 2n ** 70n,
      map: new Map([['a', 1]]),
      set: new Set(['x']),
      nested: { list: [1, 'two', null, true] },
      text: 'héllo, wörld; "quoted" \u{1F600}',
    }
    for (const [key, v] of Object.entries(value)) session.set(key, v)
    const again = untyped.read(cookieHeader(untyped.commit(session).setCookie))
    expect(again.isNew).toBe(false)
    expect(again.toJSON()).toEqual(value)
  })

  it('keeps keys such as __proto__ as plain data without touching Object.prototype', () => {
    const session = untyped.read(undefined)
    session.set('__proto__', { polluted: true })
    session.set('constructor', 'c')
    const again = untyped.read(cookieHeader(untyped.commit(session).setCookie))
    expect(again.get('__proto__')).toEqual({ polluted: true })
    expect(again.get('constructor')).toBe('c')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('re-signs a session whose stored object changed in place once touch() is called', () => {
    const managed = createSessions<{ cart: string[] }>({ secrets: SECRET, clock: () => NOW })
    const session = managed.read(`session=${managed.sign({ cart: ['tea'] })}`)
    session.get('cart')?.push('milk')
    expect(managed.commit(session).setCookie).toEqual([])
    session.touch()
    expect(managed.read(cookieHeader(managed.commit(session).setCookie)).get('cart')).toEqual(['tea', 'milk'])
  })
})

describe('createSessions: invalid cookies', () => {
  const other = createSessions({ secrets: SECRET, cookie: { name: 'other' }, clock: () => NOW })

  function tokens() {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW })
    const good = sessions.sign({ user: 'ada' })
    const [version, kid, body, tag] = good.split('.') as [string, string, string, string]
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)
    return { sessions, good, version, kid, body, tag, flip }
  }

  it.each<[string, (t: ReturnType<typeof tokens>) => string, SessionErrorCode, new (...args: never[]) => SessionError]>([
    ['a tampered body', (t) => `${t.version}.${t.kid}.${t.flip(t.body, 12)}.${t.tag}`, 'ERR_SESSION_SIGNATURE_INVALID', SignatureInvalid],
    ['a tampered tag', (t) => `${t.version}.${t.kid}.${t.body}.${t.flip(t.tag, 3)}`, 'ERR_SESSION_SIGNATURE_INVALID', SignatureInvalid],
    ['a truncated token', (t) => t.good.slice(0, -4), 'ERR_SESSION_SIGNATURE_INVALID', SignatureInvalid],
    ['garbage', () => 'not-a-token', 'ERR_SESSION_MALFORMED', PayloadMalformed],
    ['an unknown key id', (t) => `${t.version}.AAAAAAAA.${t.body}.${t.tag}`, 'ERR_SESSION_UNKNOWN_KEY', UnknownKey],
    ['a token for another cookie name', () => other.sign({ user: 'ada' }), 'ERR_SESSION_SIGNATURE_INVALID', SignatureInvalid],
    ['an expired token', (t) => t.sessions.sign({ user: 'ada' }, { now: NOW - 3600_000, expiresIn: 60 }), 'ERR_SESSION_EXPIRED', SessionExpired],
    ['a future-dated token', (t) => t.sessions.sign({ user: 'ada' }, { now: NOW + 86_400_000 }), 'ERR_SESSION_NOT_YET_VALID', NotYetValid],
  ])('rejects %s: onInvalid and invalidReason get the typed error', (_, make, code, type) => {
    const t = tokens()
    const onInvalid = vi.fn()
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, onInvalid })
    const session = sessions.read(`session=${make(t)}`)
    expect(session.isNew).toBe(true)
    expect(session.keys()).toEqual([])
    expect(onInvalid).toHaveBeenCalledTimes(1)
    const error = onInvalid.mock.calls[0]?.[0] as SessionError
    expect(error).toBeInstanceOf(type)
    expect(error.code).toBe(code)
    expect(sessions.invalidReason(session)).toBe(error)
    // The same verdict from verify(), which reads exactly as read() does.
    const verified = sessions.verify(make(t))
    expect(verified.ok).toBe(false)
    if (!verified.ok) expect(verified.error.code).toBe(code)
    // The browser is told to drop the rejected cookie.
    const headers = sessions.commit(session).setCookie
    expect(headers).toHaveLength(1)
    expect(isDeletion(parseSetCookie(headers[0] as string))).toBe(true)
  })

  it('rejects a signed payload that is not an object, in read and in verify alike', () => {
    const serializer = createSerializer({ secrets: SECRET, purpose: 'session:session' })
    const onInvalid = vi.fn()
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, onInvalid })
    for (const value of [[1, 2], 'text', 42, null, new Map([['a', 1]]), new Date(NOW)]) {
      const token = serializer.sign(value, { now: NOW, expiresIn: 60 })
      const session = sessions.read(`session=${token}`)
      expect(session.isNew).toBe(true)
      expect(sessions.invalidReason(session)).toMatchObject({ code: 'ERR_SESSION_MALFORMED', message: 'session payload is not an object' })
      const verified = sessions.verify(token)
      expect(verified.ok).toBe(false)
      if (!verified.ok) expect(verified.error).toMatchObject({ code: 'ERR_SESSION_MALFORMED', message: 'session payload is not an object' })
    }
    expect(onInvalid).toHaveBeenCalledTimes(6)
  })

  it('swallows exceptions thrown by onInvalid', () => {
    const onInvalid = vi.fn(() => {
      throw new Error('logger down')
    })
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, onInvalid })
    const session = sessions.read('session=garbage')
    expect(onInvalid).toHaveBeenCalledTimes(1)
    expect(session.isNew).toBe(true)
    expect(sessions.invalidReason(session)?.code).toBe('ERR_SESSION_MALFORMED')
  })

  it('does not call onInvalid for a missing, empty or valid cookie', () => {
    const onInvalid = vi.fn()
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, onInvalid })
    for (const header of [undefined, '', 'session=', 'a=1', `session=${sessions.sign({ a: 1 })}`]) {
      expect(sessions.invalidReason(sessions.read(header))).toBeUndefined()
    }
    expect(onInvalid).not.toHaveBeenCalled()
  })

  it('never throws on arbitrary Cookie headers, and always commits cleanly', () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, onInvalid: () => {} })
    const good = sessions.sign({ user: 'ada' })
    const header = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: fc.constantFrom('session', '.0', '.1', '=', ';', ' ', '"', 'f1', '.', good.slice(0, 20), '%', '\u0000'), maxLength: 30 }).map((s) => s),
      fc.tuple(fc.nat(good.length), fc.string({ maxLength: 5 })).map(([at, junk]) => `session=${good.slice(0, at)}${junk}${good.slice(at)}`),
    )
    fc.assert(
      fc.property(header, (h) => {
        const session = sessions.read(h)
        // Whatever came in, the session is usable and commits without throwing.
        session.set('probe', 1)
        expect(sessions.commit(session).setCookie.length).toBeGreaterThan(0)
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      }),
      { numRuns: 300 },
    )
  })
})

describe('createSessions: sign and verify', () => {
  const time = clock()
  const sessions = createSessions<{ user: string }>({ secrets: SECRET, lifetime: 3600, clock: time.clock })

  it('sign() makes exactly the token commit() writes, and read() accepts it', () => {
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    const committed = getCookie(cookieHeader(sessions.commit(session).setCookie), 'session')
    expect(committed).toBe(sessions.sign({ user: 'ada' }))
    expect(sessions.read(`session=${committed}`).toJSON()).toEqual({ user: 'ada' })
  })

  it('verify() reports what read() sees', () => {
    const token = sessions.sign({ user: 'ada' })
    const result = sessions.verify(token)
    expect(result).toMatchObject({ ok: true, value: { user: 'ada' }, stale: false })
    if (!result.ok) throw new Error('unreachable')
    expect(result.issuedAt?.getTime()).toBe(NOW)
    expect(result.expiresAt?.getTime()).toBe(NOW + 3600_000)
    expect(sessions.read(`session=${token}`).toJSON()).toEqual(result.value)
  })

  it('sign() takes its own clock and lifetime; verify() its own clock', () => {
    const token = sessions.sign({ user: 'ada' }, { now: NOW - 7200_000, expiresIn: 60 })
    expect(sessions.verify(token).ok).toBe(false)
    expect(sessions.verify(token, { now: NOW - 7200_000 + 30_000 }).ok).toBe(true)
    expect(sessions.read(`session=${token}`).isNew).toBe(true)
  })

  it('verify() marks a token signed with an older secret as stale', () => {
    const old = createSessions({ secrets: OLD_SECRET, clock: time.clock }).sign({ user: 'ada' })
    const rotated = createSessions({ secrets: [SECRET, OLD_SECRET], clock: time.clock })
    expect(rotated.verify(old)).toMatchObject({ ok: true, stale: true })
  })
})

describe('createSessions: values that cannot be stored', () => {
  class User {
    constructor(readonly name: string) {}
  }
  const cycle: Record<string, unknown> = { name: 'loop' }
  cycle.self = cycle

  it.each<[string, unknown]>([
    ['a function', () => 'hi'],
    ['a cycle', cycle],
    ['a class instance', new User('ada')],
    ['a symbol', Symbol('s')],
    ['NaN', Number.NaN],
    ['a nested function', { deep: { fn() {} } }],
  ])('refuses %s at commit with a TypeError naming the key, writing nothing', (_, value) => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW })
    const session = sessions.read(`session=${sessions.sign({ user: 'ada' })}`)
    session.set('profileData', value)
    let thrown: unknown
    let headers: string[] | undefined
    try {
      headers = sessions.commit(session).setCookie
    } catch (error) {
      thrown = error
    }
    expect(headers).toBeUndefined()
    expect(thrown).toBeInstanceOf(TypeError)
    expect((thrown as TypeError).message).toContain('profileData')
    // Fixing the value makes the same session committable.
    session.set('profileData', 'ok')
    expect(sessions.read(cookieHeader(sessions.commit(session).setCookie)).get('profileData')).toBe('ok')
  })
})

describe('createSessions: chunking', () => {
  const sessions = createSessions<{ blob: string }>({ secrets: SECRET, clock: () => NOW, lifetime: 3600, persistent: true })

  function commitBlob(size: number, header?: string) {
    const session = sessions.read(header)
    session.set('blob', incompressible(size))
    return { value: session.get('blob'), headers: sessions.commit(session).setCookie }
  }

  it('splits a 10 KB session into session.0..N, each header within 4096 bytes, and reads it back', () => {
    const { value, headers } = commitBlob(10_000)
    const cookies = headers.map(parseSetCookie)
    expect(cookies.map((c) => c.name)).toEqual(['session.0', 'session.1', 'session.2'])
    for (const header of headers) expect(header.length).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
    for (const cookie of cookies) expect(cookie.attributes).toMatchObject({ path: '/', 'max-age': '3600', httponly: true })
    const again = sessions.read(cookieHeader(headers))
    expect(again.isNew).toBe(false)
    expect(again.get('blob')).toBe(value)
  })

  it('accepts the chunks in any header order', () => {
    const { value, headers } = commitBlob(10_000)
    const pairs = headers.map(parseSetCookie).map((c) => `${c.name}=${c.value}`)
    const again = sessions.read([...pairs].reverse().join('; '))
    expect(again.get('blob')).toBe(value)
  })

  it('shrinking to one cookie deletes every stale chunk', () => {
    const big = cookieHeader(commitBlob(10_000).headers)
    const session = sessions.read(big)
    session.set('blob', 'small')
    const cookies = sessions.commit(session).setCookie.map(parseSetCookie)
    expect(cookies.map((c) => [c.name, isDeletion(c)])).toEqual([
      ['session', false],
      ['session.0', true],
      ['session.1', true],
      ['session.2', true],
    ])
  })

  it('shrinking from three chunks to two deletes only the third', () => {
    const big = cookieHeader(commitBlob(10_000).headers)
    const session = sessions.read(big)
    session.set('blob', incompressible(5_000))
    const cookies = sessions.commit(session).setCookie.map(parseSetCookie)
    expect(cookies.map((c) => [c.name, isDeletion(c)])).toEqual([
      ['session.0', false],
      ['session.1', false],
      ['session.2', true],
    ])
  })

  it('growing from one cookie to chunks deletes the single cookie', () => {
    const small = cookieHeader(commitBlob(10).headers)
    expect(small).toMatch(/^session=/)
    const { headers } = commitBlob(10_000, small)
    expect(headers.map(parseSetCookie).map((c) => [c.name, isDeletion(c)])).toEqual([
      ['session.0', false],
      ['session.1', false],
      ['session.2', false],
      ['session', true],
    ])
  })

  it('deletes chunks left over beside a single cookie, even when the session was not changed', () => {
    const single = sessions.sign({ blob: 'x' })
    const session = sessions.read(`session.0=old; session=${single}; session.1=old`)
    expect(session.get('blob')).toBe('x')
    const cookies = sessions.commit(session).setCookie.map(parseSetCookie)
    expect(cookies.map((c) => [c.name, isDeletion(c)])).toEqual([
      ['session', false],
      ['session.0', true],
      ['session.1', true],
    ])
  })

  it('deletes chunks stranded behind a missing one, so they cannot corrupt a later session', () => {
    const [first, , third] = commitBlob(10_000).headers.map(parseSetCookie)
    const header = `session.0=${first?.value}; session.2=${third?.value}`
    const session = sessions.read(header)
    expect(session.isNew).toBe(true)
    session.set('blob', incompressible(5_000))
    const cookies = sessions.commit(session).setCookie.map(parseSetCookie)
    expect(cookies.map((c) => [c.name, isDeletion(c)])).toEqual([
      ['session.0', false],
      ['session.1', false],
      ['session.2', true],
    ])
  })

  it('throws CookieTooLarge for a session that does not fit in 3 chunks', () => {
    const session = sessions.read(undefined)
    session.set('blob', incompressible(20_000))
    expect(() => sessions.commit(session).setCookie).toThrow(CookieTooLarge)
    try {
      sessions.commit(session).setCookie
    } catch (error) {
      expect((error as CookieTooLarge).code).toBe('ERR_SESSION_COOKIE_TOO_LARGE')
      expect((error as CookieTooLarge).limit).toBe(3 * MAX_COOKIE_BYTES)
    }
  })

  it('honours chunking.maxChunks', () => {
    const five = createSessions({ secrets: SECRET, clock: () => NOW, chunking: { maxChunks: 5 } })
    const session = five.read(undefined)
    const blob = incompressible(16_000)
    session.set('blob', blob)
    const headers = five.commit(session).setCookie
    expect(headers.length).toBeGreaterThan(3)
    expect(headers.length).toBeLessThanOrEqual(5)
    for (const header of headers) expect(header.length).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
    expect(five.read(cookieHeader(headers)).get('blob')).toBe(blob)
    // The default manager refuses that many chunks.
    const onInvalid = vi.fn()
    const three = createSessions({ secrets: SECRET, clock: () => NOW, onInvalid })
    expect(three.read(cookieHeader(headers)).isNew).toBe(true)
    expect(onInvalid.mock.calls[0]?.[0]).toBeInstanceOf(PayloadTooLarge)
  })

  it('throws CookieTooLarge past one cookie when chunking is off', () => {
    const off = createSessions({ secrets: SECRET, clock: () => NOW, chunking: false })
    const session = off.read(undefined)
    session.set('blob', incompressible(5_000))
    expect(() => off.commit(session).setCookie).toThrow(CookieTooLarge)
    session.set('blob', incompressible(3_000))
    const headers = off.commit(session).setCookie
    expect(headers).toHaveLength(1)
    expect((headers[0] as string).length).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
  })

  it('keeps a session just under one cookie in one cookie, and just over in two chunks', () => {
    // Find the largest value that still fits one Set-Cookie header, by growing it.
    const uncompressed = createSessions({ secrets: SECRET, clock: () => NOW, compress: false })
    let size = 2_900
    let last: string[] = []
    for (;;) {
      const session = uncompressed.read(undefined)
      session.set('blob', 'x'.repeat(size + 1))
      const headers = uncompressed.commit(session).setCookie
      if (headers.length > 1) break
      last = headers
      size++
    }
    expect(last).toHaveLength(1)
    expect((last[0] as string).length).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
    const session = uncompressed.read(undefined)
    session.set('blob', 'x'.repeat(size + 1))
    const chunks = uncompressed.commit(session).setCookie
    expect(chunks.map((h) => parseSetCookie(h).name)).toEqual(['session.0', 'session.1'])
    for (const header of chunks) expect(header.length).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
    expect(uncompressed.read(cookieHeader(chunks)).get('blob')).toBe('x'.repeat(size + 1))
  })
})

describe('createSessions: expiry with an injected clock', () => {
  it('expires a browser-session cookie at its lifetime', () => {
    const time = clock()
    const onInvalid = vi.fn()
    const sessions = createSessions({ secrets: SECRET, clock: time.clock, lifetime: 600, clockTolerance: 0, onInvalid })
    const session = sessions.read(undefined)
    session.set('a', 1)
    const headers = sessions.commit(session).setCookie
    expect(parseSetCookie(headers[0] as string).attributes['max-age']).toBeUndefined()
    expect(parseSetCookie(headers[0] as string).attributes.expires).toBeUndefined()
    const header = cookieHeader(headers)
    time.advance(599)
    expect(sessions.read(header).get('a')).toBe(1)
    time.advance(1)
    expect(sessions.read(header).isNew).toBe(true)
    expect(onInvalid.mock.calls[0]?.[0]).toBeInstanceOf(SessionExpired)
  })

  it('re-issues an idle-timeout session at most every tenth of the timeout', () => {
    const time = clock()
    const sessions = createSessions({ secrets: SECRET, clock: time.clock, idleTimeout: 600 })
    const session = sessions.read(undefined)
    session.set('a', 1)
    let header = cookieHeader(sessions.commit(session).setCookie)
    time.advance(59)
    expect(sessions.commit(sessions.read(header)).setCookie).toEqual([])
    time.advance(1)
    const again = sessions.commit(sessions.read(header)).setCookie
    expect(again).toHaveLength(1)
    header = cookieHeader(again)
    expect(sessions.verify(getCookie(header, 'session') as string)).toMatchObject({ ok: true })
  })

  it('regenerate() issues a new identity with a new expiry', () => {
    const time = clock()
    const sessions = createSessions({ secrets: SECRET, clock: time.clock, lifetime: 3600, persistent: true })
    const first = sessions.read(undefined)
    first.set('a', 1)
    const header = cookieHeader(sessions.commit(first).setCookie)
    time.advance(1800)
    const session = sessions.read(header)
    session.regenerate()
    session.set('b', 2)
    const token = getCookie(cookieHeader(sessions.commit(session).setCookie), 'session') as string
    const result = sessions.verify(token)
    expect(result).toMatchObject({ ok: true, value: { b: 2 } })
    if (result.ok) expect(result.expiresAt?.getTime()).toBe(NOW + (1800 + 3600) * 1000)
  })
})

describe('the payload cap on writing', () => {
  it('refuses at commit a session that compresses small but would inflate past what read() accepts', async () => {
    const { createSessions } = await import('../src/sessions.js')
    const sessions = createSessions({ secrets: 'x'.repeat(8) + 'abcdefghijklmnopqrstuvwxyz012345' })
    const session = sessions.read(undefined)
    session.set('zeros', '0'.repeat(200_000))
    let thrown: unknown
    try {
      sessions.commit(session).setCookie
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ code: 'ERR_SESSION_COOKIE_TOO_LARGE', limit: 131_072 })
    session.set('zeros', '0'.repeat(100_000)) // compresses to a few hundred bytes, and reads back
    const [cookie] = sessions.commit(session).setCookie
    const back = sessions.read(cookie!.split(';')[0])
    expect(back.get('zeros')).toHaveLength(100_000)
  })

  it('makes createSerializer refuse to sign what it would refuse to verify', async () => {
    const { createSerializer } = await import('../src/signer.js')
    const serializer = createSerializer({ secrets: 'x'.repeat(8) + 'abcdefghijklmnopqrstuvwxyz012345', purpose: 'p', maxBytes: 1000 })
    expect(() => serializer.sign({ text: 'a'.repeat(2000) })).toThrow(/exceeds maxBytes \(1000\)/)
    expect(serializer.unsign(serializer.sign({ text: 'a'.repeat(900) }))).toEqual({ text: 'a'.repeat(900) })
  })
})

describe('review fixes', () => {
  it('does not read a createSigner token as a session, even under the session purpose', () => {
    const sessions = createSessions({ secrets: SECRET })
    const forged = createSigner({ secrets: SECRET, purpose: 'session:session' }).sign('{"username":"admin"}')
    const session = sessions.read(`session=${forged}`)
    expect(session.size).toBe(0)
    expect(sessions.invalidReason(session)?.code).toBe('ERR_SESSION_MALFORMED')
  })

  it('caps existing sessions when lifetime is lowered', () => {
    let now = NOW
    const long = createSessions({ secrets: SECRET, lifetime: 30 * 86_400, persistent: true, clock: () => now })
    const session = long.read(undefined)
    session.set('user', 'ada')
    const cookie = long.commit(session).setCookie[0]!.split(';')[0]!
    const short = createSessions({ secrets: SECRET, lifetime: 3600, persistent: true, clockTolerance: 0, clock: () => now })
    now = NOW + 1800_000
    const within = short.read(cookie)
    expect(within.get('user')).toBe('ada')
    within.set('seen', true)
    expect(short.commit(within).setCookie[0]).toMatch(/Max-Age=1800;/)
    now = NOW + 3600_000
    const after = short.read(cookie)
    expect(after.size).toBe(0)
    expect(short.invalidReason(after)?.code).toBe('ERR_SESSION_EXPIRED')
  })

  it('uses whole seconds of a fractional idleTimeout instead of failing every commit', () => {
    const sessions = createSessions({ secrets: SECRET, lifetime: 3600, persistent: true, idleTimeout: 90.5 })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    expect(sessions.commit(session).setCookie[0]).toMatch(/Max-Age=90;/)
    expect(() => createSessions({ secrets: SECRET, idleTimeout: 0.5 })).toThrow(/option idleTimeout is invalid/)
  })
})

describe('lifetime limits', () => {
  it.each(['lifetime', 'idleTimeout'])('refuses a %s beyond 400 days at construction, saying seconds not milliseconds', (option) => {
    const create = (value: number) => () => createSessions({ secrets: SECRET, [option]: value })
    expect(create(400 * 86_400)).not.toThrow()
    expect(create(400 * 86_400 + 1)).toThrow(new RegExp(`^option ${option} is invalid: .*seconds, not milliseconds`))
    expect(create(14 * 86_400_000)).toThrow(/seconds, not milliseconds/)
  })

  it('refuses sessions.sign with a lifetime longer than the manager would accept on read', () => {
    const sessions = createSessions({ secrets: SECRET, lifetime: 3600 })
    expect(() => sessions.sign({ a: 1 }, { expiresIn: 86_400 })).toThrow(/option expiresIn is invalid/)
    expect(sessions.verify(sessions.sign({ a: 1 }, { expiresIn: 600 })).ok).toBe(true)
  })
})

describe('the clock', () => {
  it('refuses to write a session whose times fall outside the token format, instead of wrapping them', () => {
    const sessions = createSessions({ secrets: SECRET, lifetime: 3600, clock: () => (2 ** 48 - 100) * 1000 })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    expect(() => sessions.commit(session).setCookie).toThrow(RangeError)
  })

  it('keeps the clock it was created with (Date.now captured at construction)', () => {
    const sessions = createSessions({ secrets: SECRET, lifetime: 3600 })
    const before = Date.now()
    vi.useFakeTimers()
    try {
      vi.setSystemTime(Date.UTC(2001, 0, 1))
      const session = sessions.read(undefined)
      session.set('a', 1)
      const [header] = sessions.commit(session).setCookie
      const value = header!.slice(header!.indexOf('=') + 1, header!.indexOf(';'))
      vi.useRealTimers()
      const issued = sessions.verify(value)
      expect(issued.ok && issued.issuedAt?.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('per-session persistence ("remember me")', () => {
  const LIFETIME = 14 * 86_400

  function commitOne(sessions: Sessions, session: Session): { maxAge: string | undefined; header: string } {
    const [setCookie] = sessions.commit(session).setCookie
    const parsed = parseSetCookie(setCookie as string)
    expect(parsed.attributes.expires).toBeUndefined()
    const maxAge = parsed.attributes['max-age']
    return { maxAge: typeof maxAge === 'string' ? maxAge : undefined, header: cookieHeader([setCookie as string]) as string }
  }

  it('gives browser-session cookies by default and a Max-Age of the lifetime once persistent', () => {
    const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME, clock: () => NOW })
    const plain = sessions.read(undefined)
    expect(plain.persistent).toBe(false)
    plain.set('user', 'ada')
    expect(commitOne(sessions, plain).maxAge).toBeUndefined()

    const remembered = sessions.read(undefined)
    remembered.set('user', 'ada')
    remembered.persistent = true
    expect(remembered.modified).toBe(true)
    const { maxAge, header } = commitOne(sessions, remembered)
    expect(maxAge).toBe(String(LIFETIME))
    expect(sessions.read(header).persistent).toBe(true)
  })

  it('signs the choice into the cookie: it survives a read, counts down, and can be turned off', () => {
    const time = clock()
    const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME, clock: time.clock })
    const first = sessions.read(undefined)
    first.set('user', 'ada')
    first.persistent = true
    let header = commitOne(sessions, first).header

    time.advance(3600)
    const later = sessions.read(header)
    expect(later.persistent).toBe(true)
    expect(sessions.commit(later).setCookie).toEqual([]) // untouched: nothing to write
    later.set('visits', 1)
    const again = commitOne(sessions, later)
    expect(again.maxAge).toBe(String(LIFETIME - 3600)) // the same expiry, not a new one
    header = again.header

    const off = sessions.read(header)
    off.persistent = false
    const cleared = commitOne(sessions, off)
    expect(cleared.maxAge).toBeUndefined()
    expect(sessions.read(cleared.header).persistent).toBe(false)
  })

  it('assigning the same value changes nothing', () => {
    const sessions = createSessions({ secrets: SECRET })
    const session = sessions.read(undefined)
    session.persistent = false
    expect(session.modified).toBe(false)
    expect(sessions.commit(session).setCookie).toEqual([])
  })

  it('starts new sessions as the persistent option says; regenerate() and destroy() go back to it', () => {
    const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME, persistent: true, clock: () => NOW })
    const session = sessions.read(undefined)
    expect(session.persistent).toBe(true)
    session.set('user', 'ada')
    session.persistent = false
    session.regenerate()
    expect(session.persistent).toBe(true)
    session.persistent = false
    session.destroy()
    expect(session.persistent).toBe(true)
    expect(() => {
      session.persistent = false
    }).toThrow(/destroyed session/)
  })

  it('caps Max-Age at the idle timeout, like the signed expiry', () => {
    const sessions = createSessions({ secrets: SECRET, lifetime: LIFETIME, idleTimeout: 1800, persistent: true, clock: () => NOW })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    expect(commitOne(sessions, session).maxAge).toBe('1800')
  })

  it('refuses anything but a boolean', () => {
    const session = createSessions({ secrets: SECRET }).read(undefined)
    expect(() => {
      ;(session as { persistent: unknown }).persistent = 'yes'
    }).toThrow(/session\.persistent must be true or false/)
    expect(() => delete (session as { persistent?: unknown }).persistent).toThrow(TypeError)
  })

  it('sessions.sign takes persistent, and verify() and read() see it', () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW })
    expect(sessions.read(`session=${sessions.sign({ a: 1 }, { persistent: true })}`).persistent).toBe(true)
    expect(sessions.read(`session=${sessions.sign({ a: 1 })}`).persistent).toBe(false)
    expect(sessions.verify(sessions.sign({ a: 1 }, { persistent: true }))).toMatchObject({ ok: true, persistent: true })
    expect(sessions.verify(sessions.sign({ a: 1 }))).toMatchObject({ ok: true, persistent: false })
    expect(() => sessions.sign({ a: 1 }, { persistent: 'yes' as never })).toThrow(/option persistent is invalid/)
  })

  it('keeps the persistent bit inside the MAC: a flipped flag is a forgery', () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW })
    const token = sessions.sign({ a: 1 }, { persistent: true })
    const [version, kid, body, tag] = token.split('.') as [string, string, string, string]
    const bytes = Buffer.from(body, 'base64url')
    expect(bytes[0]! & 0b1000).toBe(0b1000)
    bytes[0] = bytes[0]! & ~0b1000
    const flipped = [version, kid, bytes.toString('base64url'), tag].join('.')
    expect(sessions.verify(flipped)).toMatchObject({ ok: false, error: { code: 'ERR_SESSION_SIGNATURE_INVALID' } })
  })
})

describe('commit hands the adapter every header: Set-Cookie and Vary', () => {
  const sessions = createSessions({ secrets: SECRET, clock: () => NOW })

  it('asks for nothing when the response does not depend on the session', () => {
    expect(sessions.commit(sessions.read('a=1'))).toEqual({ setCookie: [], vary: undefined })
  })

  it.each<[current: string | string[] | null | undefined, expected: string | undefined]>([
    [undefined, 'Cookie'],
    [null, 'Cookie'],
    ['', 'Cookie'],
    ['Accept-Encoding', 'Accept-Encoding, Cookie'],
    ['accept, COOKIE', undefined],
    ['*', undefined],
    [['Accept-Encoding', 'Origin'], 'Accept-Encoding, Origin, Cookie'],
    [['Accept-Encoding', 'cookie'], undefined],
  ])('merges Cookie into Vary %j', (current, expected) => {
    const session = sessions.read(undefined)
    session.get('user')
    expect(sessions.commit(session, current === undefined ? {} : { vary: current })).toEqual({ setCookie: [], vary: expected })
  })

  it('asks for Vary with every cookie it writes', () => {
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    const result = sessions.commit(session, { vary: 'Accept' })
    expect(result.setCookie).toHaveLength(1)
    expect(result.vary).toBe('Accept, Cookie')
  })
})

describe('the manager takes a format object and knows nothing of any format', () => {
  it('drives a custom format through its interface', () => {
    const calls: string[] = []
    const format: SessionFormat = {
      name: 'test',
      defaultLifetime: 120,
      defaultChunking: false,
      createCodec(context) {
        calls.push(`create ${context.purpose} ${context.maxTokenLength}`)
        return {
          absoluteExpiry: true,
          clockTolerance: 0,
          encode(data, issuedAt, expiresAt, persistent) {
            calls.push(`encode ${issuedAt} ${expiresAt} ${persistent}`)
            return Buffer.from(JSON.stringify({ data, issuedAt, expiresAt, persistent })).toString('base64url')
          },
          decode(value, now) {
            calls.push(`decode ${now}`)
            const { data, issuedAt, expiresAt, persistent } = JSON.parse(Buffer.from(value, 'base64url').toString()) as Record<string, never>
            return { value: data, issuedAt, expiresAt, keyId: undefined, stale: false, persistent } as never
          },
        }
      },
    }
    const sessions = createSessions({ secrets: 'anything the format accepts', format, clock: () => NOW })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    session.persistent = true
    const [header] = sessions.commit(session).setCookie
    expect(header).toMatch(/; Max-Age=120;/)
    expect(sessions.read(cookieHeader([header as string])).toJSON()).toEqual({ user: 'ada' })
    expect(calls).toEqual([`create session:session 4096`, `encode ${NOW / 1000} ${NOW / 1000 + 120} true`, `decode ${NOW / 1000}`])
  })
})

describe('review fixes of 1.0', () => {
  it('hands out a new result every time: a caller adding to one cannot touch the next', () => {
    const sessions = createSessions({ secrets: SECRET })
    sessions.commit(sessions.read(undefined)).setCookie.push('evil=1')
    expect(sessions.commit(sessions.read(undefined)).setCookie).toEqual([])
  })

  it('checks the commit context', () => {
    const sessions = createSessions({ secrets: SECRET })
    const session = sessions.read(undefined)
    expect(() => sessions.commit(session, { secure: 'yes' as never })).toThrow(/^option secure is invalid/)
    expect(() => sessions.commit(session, { vary: {} as never })).toThrow(/^option vary is invalid/)
  })

  it('blames a bad clock on the clock option, not on now', () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => Number.NaN })
    expect(() => sessions.sign({ a: 1 })).toThrow(/^option clock is invalid/)
    expect(() => sessions.sign({ a: 1 }, { now: Number.NaN })).toThrow(/^option now is invalid/)
    const signer = createSigner({ secrets: SECRET, purpose: 'p', clock: () => -1 })
    expect(() => signer.sign('v')).toThrow(/^option clock is invalid/)
  })

  it('caps clockTolerance like every other span of seconds', () => {
    expect(() => createSessions({ secrets: SECRET, clockTolerance: 1e9 })).toThrow(/^option clockTolerance is invalid: .*seconds, not milliseconds/)
    expect(() => createSigner({ secrets: SECRET, purpose: 'p', clockTolerance: 60_000_000 })).toThrow(/^option clockTolerance is invalid/)
  })

  it('says that secrets is missing from every factory', () => {
    expect(() => createSigner({ purpose: 'p' } as never)).toThrow(/^option secrets is missing/)
    expect(() => createSerializer({ purpose: 'p' } as never)).toThrow(/^option secrets is missing/)
  })

  it('checks a format object whole', () => {
    const broken = { name: 'x', defaultChunking: true, createCodec: () => ({}) }
    expect(() => createSessions({ secrets: SECRET, format: broken as never })).toThrow(/^option format is invalid: .*defaultLifetime/)
    expect(() => createSessions({ secrets: SECRET, format: { ...broken, defaultLifetime: 86_400_000 } as never })).toThrow(/^option format\.defaultLifetime is invalid/)
  })

  const NOT_A_FORMAT = "option format is invalid: omit it for Frasco's format, or give createFlaskFormat() from 'frasco/flask' (a format has name, defaultLifetime, defaultChunking and createCodec)"

  it.each(['createCodec', 'name', 'defaultChunking', 'defaultLifetime'])('refuses a format object without %s', (missing) => {
    const format: Record<string, unknown> = { name: 'x', defaultChunking: true, defaultLifetime: 3600, createCodec: () => ({}) }
    delete format[missing]
    expect(() => createSessions({ secrets: SECRET, format: format as never })).toThrow(new TypeError(NOT_A_FORMAT))
  })

  it.each([null, 'frasco', 42, true])('refuses a format %o', (format) => {
    expect(() => createSessions({ secrets: SECRET, format: format as never })).toThrow(new TypeError(NOT_A_FORMAT))
  })

  it('takes any value carrying the four members as a format, a function object included', () => {
    const flask = createFlaskFormat()
    // A function's own name is read-only: this one is named after the format.
    const format = Object.assign(function flask_format() {}, { defaultLifetime: flask.defaultLifetime, defaultChunking: flask.defaultChunking, createCodec: flask.createCodec })
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, format })
    const verified = createSessions({ secrets: SECRET, clock: () => NOW, format: flask }).verify(sessions.sign({ user: 'ada' }))
    expect(verified.ok && verified.value).toEqual({ user: 'ada' })
  })

  it("points 'flask' at createFlaskFormat", () => {
    expect(() => createSessions({ secrets: SECRET, format: 'flask' as never })).toThrow(
      new TypeError("option format is invalid: give createFlaskFormat() from 'frasco/flask' for Flask cookies"),
    )
  })

  it.each<[what: string, cookie: Record<string, unknown>, message: string]>([
    ['an empty cookie.name', { name: '' }, "option cookie.name is invalid: give a cookie name such as 'session'"],
    ['a cookie.name that is a number', { name: 42 }, "option cookie.name is invalid: give a cookie name such as 'session'"],
    ["a __Host- cookie left to secure: 'auto'", { name: '__Host-sid' }, 'option cookie.secure is invalid: a cookie named __Host-sid must be Secure; set cookie.secure to true'],
    ['a __secure- cookie (any case) with secure: false', { name: '__secure-sid', secure: false }, 'option cookie.secure is invalid: a cookie named __secure-sid must be Secure; set cookie.secure to true'],
  ])('says what is wrong with %s, word for word', (_, cookie, message) => {
    expect(() => createSessions({ secrets: SECRET, cookie } as never)).toThrow(new TypeError(message))
  })

  it.each<[cookie: Record<string, unknown>, says: RegExp, cause: RegExp]>([
    [{ path: 'app' }, /^option cookie\.path is invalid: "app" is not a path-value/, /^option path is invalid: "app"/],
    [{ name: 'a b' }, /^option cookie\.name is invalid: "a b" is not a token/, /^cookie name is invalid: "a b"/],
  ])("names cookie %j's option as createSessions' own, with cookie.ts's error as the cause", (cookie, says, cause) => {
    let caught: unknown
    try {
      createSessions({ secrets: SECRET, cookie } as never)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(TypeError)
    expect((caught as Error).message).toMatch(says)
    expect((caught as Error).cause).toBeInstanceOf(TypeError)
    expect(((caught as Error).cause as Error).message).toMatch(cause)
  })

  it('takes a prefix only at the start of the name: x__Host-sid is an ordinary cookie', () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, cookie: { name: 'x__Host-sid' } })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    const [header] = sessions.commit(session, { secure: false }).setCookie
    expect(header).toMatch(/^x__Host-sid=/)
    expect(header).not.toMatch(/; Secure/)
  })

  it('takes chunking: { maxChunks: 1 }, which is chunking off', () => {
    const one = createSessions({ secrets: SECRET, clock: () => NOW, chunking: { maxChunks: 1 } })
    const session = one.read(undefined)
    session.set('big', randomBytes(6000).toString('base64url'))
    expect(() => one.commit(session)).toThrow(/chunking is off/)
  })
})

describe('what the manager says when its methods are misused, word for word', () => {
  const sessions = createSessions({ secrets: SECRET, clock: () => NOW })
  it.each<[string, () => unknown, string]>([
    ['a commit context that is text', () => sessions.commit(sessions.read(undefined), 'https' as never), 'options are invalid: sessions.commit takes an options object'],
    ['sign options that are text', () => sessions.sign({}, 'persistent' as never), 'options are invalid: sessions.sign takes an options object'],
    ['verify options that are text', () => sessions.verify('x', 'now' as never), 'options are invalid: sessions.verify takes an options object'],
    ['an expiresIn of 0', () => sessions.sign({}, { expiresIn: 0 }), 'option expiresIn is invalid: give a number of seconds, 1 or more'],
  ])('%s', (_, call, message) => {
    expect(call).toThrow(new TypeError(message))
  })
})

describe('commit without a context', () => {
  it('asks for Vary: Cookie when the session was read, and writes the cookie', () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    const commit = sessions.commit(session)
    expect(commit.vary).toBe('Cookie')
    expect(commit.setCookie).toHaveLength(1)
  })

  it('writes nothing and asks for no Vary for a session nobody looked at', () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW })
    expect(sessions.commit(sessions.read(undefined))).toEqual({ setCookie: [], vary: undefined })
  })

  it('deletes an empty session cookie it was sent', () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW })
    const [deletion] = sessions.commit(sessions.read('session=')).setCookie
    expect(isDeletion(parseSetCookie(deletion as string), NOW)).toBe(true)
    expect(parseSetCookie(deletion as string).name).toBe('session')
  })
})

describe('commit with the response status', () => {
  const sessions = createSessions({ secrets: SECRET, clock: () => NOW })

  it.each([500, 502, 503, 599])('writes no session cookie on a %i, and still asks for Vary', (status) => {
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    expect(sessions.commit(session, { status, vary: 'Accept' })).toEqual({ setCookie: [], vary: 'Accept, Cookie' })
  })

  it.each([200, 302, 404, 499, 600])('commits as usual on a %i', (status) => {
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    expect(sessions.commit(session, { status }).setCookie).toHaveLength(1)
  })

  it('refuses a status that is not one', () => {
    const session = sessions.read(undefined)
    for (const status of [0, 99, 1000, 500.5, Number.NaN]) expect(() => sessions.commit(session, { status })).toThrow(/^option status is invalid/)
    expect(() => sessions.commit(session, { status: '500' as never })).toThrow(/^option status is invalid/)
  })
})
