/**
 * One small app, served through every adapter style in test/stores/sessions-node.test.ts and
 * sessions-fetch.test.ts and every framework entry (test/frameworks/*-store.test.ts), over a
 * store-backed manager (a memory store on a manual clock, its methods spied on): the routes do
 * their session work in {@link act}, each style only sends the outcome its own way.
 * {@link expectStoreFlow} drives log in, count, log out through a cookie jar and checks the cookie
 * and the store at each step; {@link describeStoreFeatures} checks what each kind of change writes
 * to the store; {@link expectSaveBeforeResponse} and {@link describeStoreFailures}, that the
 * response waits for the store and survives its failures.
 */
import { format } from 'node:util'
import { describe, expect, it, vi, type MockInstance } from 'vitest'
import type { Session } from '../../src/session.js'
import { createSessions, type StoredSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import type { SessionStore, StoreChange } from '../../src/stores/store.js'
import { CookieJar, formPost, isDeletion, parseSetCookie, type TestServer } from './server.js'
import { cookieReader, decodeStored, deferred, manualClock, pendingAfter, testSecrets, type ManualClock } from './stored.js'

export type AppData = { user: string; count: number; note: string }

/** The default lifetime (7 days), in seconds: the TTL of a session saved at the clock's time of login. */
export const LIFETIME = 7 * 24 * 3600

export const secrets = testSecrets()

export interface StoreEnv {
  readonly clock: ManualClock
  readonly store: SessionStore
  readonly sessions: StoredSessions<AppData>
  /** Every code onInvalid heard, in order. */
  readonly invalid: string[]
  /** Everything an adapter's onError (or the app's error handler) heard. */
  readonly errors: unknown[]
  readonly onError: (error: unknown) => void
  readonly spies: {
    load: MockInstance<SessionStore['load']>
    save: MockInstance<SessionStore['save']>
    destroy: MockInstance<SessionStore['destroy']>
  }
  /** The store's own methods, unspied: for the test to look behind the manager's back. */
  readonly raw: SessionStore
  readonly reader: ReturnType<typeof cookieReader>
  /** The session stored under `id`, decoded; undefined when the store has none. */
  stored(id: string | undefined): Promise<Record<string, unknown> | undefined>
}

export interface EnvOptions {
  idleTimeout?: number
  rolling?: boolean
  encrypt?: boolean
  lifetime?: number
}

export function storeEnv(options: EnvOptions = {}): StoreEnv {
  const clock = manualClock()
  const store = createMemoryStore({ clock: clock.now })
  const raw: SessionStore = { load: store.load, save: store.save, destroy: store.destroy, destroyUser: store.destroyUser }
  const invalid: string[] = []
  const errors: unknown[] = []
  const sessions = createSessions<AppData>({ secrets, store, clock: clock.now, onInvalid: (error) => invalid.push(error.code), ...options })
  const spies = { load: vi.spyOn(store, 'load'), save: vi.spyOn(store, 'save'), destroy: vi.spyOn(store, 'destroy') }
  const reader = cookieReader(secrets, { clock: clock.now, ...(options.encrypt === true ? { encrypt: true } : {}) })
  return {
    clock,
    store,
    sessions,
    invalid,
    errors,
    onError: (error) => {
      errors.push(error)
    },
    spies,
    raw,
    reader,
    stored: async (id) => (id === undefined ? undefined : decodeStored(await raw.load(id))),
  }
}

/** What a route answers, for each style to send its own way. */
export interface Outcome {
  status: number
  location?: string
  body: string
}

/** What a route needs from the adapter style it runs in. */
export interface RouteContext {
  readonly sessions: StoredSessions<AppData>
  /** The request's session now (express-session's `regenerate(cb)` replaces `req.session`). */
  session(): Session<AppData>
  readonly form: URLSearchParams
  /** Ends the session the adapter's way: `req.session = null` on node, `session.destroy()` elsewhere. */
  end(): void
  /** Queues a flash message of a category, connect-flash style (`req.flash` on node). */
  flash(type: string, text: string, ...args: unknown[]): void
  /** Takes the flash messages of a category. */
  takeFlash(type: string): string[]
}

/** `session.flash` and `consumeFlashes`, for adapters without `req.flash`. */
export function sessionFlash(session: () => Session<AppData>): Pick<RouteContext, 'flash' | 'takeFlash'> {
  return {
    flash: (type, text, ...args) => session().flash(format(text, ...args), type),
    takeFlash: (type) => session().consumeFlashes(type).map((flash) => flash.message),
  }
}

const ok = (body: string): Outcome => ({ status: 200, body })
const home: Outcome = { status: 303, location: '/', body: '' }

/** The routes. Each changes the session in one way the tests check. */
export async function act(ctx: RouteContext, method: string, path: string): Promise<Outcome> {
  const session = ctx.session()
  switch (`${method} ${path}`) {
    case 'GET /static':
      return ok('static')
    case 'GET /whoami':
      return ok(`${session.get('user') ?? 'anonymous'}|${ctx.sessions.invalidReason(session)?.code ?? ''}`)
    case 'GET /count': {
      const count = (session.get('count') ?? 0) + 1
      session.set('count', count)
      return ok(`${session.get('user') ?? 'anonymous'}:${count}`)
    }
    case 'POST /login':
      session.regenerate()
      session.set('user', ctx.form.get('username') ?? '')
      return home
    case 'POST /logout':
      ctx.end()
      return home
    case 'GET /drop-count':
      session.delete('count')
      return ok('dropped')
    case 'GET /touch':
      session.touch()
      return ok('touched')
    case 'GET /save':
      await new Promise<void>((resolve, reject) => session.save((error) => (error === undefined ? resolve() : reject(error))))
      return ok('saved')
    case 'GET /clear-set':
      session.clear()
      session.set('note', 'fresh start')
      return ok('cleared')
    case 'GET /clear':
      session.clear()
      return ok('cleared')
    case 'GET /empty':
      session.delete('user')
      session.delete('count')
      return ok('emptied')
    case 'GET /destroy':
      session.destroy()
      return ok('destroyed')
    case 'GET /regenerate': {
      const user = session.get('user')
      session.regenerate()
      if (user !== undefined) session.set('user', user)
      return ok('regenerated')
    }
    case 'GET /regenerate-cb': {
      // express-session's form, as Passport calls it: on node, req.session is a new session after it.
      const user = session.get('user')
      await new Promise<void>((resolve, reject) => session.regenerate((error) => (error === undefined ? resolve() : reject(error))))
      if (user !== undefined) ctx.session().set('user', user)
      return ok('regenerated')
    }
    case 'GET /fail':
      session.set('note', 'half-done')
      return { status: 500, body: 'failed' }
    case 'GET /throw':
      session.set('note', 'half-done')
      throw new Error('the handler failed')
    case 'GET /flash':
      session.flash('Saved.')
      ctx.flash('info', 'Hi %s', session.get('user') ?? 'stranger')
      return ok('flashed')
    case 'GET /flashes': {
      const info = ctx.takeFlash('info')
      const rest = session.consumeFlashes().map((flash) => `${flash.category}:${flash.message}`)
      return ok(JSON.stringify({ info, rest }))
    }
    case 'GET /remember':
      session.persistent = true
      session.set('user', 'ada-lovelace')
      return ok('remembered')
    case 'GET /big':
      session.set('note', 'x'.repeat(5000))
      return ok('big')
    default:
      return { status: 404, body: 'not found' }
  }
}

/** The user name the flows log in with: long and recognisable, so a cookie holding it would show. */
export const USER = 'ada-lovelace@example.com'

/** The `{ set, remove, create, ttl }` of the last store save, keys sorted. */
export function lastSave(env: StoreEnv): { id: string; set: string[]; remove: string[]; create: boolean; ttl: number; user: string | undefined } {
  const call = env.spies.save.mock.calls.at(-1)
  if (call === undefined) throw new Error('the store was never saved to')
  const [id, change] = call as [string, StoreChange]
  return { id, set: Object.keys(change.set).sort(), remove: [...change.remove].sort(), create: change.create, ttl: change.ttl, user: change.user }
}

/** The session cookie a response sets (the last one), parsed. */
export function sessionCookie(response: Response): ReturnType<typeof parseSetCookie> | undefined {
  return response.headers.getSetCookie().map(parseSetCookie).filter((cookie) => cookie.name === 'session').at(-1)
}

/** Logs a jar in; returns the session id its cookie now carries. */
export async function login(server: TestServer, env: StoreEnv, jar: CookieJar, user = USER): Promise<string> {
  const response = await jar.fetch(server.url('/login'), formPost({ username: user }))
  expect(response.status).toBe(303)
  await response.arrayBuffer()
  const id = env.reader.idOf(jar)
  expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/)
  return id as string
}

