/**
 * A session store in this process's memory: for development, tests and single-process apps.
 *
 * No timers at all (nothing keeps the process alive, nothing to stop): a session's expiry is
 * checked when it is touched, and memory stays bounded because the least recently used sessions
 * are evicted beyond `maxSessions`. Every method's body runs without an `await`, so each call is
 * atomic: two concurrent saves of one session both land.
 *
 * @module
 */
import { clockOption, strictOptions, type Clock, type Hints } from '../lib/options.js'
import { checkedStore, emptyFields, type SessionStore, type StoreChange } from './store.js'

/**
 * Options of {@link createMemoryStore}.
 *
 * @example
 * ```ts
 * const options: MemoryStoreOptions = { maxSessions: 1000 }
 * const store = createMemoryStore(options)
 * ```
 */
export interface MemoryStoreOptions {
  /** How many sessions to keep; beyond that the least recently used is evicted. Default 10 000. */
  maxSessions?: number
  /** The clock: milliseconds since the epoch, like `Date.now` (the default). For tests. */
  clock?: Clock
}

const KNOWN = new Set(['maxSessions', 'clock'])

/** What other memory stores (memorystore, lru-cache, express-session's MemoryStore) call these. */
const HINTS: Hints = {
  max: 'did you mean `maxSessions`? (a number of sessions)',
  maxSize: 'did you mean `maxSessions`? (a number of sessions, not bytes)',
  size: 'did you mean `maxSessions`?',
  ttl: "each save carries its session's TTL; the store has no TTL of its own",
  maxAge: "each save carries its session's TTL (seconds); the store has no TTL of its own",
  checkPeriod: 'the memory store has no timers: an expired session is dropped when it is next touched, or evicted',
  stale: 'an expired session is never returned',
  dispose: 'the memory store has no eviction callback',
  now: 'give the clock as `clock: () => milliseconds` (like Date.now)',
}

/** The default of `maxSessions`: about 10 MB for sessions of a kilobyte. */
const DEFAULT_MAX_SESSIONS = 10_000

/** One stored session. */
interface Entry {
  /** Field name → encoded value; a Map, so no name collides with anything. */
  fields: Map<string, string>
  /** When it expires, in the clock's milliseconds. */
  expiresAt: number
  /** The user indexes that list it, to unlist it when it goes. */
  users: Set<string>
}

/** The whole state: sessions in recency order (a Map iterates oldest first), and the user index. */
interface State {
  readonly sessions: Map<string, Entry>
  readonly users: Map<string, Set<string>>
  readonly maxSessions: number
  readonly clock: Clock
}

/**
 * A {@link SessionStore} in memory, with lazy expiry and LRU eviction.
 *
 * Sessions live in this process only: they are lost on restart and not shared between processes
 * (use {@link createRedisStore} for that).
 *
 * @example
 * ```ts
 * const store = createMemoryStore({ maxSessions: 50_000 })
 * await store.save(id, { set: { cart: '[]' }, remove: [], ttl: 3600, create: true })
 * await store.load(id) // { cart: '[]' }
 * ```
 */
export function createMemoryStore(options?: MemoryStoreOptions): SessionStore {
  const state = memoryState(options)
  return checkedStore({
    async load(id) {
      const entry = live(state, id)
      if (entry === undefined) return undefined
      touch(state, id, entry)
      const fields = emptyFields()
      for (const [name, value] of entry.fields) fields[name] = value
      return fields
    },
    async save(id, change) {
      return save(state, id, change)
    },
    async destroy(id) {
      const entry = state.sessions.get(id)
      if (entry !== undefined) drop(state, id, entry)
    },
    async destroyUser(user) {
      return destroyUser(state, user)
    },
  })
}

/** The options, checked: unknown keys and invalid values are TypeErrors naming the fix. */
function memoryState(options: MemoryStoreOptions | undefined): State {
  const { maxSessions = DEFAULT_MAX_SESSIONS, clock } = strictOptions(options, KNOWN, 'createMemoryStore', HINTS)
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) {
    throw new TypeError('option maxSessions is invalid: give a whole number of sessions, 1 or more (default 10000)')
  }
  return { sessions: new Map(), users: new Map(), maxSessions, clock: clockOption(clock) }
}

/** The entry under `id` unless it has expired; an expired one is dropped on the way. */
function live(state: State, id: string): Entry | undefined {
  const entry = state.sessions.get(id)
  if (entry === undefined || entry.expiresAt > state.clock()) return entry
  drop(state, id, entry)
  return undefined
}

/** Makes the entry the most recently used: re-inserting moves it to the end of the Map's order. */
function touch(state: State, id: string, entry: Entry): void {
  state.sessions.delete(id)
  state.sessions.set(id, entry)
}

/** Removes a session and unlists it from its users' indexes (an index left empty goes too). */
function drop(state: State, id: string, entry: Entry): void {
  state.sessions.delete(id)
  for (const user of entry.users) {
    const ids = state.users.get(user)
    ids?.delete(id)
    // Stryker disable next-line ConditionalExpression: equivalent to every method, an empty index of a user finds no session (test/mutation-equivalents.md)
    if (ids?.size === 0) state.users.delete(user)
  }
}

function save(state: State, id: string, change: StoreChange): boolean {
  let entry = live(state, id)
  if (change.create) {
    // A fresh id: whatever was there (nothing, in practice) is replaced, index entries included.
    if (entry !== undefined) drop(state, id, entry)
    entry = { fields: new Map(), expiresAt: 0, users: new Set() }
  } else if (entry === undefined) {
    // Destroyed, revoked or expired since this request loaded it: writing would revive it.
    return false
  }
  for (const name of change.remove) entry.fields.delete(name)
  for (const name of Object.keys(change.set)) entry.fields.set(name, change.set[name] as string)
  entry.expiresAt = state.clock() + change.ttl * 1000
  if (change.user !== undefined) index(state, id, entry, change.user)
  touch(state, id, entry)
  evict(state)
  return true
}

function index(state: State, id: string, entry: Entry, user: string): void {
  entry.users.add(user)
  let ids = state.users.get(user)
  if (ids === undefined) state.users.set(user, (ids = new Set()))
  ids.add(id)
}

/**
 * Keeps at most `maxSessions`: first drops expired sessions at the least recent end (they would
 * go first anyway, and this reclaims them without a timer), then the least recently used ones.
 */
function evict(state: State): void {
  const now = state.clock()
  for (const [id, entry] of state.sessions) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent to every method, an expired entry is invisible to load and evicted first (test/mutation-equivalents.md)
    const live = entry.expiresAt > now
    if (live && state.sessions.size <= state.maxSessions) break
    drop(state, id, entry)
  }
}

function destroyUser(state: State, user: string): number {
  const ids = state.users.get(user)
  if (ids === undefined) return 0
  const now = state.clock()
  let existed = 0
  for (const id of [...ids]) {
    const entry = state.sessions.get(id)
    if (entry === undefined) continue
    if (entry.expiresAt > now) existed++
    drop(state, id, entry)
  }
  state.users.delete(user)
  return existed
}
