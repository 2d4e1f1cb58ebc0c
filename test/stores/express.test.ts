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
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromExpressStore, type ExpressStoreLike } from '../../src/stores/express.js'
import { describeRedis } from '../helpers/redis.js'
import { change, describeStoreContract, fields, newId, sorted } from './contract.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
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

describe("fromExpressStore: the store's errors", () => {
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
    ['undefined', undefined, /^store is invalid: fromExpressStore takes an express-session store instance .*not undefined/],
    ['null', null, /^store is invalid: .*not null/],
    ['the class, not an instance', Memorystore, /^store is invalid: .*not a class or function; create the store first/],
    ['an object with get only', { get() {} }, /^store is invalid: .*this one has no set, destroy$/],
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
