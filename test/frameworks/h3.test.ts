/**
 * Frasco inside h3 2 (the server of Nuxt), served over node:http with h3's `toNodeHandler`: a
 * middleware reads the session through frasco/jar, with a jar of two lines over h3's `getCookie`
 * and `setCookie`, puts it in `event.context`, and commits it after the routes. With `csrf`, it
 * runs `checkCsrf` before the routes and answers a refusal with a 403 itself.
 *
 * Flask's login tutorial (test/frameworks/flow.ts), CSRF's cases, and the store suite every adapter
 * style passes (test/helpers/stored-app.ts) run against it.
 */
import { randomBytes } from 'node:crypto'
import { H3, HTTPResponse, getCookie, getRequestURL, html, redirect, setCookie, toNodeHandler, type H3Event, type Middleware } from 'h3'
import { describe, expect, it } from 'vitest'
import { commitSession, readSession, type CookieJar } from '../../src/adapters/jar.js'
import { checkCsrf, csrfToken } from '../../src/csrf.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions, type StoredSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import { describeBrowser, startLocalhostServer } from '../helpers/browser.js'
import { CookieJar as Browser, startServer, useTestServers, type TestServer } from '../helpers/server.js'
import { act, describeStoreFeatures, expectStoreFlow, sessionFlash, storeEnv, type AppData, type StoreEnv } from '../helpers/stored-app.js'
import { CSRF_CASES, browserPost, expectCsrfCase, expectLoginFlow, expectLoginFormToken, setCookies, varyOf } from './flow.js'

useTestServers()

const secrets = [randomBytes(32).toString('base64url')]

// --- recipe: h3 (docs/frameworks.md) -----------------------------------------------------------------
type LoginData = { username: string }

/** h3's cookie helpers as the cookie jar of frasco/jar. */
function cookieJar(event: H3Event): CookieJar {
  return {
    get: (name) => getCookie(event, name),
    set: (name, value, options) => setCookie(event, name, value, options),
  }
}

/** The request's session, which sessionMiddleware put in `event.context`. */
function sessionOf<T extends object = LoginData>(event: H3Event): Session<T> {
  return event.context.session as Session<T>
}

/** A form's `_csrf` field, read from a copy of the request: the route reads the body itself. */
async function formToken(event: H3Event): Promise<string | undefined> {
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(event.req.headers.get('content-type') ?? '')) return undefined
  try {
    const value = (await event.req.clone().formData()).get('_csrf')
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined // not the form it claims to be: no token
  }
}

/**
 * Reads the session into `event.context` before the routes and commits it after them, unless a
 * route threw or answered with a 5xx. With `csrf`, an unsafe request another site sent gets a 403
 * before the routes run (docs/csrf.md). `xForwardedProto`: only behind a proxy that sets it.
 */
function sessionMiddleware<T extends object>(sessions: Sessions<T> | StoredSessions<T>, options: { csrf?: boolean; xForwardedProto?: boolean } = {}): Middleware {
  const { csrf = false, xForwardedProto = false } = options
  return async (event, next) => {
    const jar = cookieJar(event)
    const session = await readSession(sessions, jar)
    const url = getRequestURL(event, { xForwardedProto }) // https as h3 sees it
    if (csrf) {
      const refused = checkCsrf(
        {
          method: event.req.method,
          origin: url.origin,
          header: (name) => event.req.headers.get(name) ?? undefined,
          token: event.req.headers.get('x-csrf-token') ?? (await formToken(event)),
        },
        session,
      )
      if (refused !== undefined) {
        event.res.status = 403 // before the commit below: no session cookie
        return `Forbidden: ${refused.code}`
      }
    }
    event.context.session = session
    const body = await next()
    // No session cookie on a failed request (5xx). A Response a route returns with a status of 400
    // or more goes out without the headers set on event.res: commit nothing that would not go out.
    const status = (body instanceof Response || body instanceof HTTPResponse ? body.status : event.res.status) ?? 200
    if (status < (body instanceof Response ? 400 : 500)) await commitSession(sessions, jar, session, { secure: url.protocol === 'https:' })
    // The page depends on the session. h3 puts the headers of event.res over a returned Response's.
    const vary = (body instanceof Response ? body.headers.get('vary') : null) ?? event.res.headers.get('vary')
    event.res.headers.set('vary', vary === null ? 'Cookie' : `${vary}, Cookie`)
    return body
  }
}

function createApp(sessions: Sessions<LoginData> | StoredSessions<LoginData>): H3 {
  const app = new H3()
  app.use(sessionMiddleware(sessions, { csrf: true }))

  app.get('/', (event) => {
    event.res.headers.set('vary', 'Accept-Language')
    const username = sessionOf(event).username
    return username === undefined ? 'You are not logged in' : `Logged in as ${username}`
  })

  app.get('/login', (event) => {
    // The token goes in every form, for browsers that send neither Sec-Fetch-Site nor Origin.
    const token = csrfToken(sessionOf(event))
    return html`<form method="post"><input type="hidden" name="_csrf" value="${token}"><input name="username"> <button>Log in</button></form>`
  })

  app.post('/login', async (event) => {
    const username = String((await event.req.formData()).get('username') ?? '').trim()
    if (username === '') {
      event.res.status = 400
      return 'A username is required'
    }
    const session = sessionOf(event)
    session.regenerate() // a new identity on login, against session fixation
    session.username = username
    setCookie(event, 'theme', 'dark') // the app's own cookie travels with the session's
    return redirect('/', 303)
  })

  app.post('/logout', (event) => {
    sessionOf(event).pop('username')
    return redirect('/', 303)
  })
  return app
}
// --- end recipe ----------------------------------------------------------------------------------------

