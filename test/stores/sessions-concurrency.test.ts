/**
 * No lost updates, on a real Redis, Frasco beside express-session + connect-redis in the same run
 * and on the same server. Each server's handler waits at a barrier (or a gate) after its session
 * was loaded, so the requests truly overlap: every one has read the session before any writes it.
 *
 * Frasco writes only the keys a request changed, in one atomic script that refuses to write a
 * session that no longer exists; express-session writes the whole session object it loaded. The
 * peer's lost update and its resurrected logout are asserted, not just described: that difference
 * is what these tests are for.
 */
import { RedisStore } from 'connect-redis'
import express from 'express'
import expressSession from 'express-session'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessionMiddleware, type SessionRequest } from '../../src/adapters/node.js'
import { createSessions } from '../../src/sessions.js'
import { createRedisStore } from '../../src/stores/redis.js'
import { describeRedis, useRedisClient } from '../helpers/redis.js'
import { barrier, cookieReader, deferred, testSecrets, type Deferred } from '../helpers/stored.js'
import { CookieJar, isDeletion, parseSetCookie, startServer, useTestServers, type TestServer } from '../helpers/server.js'

useTestServers()

const secrets = testSecrets()
const USER = 'ada'

/** What a test sets up before its requests: where the handlers wait. */
interface Hooks {
  /** `/set` waits here after loading the session. */
  race: { arrive(): Promise<void> }
  /** `/slow` resolves `loaded` once it has the session, then waits for `gate`. */
  slow: { loaded: Deferred; gate: Deferred }
}

function newHooks(parties: number): Hooks {
  return { race: barrier(parties), slow: { loaded: deferred(), gate: deferred() } }
}

type Data = Record<string, unknown>

/** Frasco on Express 5, store mode on createRedisStore (node-redis v5). */
async function frascoApp(client: ReturnType<typeof createClient>, prefix: string, hooks: Hooks) {
  const invalid: string[] = []
  const sessions = createSessions<Data>({ secrets, store: createRedisStore(client, { prefix }), onInvalid: (error) => invalid.push(error.code) })
  const app = express()
  const errors: unknown[] = []
  app.use(sessionMiddleware(sessions, { onError: (error) => errors.push(error) }))
  const session = (req: express.Request) => (req as unknown as SessionRequest<Data>).session
  app.post('/login', (req, res) => {
    session(req).set('user', USER)
    res.send('ok')
  })
  app.get('/set', async (req, res) => {
    await hooks.race.arrive()
    session(req).set(String(req.query['k']), true)
    res.send('ok')
  })
  app.get('/slow', async (req, res) => {
    session(req).get('user')
    hooks.slow.loaded.resolve()
    await hooks.slow.gate.promise
    session(req).set('late', true)
    res.send('ok')
  })
  app.post('/logout', (req, res) => {
    ;(req as unknown as SessionRequest<Data>).session = null
    res.send('bye')
  })
  app.get('/show', (req, res) => {
    res.json(session(req).toJSON())
  })
  const server = await startServer(app)
  const reader = cookieReader(secrets)
  return { server, invalid, errors, key: (jar: CookieJar) => `${prefix}s:${reader.idOf(jar)}` }
}

/** The peer: express-session with connect-redis 9 on the same Redis, the recommended settings. */
async function peerApp(client: ReturnType<typeof createClient>, prefix: string, hooks: Hooks) {
  const app = express()
  app.use(
    expressSession({
      store: new RedisStore({ client, prefix }),
      secret: secrets[0] as string,
      resave: false,
      saveUninitialized: false,
      name: 'sid',
    }),
  )
  type Loose = Record<string, unknown> & { destroy(callback: (error?: unknown) => void): void }
  const session = (req: express.Request) => (req as unknown as { session: Loose }).session
  app.post('/login', (req, res) => {
    session(req)['user'] = USER
    res.send('ok')
  })
  app.get('/set', async (req, res) => {
    await hooks.race.arrive()
    session(req)[String(req.query['k'])] = true
    res.send('ok')
  })
  app.get('/slow', async (req, res) => {
    hooks.slow.loaded.resolve()
    await hooks.slow.gate.promise
    session(req)['late'] = true
    res.send('ok')
  })
  app.post('/logout', (req, res, next) => {
    session(req).destroy((error) => (error === undefined || error === null ? res.send('bye') : next(error)))
  })
  app.get('/show', (req, res) => {
    const { cookie: _cookie, ...data } = session(req) as Record<string, unknown>
    res.json(data)
  })
  const server = await startServer(app)
  return { server, key: (jar: CookieJar) => `${prefix}${decodeURIComponent(jar.get('sid') ?? '').replace(/^s:/, '').split('.')[0]}` }
}

async function post(server: TestServer, jar: CookieJar, path: string): Promise<Response> {
  const response = await jar.fetch(server.url(path), { method: 'POST' })
  await response.arrayBuffer()
  return response
}

async function show(server: TestServer, jar: CookieJar): Promise<Data> {
  return (await (await jar.fetch(server.url('/show'))).json()) as Data
}

/** Sends `/set?k=<key>` for every key at once, from one browser (one jar, one cookie). */
async function setAll(server: TestServer, jar: CookieJar, keys: readonly string[]): Promise<void> {
  const cookie = jar.header() as string
  const responses = await Promise.all(keys.map((key) => fetch(server.url(`/set?k=${key}`), { headers: { cookie } })))
  for (const response of responses) {
    expect(response.status).toBe(200)
    await response.arrayBuffer()
  }
}

