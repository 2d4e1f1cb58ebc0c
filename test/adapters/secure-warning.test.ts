/**
 * The warning for a `Secure` session cookie set on a request that did not arrive over https, for
 * a host a browser does not exempt (localhost and the loopback addresses): the browser drops that
 * cookie and every login is lost without a trace. Both adapters report it to `onError` as
 * `SecureCookieOverHttp` (`ERR_SESSION_SECURE_COOKIE_OVER_HTTP`), once per session manager, and by
 * default print one `console.warn` line. The node side runs over real sockets with a chosen `Host`
 * header (node:http's client sends the one it is given); the Fetch side calls handlers directly.
 */
import { Buffer } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { request as httpRequest, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { afterEach, describe, it, expect, vi } from 'vitest'
import { commitSession as fetchCommit, readSession as fetchRead, withSessions as withFetchSessions } from '../../src/adapters/fetch.js'
import { commitSession, readSession, sessionMiddleware, withSessions, type SessionMiddlewareOptions, type SessionRequest } from '../../src/adapters/node.js'
import { SecureCookieOverHttp, isSessionError } from '../../src/errors.js'
import { insecureCookieWarning, writesSecure } from '../../src/lib/vary.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions, type SessionsOptions } from '../../src/sessions.js'
import { httpsGet, parseSetCookie, selfSignedCertificate, startHttpsServer, startServer, useTestServers, type TestServer } from '../helpers/server.js'

useTestServers()

afterEach(() => {
  vi.restoreAllMocks()
})

const secrets = [randomBytes(32).toString('base64url')]
const CODE = 'ERR_SESSION_SECURE_COOKIE_OVER_HTTP'

function secureSessions(cookie: NonNullable<SessionsOptions['cookie']> = { secure: true }): Sessions {
  return createSessions({ secrets, cookie })
}

/**
 * The app under test: GET /write stores a value, /read only reads, /none never touches the
 * session, /fail stores a value and answers 500.
 */
function route(req: SessionRequest, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0]
  if (path === '/write') req.session.set('n', 1)
  else if (path === '/read') req.session.get('n')
  else if (path === '/fail') {
    req.session.set('n', 1)
    res.statusCode = 500
  }
  res.end('ok')
}

type Reports = Array<{ error: unknown; req: IncomingMessage }>

/** sessionMiddleware in front of {@link route}; what onError receives lands in the returned list. */
async function middlewareApp(sessions: Sessions, options: SessionMiddlewareOptions | 'default' = {}): Promise<{ server: TestServer; reports: Reports }> {
  const reports: Reports = []
  const middleware =
    options === 'default' ? sessionMiddleware(sessions) : sessionMiddleware(sessions, { onError: (error, req) => void reports.push({ error, req }), ...options })
  const server = await startServer((req, res) => {
    middleware(req, res, () => route(req as unknown as SessionRequest, res))
  })
  return { server, reports }
}

interface Reply {
  status: number
  setCookies: string[]
}

/** GET with exactly these headers (Host included: node:http's client sends the one it is given). */
async function get(server: TestServer, path: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: server.port, path, headers, agent: false }, (response) => {
      response.resume()
      response.on('end', () => resolve({ status: response.statusCode ?? 0, setCookies: response.headers['set-cookie'] ?? [] }))
      response.on('error', reject)
    })
    request.on('error', reject)
    request.end()
  })
}

/** An HTTP/1.0 request without a Host header, over a raw socket; resolves with the status line. */
async function getWithoutHost(server: TestServer, path: string): Promise<string> {
  const socket = connect(server.port, '127.0.0.1')
  socket.end(Buffer.from(`GET ${path} HTTP/1.0\r\n\r\n`, 'latin1'))
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  await new Promise<void>((resolve, reject) => {
    socket.on('close', () => resolve())
    socket.on('error', reject)
  })
  return Buffer.concat(chunks).toString('latin1').split('\r\n')[0] ?? ''
}

function isSecureCookie(header: string): boolean {
  return parseSetCookie(header).attributes.secure === true
}

function codes(reports: Reports): unknown[] {
  return reports.map(({ error }) => (error as { code?: unknown }).code)
}