/** GET `path` with the jar; the response's body as text, with the response. */
export async function get(server: TestServer, jar: CookieJar, path: string): Promise<{ response: Response; body: string }> {
  const response = await jar.fetch(server.url(path))
  return { response, body: await response.text() }
}

/** Replays a cookie value without a jar (a copy kept by an attacker, or by a second tab). */
export async function replay(server: TestServer, value: string, path = '/whoami'): Promise<{ response: Response; body: string }> {
  const response = await fetch(server.url(path), { headers: { cookie: `session=${value}` } })
  return { response, body: await response.text() }
}

/**
 * Log in, count twice, look, log out, replay the old cookie: what every adapter style must get right
 * with the data in the store and only a signed id in the cookie.
 */
export async function expectStoreFlow(server: TestServer, env: StoreEnv): Promise<void> {
  const jar = new CookieJar(env.clock.now)

  // Anonymous: nothing to load, nothing to store, no cookie.
  const anonymous = await get(server, jar, '/whoami')
  expect(anonymous.body).toBe('anonymous|')
  expect(anonymous.response.headers.getSetCookie()).toEqual([])
  expect(env.spies.load).not.toHaveBeenCalled()
  expect(env.spies.save).not.toHaveBeenCalled()

  // Log in: a new session under a fresh id, all its keys written; the cookie holds the id only.
  const loginResponse = await jar.fetch(server.url('/login'), formPost({ username: USER }))
  expect(loginResponse.status).toBe(303)
  expect(loginResponse.headers.get('location')).toBe('/')
  await loginResponse.arrayBuffer()
  const value = jar.get('session') as string
  expect(value.length).toBeLessThan(200)
  expect(value).not.toContain('ada')
  for (const part of value.split('.')) expect(Buffer.from(part, 'base64url').toString('latin1')).not.toContain('ada')
  const id = env.reader.idOf(jar) as string
  expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/)
  expect(env.reader.payload(value)).toEqual({ i: id })
  expect(await env.stored(id)).toEqual({ user: USER })
  expect(env.spies.save).toHaveBeenCalledTimes(1)
  expect(lastSave(env)).toEqual({ id, set: ['user'], remove: [], create: true, ttl: LIFETIME, user: undefined })

  // Count: each request writes only the key it changed, to the same id.
  for (const expected of [1, 2]) {
    const counted = await get(server, jar, '/count')
    expect(counted.response.status).toBe(200)
    expect(counted.body).toBe(`${USER}:${expected}`)
    expect(lastSave(env)).toEqual({ id, set: ['count'], remove: [], create: false, ttl: LIFETIME, user: undefined })
    expect(env.reader.idOf(jar)).toBe(id)
  }
  expect(env.spies.save).toHaveBeenCalledTimes(3)
  expect(await env.stored(id)).toEqual({ count: 2, user: USER })

  // Unchanged: loaded once, nothing written, no cookie.
  const loadsBefore = env.spies.load.mock.calls.length
  const look = await get(server, jar, '/whoami')
  expect(look.body).toBe(`${USER}|`)
  expect(look.response.headers.getSetCookie()).toEqual([])
  expect(look.response.headers.get('vary')?.toLowerCase()).toContain('cookie')
  expect(env.spies.load.mock.calls.length).toBe(loadsBefore + 1)
  expect(env.spies.load.mock.calls.at(-1)).toEqual([id])
  expect(env.spies.save).toHaveBeenCalledTimes(3)

  // Log out: the stored session and the cookie go.
  const logout = await jar.fetch(server.url('/logout'), { method: 'POST' })
  expect(logout.status).toBe(303)
  await logout.arrayBuffer()
  const deletion = sessionCookie(logout)
  expect(deletion !== undefined && isDeletion(deletion)).toBe(true)
  expect(jar.get('session')).toBeUndefined()
  expect(env.spies.destroy).toHaveBeenCalledWith(id)
  expect(await env.stored(id)).toBeUndefined()
  expect(env.spies.save).toHaveBeenCalledTimes(3)

  // The old cookie, kept and replayed, opens nothing: its id is gone from the store.
  const replayed = await replay(server, value)
  expect(replayed.body).toBe('anonymous|ERR_SESSION_REVOKED')
  expect(env.invalid).toEqual(['ERR_SESSION_REVOKED'])
  const gone = sessionCookie(replayed.response)
  expect(gone !== undefined && isDeletion(gone)).toBe(true)
  expect(env.errors).toEqual([])
}

