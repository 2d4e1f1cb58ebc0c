/**
 * Session managers backed by a {@link SessionStore}: `createSessions({ store })` keeps the data
 * in the store and only a signed (or encrypted) session id in the cookie; `createSessions({
 * revocation })` keeps the data in the cookie, beside an id the store must still hold for the
 * cookie to count. Both read (`load`) and write (`save`) asynchronously; the adapters hide that.
 *
 * What makes store sessions safe under concurrency is in the store's `save`: only the keys a
 * request changed are written, atomically, and only while the session still exists. So two
 * requests that change different keys both land, and a request that loaded the session before a
 * destroy, regenerate or revocation cannot bring it back.
 *
 * @internal
 */
import { encodeBase64url } from '../encoding.js'
import { PayloadMalformed, PayloadTooLarge, SessionError, SessionRevoked } from '../errors.js'
import { parse, stringify } from '../serializer.js'
import { getSessionState, openSession, type Session, type SessionData, type SessionState } from '../session.js'
import type { StoreChange } from '../stores/store.js'
import type { Config, StoreConfig, StoredData } from './config.js'
import { deletions, readCookieValue, writeToken } from './cookies.js'
import { Meta, assertCommittable, commitResult, readContext, decode, isEmpty, isSessionData, nowSeconds, reject, writerFor, type CommitContext, type MetaBag, type SessionCommit } from './shared.js'

/** Random bytes in a session id: 144 bits, more than the 128 OWASP asks for, in 24 characters. */
const ID_BYTES = 18
const ID_PATTERN = /^[A-Za-z0-9_-]{24}$/
/** The most a stored session may hold, in UTF-16 code units of its encoded fields (about 1 MiB). */
export const MAX_STORED_SESSION = 1024 * 1024



function newId(): string {
  return encodeBase64url(globalThis.crypto.getRandomValues(new Uint8Array(ID_BYTES)))
}

/** The signed cookie's payload: `{ i }` with the data in the store, `{ i, d }` with it in the cookie. */
function cookiePayload(id: string, data: Readonly<SessionData>, where: StoredData): SessionData {
  return where === 'store' ? { i: id } : { i: id, d: data }
}

function readPayload(value: SessionData, where: StoredData): { id: string; data: SessionData | undefined } | PayloadMalformed {
  const id = value.i
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) return new PayloadMalformed('session cookie holds no valid session id')
  if (where === 'store') return { id, data: undefined }
  const data = value.d
  if (!isSessionData(data)) return new PayloadMalformed('session cookie holds no session data beside its id')
  return { id, data }
}

/** Each field's size, and the whole session's over the limit, which save() refuses and load() rejects. */
function sizesOf(fields: Readonly<Record<string, string>>): Map<string, number> | PayloadTooLarge {
  const sizes = new Map<string, number>()
  let total = 0
  for (const name of Object.keys(fields)) {
    const size = name.length + (fields[name] as string).length
    total += size
    if (total > MAX_STORED_SESSION) return new PayloadTooLarge(total, MAX_STORED_SESSION, 'stored session is over the size limit')
    sizes.set(name, size)
  }
  return sizes
}

/** The stored fields as session data; a field that does not parse rejects the session. */
function decodeFields(fields: Readonly<Record<string, string>>): SessionData | SessionError {
  const data: SessionData = Object.setPrototypeOf({}, null) as SessionData
  for (const name of Object.keys(fields)) {
    try {
      data[name] = parse(fields[name] as string)
    } catch (error) {
      // Stryker disable next-line StringLiteral: equivalent, parse() reports every malformed field as a SessionError (test/mutation-equivalents.md)
      return error instanceof SessionError ? error : new PayloadMalformed('a stored session field does not parse')
    }
  }
  return data
}

function userOf(store: StoreConfig, data: Readonly<SessionData>): string | undefined {
  if (store.user === undefined) return undefined
  const user = store.user(data)
  if (user === undefined || user === null) return undefined
  if (typeof user !== 'string' || user === '') {
    throw new TypeError(`option user is invalid: it returned ${typeof user === 'string' ? 'an empty string' : typeof user === 'object' ? 'an object' : `a ${typeof user}`}; return the user's id as a non-empty string, or undefined when nobody is logged in`)
  }
  return user
}

/**
 * `load()`: the session of a Cookie header. Bad cookies give a fresh session and a reason, as
 * `read()` does; only a failing store rejects (an outage is not a logout).
 */