describe('node: a Secure cookie over plain http', () => {
  it('is reported to onError once per manager, as SecureCookieOverHttp naming the host and the fixes', async () => {
    const sessions = secureSessions()
    const { server, reports } = await middlewareApp(sessions)

    const first = await get(server, '/write', { host: 'app.example' })
    // The warning changes nothing in the response: the cookie still goes out, Secure.
    expect(first.status).toBe(200)
    expect(first.setCookies).toHaveLength(1)
    expect(isSecureCookie(first.setCookies[0] as string)).toBe(true)
    expect(reports).toHaveLength(1)
    const { error, req } = reports[0] as Reports[number]
    expect(error).toBeInstanceOf(SecureCookieOverHttp)
    expect(isSessionError(error, CODE)).toBe(true)
    expect((error as SecureCookieOverHttp).code).toBe(CODE)
    const message = (error as Error).message
    expect(message).toContain('a request to app.example did not arrive over https')
    expect(message).toContain('trustProxy: true')
    expect(message).toContain('X-Forwarded-Proto')
    expect(message).toContain("cookie.secure: 'auto'")
    expect(req.headers.host).toBe('app.example')
    expect(req.url).toBe('/write')

    // The second and third such requests: still one report.
    for (let i = 0; i < 2; i++) {
      const again = await get(server, '/write', { host: 'app.example' })
      expect(again.setCookies).toHaveLength(1)
    }
    expect(reports).toHaveLength(1)
  })

  it('names the host without its port', async () => {
    const { server, reports } = await middlewareApp(secureSessions())
    await get(server, '/write', { host: 'app.example:8080' })
    expect((reports[0]?.error as Error).message).toContain('a request to app.example did not arrive over https')
    expect((reports[0]?.error as Error).message).not.toContain('8080')
  })

  it('reports once for each manager: a second manager gets its own report', async () => {
    const one = await middlewareApp(secureSessions())
    const two = await middlewareApp(secureSessions())
    await get(one.server, '/write', { host: 'app.example' })
    await get(one.server, '/write', { host: 'app.example' })
    await get(two.server, '/write', { host: 'other.example' })
    await get(two.server, '/write', { host: 'other.example' })
    expect(codes(one.reports)).toEqual([CODE])
    expect(codes(two.reports)).toEqual([CODE])
    expect((two.reports[0]?.error as Error).message).toContain('to other.example')
  })

  it('reports once for each of two managers on the same request', async () => {
    const reports: Array<[string, unknown]> = []
    const a = sessionMiddleware(createSessions({ secrets, cookie: { secure: true, name: 'a' } }), { onError: (error) => void reports.push(['a', error]) })
    const b = sessionMiddleware(createSessions({ secrets, cookie: { secure: true, name: 'b' } }), { onError: (error) => void reports.push(['b', error]) })
    const server = await startServer((req, res) => {
      a(req, res, () => {
        ;(req as unknown as SessionRequest).session.set('n', 1) // a's session, on req before b attaches
        b(req, res, () => {
          ;(req as unknown as SessionRequest).session.set('n', 2) // b's
          res.end('ok')
        })
      })
    })
    const first = await get(server, '/', { host: 'app.example' })
    expect(first.setCookies.map((header) => parseSetCookie(header).name).sort()).toEqual(['a', 'b'])
    await get(server, '/', { host: 'app.example' })
    expect(reports.map(([name, error]) => [name, (error as SecureCookieOverHttp).code]).sort()).toEqual([
      ['a', CODE],
      ['b', CODE],
    ])
  })

  it.each(['localhost', 'localhost:3000', 'LOCALHOST', '127.0.0.1', '127.0.0.1:8080', '127.1.2.3', '[::1]', '[::1]:3000', 'foo.localhost', 'a.b.localhost:5173'])(
    'is not reported for Host %s, which browsers exempt; the manager can still warn later',
    async (host) => {
      const { server, reports } = await middlewareApp(secureSessions())
      const reply = await get(server, '/write', { host })
      expect(reply.setCookies).toHaveLength(1)
      expect(reports).toEqual([])
      // The exemption did not use up the one warning.
      await get(server, '/write', { host: 'app.example' })
      expect(codes(reports)).toEqual([CODE])
    },
  )

  it.each(['app.example', 'localhost.example.com', 'evil-localhost', 'mylocalhost', '127.0.0.1.nip.io', '10.0.0.1', '192.168.1.10:8080', '[::2]', '[2001:db8::1]'])(
    'is reported for Host %s',
    async (host) => {
      const { server, reports } = await middlewareApp(secureSessions())
      await get(server, '/write', { host })
      expect(codes(reports)).toEqual([CODE])
    },
  )

  it.each<Record<string, string>>([
    { 'x-forwarded-proto': 'https' },
    { 'x-forwarded-proto': 'HTTPS' },
    { 'x-forwarded-proto': 'https, http' },
    { forwarded: 'for=1.2.3.4;proto=https' },
    { forwarded: 'proto=https' },
    { forwarded: 'for=1.2.3.4;proto="https"' },
    { forwarded: 'for=1.2.3.4;Proto=HTTPS;host=app.example' },
    { forwarded: 'for=1.2.3.4, for=5.6.7.8;proto=https' },
  ])('is not reported when a proxy says the browser used https (%j), even without trustProxy', async (headers) => {
    const { server, reports } = await middlewareApp(secureSessions())
    const reply = await get(server, '/write', { host: 'app.example', ...headers })
    expect(reply.setCookies).toHaveLength(1)
    expect(reports).toEqual([])
  })

  it.each<Record<string, string>>([
    { 'x-forwarded-proto': 'http' },
    { 'x-forwarded-proto': 'httpsx' },
    { forwarded: 'for=1.2.3.4;proto=http' },
    { forwarded: 'for=1.2.3.4;host=https' },
  ])('is reported when the proxy headers do not say https (%j)', async (headers) => {
    const { server, reports } = await middlewareApp(secureSessions())
    await get(server, '/write', { host: 'app.example', ...headers })
    expect(codes(reports)).toEqual([CODE])
  })

  it.each<[string, NonNullable<SessionsOptions['cookie']>]>([
    ["secure: 'auto'", { secure: 'auto' }],
    ['secure: false', { secure: false }],
    ['the default (auto)', {}],
  ])('is not reported with cookie %s: the cookie over http is not Secure', async (_, cookie) => {
    const { server, reports } = await middlewareApp(secureSessions(cookie))
    const reply = await get(server, '/write', { host: 'app.example' })
    expect(reply.setCookies).toHaveLength(1)
    expect(isSecureCookie(reply.setCookies[0] as string)).toBe(false)
    expect(reports).toEqual([])
  })

  it("is not reported with cookie.secure 'auto' behind a trusted proxy that says https (the cookie is Secure)", async () => {
    const { server, reports } = await middlewareApp(secureSessions({ secure: 'auto' }), { trustProxy: true })
    const reply = await get(server, '/write', { host: 'app.example', 'x-forwarded-proto': 'https' })
    expect(isSecureCookie(reply.setCookies[0] as string)).toBe(true)
    expect(reports).toEqual([])
  })

  it('is not reported when nothing is written; the first write then is', async () => {
    const sessions = secureSessions()
    const { server, reports } = await middlewareApp(sessions)
    const cookie = `session=${sessions.sign({ n: 1 })}`
    for (const [path, headers] of [
      ['/none', {}],
      ['/read', {}],
      ['/read', { cookie }],
      ['/none', { cookie }],
      ['/fail', {}], // a 5xx writes no session cookie
    ] as Array<[string, Record<string, string>]>) {
      const reply = await get(server, path, { host: 'app.example', ...headers })
      expect(reply.setCookies).toEqual([])
    }
    expect(reports).toEqual([])
    await get(server, '/write', { host: 'app.example' })
    expect(codes(reports)).toEqual([CODE])
  })

  it.each(['app.example<script>', 'app example', 'app.example/evil', "app'example", 'a'.repeat(300), 'app.example\u00e9'])(
    'leaves a Host with junk characters out of the message (%s)',
    async (host) => {
      const { server, reports } = await middlewareApp(secureSessions())
      await get(server, '/write', { host })
      expect(codes(reports)).toEqual([CODE])
      const message = (reports[0]?.error as Error).message
      expect(message).toContain('but a request did not arrive over https')
      expect(message).not.toContain(' to ')
      expect(message).not.toContain('app')
      expect(message).not.toContain('aaaa')
    },
  )

  it('is reported without a host for an HTTP/1.0 request that has none', async () => {
    const { server, reports } = await middlewareApp(secureSessions())
    expect(await getWithoutHost(server, '/write')).toMatch(/^HTTP\/1\.1 200 /)
    expect(codes(reports)).toEqual([CODE])
    expect((reports[0]?.error as Error).message).toContain('but a request did not arrive over https')
  })

  const tls = selfSignedCertificate()

  it.skipIf(tls === undefined)('is not reported over real TLS, whatever the Host and proxy headers say', async () => {
    const reports: unknown[] = []
    const sessions = secureSessions()
    const server = await startHttpsServer(
      withSessions(sessions, (req, res) => route(req, res), { onError: (error) => void reports.push(error) }),
      tls as { key: string; cert: string },
    )
    for (const headers of [{ host: 'app.example' }, { host: 'app.example', 'x-forwarded-proto': 'http' }]) {
      const reply = await httpsGet(server, '/write', headers)
      expect(reply.status).toBe(200)
      expect(reply.setCookies).toHaveLength(1)
      expect(isSecureCookie(reply.setCookies[0] as string)).toBe(true)
    }
    expect(reports).toEqual([])
  })

  it('an onError that throws does not break the response', async () => {
    const sessions = secureSessions()
    let calls = 0
    const middleware = sessionMiddleware(sessions, {
      onError: () => {
        calls++
        throw new Error('reporter down')
      },
    })
    const server = await startServer((req, res) => middleware(req, res, () => route(req as unknown as SessionRequest, res)))
    const reply = await get(server, '/write', { host: 'app.example' })
    expect(reply.status).toBe(200)
    expect(reply.setCookies).toHaveLength(1)
    expect(calls).toBe(1)
  })

  it.each<[string, (sessions: Sessions) => RequestListener]>([
    [
      'sessionMiddleware',
      (sessions) => {
        const middleware = sessionMiddleware(sessions)
        return (req, res) => middleware(req, res, () => route(req as unknown as SessionRequest, res))
      },
    ],
    ['withSessions', (sessions) => withSessions(sessions, route)],
    [
      'commitSession without a middleware',
      (sessions) => (req, res) => {
        const session = readSession(sessions, req)
        session.set('n', 1)
        commitSession(sessions, req, res, session)
        res.end('ok')
      },
    ],
  ])('by default (%s), prints one console.warn line starting with "frasco: warning:" and nothing on console.error', async (_, listener) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const sessions = secureSessions()
    const server = await startServer(listener(sessions))
    for (let i = 0; i < 3; i++) {
      const reply = await get(server, '/write', { host: 'app.example' })
      expect(reply.setCookies).toHaveLength(1)
    }
    expect(warn).toHaveBeenCalledTimes(1)
    const args = warn.mock.calls[0] as unknown[]
    expect(args).toHaveLength(1)
    const line = args[0] as string
    expect(line.startsWith('frasco: warning: ')).toBe(true)
    expect(line).not.toContain('\n')
    expect(line).toContain('a request to app.example did not arrive over https')
    expect(line).toContain(new SecureCookieOverHttp('app.example').message)
    expect(error).not.toHaveBeenCalled()
  })

  it("commitSession on a request the middleware saw reports to the middleware's onError", async () => {
    const sessions = secureSessions()
    const reports: unknown[] = []
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const middleware = sessionMiddleware(sessions, { onError: (error) => void reports.push(error) })
    const server = await startServer((req, res) => {
      middleware(req, res, () => {
        const session = (req as unknown as SessionRequest).session
        session.set('n', 1)
        commitSession(sessions, req, res, session)
        res.end('ok')
      })
    })
    const reply = await get(server, '/', { host: 'app.example' })
    expect(reply.setCookies).toHaveLength(1)
    expect(reports.map((error) => (error as SecureCookieOverHttp).code)).toEqual([CODE])
    expect(warn).not.toHaveBeenCalled()
  })
})

