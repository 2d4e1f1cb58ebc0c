/**
 * Frasco inside Koa 3: a middleware that reads the session from `ctx.req`, runs the rest of the
 * app, and writes what `sessions.commit` returns with `ctx.append` and `ctx.set`. Koa writes headers
 * straight to the node response (`ctx.set`, `ctx.append`, `ctx.cookies.set`, `ctx.vary`) and sends
 * them only after every middleware has returned, so the commit appends to whatever the app set.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import Koa, { type DefaultState } from 'koa'
import { describe, expect, it } from 'vitest'
import { readSession } from '../../src/adapters/node.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { CookieJar, formPost, startServer, useTestServers } from '../helpers/server.js'
import { expectLoginFlow, expectVaryKept, setCookies, varyOf } from './flow.js'

useTestServers()

const secrets = [randomBytes(32).toString('base64url')]

// --- recipe: Koa (docs/frameworks.md) -------------------------------------------------------------
type LoginData = { username: string }
type AppContext = { session: Session<LoginData> }

function sessionsMiddleware(sessions: Sessions<LoginData>): Koa.Middleware<DefaultState, AppContext> {
  return async (ctx, next) => {
    ctx.session = readSession(sessions, ctx.req)
    await next()
    // After the app, before Koa sends the headers. A thrown error skips this: Koa's error
    // response drops every header anyway. With ctx.respond = false, commit before writing.
    // ctx.secure follows app.proxy; commit merges Cookie into the app's Vary, and writes no session
    // cookie on a 5xx the app sets itself (a failed request keeps the session the client had).
    const { setCookie, vary } = sessions.commit(ctx.session, { secure: ctx.secure, vary: ctx.response.get('Vary'), status: ctx.status })
    if (setCookie.length > 0) ctx.append('Set-Cookie', setCookie) // after the app's own cookies
    if (vary !== undefined) ctx.set('Vary', vary)
  }
}

// What @koa/bodyparser does, without the dependency.
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  req.setEncoding('utf8')
  for await (const chunk of req) {
    body += chunk as string
    if (body.length > 10_000) throw Object.assign(new Error('Form too large'), { status: 413, expose: true })
  }
  return new URLSearchParams(body)
}

function createApp(sessions: Sessions<LoginData>): Koa<DefaultState, AppContext> {
  const app = new Koa<DefaultState, AppContext>()
  app.use(sessionsMiddleware(sessions))
  app.use(async (ctx) => {
    if (ctx.method === 'GET' && ctx.path === '/') {
      ctx.vary('Accept-Language')
      const username = ctx.session.username
      ctx.type = 'text' // not Koa's guess: a name starting with '<' would make it HTML
      ctx.body = username === undefined ? 'You are not logged in' : `Logged in as ${username}`
    } else if (ctx.method === 'POST' && ctx.path === '/login') {
      const username = (await readForm(ctx.req)).get('username')?.trim() ?? ''
      if (username === '') ctx.throw(400, 'A username is required')
      ctx.session.regenerate() // a new identity on login, against session fixation
      ctx.session.username = username
      ctx.cookies.set('theme', 'dark', { httpOnly: false }) // the app's own cookie travels with the session's
      ctx.status = 303
      ctx.redirect('/')
    } else if (ctx.method === 'POST' && ctx.path === '/logout') {
      ctx.session.pop('username')
      ctx.status = 303
      ctx.redirect('/')
    }
  })
  return app
}
// --- end recipe -------------------------------------------------------------------------------------

describe('Koa 3', () => {
  it("runs Flask's login tutorial: log in, see the name, log out", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const server = await startServer(createApp(sessions).callback())
    await expectLoginFlow(server.origin, sessions)
  })

  it("keeps the app's own Vary and adds Cookie once", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = new Koa<DefaultState, AppContext>()
    app.use(sessionsMiddleware(sessions))
    app.use(async (ctx) => {
      ctx.set('Vary', String(ctx.query.set))
      if (ctx.query.write === '1') ctx.session.username = 'admin'
      ctx.body = ctx.session.username ?? 'anonymous'
    })
    const server = await startServer(app.callback())
    await expectVaryKept(server.origin)
  })

  it('keeps cookies set with ctx.cookies, ctx.append and by an outer middleware after the commit', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = new Koa<DefaultState, AppContext>()
    app.use(async (ctx, next) => {
      await next()
      // Runs after the session middleware committed: the cookies module appends too.
      ctx.cookies.set('outer', '3')
    })
    app.use(sessionsMiddleware(sessions))
    app.use(async (ctx) => {
      ctx.session.username = 'admin'
      ctx.cookies.set('a', '1')
      ctx.append('Set-Cookie', 'b=2; Path=/')
      ctx.set('Vary', 'Origin')
      ctx.body = { ok: true }
    })
    const server = await startServer(app.callback())
    const response = await fetch(server.url('/'))
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['a', 'b', 'session', 'outer'])
    expect(response.headers.get('vary')).toBe('Origin, Cookie')
    expect(await response.json()).toEqual({ ok: true })
  })

  it('writes no session cookie on an error response, and turns a session that cannot be stored into a 500', async () => {
    const sessions = createSessions<LoginData>({ secrets, chunking: false })
    const app = new Koa<DefaultState, AppContext>()
    app.silent = true // keep Koa's default error logging out of the test output
    app.use(sessionsMiddleware(sessions))
    app.use(async (ctx) => {
      ctx.cookies.set('theme', 'dark')
      if (ctx.path === '/fail') {
        ctx.session.username = 'set before the error'
        throw new Error('boom')
      }
      if (ctx.path === '/unavailable') {
        ctx.session.username = 'set before the 503'
        ctx.status = 503
        ctx.body = 'try later'
        return
      }
      ctx.session.username = randomBytes(8192).toString('hex') // beyond one cookie, chunking off
      ctx.body = 'stored'
    })
    const server = await startServer(app.callback())

    const failed = await fetch(server.url('/fail'))
    expect(failed.status).toBe(500)
    expect(failed.headers.getSetCookie()).toEqual([])

    // A 5xx the app sets itself is a failed request too: the app's own cookie goes, the session's does not.
    const unavailable = await fetch(server.url('/unavailable'))
    expect(unavailable.status).toBe(503)
    expect(setCookies(unavailable).map((cookie) => cookie.name)).toEqual(['theme'])

    const big = await fetch(server.url('/big'))
    expect(big.status).toBe(500)
    expect(big.headers.getSetCookie()).toEqual([])
  })

  it('sets Secure from X-Forwarded-Proto when app.proxy is on', async () => {
    const sessions = createSessions<LoginData>({ secrets }) // cookie.secure: 'auto'
    const app = createApp(sessions)
    app.proxy = true
    const server = await startServer(app.callback())
    const jar = new CookieJar()
    const init = formPost({ username: 'admin' })
    const response = await jar.fetch(server.url('/login'), { ...init, headers: { ...init.headers, 'x-forwarded-proto': 'https' } })
    expect(setCookies(response).find((cookie) => cookie.name === 'session')?.attributes.secure).toBe(true)
    expect(varyOf(response)).toEqual(['cookie'])
  })
})