export async function load<T extends object>(config: Config, store: StoreConfig, cookieHeader: string | null | undefined): Promise<Session<T>> {
  const meta = new Meta()
  const value = readCookieValue(typeof cookieHeader === 'string' ? cookieHeader : undefined, config.name, config.maxChunks, meta.incoming)
  if (value instanceof SessionError) return reject(config, value, meta)
  if (value === undefined || value === '') return openSession<T>(undefined, true, { frasco: meta }, config.persistent, config.persistent)
  const decoded = decode(config, value, nowSeconds(config))
  if (decoded instanceof SessionError) return reject(config, decoded, meta)
  const payload = readPayload(decoded.value as SessionData, store.data)
  if (payload instanceof SessionError) return reject(config, payload, meta)
  const fields = await store.store.load(payload.id)
  if (fields === undefined) return reject(config, new SessionRevoked(), meta)
  // Stryker disable next-line ConditionalExpression: equivalent, with revocation the store holds no fields, and only store mode reads the sizes (test/mutation-equivalents.md)
  const sizes = payload.data === undefined ? sizesOf(fields) : undefined
  if (sizes instanceof SessionError) return reject(config, sizes, meta)
  const data = payload.data ?? decodeFields(fields)
  if (data instanceof SessionError) return reject(config, data, meta)
  meta.id = payload.id
  meta.issuedAt = decoded.issuedAt
  meta.expiresAt = decoded.expiresAt
  meta.stale = decoded.stale
  meta.storedSizes = sizes
  meta.user = userOf(store, data)
  // With the data in the store, the save writes only the keys this request changes: record them.
  // Stryker disable next-line ConditionalExpression: equivalent, with revocation nothing reads the record of changed keys (test/mutation-equivalents.md)
  return openSession<T>(data, false, { frasco: meta }, decoded.persistent, config.persistent, store.data === 'store')
}

/** Every field of the data, encoded (the path in an error names the session key). */
function encodeAll(data: Readonly<SessionData>): Record<string, string> {
  const set: Record<string, string> = Object.setPrototypeOf({}, null) as Record<string, string>
  for (const key of Object.keys(data)) set[key] = stringify(data[key], `session.${key}`)
  return set
}

/** What this request changed, for a store that writes only that; undefined when nothing. */
function changes(state: SessionState, meta: Meta): { set: Record<string, string>; remove: string[] } | undefined {
  const keys = state.changedKeys
  const data = state.data
  if (keys === undefined) {
    // Every key counts (clear, touch, save): write them all, remove what the load had and is gone.
    // Stryker disable next-line ArrayDeclaration: equivalent, a loaded session in store mode always has storedSizes (test/mutation-equivalents.md)
    const stored = meta.storedSizes?.keys() ?? []
    return { set: encodeAll(data), remove: [...stored].filter((key) => !(key in data)) }
  }
  if (keys.size === 0) return undefined
  const set: Record<string, string> = Object.setPrototypeOf({}, null) as Record<string, string>
  const remove: string[] = []
  for (const key of keys) {
    if (key in data) set[key] = stringify(data[key], `session.${key}`)
    else remove.push(key)
  }
  return { set, remove }
}

/**
 * What the session will weigh in the store after writing `set`: the fields written, plus those
 * left as they were. Refused over the limit here, at save, rather than at the next load (where the
 * user would be logged out without a trace).
 */
function assertStoredSize(data: Readonly<SessionData>, set: Readonly<Record<string, string>>, stored: ReadonlyMap<string, number> | undefined): Map<string, number> {
  const sizes = new Map<string, number>()
  let total = 0
  for (const key of Object.keys(data)) {
    const written = set[key]
    const size = written === undefined ? (stored?.get(key) ?? 0) : key.length + written.length
    total += size
    sizes.set(key, size)
  }
  if (total > MAX_STORED_SESSION) throw new PayloadTooLarge(total, MAX_STORED_SESSION, `session of ${total} characters is over the store limit of ${MAX_STORED_SESSION}; nothing was written`)
  return sizes
}

/**
 * The store's TTL: until the session expires, or, with the data in the store, idles out (activity
 * extends it). With the data in the cookie the cookie enforces the idle timeout itself, and the
 * record lives as long as the session can, so it needs no write on activity.
 */
