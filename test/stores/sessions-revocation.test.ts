/**
 * Ending sessions before they expire: `revoke(id)`, and `revokeUser(user)` with the `user` option
 * ("log out everywhere"), with the data in the store (`store`) and with the data in the cookie and
 * only its id in the store (`revocation`), over the memory store and a real Redis.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { withSessions } from '../../src/adapters/node.js'
import { createSessions, type StoredSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import { createRedisStore } from '../../src/stores/redis.js'
import type { SessionStore } from '../../src/stores/store.js'
import { describeRedis, useRedisClient } from '../helpers/redis.js'
import { cookieReader, manualClock, storeCookieCodec, testSecrets, type ManualClock } from '../helpers/stored.js'
import { CookieJar, isDeletion, parseSetCookie, startServer, useTestServers, type TestServer } from '../helpers/server.js'

useTestServers()

const secrets = testSecrets()
const reader = cookieReader(secrets)

type Data = { userId: string; note: string }
type Mode = 'store' | 'revocation'

interface Harness {
  sessions: StoredSessions<Data>
  store: SessionStore
  server: TestServer
  invalid: string[]
  errors: unknown[]
}

async function harness(mode: Mode, store: SessionStore, extra: { clock?: ManualClock; idleTimeout?: number } = {}): Promise<Harness> {
  const invalid: string[] = []
  const errors: unknown[] = []
  const common = {
    secrets,
    user: (data: Readonly<Record<string, unknown>>) => data['userId'] as string | undefined,
    onInvalid: (error: { code: string }) => invalid.push(error.code),
    ...(extra.clock === undefined ? {} : { clock: extra.clock.now }),
    ...(extra.idleTimeout === undefined ? {} : { idleTimeout: extra.idleTimeout }),
  }
  const sessions = mode === 'store' ? createSessions<Data>({ ...common, store }) : createSessions<Data>({ ...common, revocation: store })
  const server = await startServer(
    withSessions<Data>(
      sessions,
      async (req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost')
        const session = req.session
        switch (url.pathname) {
          case '/login':
            session.regenerate()
            session.set('userId', url.searchParams.get('user') ?? '')
            break
          case '/note':
            session.set('note', url.searchParams.get('text') ?? '')
            break
          case '/logout':
            req.session = null
            break
          case '/revoke-me':
          case '/revoke-me-then-note': {
            const id = sessions.sessionId(session)
            if (id !== undefined) await sessions.revoke(id)
            if (url.pathname === '/revoke-me-then-note') session.set('note', 'after the revocation')
            break
          }
        }
        // After `req.session = null` the request has no session any more (it ends at the commit).
        const current = req.session as typeof session | null
        res.end(current === null ? 'anonymous|' : `${current.get('userId') ?? 'anonymous'}|${sessions.invalidReason(current)?.code ?? ''}`)
      },
      { onError: (error) => errors.push(error) },
    ),
  )
  return { sessions, store, server, invalid, errors }
}

async function visit(h: Harness, jar: CookieJar, path = '/'): Promise<string> {
  return (await jar.fetch(h.server.url(path))).text()
}

async function replay(h: Harness, value: string): Promise<string> {
  return (await fetch(h.server.url('/'), { headers: { cookie: `session=${value}` } })).text()
}

/** The revocation suite over one kind of store. */
function describeRevocation(name: string, makeStore: () => SessionStore): void {
  describe(name, () => {
    describe.each(['store', 'revocation'] as const)('data in the %s', (mode) => {
      it('revoke(sessionId(session)): that browser\'s next request gets a fresh session (ERR_SESSION_REVOKED)', async () => {
        const h = await harness(mode, makeStore())
        const jar = new CookieJar()
        expect(await visit(h, jar, '/login?user=u1')).toBe('u1|')
        const other = new CookieJar()
        expect(await visit(h, other, '/login?user=u1')).toBe('u1|')
        expect(await visit(h, jar, '/revoke-me')).toBe('u1|')
        expect(await visit(h, jar)).toBe('anonymous|ERR_SESSION_REVOKED')
        expect(h.invalid).toEqual(['ERR_SESSION_REVOKED'])
        // The browser's cookie was deleted with that answer, and the other browser is untouched.
        expect(jar.get('session')).toBeUndefined()
        expect(await visit(h, other)).toBe('u1|')
      })

      it('revoke by an id taken from the cookie, from outside any request', async () => {
        const h = await harness(mode, makeStore())
        const jar = new CookieJar()
        await visit(h, jar, '/login?user=u1')
        const id = reader.idOf(jar) as string
        expect(await h.store.load(id)).toBeDefined()
        await h.sessions.revoke(id)
        expect(await h.store.load(id)).toBeUndefined()
        expect(await visit(h, jar)).toBe('anonymous|ERR_SESSION_REVOKED')
        await h.sessions.revoke(id) // idempotent
      })

      it('revokeUser logs out every browser of that user and no other user\'s, and says how many there were', async () => {
        const h = await harness(mode, makeStore())
        const u1 = [new CookieJar(), new CookieJar(), new CookieJar()]
        for (const jar of u1) expect(await visit(h, jar, '/login?user=u1')).toBe('u1|')
        const u2 = new CookieJar()
        expect(await visit(h, u2, '/login?user=u2')).toBe('u2|')
        const anonymousWithNote = new CookieJar()
        await visit(h, anonymousWithNote, '/note?text=hello')

        expect(await h.sessions.revokeUser('u1')).toBe(3)
        for (const jar of u1) expect(await visit(h, jar)).toBe('anonymous|ERR_SESSION_REVOKED')
        expect(await visit(h, u2)).toBe('u2|')
        expect(await visit(h, anonymousWithNote)).toBe('anonymous|')
        expect(await h.sessions.revokeUser('u1')).toBe(0)
        expect(await h.sessions.revokeUser('nobody')).toBe(0)
        // u1 can log in again afterwards, and is indexed again.
        const again = new CookieJar()
        expect(await visit(h, again, '/login?user=u1')).toBe('u1|')
        expect(await h.sessions.revokeUser('u1')).toBe(1)
        expect(await visit(h, again)).toBe('anonymous|ERR_SESSION_REVOKED')
        expect(h.errors).toEqual([])
      })

      it('a user who logs in on an anonymous session (no regenerate) is indexed by that change', async () => {
        const h = await harness(mode, makeStore())
        const jar = new CookieJar()
        await visit(h, jar, '/note?text=cart')
        const id = reader.idOf(jar)
        // Log in without regenerate: the manager sees the user appear on a loaded session.
        const sessions = h.sessions
        const session = await sessions.load(jar.header())
        session.set('userId', 'u3')
        const { setCookie } = await sessions.save(session)
        jar.apply(setCookie)
        expect(reader.idOf(jar)).toBe(id)
        expect(await visit(h, jar)).toBe('u3|')
        expect(await sessions.revokeUser('u3')).toBe(1)
        expect(await visit(h, jar)).toBe('anonymous|ERR_SESSION_REVOKED')
      })

      it('logout deletes the id from the store: a copy of the cookie kept from before is refused', async () => {
        const h = await harness(mode, makeStore())
        const jar = new CookieJar()
        await visit(h, jar, '/login?user=u1')
        const copy = jar.get('session') as string
        const logout = await jar.fetch(h.server.url('/logout'))
        expect(await logout.text()).toBe('anonymous|')
        expect(logout.headers.getSetCookie().map(parseSetCookie).some((cookie) => cookie.name === 'session' && isDeletion(cookie))).toBe(true)
        expect(await replay(h, copy)).toBe('anonymous|ERR_SESSION_REVOKED')
      })

      it('login (regenerate) from an anonymous session: a new id, the old one refused', async () => {
        const h = await harness(mode, makeStore())
        const jar = new CookieJar()
        await visit(h, jar, '/note?text=before-login')
        const before = jar.get('session') as string
        const oldId = reader.idOf(jar)
        await visit(h, jar, '/login?user=u1')
        expect(reader.idOf(jar)).not.toBe(oldId)
        expect(await replay(h, before)).toBe('anonymous|ERR_SESSION_REVOKED')
        expect(await visit(h, jar)).toBe('u1|')
      })
    })

    it('data in the store: a request whose session is revoked before it saves writes nothing back and deletes its cookie', async () => {
      const h = await harness('store', makeStore())
      const jar = new CookieJar()
      await visit(h, jar, '/login?user=u1')
      const id = reader.idOf(jar) as string
      const response = await jar.fetch(h.server.url('/revoke-me-then-note'))
      expect(await response.text()).toBe('u1|')
      expect(response.headers.getSetCookie().map(parseSetCookie).map((cookie) => cookie.name === 'session' && isDeletion(cookie))).toEqual([true])
      expect(await h.store.load(id)).toBeUndefined()
      expect(jar.get('session')).toBeUndefined()
    })
  })
}

