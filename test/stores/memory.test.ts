/**
 * The memory store: the shared contract on an injected clock, then what is its own — LRU eviction,
 * lazy expiry without timers, strict options.
 */
import { describe, expect, it } from 'vitest'
import { createMemoryStore, type MemoryStoreOptions } from '../../src/stores/memory.js'
import { change, describeStoreContract, fields, newId, sorted } from './contract.js'

/** A clock the test moves by hand. */
function fakeClock(): { clock: () => number; elapse: (ms: number) => Promise<void> } {
  let now = Date.parse('2026-01-01T00:00:00Z')
  return {
    clock: () => now,
    elapse: async (ms) => {
      now += ms
    },
  }
}

describeStoreContract(
  'createMemoryStore',
  () => {
    const { clock, elapse } = fakeClock()
    return { store: createMemoryStore({ clock }), elapse }
  },
  { atomic: true },
)

describe('createMemoryStore: bounded by LRU eviction', () => {
  it('evicts the least recently used session beyond maxSessions; a load or a save makes one recent', async () => {
    const store = createMemoryStore({ maxSessions: 3 })
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) => `session-${name}`) as [string, string, string, string, string]
    for (const id of [a, b, c]) await store.save(id, change({ create: true }))
    await store.load(a) // order, least recent first: b, c, a
    await store.save(d, change({ create: true })) // evicts b
    expect(await store.load(b)).toBeUndefined()
    await store.save(c, change({ set: fields([['x', '1']]) })) // order: a, d, c
    await store.save(e, change({ create: true })) // evicts a
    expect(await store.load(a)).toBeUndefined()
    for (const id of [c, d, e]) expect(await store.load(id)).toBeDefined()
  })

  it('an evicted session leaves its user index: destroyUser does not count it', async () => {
    const store = createMemoryStore({ maxSessions: 2 })
    const [first, second, third] = [newId(), newId(), newId()]
    await store.save(first, change({ create: true, user: 'ada' }))
    await store.save(second, change({ create: true, user: 'ada' }))
    await store.save(third, change({ create: true, user: 'bob' })) // evicts first
    expect(await store.destroyUser('ada')).toBe(1)
    expect(await store.load(third)).toEqual({})
  })

  it('holds maxSessions sessions, not one more', async () => {
    const store = createMemoryStore({ maxSessions: 100 })
    const ids = Array.from({ length: 150 }, newId)
    for (const id of ids) await store.save(id, change({ create: true }))
    const kept = await Promise.all(ids.map((id) => store.load(id)))
    expect(kept.filter((session) => session !== undefined)).toHaveLength(100)
    // The newest 100 are the ones kept.
    expect(kept.slice(50).every((session) => session !== undefined)).toBe(true)
  })

  it("a create over a live session replaces it whole, its user's index entry included", async () => {
    const store = createMemoryStore()
    const id = newId()
    await store.save(id, change({ create: true, set: fields([['a', '1']]), user: 'ada' }))
    await store.save(id, change({ create: true, set: fields([['b', '2']]) }))
    expect(await store.destroyUser('ada')).toBe(0)
    expect(sorted(await store.load(id))).toEqual([['b', '2']])
  })

  it('a load gives a copy: changing it does not change the store', async () => {
    const store = createMemoryStore()
    const id = newId()
    await store.save(id, change({ create: true, set: fields([['a', '1']]) }))
    const loaded = (await store.load(id)) as Record<string, string>
    loaded['a'] = 'changed'
    loaded['b'] = 'added'
    expect(sorted(await store.load(id))).toEqual([['a', '1']])
  })
})

