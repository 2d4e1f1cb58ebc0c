/**
 * Store mode's end of a response, where a review found ways to lose a write or corrupt a response:
 * code that runs while end() waits for the store (an error handler after res.send), a streamed
 * response the client abandons, a store that throws synchronously or rejects with undefined, a
 * change after res.end(), and the Fetch adapter's CSRF check never buffering a large body.
 */
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import express from 'express'
import { describe, expect, it, vi } from 'vitest'
import { withSessions as withFetchSessions } from '../../src/adapters/fetch.js'
import { sessionMiddleware, withSessions } from '../../src/adapters/node.js'
import { isSessionError } from '../../src/errors.js'
import type { Session } from '../../src/session.js'
import { createSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import type { SessionStore } from '../../src/stores/store.js'
import { startServer, useTestServers } from '../helpers/server.js'

useTestServers()

const secrets = [randomBytes(32).toString('base64url')]

/** A memory store whose saves take `delay` ms, as a store across a network does. */
function slowStore(delay: number): SessionStore {
  const store = createMemoryStore()
  return { ...store, save: async (id, change) => (await new Promise((resolve) => setTimeout(resolve, delay)), store.save(id, change)) }
}

function cookieOf(response: Response): string {
  return response.headers.getSetCookie().map((cookie) => cookie.split(';', 1)[0]).join('; ')
}

describe('store mode: what runs while end() waits for the store does not change the response', () => {
  it('Express: a route that throws after res.send still answers 200 with its body, framed right, and the session is stored', async () => {
    const sessions = createSessions<{ n: number }>({ secrets, store: slowStore(20) })
    const app = express()
    app.use(sessionMiddleware(sessions))
    app.get('/', async (req, res) => {
      // Express's req.session is typed for other tests' data in this program.
      const session = req.session as unknown as Session<{ n: number }>
      session.set('n', (session.get('n') ?? 0) + 1)
      res.send('ok')
      throw new Error('after send')
    })
    // Express's error handler would otherwise rewrite the status and headers of the pending response.
    app.use(((_error, _req, res, next) => (res.headersSent ? next() : res.status(500).send('error page'))) as express.ErrorRequestHandler)
    const server = await startServer(app)
    const first = await fetch(server.url('/'))
    expect([first.status, await first.text()]).toEqual([200, 'ok'])
    expect(first.headers.get('content-length')).toBe('2')
    const cookie = cookieOf(first)
    expect(cookie).toMatch(/^session=f1\./)
    const second = await fetch(server.url('/'), { headers: { cookie } })
    expect([second.status, await second.text()]).toEqual([200, 'ok'])
    expect((await sessions.load(cookie)).get('n')).toBe(2)
  })

  it('withSessions: a handler that throws after res.end() keeps its answer and its save; the error is reported', async () => {
    const errors: unknown[] = []
    const sessions = createSessions<{ user: string }>({ secrets, store: slowStore(20) })
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        req.session.regenerate()
        req.session.set('user', 'bob')
        res.end('ok')
        throw new Error('after end')
      }, { onError: (error) => void errors.push(error) }),
    )
    const response = await fetch(server.url('/'))
    expect([response.status, await response.text()]).toEqual([200, 'ok'])
    expect((await sessions.load(cookieOf(response))).get('user')).toBe('bob')
    expect(errors.map((error) => (error as Error).message)).toEqual(['after end'])
  })
})

describe('store mode: the store write of a headers-first response starts with the headers', () => {
  it('a logout whose streamed response the client abandons still destroys the stored session', async () => {
    const store = createMemoryStore()
    const sessions = createSessions<{ user: string }>({ secrets, store })
    const server = await startServer(
      withSessions(sessions, (req, res: ServerResponse) => {
        if (req.url === '/login') {
          req.session.set('user', 'ada')
          res.end('in')
          return
        }
        if (req.url === '/logout') {
          req.session.destroy()
          res.writeHead(200, { 'content-type': 'text/plain' })
          // A body that never ends: the client leaves first.
          Readable.from((async function* () {
            for (;;) {
              yield 'x'.repeat(65_536)
              await new Promise((resolve) => setTimeout(resolve, 10))
            }
          })()).pipe(res)
          return
        }
        res.end(`user=${req.session.get('user')}`)
      }),
    )
    const cookie = cookieOf(await fetch(server.url('/login')))
    const abort = new AbortController()
    const logout = await fetch(server.url('/logout'), { headers: { cookie }, signal: abort.signal })
    expect(logout.headers.get('set-cookie')).toMatch(/^session=; .*Max-Age=0/)
    abort.abort()
    // The copy of the cookie an attacker kept is worth nothing: the store no longer has the session.
    await expect.poll(async () => (await fetch(server.url('/'), { headers: { cookie } })).text()).toBe('user=undefined')
  })

  it('a change after res.end() is reported as ChangedAfterCommit, as in cookie mode', async () => {
    const errors: unknown[] = []
    const sessions = createSessions<{ user: string }>({ secrets, store: createMemoryStore() })
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        req.session.set('user', 'ada')
        res.end('bye')
        req.session.destroy()
      }, { onError: (error) => void errors.push(error) }),
    )
    expect(await (await fetch(server.url('/'))).text()).toBe('bye')
    await expect.poll(() => errors.length).toBe(1)
    expect(isSessionError(errors[0], 'ERR_SESSION_CHANGED_AFTER_COMMIT')).toBe(true)
  })
})