describeRedis('concurrent requests of one session, Frasco beside express-session + connect-redis', (redis) => {
  const redisClient = useRedisClient(redis)
  let prefixes = 0
  const prefix = (side: string): string => `race${++prefixes}:${side}:`

  describe('two requests set different keys', () => {
    it('Frasco keeps both; express-session keeps only the one that saved last', async () => {
      const frascoHooks = newHooks(2)
      const frasco = await frascoApp(redisClient.client, prefix('frasco'), frascoHooks)
      const frascoJar = new CookieJar()
      await post(frasco.server, frascoJar, '/login')
      await setAll(frasco.server, frascoJar, ['a', 'b'])
      expect(await show(frasco.server, frascoJar)).toEqual({ user: USER, a: true, b: true })
      expect(frasco.errors).toEqual([])

      const peerHooks = newHooks(2)
      const peer = await peerApp(redisClient.client, prefix('peer'), peerHooks)
      const peerJar = new CookieJar()
      await post(peer.server, peerJar, '/login')
      expect(await redis.command('EXISTS', peer.key(peerJar))).toBe(1)
      await setAll(peer.server, peerJar, ['a', 'b'])
      const kept = await show(peer.server, peerJar)
      // The lost update: both requests saved the whole session they had loaded, so the last
      // save overwrote the first one's key.
      expect(kept['user']).toBe(USER)
      expect([kept['a'], kept['b']].filter((value) => value === true)).toHaveLength(1)
    })

    it('ten at once: Frasco keeps all ten; express-session keeps one', async () => {
      const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)
      const frasco = await frascoApp(redisClient.client, prefix('frasco'), newHooks(keys.length))
      const frascoJar = new CookieJar()
      await post(frasco.server, frascoJar, '/login')
      await setAll(frasco.server, frascoJar, keys)
      const all = await show(frasco.server, frascoJar)
      expect(Object.keys(all).sort()).toEqual([...keys, 'user'].sort())

      const peer = await peerApp(redisClient.client, prefix('peer'), newHooks(keys.length))
      const peerJar = new CookieJar()
      await post(peer.server, peerJar, '/login')
      await setAll(peer.server, peerJar, keys)
      const kept = await show(peer.server, peerJar)
      expect(keys.filter((key) => kept[key] === true)).toHaveLength(1)
    })
  })

  describe('a logout racing a slower request that loaded the session before it', () => {
    it('Frasco: the session stays destroyed, and the slow response deletes the cookie; express-session: the slow request resurrects it', async () => {
      // --- Frasco
      const frascoHooks = newHooks(1)
      const frasco = await frascoApp(redisClient.client, prefix('frasco'), frascoHooks)
      const jar = new CookieJar()
      await post(frasco.server, jar, '/login')
      const key = frasco.key(jar)
      const value = jar.get('session') as string
      expect(await redis.command('EXISTS', key)).toBe(1)

      const slow = jar.fetch(frasco.server.url('/slow'))
      await frascoHooks.slow.loaded.promise // it has the session
      const logout = await post(frasco.server, jar, '/logout')
      expect(logout.headers.getSetCookie().map(parseSetCookie).some((cookie) => cookie.name === 'session' && isDeletion(cookie))).toBe(true)
      expect(await redis.command('EXISTS', key)).toBe(0)

      frascoHooks.slow.gate.resolve()
      const late = await slow
      expect(late.status).toBe(200)
      await late.arrayBuffer()
      // Its save found no session and wrote nothing; its response deletes the cookie it came with.
      expect(late.headers.getSetCookie().map(parseSetCookie).filter((cookie) => cookie.name === 'session').map((cookie) => isDeletion(cookie))).toEqual([true])
      expect(await redis.command('EXISTS', key)).toBe(0)
      expect(await show(frasco.server, jar)).toEqual({})
      // A copy of the old cookie opens nothing.
      const replayed = await fetch(frasco.server.url('/show'), { headers: { cookie: `session=${value}` } })
      expect(await replayed.json()).toEqual({})
      expect(frasco.invalid).toEqual(['ERR_SESSION_REVOKED'])
      expect(frasco.errors).toEqual([])

      // --- express-session + connect-redis
      const peerHooks = newHooks(1)
      const peer = await peerApp(redisClient.client, prefix('peer'), peerHooks)
      const peerJar = new CookieJar()
      await post(peer.server, peerJar, '/login')
      const peerKey = peer.key(peerJar)
      expect(await redis.command('EXISTS', peerKey)).toBe(1)

      const peerSlow = peerJar.fetch(peer.server.url('/slow'))
      await peerHooks.slow.loaded.promise
      await post(peer.server, peerJar, '/logout')
      expect(await redis.command('EXISTS', peerKey)).toBe(0)
      peerHooks.slow.gate.resolve()
      await (await peerSlow).arrayBuffer()
      // The logout is undone: the slow request saved the whole session it had loaded.
      expect(await redis.command('EXISTS', peerKey)).toBe(1)
      expect(await show(peer.server, peerJar)).toEqual({ user: USER, late: true })
    })
  })
})
