/**
 * Store mode (`createSessions({ store })`) through frasco/node: sessionMiddleware on Express 5,
 * withSessions on plain node:http (a body given to `res.end`, a `writeHead(303, { Location })`
 * whose cookie is planned at writeHead and whose store write `end` awaits, a streamed body), and
 * readSession/commitSession called by hand. The cookie carries a signed id; the data, and each
 * request's changes, go to the store.
 */
import type { ServerResponse } from 'node:http'
import express from 'express'
import { describe, expect, it } from 'vitest'
import { commitSession, sessionMiddleware, withSessions, type SessionHandler, type SessionRequest } from '../../src/adapters/node.js'
import { LIFETIME, USER, type AppData, type StoreEnv, describeStoreFeatures, expectSaveBeforeResponse, expectStoreFlow, get, lastSave, login, replay, sessionCookie, storeEnv } from '../helpers/stored-app.js'
import { startByHand, startExpress, startWithSessions } from '../helpers/stored-node.js'
import { deferred, pendingAfter } from '../helpers/stored.js'
import { CookieJar, startServer, useTestServers } from '../helpers/server.js'

useTestServers()

describe('store mode through frasco/node: log in, count, log out', () => {
  it.each([
    ['sessionMiddleware on Express 5', startExpress],
    ['withSessions, res.end(body)', startWithSessions('end')],
    ['withSessions, res.writeHead(303, { Location }).end()', startWithSessions('writeHead')],
    ['withSessions, a streamed body (res.write before res.end)', startWithSessions('stream')],
    ['await readSession / await commitSession', startByHand],
  ] as const)('%s', async (_name, start) => {
    const env = storeEnv()
    await expectStoreFlow(await start(env), env)
  })
})

describeStoreFeatures('sessionMiddleware on Express 5', startExpress, { throwsTo: 'errors' })
describeStoreFeatures('withSessions with res.end(body)', startWithSessions('end'), { throwsTo: 'errors' })
describeStoreFeatures('withSessions with res.writeHead(…).end()', startWithSessions('writeHead'), { throwsTo: 'errors' })