describe('store mode: a failing store before the headers is a 500 without the cookie, whatever it throws', () => {
  it.each<[string, (store: SessionStore) => SessionStore['save']]>([
    ['throws synchronously', () => () => {
      throw new Error('sync failure')
    }],
    ['rejects with undefined', () => () => Promise.reject(undefined)],
  ])('a save that %s', async (_, broken) => {
    const errors: unknown[] = []
    const store = createMemoryStore()
    const sessions = createSessions<{ n: number }>({ secrets, store: { ...store, save: broken(store) } })
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        req.session.set('n', 1)
        res.end('ok')
      }, { onError: (error) => void errors.push(error) }),
    )
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(500)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(errors).toHaveLength(1)
  })
})

describe('Fetch adapter: the CSRF check reads no large or undeclared form body', () => {
  it.each([
    ['over 64 KiB', { 'content-length': String(200 * 1024) }],
    ['of undeclared length', {}],
  ])('a multipart body %s is not read: the token is missing', async (_, length) => {
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++
        if (pulled > 3200) controller.close()
        else controller.enqueue(new Uint8Array(65_536))
      },
    })
    const errors: unknown[] = []
    let ran = false
    const handler = withFetchSessions(createSessions({ secrets }), () => ((ran = true), new Response('ok')), { csrf: true, onError: (error) => void errors.push(error) })
    const request = new Request('http://app.test/upload', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x', ...length },
      body,
      duplex: 'half',
    } as RequestInit)
    const response = await handler(request)
    expect([response.status, await response.text()]).toEqual([403, 'Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING'])
    expect(ran).toBe(false)
    // A stream pulls ahead a little; a read of the body would have pulled all 3,200 chunks.
    expect(pulled).toBeLessThan(10)
  })
})

describe('store mode: the 1 MiB limit of a stored session is enforced where it is written', () => {
  const LIMIT = 1024 * 1024
  const big = (chars: number): string => 'x'.repeat(chars)

  it('save refuses a new session over the limit and writes nothing', async () => {
    const store = createMemoryStore()
    const sessions = createSessions<Record<string, string>>({ secrets, store })
    const session = await sessions.load(undefined)
    session.set('a', big(LIMIT))
    const saves = vi.spyOn(store, 'save')
    await expect(sessions.save(session)).rejects.toMatchObject({ code: 'ERR_SESSION_PAYLOAD_TOO_LARGE', limit: LIMIT })
    expect(saves).not.toHaveBeenCalled()
  })

  it('counts the fields a request leaves as they are: a small change that tips a large session over is refused', async () => {
    const store = createMemoryStore()
    const sessions = createSessions<Record<string, string>>({ secrets, store })
    const first = await sessions.load(undefined)
    first.set('a', big(LIMIT / 2))
    const cookie = ((await sessions.save(first)).setCookie[0] as string).split(';', 1)[0]
    const second = await sessions.load(cookie)
    second.set('b', big(LIMIT / 2 - 100)) // fits: a + b is just under the limit
    await sessions.save(second)
    const third = await sessions.load(cookie)
    expect(third.get('b')?.length).toBe(LIMIT / 2 - 100)
    third.set('c', big(200)) // only c is written, but a and b still count
    const saves = vi.spyOn(store, 'save')
    await expect(sessions.save(third)).rejects.toMatchObject({ code: 'ERR_SESSION_PAYLOAD_TOO_LARGE' })
    expect(saves).not.toHaveBeenCalled()
    // Shrinking one field makes room again.
    third.set('a', 'small')
    await sessions.save(third)
    expect(Object.keys((await sessions.load(cookie)).toJSON()).sort()).toEqual(['a', 'b', 'c'])
  })

  it('through the node adapter: a 500 without the cookie, and onError gets the error', async () => {
    const errors: unknown[] = []
    const sessions = createSessions<Record<string, string>>({ secrets, store: createMemoryStore() })
    const server = await startServer(
      withSessions(sessions, (req, res) => {
        req.session.set('a', big(LIMIT))
        res.end('ok')
      }, { onError: (error) => void errors.push(error) }),
    )
    const response = await fetch(server.url('/'))
    expect(response.status).toBe(500)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(isSessionError(errors[0], 'ERR_SESSION_PAYLOAD_TOO_LARGE')).toBe(true)
  })

  it('load rejects a stored session over the limit (written by other means) as a fresh session, with the reason', async () => {
    const store = createMemoryStore()
    const reasons: string[] = []
    const sessions = createSessions<Record<string, string>>({ secrets, store, onInvalid: (error) => void reasons.push(error.code) })
    const session = await sessions.load(undefined)
    session.set('a', 'small')
    const { setCookie } = await sessions.save(session)
    const id = sessions.sessionId(session) as string
    await store.save(id, { set: { b: JSON.stringify(big(LIMIT)) }, remove: [], ttl: 60, create: false })
    const loaded = await sessions.load((setCookie[0] as string).split(';', 1)[0])
    expect([loaded.isNew, loaded.size, reasons]).toEqual([true, 0, ['ERR_SESSION_PAYLOAD_TOO_LARGE']])
  })
})
