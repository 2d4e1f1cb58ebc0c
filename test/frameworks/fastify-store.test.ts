/**
 * Store mode (`createSessions({ store })`, and `revocation`) through frasco/fastify's
 * `sessionPlugin`, over real sockets: the session is loaded in an `onRequest` hook and saved in
 * `onSend`, awaited, so the store has it before the client does; a store that fails is Fastify's
 * 500 without the session cookie; CSRF refusals on the browser headers cost no store read. The app
 * is test/helpers/stored-app.ts's, served by Fastify; then the same on a real Redis.
 */
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { sessionPlugin, type SessionPluginOptions } from '../../src/adapters/fastify.js'
import { csrfToken } from '../../src/csrf.js'
import type { Session } from '../../src/session.js'
import { createSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import { createRedisStore } from '../../src/stores/redis.js'
import type { SessionStore } from '../../src/stores/store.js'
import { describeRedis, useRedisClient } from '../helpers/redis.js'
import {
  USER,
  act,
  describeStoreIntegration,
  expectStoreFlow,
  get,
  lastSave,
  login,
  replay,
  secrets,
  sessionCookie,
  sessionFlash,
  storeEnv,
  type AppData,
  type EnvOptions,
  type RouteContext,
  type StoreEnv,
} from '../helpers/stored-app.js'
import { decodeStored, testSecrets } from '../helpers/stored.js'
import { CookieJar, formPost, isDeletion, type TestServer } from '../helpers/server.js'
import { CSRF_CASES, expectCsrfCase, type CsrfCase } from './flow.js'

const apps: FastifyInstance[] = []

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
})