describe('the response waits for the store', () => {
  it('writeHead(303, { Location }).end(): the cookie is planned at writeHead, and the response ends only once the store has the session', async () => {
    const env = storeEnv()
    await expectSaveBeforeResponse(await startWithSessions('writeHead')(env), env)
  })

  it('a streamed body: the cookie goes out with the first write, and the body ends only once the store has the change', async () => {
    const env = storeEnv()
    const server = await startWithSessions('stream')(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    const gate = deferred()
    env.spies.save.mockImplementationOnce(async (sid, change) => {
      await gate.promise
      return env.raw.save(sid, change)
    })
    const response = await jar.fetch(server.url('/count'))
    expect(response.status).toBe(200)
    expect(env.reader.idOf(jar)).toBe(id)
    const body = response.text()
    expect(await pendingAfter(body, 150)).toBe(true)
    expect(await env.stored(id)).toEqual({ user: USER })
    gate.resolve()
    expect(await body).toBe(`${USER}:1`)
    expect(await env.stored(id)).toEqual({ count: 1, user: USER })
    expect(lastSave(env)).toEqual({ id, set: ['count'], remove: [], create: false, ttl: LIFETIME, user: undefined })
  })
})

describe('commitSession not awaited, under sessionMiddleware or withSessions', () => {
  // The app drops commitSession's promise and answers at once: res.end() waits for that save
  // rather than saving the session a second time (a second id in the store, never in a cookie).
  const byHand = (env: StoreEnv, rejected: unknown[]) => (req: SessionRequest<AppData>, res: ServerResponse): void => {
    req.session.set('user', USER)
    commitSession(env.sessions, req, res, req.session).catch((error: unknown) => rejected.push(error))
    res.end('ok')
  }
  /** A plain node:http server of `handler` under withSessions, errors to env.onError. */
  const serve = (env: StoreEnv, handler: SessionHandler<AppData>) => startServer(withSessions<AppData>(env.sessions, handler, { onError: env.onError }))
  const starts = [
    ['sessionMiddleware', (env: StoreEnv, rejected: unknown[]) => {
      const middleware = sessionMiddleware(env.sessions, { onError: env.onError })
      return startServer((req, res) => middleware(req, res, () => byHand(env, rejected)(req as SessionRequest<AppData>, res)))
    }],
    ['withSessions', (env: StoreEnv, rejected: unknown[]) => serve(env, byHand(env, rejected))],
  ] as const

  it.each(starts)('%s: one save, and the cookie names it', async (_name, start) => {
    const env = storeEnv()
    const rejected: unknown[] = []
    const server = await start(env, rejected)
    const jar = new CookieJar(env.clock.now)
    const response = await jar.fetch(server.url('/'))
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('ok')
    expect(env.spies.save).toHaveBeenCalledTimes(1)
    const id = env.reader.idOf(jar)
    expect(lastSave(env)).toMatchObject({ id, set: ['user'], create: true })
    expect(await env.stored(id)).toEqual({ user: USER })
    expect(env.errors).toEqual([])
    expect(rejected).toEqual([])
  })

  it.each(starts)('%s: a save that fails is the 500 of a failed save, without the cookie', async (_name, start) => {
    const env = storeEnv()
    const rejected: unknown[] = []
    const server = await start(env, rejected)
    const failure = new Error('the store is down')
    env.spies.save.mockRejectedValueOnce(failure)
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(500)
    expect(sessionCookie(response)).toBeUndefined()
    expect(env.spies.save).toHaveBeenCalledTimes(1)
    expect(env.errors).toEqual([failure])
    expect(rejected).toEqual([failure])
  })

  it.each([
    ['a key set', (req: SessionRequest<AppData>) => req.session.set('note', 'late')],
    ['req.session = null (a logout)', (req: SessionRequest<AppData>) => {
      req.session = null
    }],
  ] as const)('withSessions: %s between commitSession and res.end is reported, as after any commit', async (_name, change) => {
    const env = storeEnv()
    const server = await serve(env, (req, res) => {
      req.session.set('user', USER)
      void commitSession(env.sessions, req, res, req.session)
      change(req)
      res.end('ok')
    })
    const jar = new CookieJar(env.clock.now)
    const response = await jar.fetch(server.url('/'))
    expect(response.status).toBe(200)
    expect(env.spies.save).toHaveBeenCalledTimes(1)
    expect(await env.stored(env.reader.idOf(jar))).toEqual({ user: USER })
    expect(env.errors.map((error) => (error as { code?: string }).code)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT'])
  })

  it('Express: an error handler running while res.send waits for the save does not change the response it ends', async () => {
    const env = storeEnv()
    const app = express()
    app.use(sessionMiddleware(env.sessions, { onError: env.onError }))
    app.get('/', (req, res) => {
      const request = req as unknown as SessionRequest<AppData>
      request.session.set('user', USER)
      void commitSession(env.sessions, req, res, request.session)
      res.send('ok')
      throw new Error('after the answer')
    })
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      env.errors.push(error)
      res.status(500).send('an error page')
    })
    const server = await startServer(app)
    const jar = new CookieJar(env.clock.now)
    const response = await jar.fetch(server.url('/'))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-length')).toBe('2')
    expect(await response.text()).toBe('ok')
    expect(env.spies.save).toHaveBeenCalledTimes(1)
    expect(await env.stored(env.reader.idOf(jar))).toEqual({ user: USER })
    expect(env.errors.map((error) => (error as Error).message)).toEqual(['after the answer'])
  })

  it("withSessions: a Vary the app adds after commitSession goes out, with Cookie", async () => {
    const env = storeEnv()
    const server = await serve(env, (req, res) => {
      res.setHeader('Vary', 'Accept')
      req.session.set('user', USER)
      void commitSession(env.sessions, req, res, req.session)
      res.setHeader('Vary', 'Accept, Accept-Language')
      res.end('ok')
    })
    const response = await fetch(server.url('/'))
    expect(response.headers.get('vary')).toBe('Accept, Accept-Language, Cookie')
    expect(sessionCookie(response)).toBeDefined()
    expect(env.spies.save).toHaveBeenCalledTimes(1)
  })

  it('awaited, failed and caught: a change the app makes then is saved by res.end, not reported', async () => {
    const env = storeEnv()
    env.spies.save.mockRejectedValueOnce(new Error('the store is down'))
    const server = await serve(env, async (req, res) => {
      req.session.set('user', USER)
      try {
        await commitSession(env.sessions, req, res, req.session)
      } catch {
        req.session.set('note', 'saved the second time')
      }
      res.end('ok')
    })
    const jar = new CookieJar(env.clock.now)
    const response = await jar.fetch(server.url('/'))
    expect(response.status).toBe(200)
    expect(env.spies.save).toHaveBeenCalledTimes(2)
    expect(await env.stored(env.reader.idOf(jar))).toEqual({ user: USER, note: 'saved the second time' })
    expect(env.errors).toEqual([])
  })

  it('withSessions: a Vary the app adds while the save runs goes out, with Cookie, when commitSession is awaited later', async () => {
    const env = storeEnv()
    const server = await serve(env, async (req, res) => {
      req.session.set('user', USER)
      const committing = commitSession(env.sessions, req, res, req.session)
      res.setHeader('Vary', 'Accept')
      await committing
      res.end('ok')
    })
    const response = await fetch(server.url('/'))
    expect(response.headers.get('vary')).toBe('Accept, Cookie')
    expect(sessionCookie(response)).toBeDefined()
  })

  it('awaited, failed and caught: commitSession may be called again, as without a store', async () => {
    const env = storeEnv()
    env.spies.save.mockRejectedValueOnce(new Error('the store is down'))
    const server = await serve(env, async (req, res) => {
      req.session.set('user', USER)
      await commitSession(env.sessions, req, res, req.session).catch(() => commitSession(env.sessions, req, res, req.session))
      res.end('ok')
    })
    const jar = new CookieJar(env.clock.now)
    const response = await jar.fetch(server.url('/'))
    expect(response.status).toBe(200)
    expect(env.spies.save).toHaveBeenCalledTimes(2)
    expect(response.headers.getSetCookie()).toHaveLength(1)
    expect(await env.stored(env.reader.idOf(jar))).toEqual({ user: USER })
    expect(env.errors).toEqual([])
  })

  it.each([
    ['res.end() before commitSession', 'commitSession: res.end() was called before commitSession and already saves the session; commit before answering'],
    ['res.writeHead() while the save runs', 'commitSession: the response headers were sent while the session was being saved; await commitSession before answering'],
  ] as const)('%s: commitSession refuses, saying so; the response goes out', async (order, message) => {
    const env = storeEnv()
    const refused: unknown[] = []
    const server = await serve(env, async (req, res) => {
      req.session.set('user', USER)
      if (order.startsWith('res.end')) {
        res.end('ok')
        try {
          await commitSession(env.sessions, req, res, req.session)
        } catch (error) {
          refused.push(error)
        }
      } else {
        const committing = commitSession(env.sessions, req, res, req.session)
        res.writeHead(200).end('ok')
        await committing.catch((error: unknown) => refused.push(error))
      }
    })
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('ok')
    expect(refused.map((error) => (error as Error).message)).toEqual([message])
  })

  it('awaited and caught, a failed save leaves the answer to the app', async () => {
    const env = storeEnv()
    const failure = new Error('the store is down')
    env.spies.save.mockRejectedValueOnce(failure)
    const server = await serve(env, async (req, res) => {
      req.session.set('user', USER)
      try {
        await commitSession(env.sessions, req, res, req.session)
        res.end('ok')
      } catch (error) {
        res.statusCode = 503
        res.end(error === failure ? 'try again later' : 'unexpected')
      }
    })
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(503)
    expect(await response.text()).toBe('try again later')
    expect(sessionCookie(response)).toBeUndefined()
  })
})