describeRevocation('revocation on the memory store', () => createMemoryStore())

describe('the user index follows the session\'s user', () => {
  // A session is added to a user's index when its user changes, and never taken out (docs/stores.md,
  // Revocation): a session that switches from u1 to u2 without a regenerate stays listed under u1,
  // so revokeUser('u1') also ends it. That errs on the safe side (it ends more, never less);
  // regenerating on login, as the docs ask, gives the session a new id in u2's index only.
  it('a session that changed user without a regenerate is in both indexes; revoking the old user ends it too', async () => {
    const h = await harness('store', createMemoryStore())
    const jar = new CookieJar()
    await visit(h, jar, '/login?user=u1')
    const session = await h.sessions.load(jar.header())
    session.set('userId', 'u2') // a switch of user without regenerate
    jar.apply((await h.sessions.save(session)).setCookie)
    expect(await visit(h, jar)).toBe('u2|')
    expect(await h.sessions.revokeUser('u1')).toBe(1)
    expect(await visit(h, jar)).toBe('anonymous|ERR_SESSION_REVOKED')
  })

  it('a login that regenerates moves the session to the new user only', async () => {
    const h = await harness('store', createMemoryStore())
    const jar = new CookieJar()
    await visit(h, jar, '/login?user=u1')
    await visit(h, jar, '/login?user=u2')
    expect(await h.sessions.revokeUser('u1')).toBe(0)
    expect(await visit(h, jar)).toBe('u2|')
    expect(await h.sessions.revokeUser('u2')).toBe(1)
  })
})

