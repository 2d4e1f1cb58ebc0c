/**
 * Issue #12, item 5: what an outside review found in the adapters, in every framework.
 *
 * - A failed request (a 5xx) never persists a half-written session: Express 5's error page, a
 *   plain node:http 500, a Fetch handler's 500 Response.
 * - A change after the headers went out is reported to `onError` as `ChangedAfterCommit`
 *   (`ERR_SESSION_CHANGED_AFTER_COMMIT`), not dropped in silence.
 * - `commitSession` inside the middleware never yields two `Set-Cookie` headers for one cookie.
 * - One rule for `secure: 'auto'`: the connection (node: TLS socket; Fetch: https URL) wins,
 *   `X-Forwarded-Proto` counts only with `trustProxy`, an absolute-form target proves nothing.
 * - Messages and the default loggers name no session value and no Map key.
 */
import { randomBytes } from 'node:crypto'
import type { RequestListener } from 'node:http'
import express, { type ErrorRequestHandler } from 'express'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { withSessions as fetchWithSessions, commitSession as fetchCommit, readSession as fetchRead } from '../../src/adapters/fetch.js'
import { commitSession, sessionMiddleware, withSessions } from '../../src/adapters/node.js'
import { ChangedAfterCommit, isSessionError } from '../../src/errors.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { CookieJar, isDeletion, parseSetCookie, rawGet, startServer, useTestServers } from '../helpers/server.js'
import '../frameworks/express-session.js'

useTestServers()

afterEach(() => {
  vi.restoreAllMocks()
})

const secrets = [randomBytes(32).toString('base64url')]
type Data = { username: string; byEmail: Map<string, unknown> }

function manager(): Sessions<Data> {
  return createSessions<Data>({ secrets })
}

/** What `req.session` holds in the Express apps of the tests (test/frameworks/express-session.ts). */
type ExpressData = Express.Request['session'] extends Session<infer T> ? T : never

function names(response: Response): string[] {
  return response.headers.getSetCookie().map((header) => parseSetCookie(header).name)
}

function codes(errors: unknown[]): unknown[] {
  return errors.map((error) => (isSessionError(error) ? error.code : error instanceof Error ? error.message : error))
}

/** Express 5 with the middleware; `/login` stores a name; the caller adds the failing routes. */
function expressApp<T extends object>(sessions: Sessions<T>, errors: unknown[] = []) {
  const app = express()
  app.use(sessionMiddleware(sessions, { onError: (error) => errors.push(error) }))
  app.get('/login', (req, res) => {
    req.session.username = 'alice'
    res.send('ok')
  })
  app.get('/me', (req, res) => {
    res.send(req.session.username ?? 'anonymous')
  })
  return app
}

