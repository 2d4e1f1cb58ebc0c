/**
 * frasco/jar against real jars: Next.js's own cookie classes (`RequestCookies` as `request.cookies`
 * and in Server Components, the mutable `cookies()` of Server Actions and Route Handlers,
 * `NextResponse.cookies`), each over real `Headers`, and the whole path a browser sees: cookies
 * written through the jar, serialized by Next.js into Set-Cookie, applied by a browser-like jar,
 * sent back as a Cookie header and read through the jar again.
 *
 * SvelteKit's and Astro's jars are not installed (their current majors need Node 22); the few
 * tests of their shapes use small jars that behave as theirs do, and say where.
 */
import { randomBytes } from 'node:crypto'
import { RequestCookies, ResponseCookies } from 'next/dist/compiled/@edge-runtime/cookies'
import {
  MutableRequestCookiesAdapter,
  RequestCookiesAdapter,
  appendMutableCookies,
  createCookiesWithMutableAccessCheck,
  type ReadonlyRequestCookies,
} from 'next/dist/server/web/spec-extension/adapters/request-cookies.js'
import type { RequestStore } from 'next/dist/server/app-render/work-unit-async-storage.external.js'
import { NextRequest, NextResponse } from 'next/server.js'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { commitSession, readSession, type CookieJar, type JarCookieOptions } from '../../src/adapters/jar.js'
import { parseCookie } from '../../src/cookie/cookie.js'
import { CookieTooLarge, SessionRevoked } from '../../src/errors.js'
import { createFlaskFormat } from '../../src/flask/format.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions, type StoredSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import type { SessionStore } from '../../src/stores/store.js'
import { CookieJar as Browser, isDeletion, parseSetCookie, type SetCookie } from '../helpers/server.js'

const secrets = [randomBytes(32).toString('base64url')]
type Data = { user?: string; note?: string; blob?: string; count?: number }

/** Random text that does not compress: makes a session larger than one cookie. */
const incompressible = (bytes: number): string => randomBytes(bytes).toString('base64url')

// -------------------------------------------------------------------------------------------------
// Next.js's jars, as Next.js builds them for a request
// -------------------------------------------------------------------------------------------------

function requestHeaders(browser: Browser): Headers {
  const cookie = browser.header()
  return new Headers(cookie === undefined ? {} : { cookie })
}

/** `await cookies()` in a Server Action or Route Handler: Next.js's mutable jar over the request's cookies. */
function actionCookies(browser: Browser): ResponseCookies {
  return MutableRequestCookiesAdapter.wrap(new RequestCookies(requestHeaders(browser)))
}

/** `await cookies()` in a Server Component: the request's cookies, sealed (set throws). */
function componentCookies(browser: Browser): ReadonlyRequestCookies {
  return RequestCookiesAdapter.seal(new RequestCookies(requestHeaders(browser)))
}

/** The Set-Cookie headers Next.js sends for a mutable jar: the cookies changed, as it appends them to the response. */
function sent(jar: ResponseCookies): string[] {
  const headers = new Headers()
  appendMutableCookies(headers, jar)
  return headers.getSetCookie()
}

/** One request of a Server Action: `work` gets the jar; what Next.js sends reaches the browser. Returns the Set-Cookie headers. */
async function action(browser: Browser, work: (jar: ResponseCookies) => unknown): Promise<SetCookie[]> {
  const jar = actionCookies(browser)
  await work(jar)
  const headers = sent(jar)
  browser.apply(headers)
  return headers.map(parseSetCookie)
}

/** Reads the browser's session as a Server Component does. */
function current<T extends object>(sessions: Sessions<T>, browser: Browser): Session<T> {
  return readSession(sessions, componentCookies(browser))
}

interface Recorded {
  name: string
  value: string
  options: JarCookieOptions
}

/** Wraps a jar, recording the names it is asked to get and the sets it accepts; `fail(n)` true refuses the n-th set (1-based). */
function recording(jar: CookieJar, fail: (call: number) => boolean = () => false): { jar: CookieJar; sets: Recorded[]; gets: string[] } {
  const sets: Recorded[] = []
  const gets: string[] = []
  let calls = 0
  const wrapped = new Proxy(jar, {
    get(target, property, receiver) {
      const member = Reflect.get(target, property, receiver) as unknown
      if (property === 'set') {
        return (name: string, value: string, options: JarCookieOptions) => {
          calls += 1
          if (fail(calls)) throw new Error(`refused set #${calls}`)
          sets.push({ name, value, options })
          return (member as CookieJar['set']).call(target, name, value, options)
        }
      }
      if (property === 'get') {
        return (name: string) => {
          gets.push(name)
          return (member as CookieJar['get']).call(target, name)
        }
      }
      return typeof member === 'function' ? (member as (...args: unknown[]) => unknown).bind(target) : member
    },
  })
  return { jar: wrapped, sets, gets }
}

/** A jar with `get` only (as Astro's and h3's are): Next.js's, with its getAll hidden. */
function withoutGetAll(jar: CookieJar): CookieJar {
  return { get: (name) => jar.get(name), set: (name, value, options) => jar.set(name, value, options) }
}

async function loggedIn<T extends Data>(sessions: Sessions<T>, browser: Browser, data: T): Promise<void> {
  await action(browser, (jar) => {
    const session = readSession(sessions, jar)
    session.regenerate()
    for (const [key, value] of Object.entries(data)) session.set(key as keyof T & string, value as T[keyof T & string])
    commitSession(sessions, jar, session)
  })
}

// -------------------------------------------------------------------------------------------------

