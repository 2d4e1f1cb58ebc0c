/**
 * `frasco/hono` inside Hono 4, served by `@hono/node-server` over real sockets (and, where a test
 * needs a Host a socket on 127.0.0.1 cannot have, through `app.request`): the recipe's app runs
 * Flask's login tutorial, the CSRF cases of flow.ts, and what every integration must get right
 * (the app's own Set-Cookie and Vary kept, immutable responses, 5xx without the cookie,
 * CookieTooLarge as a 500, trustProxy, hostile cookies), then what `onError` hears, the strict
 * options and the types. Store mode, memory and Redis: hono-store.test.ts.
 */
import { randomBytes } from 'node:crypto'
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { setCookie } from 'hono/cookie'
import { requestId } from 'hono/request-id'
import { streamText } from 'hono/streaming'
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import {
  sessionMiddleware,
  type SessionContext,
  type SessionEnv,
  type SessionMiddleware,
  type SessionMiddlewareOptions,
  type SessionVariables,
} from '../../src/adapters/hono.js'
import { csrfToken } from '../../src/csrf.js'
import { ChangedAfterCommit, CsrfRefused, SecureCookieOverHttp } from '../../src/errors.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions, type StoredSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import { CookieJar, formPost, parseSetCookie, rawGet, startServer, useTestServers } from '../helpers/server.js'
import { cookieReader } from '../helpers/stored.js'
import { CSRF_CASES, SAME_ORIGIN, browserPost, expectCsrfCase, expectLoginFlow, expectLoginFormToken, expectVaryKept, setCookies, varyOf } from './flow.js'

useTestServers()
afterEach(() => vi.restoreAllMocks())

const secrets = [randomBytes(32).toString('base64url')]

// --- recipe: Hono ---------------------------------------------------------------------------------
type LoginData = { username: string }

