/**
 * The store options of createSessions (`store`, `revocation`, `user`): each misuse is a TypeError
 * at construction naming the option and the fix; `user` returning something other than a string
 * is a TypeError when the session is saved, which the adapters turn into a 500.
 */
import { RedisStore } from 'connect-redis'
import express from 'express'
import session from 'express-session'
import { createClient } from 'redis'
import { describe, expect, it, vi } from 'vitest'
import { commitSession } from '../../src/adapters/jar.js'
import { sessionMiddleware, type SessionRequest } from '../../src/adapters/node.js'
import { createFlaskFormat } from '../../src/flask/index.js'
import { createSessions, isStoredSessions, type SessionsOptions, type SessionStoreOptions } from '../../src/sessions.js'
import { fromExpressStore } from '../../src/stores/express.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import { storeEnv } from '../helpers/stored-app.js'
import { cookieReader, testSecrets } from '../helpers/stored.js'
import { CookieJar, startServer, useTestServers } from '../helpers/server.js'

useTestServers()

const secrets = testSecrets()
type Options = SessionsOptions & SessionStoreOptions

describe('createSessions: store options refused at construction', () => {
  const memory = createMemoryStore()
  const expressStore = new session.MemoryStore()
  // A connect-redis store needs no connection to be constructed.
  const connectRedis = new RedisStore({ client: createClient() })

  it.each<[string, () => Options, RegExp]>([
    ['store and revocation together', () => ({ secrets, store: memory, revocation: createMemoryStore() }), /^option revocation is invalid beside store: .*give one of them$/],
    ['user without a store', () => ({ secrets, user: (data) => data['userId'] }), /^option user is invalid without store or revocation: the per-user index lives in a store$/],
    ['user not a function', () => ({ secrets, store: memory, user: 'userId' as never }), /^option user is invalid: give a function of the session's data returning the user's id, e.g. \(data\) => data\.userId$/],
    ['user not a function, without a store', () => ({ secrets, user: 'userId' as never }), /^option user is invalid: give a function/],
    ['store with the Flask format', () => ({ secrets, store: memory, format: createFlaskFormat() }), /^option store is invalid with the Flask format: store-backed sessions use Frasco's format \(omit format\)$/],
    ['revocation with the Flask format', () => ({ secrets, revocation: memory, format: createFlaskFormat() }), /^option revocation is invalid with the Flask format/],
    ['an empty object as store', () => ({ secrets, store: {} as never }), /^option store is invalid: give a session store \(createMemoryStore\(\), createRedisStore\(client\) or fromExpressStore\(store\) from frasco\/stores\); it lacks load, save, destroy, destroyUser$/],
    ['a half store', () => ({ secrets, store: { load: memory.load, save: memory.save } as never }), /^option store is invalid: give a session store .*; it lacks destroy, destroyUser$/],
    ['a string as store', () => ({ secrets, store: 'redis://localhost' as never }), /^option store is invalid: give a session store .*; it lacks load, save, destroy, destroyUser$/],
    ['a non-store as revocation', () => ({ secrets, revocation: { load() {} } as never }), /^option revocation is invalid: give a session store .*; it lacks save, destroy, destroyUser$/],
    ["express-session's MemoryStore as store", () => ({ secrets, store: expressStore as never }), /^option store is invalid: this looks like an express-session store \(get, set, destroy\); wrap it: fromExpressStore\(store\) from frasco\/stores$/],
    ['a connect-redis store as store', () => ({ secrets, store: connectRedis as never }), /^option store is invalid: this looks like an express-session store .*fromExpressStore\(store\)/],
    ['a connect-redis store as revocation', () => ({ secrets, revocation: connectRedis as never }), /^option revocation is invalid: this looks like an express-session store .*fromExpressStore\(store\)/],
  ])('%s', (_name, options, message) => {
    expect(() => createSessions(options())).toThrow(TypeError)
    expect(() => createSessions(options())).toThrow(message)
  })

  it('an express-session store wrapped with fromExpressStore is taken', () => {
    const sessions = createSessions({ secrets, store: fromExpressStore(expressStore) })
    expect(isStoredSessions(sessions)).toBe(true)
    expect(sessions.data).toBe('store')
  })

  it('a store, or a revocation store, makes a StoredSessions; neither makes Sessions', () => {
    const stored = createSessions({ secrets, store: memory })
    const revocable = createSessions({ secrets, revocation: memory })
    const plain = createSessions({ secrets })
    expect([isStoredSessions(stored), stored.data, stored.store]).toEqual([true, 'store', memory])
    expect([isStoredSessions(revocable), revocable.data, revocable.store]).toEqual([true, 'cookie', memory])
    expect(isStoredSessions(plain)).toBe(false)
    expect('load' in plain).toBe(false)
  })

  it('revocation: null is refused', () => {
    expect(() => createSessions({ secrets, revocation: null as never })).toThrow(/^option revocation is invalid: give a session store/)
  })

  // `store: null` (say `store: redis ? createRedisStore(redis) : null` with the client missing) is
  // taken as no store at all: createSessions silently returns a cookie-only manager, so the data
  // the app meant to keep on the server goes into a readable cookie. `revocation: null` is refused
  // (above). REPORTED: src/manager/config.ts resolveStore, `store ?? revocation` with store null
  // and revocation undefined gives undefined, and the manager is cookie-only.
  it('store: null is refused, not taken as "no store"', () => {
    expect(() => createSessions({ secrets, store: null as never })).toThrow(/^option store is invalid/)
  })

  // A node-redis client has get, set and destroy (its own commands and its close), so it is taken
  // for an express-session store and the message suggests fromExpressStore, which would not work
  // either. Passing the client itself (`store: client`) is a likely slip; the fix is
  // createRedisStore(client). REPORTED: src/manager/config.ts assertStore.
  it('a node-redis client as store: the message suggests createRedisStore(client)', () => {
    expect(() => createSessions({ secrets, store: createClient() as never })).toThrow(/^option store is invalid: .*createRedisStore\(client\)/)
    expect(() => createSessions({ secrets, store: createClient() as never })).not.toThrow(/fromExpressStore\(store\) from frasco\/stores$/)
  })
})

describe('the user option at save time', () => {
  it.each<[string, unknown, RegExp]>([
    ['a number', 42, /^option user is invalid: it returned a number; return the user's id as a non-empty string, or undefined when nobody is logged in$/],
    ['an empty string', '', /^option user is invalid: it returned an empty string/],
    ['an object', { id: 'u1' }, /^option user is invalid: it returned an object; /],
    ['a boolean', true, /^option user is invalid: it returned a boolean/],
  ])('returning %s: save rejects with a TypeError, and nothing is stored', async (_name, value, message) => {
    const store = createMemoryStore()
    const save = vi.spyOn(store, 'save')
    const sessions = createSessions({ secrets, store, user: () => value as string })
    const fresh = await sessions.load(undefined)
    fresh.set('userId', 'u1')
    await expect(sessions.save(fresh)).rejects.toThrow(TypeError)
    await expect(sessions.save(fresh)).rejects.toThrow(message)
    expect(save).not.toHaveBeenCalled()
  })

  it('returning null or undefined: nobody logged in, the session is stored without an index entry', async () => {
    const store = createMemoryStore()
    const save = vi.spyOn(store, 'save')
    for (const nobody of [null, undefined]) {
      const sessions = createSessions({ secrets, store, user: () => nobody })
      const fresh = await sessions.load(undefined)
      fresh.set('cart', ['tea'])
      await sessions.save(fresh)
      expect(save.mock.calls.at(-1)?.[1]).not.toHaveProperty('user')
    }
  })

  it('through sessionMiddleware: a 500 without the cookie, the TypeError to onError; a session that loads with a bad user is a 500 through next', async () => {
    const store = createMemoryStore()
    const errors: unknown[] = []
    let mode: 'string' | 'number' = 'number'
    const sessions = createSessions({ secrets, store, user: (data) => (mode === 'number' ? 42 : data['userId']) as string })
    const app = express()
    app.use(sessionMiddleware(sessions, { onError: (error) => errors.push(error) }))
    app.get('/login', (req, res) => {
      ;(req as unknown as SessionRequest).session.set('userId', 'u1')
      res.send('ok')
    })
    app.get('/', (_req, res) => {
      res.send('home')
    })
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(error)
      res.status(500).send('error page')
    })
    const server = await startServer(app)
    const jar = new CookieJar()

    const failed = await jar.fetch(server.url('/login'))
    expect(failed.status).toBe(500)
    expect(failed.headers.getSetCookie()).toEqual([])
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(TypeError)
    expect(String(errors[0])).toMatch(/option user is invalid: it returned a number/)

    mode = 'string'
    expect((await jar.fetch(server.url('/login'))).status).toBe(200)
    expect(cookieReader(secrets).idOf(jar)).toBeDefined()
    // The same data, read back under a user function that now misbehaves.
    mode = 'number'
    const home = await jar.fetch(server.url('/'))
    expect(home.status).toBe(500)
    expect(await home.text()).toBe('error page')
    expect(String(errors[1])).toMatch(/option user is invalid: it returned a number/)
  })
})

