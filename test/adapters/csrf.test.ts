/**
 * The adapters' `csrf` option over real sockets: an Express app (`sessionMiddleware`, with
 * `express.urlencoded()` before it for the form field), a `withSessions` handler of frasco/node
 * and a `withSessions` handler of frasco/fetch, each with cookie sessions and with a store. A
 * refused request gets a 403 naming the code, no Set-Cookie, never reaches the handler and leaves
 * the session as it was; a same-origin one, or a client with its session's token, goes through.
 */
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import express from 'express'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { withSessions as withFetchSessions } from '../../src/adapters/fetch.js'
import { sessionMiddleware, withSessions, type SessionRequest } from '../../src/adapters/node.js'
import { checkCsrf, csrfToken, type CsrfOptions } from '../../src/csrf.js'
import { CsrfRefused } from '../../src/errors.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions, type StoredSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import { CookieJar, serveFetch, startServer, useTestServers, type TestServer } from '../helpers/server.js'

useTestServers()
afterEach(() => vi.restoreAllMocks())

const secrets = [randomBytes(32).toString('base64url')]

type Kind = 'sessionMiddleware (Express)' | 'withSessions (node)' | 'withSessions (fetch)'
type Mode = 'cookie' | 'store'

interface AppOptions {
  csrf?: boolean | CsrfOptions
  trustProxy?: boolean
  /** Leave onError out: the adapter's default logger runs. */
  defaultOnError?: boolean
}

interface App {
  server: TestServer
  /** `METHOD /path` of every request that reached the handler. */
  ran: string[]
  /** What onError received. */
  errors: unknown[]
}

/** The session's data without its CSRF secret, for comparing before and after. */
function dataOf(session: Session): Record<string, unknown> {
  const data = Object.fromEntries(session.entries())
  delete data._csrf
  return data
}

/**
 * The one app, three ways: GET /token answers a token (`req.csrfToken()`, or `csrfToken(session)`
 * with fetch), GET /state the session's data, and any other method changes the session
 * (`changes` + 1, `note` from the form) and answers `ok <note>`.
 */
function change(session: Session, ran: string[], method: string, note: unknown): string {
  ran.push(`${method} /change`)
  session.set('changes', ((session.get('changes') as number | undefined) ?? 0) + 1)
  if (typeof note === 'string') session.set('note', note)
  return `ok ${typeof note === 'string' ? note : ''}`
}

function nodeRoute(ran: string[]) {
  return (req: SessionRequest, res: ServerResponse, note: unknown): void => {
    res.setHeader('content-type', 'text/plain')
    if (req.method === 'GET' && req.url === '/token') res.end(req.csrfToken())
    else if (req.method === 'GET') res.end(JSON.stringify(dataOf(req.session)))
    else res.end(change(req.session, ran, req.method ?? '', note))
  }
}

async function fetchRoute(request: Request, session: Session, ran: string[]): Promise<Response> {
  const path = new URL(request.url).pathname
  if (request.method === 'GET' && path === '/token') return new Response(csrfToken(session))
  if (request.method === 'GET') return new Response(JSON.stringify(dataOf(session)))
  // The handler can still read the body the check read from a clone.
  const type = request.headers.get('content-type') ?? ''
  const note = /form/.test(type) ? (await request.formData()).get('note') : undefined
  return new Response(change(session, ran, request.method, note))
}

function makeSessions(mode: Mode): Sessions | StoredSessions {
  return mode === 'store' ? createSessions({ secrets, store: createMemoryStore() }) : createSessions({ secrets })
}

async function startApp(kind: Kind, mode: Mode, options: AppOptions = {}): Promise<App> {
  const sessions = makeSessions(mode)
  const ran: string[] = []
  const errors: unknown[] = []
  const onError = options.defaultOnError === true ? {} : { onError: (error: unknown) => errors.push(error) }
  const common = { csrf: options.csrf ?? true, ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }), ...onError }
  const route = nodeRoute(ran)
  if (kind === 'withSessions (fetch)') {
    const handler = withFetchSessions(sessions, (request, session) => fetchRoute(request, session, ran), common)
    return { server: await startServer(serveFetch(handler)), ran, errors }
  }
  if (kind === 'withSessions (node)') {
    return { server: await startServer(withSessions(sessions, (req, res) => route(req, res, undefined), common)), ran, errors }
  }
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(sessionMiddleware(sessions, common))
  app.use((req, res) => route(req as unknown as SessionRequest, res, (req.body as Record<string, unknown> | undefined)?.note))
  return { server: await startServer(app), ran, errors }
}

