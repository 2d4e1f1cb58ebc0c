/**
 * The dictionary-like session an application gets for each request, and its change tracking.
 *
 * This module knows nothing about cookies, signing or serialization: the session manager reads a
 * cookie, hands the data to `openSession`, and at the end of the request asks
 * {@link getSessionState} whether to write a cookie (`modified`), delete it (`destroyed`), issue a new
 * identity (`regenerated`), and add `Vary: Cookie` (`accessed`).
 *
 * The object users see is a `Proxy` over a small class so that Express-era code
 * (`req.session.user = id`, `delete req.session.user`, Passport) works; the property view and the
 * methods share one store and one set of tracking rules.
 *
 * @module
 */

/**
 * The data a session holds: string keys, values your serializer can encode.
 *
 * @example
 * ```ts
 * const data: SessionData = { user: 'ada', cart: ['tea'] }
 * const cookieValue = sessions.sign(data)
 * ```
 */
export type SessionData = Record<string, unknown>

/**
 * One flashed message, as returned by {@link SessionMethods.consumeFlashes}.
 *
 * @example
 * ```ts
 * session.flash('Wrong password.', 'error')
 * const [first]: FlashMessage[] = session.consumeFlashes()
 * // first: { category: 'error', message: 'Wrong password.' }
 * ```
 */
export interface FlashMessage {
  category: string
  message: string
}

/**
 * A category, or a list of categories, to select flashed messages.
 *
 * @example
 * ```ts
 * const filter: FlashFilter = ['error', 'warning']
 * const problems = session.consumeFlashes(filter)
 * ```
 */
export type FlashFilter = string | readonly string[]

/**
 * A callback for {@link SessionMethods.regenerate}, `destroy` and `save`, in the Node/Express shape.
 * Frasco always calls it asynchronously, exactly once, with no error.
 *
 * @example
 * ```ts
 * const done: SessionCallback = (err) => (err ? next(err) : res.redirect('/'))
 * req.session.regenerate(done)
 * ```
 */
export type SessionCallback = (err?: unknown) => void

/** A key of `T` usable with the session methods. */
type KeyOf<T> = keyof T & string

/**
 * One `[key, value]` pair of a session typed `T`: a union over the declared keys, so that
 * `if (entry[0] === 'user')` narrows `entry[1]`. `[string, unknown]` for an untyped session.
 *
 * @example
 * ```ts
 * declare const session: Session<{ user: string; visits: number }>
 * for (const entry of session.entries()) {
 *   if (entry[0] === 'visits') entry[1].toFixed() // entry[1] is a number here
 * }
 * ```
 */
export type SessionEntry<T extends object = SessionData> = {
  [K in KeyOf<T>]: [K, T[K]]
}[KeyOf<T>]

/**
 * The methods and read-only flags of a session. These names are reserved on the property view:
 * `session.get` is always the method; data stored under `'get'` is reached with `session.get('get')`.
 *
 * @example
 * ```ts
 * function logout(session: SessionMethods) {
 *   session.clear()
 *   session.flash('Logged out.')
 * }
 * session.get('get') // data stored under a reserved name
 * ```
 */
