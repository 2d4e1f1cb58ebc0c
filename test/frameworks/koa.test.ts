/**
 * Frasco inside Koa 3: a middleware that reads the session from `ctx.req`, runs the rest of the
 * app, and writes what `sessions.commit` returns with `ctx.append` and `ctx.set`. Koa writes headers
 * straight to the node response (`ctx.set`, `ctx.append`, `ctx.cookies.set`, `ctx.vary`) and sends
 * them only after every middleware has returned, so the commit appends to whatever the app set.
 * With `csrf`, the middleware runs `checkCsrf` before the app and refuses with `ctx.throw(403)`.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import Koa, { type DefaultState } from 'koa'
import { describe, expect, it } from 'vitest'
import { readSession } from '../../src/adapters/node.js'
import { checkCsrf, csrfToken, type CsrfOptions } from '../../src/csrf.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { CookieJar, startServer, useTestServers } from '../helpers/server.js'
import { CSRF_CASES, browserPost, expectCsrfCase, expectLoginFlow, expectLoginFormToken, expectVaryKept, setCookies, varyOf } from './flow.js'

useTestServers()

const secrets = [randomBytes(32).toString('base64url')]

// --- recipe: Koa (docs/frameworks.md) -------------------------------------------------------------
type LoginData = { username: string }
type AppContext = { session: Session<LoginData> }

/**
 * `ctx.session`, committed after the app. With `csrf` (`true` or checkCsrf's options), unsafe
 * requests another site sent are refused before the app runs (docs/csrf.md); the token comes from
 * the x-csrf-token header or the _csrf field of a form.
 */
function sessionsMiddleware(sessions: Sessions<LoginData>, options: { csrf?: boolean | Omit<CsrfOptions, 'header' | 'field'> } = {}): Koa.Middleware<DefaultState, AppContext> {
  const { csrf = false } = options
  return async (ctx, next) => {
    ctx.session = readSession(sessions, ctx.req)
    if (csrf !== false) {
      // The token: the x-csrf-token header, else a form's _csrf field (read once, for the route too).
      const token = ctx.get('x-csrf-token') || (ctx.is('urlencoded') ? (await readForm(ctx.req)).get('_csrf') : null)
      const refused = checkCsrf(
        // The app's origin follows app.proxy, as ctx.secure does. Not ctx.origin: since Koa 3, that is
        // the request's Origin header, which would always match itself.
        { method: ctx.method, origin: `${ctx.protocol}://${ctx.host}`, header: (name) => ctx.get(name), token: token ?? undefined },
        ctx.session,
        csrf === true ? undefined : csrf,
      )
      // A thrown error skips the commit below: a refused request gets no session cookie.
      if (refused !== undefined) ctx.throw(403, `Forbidden: ${refused.code}`)
    }
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

// What @koa/bodyparser does, without the dependency. Once per request: the CSRF check may read the
// form before the route does.
const forms = new WeakMap<IncomingMessage, Promise<URLSearchParams>>()
function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let form = forms.get(req)
  if (form === undefined) forms.set(req, (form = parseForm(req)))
  return form
}

async function parseForm(req: IncomingMessage): Promise<URLSearchParams> {
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
  app.use(sessionsMiddleware(sessions, { csrf: true }))
  app.use(async (ctx) => {
    if (ctx.method === 'GET' && ctx.path === '/') {
      ctx.vary('Accept-Language')
      const username = ctx.session.username
      ctx.type = 'text' // not Koa's guess: a name starting with '<' would make it HTML
      ctx.body = username === undefined ? 'You are not logged in' : `Logged in as ${username}`
    } else if (ctx.method === 'GET' && ctx.path === '/login') {
      // The token goes in every form, for browsers that send neither Sec-Fetch-Site nor Origin.
      ctx.type = 'html'
      ctx.body = `<form method="post"><input type="hidden" name="_csrf" value="${csrfToken(ctx.session)}"><input name="username"> <button>Log in</button></form>`
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
    const init = browserPost({ username: 'admin' })
    const response = await jar.fetch(server.url('/login'), { ...init, headers: { ...init.headers, 'x-forwarded-proto': 'https' } })
    expect(setCookies(response).find((cookie) => cookie.name === 'session')?.attributes.secure).toBe(true)
    expect(varyOf(response)).toEqual(['cookie'])
  })

  describe('CSRF protection (sessionsMiddleware with csrf: true)', () => {
    /**
     * The middleware with the two routes of expectCsrfCase (Koa has no router to add them to the
     * recipe's app), and rolling sessions: a refused request that committed would show.
     */
    async function transferApp(): Promise<{ origin: string; runs: () => number }> {
      let runs = 0
      const app = new Koa<DefaultState, AppContext>()
      app.use(sessionsMiddleware(createSessions<LoginData>({ secrets, rolling: true }), { csrf: true }))
      app.use(async (ctx) => {
        if (ctx.path !== '/transfer') return
        if (ctx.method === 'GET') {
          ctx.body = csrfToken(ctx.session)
          return
        }
        runs += 1
        ctx.session.username = 'transferred'
        ctx.body = 'done'
      })
      return { origin: (await startServer(app.callback())).origin, runs: () => runs }
    }

    it.each(CSRF_CASES)('%s', async (...testCase) => {
      const { origin, runs } = await transferApp()
      await expectCsrfCase(origin, runs, testCase)
    })

    it('puts a token in the login form, which lets a client without browser headers log in', async () => {
      const server = await startServer(createApp(createSessions<LoginData>({ secrets })).callback())
      await expectLoginFormToken(server.origin)
    })

    it("takes the app's origin from ctx.protocol and ctx.host, so X-Forwarded-Proto counts with app.proxy only", async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const proxied = createApp(sessions)
      proxied.proxy = true
      const trusting = await startServer(proxied.callback())
      const direct = await startServer(createApp(sessions).callback())
      // An older browser on the https site behind the proxy: Origin, no Sec-Fetch-Site.
      const post = (origin: string): RequestInit => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: origin.replace(/^http:/, 'https:'), 'x-forwarded-proto': 'https' },
        body: 'username=admin',
        redirect: 'manual',
      })
      expect((await fetch(trusting.url('/login'), post(trusting.origin))).status).toBe(303)
      const refused = await fetch(direct.url('/login'), post(direct.origin))
      expect(refused.status).toBe(403)
      expect(await refused.text()).toBe('Forbidden: ERR_SESSION_CSRF_ORIGIN')
    })
  })
})