interface Sent {
  status: number
  body: string
  type: string | null
  setCookie: string[]
  /** Whether this request reached the handler. */
  handled: boolean
  /** What onError received during this request. */
  reported: unknown[]
}

async function send(app: App, jar: CookieJar, method: string, headers: Record<string, string> = {}, body?: RequestInit['body']): Promise<Sent> {
  const ran = app.ran.length
  const reported = app.errors.length
  const response = await jar.fetch(app.server.url('/change'), { method, headers, ...(body === undefined ? {} : { body }) })
  const text = await response.text()
  return {
    status: response.status,
    body: text,
    type: response.headers.get('content-type'),
    setCookie: response.headers.getSetCookie(),
    handled: app.ran.length > ran,
    reported: app.errors.slice(reported),
  }
}

async function state(app: App, jar: CookieJar): Promise<Record<string, unknown>> {
  return JSON.parse(await (await jar.fetch(app.server.url('/state'))).text()) as Record<string, unknown>
}

async function tokenOf(app: App, jar: CookieJar): Promise<string> {
  const response = await jar.fetch(app.server.url('/token'))
  expect(response.status).toBe(200)
  return response.text()
}

function form(fields: Record<string, string>): { headers: Record<string, string>; body: string } {
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() }
}

/** A jar holding a session with data (`changes: 1`), made by a same-origin POST. */
async function loggedIn(app: App): Promise<CookieJar> {
  const jar = new CookieJar()
  expect((await send(app, jar, 'POST', { 'sec-fetch-site': 'same-origin' })).status).toBe(200)
  expect(jar.names()).not.toEqual([])
  app.ran.length = 0
  return jar
}

function expectRefused(sent: Sent, code: string): void {
  expect(sent).toMatchObject({ status: 403, body: `Forbidden: ${code}`, type: 'text/plain; charset=utf-8', setCookie: [], handled: false })
  expect(sent.reported).toHaveLength(1)
  expect(sent.reported[0]).toBeInstanceOf(CsrfRefused)
  expect((sent.reported[0] as CsrfRefused).code).toBe(code)
}

const KINDS: Kind[] = ['sessionMiddleware (Express)', 'withSessions (node)', 'withSessions (fetch)']
const CASES = KINDS.flatMap((kind) => (['cookie', 'store'] as const).map((mode): [Kind, Mode] => [kind, mode]))

