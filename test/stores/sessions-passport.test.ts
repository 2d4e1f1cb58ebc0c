/**
 * Passport 0.7 on Express 5 with Frasco's middleware in store mode. `req.login` calls
 * `req.session.regenerate(cb)`: the session moves to a new id and the old id is deleted from the
 * store (session fixation); `keepSessionInfo` carries the data over; `req.logout` ends the stored
 * session, so, unlike a signed cookie, a copy of the logged-in cookie is worth nothing afterwards.
 */
import express from 'express'
import passportModule from 'passport'
import { Strategy as LocalStrategy } from 'passport-local'
import { describe, expect, it } from 'vitest'
import { sessionMiddleware, type SessionRequest } from '../../src/adapters/node.js'
import { createSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import { cookieReader, decodeStored, testSecrets } from '../helpers/stored.js'
import { CookieJar, formPost, isDeletion, parseSetCookie, startServer, useTestServers } from '../helpers/server.js'

useTestServers()

const secrets = testSecrets()
const reader = cookieReader(secrets)

type Data = { cart: string[]; returnTo: string; messages: string[]; passport: { user?: string } }
const ADMIN = formPost({ username: 'admin', password: 'default' })

async function setup() {
  const store = createMemoryStore()
  const invalid: string[] = []
  const sessions = createSessions<Data>({ secrets, store, onInvalid: (error) => invalid.push(error.code) })
  const users = new Map([['1', { id: '1', username: 'admin', password: 'default' }]])
  const passport = new passportModule.Passport()
  passport.use(
    new LocalStrategy((username, password, done) => {
      const user = [...users.values()].find((candidate) => candidate.username === username)
      if (user === undefined || user.password !== password) return done(null, false, { message: 'Incorrect username or password.' })
      return done(null, { id: user.id, username: user.username })
    }),
  )
  passport.serializeUser((user, done) => done(null, user.id))
  passport.deserializeUser((id: string, done) => {
    const user = users.get(id)
    done(null, user === undefined ? false : { id: user.id, username: user.username })
  })

  const session = (req: express.Request) => (req as unknown as SessionRequest<Data>).session
  const app = express()
  const errors: unknown[] = []
  app.use(sessionMiddleware(sessions, { onError: (error) => errors.push(error) }))
  app.use(express.urlencoded({ extended: false }))
  app.use(passport.session())
  app.get('/', (req, res) => {
    res.type('text').send(req.user === undefined ? 'You are not logged in' : `Logged in as ${req.user.username}`)
  })
  app.get('/private', (req, res) => {
    if (req.user !== undefined) {
      res.type('text').send(`Private page of ${req.user.username}`)
      return
    }
    session(req).set('returnTo', req.originalUrl)
    res.redirect(303, '/login')
  })
  app.get('/login', (req, res) => {
    res.type('text').send(['Log in', ...(session(req).pop('messages') ?? [])].join('\n'))
  })
  app.post('/cart', (req, res) => {
    session(req).set('cart', ['tea', 'milk'])
    res.sendStatus(204)
  })
  app.post('/login', passport.authenticate('local', { failureRedirect: '/login', failureMessage: true }), (_req, res) => {
    res.redirect(303, '/')
  })
  app.post('/login-keep', passport.authenticate('local', { keepSessionInfo: true, successReturnToOrRedirect: '/', failureRedirect: '/login' }))
  app.post('/logout', (req, res, next) => {
    req.logout((error) => (error ? next(error) : res.redirect(303, '/')))
  })
  app.post('/logout-keep', (req, res, next) => {
    req.logout({ keepSessionInfo: true }, (error) => (error ? next(error) : res.redirect(303, '/')))
  })
  const server = await startServer(app)
  const stored = async (id: string | undefined) => (id === undefined ? undefined : decodeStored(await store.load(id)))
  return { server, stored, invalid, errors, sessions }
}

async function text(jar: CookieJar, url: string, init?: RequestInit): Promise<string> {
  return (await jar.fetch(url, init)).text()
}

describe('Passport 0.7 on Express 5, store mode', () => {
  it('req.login moves the session to a new id and deletes the old one; req.logout deletes the stored session', async () => {
    const { server, stored, invalid, errors } = await setup()
    const jar = new CookieJar()

    // A wrong password: Passport's message goes into the stored session.
    const failed = await jar.fetch(server.url('/login'), formPost({ username: 'admin', password: 'wrong' }))
    expect(failed.status).toBe(302)
    const anonymousId = reader.idOf(jar) as string
    expect(await stored(anonymousId)).toEqual({ messages: ['Incorrect username or password.'] })
    const beforeLogin = jar.get('session') as string

    const login = await jar.fetch(server.url('/login'), ADMIN)
    expect(login.status).toBe(303)
    const loggedInId = reader.idOf(jar) as string
    expect(loggedInId).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(loggedInId).not.toBe(anonymousId)
    expect(await stored(anonymousId)).toBeUndefined()
    expect(await stored(loggedInId)).toEqual({ passport: { user: '1' } })
    expect(await text(jar, server.url('/'))).toBe('Logged in as admin')
    // The pre-login cookie (a fixation attempt would plant one) opens nothing now.
    expect(await (await fetch(server.url('/'), { headers: { cookie: `session=${beforeLogin}` } })).text()).toBe('You are not logged in')
    expect(invalid).toEqual(['ERR_SESSION_REVOKED'])

    const loggedIn = jar.get('session') as string
    const logout = await jar.fetch(server.url('/logout'), { method: 'POST' })
    expect(logout.status).toBe(303)
    expect(logout.headers.getSetCookie().map(parseSetCookie).some((cookie) => cookie.name === 'session' && isDeletion(cookie))).toBe(true)
    expect(await stored(loggedInId)).toBeUndefined()
    expect(await text(jar, server.url('/'))).toBe('You are not logged in')
    // Unlike a signed cookie, a copy of the logged-in cookie does not log anyone back in.
    expect(await (await fetch(server.url('/'), { headers: { cookie: `session=${loggedIn}` } })).text()).toBe('You are not logged in')
    expect(errors).toEqual([])
  })

  it('keepSessionInfo on login keeps the data (and returnTo) under the new id; without it only passport is left', async () => {
    const { server, stored } = await setup()
    const jar = new CookieJar()
    await jar.fetch(server.url('/cart'), { method: 'POST' })
    expect((await jar.fetch(server.url('/private'))).headers.get('location')).toBe('/login')
    const before = reader.idOf(jar) as string
    expect(await stored(before)).toEqual({ cart: ['tea', 'milk'], returnTo: '/private' })

    const login = await jar.fetch(server.url('/login-keep'), ADMIN)
    expect(login.status).toBe(302)
    expect(login.headers.get('location')).toBe('/private')
    const after = reader.idOf(jar) as string
    expect(after).not.toBe(before)
    expect(await stored(before)).toBeUndefined()
    expect(await stored(after)).toEqual({ cart: ['tea', 'milk'], passport: { user: '1' } })
    expect(await text(jar, server.url('/private'))).toBe('Private page of admin')

    const other = new CookieJar()
    await other.fetch(server.url('/cart'), { method: 'POST' })
    const otherBefore = reader.idOf(other) as string
    await other.fetch(server.url('/login'), ADMIN)
    expect(await stored(otherBefore)).toBeUndefined()
    expect(await stored(reader.idOf(other))).toEqual({ passport: { user: '1' } })
  })

  it('keepSessionInfo on logout keeps the data under a new id, without passport.user; the logged-in id is gone', async () => {
    const { server, stored } = await setup()
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'), ADMIN)
    await jar.fetch(server.url('/cart'), { method: 'POST' })
    const loggedInId = reader.idOf(jar) as string
    const loggedIn = jar.get('session') as string
    expect(await stored(loggedInId)).toEqual({ cart: ['tea', 'milk'], passport: { user: '1' } })

    const logout = await jar.fetch(server.url('/logout-keep'), { method: 'POST' })
    expect(logout.status).toBe(303)
    const after = reader.idOf(jar) as string
    expect(after).not.toBe(loggedInId)
    expect(await stored(loggedInId)).toBeUndefined()
    expect(await stored(after)).toEqual({ cart: ['tea', 'milk'], passport: {} })
    expect(await text(jar, server.url('/'))).toBe('You are not logged in')
    expect(await (await fetch(server.url('/'), { headers: { cookie: `session=${loggedIn}` } })).text()).toBe('You are not logged in')
  })

  it('failureMessage: the message is stored, shown once, and the emptied session deleted', async () => {
    const { server, stored } = await setup()
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'), formPost({ username: 'admin', password: 'wrong' }))
    const id = reader.idOf(jar) as string
    expect(await text(jar, server.url('/login'))).toBe('Log in\nIncorrect username or password.')
    expect(await stored(id)).toBeUndefined()
    expect(jar.get('session')).toBeUndefined()
    expect(await text(jar, server.url('/login'))).toBe('Log in')
  })
})
