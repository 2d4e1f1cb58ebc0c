/**
 * The store layer of server-side sessions: what a session store does ({@link SessionStore}) and
 * the checks every store runs on its arguments, so that all stores refuse the same mistakes with
 * the same words.
 *
 * A store knows nothing of cookies, signing or serialization: the manager gives it a session id
 * and opaque field values it encoded, and a store keeps them for a time.
 *
 * @module
 */
import { MAX_LIFETIME } from '../lib/options.js'

/**
 * One request's changes to a stored session: values are opaque strings the manager encoded.
 *
 * @example
 * ```ts
 * const change: StoreChange = { set: { cart: '["apple"]' }, remove: ['flash'], ttl: 3600, create: false }
 * const written = await store.save(id, change) // false: the session was destroyed meanwhile
 * ```
 */
export interface StoreChange {
  /** Fields to write (field name = session key, value = encoded value string). */
  readonly set: Readonly<Record<string, string>>
  /** Fields to delete. */
  readonly remove: readonly string[]
  /** The session's remaining lifetime from now, in whole seconds (>= 1): the store expires it then. */
  readonly ttl: number
  /**
   * true: a new session under a fresh id, written whatever exists. false: an existing session; if
   * it no longer exists (destroyed, revoked, expired), NOTHING is written and save resolves false,
   * so a slow request that loaded it before a destroy/regenerate/revocation can never bring it back.
   */
  readonly create: boolean
  /** When given, the session id is added to this user's index (see destroyUser). */
  readonly user?: string
}

/**
 * Where server-side sessions live: {@link createMemoryStore}, {@link createRedisStore}, or any
 * express-session store through {@link fromExpressStore}.
 *
 * Every method validates its arguments and rejects with a TypeError on misuse (an empty id, a TTL
 * in milliseconds); errors of the backend (a dropped connection) reject unchanged.
 *
 * @example
 * ```ts
 * const store: SessionStore = createMemoryStore()
 * await store.save(id, { set: { user: '"ada"' }, remove: [], ttl: 3600, create: true, user: 'ada' })
 * await store.load(id) // { user: '"ada"' }
 * await store.destroyUser('ada') // 1: "log out everywhere"
 * ```
 */
export interface SessionStore {
  /** The session's fields (a null-prototype object; an existing session with no fields is {}), or undefined when it does not exist. */
  load(id: string): Promise<Record<string, string> | undefined>
  /** Applies `change` atomically (fields set and removed and the TTL reset in one step, so two concurrent requests changing different fields both land); resolves whether the session was written. */
  save(id: string, change: StoreChange): Promise<boolean>
  /** Deletes the session (idempotent). */
  destroy(id: string): Promise<void>
  /** Deletes every session in the user's index ("log out everywhere"); resolves how many existed. */
  destroyUser(user: string): Promise<number>
}

/**
 * The longest session id a store accepts, in characters. The manager's ids are far shorter (22
 * characters for 128 bits); the cap keeps a forged cookie from naming a megabyte-long key.
 *
 * @example
 * ```ts
 * if (id.length > MAX_SESSION_ID_LENGTH) throw new TypeError('id too long')
 * ```
 */
export const MAX_SESSION_ID_LENGTH = 256

/**
 * The longest user name a store accepts for its user index, in characters: room for an e-mail
 * address or an OpenID subject URL, not for a document.
 *
 * @example
 * ```ts
 * if (user.length > MAX_USER_LENGTH) throw new TypeError('user too long')
 * ```
 */
export const MAX_USER_LENGTH = 1024

/**
 * A string every store can keep exactly: Redis and the express-session stores hold UTF-8, which
 * has no form for a lone surrogate (it would come back as U+FFFD, and two names could merge).
 */
