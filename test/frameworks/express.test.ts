/**
 * Frasco inside Express 5, through the node adapter's middleware: Flask's login tutorial over a
 * real socket, plus the ways Express itself writes headers (res.cookie, res.vary, res.redirect,
 * its error handler).
 */
import { randomBytes } from 'node:crypto'
import express, { type ErrorRequestHandler } from 'express'
import { describe, expect, it } from 'vitest'
import { sessionMiddleware } from '../../src/adapters/node.js'
import { isSessionError } from '../../src/errors.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { CookieJar, formPost, startServer, useTestServers } from '../helpers/server.js'
import './express-session.js'
import { expectLoginFlow, expectVaryKept, setCookies } from './flow.js'

useTestServers()

const secrets = [randomBytes(32).toString('base64url')]

// --- recipe: Express (docs/frameworks.md) ---------------------------------------------------------
type LoginData = { username: string }

function createApp(sessions: Sessions<LoginData>) {
  const app = express()
  app.use(express.urlencoded({ extended: false })) // first: a form's _csrf field reaches the CSRF check
  app.use(sessionMiddleware(sessions, { csrf: true })) // refuses POSTs another site sent (docs/csrf.md)

  app.get('/', (req, res) => {
    res.vary('Accept-Language')
    const username = req.session.username
    // Plain text: the name is user input, never to be pasted into HTML unescaped.
    res.type('text').send(username === undefined ? 'You are not logged in' : `Logged in as ${username}`)
  })

  app.post('/login', (req, res) => {
    const username = typeof req.body?.username === 'string' ? req.body.username.trim() : ''
    if (username === '') {
      res.status(400).send('A username is required')
      return
    }
    req.session.regenerate() // a new identity on login, against session fixation
    req.session.username = username
    res.cookie('theme', 'dark') // the app's own cookie travels with the session's
    res.redirect(303, '/')
  })

  app.post('/logout', (req, res) => {
    req.session.pop('username')
    res.redirect(303, '/')
  })
  return app
}
// --- end recipe -------------------------------------------------------------------------------------

describe('Express 5', () => {
  it("runs Flask's login tutorial: log in, see the name, log out", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const server = await startServer(createApp(sessions))
    await expectLoginFlow(server.origin, sessions)
  })

  it("keeps the app's own Vary and adds Cookie once", async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = createApp(sessions)
    app.get('/vary', (req, res) => {
      res.set('Vary', String(req.query.set))
      if (req.query.write === '1') req.session.username = 'admin'
      res.send(req.session.username ?? 'anonymous')
    })
    const server = await startServer(app)
    await expectVaryKept(server.origin)
  })

  it('keeps cookies and Vary set by res.cookie, res.append and res.set before the commit', async () => {
    const sessions = createSessions<LoginData>({ secrets })
    const app = express()
    app.use(sessionMiddleware(sessions))
    app.get('/', (req, res) => {
      req.session.username = 'admin'
      res.cookie('a', '1')
      res.append('Set-Cookie', 'b=2; Path=/')
      res.set('Vary', 'Origin')
      res.json({ ok: true })
    })
    const server = await startServer(app)
    const response = await fetch(server.url('/'))
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['a', 'b', 'session'])
    expect(response.headers.get('vary')).toBe('Origin, Cookie')
    expect(await response.json()).toEqual({ ok: true })
  })

  it('answers 500 without the session cookie when the session cannot be stored, and reports it to onError, even from a timer', async () => {
    const sessions = createSessions<LoginData>({ secrets, chunking: false })
    const reported: unknown[] = []
    const app = express()
    app.use(sessionMiddleware(sessions, { onError: (error, req) => reported.push([isSessionError(error) ? error.code : error, req.url]) }))
    app.get('/big', async (req, res) => {
      await Promise.resolve()
      req.session.username = randomBytes(8192).toString('hex') // beyond one cookie, chunking off
      res.cookie('theme', 'dark')
      res.send('stored')
    })
    // Outside any promise Express watches: before, the error escaped res.send() and crashed the process.
    app.get('/later', (req, res) => {
      req.session.username = randomBytes(8192).toString('hex')
      setTimeout(() => res.send('stored later'), 1)
    })
    const handled: unknown[] = []
    const onError: ErrorRequestHandler = (error, _req, res, _next) => {
      handled.push(error)
      res.status(500).send('unexpected')
    }
    app.use(onError)
    const server = await startServer(app)
    for (const [path, body] of [['/big', 'stored'], ['/later', 'stored later']] as const) {
      const response = await fetch(server.url(path))
      expect(response.status).toBe(500)
      // The headers were going out already: the app's body and its other cookies stay, the session cookie does not.
      expect(await response.text()).toBe(body)
      expect(setCookies(response).map((cookie) => cookie.name)).toEqual(path === '/big' ? ['theme'] : [])
    }
    expect(reported).toEqual([
      ['ERR_SESSION_COOKIE_TOO_LARGE', '/big'],
      ['ERR_SESSION_COOKIE_TOO_LARGE', '/later'],
    ])
    expect(handled).toEqual([])
  })

  it('sets Secure from X-Forwarded-Proto only with trustProxy, as the app says it sits behind a proxy', async () => {
    const sessions = createSessions<LoginData>({ secrets }) // cookie.secure: 'auto'
    const app = express()
    app.set('trust proxy', 'loopback')
    app.use(sessionMiddleware(sessions, { trustProxy: true }))
    app.use(express.urlencoded({ extended: false }))
    app.post('/login', (req, res) => {
      req.session.username = String(req.body.username)
      res.send(req.protocol)
    })
    const server = await startServer(app)
    const jar = new CookieJar()
    const init = formPost({ username: 'admin' })
    const response = await jar.fetch(server.url('/login'), { ...init, headers: { ...init.headers, 'x-forwarded-proto': 'https' } })
    expect(await response.text()).toBe('https')
    expect(setCookies(response)[0]?.attributes.secure).toBe(true)
  })
})