function createApp(sessions: Sessions<LoginData> | StoredSessions<LoginData>) {
  // SessionEnv types c.get('session') as the manager's Session<LoginData>.
  const app = new Hono<SessionEnv<LoginData>>()
  app.use(sessionMiddleware(sessions, { csrf: true })) // refuses POSTs another site sent (docs/csrf.md)

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
// --- end recipe -----------------------------------------------------------------------------------

/** The login data, with a counter a "last seen" middleware bumps on every request. */
type SeenData = LoginData & { seen?: number }

/** Serves a Hono app over a real socket, as `serve()` of @hono/node-server does. */
async function serve(app: Hono<any>, options: { insecureHTTPParser?: boolean } = {}) {
  return startServer(getRequestListener(app.fetch), options)
}

describe('Hono 4 on @hono/node-server', () => {
  it("runs Flask's login tutorial: log in, see the name, log out", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const server = await serve(createApp(sessions))
    await expectLoginFlow(server.origin, sessions)
  })

  it('runs the same app on a store-backed manager: the name in the store, an id in the cookie', async () => {
    const store = createMemoryStore()
    const server = await serve(createApp(createSessions<LoginData>({ secrets, store })))
    const jar = new CookieJar()
    const login = await jar.fetch(server.url('/login'), browserPost({ username: 'admin' }))
    expect(login.status).toBe(303)
    expect(setCookies(login).map((cookie) => cookie.name).sort()).toEqual(['session', 'theme'])
    const id = cookieReader(secrets).idOf(jar) as string
    expect(await store.load(id)).toEqual({ username: '"admin"' })
    const home = await jar.fetch(server.url('/'))
    expect(await home.text()).toBe('Logged in as admin')
    expect(home.headers.getSetCookie()).toEqual([])
    expect(varyOf(home)).toEqual(['accept-language', 'cookie'])
    const logout = await jar.fetch(server.url('/logout'), browserPost())
    expect(setCookies(logout).map((cookie) => [cookie.name, cookie.attributes['max-age']])).toEqual([['session', '0']])
    expect(await store.load(id)).toBeUndefined()
    expect(await (await jar.fetch(server.url('/'))).text()).toBe('You are not logged in')
  })

  it("keeps the app's own Vary and adds Cookie once", async () => {
    const app = createApp(createSessions<LoginData>({ secrets }))
    app.get('/vary', (c) => {
      c.header('Vary', c.req.query('set'))
      const session = c.get('session')
      if (c.req.query('write') === '1') session.username = 'admin'
      return c.text(session.username ?? 'anonymous')
    })
    await expectVaryKept((await serve(app)).origin)
  })

  it('commits onto a response with immutable headers (a proxied fetch, Response.redirect) without losing its Set-Cookie and Vary, or ours', async () => {
    const upstream = await startServer((_req, res) => {
      res.setHeader('Set-Cookie', ['up=1; Path=/'])
      res.setHeader('Vary', 'Accept-Encoding')
      res.end('from upstream')
    })
    const app = createApp(createSessions<LoginData>({ secrets }))
    app.get('/proxy', async (c) => {
      c.get('session').username = 'proxied'
      return fetch(upstream.url('/')) // headers of a fetch() result are immutable
    })
    app.get('/moved', (c) => {
      c.get('session').username = 'moved'
      return Response.redirect(new URL('/', c.req.url), 302) // immutable too
    })
    app.get('/proxy-read', async (c) => {
      void c.get('session').username // read only: Vary, no cookie
      return fetch(upstream.url('/'))
    })
    const server = await serve(app)

    const proxied = await fetch(server.url('/proxy'))
    expect(await proxied.text()).toBe('from upstream')
    expect(setCookies(proxied).map((cookie) => cookie.name)).toEqual(['up', 'session'])
    expect(proxied.headers.get('vary')).toBe('Accept-Encoding, Cookie')

    const moved = await fetch(server.url('/moved'), { redirect: 'manual' })
    expect(moved.status).toBe(302)
    expect(moved.headers.get('location')).toBe(`${server.origin}/`)
    expect(setCookies(moved).map((cookie) => cookie.name)).toEqual(['session'])
    expect(varyOf(moved)).toEqual(['cookie'])

    const read = await fetch(server.url('/proxy-read'))
    expect(await read.text()).toBe('from upstream')
    expect(setCookies(read).map((cookie) => cookie.name)).toEqual(['up'])
    expect(read.headers.get('vary')).toBe('Accept-Encoding, Cookie')
  })

  it("keeps cookies set by an outer middleware after next(), and the route's own, in order", async () => {
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(async (c, next) => {
      await next()
      setCookie(c, 'outer', '3') // after the session was committed
    })
    app.use(sessionMiddleware(createSessions<LoginData>({ secrets })))
    app.get('/', (c) => {
      c.get('session').username = 'admin'
      setCookie(c, 'a', '1')
      return c.json({ ok: true })
    })
    const response = await fetch((await serve(app)).url('/'))
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['a', 'session', 'outer'])
    expect(varyOf(response)).toEqual(['cookie'])
  })

  it('writes nothing at all when the session is not used', async () => {
    const app = new Hono<SessionEnv<LoginData>>().use(sessionMiddleware(createSessions<LoginData>({ secrets }))).get('/', (c) => c.text('static'))
    const response = await fetch((await serve(app)).url('/'), { headers: { cookie: `session=${createSessions<LoginData>({ secrets }).sign({ username: 'ada' })}` } })
    expect(await response.text()).toBe('static')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(response.headers.get('vary')).toBeNull()
  })

  it("answers CookieTooLarge with app.onError's 500, without the session cookie", async () => {
    const app = createApp(createSessions<LoginData>({ secrets, chunking: false }))
    app.get('/big', (c) => {
      c.get('session').username = randomBytes(8192).toString('hex') // beyond one cookie, chunking off
      return c.text('stored')
    })
    app.onError((error, c) => c.text(error.name, 500))
    const big = await fetch((await serve(app)).url('/big'))
    expect(big.status).toBe(500)
    expect(await big.text()).toBe('CookieTooLarge')
    expect(big.headers.getSetCookie()).toEqual([])
  })

  it("without app.onError, CookieTooLarge is Hono's default 500, not a crash", async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const app = createApp(createSessions<LoginData>({ secrets, chunking: false }))
    app.get('/big', (c) => {
      c.get('session').username = randomBytes(8192).toString('hex')
      return c.text('stored')
    })
    const server = await serve(app)
    const big = await fetch(server.url('/big'))
    expect(big.status).toBe(500)
    expect(big.headers.getSetCookie()).toEqual([])
    expect((await fetch(server.url('/'))).status).toBe(200) // the server is still up
  })

  it('writes no session cookie on the 500 app.onError answers for a handler that threw after changing the session', async () => {
    const app = createApp(createSessions<LoginData>({ secrets }))
    const heard: unknown[] = []
    app.get('/fail', (c) => {
      c.get('session').username = 'set before the error'
      throw new Error('boom')
    })
    app.onError((error, c) => {
      heard.push(error)
      return c.text('failed', 500)
    })
    const failed = await fetch((await serve(app)).url('/fail'))
    expect(failed.status).toBe(500)
    expect(await failed.text()).toBe('failed')
    expect(failed.headers.getSetCookie()).toEqual([])
    expect(heard.map((error) => (error as Error).message)).toEqual(['boom'])
  })

  it.each([500, 502, 503, 599])("writes no session cookie on a %i the app sends itself, and keeps the app's own cookie", async (status) => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.get('/unavailable', (c) => {
      c.get('session').username = 'half-done'
      setCookie(c, 'retry', '1')
      return c.text('try later', status as 500)
    })
    const jar = new CookieJar()
    const server = await serve(app)
    await jar.fetch(server.url('/login'), { method: 'POST', headers: { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=ada' })
    const before = jar.get('session')
    const response = await jar.fetch(server.url('/unavailable'))
    expect(response.status).toBe(status)
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['retry'])
    expect(varyOf(response)).toEqual(['cookie'])
    expect(jar.get('session')).toBe(before)
    expect(await (await jar.fetch(server.url('/'))).text()).toBe('Logged in as ada')
  })

  it('an https URL wins over X-Forwarded-Proto: http, as in frasco/fetch and frasco/node', async () => {
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(sessionMiddleware(createSessions<LoginData>({ secrets }), { trustProxy: true })) // cookie.secure: 'auto'
    app.get('/login', (c) => {
      c.get('session').username = 'admin'
      return c.text('ok')
    })
    const response = await app.request('https://app.test/login', { headers: { 'x-forwarded-proto': 'http' } })
    expect(setCookies(response)[0]?.attributes.secure).toBe(true)
  })

  it.each<[string, boolean, Record<string, string>, boolean]>([
    ['X-Forwarded-Proto: https with trustProxy', true, { 'x-forwarded-proto': 'https' }, true],
    ['X-Forwarded-Proto: HTTPS, http (the first value, any case) with trustProxy', true, { 'x-forwarded-proto': 'HTTPS, http' }, true],
    ['X-Forwarded-Proto: https without trustProxy', false, { 'x-forwarded-proto': 'https' }, false],
    ['X-Forwarded-Proto: http with trustProxy', true, { 'x-forwarded-proto': 'http' }, false],
    ['no header', true, {}, false],
  ])('over plain http, %s: Secure is %s', async (_name, trustProxy, headers, secure) => {
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(sessionMiddleware(createSessions<LoginData>({ secrets }), { trustProxy }))
    app.post('/login', (c) => {
      c.get('session').username = 'admin'
      return c.text('ok')
    })
    const init = formPost({ username: 'admin' })
    const response = await new CookieJar().fetch((await serve(app)).url('/login'), { ...init, headers: { ...init.headers, ...headers } })
    expect(setCookies(response)[0]?.attributes.secure === true).toBe(secure)
  })

  it('takes an absolute-form target (`GET https://…` over plain http) as an https URL: the limit docs/frameworks.md describes', async () => {
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(sessionMiddleware(createSessions<LoginData>({ secrets }), { onError: () => {} })) // cookie.secure: 'auto'
    app.get('/login', (c) => {
      c.get('session').username = 'admin'
      return c.text(c.req.url)
    })
    const server = await serve(app)
    const claimed = await rawGet(server, 'https://app.test/login', [])
    expect(claimed.body).toBe('https://app.test/login')
    expect(parseSetCookie(claimed.setCookies[0] as string).attributes.secure).toBe(true)
    const plain = await rawGet(server, '/login', [])
    expect(parseSetCookie(plain.setCookies[0] as string).attributes.secure).toBeUndefined()
  })

  it("mounted again in a sub-app (app.route), the outer middleware does the work: one session, one cookie", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const read = vi.spyOn(sessions, 'read')
    const admin = new Hono<SessionEnv<LoginData>>()
    admin.use(sessionMiddleware(sessions)) // as a sub-app written on its own would
    admin.get('/login', (c) => {
      c.get('session').username = 'admin'
      return c.text('ok')
    })
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(sessionMiddleware(sessions))
    app.route('/admin', admin)
    const response = await fetch((await serve(app)).url('/admin/login'))
    expect(await response.text()).toBe('ok')
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['session'])
    expect(varyOf(response)).toEqual(['cookie'])
    expect(read).toHaveBeenCalledTimes(1)
  })

  /**
   * The recipe's mounts with rolling sessions: an outer mount without csrf, a "last seen" middleware
   * between the mounts that changes every session, and an admin sub-app whose own mount has csrf.
   * A refused request that was committed (a rolled or changed cookie, a store write) would show.
   */
  function mountedTwice(sessions: Sessions<SeenData> | StoredSessions<SeenData>) {
    const admin = new Hono<SessionEnv<SeenData>>()
    admin.use(sessionMiddleware(sessions, { csrf: true, onError: () => {} }))
    const routes = { ran: 0 }
    admin.post('/delete', (c) => {
      routes.ran++
      return c.text('deleted')
    })
    const app = new Hono<SessionEnv<SeenData>>()
    app.use(sessionMiddleware(sessions)) // no csrf here: the sub-app's own must still apply
    app.use(async (c, next) => {
      const session = c.get('session')
      session.seen = (session.seen ?? 0) + 1
      await next()
    })
    app.post('/login', (c) => {
      c.get('session').username = 'ada'
      return c.text('ok')
    })
    app.route('/admin', admin)
    return { app, routes }
  }

  it('a second mount with csrf still checks its routes when the outer mount has no csrf; a refused request commits nothing', async () => {
    const sessions = createSessions<SeenData>({ secrets, rolling: true })
    const { app, routes } = mountedTwice(sessions)
    const server = await serve(app)
    const cookie = `session=${sessions.sign({ username: 'ada' })}`
    const crossSite = await fetch(server.url('/admin/delete'), { method: 'POST', headers: { cookie, 'sec-fetch-site': 'cross-site' } })
    expect(crossSite.status).toBe(403)
    expect(await crossSite.text()).toBe('Forbidden: ERR_SESSION_CSRF_CROSS_SITE')
    expect(crossSite.headers.getSetCookie()).toEqual([])
    const noHeaders = await fetch(server.url('/admin/delete'), { method: 'POST', headers: { cookie } })
    expect(noHeaders.status).toBe(403)
    expect(await noHeaders.text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING')
    expect(noHeaders.headers.getSetCookie()).toEqual([])
    expect(routes.ran).toBe(0)
    // The same cookie on an accepted request: committed as usual (rolled, with the change).
    const sameOrigin = await fetch(server.url('/admin/delete'), { method: 'POST', headers: { cookie, ...SAME_ORIGIN } })
    expect(await sameOrigin.text()).toBe('deleted')
    expect(routes.ran).toBe(1)
    const [rolled] = setCookies(sameOrigin)
    expect(sessions.read(`session=${rolled?.value}`).toJSON()).toEqual({ username: 'ada', seen: 1 })
  })

  it('a second mount with csrf, store mode: a refused request neither sets the cookie nor writes the store', async () => {
    const store = createMemoryStore()
    const sessions = createSessions<SeenData>({ secrets, store, rolling: true })
    const { app, routes } = mountedTwice(sessions)
    const server = await serve(app)
    const [login] = setCookies(await fetch(server.url('/login'), { method: 'POST', headers: SAME_ORIGIN }))
    const cookie = `session=${login?.value}`
    expect((await sessions.load(cookie)).toJSON()).toEqual({ username: 'ada', seen: 1 })
    const writes = { save: vi.spyOn(store, 'save'), destroy: vi.spyOn(store, 'destroy') }
    const crossSite = await fetch(server.url('/admin/delete'), { method: 'POST', headers: { cookie, 'sec-fetch-site': 'cross-site' } })
    expect(crossSite.status).toBe(403)
    expect(crossSite.headers.getSetCookie()).toEqual([])
    expect(routes.ran).toBe(0)
    expect(writes.save).not.toHaveBeenCalled()
    expect(writes.destroy).not.toHaveBeenCalled()
    expect((await sessions.load(cookie)).toJSON()).toEqual({ username: 'ada', seen: 1 })
    // Accepted: the change between the mounts is saved.
    const sameOrigin = await fetch(server.url('/admin/delete'), { method: 'POST', headers: { cookie, ...SAME_ORIGIN } })
    expect(await sameOrigin.text()).toBe('deleted')
    expect(writes.save).toHaveBeenCalledTimes(1)
    expect((await sessions.load(cookie)).toJSON()).toEqual({ username: 'ada', seen: 2 })
  })

  it("refuses two managers' middleware on one request: a TypeError to app.onError, not two sessions", async () => {
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(sessionMiddleware(createSessions<LoginData>({ secrets })))
    app.use('/admin/*', sessionMiddleware(createSessions<LoginData>({ secrets, cookie: { name: 'admin' } })))
    app.get('/admin/', (c) => c.text('never'))
    app.onError((error, c) => c.text(`${error.name}: ${error.message}`, 500))
    const response = await fetch((await serve(app)).url('/admin/'))
    expect(response.status).toBe(500)
    expect(await response.text()).toMatch(/^TypeError: sessionMiddleware: two session managers/)
    expect(response.headers.getSetCookie()).toEqual([])
  })
})

