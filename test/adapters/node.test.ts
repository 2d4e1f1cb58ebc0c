import { randomBytes } from 'node:crypto'
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { describe, it, expect, expectTypeOf, vi } from 'vitest'
import { commitSession as fetchCommit, type FetchSessionOptions } from '../../src/adapters/fetch.js'
import { commitSession, readSession, sessionMiddleware, withSessions, type NodeSessionOptions, type SessionMiddlewareOptions, type SessionRequest } from '../../src/adapters/node.js'
import { MAX_COOKIE_BYTES } from '../../src/cookie/cookie.js'
import { CookieTooLarge, type SessionError, type SessionErrorCode } from '../../src/errors.js'
import { deriveKeyId } from '../../src/keyring.js'
import { isSession, type Session } from '../../src/session.js'
import { createSessions, type Sessions, type SessionsOptions, type StoredSessions } from '../../src/sessions.js'
import { createSerializer, createSigner } from '../../src/signer.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import {
  CookieJar,
  formPost,
  isDeletion,
  parseSetCookie,
  rawGet,
  readBody,
  startHttpsServer,
  startServer,
  httpsGet,
  useTestServers,
  selfSignedCertificate,
  type TestServer,
} from '../helpers/server.js'

useTestServers()

const SECRET = 'frasco-node-secret-0123456789-abcdefghijklmnop'
const NEW_SECRET = 'frasco-rotated-secret-2468013579-ZYXWVUTSRQPO'
const NOW = Date.UTC(2030, 0, 1)

interface AppData {
  username: string
  blob: string
  visits: number
}
type AppRequest = SessionRequest<AppData>
type Handler = (req: AppRequest, res: ServerResponse) => unknown
type Next = (error?: unknown) => void
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void

/** A mutable clock shared by the server (`clock` option) and the cookie jar. */
function clock(start = NOW): { now: () => number; advance(seconds: number): void } {
  let time = start
  return { now: () => time, advance: (seconds) => void (time += seconds * 1000) }
}

/** Sessions plus the errors onInvalid received. */
function manager(options: Partial<SessionsOptions> = {}): { sessions: Sessions<AppData>; invalid: SessionError[] } {
  const invalid: SessionError[] = []
  const sessions = createSessions<AppData>({ secrets: SECRET, onInvalid: (error) => invalid.push(error), ...options })
  return { sessions, invalid }
}

/** A tiny Connect: runs middlewares in order, then the handler; errors become a 500. */
function chain(middlewares: Middleware[], handler: Handler): RequestListener {
  return (req, res) => {
    let index = 0
    const next: Next = (error) => {
      if (error !== undefined) {
        res.statusCode = 500
        res.end(`error: ${String(error)}`)
        return
      }
      const middleware = middlewares[index++]
      try {
        if (middleware !== undefined) middleware(req, res, next)
        else Promise.resolve(handler(req as AppRequest, res)).catch(next)
      } catch (caught) {
        next(caught)
      }
    }
    next()
  }
}

const LOGIN_FORM = `
        <form method="post">
            <p><input type=text name=username>
            <p><input type=submit value=Login>
        </form>
    `

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Flask's quickstart session example, line for line. */
const tutorial: Handler = async (req, res) => {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost')
  if (pathname === '/') {
    const username = req.session.get('username')
    res.setHeader('Content-Type', 'text/html; charset=utf-8')
    res.end(username !== undefined ? `Logged in as ${escapeHtml(username)}` : 'You are not logged in')
  } else if (pathname === '/login') {
    if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req))
      req.session.set('username', form.get('username') ?? '')
      res.writeHead(303, { Location: '/' }).end()
      return
    }
    res.setHeader('Content-Type', 'text/html; charset=utf-8')
    res.end(LOGIN_FORM)
  } else if (pathname === '/logout') {
    req.session.pop('username')
    res.statusCode = 302
    res.setHeader('Location', '/')
    res.end()
  } else {
    res.statusCode = 404
    res.end('not found')
  }
}

function setCookies(response: Response): ReturnType<typeof parseSetCookie>[] {
  return response.headers.getSetCookie().map(parseSetCookie)
}

/** The session token a response set, or undefined. */
function tokenOf(response: Response, name = 'session'): string | undefined {
  return setCookies(response).find((c) => c.name === name && !isDeletion(c))?.value
}

async function login(server: TestServer, jar: CookieJar, username = 'alice'): Promise<Response> {
  const response = await jar.fetch(server.url('/login'), formPost({ username }))
  expect(response.status).toBe(303)
  return response
}

async function page(server: TestServer, jar: CookieJar, path = '/'): Promise<string> {
  const response = await jar.fetch(server.url(path))
  expect(response.status).toBe(200)
  return response.text()
}

describe.each([
  ['withSessions', (sessions: Sessions<AppData>) => withSessions(sessions, tutorial)],
  ['sessionMiddleware in a Connect-style chain', (sessions: Sessions<AppData>) => chain([sessionMiddleware(sessions)], tutorial)],
])("Flask's tutorial app through %s", (_, mount) => {
  it('logs in, remembers the user, and logs out', async () => {
    const { sessions, invalid } = manager()
    const server = await startServer(mount(sessions))
    const jar = new CookieJar()

    const anonymous = await jar.fetch(server.url('/'))
    expect(anonymous.status).toBe(200)
    expect(await anonymous.text()).toBe('You are not logged in')
    expect(anonymous.headers.getSetCookie()).toEqual([])

    const form = await jar.fetch(server.url('/login'))
    expect(form.status).toBe(200)
    expect(await form.text()).toContain('<input type=text name=username>')
    expect(form.headers.getSetCookie()).toEqual([])

    const posted = await login(server, jar, 'alice')
    expect(posted.headers.get('location')).toBe('/')
    const [cookie, ...rest] = setCookies(posted)
    expect(rest).toEqual([])
    expect(cookie).toMatchObject({ name: 'session', attributes: { path: '/', httponly: true, samesite: 'Lax' } })
    expect(cookie?.attributes.secure).toBeUndefined()
    expect(cookie?.attributes['max-age']).toBeUndefined()
    expect(posted.headers.get('vary')).toBe('Cookie')

    const home = await jar.fetch(server.url('/'))
    expect(await home.text()).toBe('Logged in as alice')
    // Reading the session changes nothing: no cookie is re-sent, but caches must key on Cookie.
    expect(home.headers.getSetCookie()).toEqual([])
    expect(home.headers.get('vary')).toBe('Cookie')

    const logout = await jar.fetch(server.url('/logout'))
    expect(logout.status).toBe(302)
    expect(logout.headers.get('location')).toBe('/')
    const deletions = setCookies(logout)
    expect(deletions.map((c) => [c.name, isDeletion(c)])).toEqual([['session', true]])
    expect(jar.names()).toEqual([])

    expect(await page(server, jar)).toBe('You are not logged in')
    expect(invalid).toEqual([])
  })

  it('escapes the name and keeps two users apart', async () => {
    const { sessions } = manager()
    const server = await startServer(mount(sessions))
    const alice = new CookieJar()
    const mallory = new CookieJar()
    await login(server, alice, 'alice')
    await login(server, mallory, '<script>x</script>')
    expect(await page(server, alice)).toBe('Logged in as alice')
    expect(await page(server, mallory)).toBe('Logged in as &#60;script&#62;x&#60;/script&#62;')
  })

  it('logging out without a session sends no cookie', async () => {
    const { sessions } = manager()
    const server = await startServer(mount(sessions))
    const response = await new CookieJar().fetch(server.url('/logout'))
    expect(response.status).toBe(302)
    expect(response.headers.getSetCookie()).toEqual([])
  })
})

