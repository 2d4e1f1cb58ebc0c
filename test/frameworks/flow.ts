/**
 * The client side shared by the framework tests: Flask's session tutorial (`/` says who is logged
 * in, POST `/login` stores the username and redirects, POST `/logout` pops it and redirects),
 * driven over a real socket with a cookie jar, checking on the way what every integration must
 * get right: the app's own Set-Cookie in the same response survives, `Vary: Cookie` is merged into
 * the app's own `Vary`, nothing is written when nothing changed, and logout deletes the cookie.
 *
 * Every app under test does the same things in its framework's own way:
 * - `GET /` sends `Vary: Accept-Language` itself, then `Logged in as <name>` or `You are not logged in`;
 * - `POST /login` (urlencoded `username`) regenerates the session, stores the name, sets its own
 *   cookie `theme=dark` and redirects to `/`;
 * - `POST /logout` pops the name and redirects to `/`.
 *
 * {@link expectVaryKept} needs one more route: `GET /vary?set=<value>` sets `Vary: <value>` itself
 * and reads the session (and, with `&write=1`, stores a name in it).
 *
 * The flow posts as a browser does from the app's own pages (`Sec-Fetch-Site: same-origin`), so it
 * runs unchanged on apps with CSRF protection on; {@link CSRF_CASES} are the requests that must be
 * refused, and those that must not.
 */
import { expect } from 'vitest'
import type { CsrfRefusedCode } from '../../src/errors.js'
import type { Sessions } from '../../src/sessions.js'
import { CookieJar, isDeletion, parseSetCookie, type SetCookie } from '../helpers/server.js'

export type LoginData = { username: string }

/** What a browser sends with a request from a page of the app's own origin (Fetch Metadata). */
export const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' } as const

/** An `application/x-www-form-urlencoded` POST as a browser submits a form of the app's own pages. */
export function browserPost(fields: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...SAME_ORIGIN },
    body: new URLSearchParams(fields).toString(),
  }
}

/** The Set-Cookie headers of a response, parsed. */
export function setCookies(response: Response): SetCookie[] {
  return response.headers.getSetCookie().map(parseSetCookie)
}

/** The `Vary` header as a list of lower-cased names. */
export function varyOf(response: Response): string[] {
  return (response.headers.get('vary') ?? '').split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '')
}

/** Runs the tutorial flow against `origin`; returns the jar for further requests. */
export async function expectLoginFlow(origin: string, sessions: Sessions<LoginData>): Promise<CookieJar> {
  const jar = new CookieJar()

  // Anonymous: the page depends on the (absent) session, so Vary says so; nothing to write.
  const anonymous = await jar.fetch(`${origin}/`)
  expect(anonymous.status).toBe(200)
  expect(await anonymous.text()).toBe('You are not logged in')
  expect(setCookies(anonymous)).toEqual([])
  expect(varyOf(anonymous)).toEqual(['accept-language', 'cookie'])

  // Login: the app's own cookie and the session cookie arrive together.
  const login = await jar.fetch(`${origin}/login`, browserPost({ username: 'admin' }))
  expect([302, 303]).toContain(login.status)
  expect(login.headers.get('location')).toBe('/')
  const cookies = setCookies(login)
  expect(cookies.map((cookie) => cookie.name).sort()).toEqual(['session', 'theme'])
  expect(cookies.find((cookie) => cookie.name === 'theme')?.value).toBe('dark')
  const session = cookies.find((cookie) => cookie.name === 'session') as SetCookie
  expect(session.attributes).toMatchObject({ path: '/', httponly: true, samesite: 'Lax' })
  expect(sessions.verify(session.value)).toMatchObject({ ok: true, value: { username: 'admin' } })
  expect(varyOf(login)).toContain('cookie')

  // Logged in: read from the cookie, and not re-written since nothing changed.
  const home = await jar.fetch(`${origin}/`)
  expect(await home.text()).toBe('Logged in as admin')
  expect(home.headers.get('content-type')).toMatch(/^text\/plain/) // the name is user input: never raw HTML
  expect(setCookies(home)).toEqual([])
  expect(varyOf(home)).toEqual(['accept-language', 'cookie'])

  // Logout: the session is now empty, so its cookie is deleted.
  const logout = await jar.fetch(`${origin}/logout`, browserPost())
  expect([302, 303]).toContain(logout.status)
  expect(logout.headers.get('location')).toBe('/')
  const deletions = setCookies(logout)
  expect(deletions.map((cookie) => cookie.name)).toEqual(['session'])
  expect(isDeletion(deletions[0] as SetCookie)).toBe(true)
  expect(jar.get('session')).toBeUndefined()

  const after = await jar.fetch(`${origin}/`)
  expect(await after.text()).toBe('You are not logged in')
  expect(setCookies(after)).toEqual([])
  return jar
}