describe('save with a store: the cookie and the context, as commit does', () => {
  it.each<[secure: boolean | 'auto', https: boolean | undefined, written: boolean]>([
    ['auto', true, true],
    ['auto', false, false],
    ['auto', undefined, false],
    [true, false, true],
    [false, true, false],
  ])('cookie.secure %o, context.secure %o: Secure is written %o', async (secure, https, written) => {
    for (const mode of ['store', 'revocation'] as const) {
      const store = createMemoryStore()
      const sessions = createSessions(mode === 'store' ? { secrets, store, cookie: { secure } } : { secrets, revocation: store, cookie: { secure } })
      const session = await sessions.load(undefined)
      session.set('user', 'ada')
      const [header] = (await sessions.save(session, https === undefined ? undefined : { secure: https })).setCookie
      expect(/; Secure(;|$)/.test(header as string)).toBe(written)
    }
  })

  it('names the session key of a value it cannot store, for a new session and a changed one', async () => {
    const sessions = createSessions({ secrets, store: createMemoryStore() })
    const fresh = await sessions.load(undefined)
    fresh.set('when', (() => 1) as never)
    await expect(sessions.save(fresh)).rejects.toThrow(/session\.when/)
    const session = await sessions.load(undefined)
    session.set('user', 'ada')
    const [header] = (await sessions.save(session)).setCookie
    const again = await sessions.load((header as string).split(';', 1)[0])
    again.set('later', Symbol('x') as never)
    await expect(sessions.save(again)).rejects.toThrow(/session\.later/)
  })

  it('deletes chunk cookies left beside the session cookie, even when nothing else changed', async () => {
    const sessions = createSessions({ secrets, store: createMemoryStore() })
    const session = await sessions.load(undefined)
    session.set('user', 'ada')
    const cookie = ((await sessions.save(session)).setCookie[0] as string).split(';', 1)[0] as string
    const again = await sessions.load(`${cookie}; session.0=left-over`)
    expect(again.get('user')).toBe('ada')
    const names = (await sessions.save(again)).setCookie.map((header) => header.split('=', 1)[0])
    expect(names).toContain('session.0')
  })

  it('asks for Vary: Cookie with the cookie and the deletion of a stray chunk it writes, though nobody looked at the session', async () => {
    const sessions = createSessions({ secrets, store: createMemoryStore() })
    const session = await sessions.load(undefined)
    session.set('user', 'ada')
    const cookie = ((await sessions.save(session)).setCookie[0] as string).split(';', 1)[0] as string
    const { setCookie, vary } = await sessions.save(await sessions.load(`${cookie}; session.0=left-over`))
    expect([setCookie.map((header) => header.split('=', 1)[0]), vary]).toEqual([['session', 'session.0'], 'Cookie'])
  })

  it('with idleTimeout, re-issues an untouched session\'s cookie once a tenth of the period has passed, not a second before', async () => {
    let now = Date.UTC(2026, 0, 1)
    const sessions = createSessions({ secrets, store: createMemoryStore(), idleTimeout: 100, clock: () => now })
    const session = await sessions.load(undefined)
    session.set('user', 'ada')
    const cookie = ((await sessions.save(session)).setCookie[0] as string).split(';', 1)[0] as string
    now += 9_999
    expect((await sessions.save(await sessions.load(cookie))).setCookie).toEqual([])
    now += 1
    expect((await sessions.save(await sessions.load(cookie))).setCookie).toHaveLength(1)
  })

  it('gives a new session no id when the store did not write it', async () => {
    const memory = createMemoryStore()
    const refusing = { load: memory.load, save: async () => false, destroy: memory.destroy, destroyUser: memory.destroyUser }
    const sessions = createSessions({ secrets, store: refusing })
    const session = await sessions.load(undefined)
    session.set('user', 'ada')
    await sessions.save(session)
    expect(sessions.sessionId(session)).toBeUndefined()
  })

  it('keeps the id of a new session saved twice in one request; a regenerated one saved twice never keeps its old id', async () => {
    const { sessions, spies, stored } = storeEnv()
    const cookieOf = (header: string | undefined) => (header as string).split(';', 1)[0]
    const session = await sessions.load(undefined)
    session.set('user', 'ada')
    await sessions.save(session)
    const id = sessions.sessionId(session) as string
    session.set('note', 'dark')
    const [header] = (await sessions.save(session)).setCookie
    const created = spies.save.mock.calls.filter(([, change]) => change.create).map(([created]) => created)
    expect([sessions.sessionId(session), created]).toEqual([id, [id]])
    const again = await sessions.load(cookieOf(header))
    expect([sessions.sessionId(again), again.get('user'), again.get('note')]).toEqual([id, 'ada', 'dark'])

    again.regenerate()
    again.set('user', 'grace')
    await sessions.save(again)
    const renewed = sessions.sessionId(again) as string
    const [renewedHeader] = (await sessions.save(again)).setCookie
    const last = sessions.sessionId(again) as string
    expect(new Set([id, renewed, last]).size).toBe(3)
    expect([await stored(id), await stored(renewed), await stored(last)]).toEqual([undefined, undefined, { user: 'grace' }])
    expect((await sessions.load(cookieOf(renewedHeader))).get('user')).toBe('grace')
  })

  it.each(['store', 'revocation'] as const)('a new session saved twice, later in the request, keeps the expiry of its first save (data in the %s)', async (mode) => {
    let now = Date.UTC(2026, 0, 1)
    const store = createMemoryStore()
    const sessions = createSessions({ secrets, lifetime: 1000, clock: () => now, ...(mode === 'store' ? { store } : { revocation: store }) })
    const session = await sessions.load(undefined)
    session.set('user', 'ada')
    await sessions.save(session)
    now += 500_000
    session.set('theme', 'dark')
    const cookie = ((await sessions.save(session)).setCookie[0] as string).split(';', 1)[0] as string
    now += 400_000
    expect((await sessions.load(cookie)).get('theme')).toBe('dark')
    // Past the first save's expiry and the 60 seconds of clock tolerance, before the second's.
    now += 200_000
    const late = await sessions.load(cookie)
    expect([late.isNew, sessions.invalidReason(late)?.code]).toEqual([true, 'ERR_SESSION_EXPIRED'])
  })

  it('asks for Vary: Cookie when the session was looked at, even with nothing to write, and not when it was only loaded', async () => {
    const sessions = createSessions({ secrets, store: createMemoryStore() })
    const looked = await sessions.load(undefined)
    looked.get('user')
    expect(await sessions.save(looked)).toEqual({ setCookie: [], vary: 'Cookie' })
    // Loading is not looking: the await that resolved load() read nothing the response depends on.
    expect(await sessions.save(await sessions.load(undefined))).toEqual({ setCookie: [], vary: undefined })
  })

  it('refuses, in an adapter, a copy of a store-backed manager (not one createSessions made)', async () => {
    const sessions = createSessions({ secrets, store: createMemoryStore() })
    const copy = { ...sessions }
    const session = await copy.load(undefined)
    session.set('user', 'ada')
    const jar = { get: () => undefined, set: () => undefined }
    await expect(async () => commitSession(copy, jar, session)).rejects.toThrow(
      new TypeError('sessions is invalid: give a session manager made by createSessions({ store }) or createSessions({ revocation })'),
    )
  })

  it.each<[boolean | 'auto' | undefined, boolean]>([
    [undefined, true],
    ['auto', true],
    [true, false],
    [false, false],
  ])('says secureAuto for cookie.secure %o as the cookie manager does: %o', (secure, auto) => {
    const options = secure === undefined ? {} : { cookie: { secure } }
    expect(createSessions({ secrets, store: createMemoryStore(), ...options }).secureAuto).toBe(auto)
    expect(createSessions({ secrets, ...options }).secureAuto).toBe(auto)
  })

  it('takes for a store-backed manager only an object whose load is a function', () => {
    const plain = createSessions({ secrets })
    expect(isStoredSessions({ ...plain, load: 'yes' } as never)).toBe(false)
  })

  it('refuses a context that is not an object, naming sessions.save', async () => {
    const sessions = createSessions({ secrets, store: createMemoryStore() })
    const session = await sessions.load(undefined)
    await expect(sessions.save(session, 'https' as never)).rejects.toThrow(new TypeError('options are invalid: sessions.save takes an options object'))
  })
})
