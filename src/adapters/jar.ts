/**
 * `frasco/jar`: sessions through the cookie jar a framework hands out instead of headers: Next.js
 * (`await cookies()`, `request.cookies`, `NextResponse`'s `response.cookies`), SvelteKit
 * (`event.cookies`), Astro (`Astro.cookies`), and h3/Nuxt through a two-line jar over `getCookie`
 * and `setCookie`. Structural types only: nothing here loads a framework.
 *
 * The manager reads a `Cookie` header and writes `Set-Cookie` headers; this module builds the one
 * from what the jar holds and turns the others into `jar.set(name, value, options)` calls.
 *
 * @module
 */
import { MAX_COOKIE_BYTES, parseSetCookie } from '../cookie/cookie.js'
import { assertKnownKeys } from '../lib/options.js'
import { MAX_CHUNKS_LIMIT } from '../manager/config.js'
import { planSaveOf } from '../manager/stored.js'
import { getSessionState, type Session } from '../session.js'
import { isStoredSessions, type Sessions, type StoredSessions } from '../sessions.js'

/**
 * What Next.js `cookies()` / `request.cookies` / `NextResponse.cookies`, SvelteKit `event.cookies`
 * and `Astro.cookies` hand out: an object that gets a cookie of the request by name and sets a
 * cookie on the response. Each of those matches this type as it is.
 *
 * `get` may return the value (SvelteKit, h3), an object holding it in `value` (Next.js
 * `{ name, value }`, Astro's `AstroCookie`), or `undefined`/`null` when there is none. A jar that
 * also has `getAll()` returning `{ name, value }` objects (Next.js, SvelteKit) is read with one
 * call to it. `set` is called synchronously and what it returns is ignored; it is never asked to
 * delete: a deletion is `set(name, '', { …, maxAge: 0, expires: new Date(0) })`. Reading needs
 * `get` only (`readSession` takes `Pick<CookieJar, 'get'>`), so Next.js's `request.cookies`, whose
 * `set(name, value)` changes the request, reads but does not compile as a jar to commit to.
 *
 * @example
 * ```ts
 * import { getCookie, setCookie, type H3Event } from 'h3'
 *
 * const jar = (event: H3Event): CookieJar => ({
 *   get: (name) => getCookie(event, name),
 *   set: (name, value, options) => setCookie(event, name, value, options),
 * })
 * ```
 */
export interface CookieJar {
  /** Next.js: `{ name, value } | undefined`; SvelteKit: `string | undefined`; Astro: `AstroCookie | undefined` (has `.value`). */
  get(name: string): string | { readonly value: string } | null | undefined
  set(name: string, value: string, options: JarCookieOptions): unknown
}

/** What reading needs of a jar: `get`. Next.js's `request.cookies`, whose `set` changes the request, is one. */
type JarReader = Pick<CookieJar, 'get'>

/**
 * The options `commitSession` passes to `jar.set`: the session cookie's attributes as the manager
 * wrote them (`cookie` of `createSessions`), with its lifetime. `httpOnly` and `secure` are always
 * given, as `true` or `false`, since some jars default them to `true` (SvelteKit); `path` is always
 * given (SvelteKit requires it). Values are lower-case keywords, which every jar accepts.
 *
 * @example
 * ```ts
 * const options: JarCookieOptions = { path: '/', maxAge: 3600, httpOnly: true, secure: true, sameSite: 'lax' }
 * ```
 */
export interface JarCookieOptions {
  path: string
  domain?: string
  /** Seconds; 0 with `expires: new Date(0)` deletes the cookie. Absent: a browser-session cookie. */
  maxAge?: number
  expires?: Date
  httpOnly?: boolean
  secure?: boolean
  sameSite?: 'lax' | 'strict' | 'none'
  partitioned?: boolean
  priority?: 'low' | 'medium' | 'high'
}

/**
 * Options of {@link commitSession}.
 *
 * @example
 * ```ts
 * // SvelteKit: the request's own scheme decides
 * commitSession(sessions, event.cookies, session, { secure: event.url.protocol === 'https:' })
 * ```
 */
export interface JarCommitOptions {
  /**
   * Whether the request came over https, for `cookie.secure: 'auto'` (the default of
   * `createSessions`): `true` writes the cookie `Secure`, `false` does not. A jar knows nothing of
   * the request, so without this option the cookie is `Secure`: production runs over https, and
   * Chrome and Firefox keep a `Secure` cookie set over plain `http://localhost` too. Pass `false`
   * for plain http elsewhere, where a browser drops a `Secure` cookie: another host (a LAN
   * address in development), and Safari even on localhost. Ignored when `cookie.secure` is
   * `true` or `false`.
   */
  secure?: boolean
}