export interface SessionMethods<T extends object = SessionData> {
  /**
   * The value stored under `key`, or `undefined`. Marks the session accessed.
   *
   * @example
   * ```ts
   * const user = session.get('user')
   * ```
   */
  get<K extends KeyOf<T>>(key: K): T[K] | undefined
  /**
   * Stores `value` under `key` and marks the session modified, even when the value is unchanged
   * (as Flask does). Setting `undefined` is the same as {@link SessionMethods.delete}.
   *
   * @example
   * ```ts
   * session.set('user', 'ada').set('theme', 'dark')
   * ```
   */
  set<K extends KeyOf<T>>(key: K, value: T[K]): Session<T>
  /**
   * Whether data is stored under `key`. Marks the session accessed.
   *
   * @example
   * ```ts
   * if (!session.has('user')) return redirect('/login')
   * ```
   */
  has(key: string): boolean
  /**
   * Removes `key`; returns whether it was there. Marks the session modified only if it was.
   *
   * @example
   * ```ts
   * session.delete('cart')
   * ```
   */
  delete(key: KeyOf<T>): boolean
  /**
   * Removes `key` and returns its value, or `fallback` (default `undefined`) when it was not there.
   * Marks the session modified only if the key was there.
   *
   * @example
   * ```ts
   * const next = session.pop('returnTo', '/')
   * ```
   */
  pop<K extends KeyOf<T>>(key: K): T[K] | undefined
  pop<K extends KeyOf<T>, F>(key: K, fallback: F): T[K] | F
  /**
   * Removes every key. Marks the session modified if it held anything. Unlike
   * {@link SessionMethods.regenerate}, the session keeps its identity (issue time).
   *
   * @example
   * ```ts
   * session.clear()
   * ```
   */
  clear(): void
  /**
   * The stored keys, as a new array in insertion order, including Frasco's reserved `_flashes` key
   * while flashes are pending. Marks the session accessed.
   *
   * @example
   * ```ts
   * for (const key of session.keys()) console.log(key)
   * ```
   */
  keys(): string[]
  /**
   * The stored `[key, value]` pairs, as a new array in insertion order. Marks the session accessed.
   *
   * @example
   * ```ts
   * for (const [key, value] of session.entries()) console.log(key, value)
   * ```
   */
  entries(): Array<SessionEntry<T>>
  /**
   * The number of stored keys. Marks the session accessed.
   *
   * @example
   * ```ts
   * if (session.size === 0) console.log('empty session')
   * ```
   */
  readonly size: number
  /**
   * A plain, detached, shallow copy of the data; `JSON.stringify(session)` uses it. Marks the
   * session accessed.
   *
   * @example
   * ```ts
   * const copy = session.toJSON()
   * ```
   */
  toJSON(): Partial<T>
  /**
   * True when the request carried no valid session cookie, or after {@link SessionMethods.regenerate}.
   *
   * @example
   * ```ts
   * if (session.isNew) session.set('visits', 0)
   * ```
   */
  readonly isNew: boolean
  /**
   * True when the session will be written back at the end of the request.
   *
   * @example
   * ```ts
   * if (session.modified) console.log('cookie will be updated')
   * ```
   */
  readonly modified: boolean
  /**
   * True once the data has been read or written; the manager then adds `Vary: Cookie`.
   *
   * @example
   * ```ts
   * if (!session.accessed) console.log('response does not depend on the session')
   * ```
   */
  readonly accessed: boolean
  /**
   * Whether the session cookie outlives the browser ("remember me"): `true` gives the cookie a
   * Max-Age up to the manager's `lifetime`; `false` makes it a browser-session cookie, whose
   * signed lifetime is still capped by `lifetime`. Starts as the manager's `persistent` option
   * for a new session and as the cookie says for one read back; signed into the cookie (Flask's
   * `session.permanent`). Assigning a different value marks the session modified;
   * `regenerate()` and `destroy()` reset it to the manager's default.
   *
   * @example
   * ```ts
   * session.regenerate()
   * session.set('user', user.id)
   * session.persistent = form.rememberMe === 'on'
   * ```
   */
  persistent: boolean
  /**
   * True after {@link SessionMethods.destroy}: the cookie will be deleted.
   *
   * @example
   * ```ts
   * if (session.destroyed) console.log('logged out')
   * ```
   */
  readonly destroyed: boolean
  /**
   * Marks the session modified. Call it after changing a stored object in place, which the
   * session cannot see.
   *
   * @example
   * ```ts
   * session.get('cart')?.items.push(item)
   * session.touch()
   * ```
   */
  touch(): void
  /**
   * Queues a message for a later request, stored as Flask does: `[category, message]` appended to
   * the array under `_flashes`. Marks the session modified.
   *
   * @example
   * ```ts
   * session.flash('Saved.')
   * session.flash('Wrong password.', 'error')
   * ```
   */
  flash(message: string, category?: string): void
  /**
   * Returns the queued messages (only those of the given categories with a filter) and removes the
   * returned ones. Marks the session modified when something was removed.
   *
   * @example
   * ```ts
   * const errors = session.consumeFlashes('error')
   * ```
   */
  consumeFlashes(filter?: FlashFilter): FlashMessage[]
  /**
   * Returns the queued messages (optionally filtered) without removing them. Marks the session
   * accessed, not modified.
   *
   * @example
   * ```ts
   * const pending = session.peekFlashes().length
   * ```
   */
  peekFlashes(filter?: FlashFilter): FlashMessage[]
  /**
   * Drops all data and starts a new session: the manager issues a new identity (a fresh issue time)
   * when it commits. Call it right after login, against session fixation. The callback, if any, is
   * called asynchronously with no error (Passport 0.6+ calls `req.session.regenerate(cb)`).
   *
   * Without a callback, the session is emptied in place: keep using the same object. With a
   * callback on `req.session` of `frasco/node` (express-session's form, which Passport uses),
   * `req.session` is a new, empty session when the callback runs, as with express-session, and
   * the old object keeps its data, readable but no longer writable (so Passport's
   * `keepSessionInfo` can copy it over): read `req.session` again in the callback.
   *
   * @example
   * ```ts
   * session.regenerate()
   * session.set('user', user.id)
   * ```
   */
  regenerate(callback?: SessionCallback): void
  /**
   * Drops all data and marks the session destroyed: the manager deletes the cookie. Storing data
   * afterwards throws a `TypeError`; call {@link SessionMethods.regenerate} to start over instead.
   *
   * @example
   * ```ts
   * session.destroy()
   * ```
   */
  destroy(callback?: SessionCallback): void
  /**
   * Marks the session modified so that it is committed (express-session/Passport compatibility;
   * Frasco commits at the end of the request anyway). It does not undo {@link SessionMethods.destroy}.
   * The callback, if any, is called asynchronously with no error.
   *
   * @example
   * ```ts
   * session.save(() => res.redirect('/'))
   * ```
   */
  save(callback?: SessionCallback): void
}

