/**
 * The Redis store reads every reply shape a supported client gives, and refuses any other with an
 * Error saying what it expected (never the reply's content). A client stand-in forwards each
 * command to a real redis-server through node-redis and hands the store the reply another client
 * (or version, or type mapping) would give, or one no client gives.
 */
import { describe, expect, it } from 'vitest'
import { createRedisStore, type RedisClientLike } from '../../src/stores/redis.js'
import { describeRedis, useRedisClient } from '../helpers/redis.js'
import { change, fields, newId, sorted } from './contract.js'

let prefixes = 0
const freshPrefix = (): string => `r${++prefixes}:`

const unexpected = (expected: string): Error =>
  new Error(`the Redis client gave an unexpected reply (expected ${expected}); the store supports node-redis v4/v5 and ioredis`)

describeRedis('createRedisStore: reply shapes', (server) => {
  const redis = useRedisClient(server)

  /** A node-redis-shaped client whose replies to `command` pass through `rewrite`. */
  const rewriting = (command: string, rewrite: (reply: unknown) => unknown): RedisClientLike => ({
    sendCommand: async (args: string[]) => {
      const reply: unknown = await redis.client.sendCommand(args)
      return args[0] === command ? rewrite(reply) : reply
    },
  })

  /** A store with one session `id` (fields a=1, b=2) of user ada, and a client rewriting `command`. */
  const seeded = async (command: string, rewrite: (reply: unknown) => unknown) => {
    const prefix = freshPrefix()
    const id = newId()
    await createRedisStore(redis.client, { prefix }).save(id, change({ create: true, set: fields([['a', '1'], ['b', '2']]), user: 'ada' }))
    return { id, store: createRedisStore(rewriting(command, rewrite), { prefix }) }
  }

  const flat = (reply: unknown): string[] => reply as string[]
  const asObject = (reply: unknown): Record<string, string> => {
    const out: Record<string, string> = {}
    for (let i = 0; i < flat(reply).length; i += 2) out[flat(reply)[i] as string] = flat(reply)[i + 1] as string
    return out
  }

  describe('HGETALL', () => {
    it.each<[what: string, rewrite: (reply: unknown) => unknown]>([
      ['a flat array of strings (RESP2, ioredis)', (reply) => reply],
      ['a flat array of Buffers', (reply) => flat(reply).map((item) => Buffer.from(item))],
      ['a flat array of Uint8Arrays that are views into a larger buffer', (reply) => flat(reply).map((item) => new Uint8Array(Buffer.from(`__${item}__`)).subarray(2, 2 + Buffer.byteLength(item)))],
      ['a Map', (reply) => new Map(Object.entries(asObject(reply)))],
      ['a Map of Buffers', (reply) => new Map(Object.entries(asObject(reply)).map(([name, value]) => [Buffer.from(name), Buffer.from(value)]))],
      ['an object (node-redis RESP3 without a Map mapping)', (reply) => asObject(reply)],
      ['an object of Buffers', (reply) => Object.fromEntries(Object.entries(asObject(reply)).map(([name, value]) => [name, Buffer.from(value)]))],
    ])('reads %s', async (_what, rewrite) => {
      const { id, store } = await seeded('HGETALL', rewrite)
      expect(sorted(await store.load(id))).toEqual([['a', '1'], ['b', '2']])
    })

    it.each<[what: string, reply: unknown]>([
      ['null', null],
      ['undefined', undefined],
      ['an empty array', []],
      ['an empty Map', new Map()],
      ['an empty object', {}],
    ])('reads %s as no session', async (_what, reply) => {
      const { id, store } = await seeded('HGETALL', () => reply)
      expect(await store.load(id)).toBeUndefined()
    })

    it.each<[what: string, reply: unknown, expected: string]>([
      ['an array of odd length', ['d:a', '1', 'v'], 'a hash, for HGETALL'],
      ['a number', 2, 'a hash, for HGETALL'],
      ['a string', 'd:a', 'a hash, for HGETALL'],
      ['bytes', Buffer.from('d:a'), 'a hash, for HGETALL'],
      ['an array with a number in it', ['d:a', 1], 'a string'],
      ['an array with null in it', [null, '1'], 'a string'],
      ['an object with a number value', { 'd:a': 1 }, 'a string'],
    ])('refuses %s, saying what it expected', async (_what, reply, expected) => {
      const { id, store } = await seeded('HGETALL', () => reply)
      await expect(store.load(id)).rejects.toThrow(unexpected(expected))
    })
  })

  describe('SMEMBERS, DEL and the scripts', () => {
    it.each<[what: string, rewrite: (reply: unknown) => unknown]>([
      ['an array', (reply) => reply],
      ['a Set', (reply) => new Set(reply as string[])],
      ['an array of Buffers', (reply) => (reply as string[]).map((id) => Buffer.from(id))],
    ])('reads a user index given as %s', async (_what, rewrite) => {
      const { id, store } = await seeded('SMEMBERS', rewrite)
      expect(await store.destroyUser('ada')).toBe(1)
      expect(await store.load(id)).toBeUndefined()
    })

    it.each<[what: string, reply: unknown, expected: string]>([
      ['a string', 'id', 'a set, for SMEMBERS'],
      ['null', null, 'a set, for SMEMBERS'],
      ['an object', { id: true }, 'a set, for SMEMBERS'],
    ])('refuses a user index given as %s', async (_what, reply, expected) => {
      const { store } = await seeded('SMEMBERS', () => reply)
      await expect(store.destroyUser('ada')).rejects.toThrow(unexpected(expected))
    })

    it('counts DEL replies given as numbers or bigints, and refuses any other', async () => {
      const asBigint = await seeded('DEL', (reply) => BigInt(reply as number))
      expect(await asBigint.store.destroyUser('ada')).toBe(1)
      const asText = await seeded('DEL', (reply) => String(reply))
      await expect(asText.store.destroyUser('ada')).rejects.toThrow(unexpected('an integer'))
    })

    it('reads the save script reply as a number or a bigint, and refuses any other', async () => {
      const asBigint = await seeded('EVALSHA', (reply) => (typeof reply === 'number' ? BigInt(reply) : reply))
      expect(await asBigint.store.save(asBigint.id, change({ set: fields([['c', '3']]) }))).toBe(true)
      expect(await asBigint.store.save(newId(), change())).toBe(false)
      const asText = await seeded('EVALSHA', (reply) => (typeof reply === 'number' ? String(reply) : reply))
      await expect(asText.store.save(asText.id, change())).rejects.toThrow(unexpected('an integer'))
    })
  })

  describe("the client's failures", () => {
    it.each<[what: string, failure: unknown]>([
      ['an Error that is not NOSCRIPT', new Error('READONLY You cannot write against a read only replica.')],
      ['an Error whose message only contains NOSCRIPT', new Error('ERR NOSCRIPT')],
      ['a string', 'NOSCRIPT as a string'],
      ['undefined', undefined],
    ])('a script call rejecting with %s rejects the save with it, unchanged, without retrying', async (_what, failure) => {
      const sent: string[] = []
      const client: RedisClientLike = {
        sendCommand: async (args: string[]) => {
          sent.push(args[0] as string)
          throw failure
        },
      }
      const error = await createRedisStore(client, { prefix: freshPrefix() }).save(newId(), change({ create: true })).then(
        () => 'resolved',
        (reason: unknown) => reason,
      )
      expect(error).toBe(failure)
      expect(sent).toEqual(['EVALSHA'])
    })

    it('NOSCRIPT is answered with EVAL of the same script, the same key and arguments', async () => {
      const sent: string[][] = []
      const client: RedisClientLike = {
        sendCommand: async (args: string[]) => {
          sent.push(args)
          if (args[0] === 'EVALSHA') throw new Error('NOSCRIPT No matching script. Please use EVAL.')
          return redis.client.sendCommand(args)
        },
      }
      const prefix = freshPrefix()
      const id = newId()
      expect(await createRedisStore(client, { prefix }).save(id, change({ create: true, set: fields([['a', '1']]), ttl: 60, user: 'ada' }))).toBe(true)
      expect(sent.map((args) => args[0])).toEqual(['EVALSHA', 'EVAL', 'EVALSHA', 'EVAL'])
      const [indexSha, indexEval, saveSha, saveEval] = sent as [string[], string[], string[], string[]]
      expect(indexEval.slice(2)).toEqual(indexSha.slice(2))
      expect(indexEval.slice(2)).toEqual(['1', `${prefix}u:ada`, id, '60000'])
      expect(saveEval.slice(2)).toEqual(saveSha.slice(2))
      expect(saveEval.slice(2)).toEqual(['1', `${prefix}s:${id}`, '1', '60000', '1', 'd:a', '1'])
      expect(sorted(await createRedisStore(redis.client, { prefix }).load(id))).toEqual([['a', '1']])
    })
  })
})