const COMMIT_KEYS: ReadonlySet<string> = new Set(['secure'])
const COMMIT_HINTS: Readonly<Record<string, string>> = {
  trustProxy: 'a jar knows nothing of the request: pass `secure` (whether the request came over https) instead',
  request: 'a jar knows nothing of the request: pass `secure` (whether the request came over https) instead',
}

/** A cookie the jar has but could not hand over (its `get` threw); the session reading it is rejected. */
const UNREADABLE = null

// RFC 6265bis §4.1.1, what a Cookie header pair can carry unchanged:
//   cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
//   cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
const COOKIE_VALUE = /^(?:[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*|"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*")$/

// Put in a Cookie header for a cookie whose value it cannot carry: a cookie-value that is no token of
// any format (not base64url), so the session is rejected as malformed and its cookies deleted at commit.
const UNREADABLE_VALUE = '!'

function assertSessions(sessions: unknown, caller: string): void {
  const candidate = sessions as Partial<Sessions<object>> | null
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.cookieName !== 'string') {
    throw new TypeError(`sessions is invalid: ${caller} takes the session manager createSessions returns, then the cookie jar`)
  }
}

/** Checks the jar: `get` to read, `set` too to commit. */
function assertJar(jar: unknown, caller: string, writes: boolean): void {
  // First, before touching get or set: Next.js's cookies() promise warns when they are read.
  if (typeof (jar as PromiseLike<unknown> | null)?.then === 'function') {
    throw new TypeError(`jar is invalid: ${caller} got a Promise; await it first, e.g. ${caller}(sessions, await cookies(), …) in Next.js`)
  }
  // Headers has get and set too, of headers: a jar of those would read nothing and write headers.
  if (typeof Headers === 'function' && jar instanceof Headers) {
    throw new TypeError(`jar is invalid: ${caller} got a Headers; give it the framework's cookie jar, or use ${caller} of frasco/fetch with the Request`)
  }
  const candidate = jar as Partial<CookieJar> | null
  if (typeof candidate?.get !== 'function' || (writes && typeof candidate.set !== 'function')) {
    throw new TypeError(
      `jar is invalid: give ${caller} the cookie jar of your framework (Next.js: await cookies(), request.cookies or response.cookies; ` +
        `SvelteKit: event.cookies; Astro: Astro.cookies), or an object with get(name)${writes ? ' and set(name, value, options)' : ''}`,
    )
  }
}

