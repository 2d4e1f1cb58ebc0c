/**
 * Store mode under hostile input and a failing store: a bad cookie never reaches the store and
 * gives a fresh session; a stored field that does not parse gives a fresh session
 * (ERR_SESSION_MALFORMED), never a crash; a store that fails turns into a 500 (before the headers)
 * or a report to onError (after them), never an unhandled rejection or a logout.
 */
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withSessions as withFetchSessions } from '../../src/adapters/fetch.js'
import { createSessions } from '../../src/sessions.js'
import { createRedisStore } from '../../src/stores/redis.js'
import type { StoreChange } from '../../src/stores/store.js'
import { USER, act, describeStoreFailures, get, login, replay, secrets, sessionCookie, sessionFlash, storeEnv, type AppData } from '../helpers/stored-app.js'
import { startExpress, startWithSessions } from '../helpers/stored-node.js'
import { describeRedis } from '../helpers/redis.js'
import { cookieReader, pendingAfter, storeCookieCodec, testSecrets } from '../helpers/stored.js'
import { CookieJar, formPost, isDeletion, serveFetch, startServer, useTestServers } from '../helpers/server.js'

useTestServers()

/** A change as the manager makes it for an existing session. */
function update(set: Record<string, string>): StoreChange {
  return { set, remove: [], ttl: 3600, create: false }
}