async function serve(app: FastifyInstance): Promise<TestServer> {
  apps.push(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  return { origin, port, server: app.server, url: (path = '/') => origin + path }
}

/** Fastify with the form parser, the plugin over `env`'s manager, and an error handler that records what reaches it. */
function fastifyApp(env: StoreEnv, options: Omit<SessionPluginOptions, 'sessions'> = {}): FastifyInstance {
  const app = Fastify()
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  app.register(sessionPlugin, { sessions: env.sessions, onError: env.onError, ...options })
  app.setErrorHandler(async (error, _request, reply) => {
    env.errors.push(error)
    return reply.code(500).type('text/plain; charset=utf-8').send('error page')
  })
  return app
}

/** The stored-app routes, answered by Fastify; `request.session = null` ends the session. */
function startFastify(env: StoreEnv): Promise<TestServer> {
  const app = fastifyApp(env)
  app.route({
    method: ['GET', 'POST'],
    url: '/*',
    handler: async (request, reply) => {
      const form = new URLSearchParams((request.body ?? {}) as Record<string, string>)
      // FastifySessionData is LoginData in this program (fastify.test.ts); these routes hold AppData.
      const session = (): Session<AppData> => request.session as unknown as Session<AppData>
      const context: RouteContext = {
        sessions: env.sessions,
        session,
        form,
        end: () => {
          request.session = null
        },
        ...sessionFlash(session),
      }
      const outcome = await act(context, request.method, request.url.split('?', 1)[0] as string)
      if (outcome.location !== undefined) return reply.redirect(outcome.location, outcome.status)
      return reply.code(outcome.status).type('text/plain; charset=utf-8').send(outcome.body)
    },
  })
  return serve(app)
}

describeStoreIntegration('store mode through sessionPlugin on Fastify 5 (setErrorHandler answers 500)', startFastify)

describe('store mode through sessionPlugin on Fastify 5', () => {
  it("a store that fails to save is Fastify's 500 without the session cookie; the app's own cookie still goes", async () => {
    const env = storeEnv()
    const app = fastifyApp(env)
    app.get('/count', async (request, reply) => {
      reply.header('set-cookie', 'theme=dark; Path=/')
      const session = request.session as unknown as Session<AppData>
      session.set('count', (session.get('count') ?? 0) + 1)
      return 'counted'
    })
    app.get('/whoami', async (request) => String((request.session as unknown as Session<AppData>).get('count') ?? 'none'))
    const server = await serve(app)
    const jar = new CookieJar(env.clock.now)
    env.spies.save.mockRejectedValueOnce(new Error('store down'))
    const failed = await jar.fetch(server.url('/count'))
    expect(failed.status).toBe(500)
    expect(await failed.text()).toBe('error page')
    expect(failed.headers.getSetCookie().map((cookie) => cookie.split('=', 1)[0])).toEqual(['theme'])
    expect(jar.get('session')).toBeUndefined()
    expect(env.errors.map((error) => (error as Error).message)).toEqual(['store down'])
    // The store works again: the next request saves as usual.
    expect(await (await jar.fetch(server.url('/count'))).text()).toBe('counted')
    expect((await get(server, jar, '/whoami')).body).toBe('1')
  })

  /** fastifyApp with /count, and an onSend hook after the plugin's that makes a reply with `x-late` a `status` (by throwing for 500). */
  function lateApp(env: StoreEnv, status: 500 | 503, options: Omit<SessionPluginOptions, 'sessions'> = {}): FastifyInstance {
    const app = fastifyApp(env, options)
    app.addHook('onSend', async (request, reply, payload) => {
      if (request.headers['x-late'] !== '1') return payload
      if (status === 500) throw new Error('compression failed')
      reply.code(status)
      return payload
    })
    app.get('/count', async (request, reply) => {
      reply.header('set-cookie', 'theme=dark; Path=/')
      const session = request.session as unknown as Session<AppData>
      session.set('count', (session.get('count') ?? 0) + 1)
      return 'counted'
    })
    // The handler saves the session itself before the reply goes (express-session's req.session.save()).
    app.get('/count-saved', async (request) => {
      const session = request.session as unknown as Session<AppData>
      session.set('count', (session.get('count') ?? 0) + 1)
      await env.sessions.save(session)
      return 'counted'
    })
    return app
  }

  it.each([
    ['an onSend hook after the plugin throws', 500],
    ['an onSend hook after the plugin sets a 503', 503],
  ] as const)('a reply that becomes a 5xx after the save (%s): no session cookie, and the session it created leaves the store', async (_name, status) => {
    const env = storeEnv()
    const server = await serve(lateApp(env, status))

    // Without the late failure: saved and sent, what the 5xx must take back.
    const ok = await fetch(server.url('/count'))
    expect(ok.headers.getSetCookie().map((cookie) => cookie.split('=', 1)[0])).toEqual(['theme', 'session'])
    expect(await env.stored(lastSave(env).id)).toEqual({ count: 1 })

    const failed = await fetch(server.url('/count'), { headers: { 'x-late': '1' } })
    expect(failed.status).toBe(status)
    expect(failed.headers.getSetCookie().map((cookie) => cookie.split('=', 1)[0])).toEqual(['theme'])
    const { id, create } = lastSave(env)
    expect(create).toBe(true)
    await vi.waitFor(() => expect(env.spies.destroy).toHaveBeenCalledWith(id))
    expect(await env.stored(id)).toBeUndefined()
    expect(env.errors.map((error) => (error as Error).message)).toEqual(status === 500 ? ['compression failed'] : [])
  })

  it('a late 5xx on a new session the handler saved itself: no cookie, and its one id leaves the store', async () => {
    const env = storeEnv()
    const server = await serve(lateApp(env, 503))
    const failed = await fetch(server.url('/count-saved'), { headers: { 'x-late': '1' } })
    expect(failed.status).toBe(503)
    expect(failed.headers.getSetCookie()).toEqual([])
    const ids = [...new Set(env.spies.save.mock.calls.map(([id]) => id))]
    expect(ids).toHaveLength(1)
    await vi.waitFor(() => expect(env.spies.destroy).toHaveBeenCalledWith(ids[0]))
    expect(await env.stored(ids[0] as string)).toBeUndefined()
  })

  it('a late 5xx on a session loaded from its cookie: no cookie, the id stays (the client still holds it)', async () => {
    const env = storeEnv()
    const server = await serve(lateApp(env, 503))
    const jar = new CookieJar(env.clock.now)
    await jar.fetch(server.url('/count'))
    const id = lastSave(env).id
    const cookie = jar.get('session')
    const failed = await jar.fetch(server.url('/count'), { headers: { 'x-late': '1' } })
    expect(failed.status).toBe(503)
    expect(failed.headers.getSetCookie().map((set) => set.split('=', 1)[0])).toEqual(['theme'])
    expect(jar.get('session')).toBe(cookie)
    expect(env.spies.destroy).not.toHaveBeenCalled()
    expect(await env.stored(id)).toEqual({ count: 2 }) // saved before the reply became a 503
  })

  it('a store that fails to remove the session a late 5xx created: onError hears the store error; the default onError says so without the message', async () => {
    const env = storeEnv()
    const server = await serve(lateApp(env, 503))
    env.spies.destroy.mockRejectedValueOnce(new Error('store down (HDEL s:secret-id)'))
    expect((await fetch(server.url('/count'), { headers: { 'x-late': '1' } })).status).toBe(503)
    await vi.waitFor(() => expect(env.errors).toHaveLength(1))
    expect((env.errors[0] as Error).message).toBe('store down (HDEL s:secret-id)')

    const quiet = storeEnv()
    const app = Fastify()
    app.register(sessionPlugin, { sessions: quiet.sessions })
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.code(503)
      return payload
    })
    app.get('/count', async (request) => {
      ;(request.session as unknown as Session<AppData>).set('count', 1)
      return 'counted'
    })
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      quiet.spies.destroy.mockRejectedValueOnce(Object.assign(new Error('store down (HDEL s:secret-id)'), { code: 'ECONNRESET' }))
      expect((await fetch((await serve(app)).url('/count?token=1'))).status).toBe(503)
      await vi.waitFor(() => expect(logged).toHaveBeenCalledTimes(1))
      expect(logged.mock.calls[0]).toEqual(['frasco: the session GET /count created stays in the store: its reply became a 5xx and the store failed to remove it: ECONNRESET'])
    } finally {
      logged.mockRestore()
    }
  })

  it('a hijacked reply (reply.hijack()) whose session changed: nothing saved, ChangedAfterCommit reported', async () => {
    const env = storeEnv()
    const app = fastifyApp(env)
    app.get('/raw', async (request, reply) => {
      ;(request.session as unknown as Session<AppData>).set('count', 1)
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'text/plain' })
      reply.raw.end('raw')
    })
    const response = await fetch((await serve(app)).url('/raw'))
    expect(await response.text()).toBe('raw')
    await vi.waitFor(() => expect(env.errors).toHaveLength(1))
    expect((env.errors[0] as { code?: string }).code).toBe('ERR_SESSION_CHANGED_AFTER_COMMIT')
    expect(env.spies.save).not.toHaveBeenCalled()
  })

  it('request.session in a hook that runs before the plugin loaded it: a TypeError that says where to read it', async () => {
    const env = storeEnv()
    const app = Fastify()
    app.addHook('onRequest', async (request) => {
      void request.session // registered before the plugin: its onRequest hook runs first
    })
    app.register(sessionPlugin, { sessions: env.sessions })
    app.get('/', async () => 'ok')
    const response = await fetch(`${(await serve(app)).origin}/`)
    expect(response.status).toBe(500)
    expect(((await response.json()) as { message: string }).message).toMatch(
      /^request\.session is not loaded: with a store, sessionPlugin loads it in its onRequest hook, so read it in the hooks registered after the plugin \(await app\.register\(sessionPlugin, …\) first\)/,
    )
  })

  it.each([
    ['garbage', () => 'not-a-session', 'ERR_SESSION_MALFORMED'],
    ['a cookie session of the same secrets (another purpose)', () => createSessions({ secrets }).sign({ i: 'A'.repeat(24) }), 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a cookie under another secret', () => createSessions({ secrets: testSecrets() }).sign({ i: 'A'.repeat(24) }), 'ERR_SESSION_UNKNOWN_KEY'],
  ])('a hostile cookie (%s) is a fresh session: the store is never asked, the cookie is deleted', async (_name, value, code) => {
    const env = storeEnv()
    const server = await startFastify(env)
    const { response, body } = await replay(server, value())
    expect(response.status).toBe(200)
    expect(body).toBe(`anonymous|${code}`)
    expect(env.spies.load).not.toHaveBeenCalled()
    const deletion = sessionCookie(response)
    expect(deletion !== undefined && isDeletion(deletion)).toBe(true)
  })

  it('revocation: the data in the cookie, its id in the store; logout revokes a copy of the cookie', async () => {
    const store = createMemoryStore()
    const base = storeEnv()
    const env: StoreEnv = { ...base, sessions: createSessions<AppData>({ secrets, revocation: store, onInvalid: (error) => base.invalid.push(error.code) }) }
    const server = await startFastify(env)
    const jar = new CookieJar()
    const response = await jar.fetch(server.url('/login'), formPost({ username: USER }))
    expect(response.status).toBe(303)
    const value = jar.get('session') as string
    expect((await get(server, jar, '/count')).body).toBe(`${USER}:1`)
    expect((await get(server, jar, '/whoami')).body).toBe(`${USER}|`)
    const logout = await jar.fetch(server.url('/logout'), { method: 'POST' })
    expect(logout.status).toBe(303)
    expect(jar.get('session')).toBeUndefined()
    expect((await replay(server, value)).body).toBe('anonymous|ERR_SESSION_REVOKED')
  })
})