/** Names of the members of {@link SessionMethods}, which win over data keys on the property view. */
export type SessionMemberName = keyof SessionMethods

/**
 * A session holding data shaped like `T`: the methods of {@link SessionMethods}, plus each data key
 * of `T` as an optional property (except keys that are method names, and `then`, which `await`
 * looks up on every value: use `get`/`set` for those).
 *
 * `T` is a declaration, not a runtime check: the cookie may hold keys from an older version of
 * your app, and Frasco's reserved `_flashes` key while flashes are pending.
 *
 * @example
 * ```ts
 * type AppSession = Session<{ user: string; cart: { items: string[] } }>
 * function handler(session: AppSession) {
 *   session.user = 'ada' // same as session.set('user', 'ada')
 *   session.get('cart')?.items.push('tea')
 *   session.touch()
 * }
 * ```
 */
export type Session<T extends object = SessionData> = Readonly<Omit<SessionMethods<T>, 'persistent'>> & Pick<SessionMethods<T>, 'persistent'> & {
  [K in keyof T as K extends SessionMemberName | 'then' ? never : K extends string ? K : never]?: T[K]
} & {
  // Nothing stands behind the view, so `session.toString` is data (or undefined), not the method
  // TypeScript would otherwise assume on every object.
  [K in ObjectPrototypeName]?: K extends keyof T ? T[K] : never
}

/** Names TypeScript gives every object type; on a session they are ordinary data keys. */
type ObjectPrototypeName =
  | 'constructor'
  | 'toString'
  | 'toLocaleString'
  | 'valueOf'
  | 'hasOwnProperty'
  | 'isPrototypeOf'
  | 'propertyIsEnumerable'

/**
 * What the session manager reads at commit time.
 *
 * @internal
 */
export interface SessionState {
  /**
   * The live store: a null-prototype object. Read it at commit time (`clear`, `regenerate` and
   * `destroy` replace it); reading it does not mark the session accessed. Do not mutate it.
   */
  readonly data: Readonly<SessionData>
  readonly isNew: boolean
  readonly modified: boolean
  readonly accessed: boolean
  readonly destroyed: boolean
  /** True once `regenerate()` was called (and not undone by `destroy()`): issue a new identity. */
  readonly regenerated: boolean
  /**
   * The keys set, deleted or popped since the session was opened, for a store that writes only
   * what a request changed (so two requests changing different keys both land); `undefined` once
   * every key counts as changed (`clear()`, `touch()`, `save()`, an in-place `regenerate()`), and
   * always for a session opened without `trackChanges` (see {@link openSession}).
   */
  readonly changedKeys: ReadonlySet<string> | undefined
  /** True once `regenerate(callback)` handed its holder a new session: this one must not be committed. */
  readonly replaced: boolean
  /** Whether the cookie should outlive the browser session. */
  readonly persistent: boolean
  /** A bag for the manager's own information (issue time, why a cookie was rejected, ...). */
  readonly meta: Record<string, unknown>
}

/**
 * Told of the first modification after {@link watchSession} was called: adapters use it to report
 * a change made after the session was committed (the headers already sent), which would otherwise
 * be lost in silence. An object rather than a callback, so an adapter's per-request state can be
 * the watcher without a closure per request.
 *
 * @internal
 */
export interface SessionWatcher {
  sessionChanged(): void
}

/**
 * What hands a session out through an indirection it controls (the node adapter's `req.session`).
 * Once a session has a holder (see {@link holdSession}), `regenerate(callback)`, express-session's
 * form, does what express-session does: the holder receives a new, empty session to hand out from then on, and the old object keeps
 * its data, readable but no longer writable. Code that kept a reference across the regenerate
 * (Passport's `keepSessionInfo`, which merges the old session into the new one) can still read it,
 * and a write to it, which would be lost, throws instead.
 *
 * @internal
 */
export interface SessionHolder {
  sessionReplaced(next: Session<SessionData>): void
}

/**
 * Where a lazy session (see {@link openLazySession}) gets its state on first use: the node
 * adapter's per-request state, which reads the request's cookie through the session manager.
 *
 * @internal
 */
export interface SessionSource {
  /** The session as the manager reads it; called once, on the lazy session's first use. */
  openSession(): Session<SessionData>
}