describe('createMemoryStore: lazy expiry, no timers', () => {
  it('a session is alive until the last millisecond of its TTL, then gone', async () => {
    const { clock, elapse } = fakeClock()
    const store = createMemoryStore({ clock })
    const id = newId()
    await store.save(id, change({ create: true, ttl: 10 }))
    await elapse(9_999)
    expect(await store.load(id)).toEqual({})
    await elapse(1)
    expect(await store.load(id)).toBeUndefined()
  })

  it('destroyUser counts a session up to the last millisecond of its TTL, not at its end', async () => {
    const { clock, elapse } = fakeClock()
    const store = createMemoryStore({ clock })
    const [first, second] = [newId(), newId()]
    await store.save(first, change({ create: true, ttl: 10, user: 'ada' }))
    await elapse(9_999)
    expect(await store.destroyUser('ada')).toBe(1)
    await store.save(second, change({ create: true, ttl: 10, user: 'ada' }))
    await elapse(10_000)
    expect(await store.destroyUser('ada')).toBe(0)
  })

  it('expired sessions count for nothing in destroyUser, and go before a live one is evicted', async () => {
    const { clock, elapse } = fakeClock()
    const store = createMemoryStore({ clock, maxSessions: 2 })
    const [short, long, fresh] = [newId(), newId(), newId()]
    await store.save(short, change({ create: true, ttl: 1, user: 'ada' }))
    await store.save(long, change({ create: true, ttl: 100, user: 'ada' }))
    await elapse(2_000)
    await store.save(fresh, change({ create: true }))
    expect(await store.load(long)).toEqual({})
    expect(await store.destroyUser('ada')).toBe(1)
  })

  it('starts no timer, handle or other resource that would keep the process alive', async () => {
    const before = process.getActiveResourcesInfo().filter((kind) => kind !== 'PromiseResolve')
    const store = createMemoryStore({ maxSessions: 10 })
    for (let i = 0; i < 50; i++) await store.save(`id-${i}`, change({ create: true, ttl: 1, user: 'ada' }))
    await store.load('id-49')
    await store.destroyUser('ada')
    const after = process.getActiveResourcesInfo().filter((kind) => kind !== 'PromiseResolve')
    expect(after.filter((kind) => kind === 'Timeout')).toHaveLength(before.filter((kind) => kind === 'Timeout').length)
    expect(after).toHaveLength(before.length)
  })
})

describe('createMemoryStore: strict options', () => {
  it.each<[options: unknown, message: RegExp]>([
    [{ maxSessions: 0 }, /^option maxSessions is invalid: give a whole number of sessions, 1 or more/],
    [{ maxSessions: 1.5 }, /^option maxSessions is invalid/],
    [{ maxSessions: '100' }, /^option maxSessions is invalid/],
    [{ maxSessions: Infinity }, /^option maxSessions is invalid/],
    [{ clock: 1_700_000_000_000 }, /^option clock is invalid: give a function returning milliseconds/],
    [{ max: 100 }, /^option max is unknown: did you mean `maxSessions`\? \(a number of sessions\)/],
    [{ maxsessions: 100 }, /^option maxsessions is unknown: did you mean `maxSessions`\?/],
    [{ ttl: 3600 }, /^option ttl is unknown: each save carries its session's TTL; the store has no TTL of its own/],
    [{ checkPeriod: 60_000 }, /^option checkPeriod is unknown: the memory store has no timers: an expired session is dropped when it is next touched, or evicted/],
    [{ maxSize: 1_000_000 }, /^option maxSize is unknown: did you mean `maxSessions`\? \(a number of sessions, not bytes\)/],
    [{ size: 100 }, /^option size is unknown: did you mean `maxSessions`\?/],
    [{ maxAge: 3600 }, /^option maxAge is unknown: each save carries its session's TTL \(seconds\); the store has no TTL of its own/],
    [{ stale: true }, /^option stale is unknown: an expired session is never returned/],
    [{ dispose: () => {} }, /^option dispose is unknown: the memory store has no eviction callback/],
    [{ now: Date.now }, /^option now is unknown: give the clock as `clock: \(\) => milliseconds` \(like Date.now\)/],
    [{ colour: 'red' }, /^option colour is unknown: the options are `maxSessions`, `clock`/],
    ['fast', /^options are invalid: createMemoryStore takes an options object/],
    [null, /^options are invalid: createMemoryStore takes an options object/],
  ])('%o is a TypeError', (options, message) => {
    expect(() => createMemoryStore(options as MemoryStoreOptions)).toThrow(TypeError)
    expect(() => createMemoryStore(options as MemoryStoreOptions)).toThrow(message)
  })

  it('no options, and every option at once, are fine', () => {
    expect(createMemoryStore()).toBeDefined()
    expect(createMemoryStore({ maxSessions: 1, clock: () => 0 })).toBeDefined()
  })
})