describe('a failed request never persists a half-written session', () => {
  it('Express 5: a route that stores a name and then throws (sync or async) sends its 500 without the cookie', async () => {
    const sessions = manager()
    const app = expressApp(sessions)
    app.get('/throws', (req) => {
      req.session.username = 'mallory'
      throw new Error('boom')
    })
    app.get('/rejects', async (req) => {
      req.session.username = 'mallory'
      await Promise.resolve()
      throw new Error('boom')
    })
    app.get('/destroy-throws', (req) => {
      req.session.destroy()
      throw new Error('boom')
    })
    const server = await startServer(app)
    for (const path of ['/throws', '/rejects']) {
      const anonymous = new CookieJar()
      const response = await anonymous.fetch(server.url(path))
      expect(response.status).toBe(500)
      expect(names(response)).toEqual([])
      expect(await (await anonymous.fetch(server.url('/me'))).text()).toBe('anonymous')
    }
    // A logged-in user keeps the session they had: neither the new name nor a deletion goes out.
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'))
    const before = jar.header()
    for (const path of ['/throws', '/destroy-throws']) {
      const response = await jar.fetch(server.url(path))
      expect(response.status).toBe(500)
      expect(names(response)).toEqual([])
      expect(jar.header()).toBe(before)
    }
    expect(await (await jar.fetch(server.url('/me'))).text()).toBe('alice')
  })

  it("Express 5: the app's own error handler answering 500 sends no session cookie either, yet keeps Vary: Cookie", async () => {
    const sessions = manager()
    const app = expressApp(sessions)
    app.get('/throws', (req) => {
      req.session.username = 'mallory'
      throw new Error('boom')
    })
    const handler: ErrorRequestHandler = (_error, _req, res, _next) => {
      res.status(500).send('sorry')
    }
    app.use(handler)
    const server = await startServer(app)
    const response = await fetch(server.url('/throws'))
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('sorry')
    expect(names(response)).toEqual([])
    expect(response.headers.get('vary')).toBe('Cookie')
  })

  it('plain node:http: a 500 or 503 the handler sends itself writes no session cookie; a 4xx does', async () => {
    const sessions = manager()
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        req.session.set('username', 'mallory')
        if (req.url === '/500') {
          res.statusCode = 500
          res.end('failed')
        } else if (req.url === '/503') {
          res.writeHead(503, { 'Retry-After': '1' }).end()
        } else {
          res.statusCode = 400
          res.end('bad')
        }
      }),
    )
    for (const path of ['/500', '/503']) {
      const response = await fetch(server.url(path))
      expect(response.status).toBe(Number(path.slice(1)))
      expect(names(response)).toEqual([])
    }
    expect(names(await fetch(server.url('/400')))).toEqual(['session'])
  })

  it('commitSession is the opt-in: called before a 500, it commits, once', async () => {
    const sessions = manager()
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        req.session.set('username', 'alice')
        commitSession(sessions, req, res, req.session)
        res.statusCode = 500
        res.end('failed, but keep the session')
      }),
    )
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(500)
    expect(names(response)).toEqual(['session'])
  })

  it('fetch withSessions: a 5xx Response carries no session cookie, only Vary; a handler that throws commits nothing', async () => {
    const sessions = manager()
    const handler = fetchWithSessions(sessions, (request, session) => {
      session.set('username', 'mallory')
      if (request.url.endsWith('/throw')) throw new Error('boom')
      return new Response('failed', { status: 502 })
    })
    const response = await handler(new Request('http://app.test/'))
    expect(response.status).toBe(502)
    expect(names(response)).toEqual([])
    expect(response.headers.get('vary')).toBe('Cookie')
    await expect(handler(new Request('http://app.test/throw'))).rejects.toThrow('boom')
  })
})

describe('a change after the headers went out is reported, not dropped', () => {
  it('node withSessions: destroy() after the first write() reaches onError as ChangedAfterCommit', async () => {
    const sessions = manager()
    const errors: unknown[] = []
    let late: unknown
    const server = await startServer(
      withSessions(
        sessions,
        (req, res) => {
          if (req.url === '/login') {
            req.session.set('username', 'alice')
            res.end('ok')
            return
          }
          req.session.get('username')
          res.write('logging out…')
          req.session.destroy()
          late = errors[0]
          res.end()
        },
        { onError: (error) => errors.push(error) },
      ),
    )
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'))
    const response = await jar.fetch(server.url('/logout'))
    expect(await response.text()).toBe('logging out…')
    expect(codes(errors)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT'])
    // Reported at the change itself, so a stack trace points at the line that was too late.
    expect(late).toBeInstanceOf(ChangedAfterCommit)
    expect(jar.names()).toEqual(['session'])
  })

  it('Express 5: a session first read after res.write() and then changed is reported too; reading is not', async () => {
    const sessions = manager()
    const errors: unknown[] = []
    const app = expressApp(sessions, errors)
    app.get('/late-write', (req, res) => {
      res.write('a')
      req.session.username = 'alice'
      res.end()
    })
    app.get('/late-read', (req, res) => {
      res.write('a')
      res.end(req.session.username ?? '')
    })
    const server = await startServer(app)
    await (await fetch(server.url('/late-read'))).text()
    expect(errors).toEqual([])
    await (await fetch(server.url('/late-write'))).text()
    expect(codes(errors)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT'])
  })

  it('node: the default logger prints the code and the request line, never the query or a session value', async () => {
    const sessions = manager()
    const lines: string[] = []
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')))
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        res.write('a')
        req.session.set('username', 'alice@example.com')
        res.end()
      }),
    )
    await (await fetch(server.url('/account?token=s3cret'))).text()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('ERR_SESSION_CHANGED_AFTER_COMMIT')
    expect(lines[0]).toContain('GET /account')
    expect(lines[0]).not.toMatch(/s3cret|alice/)
  })

  it('fetch withSessions: a change while the body streams reaches onError as ChangedAfterCommit', async () => {
    const sessions = manager()
    const errors: Array<[unknown, string]> = []
    const handler = fetchWithSessions(
      sessions,
      (_request, session) => {
        session.get('username')
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            session.set('username', 'alice') // too late: the Set-Cookie is already on the Response
            controller.enqueue(new TextEncoder().encode('streamed'))
            controller.close()
          },
        }, { highWaterMark: 0 }) // nothing is pulled before the body is read
        return new Response(body)
      },
      { onError: (error, request) => errors.push([error, request.url]) },
    )
    const response = await handler(new Request('http://app.test/stream'))
    expect(names(response)).toEqual([])
    expect(await response.text()).toBe('streamed')
    expect(errors.map(([error, url]) => [codes([error])[0], url])).toEqual([['ERR_SESSION_CHANGED_AFTER_COMMIT', 'http://app.test/stream']])
  })

  it('fetch withSessions: the default logger prints the code, the method and the path only', async () => {
    const sessions = manager()
    const lines: string[] = []
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')))
    let session: ReturnType<typeof fetchRead<Data>> | undefined
    const handler = fetchWithSessions(sessions, (_request, current) => {
      session = current
      return new Response('ok')
    })
    await handler(new Request('http://app.test/account?token=s3cret'))
    session?.set('username', 'alice@example.com')
    session?.set('username', 'bob') // reported once
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('ERR_SESSION_CHANGED_AFTER_COMMIT')
    expect(lines[0]).toContain('GET /account')
    expect(lines[0]).not.toMatch(/s3cret|alice|app\.test/)
  })
})

