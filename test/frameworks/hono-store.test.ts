/**
 * Store mode (`createSessions({ store })`) through `frasco/hono`, served by `@hono/node-server`
 * over real sockets: the shared store flow and features of test/helpers/stored-app.ts on a memory
 * store, the store's failures (Hono's error handler answers 500, no cookie), the CSRF check (a
 * refusal costs no store read), and the recipe's app on a real Redis.
 */
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { sessionMiddleware, type SessionEnv, type SessionMiddlewareOptions } from '../../src/adapters/hono.js'
import { csrfToken } from '../../src/csrf.js'
import { createSessions } from '../../src/sessions.js'
import { createRedisStore } from '../../src/stores/redis.js'
import { describeRedis, useRedisClient } from '../helpers/redis.js'
import {
  USER,
  act,
  describeStoreIntegration,
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

describeStoreIntegration('store mode through frasco/hono (app.onError answers 500)', startHono)

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
  const redis = useRedisClient(server)

  /** The recipe's app (hono.test.ts) with the manager on Redis, and a route that shows a CSRF token. */
  async function redisApp(prefix: string) {
    const secrets = testSecrets()
    const sessions = createSessions<{ username: string }>({ secrets, store: createRedisStore(redis.client, { prefix }) })
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