describe('fetch: a Secure cookie over plain http', () => {
  function writer(): (request: Request, session: Session) => Response {
    return (_request, session) => {
      session.set('n', 1)
      return new Response('ok')
    }
  }

  it('is reported to withSessions\' onError once per manager, with the Request', async () => {
    const sessions = secureSessions()
    const reports: Array<[unknown, Request]> = []
    const handle = withFetchSessions(sessions, writer(), { onError: (error, request) => void reports.push([error, request]) })
    const request = new Request('http://app.example/')
    const response = await handle(request)
    expect(response.headers.getSetCookie()).toHaveLength(1)
    expect(isSecureCookie(response.headers.getSetCookie()[0] as string)).toBe(true)
    expect(reports).toHaveLength(1)
    const [error, seen] = reports[0] as [unknown, Request]
    expect(error).toBeInstanceOf(SecureCookieOverHttp)
    expect((error as SecureCookieOverHttp).code).toBe(CODE)
    expect((error as Error).message).toContain('a request to app.example did not arrive over https')
    expect(seen).toBe(request)

    await handle(new Request('http://app.example/again'))
    await handle(new Request('http://other.example:8080/'))
    expect(reports).toHaveLength(1)

    // A second manager: its own report.
    const other: unknown[] = []
    await withFetchSessions(secureSessions(), writer(), { onError: (e) => void other.push(e) })(new Request('http://app.example/'))
    expect(other.map((e) => (e as SecureCookieOverHttp).code)).toEqual([CODE])
  })

  it('commitSession without onError prints one console.warn line, once per manager, and nothing on console.error', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const sessions = secureSessions()
    for (let i = 0; i < 3; i++) {
      const request = new Request('http://app.example:8080/login')
      const session = fetchRead(sessions, request)
      session.set('n', i)
      const response = fetchCommit(sessions, request, new Response('ok'), session)
      expect(response.headers.getSetCookie()).toHaveLength(1)
    }
    expect(warn).toHaveBeenCalledTimes(1)
    const args = warn.mock.calls[0] as unknown[]
    expect(args).toHaveLength(1)
    expect((args[0] as string).startsWith('frasco: warning: ')).toBe(true)
    expect(args[0]).toBe(`frasco: warning: ${new SecureCookieOverHttp('app.example').message}`)
    expect(error).not.toHaveBeenCalled()
  })

  it('withSessions without onError prints the console.warn line, and nothing on console.error', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const handle = withFetchSessions(secureSessions(), writer())
    await handle(new Request('http://app.example/'))
    await handle(new Request('http://app.example/'))
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/^frasco: warning: the session cookie is Secure but a request to app\.example did not arrive over https/)
    expect(error).not.toHaveBeenCalled()
  })

  it.each(['https://app.example/', 'https://app.example:8443/x', 'http://localhost/', 'http://localhost:3000/', 'http://127.0.0.1:8080/', 'http://[::1]/', 'http://foo.localhost/'])(
    'never warns for %s',
    async (url) => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      const reports: unknown[] = []
      const sessions = secureSessions()
      const response = await withFetchSessions(sessions, writer(), { onError: (e) => void reports.push(e) })(new Request(url))
      expect(response.headers.getSetCookie()).toHaveLength(1)
      const request = new Request(url)
      const session = fetchRead(sessions, request)
      session.set('n', 2)
      fetchCommit(sessions, request, new Response('ok'), session)
      expect(reports).toEqual([])
      expect(warn).not.toHaveBeenCalled()
    },
  )

  it.each<Record<string, string>>([{ 'x-forwarded-proto': 'https' }, { forwarded: 'for=1.2.3.4;proto=https' }])(
    'does not warn when a proxy says the browser used https (%j)',
    async (headers) => {
      const reports: unknown[] = []
      await withFetchSessions(secureSessions(), writer(), { onError: (e) => void reports.push(e) })(new Request('http://app.example/', { headers }))
      expect(reports).toEqual([])
    },
  )

  it('does not warn when nothing is written, nor with cookie.secure auto', async () => {
    const reports: unknown[] = []
    const sessions = secureSessions()
    const quiet = withFetchSessions(sessions, (_request, session) => new Response(String(session.get('n'))), { onError: (e) => void reports.push(e) })
    await quiet(new Request('http://app.example/'))
    await quiet(new Request('http://app.example/', { headers: { cookie: `session=${sessions.sign({ n: 1 })}` } }))
    const auto = withFetchSessions(secureSessions({ secure: 'auto' }), writer(), { onError: (e) => void reports.push(e) })
    const response = await auto(new Request('http://app.example/'))
    expect(isSecureCookie(response.headers.getSetCookie()[0] as string)).toBe(false)
    expect(reports).toEqual([])
    // Nothing above used up the warning.
    await withFetchSessions(sessions, writer(), { onError: (e) => void reports.push(e) })(new Request('http://app.example/'))
    expect(reports.map((e) => (e as SecureCookieOverHttp).code)).toEqual([CODE])
  })

  it('is once per manager across adapters: warned through frasco/fetch, it is not warned again through frasco/node', async () => {
    const sessions = secureSessions()
    const fetchReports: unknown[] = []
    await withFetchSessions(sessions, writer(), { onError: (e) => void fetchReports.push(e) })(new Request('http://app.example/'))
    expect(fetchReports).toHaveLength(1)
    const { server, reports } = await middlewareApp(sessions)
    await get(server, '/write', { host: 'app.example' })
    expect(reports).toEqual([])
  })
})