describe('sessionMiddleware: keeping the response headers the app set', () => {
  /** Serves `handler` with and without the middleware, so the two can be compared. */
  async function both(handler: Handler) {
    const { sessions } = manager()
    const withMiddleware = await startServer(chain([sessionMiddleware(sessions)], handler))
    const plain = await startServer((req, res) => {
      // The same handler without sessions: req.session is a throwaway that never commits.
      Object.defineProperty(req, 'session', { value: sessions.read(undefined) })
      void handler(req as AppRequest, res)
    })
    return { withMiddleware, plain }
  }

  function headersWithout(response: Response, names: string[]): Array<[string, string]> {
    const kept: Array<[string, string]> = []
    response.headers.forEach((value, name) => {
      if (!names.includes(name) && name !== 'date' && name !== 'keep-alive' && name !== 'connection') kept.push([name, value])
    })
    return kept
  }

  it.each<[string, Handler]>([
    [
      'res.setHeader before',
      (req, res) => {
        res.setHeader('Set-Cookie', 'theme=dark; Path=/')
        req.session.set('username', 'alice')
        res.end('ok')
      },
    ],
    [
      'res.setHeader with a list before',
      (req, res) => {
        res.setHeader('Set-Cookie', ['theme=dark; Path=/', 'lang=en; Path=/'])
        req.session.set('username', 'alice')
        res.end('ok')
      },
    ],
    [
      'res.appendHeader before',
      (req, res) => {
        res.appendHeader('Set-Cookie', 'theme=dark; Path=/')
        req.session.set('username', 'alice')
        res.end('ok')
      },
    ],
    [
      'writeHead(200, { Set-Cookie })',
      (req, res) => {
        req.session.set('username', 'alice')
        res.writeHead(200, { 'Set-Cookie': 'theme=dark; Path=/', 'Content-Type': 'text/plain' }).end('ok')
      },
    ],
    [
      'writeHead(200, { set-cookie: [list] })',
      (req, res) => {
        req.session.set('username', 'alice')
        res.writeHead(200, { 'set-cookie': ['theme=dark; Path=/', 'lang=en; Path=/'] }).end('ok')
      },
    ],
    [
      "writeHead(200, 'OK', { Set-Cookie })",
      (req, res) => {
        req.session.set('username', 'alice')
        res.writeHead(200, 'OK', { 'Set-Cookie': 'theme=dark; Path=/' }).end('ok')
      },
    ],
    [
      'writeHead(200, [raw array])',
      (req, res) => {
        req.session.set('username', 'alice')
        res.writeHead(200, ['Set-Cookie', 'theme=dark; Path=/', 'Content-Type', 'text/plain', 'Set-Cookie', 'lang=en; Path=/']).end('ok')
      },
    ],
    [
      'setHeader, then writeHead({ Set-Cookie }) replacing it as Node does',
      (req, res) => {
        res.setHeader('Set-Cookie', 'replaced=1; Path=/')
        req.session.set('username', 'alice')
        res.writeHead(200, { 'Set-Cookie': 'theme=dark; Path=/' }).end('ok')
      },
    ],
  ])('keeps cookies set via %s and adds the session cookie', async (_, handler) => {
    const { withMiddleware, plain } = await both(handler)
    const expected = await fetch(plain.url('/'))
    const actual = await fetch(withMiddleware.url('/'))
    expect(actual.status).toBe(200)
    expect(await actual.text()).toBe('ok')
    const appCookies = expected.headers.getSetCookie()
    expect(appCookies.length).toBeGreaterThan(0)
    const cookies = actual.headers.getSetCookie()
    // The app's cookies, untouched and in order, then the session's.
    expect(cookies.slice(0, -1)).toEqual(appCookies)
    expect(parseSetCookie(cookies.at(-1) as string).name).toBe('session')
    expect(headersWithout(actual, ['set-cookie', 'vary'])).toEqual(headersWithout(expected, ['set-cookie', 'vary']))
  })

  it.each<[string, Handler]>([
    [
      'a raw array that overrides a header set before',
      (req, res) => {
        res.setHeader('Content-Type', 'text/html')
        res.setHeader('X-Kept', 'yes')
        req.session.set('username', 'alice')
        res.writeHead(200, ['Content-Type', 'text/plain', 'X-Extra', 'a']).end('ok')
      },
    ],
    [
      'a raw array with repeated names and nothing set before',
      (req, res) => {
        req.session.set('username', 'alice')
        res.writeHead(200, ['X-Extra', 'a', 'X-Extra', 'b', 'Set-Cookie', 'theme=dark; Path=/', 'Set-Cookie', 'lang=en; Path=/']).end('ok')
      },
    ],
    [
      'a raw array whose Set-Cookie overrides one set before',
      (req, res) => {
        res.setHeader('Set-Cookie', 'replaced=1; Path=/')
        req.session.set('username', 'alice')
        res.writeHead(200, ['Set-Cookie', 'theme=dark; Path=/']).end('ok')
      },
    ],
    [
      'a headers object with other casing',
      (req, res) => {
        res.setHeader('content-type', 'text/html')
        req.session.set('username', 'alice')
        res.writeHead(200, { 'CONTENT-TYPE': 'text/plain', 'SET-COOKIE': 'theme=dark; Path=/' }).end('ok')
      },
    ],
  ])('gives writeHead the same meaning as without sessions: %s', async (_, handler) => {
    const { withMiddleware, plain } = await both(handler)
    const expected = await fetch(plain.url('/'))
    const actual = await fetch(withMiddleware.url('/'))
    expect(actual.status).toBe(200)
    expect(headersWithout(actual, ['set-cookie', 'vary'])).toEqual(headersWithout(expected, ['set-cookie', 'vary']))
    const cookies = actual.headers.getSetCookie()
    expect(cookies.slice(0, -1)).toEqual(expected.headers.getSetCookie())
    expect(parseSetCookie(cookies.at(-1) as string).name).toBe('session')
  })

  it('never writes a session cookie into a headers object the app reuses', async () => {
    const { sessions } = manager()
    const HEADERS = Object.freeze({ 'Content-Type': 'text/plain', 'Set-Cookie': 'theme=dark; Path=/', Vary: 'Accept-Encoding' })
    const shared: Record<string, string> = { ...HEADERS }
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name')
        if (name !== null) req.session.set('username', name)
        res.writeHead(200, shared).end(String(req.session.get('username')))
      }),
    )
    const alice = await fetch(server.url('/?name=alice'))
    expect(await alice.text()).toBe('alice')
    expect(alice.headers.getSetCookie()).toHaveLength(2)
    expect(alice.headers.get('vary')).toBe('Accept-Encoding, Cookie')
    expect(shared).toEqual(HEADERS)
    // Bob sends no cookie and gets none: in particular not Alice's.
    const bob = await fetch(server.url('/'))
    expect(await bob.text()).toBe('undefined')
    expect(bob.headers.getSetCookie()).toEqual(['theme=dark; Path=/'])
    expect(shared).toEqual(HEADERS)
  })

  it('commits before headers go out through write() and flushHeaders()', async () => {
    const { sessions } = manager()
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        const { pathname } = new URL(req.url ?? '/', 'http://x')
        req.session.set('username', pathname)
        if (pathname === '/flush') res.flushHeaders()
        else res.write('part 1, ')
        res.end('done')
      }),
    )
    for (const path of ['/write', '/flush']) {
      const jar = new CookieJar()
      const response = await jar.fetch(server.url(path))
      expect(response.status).toBe(200)
      expect(tokenOf(response)).toBeDefined()
      expect(jar.names()).toEqual(['session'])
    }
  })

  it('commits a session whose handler finishes asynchronously, after save(cb) and regenerate(cb)', async () => {
    const { sessions } = manager()
    const server = await startServer(
      chain([sessionMiddleware(sessions)], (req, res) => {
        req.session.regenerate(() => {
          req.session.set('username', 'passport')
          req.session.save(() => {
            setImmediate(() => res.end('saved'))
          })
        })
      }),
    )
    const jar = new CookieJar()
    const response = await jar.fetch(server.url('/'))
    expect(await response.text()).toBe('saved')
    expect(sessions.verify(tokenOf(response) as string)).toMatchObject({ ok: true, value: { username: 'passport' } })
  })
})

describe('sessionMiddleware: Vary', () => {
  /** A handler that reads the session first, then writes the response with `respond`. */
  function readThen(respond: (res: ServerResponse, name: string) => unknown): Handler {
    return (req, res) => {
      const name = String(req.session.get('username'))
      respond(res, name)
    }
  }

  async function varyOf(handler: Handler, cookie?: string): Promise<{ vary: string | null; cookies: string[] }> {
    const { sessions } = manager()
    const server = await startServer(chain([sessionMiddleware(sessions)], handler))
    const response = await fetch(server.url('/'), { headers: cookie === undefined ? {} : { cookie } })
    expect(response.status).toBe(200)
    return { vary: response.headers.get('vary'), cookies: response.headers.getSetCookie() }
  }

  it('adds Vary: Cookie when the session was read', async () => {
    expect((await varyOf((req, res) => res.end(String(req.session.get('username'))))).vary).toBe('Cookie')
    expect((await varyOf((req, res) => res.end(String(req.session.has('username'))))).vary).toBe('Cookie')
    expect((await varyOf((req, res) => res.end(String((req.session as Session<AppData>).username)))).vary).toBe('Cookie')
  })

  it('adds Vary: Cookie when the session was written', async () => {
    const result = await varyOf((req, res) => {
      req.session.set('visits', 1)
      res.end('ok')
    })
    expect(result.vary).toBe('Cookie')
    expect(result.cookies).toHaveLength(1)
  })

  it('adds nothing when the handler never touched req.session', async () => {
    const token = manager().sessions.sign({ username: 'alice' })
    for (const cookie of [undefined, `session=${token}`, 'session=garbage']) {
      expect(await varyOf((_req, res) => res.end('static'), cookie)).toEqual({ vary: null, cookies: [] })
    }
  })

  it.each<[string, Handler, string]>([
    ['already Cookie', (req, res) => (res.setHeader('Vary', 'Cookie'), res.end(String(req.session.get('username')))), 'Cookie'],
    ['already cookie, lower case, in a list', (req, res) => (res.setHeader('Vary', 'Accept-Encoding, cookie'), res.end(String(req.session.get('username')))), 'Accept-Encoding, cookie'],
    ['another field', (req, res) => (res.setHeader('Vary', 'Accept-Encoding'), res.end(String(req.session.get('username')))), 'Accept-Encoding, Cookie'],
    ['a list set as an array', (req, res) => (res.setHeader('Vary', ['Accept', 'Origin']), res.end(String(req.session.get('username')))), 'Accept, Origin, Cookie'],
    ['*', (req, res) => (res.setHeader('Vary', '*'), res.end(String(req.session.get('username')))), '*'],
    ['a field in writeHead', readThen((res, name) => res.writeHead(200, { Vary: 'Accept-Encoding' }).end(name)), 'Accept-Encoding, Cookie'],
    ['a field in writeHead, lower case', readThen((res, name) => res.writeHead(200, { vary: 'Origin' }).end(name)), 'Origin, Cookie'],
    ['a field in writeHead, upper case', readThen((res, name) => res.writeHead(200, { VARY: 'Origin' }).end(name)), 'Origin, Cookie'],
    ['a list in writeHead', readThen((res, name) => res.writeHead(200, { Vary: ['Origin', 'Accept'] }).end(name)), 'Origin, Accept, Cookie'],
    ['Cookie in writeHead', readThen((res, name) => res.writeHead(200, { Vary: 'Cookie' }).end(name)), 'Cookie'],
    ['a field in a raw writeHead array', readThen((res, name) => res.writeHead(200, ['Vary', 'Origin']).end(name)), 'Origin, Cookie'],
    ['a field set before and another in writeHead', readThen((res, name) => (res.setHeader('Vary', 'Accept'), res.writeHead(200, { Vary: 'Origin' }).end(name))), 'Origin, Cookie'],
    ['a field set before and another in a raw array', readThen((res, name) => (res.setHeader('Vary', 'Accept'), res.writeHead(200, ['Vary', 'Origin']).end(name))), 'Origin, Cookie'],
  ])('merges with an existing Vary: %s', async (_, handler, expected) => {
    expect((await varyOf(handler)).vary).toBe(expected)
  })
})

