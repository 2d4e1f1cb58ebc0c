/**
 * The argument checks every store shares (src/stores/store.ts): what each misuse is refused with,
 * word for word, and where each limit lies. The contract suite (contract.ts) checks that every
 * store refuses; this file pins the messages, which name what was wrong and never the content, on
 * the memory store (the checks run before any store's own code, so one store shows them all).
 */
import { describe, expect, it } from 'vitest'
import { MAX_LIFETIME } from '../../src/lib/options.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import type { StoreChange } from '../../src/stores/store.js'
import { change, fields, newId } from './contract.js'

/** The rejection of `promise`, which must be a TypeError. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  if (!(error instanceof TypeError)) throw new Error(`expected a TypeError, got ${String(error)}`)
  return error.message
}

const TTL_MESSAGE = `change.ttl is invalid: give whole seconds from 1 to ${MAX_LIFETIME} (400 days); a TTL is in seconds, not milliseconds`

describe('store checks: session ids', () => {
  it.each<[what: string, id: unknown, message: string]>([
    ['an empty id', '', 'session id is invalid: give a non-empty string of at most 256 characters (got 0)'],
    ['257 characters', 'i'.repeat(257), 'session id is invalid: give a non-empty string of at most 256 characters (got 257)'],
    ['a number', 42, 'session id is invalid: give a string, not a number'],
    ['a boolean', true, 'session id is invalid: give a string, not a boolean'],
    ['undefined', undefined, 'session id is invalid: give a string, not undefined'],
    ['null', null, 'session id is invalid: give a string, not null'],
    ['an array', ['id'], 'session id is invalid: give a string, not an array'],
    ['an object', { id: 'x' }, 'session id is invalid: give a string, not an object'],
    ['a lone surrogate', 'id\uD800', 'session id is invalid: the string contains a lone surrogate, which UTF-8 cannot encode'],
  ])('%s is refused by load, save and destroy alike', async (_what, id, message) => {
    const store = createMemoryStore()
    expect(await refusal(store.load(id as string))).toBe(message)
    expect(await refusal(store.save(id as string, change({ create: true })))).toBe(message)
    expect(await refusal(store.destroy(id as string))).toBe(message)
  })

  it('takes ids of 1 and of 256 characters', async () => {
    const store = createMemoryStore()
    for (const id of ['i', 'i'.repeat(256)]) {
      expect(await store.save(id, change({ create: true, set: fields([['a', id]]) }))).toBe(true)
      expect(await store.load(id)).toEqual({ a: id })
      await store.destroy(id)
      expect(await store.load(id)).toBeUndefined()
    }
  })
})

describe('store checks: users', () => {
  it.each<[what: string, user: unknown, message: string]>([
    ['an empty user', '', 'give a non-empty string of at most 1024 characters (got 0)'],
    ['1025 characters', 'u'.repeat(1025), 'give a non-empty string of at most 1024 characters (got 1025)'],
    ['a number', 7, 'give a string, not a number'],
    ['an object', { name: 'ada' }, 'give a string, not an object'],
    ['a lone surrogate', '\uDC00ada', 'the string contains a lone surrogate, which UTF-8 cannot encode'],
  ])('%s is refused by destroyUser (as "user") and in a change (as "change.user")', async (_what, user, why) => {
    const store = createMemoryStore()
    expect(await refusal(store.destroyUser(user as string))).toBe(`user is invalid: ${why}`)
    expect(await refusal(store.save(newId(), change({ create: true, user: user as string })))).toBe(`change.user is invalid: ${why}`)
  })

  it('takes users of 1 and of 1024 characters', async () => {
    const store = createMemoryStore()
    for (const user of ['u', 'u'.repeat(1024)]) {
      const id = newId()
      expect(await store.save(id, change({ create: true, user }))).toBe(true)
      expect(await store.destroyUser(user)).toBe(1)
      expect(await store.load(id)).toBeUndefined()
    }
  })
})

describe('store checks: changes', () => {
  const id = 'session-id'
  it.each<[what: string, change: unknown, message: string]>([
    ['a number', 5, 'change is invalid: give { set, remove, ttl, create }, not a number'],
    ['null', null, 'change is invalid: give { set, remove, ttl, create }, not null'],
    ['an array', [], 'change is invalid: give { set, remove, ttl, create }, not an array'],
    ['a string', 'set', 'change is invalid: give { set, remove, ttl, create }, not a string'],
    ['set a number', { ...change(), set: 1 }, 'change.set is invalid: give an object of field names to encoded strings, not a number'],
    ['set null', { ...change(), set: null }, 'change.set is invalid: give an object of field names to encoded strings, not null'],
    ['set an array', { ...change(), set: [['a', '1']] }, 'change.set is invalid: give an object of field names to encoded strings, not an array'],
    ['set a string', { ...change(), set: 'a=1' }, 'change.set is invalid: give an object of field names to encoded strings, not a string'],
    ['remove a boolean', { ...change(), remove: true }, 'change.remove is invalid: give an array of field names, not a boolean'],
    ['remove an object', { ...change(), remove: { a: true } }, 'change.remove is invalid: give an array of field names, not an object'],
    ['remove a string', { ...change(), remove: 'a' }, 'change.remove is invalid: give an array of field names, not a string'],
    ['a value that is a number', change({ set: { a: 1 } as unknown as Record<string, string> }), 'change.set value of a field is invalid: give a string, not a number'],
    ['a value that is null', change({ set: { a: null } as unknown as Record<string, string> }), 'change.set value of a field is invalid: give a string, not null'],
    ['a name with a lone surrogate', change({ set: fields([['\uD800', '1']]) }), 'change.set field name is invalid: the string contains a lone surrogate, which UTF-8 cannot encode'],
    ['a value with a lone surrogate', change({ set: fields([['a', 'x\uDC00']]) }), 'change.set value of a field is invalid: the string contains a lone surrogate, which UTF-8 cannot encode'],
    ['a removed name that is a number', change({ remove: [1] as unknown as string[] }), 'change.remove field name is invalid: give a string, not a number'],
    ['a removed name with a lone surrogate', change({ remove: ['\uDBFF'] }), 'change.remove field name is invalid: the string contains a lone surrogate, which UTF-8 cannot encode'],
    ['a field both set and removed', change({ set: fields([['a', '1'], ['b', '2']]), remove: ['c', 'b'] }), 'change is invalid: a field is both set and removed; give it in one of them'],
    ['a TTL of 0', change({ ttl: 0 }), TTL_MESSAGE],
    ['a negative TTL', change({ ttl: -1 }), TTL_MESSAGE],
    ['a TTL one past 400 days', change({ ttl: MAX_LIFETIME + 1 }), TTL_MESSAGE],
    ['a fractional TTL', change({ ttl: 1.5 }), TTL_MESSAGE],
    ['a TTL as a string', { ...change(), ttl: '3600' }, TTL_MESSAGE],
    ['an infinite TTL', change({ ttl: Infinity }), TTL_MESSAGE],
    ['create as a string', { ...change(), create: 'true' }, 'change.create is invalid: give true (a new session) or false (an existing one)'],
    ['create missing', { ...change(), create: undefined }, 'change.create is invalid: give true (a new session) or false (an existing one)'],
    ['create as 1', { ...change(), create: 1 }, 'change.create is invalid: give true (a new session) or false (an existing one)'],
  ])('%s: save refuses it, and writes nothing', async (_what, bad, message) => {
    const store = createMemoryStore()
    expect(await refusal(store.save(id, bad as StoreChange))).toBe(message)
    expect(await store.load(id)).toBeUndefined()
  })

  it('takes TTLs of 1 second and of exactly 400 days, and a name in remove that set does not hold', async () => {
    const store = createMemoryStore()
    expect(await store.save(id, change({ create: true, ttl: 1 }))).toBe(true)
    expect(await store.save(id, change({ ttl: MAX_LIFETIME, set: fields([['a', '1']]), remove: ['b'] }))).toBe(true)
    expect(await store.load(id)).toEqual({ a: '1' })
  })
})