/** Options of {@link createSession}. @internal */
export interface CreateSessionOptions {
  /** Data read from the cookie; copied into the session without marking it modified or accessed. */
  data?: SessionData
  /** False when the data came from a valid cookie. Default `true`. */
  isNew?: boolean
}

/** The slot through which members and the manager reach the state; never a data key. */
const STATE: unique symbol = Symbol('frasco.session.state')

/** Flask's storage key for flashed messages. */
const FLASHES = '_flashes'

const DEFAULT_CATEGORY = 'message'

const NO_KEYS: ReadonlySet<string> = new Set()

/** Records that `key` changed (see {@link SessionState.changedKeys}). */
function noteChange(state: State, key: string): void {
  if (!state.allChanged) (state.changed ??= new Set()).add(key)
}

class State implements SessionState {
  data: SessionData
  isNew: boolean
  modified = false
  accessed = false
  destroyed = false
  regenerated = false
  persistent: boolean
  meta: Record<string, unknown>
  /** Told (once) of the next modification; see {@link watchSession}. */
  watcher: SessionWatcher | undefined = undefined
  /** See {@link SessionState.changedKeys}; allocated on the first change. */
  changed: Set<string> | undefined = undefined
  allChanged = false
  /** Receives the new session on regenerate(); see {@link holdSession}. */
  holder: SessionHolder | undefined = undefined
  /** Set once regenerate() handed the holder a new session: this one is a read-only leftover. */
  replaced = false
  /** What `persistent` returns to on regenerate() and destroy(): the manager's default. */
  defaultPersistent: boolean
  /**
   * Set while the session is lazy and not read yet (see {@link openLazySession}): the first use
   * takes the state from here. Until then the fields above are placeholders.
   */
  source: SessionSource | undefined = undefined

  get changedKeys(): ReadonlySet<string> | undefined {
    if (this.allChanged) return undefined
    return this.changed ?? NO_KEYS
  }

  constructor(data: SessionData, isNew: boolean, meta: Record<string, unknown>, persistent: boolean, defaultPersistent: boolean) {
    this.data = data
    this.isNew = isNew
    this.meta = meta
    this.persistent = persistent
    this.defaultPersistent = defaultPersistent
  }
}

/**
 * A null-prototype object (nothing inherited; `__proto__` is an ordinary data key) in V8's fast
 * mode. `Object.create(null)` and `{ __proto__: null }` start in dictionary mode, which makes
 * copying data in, `JSON.stringify` and the for-in emptiness check take slow paths; an empty
 * literal whose prototype is then set to null keeps fast properties (V8 caches that map
 * transition, so every store shares one hidden class). Measured in docs/session.md (Prototype safety).
 */
function emptyStore(): SessionData {
  return Object.setPrototypeOf({}, null) as SessionData
}

function isEmpty(store: SessionData): boolean {
  // for-in stops at the first key, where Object.keys would copy them all.
  for (const _key in store) return false
  return true
}

/** Marks a write; a write also counts as an access, as in Flask (the new cookie depends on the old). */
function markModified(state: State): void {
  state.modified = true
  state.accessed = true
  if (state.watcher !== undefined) {
    const watcher = state.watcher
    // Once: the first late change is the one to report, and a throwing watcher must not fire again.
    state.watcher = undefined
    watcher.sessionChanged()
  }
}

function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') {
    throw new TypeError(`session keys must be strings, got ${typeof key}`)
  }
}

/** Every member that changes the session calls this first. */
function assertCurrent(state: State): void {
  if (state.replaced) {
    throw new TypeError(
      'this session was regenerated and replaced: read req.session again after regenerate() (the old object is read-only)',
    )
  }
}

function assertWritable(state: State, key: string): void {
  assertCurrent(state)
  if (state.destroyed) {
    throw new TypeError(
      `cannot store "${key}" in a destroyed session: call session.regenerate() to start a new one`,
    )
  }
}

function assertCallback(callback: unknown): asserts callback is SessionCallback | undefined {
  if (callback !== undefined && typeof callback !== 'function') {
    throw new TypeError(`session callback must be a function, got ${typeof callback}`)
  }
}

/**
 * queueMicrotask rather than process.nextTick: it is standard (the fetch adapter may run outside
 * Node), it passes no arguments (so `err` is undefined without a wrapper closure), and an exception
 * thrown by the callback surfaces as an uncaught error instead of being swallowed.
 */
function defer(callback: SessionCallback | undefined): void {
  if (callback !== undefined) queueMicrotask(callback as () => void)
}

function isFlashTuple(value: unknown): value is [string, string] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'string' &&
    typeof value[1] === 'string'
  )
}

function toFilter(filter: FlashFilter | undefined): readonly string[] | undefined {
  if (filter === undefined) return undefined
  if (typeof filter === 'string') return [filter]
  if (Array.isArray(filter) && filter.every((category) => typeof category === 'string')) {
    return filter
  }
  throw new TypeError('flash filter must be a category string or an array of category strings')
}