describe('sessionMiddleware: lifetimes with an injected clock', () => {
  it('rolling re-issues the cookie on every response that uses the session', async () => {
    const time = clock()
    const rolling = manager({ clock: time.now, rolling: true })
    const fixed = manager({ clock: time.now })
    const rollingServer = await startServer(withSessions(rolling.sessions, tutorial))
    const fixedServer = await startServer(withSessions(fixed.sessions, tutorial))
    for (const [server, reissues] of [
      [rollingServer, true],
      [fixedServer, false],
    ] as const) {
      const jar = new CookieJar(time.now)
      await login(server, jar)
      for (let i = 0; i < 3; i++) {
        time.advance(1)
        const response = await jar.fetch(server.url('/'))
        expect(await response.text()).toBe('Logged in as alice')
        expect(tokenOf(response) !== undefined).toBe(reissues)
      }
    }
  })

  it('idle timeout: keeps an active session, expires an idle one, re-issues at most every tenth', async () => {
    const time = clock()
    const { sessions, invalid } = manager({ clock: time.now, idleTimeout: 600, clockTolerance: 0 })
    const server = await startServer(withSessions(sessions, tutorial))
    const jar = new CookieJar(time.now)
    await login(server, jar)

    // Every 20 s for 200 s: the cookie is re-issued once 60 s (600 / 10) have passed since it was.
    const reissued: number[] = []
    for (let t = 20; t <= 200; t += 20) {
      time.advance(20)
      const response = await jar.fetch(server.url('/'))
      expect(await response.text()).toBe('Logged in as alice')
      if (tokenOf(response) !== undefined) reissued.push(t)
    }
    expect(reissued).toEqual([60, 120, 180])

    // Idle for just under the timeout since the last re-issue (at 180 s): still logged in.
    time.advance(600 - 20 - 1)
    expect(await page(server, jar)).toBe('Logged in as alice')
    expect(invalid).toEqual([])

    // Idle past the timeout: a fresh session, the reason reported, the dead cookie deleted, 200.
    time.advance(601)
    const expired = await jar.fetch(server.url('/'))
    expect(expired.status).toBe(200)
    expect(await expired.text()).toBe('You are not logged in')
    expect(invalid.map((e) => e.code)).toEqual(['ERR_SESSION_EXPIRED'])
    expect(setCookies(expired).map((c) => [c.name, isDeletion(c)])).toEqual([['session', true]])
  })

  it('lifetime with persistent: the absolute expiry never moves, even with rolling; Max-Age is the remaining lifetime capped by idleTimeout', async () => {
    const time = clock()
    const { sessions, invalid } = manager({ clock: time.now, lifetime: 3600, persistent: true, idleTimeout: 1800, rolling: true, clockTolerance: 0 })
    const server = await startServer(withSessions(sessions, tutorial))
    const jar = new CookieJar(time.now)
    const steps: Array<[elapsed: number, maxAge: string]> = []
    const first = await login(server, jar)
    steps.push([0, setCookies(first)[0]?.attributes['max-age'] as string])
    const replay = tokenOf(first) as string
    for (const elapsed of [1000, 2500, 3500]) {
      time.advance(elapsed - (steps.at(-1)?.[0] ?? 0))
      const response = await jar.fetch(server.url('/'))
      expect(await response.text()).toBe('Logged in as alice')
      const token = tokenOf(response) as string
      const verified = sessions.verify(token)
      expect(verified.ok && verified.expiresAt?.getTime()).toBe(NOW + 3600_000)
      steps.push([elapsed, setCookies(response)[0]?.attributes['max-age'] as string])
    }
    expect(steps).toEqual([
      [0, '1800'],
      [1000, '1800'],
      [2500, '1100'],
      [3500, '100'],
    ])
    // The browser drops the cookie when its Max-Age runs out…
    time.advance(100)
    expect(await page(server, jar)).toBe('You are not logged in')
    expect(invalid).toEqual([])
    // …and the server refuses a replayed copy, however recently it was re-issued.
    const replayed = await fetch(server.url('/'), { headers: { cookie: `session=${replay}` } })
    expect(await replayed.text()).toBe('You are not logged in')
    expect(invalid.map((e) => e.code)).toEqual(['ERR_SESSION_EXPIRED'])
  })

  it('persistent lifetime without idleTimeout: Max-Age counts down the absolute lifetime', async () => {
    const time = clock()
    const { sessions } = manager({ clock: time.now, lifetime: 3600, persistent: true, rolling: true })
    const server = await startServer(withSessions(sessions, tutorial))
    const jar = new CookieJar(time.now)
    expect(setCookies(await login(server, jar))[0]?.attributes['max-age']).toBe('3600')
    time.advance(1000)
    const response = await jar.fetch(server.url('/'))
    expect(setCookies(response)[0]?.attributes['max-age']).toBe('2600')
  })

  it('browser-session cookie (persistent: false): no Max-Age, yet the lifetime still expires it', async () => {
    const time = clock()
    const { sessions, invalid } = manager({ clock: time.now, lifetime: 600, idleTimeout: 300, clockTolerance: 0 })
    const server = await startServer(withSessions(sessions, tutorial))
    const jar = new CookieJar(time.now)
    const first = setCookies(await login(server, jar))[0]
    expect(first?.attributes['max-age']).toBeUndefined()
    expect(first?.attributes.expires).toBeUndefined()
    // Active every 200 s: re-issued (still without Max-Age), never idle…
    for (let i = 0; i < 2; i++) {
      time.advance(200)
      const response = await jar.fetch(server.url('/'))
      expect(await response.text()).toBe('Logged in as alice')
      const cookie = setCookies(response)[0]
      expect(cookie?.name).toBe('session')
      expect(cookie?.attributes['max-age']).toBeUndefined()
    }
    // …but the signed cap of 600 s from login ends it; the jar still holds the cookie.
    time.advance(200)
    expect(jar.names()).toEqual(['session'])
    expect(await page(server, jar)).toBe('You are not logged in')
    expect(invalid.map((e) => e.code)).toEqual(['ERR_SESSION_EXPIRED'])
  })

  it('regenerate() issues a fresh identity with a new expiry and drops the old data', async () => {
    const time = clock()
    const { sessions } = manager({ clock: time.now, lifetime: 3600, persistent: true })
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        if (req.url === '/regenerate') {
          req.session.regenerate()
          req.session.set('visits', 1)
        }
        res.end(JSON.stringify(req.session.toJSON()))
      }),
    )
    const jar = new CookieJar(time.now)
    const first = await login(await startServer(withSessions(sessions, tutorial)), jar)
    const before = sessions.verify(tokenOf(first) as string)
    time.advance(1200)
    const response = await jar.fetch(server.url('/regenerate'))
    expect(await response.json()).toEqual({ visits: 1 })
    expect(setCookies(response)[0]?.attributes['max-age']).toBe('3600')
    const after = sessions.verify(tokenOf(response) as string)
    expect(before.ok && before.expiresAt?.getTime()).toBe(NOW + 3600_000)
    expect(after.ok && after.expiresAt?.getTime()).toBe(NOW + (1200 + 3600) * 1000)
    expect(after.ok && after.issuedAt?.getTime()).toBe(NOW + 1200_000)
  })
})

describe('remember me: session.persistent over HTTP', () => {
  /**
   * `/login` starts a new session and remembers it when asked (`?remember=1`), `/visit` changes it,
   * `/regenerate` starts over without touching `persistent`; every route answers with what the
   * session says.
   */
  const app: Handler = (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost')
    if (pathname === '/login') {
      req.session.regenerate()
      req.session.set('username', 'alice')
      req.session.persistent = (req.url ?? '').includes('remember=1')
    } else if (pathname === '/visit') {
      req.session.set('visits', (req.session.get('visits') ?? 0) + 1)
    } else if (pathname === '/regenerate') {
      req.session.regenerate()
      req.session.set('visits', 1)
    }
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify({ username: req.session.get('username') ?? null, persistent: req.session.persistent }))
  }

  /** What a later request reads from a Set-Cookie value. */
  const readBack = (sessions: Sessions<AppData>, cookie: { value: string } | undefined) => sessions.read(`session=${cookie?.value}`)

  it.each([
    ['remembered', '/login?remember=1', true],
    ['not remembered', '/login', false],
  ] as const)('%s: the cookie, what the next request reads, a later change, and closing the browser', async (_, path, remembered) => {
    const time = clock()
    const { sessions, invalid } = manager({ clock: time.now, lifetime: 3600, clockTolerance: 0 })
    const server = await startServer(withSessions(sessions, app))
    const jar = new CookieJar(time.now)

    // Max-Age is the manager's lifetime for a remembered session; no Max-Age nor Expires otherwise.
    const loggedIn = await jar.fetch(server.url(path))
    expect(await loggedIn.json()).toEqual({ username: 'alice', persistent: remembered })
    const cookies = setCookies(loggedIn)
    expect(cookies.map((c) => c.name)).toEqual(['session'])
    expect(cookies[0]?.attributes['max-age']).toBe(remembered ? '3600' : undefined)
    expect(cookies[0]?.attributes.expires).toBeUndefined()
    expect(readBack(sessions, cookies[0]).persistent).toBe(remembered)

    // The next request reads persistent back from the signed cookie, and has nothing to write.
    time.advance(1000)
    const next = await jar.fetch(server.url('/'))
    expect(await next.json()).toEqual({ username: 'alice', persistent: remembered })
    expect(next.headers.getSetCookie()).toEqual([])

    // A change re-issues the cookie as it was: a remembered one's Max-Age counts down to the
    // expiry signed at login (3600 - 1000), it does not start again.
    const visited = await jar.fetch(server.url('/visit'))
    expect(await visited.json()).toEqual({ username: 'alice', persistent: remembered })
    const [again] = setCookies(visited)
    expect(again?.attributes['max-age']).toBe(remembered ? '2600' : undefined)
    expect(again?.attributes.expires).toBeUndefined()
    expect(readBack(sessions, again).persistent).toBe(remembered)
    const verified = sessions.verify(again?.value ?? '')
    expect(verified.ok && verified.expiresAt?.getTime()).toBe(NOW + 3600_000)

    // Closing the browser keeps only the remembered cookie.
    jar.endBrowserSession()
    expect(jar.names()).toEqual(remembered ? ['session'] : [])
    expect(invalid).toEqual([])
  })

  it.each([false, true])('regenerate() resets persistent to the manager default (persistent: %s)', async (persistent) => {
    const { sessions } = manager({ lifetime: 3600, persistent })
    const server = await startServer(withSessions(sessions, app))
    const jar = new CookieJar()
    // Log in with the other choice than the default, then regenerate.
    const loggedIn = await jar.fetch(server.url(persistent ? '/login' : '/login?remember=1'))
    expect(await loggedIn.json()).toEqual({ username: 'alice', persistent: !persistent })
    const regenerated = await jar.fetch(server.url('/regenerate'))
    expect(await regenerated.json()).toEqual({ username: null, persistent })
    const [cookie] = setCookies(regenerated)
    expect(cookie?.attributes['max-age']).toBe(persistent ? '3600' : undefined)
    expect(readBack(sessions, cookie).persistent).toBe(persistent)
  })

  it('persistent: true on the manager makes new sessions persistent, and a login may still opt out', async () => {
    const time = clock()
    const { sessions } = manager({ clock: time.now, lifetime: 3600, persistent: true })
    const server = await startServer(withSessions(sessions, app))

    // A new session that never assigns persistent.
    const jar = new CookieJar(time.now)
    const first = await jar.fetch(server.url('/visit'))
    expect(await first.json()).toEqual({ username: null, persistent: true })
    expect(setCookies(first)[0]?.attributes['max-age']).toBe('3600')
    time.advance(600)
    expect(await (await jar.fetch(server.url('/'))).json()).toEqual({ username: null, persistent: true })
    jar.endBrowserSession()
    expect(jar.names()).toEqual(['session'])

    // The login route sets persistent = false without ?remember=1: a browser-session cookie.
    const optOut = await fetch(server.url('/login'))
    expect(await optOut.json()).toEqual({ username: 'alice', persistent: false })
    const [cookie] = setCookies(optOut)
    expect(cookie?.attributes['max-age']).toBeUndefined()
    expect(readBack(sessions, cookie).persistent).toBe(false)
  })
})