describe('the decision: from what the commit asked for, not from the Set-Cookie text', () => {
  it.each<[boolean]>([[true], [false]])("with cookie.secure 'auto', a cookie is Secure when the adapter asked for it (asked %s)", (asked) => {
    const sessions = secureSessions({ secure: 'auto' })
    expect(sessions.secure).toBe('auto')
    const session = sessions.read(undefined)
    session.set('n', 1)
    const { setCookie } = sessions.commit(session, { secure: asked })
    expect(isSecureCookie(setCookie[0] as string)).toBe(asked)
    expect(writesSecure(sessions, asked)).toBe(asked)
  })

  it.each<[string, NonNullable<SessionsOptions['cookie']>, boolean]>([
    ['secure: true', { secure: true }, true],
    ['secure: false', { secure: false }, false],
  ])('with cookie %s, every cookie of the manager is as the option says, whatever the adapter asked for', (_, cookie, expected) => {
    const sessions = secureSessions(cookie)
    expect(sessions.secure).toBe(expected)
    const session = sessions.read(undefined)
    session.set('n', 1)
    const { setCookie } = sessions.commit(session)
    expect(setCookie).toHaveLength(1)
    expect(isSecureCookie(setCookie[0] as string)).toBe(expected)
    for (const asked of [true, false, undefined]) expect(writesSecure(sessions, asked)).toBe(expected)
  })

  it('insecureCookieWarning warns for a Secure cookie only, once per manager, and never over TLS', () => {
    const manager = {}
    expect(insecureCookieWarning(manager, false, false, undefined, undefined, 'app.example')).toBeUndefined()
    expect(insecureCookieWarning(manager, true, true, undefined, undefined, 'app.example')).toBeUndefined()
    expect(insecureCookieWarning(manager, true, false, 'https', undefined, 'app.example')).toBeUndefined()
    expect(insecureCookieWarning(manager, true, false, undefined, 'proto=https', 'app.example')).toBeUndefined()
    expect(insecureCookieWarning(manager, true, false, undefined, undefined, 'localhost:3000')).toBeUndefined()
    const warning = insecureCookieWarning(manager, true, false, 'http', undefined, 'app.example:8080')
    expect(warning).toBeInstanceOf(SecureCookieOverHttp)
    expect(warning?.message).toContain('a request to app.example did not arrive over https')
    expect(insecureCookieWarning(manager, true, false, 'http', undefined, 'app.example')).toBeUndefined()
  })
})
