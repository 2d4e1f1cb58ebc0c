/**
 * docs/recipes.md, "Remember me": a login form with a checkbox over node:http. Logged in without
 * it, the cookie is a browser-session cookie; with it, the cookie carries a Max-Age and outlives
 * the browser. The recipe between the markers is shown verbatim in the docs (test/recipes/docs.test.ts).
 */
import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { withSessions } from '../../src/adapters/node.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { CookieJar, formPost, startServer, useTestServers } from '../helpers/server.js'

useTestServers()

// --- recipe: remember me (docs/recipes.md) --------------------------------------------------------
type Account = { userId: string }

/** Your own check of a username and password (a slow hash such as scrypt): the user's id, or undefined. */
type CheckPassword = (username: string, password: string) => Promise<string | undefined>

/** Reads an `application/x-www-form-urlencoded` body of at most 8 KiB. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of req.setEncoding('utf8')) {
    body += chunk
    if (body.length > 8192) throw new RangeError('form body over 8 KiB')
  }
  return new URLSearchParams(body)
}

function createApp(sessions: Sessions<Account>, checkPassword: CheckPassword) {
  return withSessions(sessions, async (req, res) => {
    if (req.method === 'POST' && req.url === '/login') {
      // <form method="post" action="/login">
      //   <input name="username"> <input name="password" type="password">
      //   <label><input type="checkbox" name="remember"> Remember me</label>
      // </form>
      const form = await readForm(req)
      const userId = await checkPassword(form.get('username') ?? '', form.get('password') ?? '')
      if (userId === undefined) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('Wrong username or password')
        return
      }
      req.session.regenerate() // a new identity on login (and persistent back to the default)
      req.session.userId = userId
      req.session.persistent = form.get('remember') === 'on' // checked: the cookie outlives the browser
      res.writeHead(303, { location: '/' }).end()
      return
    }
    if (req.method === 'POST' && req.url === '/logout') {
      req.session.destroy()
      res.writeHead(303, { location: '/' }).end()
      return
    }
    const userId = req.session.userId
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
    res.end(userId === undefined ? 'You are not logged in' : `Logged in as ${userId}`)
  })
}
// --- end recipe -------------------------------------------------------------------------------------

const secrets = ['remember-me-recipe-secret-0123456789abcdef']
const LIFETIME = 30 * 24 * 3600
const IDLE = 7 * 24 * 3600

/** One account, `ada` / `correct horse`, whose id is `u1`. */
const checkPassword: CheckPassword = async (username, password) => (username === 'ada' && password === 'correct horse' ? 'u1' : undefined)

async function start() {
  const sessions = createSessions<Account>({ secrets, lifetime: LIFETIME, idleTimeout: IDLE })
  const server = await startServer(createApp(sessions, checkPassword))
  return { sessions, server }
}

async function page(jar: CookieJar, url: string): Promise<string> {
  const response = await jar.fetch(url)
  expect(response.status).toBe(200)
  return response.text()
}

describe('recipe: remember me', () => {
  it('without the checkbox, logs in with a browser-session cookie that closing the browser drops', async () => {
    const { server } = await start()
    const jar = new CookieJar()
    const login = await jar.fetch(server.url('/login'), formPost({ username: 'ada', password: 'correct horse' }))
    expect(login.status).toBe(303)
    const cookie = jar.received.at(-1)
    expect(cookie?.attributes['max-age']).toBeUndefined()
    expect(cookie?.attributes.expires).toBeUndefined()
    expect(await page(jar, server.url('/'))).toBe('Logged in as u1')

    jar.endBrowserSession()
    expect(await page(jar, server.url('/'))).toBe('You are not logged in')
  })

  it('with the checkbox, logs in with a cookie that outlives the browser, for the idle timeout', async () => {
    const { server } = await start()
    const jar = new CookieJar()
    const login = await jar.fetch(server.url('/login'), formPost({ username: 'ada', password: 'correct horse', remember: 'on' }))
    expect(login.status).toBe(303)
    // Max-Age is the lifetime, capped by the idle timeout.
    expect(jar.received.at(-1)?.attributes['max-age']).toBe(String(IDLE))

    jar.endBrowserSession()
    expect(await page(jar, server.url('/'))).toBe('Logged in as u1')
  })

  it('issues a new identity on login, whatever the session before remembered', async () => {
    const { server, sessions } = await start()
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'), formPost({ username: 'ada', password: 'correct horse', remember: 'on' }))
    const remembered = sessions.read(jar.header())
    expect(remembered.persistent).toBe(true)

    // Logging in again without the box: regenerate() reset persistent, the box left it false.
    await jar.fetch(server.url('/login'), formPost({ username: 'ada', password: 'correct horse' }))
    const cookie = jar.received.at(-1)
    expect(cookie?.attributes['max-age']).toBeUndefined()
    expect(sessions.read(jar.header()).persistent).toBe(false)
    expect(await page(jar, server.url('/'))).toBe('Logged in as u1')
  })

  it('refuses a wrong password with 401 and no cookie', async () => {
    const { server } = await start()
    const jar = new CookieJar()
    const response = await jar.fetch(server.url('/login'), formPost({ username: 'ada', password: 'wrong', remember: 'on' }))
    expect(response.status).toBe(401)
    expect(await response.text()).toBe('Wrong username or password')
    expect(response.headers.getSetCookie()).toEqual([])
  })

  it('logs out a remembered login by deleting the cookie', async () => {
    const { server } = await start()
    const jar = new CookieJar()
    await jar.fetch(server.url('/login'), formPost({ username: 'ada', password: 'correct horse', remember: 'on' }))
    expect(jar.names()).toHaveLength(1)
    const logout = await jar.fetch(server.url('/logout'), { method: 'POST' })
    expect(logout.status).toBe(303)
    expect(jar.names()).toEqual([])
    expect(await page(jar, server.url('/'))).toBe('You are not logged in')
  })
})
