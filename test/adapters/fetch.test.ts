import { randomBytes } from 'node:crypto'
import { describe, it, expect, expectTypeOf } from 'vitest'
import { commitSession, readSession, withSessions, type FetchSessionOptions } from '../../src/adapters/fetch.js'
import { CookieTooLarge, type SessionError } from '../../src/errors.js'
import { createSession, type Session } from '../../src/session.js'
import { createSessions, type Sessions, type SessionsOptions, type StoredSessions } from '../../src/sessions.js'
import { CookieJar, formPost, isDeletion, parseSetCookie, serveFetch, startServer, useTestServers } from '../helpers/server.js'

useTestServers()

const SECRET = 'frasco-fetch-secret-0123456789-abcdefghijklmnop'
const ORIGIN = 'http://app.test'

interface AppData {
  username: string
  blob: string
}

function manager(options: Partial<SessionsOptions> = {}): { sessions: Sessions<AppData>; invalid: SessionError[] } {
  const invalid: SessionError[] = []
  const sessions = createSessions<AppData>({ secrets: SECRET, onInvalid: (error) => invalid.push(error), ...options })
  return { sessions, invalid }
}

function request(path: string, init: RequestInit & { cookie?: string | undefined } = {}): Request {
  const headers = new Headers(init.headers)
  if (init.cookie !== undefined) headers.set('cookie', init.cookie)
  return new Request(new URL(path, ORIGIN), { ...init, headers })
}

function cookiesOf(source: Headers | Response): ReturnType<typeof parseSetCookie>[] {
  const headers = source instanceof Headers ? source : source.headers
  return headers.getSetCookie().map(parseSetCookie)
}

/** Flask's quickstart session example as a Fetch handler. */
async function tutorial(req: Request, session: Session<AppData>): Promise<Response> {
  const url = new URL(req.url)
  if (url.pathname === '/') {
    const username = session.get('username')
    return new Response(username !== undefined ? `Logged in as ${username}` : 'You are not logged in', {
      headers: { 'content-type': 'text/html; charset=utf-8' },
    })
  }
  if (url.pathname === '/login') {
    if (req.method === 'POST') {
      const form = new URLSearchParams(await req.text())
      session.set('username', form.get('username') ?? '')
      return Response.redirect(new URL('/', url), 303)
    }
    return new Response('<form method="post"><p><input type=text name=username><p><input type=submit value=Login></form>', {
      headers: { 'content-type': 'text/html; charset=utf-8' },
    })
  }
  if (url.pathname === '/logout') {
    session.pop('username')
    return Response.redirect(new URL('/', url), 302)
  }
  return new Response('not found', { status: 404 })
}