/** Lenient read of `_flashes`: anything that is not a `[category, message]` pair is skipped. */
function readFlashes(state: State, filter: readonly string[] | undefined): FlashMessage[] {
  const stored = state.data[FLASHES]
  const messages: FlashMessage[] = []
  if (!Array.isArray(stored)) return messages
  for (const entry of stored) {
    if (isFlashTuple(entry) && (filter === undefined || filter.includes(entry[0]))) {
      messages.push({ category: entry[0], message: entry[1] })
    }
  }
  return messages
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

type Inspect = (value: unknown, options: object) => string

/**
 * The proxy target. Members run with `this` bound to the proxy (or the target, for getters), and
 * reach the state through the symbol slot, which the proxy forwards to the target.
 */
class SessionTarget implements SessionMethods<SessionData> {
  readonly [STATE]: State

  constructor(state: State) {
    this[STATE] = state
  }

  get(key: string): unknown {
    const state = stateOf(this)
    assertKey(key)
    state.accessed = true
    return state.data[key]
  }

  set(key: string, value: unknown): Session {
    const state = stateOf(this)
    assertKey(key)
    if (value === undefined) {
      remove(state, key)
    } else {
      assertWritable(state, key)
      state.data[key] = value
      noteChange(state, key)
      markModified(state)
    }
    return this as unknown as Session
  }

  has(key: string): boolean {
    const state = stateOf(this)
    assertKey(key)
    state.accessed = true
    return key in state.data
  }

  delete(key: string): boolean {
    const state = stateOf(this)
    assertKey(key)
    return remove(state, key)
  }

  pop(key: string, fallback?: unknown): unknown {
    const state = stateOf(this)
    assertCurrent(state)
    assertKey(key)
    state.accessed = true
    if (!(key in state.data)) return fallback
    const value = state.data[key]
    delete state.data[key]
    noteChange(state, key)
    markModified(state)
    return value
  }

  clear(): void {
    const state = stateOf(this)
    assertCurrent(state)
    state.accessed = true
    if (isEmpty(state.data)) return
    state.data = emptyStore()
    state.allChanged = true
    markModified(state)
  }

  keys(): string[] {
    const state = stateOf(this)
    state.accessed = true
    return Object.keys(state.data)
  }

  entries(): Array<[string, unknown]> {
    const state = stateOf(this)
    state.accessed = true
    return Object.entries(state.data)
  }

  get size(): number {
    const state = stateOf(this)
    state.accessed = true
    return Object.keys(state.data).length
  }

  toJSON(): Partial<SessionData> {
    const state = stateOf(this)
    state.accessed = true
    // Spread defines own properties, so a stored `__proto__` key stays a plain key.
    return { ...state.data }
  }

  get isNew(): boolean {
    return stateOf(this).isNew
  }

  get modified(): boolean {
    return stateOf(this).modified
  }

  get accessed(): boolean {
    return stateOf(this).accessed
  }

  get destroyed(): boolean {
    return stateOf(this).destroyed
  }

  get persistent(): boolean {
    return stateOf(this).persistent
  }

  set persistent(value: boolean) {
    const state = stateOf(this)
    if (typeof value !== 'boolean') throw new TypeError('session.persistent must be true or false')
    if (state.persistent === value) return
    assertWritable(state, 'persistent')
    state.persistent = value
    markModified(state)
  }

  touch(): void {
    const state = stateOf(this)
    assertCurrent(state)
    state.allChanged = true
    markModified(state)
  }

  flash(message: string, category: string = DEFAULT_CATEGORY): void {
    const state = stateOf(this)
    if (typeof message !== 'string') throw new TypeError('flash message must be a string')
    if (typeof category !== 'string') throw new TypeError('flash category must be a string')
    assertWritable(state, FLASHES)
    const stored = state.data[FLASHES]
    // Copy on write: a toJSON() snapshot taken earlier must not change under the caller.
    state.data[FLASHES] = Array.isArray(stored)
      ? [...(stored as unknown[]), [category, message]]
      : [[category, message]]
    noteChange(state, FLASHES)
    markModified(state)
  }

  consumeFlashes(filter?: FlashFilter): FlashMessage[] {
    const state = stateOf(this)
    assertCurrent(state)
    const categories = toFilter(filter)
    const messages = readFlashes(state, categories)
    state.accessed = true
    if (!(FLASHES in state.data)) return messages
    if (categories === undefined) {
      // Like Flask's get_flashed_messages, which pops the whole key.
      delete state.data[FLASHES]
      noteChange(state, FLASHES)
      markModified(state)
      return messages
    }
    if (messages.length === 0) return messages
    const kept = (state.data[FLASHES] as unknown[]).filter(
      (entry) => !(isFlashTuple(entry) && categories.includes(entry[0])),
    )
    if (kept.length === 0) delete state.data[FLASHES]
    else state.data[FLASHES] = kept
    noteChange(state, FLASHES)
    markModified(state)
    return messages
  }

  peekFlashes(filter?: FlashFilter): FlashMessage[] {
    const state = stateOf(this)
    const categories = toFilter(filter)
    state.accessed = true
    return readFlashes(state, categories)
  }

  regenerate(callback?: SessionCallback): void {
    const state = stateOf(this)
    assertCallback(callback)
    assertCurrent(state)
    // The callback form is express-session's API, and code written for it (Passport) expects its
    // semantics: a new req.session. Without a callback, Frasco's own: the same object, emptied.
    if (state.holder !== undefined && callback !== undefined) {
      replace(state, state.holder)
      defer(callback)
      return
    }
    state.data = emptyStore()
    state.isNew = true
    state.regenerated = true
    state.allChanged = true
    state.destroyed = false
    state.persistent = state.defaultPersistent
    markModified(state)
    defer(callback)
  }

  destroy(callback?: SessionCallback): void {
    const state = stateOf(this)
    assertCurrent(state)
    assertCallback(callback)
    state.data = emptyStore()
    state.destroyed = true
    state.regenerated = false
    state.persistent = state.defaultPersistent
    markModified(state)
    defer(callback)
  }

  save(callback?: SessionCallback): void {
    const state = stateOf(this)
    assertCurrent(state)
    assertCallback(callback)
    // On a destroyed session this changes nothing: destroy() already marked it modified.
    state.allChanged = true
    markModified(state)
    defer(callback)
  }

  get [Symbol.toStringTag](): string {
    return 'Session'
  }

  /** Keeps `${session}` and `'x' + session` from reading a data key named `toString`. */
  [Symbol.toPrimitive](hint: string): string | number {
    return hint === 'number' ? Number.NaN : '[object Session]'
  }

  /** For console.log: the flags and the data, without marking the session accessed. */
  [INSPECT](depth: number, options: { depth?: number | null }, inspect: Inspect): string {
    if (depth < 0) return '[Session]'
    // console.log(req) must not read the cookie on a request that never used its session.
    const pending = (this as Partial<SessionTarget>)[STATE]
    if (pending instanceof State && pending.source !== undefined) return 'Session [not read yet]'
    const state = stateOf(this)
    const view = {
      isNew: state.isNew,
      modified: state.modified,
      accessed: state.accessed,
      destroyed: state.destroyed,
      persistent: state.persistent,
      data: { ...state.data },
    }
    const nested = { ...options, depth: options.depth == null ? options.depth : options.depth - 1 }
    return `Session ${inspect(view, nested)}`
  }
}

/**
 * regenerate() on a held session: the holder gets a new, empty session with a new identity, and
 * this one keeps its data, read-only (see {@link SessionHolder}).
 */
function replace(state: State, holder: SessionHolder): void {
  // A regenerate after the commit is a late change like any other: the watcher hears of it.
  markModified(state)
  state.holder = undefined
  state.replaced = true
  // The manager's bag (the old cookie's chunk count, for one) belongs to the request, not to the object.
  const next = new State(emptyStore(), true, state.meta, state.defaultPersistent, state.defaultPersistent)
  next.regenerated = true
  next.allChanged = true
  next.modified = true
  next.accessed = true
  next.holder = holder
  holder.sessionReplaced(new Proxy(new SessionTarget(next), handler) as unknown as Session<SessionData>)
}

function stateOf(self: unknown): State {
  const state = (self as Partial<SessionTarget> | null | undefined)?.[STATE]
  if (!(state instanceof State)) {
    throw new TypeError('Session methods must be called on the session, e.g. session.get(key)')
  }
  return ready(state)
}

/** The state, read first if it is a lazy session's that was never used. */
function ready(state: State): State {
  if (state.source !== undefined) load(state, state.source)
  return state
}

/**
 * The first use of a lazy session: the source reads the session, and this state takes over what
 * the read found. The watcher and the holder set meanwhile stay; nothing else was touched, since
 * every member and trap loads first.
 */
function load(state: State, source: SessionSource): void {
  const read = (source.openSession() as unknown as Partial<SessionTarget> | null | undefined)?.[STATE]
  if (!(read instanceof State) || read.source !== undefined) {
    throw new TypeError('a lazy session\'s source must return a session read by the manager')
  }
  // Only once it succeeded: a source that throws (a store that is not loaded) throws again next time.
  state.source = undefined
  state.data = read.data
  state.isNew = read.isNew
  state.meta = read.meta
  state.persistent = read.persistent
  state.defaultPersistent = read.defaultPersistent
  state.allChanged = read.allChanged
}

function remove(state: State, key: string): boolean {
  assertCurrent(state)
  state.accessed = true
  if (!(key in state.data)) return false
  delete state.data[key]
  noteChange(state, key)
  markModified(state)
  return true
}

/**
 * Names that are not data on the property view: the members, which win over data keys, and `then`,
 * which await and Promise resolution look up on every value (the target has none, so it reads as
 * undefined): awaiting a session, or returning it from an async function, neither reads a lazy
 * session nor marks it accessed, and a session is never thenable. `constructor` is a data key.
 * Data under these names is reached through get() and set().
 */
const THEN = 'then'
const NOT_DATA: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(SessionTarget.prototype).filter((name) => name !== 'constructor'),
  THEN,
])