function assertText(value: unknown, where: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${where} is invalid: give a string, not ${kind(value)}`)
  if (!value.isWellFormed()) throw new TypeError(`${where} is invalid: the string contains a lone surrogate, which UTF-8 cannot encode`)
}

/** What a value is, for an error message: its type, never its content (it may be a secret). */
function kind(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** Asserts a non-empty, well-formed string of at most `max` characters. */
function assertName(value: unknown, where: string, max: number): asserts value is string {
  assertText(value, where)
  if (value.length === 0 || value.length > max) {
    throw new TypeError(`${where} is invalid: give a non-empty string of at most ${max} characters (got ${value.length})`)
  }
}

/**
 * Asserts a session id as every store takes it: a non-empty string of at most
 * {@link MAX_SESSION_ID_LENGTH} characters, without lone surrogates. Nothing more is assumed.
 *
 * @example
 * ```ts
 * async load(id: string) {
 *   assertSessionId(id)
 *   return backend.get(id)
 * }
 * ```
 */
export function assertSessionId(id: unknown): asserts id is string {
  assertName(id, 'session id', MAX_SESSION_ID_LENGTH)
}

/**
 * Asserts a user name for the user index: a non-empty string of at most {@link MAX_USER_LENGTH}
 * characters, without lone surrogates.
 *
 * @example
 * ```ts
 * async destroyUser(user: string) {
 *   assertUser(user)
 *   return backend.deleteAllOf(user)
 * }
 * ```
 */
export function assertUser(user: unknown, where = 'user'): asserts user is string {
  assertName(user, where, MAX_USER_LENGTH)
}

/**
 * Asserts a {@link StoreChange}: `set` an object of strings, `remove` an array of strings, no name
 * both set and removed, `ttl` whole seconds from 1 to 400 days, `create` a boolean, `user` absent
 * or a valid user. Field names may be any well-formed string ('', `__proto__`, 'a:b').
 *
 * @example
 * ```ts
 * async save(id: string, change: StoreChange) {
 *   assertSessionId(id)
 *   assertStoreChange(change)
 *   // … apply it
 * }
 * ```
 */
export function assertStoreChange(change: unknown): asserts change is StoreChange {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) {
    throw new TypeError(`change is invalid: give { set, remove, ttl, create }, not ${kind(change)}`)
  }
  const { set, remove, ttl, create, user } = change as Partial<Record<keyof StoreChange, unknown>>
  if (typeof set !== 'object' || set === null || Array.isArray(set)) throw new TypeError(`change.set is invalid: give an object of field names to encoded strings, not ${kind(set)}`)
  if (!Array.isArray(remove)) throw new TypeError(`change.remove is invalid: give an array of field names, not ${kind(remove)}`)
  const written = new Set<string>()
  for (const name of Object.keys(set)) {
    assertText(name, 'change.set field name')
    assertText((set as Record<string, unknown>)[name], `change.set value of a field`)
    written.add(name)
  }
  for (const name of remove as unknown[]) {
    assertText(name, 'change.remove field name')
    if (written.has(name)) throw new TypeError('change is invalid: a field is both set and removed; give it in one of them')
  }
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_LIFETIME) {
    throw new TypeError(`change.ttl is invalid: give whole seconds from 1 to ${MAX_LIFETIME} (400 days); a TTL is in seconds, not milliseconds`)
  }
  if (typeof create !== 'boolean') throw new TypeError('change.create is invalid: give true (a new session) or false (an existing one)')
  if (user !== undefined) assertUser(user, 'change.user')
}

/**
 * An empty null-prototype record: a field named `__proto__` or `constructor` is then just a field.
 *
 * @example
 * ```ts
 * const fields = emptyFields()
 * fields['__proto__'] = '1' // an own field, not a prototype change
 * ```
 *
 * @internal
 */
export function emptyFields(): Record<string, string> {
  return Object.create(null) as Record<string, string>
}

/**
 * A store whose every method checks its arguments first (an id, a change, a user), so each
 * implementation is written once against checked input and every store refuses the same mistakes
 * with the same TypeErrors. Rejected, like the store's own failures: the methods are async.
 *
 * @example
 * ```ts
 * const store = checkedStore({ load: async (id) => undefined, save: async () => true, destroy: async () => {}, destroyUser: async () => 0 })
 * ```
 *
 * @internal
 */
export function checkedStore(store: SessionStore): SessionStore {
  return {
    async load(id) {
      assertSessionId(id)
      return store.load(id)
    },
    async save(id, change) {
      assertSessionId(id)
      assertStoreChange(change)
      return store.save(id, change)
    },
    async destroy(id) {
      assertSessionId(id)
      return store.destroy(id)
    },
    async destroyUser(user) {
      assertUser(user)
      return store.destroyUser(user)
    },
  }
}
