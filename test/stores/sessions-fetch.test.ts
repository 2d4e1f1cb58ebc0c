/**
 * Store mode (`createSessions({ store })`) through frasco/fetch: withSessions, and readSession /
 * commitSession by hand, which return promises with a store-backed manager. Served over node:http.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { commitSession, readSession, withSessions } from '../../src/adapters/fetch.js'
import type { Session } from '../../src/session.js'
import {
  USER,
  act,
  describeStoreFeatures,
  expectStoreFlow,
  get,
  login,
  sessionFlash,
  storeEnv,
  type AppData,
  type Outcome,
  type StoreEnv,
} from '../helpers/stored-app.js'
import { CookieJar, serveFetch, startServer, useTestServers, type TestServer } from '../helpers/server.js'

useTestServers()

function toResponse(outcome: Outcome): Response {
  const headers: Record<string, string> = outcome.location === undefined ? { 'content-type': 'text/plain' } : { location: outcome.location }
  return new Response(outcome.body === '' ? null : outcome.body, { status: outcome.status, headers })
}

async function formOf(request: Request): Promise<URLSearchParams> {
  return new URLSearchParams(request.method === 'POST' ? await request.text() : '')
}

function startWithSessions(env: StoreEnv): Promise<TestServer> {
  const handler = withSessions<AppData>(
    env.sessions,
    async (request, session) => {
      const context = { sessions: env.sessions, session: () => session, form: await formOf(request), end: () => session.destroy(), ...sessionFlash(() => session) }
      return toResponse(await act(context, request.method, new URL(request.url).pathname))
    },
    { onError: env.onError },
  )
  return startServer(serveFetch(handler))
}

function startByHand(env: StoreEnv): Promise<TestServer> {
  return startServer(
    serveFetch(async (request) => {
      const pending = readSession(env.sessions, request)
      expectTypeOf(pending).toEqualTypeOf<Promise<Session<AppData>>>()
      const session = await pending
      const context = { sessions: env.sessions, session: () => session, form: await formOf(request), end: () => session.destroy(), ...sessionFlash(() => session) }
      const outcome = await act(context, request.method, new URL(request.url).pathname)
      const committed = commitSession(env.sessions, request, toResponse(outcome), session)
      expect(committed).toBeInstanceOf(Promise)
      return committed
    }),
  )
}

describe('store mode through frasco/fetch: log in, count, log out', () => {
  it('withSessions', async () => {
    const env = storeEnv()
    await expectStoreFlow(await startWithSessions(env), env)
  })

  it('await readSession / await commitSession', async () => {
    const env = storeEnv()
    await expectStoreFlow(await startByHand(env), env)
  })
})

describeStoreFeatures('frasco/fetch withSessions', startWithSessions, { throwsTo: 'response' })

describe('commitSession by hand with a store', () => {
  it('onto an immutable Response.redirect (copied) and onto Headers, after the store has the session', async () => {
    const env = storeEnv()
    const request = new Request('http://localhost/login', { method: 'POST' })
    const session = await readSession(env.sessions, request)
    session.set('user', USER)
    const redirect = await commitSession(env.sessions, request, Response.redirect('http://localhost/', 303), session)
    expect(redirect.status).toBe(303)
    const id = env.sessions.sessionId(session) as string
    expect(await env.stored(id)).toEqual({ user: USER })
    expect(env.reader.payload(redirect.headers.getSetCookie()[0]?.split(';')[0]?.slice('session='.length))).toEqual({ i: id })

    const again = await readSession(env.sessions, new Request('http://localhost/', { headers: { cookie: redirect.headers.getSetCookie()[0]?.split(';')[0] as string } }))
    expect(again.get('user')).toBe(USER)
    again.set('count', 1)
    const headers = await commitSession(env.sessions, request, new Headers({ vary: 'Accept' }), again)
    expect(headers.get('vary')).toBe('Accept, Cookie')
    expect(await env.stored(id)).toEqual({ count: 1, user: USER })
  })

  it('a late change after withSessions returned is reported, not stored', async () => {
    const env = storeEnv()
    let kept: Session<AppData> | undefined
    const server = await startServer(
      serveFetch(
        withSessions<AppData>(
          env.sessions,
          (_request, session) => {
            kept = session
            session.set('user', USER)
            return new Response('ok')
          },
          { onError: env.onError },
        ),
      ),
    )
    const jar = new CookieJar(env.clock.now)
    expect((await get(server, jar, '/')).body).toBe('ok')
    const id = env.reader.idOf(jar) as string
    kept?.set('note', 'too late')
    expect(env.errors.map((error) => (error as { code?: string }).code)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT'])
    expect(await env.stored(id)).toEqual({ user: USER })
  })

  it('a second tab with the same cookie sees the first tab\'s write at once (the data is not in the cookie)', async () => {
    const env = storeEnv()
    const server = await startWithSessions(env)
    const jar = new CookieJar(env.clock.now)
    await login(server, env, jar)
    const value = jar.get('session') as string
    await get(server, jar, '/count')
    await get(server, jar, '/count')
    // The other tab still sends the cookie of the login response, yet sees the count.
    const other = await fetch(server.url('/count'), { headers: { cookie: `session=${value}` } })
    expect(await other.text()).toBe(`${USER}:3`)
  })
})
