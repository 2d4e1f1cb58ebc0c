/**
 * fromExpressStore over real express-session stores: the shared contract over connect-redis (on a
 * real Redis, through node-redis v5), memorystore and express-session's own MemoryStore — with the
 * lost update of a read-modify-write shown, not hidden — then what the wrapper writes, how it
 * treats a store's errors, and what it refuses.
 */
import { RedisStore } from 'connect-redis'
import session from 'express-session'
import createMemorystore from 'memorystore'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { fromExpressStore, type ExpressStoreLike } from '../../src/stores/express.js'
import { describeRedis } from '../helpers/redis.js'
import { change, describeStoreContract, fields, newId, sorted } from './contract.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const NOW_MS = Date.UTC(2026, 0, 1)
const Memorystore = createMemorystore(session)

// One concurrent block: the two stores' real-time TTL waits overlap instead of adding up.
describe.concurrent('in-memory express-session stores', () => {
  describeStoreContract('fromExpressStore on memorystore', () => ({ store: fromExpressStore(new Memorystore({})), elapse: sleep }), { atomic: false })
  describeStoreContract('fromExpressStore on express-session MemoryStore', () => ({ store: fromExpressStore(new session.MemoryStore()), elapse: sleep }), {
    atomic: false,
  })
})

describeRedis('fromExpressStore on connect-redis', (server) => {
  let client: ReturnType<typeof createClient>
  const errors: unknown[] = []
  let prefixes = 0
  const freshPrefix = (): string => `x${++prefixes}:`

  beforeAll(async () => {
    client = createClient({ url: server.url }).on('error', (error) => errors.push(error))
    await client.connect()
  })

  afterAll(async () => {
    await client?.close()
    expect(errors).toEqual([])
  })

  describeStoreContract('fromExpressStore on connect-redis', () => ({ store: fromExpressStore(new RedisStore({ client, prefix: freshPrefix() })), elapse: sleep }), {
    atomic: false,
  })

  it('writes an express-session-shaped session, whose cookie.expires connect-redis turns into the key TTL', async () => {
    const prefix = freshPrefix()
    const id = newId()
    const before = Date.now()
    await fromExpressStore(new RedisStore({ client, prefix })).save(id, change({ create: true, set: fields([['cart', '[]']]), ttl: 600, user: 'ada' }))
    const stored = JSON.parse((await server.command('GET', `${prefix}${id}`)) as string) as Record<string, unknown>
    expect(stored).toEqual({
      cookie: { originalMaxAge: 600_000, maxAge: 600_000, expires: expect.any(String) },
      frasco: { cart: '[]' },
      frascoUser: 'ada',
    })
    const expires = Date.parse((stored['cookie'] as { expires: string }).expires)
    expect(expires).toBeGreaterThanOrEqual(before + 600_000)
    expect(expires).toBeLessThanOrEqual(Date.now() + 600_000)
    const ttl = (await server.command('TTL', `${prefix}${id}`)) as number
    expect(ttl).toBeGreaterThan(590)
    expect(ttl).toBeLessThanOrEqual(600)
  })
})

/** A minimal express-session store over a Map, with the callback API only (no all()). */
function callbackStore(): ExpressStoreLike & { data: Map<string, string> } {
  const data = new Map<string, string>()
  return {
    data,
    get: (sid, callback) => queueMicrotask(() => callback(null, data.has(sid) ? JSON.parse(data.get(sid) as string) : null)),
    set: (sid, value, callback) => queueMicrotask(() => (data.set(sid, JSON.stringify(value)), callback?.())),
    destroy: (sid, callback) => queueMicrotask(() => (data.delete(sid), callback?.())),
  }
}