describe('a bad session cookie never reaches the store', () => {
  /** Signs payloads as the store manager does (same secrets, purpose and clock): they verify, and only their shape is wrong. */
  const forger = (env: ReturnType<typeof storeEnv>) => storeCookieCodec(secrets, { clock: env.clock.now })

  // [case, how to make the bad value from a good one, the reason]
  const cases: Array<[string, (good: string, env: ReturnType<typeof storeEnv>) => string, string]> = [
    ['a tampered signature', (good) => good.slice(0, -2) + (good.at(-2) === 'A' ? 'B' : 'A') + good.slice(-1), 'ERR_SESSION_SIGNATURE_INVALID'],
    [
      'a tampered payload (one bit of the id flipped)',
      (good) => {
        const parts = good.split('.')
        const payload = Buffer.from(parts[2] as string, 'base64url')
        payload.writeUInt8((payload.at(-3) as number) ^ 1, payload.length - 3)
        parts[2] = payload.toString('base64url')
        return parts.join('.')
      },
      'ERR_SESSION_SIGNATURE_INVALID',
    ],
    ['a truncated cookie', (good) => good.slice(0, good.lastIndexOf('.') + 10), 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a cookie cut before its signature', (good) => good.slice(0, good.lastIndexOf('.')), 'ERR_SESSION_MALFORMED'],
    ['a cookie under another secret', (_good, env) => createSessions({ secrets: testSecrets(), clock: env.clock.now }).sign({ i: 'A'.repeat(24) }), 'ERR_SESSION_UNKNOWN_KEY'],
    ['garbage', () => 'not-a-session', 'ERR_SESSION_MALFORMED'],
    ['a signed payload without an id', (_good, env) => forger(env).sign({ user: USER }), 'ERR_SESSION_MALFORMED'],
    ["a cookie session's cookie, same secrets and name (another purpose)", (_good, env) => createSessions({ secrets, clock: env.clock.now }).sign({ i: 'A'.repeat(24) }), 'ERR_SESSION_SIGNATURE_INVALID'],
    ['a signed id of the wrong shape', (_good, env) => forger(env).sign({ i: 'short' }), 'ERR_SESSION_MALFORMED'],
    ['a signed id that is not a string', (_good, env) => forger(env).sign({ i: 12345 }), 'ERR_SESSION_MALFORMED'],
    ['a signed id with a path in it', (_good, env) => forger(env).sign({ i: '../../../../etc/passwd:xx' }), 'ERR_SESSION_MALFORMED'],
    ['a signed id with a good id after a path', (_good, env) => forger(env).sign({ i: `../${'A'.repeat(24)}` }), 'ERR_SESSION_MALFORMED'],
    ['a signed id with a good id before a path', (_good, env) => forger(env).sign({ i: `${'A'.repeat(24)}/..` }), 'ERR_SESSION_MALFORMED'],
  ]
  it.each(cases)('%s: a fresh session, store.load never called, the cookie deleted', async (_name, make, code) => {
    const env = storeEnv()
    const server = await startExpress(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    const bad = make(jar.get('session') as string, env)
    env.spies.load.mockClear()
    const { response, body } = await replay(server, bad)
    expect(response.status).toBe(200)
    expect(body).toBe(`anonymous|${code}`)
    expect(env.spies.load).not.toHaveBeenCalled()
    const deletion = sessionCookie(response)
    expect(deletion !== undefined && isDeletion(deletion)).toBe(true)
    // The real session is untouched.
    expect(await env.stored(id)).toEqual({ user: USER })
  })

  it('an expired cookie: a fresh session, store.load never called', async () => {
    const env = storeEnv({ lifetime: 3600 })
    const server = await startExpress(env)
    const jar = new CookieJar(env.clock.now)
    await login(server, env, jar)
    const value = jar.get('session') as string
    env.clock.advance(3600 + 61) // past the lifetime and the 60 s clock tolerance
    env.spies.load.mockClear()
    expect((await replay(server, value)).body).toBe('anonymous|ERR_SESSION_EXPIRED')
    expect(env.spies.load).not.toHaveBeenCalled()
  })

  it('a cookie from the future (issued by a clock far ahead): refused unread', async () => {
    const env = storeEnv()
    const server = await startExpress(env)
    const ahead = storeCookieCodec(secrets, { clock: () => env.clock.now() + 3_600_000 })
    env.spies.load.mockClear()
    expect((await replay(server, ahead.sign({ i: 'A'.repeat(24) }))).body).toBe('anonymous|ERR_SESSION_NOT_YET_VALID')
    expect(env.spies.load).not.toHaveBeenCalled()
  })

  it('a well-signed id the store does not hold: loaded once, revoked', async () => {
    const env = storeEnv()
    const server = await startExpress(env)
    const { body } = await replay(server, forger(env).sign({ i: 'A'.repeat(24) }))
    expect(body).toBe('anonymous|ERR_SESSION_REVOKED')
    expect(env.spies.load.mock.calls).toEqual([['A'.repeat(24)]])
  })

  it('a fresh session started from a bad cookie gets a new id, never the one the cookie named', async () => {
    const env = storeEnv()
    const server = await startExpress(env)
    const jar = new CookieJar(env.clock.now)
    jar.set('session', forger(env).sign({ i: 'A'.repeat(24) }))
    await get(server, jar, '/count')
    const id = env.reader.idOf(jar) as string
    expect(id).not.toBe('A'.repeat(24))
    expect(await env.stored(id)).toEqual({ count: 1 })
    expect(await env.stored('A'.repeat(24))).toBeUndefined()
  })
})

describe('why a stored session is refused, word for word', () => {
  const ID = 'A'.repeat(24)
  const signed = (env: ReturnType<typeof storeEnv>, payload: object, mode: 'store' | 'revocation' = 'store') =>
    storeCookieCodec(secrets, { clock: env.clock.now, mode }).sign(payload)
  const stored = async (env: ReturnType<typeof storeEnv>, set: Record<string, string>): Promise<string> => {
    await env.raw.save(ID, { set, remove: [], ttl: 3600, create: true })
    return signed(env, { i: ID })
  }

  it.each<[string, (env: ReturnType<typeof storeEnv>) => string | Promise<string>, string]>([
    ['an id of the wrong shape', (env) => signed(env, { i: 'short' }), 'session cookie holds no valid session id'],
    ['a field that is not JSON', (env) => stored(env, { user: 'not json' }), 'payload is not valid JSON'],
    ['fields over 1 MiB together', (env) => stored(env, { a: 'x'.repeat(600_000), b: 'y'.repeat(600_000) }), 'stored session is over the size limit'],
  ])('%s', async (_, make, message) => {
    const env = storeEnv()
    const session = await env.sessions.load(`session=${await make(env)}`)
    expect(session.isNew).toBe(true)
    expect(env.sessions.invalidReason(session)?.message).toBe(message)
  })

  it('an empty session cookie is no cookie: no reason, and the store is not asked', async () => {
    const env = storeEnv()
    env.spies.load.mockClear()
    const session = await env.sessions.load('session=')
    expect(session.isNew).toBe(true)
    expect(env.sessions.invalidReason(session)).toBeUndefined()
    expect(env.invalid).toEqual([])
    expect(env.spies.load).not.toHaveBeenCalled()
  })

  it('with revocation, a cookie that holds an id and no data', async () => {
    const env = storeEnv()
    const sessions = createSessions({ secrets, revocation: env.store, clock: env.clock.now })
    const session = await sessions.load(`session=${signed(env, { i: ID }, 'revocation')}`)
    expect(session.isNew).toBe(true)
    expect(sessions.invalidReason(session)?.message).toBe('session cookie holds no session data beside its id')
  })
})

describe('a stored field that does not parse', () => {
  it.each([
    ['not JSON', 'not json'],
    ['cut JSON', '{"a":'],
    ['empty', ''],
    ['an unknown tag', '{"$t":1}'],
    ['a number beyond a double', '1e999'],
  ])('%s: a fresh session (ERR_SESSION_MALFORMED), the cookie deleted, never a crash', async (_name, garbage) => {
    const env = storeEnv()
    const server = await startExpress(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    await env.raw.save(id, update({ user: garbage }))
    const { response, body } = await get(server, jar, '/whoami')
    expect(response.status).toBe(200)
    expect(body).toBe('anonymous|ERR_SESSION_MALFORMED')
    expect(jar.get('session')).toBeUndefined()
    expect(env.errors).toEqual([])
    // The server is still up, and the browser can start over.
    await login(server, env, jar)
    expect((await get(server, jar, '/whoami')).body).toBe(`${USER}|`)
  })
})

describeStoreFailures('a failing store, sessionMiddleware on Express 5: the error handler answers 500', startExpress, { throwsTo: 'errors' })
describeStoreFailures('a failing store, withSessions with res.end(body): a 500, the error to onError', startWithSessions('end'), { throwsTo: 'errors' })

describe('a store whose load rejects (an outage is not a logout)', () => {
  it('frasco/fetch withSessions rejects with the error (the server answers 500)', async () => {
    const env = storeEnv()
    const handler = withFetchSessions<AppData>(env.sessions, async (request, session) => {
      const outcome = await act({ sessions: env.sessions, session: () => session, form: new URLSearchParams(), end: () => session.destroy(), ...sessionFlash(() => session) }, request.method, new URL(request.url).pathname)
      return new Response(outcome.body, { status: outcome.status })
    })
    const outage = new Error('store down')
    env.spies.load.mockRejectedValueOnce(outage)
    const forger = storeCookieCodec(secrets, { clock: env.clock.now })
    await expect(handler(new Request('http://localhost/whoami', { headers: { cookie: `session=${forger.sign({ i: 'A'.repeat(24) })}` } }))).rejects.toBe(outage)
    const server = await startServer(serveFetch(handler))
    env.spies.load.mockRejectedValueOnce(outage)
    expect((await replay(server, forger.sign({ i: 'A'.repeat(24) }))).response.status).toBe(500)
  })
})

describe('a store whose save rejects', () => {
  it('after the headers (writeHead path): the response still completes, and onError gets the error', async () => {
    const env = storeEnv()
    const server = await startWithSessions('writeHead')(env)
    const outage = new Error('store down')
    env.spies.save.mockRejectedValueOnce(outage)
    const jar = new CookieJar(env.clock.now)
    const response = await jar.fetch(server.url('/login'), formPost({ username: USER }))
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    await response.arrayBuffer()
    expect(env.errors).toEqual([outage])
    // The cookie went out with the headers, naming an id the store never got: the next request
    // finds no session (a fresh one, not an error).
    const id = env.reader.idOf(jar) as string
    expect(await env.stored(id)).toBeUndefined()
    expect((await get(server, jar, '/whoami')).body).toBe('anonymous|ERR_SESSION_REVOKED')
  })

  it('after the headers (a streamed body): the body completes, and onError gets the error', async () => {
    const env = storeEnv()
    const server = await startWithSessions('stream')(env)
    const jar = new CookieJar(env.clock.now)
    const id = await login(server, env, jar)
    const outage = new Error('store down')
    env.spies.save.mockRejectedValueOnce(outage)
    const counted = await get(server, jar, '/count')
    expect(counted.response.status).toBe(200)
    expect(counted.body).toBe(`${USER}:1`)
    expect(env.errors).toEqual([outage])
    expect(await env.stored(id)).toEqual({ user: USER })
  })

  it('a store whose save never settles holds that response only, not the server', async () => {
    const env = storeEnv()
    const server = await startExpress(env)
    const jar = new CookieJar(env.clock.now)
    await login(server, env, jar)
    env.spies.save.mockImplementationOnce(() => new Promise<boolean>(() => {}))
    const stuck = jar.fetch(server.url('/count'))
    stuck.catch(() => {}) // the connection is closed after the test
    expect(await pendingAfter(stuck, 100)).toBe(true)
    const other = new CookieJar(env.clock.now)
    expect((await get(server, other, '/whoami')).body).toBe('anonymous|')
  })
})

describeRedis('store mode on a real Redis, with hostile data in it', (server) => {
  let client: ReturnType<typeof createClient>
  const clientErrors: unknown[] = []
  let prefixes = 0

  beforeAll(async () => {
    client = createClient({ url: server.url }).on('error', (error) => clientErrors.push(error))
    await client.connect()
  })
  afterAll(async () => {
    await client?.close()
    expect(clientErrors).toEqual([])
  })

  async function redisApp() {
    const prefix = `h${++prefixes}:`
    const store = createRedisStore(client, { prefix })
    const invalid: string[] = []
    const errors: unknown[] = []
    const sessions = createSessions<AppData>({ secrets, store, onInvalid: (error) => invalid.push(error.code) })
    const app = await startExpress({ ...storeEnv(), sessions, errors, onError: (error) => errors.push(error) })
    const jar = new CookieJar()
    const response = await jar.fetch(app.url('/login'), formPost({ username: USER }))
    expect(response.status).toBe(303)
    const id = cookieReader(secrets).idOf(jar) as string
    const key = `${prefix}s:${id}`
    expect(await server.command('HGET', key, 'd:user')).toBe(JSON.stringify(USER))
    return { app, jar, key, invalid, errors }
  }

  it('a field overwritten with garbage (HSET): a fresh session with ERR_SESSION_MALFORMED, never a crash', async () => {
    const { app, jar, key, invalid, errors } = await redisApp()
    expect(await server.command('HSET', key, 'd:user', '{"not": json')).toBe(0)
    const { response, body } = await get(app, jar, '/whoami')
    expect(response.status).toBe(200)
    expect(body).toBe('anonymous|ERR_SESSION_MALFORMED')
    expect(invalid).toEqual(['ERR_SESSION_MALFORMED'])
    expect(errors).toEqual([])
  })

  it('a field outside the data prefix is not a session key', async () => {
    const { app, jar, key } = await redisApp()
    await server.command('HSET', key, 'intruder', '"x"')
    expect((await get(app, jar, '/whoami')).body).toBe(`${USER}|`)
  })

  it('the session key replaced by another type (WRONGTYPE): a store failure, so a 500 through the error handler', async () => {
    const { app, jar, key, errors } = await redisApp()
    await server.command('DEL', key)
    await server.command('SET', key, 'a string, not a hash')
    const { response } = await get(app, jar, '/whoami')
    expect(response.status).toBe(500)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(String(errors[0])).toMatch(/WRONGTYPE/)
  })
})
