/**
 * Frasco inside Koa 3 through `frasco/koa`: Flask's login tutorial over a real socket, then the ways
 * Koa itself writes headers (ctx.set, ctx.append, ctx.vary, ctx.cookies, its error response), its
 * proxy setting, the CSRF check with a body parser before the middleware, hostile cookies, the
 * options, and the types; at the end, the recipe on a real Redis. Store mode in depth (a memory store
 * whose calls are counted) is in koa-store.test.ts, the types as a user's program sees them in
 * koa-types.test.ts.
 */
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { bodyParser } from '@koa/bodyparser'
import Koa, { type DefaultState, type Middleware } from 'koa'
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { commitSession, sessionMiddleware, type KoaSession, type KoaSessionContext, type SessionContext, type SessionMiddleware } from '../../src/adapters/koa.js'
import { csrfToken } from '../../src/csrf.js'
import { ChangedAfterCommit, CsrfRefused, SecureCookieOverHttp } from '../../src/errors.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions, type StoredSessions } from '../../src/sessions.js'
import { createRedisStore } from '../../src/stores/redis.js'
import { describeRedis, useRedisClient } from '../helpers/redis.js'
import { CookieJar, isDeletion, rawGet, startServer, useTestServers, type TestServer } from '../helpers/server.js'
import { CSRF_CASES, browserPost, expectCsrfCase, expectLoginFlow, expectLoginFormToken, expectVaryKept, setCookies, varyOf } from './flow.js'

useTestServers()
beforeEach(() => {
  // The default reporter's lines (refusals, late changes) are expected here; the tests that check
  // them look at these spies.
  vi.spyOn(console, 'warn').mockImplementation(() => {})
  vi.spyOn(console, 'error').mockImplementation(() => {})
})
afterEach(() => {
  vi.restoreAllMocks()
})

const secrets = [randomBytes(32).toString('base64url')]

// What the recipe's user declares once, in their app, as `declare module 'frasco/koa'`.
declare module '../../src/adapters/koa.js' {
  interface KoaSessionData extends LoginData {}
}

// --- recipe: Koa (docs/frameworks.md) ---------------------------------------------------------------
type LoginData = { username: string }

function createApp(sessions: Sessions<LoginData> | StoredSessions<LoginData>): Koa {
  const app = new Koa()
  app.use(bodyParser()) // first: a form's _csrf field reaches the CSRF check
  app.use(sessionMiddleware(sessions, { csrf: true })) // refuses POSTs another site sent (docs/csrf.md)

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
      const form = ctx.request.body as Record<string, unknown> | undefined // parsed by the body parser
      const username = typeof form?.username === 'string' ? form.username.trim() : ''
      if (username === '') ctx.throw(400, 'A username is required')
      ctx.session.regenerate() // a new identity on login, against session fixation
      ctx.session.username = username
      ctx.cookies.set('theme', 'dark', { httpOnly: false }) // the app's own cookie travels with the session's
      ctx.status = 303
      ctx.redirect('/')
    } else if (ctx.method === 'POST' && ctx.path === '/logout') {
      ctx.session = null // koa-session's way to log out: the cookie is deleted
      ctx.status = 303
      ctx.redirect('/')
    }
  })
  return app
}
// --- end recipe -------------------------------------------------------------------------------------

/** A Koa app: the session middleware (with `options`), then `routes`. Errors Koa emits are collected. */
function appWith(
  sessions: Sessions<LoginData>,
  routes: Middleware,
  options: Parameters<typeof sessionMiddleware>[1] = {},
): { app: Koa; koaErrors: unknown[] } {
  const app = new Koa()
  const koaErrors: unknown[] = []
  app.on('error', (error: unknown) => koaErrors.push(error))
  app.use(sessionMiddleware(sessions, options))
  app.use(routes)
  return { app, koaErrors }
}

async function serve(app: Koa): Promise<TestServer> {
  return startServer(app.callback())
}

/** A GET over node:http, for headers fetch will not send (Host). */
function getWith(server: TestServer, path: string, headers: Record<string, string>): Promise<{ status: number; setCookies: string[] }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: server.port, path, headers }, (response) => {
      response.resume()
      response.on('end', () => resolve({ status: response.statusCode ?? 0, setCookies: response.headers['set-cookie'] ?? [] }))
    })
    request.on('error', reject)
    request.end()
  })
}

/** A session cookie for `data`, signed as the manager would. */
function cookieOf(sessions: Sessions<LoginData>, data: Partial<LoginData>): string {
  return `${sessions.cookieName}=${sessions.sign(data)}`
}