describe('fromExpressStore: what it reads', () => {
  it('a session another app wrote (no frasco object) counts as missing, and an update does not overwrite it', async () => {
    const inner = callbackStore()
    const id = newId()
    inner.data.set(id, JSON.stringify({ cookie: { expires: new Date(Date.now() + 60_000) }, user: 'theirs' }))
    const store = fromExpressStore(inner)
    expect(await store.load(id)).toBeUndefined()
    expect(await store.save(id, change({ set: fields([['a', '1']]) }))).toBe(false)
    expect(JSON.parse(inner.data.get(id) as string)).toMatchObject({ user: 'theirs' })
  })

  it('a session past cookie.expires counts as missing, even when the store still returns it', async () => {
    const inner = callbackStore()
    const id = newId()
    inner.data.set(id, JSON.stringify({ cookie: { expires: new Date(Date.now() - 1) }, frasco: { a: '1' } }))
    expect(await fromExpressStore(inner).load(id)).toBeUndefined()
  })

  it('fields that are not strings are skipped; the rest load', async () => {
    const inner = callbackStore()
    const id = newId()
    inner.data.set(id, JSON.stringify({ cookie: { expires: new Date(Date.now() + 60_000) }, frasco: { a: '1', b: 2, c: null } }))
    expect(sorted(await fromExpressStore(inner).load(id))).toEqual([['a', '1']])
  })
})