describe('fetch adapter: readSession', () => {
  it('reads the session from the Cookie header of a Request', () => {
    const { sessions } = manager()
    const token = sessions.sign({ username: 'alice' })
    expect(readSession(sessions, request('/', { cookie: `a=1; session=${token}` })).get('username')).toBe('alice')
    expect(readSession(sessions, request('/')).isNew).toBe(true)
  })

  it('never throws on a bad cookie: a fresh session and the reason', () => {
    const { sessions, invalid } = manager()
    const session = readSession(sessions, request('/', { cookie: 'session=f1.x.y.z; __proto__=1' }))
    expect(session.isNew).toBe(true)
    expect(invalid.map((e) => e.code)).toEqual(['ERR_SESSION_UNKNOWN_KEY'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('fetch adapter: commitSession', () => {
  it('takes (sessions, request, response, session, options), positionally, as frasco/node does', () => {
    const { sessions } = manager()
    const req = request('/', { headers: { 'x-forwarded-proto': 'https' } })
    const session = readSession(sessions, req)
    session.set('username', 'alice')
    const response = new Response('ok')
    const result = commitSession(sessions, req, response, session, { trustProxy: true })
    expect(result).toBe(response)
    const cookies = cookiesOf(result)
    expect(cookies.map((c) => c.name)).toEqual(['session'])
    // The request (second) and the options (fifth) decided Secure; the session (fourth) was written.
    expect(cookies[0]?.attributes.secure).toBe(true)
    expect(readSession(sessions, request('/', { cookie: `session=${cookies[0]?.value}` })).get('username')).toBe('alice')
    expect(result.headers.get('vary')).toBe('Cookie')
  })

  it('has the parameter order of frasco/node: sessions, request, response, session, options', () => {
    // Two overloads: a cookie manager commits at once, a store-backed one returns a promise.
    expectTypeOf(commitSession<AppData, Response>).parameters.toEqualTypeOf<
      | [sessions: Sessions<AppData>, request: Request, target: Response, session: Session<AppData>, options?: FetchSessionOptions]
      | [sessions: StoredSessions<AppData>, request: Request, target: Response, session: Session<AppData>, options?: FetchSessionOptions]
    >()
    expectTypeOf(commitSession<AppData, Headers>).parameter(2).toEqualTypeOf<Headers>()
    expectTypeOf(commitSession<AppData, Headers>).returns.toEqualTypeOf<Headers | Promise<Headers>>()
    expectTypeOf(commitSession(createSessions<AppData>({ secrets: 'a-secret-of-at-least-32-characters-long' }), new Request('http://x.test/'), new Headers(), createSession<AppData>())).toEqualTypeOf<Headers>()
  })

  it('refuses an unknown option with a TypeError naming it', () => {
    const { sessions } = manager()
    const req = request('/')
    const session = readSession(sessions, req)
    const call = () => commitSession(sessions, req, new Headers(), session, { request: req } as never)
    expect(call).toThrow(TypeError)
    expect(call).toThrow(/^option request is unknown: .*`trustProxy`/)
  })

  it('appends to a Headers in place and returns it', () => {
    const { sessions } = manager()
    const req = request('/')
    const session = readSession(sessions, req)
    session.set('username', 'alice')
    const headers = new Headers({ 'set-cookie': 'theme=dark; Path=/', vary: 'Accept-Encoding' })
    expect(commitSession(sessions, req, headers, session)).toBe(headers)
    const cookies = cookiesOf(headers)
    expect(cookies.map((c) => c.name)).toEqual(['theme', 'session'])
    expect(cookies[1]?.attributes).toEqual({ path: '/', httponly: true, samesite: 'Lax' })
    expect(headers.get('vary')).toBe('Accept-Encoding, Cookie')
    expect(readSession(sessions, request('/', { cookie: `session=${cookies[1]?.value}` })).get('username')).toBe('alice')
  })

  it('changes a mutable Response in place, keeping its status, body and cookies', async () => {
    const { sessions } = manager()
    const req = request('/')
    const session = readSession(sessions, req)
    session.set('username', 'alice')
    const response = new Response('created', { status: 201, headers: { 'set-cookie': 'theme=dark; Path=/', 'x-app': '1' } })
    const result = commitSession(sessions, req, response, session)
    expect(result).toBe(response)
    expect(result.status).toBe(201)
    expect(result.headers.get('x-app')).toBe('1')
    expect(cookiesOf(result).map((c) => c.name)).toEqual(['theme', 'session'])
    expect(result.headers.get('vary')).toBe('Cookie')
    expect(await result.text()).toBe('created')
  })

  it.each([301, 302, 303, 307, 308] as const)('copies the immutable Response.redirect(url, %i), keeping status and location', (status) => {
    const { sessions } = manager()
    const req = request('/login')
    const session = readSession(sessions, req)
    session.set('username', 'alice')
    const redirect = Response.redirect(`${ORIGIN}/home`, status)
    expect(() => redirect.headers.append('x', 'y')).toThrow(TypeError)
    const result = commitSession(sessions, req, redirect, session)
    expect(result).not.toBe(redirect)
    expect(result.status).toBe(status)
    expect(result.headers.get('location')).toBe(`${ORIGIN}/home`)
    expect(cookiesOf(result).map((c) => c.name)).toEqual(['session'])
    expect(result.headers.get('vary')).toBe('Cookie')
    // The original is untouched.
    expect(redirect.headers.getSetCookie()).toEqual([])
  })

  it('copies a response with immutable headers for Vary alone, when the session was only read', async () => {
    const { sessions } = manager()
    const req = request('/', { cookie: `session=${sessions.sign({ username: 'alice' })}` })
    const session = readSession(sessions, req)
    expect(session.get('username')).toBe('alice')
    const redirect = Response.redirect(`${ORIGIN}/`, 302)
    const result = commitSession(sessions, req, redirect, session)
    expect(result.headers.getSetCookie()).toEqual([])
    expect(result.headers.get('vary')).toBe('Cookie')
    expect(result.status).toBe(302)
  })

  it('returns the target untouched when the session was not used', () => {
    const { sessions } = manager()
    const req = request('/', { cookie: `session=${sessions.sign({ username: 'alice' })}` })
    const session = readSession(sessions, req)
    const response = new Response('static')
    expect(commitSession(sessions, req, response, session)).toBe(response)
    expect([...response.headers.keys()]).toEqual(['content-type'])
    const redirect = Response.redirect(`${ORIGIN}/`, 302)
    expect(commitSession(sessions, req, redirect, session)).toBe(redirect)
  })

  it.each<[string, string, string | undefined]>([
    ['Cookie', 'Cookie', 'Cookie'],
    ['cookie among others', 'Origin, cookie', 'Origin, cookie'],
    ['*', '*', '*'],
    ['* among others (RFC 9110 §12.5.5)', 'Origin, *', 'Origin, *'],
    ['COOKIE in capitals, with tabs', 'Origin,\tCOOKIE ', 'Origin,\tCOOKIE'],
    ['another field', 'Origin', 'Origin, Cookie'],
    ['a field that only starts with Cookie', 'Cookie-Consent', 'Cookie-Consent, Cookie'],
    ['an empty value', ' ', 'Cookie'],
  ])('merges Vary with an existing %s', (_, existing, expected) => {
    const { sessions } = manager()
    const req = request('/')
    const session = readSession(sessions, req)
    session.get('username')
    const headers = new Headers({ vary: existing })
    commitSession(sessions, req, headers, session)
    expect(headers.get('vary')).toBe(expected)
  })

  it('deletes the cookie of a destroyed session and of a rejected one', () => {
    const { sessions } = manager()
    const destroyed = readSession(sessions, request('/', { cookie: `session=${sessions.sign({ username: 'alice' })}` }))
    destroyed.destroy()
    const rejected = readSession(sessions, request('/', { cookie: 'session=garbage' }))
    rejected.get('username')
    for (const session of [destroyed, rejected]) {
      const cookies = cookiesOf(commitSession(sessions, request('/'), new Headers(), session))
      expect(cookies.map((c) => [c.name, isDeletion(c)])).toEqual([['session', true]])
    }
  })

  it('throws CookieTooLarge and leaves the target untouched', () => {
    const { sessions } = manager()
    const req = request('/')
    const session = readSession(sessions, req)
    session.set('blob', randomBytes(15_000).toString('base64'))
    const headers = new Headers({ 'set-cookie': 'theme=dark' })
    expect(() => commitSession(sessions, req, headers, session)).toThrow(CookieTooLarge)
    expect(headers.getSetCookie()).toEqual(['theme=dark'])
    expect(headers.has('vary')).toBe(false)
    const redirect = Response.redirect(`${ORIGIN}/`, 303)
    expect(() => commitSession(sessions, req, redirect, session)).toThrow(CookieTooLarge)
  })

  it('returns a network error (Response.error()) unchanged: nothing to copy, no cookie can travel with it', () => {
    const { sessions } = manager()
    const req = request('/')
    const session = readSession(sessions, req)
    session.set('username', 'alice')
    const error = Response.error()
    expect(error.type).toBe('error')
    expect(commitSession(sessions, req, error, session)).toBe(error)
    expect(error.headers.getSetCookie()).toEqual([])
    // Even a session that could not be stored: there is nothing to refuse.
    session.set('blob', randomBytes(15_000).toString('base64'))
    expect(commitSession(sessions, req, Response.error(), session)).toHaveProperty('type', 'error')
  })

  it('rejects invalid options', () => {
    const { sessions } = manager()
    const req = request('/')
    const session = readSession(sessions, req)
    expect(() => commitSession(sessions, req, new Headers(), session, { trustProxy: 1 as never })).toThrow(/^option trustProxy is invalid: give true/)
    expect(() => commitSession(sessions, req, new Headers(), session, 'x' as never)).toThrow(/^options are invalid: commitSession takes an options object/)
  })

  it('writes a chunked session onto a redirect', () => {
    const { sessions } = manager()
    const req = request('/')
    const session = readSession(sessions, req)
    const blob = randomBytes(7_000).toString('base64')
    session.set('blob', blob)
    const result = commitSession(sessions, req, Response.redirect(`${ORIGIN}/`, 303), session)
    const cookies = cookiesOf(result)
    expect(cookies.map((c) => c.name)).toEqual(['session.0', 'session.1', 'session.2'])
    for (const header of result.headers.getSetCookie()) expect(header.length).toBeLessThanOrEqual(4096)
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ')
    expect(readSession(sessions, request('/', { cookie })).get('blob')).toBe(blob)
  })

  it.each<[string, string, Record<string, string>, boolean, boolean]>([
    ['an http URL', 'http://app.test/', {}, false, false],
    ['an https URL', 'https://app.test/', {}, false, true],
    ['X-Forwarded-Proto: https without trustProxy', 'http://app.test/', { 'x-forwarded-proto': 'https' }, false, false],
    ['X-Forwarded-Proto: https with trustProxy', 'http://app.test/', { 'x-forwarded-proto': 'https' }, true, true],
    // The https URL wins, as a TLS socket does in frasco/node: a header cannot downgrade it.
    ['X-Forwarded-Proto: http with trustProxy on an https URL', 'https://app.test/', { 'x-forwarded-proto': 'http' }, true, true],
  ])("secure: 'auto' for %s", (_, url, headers, trustProxy, secure) => {
    const { sessions } = manager()
    const req = new Request(url, { headers })
    const session = readSession(sessions, req)
    session.set('username', 'alice')
    const result = commitSession(sessions, req, new Headers(), session, { trustProxy })
    expect(cookiesOf(result)[0]?.attributes.secure).toBe(secure ? true : undefined)
  })

  it('for an http request, secure: auto writes no Secure; secure: true always does', () => {
    const auto = manager().sessions
    const always = manager({ cookie: { name: '__Host-session', secure: true } }).sessions
    for (const [sessions, secure] of [
      [auto, undefined],
      [always, true],
    ] as const) {
      const session = sessions.read(undefined)
      session.set('username', 'alice')
      const [cookie] = cookiesOf(commitSession(sessions, request('/'), new Headers(), session))
      expect(cookie?.attributes.secure).toBe(secure)
    }
    const session = always.read(undefined)
    session.set('username', 'alice')
    const raw = commitSession(always, request('/'), new Headers(), session).getSetCookie()[0]
    expect(raw).toMatch(/^__Host-session=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
  })
})

describe('fetch adapter: withSessions', () => {
  it("runs Flask's tutorial app end to end, in process", async () => {
    const { sessions, invalid } = manager()
    const handler = withSessions(sessions, tutorial)
    const jar = new CookieJar()
    const send = async (path: string, init: RequestInit = {}) => {
      const response = await handler(request(path, { ...init, cookie: jar.header() }))
      jar.apply(response.headers.getSetCookie())
      return response
    }

    const anonymous = await send('/')
    expect(await anonymous.text()).toBe('You are not logged in')
    expect(anonymous.headers.getSetCookie()).toEqual([])
    expect(anonymous.headers.get('vary')).toBe('Cookie')

    const posted = await send('/login', formPost({ username: 'alice' }))
    expect(posted.status).toBe(303)
    expect(posted.headers.get('location')).toBe(`${ORIGIN}/`)
    expect(cookiesOf(posted).map((c) => c.name)).toEqual(['session'])

    expect(await (await send('/')).text()).toBe('Logged in as alice')

    const logout = await send('/logout')
    expect(logout.status).toBe(302)
    expect(cookiesOf(logout).map((c) => [c.name, isDeletion(c)])).toEqual([['session', true]])
    expect(jar.names()).toEqual([])
    expect(await (await send('/')).text()).toBe('You are not logged in')
    expect(invalid).toEqual([])
  })

  it('passes trustProxy on to commit', async () => {
    const { sessions } = manager()
    const handler = withSessions(sessions, tutorial, { trustProxy: true })
    const response = await handler(request('/login', { ...formPost({ username: 'alice' }), headers: { ...formPost({}).headers, 'x-forwarded-proto': 'https' } }))
    expect(cookiesOf(response)[0]?.attributes.secure).toBe(true)
  })

  it('rejects invalid options', () => {
    const { sessions } = manager()
    expect(() => withSessions(sessions, tutorial, { trustProxy: 'yes' as unknown as boolean })).toThrow(/^option trustProxy is invalid: give true/)
    expect(() => withSessions(sessions, tutorial, null as unknown as object)).toThrow(/^options are invalid: withSessions takes an options object/)
  })

  it.each<[string, object, RegExp]>([
    ['proxy (another library\'s name)', { proxy: true }, /^option proxy is unknown: .*`trustProxy`/],
    ['trustproxy (a typo)', { trustproxy: true }, /^option trustproxy is unknown: .*`trustProxy`/],
  ])('refuses an unknown option, %s, with a TypeError naming it', (_, options, message) => {
    const { sessions } = manager()
    const call = () => withSessions(sessions, tutorial, options as FetchSessionOptions)
    expect(call).toThrow(TypeError)
    expect(call).toThrow(message)
  })

  it('takes onError (a function) in withSessions only; commitSession refuses it', () => {
    const { sessions } = manager()
    expect(() => withSessions(sessions, tutorial, { onError: () => {} })).not.toThrow()
    expect(() => withSessions(sessions, tutorial, { onError: 'log' as unknown as () => void })).toThrow(/^option onError is invalid: give a function/)
    const req = request('/')
    const call = () => commitSession(sessions, req, new Headers(), readSession(sessions, req), { onError: () => {} } as FetchSessionOptions)
    expect(call).toThrow(/^option onError is unknown/)
  })

  it('passes a handler\'s Response.error() through', async () => {
    const { sessions } = manager()
    const handler = withSessions(sessions, (_request, session) => {
      session.set('username', 'alice')
      return Response.error()
    })
    const response = await handler(request('/'))
    expect(response.type).toBe('error')
    expect(response.status).toBe(0)
  })

  it("serves Flask's tutorial app over a real node:http server, driven by fetch", async () => {
    const { sessions, invalid } = manager()
    const server = await startServer(serveFetch(withSessions(sessions, tutorial)))
    const jar = new CookieJar()

    const anonymous = await jar.fetch(server.url('/'))
    expect(anonymous.status).toBe(200)
    expect(await anonymous.text()).toBe('You are not logged in')

    const form = await jar.fetch(server.url('/login'))
    expect(await form.text()).toContain('name=username')

    const posted = await jar.fetch(server.url('/login'), formPost({ username: 'alice' }))
    expect(posted.status).toBe(303)
    expect(posted.headers.get('location')).toBe(server.url('/'))
    expect(cookiesOf(posted).map((c) => c.name)).toEqual(['session'])
    expect(posted.headers.get('vary')).toBe('Cookie')

    expect(await (await jar.fetch(server.url('/'))).text()).toBe('Logged in as alice')

    const logout = await jar.fetch(server.url('/logout'))
    expect(logout.status).toBe(302)
    expect(jar.names()).toEqual([])
    expect(await (await jar.fetch(server.url('/'))).text()).toBe('You are not logged in')

    const tampered = await fetch(server.url('/'), { headers: { cookie: 'session=f1.AAAAAAAA.AAAA.AAAA' } })
    expect(tampered.status).toBe(200)
    expect(await tampered.text()).toBe('You are not logged in')
    expect(invalid.map((e) => e.code)).toEqual(['ERR_SESSION_UNKNOWN_KEY'])
  })

  it('round trips a chunked session over a real server', async () => {
    const { sessions } = manager()
    const server = await startServer(
      serveFetch(
        withSessions(sessions, (req, session) => {
          if (new URL(req.url).pathname === '/set') session.set('blob', randomBytes(7_000).toString('base64'))
          return new Response(session.get('blob') ?? '')
        }),
      ),
    )
    const jar = new CookieJar()
    const blob = await (await jar.fetch(server.url('/set'))).text()
    expect(jar.names()).toEqual(['session.0', 'session.1', 'session.2'])
    expect(await (await jar.fetch(server.url('/get'))).text()).toBe(blob)
  })
})