describe('Koa 3 with sessionMiddleware of frasco/koa', () => {
  it("runs Flask's login tutorial: log in, see the name, log out with ctx.session = null", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const server = await serve(createApp(sessions))
    await expectLoginFlow(server.origin, sessions)
  })

  it("keeps the app's own Vary and adds Cookie once", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const { app } = appWith(sessions, async (ctx) => {
      ctx.set('Vary', String(ctx.query.set))
      if (ctx.query.write === '1') ctx.session.username = 'admin'
      ctx.body = ctx.session.username ?? 'anonymous'
    })
    await expectVaryKept((await serve(app)).origin)
  })

  it('keeps cookies set with ctx.cookies, ctx.append and by an outer middleware after the commit', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = new Koa()
    app.use(async (ctx, next) => {
      await next()
      // Runs after the session middleware committed: the cookies module appends too.
      ctx.cookies.set('outer', '3')
    })
    app.use(sessionMiddleware(sessions))
    app.use(async (ctx) => {
      ctx.session.username = 'admin'
      ctx.cookies.set('a', '1')
      ctx.append('Set-Cookie', 'b=2; Path=/')
      ctx.set('Vary', 'Origin')
      ctx.body = { ok: true }
    })
    const response = await fetch((await serve(app)).url('/'))
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['a', 'b', 'session', 'outer'])
    expect(response.headers.get('vary')).toBe('Origin, Cookie')
    expect(await response.json()).toEqual({ ok: true })
  })

  it('reads the cookie only when ctx.session is used: no signature check, no Vary, no Set-Cookie otherwise', async () => {
    const sessions = createSessions<LoginData>({ secrets, rolling: true })
    const read = vi.spyOn(sessions, 'read')
    let own: boolean | undefined
    const { app } = appWith(sessions, async (ctx) => {
      own = Object.hasOwn(ctx, 'session')
      ctx.body = ctx.path === '/static' ? 'static' : (ctx.session.username ?? 'anonymous')
    })
    const server = await serve(app)
    const cookie = cookieOf(sessions, { username: 'ada' })

    const untouched = await fetch(server.url('/static'), { headers: { cookie } })
    expect(await untouched.text()).toBe('static')
    expect(untouched.headers.get('vary')).toBeNull()
    expect(untouched.headers.getSetCookie()).toEqual([])
    expect(read).not.toHaveBeenCalled()
    // One accessor on the app's context prototype, none defined per request.
    expect(own).toBe(false)
    expect(Object.getOwnPropertyDescriptor(app.context, 'session')?.get).toBeTypeOf('function')

    const touched = await fetch(server.url('/'), { headers: { cookie } })
    expect(await touched.text()).toBe('ada')
    expect(read).toHaveBeenCalledTimes(1)
    expect(varyOf(touched)).toEqual(['cookie'])
    expect(setCookies(touched).map((set) => set.name)).toEqual(['session']) // rolling
  })

  it('writes no session cookie on an error response, and turns a session that cannot be stored into a 500', async () => {
    const sessions = createSessions<LoginData>({ secrets, chunking: false })
    const { app, koaErrors } = appWith(sessions, async (ctx) => {
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
    app.silent = true
    const server = await serve(app)

    const failed = await fetch(server.url('/fail'))
    expect(failed.status).toBe(500)
    expect(failed.headers.getSetCookie()).toEqual([])

    // A 5xx the app sets itself is a failed request too: the app's own cookie goes, the session's does not.
    const unavailable = await fetch(server.url('/unavailable'))
    expect(unavailable.status).toBe(503)
    expect(setCookies(unavailable).map((cookie) => cookie.name)).toEqual(['theme'])
    expect(varyOf(unavailable)).toEqual(['cookie'])

    // CookieTooLarge goes to Koa's error handling: a 500 without any cookie, the error emitted.
    const big = await fetch(server.url('/big'))
    expect(big.status).toBe(500)
    expect(await big.text()).toBe('Internal Server Error')
    expect(big.headers.getSetCookie()).toEqual([])
    expect(koaErrors.map((error) => (error as { code?: string }).code ?? (error as Error).message)).toEqual(['boom', 'ERR_SESSION_COOKIE_TOO_LARGE'])
  })

  it('lets an error middleware answer a thrown error: the session of the failed request is not written, a change then is reported', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const reported: unknown[] = []
    const app = new Koa()
    app.use(async (ctx, next) => {
      try {
        await next()
      } catch {
        ctx.status = 400
        ctx.body = 'handled'
        ctx.session.username = 'written while handling the error'
      }
    })
    app.use(sessionMiddleware(sessions, { onError: (error) => reported.push(error) }))
    app.use(async (ctx) => {
      ctx.session.username = 'half-done'
      ctx.throw(422, 'bad input')
    })
    const response = await fetch((await serve(app)).url('/'))
    expect(response.status).toBe(400)
    expect(await response.text()).toBe('handled')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(reported).toEqual([expect.any(ChangedAfterCommit)])
  })

  it('sets Secure from X-Forwarded-Proto when app.proxy is on, and only then', async () => {
    const sessions = createSessions<LoginData>({ secrets }) // cookie.secure: 'auto'
    for (const proxy of [true, false]) {
      const app = createApp(sessions)
      app.proxy = proxy
      const server = await serve(app)
      const init = browserPost({ username: 'admin' })
      const response = await new CookieJar().fetch(server.url('/login'), { ...init, headers: { ...init.headers, 'x-forwarded-proto': 'https' } })
      expect(response.status).toBe(303)
      expect(setCookies(response).find((cookie) => cookie.name === 'session')?.attributes.secure).toBe(proxy ? true : undefined)
      expect(varyOf(response)).toEqual(['cookie'])
    }
  })

  it('warns once per manager when a Secure cookie goes out over plain http to a host browsers do not exempt', async () => {
    const sessions = createSessions<LoginData>({ secrets, cookie: { secure: true } })
    const reported: unknown[] = []
    const { app } = appWith(
      sessions,
      async (ctx) => {
        ctx.session.username = 'ada'
        ctx.body = 'ok'
      },
      { onError: (error) => reported.push(error) },
    )
    const server = await serve(app)
    // localhost is exempt: browsers keep Secure cookies there.
    await getWith(server, '/', { host: 'localhost' })
    expect(reported).toEqual([])
    for (let i = 0; i < 2; i++) expect((await getWith(server, '/', { host: 'app.example' })).setCookies).toHaveLength(1)
    expect(reported).toEqual([expect.any(SecureCookieOverHttp)])
    expect((reported[0] as Error).message).toContain('app.example')

    // The default reporter prints one console.warn line.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const other = createSessions<LoginData>({ secrets, cookie: { secure: true } })
    const quiet = await serve(appWith(other, async (ctx) => {
      ctx.session.username = 'ada'
      ctx.body = 'ok'
    }).app)
    await getWith(quiet, '/', { host: 'app.example' })
    expect(warn.mock.calls).toEqual([[expect.stringMatching(/^frasco: warning: the session cookie is Secure but a request to app\.example did not arrive over https/)]])
  })

  describe('ctx.session', () => {
    it('= null ends the session (the cookie is deleted); = undefined too; any other value is a TypeError', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const { app, koaErrors } = appWith(sessions, async (ctx) => {
        if (ctx.path === '/null') ctx.session = null
        else if (ctx.path === '/undefined') ctx.session = undefined
        else (ctx as { session: unknown }).session = { username: 'mallory' } // koa-session's ctx.session = {…}
        ctx.body = 'done'
      })
      app.silent = true
      const server = await serve(app)
      const cookie = cookieOf(sessions, { username: 'ada' })
      for (const path of ['/null', '/undefined']) {
        const response = await fetch(server.url(path), { headers: { cookie } })
        expect(response.status).toBe(200)
        const [deletion] = setCookies(response)
        expect(deletion !== undefined && deletion.name === 'session' && isDeletion(deletion)).toBe(true)
      }
      const replaced = await fetch(server.url('/object'), { headers: { cookie } })
      expect(replaced.status).toBe(500)
      expect(replaced.headers.getSetCookie()).toEqual([])
      expect(String(koaErrors[0])).toMatch(/^TypeError: ctx\.session cannot be replaced: set its keys \(after ctx\.session\.regenerate\(\) to start a new session\), or assign null to end it/)
    })

    it('regenerate(callback), as Passport calls it, hands out a new session on ctx.session', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      let oldWrite: unknown
      const { app } = appWith(sessions, async (ctx) => {
        const before = ctx.session
        await new Promise<void>((resolve) => ctx.session.regenerate(() => resolve()))
        expect(ctx.session).not.toBe(before)
        ctx.session.username = 'ada'
        try {
          before.username = 'lost'
        } catch (error) {
          oldWrite = error
        }
        ctx.body = 'ok'
      })
      const response = await fetch((await serve(app)).url('/'), { headers: { cookie: cookieOf(sessions, { username: 'old' }) } })
      const cookie = setCookies(response).find((set) => set.name === 'session')
      expect(sessions.verify(cookie?.value ?? '')).toMatchObject({ ok: true, value: { username: 'ada' } })
      expect(oldWrite).toBeInstanceOf(TypeError)
    })

    it('is a TypeError, naming the fix, in middleware that runs before sessionMiddleware', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const app = new Koa()
      const koaErrors: unknown[] = []
      app.on('error', (error: unknown) => koaErrors.push(error))
      app.use(async (ctx, next) => {
        if (ctx.path === '/early') ctx.body = String(ctx.session.username)
        else await next()
      })
      app.use(sessionMiddleware(sessions))
      app.use(async (ctx) => {
        ctx.body = ctx.session.username ?? 'anonymous'
      })
      const server = await serve(app)
      expect(await (await fetch(server.url('/'))).text()).toBe('anonymous') // installs the accessor
      expect((await fetch(server.url('/early'))).status).toBe(500)
      expect(String(koaErrors[0])).toMatch(/^TypeError: ctx\.session is only available once sessionMiddleware of frasco\/koa ran on this request/)
    })

    it('reports a change made after the commit (an outer middleware after next) to onError, by default as one console.error line', async () => {
      for (const custom of [true, false]) {
        const sessions = createSessions<LoginData>({ secrets })
        const reported: unknown[] = []
        const error = vi.spyOn(console, 'error').mockImplementation(() => {})
        const app = new Koa()
        app.use(async (ctx, next) => {
          await next()
          ctx.session.username = 'too late'
        })
        app.use(sessionMiddleware(sessions, custom ? { onError: (late) => reported.push(late) } : {}))
        app.use(async (ctx) => {
          ctx.session.username = 'in time'
          ctx.body = 'ok'
        })
        const response = await fetch((await serve(app)).url('/page?token=secret'))
        const cookie = setCookies(response).find((set) => set.name === 'session')
        expect(sessions.verify(cookie?.value ?? '')).toMatchObject({ ok: true, value: { username: 'in time' } })
        if (custom) {
          expect(reported).toEqual([expect.any(ChangedAfterCommit)])
          expect(error).not.toHaveBeenCalled()
        } else {
          expect(error.mock.calls).toEqual([['frasco: the session of GET /page changed after it was committed; the change is lost: ERR_SESSION_CHANGED_AFTER_COMMIT']])
        }
        vi.restoreAllMocks()
      }
    })
  })

  describe('an app that answers on its own (ctx.respond = false)', () => {
    function rawApp(sessions: Sessions<LoginData>, byHand: boolean, reported: unknown[]): Koa {
      return appWith(
        sessions,
        async (ctx) => {
          ctx.session.username = 'ada'
          if (byHand) await commitSession(ctx)
          ctx.respond = false
          ctx.res.setHeader('content-type', 'text/plain')
          ctx.res.end('raw')
        },
        { onError: (error) => reported.push(error) },
      ).app
    }

    it('commits with await commitSession(ctx) before writing to ctx.res', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const reported: unknown[] = []
      const response = await fetch((await serve(rawApp(sessions, true, reported))).url('/'))
      expect(await response.text()).toBe('raw')
      const cookie = setCookies(response).find((set) => set.name === 'session')
      expect(sessions.verify(cookie?.value ?? '')).toMatchObject({ ok: true, value: { username: 'ada' } })
      expect(varyOf(response)).toEqual(['cookie'])
      expect(reported).toEqual([])
    })

    it('without it, the change cannot reach the client and is reported', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const reported: unknown[] = []
      const response = await fetch((await serve(rawApp(sessions, false, reported))).url('/'))
      expect(await response.text()).toBe('raw')
      expect(response.headers.getSetCookie()).toEqual([])
      expect(reported).toEqual([expect.any(ChangedAfterCommit)])
    })

    it('commitSession refuses a second call, a request the middleware did not see, and sent headers', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const outcomes: string[] = []
      const attempt = async (call: () => Promise<void>): Promise<void> => {
        try {
          await call()
          outcomes.push('ok')
        } catch (error) {
          outcomes.push(String(error))
        }
      }
      const app = new Koa()
      app.use(async (ctx, next) => {
        if (ctx.path === '/unseen') {
          await attempt(() => commitSession(ctx))
          ctx.body = 'unseen'
        } else await next()
      })
      app.use(sessionMiddleware(sessions))
      app.use(async (ctx) => {
        ctx.session.username = 'ada'
        await attempt(() => commitSession(ctx))
        await attempt(() => commitSession(ctx))
        ctx.body = 'twice'
      })
      app.use(async () => {})
      const server = await serve(app)
      await (await fetch(server.url('/'))).text()
      await (await fetch(server.url('/unseen'))).text()

      const sent = appWith(sessions, async (ctx) => {
        ctx.session.username = 'ada'
        ctx.respond = false
        ctx.res.end('early')
        await attempt(() => commitSession(ctx))
      })
      await (await fetch((await serve(sent.app)).url('/'))).text()
      expect(outcomes).toEqual([
        'ok',
        'TypeError: commitSession(ctx): the session of this request was already committed; commit once, after the last change',
        'TypeError: commitSession(ctx): sessionMiddleware of frasco/koa did not run on this request',
        'Error: commitSession(ctx): the response headers were already sent; commit before writing to ctx.res',
      ])
    })
  })

  describe('hostile cookies give an empty session, never an error', () => {
    const sessions = createSessions<LoginData>({ secrets })
    const other = createSessions<LoginData>({ secrets: [randomBytes(32).toString('base64url')] })
    const valid = sessions.sign({ username: 'ada' })
    const tampered = `${valid.slice(0, 10)}${valid[10] === 'A' ? 'B' : 'A'}${valid.slice(11)}`
    // The name, the Cookie header, and whether the manager rejects a cookie (an empty one is no cookie).
    const cases: Array<[string, string, boolean]> = [
      ['garbage', 'session=garbage', true],
      ['empty', 'session=', false],
      ['a tampered signature', `session=${tampered}`, true],
      ['another secret', `session=${other.sign({ username: 'mallory' })}`, true],
      ['8 KiB of random text', `session=${randomBytes(6144).toString('base64url')}`, true],
      ['two session cookies, one forged', `session=${other.sign({ username: 'mallory' })}; session=garbage`, true],
      ['quotes and percent signs', 'session="%00%ff%"; session.1=%zz', true],
    ]

    it.each(cases)('%s', async (_name, cookie, rejected) => {
      const invalid: string[] = []
      const watched = createSessions<LoginData>({ secrets, onInvalid: (error) => invalid.push(error.code) })
      const { app } = appWith(watched, async (ctx) => {
        ctx.body = ctx.session.username ?? 'anonymous'
      })
      const response = await fetch((await serve(app)).url('/'), { headers: { cookie } })
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('anonymous')
      expect(invalid.length > 0).toBe(rejected)
      // A rejected cookie is deleted, so the browser stops sending it.
      for (const set of setCookies(response)) expect(isDeletion(set)).toBe(true)
    })

    it('bytes outside ASCII in the Cookie header', async () => {
      const { app } = appWith(sessions, async (ctx) => {
        ctx.body = ctx.session.username ?? 'anonymous'
      })
      const response = await rawGet(await serve(app), '/', ['Cookie: session=\u00ff\u00fe\u0080.\u00e9'])
      expect(response.status).toBe(200)
      expect(response.body).toBe('anonymous')
    })
  })

  describe('mounted twice, or two managers', () => {
    it('with the same manager, the first mount commits (one Set-Cookie) and the second adds its CSRF check', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      let runs = 0
      const app = new Koa()
      app.use(bodyParser())
      app.use(sessionMiddleware(sessions))
      app.use(sessionMiddleware(sessions, { csrf: true })) // say, on a router of forms
      app.use(async (ctx) => {
        runs += 1
        ctx.session.username = 'ada'
        ctx.body = 'done'
      })
      const server = await serve(app)
      const allowed = await fetch(server.url('/'), browserPost())
      expect(await allowed.text()).toBe('done')
      expect(setCookies(allowed).map((set) => set.name)).toEqual(['session'])
      const refused = await fetch(server.url('/'), { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } })
      expect(refused.status).toBe(403)
      expect(await refused.text()).toBe('Forbidden: ERR_SESSION_CSRF_CROSS_SITE')
      expect(refused.headers.getSetCookie()).toEqual([])
      expect(runs).toBe(1)
    })

    it('two managers on one request are a TypeError: Koa has one ctx.session', async () => {
      const { app, koaErrors } = appWith(createSessions<LoginData>({ secrets }), sessionMiddleware(createSessions<LoginData>({ secrets })) as Middleware)
      app.silent = true
      expect((await fetch((await serve(app)).url('/'))).status).toBe(500)
      expect(String(koaErrors[0])).toMatch(/^TypeError: sessionMiddleware: two session managers' middleware run on one request/)
    })

    it('a ctx.session another library defined (koa-session) is a TypeError, not overwritten', async () => {
      const app = new Koa()
      const koaErrors: unknown[] = []
      app.on('error', (error: unknown) => koaErrors.push(error))
      Object.defineProperty(app.context, 'session', { configurable: true, get: () => ({}) })
      app.use(sessionMiddleware(createSessions<LoginData>({ secrets })))
      expect((await fetch((await serve(app)).url('/'))).status).toBe(500)
      expect(String(koaErrors[0])).toMatch(/^TypeError: ctx\.session is already defined on this app \(by koa-session\?\)/)
    })
  })

  describe('CSRF protection (csrf: true)', () => {
    /**
     * The two routes of expectCsrfCase, a body parser before the middleware (a form's _csrf
     * field), and rolling sessions: a refused request that committed would show.
     */
    async function transferApp(options: Parameters<typeof sessionMiddleware>[1] = { csrf: true }, sessions = createSessions<LoginData>({ secrets, rolling: true })) {
      let runs = 0
      const app = new Koa()
      app.use(bodyParser())
      app.use(sessionMiddleware(sessions, options))
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
      return { origin: (await serve(app)).origin, runs: () => runs, app }
    }

    it.each(CSRF_CASES)('%s', async (...testCase) => {
      const { origin, runs } = await transferApp()
      await expectCsrfCase(origin, runs, testCase)
    })

    it('puts a token in the login form, which lets a client without browser headers log in', async () => {
      await expectLoginFormToken((await serve(createApp(createSessions<LoginData>({ secrets })))).origin)
    })

    it("takes the app's origin from ctx.protocol and ctx.host, so X-Forwarded-Proto counts with app.proxy only", async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const proxied = createApp(sessions)
      proxied.proxy = true
      const trusting = await serve(proxied)
      const direct = await serve(createApp(sessions))
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

    it.each([
      ['a scheme browsers never serve from (a null origin would match Origin: null)', { 'x-forwarded-proto': 'foo', origin: 'null' }],
      ['a Host that is not a host', { 'x-forwarded-host': 'evil.example/x', origin: 'http://evil.example' }],
    ])("makes no app origin of %s, so no Origin matches it", async (_name, headers) => {
      const app = createApp(createSessions<LoginData>({ secrets }))
      app.proxy = true
      app.silent = true
      const server = await serve(app)
      const response = await fetch(server.url('/logout'), { method: 'POST', headers, redirect: 'manual' })
      expect(response.status).toBe(403)
      expect(await response.text()).toBe('Forbidden: ERR_SESSION_CSRF_ORIGIN')
    })

    it('refuses on the browser headers without reading the session, and reports the refusal (one console.warn line by default)', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const read = vi.spyOn(sessions, 'read')
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      const { origin } = await transferApp({ csrf: true }, sessions)
      const response = await fetch(`${origin}/transfer?amount=100`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site', cookie: cookieOf(sessions, { username: 'ada' }) } })
      expect(response.status).toBe(403)
      expect(read).not.toHaveBeenCalled()
      expect(warn.mock.calls).toEqual([['frasco: refused POST /transfer as a possible CSRF: ERR_SESSION_CSRF_CROSS_SITE (Sec-Fetch-Site is cross-site)']])

      const reported: unknown[] = []
      const custom = await transferApp({ csrf: true, onError: (error) => reported.push(error) })
      await fetch(`${custom.origin}/transfer`, { method: 'POST', headers: { origin: 'https://evil.example' } })
      expect(reported).toEqual([expect.any(CsrfRefused)])
      expect((reported[0] as CsrfRefused).code).toBe('ERR_SESSION_CSRF_ORIGIN')
    })

    it.each(['GET', 'HEAD', 'OPTIONS'])('never refuses %s, whatever its headers say', async (method) => {
      const { origin, runs } = await transferApp()
      const response = await fetch(`${origin}/transfer`, { method, headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
      expect(response.status).toBe(200)
      // The route ran: GET answers a token, the others count as a run.
      expect(runs()).toBe(method === 'GET' ? 0 : 1)
    })

    it('throws a 403 HttpError carrying the code, for an error middleware of the app to answer its own way', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const app = new Koa()
      app.use(async (ctx, next) => {
        try {
          await next()
        } catch (error) {
          const { status, code, expose } = error as { status: number; code: string; expose: boolean }
          ctx.status = status
          ctx.body = { error: code, expose }
        }
      })
      app.use(sessionMiddleware(sessions, { csrf: true, onError: () => {} }))
      app.use(async (ctx) => {
        ctx.body = 'ran'
      })
      const response = await fetch((await serve(app)).url('/'), { method: 'DELETE', headers: { 'sec-fetch-site': 'same-site' } })
      expect(response.status).toBe(403)
      expect(await response.json()).toEqual({ error: 'ERR_SESSION_CSRF_CROSS_SITE', expose: true })
      expect(response.headers.getSetCookie()).toEqual([])
    })

    it('takes the header and field names of CsrfOptions, and never reads the body itself', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const app = new Koa()
      app.use(async (ctx, next) => {
        // Only for the form: the JSON route reads its body itself, after the middleware.
        if (ctx.path === '/form') ctx.request.body = Object.fromEntries(new URLSearchParams(await readText(ctx)))
        await next()
      })
      app.use(sessionMiddleware(sessions, { csrf: { header: 'X-XSRF-Token', field: 'authenticity_token' }, onError: () => {} }))
      app.use(async (ctx) => {
        if (ctx.method === 'GET') ctx.body = csrfToken(ctx.session)
        else ctx.body = ctx.path === '/json' ? await readText(ctx) : 'form ok'
      })
      const server = await serve(app)
      const jar = new CookieJar()
      const token = await (await jar.fetch(server.url('/token'))).text()

      const json = await jar.fetch(server.url('/json'), { method: 'PUT', headers: { 'x-xsrf-token': token, 'content-type': 'application/json' }, body: '{"amount":1}' })
      expect(await json.text()).toBe('{"amount":1}')
      const form = await jar.fetch(server.url('/form'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `authenticity_token=${token}` })
      expect(await form.text()).toBe('form ok')
      const defaults = await jar.fetch(server.url('/json'), { method: 'PUT', headers: { 'x-csrf-token': token }, body: '{}' })
      expect(defaults.status).toBe(403)
      expect(await defaults.text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING')
    })

    it('reads a token only from a string field of a parsed body', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const app = new Koa()
      let body: unknown
      app.use(async (ctx, next) => {
        ctx.request.body = body
        await next()
      })
      app.use(sessionMiddleware(sessions, { csrf: true, onError: () => {} }))
      app.use(async (ctx) => {
        ctx.body = ctx.method === 'GET' ? csrfToken(ctx.session) : 'done'
      })
      const server = await serve(app)
      const jar = new CookieJar()
      const token = await (await jar.fetch(server.url('/'))).text()
      const inherited = Object.create({ _csrf: token }) as object
      for (const [given, expected] of [
        [{ _csrf: token }, 200],
        [{ _csrf: [token] }, 403],
        [inherited, 403],
        [token, 403],
        [null, 403],
      ] as const) {
        body = given
        expect((await jar.fetch(server.url('/'), { method: 'POST' })).status).toBe(expected)
      }
    })
  })

  describe('options', () => {
    const sessions = createSessions<LoginData>({ secrets })

    it.each([
      [{ trustProxy: true }, /^option trustProxy is unknown: Koa has its own: set app\.proxy = true/],
      [{ key: 'koa.sess' }, /^option key is unknown: koa-session's key is the cookie's name: give it to createSessions\(\{ cookie: \{ name \} \}\)/],
      [{ maxAge: 86_400_000 }, /^option maxAge is unknown: give createSessions a `lifetime` in seconds/],
      [{ onerror: () => {} }, /^option onerror is unknown: did you mean `onError`\?/],
      [{ onError: 'log' }, /^option onError is invalid: give a function \(error, ctx\) => void/],
      [{ csrf: 'yes' }, /^option csrf is invalid: give true/],
      [{ csrf: { origin: 'https://admin.example' } }, /^option csrf\.origin is unknown: did you mean `origins`\?/],
      ['csrf', /^options are invalid: sessionMiddleware takes an options object/],
      [null, /^options are invalid: sessionMiddleware takes an options object/],
    ])('%j is a TypeError naming the option', (options, message) => {
      expect(() => sessionMiddleware(sessions, options as never)).toThrow(TypeError)
      expect(() => sessionMiddleware(sessions, options as never)).toThrow(message)
    })

    it.each([
      ["koa-session's (config, app)", [{ key: 'koa.sess' }, new Koa()]],
      ['nothing', []],
      ['a Koa app', [new Koa()]],
    ])('takes the session manager first: %s is a TypeError', (_name, args) => {
      expect(() => (sessionMiddleware as (...rest: unknown[]) => unknown)(...args)).toThrow(/^sessions is invalid: give the manager createSessions returns/)
    })
  })

  describe('types', () => {
    it('app.use takes the middleware on new Koa() and on an app with a context type of its own; ctx.session is typed', () => {
      const sessions = createSessions<LoginData>({ secrets })
      const middleware = sessionMiddleware(sessions, { csrf: true })
      expectTypeOf(middleware).toEqualTypeOf<SessionMiddleware>()
      expectTypeOf<Koa.Context>().toExtend<SessionContext>()

      const plain = new Koa()
      plain.use(middleware)
      plain.use(async (ctx) => {
        expectTypeOf(ctx.session).toEqualTypeOf<KoaSession>()
        expectTypeOf(ctx.session).toEqualTypeOf<Session<LoginData>>()
        expectTypeOf(ctx.session.username).toEqualTypeOf<string | undefined>()
        ctx.session = null
        // @ts-expect-error koa-session's ctx.session = {…} has no equivalent
        ctx.session = { username: 'mallory' }
      })

      interface AppContext extends KoaSessionContext {
        requestId: string
      }
      const typed = new Koa<DefaultState, AppContext>()
      typed.use(middleware)
      typed.use(async (ctx) => {
        expectTypeOf(ctx.requestId).toBeString()
        expectTypeOf(ctx.session).toEqualTypeOf<KoaSession>()
      })
      // A context type that does not mention the session still takes the middleware.
      new Koa<{ user: string }, { requestId: string }>().use(middleware)
      // onError may name Koa's own context.
      sessionMiddleware(sessions, { onError: (_error: unknown, ctx: Koa.Context) => void ctx.state })
      // A store-backed manager too.
      expectTypeOf(sessionMiddleware<LoginData>).parameter(0).toEqualTypeOf<Sessions<LoginData> | StoredSessions<LoginData>>()
    })
  })
})