/** The one member that may be assigned: `session.persistent = true`, as Flask's `session.permanent`. */
const WRITABLE_MEMBER = 'persistent'

function memberAssignment(key: string): TypeError {
  const what = key === THEN ? 'is not on the property view (await looks it up on every value)' : 'is a Session member'
  return new TypeError(`session.${key} ${what} and cannot be assigned or deleted: use session.set('${key}', value) or session.delete('${key}') for data under that name`)
}

/**
 * One shared handler; every trap is a few branches and never allocates a closure. Symbols are not
 * data: they go to the target (util.inspect, Symbol.toStringTag, the state slot).
 */
const handler: ProxyHandler<SessionTarget> = {
  get(target, key) {
    if (typeof key === 'symbol' || NOT_DATA.has(key)) return Reflect.get(target, key)
    const state = ready(target[STATE])
    state.accessed = true
    return state.data[key]
  },
  set(target, key, value) {
    if (typeof key === 'symbol' || key === WRITABLE_MEMBER) return Reflect.set(target, key, value)
    if (NOT_DATA.has(key)) throw memberAssignment(key)
    target.set(key, value)
    return true
  },
  has(target, key) {
    if (typeof key === 'symbol') return Reflect.has(target, key)
    if (NOT_DATA.has(key)) return Reflect.has(target, key)
    return target.has(key)
  },
  deleteProperty(target, key) {
    if (typeof key === 'symbol') return Reflect.deleteProperty(target, key)
    if (key === WRITABLE_MEMBER) throw new TypeError('session.persistent cannot be deleted: assign true or false')
    if (NOT_DATA.has(key)) throw memberAssignment(key)
    target.delete(key)
    // `delete obj.missing` is true for ordinary objects too.
    return true
  },
  ownKeys(target) {
    const state = ready(target[STATE])
    state.accessed = true
    // A data key under a name in NOT_DATA is not an own property of the view (session.get is the
    // method), so spreads and Object.entries never mix a method into data: use toJSON() for a copy.
    return Object.keys(state.data).filter((key) => !NOT_DATA.has(key))
  },
  getOwnPropertyDescriptor(target, key) {
    if (typeof key === 'symbol') return Reflect.getOwnPropertyDescriptor(target, key)
    if (NOT_DATA.has(key)) return undefined
    const state = ready(target[STATE])
    state.accessed = true
    if (!(key in state.data)) return undefined
    return { value: state.data[key], writable: true, enumerable: true, configurable: true }
  },
  defineProperty(target, key, descriptor) {
    if (typeof key === 'symbol') return Reflect.defineProperty(target, key, descriptor)
    if (NOT_DATA.has(key)) throw memberAssignment(key)
    if (descriptor.get !== undefined || descriptor.set !== undefined) {
      throw new TypeError(`session.${key} cannot be an accessor: sessions store plain values`)
    }
    target.set(key, descriptor.value)
    return true
  },
  // The data lives outside the target, so freezing or re-prototyping the view cannot hold.
  preventExtensions() {
    return false
  },
  setPrototypeOf() {
    return false
  },
}