/** How a test starts the app in one adapter style. */
export type StartApp = (env: StoreEnv) => Promise<TestServer>

/**
 * What each kind of change writes to the store, and what the client gets, in one adapter style.
 * `throwsTo`: where a handler's exception ends up ('errors' when the style reports it to onError
 * or an error handler, 'response' when only the 500 shows it).
 */
export function describeStoreFeatures(name: string, start: StartApp, options: { throwsTo: 'errors' | 'response'; varyAlways?: true }): void {
  describe(name, () => {
    async function loggedIn(envOptions: EnvOptions = {}) {
      const env = storeEnv(envOptions)
      const server = await start(env)
      const jar = new CookieJar(env.clock.now)
      const id = await login(server, env, jar)
      await get(server, jar, '/count')
      expect(await env.stored(id)).toEqual({ count: 1, user: USER })
      return { env, server, jar, id, saves: env.spies.save.mock.calls.length }
    }

    it('writes no cookie and nothing to the store for an unchanged existing session', async () => {
      const { env, server, jar, saves } = await loggedIn()
      for (let i = 0; i < 3; i++) {
        const { response, body } = await get(server, jar, '/whoami')
        expect(body).toBe(`${USER}|`)
        expect(response.headers.getSetCookie()).toEqual([])
      }
      expect(env.spies.save).toHaveBeenCalledTimes(saves)
      expect(env.spies.destroy).not.toHaveBeenCalled()
    })

    // A recipe may add Vary: Cookie to every response (h3's does); the adapters add it when the
    // route looked at the session, and loading it from the store (an await) is not looking.
    it(options.varyAlways ? 'adds Vary: Cookie to every response' : 'adds Vary: Cookie only when the route looked at the session', async () => {
      const { env, server, jar } = await loggedIn()
      const untouchedVary = options.varyAlways ? 'Cookie' : null
      const untouched = await get(server, jar, '/static')
      expect([untouched.body, untouched.response.headers.get('vary'), untouched.response.headers.getSetCookie()]).toEqual(['static', untouchedVary, []])
      const looked = await get(server, jar, '/whoami')
      expect([looked.body, looked.response.headers.get('vary')]).toEqual([`${USER}|`, 'Cookie'])
      const anonymous = await get(server, new CookieJar(env.clock.now), '/static')
      expect([anonymous.body, anonymous.response.headers.get('vary'), anonymous.response.headers.getSetCookie()]).toEqual(['static', untouchedVary, []])
    })

    it('writes only the key a request set, and removes only the key it deleted', async () => {
      const { env, server, jar, id } = await loggedIn()
      await get(server, jar, '/count')
      expect(lastSave(env)).toEqual({ id, set: ['count'], remove: [], create: false, ttl: LIFETIME, user: undefined })
      expect(env.spies.save.mock.calls.at(-1)?.[1].set).toEqual({ count: '2' })
      await get(server, jar, '/drop-count')
      expect(lastSave(env)).toEqual({ id, set: [], remove: ['count'], create: false, ttl: LIFETIME, user: undefined })
      expect(await env.stored(id)).toEqual({ user: USER })
      expect(env.reader.idOf(jar)).toBe(id)
    })

    it.each(['/touch', '/save'])('%s writes every key', async (path) => {
      const { env, server, jar, id, saves } = await loggedIn()
      const { response } = await get(server, jar, path)
      expect(response.status).toBe(200)
      expect(env.spies.save).toHaveBeenCalledTimes(saves + 1)
      expect(lastSave(env)).toEqual({ id, set: ['count', 'user'], remove: [], create: false, ttl: LIFETIME, user: undefined })
      expect(await env.stored(id)).toEqual({ count: 1, user: USER })
    })

    it('clear() then a new key: the new key written, every loaded key removed, same id', async () => {
      const { env, server, jar, id } = await loggedIn()
      await get(server, jar, '/clear-set')
      expect(lastSave(env)).toEqual({ id, set: ['note'], remove: ['count', 'user'], create: false, ttl: LIFETIME, user: undefined })
      expect(await env.stored(id)).toEqual({ note: 'fresh start' })
      expect(env.reader.idOf(jar)).toBe(id)
    })

    it.each(['/clear', '/empty', '/destroy', '/logout'])('%s deletes the stored session and the cookie; a replayed copy is revoked', async (path) => {
      const { env, server, jar, id, saves } = await loggedIn()
      const old = jar.get('session') as string
      const response = await jar.fetch(server.url(path), { method: path === '/logout' ? 'POST' : 'GET' })
      await response.arrayBuffer()
      const deletion = sessionCookie(response)
      expect(deletion !== undefined && isDeletion(deletion)).toBe(true)
      expect(jar.get('session')).toBeUndefined()
      expect(env.spies.destroy).toHaveBeenCalledWith(id)
      expect(env.spies.save).toHaveBeenCalledTimes(saves)
      expect(await env.stored(id)).toBeUndefined()
      expect((await replay(server, old)).body).toBe('anonymous|ERR_SESSION_REVOKED')
    })

    it.each(['/regenerate', '/regenerate-cb'])('%s moves the session to a new id and deletes the old one', async (path) => {
      const { env, server, jar, id } = await loggedIn()
      const old = jar.get('session') as string
      const { response } = await get(server, jar, path)
      expect(response.status).toBe(200)
      const fresh = env.reader.idOf(jar) as string
      expect(fresh).toMatch(/^[A-Za-z0-9_-]{24}$/)
      expect(fresh).not.toBe(id)
      expect(env.spies.destroy).toHaveBeenCalledWith(id)
      expect(await env.stored(id)).toBeUndefined()
      expect(await env.stored(fresh)).toEqual({ user: USER })
      expect(lastSave(env)).toMatchObject({ id: fresh, set: ['user'], remove: [], create: true })
      expect((await get(server, jar, '/whoami')).body).toBe(`${USER}|`)
      expect((await replay(server, old)).body).toBe('anonymous|ERR_SESSION_REVOKED')
      expect(env.invalid).toEqual(['ERR_SESSION_REVOKED'])
    })

    it.each(['/fail', '/throw'])('%s (a 5xx) writes nothing to the store and no cookie', async (path) => {
      const { env, server, jar, id, saves } = await loggedIn()
      const { response } = await get(server, jar, path)
      expect(response.status).toBe(500)
      expect(response.headers.getSetCookie()).toEqual([])
      expect(env.spies.save).toHaveBeenCalledTimes(saves)
      expect(env.spies.destroy).not.toHaveBeenCalled()
      expect(await env.stored(id)).toEqual({ count: 1, user: USER })
      // A new session that failed is not stored at all.
      const stranger = new CookieJar(env.clock.now)
      const failed = await get(server, stranger, path)
      expect(failed.response.status).toBe(500)
      expect(failed.response.headers.getSetCookie()).toEqual([])
      expect(env.spies.save).toHaveBeenCalledTimes(saves)
      if (path === '/throw') {
        if (options.throwsTo === 'errors') expect(env.errors.map((error) => (error as Error).message)).toEqual(['the handler failed', 'the handler failed'])
        else expect(env.errors).toEqual([])
      }
    })

    it('keeps flashes (session.flash and the connect-flash style) for the next request, then drops them', async () => {
      const { env, server, jar, id } = await loggedIn()
      await get(server, jar, '/flash')
      expect(lastSave(env)).toMatchObject({ id, set: ['_flashes'], remove: [] })
      expect((await get(server, jar, '/flashes')).body).toBe(JSON.stringify({ info: [`Hi ${USER}`], rest: ['message:Saved.'] }))
      expect(lastSave(env)).toMatchObject({ id, set: [], remove: ['_flashes'] })
      expect((await get(server, jar, '/flashes')).body).toBe(JSON.stringify({ info: [], rest: [] }))
      expect(await env.stored(id)).toEqual({ count: 1, user: USER })
    })

    it('a persistent session gets a Max-Age (the remaining lifetime), kept when the cookie is re-issued; others get none', async () => {
      const { env, server, jar } = await loggedIn()
      expect(jar.received.filter((cookie) => cookie.name === 'session').every((cookie) => cookie.attributes['max-age'] === undefined)).toBe(true)
      const remember = await get(server, jar, '/remember')
      expect(sessionCookie(remember.response)?.attributes['max-age']).toBe(String(LIFETIME))
      env.clock.advance(100)
      const counted = await get(server, jar, '/count')
      expect(sessionCookie(counted.response)?.attributes['max-age']).toBe(String(LIFETIME - 100))
    })

    it('keeps large data in the store, not in the cookie', async () => {
      const { env, server, jar, id } = await loggedIn()
      await get(server, jar, '/big')
      expect((jar.get('session') as string).length).toBeLessThan(200)
      expect((await env.stored(id))?.['note']).toBe('x'.repeat(5000))
    })
  })
}

