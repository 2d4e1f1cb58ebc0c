/**
 * A save that failed, then retried: the store threw once (a dropped connection), and the app (or
 * the user, resubmitting the form) saves the same session again. The failed save must leave the
 * session as it was, so the retry does the whole save: a logout destroys the stored session, a
 * regenerate destroys the old id. Otherwise the session would already point at an id that was
 * never stored, the retry would delete the browser's cookie and leave the old record alive, and a
 * copy of the old cookie would still log in.
 *
 * Run over the memory store and a real Redis, with the data in the store and in the cookie
 * (`revocation`); through `sessions.save` and frasco/fetch's `commitSession`.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { commitSession, readSession } from '../../src/adapters/fetch.js'
import { SessionRevoked } from '../../src/errors.js'
import { createSessions, type StoredSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import { createRedisStore } from '../../src/stores/redis.js'
import type { SessionStore } from '../../src/stores/store.js'
import { describeRedis, useRedisClient } from '../helpers/redis.js'
import { isDeletion, parseSetCookie } from '../helpers/server.js'

const secrets = [randomBytes(32).toString('base64url')]
type Data = { user?: string; role?: string }

/** A store whose next `method` call rejects, as a store across a dropped connection does; `fail` arms it again. */
interface FlakyStore extends SessionStore {
  fail(method: 'save' | 'destroy'): void
  /** How many calls were refused so far. */
  readonly refused: number
}

function flaky(store: SessionStore): FlakyStore {
  const armed = new Set<string>()
  let refused = 0
  const refuse = (method: string): void => {
    if (!armed.delete(method)) return
    refused += 1
    throw new Error(`ECONNRESET: ${method}`)
  }
  return {
    load: (id) => store.load(id),
    save: async (id, change) => (refuse('save'), store.save(id, change)),
    destroy: async (id) => (refuse('destroy'), store.destroy(id)),
    destroyUser: (user) => store.destroyUser(user),
    fail: (method) => void armed.add(method),
    get refused() {
      return refused
    },
  }
}

/** The Cookie header a browser sends back for these Set-Cookie values (no deletions among them). */
function cookieOf(setCookie: readonly string[]): string {
  return setCookie.map((header) => header.split(';', 1)[0]).join('; ')
}

type Mode = 'store' | 'revocation'
type Save = (sessions: StoredSessions<Data>, session: Awaited<ReturnType<StoredSessions<Data>['load']>>) => Promise<string[]>

/** Saves through the manager itself. */
const managerSave: Save = async (sessions, session) => (await sessions.save(session)).setCookie

/** Saves through frasco/fetch's commitSession onto a Response. */
const fetchSave: Save = async (sessions, session) => (await commitSession(sessions, new Request('http://127.0.0.1/'), new Response('ok'), session)).headers.getSetCookie()