function ttlOf(config: Config, store: StoreConfig, expiresAt: number, now: number): number {
  return Math.max(1, Math.min(expiresAt - now, store.data === 'store' ? (config.idleTimeout ?? Infinity) : Infinity))
}

function change(set: Record<string, string>, remove: string[], ttl: number, create: boolean, user: string | undefined): StoreChange {
  return user === undefined ? { set, remove, ttl, create } : { set, remove, ttl, create, user }
}

/**
 * A save, split where an adapter needs it split: `setCookie` is known at once (a new session's id
 * is chosen here, and anything that cannot be stored throws here), while `persist()` does the
 * store's work. It resolves false when the session was no longer in the store (destroyed,
 * regenerated or revoked since this request loaded it); its cookie must then be deleted rather
 * than written, which {@link SavePlan.gone} holds.
 *
 * Planning changes nothing: the session takes its new id (or loses its id, once destroyed) only
 * when `persist()` resolved. A save that failed (the store threw, the cookie jar refused the
 * cookies, or `persist()` never ran) leaves the session as it was, so saving it again destroys
 * the id the store still holds instead of forgetting it.
 */
export interface SavePlan {
  readonly setCookie: string[]
  readonly gone: string[]
  /** Whether the response depends on the session (`Vary: Cookie`). */
  readonly accessed: boolean
  readonly vary: string
  persist(): Promise<boolean>
}

const DONE: () => Promise<boolean> = () => Promise.resolve(true)

/** Plans a save: see {@link SavePlan}. A 5xx plans nothing, neither a store write nor a cookie. */
export function planSave<T extends object>(config: Config, store: StoreConfig, session: Session<T>, context: CommitContext | undefined): SavePlan {
  const { vary, failed } = readContext(context, 'sessions.save')
  const state = getSessionState(session)
  assertCommittable(state)
  const meta = (state.meta as MetaBag).frasco ?? new Meta()
  if (failed) {
    // Stryker disable next-line ArrayDeclaration: equivalent, gone is read only when persist() resolves false, and DONE resolves true (test/mutation-equivalents.md)
    const gone: string[] = []
    return { setCookie: [], gone, accessed: state.accessed, vary, persist: DONE }
  }
  const writer = writerFor(config, context?.secure)
  const gone = deletions(writer, config.name, meta.incoming, false, 0)
  const plan = (setCookie: string[], persist: () => Promise<boolean>): SavePlan => ({ setCookie, gone, accessed: state.accessed, vary, persist })
  const previous = meta.id
  if (state.destroyed || isEmpty(state.data)) {
    // Nothing to keep: the stored session goes too, so a copy of the cookie is worth nothing.
    if (previous === undefined) return plan(gone, DONE)
    return plan(gone, async () => {
      await store.store.destroy(previous)
      meta.id = undefined
      // Stryker disable next-line BooleanLiteral: equivalent, this plan's setCookie is gone itself, so either answer writes the same headers (test/mutation-equivalents.md)
      return true
    })
  }
  const now = nowSeconds(config)
  const user = userOf(store, state.data)
  // A new session has no id until its first save succeeds; saved again in the same request, it
  // keeps that id. A regenerated one gets a new id at every save (never the one it was loaded with).
  if (state.regenerated || previous === undefined) {
    // A new identity: a new id, and the old one (after a regenerate) gone for every request.
    const id = newId()
    const expiresAt = now + config.lifetime
    const fields = store.data === 'store' ? encodeAll(state.data) : (Object.setPrototypeOf({}, null) as Record<string, string>)
    // Stryker disable next-line ConditionalExpression: equivalent, with revocation the fields are empty and nothing reads the sizes (test/mutation-equivalents.md)
    const sizes = store.data === 'store' ? assertStoredSize(state.data, fields, undefined) : undefined
    const setCookie = cookie(config, writer, state, meta, cookiePayload(id, state.data, store.data), now, expiresAt)
    return plan(setCookie, async () => {
      if (previous !== undefined) await store.store.destroy(previous)
      const written = await store.store.save(id, change(fields, [], ttlOf(config, store, expiresAt, now), true, user))
      if (written) {
        settle(meta, id, sizes, user)
        // Saved again in this request, it keeps this expiry too (the store's TTL came from it).
        meta.issuedAt = now
        meta.expiresAt = expiresAt
      }
      return written
    })
  }
  // Stryker disable next-line ArithmeticOperator: equivalent, dead branch: a session with an id has an expiry, from its token or from its first save (test/mutation-equivalents.md)
  const expiresAt = meta.expiresAt ?? now + config.lifetime
  const due =
    state.modified ||
    meta.stale ||
    config.rolling ||
    meta.incoming.strayChunks > 0 ||
    (meta.issuedAt !== undefined && now - meta.issuedAt >= config.refreshAfter)
  const userChanged = user !== meta.user
  const changed = store.data === 'store' ? changes(state, meta) : undefined
  const sizes = changed === undefined ? meta.storedSizes : assertStoredSize(state.data, changed.set, meta.storedSizes)
  const setCookie = due ? cookie(config, writer, state, meta, cookiePayload(previous, state.data, store.data), now, expiresAt) : []
  // With the data in the store, activity also extends the store's TTL (an idle timeout lives there).
  // Stryker disable next-line ConditionalExpression: equivalent, only with store and a modified session, which the third clause writes anyway (test/mutation-equivalents.md)
  const fieldsUnchanged = changed === undefined
  // Stryker disable next-line ConditionalExpression: equivalent, with revocation the write of a removed user stores what the store holds already (test/mutation-equivalents.md)
  const hasUser = user !== undefined
  if (fieldsUnchanged && !(userChanged && hasUser) && !(store.data === 'store' && due)) return plan(setCookie, DONE)
  // The user goes with every write, so the user's index lives at least as long as the session.
  return plan(setCookie, async () => {
    const written = await store.store.save(previous, change(changed?.set ?? {}, changed?.remove ?? [], ttlOf(config, store, expiresAt, now), false, user))
    // Stryker disable next-line ConditionalExpression: equivalent, a refused save already answers with the cookie's deletion (test/mutation-equivalents.md)
    if (written) settle(meta, previous, sizes, user)
    return written
  })
}

