/**
 * Passport 0.7 on Express 5 with Frasco's middleware. Since 0.6, Passport's `req.login` calls
 * `req.session.regenerate(cb)` then `req.session.save(cb)`, and `req.logout(cb)` calls `save` then
 * `regenerate`: cookie-session has neither, and Passport crashes on it. Frasco has both, and, as
 * express-session does, `regenerate(cb)` makes `req.session` a new session whose callback sees the
 * old one still readable, so `keepSessionInfo` keeps the session's data. `failureFlash` and
 * `successFlash` go through connect-flash's `req.flash`, which the middleware provides.
 */
import { randomBytes } from 'node:crypto'
import express from 'express'
import passportModule from 'passport'
import { Strategy as LocalStrategy } from 'passport-local'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { sessionMiddleware, type RequestFlash } from '../../src/adapters/node.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { CookieJar, isDeletion, parseSetCookie, startServer, useTestServers, type SetCookie } from '../helpers/server.js'
import './express-session.js'
import { browserPost, setCookies, varyOf } from './flow.js'

useTestServers()

const secrets = [randomBytes(32).toString('base64url')]

// --- recipe: Passport (docs/frameworks.md) --------------------------------------------------------
interface User {
  id: string
  username: string
  password: string
}

function createApp(sessions: Sessions, users: Map<string, User>) {
  const passport = new passportModule.Passport()
  passport.use(
    new LocalStrategy((username, password, done) => {
      // A real app compares a password hash (crypto.scrypt + timingSafeEqual, or argon2).
      const user = [...users.values()].find((u) => u.username === username)
      if (user === undefined || user.password !== password) return done(null, false, { message: 'Incorrect username or password.' })
      return done(null, { id: user.id, username: user.username })
    }),
  )
  passport.serializeUser((user, done) => done(null, user.id)) // the session keeps the id only
  passport.deserializeUser((id: string, done) => {
    const user = users.get(id)
    done(null, user === undefined ? false : { id: user.id, username: user.username })
  })

  const app = express()
  app.use(express.urlencoded({ extended: false })) // first: a form's _csrf field reaches the CSRF check
  app.use(sessionMiddleware(sessions, { csrf: true })) // refuses POSTs another site sent, login included (docs/csrf.md)
  app.use(passport.session()) // req.user from the session, through deserializeUser

  app.get('/', (req, res) => {
    res.type('text').send(req.user === undefined ? 'You are not logged in' : `Logged in as ${req.user.username}`)
  })

  app.get('/login', (req, res) => {
    // failureMessage: true leaves Passport's messages in req.session.messages.
    const messages = req.session.pop('messages') ?? []
    res.type('text').send(['Log in', ...messages].join('\n'))
  })

  // req.login regenerates the session: keep what must survive login in res.locals first.
  app.post(
    '/login',
    (req, res, next) => {
      res.locals.returnTo = req.session.returnTo
      next()
    },
    passport.authenticate('local', { failureRedirect: '/login', failureMessage: true }),
    (_req, res) => {
      const returnTo = res.locals.returnTo
      // A path on this site only: not //host or /\host, which browsers read as another site.
      res.redirect(303, typeof returnTo === 'string' && /^\/(?![/\\])/.test(returnTo) ? returnTo : '/')
    },
  )

  app.post('/logout', (req, res, next) => {
    req.logout((error) => (error ? next(error) : res.redirect(303, '/')))
  })

  app.get('/private', (req, res) => {
    if (req.user === undefined) {
      req.session.returnTo = req.originalUrl
      res.redirect(303, '/login')
      return
    }
    res.type('text').send(`Private page of ${req.user.username}`)
  })
  return { app, passport }
}
// --- end recipe -------------------------------------------------------------------------------------

/** connect-flash's req.flash, which sessionMiddleware puts on every request (untyped on Express's Request here). */
function flashOf(req: express.Request): RequestFlash {
  return (req as unknown as { flash: RequestFlash }).flash.bind(req)
}