function suite(name: string, backend: () => SessionStore): void {
  describe.each<[string, Mode, Save]>([
    ['sessions.save, data in the store', 'store', managerSave],
    ['sessions.save, data in the cookie (revocation)', 'revocation', managerSave],
    ["frasco/fetch's commitSession, data in the store", 'store', fetchSave],
  ])(`${name}: %s`, (_, mode, save) => {
    function setup(): { store: FlakyStore; sessions: StoredSessions<Data> } {
      const store = flaky(backend())
      const options = { secrets, user: (data: Data) => data.user }
      const sessions = mode === 'store' ? createSessions<Data>({ ...options, store }) : createSessions<Data>({ ...options, revocation: store })
      return { store, sessions }
    }

    /** A logged-in browser: its cookie, and the session's id in the store. */
    async function loggedIn(sessions: StoredSessions<Data>, user: string): Promise<{ cookie: string; id: string }> {
      const session = await sessions.load(undefined)
      session.user = user
      const cookie = cookieOf(await save(sessions, session))
      const id = sessions.sessionId(session) as string
      expect(id).toMatch(/^[\w-]{24}$/)
      return { cookie, id }
    }

    it('a logout whose destroy failed, retried: the stored session is destroyed, and the old cookie no longer loads', async () => {
      const { store, sessions } = setup()
      const user = `ada-${randomBytes(4).toString('hex')}`
      const { cookie, id } = await loggedIn(sessions, user)
      const session = await sessions.load(cookie)
      session.destroy()
      store.fail('destroy')
      await expect(save(sessions, session)).rejects.toThrow('ECONNRESET: destroy')
      // The failed save left the session as it was: still the stored one.
      expect(sessions.sessionId(session)).toBe(id)
      expect(await store.load(id)).toBeDefined()

      const retried = await save(sessions, session)
      expect(retried.length).toBeGreaterThan(0)
      expect(retried.map((header) => isDeletion(parseSetCookie(header)))).toEqual(retried.map(() => true))
      expect(sessions.sessionId(session)).toBeUndefined()
      expect(await store.load(id)).toBeUndefined()
      const copy = await sessions.load(cookie) // a copy of the cookie, taken before the logout
      expect(copy.user).toBeUndefined()
      expect(sessions.invalidReason(copy)).toBeInstanceOf(SessionRevoked)
      expect(await sessions.revokeUser(user)).toBe(0)
      expect(store.refused).toBe(1)
    })

    it.each<['save' | 'destroy']>([['destroy'], ['save']])(
      "a login's regenerate whose %s failed, retried: the old id is destroyed, the old cookie no longer loads, the new one does",
      async (method) => {
        const { store, sessions } = setup()
        const { cookie, id } = await loggedIn(sessions, `anonymous-${randomBytes(4).toString('hex')}`)
        const user = `ada-${randomBytes(4).toString('hex')}`
        const session = await sessions.load(cookie)
        session.regenerate()
        session.user = user
        store.fail(method)
        await expect(save(sessions, session)).rejects.toThrow(`ECONNRESET: ${method}`)
        expect(sessions.sessionId(session)).toBe(id)

        const next = cookieOf(await save(sessions, session))
        const newId = sessions.sessionId(session) as string
        expect(newId).not.toBe(id)
        expect(await store.load(id)).toBeUndefined()
        const copy = await sessions.load(cookie) // the pre-login cookie, which an attacker may have planted (session fixation)
        expect(copy.user).toBeUndefined()
        expect(sessions.invalidReason(copy)).toBeInstanceOf(SessionRevoked)
        const loaded = await sessions.load(next)
        expect([loaded.user, sessions.sessionId(loaded)]).toEqual([user, newId])
        // One session of the user's, not a second one left over from the failed attempt.
        expect(await sessions.revokeUser(user)).toBe(1)
        expect(store.refused).toBe(1)
      },
    )

    it("a change of user whose save failed, retried: written, in the new user's index, under the same id", async () => {
      const { store, sessions } = setup()
      const { cookie, id } = await loggedIn(sessions, `ada-${randomBytes(4).toString('hex')}`)
      const user = `grace-${randomBytes(4).toString('hex')}`
      const session = await sessions.load(cookie)
      session.user = user // no regenerate: the session moves to the new user's index (the store's only write with revocation)
      session.role = 'admin'
      store.fail('save')
      await expect(save(sessions, session)).rejects.toThrow('ECONNRESET: save')
      expect((await sessions.load(cookie)).role).toBeUndefined()

      const next = cookieOf(await save(sessions, session))
      expect(sessions.sessionId(session)).toBe(id)
      const loaded = await sessions.load(next)
      expect([loaded.user, loaded.role, sessions.sessionId(loaded)]).toEqual([user, 'admin', id])
      // Had the failed save already recorded the new user, the retry would have skipped the store
      // (with revocation nothing else changed there), and "log out everywhere" would miss it.
      expect(await sessions.revokeUser(user)).toBe(1)
      expect(sessions.invalidReason(await sessions.load(next))).toBeInstanceOf(SessionRevoked)
    })
  })
}

suite('memory store', () => createMemoryStore())

describeRedis('Redis store', (redis) => {
  const redisClient = useRedisClient(redis)
  let prefixes = 0
  suite('redis', () => createRedisStore(redisClient.client, { prefix: `retry${++prefixes}:` }))
})