/** What a save leaves in the session's meta once the store has it (see {@link SavePlan}). */
function settle(meta: Meta, id: string, sizes: ReadonlyMap<string, number> | undefined, user: string | undefined): void {
  meta.id = id
  meta.storedSizes = sizes
  meta.user = user
}

/**
 * `save()`: writes what the request changed to the store, then returns the headers, as `commit`
 * does. When the session is no longer in the store, its cookie is deleted: that logout stands.
 */
export async function save<T extends object>(config: Config, store: StoreConfig, session: Session<T>, context: CommitContext | undefined): Promise<SessionCommit> {
  const plan = planSave(config, store, session, context)
  const written = await plan.persist()
  return commitOf(plan, written)
}

/** The headers of a plan whose `persist()` resolved `written`. */
export function commitOf(plan: SavePlan, written: boolean): SessionCommit {
  return commitResult(written ? plan.setCookie : plan.gone, plan.accessed, plan.vary)
}

function cookie(config: Config, writer: Config['plainWriter'], state: SessionState, meta: Meta, payload: SessionData, now: number, expiresAt: number): string[] {
  const token = config.codec.encode(payload, now, expiresAt, state.persistent)
  const maxAge = state.persistent ? Math.max(1, Math.min(expiresAt - now, config.idleTimeout ?? Infinity)) : undefined
  return writeToken(writer, token, maxAge, config.maxChunks, meta.incoming)
}

/** The session's id in the store, once it has one (after it was loaded or first saved). */
export function sessionId<T extends object>(session: Session<T>): string | undefined {
  return ((getSessionState(session).meta as MetaBag).frasco ?? undefined)?.id
}

type Planner = (session: Session<SessionData>, context: CommitContext | undefined) => SavePlan

/** Each store-backed manager's {@link planSave}, for the adapters (not part of its public shape). */
const planners = new WeakMap<object, Planner>()

/** Records how `sessions` plans its saves. */
export function registerPlanner(sessions: object, config: Config, store: StoreConfig): void {
  planners.set(sessions, (session, context) => planSave(config, store, session, context))
}

/**
 * Plans the save of `session` by the store-backed manager `sessions` (see {@link SavePlan}): the
 * node adapter writes the cookie when the headers go out and awaits the store before the response
 * ends.
 */
export function planSaveOf<T extends object>(sessions: object, session: Session<T>, context: CommitContext | undefined): SavePlan {
  const planner = planners.get(sessions)
  if (planner === undefined) throw new TypeError('sessions is invalid: give a session manager made by createSessions({ store }) or createSessions({ revocation })')
  return planner(session as unknown as Session<SessionData>, context)
}
