/**
 * frasco/fastify inside Fastify 5, over real sockets: Flask's login tutorial through
 * `sessionPlugin`, and what the plugin must get right in Fastify's own header path (an `onSend`
 * hook writing with `reply.header`: Fastify replaces whatever was set on `reply.raw`), its error
 * replies, its `trustProxy`, its hooks and its encapsulation. Store mode is in fastify-store.test.ts.
 */
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { Readable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { sessionPlugin, type FastifySession, type FastifySessionData, type SessionPluginOptions } from '../../src/adapters/fastify.js'
import { commitSession, readSession } from '../../src/adapters/node.js'
import { csrfToken } from '../../src/csrf.js'
import { ChangedAfterCommit, CsrfRefused, SecureCookieOverHttp } from '../../src/errors.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { CookieJar, isDeletion } from '../helpers/server.js'
import { CSRF_CASES, browserPost, expectCsrfCase, expectLoginFlow, expectLoginFormToken, expectVaryKept, setCookies, varyOf } from './flow.js'

declare module '../../src/adapters/fastify.js' {
  interface FastifySessionData extends LoginData {}
}

// --- recipe: Fastify (docs/frameworks.md) ---------------------------------------------------------
type LoginData = { username: string }

function createApp(sessions: Sessions<LoginData>, options: { trustProxy?: boolean } = {}) {
  const app = Fastify(options)
  // What @fastify/formbody does, without the dependency: a form's fields (its _csrf token too) in request.body.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  app.register(sessionPlugin, { sessions, csrf: true }) // csrf: refuses POSTs another site sent (docs/csrf.md)

  app.get('/', async (request, reply) => {
    reply.header('vary', 'Accept-Language')
    const username = request.session.username
    return username === undefined ? 'You are not logged in' : `Logged in as ${username}` // text/plain
  })

  app.get('/login', async (request, reply) => {
    // The token goes in every form, for browsers that send neither Sec-Fetch-Site nor Origin.
    const token = csrfToken(request.session)
    reply.type('text/html; charset=utf-8')
    return `<form method="post"><input type="hidden" name="_csrf" value="${token}"><input name="username"> <button>Log in</button></form>`
  })

  app.post<{ Body: { username?: string } }>('/login', async (request, reply) => {
    const username = request.body.username?.trim() ?? ''
    if (username === '') return reply.code(400).send('A username is required')
    request.session.regenerate() // a new identity on login, against session fixation
    request.session.username = username
    reply.header('set-cookie', 'theme=dark; Path=/') // the app's own cookie travels with the session's
    return reply.redirect('/', 303)
  })

  app.post('/logout', async (request, reply) => {
    request.session.pop('username')
    return reply.redirect('/', 303)
  })
  return app
}
// --- end recipe -------------------------------------------------------------------------------------

const secrets = [randomBytes(32).toString('base64url')]
const apps: FastifyInstance[] = []

afterEach(async () => {
  vi.restoreAllMocks()
  await Promise.all(apps.splice(0).map((app) => app.close()))
})

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** A bare app with the plugin registered at its root, and the form parser of the recipe. */
function pluginApp(options: SessionPluginOptions, fastifyOptions: FastifyServerOptions = {}): FastifyInstance {
  const app = Fastify(fastifyOptions)
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  app.register(sessionPlugin, options)
  return app
}

/** The error `app.ready()` rejects with. */
async function readyError(app: FastifyInstance): Promise<Error> {
  apps.push(app)
  return app.ready().then(
    () => {
      throw new Error('app.ready() resolved')
    },
    (error: unknown) => error as Error,
  )
}

describe('Fastify 5 with sessionPlugin', () => {
  it("runs Flask's login tutorial: log in, see the name, log out", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const origin = await listen(createApp(sessions))
    await expectLoginFlow(origin, sessions)
  })

  it("keeps the app's own Vary and adds Cookie once", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.get<{ Querystring: { set: string; write?: string } }>('/vary', async (request, reply) => {
      reply.header('vary', request.query.set)
      if (request.query.write === '1') request.session.username = 'admin'
      return request.session.username ?? 'anonymous'
    })
    await expectVaryKept(await listen(app))
  })

  it('lets an earlier onRequest hook read the session, and survives a hook that replies before any route', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.addHook('onRequest', async (request, reply) => {
      if (request.url === '/admin' && request.session.username !== 'admin') return reply.code(401).send('Unauthorized')
    })
    app.addHook('onRequest', async (request, reply) => {
      if (request.url === '/blocked') return reply.code(429).send('Slow down') // never reads the session
    })
    app.get('/admin', async () => 'Admin')
    const origin = await listen(app)

    const denied = await fetch(`${origin}/admin`)
    expect(denied.status).toBe(401)
    expect(varyOf(denied)).toEqual(['cookie'])
    const blocked = await fetch(`${origin}/blocked`)
    expect(blocked.status).toBe(429)
    expect(blocked.headers.get('vary')).toBeNull()

    const jar = new CookieJar()
    await jar.fetch(`${origin}/login`, browserPost({ username: 'admin' }))
    expect(await (await jar.fetch(`${origin}/admin`)).text()).toBe('Admin')
  })

  it('reads a cookie session lazily: a request that never touches it costs no signature check, gets no Vary and no cookie', async () => {
    const invalid: string[] = []
    const sessions = createSessions<LoginData>({ secrets, onInvalid: (error) => invalid.push(error.code) })
    const app = createApp(sessions)
    app.get('/static', async () => 'static')
    const origin = await listen(app)
    const forged = { headers: { cookie: `session=${createSessions({ secrets: [randomBytes(32).toString('base64url')] }).sign({ username: 'admin' })}` } }

    const untouched = await fetch(`${origin}/static`, forged)
    expect(await untouched.text()).toBe('static')
    expect(untouched.headers.get('vary')).toBeNull()
    expect(untouched.headers.getSetCookie()).toEqual([])
    expect(invalid).toEqual([]) // the cookie was never verified

    const read = await fetch(`${origin}/`, forged)
    expect(await read.text()).toBe('You are not logged in')
    expect(invalid).toEqual(['ERR_SESSION_UNKNOWN_KEY'])
  })

  it('commits on 4xx replies, never on a 5xx (a handler that threw, or the app\'s own), and turns a session that cannot be stored into a 500', async () => {
    const sessions = createSessions<LoginData>({ secrets, chunking: false })
    const app = createApp(sessions)
    app.get('/fail', async (request) => {
      request.session.username = 'set before the error'
      throw new Error('boom')
    })
    app.get('/unavailable', async (request, reply) => {
      request.session.username = 'set before the 503'
      return reply.code(503).send('Try again later')
    })
    app.get('/refused', async (request, reply) => {
      request.session.username = 'kept on a 4xx'
      return reply.code(403).send('Forbidden')
    })
    app.get('/big', async (request, reply) => {
      reply.header('set-cookie', 'theme=dark; Path=/')
      request.session.username = randomBytes(8192).toString('hex') // beyond one cookie, chunking off
      return 'stored'
    })
    const origin = await listen(app)

    // A failed request keeps the session the client had: the half-written one does not go out.
    const failed = await fetch(`${origin}/fail`)
    expect(failed.status).toBe(500)
    expect(setCookies(failed)).toEqual([])
    const unavailable = await fetch(`${origin}/unavailable`)
    expect(unavailable.status).toBe(503)
    expect(setCookies(unavailable)).toEqual([])
    expect(varyOf(unavailable)).toEqual(['cookie']) // it read the session all the same
    const refused = await fetch(`${origin}/refused`)
    expect(refused.status).toBe(403)
    expect(setCookies(refused).map((cookie) => cookie.name)).toEqual(['session'])

    const missing = await fetch(`${origin}/nowhere`)
    expect(missing.status).toBe(404)
    expect(missing.headers.get('vary')).toBeNull() // nothing read the session

    const big = await fetch(`${origin}/big`)
    expect(big.status).toBe(500)
    expect((await big.json()) as unknown).toMatchObject({ code: 'ERR_SESSION_COOKIE_TOO_LARGE' })
    expect(setCookies(big).map((cookie) => cookie.name)).not.toContain('session')
  })

  // [case, what makes the reply a 5xx after the plugin's onSend hook committed it as a 200, the status]
  const LATE_5XX: Array<[string, (app: FastifyInstance) => void, number]> = [
    [
      'an onSend hook registered after the plugin throws (Fastify sends its error reply through onSend again)',
      (app) => {
        app.addHook('onSend', async (request, _reply, payload) => {
          if (request.headers['x-late'] === '1') throw new Error('compression failed')
          return payload
        })
      },
      500,
    ],
    [
      'an onSend hook registered after the plugin sets a 503',
      (app) => {
        app.addHook('onSend', async (request, reply, payload) => {
          if (request.headers['x-late'] === '1') reply.code(503)
          return payload
        })
      },
      503,
    ],
    [
      'an onSend hook registered after the plugin sets a 500 on a stream payload (headers set on reply.raw, written implicitly)',
      (app) => {
        app.addHook('onSend', async (request, reply, payload) => {
          if (request.headers['x-late'] !== '1') return payload
          reply.code(500)
          return Readable.from(['streamed'])
        })
      },
      500,
    ],
    [
      "the handler's payload is a Response whose 502 Fastify applies after the onSend hooks",
      (app) => {
        app.addHook('preHandler', async (request, reply) => {
          if (request.headers['x-late'] === '1') return reply.send(new Response('bad gateway', { status: 502 }))
        })
      },
      502,
    ],
  ]

  it.each(LATE_5XX)("no session cookie on a reply that becomes a 5xx after the commit: %s; the app's own cookie still goes", async (_name, late, status) => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.addHook('onRequest', async (request, reply) => {
      request.session.username = 'set before the reply failed' // read and changed before the route
      reply.header('set-cookie', 'theme=dark; Path=/')
    })
    late(app)
    app.setErrorHandler(async (_error, _request, reply) => reply.code(500).send('error page'))
    app.get('/late', async () => 'ok')
    const origin = await listen(app)

    // Without the late failure, the same request commits: what the 5xx must take back.
    const ok = await fetch(`${origin}/late`)
    expect(ok.status).toBe(200)
    expect(setCookies(ok).map((cookie) => cookie.name)).toEqual(['theme', 'session'])

    const failed = await fetch(`${origin}/late`, { headers: { 'x-late': '1' } })
    expect(failed.status).toBe(status)
    await failed.text()
    expect(setCookies(failed).map((cookie) => cookie.name)).toEqual(['theme'])
  })

  it('a reply a later onSend hook turns into a 4xx keeps the session cookie: only a 5xx takes it back', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.code(429)
      return payload
    })
    app.get('/limited', async (request) => {
      request.session.username = 'admin'
      return 'ok'
    })
    const response = await fetch(`${await listen(app)}/limited`)
    expect(response.status).toBe(429)
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['session'])
  })

  it("keeps a Set-Cookie the app put on reply.raw, which Fastify's writeHead would otherwise replace", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.get('/raw', async (request, reply) => {
      reply.raw.setHeader('set-cookie', ['raw=1; Path=/', 'raw2=2; Path=/']) // an Express middleware under @fastify/middie, say
      request.session.username = 'admin'
      return 'ok'
    })
    app.get('/both', async (request, reply) => {
      reply.raw.setHeader('set-cookie', 'raw=1; Path=/')
      reply.header('set-cookie', 'theme=dark; Path=/') // Fastify's own wins over reply.raw's, as without Frasco
      request.session.username = 'admin'
      return 'ok'
    })
    const origin = await listen(app)
    expect(setCookies(await fetch(`${origin}/raw`)).map((cookie) => cookie.name)).toEqual(['raw', 'raw2', 'session'])
    expect(setCookies(await fetch(`${origin}/both`)).map((cookie) => cookie.name)).toEqual(['theme', 'session'])
  })

  it('ends the session with request.session = null; any other value is refused', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.post('/end', async (request, reply) => {
      request.session = null // cookie-session's idiom
      return reply.redirect('/', 303)
    })
    app.get('/replace', async (request) => {
      ;(request as { session: unknown }).session = { username: 'mallory' }
      return 'replaced'
    })
    const origin = await listen(app)
    const jar = new CookieJar()
    await jar.fetch(`${origin}/login`, browserPost({ username: 'admin' }))
    expect(await (await jar.fetch(`${origin}/`)).text()).toBe('Logged in as admin')

    const replaced = await jar.fetch(`${origin}/replace`)
    expect(replaced.status).toBe(500)
    expect(((await replaced.json()) as { message: string }).message).toMatch(/^request\.session cannot be replaced; use request\.session\.regenerate\(\)/)
    expect(await (await jar.fetch(`${origin}/`)).text()).toBe('Logged in as admin')

    const ended = await jar.fetch(`${origin}/end`, browserPost())
    expect(ended.status).toBe(303)
    const [deletion] = setCookies(ended)
    expect(deletion?.name).toBe('session')
    expect(deletion !== undefined && isDeletion(deletion)).toBe(true)
    expect(await (await jar.fetch(`${origin}/`)).text()).toBe('You are not logged in')
  })

  // [case, Cookie header (given a valid cookie), the reason onInvalid hears]
  const HOSTILE: Array<[string, (valid: string) => string, string]> = [
    ['garbage', () => 'session=garbage', 'ERR_SESSION_MALFORMED'],
    ['a tampered signature', (valid) => `session=${valid.slice(0, -2)}${valid.at(-2) === 'A' ? 'B' : 'A'}${valid.at(-1)}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['another secret', () => `session=${createSessions({ secrets: [randomBytes(32).toString('base64url')] }).sign({ username: 'admin' })}`, 'ERR_SESSION_UNKNOWN_KEY'],
    ['expired', () => `session=${createSessions({ secrets, lifetime: 60 }).sign({ username: 'admin' }, { now: Date.now() - 3_600_000 })}`, 'ERR_SESSION_EXPIRED'],
    ['12 kB of it', () => `session=${'A'.repeat(12_000)}`, 'ERR_SESSION_MALFORMED'],
    ['a quoted value', (valid) => `session="${valid}x"`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['latin-1 bytes', () => 'session=caf\u00e9.\u00ff\u00fe', 'ERR_SESSION_UNSUPPORTED_VERSION'],
  ]

  it.each(HOSTILE)('a hostile session cookie (%s) is an empty session, deleted, never an error', async (_name, cookie, code) => {
    const invalid: string[] = []
    const sessions = createSessions<LoginData>({ secrets, onInvalid: (error) => invalid.push(error.code) })
    const origin = await listen(createApp(sessions))
    const valid = sessions.sign({ username: 'admin' })
    const response = await fetch(`${origin}/`, { headers: { cookie: cookie(valid) } })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('You are not logged in')
    expect(invalid).toEqual([code])
    const sent = setCookies(response)
    expect(sent.map((set) => set.name)).toEqual(['session'])
    expect(sent.every((set) => isDeletion(set))).toBe(true)
  })

  it("sets Secure from X-Forwarded-Proto when Fastify's trustProxy says so", async () => {
    const sessions = createSessions<LoginData>({ secrets }) // cookie.secure: 'auto'
    const login = browserPost({ username: 'admin' })
    const forwarded = { ...login, headers: { ...login.headers, 'x-forwarded-proto': 'https' }, redirect: 'manual' as const }

    const trusting = await listen(createApp(sessions, { trustProxy: true }))
    const secure = setCookies(await fetch(`${trusting}/login`, forwarded)).find((cookie) => cookie.name === 'session')
    expect(secure?.attributes.secure).toBe(true)

    const direct = await listen(createApp(sessions))
    const plain = setCookies(await fetch(`${direct}/login`, forwarded)).find((cookie) => cookie.name === 'session')
    expect(plain?.attributes.secure).toBeUndefined()
  })

  describe('CSRF protection (sessionPlugin with csrf: true)', () => {
    /** The recipe's app with the two routes of expectCsrfCase, and rolling sessions: a refused request that committed would show. */
    async function transferApp(): Promise<{ origin: string; runs: () => number }> {
      let runs = 0
      const app = createApp(createSessions<LoginData>({ secrets, rolling: true }))
      app.get('/transfer', async (request) => csrfToken(request.session))
      app.post('/transfer', async (request) => {
        runs += 1
        request.session.username = 'transferred'
        return 'done'
      })
      return { origin: await listen(app), runs: () => runs }
    }

    it.each(CSRF_CASES)('%s', async (...testCase) => {
      const { origin, runs } = await transferApp()
      await expectCsrfCase(origin, runs, testCase)
    })

    it('puts a token in the login form, which lets a client without browser headers log in', async () => {
      await expectLoginFormToken(await listen(createApp(createSessions<LoginData>({ secrets }))))
    })

    it("takes the app's origin from Fastify's request.protocol, so X-Forwarded-Proto counts with trustProxy only", async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const trusting = await listen(createApp(sessions, { trustProxy: true }))
      const direct = await listen(createApp(sessions))
      // An older browser on the https site behind the proxy: Origin, no Sec-Fetch-Site.
      const post = (origin: string): RequestInit => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: origin.replace(/^http:/, 'https:'), 'x-forwarded-proto': 'https' },
        body: 'username=admin',
        redirect: 'manual',
      })
      expect((await fetch(`${trusting}/login`, post(trusting))).status).toBe(303)
      const refused = await fetch(`${direct}/login`, post(direct))
      expect(refused.status).toBe(403)
      expect(await refused.text()).toBe('Forbidden: ERR_SESSION_CSRF_ORIGIN')
    })

    it('refuses on the browser headers before parsing the body or reading the session, and tells onError', async () => {
      const invalid: string[] = []
      const errors: unknown[] = []
      const sessions = createSessions<LoginData>({ secrets, onInvalid: (error) => invalid.push(error.code) })
      const app = pluginApp({ sessions, csrf: true, onError: (error) => errors.push(error) })
      let parsed = 0
      app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
        parsed += 1
        done(null, JSON.parse(body as string))
      })
      app.post('/api', async () => 'done')
      const origin = await listen(app)
      const response = await fetch(`${origin}/api`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site', cookie: 'session=not.even.valid' },
        body: '{}',
      })
      expect(response.status).toBe(403)
      expect(await response.text()).toBe('Forbidden: ERR_SESSION_CSRF_CROSS_SITE')
      expect(parsed).toBe(0)
      expect(invalid).toEqual([]) // the session cookie was never read
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(CsrfRefused)
      expect(errors[0]).toMatchObject({ code: 'ERR_SESSION_CSRF_CROSS_SITE' })
    })

    it('commits nothing on a refused request, not even a session a hook read before the check (rolling sessions)', async () => {
      const sessions = createSessions<LoginData>({ secrets, rolling: true })
      const app = Fastify()
      app.addHook('onRequest', async (request) => {
        void request.session.username // an auth hook registered before the plugin: it runs first
      })
      app.register(sessionPlugin, { sessions, csrf: true, onError: () => {} })
      app.get('/login', async (request) => {
        request.session.username = 'ada'
        return 'in'
      })
      app.post('/transfer', async () => 'done')
      const origin = await listen(app)
      const jar = new CookieJar()
      await jar.fetch(`${origin}/login`)
      expect(setCookies(await jar.fetch(`${origin}/login`)).map((set) => set.name)).toEqual(['session']) // rolling: every read commits
      const refused = await jar.fetch(`${origin}/transfer`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } })
      expect(refused.status).toBe(403)
      expect(refused.headers.getSetCookie()).toEqual([])
    })

    it('takes the token from csrf.header, or from csrf.field of a JSON body; never refuses a safe method, nor reads the session for it', async () => {
      const invalid: string[] = []
      const sessions = createSessions<LoginData>({ secrets, onInvalid: (error) => invalid.push(error.code) })
      const app = pluginApp({ sessions, csrf: { header: 'X-XSRF-Token', field: 'authenticity_token' }, onError: () => {} })
      app.get('/token', async (request) => csrfToken(request.session))
      app.get('/static', async () => 'static')
      app.route({ method: ['POST', 'DELETE', 'OPTIONS'], url: '/item', handler: async (request) => `${request.method} done` })
      const origin = await listen(app)
      const jar = new CookieJar()
      const token = await (await jar.fetch(`${origin}/token`)).text()

      expect(await (await jar.fetch(`${origin}/item`, { method: 'DELETE', headers: { 'x-xsrf-token': token } })).text()).toBe('DELETE done')
      const json = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ authenticity_token: token }) }
      expect(await (await jar.fetch(`${origin}/item`, json)).text()).toBe('POST done')
      const wrongField = { ...json, body: JSON.stringify({ _csrf: token }) }
      expect(await (await jar.fetch(`${origin}/item`, wrongField)).text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING')
      const notAString = { ...json, body: JSON.stringify({ authenticity_token: [token] }) }
      expect(await (await jar.fetch(`${origin}/item`, notAString)).text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING')

      const options = await fetch(`${origin}/item`, { method: 'OPTIONS', headers: { 'sec-fetch-site': 'cross-site', cookie: 'session=garbage' } })
      expect(await options.text()).toBe('OPTIONS done')
      const safe = await fetch(`${origin}/static`, { headers: { 'sec-fetch-site': 'cross-site', cookie: 'session=garbage' } })
      expect(await safe.text()).toBe('static')
      expect(safe.headers.get('vary')).toBeNull()
      expect(invalid).toEqual([])
    })

    it("default onError: one console.warn line with the code, the method and the path (never the query or the cookie)", async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      const app = pluginApp({ sessions: createSessions<LoginData>({ secrets }), csrf: true })
      app.post('/transfer', async () => 'done')
      const origin = await listen(app)
      const response = await fetch(`${origin}/transfer?token=secret-in-query`, { method: 'POST', headers: { origin: 'https://evil.example', cookie: 'session=victims-cookie' } })
      expect(response.status).toBe(403)
      expect(warn.mock.calls).toEqual([
        [`frasco: refused POST /transfer as a possible CSRF: ERR_SESSION_CSRF_ORIGIN (Origin "https://evil.example" is not this app's origin nor one of the origins option)`],
      ])
    })
  })

  describe('what onError hears', () => {
    it('a change after the commit (an onResponse hook, code running on after reply.send) is reported as ChangedAfterCommit, not lost in silence', async () => {
      const errors: Array<[unknown, string]> = []
      const sessions = createSessions<LoginData>({ secrets })
      const app = pluginApp({ sessions, onError: (error, request) => errors.push([error, request.url]) })
      app.addHook('onResponse', async (request) => {
        if (request.url === '/late') request.session.username = 'too late' // read during the request, changed after
        if (request.url === '/first-read-late') request.session.username = 'too late' // read for the first time after the commit
      })
      app.get('/late', async (request) => {
        request.session.username = 'on time'
        return 'ok'
      })
      app.get('/first-read-late', async () => 'ok')
      const origin = await listen(app)

      const jar = new CookieJar()
      const late = await jar.fetch(`${origin}/late`)
      expect(await late.text()).toBe('ok')
      expect(sessions.verify(jar.get('session') as string)).toMatchObject({ ok: true, value: { username: 'on time' } })
      await vi.waitFor(() => expect(errors).toHaveLength(1))

      const firstReadLate = await fetch(`${origin}/first-read-late`)
      expect(firstReadLate.headers.getSetCookie()).toEqual([])
      await vi.waitFor(() => expect(errors).toHaveLength(2))
      expect(errors.map(([error, url]) => [(error as ChangedAfterCommit).code, url])).toEqual([
        ['ERR_SESSION_CHANGED_AFTER_COMMIT', '/late'],
        ['ERR_SESSION_CHANGED_AFTER_COMMIT', '/first-read-late'],
      ])
      expect(errors[0]?.[0]).toBeInstanceOf(ChangedAfterCommit)
    })

    it('a change to the session of a hijacked reply (reply.hijack(), then reply.raw written by the app) is reported as ChangedAfterCommit', async () => {
      const errors: Array<[unknown, string]> = []
      const sessions = createSessions<LoginData>({ secrets })
      const app = pluginApp({ sessions, onError: (error, request) => errors.push([error, request.url]) })
      app.get<{ Querystring: { change?: string } }>('/raw', async (request, reply) => {
        if (request.query.change === '1') request.session.username = 'ada'
        else void request.session.username // read, not changed: nothing lost
        reply.hijack()
        reply.raw.writeHead(200, { 'content-type': 'text/plain' })
        reply.raw.end('raw')
      })
      const origin = await listen(app)

      const unchanged = await fetch(`${origin}/raw`)
      expect(await unchanged.text()).toBe('raw')
      const changed = await fetch(`${origin}/raw?change=1`)
      expect(await changed.text()).toBe('raw')
      expect(changed.headers.getSetCookie()).toEqual([]) // Fastify's onSend never ran: the change is lost
      await vi.waitFor(() => expect(errors).toHaveLength(1))
      expect(errors[0]?.[0]).toBeInstanceOf(ChangedAfterCommit)
      expect(errors[0]?.[1]).toBe('/raw?change=1')
    })

    it('a late change with the default onError: one console.error line, no session value', async () => {
      const error = vi.spyOn(console, 'error').mockImplementation(() => {})
      const app = pluginApp({ sessions: createSessions<LoginData>({ secrets }) })
      app.addHook('onResponse', async (request) => {
        request.session.username = 'secret-name'
      })
      app.get('/page', async () => 'ok')
      const origin = await listen(app)
      expect(await (await fetch(`${origin}/page?q=1`)).text()).toBe('ok')
      await vi.waitFor(() => expect(error).toHaveBeenCalledTimes(1))
      expect(error.mock.calls[0]).toEqual(['frasco: the session of GET /page changed after its cookie was sent; the change is lost: ERR_SESSION_CHANGED_AFTER_COMMIT'])
    })

    it('a Secure cookie over plain http to a host other than localhost: SecureCookieOverHttp, once per manager', async () => {
      const errors: unknown[] = []
      const sessions = createSessions<LoginData>({ secrets, cookie: { secure: true } })
      const app = pluginApp({ sessions, onError: (error) => errors.push(error) })
      app.get('/set', async (request) => {
        request.session.username = 'admin'
        return 'set'
      })
      const origin = await listen(app)
      const port = Number(new URL(origin).port)
      // fetch cannot send another Host; the app is reached as http://app.example (no TLS, no proxy).
      const get = (): Promise<string[]> =>
        new Promise((resolve, reject) => {
          httpRequest({ host: '127.0.0.1', port, path: '/set', headers: { host: 'app.example' } }, (response) => {
            response.resume()
            response.on('end', () => resolve(response.headers['set-cookie'] ?? []))
          })
            .on('error', reject)
            .end()
        })
      expect((await get()).length).toBe(1)
      expect((await get()).length).toBe(1)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(SecureCookieOverHttp)
      expect((errors[0] as Error).message).toContain('to app.example')

      // Over loopback, where browsers keep Secure cookies, nothing to say.
      const quiet: unknown[] = []
      const local = pluginApp({ sessions: createSessions<LoginData>({ secrets, cookie: { secure: true } }), onError: (error) => quiet.push(error) })
      local.get('/set', async (request) => {
        request.session.username = 'admin'
        return 'set'
      })
      expect((await fetch(`${await listen(local)}/set`)).headers.getSetCookie()).toHaveLength(1)
      expect(quiet).toEqual([])
    })

    it('an onError that throws is swallowed: the reply goes out', async () => {
      const app = pluginApp({
        sessions: createSessions<LoginData>({ secrets }),
        csrf: true,
        onError: () => {
          throw new Error('the logger is down')
        },
      })
      app.post('/transfer', async () => 'done')
      const response = await fetch(`${await listen(app)}/transfer`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } })
      expect(response.status).toBe(403)
      expect(await response.text()).toBe('Forbidden: ERR_SESSION_CSRF_CROSS_SITE')
    })
  })

  describe('encapsulation', () => {
    /** A route that logs in as `name`, and one that says who is logged in. */
    function sessionRoutes(scope: FastifyInstance, prefix: string): void {
      scope.get(`${prefix}/login/:name`, async (request) => {
        request.session.username = (request.params as { name: string }).name
        return 'in'
      })
      scope.get(`${prefix}/whoami`, async (request) => request.session.username ?? 'anonymous')
    }

    it('registered at the root: the whole app, scopes made before and after it included', async () => {
      const app = Fastify()
      app.register(async (before) => sessionRoutes(before, '/before'))
      app.register(sessionPlugin, { sessions: createSessions<LoginData>({ secrets }) })
      app.register(async (after) => after.register(async (nested) => sessionRoutes(nested, '/after')))
      sessionRoutes(app, '')
      const origin = await listen(app)
      const jar = new CookieJar()
      await jar.fetch(`${origin}/login/ada`)
      for (const prefix of ['', '/before', '/after']) expect(await (await jar.fetch(`${origin}${prefix}/whoami`)).text()).toBe('ada')
      await jar.fetch(`${origin}/before/login/grace`)
      expect(await (await jar.fetch(`${origin}/after/whoami`)).text()).toBe('grace')
      expect(app.hasPlugin('frasco')).toBe(true)
      expect(app.printPlugins()).toContain('frasco')
    })

    it('registered in a scope: that scope and its children only; its siblings and the root never see request.session', async () => {
      const invalid: string[] = []
      const sessions = createSessions<LoginData>({ secrets, onInvalid: (error) => invalid.push(error.code) })
      const app = Fastify()
      app.register(async (scope) => {
        await scope.register(sessionPlugin, { sessions })
        sessionRoutes(scope, '/inside')
        scope.register(async (child) => sessionRoutes(child, '/inside/child'))
      })
      const untouched = async (request: FastifyRequest) => `${'session' in request}`
      app.register(async (sibling) => {
        sibling.get('/sibling', untouched)
      })
      app.get('/root', untouched)
      const origin = await listen(app)

      const jar = new CookieJar()
      expect(setCookies(await jar.fetch(`${origin}/inside/login/ada`)).map((cookie) => cookie.name)).toEqual(['session'])
      expect(await (await jar.fetch(`${origin}/inside/child/whoami`)).text()).toBe('ada')
      for (const path of ['/sibling', '/root']) {
        const response = await jar.fetch(`${origin}${path}`, { headers: { cookie: `${jar.header() as string}; session2=x` } })
        expect(await response.text()).toBe('false')
        expect(response.headers.get('vary')).toBeNull()
        expect(response.headers.getSetCookie()).toEqual([])
      }
      expect(app.hasPlugin('frasco')).toBe(false) // the root's list holds what is registered at the root only
      expect(invalid).toEqual([])
    })

    it('two scopes, two managers (an /admin scope with its own cookie): each works, neither touches the other\'s cookie', async () => {
      const shop = createSessions<LoginData>({ secrets })
      const admin = createSessions<LoginData>({ secrets: [randomBytes(32).toString('base64url')], cookie: { name: 'admin_session' } })
      const app = Fastify()
      app.register(async (scope) => {
        await scope.register(sessionPlugin, { sessions: shop })
        sessionRoutes(scope, '/shop')
      })
      app.register(async (scope) => {
        await scope.register(sessionPlugin, { sessions: admin })
        sessionRoutes(scope, '/admin')
      })
      const origin = await listen(app)
      const jar = new CookieJar()
      expect(setCookies(await jar.fetch(`${origin}/shop/login/ada`)).map((cookie) => cookie.name)).toEqual(['session'])
      expect(setCookies(await jar.fetch(`${origin}/admin/login/root`)).map((cookie) => cookie.name)).toEqual(['admin_session'])
      expect(jar.names()).toEqual(['admin_session', 'session'])
      expect(await (await jar.fetch(`${origin}/shop/whoami`)).text()).toBe('ada')
      expect(await (await jar.fetch(`${origin}/admin/whoami`)).text()).toBe('root')
      expect(admin.verify(jar.get('admin_session') as string)).toMatchObject({ ok: true, value: { username: 'root' } })
      expect(shop.verify(jar.get('session') as string)).toMatchObject({ ok: true, value: { username: 'ada' } })
    })

    it("refuses a scope with its own manager inside (or around) a context that has one: the outer hooks would check the inner scope's requests against the outer session", async () => {
      const site = createSessions<LoginData>({ secrets })
      const admin = createSessions<LoginData>({ secrets, cookie: { name: 'admin_session' } })
      const inside = Fastify()
      inside.register(sessionPlugin, { sessions: site, csrf: true })
      inside.register(async (scope) => {
        await scope.register(sessionPlugin, { sessions: admin, csrf: true })
        scope.get('/admin/form', async (request) => csrfToken(request.session))
      })
      const nested = await readyError(inside)
      expect(nested).toBeInstanceOf(TypeError)
      expect(nested.message).toMatch(/^sessionPlugin is already registered in a parent context: its hooks run on this scope's requests too .*register each manager in a scope of its own, side by side/)

      // The scope registered first: the root's hooks, registered after it, still run on its requests.
      const around = Fastify()
      around.register(async (scope) => {
        await scope.register(sessionPlugin, { sessions: admin })
        sessionRoutes(scope, '/admin')
      })
      around.register(sessionPlugin, { sessions: site })
      const outer = await readyError(around)
      expect(outer).toBeInstanceOf(TypeError)
      expect(outer.message).toMatch(/^sessionPlugin is already registered in a scope inside this context: .*register each manager in a scope of its own, side by side/)
    })

    it('refuses a second registration in one context, the same manager again in a child scope, and two managers with one cookie name', async () => {
      const sessions = createSessions<LoginData>({ secrets })
      const twice = Fastify()
      twice.register(sessionPlugin, { sessions })
      twice.register(sessionPlugin, { sessions: createSessions<LoginData>({ secrets, cookie: { name: 'other' } }) })
      const first = await readyError(twice)
      expect(first).toBeInstanceOf(TypeError)
      expect(first.message).toMatch(/^sessionPlugin is already registered in this context: register it once; for a second session manager \(with its own cookie name\), register each manager in a scope of its own/)

      const again = Fastify()
      again.register(sessionPlugin, { sessions })
      again.register(async (scope) => scope.register(sessionPlugin, { sessions }))
      expect((await readyError(again)).message).toMatch(/^sessionPlugin is already registered with this session manager in a parent context/)

      const clash = Fastify()
      clash.register(async (scope) => scope.register(sessionPlugin, { sessions }))
      clash.register(async (scope) => scope.register(sessionPlugin, { sessions: createSessions<LoginData>({ secrets }) }))
      expect((await readyError(clash)).message).toMatch(/^option sessions is invalid: another session manager of this app already uses the cookie name 'session'/)

      // One manager in two sibling scopes, or in two apps, is fine.
      const siblings = Fastify()
      siblings.register(async (scope) => scope.register(sessionPlugin, { sessions }))
      siblings.register(async (scope) => scope.register(sessionPlugin, { sessions }))
      apps.push(siblings)
      await siblings.ready()
    })

    it("says so when another plugin already decorated request.session in the context", async () => {
      const app = Fastify()
      app.decorateRequest('session', null as never) // what @fastify/secure-session does
      app.register(sessionPlugin, { sessions: createSessions<LoginData>({ secrets }) })
      const error = await readyError(app)
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toBe('request.session is already decorated in this context by another plugin (@fastify/session or @fastify/secure-session?): use one session plugin')
      expect((error.cause as { code?: string }).code).toBe('FST_ERR_DEC_ALREADY_PRESENT')
    })

    it("carries fastify-plugin's markers, without depending on it", () => {
      const plugin = sessionPlugin as unknown as Record<symbol, unknown>
      expect(plugin[Symbol.for('skip-override')]).toBe(true)
      expect(plugin[Symbol.for('fastify.display-name')]).toBe('frasco')
      expect(plugin[Symbol.for('plugin-meta')]).toEqual({ name: 'frasco', fastify: '5.x' })
    })
  })

  describe('options are strict', () => {
    const sessions = createSessions<LoginData>({ secrets })
    // [case, options, the message]
    const cases: Array<[string, unknown, string | RegExp]> = [
      ['no options', {}, /^option sessions is missing: give it the session manager createSessions returns: app\.register\(sessionPlugin, \{ sessions: createSessions\(/],
      ['sessions that is not a manager', { sessions: { secrets } }, /^option sessions is invalid: give it the session manager createSessions returns/],
      ['a store instead of a manager', { sessions: { load: async () => undefined, save: async () => true } }, /^option sessions is invalid/],
      ['session (singular)', { session: sessions }, 'option session is unknown: did you mean `sessions`? (the session manager createSessions returns)'],
      ["@fastify/session's secret", { sessions, secret: 'a secret with at least 32 characters!!' }, /^option secret is unknown: @fastify\/session's secret goes to createSessions\(\{ secrets \}\)/],
      ["@fastify/secure-session's key", { sessions, key: Buffer.alloc(32) }, /^option key is unknown: @fastify\/secure-session's key goes to createSessions/],
      ['cookieName', { sessions, cookieName: 'sid' }, "option cookieName is unknown: the cookie's name goes to createSessions({ cookie: { name } })"],
      ['a register prefix', { sessions, prefix: '/admin' }, /^option prefix is unknown: sessionPlugin decorates the context it is registered in, whatever the prefix/],
      ['trustProxy', { sessions, trustProxy: true }, /^option trustProxy is unknown: https is Fastify's own notion: Fastify\(\{ trustProxy: true \}\)/],
      ['a typo', { sessions, onerror: () => {} }, 'option onerror is unknown: did you mean `onError`?'],
      ['onError that is not a function', { sessions, onError: 'console' }, 'option onError is invalid: give a function (error, request) => void'],
      ['csrf that is not a boolean or an object', { sessions, csrf: 'on' }, /^option csrf is invalid: give true \(the defaults\)/],
      ['an unknown csrf option', { sessions, csrf: { ignoreMethods: ['POST'] } }, /^option csrf\.ignoreMethods is unknown: GET, HEAD, OPTIONS and TRACE are never checked/],
    ]

    it.each(cases)('%s: a TypeError from app.ready()', async (_name, options, message) => {
      const app = Fastify()
      app.register(sessionPlugin, options as SessionPluginOptions)
      const error = await readyError(app)
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(message)
    })

    it('takes its options from a function, as Fastify allows', async () => {
      const app = Fastify()
      app.register(sessionPlugin, () => ({ sessions }))
      app.get('/', async (request) => {
        request.session.username = 'ada'
        return 'ok'
      })
      expect(setCookies(await fetch(`${await listen(app)}/`)).map((cookie) => cookie.name)).toEqual(['session'])
    })
  })

  it('types request.session by declaration merging, and the plugin options by register', () => {
    expectTypeOf<FastifySessionData>().toEqualTypeOf<FastifySessionData & LoginData>()
    expectTypeOf<FastifySession>().toEqualTypeOf<Session<FastifySessionData>>()
    expectTypeOf<FastifyRequest['session']>().toEqualTypeOf<FastifySession>()
    expectTypeOf<FastifySession['username']>().toEqualTypeOf<string | undefined>()
    // Never run: what must compile, and what must not.
    const typeOnly = (app: FastifyInstance, sessions: Sessions<LoginData>): void => {
      app.register(sessionPlugin, { sessions, csrf: { origins: ['https://admin.example'] }, onError: (error, request) => request.log.warn({ error }, 'session') })
      app.register(sessionPlugin, { sessions: createSessions({ secrets }) }) // any manager: FastifySessionData types request.session
      // @ts-expect-error sessions is required
      app.register(sessionPlugin, {})
      // @ts-expect-error unknown option
      app.register(sessionPlugin, { sessions, secret: 'x' })
      app.get('/', async (request) => {
        const name: string | undefined = request.session.username
        // @ts-expect-error a key FastifySessionData does not declare
        request.session.get('userId')
        request.session = null
        // @ts-expect-error only null (or undefined) may be assigned
        request.session = { username: 'mallory' }
        return name
      })
    }
    expectTypeOf(typeOnly).toBeFunction()
  })

  it('why not commitSession(…, reply.raw): Fastify writes its own Set-Cookie and Vary over it', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = Fastify()
    app.get('/', async (request, reply) => {
      const session = readSession(sessions, request.raw)
      session.username = 'admin'
      reply.header('set-cookie', 'theme=dark; Path=/').header('vary', 'Accept-Language')
      commitSession(sessions, request.raw, reply.raw, session) // lands on reply.raw…
      return 'ok' // …and Fastify's writeHead(status, its headers) replaces it
    })
    const origin = await listen(app)
    const response = await fetch(`${origin}/`)
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['theme'])
    expect(response.headers.get('vary')).toBe('Accept-Language')
  })
})