describe('on the SessionContext shape, without Hono', () => {
  /** A context double: what Hono's Context gives the middleware, with the headers it writes kept. */
  function contextOf(request: Request, res: () => Response) {
    const written: Array<[string, string, boolean]> = []
    const c: SessionContext<LoginData> & { session?: Session<LoginData> } = {
      req: { raw: request },
      get res() {
        return res()
      },
      header: (name, value, options) => void written.push([name, value, options?.append === true]),
      set(_key, value) {
        c.session = value
      },
    }
    return { c, written }
  }

  it('commits a session changed on a 1xx (a WebSocket upgrade, which a Response cannot be made with in Node)', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const upgrade = { status: 101, headers: new Headers({ upgrade: 'websocket' }) } as Response
    const { c, written } = contextOf(new Request('http://app.test/ws'), () => upgrade)
    await sessionMiddleware(sessions)(c, async () => {
      ;(c.session as Session<LoginData>).username = 'ada'
    })
    expect(written.map(([name, , append]) => [name, append])).toEqual([['Set-Cookie', true], ['Vary', false]])
    expect(sessions.verify(parseSetCookie((written[0] as [string, string, boolean])[1]).value)).toMatchObject({ ok: true, value: { username: 'ada' } })
  })

  it('writes nothing onto a network error (Response.error(), status 0) a route returns', async () => {
    const { c, written } = contextOf(new Request('http://app.test/'), () => Response.error())
    await sessionMiddleware(createSessions<LoginData>({ secrets }))(c, async () => {
      ;(c.session as Session<LoginData>).username = 'ada'
    })
    expect(written).toEqual([])
  })

  it('passes a rejection of the rest of the chain on, having written nothing', async () => {
    const { c, written } = contextOf(new Request('http://app.test/'), () => new Response('ok'))
    const thrown = 'not an Error' // Hono hands anything but an Error back to the middleware
    await expect(
      sessionMiddleware(createSessions<LoginData>({ secrets }))(c, async () => {
        ;(c.session as Session<LoginData>).username = 'ada'
        throw thrown
      }),
    ).rejects.toBe(thrown)
    expect(written).toEqual([])
  })
})

