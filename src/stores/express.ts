/**
 * Any express-session store (connect-redis, connect-mongo, connect-pg-simple, memorystore, …) as a
 * Frasco {@link SessionStore}, through the callback API every such store has: `get`, `set`,
 * `destroy`, and `all` when it can list its sessions.
 *
 * What it stores under a session id is shaped like an express-session session, so the store
 * computes its TTL as it always does (connect-redis from `cookie.expires`, memorystore from
 * `cookie.maxAge`):
 * `{ cookie: { originalMaxAge, maxAge, expires }, frasco: { <key>: <encoded value> }, frascoUser? }`.
 *
 * Not atomic: an express-session store can only replace a whole session, so `save` reads, changes
 * and writes it back. Two concurrent requests changing different keys of one session can lose one
 * change (the last write wins), and a destroy landing between the read and the write of a save is
 * undone. The native stores ({@link createMemoryStore}, {@link createRedisStore}) guarantee
 * neither can happen; use this wrapper to keep an existing store during a migration.
 *
 * @module
 */
import { checkedStore, emptyFields, type SessionStore, type StoreChange } from './store.js'

/** A store's callback: an error (null or undefined for none), then the result. */
type Callback<T = unknown> = (error?: unknown, value?: T) => void

/**
 * The part of the express-session `Store` API the wrapper uses.
 *
 * @example
 * ```ts
 * import { RedisStore } from 'connect-redis'
 * const store: ExpressStoreLike = new RedisStore({ client, prefix: 'sess:' })
 * ```
 */
export interface ExpressStoreLike {
  get(sid: string, callback: (error: unknown, session?: unknown) => void): unknown
  set(sid: string, session: object, callback?: (error?: unknown) => void): unknown
  destroy(sid: string, callback?: (error?: unknown) => void): unknown
  /** Every session, as an array of sessions with an `id`, or an object keyed by session id. */
  all?(callback: (error: unknown, sessions?: unknown) => void): unknown
}

/**
 * What {@link fromExpressStore} writes under a session id: an express-session-shaped session.
 *
 * @example
 * ```ts
 * const stored: ExpressStoredSession = {
 *   cookie: { originalMaxAge: 3_600_000, maxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000) },
 *   frasco: { cart: '["apple"]' },
 *   frascoUser: 'ada',
 * }
 * ```
 */
export interface ExpressStoredSession {
  /** The session's lifetime, in milliseconds as express-session has it: what the store expires it by. */
  cookie: { originalMaxAge: number; maxAge: number; expires: Date }
  /** The session's keys and their encoded values. */
  frasco: Record<string, string>
  /** The user whose index lists it, for destroyUser. */
  frascoUser?: string
}

/** A stored session as read back: its fields and user; undefined when expired or not Frasco's. */
interface Read {
  fields: Record<string, string>
  user: string | undefined
}

const METHODS = ['get', 'set', 'destroy'] as const

/**
 * Wraps an express-session store as a {@link SessionStore}. Not atomic (see the module notes):
 * concurrent saves of one session can lose a change. `destroyUser` needs the store's `all()`, and
 * reads every session in it; without `all()` it rejects with a TypeError.
 *
 * @example
 * ```ts
 * import { RedisStore } from 'connect-redis'
 * import { createClient } from 'redis'
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect()
 * const store = fromExpressStore(new RedisStore({ client, prefix: 'frasco:' }))
 * await store.save(id, { set: { cart: '[]' }, remove: [], ttl: 3600, create: true })
 * ```
 */
export function fromExpressStore(store: ExpressStoreLike): SessionStore {
  assertExpressStore(store)
  return checkedStore({
    async load(id) {
      return readSession(await get(store, id), Date.now())?.fields
    },
    async save(id, change) {
      return saveSession(store, id, change)
    },
    async destroy(id) {
      await callback((done) => store.destroy(id, done))
    },
    async destroyUser(user) {
      return destroyUser(store, user)
    },
  })
}

function assertExpressStore(store: unknown): asserts store is ExpressStoreLike {
  if (typeof store !== 'object' || store === null) {
    const what = typeof store === 'function' ? 'a class or function; create the store first, e.g. new RedisStore({ client })' : `${store === null ? 'null' : typeof store}`
    throw new TypeError(`store is invalid: fromExpressStore takes an express-session store instance (with get, set and destroy), not ${what}`)
  }
  const missing = METHODS.filter((name) => typeof (store as Partial<Record<string, unknown>>)[name] !== 'function')
  if (missing.length > 0) {
    throw new TypeError(`store is invalid: fromExpressStore takes an express-session store, with get, set and destroy methods; this one has no ${missing.join(', ')}`)
  }
}

