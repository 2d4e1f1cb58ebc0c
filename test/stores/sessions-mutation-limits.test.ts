/**
 * Store mode at the exact size limit of a stored session (1 MiB, counted in UTF-16 code units of
 * each field's name and encoded value): a session of exactly the limit is saved and loads back;
 * one code unit more is refused at save (nothing written) and, written behind the manager's back,
 * rejected at load. On the memory store and on a real Redis.
 */
import { describe, expect, it, vi } from 'vitest'
import { stringify } from '../../src/serializer.js'
import { createSessions } from '../../src/sessions.js'
import { MAX_STORED_SESSION } from '../../src/manager/stored.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import { createRedisStore } from '../../src/stores/redis.js'
import type { SessionStore } from '../../src/stores/store.js'
import { describeRedis, useRedisClient } from '../helpers/redis.js'
import { testSecrets } from '../helpers/stored.js'

const secrets = testSecrets()
const LIMIT = 1024 * 1024

/** A string value whose field `name` weighs exactly `size` code units in the store. */
function valueOfSize(name: string, size: number): string {
  const value = 'x'.repeat(size - name.length - stringify('').length)
  expect(name.length + stringify(value).length).toBe(size)
  return value
}

function describeLimits(name: string, makeStore: () => SessionStore): void {
  describe(name, () => {
    it('the limit is 1 MiB', () => {
      expect(MAX_STORED_SESSION).toBe(LIMIT)
    })

    it.each<[string, Array<[string, number]>]>([
      ['one field of exactly the limit', [['a', LIMIT]]],
      ['three fields adding up to exactly the limit', [['a', LIMIT / 2], ['bb', LIMIT / 4], ['ccc', LIMIT / 4]]],
    ])('saves a new session of %s, and loads it back', async (_name, fields) => {
      const sessions = createSessions<Record<string, string>>({ secrets, store: makeStore() })
      const session = await sessions.load(undefined)
      for (const [key, size] of fields) session.set(key, valueOfSize(key, size))
      const cookie = ((await sessions.save(session)).setCookie[0] as string).split(';', 1)[0]
      const loaded = await sessions.load(cookie)
      expect(sessions.invalidReason(loaded)).toBeUndefined()
      for (const [key, size] of fields) expect(loaded.get(key)).toBe(valueOfSize(key, size))
    })

    it('refuses a new session one code unit over the limit, and writes nothing', async () => {
      const store = makeStore()
      const sessions = createSessions<Record<string, string>>({ secrets, store })
      const session = await sessions.load(undefined)
      session.set('a', valueOfSize('a', LIMIT / 2))
      session.set('b', valueOfSize('b', LIMIT / 2 + 1))
      const saves = vi.spyOn(store, 'save')
      await expect(sessions.save(session)).rejects.toMatchObject({
        code: 'ERR_SESSION_PAYLOAD_TOO_LARGE',
        size: LIMIT + 1,
        limit: LIMIT,
        message: `session of ${LIMIT + 1} characters is over the store limit of ${LIMIT}; nothing was written`,
      })
      expect(saves).not.toHaveBeenCalled()
    })

    it('an update that brings a stored session to exactly the limit is saved; one more code unit is refused', async () => {
      const store = makeStore()
      const sessions = createSessions<Record<string, string>>({ secrets, store })
      const first = await sessions.load(undefined)
      first.set('a', valueOfSize('a', LIMIT / 2))
      const cookie = ((await sessions.save(first)).setCookie[0] as string).split(';', 1)[0]
      const over = await sessions.load(cookie)
      over.set('b', valueOfSize('b', LIMIT / 2 + 1))
      await expect(sessions.save(over)).rejects.toMatchObject({ code: 'ERR_SESSION_PAYLOAD_TOO_LARGE', size: LIMIT + 1 })
      const exact = await sessions.load(cookie)
      exact.set('b', valueOfSize('b', LIMIT / 2))
      await sessions.save(exact)
      const loaded = await sessions.load(cookie)
      expect([sessions.invalidReason(loaded), loaded.get('b')?.length]).toEqual([undefined, LIMIT / 2 - 1 - stringify('').length])
    })

    it.each<[string, number, string | undefined]>([
      ['exactly the limit loads', LIMIT, undefined],
      ['one code unit over the limit is rejected', LIMIT + 1, 'ERR_SESSION_PAYLOAD_TOO_LARGE'],
    ])('a stored session written by other means: %s', async (_name, size, reason) => {
      const store = makeStore()
      const reasons: string[] = []
      const sessions = createSessions<Record<string, string>>({ secrets, store, onInvalid: (error) => void reasons.push(error.code) })
      const session = await sessions.load(undefined)
      session.set('a', valueOfSize('a', LIMIT / 2))
      const cookie = ((await sessions.save(session)).setCookie[0] as string).split(';', 1)[0]
      const id = sessions.sessionId(session) as string
      await store.save(id, { set: { b: stringify(valueOfSize('b', size - LIMIT / 2)) }, remove: [], ttl: 60, create: false })
      const loaded = await sessions.load(cookie)
      expect(sessions.invalidReason(loaded)?.code).toBe(reason)
      expect(reasons).toEqual(reason === undefined ? [] : [reason])
      expect(loaded.isNew).toBe(reason !== undefined)
      if (reason === undefined) expect(loaded.get('b')?.length).toBe(size - LIMIT / 2 - 1 - stringify('').length)
    })
  })
}

describeLimits('the memory store', () => createMemoryStore())

describeRedis('a real Redis', (redis) => {
  const redisClient = useRedisClient(redis)
  let prefixes = 0
  describeLimits('createRedisStore (node-redis v5)', () => createRedisStore(redisClient.client, { prefix: `lim${++prefixes}:` }))
})