describe('hostile cookies', () => {
  function probeApp() {
    const invalid: string[] = []
    const sessions = createSessions<LoginData>({ secrets, onInvalid: (error) => invalid.push(error.code) })
    const app = createApp(sessions)
    app.get('/who', (c) => c.text(`${c.get('session').username ?? 'anonymous'}|${sessions.invalidReason(c.get('session'))?.code ?? ''}`))
    return { app, sessions, invalid }
  }

  const other = createSessions<LoginData>({ secrets: [randomBytes(32).toString('base64url')] })
  const good = createSessions<LoginData>({ secrets }).sign({ username: 'ada' })

  it.each<[string, () => string, string]>([
    ['garbage', () => 'session=not-a-session', 'ERR_SESSION_MALFORMED'],
    ['a tampered signature', () => `session=${good.slice(0, -2)}${good.at(-2) === 'A' ? 'B' : 'A'}${good.slice(-1)}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a cookie under another secret', () => `session=${other.sign({ username: 'mallory' })}`, 'ERR_SESSION_UNKNOWN_KEY'],
    ['a truncated cookie', () => `session=${good.slice(0, good.length - 10)}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a 6 KB value', () => `session=${'A'.repeat(6000)}`, 'ERR_SESSION_MALFORMED'],
  ])('%s: an empty session, the cookie deleted, never a crash', async (_name, cookie, code) => {
    const { app, invalid } = probeApp()
    const response = await fetch((await serve(app)).url('/who'), { headers: { cookie: cookie() } })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe(`anonymous|${code}`)
    expect(invalid).toEqual([code])
    const deletion = setCookies(response)
    expect(deletion.map((set) => [set.name, set.attributes['max-age']])).toEqual([['session', '0']])
  })

  it('a Cookie header of 200 pairs, one of them the session: read as usual', async () => {
    const { app } = probeApp()
    const pairs = Array.from({ length: 199 }, (_, i) => `c${i}=${i}`)
    pairs.splice(100, 0, `session=${good}`)
    const response = await fetch((await serve(app)).url('/who'), { headers: { cookie: pairs.join('; ') } })
    expect(await response.text()).toBe('ada|')
    expect(response.headers.getSetCookie()).toEqual([])
  })

  it('control characters and bytes beyond ASCII in the Cookie header: an empty session, not a crash', async () => {
    const { app } = probeApp()
    // (A NUL byte never gets this far: @hono/node-server answers 500 itself, as Headers refuses it.)
    const server = await serve(app, { insecureHTTPParser: true })
    for (const line of ['Cookie: session=\u0001\u007f', 'Cookie: session=\u00e9\u00ff; other=\u001f', `Cookie: session=${good}\u0001`]) {
      const response = await rawGet(server, '/who', [line])
      expect(response.status).toBe(200)
      expect(response.body).toMatch(/^anonymous\|ERR_SESSION_/)
    }
  })
})

describe('CSRF protection (sessionMiddleware with csrf: true)', () => {
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
    return { origin: (await serve(app)).origin, runs: () => runs }
  }

  it.each(CSRF_CASES)('%s', async (...testCase) => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { origin, runs } = await transferApp()
    await expectCsrfCase(origin, runs, testCase)
  })

  it('puts a token in the login form, which lets a client without browser headers log in', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    await expectLoginFormToken((await serve(createApp(createSessions<LoginData>({ secrets })))).origin)
  })

  it('refuses on the browser headers without reading the session', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const invalid: string[] = []
    const app = createApp(createSessions<LoginData>({ secrets, onInvalid: (error) => invalid.push(error.code) }))
    const response = await fetch((await serve(app)).url('/logout'), { method: 'POST', headers: { 'sec-fetch-site': 'cross-site', cookie: 'session=forged' } })
    expect(await response.text()).toBe('Forbidden: ERR_SESSION_CSRF_CROSS_SITE')
    expect(invalid).toEqual([]) // the cookie was never looked at
  })

  it("takes the app's origin from the Request's URL, and from X-Forwarded-Proto with trustProxy only", async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const sessions = createSessions<LoginData>({ secrets })
    const app = (trustProxy: boolean) => new Hono<SessionEnv<LoginData>>().use(sessionMiddleware(sessions, { trustProxy, csrf: true })).post('/', (c) => c.text('done'))
    // An older browser on the https site behind the proxy: Origin, no Sec-Fetch-Site.
    const init = { method: 'POST', headers: { origin: 'https://app.test', 'x-forwarded-proto': 'https' } }
    expect(await (await app(true).request('http://app.test/', init)).text()).toBe('done')
    expect(await (await app(false).request('http://app.test/', init)).text()).toBe('Forbidden: ERR_SESSION_CSRF_ORIGIN')
    expect(await (await app(false).request('https://app.test/', init)).text()).toBe('done')
  })

  describe('the token in a form body', () => {
    async function echoApp() {
      const sessions = createSessions<LoginData>({ secrets })
      const app = createApp(sessions)
      app.get('/token', (c) => c.text(csrfToken(c.get('session'))))
      app.post('/echo', async (c) => c.json(await c.req.parseBody()))
      const server = await serve(app)
      const jar = new CookieJar()
      const token = await (await jar.fetch(server.url('/token'))).text()
      return { server, jar, token }
    }

    it('leaves the form to the route: parseBody after the check reads every field, the token included', async () => {
      const { server, jar, token } = await echoApp()
      const response = await jar.fetch(server.url('/echo'), formPost({ note: 'kept', _csrf: token }))
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ note: 'kept', _csrf: token })
    })

    it('reads the token from a multipart form, which the route reads too', async () => {
      const { server, jar, token } = await echoApp()
      const body = new FormData()
      body.set('note', 'multipart')
      body.set('_csrf', token)
      const response = await jar.fetch(server.url('/echo'), { method: 'POST', body })
      expect(await response.json()).toEqual({ note: 'multipart', _csrf: token })
    })

    it('reads no form over 64 KiB, nor one without a Content-Length: the token is missing', async () => {
      vi.spyOn(console, 'warn').mockImplementation(() => {})
      const { server, jar, token } = await echoApp()
      const large = await jar.fetch(server.url('/echo'), formPost({ _csrf: token, note: 'x'.repeat(64 * 1024) }))
      expect(large.status).toBe(403)
      expect(await large.text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING')
      const bytes = new TextEncoder().encode(new URLSearchParams({ _csrf: token }).toString())
      const chunked = await jar.fetch(server.url('/echo'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new ReadableStream({ start: (controller) => (controller.enqueue(bytes), controller.close()) }),
        duplex: 'half',
      } as RequestInit)
      expect(await chunked.text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING')
      // Just under the bound, the same form passes.
      const under = await jar.fetch(server.url('/echo'), formPost({ _csrf: token, note: 'x'.repeat(60 * 1024) }))
      expect(under.status).toBe(200)
    })

    it('a body that is not the form it claims is no token, not a crash', async () => {
      vi.spyOn(console, 'warn').mockImplementation(() => {})
      const { server, jar } = await echoApp()
      const response = await jar.fetch(server.url('/echo'), { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: 'not multipart' })
      expect(await response.text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING')
    })
  })
})