function sessionCookie(response: Response): SetCookie | undefined {
  return response.headers.getSetCookie().map(parseSetCookie).find((cookie) => cookie.name === 'session')
}

function setup() {
  const users = new Map<string, User>([['1', { id: '1', username: 'admin', password: 'default' }]])
  const sessions = createSessions({ secrets })
  return { users, sessions, ...createApp(sessions, users) }
}

describe('Passport 0.7 on Express 5', () => {
  it('logs in with req.login (regenerate + save), restores req.user through deserializeUser, logs out with req.logout(cb)', async () => {
    const { sessions, users, app } = setup()
    const deserialize = vi.spyOn(users, 'get') // deserializeUser's lookup
    const server = await startServer(app)
    const jar = new CookieJar()

    const anonymous = await jar.fetch(server.url('/'))
    expect(await anonymous.text()).toBe('You are not logged in')
    expect(anonymous.headers.getSetCookie()).toEqual([])
    expect(varyOf(anonymous)).toEqual(['cookie']) // passport.session() read the session
    expect(deserialize).not.toHaveBeenCalled()

    // A wrong password: Passport pushes its message into req.session.messages (a nested push,
    // after `req.session.messages = req.session.messages || []`), and the cookie carries it.
    const failed = await jar.fetch(server.url('/login'), browserPost({ username: 'admin', password: 'wrong' }))
    expect(failed.status).toBe(302)
    expect(failed.headers.get('location')).toBe('/login')
    expect(sessions.verify(sessionCookie(failed)?.value ?? '')).toMatchObject({ ok: true, value: { messages: ['Incorrect username or password.'] } })
    expect(await (await jar.fetch(server.url('/login'))).text()).toBe('Log in\nIncorrect username or password.')
    expect(jar.get('session')).toBeUndefined() // pop() emptied the session: its cookie was deleted

    const login = await jar.fetch(server.url('/login'), browserPost({ username: 'admin', password: 'default' }))
    expect(login.status).toBe(303)
    expect(login.headers.get('location')).toBe('/')
    const cookie = sessionCookie(login) as SetCookie
    // regenerate() dropped everything else; save() made sure the cookie is written.
    expect(sessions.verify(cookie.value)).toMatchObject({ ok: true, value: { passport: { user: '1' } } })
    expect(Object.keys((sessions.verify(cookie.value) as { value: object }).value)).toEqual(['passport'])

    const home = await jar.fetch(server.url('/'))
    expect(await home.text()).toBe('Logged in as admin')
    expect(deserialize).toHaveBeenCalledTimes(1)
    expect(deserialize.mock.calls[0]?.[0]).toBe('1')
    expect(home.headers.getSetCookie()).toEqual([])
    expect(varyOf(home)).toEqual(['cookie'])

    // req.logout: delete passport.user, save, regenerate. The session ends up empty: cookie deleted.
    const logout = await jar.fetch(server.url('/logout'), browserPost())
    expect(logout.status).toBe(303)
    const deletion = sessionCookie(logout) as SetCookie
    expect(isDeletion(deletion)).toBe(true)
    expect(jar.get('session')).toBeUndefined()

    expect(deserialize).toHaveBeenCalledTimes(2) // passport.session() ran on POST /logout too
    expect(await (await jar.fetch(server.url('/'))).text()).toBe('You are not logged in')
    expect(deserialize).toHaveBeenCalledTimes(2)

    // The old cookie replayed after logout still verifies: signed cookies cannot be revoked
    // (docs/security.md). Passport logs it in again; shorten maxAge or keep a revocation list.
    const replay = await fetch(server.url('/'), { headers: { cookie: `session=${cookie.value}` } })
    expect(await replay.text()).toBe('Logged in as admin')
  })

  it("refuses another site's login form (login CSRF): nobody is logged in, no cookie is set", async () => {
    const { app } = setup()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {}) // the middleware's default onError
    onTestFinished(() => warn.mockRestore())
    const server = await startServer(app)
    const jar = new CookieJar()
    const forged = browserPost({ username: 'admin', password: 'default' })
    const login = await jar.fetch(server.url('/login'), { ...forged, headers: { ...forged.headers, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
    expect(login.status).toBe(403)
    expect(await login.text()).toBe('Forbidden: ERR_SESSION_CSRF_CROSS_SITE')
    expect(login.headers.getSetCookie()).toEqual([])
    expect(await (await jar.fetch(server.url('/'))).text()).toBe('You are not logged in')
    expect(warn.mock.calls.map(([line]) => String(line))).toEqual([expect.stringContaining('refused POST /login as a possible CSRF: ERR_SESSION_CSRF_CROSS_SITE')])
  })

  it('brings the user back to the page that asked for login, by reading returnTo before req.login', async () => {
    const { sessions, app } = setup()
    const server = await startServer(app)
    const jar = new CookieJar()

    const asked = await jar.fetch(server.url('/private'))
    expect(asked.headers.get('location')).toBe('/login')
    expect(sessions.verify(jar.get('session') ?? '')).toMatchObject({ ok: true, value: { returnTo: '/private' } })
    const login = await jar.fetch(server.url('/login'), browserPost({ username: 'admin', password: 'default' }))
    expect(login.headers.get('location')).toBe('/private')
    expect(await (await jar.fetch(server.url('/private'))).text()).toBe('Private page of admin')
  })

  it.each(['//evil.example/', '/\\evil.example/', 'https://evil.example/'])('never returns to another site (returnTo %s)', async (returnTo) => {
    const { sessions, app } = setup()
    const server = await startServer(app)
    const jar = new CookieJar()
    jar.set('session', sessions.sign({ returnTo }))
    const login = await jar.fetch(server.url('/login'), browserPost({ username: 'admin', password: 'default' }))
    expect(login.headers.get('location')).toBe('/')
  })

  it('keepSessionInfo: true keeps the session\'s data through req.login: returnTo and the rest survive, with a new identity', async () => {
    const { sessions, app, passport } = setup()
    // Passport's own return-to option, which relies on keepSessionInfo since 0.6: req.login calls
    // req.session.regenerate(cb), and in the callback merges the old object into the new
    // req.session, as with express-session.
    app.post('/login-keep', passport.authenticate('local', { keepSessionInfo: true, successReturnToOrRedirect: '/', failureRedirect: '/login' }))
    app.post('/login-nokeep', passport.authenticate('local', { successReturnToOrRedirect: '/', failureRedirect: '/login' }))
    const server = await startServer(app)

    // A cart and a returnTo, in a cookie issued ten minutes ago.
    const issued = sessions.sign({ cart: ['tea'], returnTo: '/private' }, { now: Date.now() - 600_000 })
    const before = sessions.verify(issued) as { ok: true; expiresAt: Date }

    const jar = new CookieJar()
    jar.set('session', issued)
    const login = await jar.fetch(server.url('/login-keep'), browserPost({ username: 'admin', password: 'default' }))
    expect(login.status).toBe(302)
    expect(login.headers.get('location')).toBe('/private') // returnTo survived the regenerate
    const kept = sessions.verify(sessionCookie(login)?.value ?? '') as { ok: true; value: Record<string, unknown>; expiresAt: Date }
    // successReturnToOrRedirect took returnTo; the cart stayed; the user was added.
    expect(kept.value).toEqual({ cart: ['tea'], passport: { user: '1' } })
    // A new identity all the same: the session was regenerated, its expiry restarts from now.
    expect(kept.expiresAt.getTime() - before.expiresAt.getTime()).toBeGreaterThanOrEqual(590_000)
    expect(await (await jar.fetch(server.url('/private'))).text()).toBe('Private page of admin')

    // Without keepSessionInfo, nothing but passport survives: no returnTo, no cart.
    const other = new CookieJar()
    other.set('session', issued)
    const plain = await other.fetch(server.url('/login-nokeep'), browserPost({ username: 'admin', password: 'default' }))
    expect(plain.headers.get('location')).toBe('/')
    const dropped = sessions.verify(sessionCookie(plain)?.value ?? '') as { ok: true; value: Record<string, unknown>; expiresAt: Date }
    expect(dropped.value).toEqual({ passport: { user: '1' } })
    expect(dropped.expiresAt.getTime() - before.expiresAt.getTime()).toBeGreaterThanOrEqual(590_000)
  })

  it('keepSessionInfo: true keeps the session\'s data through req.logout, all but passport.user', async () => {
    const { sessions, app } = setup()
    app.post('/logout-keep', (req, res, next) => {
      req.logout({ keepSessionInfo: true }, (error) => (error ? next(error) : res.redirect(303, '/')))
    })
    app.post('/cart', (req, res) => {
      ;(req.session as Session).set('cart', ['tea', 'milk'])
      res.sendStatus(204)
    })
    const server = await startServer(app)
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'), browserPost({ username: 'admin', password: 'default' }))
    await jar.fetch(server.url('/cart'), browserPost())
    const loggedIn = jar.get('session') as string
    expect(sessions.verify(loggedIn)).toMatchObject({ ok: true, value: { passport: { user: '1' }, cart: ['tea', 'milk'] } })

    const logout = await jar.fetch(server.url('/logout-keep'), browserPost())
    expect(logout.status).toBe(303)
    const cookie = sessionCookie(logout) as SetCookie
    // A new cookie, not a deletion: the cart survives; Passport deleted passport.user in place.
    expect(isDeletion(cookie)).toBe(false)
    expect(cookie.value).not.toBe(loggedIn)
    expect((sessions.verify(cookie.value) as { ok: true; value: Record<string, unknown> }).value).toEqual({ passport: {}, cart: ['tea', 'milk'] })
    expect(await (await jar.fetch(server.url('/'))).text()).toBe('You are not logged in')

    // Without keepSessionInfo (POST /logout), the same session ends with nothing: the cookie is deleted.
    const other = new CookieJar()
    other.set('session', loggedIn)
    const plain = await other.fetch(server.url('/logout'), browserPost())
    expect(isDeletion(sessionCookie(plain) as SetCookie)).toBe(true)
  })

  it('treats a user deleted since login as logged out; the stale id stays in the cookie (an in-place delete)', async () => {
    const { users, app } = setup()
    const server = await startServer(app)
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'), browserPost({ username: 'admin', password: 'default' }))
    expect(await (await jar.fetch(server.url('/'))).text()).toBe('Logged in as admin')

    users.delete('1')
    // deserializeUser gives false; Passport then runs `delete req.session.passport.user`, a change
    // inside a stored object that the session cannot see (docs/session.md), so no cookie is written.
    const response = await jar.fetch(server.url('/'))
    expect(await response.text()).toBe('You are not logged in')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(jar.get('session')).toBeDefined()
  })

  it('keeps an app cookie set before req.login in the same response', async () => {
    const { app, sessions } = setup()
    const outer = express()
    outer.use((_req, res, next) => {
      res.cookie('theme', 'dark')
      next()
    })
    outer.use(app)
    const server = await startServer(outer)
    const login = await fetch(server.url('/login'), { ...browserPost({ username: 'admin', password: 'default' }), redirect: 'manual' })
    const cookies = setCookies(login)
    expect(cookies.map((cookie) => cookie.name)).toEqual(['theme', 'session'])
    expect(sessions.verify(cookies[1]?.value ?? '')).toMatchObject({ ok: true, value: { passport: { user: '1' } } })
    expect(varyOf(login)).toEqual(['accept', 'cookie']) // Express's res.redirect varies on Accept
  })

  // Passport also takes { type, message } at runtime, which @types/passport does not declare.
  it.each<[string, boolean | string | { type: string; message: string }, [string, string]]>([
    ['failureFlash: true (the strategy\'s message)', true, ['error', 'Incorrect username or password.']],
    ["failureFlash: 'custom message'", 'Wrong credentials, try again.', ['error', 'Wrong credentials, try again.']],
    ['failureFlash: { type, message }', { type: 'warning', message: 'Check your password.' }, ['warning', 'Check your password.']],
  ])('%s lands in req.flash, shown once on the next GET /login', async (_, failureFlash, [type, message]) => {
    const { sessions, app, passport } = setup()
    app.post('/login-flash', passport.authenticate('local', { failureRedirect: '/login-flash', failureFlash: failureFlash as string }))
    app.get('/login-flash', (req, res) => {
      res.type('text').send(['Log in', ...flashOf(req)(type)].join('\n'))
    })
    const server = await startServer(app)
    const jar = new CookieJar()

    const failed = await jar.fetch(server.url('/login-flash'), browserPost({ username: 'admin', password: 'wrong' }))
    expect(failed.status).toBe(302)
    expect(failed.headers.get('location')).toBe('/login-flash')
    // Flask's wire format: [category, message] pairs under _flashes.
    expect((sessions.verify(jar.get('session') ?? '') as { ok: true; value: Record<string, unknown> }).value).toEqual({ _flashes: [[type, message]] })

    expect(await (await jar.fetch(server.url('/login-flash'))).text()).toBe(`Log in\n${message}`)
    expect(jar.get('session')).toBeUndefined() // taken: the session is empty again, its cookie deleted
    expect(await (await jar.fetch(server.url('/login-flash'))).text()).toBe('Log in')
  })

  it("successFlash: 'Welcome!' with keepSessionInfo lands in req.flash('success') on the next page", async () => {
    const { sessions, app, passport } = setup()
    app.post('/login-welcome', passport.authenticate('local', { successRedirect: '/welcome', successFlash: 'Welcome!', keepSessionInfo: true }))
    app.get('/welcome', (req, res) => {
      res.type('text').send([req.user?.username ?? 'nobody', ...flashOf(req)('success')].join('\n'))
    })
    const server = await startServer(app)
    const jar = new CookieJar()
    const login = await jar.fetch(server.url('/login-welcome'), browserPost({ username: 'admin', password: 'default' }))
    expect(login.headers.get('location')).toBe('/welcome')
    expect((sessions.verify(jar.get('session') ?? '') as { ok: true; value: Record<string, unknown> }).value).toEqual({
      _flashes: [['success', 'Welcome!']],
      passport: { user: '1' },
    })
    expect(await (await jar.fetch(server.url('/welcome'))).text()).toBe('admin\nWelcome!')
    expect(await (await jar.fetch(server.url('/welcome'))).text()).toBe('admin')
    expect((sessions.verify(jar.get('session') ?? '') as { ok: true; value: Record<string, unknown> }).value).toEqual({ passport: { user: '1' } })
  })

  it('successFlash without keepSessionInfo is dropped by the regenerate, as with express-session', async () => {
    // Passport flashes before req.login, into the session that login then replaces.
    const { sessions, app, passport } = setup()
    app.post('/login-welcome', passport.authenticate('local', { successRedirect: '/welcome', successFlash: 'Welcome!' }))
    app.get('/welcome', (req, res) => {
      res.type('text').send(flashOf(req)('success').join('\n'))
    })
    const server = await startServer(app)
    const jar = new CookieJar()
    await jar.fetch(server.url('/login-welcome'), browserPost({ username: 'admin', password: 'default' }))
    expect((sessions.verify(jar.get('session') ?? '') as { ok: true; value: Record<string, unknown> }).value).toEqual({ passport: { user: '1' } })
    expect(await (await jar.fetch(server.url('/welcome'))).text()).toBe('')
  })
})