describeRedis('revocation on a real Redis', (redis) => {
  const redisClient = useRedisClient(redis)
  let prefixes = 0

  describeRevocation('createRedisStore (node-redis v5)', () => createRedisStore(redisClient.client, { prefix: `rv${++prefixes}:` }))

  it('revokeUser deletes every session key and the user index in Redis', async () => {
    const prefix = `rv${++prefixes}:`
    const h = await harness('store', createRedisStore(redisClient.client, { prefix }))
    const jars = [new CookieJar(), new CookieJar(), new CookieJar()]
    for (const jar of jars) await visit(h, jar, '/login?user=u1')
    const keys = jars.map((jar) => `${prefix}s:${reader.idOf(jar)}`)
    for (const key of keys) expect(await redis.command('EXISTS', key)).toBe(1)
    expect(await redis.command('SCARD', `${prefix}u:u1`)).toBe(3)
    expect(await h.sessions.revokeUser('u1')).toBe(3)
    for (const key of keys) expect(await redis.command('EXISTS', key)).toBe(0)
    expect(await redis.command('SCARD', `${prefix}u:u1`)).toBe(0)
  })

  // BUG (src/stores/redis.ts save + src/manager/stored.ts planSave): the user index's TTL is
  // raised only when the session is indexed (change.user is given only when the user changes),
  // while activity under idleTimeout keeps pushing the session's own TTL further out. The index
  // then expires before the session it lists, and revokeUser ("log out everywhere", after a
  // password change) no longer finds a session that is still alive. Expected: revokeUser ends
  // every live session of the user.
  it('idleTimeout: revokeUser still finds a session kept alive past the first idle period', async () => {
    const prefix = `rv${++prefixes}:`
    const clock = manualClock()
    const h = await harness('store', createRedisStore(redisClient.client, { prefix }), { clock, idleTimeout: 1 })
    const jar = new CookieJar(clock.now)
    expect(await visit(h, jar, '/login?user=u1')).toBe('u1|')
    const key = `${prefix}s:${cookieReader(secrets, { clock: clock.now }).idOf(jar)}`
    // Stay active, in Redis's real time: each request is due (a second later on the manager's
    // clock) and renews the session's TTL of one second.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 450))
      clock.advance(1)
      expect(await visit(h, jar)).toBe('u1|')
    }
    expect(await redis.command('EXISTS', key)).toBe(1)
    expect(await h.sessions.revokeUser('u1')).toBe(1)
    expect(await visit(h, jar)).toBe('anonymous|ERR_SESSION_REVOKED')
  })
})