describe('onError', () => {
  function reporting(sessions: Sessions<LoginData>, options: SessionMiddlewareOptions = {}) {
    const heard: Array<[unknown, Request]> = []
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(sessionMiddleware(sessions, { onError: (error, request) => heard.push([error, request]), ...options }))
    return { app, heard }
  }

  it('hears a CSRF refusal, with the Fetch Request', async () => {
    const { app, heard } = reporting(createSessions<LoginData>({ secrets }), { csrf: true })
    app.post('/transfer', (c) => c.text('never'))
    const server = await serve(app)
    const response = await fetch(server.url('/transfer?to=mallory'), { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } })
    expect(response.status).toBe(403)
    expect(heard).toHaveLength(1)
    const [[error, request]] = heard as [[CsrfRefused, Request]]
    expect(error).toBeInstanceOf(CsrfRefused)
    expect(error.code).toBe('ERR_SESSION_CSRF_CROSS_SITE')
    expect(request).toBeInstanceOf(Request)
    expect(request.url).toBe(server.url('/transfer?to=mallory'))
  })

  it('hears a change an outer middleware makes after the commit (ChangedAfterCommit): the change is lost', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const heard: unknown[] = []
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(async (c, next) => {
      await next()
      c.get('session').username = 'too late'
    })
    app.use(sessionMiddleware(sessions, { onError: (error) => heard.push(error) }))
    app.get('/', (c) => {
      c.get('session').username = 'in time'
      return c.text('ok')
    })
    const response = await fetch((await serve(app)).url('/'))
    const [cookie] = setCookies(response)
    expect(sessions.verify(cookie?.value ?? '')).toMatchObject({ ok: true, value: { username: 'in time' } })
    expect(heard.map((error) => (error as ChangedAfterCommit).code)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT'])
  })

  it('hears a Secure cookie set over plain http, once per manager (SecureCookieOverHttp)', async () => {
    const { app, heard } = reporting(createSessions<LoginData>({ secrets, cookie: { secure: true } }))
    app.get('/login', (c) => {
      c.get('session').username = 'admin'
      return c.text('ok')
    })
    for (let i = 0; i < 2; i++) expect(setCookies(await app.request('http://app.test/login'))[0]?.attributes.secure).toBe(true)
    expect(heard.map(([error]) => error)).toEqual([expect.any(SecureCookieOverHttp)])
    expect((heard[0]?.[0] as Error).message).toMatch(/to app\.test did not arrive over https/)
  })

  it('hears a change made while a streamed body is written (ChangedAfterCommit)', async () => {
    const { app, heard } = reporting(createSessions<LoginData>({ secrets }))
    app.get('/stream', (c) =>
      streamText(c, async (stream) => {
        await stream.write('first ')
        c.get('session').username = 'streamed'
        await stream.write('second')
      }),
    )
    const response = await fetch((await serve(app)).url('/stream'))
    expect(await response.text()).toBe('first second')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(heard.map(([error]) => (error as ChangedAfterCommit).code)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT'])
  })

  it('an onError that throws changes nothing', async () => {
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(sessionMiddleware(createSessions<LoginData>({ secrets }), { csrf: true, onError: () => { throw new Error('the logger broke') } }))
    app.post('/', (c) => c.text('never'))
    const response = await fetch((await serve(app)).url('/'), { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } })
    expect(response.status).toBe(403)
    expect(await response.text()).toBe('Forbidden: ERR_SESSION_CSRF_CROSS_SITE')
  })

  it('by default: one console line each, with the code, the method and the path, never the query, the cookie or a value', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(async (c, next) => {
      await next()
      if (c.req.path === '/late') c.get('session').username = 'secret-late-value'
    })
    app.use(sessionMiddleware(createSessions<LoginData>({ secrets, cookie: { secure: true } }), { csrf: true }))
    app.all('*', (c) => {
      c.get('session').username = 'secret-value'
      return c.text('ok')
    })
    await app.request('http://app.test/transfer?token=secret-query', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site', cookie: 'session=secret-cookie' } })
    await app.request('http://app.test/late?token=secret-query')
    const lines = [...warn.mock.calls, ...error.mock.calls].map((args) => args.map(String).join(' '))
    expect(warn.mock.calls.map((args) => String(args[0]))).toEqual([
      expect.stringMatching(/^frasco: refused POST \/transfer as a possible CSRF: ERR_SESSION_CSRF_CROSS_SITE \(/),
      expect.stringMatching(/^frasco: warning: the session cookie is Secure but a request to app\.test did not arrive over https/),
    ])
    expect(error.mock.calls.map((args) => String(args[0]))).toEqual([expect.stringMatching(/^frasco: the session of GET \/late changed after .*ERR_SESSION_CHANGED_AFTER_COMMIT$/)])
    for (const line of lines) expect(line).not.toMatch(/secret-(query|cookie|value|late-value)/)
  })
})