describe('the jars of Next.js, SvelteKit and Astro match CookieJar as they are', () => {
  it('Next.js: cookies() everywhere and NextResponse.cookies; request.cookies for reading only', () => {
    expectTypeOf<ResponseCookies>().toMatchTypeOf<CookieJar>()
    expectTypeOf<ReadonlyRequestCookies>().toMatchTypeOf<CookieJar>()
    expectTypeOf<NextResponse['cookies']>().toMatchTypeOf<CookieJar>()
    // request.cookies' set(name, value) changes the request: committing to it does not compile.
    expectTypeOf<NextRequest['cookies']>().toMatchTypeOf<Parameters<typeof readSession>[1]>()
    expectTypeOf<NextRequest['cookies']>().not.toMatchTypeOf<CookieJar>()
    expectTypeOf<RequestCookies>().toMatchTypeOf<Pick<CookieJar, 'get'>>()
  })

  it('SvelteKit and Astro, by the shapes their packages declare', () => {
    // @sveltejs/kit's Cookies (get/set; cookie's SerializeOptions with a required path).
    type SvelteKitCookies = {
      get(name: string, opts?: { decode?: (value: string) => string }): string | undefined
      getAll(opts?: { decode?: (value: string) => string }): Array<{ name: string; value: string }>
      set(name: string, value: string, opts: { path: string; domain?: string; expires?: Date; maxAge?: number; httpOnly?: boolean; secure?: boolean; sameSite?: boolean | 'lax' | 'strict' | 'none'; partitioned?: boolean; priority?: 'low' | 'medium' | 'high' }): void
      delete(name: string, opts: { path: string }): void
    }
    // astro's AstroCookies (its AstroCookieSetOptions picks domain, path, expires, maxAge, httpOnly, sameSite, secure).
    type AstroCookies = {
      get(key: string, options?: { decode?: (value: string) => string }): { value: string; json(): unknown; number(): number; boolean(): boolean } | undefined
      has(key: string): boolean
      set(key: string, value: string | Record<string, unknown>, options?: { domain?: string; path?: string; expires?: Date; maxAge?: number; httpOnly?: boolean; sameSite?: boolean | 'lax' | 'strict' | 'none'; secure?: boolean }): void
      delete(key: string, options?: { path?: string }): void
    }
    expectTypeOf<SvelteKitCookies>().toMatchTypeOf<CookieJar>()
    expectTypeOf<AstroCookies>().toMatchTypeOf<CookieJar>()
  })

  it('returns a promise exactly for store-backed managers', () => {
    const jar = new RequestCookies(new Headers())
    expectTypeOf(readSession(createSessions<Data>({ secrets }), jar)).toEqualTypeOf<Session<Data>>()
    const stored = createSessions<Data>({ secrets, store: createMemoryStore() })
    expectTypeOf(readSession(stored, jar)).toEqualTypeOf<Promise<Session<Data>>>()
    const either = stored as Sessions<Data> | StoredSessions<Data>
    expectTypeOf(readSession(either, jar)).toEqualTypeOf<Session<Data> | Promise<Session<Data>>>()
    const cookies = createSessions<Data>({ secrets })
    const target = new ResponseCookies(new Headers())
    expectTypeOf(commitSession(cookies, target, cookies.read(undefined))).toEqualTypeOf<void>()
    expectTypeOf(commitSession(stored, target, cookies.read(undefined))).toEqualTypeOf<Promise<void>>()
    expectTypeOf(commitSession(either, target, cookies.read(undefined))).toEqualTypeOf<void | Promise<void>>()
  })
})