function serve(app: H3): Promise<TestServer> {
  return startServer(toNodeHandler(app))
}

describe('h3 2 over node:http (toNodeHandler)', () => {
  it("runs Flask's login tutorial: log in, see the name, log out", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const server = await serve(createApp(sessions))
    await expectLoginFlow(server.origin, sessions)
  })

  it('runs the tutorial with a store-backed manager too', async () => {
    const store = createMemoryStore()
    const sessions = createSessions<LoginData>({ secrets, store })
    const server = await serve(createApp(sessions))
    const browser = new Browser()
    const login = await browser.fetch(server.url('/login'), browserPost({ username: 'ada' }))
    expect(login.status).toBe(303)
    expect(await (await browser.fetch(server.url('/'))).text()).toBe('Logged in as ada')
    expect((browser.get('session') as string).length).toBeLessThan(200)
    const logout = await browser.fetch(server.url('/logout'), browserPost())
    expect(setCookies(logout).map((cookie) => cookie.name)).toEqual(['session'])
    expect(browser.names()).toEqual(['theme'])
    expect(await (await browser.fetch(server.url('/'))).text()).toBe('You are not logged in')
  })

  it("keeps the app's own Vary and adds Cookie, on a Response a route returns too", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.get('/response', (event) => {
      sessionOf(event).username = 'ada'
      return new Response('ok', { headers: { vary: 'Accept', 'set-cookie': 'own=1; Path=/' } })
    })
    const server = await serve(app)
    expect(varyOf(await fetch(server.url('/')))).toEqual(['accept-language', 'cookie'])
    const response = await fetch(server.url('/response'))
    expect(varyOf(response)).toEqual(['accept', 'cookie'])
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['own', 'session'])
  })

  it('commits nothing for a Response of 400 or more a route returns (h3 would drop the cookie), so the store is not written either', async () => {
    const store = createMemoryStore()
    let saves = 0
    const save = store.save
    store.save = (...args) => ((saves += 1), save(...args))
    const app = createApp(createSessions<LoginData>({ secrets, store }))
    app.get('/missing', (event) => {
      sessionOf(event).username = 'ada'
      return new Response('not found', { status: 404 })
    })
    const server = await serve(app)
    const response = await fetch(server.url('/missing'))
    expect(response.status).toBe(404)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(saves).toBe(0)
  })

  it('splits a large session into chunks and shrinks it back, through h3 setCookie', async () => {
    const sessions = createSessions<LoginData & { blob?: string }>({ secrets, compress: false })
    const app = createApp(sessions as Sessions<LoginData>)
    app.get('/grow', (event) => {
      const session = sessionOf<LoginData & { blob?: string }>(event)
      session.username = 'ada'
      session.blob = randomBytes(3000).toString('base64url')
      return 'grown'
    })
    app.get('/shrink', (event) => {
      delete sessionOf<LoginData & { blob?: string }>(event).blob
      return 'shrunk'
    })
    const server = await serve(app)
    const browser = new Browser()
    await browser.fetch(server.url('/grow'))
    expect(browser.names()).toEqual(['session.0', 'session.1'])
    const shrunk = await browser.fetch(server.url('/shrink'))
    expect(setCookies(shrunk).map((cookie) => [cookie.name, cookie.attributes['max-age']])).toEqual([['session', undefined], ['session.0', '0'], ['session.1', '0']])
    expect(browser.names()).toEqual(['session'])
    expect(await (await browser.fetch(server.url('/'))).text()).toBe('Logged in as ada')
  })

  it('writes no session cookie when a route throws, or answers with a 5xx itself', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.get('/throw', (event) => {
      sessionOf(event).username = 'set before the error'
      throw new Error('boom')
    })
    app.get('/fail', (event) => {
      sessionOf(event).username = 'set before the failure'
      event.res.status = 503
      return 'unavailable'
    })
    app.get('/fail-response', (event) => {
      sessionOf(event).username = 'set before the failure'
      return new Response('bad gateway', { status: 502 })
    })
    const server = await serve(new H3({ silent: true }).use(app))
    for (const [path, status] of [['/throw', 500], ['/fail', 503], ['/fail-response', 502]] as const) {
      const response = await fetch(server.url(path))
      expect(response.status).toBe(status)
      expect(response.headers.getSetCookie()).toEqual([])
    }
  })

  it('turns a session too large for its cookies into a 500 without the session cookie', async () => {
    const sessions = createSessions<LoginData>({ secrets, chunking: false, compress: false })
    const app = createApp(sessions)
    app.get('/big', (event) => {
      sessionOf(event).username = randomBytes(8192).toString('hex')
      return 'stored'
    })
    const server = await serve(new H3({ silent: true }).use(app))
    const response = await fetch(server.url('/big'))
    expect(response.status).toBe(500)
    expect(response.headers.getSetCookie()).toEqual([])
  })

  it('writes the cookie Secure on https as h3 sees it: X-Forwarded-Proto only with xForwardedProto', async () => {
    const sessions = createSessions<LoginData>({ secrets }) // cookie.secure: 'auto'
    const write: Parameters<H3['get']>[1] = (event) => {
      sessionOf(event).username = 'ada'
      return 'ok'
    }
    const behindProxy = await serve(new H3().use(sessionMiddleware(sessions, { xForwardedProto: true })).get('/', write))
    const direct = await serve(new H3().use(sessionMiddleware(sessions)).get('/', write))
    const secureOf = async (server: TestServer, proto: string) => setCookies(await fetch(server.url('/'), { headers: { 'x-forwarded-proto': proto } }))[0]?.attributes.secure
    expect(await secureOf(behindProxy, 'https')).toBe(true)
    expect(await secureOf(behindProxy, 'http')).toBeUndefined()
    expect(await secureOf(direct, 'https')).toBeUndefined()
  })

  it('reads a hostile cookie as an empty session and deletes it', async () => {
    const sessions = createSessions<LoginData>({ secrets, rolling: true })
    const server = await serve(createApp(sessions))
    const response = await fetch(server.url('/'), { headers: { cookie: 'session=%E0%A4%A; session.0=x%3By; session.3=zz' } })
    expect(await response.text()).toBe('You are not logged in')
    expect(setCookies(response).map((cookie) => [cookie.name, cookie.attributes['max-age']])).toEqual([['session', '0'], ['session.0', '0']])
  })

  describe('CSRF protection (sessionMiddleware with csrf: true)', () => {
    async function transferApp(): Promise<{ origin: string; runs: () => number }> {
      let runs = 0
      const app = createApp(createSessions<LoginData>({ secrets, rolling: true }))
      app.get('/transfer', (event) => csrfToken(sessionOf(event)))
      app.post('/transfer', (event) => {
        runs += 1
        sessionOf(event).username = 'transferred'
        return 'done'
      })
      return { origin: (await serve(app)).origin, runs: () => runs }
    }

    it.each(CSRF_CASES)('%s', async (...testCase) => {
      const { origin, runs } = await transferApp()
      await expectCsrfCase(origin, runs, testCase)
    })

    it('puts a token in the login form, which lets a client without browser headers log in', async () => {
      const server = await serve(createApp(createSessions<LoginData>({ secrets })))
      await expectLoginFormToken(server.origin)
    })
  })
})