describe('options', () => {
  const sessions = createSessions<LoginData>({ secrets })

  it.each<[string, () => unknown, RegExp]>([
    ['an unknown key', () => sessionMiddleware(sessions, { secure: true } as SessionMiddlewareOptions), /^option secure is unknown: the options are `trustProxy`, `onError`, `csrf`$/],
    ['a near miss', () => sessionMiddleware(sessions, { trustproxy: true } as SessionMiddlewareOptions), /^option trustproxy is unknown: did you mean `trustProxy`\?$/],
    ['trustProxy not a boolean', () => sessionMiddleware(sessions, { trustProxy: 'yes' as unknown as boolean }), /^option trustProxy is invalid: give true/],
    ['onError not a function', () => sessionMiddleware(sessions, { onError: 'log' as never }), /^option onError is invalid: give a function/],
    ['csrf not true, false or an object', () => sessionMiddleware(sessions, { csrf: 'on' as never }), /^option csrf is invalid: give true/],
    ['an unknown csrf key', () => sessionMiddleware(sessions, { csrf: { trustedOrigins: [] } as never }), /^option csrf\.trustedOrigins is unknown: did you mean `origins`\?$/],
    ['a csrf origin with a path', () => sessionMiddleware(sessions, { csrf: { origins: ['https://admin.example/'] } }), /^option csrf\.origins is invalid: .*did you mean 'https:\/\/admin\.example'\?$/],
    ['options that are not an object', () => sessionMiddleware(sessions, 'csrf' as never), /^options are invalid: sessionMiddleware takes an options object with `trustProxy`, `onError`, `csrf`/],
    ['options that are a list', () => sessionMiddleware(sessions, [] as never), /^options are invalid: sessionMiddleware takes an options object/],
    ['no manager', () => sessionMiddleware(undefined as never), /^sessions is invalid: give the manager createSessions returns/],
    ["the manager's options", () => sessionMiddleware({ secrets } as never), /^sessions is invalid: give the manager createSessions returns/],
  ])('refuses %s with a TypeError naming it, when the middleware is made', (_name, make, message) => {
    expect(make).toThrow(TypeError)
    expect(make).toThrow(message)
  })

  it('takes no options, an empty object, or every option', () => {
    expect(typeof sessionMiddleware(sessions)).toBe('function')
    expect(typeof sessionMiddleware(sessions, {})).toBe('function')
    expect(typeof sessionMiddleware(sessions, { trustProxy: false, csrf: { origins: ['https://admin.example'], sameSite: true }, onError: () => {} })).toBe('function')
  })
})

