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
 */
import { expect } from 'vitest'
import type { Sessions } from '../../src/sessions.js'
import { CookieJar, formPost, isDeletion, parseSetCookie, type SetCookie } from '../helpers/server.js'

export type LoginData = { username: string }

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
  const login = await jar.fetch(`${origin}/login`, formPost({ username: 'admin' }))
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
  const logout = await jar.fetch(`${origin}/logout`, { method: 'POST' })
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