describe('commitSession inside the middleware never yields two Set-Cookie headers for one cookie', () => {
  it('Express 5 and plain node:http: the middleware does not commit again after a manual commitSession', async () => {
    const sessions = createSessions<ExpressData>({ secrets })
    const errors: unknown[] = []
    const app = expressApp(sessions, errors)
    app.get('/manual', (req, res) => {
      req.session.username = 'alice'
      commitSession(sessions, req, res, req.session)
      res.send('ok')
    })
    app.get('/manual-then-change', (req, res) => {
      req.session.username = 'alice'
      commitSession(sessions, req, res, req.session)
      req.session.username = 'bob' // lost: the cookie was already committed; reported
      res.send('ok')
    })
    const server = await startServer(app)
    const response = await fetch(server.url('/manual'))
    expect(names(response)).toEqual(['session'])
    const changed = await fetch(server.url('/manual-then-change'))
    expect(names(changed)).toEqual(['session'])
    expect(sessions.verify(parseSetCookie(changed.headers.getSetCookie()[0] as string).value)).toMatchObject({ ok: true, value: { username: 'alice' } })
    expect(codes(errors)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT'])

    const plain = await startServer(
      withSessions(sessions, (req, res) => {
        req.session.set('username', 'alice')
        commitSession(sessions, req, res, req.session)
        res.end('ok')
      }),
    )
    expect(names(await fetch(plain.url('/')))).toEqual(['session'])
  })

  it('a second manual commitSession is refused, never a second Set-Cookie', async () => {
    const sessions = createSessions<ExpressData>({ secrets })
    const errors: unknown[] = []
    const app = expressApp(sessions, errors)
    app.get('/twice', (req, res) => {
      req.session.username = 'alice'
      commitSession(sessions, req, res, req.session)
      try {
        commitSession(sessions, req, res, req.session)
        res.send('committed twice')
      } catch (error) {
        res.send((error as Error).message)
      }
    })
    const server = await startServer(app)
    const response = await fetch(server.url('/twice'))
    expect(names(response)).toEqual(['session'])
    expect(await response.text()).toMatch(/already committed on this response; commit once/)
  })

  it('a 5xx status given as a string (writeHead("500")) writes no session cookie either', async () => {
    const sessions = createSessions<ExpressData>({ secrets })
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        req.session.set('username', 'alice')
        res.writeHead('500' as unknown as number)
        res.end('failed')
      }),
    )
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(500)
    expect(names(response)).toEqual([])
  })

  it('a logout committed by hand writes one deletion', async () => {
    const sessions = createSessions<ExpressData>({ secrets })
    const app = expressApp(sessions)
    app.get('/logout', (req, res) => {
      req.session.destroy()
      commitSession(sessions, req, res, req.session)
      res.send('bye')
    })
    const server = await startServer(app)
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'))
    const response = await jar.fetch(server.url('/logout'))
    const cookies = response.headers.getSetCookie().map(parseSetCookie)
    expect(cookies.map((cookie) => cookie.name)).toEqual(['session'])
    expect(isDeletion(cookies[0]!)).toBe(true)
  })
})

