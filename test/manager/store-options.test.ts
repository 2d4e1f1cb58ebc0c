/**
 * What createSessions takes as a `store` or a `revocation` store: any object with the four
 * methods of a SessionStore, whatever else it carries. The hints for a Redis client or an
 * express-session store given where a store belongs are only for objects that lack a method; a
 * complete store that also has `get`/`set` or `call`/`sendCommand` (a store object that wraps a
 * client and exposes it, say) is a store.
 */
import { describe, expect, it } from 'vitest'
import { createSessions, isStoredSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import type { SessionStore } from '../../src/stores/store.js'

const SECRET = 'frasco-test-secret-0123456789-abcdefghijklmnop'

/** A memory store with extra methods, as a plain object. */
function storeWith(extra: Record<string, () => unknown>): SessionStore {
  const memory = createMemoryStore()
  return {
    load: (id) => memory.load(id),
    save: (id, change) => memory.save(id, change),
    destroy: (id) => memory.destroy(id),
    destroyUser: (user) => memory.destroyUser(user),
    ...extra,
  }
}

const noop = () => undefined

describe.each(['store', 'revocation'] as const)('createSessions({ %s }): a complete store with more methods', (option) => {
  it.each<[string, Record<string, () => unknown>]>([
    ["a Redis client's sendCommand", { sendCommand: noop }],
    ["ioredis' call", { call: noop }],
    ["express-session's get and set (destroy is the store's own)", { get: noop, set: noop }],
    ['all of them', { sendCommand: noop, call: noop, get: noop, set: noop }],
  ])('is taken with %s beside the four methods, and works', async (_name, extra) => {
    const store = storeWith(extra)
    const sessions = createSessions<{ user: string }>(option === 'store' ? { secrets: SECRET, store } : { secrets: SECRET, revocation: store })
    expect(isStoredSessions(sessions)).toBe(true)
    const session = await sessions.load(undefined)
    session.set('user', 'ada')
    const [cookie] = (await sessions.save(session)).setCookie
    expect((await sessions.load((cookie as string).split(';')[0])).get('user')).toBe('ada')
  })

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a Redis client (sendCommand, no store methods)', { sendCommand: noop, get: noop, set: noop }, /this looks like a Redis client; wrap it: createRedisStore\(client\)/],
    ['an ioredis client (call, no store methods)', { call: noop }, /this looks like a Redis client; wrap it: createRedisStore\(client\)/],
    ['a store missing destroyUser with a call method', { load: noop, save: noop, destroy: noop, call: noop }, /this looks like a Redis client/],
    ['an express-session store', { get: noop, set: noop, destroy: noop }, /this looks like an express-session store \(get, set, destroy\); wrap it: fromExpressStore\(store\)/],
    ['an express-session store with load (connect stores have it)', { get: noop, set: noop, destroy: noop, load: noop }, /this looks like an express-session store/],
    ['get and set without destroy', { get: noop, set: noop }, /give a session store .*; it lacks load, save, destroy, destroyUser$/],
  ])('is refused when it is %s', (_name, candidate, message) => {
    expect(() => createSessions({ secrets: SECRET, [option]: candidate as never })).toThrow(TypeError)
    expect(() => createSessions({ secrets: SECRET, [option]: candidate as never })).toThrow(new RegExp(`^option ${option} is invalid: ${message.source}`))
  })
})

describe.each(['store', 'revocation'] as const)('createSessions({ %s }): a store that is a function', (option) => {
  it('is taken when the function carries the four methods, and works', async () => {
    const memory = createMemoryStore()
    const store = Object.assign(() => undefined, {
      load: (id: string) => memory.load(id),
      save: (id: string, change: Parameters<SessionStore['save']>[1]) => memory.save(id, change),
      destroy: (id: string) => memory.destroy(id),
      destroyUser: (user: string) => memory.destroyUser(user),
    })
    const sessions = createSessions<{ user: string }>(option === 'store' ? { secrets: SECRET, store } : { secrets: SECRET, revocation: store })
    const session = await sessions.load(undefined)
    session.set('user', 'ada')
    const { setCookie } = await sessions.save(session)
    const cookie = (setCookie[0] as string).split(';')[0] as string
    expect((await sessions.load(cookie)).get('user')).toBe('ada')
  })

  it('names only the methods it lacks', () => {
    const store = Object.assign(() => undefined, { load: noop, save: noop })
    expect(() => createSessions({ secrets: SECRET, [option]: store })).toThrow(/lacks destroy, destroyUser/)
  })
})