describe('fromExpressStore: what it keeps', () => {
  /** callbackStore with all() in the shape express-session's MemoryStore gives: an object by id. */
  const withAll = (): ExpressStoreLike & { data: Map<string, string> } => {
    const inner = callbackStore()
    return { ...inner, all: (callback) => callback(null, Object.fromEntries([...inner.data].map(([id, text]) => [id, JSON.parse(text) as unknown]))) }
  }

  it("an update that names no user keeps the session in its user's sessions", async () => {
    const inner = withAll()
    const store = fromExpressStore(inner)
    const id = newId()
    await store.save(id, change({ create: true, user: 'ada' }))
    await store.save(id, change({ set: fields([['a', '1']]) }))
    expect(JSON.parse(inner.data.get(id) as string)).toMatchObject({ frasco: { a: '1' }, frascoUser: 'ada' })
    expect(await store.destroyUser('ada')).toBe(1)
    expect(await store.load(id)).toBeUndefined()
  })

  it('a session written without a user has no frascoUser, and no user of its own', async () => {
    const inner = withAll()
    const store = fromExpressStore(inner)
    const id = newId()
    await store.save(id, change({ create: true }))
    expect(Object.keys(JSON.parse(inner.data.get(id) as string) as object).sort()).toEqual(['cookie', 'frasco'])
    expect(await store.destroyUser('undefined')).toBe(0)
    expect(await store.load(id)).toEqual({})
  })

  it.each<[what: string, stored: (now: number) => unknown, loads: boolean]>([
    ['cookie.expires as milliseconds, in the future', (now) => ({ cookie: { expires: now + 60_000 }, frasco: { a: '1' } }), true],
    ['cookie.expires as milliseconds, past', (now) => ({ cookie: { expires: now - 60_000 }, frasco: { a: '1' } }), false],
    ['cookie.expires as a Date (a store that keeps objects)', (now) => ({ cookie: { expires: new Date(now + 60_000) }, frasco: { a: '1' } }), true],
    ['cookie.expires as an ISO string', (now) => ({ cookie: { expires: new Date(now + 60_000).toISOString() }, frasco: { a: '1' } }), true],
    ['no cookie.expires', () => ({ cookie: { maxAge: 60_000 }, frasco: { a: '1' } }), false],
    ['cookie.expires of another type', (now) => ({ cookie: { expires: [now + 60_000] }, frasco: { a: '1' } }), false],
    ['no cookie', () => ({ frasco: { a: '1' } }), false],
    ['cookie null', () => ({ cookie: null, frasco: { a: '1' } }), false],
    ['frasco an array', (now) => ({ cookie: { expires: now + 60_000 }, frasco: ['1'] }), false],
    ['frasco null', (now) => ({ cookie: { expires: now + 60_000 }, frasco: null }), false],
    ['frasco a string', (now) => ({ cookie: { expires: now + 60_000 }, frasco: 'a=1' }), false],
    ['a string, not a session', () => 'session', false],
  ])('a stored session with %s', async (_what, stored, loads) => {
    // An in-process store that hands back what it holds, objects included (no JSON round trip).
    const data = new Map<string, unknown>()
    const id = newId()
    data.set(id, stored(Date.now()))
    const store = fromExpressStore({
      get: (sid, callback) => callback(null, data.get(sid)),
      set: (sid, value, callback) => (data.set(sid, value), callback?.()),
      destroy: (sid, callback) => (data.delete(sid), callback?.()),
    })
    expect(await store.load(id)).toEqual(loads ? { a: '1' } : undefined)
    // An update writes only over a session that loads.
    expect(await store.save(id, change({ set: fields([['b', '2']]) }))).toBe(loads)
  })

  it.each<[what: string, sessions: (inner: Map<string, string>) => unknown]>([
    ['an object by id', (inner) => Object.fromEntries([...inner].map(([id, text]) => [id, JSON.parse(text) as unknown]))],
    ['an array of sessions with their ids', (inner) => [...inner].map(([id, text]) => ({ ...(JSON.parse(text) as object), id }))],
  ])("destroyUser reads all() as %s, destroying the user's live sessions only", async (_what, sessions) => {
    const inner = callbackStore()
    const store = fromExpressStore({ ...inner, all: (callback) => callback(null, sessions(inner.data)) })
    const [ada1, ada2, adaExpired, bob, anonymous] = [newId(), newId(), newId(), newId(), newId()]
    await store.save(ada1, change({ create: true, user: 'ada' }))
    await store.save(ada2, change({ create: true, user: 'ada' }))
    await store.save(bob, change({ create: true, user: 'bob' }))
    await store.save(anonymous, change({ create: true }))
    inner.data.set(adaExpired, JSON.stringify({ cookie: { expires: new Date(Date.now() - 1000) }, frasco: {}, frascoUser: 'ada' }))
    // Another app's session, whose own user field is not Frasco's.
    inner.data.set(newId(), JSON.stringify({ cookie: { expires: new Date(Date.now() + 60_000) }, frasco: {}, frascoUser: 42 }))
    expect(await store.destroyUser('ada')).toBe(2)
    for (const id of [ada1, ada2]) expect(inner.data.has(id)).toBe(false)
    expect(inner.data.has(adaExpired)).toBe(true)
    for (const id of [bob, anonymous]) expect(await store.load(id)).toEqual({})
  })

  it('a session is alive until the millisecond before cookie.expires, and missing from it on', async () => {
    const data = new Map<string, unknown>()
    const store = fromExpressStore({
      get: (sid, callback) => callback(null, data.get(sid)),
      set: (sid, value, callback) => (data.set(sid, value), callback?.()),
      destroy: (sid, callback) => (data.delete(sid), callback?.()),
    })
    const id = newId()
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(NOW_MS)
      await store.save(id, change({ create: true, set: fields([['a', '1']]), ttl: 10 }))
      expect((data.get(id) as { cookie: { expires: Date } }).cookie.expires).toEqual(new Date(NOW_MS + 10_000))
      vi.setSystemTime(NOW_MS + 9_999)
      expect(await store.load(id)).toEqual({ a: '1' })
      vi.setSystemTime(NOW_MS + 10_000)
      expect(await store.load(id)).toBeUndefined()
      expect(await store.save(id, change({ set: fields([['b', '2']]) }))).toBe(false)
    } finally {
      vi.useRealTimers()
    }
  })

  it('destroyUser skips entries of all() that are not sessions', async () => {
    const inner = callbackStore()
    const store = fromExpressStore({ ...inner, all: (callback) => callback(null, [null, 'x', ...[...inner.data].map(([id, text]) => ({ ...(JSON.parse(text) as object), id }))]) })
    const id = newId()
    await store.save(id, change({ create: true, user: 'ada' }))
    expect(await store.destroyUser('ada')).toBe(1)
    expect(await store.load(id)).toBeUndefined()
  })

  it('destroyUser on a store whose all() gives nothing finds no session', async () => {
    for (const nothing of [null, undefined]) {
      const store = fromExpressStore({ ...callbackStore(), all: (callback) => callback(null, nothing) })
      expect(await store.destroyUser('ada')).toBe(0)
    }
  })

  it('destroyUser on a store whose all() gives something else rejects with a TypeError saying what', async () => {
    const store = fromExpressStore({ ...callbackStore(), all: (callback) => callback(null, 42) })
    await expect(store.destroyUser('ada')).rejects.toThrow(
      new TypeError('destroyUser is not supported by this store: its all() gave number, not a list of sessions'),
    )
  })
})