describeBrowser('the default of commitSession in Chromium', (fixture) => {
  it('writes a Secure cookie, which Chromium keeps over http://localhost and sends back', async () => {
    const sessions = createSessions<LoginData>({ secrets }) // cookie.secure: 'auto', and no secure option below
    const app = new H3()
    app.get('/login', (event) => {
      const jar = cookieJar(event)
      const session = readSession(sessions, jar)
      session.username = 'ada'
      commitSession(sessions, jar, session)
      return 'logged in'
    })
    app.get('/', (event) => readSession(sessions, cookieJar(event)).username ?? 'nobody')
    const server = await startLocalhostServer(toNodeHandler(app))
    await fixture.page.goto(server.url('/login'))
    expect(await fixture.context.cookies()).toEqual([expect.objectContaining({ name: 'session', secure: true, httpOnly: true, sameSite: 'Lax' })])
    await fixture.page.goto(server.url('/'))
    expect(await fixture.page.textContent('body')).toBe('ada')
  })
})

/** The store suite's app on h3: its routes (stored-app.ts's act) behind the recipe's middleware. */
function startStoreApp(env: StoreEnv): Promise<TestServer> {
  const app = new H3({ silent: true, onError: (error) => void env.onError(error.cause ?? error) })
  app.use(sessionMiddleware(env.sessions))
  app.all('/**', async (event) => {
    const session = sessionOf<AppData>(event)
    const form = new URLSearchParams(event.req.method === 'POST' ? await event.req.text() : '')
    const context = { sessions: env.sessions, session: () => session, form, end: () => session.destroy(), ...sessionFlash(() => session) }
    const outcome = await act(context, event.req.method, event.url.pathname)
    if (outcome.location !== undefined) return redirect(outcome.location, outcome.status)
    event.res.status = outcome.status
    return outcome.body
  })
  return serve(app)
}

describe('h3 2 with a store-backed manager (the store suite)', () => {
  it('logs in, counts, looks, logs out; a replayed cookie is revoked', async () => {
    const env = storeEnv()
    await expectStoreFlow(await startStoreApp(env), env)
  })
})

describeStoreFeatures('h3 2 with a store-backed manager: what each change writes', startStoreApp, { throwsTo: 'errors', varyAlways: true })