/**
 * Creates a session. `init.data` is copied (own enumerable keys; `undefined` values skipped) without
 * marking the session modified or accessed.
 *
 * @internal Used by the session manager; not part of the public API.
 * @example
 * ```ts
 * const session = createSession<{ user: string }>({ data: { user: 'ada' }, isNew: false })
 * ```
 */
export function createSession<T extends object = SessionData>(
  init: CreateSessionOptions = {},
): Session<T> {
  const { data, isNew = true } = init
  if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data))) {
    throw new TypeError('option data is invalid: it must be a plain object of session data')
  }
  if (typeof isNew !== 'boolean') {
    throw new TypeError('option isNew is invalid: it must be a boolean')
  }
  return openSession<T>(data, isNew, {}, false, false)
}

/**
 * {@link createSession} without option checks, for the session manager, which also hands over the
 * initial `meta` bag: `data` (if any) must be a plain object.
 *
 * @internal
 */
export function openSession<T extends object>(
  data: SessionData | undefined,
  isNew: boolean,
  meta: Record<string, unknown>,
  persistent: boolean,
  defaultPersistent: boolean,
  trackChanges = false,
): Session<T> {
  const store = emptyStore()
  if (data !== undefined) {
    for (const key of Object.keys(data)) {
      const value = data[key]
      if (value !== undefined) store[key] = value
    }
  }
  const state = new State(store, isNew, meta, persistent, defaultPersistent)
  // Only a store that writes changed keys needs them recorded; for anyone else every key counts as
  // changed, and a write records nothing (no Set per request for cookie sessions).
  state.allChanged = !trackChanges
  return new Proxy(new SessionTarget(state), handler) as unknown as Session<T>
}