/**
 * Logs in while the store's save is held back, and checks that the response waited for it: the
 * client gets its cookie only once the store has the session that cookie names.
 */
export async function expectSaveBeforeResponse(server: TestServer, env: StoreEnv): Promise<void> {
  const gate = deferred()
  env.spies.save.mockImplementationOnce(async (id, change) => {
    await gate.promise
    return env.raw.save(id, change)
  })
  const saves = env.spies.save.mock.calls.length
  const jar = new CookieJar(env.clock.now)
  const pending = jar.fetch(server.url('/login'), formPost({ username: USER }))
  // The save has started, and the response still does not come.
  await vi.waitFor(() => expect(env.spies.save.mock.calls.length).toBe(saves + 1))
  expect(await pendingAfter(pending, 100)).toBe(true)
  gate.resolve()
  const response = await pending
  expect(response.status).toBe(303)
  expect(response.headers.get('location')).toBe('/')
  await response.arrayBuffer()
  const id = env.reader.idOf(jar) as string
  expect(await env.stored(id)).toEqual({ user: USER })
  expect((await get(server, jar, '/whoami')).body).toBe(`${USER}|`)
}

/**
 * A store that fails, in one adapter style that answers before its headers go out: a load, a save
 * or a destroy that rejects is a 500 without the session cookie, never a logout; the client keeps
 * the cookie it had, and the session works again once the store is back. `throwsTo`: where the
 * store's error ends up ('errors' when the style reports it to onError or an error handler,
 * 'response' when only the 500 shows it).
 */
