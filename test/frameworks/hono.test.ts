/**
 * Frasco inside Hono 4, served by `@hono/node-server` over a real socket. A Hono middleware reads
 * the session from `c.req.raw` with the Fetch adapter and, after `await next()`, writes what
 * `sessions.commit` returns with `c.header`. With `csrf`, it runs `checkCsrf` on the Fetch `Request`
 * before the app and answers a refusal with a 403 itself.
 */
import { randomBytes } from 'node:crypto'
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { setCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import { describe, expect, it } from 'vitest'
import { readSession } from '../../src/adapters/fetch.js'
import { checkCsrf, csrfToken, type CsrfOptions } from '../../src/csrf.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { CookieJar, formPost, startServer, useTestServers } from '../helpers/server.js'
import { CSRF_CASES, expectCsrfCase, expectLoginFlow, expectLoginFormToken, expectVaryKept, setCookies, varyOf } from './flow.js'

useTestServers()

const secrets = [randomBytes(32).toString('base64url')]

// --- recipe: Hono (docs/frameworks.md) ------------------------------------------------------------
type LoginData = { username: string }
type Env = { Variables: { session: Session<LoginData> } }

/**
 * `c.get('session')`, committed after the app. With `csrf` (`true` or checkCsrf's options), unsafe
 * requests another site sent are refused before the app runs (docs/csrf.md); the token comes from
 * the x-csrf-token header or the _csrf field of a form.
 */
function sessionsMiddleware(sessions: Sessions<LoginData>, options: { trustProxy?: boolean; csrf?: boolean | Omit<CsrfOptions, 'header' | 'field'> } = {}) {
  const { trustProxy = false, csrf = false } = options
  // Returns the 403 for a refused request; any other goes on to next().
  return createMiddleware<Env>(async (c, next): Promise<Response | void> => {
    const request = c.req.raw
    const session = readSession(sessions, request)
    // An https URL wins; X-Forwarded-Proto counts only with trustProxy, behind a proxy that sets
    // (and overwrites) it: the rule of frasco/fetch and frasco/node.
    const url = new URL(request.url)
    const forwarded = trustProxy ? request.headers.get('x-forwarded-proto')?.split(',', 1)[0]?.trim().toLowerCase() : undefined
    const secure = url.protocol === 'https:' || forwarded === 'https'
    if (csrf !== false) {
      // The token: the x-csrf-token header, else a form's _csrf field (parseBody caches the form: the
      // route parses it again for free).
      const field = request.headers.has('x-csrf-token') ? undefined : (await c.req.parseBody())._csrf
      const refused = checkCsrf(
        {
          method: request.method,
          origin: `${secure ? 'https' : 'http'}://${url.host}`, // the app's own, as browsers send Origin
          header: (name) => request.headers.get(name) ?? undefined,
          token: request.headers.get('x-csrf-token') ?? (typeof field === 'string' ? field : undefined),
        },
        session,
        csrf === true ? undefined : csrf,
      )
      // Answered before the commit below: a refused request gets no session cookie.
      if (refused !== undefined) return c.text(`Forbidden: ${refused.code}`, 403)
    }
    c.set('session', session)
    await next()
    // With the status, commit writes no session cookie on a 5xx (such as app.onError's answer to a
    // handler that threw): a failed request keeps the session the client had.
    const { setCookie, vary } = sessions.commit(session, { secure, vary: c.res.headers.get('vary'), status: c.res.status })
    // c.header copies a response whose headers are immutable (a fetch() result, Response.redirect()).
    for (const cookie of setCookie) c.header('Set-Cookie', cookie, { append: true })
    if (vary !== undefined) c.header('Vary', vary)
  })
}

function createApp(sessions: Sessions<LoginData>) {
  const app = new Hono<Env>()
  app.use(sessionsMiddleware(sessions, { csrf: true }))

  app.get('/', (c) => {
    c.header('Vary', 'Accept-Language')
    const username = c.get('session').username
    return c.text(username === undefined ? 'You are not logged in' : `Logged in as ${username}`)
  })

  app.get('/login', (c) => {
    // The token goes in every form, for browsers that send neither Sec-Fetch-Site nor Origin.
    const token = csrfToken(c.get('session'))
    return c.html(`<form method="post"><input type="hidden" name="_csrf" value="${token}"><input name="username"> <button>Log in</button></form>`)
  })

  app.post('/login', async (c) => {
    const body = await c.req.parseBody()
    const username = typeof body.username === 'string' ? body.username.trim() : ''
    if (username === '') return c.text('A username is required', 400)
    const session = c.get('session')
    session.regenerate() // a new identity on login, against session fixation
    session.username = username
    setCookie(c, 'theme', 'dark') // the app's own cookie travels with the session's
    return c.redirect('/', 303)
  })

  app.post('/logout', (c) => {
    c.get('session').pop('username')
    return c.redirect('/', 303)
  })
  return app
}
// --- end recipe -------------------------------------------------------------------------------------

describe('Hono 4 on @hono/node-server', () => {
  it("runs Flask's login tutorial: log in, see the name, log out", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const server = await startServer(getRequestListener(createApp(sessions).fetch))
    await expectLoginFlow(server.origin, sessions)
  })

  it("keeps the app's own Vary and adds Cookie once", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.get('/vary', (c) => {
      c.header('Vary', c.req.query('set'))
      const session = c.get('session')
      if (c.req.query('write') === '1') session.username = 'admin'
      return c.text(session.username ?? 'anonymous')
    })
    const server = await startServer(getRequestListener(app.fetch))
    await expectVaryKept(server.origin)
  })

  it('commits onto a response with immutable headers (a proxied fetch) without losing its Set-Cookie and Vary, or ours', async () => {
    const upstream = await startServer((_req, res) => {
      res.setHeader('Set-Cookie', ['up=1; Path=/'])
      res.setHeader('Vary', 'Accept-Encoding')
      res.end('from upstream')
    })
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.get('/proxy', async (c) => {
      c.get('session').username = 'proxied'
      return fetch(upstream.url('/')) // headers of a fetch() result are immutable
    })
    app.get('/moved', (c) => {
      c.get('session').username = 'moved'
      return Response.redirect(new URL('/', c.req.url), 302) // immutable too
    })
    const server = await startServer(getRequestListener(app.fetch))

    const proxied = await fetch(server.url('/proxy'))
    expect(await proxied.text()).toBe('from upstream')
    expect(setCookies(proxied).map((cookie) => cookie.name)).toEqual(['up', 'session'])
    expect(proxied.headers.get('vary')).toBe('Accept-Encoding, Cookie')

    const moved = await fetch(server.url('/moved'), { redirect: 'manual' })
    expect(moved.status).toBe(302)
    expect(setCookies(moved).map((cookie) => cookie.name)).toEqual(['session'])
  })

  it("keeps cookies set by an outer middleware after next(), through Hono's c.header", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = new Hono<Env>()
    app.use(async (c, next) => {
      await next()
      setCookie(c, 'outer', '3') // after the session was committed
    })
    app.use(sessionsMiddleware(sessions))
    app.get('/', (c) => {
      c.get('session').username = 'admin'
      setCookie(c, 'a', '1')
      return c.json({ ok: true })
    })
    const server = await startServer(getRequestListener(app.fetch))
    const response = await fetch(server.url('/'))
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['a', 'session', 'outer'])
    expect(varyOf(response)).toEqual(['cookie'])
  })

  it("writes no session cookie when the handler throws (Hono's error response)", async () => {
    const sessions = createSessions<LoginData>({ secrets, chunking: false })
    const app = createApp(sessions)
    app.get('/big', (c) => {
      c.get('session').username = randomBytes(8192).toString('hex') // beyond one cookie, chunking off
      return c.text('stored')
    })
    app.onError((error, c) => c.text(error instanceof Error ? error.name : 'error', 500))
    const server = await startServer(getRequestListener(app.fetch))
    const big = await fetch(server.url('/big'))
    expect(big.status).toBe(500)
    expect(await big.text()).toBe('CookieTooLarge')
    expect(big.headers.getSetCookie()).toEqual([])
  })

  it('writes no session cookie on the 500 app.onError answers for a handler that threw after changing the session', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.get('/fail', (c) => {
      c.get('session').username = 'set before the error'
      throw new Error('boom')
    })
    app.onError((_error, c) => c.text('failed', 500))
    const server = await startServer(getRequestListener(app.fetch))
    const failed = await fetch(server.url('/fail'))
    expect(failed.status).toBe(500)
    expect(failed.headers.getSetCookie()).toEqual([])
  })

  it('an https URL wins over X-Forwarded-Proto: http, as in frasco/fetch and frasco/node', async () => {
    const sessions = createSessions<LoginData>({ secrets }) // cookie.secure: 'auto'
    const app = new Hono<Env>()
    app.use(sessionsMiddleware(sessions, { trustProxy: true }))
    app.get('/login', (c) => {
      c.get('session').username = 'admin'
      return c.text('ok')
    })
    const response = await app.request('https://app.test/login', { headers: { 'x-forwarded-proto': 'http' } })
    expect(setCookies(response)[0]?.attributes.secure).toBe(true)
  })

  it('sets Secure from X-Forwarded-Proto with trustProxy', async () => {
    const sessions = createSessions<LoginData>({ secrets }) // cookie.secure: 'auto'
    const app = new Hono<Env>()
    app.use(sessionsMiddleware(sessions, { trustProxy: true }))
    app.post('/login', (c) => {
      c.get('session').username = 'admin'
      return c.text('ok')
    })
    const server = await startServer(getRequestListener(app.fetch))
    const jar = new CookieJar()
    const init = formPost({ username: 'admin' })
    const response = await jar.fetch(server.url('/login'), { ...init, headers: { ...init.headers, 'x-forwarded-proto': 'https' } })
    expect(setCookies(response)[0]?.attributes.secure).toBe(true)
  })

  describe('CSRF protection (sessionsMiddleware with csrf: true)', () => {
    /** The recipe's app with the two routes of expectCsrfCase, and rolling sessions: a refused request that committed would show. */
    async function transferApp(): Promise<{ origin: string; runs: () => number }> {
      let runs = 0
      const app = createApp(createSessions<LoginData>({ secrets, rolling: true }))
      app.get('/transfer', (c) => c.text(csrfToken(c.get('session'))))
      app.post('/transfer', (c) => {
        runs += 1
        c.get('session').username = 'transferred'
        return c.text('done')
      })
      return { origin: (await startServer(getRequestListener(app.fetch))).origin, runs: () => runs }
    }

    it.each(CSRF_CASES)('%s', async (...testCase) => {
      const { origin, runs } = await transferApp()
      await expectCsrfCase(origin, runs, testCase)
    })

    it('puts a token in the login form, which lets a client without browser headers log in', async () => {
      const server = await startServer(getRequestListener(createApp(createSessions<LoginData>({ secrets })).fetch))
      await expectLoginFormToken(server.origin)
    })

    it("takes the app's origin from the Request's URL, and from X-Forwarded-Proto with trustProxy only", async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const app = (trustProxy: boolean) =>
        new Hono<Env>().use(sessionsMiddleware(sessions, { trustProxy, csrf: true })).post('/', (c) => c.text('done'))
      // An older browser on the https site behind the proxy: Origin, no Sec-Fetch-Site.
      const init = { method: 'POST', headers: { origin: 'https://app.test', 'x-forwarded-proto': 'https' } }
      expect(await (await app(true).request('http://app.test/', init)).text()).toBe('done')
      expect(await (await app(false).request('http://app.test/', init)).text()).toBe('Forbidden: ERR_SESSION_CSRF_ORIGIN')
      expect(await (await app(false).request('https://app.test/', init)).text()).toBe('done')
    })

    it('leaves the form to the route: parseBody after the check reads the same fields', async () => {
      const app = createApp(createSessions<LoginData>({ secrets }))
      app.post('/echo', async (c) => c.json(await c.req.parseBody()))
      const body = new URLSearchParams({ note: 'kept', _csrf: 'not checked: Sec-Fetch-Site decides' })
      const response = await app.request('http://app.test/echo', { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' }, body })
      expect(await response.json()).toEqual({ note: 'kept', _csrf: 'not checked: Sec-Fetch-Site decides' })
    })
  })
})