describe('types', () => {
  const sessions = createSessions<LoginData>({ secrets })
  const stored = createSessions<LoginData>({ secrets, store: createMemoryStore() })

  it("types c.get('session') and c.var.session from the manager's data, through SessionEnv", () => {
    expectTypeOf(sessionMiddleware(sessions)).toEqualTypeOf<SessionMiddleware<LoginData>>()
    expectTypeOf(sessionMiddleware(stored, { csrf: true })).toEqualTypeOf<SessionMiddleware<LoginData>>()
    expectTypeOf<SessionEnv<LoginData>>().toEqualTypeOf<{ Variables: { session: Session<LoginData> } }>()
    const app = new Hono<SessionEnv<LoginData>>()
    app.use(sessionMiddleware(sessions))
    app.get('/', (c) => {
      expectTypeOf(c.get('session')).toEqualTypeOf<Session<LoginData>>()
      expectTypeOf(c.get('session').username).toEqualTypeOf<string | undefined>()
      expectTypeOf(c.var.session.get('username')).toEqualTypeOf<string | undefined>()
      return c.text('ok')
    })
  })

  it('is accepted by app.use on a typed app, an untyped one and alongside other variables, and as a route middleware', () => {
    new Hono().use(sessionMiddleware(sessions)).use('/admin/*', sessionMiddleware(stored))
    new Hono<SessionEnv<LoginData>>().use(requestId()).use(sessionMiddleware(sessions)).get('/', (c) => c.text(c.get('requestId') + (c.get('session').username ?? '')))
    const mixed = new Hono<{ Variables: SessionVariables<LoginData> & { tenant: string }; Bindings: { REGION: string } }>()
    mixed.use(sessionMiddleware(sessions))
    mixed.post('/login', sessionMiddleware(stored, { csrf: true }), (c) => {
      expectTypeOf(c.get('tenant')).toEqualTypeOf<string>()
      return c.text(c.get('session').username ?? c.env.REGION)
    })
    new Hono<{ Variables: { tenant: string } }>().use(sessionMiddleware(sessions))
  })

  it("refuses an app whose env types 'session' otherwise, and unknown options", () => {
    // @ts-expect-error the app's sessions hold { count: number }, the manager's { username: string }
    new Hono<SessionEnv<{ count: number }>>().use(sessionMiddleware(sessions))
    // @ts-expect-error 'session' is a number in this app
    new Hono<{ Variables: { session: number } }>().use(sessionMiddleware(sessions))
    // @ts-expect-error an unknown option
    expect(() => sessionMiddleware(sessions, { trustproxy: true })).toThrow(TypeError)
    expectTypeOf<Parameters<NonNullable<SessionMiddlewareOptions['onError']>>>().toEqualTypeOf<[error: unknown, request: Request]>()
  })
})