describe.each(CASES)('%s, %s sessions', (kind, mode) => {
  it('refuses a cross-site POST: 403, no Set-Cookie, handler not run, session untouched', async () => {
    const app = await startApp(kind, mode)
    const jar = await loggedIn(app)
    const before = await state(app, jar)
    const cookie = jar.header()
    const sent = await send(app, jar, 'POST', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example', ...form({ note: 'pwned' }).headers }, form({ note: 'pwned' }).body)
    expectRefused(sent, 'ERR_SESSION_CSRF_CROSS_SITE')
    expect(jar.header()).toBe(cookie)
    expect(await state(app, jar)).toEqual(before)
    expect(before).toEqual({ changes: 1 })
  })

  it.each(['PUT', 'PATCH', 'DELETE'])('refuses a cross-site %s', async (method) => {
    const app = await startApp(kind, mode)
    expectRefused(await send(app, new CookieJar(), method, { 'sec-fetch-site': 'cross-site' }), 'ERR_SESSION_CSRF_CROSS_SITE')
  })

  it('refuses a same-site POST unless sameSite is on', async () => {
    const app = await startApp(kind, mode)
    expectRefused(await send(app, new CookieJar(), 'POST', { 'sec-fetch-site': 'same-site' }), 'ERR_SESSION_CSRF_CROSS_SITE')
    const lenient = await startApp(kind, mode, { csrf: { sameSite: true } })
    expect((await send(lenient, new CookieJar(), 'POST', { 'sec-fetch-site': 'same-site' })).status).toBe(200)
  })

  it.each(['same-origin', 'none'])('lets Sec-Fetch-Site: %s through, and commits the session', async (site) => {
    const app = await startApp(kind, mode)
    const jar = await loggedIn(app)
    const sent = await send(app, jar, 'POST', { 'sec-fetch-site': site })
    expect(sent.status).toBe(200)
    expect(sent.setCookie.length > 0 || mode === 'store').toBe(true)
    expect(app.ran).toEqual(['POST /change'])
    expect(await state(app, jar)).toEqual({ changes: 2 })
  })

  it('never refuses a GET, whatever its headers', async () => {
    const app = await startApp(kind, mode)
    const response = await new CookieJar().fetch(app.server.url('/state'), { headers: { 'sec-fetch-site': 'cross-site', origin: 'null' } })
    expect(response.status).toBe(200)
    expect(app.errors).toEqual([])
  })

  describe('Origin only (a browser without Fetch Metadata)', () => {
    it("lets the app's own origin through", async () => {
      const app = await startApp(kind, mode)
      const sent = await send(app, new CookieJar(), 'POST', { origin: app.server.origin })
      expect(sent.status).toBe(200)
      expect(app.ran).toEqual(['POST /change'])
    })

    it.each(['https://evil.example', 'null', 'https://127.0.0.1'])('refuses Origin: %s', async (origin) => {
      const app = await startApp(kind, mode)
      const jar = await loggedIn(app)
      expectRefused(await send(app, jar, 'POST', { origin }), 'ERR_SESSION_CSRF_ORIGIN')
      expect(await state(app, jar)).toEqual({ changes: 1 })
    })

    it('lets a listed origin through, with or without Sec-Fetch-Site', async () => {
      const app = await startApp(kind, mode, { csrf: { origins: ['https://admin.example'] } })
      expect((await send(app, new CookieJar(), 'POST', { origin: 'https://admin.example' })).status).toBe(200)
      expect((await send(app, new CookieJar(), 'POST', { origin: 'https://admin.example', 'sec-fetch-site': 'cross-site' })).status).toBe(200)
      expectRefused(await send(app, new CookieJar(), 'POST', { origin: 'https://other.example' }), 'ERR_SESSION_CSRF_ORIGIN')
    })

    it('behind a TLS proxy: the https origin counts only with trustProxy', async () => {
      const https = (app: App) => app.server.origin.replace('http:', 'https:')
      const trusting = await startApp(kind, mode, { trustProxy: true })
      expect((await send(trusting, new CookieJar(), 'POST', { origin: https(trusting), 'x-forwarded-proto': 'https' })).status).toBe(200)
      const plain = await startApp(kind, mode)
      expectRefused(await send(plain, new CookieJar(), 'POST', { origin: https(plain), 'x-forwarded-proto': 'https' }), 'ERR_SESSION_CSRF_ORIGIN')
    })
  })

  describe('no browser headers: the token', () => {
    it('req.csrfToken() / csrfToken(session) issues a token that passes in the header', async () => {
      const app = await startApp(kind, mode)
      const jar = new CookieJar()
      const token = await tokenOf(app, jar)
      expect(token).toMatch(/^[A-Za-z0-9_-]{86}$/)
      expect(jar.names()).not.toEqual([])
      const sent = await send(app, jar, 'POST', { 'x-csrf-token': token })
      expect(sent.status).toBe(200)
      expect(app.ran).toEqual(['POST /change'])
      // Every token of the session passes, not only the last.
      const second = await tokenOf(app, jar)
      expect(second).not.toBe(token)
      expect((await send(app, jar, 'DELETE', { 'x-csrf-token': token })).status).toBe(200)
      expect((await send(app, jar, 'PUT', { 'x-csrf-token': second })).status).toBe(200)
      expect(await state(app, jar)).toEqual({ changes: 3 })
    })

    it('refuses a request without a token as missing, and leaves the session', async () => {
      const app = await startApp(kind, mode)
      const jar = await loggedIn(app)
      await tokenOf(app, jar)
      expectRefused(await send(app, jar, 'POST'), 'ERR_SESSION_CSRF_TOKEN_MISSING')
      expect(await state(app, jar)).toEqual({ changes: 1 })
    })

    it("refuses a forged token and another session's token as invalid", async () => {
      const app = await startApp(kind, mode)
      const jar = new CookieJar()
      const token = await tokenOf(app, jar)
      const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'Q' : 'A'}`
      expectRefused(await send(app, jar, 'POST', { 'x-csrf-token': forged }), 'ERR_SESSION_CSRF_TOKEN_INVALID')
      const attacker = new CookieJar()
      const theirs = await tokenOf(app, attacker)
      expectRefused(await send(app, jar, 'POST', { 'x-csrf-token': theirs }), 'ERR_SESSION_CSRF_TOKEN_INVALID')
      // Without a session at all, no token is valid.
      expectRefused(await send(app, new CookieJar(), 'POST', { 'x-csrf-token': token }), 'ERR_SESSION_CSRF_TOKEN_INVALID')
    })

    it('takes the header the options name', async () => {
      const app = await startApp(kind, mode, { csrf: { header: 'X-XSRF-Token' } })
      const jar = new CookieJar()
      const token = await tokenOf(app, jar)
      expect((await send(app, jar, 'POST', { 'x-xsrf-token': token })).status).toBe(200)
      expectRefused(await send(app, jar, 'POST', { 'x-csrf-token': token }), 'ERR_SESSION_CSRF_TOKEN_MISSING')
    })
  })
})

describe.each<[Kind, Mode]>([
  ['sessionMiddleware (Express)', 'cookie'],
  ['sessionMiddleware (Express)', 'store'],
  ['withSessions (fetch)', 'cookie'],
  ['withSessions (fetch)', 'store'],
])('the form field: %s, %s sessions', (kind, mode) => {
  it('takes the token from the _csrf field of an urlencoded form', async () => {
    const app = await startApp(kind, mode)
    const jar = new CookieJar()
    const token = await tokenOf(app, jar)
    const { headers, body } = form({ _csrf: token, note: 'hello' })
    const sent = await send(app, jar, 'POST', headers, body)
    expect(sent).toMatchObject({ status: 200, body: 'ok hello' })
    expect(await state(app, jar)).toEqual({ changes: 1, note: 'hello' })
    const bad = form({ _csrf: 'nope', note: 'x' })
    expectRefused(await send(app, jar, 'POST', bad.headers, bad.body), 'ERR_SESSION_CSRF_TOKEN_INVALID')
  })

  it('takes the field the options name', async () => {
    const app = await startApp(kind, mode, { csrf: { field: 'authenticity_token' } })
    const jar = new CookieJar()
    const token = await tokenOf(app, jar)
    const good = form({ authenticity_token: token })
    expect((await send(app, jar, 'POST', good.headers, good.body)).status).toBe(200)
    const other = form({ _csrf: token })
    expectRefused(await send(app, jar, 'POST', other.headers, other.body), 'ERR_SESSION_CSRF_TOKEN_MISSING')
  })
})

describe('the form field where the adapter does not read the body', () => {
  it('withSessions (node) reads the header only: a form token is missing', async () => {
    const app = await startApp('withSessions (node)', 'cookie')
    const jar = new CookieJar()
    const { headers, body } = form({ _csrf: await tokenOf(app, jar) })
    expectRefused(await send(app, jar, 'POST', headers, body), 'ERR_SESSION_CSRF_TOKEN_MISSING')
  })

  it('Express without a body parser before the middleware: a form token is missing', async () => {
    const sessions = createSessions({ secrets })
    const errors: unknown[] = []
    const app = express()
    app.use(sessionMiddleware(sessions, { csrf: true, onError: (error) => errors.push(error) }))
    app.get('/token', (req, res) => res.send((req as unknown as SessionRequest).csrfToken()))
    app.post('/change', express.urlencoded({ extended: false }), (_req, res) => res.send('ran'))
    const server = await startServer(app)
    const jar = new CookieJar()
    const token = await (await jar.fetch(server.url('/token'))).text()
    const response = await jar.fetch(server.url('/change'), { method: 'POST', ...form({ _csrf: token }) })
    expect(response.status).toBe(403)
    expect(await response.text()).toBe('Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING')
  })
})

describe('withSessions (fetch): the form body', () => {
  it('takes the token from a multipart form, and the handler still reads the body', async () => {
    for (const mode of ['cookie', 'store'] as const) {
      const app = await startApp('withSessions (fetch)', mode)
      const jar = new CookieJar()
      const data = new FormData()
      data.set('_csrf', await tokenOf(app, jar))
      data.set('note', 'multi')
      const sent = await send(app, jar, 'POST', {}, data)
      expect(sent).toMatchObject({ status: 200, body: 'ok multi' })
    }
  })

  it('a body that is not the form it claims is no token, not a crash', async () => {
    const app = await startApp('withSessions (fetch)', 'cookie')
    const jar = new CookieJar()
    await tokenOf(app, jar)
    const sent = await send(app, jar, 'POST', { 'content-type': 'multipart/form-data; boundary=x' }, 'not multipart at all')
    expectRefused(sent, 'ERR_SESSION_CSRF_TOKEN_MISSING')
  })

  it('a file under the field name is no token', async () => {
    const app = await startApp('withSessions (fetch)', 'cookie')
    const jar = new CookieJar()
    const data = new FormData()
    data.set('_csrf', new Blob([await tokenOf(app, jar)]), 'token.txt')
    expectRefused(await send(app, jar, 'POST', {}, data), 'ERR_SESSION_CSRF_TOKEN_MISSING')
  })
})

describe('req.csrfToken()', () => {
  it('is on every request the middleware sees, even without the csrf option', async () => {
    const sessions = createSessions({ secrets })
    const server = await startServer(withSessions(sessions, (req, res) => res.end(req.csrfToken())))
    const jar = new CookieJar()
    const token = await (await jar.fetch(server.url('/'))).text()
    const session = sessions.read(jar.header())
    expect(session.get('_csrf')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(checkCsrf({ method: 'POST', origin: server.origin, header: () => undefined, token }, session)).toBeUndefined()
  })

  it("uses the csrf option's token scheme", async () => {
    const sessions = createSessions({ secrets })
    const scheme = { issue: () => 'custom', verify: (_: Session, token: string) => token === 'custom' }
    const server = await startServer(withSessions(sessions, (req, res) => res.end(req.csrfToken()), { csrf: { token: scheme } }))
    expect(await (await fetch(server.url('/'))).text()).toBe('custom')
    expect((await fetch(server.url('/'), { method: 'POST', headers: { 'x-csrf-token': 'custom' } })).status).toBe(200)
  })
})

describe('the default onError', () => {
  it.each(KINDS)('%s: one console.warn line with the code, the method and the path', async (kind) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const app = await startApp(kind, 'cookie', { defaultOnError: true })
    const response = await fetch(app.server.url('/change?token=secret'), { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } })
    expect(response.status).toBe(403)
    expect(warn).toHaveBeenCalledTimes(1)
    const line = String(warn.mock.calls[0]?.[0])
    expect(line).toMatch(/^frasco: refused POST \/change as a possible CSRF: ERR_SESSION_CSRF_CROSS_SITE \(Sec-Fetch-Site is cross-site\)$/)
    expect(error).not.toHaveBeenCalled()
  })
})

describe('the csrf option is strict', () => {
  const sessions = createSessions({ secrets })
  const factories: Array<[string, (options: object) => unknown]> = [
    ['sessionMiddleware', (options) => sessionMiddleware(sessions, options)],
    ['withSessions (node)', (options) => withSessions(sessions, () => undefined, options)],
    ['withSessions (fetch)', (options) => withFetchSessions(sessions, () => new Response(), options)],
  ]

  it.each(factories)('%s', (_, make) => {
    expect(() => make({ csrf: true })).not.toThrow()
    expect(() => make({ csrf: false })).not.toThrow()
    expect(() => make({ csrf: { origins: ['https://admin.example'], sameSite: true, field: 'f', header: 'x-h' } })).not.toThrow()
    expect(() => make({ crsf: true })).toThrow(/^option crsf is unknown: /)
    expect(() => make({ csrf: 'yes' })).toThrow(/^option csrf is invalid: give true/)
    expect(() => make({ csrf: null })).toThrow(/^option csrf is invalid: give true/)
    expect(() => make({ csrf: [] })).toThrow(/^option csrf is invalid: give true/)
    expect(() => make({ csrf: { origin: 'https://a.example' } })).toThrow(/^option csrf\.origin is unknown: did you mean `origins`\?/)
    expect(() => make({ csrf: { cookie: true } })).toThrow(/^option csrf\.cookie is unknown: Frasco keeps the CSRF secret in the session/)
    expect(() => make({ csrf: { origins: ['https://a.example/'] } })).toThrow(/^option csrf\.origins is invalid: .*did you mean 'https:\/\/a\.example'\?$/)
    expect(() => make({ csrf: { sameSite: 1 } })).toThrow(/^option csrf\.sameSite is invalid/)
  })
})

describe('types', () => {
  it('req.csrfToken is typed on SessionRequest', () => {
    const handler = (req: SessionRequest): string => req.csrfToken()
    expect(typeof handler).toBe('function')
    // @ts-expect-error csrfToken takes no argument
    const wrong = (req: SessionRequest): string => req.csrfToken('x')
    expect(typeof wrong).toBe('function')
  })
})
