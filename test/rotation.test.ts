import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { SessionError } from '../src/errors.js'
import { createKeyring } from '../src/keyring.js'
import { createSessions, type SessionsOptions } from '../src/sessions.js'
import { withSessions } from '../src/adapters/node.js'
import { CookieJar, startServer, useTestServers } from './helpers/server.js'

// Key rotation end to end, signed and encrypted: three keyring generations on real servers.
useTestServers()

const strong = () => randomBytes(32).toString('base64url')

async function app(secrets: string[], encrypt: boolean, errors: SessionError[] = []) {
  const options: SessionsOptions = { secrets, encrypt, lifetime: 3600, persistent: true, onInvalid: (e) => errors.push(e) }
  const sessions = createSessions<{ username: string; visits: number }>(options)
  return startServer(
    withSessions(sessions, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      if (url.pathname === '/login') req.session.set('username', url.searchParams.get('as') ?? 'admin')
      const visits = (req.session.get('visits') ?? 0) + (url.pathname === '/count' ? 1 : 0)
      if (url.pathname === '/count') req.session.set('visits', visits)
      res.end(JSON.stringify({ username: req.session.get('username') ?? null, visits }))
    }),
  )
}

const kidOf = (value: string | undefined) => value?.split('.')[1]

describe.each([
  ['signed', false, 'f1'],
  ['encrypted', true, 'x1'],
])('rotation across three keyring generations (%s)', (_, encrypt, version) => {
  it('moves every active user to the newest key after one visit, and retires the oldest', async () => {
    const [k1, k2, k3] = [strong(), strong(), strong()]
    const [id1, id2, id3] = [k1, k2, k3].map((k) => createKeyring(k).current.id)
    const alice = new CookieJar()
    const bob = new CookieJar()

    // Generation 1: only k1.
    const gen1 = await app([k1], encrypt)
    await alice.fetch(gen1.url('/login?as=alice'))
    await bob.fetch(gen1.url('/login?as=bob'))
    expect(alice.get('session')?.startsWith(`${version}.`)).toBe(true)
    expect(kidOf(alice.get('session'))).toBe(id1)

    // Generation 2: k2 first, k1 kept. Alice visits and is re-issued under k2 with no app change;
    // her data is intact. Bob stays away.
    const gen2 = await app([k2, k1], encrypt)
    const visit = await alice.fetch(gen2.url('/'))
    expect(await visit.json()).toEqual({ username: 'alice', visits: 0 })
    expect(visit.headers.getSetCookie()).toHaveLength(1)
    expect(kidOf(alice.get('session'))).toBe(id2)
    expect(kidOf(bob.get('session'))).toBe(id1)
    // A re-issued cookie is not re-issued again.
    expect((await alice.fetch(gen2.url('/'))).headers.getSetCookie()).toEqual([])

    // Generation 3: k3 first, k2 kept, k1 retired.
    const errors: SessionError[] = []
    const gen3 = await app([k3, k2], encrypt, errors)
    const aliceVisit = await alice.fetch(gen3.url('/count'))
    expect(await aliceVisit.json()).toEqual({ username: 'alice', visits: 1 })
    expect(kidOf(alice.get('session'))).toBe(id3)

    // Bob's cookie still carries k1: a fresh session (logged out), a 200, and the reason.
    const bobVisit = await bob.fetch(gen3.url('/'))
    expect(bobVisit.status).toBe(200)
    expect(await bobVisit.json()).toEqual({ username: null, visits: 0 })
    expect(errors.map((e) => e.code)).toEqual(['ERR_SESSION_UNKNOWN_KEY'])
    // The useless cookie is deleted so the browser stops sending it.
    expect(bob.get('session')).toBeUndefined()

    // The generation-1 server no longer understands Alice (she moved on): that is why old
    // secrets stay until every server has the new one.
    const stale = await alice.fetch(gen1.url('/'))
    expect(await stale.json()).toEqual({ username: null, visits: 0 })
  })
})

describe('signed and encrypted sessions under one keyring stay apart', () => {
  it('neither reads the other, even with the same secret and cookie name', async () => {
    const secret = strong()
    const signedErrors: SessionError[] = []
    const sealedErrors: SessionError[] = []
    const signed = await app([secret], false, signedErrors)
    const sealed = await app([secret], true, sealedErrors)

    const jar = new CookieJar()
    await jar.fetch(signed.url('/login?as=alice'))
    const signedCookie = jar.get('session')!
    expect(signedCookie.startsWith('f1.')).toBe(true)
    expect(await (await jar.fetch(sealed.url('/'))).json()).toEqual({ username: null, visits: 0 })
    expect(sealedErrors.map((e) => e.code)).toEqual(['ERR_SESSION_UNSUPPORTED_VERSION'])

    const other = new CookieJar()
    await other.fetch(sealed.url('/login?as=bob'))
    const sealedCookie = other.get('session')!
    expect(sealedCookie.startsWith('x1.')).toBe(true)
    expect(sealedCookie).not.toContain(Buffer.from('bob').toString('base64url'))
    expect(await (await other.fetch(signed.url('/'))).json()).toEqual({ username: null, visits: 0 })
    expect(signedErrors.map((e) => e.code)).toEqual(['ERR_SESSION_UNSUPPORTED_VERSION'])
  })

  it('binds the cookie name: an encrypted cookie moved to another name fails', () => {
    const secret = strong()
    const a = createSessions({ secrets: secret, encrypt: true, cookie: { name: 'a' } })
    const b = createSessions({ secrets: secret, encrypt: true, cookie: { name: 'b' } })
    const session = a.read(undefined)
    session.set('user', 'x')
    const value = a.commit(session).setCookie[0]!.split(';')[0]!.slice('a='.length)
    expect(a.verify(value).ok).toBe(true)
    const moved = b.read(`b=${value}`)
    expect(moved.size).toBe(0)
    expect(b.invalidReason(moved)?.code).toBe('ERR_SESSION_SIGNATURE_INVALID')
  })
})