describe("fromExpressStore: the store's errors", () => {
  it('a promise the store rejects with nothing rejects with an Error saying the store failed', async () => {
    const store = fromExpressStore({ ...callbackStore(), destroy: () => Promise.reject(undefined) })
    await expect(store.destroy(newId())).rejects.toThrow(new Error('the express-session store failed'))
  })

  it('a store method that returns a resolved promise and calls back settles with the callback', async () => {
    const inner = callbackStore()
    const id = newId()
    const store = fromExpressStore({ ...inner, set: (sid, value, callback) => (inner.data.set(sid, JSON.stringify(value)), callback?.(), Promise.resolve('OK')) })
    expect(await store.save(id, change({ create: true, set: fields([['a', '1']]) }))).toBe(true)
    expect(await store.load(id)).toEqual({ a: '1' })
  })

  it('an error passed to a callback rejects, unchanged', async () => {
    const failure = new Error('connection lost')
    const store = fromExpressStore({ ...callbackStore(), get: (_sid, callback) => callback(failure) })
    await expect(store.load(newId())).rejects.toBe(failure)
    await expect(store.save(newId(), change())).rejects.toBe(failure)
  })

  it('a promise the store rejects without calling back rejects too', async () => {
    const failure = new Error('rejected')
    const store = fromExpressStore({ ...callbackStore(), destroy: () => Promise.reject(failure) })
    await expect(store.destroy(newId())).rejects.toBe(failure)
  })

  it('a callback called twice settles once, with the first result', async () => {
    const inner = callbackStore()
    const store = fromExpressStore({ ...inner, destroy: (sid, callback) => (inner.data.delete(sid), callback?.(), callback?.(new Error('late'))) })
    await expect(store.destroy(newId())).resolves.toBeUndefined()
  })
})

describe('fromExpressStore: what it refuses', () => {
  it.each<[what: string, store: unknown, message: RegExp]>([
    ['undefined', undefined, /^store is invalid: fromExpressStore takes an express-session store instance \(with get, set and destroy\), not undefined$/],
    ['a string', 'redis://', /^store is invalid: fromExpressStore takes an express-session store instance \(with get, set and destroy\), not string$/],
    ['null', null, /^store is invalid: .*not null/],
    ['the class, not an instance', Memorystore, /^store is invalid: .*not a class or function; create the store first, e\.g\. new RedisStore\(\{ client \}\)$/],
    ['an object with get only', { get() {} }, /^store is invalid: fromExpressStore takes an express-session store, with get, set and destroy methods; this one has no set, destroy$/],
    ['an object whose methods are not functions', { get: 1, set: 'x', destroy: null }, /^store is invalid: .*this one has no get, set, destroy$/],
    ['a Map', new Map(), /^store is invalid: .*this one has no destroy$/],
  ])('%s is a TypeError', (_what, store, message) => {
    expect(() => fromExpressStore(store as ExpressStoreLike)).toThrow(TypeError)
    expect(() => fromExpressStore(store as ExpressStoreLike)).toThrow(message)
  })

  it('destroyUser on a store without all() rejects with a TypeError saying why', async () => {
    const store = fromExpressStore(callbackStore())
    await expect(store.destroyUser('ada')).rejects.toThrow(TypeError)
    await expect(store.destroyUser('ada')).rejects.toThrow(/^destroyUser is not supported by this store: express-session stores keep no user index and this one has no all\(\)/)
  })

  it("destroyUser on a store whose all() gives sessions without ids rejects once it meets the user's", async () => {
    const inner = callbackStore()
    const all: ExpressStoreLike['all'] = (callback) => callback(null, [...inner.data.values()].map((text) => JSON.parse(text) as unknown))
    const store = fromExpressStore({ ...inner, all })
    await store.save(newId(), change({ create: true, user: 'bob' }))
    expect(await store.destroyUser('ada')).toBe(0)
    await expect(store.destroyUser('bob')).rejects.toThrow(/its all\(\) gives sessions without their ids/)
  })
})
