/**
 * Store mode (`createSessions({ store })`) through `frasco/hono`, served by `@hono/node-server`
 * over real sockets: the shared store flow and features of test/helpers/stored-app.ts on a memory
 * store, the store's failures (Hono's error handler answers 500, no cookie), the CSRF check (a
 * refusal costs no store read), and the recipe's app on a real Redis.
 */
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { sessionMiddleware, type SessionEnv, type SessionMiddlewareOptions } from '../../src/adapters/hono.js'
import { csrfToken } from '../../src/csrf.js'
import { createSessions } from '../../src/sessions.js'
import { createRedisStore } from '../../src/stores/redis.js'
import { describeRedis } from '../helpers/redis.js'
import {
  USER,
  act,
  describeStoreFeatures,
  expectStoreFlow,
  get,
  login,
  sessionCookie,
  sessionFlash,
  storeEnv,
  type AppData,
  type StoreEnv,
} from '../helpers/stored-app.js'
import { cookieReader, testSecrets } from '../helpers/stored.js'
import { CookieJar, formPost, isDeletion, startServer, useTestServers, type TestServer } from '../helpers/server.js'
import { browserPost, setCookies } from './flow.js'

useTestServers()

/** The app of stored-app.ts as Hono routes; app.onError records what it answers 500 for. */
function storeApp(env: StoreEnv, options: SessionMiddlewareOptions = {}): Hono<SessionEnv<AppData>> {
  const app = new Hono<SessionEnv<AppData>>()
  app.use(sessionMiddleware(env.sessions, { onError: env.onError, ...options }))
  app.all('*', async (c) => {
    const form = new URLSearchParams(c.req.method === 'POST' ? await c.req.text() : '')
    const session = c.get('session')
    const context = { sessions: env.sessions, session: () => session, form, end: () => session.destroy(), ...sessionFlash(() => session) }
    const outcome = await act(context, c.req.method, c.req.path)
    if (outcome.location !== undefined) return c.redirect(outcome.location, outcome.status as 303)
    return c.text(outcome.body, outcome.status as 200)
  })
  app.onError((error, c) => {
    env.errors.push(error)
    return c.text('error page', 500)
  })
  return app
}

function startHono(env: StoreEnv): Promise<TestServer> {
  return startServer(getRequestListener(storeApp(env).fetch))
}

describe('store mode through frasco/hono', () => {
  it('logs in, counts, logs out: the data in the store, a signed id in the cookie', async () => {
    const env = storeEnv()
    await expectStoreFlow(await startHono(env), env)
  })

  it('the store has the session before the response goes out', async () => {
    const env = storeEnv()
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    env.spies.save.mockImplementation(async (...args) => {
      await held
      return env.raw.save(...args)
    })
    const server = await startHono(env)
    const answered = vi.fn()
    const pending = new CookieJar(env.clock.now).fetch(server.url('/count')).then((response) => {
      answered()
      return response
    })
    await vi.waitFor(() => expect(env.spies.save).toHaveBeenCalledTimes(1))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(answered).not.toHaveBeenCalled()
    release()
    const response = await pending
    expect(await response.text()).toBe('anonymous:1')
    expect(sessionCookie(response)).toBeDefined()
  })
})

describeStoreFeatures('frasco/hono sessionMiddleware', startHono, { throwsTo: 'errors' })