describe('cookie mode with a revocation store', () => {
  it('keeps the data in the cookie (it grows with the data), beside its id', async () => {
    const store = createMemoryStore()
    const h = await harness('revocation', store)
    const jar = new CookieJar()
    await visit(h, jar, '/login?user=u1')
    const small = jar.get('session') as string
    const id = reader.idOf(jar) as string
    expect(reader.payload(small)).toEqual({ i: id, d: { userId: 'u1' } })
    const text = 'n'.repeat(600)
    await visit(h, jar, `/note?text=${text}`)
    const big = jar.get('session') as string
    expect(big.length).toBeGreaterThan(small.length + 600)
    expect(reader.payload(big)).toEqual({ i: id, d: { userId: 'u1', note: text } })
    // The store holds the id, not the data.
    expect(await store.load(id)).toEqual({})
  })

  it('reads the store exactly once per request that has a cookie, never without one; writes it only for a new id or a new user', async () => {
    const store = createMemoryStore()
    const load = vi.spyOn(store, 'load')
    const save = vi.spyOn(store, 'save')
    const h = await harness('revocation', store)
    const jar = new CookieJar()
    expect(await visit(h, jar)).toBe('anonymous|')
    expect(load).not.toHaveBeenCalled()
    await visit(h, jar, '/login?user=u1')
    expect(load).not.toHaveBeenCalled()
    expect(save).toHaveBeenCalledTimes(1)
    expect(save.mock.calls[0]?.[1]).toMatchObject({ set: {}, remove: [], create: true, user: 'u1' })
    const id = reader.idOf(jar)
    for (let i = 1; i <= 3; i++) {
      await visit(h, jar, i === 2 ? '/note?text=changed' : '/')
      expect(load).toHaveBeenCalledTimes(i)
      expect(load.mock.calls.at(-1)).toEqual([id])
    }
    // A changed note went into the cookie only.
    expect(save).toHaveBeenCalledTimes(1)
  })

  it('revoke and revokeUser refuse the cookie on the next request', async () => {
    const h = await harness('revocation', createMemoryStore())
    const a = new CookieJar()
    const b = new CookieJar()
    await visit(h, a, '/login?user=u1')
    await visit(h, b, '/login?user=u2')
    await h.sessions.revoke(reader.idOf(a) as string)
    expect(await visit(h, a)).toBe('anonymous|ERR_SESSION_REVOKED')
    expect(await visit(h, b)).toBe('u2|')
    expect(await h.sessions.revokeUser('u2')).toBe(1)
    expect(await visit(h, b)).toBe('anonymous|ERR_SESSION_REVOKED')
  })

  it('a cookie of a manager without revocation, or of a store-mode manager, is refused (another purpose), without reading the store', async () => {
    const store = createMemoryStore()
    const load = vi.spyOn(store, 'load')
    const h = await harness('revocation', store)
    const plain = createSessions({ secrets })
    expect(await replay(h, plain.sign({ userId: 'u1' }))).toBe('anonymous|ERR_SESSION_SIGNATURE_INVALID')
    // Even with the payload a revocation cookie would have: the purposes keep the kinds apart.
    expect(await replay(h, plain.sign({ i: 'A'.repeat(24), d: { userId: 'u1' } }))).toBe('anonymous|ERR_SESSION_SIGNATURE_INVALID')
    expect(await replay(h, storeCookieCodec(secrets, { mode: 'store' }).sign({ i: 'A'.repeat(24) }))).toBe('anonymous|ERR_SESSION_SIGNATURE_INVALID')
    // Under its own purpose, a payload of the wrong shape is malformed.
    expect(await replay(h, storeCookieCodec(secrets, { mode: 'revocation' }).sign({ i: 'A'.repeat(24) }))).toBe('anonymous|ERR_SESSION_MALFORMED')
    expect(load).not.toHaveBeenCalled()
  })

  it('a revocation cookie given to a manager without revocation does not crash it, and logs nobody in', async () => {
    const h = await harness('revocation', createMemoryStore())
    const jar = new CookieJar()
    await visit(h, jar, '/login?user=u1')
    const plain = createSessions<Data>({ secrets })
    const server = await startServer((req, res) => {
      const session = plain.read(req.headers.cookie)
      res.end(`${session.get('userId') ?? 'anonymous'}|${plain.invalidReason(session)?.code ?? ''}`)
    })
    const response = await fetch(server.url('/'), { headers: { cookie: jar.header() as string } })
    expect(response.status).toBe(200)
    expect(await response.text()).toMatch(/^anonymous\|/)
  })

  // BUG (src/manager/stored.ts, planSave): in cookie mode the store entry's TTL is set once, at
  // creation, to min(lifetime, idleTimeout), and activity never extends it (the TTL is renewed only
  // `store.data === 'store' && due`). So with `revocation` and `idleTimeout`, an active user is
  // logged out (ERR_SESSION_REVOKED) idleTimeout seconds after login, although each request
  // re-issued the cookie. Expected: activity that re-issues the cookie also renews the store TTL.
  it('idleTimeout: activity keeps the session alive past the first idle period', async () => {
    const clock = manualClock()
    const h = await harness('revocation', createMemoryStore({ clock: clock.now }), { clock, idleTimeout: 600 })
    const jar = new CookieJar(clock.now)
    expect(await visit(h, jar, '/login?user=u1')).toBe('u1|')
    clock.advance(300)
    const active = await jar.fetch(h.server.url('/'))
    expect(await active.text()).toBe('u1|')
    expect(active.headers.getSetCookie()).toHaveLength(1) // due: the cookie was re-issued
    clock.advance(400) // t = 700: 400 s since the last request, within the idle timeout
    expect(await visit(h, jar)).toBe('u1|')
  })
})