export function describeStoreFailures(name: string, start: StartApp, options: { throwsTo: 'errors' | 'response' }): void {
  describe(name, () => {
    const outage = new Error('store down')

    async function loggedIn() {
      const env = storeEnv()
      const server = await start(env)
      const jar = new CookieJar(env.clock.now)
      const id = await login(server, env, jar)
      return { env, server, jar, id, cookie: jar.get('session') }
    }

    /** A 500 without Set-Cookie, the outage where the style puts it. */
    function expectFailed(env: StoreEnv, response: Response): void {
      expect(response.status).toBe(500)
      expect(response.headers.getSetCookie()).toEqual([])
      expect(env.errors).toEqual(options.throwsTo === 'errors' ? [outage] : [])
    }

    it('a load that rejects: a 500, no cookie written or deleted, still logged in once the store is back', async () => {
      const { env, server, jar, id, cookie } = await loggedIn()
      env.spies.load.mockRejectedValueOnce(outage)
      expectFailed(env, (await get(server, jar, '/count')).response)
      expect(jar.get('session')).toBe(cookie)
      expect((await get(server, jar, '/whoami')).body).toBe(`${USER}|`)
      expect(await env.stored(id)).toEqual({ user: USER })
    })

    it('a save that rejects: a 500 without the session cookie, the stored session as it was; the next save works', async () => {
      const { env, server, jar, id, cookie } = await loggedIn()
      env.spies.save.mockRejectedValueOnce(outage)
      expectFailed(env, (await get(server, jar, '/count')).response)
      expect(jar.get('session')).toBe(cookie)
      expect(await env.stored(id)).toEqual({ user: USER })
      expect((await get(server, jar, '/count')).body).toBe(`${USER}:1`)
      expect(await env.stored(id)).toEqual({ count: 1, user: USER })
    })

    it("a new session's first save that rejects: no cookie naming an id the store never got", async () => {
      const env = storeEnv()
      const server = await start(env)
      env.spies.save.mockRejectedValueOnce(outage)
      const jar = new CookieJar(env.clock.now)
      expectFailed(env, await jar.fetch(server.url('/login'), formPost({ username: USER })))
      expect(jar.get('session')).toBeUndefined()
    })

    it('a destroy that rejects on logout: a 500, and the cookie is kept (the session still exists)', async () => {
      const { env, server, jar, id, cookie } = await loggedIn()
      env.spies.destroy.mockRejectedValueOnce(outage)
      const logout = await jar.fetch(server.url('/logout'), { method: 'POST' })
      await logout.arrayBuffer()
      expectFailed(env, logout)
      expect(jar.get('session')).toBe(cookie)
      expect(await env.stored(id)).toEqual({ user: USER })
      expect((await get(server, jar, '/whoami')).body).toBe(`${USER}|`)
    })
  })
}

/**
 * Store mode through one framework entry, all of what test/helpers/stored-app.ts checks: the flow,
 * a response that waits for the store, what each kind of change writes, and a failing store; the
 * framework's error handling hears a handler's exception and the store's failures.
 */
export function describeStoreIntegration(name: string, start: StartApp): void {
  describe(name, () => {
    it('logs in, counts, logs out: the data in the store, a signed id in the cookie', async () => {
      const env = storeEnv()
      await expectStoreFlow(await start(env), env)
    })

    it('the response goes out only once the store has the session', async () => {
      const env = storeEnv()
      await expectSaveBeforeResponse(await start(env), env)
    })

    describeStoreFeatures('what each change writes', start, { throwsTo: 'errors' })
    describeStoreFailures("a failing store: the framework's 500", start, { throwsTo: 'errors' })
  })
}