/**
 * The app's own Vary survives the commit, with `Cookie` added once: after `Accept-Encoding`, and
 * not again when the app already listed it; whether the session was only read or also written.
 */
export async function expectVaryKept(origin: string): Promise<void> {
  for (const write of [false, true]) {
    const query = write ? '&write=1' : ''
    const plain = await fetch(`${origin}/vary?set=Accept-Encoding${query}`)
    expect(plain.status).toBe(200)
    expect(plain.headers.get('vary')).toBe('Accept-Encoding, Cookie')
    expect(setCookies(plain).map((cookie) => cookie.name)).toEqual(write ? ['session'] : [])
    const listed = await fetch(`${origin}/vary?set=${encodeURIComponent('Accept-Encoding, Cookie')}${query}`)
    expect(listed.headers.get('vary')).toBe('Accept-Encoding, Cookie')
    expect(setCookies(listed).map((cookie) => cookie.name)).toEqual(write ? ['session'] : [])
  }
}

// -------------------------------------------------------------------------------------------------
// CSRF protection (docs/csrf.md)
// -------------------------------------------------------------------------------------------------

/** Where a client of a {@link CSRF_CASES} case puts the token it got from the app, if anywhere. */
export type TokenPlace = 'header' | 'field' | 'forged' | 'none'

/** A CSRF case: its name, the browser headers sent (given the app's origin), the token, and 'done' or the refusal's code. */
export type CsrfCase = [name: string, headers: (app: string) => Record<string, string>, token: TokenPlace, expected: 'done' | CsrfRefusedCode]

const EVIL = 'https://evil.example'

export const CSRF_CASES: CsrfCase[] = [
  ["another site's form (Sec-Fetch-Site: cross-site)", () => ({ 'sec-fetch-site': 'cross-site', origin: EVIL }), 'none', 'ERR_SESSION_CSRF_CROSS_SITE'],
  ['another site, even with a valid token', () => ({ 'sec-fetch-site': 'cross-site' }), 'header', 'ERR_SESSION_CSRF_CROSS_SITE'],
  ['a sibling subdomain (Sec-Fetch-Site: same-site)', () => ({ 'sec-fetch-site': 'same-site' }), 'none', 'ERR_SESSION_CSRF_CROSS_SITE'],
  ['Origin alone, of another site (an older browser)', () => ({ origin: EVIL }), 'none', 'ERR_SESSION_CSRF_ORIGIN'],
  ['Origin alone, null (a sandboxed frame)', () => ({ origin: 'null' }), 'none', 'ERR_SESSION_CSRF_ORIGIN'],
  ["Origin alone, the app's host over another scheme", (app) => ({ origin: app.replace(/^http:/, 'https:') }), 'none', 'ERR_SESSION_CSRF_ORIGIN'],
  ["the app's own page (Sec-Fetch-Site: same-origin)", () => SAME_ORIGIN, 'none', 'done'],
  ["Origin alone, the app's own", (app) => ({ origin: app }), 'none', 'done'],
  ['no browser header and no token (a script, curl)', () => ({}), 'none', 'ERR_SESSION_CSRF_TOKEN_MISSING'],
  ['no browser header, a token of the session in x-csrf-token', () => ({}), 'header', 'done'],
  ['no browser header, a token of the session in the _csrf form field', () => ({}), 'field', 'done'],
  ['no browser header, a forged token', () => ({}), 'forged', 'ERR_SESSION_CSRF_TOKEN_INVALID'],
]