describe('readSession', () => {
  const sessions = createSessions<Data>({ secrets })

  it('reads the session cookie through request.cookies (Next.js middleware)', () => {
    const token = sessions.sign({ user: 'ada' })
    const request = new NextRequest('https://app.test/dashboard', { headers: { cookie: `theme=dark; session=${token}` } })
    const session = readSession(sessions, request.cookies)
    expect(session.isNew).toBe(false)
    expect(session.user).toBe('ada')
    expect(sessions.invalidReason(session)).toBeUndefined()
  })

  it('gives a new empty session, with no reason, when there is no cookie', () => {
    const session = readSession(sessions, new RequestCookies(new Headers({ cookie: 'theme=dark' })))
    expect(session.isNew).toBe(true)
    expect(sessions.invalidReason(session)).toBeUndefined()
  })

  it('reads a value or an object holding it in `value`, whatever the jar hands out', () => {
    const token = sessions.sign({ user: 'ada' })
    const cookies = parseCookie(`session=${token}`, { decode: decodeURIComponent })
    const asString: CookieJar = { get: (name) => cookies[name], set: () => {} } // SvelteKit, h3
    const asObject: CookieJar = { get: (name) => (cookies[name] === undefined ? undefined : { value: cookies[name] as string, json: () => ({}) }), set: () => {} } // Astro
    const asNull: CookieJar = { get: (name) => cookies[name] ?? null, set: () => {} }
    for (const jar of [asString, asObject, asNull]) expect(readSession(sessions, jar).user).toBe('ada')
  })

  it('reads with one getAll() when the jar has it, else with get for the cookie and every chunk name only', () => {
    const token = sessions.sign({ user: 'ada' })
    const jar = new RequestCookies(new Headers({ cookie: `session=${token}` }))
    let getAlls = 0
    const counted = recording(new Proxy(jar, { get: (target, property) => (property === 'getAll' ? () => (getAlls++, target.getAll()) : Reflect.get(target, property)) }) as unknown as CookieJar)
    expect(readSession(sessions, counted.jar).user).toBe('ada')
    expect(getAlls).toBe(1)
    expect(counted.gets).toEqual([])

    const plain = recording(withoutGetAll(jar as unknown as CookieJar))
    expect(readSession(sessions, plain.jar).user).toBe('ada')
    expect(plain.gets).toEqual(['session', ...Array.from({ length: 11 }, (_, i) => `session.${i}`)])
  })

  it('falls back to get when getAll returns something else than a list, or throws', () => {
    const token = sessions.sign({ user: 'ada' })
    for (const getAll of [() => ({ session: token }), () => undefined, () => { throw new Error('no') }]) {
      const jar = { get: (name: string) => (name === 'session' ? token : undefined), set: () => {}, getAll }
      expect(readSession(sessions, jar).user).toBe('ada')
    }
  })

  it('skips entries of getAll that are not { name, value } objects', () => {
    const token = sessions.sign({ user: 'ada' })
    const jar = { get: () => undefined, set: () => {}, getAll: () => [null, 'session', { name: 'session' }, { name: 'session', value: 42 }, { name: 'session', value: token }] }
    expect(readSession(sessions, jar).user).toBe('ada')
  })

  it('reads a chunked session, and ignores what other cookies hold', async () => {
    const browser = new Browser()
    const big = createSessions<Data>({ secrets, compress: false })
    browser.set('session.0.extra', 'x')
    browser.set('sessionx', 'y')
    await loggedIn(big, browser, { user: 'ada', blob: incompressible(3000) })
    expect(browser.names()).toEqual(['session.0', 'session.1', 'session.0.extra', 'sessionx'].sort())
    expect(current(big, browser).user).toBe('ada')
  })

  // What a client can send, as the jar hands it over (Next.js decodes with decodeURIComponent and
  // drops a cookie it cannot decode): never a throw, an empty session with the reason, and the
  // next commit of that empty session deletes exactly the cookies that came in.
  it.each<[string, Array<[string, string]>, string[]]>([
    ['garbage', [['session', 'garbage']], ['session']],
    ['a forged token', [['session', `${'A'.repeat(40)}.${'B'.repeat(20)}`]], ['session']],
    ['a value with ";" and spaces once decoded', [['session', 'a%3B%20session.0%3Dx']], ['session']],
    ['a value with non-ASCII once decoded', [['session', '%E2%82%AC']], ['session']],
    ['a quoted value', [['session', '"abc.def"']], ['session']],
    ['a huge value', [['session', 'x'.repeat(100_000)]], ['session']],
    ['a chunk set without its first chunk', [['session.1', 'abc'], ['session.2', 'def']], []],
    ['a broken chunk set', [['session.0', 'abc'], ['session.1', 'def']], ['session.0', 'session.1']],
    ['a gap in the chunks', [['session.0', 'abc'], ['session.2', 'def']], ['session.0', 'session.1', 'session.2']],
    ['more chunks than allowed', Array.from({ length: 11 }, (_, i): [string, string] => [`session.${i}`, 'x']), Array.from({ length: 11 }, (_, i) => `session.${i}`)],
    ['a garbage cookie beside stray chunks', [['session', 'garbage'], ['session.0', 'a'], ['session.1', 'b']], ['session', 'session.0', 'session.1']],
  ])('%s: an empty session and its reason, deleted at the next commit', (_, cookies, deleted) => {
    const browser = new Browser()
    for (const [name, value] of cookies) browser.set(name, value)
    let session: Session<Data> | undefined
    const jar = actionCookies(browser)
    expect(() => (session = readSession(sessions, jar))).not.toThrow()
    expect(session?.isNew).toBe(true)
    if (deleted.length > 0) expect(sessions.invalidReason(session as Session<Data>)).toBeDefined()
    const { jar: recorded, sets } = recording(jar)
    commitSession(sessions, recorded, session as Session<Data>)
    expect(sets.map((set) => set.name).sort()).toEqual([...deleted].sort())
    for (const set of sets) expect(set).toMatchObject({ value: '', options: { maxAge: 0, expires: new Date(0) } })
  })

  it('takes a cookie whose get throws (Astro decodes, and throws on a malformed escape) as an unreadable one: no throw, deleted at commit', () => {
    const token = sessions.sign({ user: 'ada' })
    const raw = parseCookie(`session.0=%E0%A4%A; other=1; session=${token}`)
    const astroLike: CookieJar = {
      get(name) {
        const value = raw[name]
        return value === undefined ? undefined : { value: decodeURIComponent(value) }
      },
      set: () => {},
    }
    expect(() => decodeURIComponent('%E0%A4%A')).toThrow(URIError)
    const session = readSession(sessions, astroLike)
    expect(session.user).toBe('ada') // the single cookie wins; the chunk is a stray
    const { jar, sets } = recording(astroLike)
    commitSession(sessions, jar, session)
    expect(sets.map((set) => [set.name, set.value])).toEqual([['session', expect.any(String)], ['session.0', '']])
  })

  it('treats an empty value as no cookie: a cookie deleted earlier in the same request', async () => {
    const browser = new Browser()
    const big = createSessions<Data>({ secrets, compress: false })
    await loggedIn(big, browser, { user: 'ada' })
    // Grown beyond one cookie in a Server Action: Next.js's jar now holds session = '' (deleted) and the chunks.
    const jar = actionCookies(browser)
    const session = readSession(big, jar)
    session.blob = incompressible(3000)
    commitSession(big, jar, session)
    expect(jar.get('session')?.value).toBe('')
    const again = readSession(big, jar) // the page rendered after the action reads the same jar
    expect(again.user).toBe('ada')
    expect(again.blob).toBe(session.blob)
  })

  it.each<[string, unknown, RegExp]>([
    ['a Promise (cookies() not awaited)', Promise.resolve(new RequestCookies(new Headers())), /^jar is invalid: readSession got a Promise; await it first/],
    ['undefined', undefined, /^jar is invalid: give readSession the cookie jar of your framework/],
    ['a Headers (request.headers instead of its cookies)', new Headers({ session: sessions.sign({ user: 'ada' }) }), /^jar is invalid: readSession got a Headers; give it the framework's cookie jar, or use readSession of frasco\/fetch/],
    ['an object without get', { set: () => undefined }, /^jar is invalid: give readSession the cookie jar of your framework .*or an object with get\(name\)$/],
  ])('refuses %s as the jar', (_, jar, message) => {
    expect(() => readSession(sessions, jar as CookieJar)).toThrow(TypeError)
    expect(() => readSession(sessions, jar as CookieJar)).toThrow(message)
  })

  it('reads through a jar that can only get; committing needs set as well', () => {
    const token = sessions.sign({ user: 'ada' })
    const reader = { get: (name: string) => (name === 'session' ? token : undefined) }
    const session = readSession(sessions, reader)
    expect(session.user).toBe('ada')
    expect(() => commitSession(sessions, reader as never, session)).toThrow(/^jar is invalid: give commitSession the cookie jar .*or an object with get\(name\) and set\(name, value, options\)$/)
    expect(() => commitSession(sessions, new Headers() as never, session)).toThrow(/^jar is invalid: commitSession got a Headers/)
  })

  it('refuses a non-manager, and the arguments in the wrong order', () => {
    const jar = new RequestCookies(new Headers())
    expect(() => readSession(undefined as never, jar)).toThrow(/^sessions is invalid: readSession takes the session manager createSessions returns, then the cookie jar$/)
    expect(() => readSession(jar as never, sessions as never)).toThrow(/^sessions is invalid/)
  })

  it("does not touch the get of Next.js's dev-mode cookies() promise, which warns when read", () => {
    let touched = false
    const promise = Object.defineProperty(Promise.resolve(), 'get', { get: () => ((touched = true), undefined) })
    expect(() => readSession(sessions, promise as never)).toThrow(/await it first/)
    expect(touched).toBe(false)
  })
})

describe('commitSession', () => {
  const sessions = createSessions<Data>({ secrets })

  it('logs in through a Server Action, reads in a Server Component, logs out: the whole path through the browser', async () => {
    const browser = new Browser()
    const login = await action(browser, (jar) => {
      const session = readSession(sessions, jar)
      session.regenerate()
      session.user = 'ada'
      commitSession(sessions, jar, session)
    })
    expect(login.map((cookie) => cookie.name)).toEqual(['session'])
    expect(login[0]?.attributes).toMatchObject({ path: '/', httponly: true, secure: true, samesite: 'lax' })
    expect(login[0]?.attributes['max-age']).toBeUndefined() // a browser-session cookie, as the manager writes it
    expect(sessions.verify(browser.get('session') as string)).toMatchObject({ ok: true, value: { user: 'ada' } })
    expect(current(sessions, browser).user).toBe('ada')

    const unchanged = await action(browser, (jar) => commitSession(sessions, jar, readSession(sessions, jar)))
    expect(unchanged).toEqual([])

    const logout = await action(browser, (jar) => {
      const session = readSession(sessions, jar)
      session.destroy()
      commitSession(sessions, jar, session)
    })
    expect(logout.map((cookie) => [cookie.name, isDeletion(cookie)])).toEqual([['session', true]])
    expect(browser.names()).toEqual([])
    expect(current(sessions, browser).isNew).toBe(true)
  })

  it('hands the jar the attributes the manager wrote: lifetime, domain, SameSite, Partitioned, Priority; deletions at the epoch', () => {
    const custom = createSessions<Data>({
      secrets,
      persistent: true,
      lifetime: 3600,
      cookie: { name: '__Secure-sid', domain: '.Example.com', path: '/app', secure: true, sameSite: 'none', partitioned: true, priority: 'high', httpOnly: false },
    })
    const { jar, sets } = recording(new ResponseCookies(new Headers()))
    const session = readSession(custom, new RequestCookies(new Headers({ cookie: '__Secure-sid.0=stale' })))
    session.user = 'ada'
    commitSession(custom, jar, session)
    const attributes = { path: '/app', domain: 'example.com', httpOnly: false, secure: true, sameSite: 'none', partitioned: true, priority: 'high' }
    expect(sets).toEqual([
      { name: '__Secure-sid', value: expect.stringMatching(/^[\w-]+\.[\w.-]+$/), options: { ...attributes, maxAge: 3600 } },
      { name: '__Secure-sid.0', value: '', options: { ...attributes, maxAge: 0, expires: new Date(0) } },
    ])
  })

  it('writes through NextResponse.cookies in middleware, read from request.cookies', () => {
    const request = new NextRequest('https://app.test/', { headers: { cookie: `session=${sessions.sign({ user: 'ada', count: 1 })}` } })
    const session = readSession(sessions, request.cookies)
    session.count = (session.count ?? 0) + 1
    const response = NextResponse.next()
    response.cookies.set('theme', 'dark') // the app's own cookie survives
    commitSession(sessions, response.cookies, session)
    const written = response.headers.getSetCookie().map(parseSetCookie)
    expect(written.map((cookie) => cookie.name)).toEqual(['theme', 'session'])
    expect(sessions.verify(written[1]?.value as string)).toMatchObject({ ok: true, value: { user: 'ada', count: 2 } })
  })

  describe('secure', () => {
    const secureOf = (manager: Sessions<Data>, options?: { secure?: boolean }): boolean => {
      const { jar, sets } = recording(new ResponseCookies(new Headers()))
      const session = manager.read(undefined)
      session.user = 'ada'
      commitSession(manager, jar, session, options)
      return sets[0]?.options.secure as boolean
    }

    it("with cookie.secure 'auto', the option decides, and without it the cookie is Secure", () => {
      expect(secureOf(sessions)).toBe(true)
      expect(secureOf(sessions, {})).toBe(true)
      expect(secureOf(sessions, { secure: true })).toBe(true)
      expect(secureOf(sessions, { secure: false })).toBe(false)
    })

    it('with cookie.secure true or false, the manager decides', () => {
      expect(secureOf(createSessions<Data>({ secrets, cookie: { secure: true } }), { secure: false })).toBe(true)
      expect(secureOf(createSessions<Data>({ secrets, cookie: { secure: false } }), { secure: true })).toBe(false)
      expect(secureOf(createSessions<Data>({ secrets, cookie: { secure: false } }))).toBe(false)
    })

  })

  it.each<[string, unknown, RegExp]>([
    ['an unknown option', { secure: true, trustProxy: true }, /^option trustProxy is unknown: a jar knows nothing of the request: pass `secure`/],
    ['a misspelt option', { secur: true }, /^option secur is unknown: did you mean `secure`\?/],
    ['secure as a string', { secure: 'true' }, /^option secure is invalid: give true when the request came over https, else false$/],
    ['options that are not an object', 'secure', /^options are invalid: commitSession takes \{ secure \} or nothing$/],
  ])('refuses %s, before anything is written', (_, options, message) => {
    const { jar, sets } = recording(new ResponseCookies(new Headers()))
    const session = sessions.read(undefined)
    session.user = 'ada'
    expect(() => commitSession(sessions, jar, session, options as never)).toThrow(message)
    expect(sets).toEqual([])
  })

  it('refuses a jar that is not one, and a manager that is not one', () => {
    const session = sessions.read(undefined)
    expect(() => commitSession(sessions, Promise.resolve() as never, session)).toThrow(/^jar is invalid: commitSession got a Promise; await it first/)
    expect(() => commitSession({} as never, new ResponseCookies(new Headers()), session)).toThrow(/^sessions is invalid: commitSession takes/)
  })

  it('sets nothing when nothing changed, so reading and committing in a Server Component works', () => {
    const browser = new Browser()
    browser.set('session', sessions.sign({ user: 'ada' }))
    const jar = componentCookies(browser)
    const session = readSession(sessions, jar)
    expect(session.user).toBe('ada')
    expect(() => commitSession(sessions, jar, session)).not.toThrow()
  })

  it('throws CookieTooLarge, setting nothing, when the session does not fit', () => {
    const small = createSessions<Data>({ secrets, chunking: false, compress: false })
    const { jar, sets } = recording(new ResponseCookies(new Headers()))
    const session = small.read(undefined)
    session.blob = incompressible(3000)
    expect(() => commitSession(small, jar, session)).toThrow(CookieTooLarge)
    expect(sets).toEqual([])
  })
})

describe('where the framework forbids writing', () => {
  const sessions = createSessions<Data>({ secrets, compress: false })

  it("a Server Component's read-only cookies(): a TypeError that says where to write, with Next.js's error as its cause", () => {
    const browser = new Browser()
    const jar = componentCookies(browser)
    const session = readSession(sessions, jar)
    session.user = 'ada'
    let error: unknown
    try {
      commitSession(sessions, jar, session)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toMatch(/^commitSession cannot write the session here: the cookie jar refused to set session \(the error it threw is the cause\)\. /)
    expect((error as TypeError).message).toContain('in Next.js: a Server Action, a Route Handler or middleware')
    expect((error as TypeError).message).toContain('Server Components: readSession')
    expect((error as TypeError).message).toMatch(/; nothing was written\.$/)
    expect(((error as TypeError).cause as Error).message).toMatch(/^Cookies can only be modified in a Server Action or Route Handler/)
  })

  it('cookies() after the action phase (Next.js rendering after an action): every set throws, and nothing is written', async () => {
    const browser = new Browser()
    await loggedIn(sessions, browser, { user: 'ada', blob: incompressible(3000) })
    expect(browser.names()).toEqual(['session.0', 'session.1'])
    const store = { phase: 'action', mutableCookies: actionCookies(browser) } as unknown as RequestStore
    const jar = createCookiesWithMutableAccessCheck(store)
    const session = readSession(sessions, jar)
    expect(session.user).toBe('ada')
    session.blob = incompressible(6000) // three chunks now
    ;(store as { phase: string }).phase = 'render'
    expect(() => commitSession(sessions, jar, session)).toThrow(/refused to set session\.0 .*; nothing was written\.$/)
    expect(sent(store.mutableCookies)).toEqual([])
  })

  it('a jar that refuses the second cookie of a chunk set: the first gets its old value back, so the browser keeps a whole session', async () => {
    const browser = new Browser()
    await loggedIn(sessions, browser, { user: 'ada', blob: incompressible(3000) })
    const before = { zero: browser.get('session.0'), one: browser.get('session.1') }
    await action(browser, (next) => {
      const { jar, sets } = recording(next, (call) => call === 2)
      const session = readSession(sessions, jar)
      session.blob = incompressible(3000) // same size: session.0 and session.1 rewritten
      expect(() => commitSession(sessions, jar, session)).toThrow(/refused to set session\.1 .*; nothing was written\.$/)
      expect(sets.map((set) => set.name)).toEqual(['session.0', 'session.0']) // written, then put back
      expect(sets[1]).toMatchObject({ value: before.zero, options: { path: '/', httpOnly: true, secure: true, sameSite: 'lax' } })
    })
    expect({ zero: browser.get('session.0'), one: browser.get('session.1') }).toEqual(before)
    expect(current(sessions, browser).user).toBe('ada')
  })

  it('a jar that refuses the second cookie when a session grows into chunks: the new chunk is deleted again', async () => {
    const browser = new Browser()
    await loggedIn(sessions, browser, { user: 'ada' })
    const single = browser.get('session')
    await action(browser, (next) => {
      const { jar, sets } = recording(next, (call) => call === 2)
      const session = readSession(sessions, jar)
      session.blob = incompressible(3000)
      expect(() => commitSession(sessions, jar, session)).toThrow(/refused to set session\.1/)
      expect(sets.map((set) => [set.name, set.value === '' ? 'deleted' : 'set'])).toEqual([['session.0', 'set'], ['session.0', 'deleted']])
    })
    expect(browser.names()).toEqual(['session'])
    expect(browser.get('session')).toBe(single)
  })

  it('a jar that refuses the undo too: the error says the response must not be sent', async () => {
    const browser = new Browser()
    await loggedIn(sessions, browser, { user: 'ada', blob: incompressible(3000) })
    const { jar } = recording(actionCookies(browser), (call) => call >= 2)
    const session = readSession(sessions, jar)
    session.blob = incompressible(3000)
    expect(() => commitSession(sessions, jar, session)).toThrow(/refused to set session\.1 .*the jar also refused to undo the cookies already set, so do not send this response\.$/)
  })

  it('a logout whose second deletion is refused leaves the chunk set whole (the user is still logged in, and the error says so)', async () => {
    const browser = new Browser()
    await loggedIn(sessions, browser, { user: 'ada', blob: incompressible(3000) })
    await action(browser, (next) => {
      const { jar } = recording(next, (call) => call === 2)
      const session = readSession(sessions, jar)
      session.destroy()
      expect(() => commitSession(sessions, jar, session)).toThrow(TypeError)
    })
    expect(browser.names()).toEqual(['session.0', 'session.1'])
    expect(current(sessions, browser).user).toBe('ada')
  })

  describe('a commit that only keeps house (the session unchanged) is given up quietly in a Server Component', () => {
    const rotatedOut = [randomBytes(32).toString('base64url')]
    /** A browser, and the manager its request meets; each case makes a commit of the unchanged session set a cookie. */
    const cases: Array<[string, () => { sessions: Sessions<Data>; browser: Browser }]> = [
      ['Cookie: session=garbage (deleting it)', () => {
        const browser = new Browser()
        browser.set('session', 'garbage')
        return { sessions, browser }
      }],
      ['a tampered cookie (deleting it)', () => {
        const browser = new Browser()
        browser.set('session', `${sessions.sign({ user: 'ada' })}x`)
        return { sessions, browser }
      }],
      ['rolling: true (re-signing)', () => {
        const rolling = createSessions<Data>({ secrets, rolling: true })
        const browser = new Browser()
        browser.set('session', rolling.sign({ user: 'ada' }))
        return { sessions: rolling, browser }
      }],
      ['an idle-timeout refresh due (re-signing)', () => {
        const idle = createSessions<Data>({ secrets, idleTimeout: 600 })
        const browser = new Browser()
        browser.set('session', idle.sign({ user: 'ada' }, { now: Date.now() - 120_000 })) // refreshed every 60 s
        return { sessions: idle, browser }
      }],
      ['a cookie signed with a rotated-out secret (re-signing with the newest)', () => {
        const browser = new Browser()
        browser.set('session', createSessions<Data>({ secrets: rotatedOut }).sign({ user: 'ada' }))
        return { sessions: createSessions<Data>({ secrets: [...secrets, ...rotatedOut] }), browser }
      }],
      ['stray chunks beside a single cookie (deleting them)', () => {
        const browser = new Browser()
        browser.set('session', sessions.sign({ user: 'ada' }))
        browser.set('session.0', 'left')
        return { sessions, browser }
      }],
    ]

    it.each(cases)('%s: no throw and nothing set; a later request that can write does it', async (_, given) => {
      const { sessions, browser } = given()
      const before = browser.header()
      // The recording jar logs each set it passes on to Next.js's jar, which refuses it.
      const { jar, sets } = recording(componentCookies(browser))
      const session = readSession(sessions, jar)
      session.get('user')
      expect(() => commitSession(sessions, jar, session)).not.toThrow()
      expect(sets.length).toBe(1) // attempted, refused, nothing to undo
      expect(browser.header()).toBe(before)
      // A Server Action of the next request does the housekeeping.
      const written = await action(browser, (next) => commitSession(sessions, next, readSession(sessions, next)))
      expect(written.length).toBeGreaterThan(0)
    })

    it.each<[string, (session: Session<Data>) => void]>([
      ['set', (session) => void (session.user = 'mallory')],
      ['touch()', (session) => session.touch()],
      ['destroy()', (session) => session.destroy()],
      ['regenerate()', (session) => session.regenerate()],
    ])('a real change (%s) that cannot be written still throws, whatever else the commit does', (_, change) => {
      for (const [, given] of cases) {
        const { sessions, browser } = given()
        const jar = componentCookies(browser)
        const session = readSession(sessions, jar)
        change(session)
        expect(() => commitSession(sessions, jar, session)).toThrow(/^commitSession cannot write the session here: .*; nothing was written\.$/)
      }
    })

    it('housekeeping the jar refuses halfway and cannot undo still throws: the browser would keep a broken chunk set', async () => {
      const rolling = createSessions<Data>({ secrets, rolling: true, compress: false })
      const browser = new Browser()
      await loggedIn(rolling, browser, { user: 'ada', blob: incompressible(3000) })
      const { jar } = recording(actionCookies(browser), (call) => call >= 2)
      const session = readSession(rolling, jar)
      expect(session.user).toBe('ada')
      expect(() => commitSession(rolling, jar, session)).toThrow(/refused to set session\.1 .*so do not send this response\.$/)
    })

    it('housekeeping the jar refuses halfway but undoes: given up, the chunk set whole', async () => {
      const rolling = createSessions<Data>({ secrets, rolling: true, compress: false })
      const browser = new Browser()
      await loggedIn(rolling, browser, { user: 'ada', blob: incompressible(3000) })
      const before = browser.header()
      await action(browser, (next) => {
        const { jar, sets } = recording(next, (call) => call === 2)
        const session = readSession(rolling, jar)
        expect(() => commitSession(rolling, jar, session)).not.toThrow()
        expect(sets.map((set) => set.name)).toEqual(['session.0', 'session.0']) // written, then put back (session.1 refused)
      })
      expect(browser.header()).toBe(before)
      expect(current(rolling, browser).user).toBe('ada')
    })
  })
})

describe('chunks, encryption, Flask, rotation, through a jar', () => {
  it('splits a session larger than one cookie into chunks, and shrinks back to one cookie, deleting the stale chunks', async () => {
    const sessions = createSessions<Data>({ secrets, compress: false, chunking: { maxChunks: 4 } })
    const browser = new Browser()
    await loggedIn(sessions, browser, { user: 'ada' })
    expect(browser.names()).toEqual(['session'])

    const grown = await action(browser, (jar) => {
      const session = readSession(sessions, jar)
      session.blob = incompressible(6000)
      commitSession(sessions, jar, session)
    })
    // Next.js sends its jar's cookies in its own order: the request's cookie first.
    expect(grown.map((cookie) => [cookie.name, isDeletion(cookie)]).sort()).toEqual([['session', true], ['session.0', false], ['session.1', false], ['session.2', false]])
    for (const cookie of grown) expect(cookie.name.length + cookie.value.length).toBeLessThanOrEqual(4096)
    expect(browser.names()).toEqual(['session.0', 'session.1', 'session.2'])
    expect(current(sessions, browser).blob?.length).toBe(8000)

    const shrunk = await action(browser, (jar) => {
      const session = readSession(sessions, jar)
      delete session.blob
      commitSession(sessions, jar, session)
    })
    expect(shrunk.map((cookie) => [cookie.name, isDeletion(cookie)]).sort()).toEqual([['session', false], ['session.0', true], ['session.1', true], ['session.2', true]])
    expect(browser.names()).toEqual(['session'])
    expect(current(sessions, browser)).toMatchObject({ user: 'ada' })
    expect(current(sessions, browser).blob).toBeUndefined()
  })

  it('deletes stray chunks left beside a single cookie, on the next write', async () => {
    const sessions = createSessions<Data>({ secrets })
    const browser = new Browser()
    await loggedIn(sessions, browser, { user: 'ada' })
    browser.set('session.0', 'left')
    browser.set('session.1', 'over')
    const written = await action(browser, (jar) => commitSession(sessions, jar, readSession(sessions, jar)))
    expect(written.map((cookie) => [cookie.name, isDeletion(cookie)])).toEqual([['session', false], ['session.0', true], ['session.1', true]])
    expect(browser.names()).toEqual(['session'])
  })

  it('encrypts: the browser sees no plaintext, the jar reads it back', async () => {
    const sessions = createSessions<Data>({ secrets, encrypt: true })
    const browser = new Browser()
    await loggedIn(sessions, browser, { user: 'ada-lovelace', note: 'the secret plan' })
    const value = browser.get('session') as string
    for (const part of value.split('.')) expect(Buffer.from(part, 'base64url').toString('latin1')).not.toMatch(/ada|secret/)
    expect(current(sessions, browser)).toMatchObject({ user: 'ada-lovelace', note: 'the secret plan' })
  })

  it('encrypts chunked sessions too', async () => {
    const sessions = createSessions<Data>({ secrets, encrypt: true })
    const browser = new Browser()
    await loggedIn(sessions, browser, { user: 'ada', blob: 'y'.repeat(4000) })
    expect(browser.names()).toEqual(['session.0', 'session.1'])
    expect(current(sessions, browser).blob).toBe('y'.repeat(4000))
  })

  it("writes and reads Flask's format", async () => {
    const sessions = createSessions<Data>({ secrets: 'flask-secret-key-of-the-app', format: createFlaskFormat() })
    const browser = new Browser()
    await loggedIn(sessions, browser, { user: 'ada' })
    const value = browser.get('session') as string
    expect(value).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(JSON.parse(Buffer.from(value.split('.')[0] as string, 'base64url').toString('utf8'))).toEqual({ user: 'ada' })
    expect(current(sessions, browser).user).toBe('ada')
  })

  it('re-signs a cookie of a rotated-out secret with the newest one, though nothing changed', async () => {
    const old = [randomBytes(32).toString('base64url')]
    const rotated = [randomBytes(32).toString('base64url'), ...old]
    const browser = new Browser()
    await loggedIn(createSessions<Data>({ secrets: old }), browser, { user: 'ada' })
    const sessions = createSessions<Data>({ secrets: rotated })
    const written = await action(browser, (jar) => {
      const session = readSession(sessions, jar)
      expect(session.user).toBe('ada')
      commitSession(sessions, jar, session)
    })
    expect(written.map((cookie) => cookie.name)).toEqual(['session'])
    expect(createSessions<Data>({ secrets: rotated.slice(0, 1) }).verify(browser.get('session') as string)).toMatchObject({ ok: true, value: { user: 'ada' } })
  })
})

describe('store mode through a jar', () => {
  function storeSessions(options: { store?: SessionStore; revocation?: SessionStore } = {}) {
    const store = options.revocation ?? options.store ?? createMemoryStore()
    const sessions = options.revocation === undefined ? createSessions<Data>({ secrets, store }) : createSessions<Data>({ secrets, revocation: store })
    return { store, sessions }
  }

  /** The session of a Server Component, loaded from the store. */
  const loaded = (sessions: StoredSessions<Data>, browser: Browser): Promise<Session<Data>> => readSession(sessions, componentCookies(browser))

  it('loads and saves asynchronously: the store holds the data, the cookie an id; logout deletes both', async () => {
    const { store, sessions } = storeSessions()
    const browser = new Browser()
    await action(browser, async (jar) => {
      const pending = readSession(sessions, jar)
      expect(pending).toBeInstanceOf(Promise)
      const session = await pending
      session.user = 'ada-lovelace'
      const committed = commitSession(sessions, jar, session)
      expect(committed).toBeInstanceOf(Promise)
      await committed
    })
    const value = browser.get('session') as string
    expect(value.length).toBeLessThan(200)
    const session = await loaded(sessions, browser)
    expect(session.user).toBe('ada-lovelace')
    const id = sessions.sessionId(session) as string
    expect(await store.load(id)).toEqual({ user: '"ada-lovelace"' })

    await action(browser, async (jar) => {
      const current = await readSession(sessions, jar)
      current.destroy()
      await commitSession(sessions, jar, current)
    })
    expect(browser.names()).toEqual([])
    expect(await store.load(id)).toBeUndefined()
  })

  it('revocation: the data in the cookie, revoked by id', async () => {
    const { sessions } = storeSessions({ revocation: createMemoryStore() })
    const browser = new Browser()
    await action(browser, async (jar) => {
      const session = await readSession(sessions, jar)
      session.user = 'ada'
      await commitSession(sessions, jar, session)
    })
    const session = await loaded(sessions, browser)
    expect(session.user).toBe('ada')
    await sessions.revoke(sessions.sessionId(session) as string)
    const revoked = await loaded(sessions, browser)
    expect(revoked.isNew).toBe(true)
    expect(sessions.invalidReason(revoked)).toBeInstanceOf(SessionRevoked)
  })

  it('a read-only jar refuses the cookie before the store is written: a regenerate in a Server Component keeps the old session', async () => {
    const { store, sessions } = storeSessions()
    const browser = new Browser()
    await action(browser, async (jar) => {
      const session = await readSession(sessions, jar)
      session.user = 'ada'
      await commitSession(sessions, jar, session)
    })
    const old = sessions.sessionId(await loaded(sessions, browser)) as string
    const save = store.save
    const destroy = store.destroy
    let writes = 0
    store.save = (...args) => ((writes += 1), save(...args))
    store.destroy = (...args) => ((writes += 1), destroy(...args))

    const session = await loaded(sessions, browser)
    session.regenerate()
    session.user = 'mallory'
    await expect(commitSession(sessions, componentCookies(browser), session)).rejects.toThrow(/^commitSession cannot write the session here/)
    expect(writes).toBe(0)
    expect(await store.load(old)).toEqual({ user: '"ada"' })
    expect((await loaded(sessions, browser)).user).toBe('ada')
  })

  /** A logged-in browser whose store counts its writes from now on. */
  async function loggedInCounting(options: { store?: SessionStore; revocation?: SessionStore; rolling?: boolean } = {}) {
    const store = options.revocation ?? options.store ?? createMemoryStore()
    const common = { secrets, rolling: options.rolling ?? false }
    const sessions = options.revocation === undefined ? createSessions<Data>({ ...common, store }) : createSessions<Data>({ ...common, revocation: store })
    const browser = new Browser()
    await action(browser, async (jar) => {
      const session = await readSession(sessions, jar)
      session.user = 'ada'
      await commitSession(sessions, jar, session)
    })
    const id = sessions.sessionId(await loaded(sessions, browser)) as string
    const writes: string[] = []
    const { save, destroy } = store
    store.save = (...args) => (writes.push(`save ${args[0] === id ? 'old' : 'new'}`), save(...args))
    store.destroy = (...args) => (writes.push(`destroy ${args[0] === id ? 'old' : 'new'}`), destroy(...args))
    return { store, sessions, browser, id, writes }
  }

  it.each<[string, 'store' | 'revocation']>([['data in the store', 'store'], ['revocation', 'revocation']])(
    '%s: a logout a read-only jar refused, committed again where cookies can be set: the stored session is destroyed, and a copy of the cookie no longer loads',
    async (_, mode) => {
      const { store, sessions, browser, id, writes } = await loggedInCounting(mode === 'store' ? {} : { revocation: createMemoryStore() })
      const copy = browser.header() as string
      const session = await loaded(sessions, browser)
      session.destroy()
      await expect(commitSession(sessions, componentCookies(browser), session)).rejects.toThrow(/^commitSession cannot write the session here/)
      expect([writes, sessions.sessionId(session)]).toEqual([[], id])
      // The same session, committed where the framework lets the request set cookies (a retry, or
      // code that catches the error and commits in a Server Action).
      await action(browser, (jar) => commitSession(sessions, jar, session))
      expect(writes).toEqual(['destroy old'])
      expect(browser.names()).toEqual([])
      expect(await store.load(id)).toBeUndefined()
      const replayed = await sessions.load(copy)
      expect(replayed.user).toBeUndefined()
      expect(sessions.invalidReason(replayed)).toBeInstanceOf(SessionRevoked)
    },
  )

  it('a regenerate a read-only jar refused, committed again where cookies can be set: the old id is destroyed, the new one stored', async () => {
    const { store, sessions, browser, id, writes } = await loggedInCounting()
    const copy = browser.header() as string
    const session = await loaded(sessions, browser)
    session.regenerate()
    session.user = 'ada'
    await expect(commitSession(sessions, componentCookies(browser), session)).rejects.toThrow(TypeError)
    expect([writes, sessions.sessionId(session)]).toEqual([[], id])
    await action(browser, (jar) => commitSession(sessions, jar, session))
    expect(writes).toEqual(['destroy old', 'save new'])
    expect(await store.load(id)).toBeUndefined()
    expect(sessions.invalidReason(await sessions.load(copy))).toBeInstanceOf(SessionRevoked)
    const now = await loaded(sessions, browser)
    expect([now.user, sessions.sessionId(now)]).toEqual(['ada', sessions.sessionId(session)])
    expect(sessions.sessionId(now)).not.toBe(id)
  })

  it('a logout whose destroy failed, committed again: the cookies come back and go, the stored session is destroyed', async () => {
    const { store, sessions, browser, id } = await loggedInCounting()
    const copy = browser.header() as string
    const destroy = store.destroy
    store.destroy = () => ((store.destroy = destroy), Promise.reject(new Error('ECONNRESET')))
    const session = await loaded(sessions, browser)
    session.destroy()
    const kept = await action(browser, (jar) => expect(commitSession(sessions, jar, session)).rejects.toThrow('ECONNRESET'))
    // The deletion was set, then taken back: the jar holds the old cookie again.
    expect(kept.map((cookie) => [cookie.name, cookie.value])).toEqual([['session', parseCookie(copy).session]])
    expect(browser.header()).toBe(copy)
    await action(browser, (jar) => commitSession(sessions, jar, session))
    expect(browser.names()).toEqual([])
    expect(await store.load(id)).toBeUndefined()
    expect(sessions.invalidReason(await sessions.load(copy))).toBeInstanceOf(SessionRevoked)
  })

  it.each<[string, (given: { browser: Browser; sessions: StoredSessions<Data>; id: string }) => Promise<unknown>]>([
    ['rolling: re-signing', async () => {}],
    ['Cookie: session=garbage: deleting it', async ({ browser }) => browser.set('session', 'garbage')],
    ['a session revoked elsewhere: deleting its cookie', ({ sessions, id }) => sessions.revoke(id)],
  ])('housekeeping in a Server Component (%s): no throw, no store write; a request that can write does it', async (_, given) => {
    const { sessions, browser, writes, id } = await loggedInCounting({ rolling: true })
    await given({ browser, sessions, id })
    writes.length = 0
    const before = browser.header()
    const session = await loaded(sessions, browser)
    expect([session.modified, session.destroyed]).toEqual([false, false])
    await expect(commitSession(sessions, componentCookies(browser), session)).resolves.toBeUndefined()
    expect(writes).toEqual([])
    expect(browser.header()).toBe(before)
    const written = await action(browser, async (jar) => commitSession(sessions, jar, await readSession(sessions, jar)))
    expect(written.length).toBeGreaterThan(0)
  })

  it("a store that fails: the cookies set for the save are taken back, and the store's error goes to the caller", async () => {
    const { store, sessions } = storeSessions()
    const browser = new Browser()
    const failure = new Error('the store is down')
    store.save = () => Promise.reject(failure)
    const written = await action(browser, async (jar) => {
      const session = await readSession(sessions, jar)
      session.user = 'ada'
      await expect(commitSession(sessions, jar, session)).rejects.toBe(failure)
    })
    expect(written.map((cookie) => [cookie.name, isDeletion(cookie)])).toEqual([['session', true]])
    expect(browser.names()).toEqual([])
  })

  it('a session revoked while the request ran: its cookie is deleted, not written back', async () => {
    const { sessions } = storeSessions()
    const browser = new Browser()
    await action(browser, async (jar) => {
      const session = await readSession(sessions, jar)
      session.user = 'ada'
      await commitSession(sessions, jar, session)
    })
    const written = await action(browser, async (jar) => {
      const session = await readSession(sessions, jar)
      session.count = 1
      await sessions.revoke(sessions.sessionId(session) as string) // "log out everywhere", from another request
      await commitSession(sessions, jar, session)
    })
    expect(written.map((cookie) => [cookie.name, isDeletion(cookie)])).toEqual([['session', true]])
    expect(browser.names()).toEqual([])
  })

  it('refuses the options before the store is touched', async () => {
    const { sessions } = storeSessions()
    const session = await sessions.load(undefined)
    session.user = 'ada'
    expect(() => commitSession(sessions, new ResponseCookies(new Headers()), session, { trustProxy: true } as never)).toThrow(/^option trustProxy is unknown/)
  })
})