describe('CSRF protection in store mode', () => {
  /** expectCsrfCase's two routes over a store manager (rolling: a refused request that saved would show). */
  async function transferApp(env: StoreEnv): Promise<{ origin: string; runs: () => number }> {
    let runs = 0
    const app = fastifyApp(env, { csrf: true })
    app.get('/transfer', async (request) => csrfToken(request.session))
    app.post('/transfer', async (request) => {
      runs += 1
      ;(request.session as unknown as Session<AppData>).set('note', 'transferred')
      return 'done'
    })
    return { origin: (await serve(app)).origin, runs: () => runs }
  }

  it.each(CSRF_CASES)('%s', async (...testCase: CsrfCase) => {
    const env = storeEnv({ rolling: true } satisfies EnvOptions)
    const { origin, runs } = await transferApp(env)
    await expectCsrfCase(origin, runs, testCase)
    // Refused on the browser headers: the session was never loaded. Otherwise, loaded once.
    const onHeaders = testCase[3] === 'ERR_SESSION_CSRF_CROSS_SITE' || testCase[3] === 'ERR_SESSION_CSRF_ORIGIN'
    expect(env.spies.load).toHaveBeenCalledTimes(onHeaders ? 0 : 1)
    if (testCase[3] !== 'done') expect(env.spies.save).toHaveBeenCalledTimes(1) // the GET's new session only
  })
})