describe('commitSession: one argument order in both adapters', () => {
  it('takes (sessions, req, res, session, options), positionally', async () => {
    const { sessions } = manager()
    const server = await startServer((req, res) => {
      const session = readSession(sessions, req)
      session.set('username', 'alice')
      commitSession(sessions, req, res, session, { trustProxy: true })
      res.end('ok')
    })
    const response = await fetch(server.url('/'), { headers: { 'x-forwarded-proto': 'https' } })
    const cookies = setCookies(response)
    expect(cookies.map((c) => c.name)).toEqual(['session'])
    // The request (second) and the options (fifth) decided Secure; the session (fourth) was written.
    expect(cookies[0]?.attributes.secure).toBe(true)
    expect(sessions.read(`session=${cookies[0]?.value}`).get('username')).toBe('alice')
    expect(response.headers.get('vary')).toBe('Cookie')
  })

  it('has the same parameter roles, in the same order, as frasco/fetch', () => {
    expectTypeOf(commitSession<AppData>).parameters.toEqualTypeOf<
      | [sessions: Sessions<AppData>, req: IncomingMessage, res: ServerResponse, session: Session<AppData>, options?: NodeSessionOptions]
      | [sessions: StoredSessions<AppData>, req: IncomingMessage, res: ServerResponse, session: Session<AppData>, options?: NodeSessionOptions]
    >()
    expectTypeOf(fetchCommit<AppData, Response>).parameters.toEqualTypeOf<
      | [sessions: Sessions<AppData>, request: Request, target: Response, session: Session<AppData>, options?: FetchSessionOptions]
      | [sessions: StoredSessions<AppData>, request: Request, target: Response, session: Session<AppData>, options?: FetchSessionOptions]
    >()
    type Role<P> = P extends Sessions<AppData>
      ? 'sessions'
      : P extends IncomingMessage | Request
        ? 'request'
        : P extends ServerResponse | Response | Headers
          ? 'response'
          : P extends Session<AppData>
            ? 'session'
            : 'options'
    type RolesOf<P extends readonly unknown[]> = { [K in keyof P]-?: Role<P[K]> }
    type Roles<F extends (...args: never[]) => unknown> = RolesOf<Parameters<F>>
    expectTypeOf<Roles<typeof commitSession<AppData>>>().toEqualTypeOf<['sessions', 'request', 'response', 'session', 'options']>()
    expectTypeOf<Roles<typeof fetchCommit<AppData, Response>>>().toEqualTypeOf<Roles<typeof commitSession<AppData>>>()
  })
})

describe('sessionMiddleware: secret rotation', () => {
  it('re-signs an old cookie under the new key with no app change, then retires the old key', async () => {
    const old = manager({ secrets: SECRET })
    const rotating = manager({ secrets: [NEW_SECRET, SECRET] })
    const rotated = manager({ secrets: NEW_SECRET })
    const oldServer = await startServer(withSessions(old.sessions, tutorial))
    const rotatingServer = await startServer(withSessions(rotating.sessions, tutorial))
    const rotatedServer = await startServer(withSessions(rotated.sessions, tutorial))

    const jar = new CookieJar()
    const oldToken = tokenOf(await login(oldServer, jar)) as string
    expect(oldToken.split('.')[1]).toBe(deriveKeyId(SECRET))

    const reissued = await jar.fetch(rotatingServer.url('/'))
    expect(await reissued.text()).toBe('Logged in as alice')
    const newToken = tokenOf(reissued) as string
    expect(newToken.split('.')[1]).toBe(deriveKeyId(NEW_SECRET))
    // Once re-signed, the rotating server has nothing more to write.
    const again = await jar.fetch(rotatingServer.url('/'))
    expect(await again.text()).toBe('Logged in as alice')
    expect(again.headers.getSetCookie()).toEqual([])

    expect(await page(rotatedServer, jar)).toBe('Logged in as alice')
    const stale = await fetch(rotatedServer.url('/'), { headers: { cookie: `session=${oldToken}` } })
    expect(stale.status).toBe(200)
    expect(await stale.text()).toBe('You are not logged in')
    expect(rotated.invalid.map((e) => e.code)).toEqual(['ERR_SESSION_UNKNOWN_KEY'])
    expect(rotating.invalid).toEqual([])
  })
})