describeRedis('the recipe with its sessions in Redis (createRedisStore on node-redis)', (redis) => {
  const redisClient = useRedisClient(redis)

  it('logs in, sees the name, logs out: the cookie carries an id, Redis the name, and a replayed cookie opens nothing', async () => {
    const prefix = `koa${randomBytes(4).toString('hex')}:`
    const sessions = createSessions<LoginData>({ secrets, store: createRedisStore(redisClient.client, { prefix }) })
    const server = await serve(createApp(sessions))
    const jar = new CookieJar()

    const anonymous = await jar.fetch(server.url('/'))
    expect(await anonymous.text()).toBe('You are not logged in')
    expect(anonymous.headers.getSetCookie()).toEqual([])
    expect(await redis.command('KEYS', `${prefix}*`)).toEqual([])

    const login = await jar.fetch(server.url('/login'), browserPost({ username: 'admin' }))
    expect(login.status).toBe(303)
    expect(setCookies(login).map((cookie) => cookie.name).sort()).toEqual(['session', 'theme'])
    const value = jar.get('session') as string
    expect(value).not.toContain('admin')
    const keys = (await redis.command('KEYS', `${prefix}s:*`)) as string[]
    expect(keys).toHaveLength(1)
    expect(await redis.command('HGET', keys[0] as string, 'd:username')).toContain('admin')

    const home = await jar.fetch(server.url('/'))
    expect(await home.text()).toBe('Logged in as admin')
    expect(home.headers.getSetCookie()).toEqual([])
    expect(varyOf(home)).toEqual(['accept-language', 'cookie'])

    // The form's token verifies against the session loaded from Redis.
    const form = await jar.fetch(server.url('/login'))
    const token = /name="_csrf" value="([\w-]{86})"/.exec(await form.text())?.[1] as string
    const scripted = await jar.fetch(server.url('/logout'), { method: 'POST', headers: { 'x-csrf-token': token } })
    expect(scripted.status).toBe(303)
    const [deletion] = setCookies(scripted)
    expect(deletion !== undefined && isDeletion(deletion)).toBe(true)
    expect(await redis.command('EXISTS', keys[0] as string)).toBe(0)

    const replayed = await fetch(server.url('/'), { headers: { cookie: `session=${value}` } })
    expect(await replayed.text()).toBe('You are not logged in')
  })
})

async function readText(ctx: { req: NodeJS.ReadableStream }): Promise<string> {
  let text = ''
  ctx.req.setEncoding('utf8')
  for await (const chunk of ctx.req) text += chunk as string
  return text
}