/**
 * Calls a callback-style method once: the first callback settles the promise, later ones are
 * ignored, and a store that returns a promise (connect-redis) and rejects it without calling back
 * still settles it.
 */
function callback<T>(start: (done: Callback<T>) => unknown): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    // A promise settles once: a second callback (or a rejection after one) changes nothing.
    const done: Callback<T> = (error, value) => {
      if (error === null || error === undefined) resolve(value)
      else reject(error)
    }
    const returned = start(done)
    if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function') {
      ;(returned as PromiseLike<unknown>).then(undefined, (error: unknown) => done(error ?? new Error('the express-session store failed')))
    }
  })
}

function get(store: ExpressStoreLike, id: string): Promise<unknown> {
  return callback((done) => store.get(id, done))
}

/**
 * A stored session's fields and user, copied into fresh objects. Lenient, as reading should be:
 * a session without a `frasco` object (another app's) or past `cookie.expires` (a store that keeps
 * sessions past their time) counts as missing, and a field whose value is not a string is skipped.
 */
function readSession(value: unknown, now: number): Read | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { cookie, frasco, frascoUser } = value as Partial<Record<keyof ExpressStoredSession, unknown>>
  if (typeof frasco !== 'object' || frasco === null || Array.isArray(frasco)) return undefined
  const expires = typeof cookie === 'object' && cookie !== null ? (cookie as { expires?: unknown }).expires : undefined
  const expiresAt = typeof expires === 'string' || typeof expires === 'number' || expires instanceof Date ? new Date(expires).getTime() : Number.NaN
  // NaN (no expiry written) fails this too: every session Frasco writes has one.
  if (!(expiresAt > now)) return undefined
  const fields = emptyFields()
  for (const name of Object.keys(frasco)) {
    const field = (frasco as Record<string, unknown>)[name]
    if (typeof field === 'string') fields[name] = field
  }
  return { fields, user: typeof frascoUser === 'string' ? frascoUser : undefined }
}

/** Read, change, write back: see the module notes for what this cannot guarantee. */
async function saveSession(store: ExpressStoreLike, id: string, change: StoreChange): Promise<boolean> {
  const now = Date.now()
  const current = change.create ? undefined : readSession(await get(store, id), now)
  // Destroyed, revoked or expired since this request loaded it: writing would revive it.
  if (!change.create && current === undefined) return false
  const fields = current?.fields ?? emptyFields()
  for (const name of change.remove) delete fields[name]
  for (const name of Object.keys(change.set)) fields[name] = change.set[name] as string
  const user = change.user ?? current?.user
  const lifetime = change.ttl * 1000
  const session: ExpressStoredSession = {
    cookie: { originalMaxAge: lifetime, maxAge: lifetime, expires: new Date(now + lifetime) },
    frasco: fields,
    ...(user === undefined ? {} : { frascoUser: user }),
  }
  await callback((done) => store.set(id, session, done))
  return true
}

/** Scans every session with `all()` and destroys the user's: express-session stores keep no index. */
async function destroyUser(store: ExpressStoreLike, user: string): Promise<number> {
  const all = store.all
  if (typeof all !== 'function') {
    throw new TypeError(
      'destroyUser is not supported by this store: express-session stores keep no user index and this one has no all() to scan; use createRedisStore or createMemoryStore (which index sessions by user), or a store with all()',
    )
  }
  const now = Date.now()
  const ids: string[] = []
  for (const [id, value] of listed(await callback((done) => all.call(store, done)))) {
    if (readSession(value, now)?.user !== user) continue
    if (id === undefined) throw new TypeError("destroyUser is not supported by this store: its all() gives sessions without their ids, so they cannot be destroyed")
    ids.push(id)
  }
  await Promise.all(ids.map((id) => callback((done) => store.destroy(id, done))))
  return ids.length
}

/** `all()`'s result as [id, session] pairs: an array of sessions carrying `id`, or an object by id. */
function listed(sessions: unknown): Array<[string | undefined, unknown]> {
  if (sessions === null || sessions === undefined) return []
  if (Array.isArray(sessions)) {
    return sessions.map((session: unknown) => {
      // A primitive has no id property either (its prototype has none), so only null needs the ?.
      const id = (session as { id?: unknown } | null | undefined)?.id
      return [typeof id === 'string' ? id : undefined, session]
    })
  }
  if (typeof sessions === 'object') return Object.keys(sessions).map((id) => [id, (sessions as Record<string, unknown>)[id]])
  throw new TypeError(`destroyUser is not supported by this store: its all() gave ${typeof sessions}, not a list of sessions`)
}