describe('sessionMiddleware: chunked sessions', () => {
  function incompressible(bytes: number): string {
    return randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').slice(0, bytes)
  }

  const blobApp: Handler = (req, res) => {
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://x')
    if (pathname === '/set') req.session.set('blob', searchParams.get('size') === 'small' ? 'small' : incompressible(Number(searchParams.get('size'))))
    if (pathname === '/null') {
      req.session = null
      // A plain property: it reads what was assigned, and the session ends when it is committed.
      res.end(`gone, req.session: ${String(req.session)}`)
      return
    }
    if (pathname === '/destroy') req.session.destroy()
    res.end(pathname === '/destroy' ? `gone, destroyed: ${String(req.session.destroyed)}` : (req.session.get('blob') ?? ''))
  }

  function names(response: Response): Array<[string, boolean]> {
    return setCookies(response).map((c) => [c.name, isDeletion(c)])
  }

  it('round trips a 10 KB session as session.0..N, shrinks to one cookie, grows back', async () => {
    const { sessions, invalid } = manager()
    const server = await startServer(withSessions(sessions, blobApp))
    const jar = new CookieJar()

    const big = await jar.fetch(server.url('/set?size=10000'))
    const blob = await big.text()
    expect(blob).toHaveLength(10_000)
    expect(names(big)).toEqual([
      ['session.0', false],
      ['session.1', false],
      ['session.2', false],
    ])
    for (const header of big.headers.getSetCookie()) expect(Buffer.byteLength(header)).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
    expect(await page(server, jar, '/get')).toBe(blob)

    const small = await jar.fetch(server.url('/set?size=small'))
    expect(names(small)).toEqual([
      ['session', false],
      ['session.0', true],
      ['session.1', true],
      ['session.2', true],
    ])
    expect(jar.names()).toEqual(['session'])
    expect(await page(server, jar, '/get')).toBe('small')

    const grown = await jar.fetch(server.url('/set?size=10000'))
    expect(names(grown)).toEqual([
      ['session.0', false],
      ['session.1', false],
      ['session.2', false],
      ['session', true],
    ])
    expect(jar.names()).toEqual(['session.0', 'session.1', 'session.2'])
    expect(await page(server, jar, '/get')).toBe(await grown.text())
    expect(invalid).toEqual([])
  })

  it.each([
    ['/null', 'gone, req.session: null'],
    ['/destroy', 'gone, destroyed: true'],
  ])('%s deletes the cookie and every chunk', async (path, answer) => {
    const { sessions } = manager()
    const server = await startServer(withSessions(sessions, blobApp))
    const jar = new CookieJar()
    await jar.fetch(server.url('/set?size=10000'))
    expect(jar.names()).toEqual(['session.0', 'session.1', 'session.2'])
    const gone = await jar.fetch(server.url(path))
    expect(await gone.text()).toBe(answer)
    expect(names(gone)).toEqual([
      ['session.0', true],
      ['session.1', true],
      ['session.2', true],
    ])
    expect(jar.names()).toEqual([])

    await jar.fetch(server.url('/set?size=small'))
    const single = await jar.fetch(server.url(path))
    expect(names(single)).toEqual([['session', true]])
    // Nothing to delete: nothing sent.
    const none = await jar.fetch(server.url(path))
    expect(none.headers.getSetCookie()).toEqual([])
  })

  it('deletes chunks stranded behind a missing one', async () => {
    const { sessions, invalid } = manager()
    const server = await startServer(withSessions(sessions, blobApp))
    const jar = new CookieJar()
    await jar.fetch(server.url('/set?size=10000'))
    jar.delete('session.1')
    const response = await jar.fetch(server.url('/get'))
    expect(await response.text()).toBe('')
    expect(invalid.map((e) => e.code)).toEqual(['ERR_SESSION_MALFORMED'])
    expect(names(response)).toEqual([
      ['session.0', true],
      ['session.1', true],
      ['session.2', true],
    ])
    expect(jar.names()).toEqual([])
  })

  it('the explicit API throws CookieTooLarge for a session over 3 chunks, and nothing is sent', async () => {
    const { sessions } = manager()
    const server = await startServer((req, res) => {
      const session = readSession(sessions, req)
      session.set('blob', incompressible(20_000))
      try {
        commitSession(sessions, req, res, session)
        res.end('committed')
      } catch (error) {
        res.statusCode = 413
        res.end(
          JSON.stringify({
            error: (error as Error).name,
            code: (error as CookieTooLarge).code,
            pending: res.getHeader('Set-Cookie') ?? null,
            vary: res.getHeader('Vary') ?? null,
          }),
        )
      }
    })
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(413)
    expect(await response.json()).toEqual({ error: 'CookieTooLarge', code: 'ERR_SESSION_COOKIE_TOO_LARGE', pending: null, vary: null })
    expect(response.headers.getSetCookie()).toEqual([])
  })

  it('the middleware never throws CookieTooLarge out of res.end(): the response becomes a 500 with the app\'s headers, no session cookie, and onError hears of it', async () => {
    const { sessions } = manager()
    const errors: unknown[] = []
    const server = await startServer(
      chain([sessionMiddleware(sessions, { onError: (error, req) => errors.push([error, req.url]) })], (req, res) => {
        req.session.set('blob', incompressible(20_000))
        res.setHeader('Set-Cookie', 'theme=dark; Path=/')
        res.setHeader('X-App', 'kept')
        res.end('the app body')
      }),
    )
    const response = await fetch(server.url('/big?token=x'))
    expect(response.status).toBe(500)
    expect(response.statusText).toBe('Internal Server Error')
    expect(await response.text()).toBe('the app body')
    expect(response.headers.getSetCookie()).toEqual(['theme=dark; Path=/'])
    expect(response.headers.get('x-app')).toBe('kept')
    expect(errors).toHaveLength(1)
    const [error, url] = errors[0] as [CookieTooLarge, string]
    expect(error).toBeInstanceOf(CookieTooLarge)
    expect(error.code).toBe('ERR_SESSION_COOKIE_TOO_LARGE')
    expect(url).toBe('/big?token=x')
  })

  it.each<[string, (res: ServerResponse, send: () => void) => void]>([
    ['res.end() after a timer', (_res, send) => setTimeout(send, 1)],
    ['res.end() in a stream callback', (res, send) => res.write('', send)],
    ['writeHead(200, reason, headers) after a promise', (res, send) => void Promise.resolve().then(() => (res.writeHead(200, 'Fine', { 'X-App': 'kept' }), send()))],
    ['writeHead(200, [raw headers])', (res, send) => (res.writeHead(200, ['X-App', 'kept']), send())],
  ])('a failed commit on an async path (%s) does not crash the process', async (_, respond) => {
    const { sessions } = manager({ chunking: false })
    const errors: unknown[] = []
    const server = await startServer(
      chain([sessionMiddleware(sessions, { onError: (error) => errors.push(error) })], (req, res) => {
        req.session.set('blob', incompressible(5_000))
        respond(res, () => res.end('body'))
      }),
    )
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(500)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(await response.text()).toBe('body')
    expect(errors.map((e) => (e as CookieTooLarge).code)).toEqual(['ERR_SESSION_COOKIE_TOO_LARGE'])
  })

  it('an unstorable value becomes a 500 with its TypeError reported, through withSessions too', async () => {
    const { sessions } = manager()
    const errors: unknown[] = []
    const server = await startServer(
      withSessions(
        sessions,
        (req, res) => {
          req.session.set('username', 'alice')
          req.session.set('callback' as keyof AppData, (() => 1) as never)
          setImmediate(() => res.end('body'))
        },
        { onError: (error) => errors.push(error) },
      ),
    )
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(500)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(TypeError)
    expect((errors[0] as Error).message).toMatch(/callback/)
  })

  it('by default logs a failed commit with its code and the path, never the cookie or the query', async () => {
    const { sessions } = manager({ chunking: false })
    const logged: unknown[][] = []
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args))
    try {
      const good = sessions.sign({ username: 'alice' })
      const server = await startServer(
        chain([sessionMiddleware(sessions)], (req, res) => {
          req.session.set('blob', incompressible(5_000))
          res.end('body')
        }),
      )
      const response = await fetch(server.url('/page?reset=SECRET-TOKEN'), { headers: { cookie: `session=${good}` } })
      expect(response.status).toBe(500)
      expect(logged).toHaveLength(1)
      const line = logged[0]?.map(String).join(' ') ?? ''
      expect(line).toContain('GET /page')
      expect(line).toContain('ERR_SESSION_COOKIE_TOO_LARGE')
      expect(line).not.toContain('SECRET-TOKEN')
      expect(line).not.toContain(good)
    } finally {
      spy.mockRestore()
    }
  })

  it('an onError that throws is swallowed', async () => {
    const { sessions } = manager({ chunking: false })
    const server = await startServer(
      chain([sessionMiddleware(sessions, { onError: () => { throw new Error('reporter down') } })], (req, res) => {
        req.session.set('blob', incompressible(5_000))
        setImmediate(() => res.end('body'))
      }),
    )
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('body')
  })

  it('with chunking: false, a session over 4096 bytes throws CookieTooLarge at commit', async () => {
    const { sessions } = manager({ chunking: false })
    const server = await startServer((req, res) => {
      const session = readSession(sessions, req)
      session.set('blob', incompressible(Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size'))))
      try {
        commitSession(sessions, req, res, session)
        res.end('committed')
      } catch (error) {
        res.statusCode = 413
        res.end(error instanceof CookieTooLarge ? error.code : 'other')
      }
    })
    const tooBig = await fetch(server.url('/?size=5000'))
    expect(tooBig.status).toBe(413)
    expect(await tooBig.text()).toBe('ERR_SESSION_COOKIE_TOO_LARGE')
    expect(tooBig.headers.getSetCookie()).toEqual([])
    const fits = await fetch(server.url('/?size=2000'))
    expect(await fits.text()).toBe('committed')
    expect(setCookies(fits).map((c) => c.name)).toEqual(['session'])
  })

  it('the explicit API refuses an unstorable value with a TypeError naming the key, sending nothing', async () => {
    const { sessions } = manager()
    const server = await startServer((req, res) => {
      const session = readSession(sessions, req)
      session.set('username', 'alice')
      session.set('callback' as keyof AppData, (() => 1) as never)
      try {
        commitSession(sessions, req, res, session)
        res.end('committed')
      } catch (error) {
        res.statusCode = 500
        res.end(`${(error as Error).name}: ${(error as Error).message} | ${String(res.getHeader('Set-Cookie') ?? 'none')}`)
      }
    })
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(text).toMatch(/^TypeError: .*callback.* \| none$/)
    expect(response.headers.getSetCookie()).toEqual([])
  })
})

describe('withSessions: a handler that fails', () => {
  it.each<[string, Handler]>([
    [
      'throws',
      (req) => {
        req.session.set('username', 'half-done')
        throw new Error('boom')
      },
    ],
    [
      'rejects',
      async (req, res) => {
        req.session.set('username', 'half-done')
        res.setHeader('Set-Cookie', 'step=1; Path=/')
        await new Promise((resolve) => setImmediate(resolve))
        throw new Error('boom')
      },
    ],
  ])('answers a plain 500 without committing the half-updated session when the handler %s', async (_, handler) => {
    const { sessions } = manager()
    const errors: unknown[] = []
    const server = await startServer(withSessions(sessions, handler, { onError: (error) => errors.push(error) }))
    const jar = new CookieJar()
    const response = await jar.fetch(server.url('/'))
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('Internal Server Error')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(jar.names()).toEqual([])
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom'])
  })

  it('keeps the session the client had when the handler fails after changing it', async () => {
    const { sessions } = manager()
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        if (req.url === '/login') {
          req.session.set('username', 'alice')
          res.end('ok')
          return
        }
        req.session.clear()
        throw new Error('boom')
      }, { onError: () => {} }),
    )
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'))
    const cookie = jar.header()
    const failed = await jar.fetch(server.url('/fail'))
    expect(failed.status).toBe(500)
    // Neither the cleared session nor a deletion went out.
    expect(failed.headers.getSetCookie()).toEqual([])
    expect(jar.header()).toBe(cookie)
  })
})

describe('node adapter: per-request state', () => {
  it('two managers on one response both commit, also with another writeHead wrapper between them', async () => {
    const a = createSessions<AppData>({ secrets: SECRET, cookie: { name: 'a' } })
    const b = createSessions<AppData>({ secrets: SECRET, cookie: { name: 'b' } })
    const order: string[] = []
    const wrapper: Middleware = (_req, res, next) => {
      // What on-headers (compression, morgan, response-time) does.
      const inner = res.writeHead
      res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
        order.push('wrapper')
        res.setHeader('X-Wrapped', 'yes')
        return (inner as (...a: unknown[]) => ServerResponse).apply(this, args)
      } as ServerResponse['writeHead']
      next()
    }
    const keepA: Middleware = (req, _res, next) => {
      ;(req as IncomingMessage & { a?: Session<AppData> }).a = (req as AppRequest).session
      next()
    }
    for (const between of [[], [wrapper]]) {
      order.length = 0
      const server = await startServer(
        chain([sessionMiddleware(a), keepA, ...between, sessionMiddleware(b)], (req, res) => {
          ;(req as unknown as { a: Session<AppData> }).a.set('username', 'from a')
          req.session.set('username', 'from b')
          res.end('ok')
        }),
      )
      const response = await fetch(server.url('/'))
      expect(response.status).toBe(200)
      expect(a.verify(tokenOf(response, 'a') as string)).toMatchObject({ ok: true, value: { username: 'from a' } })
      expect(b.verify(tokenOf(response, 'b') as string)).toMatchObject({ ok: true, value: { username: 'from b' } })
      expect(response.headers.get('vary')).toBe('Cookie')
      if (between.length > 0) {
        expect(order).toEqual(['wrapper'])
        expect(response.headers.get('x-wrapped')).toBe('yes')
      }
    }
  })

})