/** The value in what `jar.get` or `jar.getAll` handed out, or undefined for none (or an empty one). */
function valueOf(entry: unknown): string | undefined {
  const value = typeof entry === 'object' && entry !== null ? (entry as { value?: unknown }).value : entry
  // An empty value holds no session, and it is how jars report a cookie deleted earlier in the same
  // request (Next.js, Astro): the session must not be read from it.
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** The names the manager may read: the cookie, then every chunk name readCookieValue may look for. */
function cookieNames(name: string): string[] {
  const names = [name]
  for (let i = 0; i <= MAX_CHUNKS_LIMIT; i++) names.push(`${name}.${i}`)
  return names
}

/** `getAll()`'s entries for `names`, or undefined when the jar has no usable getAll. */
function fromGetAll(jar: JarReader, names: readonly string[]): Map<string, string | typeof UNREADABLE> | undefined {
  const getAll = (jar as { getAll?: unknown }).getAll
  if (typeof getAll !== 'function') return undefined
  const wanted = new Set(names)
  const values = new Map<string, string | typeof UNREADABLE>()
  try {
    const all: unknown = getAll.call(jar)
    if (!Array.isArray(all)) return undefined
    for (const entry of all as unknown[]) {
      const name = (entry as { name?: unknown } | null)?.name
      if (typeof name !== 'string' || !wanted.has(name) || values.has(name)) continue
      const value = valueOf(entry)
      if (value !== undefined) values.set(name, value)
    }
  } catch {
    // A getAll that fails (or a list that does, entry by entry): ask get for each name instead.
    return undefined
  }
  return values
}

/**
 * What the jar holds under the cookie's names: the value, or {@link UNREADABLE} when `get` threw
 * (Astro's decodes the value and throws on a malformed percent-escape: the client's doing).
 */
function jarValues(jar: JarReader, name: string): Map<string, string | typeof UNREADABLE> {
  const names = cookieNames(name)
  const listed = fromGetAll(jar, names)
  if (listed !== undefined) return listed
  const values = new Map<string, string | typeof UNREADABLE>()
  for (const cookie of names) {
    let value: string | undefined
    try {
      value = valueOf(jar.get(cookie))
    } catch {
      values.set(cookie, UNREADABLE)
      continue
    }
    if (value !== undefined) values.set(cookie, value)
  }
  return values
}

/**
 * Whether a Cookie header carries this value as it is, in a cookie a browser keeps: a
 * cookie-value, and no more than {@link MAX_COOKIE_BYTES} with the name (RFC 6265bis §5.6 step 5:
 * browsers drop larger cookies, so a larger value did not come from one the manager wrote).
 */
function isCarried(name: string, value: string): boolean {
  return name.length + value.length <= MAX_COOKIE_BYTES && COOKIE_VALUE.test(value)
}

/**
 * A Cookie header holding the session cookie and its chunks as the jar has them. Jars hand out
 * values percent-decoded; the manager's tokens (base64url and dots, in both formats) decode to
 * themselves, and a value a header cannot carry as it is (a ";", a space, more than a cookie
 * holds) is no token of any format: it goes in as {@link UNREADABLE_VALUE}, so the session is
 * rejected (never a throw), the next commit deletes the cookie, and the header stays small.
 */
function cookieHeader(jar: JarReader, name: string): string | undefined {
  const pairs: string[] = []
  for (const [cookie, value] of jarValues(jar, name)) {
    pairs.push(`${cookie}=${value !== UNREADABLE && isCarried(cookie, value) ? value : UNREADABLE_VALUE}`)
  }
  return pairs.length === 0 ? undefined : pairs.join('; ')
}

/**
 * Reads the session from a framework's cookie jar: the session cookie and its chunks
 * (`session.0`, `session.1`, …). Never throws on what the client sent: a missing, malformed,
 * tampered or expired cookie, a broken chunk set or a value the jar cannot represent gives a fresh
 * empty session, with the reason in `sessions.invalidReason(session)`. With a store-backed manager
 * (`createSessions({ store })` or `{ revocation }`) it returns a promise: `await` works on both.
 *
 * Reading needs `get` only: Next.js middleware reads from `request.cookies` (and commits to the
 * response's `cookies`). A manager whose kind is not known statically (`Sessions | StoredSessions`)
 * gets `Session | Promise<Session>`: `await` it.
 *
 * @example
 * ```ts
 * // A Next.js Server Component: reading is allowed everywhere
 * const session = await readSession(sessions, await cookies())
 * session.get('username')
 * ```
 */
export function readSession<T extends object>(sessions: StoredSessions<T>, jar: Pick<CookieJar, 'get'>): Promise<Session<T>>
export function readSession<T extends object>(sessions: Sessions<T>, jar: Pick<CookieJar, 'get'>): Session<T>
export function readSession<T extends object>(sessions: Sessions<T> | StoredSessions<T>, jar: Pick<CookieJar, 'get'>): Session<T> | Promise<Session<T>>
export function readSession<T extends object>(sessions: Sessions<T> | StoredSessions<T>, jar: Pick<CookieJar, 'get'>): Session<T> | Promise<Session<T>> {
  assertSessions(sessions, 'readSession')
  assertJar(jar, 'readSession', false)
  const header = cookieHeader(jar, sessions.cookieName)
  return isStoredSessions(sessions) ? sessions.load(header) : sessions.read(header)
}

/** One `jar.set` call: a Set-Cookie header of the manager, read back. */
interface JarCookie {
  readonly name: string
  readonly value: string
  readonly options: JarCookieOptions
}

function toJarCookie(header: string): JarCookie {
  const cookie = parseSetCookie(header)
  // The manager's own headers always parse; anything else is a bug to hear of, not to hide.
  if (cookie === null) throw new Error('frasco: internal error: the session manager wrote a Set-Cookie header that does not parse')
  // The manager always writes a Path (its cookie.path option, "/" by default).
  const options: JarCookieOptions = { path: cookie.path ?? '/', httpOnly: cookie.httpOnly === true, secure: cookie.secure === true }
  if (cookie.domain !== undefined) options.domain = cookie.domain
  if (cookie.maxAge !== undefined) options.maxAge = cookie.maxAge
  if (cookie.expires !== undefined) options.expires = cookie.expires
  if (cookie.sameSite !== undefined) options.sameSite = cookie.sameSite
  if (cookie.partitioned === true) options.partitioned = true
  if (cookie.priority !== undefined) options.priority = cookie.priority
  return { name: cookie.name, value: cookie.value, options }
}

/** How to put back what a name held before a write: its old value, or a deletion when it held none. */
function restoring(written: JarCookie, before: string | typeof UNREADABLE | undefined): JarCookie {
  const { maxAge, expires, ...attributes } = written.options
  if (before === undefined || before === UNREADABLE) return { name: written.name, value: '', options: { ...attributes, maxAge: 0, expires: new Date(0) } }
  // The old cookie's lifetime is not in the jar: keep the one just written, unless that was a
  // deletion (the old value then goes back as a browser-session cookie).
  const lifetime = maxAge === undefined || maxAge === 0 ? {} : expires === undefined ? { maxAge } : { maxAge, expires }
  return { name: written.name, value: before, options: { ...attributes, ...lifetime } }
}

/** Undoes the first `count` writes, newest first; false when the jar refused one of the undos too. */
function undo(jar: CookieJar, cookies: readonly JarCookie[], before: ReadonlyMap<string, string | typeof UNREADABLE>, count: number): boolean {
  let complete = true
  for (let i = count - 1; i >= 0; i--) {
    const restore = restoring(cookies[i] as JarCookie, before.get((cookies[i] as JarCookie).name))
    try {
      jar.set(restore.name, restore.value, restore.options)
    } catch {
      complete = false
    }
  }
  return complete
}

function refused(cause: unknown, name: string, undone: boolean): TypeError {
  return new TypeError(
    `commitSession cannot write the session here: the cookie jar refused to set ${name} (the error it threw is the cause). ` +
      'Change the session where the framework lets a request set cookies (in Next.js: a Server Action, a Route Handler or middleware) ' +
      'and only read it elsewhere (Next.js Server Components: readSession)' +
      (undone ? '; nothing was written.' : '; the jar also refused to undo the cookies already set, so do not send this response.'),
    { cause },
  )
}

/** Undoes a completed write (see {@link write}). */
type Undo = () => void

const NOTHING_TO_UNDO: Undo = () => {}

/**
 * Whether a commit of this session only does housekeeping: the session did not change (neither
 * modified, destroyed nor regenerated; a new session is modified as soon as it holds anything),
 * so what it sets only deletes a rejected cookie or stray chunks, or re-signs an unchanged
 * session (`rolling`, a refresh or idle timeout due, a cookie signed with an older secret). That
 * can wait for a request whose jar accepts cookies.
 */
function isHousekeeping<T extends object>(session: Session<T>): boolean {
  const state = getSessionState(session)
  return !state.modified && !state.destroyed && !state.regenerated
}

/**
 * Sets each header's cookie in the jar, all or nothing: every header is read before the first
 * set, and when the jar refuses one, the cookies already set get back what the jar held before
 * (a chunk set half old and half new would be a broken session, and a logout half done leaves
 * chunks behind). Returns the undo of the whole write, for a store that fails afterwards.
 *
 * A refused write that was `housekeeping` only (see {@link isHousekeeping}) and is fully undone
 * is given up without a throw, and returns undefined: nothing was set. A client sending a garbage
 * cookie, or a secret rotation, must not make every Server Component that commits throw.
 */
function write(jar: CookieJar, headers: readonly string[], name: string, housekeeping: boolean): Undo | undefined {
  if (headers.length === 0) return NOTHING_TO_UNDO
  const cookies = headers.map(toJarCookie)
  const before = jarValues(jar, name)
  let done = 0
  try {
    for (const cookie of cookies) {
      jar.set(cookie.name, cookie.value, cookie.options)
      done++
    }
  } catch (error) {
    const undone = undo(jar, cookies, before, done)
    // A jar left half written (its undo refused too) would hold a broken session: say so.
    if (housekeeping && undone) return undefined
    throw refused(error, (cookies[done] as JarCookie).name, undone)
  }
  return () => {
    undo(jar, cookies, before, cookies.length)
  }
}

/** Whether the cookie is to be Secure under `cookie.secure: 'auto'`: the option, else yes. */
function secureOption(options: JarCommitOptions | undefined): boolean {
  if (options === undefined) return true
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('options are invalid: commitSession takes { secure } or nothing')
  }
  assertKnownKeys(options, COMMIT_KEYS, '', COMMIT_HINTS)
  const { secure } = options
  if (secure === undefined) return true
  if (typeof secure !== 'boolean') throw new TypeError('option secure is invalid: give true when the request came over https, else false')
  return secure
}

