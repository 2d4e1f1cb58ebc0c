/**
 * Frasco inside Fastify 5. Fastify keeps its reply headers in its own object and writes them with
 * `res.writeHead(status, headers)`, which replaces any header of the same name already set on
 * `reply.raw`. So the session is committed in an `onSend` hook onto Fastify's reply, with
 * `reply.header('set-cookie', cookies)`, which appends to the Set-Cookie the app already set. With
 * `csrf`, a `preHandler` hook runs `checkCsrf` before the route and refuses with a 403.
 */
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { commitSession, readSession } from '../../src/adapters/node.js'
import { checkCsrf, csrfToken, type CsrfOptions } from '../../src/csrf.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { CookieJar } from '../helpers/server.js'
import { CSRF_CASES, browserPost, expectCsrfCase, expectLoginFlow, expectLoginFormToken, expectVaryKept, setCookies, varyOf } from './flow.js'

// --- recipe: Fastify (docs/frameworks.md) ---------------------------------------------------------
type LoginData = { username: string }

declare module 'fastify' {
  interface FastifyRequest {
    session: Session<LoginData>
  }
}

/**
 * `request.session`, read on first use (from any hook or handler), committed in `onSend`: for
 * every reply Fastify sends itself, errors and 404s included (not for `reply.hijack()`). With
 * `csrf` (`true` or checkCsrf's options), a `preHandler` hook refuses unsafe requests another site
 * sent (docs/csrf.md); its token comes from the x-csrf-token header or the _csrf form field.
 */
function useSessions(app: FastifyInstance, sessions: Sessions<LoginData>, options: { csrf?: boolean | Omit<CsrfOptions, 'header' | 'field'> } = {}): void {
  const read = new WeakMap<FastifyRequest, Session<LoginData>>()
  app.decorateRequest('session', {
    getter(this: FastifyRequest) {
      let session = read.get(this)
      if (session === undefined) read.set(this, (session = readSession(sessions, this.raw)))
      return session
    },
  })
  const { csrf = false } = options
  if (csrf !== false) {
    // preHandler: after the body parser (a form's _csrf field is in request.body), before the route.
    app.addHook('preHandler', async (request, reply) => {
      if (request.method === 'GET' || request.method === 'HEAD') return // never refused: the session stays unread
      const field = (request.body as Record<string, unknown> | null | undefined)?._csrf
      const refused = checkCsrf(
        {
          method: request.method,
          origin: `${request.protocol}://${request.host}`, // the app's own, as browsers send Origin
          header: (name) => request.headers[name]?.toString(),
          token: request.headers['x-csrf-token']?.toString() ?? (typeof field === 'string' ? field : undefined),
        },
        request.session,
        csrf === true ? undefined : csrf,
      )
      if (refused === undefined) return
      read.delete(request) // nothing to commit: a refused request gets no session cookie
      return reply.code(403).type('text/plain; charset=utf-8').send(`Forbidden: ${refused.code}`)
    })
  }
  app.addHook('onSend', async (request, reply, payload) => {
    const session = read.get(request)
    if (session === undefined) return payload // never read: nothing to write, and no Vary
    // Once: when this throws (or a later onSend hook does), Fastify sends an error reply through
    // onSend again, and the session must not be appended twice nor fail twice.
    read.delete(request)
    const { setCookie, vary } = sessions.commit(session, {
      secure: request.protocol === 'https', // request.protocol follows Fastify's own trustProxy option
      vary: String(reply.getHeader('vary') ?? ''), // the app's Vary, for commit to merge Cookie into
      status: reply.statusCode, // no session cookie on a 5xx: a failed request keeps the session it had
    })
    if (setCookie.length > 0) reply.header('set-cookie', setCookie) // appends to the app's Set-Cookie
    if (vary !== undefined) reply.header('vary', vary) // the app's Vary with Cookie merged in
    return payload
  })
}

function createApp(sessions: Sessions<LoginData>, options: { trustProxy?: boolean } = {}): FastifyInstance {
  const app = Fastify(options)
  useSessions(app, sessions, { csrf: true })
  // What @fastify/formbody does, without the dependency.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

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
  await Promise.all(apps.splice(0).map((app) => app.close()))
})

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

describe('Fastify 5', () => {
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

  it('commits on 4xx replies, never on the 500 of a handler that threw, and turns a session that cannot be stored into a 500', async () => {
    const sessions = createSessions<LoginData>({ secrets, chunking: false })
    const app = createApp(sessions)
    app.get('/fail', async (request) => {
      request.session.username = 'set before the error'
      throw new Error('boom')
    })
    app.get('/refused', async (request, reply) => {
      request.session.username = 'kept on a 4xx'
      return reply.code(403).send('Forbidden')
    })
    app.get('/big', async (request) => {
      request.session.username = randomBytes(8192).toString('hex') // beyond one cookie, chunking off
      return 'stored'
    })
    const origin = await listen(app)

    // A failed request keeps the session the client had: the half-written one does not go out.
    const failed = await fetch(`${origin}/fail`)
    expect(failed.status).toBe(500)
    expect(setCookies(failed)).toEqual([])
    const refused = await fetch(`${origin}/refused`)
    expect(refused.status).toBe(403)
    expect(setCookies(refused).map((cookie) => cookie.name)).toEqual(['session'])

    const missing = await fetch(`${origin}/nowhere`)
    expect(missing.status).toBe(404)
    expect(missing.headers.get('vary')).toBeNull() // nothing read the session

    const big = await fetch(`${origin}/big`)
    expect(big.status).toBe(500)
    expect((await big.json()) as unknown).toMatchObject({ code: 'ERR_SESSION_COOKIE_TOO_LARGE' })
    expect(big.headers.getSetCookie()).toEqual([])
  })

  it('commits once when a later onSend hook fails and Fastify sends the error reply through onSend again', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    const errors: unknown[] = []
    app.addHook('onSend', async (request, _reply, payload) => {
      if (request.url === '/late' && errors.length === 0) throw new Error('late failure')
      return payload
    })
    app.setErrorHandler(async (error, _request, reply) => {
      errors.push(error)
      return reply.code(500).send('handled')
    })
    app.get('/late', async (request) => {
      request.session.username = 'admin'
      return 'ok'
    })
    const origin = await listen(app)
    const response = await fetch(`${origin}/late`)
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('handled')
    expect(errors).toHaveLength(1)
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['session'])
    expect(varyOf(response)).toEqual(['cookie'])
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

  describe('CSRF protection (useSessions with csrf: true)', () => {
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