describe('node adapter: req.session is a plain property', () => {
  type Mount = (sessions: Sessions<AppData> | StoredSessions<AppData>, handler: Handler, options: SessionMiddlewareOptions) => RequestListener
  const MOUNTS: Array<[string, Mount]> = [
    ['withSessions', (sessions, handler, options) => withSessions(sessions, handler, options)],
    ['sessionMiddleware', (sessions, handler, options) => chain([sessionMiddleware(sessions, options)], handler)],
  ]
  const REPLACED = /^req\.session cannot be replaced: set its keys, call req\.session\.regenerate\(\) for a new session, or assign null to end it$/

  /** A server logged in as alice; what onError receives lands in `reports`. */
  async function loggedIn(mount: Mount, handler: Handler, sessions: Sessions<AppData> | StoredSessions<AppData> = manager().sessions) {
    const reports: unknown[] = []
    const server = await startServer(
      mount(sessions, (req, res) => {
        if (req.url === '/login') {
          req.session.set('username', 'alice')
          res.end('ok')
          return undefined
        }
        return handler(req, res)
      }, { onError: (error) => void reports.push(error) }),
    )
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'))
    return { server, jar, reports, cookie: jar.header() }
  }

  it.each(MOUNTS)('%s: req.session is an own writable data property, and every request shares flash, csrfToken and writeHead', async (_, mount) => {
    const { sessions } = manager()
    const seen: Array<{ descriptor: PropertyDescriptor | undefined; flash: unknown; csrfToken: unknown; writeHead: unknown }> = []
    const server = await startServer(
      mount(sessions, (req, res) => {
        seen.push({ descriptor: Object.getOwnPropertyDescriptor(req, 'session'), flash: req.flash, csrfToken: req.csrfToken, writeHead: res.writeHead })
        res.end(String(req.session.get('username')))
      }, {}),
    )
    await fetch(server.url('/'))
    await fetch(server.url('/'))
    expect(seen).toHaveLength(2)
    for (const { descriptor } of seen) {
      expect(descriptor).toMatchObject({ writable: true, enumerable: true, configurable: true })
      expect(descriptor?.get).toBeUndefined()
      expect(isSession(descriptor?.value)).toBe(true)
    }
    expect(seen[1]?.descriptor?.value).not.toBe(seen[0]?.descriptor?.value)
    expect(typeof seen[0]?.flash).toBe('function')
    expect(seen[1]?.flash).toBe(seen[0]?.flash)
    expect(seen[1]?.csrfToken).toBe(seen[0]?.csrfToken)
    expect(seen[1]?.writeHead).toBe(seen[0]?.writeHead)
  })

  it.each(MOUNTS)('%s: a request that never uses req.session verifies nothing, and inspecting req reads nothing', async (_, mount) => {
    const { sessions, invalid } = manager()
    const shown: string[] = []
    const server = await startServer(
      mount(sessions, (req, res) => {
        shown.push(inspect(req.session), inspect(req, { depth: 0 }))
        if (req.url === '/read') req.session.get('username')
        res.end('static')
      }, {}),
    )
    const tampered = `session=${sessions.sign({ username: 'alice' }).slice(0, -2)}xx`
    const untouched = await fetch(server.url('/'), { headers: { cookie: tampered } })
    expect(untouched.headers.get('vary')).toBeNull()
    expect(untouched.headers.getSetCookie()).toEqual([])
    expect(invalid).toEqual([])
    expect(shown[0]).toBe('Session [not read yet]')
    // The first use verifies: the tampered cookie is rejected and deleted.
    const read = await fetch(server.url('/read'), { headers: { cookie: tampered } })
    expect(invalid.map((error) => error.code)).toEqual(['ERR_SESSION_SIGNATURE_INVALID'])
    expect(read.headers.get('vary')).toBe('Cookie')
    expect(read.headers.getSetCookie().map((cookie) => isDeletion(parseSetCookie(cookie)))).toEqual([true])
  })

  it.each(MOUNTS.flatMap(([name, mount]) => [[name, null, mount], [name, undefined, mount]] as const))(
    '%s: req.session = %s ends the session; req.session then reads what was assigned, and the cookie is deleted',
    async (_, value, mount) => {
      const { server, jar, reports } = await loggedIn(mount, (req, res) => {
        const before = req.session.get('username')
        req.session = value
        res.end(`${String(before)} ${String(req.session)}`)
      })
      const out = await jar.fetch(server.url('/logout'))
      expect(out.status).toBe(200)
      expect(await out.text()).toBe(`alice ${String(value)}`)
      expect(out.headers.getSetCookie().map((cookie) => isDeletion(parseSetCookie(cookie)))).toEqual([true])
      expect(jar.names()).toEqual([])
      expect(reports).toEqual([])
    },
  )

  it.each(MOUNTS)('%s: req.session = null on a session never read still deletes the cookie; without a cookie nothing is sent', async (_, mount) => {
    const { server, jar } = await loggedIn(mount, (req, res) => {
      req.session = null
      res.end('bye')
    })
    const out = await jar.fetch(server.url('/logout'))
    expect(out.headers.getSetCookie().map((cookie) => isDeletion(parseSetCookie(cookie)))).toEqual([true])
    const again = await jar.fetch(server.url('/logout'))
    expect(again.headers.getSetCookie()).toEqual([])
  })

  const REPLACEMENTS: Array<[string, () => unknown]> = [
    ['a plain object', () => ({ username: 'mallory' })],
    ['another session', () => createSessions<AppData>({ secrets: SECRET }).read(undefined)],
    ['a string', () => 'mallory'],
  ]
  it.each(MOUNTS.flatMap(([name, mount]) => REPLACEMENTS.map(([kind, replacement]) => [name, kind, mount, replacement] as const)))('%s: replacing req.session by %s is a 500 without the session cookie, reported to onError', async (_, _kind, mount, replacement) => {
    const { server, jar, reports, cookie } = await loggedIn(mount, (req, res) => {
      req.session.set('username', 'mallory')
      req.session = replacement() as unknown as Session<AppData>
      res.setHeader('Set-Cookie', 'theme=dark; Path=/')
      res.end('body')
    })
    const out = await jar.fetch(server.url('/'))
    expect(out.status).toBe(500)
    // The app's own cookie goes out; the session's does not, and the client keeps its session.
    expect(out.headers.getSetCookie()).toEqual(['theme=dark; Path=/'])
    expect(jar.header()).toBe(`${cookie}; theme=dark`)
    expect(reports).toHaveLength(1)
    expect(reports[0]).toBeInstanceOf(TypeError)
    expect((reports[0] as TypeError).message).toMatch(REPLACED)
  })

  it.each(MOUNTS)('%s: after a replacement, req.flash, req.csrfToken and commitSession throw the TypeError at once', async (_, mount) => {
    const { sessions } = manager()
    const thrown: string[] = []
    const { server, jar, reports } = await loggedIn(mount, (req, res) => {
      req.session = {} as Session<AppData>
      for (const call of [() => req.flash('info', 'x'), () => req.flash(), () => req.csrfToken(), () => commitSession(sessions, req as unknown as IncomingMessage, res, req.session)]) {
        try {
          call()
          thrown.push('nothing')
        } catch (error) {
          thrown.push(error instanceof TypeError ? error.message : String(error))
        }
      }
      res.end('body')
    }, sessions)
    const out = await jar.fetch(server.url('/'))
    expect(thrown).toHaveLength(4)
    for (const message of thrown) expect(message).toMatch(REPLACED)
    expect(out.status).toBe(500)
    expect(out.headers.getSetCookie()).toEqual([])
    expect(reports).toHaveLength(1)
  })

  it('the default onError prints one console.error line naming req.session and the fix, never the session', async () => {
    const { sessions } = manager()
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const server = await startServer(
        withSessions(sessions, (req, res) => {
          req.session.set('username', 'secret-name')
          req.session = { username: 'mallory' } as unknown as Session<AppData>
          res.end('body')
        }),
      )
      const out = await fetch(server.url('/replace?token=abc'))
      expect(out.status).toBe(500)
      expect(errors).toHaveBeenCalledTimes(1)
      const line = String(errors.mock.calls[0]?.[0])
      expect(line).toMatch(/^frasco: the session of GET \/replace could not be committed; sent a 500 without it: TypeError: req\.session cannot be replaced: set its keys, call req\.session\.regenerate\(\)/)
      expect(line).not.toMatch(/secret-name|mallory|token/)
    } finally {
      errors.mockRestore()
    }
  })

  it('req.session = req.session, and reading it again, change nothing', async () => {
    const { server, jar, reports } = await loggedIn(withSessions, (req, res) => {
      const session = req.session
      req.session = session
      req.session.set('visits', 1)
      res.end(String(req.session === session))
    })
    const out = await jar.fetch(server.url('/'))
    expect(await out.text()).toBe('true')
    expect(out.status).toBe(200)
    expect(reports).toEqual([])
  })

  it('with two managers, what the app left on req.session goes to the manager whose session it was', async () => {
    const a = createSessions<AppData>({ secrets: SECRET, cookie: { name: 'a' } })
    const b = createSessions<AppData>({ secrets: SECRET, cookie: { name: 'b' } })
    const reports: unknown[] = []
    const options = { onError: (error: unknown) => void reports.push(error) }
    const app: Middleware = (req, _res, next) => {
      const request = req as unknown as AppRequest
      if (req.url === '/login') request.session.set('username', 'in a')
      if (req.url === '/logout') request.session = null
      if (req.url === '/replace') request.session = {} as Session<AppData>
      next()
    }
    // a, then b (on a router, say), then a mounted again: req.session is a's session again.
    const server = await startServer(
      chain([sessionMiddleware(a, options), app, sessionMiddleware(b, options), sessionMiddleware(a, options)], (req, res) => {
        res.end(String((req.session as Session<AppData> | null)?.get('username')))
      }),
    )
    const jar = new CookieJar()
    const login = await jar.fetch(server.url('/login'))
    expect(await login.text()).toBe('in a')
    expect(jar.names()).toEqual(['a'])
    const replaced = await jar.fetch(server.url('/replace'))
    expect(replaced.status).toBe(500)
    expect(replaced.headers.getSetCookie()).toEqual([])
    expect(reports).toHaveLength(1)
    expect((reports[0] as TypeError).message).toMatch(REPLACED)
    const logout = await jar.fetch(server.url('/logout'))
    expect(await logout.text()).toBe('undefined')
    expect(logout.headers.getSetCookie().map((cookie) => [parseSetCookie(cookie).name, isDeletion(parseSetCookie(cookie))])).toEqual([['a', true]])
    expect(jar.names()).toEqual([])
    expect(reports).toHaveLength(1)
  })

  describe('with a store', () => {
    function stored(): StoredSessions<AppData> {
      return createSessions<AppData>({ secrets: SECRET, store: createMemoryStore() })
    }

    it.each(MOUNTS)('%s: req.session is the loaded session; null ends it, in the store too', async (_, mount) => {
      const sessions = stored()
      const { server, jar, reports, cookie } = await loggedIn(mount, (req, res) => {
        const descriptor = Object.getOwnPropertyDescriptor(req, 'session')
        const loaded = isSession(descriptor?.value) && descriptor?.get === undefined && !inspect(req.session).includes('not read yet')
        req.session = null
        res.end(String(loaded))
      }, sessions)
      const out = await jar.fetch(server.url('/logout'))
      expect(await out.text()).toBe('true')
      expect(out.headers.getSetCookie().map((c) => isDeletion(parseSetCookie(c)))).toEqual([true])
      // The store no longer knows the old cookie's session.
      const replayed = await fetch(server.url('/who'), { headers: { cookie: cookie as string } })
      expect(replayed.headers.getSetCookie().map((c) => isDeletion(parseSetCookie(c)))).toEqual([true])
      expect(reports).toEqual([])
    })

    it.each(MOUNTS)('%s: a replacement is a 500 without the cookie, and nothing is saved', async (_, mount) => {
      const sessions = stored()
      const { server, jar, reports, cookie } = await loggedIn(mount, (req, res) => {
        if (req.url === '/who') {
          res.end(String(req.session.get('username')))
          return
        }
        req.session.set('username', 'mallory')
        req.session = {} as Session<AppData>
        res.end('body')
      }, sessions)
      const out = await jar.fetch(server.url('/'))
      expect(out.status).toBe(500)
      expect(out.headers.getSetCookie()).toEqual([])
      expect(reports).toHaveLength(1)
      expect((reports[0] as TypeError).message).toMatch(REPLACED)
      expect(jar.header()).toBe(cookie)
      expect(await (await jar.fetch(server.url('/who'))).text()).toBe('alice')
    })

    it('req.session = null after the headers went out is reported as a late change', async () => {
      const sessions = stored()
      const { server, jar, reports } = await loggedIn(withSessions, (req, res) => {
        req.session.get('username')
        res.writeHead(200)
        res.write('streamed')
        req.session = null
        res.end()
      }, sessions)
      const out = await jar.fetch(server.url('/'))
      expect(await out.text()).toBe('streamed')
      expect(reports.map((error) => (error as SessionError).code)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT'])
    })
  })
})