describe('store TTLs on a clock', () => {
  it('idleTimeout: activity re-issues the cookie at most every tenth of the period and extends the store TTL with it', async () => {
    const env = storeEnv({ idleTimeout: 600 })
    const server = await startExpress(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    expect(lastSave(env)).toMatchObject({ id, create: true, ttl: 600 })
    const saves = env.spies.save.mock.calls.length

    env.clock.advance(30) // under a tenth of 600: nothing to write
    const early = await get(server, jar, '/whoami')
    expect(early.body).toBe(`${USER}|`)
    expect(early.response.headers.getSetCookie()).toEqual([])
    expect(env.spies.save).toHaveBeenCalledTimes(saves)

    env.clock.advance(560) // t = 590: due; the cookie and the store TTL are renewed
    const renewed = await get(server, jar, '/whoami')
    expect(sessionCookie(renewed.response)).toBeDefined()
    expect(env.spies.save).toHaveBeenCalledTimes(saves + 1)
    expect(lastSave(env)).toEqual({ id, set: [], remove: [], create: false, ttl: 600, user: undefined })

    env.clock.advance(510) // t = 1100: past the first TTL (600), within the renewed one (1190)
    expect((await get(server, jar, '/whoami')).body).toBe(`${USER}|`)
    expect(await env.stored(id)).toEqual({ user: USER })

    env.clock.advance(601) // idle for longer than the timeout: gone from the cookie and the store
    expect((await get(server, jar, '/whoami')).body).toMatch(/^anonymous\|ERR_SESSION_(EXPIRED|REVOKED)$/)
    expect(await env.stored(id)).toBeUndefined()
  })

  it('rolling with an idleTimeout: every request renews the store TTL, even within a tenth of the period', async () => {
    const env = storeEnv({ idleTimeout: 600, rolling: true })
    const server = await startExpress(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    env.clock.advance(30)
    const look = await get(server, jar, '/whoami')
    expect(sessionCookie(look.response)).toBeDefined()
    expect(lastSave(env)).toEqual({ id, set: [], remove: [], create: false, ttl: 600, user: undefined })
    env.clock.advance(590) // t = 620: alive only because the request at t = 30 renewed the TTL
    expect((await get(server, jar, '/whoami')).body).toBe(`${USER}|`)
    expect(await env.stored(id)).toEqual({ user: USER })
  })

  it('rolling without an idleTimeout: every request re-saves with the remaining lifetime as the TTL', async () => {
    const env = storeEnv({ rolling: true })
    const server = await startExpress(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    env.clock.advance(100)
    await get(server, jar, '/whoami')
    expect(lastSave(env)).toEqual({ id, set: [], remove: [], create: false, ttl: LIFETIME - 100, user: undefined })
  })

  it('the store expiring a session (lifetime over) gives a fresh session', async () => {
    const env = storeEnv({ lifetime: 3600 })
    const server = await startExpress(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    expect(lastSave(env)).toMatchObject({ ttl: 3600 })
    const value = jar.get('session') as string
    env.clock.advance(3599)
    expect((await get(server, jar, '/whoami')).body).toBe(`${USER}|`)
    env.clock.advance(2)
    // The cookie is still within its clock tolerance; the store has dropped the session at its TTL.
    expect((await get(server, jar, '/whoami')).body).toBe('anonymous|ERR_SESSION_REVOKED')
    env.clock.advance(60)
    expect((await replay(server, value)).body).toBe('anonymous|ERR_SESSION_EXPIRED')
    expect(await env.stored(id)).toBeUndefined()
  })
})

describe('encrypt: true', () => {
  it('writes an x1 cookie (the id encrypted), still short, and the flow works', async () => {
    const env = storeEnv({ encrypt: true })
    const server = await startExpress(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    const value = jar.get('session') as string
    expect(value.startsWith('x1.')).toBe(true)
    expect(value.length).toBeLessThan(200)
    expect(value).not.toContain(id)
    expect(env.reader.payload(value)).toEqual({ i: id })
    expect((await get(server, jar, '/count')).body).toBe(`${USER}:1`)
    expect(await env.stored(id)).toEqual({ count: 1, user: USER })
  })
})