describeRedis('store mode on a real Redis through sessionPlugin', (redis) => {
  const redisClient = useRedisClient(redis)
  let prefixes = 0

  /** storeEnv's harness over a Redis store (its methods spied on), under a prefix of its own. */
  function redisEnv(options: EnvOptions = {}): StoreEnv & { prefix: string } {
    const base = storeEnv(options)
    const prefix = `fastify${++prefixes}:`
    const store = createRedisStore(redisClient.client, { prefix })
    const raw: SessionStore = { load: store.load, save: store.save, destroy: store.destroy, destroyUser: store.destroyUser }
    const sessions = createSessions<AppData>({ secrets, store, clock: base.clock.now, onInvalid: (error) => base.invalid.push(error.code), ...options })
    const spies = { load: vi.spyOn(store, 'load'), save: vi.spyOn(store, 'save'), destroy: vi.spyOn(store, 'destroy') }
    const stored = async (id: string | undefined) => (id === undefined ? undefined : decodeStored(await raw.load(id)))
    return { ...base, store, raw, sessions, spies, stored, prefix }
  }

  it('log in, count, log out', async () => {
    const env = redisEnv()
    const server = await startFastify(env)
    await expectStoreFlow(server, env)
  })

  it('holds the session in a Redis hash under its id, and deletes it on logout', async () => {
    const env = redisEnv()
    const server = await startFastify(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    const key = `${env.prefix}s:${id}`
    expect(await redis.command('HGET', key, 'd:user')).toBe(JSON.stringify(USER))
    await get(server, jar, '/count')
    expect(await redis.command('HGET', key, 'd:count')).toBe('1')
    const logout = await jar.fetch(server.url('/logout'), { method: 'POST' })
    expect(sessionCookie(logout)?.attributes['max-age']).toBe('0')
    expect(await redis.command('EXISTS', key)).toBe(0)
  })

  it('CSRF: a cross-site POST costs no Redis read; a token in the form lets a client without browser headers through', async () => {
    const env = redisEnv({ rolling: true })
    const app = fastifyApp(env, { csrf: true })
    app.get('/form', async (request) => csrfToken(request.session))
    app.post('/transfer', async () => 'done')
    const server = await serve(app)
    const jar = new CookieJar(env.clock.now)
    const token = await (await jar.fetch(server.url('/form'))).text()
    const loads = env.spies.load.mock.calls.length

    const crossSite = await jar.fetch(server.url('/transfer'), { ...formPost({ _csrf: token }), headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' } })
    expect(crossSite.status).toBe(403)
    expect(crossSite.headers.getSetCookie()).toEqual([])
    expect(env.spies.load.mock.calls.length).toBe(loads)

    const withToken = await jar.fetch(server.url('/transfer'), formPost({ _csrf: token }))
    expect(await withToken.text()).toBe('done')
    expect(env.spies.load.mock.calls.length).toBe(loads + 1)
    expect((await jar.fetch(server.url('/transfer'), formPost({ _csrf: 'A'.repeat(86) }))).status).toBe(403)
  })
})