describe('a failing store', () => {
  it("a load that rejects: app.onError's 500, no cookie written or deleted, still logged in once the store is back", async () => {
    const env = storeEnv()
    const server = await startHono(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    const outage = new Error('store down')
    env.spies.load.mockRejectedValueOnce(outage)
    const { response, body } = await get(server, jar, '/count')
    expect(response.status).toBe(500)
    expect(body).toBe('error page')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(env.errors).toEqual([outage])
    expect((await get(server, jar, '/whoami')).body).toBe(`${USER}|`)
    expect(await env.stored(id)).toEqual({ user: USER })
  })

  it("a save that rejects: app.onError's 500 without Set-Cookie, the stored session as it was", async () => {
    const env = storeEnv()
    const server = await startHono(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    const cookie = jar.get('session')
    const outage = new Error('store down')
    env.spies.save.mockRejectedValueOnce(outage)
    const { response, body } = await get(server, jar, '/count')
    expect(response.status).toBe(500)
    expect(body).toBe('error page')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(env.errors).toEqual([outage])
    expect(jar.get('session')).toBe(cookie)
    expect(await env.stored(id)).toEqual({ user: USER })
  })

  it('a destroy that rejects on logout: a 500, and the cookie is not deleted (the session still exists)', async () => {
    const env = storeEnv()
    const server = await startHono(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    env.spies.destroy.mockRejectedValueOnce(new Error('store down'))
    const response = await jar.fetch(server.url('/logout'), { method: 'POST' })
    expect(response.status).toBe(500)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(await env.stored(id)).toEqual({ user: USER })
    expect(env.reader.idOf(jar)).toBe(id)
  })
})

describe('CSRF protection with a store', () => {
  it('refuses on the browser headers without a store read; reads the store for a token check', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const env = storeEnv()
    const app = storeApp(env, { csrf: true })
    const server = await startServer(getRequestListener(app.fetch))
    const jar = new CookieJar(env.clock.now)
    expect((await jar.fetch(server.url('/login'), browserPost({ username: USER }))).status).toBe(303)
    const id = env.reader.idOf(jar) as string
    env.spies.load.mockClear()

    const crossSite = await jar.fetch(server.url('/logout'), { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } })
    expect(crossSite.status).toBe(403)
    expect(await crossSite.text()).toBe('Forbidden: ERR_SESSION_CSRF_CROSS_SITE')
    expect(crossSite.headers.getSetCookie()).toEqual([])
    expect(env.spies.load).not.toHaveBeenCalled()

    const noToken = await jar.fetch(server.url('/logout'), { method: 'POST' })
    expect(await noToken.text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING')
    expect(env.spies.load.mock.calls).toEqual([[id]])
    expect(await env.stored(id)).toEqual({ user: USER })
    expect(env.errors.map((error) => (error as { code?: string }).code)).toEqual(['ERR_SESSION_CSRF_CROSS_SITE', 'ERR_SESSION_CSRF_TOKEN_MISSING'])
  })
})

describeRedis('frasco/hono on a real Redis', (server) => {
  let client: ReturnType<typeof createClient>
  const errors: unknown[] = []
  beforeAll(async () => {
    client = createClient({ url: server.url }).on('error', (error: unknown) => errors.push(error))
    await client.connect()
  })
  afterAll(async () => {
    await client?.close()
    expect(errors).toEqual([])
  })

  /** The recipe's app (hono.test.ts) with the manager on Redis, and a route that shows a CSRF token. */
  async function redisApp(prefix: string) {
    const secrets = testSecrets()
    const sessions = createSessions<{ username: string }>({ secrets, store: createRedisStore(client, { prefix }) })
    const app = new Hono<SessionEnv<{ username: string }>>()
    app.use(sessionMiddleware(sessions, { csrf: true }))
    app.get('/', (c) => c.text(c.get('session').username ?? 'anonymous'))
    app.get('/token', (c) => c.text(csrfToken(c.get('session'))))
    app.post('/login', async (c) => {
      const body = await c.req.parseBody()
      const session = c.get('session')
      session.regenerate()
      session.username = String(body.username)
      return c.redirect('/', 303)
    })
    app.post('/logout', (c) => {
      c.get('session').destroy()
      return c.redirect('/', 303)
    })
    return { origin: (await startServer(getRequestListener(app.fetch))).origin, reader: cookieReader(secrets) }
  }

  it('logs in (the name in a Redis hash, an id in the cookie), reads, logs out (the key gone)', async () => {
    const { origin, reader } = await redisApp('hono1:')
    const jar = new CookieJar()
    const login = await jar.fetch(`${origin}/login`, browserPost({ username: USER }))
    expect(login.status).toBe(303)
    expect(setCookies(login).map((cookie) => cookie.name)).toEqual(['session'])
    const id = reader.idOf(jar) as string
    expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(jar.get('session')).not.toContain('ada')
    expect(await server.command('HGET', `hono1:s:${id}`, 'd:username')).toBe(JSON.stringify(USER))

    const home = await jar.fetch(`${origin}/`)
    expect(await home.text()).toBe(USER)
    expect(home.headers.getSetCookie()).toEqual([])

    const logout = await jar.fetch(`${origin}/logout`, browserPost())
    const deletion = setCookies(logout)[0]
    expect(deletion !== undefined && isDeletion(deletion)).toBe(true)
    expect(await server.command('EXISTS', `hono1:s:${id}`)).toBe(0)
    expect(await (await jar.fetch(`${origin}/`)).text()).toBe('anonymous')
  })

  it('a client without browser headers logs in with the token of its stored session, not without', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { origin, reader } = await redisApp('hono2:')
    const jar = new CookieJar()
    const token = await (await jar.fetch(`${origin}/token`)).text()
    const id = reader.idOf(jar) as string
    expect(await server.command('HEXISTS', `hono2:s:${id}`, 'd:_csrf')).toBe(1)
    const refused = await jar.fetch(`${origin}/login`, formPost({ username: 'mallory' }))
    expect(await refused.text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING')
    const accepted = await jar.fetch(`${origin}/login`, formPost({ username: 'ada', _csrf: token }))
    expect(accepted.status).toBe(303)
    expect(await (await jar.fetch(`${origin}/`)).text()).toBe('ada')
  })
})