/**
 * Runs one of {@link CSRF_CASES} against an app with CSRF protection on and two routes of the
 * test's: `GET /transfer` answers `csrfToken(session)` as text, and `POST /transfer` counts its runs
 * (`runs()`), stores a name in the session and answers `done`. The client holds a session (the
 * victim's cookie goes with a forged request too). A refusal is a 403 `Forbidden: <code>` in plain
 * text, the route never ran, and no Set-Cookie at all goes out: the client keeps the session it had.
 * Give the app `rolling: true` sessions, so that a commit on the refused request would show.
 */
export async function expectCsrfCase(origin: string, runs: () => number, [, headers, token, expected]: CsrfCase): Promise<void> {
  const jar = new CookieJar()
  const issued = await (await jar.fetch(`${origin}/transfer`)).text()
  expect(issued).toMatch(/^[\w-]{86}$/)
  const cookie = jar.get('session')
  expect(cookie).toBeDefined()

  const tokenHeader = token === 'header' ? { 'x-csrf-token': issued } : token === 'forged' ? { 'x-csrf-token': 'A'.repeat(86) } : {}
  const before = runs()
  const response = await jar.fetch(`${origin}/transfer`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers(origin), ...tokenHeader },
    body: new URLSearchParams(token === 'field' ? { amount: '100', _csrf: issued } : { amount: '100' }).toString(),
  })
  if (expected === 'done') {
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('done')
    expect(runs()).toBe(before + 1)
    expect(setCookies(response).map((set) => set.name)).toEqual(['session'])
    return
  }
  expect(response.status).toBe(403)
  expect(await response.text()).toBe(`Forbidden: ${expected}`)
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
  expect(runs()).toBe(before) // refused before the route
  expect(response.headers.getSetCookie()).toEqual([])
  expect(jar.get('session')).toBe(cookie)
}

/**
 * The recipe's `GET /login` form carries a token in its `_csrf` field: a client without browser
 * headers logs in with it, and is refused without it; another site's form is refused, token or not.
 */
export async function expectLoginFormToken(origin: string): Promise<void> {
  const jar = new CookieJar()
  const form = await jar.fetch(`${origin}/login`)
  expect(form.headers.get('content-type')).toMatch(/^text\/html/)
  const token = /name="_csrf" value="([\w-]{86})"/.exec(await form.text())?.[1] as string
  expect(token).toBeDefined()
  const post = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  })

  for (const [fields, headers, code] of [
    [{ username: 'mallory' }, {}, 'ERR_SESSION_CSRF_TOKEN_MISSING'],
    [{ username: 'mallory', _csrf: token }, { 'sec-fetch-site': 'cross-site', origin: EVIL }, 'ERR_SESSION_CSRF_CROSS_SITE'],
  ] as const) {
    const refused = await jar.fetch(`${origin}/login`, post(fields, headers))
    expect(refused.status).toBe(403)
    expect(await refused.text()).toBe(`Forbidden: ${code}`)
    expect(refused.headers.getSetCookie()).toEqual([])
  }
  expect(await (await jar.fetch(`${origin}/`)).text()).toBe('You are not logged in')

  const login = await jar.fetch(`${origin}/login`, post({ username: 'admin', _csrf: token }))
  expect(login.status).toBe(303)
  expect(await (await jar.fetch(`${origin}/`)).text()).toBe('Logged in as admin')
}