describe('sessionMiddleware: Secure, prefixes and proxies', () => {
  it('refuses a __Host- or __Secure- name without secure: true at createSessions', () => {
    for (const cookie of [{ name: '__Host-session' }, { name: '__Host-session', secure: false }, { name: '__Secure-session', secure: 'auto' as const }]) {
      expect(() => createSessions({ secrets: SECRET, cookie })).toThrow(TypeError)
      expect(() => createSessions({ secrets: SECRET, cookie })).toThrow(/^option cookie\.secure is invalid/)
    }
  })

  it('writes a __Host- cookie with Secure and Path=/ and no Domain', async () => {
    const { sessions } = manager({ cookie: { name: '__Host-session', secure: true } })
    const server = await startServer(withSessions(sessions, tutorial))
    const jar = new CookieJar()
    const response = await login(server, jar)
    const [raw, ...rest] = response.headers.getSetCookie()
    expect(rest).toEqual([])
    expect(raw).toMatch(/^__Host-session=f1\.[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
    expect(raw).not.toMatch(/domain/i)
    expect(await page(server, jar)).toBe('Logged in as alice')
  })

  it.each<[string, boolean, Record<string, string>, boolean]>([
    ['plain http', false, {}, false],
    ['plain http with X-Forwarded-Proto but no trustProxy', false, { 'x-forwarded-proto': 'https' }, false],
    ['trustProxy and X-Forwarded-Proto: https', true, { 'x-forwarded-proto': 'https' }, true],
    ['trustProxy and X-Forwarded-Proto: HTTPS, http', true, { 'x-forwarded-proto': 'HTTPS, http' }, true],
    ['trustProxy and X-Forwarded-Proto: http', true, { 'x-forwarded-proto': 'http' }, false],
    ['trustProxy and no header', true, {}, false],
  ])("secure: 'auto' over %s", async (_, trustProxy, headers, secure) => {
    const { sessions } = manager()
    const server = await startServer(chain([sessionMiddleware(sessions, { trustProxy })], tutorial))
    const response = await fetch(server.url('/login'), { ...formPost({ username: 'alice' }), headers: { ...formPost({}).headers, ...headers }, redirect: 'manual' })
    expect(response.status).toBe(303)
    expect(setCookies(response)[0]?.attributes.secure).toBe(secure ? true : undefined)
  })

  it('withSessions and the explicit commitSession honour trustProxy too', async () => {
    const { sessions } = manager()
    const wrapped = await startServer(withSessions(sessions, tutorial, { trustProxy: true }))
    const explicit = await startServer((req, res) => {
      const session = readSession(sessions, req)
      session.set('username', 'alice')
      commitSession(sessions, req, res, session, { trustProxy: true })
      res.end('ok')
    })
    for (const url of [wrapped.url('/login'), explicit.url('/login')]) {
      const response = await fetch(url, { method: 'POST', body: 'username=alice', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' }, redirect: 'manual' })
      expect(setCookies(response)[0]?.attributes.secure).toBe(true)
    }
  })

  it('rejects invalid adapter options', () => {
    const { sessions } = manager()
    expect(() => sessionMiddleware(sessions, { trustProxy: 'yes' as unknown as boolean })).toThrow(/^option trustProxy is invalid: give true/)
    expect(() => withSessions(sessions, tutorial, { trustProxy: 1 as unknown as boolean })).toThrow(/^option trustProxy is invalid: give true/)
    expect(() => sessionMiddleware(sessions, { onError: 'log' as never })).toThrow(/^option onError is invalid: give a function/)
    expect(() => withSessions(sessions, tutorial, { onError: null as never })).toThrow(/^option onError is invalid: give a function/)
    expect(() => sessionMiddleware(sessions, 'trust' as never)).toThrow(/^options are invalid: sessionMiddleware takes an options object/)
    expect(() => withSessions(sessions, tutorial, null as never)).toThrow(/^options are invalid: withSessions takes an options object/)
    const res = {} as ServerResponse
    const session = sessions.read(undefined)
    expect(() => commitSession(sessions, {} as IncomingMessage, res, session, { trustProxy: 'no' as never })).toThrow(/^option trustProxy is invalid/)
  })

  it.each<[string, () => unknown, RegExp]>([
    ['sessionMiddleware', () => sessionMiddleware(manager().sessions, { trustproxy: true } as never), /^option trustproxy is unknown: .*`trustProxy`/],
    ['withSessions', () => withSessions(manager().sessions, tutorial, { onerror: () => {} } as never), /^option onerror is unknown: .*`onError`/],
    ['commitSession', () => commitSession(manager().sessions, {} as IncomingMessage, {} as ServerResponse, manager().sessions.read(undefined), { onError: () => {} } as never), /^option onError is unknown: .*`trustProxy`/],
    ['sessionMiddleware, with a name from another library', () => sessionMiddleware(manager().sessions, { proxy: true } as never), /^option proxy is unknown: .*`trustProxy`/],
  ])('%s refuses an unknown option with a TypeError naming it', (_, call, message) => {
    expect(call).toThrow(TypeError)
    expect(call).toThrow(message)
  })

  const tls = selfSignedCertificate()

  it.skipIf(tls === undefined)("secure: 'auto' over real TLS adds Secure", async () => {
    const { sessions } = manager()
    const server = await startHttpsServer(
      withSessions(sessions, (req, res) => {
        req.session.set('username', 'alice')
        res.end('ok')
      }),
      tls as { key: string; cert: string },
    )
    const response = await httpsGet(server, '/')
    expect(response.status).toBe(200)
    expect(response.setCookies).toHaveLength(1)
    expect(parseSetCookie(response.setCookies[0] as string).attributes.secure).toBe(true)
  })
})

describe('sessionMiddleware: hostile Cookie headers', () => {
  const { sessions: signer } = manager({ clock: () => Date.now() })
  const good = signer.sign({ username: 'alice' })
  const [version, kid, body, tag] = good.split('.') as [string, string, string, string]
  const otherName = createSessions({ secrets: SECRET, cookie: { name: 'other' } }).sign({ username: 'alice' })
  const otherPurpose = createSigner({ secrets: SECRET, purpose: 'csrf' }).sign('{"username":"alice"}')
  // maxBytes raised so the fixture can be written at all: sessions read it with the default cap.
  const serializer = createSerializer({ secrets: SECRET, purpose: 'session:session', maxBytes: 1 << 20 })
  const arrayPayload = serializer.sign(['alice'], { expiresIn: 3600 })
  // Signed by a writer with a larger cap than the reader's 128 KiB (the default writer refuses it).
  const bombWriter = createSerializer({ secrets: SECRET, purpose: 'session:session', maxBytes: 300_000 })
  const zipBomb = bombWriter.sign({ username: 'a'.repeat(200_000) }, { expiresIn: 3600 })
  const expired = signer.sign({ username: 'alice' }, { now: Date.now() - 86_400_000, expiresIn: 3600 })
  const future = signer.sign({ username: 'alice' }, { now: Date.now() + 86_400_000 })

  // Two different chunked sessions, cut into chunk values as a browser would store them.
  function chunksOf(value: string): string[] {
    const session = signer.read(undefined)
    session.set('blob', value)
    return signer.commit(session).setCookie.map((h) => parseSetCookie(h).value)
  }
  const a = chunksOf(randomBytes(7_000).toString('base64'))
  const b = chunksOf(randomBytes(7_000).toString('base64'))
  const [a0, a1, a2] = a as [string, string, string]
  const [b1] = [b[1] as string]

  // The last tag character carries 4 bits and 2 padding bits: flipping a padding bit gives a
  // non-canonical encoding of the same bytes.
  const lastTag = tag.at(-1) as string
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const nonCanonicalTag = tag.slice(0, -1) + (alphabet[alphabet.indexOf(lastTag) ^ 1] as string)
  const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)

  const cases: Array<[name: string, header: string, code: SessionErrorCode | undefined]> = [
    ['garbage', 'session=garbage', 'ERR_SESSION_MALFORMED'],
    ['a tampered body', `session=${version}.${kid}.${flip(body, 10)}.${tag}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a tampered tag', `session=${version}.${kid}.${body}.${flip(tag, 5)}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a non-canonical base64url tag', `session=${version}.${kid}.${body}.${nonCanonicalTag}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a padded body', `session=${version}.${kid}.${body}==.${tag}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a truncated token', `session=${good.slice(0, -10)}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a token cut after the body', `session=${version}.${kid}.${body}`, 'ERR_SESSION_MALFORMED'],
    ['an extra field', `session=${good}.x`, 'ERR_SESSION_MALFORMED'],
    ['an unknown key id', `session=${version}.ZZZZZZZZ.${body}.${tag}`, 'ERR_SESSION_UNKNOWN_KEY'],
    ['an unknown version', `session=f9.${kid}.${body}.${tag}`, 'ERR_SESSION_UNSUPPORTED_VERSION'],
    ["a token of another cookie name", `session=${otherName}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a token of another purpose', `session=${otherPurpose}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a signed payload that is not an object', `session=${arrayPayload}`, 'ERR_SESSION_MALFORMED'],
    ['a signed zip bomb', `session=${zipBomb}`, 'ERR_SESSION_DECOMPRESSION_TOO_LARGE'],
    ['an expired token', `session=${expired}`, 'ERR_SESSION_EXPIRED'],
    ['a future-dated token', `session=${future}`, 'ERR_SESSION_NOT_YET_VALID'],
    ['a token longer than 3 chunks allow', `session=${'A'.repeat(13_000)}`, 'ERR_SESSION_PAYLOAD_TOO_LARGE'],
    ['a ~60 KB header', `pad=${'x'.repeat(60_000)}; session=garbage`, 'ERR_SESSION_MALFORMED'],
    ['a header over 64 KiB (ignored whole)', `pad=${'x'.repeat(70_000)}; session=${good}`, undefined],
    ['thousands of cookies', `${Array.from({ length: 5_000 }, (_, i) => `c${i}=v${i}`).join('; ')}; session=garbage`, 'ERR_SESSION_MALFORMED'],
    ['thousands of chunk cookies', Array.from({ length: 2_000 }, (_, i) => `session.${i}=x`).join('; '), 'ERR_SESSION_PAYLOAD_TOO_LARGE'],
    ['duplicate names, garbage first', `session=garbage; session=${good}`, 'ERR_SESSION_MALFORMED'],
    ['the name in another case', `SESSION=${good}; Session=${good}`, undefined],
    ['a valid token under another name', `other=${good}`, undefined],
    ['empty names and values', '=; =x; session; ;;;  ; =', undefined],
    ['a lone session=', 'session=', undefined],
    ['an empty quoted value', 'session=""', undefined],
    ['a lone quote', 'session="', 'ERR_SESSION_MALFORMED'],
    ['an unbalanced quote before a token', `session="${good}`, 'ERR_SESSION_UNSUPPORTED_VERSION'],
    ['quoted garbage', 'session="garbage"', 'ERR_SESSION_MALFORMED'],
    ['control characters', 'session=f1.\u0001\u001b[31m.\u007f.\u0000', 'ERR_SESSION_UNKNOWN_KEY'],
    ['a NUL-only value', 'session=\u0000', 'ERR_SESSION_MALFORMED'],
    ['latin1 bytes', 'session=\u00ff\u00fe.\u00e9', 'ERR_SESSION_UNSUPPORTED_VERSION'],
    ['invalid percent-encoding', 'session=%E0%A4%A; x=%', 'ERR_SESSION_MALFORMED'],
    ['a percent-encoded token', `session=${encodeURIComponent(good).replaceAll('.', '%2E')}`, 'ERR_SESSION_MALFORMED'],
    ['__proto__ and constructor cookies', `__proto__=${good}; constructor=x; prototype=y; session=__proto__`, 'ERR_SESSION_MALFORMED'],
    ['a __proto__ chunk name', `session.__proto__=x; session.0=${a0}`, 'ERR_SESSION_MALFORMED'],
    ['chunks with swapped values', `session.0=${a1}; session.1=${a0}; session.2=${a2}`, 'ERR_SESSION_UNSUPPORTED_VERSION'],
    ['chunks with the middle one missing', `session.0=${a0}; session.2=${a2}`, 'ERR_SESSION_MALFORMED'],
    ['chunks from two different sessions', `session.0=${a0}; session.1=${b1}; session.2=${a2}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['session.0 only', `session.0=${a0}`, 'ERR_SESSION_MALFORMED'],
    ['chunks plus an empty single cookie', `session=; session.0=${a0}; session.1=${a1}; session.2=${a2}`, undefined],
    ['whitespace inside the value', `session=${good.slice(0, 20)} ${good.slice(20)}`, 'ERR_SESSION_SIGNATURE_INVALID'],
    ['only separators', ';;;;', undefined],
  ]

  it('has a large table', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25)
  })

  it.each(cases)('%s: a fresh session and HTTP 200', async (_, header, code) => {
    const { sessions, invalid } = manager()
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        res.setHeader('Content-Type', 'application/json')
        res.end(JSON.stringify({ isNew: req.session.isNew, keys: req.session.keys(), username: req.session.get('username') ?? null }))
      }),
      // Node itself would answer 400 to control characters and 431 to a 60 KB header; let them
      // through so the session code sees them.
      { insecureHTTPParser: true, maxHeaderSize: 256 * 1024 },
    )
    const needsRaw = /[\u0000-\u0008\u000a-\u001f\u007f]/.test(header)
    let status: number
    let text: string
    let sent: string[]
    if (needsRaw) {
      const response = await rawGet(server, '/', [`Cookie: ${header}`])
      ;({ status, body: text, setCookies: sent } = response)
    } else {
      const response = await fetch(server.url('/'), { headers: { cookie: header } })
      status = response.status
      text = await response.text()
      sent = response.headers.getSetCookie()
    }
    expect(status).toBe(200)
    expect(JSON.parse(text)).toEqual({ isNew: true, keys: [], username: null })
    expect(invalid.map((e) => e.code)).toEqual(code === undefined ? [] : [code])
    // Whatever session cookies were rejected are deleted, and nothing else is written.
    for (const cookie of sent.map(parseSetCookie)) {
      expect(isDeletion(cookie)).toBe(true)
      expect(cookie.name).toMatch(/^session(\.\d+)?$/)
    }
    if (code !== undefined) expect(sent.length).toBeGreaterThan(0)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('username')
  })

  it('a validly signed __proto__ key stays plain data and pollutes nothing', async () => {
    const { sessions } = manager()
    const token = serializer.sign(JSON.parse('{"__proto__":{"polluted":true},"username":"alice"}') as object, { expiresIn: 3600 })
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        res.end(JSON.stringify({ keys: req.session.keys(), proto: req.session.get('__proto__' as keyof AppData) ?? null }))
      }),
    )
    const response = await fetch(server.url('/'), { headers: { cookie: `session=${token}` } })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ keys: ['__proto__', 'username'], proto: { polluted: true } })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('chunks sent in reverse order are reassembled', async () => {
    const { sessions, invalid } = manager()
    const server = await startServer(withSessions(sessions, (req, res) => res.end(String(req.session.get('blob')?.length))))
    const response = await fetch(server.url('/'), { headers: { cookie: `session.2=${a2}; session.1=${a1}; session.0=${a0}` } })
    // base64 of 7000 bytes
    expect(await response.text()).toBe(String(Math.ceil(7_000 / 3) * 4))
    expect(invalid).toEqual([])
  })
})

describe('sessionMiddleware mounted twice with the same manager', () => {
  it('keeps one session and writes one cookie (app-level and router-level mounts)', async () => {
    const { sessions } = manager()
    const middleware = sessionMiddleware(sessions)
    const server = await startServer((req, res) => {
      middleware(req, res, () => {
        ;(req as SessionRequest<AppData>).session.set('username', 'ada')
        middleware(req, res, () => {
          const session = (req as SessionRequest<Record<string, unknown>>).session
          expect(session.get('username')).toBe('ada')
          session.set('visits', 2)
          res.end('ok')
        })
      })
    })
    const response = await fetch(server.url('/'))
    const cookies = response.headers.getSetCookie()
    expect(cookies).toHaveLength(1)
    const value = cookies[0]!.split(';')[0]!.slice('session='.length)
    expect(sessions.verify(value)).toMatchObject({ ok: true, value: { username: 'ada', visits: 2 } })
  })
})
