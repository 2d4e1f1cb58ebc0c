/**
 * Store mode (`createSessions({ store })`) through `frasco/koa`: the session is loaded before the
 * next middleware (never for a request without a cookie), saved after it, and the response waits
 * for the store; a failing store is Koa's 500 without the cookie. The shared store app of
 * test/helpers/stored-app.ts, served by Koa 3 over a real socket (Redis: koa.test.ts).
 */
import Koa from 'koa'
import { describe, expect, it } from 'vitest'
import { commitSession, sessionMiddleware } from '../../src/adapters/koa.js'
import { csrfToken } from '../../src/csrf.js'
import { ChangedAfterCommit } from '../../src/errors.js'
import type { Session } from '../../src/session.js'
import {
  USER,
  act,
  describeStoreIntegration,
  get,
  sessionFlash,
  storeEnv,
  type AppData,
  type RouteContext,
  type StoreEnv,
} from '../helpers/stored-app.js'
import { CookieJar, readBody, startServer, useTestServers, type TestServer } from '../helpers/server.js'

useTestServers()

/**
 * ctx.session, as the store app's routes see it. The tests' Koa program declares the recipe's
 * KoaSessionData (koa.test.ts); these routes keep AppData in the same sessions.
 */
function sessionOf(ctx: Koa.Context): Session<AppData> {
  return ctx.session as unknown as Session<AppData>
}

function koaRoutes(env: StoreEnv, ctx: Koa.Context, form: URLSearchParams): RouteContext {
  return {
    sessions: env.sessions,
    session: () => sessionOf(ctx),
    form,
    end: () => {
      ctx.session = null
    },
    ...sessionFlash(() => sessionOf(ctx)),
  }
}

/** The store app on Koa: the middleware, then the routes; what Koa's error handling hears goes to env.errors. */
function koaApp(env: StoreEnv, options: Parameters<typeof sessionMiddleware>[1] = { onError: env.onError }): Koa {
  const app = new Koa()
  app.silent = true
  app.on('error', (error: unknown) => env.errors.push(error))
  app.use(sessionMiddleware(env.sessions, options))
  app.use(async (ctx) => {
    const form = new URLSearchParams(ctx.method === 'POST' ? await readBody(ctx.req) : '')
    const outcome = await act(koaRoutes(env, ctx, form), ctx.method, ctx.path)
    ctx.status = outcome.status
    if (outcome.location !== undefined) {
      ctx.redirect(outcome.location)
      return
    }
    ctx.type = 'text'
    ctx.body = outcome.body
  })
  return app
}

function startKoa(env: StoreEnv): Promise<TestServer> {
  return startServer(koaApp(env).callback())
}

// Logout there is `ctx.session = null`; Koa's error handling (app.on('error')) hears the failures.
describeStoreIntegration('store mode through sessionMiddleware on Koa 3', startKoa)

describe('store mode: the store and the response', () => {
  it('a change after the commit (an outer middleware) is reported, not stored', async () => {
    const env = storeEnv()
    const app = new Koa()
    app.use(async (ctx, next) => {
      await next()
      if (ctx.path === '/late') sessionOf(ctx).set('note', 'too late')
    })
    app.use(sessionMiddleware(env.sessions, { onError: env.onError }))
    app.use(async (ctx) => {
      sessionOf(ctx).set('user', USER)
      ctx.body = 'ok'
    })
    const server = await startServer(app.callback())
    const jar = new CookieJar(env.clock.now)
    expect((await get(server, jar, '/late')).body).toBe('ok')
    const id = env.reader.idOf(jar)
    expect(env.errors).toEqual([expect.any(ChangedAfterCommit)])
    expect(await env.stored(id)).toEqual({ user: USER })
  })

  it('commitSession(ctx) saves before an app that answers on its own writes to ctx.res', async () => {
    const env = storeEnv()
    const app = new Koa()
    app.use(sessionMiddleware(env.sessions, { onError: env.onError }))
    app.use(async (ctx) => {
      sessionOf(ctx).set('user', USER)
      await commitSession(ctx)
      ctx.respond = false
      ctx.res.end('raw')
    })
    const server = await startServer(app.callback())
    const jar = new CookieJar(env.clock.now)
    expect((await get(server, jar, '/')).body).toBe('raw')
    expect(await env.stored(env.reader.idOf(jar))).toEqual({ user: USER })
    expect(env.errors).toEqual([])
  })
})

describe('store mode with csrf: true', () => {
  async function csrfApp(env: StoreEnv): Promise<TestServer> {
    const app = new Koa()
    app.use(sessionMiddleware(env.sessions, { csrf: true, onError: env.onError }))
    app.use(async (ctx) => {
      if (ctx.method === 'GET') ctx.body = csrfToken(sessionOf(ctx))
      else {
        sessionOf(ctx).set('note', 'posted')
        ctx.body = 'done'
      }
    })
    return startServer(app.callback())
  }

  it('refuses on the browser headers without a store read; checks a token against the loaded session', async () => {
    const env = storeEnv()
    const server = await csrfApp(env)
    const jar = new CookieJar(env.clock.now)
    const token = (await get(server, jar, '/')).body
    const id = env.reader.idOf(jar)
    expect(await env.stored(id)).toHaveProperty('_csrf')
    const loads = env.spies.load.mock.calls.length

    const crossSite = await jar.fetch(server.url('/'), { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } })
    expect(crossSite.status).toBe(403)
    expect(env.spies.load.mock.calls.length).toBe(loads)

    const forged = await jar.fetch(server.url('/'), { method: 'POST', headers: { 'x-csrf-token': 'A'.repeat(86) } })
    expect(forged.status).toBe(403)
    expect(await forged.text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_INVALID')
    expect(env.spies.load.mock.calls.length).toBe(loads + 1)

    const scripted = await jar.fetch(server.url('/'), { method: 'POST', headers: { 'x-csrf-token': token } })
    expect(await scripted.text()).toBe('done')
    expect((await env.stored(id))?.['note']).toBe('posted')
    expect(env.errors.map((error) => (error as { code?: string }).code)).toEqual(['ERR_SESSION_CSRF_CROSS_SITE', 'ERR_SESSION_CSRF_TOKEN_INVALID'])
    expect(env.spies.save.mock.calls.length).toBe(2) // the token's secret, then the note: nothing for the refusals
  })
})