/**
 * Store mode: the cookies go into the jar first, so a jar that refuses them (a Next.js Server
 * Component) fails before the store changes; the store is written next, and if it fails the
 * cookies are taken back. A session gone from the store meanwhile (logged out, revoked) gets its
 * cookies deleted instead. Either failure leaves the session as it was (see `SavePlan`): committing
 * it again, where the jar accepts cookies, does the whole save, a destroy of the old id included.
 * A housekeeping write the jar refuses skips the store too: its TTL is extended on a later request.
 */
async function save<T extends object>(sessions: StoredSessions<T>, jar: CookieJar, session: Session<T>, secure: boolean): Promise<void> {
  const plan = planSaveOf(sessions, session, { secure })
  const housekeeping = isHousekeeping(session)
  const undoWrite = write(jar, plan.setCookie, sessions.cookieName, housekeeping)
  if (undoWrite === undefined) return
  let stored: boolean
  try {
    stored = await plan.persist()
  } catch (error) {
    undoWrite()
    throw error
  }
  if (!stored) {
    undoWrite()
    write(jar, plan.gone, sessions.cookieName, housekeeping)
  }
}

/**
 * Writes the session into a framework's cookie jar: the cookie, or its chunks, and the deletion of
 * what it no longer uses (a stale chunk, the cookie of an emptied session). Nothing is set when
 * nothing changed. With a store-backed manager it returns a promise (await it): the store is
 * written too.
 *
 * A commit of a session that did not change (not modified, destroyed or regenerated) may still
 * set cookies: it deletes a rejected cookie, or re-signs the session (`rolling`, a refresh due, a
 * cookie signed with an older secret). Where the jar refuses cookies, that housekeeping is given
 * up in silence (nothing is set, with a store nothing is written) and happens on a later request
 * that can set cookies, so a Server Component may read and commit an unchanged session.
 *
 * The jar has no response headers, so the `Vary: Cookie` of `sessions.commit` is not written:
 * where a shared cache could store a page that reads the session, say so yourself (`Vary: Cookie`
 * or `Cache-Control: private`). Next.js already renders a route that calls `cookies()` per request.
 *
 * @throws {TypeError} when the jar refuses a cookie of a session that changed (a Next.js Server
 *   Component's read-only `cookies()`; SvelteKit's and Astro's once the response exists): the
 *   message says where to write instead, the jar's error is its `cause`, and the jar holds what it
 *   held before (with a store, the store was not written, and the session is as it was before the
 *   commit: commit it again where the jar accepts cookies).
 * @throws {CookieTooLarge} when the session does not fit; nothing was set.
 * @throws {TypeError} when the session holds a value that cannot be stored; nothing was set.
 * @example
 * ```ts
 * // A Next.js Server Action
 * 'use server'
 * export async function logIn(form: FormData) {
 *   const jar = await cookies()
 *   const session = readSession(sessions, jar)
 *   session.regenerate()
 *   session.set('username', String(form.get('username')))
 *   commitSession(sessions, jar, session)
 * }
 * ```
 */
export function commitSession<T extends object>(sessions: StoredSessions<T>, jar: CookieJar, session: Session<T>, options?: JarCommitOptions): Promise<void>
export function commitSession<T extends object>(sessions: Sessions<T>, jar: CookieJar, session: Session<T>, options?: JarCommitOptions): void
export function commitSession<T extends object>(sessions: Sessions<T> | StoredSessions<T>, jar: CookieJar, session: Session<T>, options?: JarCommitOptions): void | Promise<void>
export function commitSession<T extends object>(
  sessions: Sessions<T> | StoredSessions<T>,
  jar: CookieJar,
  session: Session<T>,
  options?: JarCommitOptions,
): void | Promise<void> {
  assertSessions(sessions, 'commitSession')
  assertJar(jar, 'commitSession', true)
  const secure = secureOption(options)
  if (isStoredSessions(sessions)) return save(sessions, jar, session, secure)
  write(jar, sessions.commit(session, { secure }).setCookie, sessions.cookieName, isHousekeeping(session))
}
