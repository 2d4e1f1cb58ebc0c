/**
 * The Redis store on a real redis-server: the shared contract over every client it takes
 * (node-redis v5 over RESP2 and RESP3, node-redis v4, ioredis), then what is its own — atomic
 * saves under concurrency, the key layout, the user index's TTL, scripts, client detection.
 */
import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import { RESP_TYPES, createClient } from 'redis'
import { createClient as createClient4 } from 'redis4'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INDEX_SCRIPT, INDEX_SHA, SAVE_SCRIPT, SAVE_SHA } from '../../src/stores/lua.js'
import { createRedisStore, type RedisClientLike, type RedisStoreOptions } from '../../src/stores/redis.js'
import { describeRedis, type Reply } from '../helpers/redis.js'
import { change, describeStoreContract, fields, newId, sorted } from './contract.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

let prefixes = 0
/** A prefix no other test uses, so tests sharing one server never see each other's keys. */
const freshPrefix = (): string => `t${++prefixes}:`

/** HGETALL's flat reply as sorted [field, value] pairs. */
function pairs(reply: Reply): Array<[string, string]> {
  const flat = reply as string[]
  const result: Array<[string, string]> = []
  for (let i = 0; i < flat.length; i += 2) result.push([flat[i] as string, flat[i + 1] as string])
  return result.sort(([a], [b]) => (a < b ? -1 : 1))
}