describe("one rule for secure: 'auto' in both adapters", () => {
  // [what, connection is secure (node: TLS socket; fetch: https URL), X-Forwarded-Proto, trustProxy, Secure?]
  const RULE: Array<[string, boolean, string | undefined, boolean, boolean]> = [
    ['plain http', false, undefined, false, false],
    ['the connection is secure', true, undefined, false, true],
    ['X-Forwarded-Proto: https, untrusted', false, 'https', false, false],
    ['X-Forwarded-Proto: https, trusted', false, 'https', true, true],
    ['X-Forwarded-Proto: https, http (first value counts), trusted', false, 'https, http', true, true],
    ['X-Forwarded-Proto: http cannot downgrade a secure connection', true, 'http', true, true],
  ]

  it.each(RULE)('fetch: %s', (_, secure, forwarded, trustProxy, expected) => {
    const sessions = manager()
    const request = new Request(secure ? 'https://app.test/' : 'http://app.test/', {
      headers: forwarded === undefined ? {} : { 'x-forwarded-proto': forwarded },
    })
    const session = fetchRead(sessions, request)
    session.set('username', 'alice')
    const headers = fetchCommit(sessions, request, new Headers(), session, { trustProxy })
    expect(parseSetCookie(headers.getSetCookie()[0] as string).attributes.secure === true).toBe(expected)
  })

  it.each(RULE.filter(([, secure]) => !secure))('node over plain http: %s', async (_, _secure, forwarded, trustProxy, expected) => {
    const sessions = manager()
    const server = await startServer(
      withSessions(
        sessions,
        (req, res) => {
          req.session.set('username', 'alice')
          res.end('ok')
        },
        { trustProxy },
      ),
    )
    const response = await fetch(server.url('/'), { headers: forwarded === undefined ? {} : { 'x-forwarded-proto': forwarded } })
    expect(parseSetCookie(response.headers.getSetCookie()[0] as string).attributes.secure === true).toBe(expected)
  })

  it('node: an absolute-form target (GET https://… over plain http) proves nothing, and the log shows its path only', async () => {
    const sessions = manager()
    const lines: string[] = []
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')))
    const listener: RequestListener = withSessions(
      sessions,
      (req, res) => {
        req.session.set('username', 'alice')
        res.end(String(req.url))
        req.session.set('username', 'bob') // too late: logged by the default logger
      },
      { trustProxy: true },
    )
    const server = await startServer(listener)
    const response = await rawGet(server, `https://user:pw@127.0.0.1:${server.port}/login?token=s3cret`, [])
    expect(response.body).toBe(`https://user:pw@127.0.0.1:${server.port}/login?token=s3cret`)
    expect(response.setCookies).toHaveLength(1)
    expect(response.setCookies[0]).not.toMatch(/;\s*secure/i)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('GET /login')
    expect(lines[0]).not.toMatch(/user|pw|s3cret|https/)
  })
})

describe('messages and default loggers name no session value and no Map key', () => {
  it('an unstorable value under a Map key is named by its position, not the key', () => {
    const sessions = manager()
    const session = sessions.read(undefined)
    session.set('byEmail', new Map<string, unknown>([['alice@example.com', () => 'not storable']]))
    let message = ''
    try {
      sessions.commit(session)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/^value at session\.byEmail\.values\(\)\[0\] is a function/)
    expect(message).not.toContain('alice')
  })

  it("the node adapter's default logger for a failed commit names the path only", async () => {
    const sessions = manager()
    const lines: string[] = []
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')))
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        req.session.set('byEmail', new Map<string, unknown>([['bob@example.com', 1], ['alice@example.com', Symbol('x')]]))
        res.end('ok')
      }),
    )
    const response = await fetch(server.url('/users?email=alice@example.com'))
    expect(response.status).toBe(500)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('session.byEmail.values()[1]')
    expect(lines[0]).not.toMatch(/alice|bob|example\.com/)
  })
})