/**
 * Whether `value` is a Frasco session (as handed out by `createSessions().read()` and the adapters).
 *
 * @example
 * ```ts
 * if (isSession(req.session)) req.session.touch()
 * ```
 */
export function isSession(value: unknown): value is Session {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Partial<SessionTarget>)[STATE] instanceof State
  )
}

/**
 * The state the manager commits: flags, the live store and the `meta` bag. O(1): a symbol slot
 * the proxy forwards to its target (a lazy session from {@link openLazySession} is read on the
 * first call). Reading it does not mark the session accessed.
 *
 * @internal Used by the session manager; not part of the public API.
 * @example
 * ```ts
 * const state = getSessionState(session)
 * if (state.destroyed) deleteCookie()
 * else if (state.modified) writeCookie(serialize(state.data))
 * if (state.accessed) headers.append('Vary', 'Cookie')
 * ```
 */
export function getSessionState<T extends object>(session: Session<T>): SessionState {
  return ready(rawState(session))
}

/** The state behind a session, as it is: a lazy session stays unread. */
function rawState(session: unknown): State {
  const state = (session as Partial<SessionTarget> | null | undefined)?.[STATE]
  if (!(state instanceof State)) {
    throw new TypeError('getSessionState expects a session, as read() and the adapters hand out')
  }
  return state
}

/**
 * Tells `watcher` of the session's next modification (once), or stops watching (`undefined`).
 * Adapters call it once the session is committed: a later change cannot reach the client.
 *
 * @internal Used by the adapters; not part of the public API.
 * @example
 * ```ts
 * watchSession(session, { sessionChanged: () => report(new ChangedAfterCommit()) })
 * ```
 */
export function watchSession<T extends object>(session: Session<T>, watcher: SessionWatcher | undefined): void {
  // A lazy session stays unread: its first use keeps the watcher.
  rawState(session).watcher = watcher
}

/**
 * Makes `holder` the session's holder: from now on `regenerate()` hands it a new session instead
 * of emptying this one (see {@link SessionHolder}).
 *
 * @internal Used by the node adapter; not part of the public API.
 * @example
 * ```ts
 * holdSession(session, { sessionReplaced: (next) => { current = next } })
 * ```
 */
export function holdSession<T extends object>(session: Session<T>, holder: SessionHolder): void {
  rawState(session).holder = holder
}

/** Placeholders of a lazy session's state until its first use; never read, never written. */
const PENDING_DATA: SessionData = Object.freeze(emptyStore())
const PENDING_META: Record<string, unknown> = Object.freeze({})

/**
 * A session that reads itself on first use: the first member called, key read or written, or
 * {@link getSessionState} asks `source` for the session (`sessions.read(cookie)` of the manager)
 * and carries on with what it read. Until then nothing is verified, so a request that never
 * touches its session costs no HMAC. {@link isSession}, {@link watchSession},
 * {@link holdSession}, {@link isSessionUnread} and `console.log` leave it unread.
 *
 * The node adapter puts one on `req.session` as a plain property: an accessor defined per request
 * would cost more than the read it saves (docs/performance.md).
 *
 * @internal Used by the node adapter; not part of the public API.
 * @example
 * ```ts
 * const session = openLazySession({ openSession: () => sessions.read(req.headers.cookie) })
 * isSessionUnread(session) // true: no cookie verified yet
 * session.get('user')      // reads and verifies the cookie now
 * ```
 */
export function openLazySession<T extends object = SessionData>(source: SessionSource, holder?: SessionHolder): Session<T> {
  const state = new State(PENDING_DATA, true, PENDING_META, false, false)
  state.source = source
  state.holder = holder
  return new Proxy(new SessionTarget(state), handler) as unknown as Session<T>
}

/**
 * True while a session from {@link openLazySession} was never used: nothing was read, so there is
 * nothing to commit (no cookie, no `Vary: Cookie`).
 *
 * @internal Used by the node adapter; not part of the public API.
 * @example
 * ```ts
 * if (!isSessionUnread(session)) commit(session)
 * ```
 */
export function isSessionUnread<T extends object>(session: Session<T>): boolean {
  return rawState(session).source !== undefined
}
