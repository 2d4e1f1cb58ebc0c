/**
 * docs/recipes.md, "Log out everywhere": a per-user session generation kept on the server, stored
 * in the session at login and compared on every request. Bumping it ends every session of that
 * user, on every device. The recipe between the markers is shown verbatim in the docs
 * (test/recipes/docs.test.ts).
 */
import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { withSessions } from '../../src/adapters/node.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { CookieJar, formPost, isDeletion, startServer, useTestServers } from '../helpers/server.js'

useTestServers()

// --- recipe: log out everywhere (docs/recipes.md) -------------------------------------------------
type Account = { userId: string; generation: number }

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
  // userId → the user's session generation. Keep it where every server sees it and a restart
  // keeps it (a column of your users table); a Map serves one process only.
  const generations = new Map<string, number>()
  const generationOf = (userId: string) => generations.get(userId) ?? 0

  return withSessions(sessions, async (req, res) => {
    // On every request: a session from before its user's last "log out everywhere" is over.
    const signedIn = req.session.userId
    if (signedIn !== undefined && req.session.generation !== generationOf(signedIn)) {
      req.session.destroy() // deletes this device's cookie too
    }

    if (req.method === 'POST' && req.url === '/login') {
      const form = await readForm(req)
      const userId = await checkPassword(form.get('username') ?? '', form.get('password') ?? '')
      if (userId === undefined) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('Wrong username or password')
        return
      }
      req.session.regenerate() // a new identity on login, against session fixation
      req.session.userId = userId
      req.session.generation = generationOf(userId)
      res.writeHead(303, { location: '/' }).end()
      return
    }
    if (req.method === 'POST' && req.url === '/logout-everywhere') {
      const userId = req.session.userId
      if (userId !== undefined) generations.set(userId, generationOf(userId) + 1) // every device's session is now stale
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

const secrets = ['logout-everywhere-recipe-secret-0123456789ab']

/** Two accounts: `ada` (id u1) and `grace` (id u2), each with the password `pw-<name>`. */
const checkPassword: CheckPassword = async (username, password) => {
  const ids: Record<string, string> = { ada: 'u1', grace: 'u2' }
  return Object.hasOwn(ids, username) && password === `pw-${username}` ? ids[username] : undefined
}

async function start() {
  const sessions = createSessions<Account>({ secrets, lifetime: 30 * 24 * 3600, persistent: true })
  const server = await startServer(createApp(sessions, checkPassword))
  return { sessions, server }
}

async function logIn(url: string, username: string): Promise<CookieJar> {
  const jar = new CookieJar()
  const response = await jar.fetch(url, formPost({ username, password: `pw-${username}` }))
  expect(response.status).toBe(303)
  expect(jar.names()).toHaveLength(1)
  return jar
}

async function home(jar: CookieJar, url: string): Promise<string> {
  const response = await jar.fetch(url)
  expect(response.status).toBe(200)
  return response.text()
}

describe('recipe: log out everywhere', () => {
  it("ends the user's sessions on every device: another device's cookie no longer logs in", async () => {
    const { server } = await start()
    const laptop = await logIn(server.url('/login'), 'ada')
    const phone = await logIn(server.url('/login'), 'ada')
    expect(await home(laptop, server.url('/'))).toBe('Logged in as u1')
    expect(await home(phone, server.url('/'))).toBe('Logged in as u1')
    const stolen = laptop.header() as string

    const response = await phone.fetch(server.url('/logout-everywhere'), { method: 'POST' })
    expect(response.status).toBe(303)
    expect(phone.names()).toEqual([])

    // The laptop's next request finds its generation stale: logged out, and its cookie deleted.
    const before = laptop.received.length
    expect(await home(laptop, server.url('/'))).toBe('You are not logged in')
    expect(laptop.received.slice(before).map((cookie) => isDeletion(cookie))).toEqual([true])
    expect(laptop.names()).toEqual([])

    // A copy of the old cookie (still correctly signed, and within its lifetime) is refused too.
    const replayed = await fetch(server.url('/'), { headers: { cookie: stolen } })
    expect(await replayed.text()).toBe('You are not logged in')
  })

  it("leaves other users' sessions alone, and a new login works at once", async () => {
    const { server } = await start()
    const ada = await logIn(server.url('/login'), 'ada')
    const grace = await logIn(server.url('/login'), 'grace')

    await ada.fetch(server.url('/logout-everywhere'), { method: 'POST' })
    expect(await home(grace, server.url('/'))).toBe('Logged in as u2')

    const again = await logIn(server.url('/login'), 'ada')
    expect(await home(again, server.url('/'))).toBe('Logged in as u1')
  })

  it('stores the generation in the session at login and checks it on every request', async () => {
    const { server, sessions } = await start()
    const first = await logIn(server.url('/login'), 'ada')
    expect(sessions.read(first.header()).get('generation')).toBe(0)
    await first.fetch(server.url('/logout-everywhere'), { method: 'POST' })
    const second = await logIn(server.url('/login'), 'ada')
    expect(sessions.read(second.header()).get('generation')).toBe(1)

    // A session signed by the same secret but carrying the old generation is stale.
    const forged = sessions.read(undefined)
    forged.set('userId', 'u1')
    forged.set('generation', 0)
    const { setCookie } = sessions.commit(forged)
    const cookie = (setCookie[0] as string).split(';')[0] as string
    expect(await (await fetch(server.url('/'), { headers: { cookie } })).text()).toBe('You are not logged in')
  })
})