describeRedis('createRedisStore', (server) => {
  let v5: ReturnType<typeof createClient>
  let v5resp3: ReturnType<typeof createClient<{}, {}, {}, 3, {}>>
  let v4: ReturnType<typeof createClient4>
  let io: Redis
  const errors: unknown[] = []

  beforeAll(async () => {
    v5 = createClient({ url: server.url }).on('error', (error) => errors.push(error))
    v5resp3 = createClient({ url: server.url, RESP: 3 }).on('error', (error) => errors.push(error))
    v4 = createClient4({ url: server.url }).on('error', (error) => errors.push(error))
    io = new Redis(server.port, '127.0.0.1', { lazyConnect: true }).on('error', (error) => errors.push(error))
    await Promise.all([v5.connect(), v5resp3.connect(), v4.connect(), io.connect()])
  })

  afterAll(async () => {
    await Promise.all([v5?.close(), v5resp3?.close(), v4?.quit(), io?.quit()])
    expect(errors).toEqual([])
  })

  const contract = (name: string, client: () => RedisClientLike): void =>
    describeStoreContract(name, () => ({ store: createRedisStore(client(), { prefix: freshPrefix() }), elapse: sleep }), { atomic: true })
  // One concurrent block: the four clients' real-time TTL waits overlap instead of adding up.
  describe.concurrent('every client', () => {
    contract('createRedisStore on node-redis v5', () => v5)
    contract('createRedisStore on node-redis v5 with RESP3', () => v5resp3)
    contract('createRedisStore on node-redis v4', () => v4)
    contract('createRedisStore on ioredis', () => io)
  })

  describe('atomic saves', () => {
    it('many concurrent saves of distinct fields, over three connections, all land', async () => {
      const prefix = freshPrefix()
      const stores = [v5, v4, io].map((client) => createRedisStore(client, { prefix }))
      const id = newId()
      await stores[0]?.save(id, change({ create: true }))
      const written = await Promise.all(
        Array.from({ length: 150 }, (_, i) => stores[i % 3]?.save(id, change({ set: fields([[`field-${i}`, String(i)]]), ttl: 60 + i }))),
      )
      expect(written.every((result) => result === true)).toBe(true)
      const loaded = await stores[1]?.load(id)
      expect(Object.keys(loaded ?? {})).toHaveLength(150)
      expect(loaded?.['field-149']).toBe('149')
    })

    it('a destroy racing many saves wins for good: whatever the interleaving, no save revives the session', async () => {
      const prefix = freshPrefix()
      const [a, b] = [createRedisStore(v5, { prefix }), createRedisStore(io, { prefix })]
      const id = newId()
      await a.save(id, change({ create: true }))
      // Two connections: Redis may apply these saves before or after the destroy, in any order.
      const save = (i: number): Promise<boolean> => (i % 2 === 0 ? a : b).save(id, change({ set: fields([[`f${i}`, '1']]) }))
      const racing = [...Array.from({ length: 60 }, (_, i) => save(i)), b.destroy(id), ...Array.from({ length: 60 }, (_, i) => save(60 + i))]
      await Promise.all(racing)
      expect(await a.load(id)).toBeUndefined()
      // Once the destroy has resolved, every save finds nothing.
      expect(await Promise.all(Array.from({ length: 20 }, (_, i) => save(200 + i)))).not.toContain(true)
      expect(await b.load(id)).toBeUndefined()
    })

    it('a session saved through one client reads the same through the others', async () => {
      const prefix = freshPrefix()
      const id = newId()
      await createRedisStore(io, { prefix }).save(id, change({ create: true, set: fields([['__proto__', 'p'], ['a:b', 'c']]) }))
      for (const client of [v5, v5resp3, v4]) {
        expect(sorted(await createRedisStore(client, { prefix }).load(id))).toEqual([['__proto__', 'p'], ['a:b', 'c']])
      }
    })
  })

  describe('the key layout', () => {
    it('<prefix>s:<id> is a hash of the marker and d:<name> fields, with the TTL; <prefix>u:<user> a set of ids', async () => {
      const store = createRedisStore(v5, { prefix: 'layout:' })
      const id = newId()
      await store.save(id, change({ create: true, set: fields([['a', '1'], ['', 'empty'], ['v', 'not the marker']]), ttl: 100, user: 'ada' }))
      expect(pairs(await server.command('HGETALL', `layout:s:${id}`))).toEqual([['d:', 'empty'], ['d:a', '1'], ['d:v', 'not the marker'], ['v', '1']])
      const pttl = (await server.command('PTTL', `layout:s:${id}`)) as number
      expect(pttl).toBeGreaterThan(99_000)
      expect(pttl).toBeLessThanOrEqual(100_000)
      expect(await server.command('TYPE', 'layout:u:ada')).toBe('set')
      expect(await server.command('SMEMBERS', 'layout:u:ada')).toEqual([id])
    })

    it("the default prefix is 'frasco:'", async () => {
      const id = newId()
      await createRedisStore(io).save(id, change({ create: true }))
      expect(await server.command('EXISTS', `frasco:s:${id}`)).toBe(1)
      await createRedisStore(io).destroy(id)
      expect(await server.command('EXISTS', `frasco:s:${id}`)).toBe(0)
    })

    it('two prefixes are two stores: the same id and user are separate', async () => {
      const [one, two] = [createRedisStore(v4, { prefix: 'one:' }), createRedisStore(v4, { prefix: 'two:' })]
      const id = newId()
      await one.save(id, change({ create: true, set: fields([['in', 'one']]), user: 'ada' }))
      expect(await two.load(id)).toBeUndefined()
      expect(await two.save(id, change({ set: fields([['in', 'two']]) }))).toBe(false)
      await two.save(id, change({ create: true, set: fields([['in', 'two']]), user: 'ada' }))
      expect(await one.destroyUser('ada')).toBe(1)
      expect(sorted(await two.load(id))).toEqual([['in', 'two']])
    })

    it("a user's index lives at least as long as each of their sessions, and is never shortened", async () => {
      const prefix = freshPrefix()
      const store = createRedisStore(io, { prefix })
      const index = async (): Promise<number> => (await server.command('PTTL', `${prefix}u:ada`)) as number
      await store.save(newId(), change({ create: true, ttl: 1000, user: 'ada' }))
      expect(await index()).toBeGreaterThan(999_000)
      await store.save(newId(), change({ create: true, ttl: 10, user: 'ada' }))
      expect(await index()).toBeGreaterThan(998_000)
      await store.save(newId(), change({ create: true, ttl: 5000, user: 'ada' }))
      expect(await index()).toBeGreaterThan(4_999_000)
    })
  })

  describe('scripts', () => {
    it('the digests are the SHA-1 of the scripts, and Redis knows them after a save', async () => {
      expect(createHash('sha1').update(SAVE_SCRIPT).digest('hex')).toBe(SAVE_SHA)
      expect(createHash('sha1').update(INDEX_SCRIPT).digest('hex')).toBe(INDEX_SHA)
      await createRedisStore(v5, { prefix: freshPrefix() }).save(newId(), change({ create: true, user: 'ada' }))
      expect(await server.command('SCRIPT', 'EXISTS', SAVE_SHA, INDEX_SHA)).toEqual([1, 1])
    })

    it('a server that forgot the scripts (SCRIPT FLUSH, a restart) is sent them again', async () => {
      const store = createRedisStore(v4, { prefix: freshPrefix() })
      const id = newId()
      await store.save(id, change({ create: true }))
      expect(await server.command('SCRIPT', 'FLUSH')).toBe('OK')
      expect(await store.save(id, change({ set: fields([['a', '1']]), user: 'ada' }))).toBe(true)
      expect(sorted(await store.load(id))).toEqual([['a', '1']])
    })

    it('a session with thousands of fields saves in one script (no Lua stack overflow)', async () => {
      const store = createRedisStore(io, { prefix: freshPrefix() })
      const id = newId()
      const many = fields(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, `v${i}`] as const))
      expect(await store.save(id, change({ create: true, set: many }))).toBe(true)
      expect(await store.save(id, change({ remove: Object.keys(many).slice(0, 9_000) }))).toBe(true)
      expect(Object.keys((await store.load(id)) ?? {})).toHaveLength(1_000)
    })
  })

  describe('clients', () => {
    it.each<[what: string, client: unknown]>([
      ['undefined', undefined],
      ['null', null],
      ['a URL', 'redis://127.0.0.1:6379'],
      ['an empty object', {}],
      ['an object whose sendCommand is not a function', { sendCommand: 'PING' }],
      ['an express-session store', { get() {}, set() {}, destroy() {} }],
      ['the createClient function itself', createClient],
    ])('%s is a TypeError naming what is accepted', (_what, client) => {
      expect(() => createRedisStore(client as RedisClientLike)).toThrow(TypeError)
      expect(() => createRedisStore(client as RedisClientLike)).toThrow(/^client is invalid: createRedisStore takes a connected node-redis client .* or an ioredis client/)
    })

    it.each<[options: unknown, message: RegExp]>([
      [{ keyPrefix: 'x:' }, /^option keyPrefix is unknown: did you mean `prefix`\?/],
      [{ ttl: 86_400 }, /^option ttl is unknown: each save carries its session's TTL; the store has no TTL of its own/],
      [{ client: {} }, /^option client is unknown: pass the client as the first argument: createRedisStore\(client, \{ prefix \}\)/],
      [{ disableTTL: true }, /^option disableTTL is unknown: sessions always expire with their TTL/],
      [{ disableTouch: true }, /^option disableTouch is unknown: a save always resets the TTL, and only a save does/],
      [{ serializer: JSON }, /^option serializer is unknown: the manager encodes values; the store keeps the strings it is given/],
      [{ scanCount: 100 }, /^option scanCount is unknown: the store never scans: a user index lists their sessions/],
      [{ prefix: 5 }, /^option prefix is invalid: give a string put before every key, like 'frasco:'$/],
      [{ prefix: 'a\uD800' }, /^option prefix is invalid/],
      ['sess:', /^options are invalid: createRedisStore takes an options object/],
    ])('options %o are a TypeError', (options, message) => {
      expect(() => createRedisStore(v5, options as RedisStoreOptions)).toThrow(message)
    })

    it('each client shape is called its own way, always asking for the primary (isReadonly false)', async () => {
      // Stand-ins with the shapes of a node-redis cluster and sentinel (the cluster clients run
      // for real in cluster.test.ts; a sentinel is not started here), forwarding to a real client.
      const calls: unknown[][] = []
      const cluster: RedisClientLike = {
        nodeClient: () => undefined,
        sendCommand: (firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]) => (calls.push(['cluster', firstKey, isReadonly]), v5.sendCommand(args)),
      }
      const sentinel: RedisClientLike = {
        getMasterNode: () => undefined,
        sendCommand: (isReadonly: boolean | undefined, args: string[]) => (calls.push(['sentinel', isReadonly]), v5.sendCommand(args)),
      }
      const prefix = freshPrefix()
      const id = newId()
      await createRedisStore(cluster, { prefix }).save(id, change({ create: true, user: 'ada' }))
      expect(await createRedisStore(cluster, { prefix }).load(id)).toEqual({})
      expect(await createRedisStore(sentinel, { prefix }).destroyUser('ada')).toBe(1)
      // (EVALSHA may be retried as EVAL, so the number of calls varies.)
      const keys = [`${prefix}u:ada`, `${prefix}s:${id}`]
      const routed = calls.filter(([kind]) => kind === 'cluster')
      expect(new Set(routed.map(([, key]) => key))).toEqual(new Set(keys))
      expect(routed.every(([, , isReadonly]) => isReadonly === false)).toBe(true)
      const viaSentinel = calls.filter(([kind]) => kind === 'sentinel')
      expect(viaSentinel.length).toBeGreaterThanOrEqual(3) // SMEMBERS, DEL, SREM
      expect(viaSentinel.every(([, isReadonly]) => isReadonly === false)).toBe(true)
    })

    it('a node-redis v4 client in legacyMode is used through its v4 API', async () => {
      const legacy = createClient4({ url: server.url, legacyMode: true })
      await legacy.connect()
      try {
        const store = createRedisStore(legacy, { prefix: freshPrefix() })
        const id = newId()
        expect(await store.save(id, change({ create: true, set: fields([['a', '1']]), user: 'ada' }))).toBe(true)
        expect(sorted(await store.load(id))).toEqual([['a', '1']])
        expect(await store.destroyUser('ada')).toBe(1)
      } finally {
        await legacy.v4.quit()
      }
    })

    it('replies as Maps, Sets or Buffers (RESP3 type mappings) read the same', async () => {
      // node-redis applies a type mapping to sendCommand only when given per call; a client that
      // always maps stands in for other clients and versions.
      const mapping = (typeMapping: Record<number, unknown>): RedisClientLike => ({
        sendCommand: (args: string[]) => v5resp3.sendCommand(args, { typeMapping } as never),
      })
      const prefix = freshPrefix()
      const id = newId()
      await createRedisStore(v5, { prefix }).save(id, change({ create: true, set: fields([['__proto__', 'p'], ['ü', '🍕']]), user: 'ada' }))
      const [asMaps, asBuffers] = [
        createRedisStore(mapping({ [RESP_TYPES.MAP]: Map, [RESP_TYPES.SET]: Set }), { prefix }),
        createRedisStore(mapping({ [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.SIMPLE_STRING]: Buffer }), { prefix }),
      ]
      for (const store of [asMaps, asBuffers]) expect(sorted(await store.load(id))).toEqual([['__proto__', 'p'], ['ü', '🍕']])
      expect(await asMaps.destroyUser('ada')).toBe(1)
    })

    it("the client's errors reject, unchanged", async () => {
      const prefix = freshPrefix()
      const id = newId()
      await server.command('SET', `${prefix}s:${id}`, 'a string, not a hash')
      await expect(createRedisStore(v5, { prefix }).load(id)).rejects.toThrow(/WRONGTYPE/)
      await expect(createRedisStore(io, { prefix }).save(id, change())).rejects.toThrow(/WRONGTYPE/)
      const closed = createClient({ url: server.url })
      await closed.connect()
      await closed.close()
      await expect(createRedisStore(closed, { prefix }).load(id)).rejects.toThrow(/closed/i)
    })
  })
})
