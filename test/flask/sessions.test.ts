/**
 * `createSessions({ format: createFlaskFormat() })` over real `node:http` servers, against real Flask 2.2: a
 * live login shared with the Flask tutorial app (test/flask/app.py), every tag type through a
 * Node handler and back into Flask's session interface, permanent sessions, flashes both ways,
 * fallback keys, and the rejections a server must survive.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { ServerResponse } from 'node:http'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withSessions, type SessionRequest } from '../../src/adapters/node.js'
import { CookieTooLarge, type SessionErrorCode } from '../../src/errors.js'
import { FLASK_DEFAULT_LIFETIME } from '../../src/flask/codec.js'
import { createFlaskFormat } from '../../src/flask/format.js'
import { Markup, UUID, isTuple } from '../../src/flask/json.js'
import { createKeyring } from '../../src/keyring.js'
import type { SessionData } from '../../src/session.js'
import { createSessions, type Sessions, type SessionsOptions } from '../../src/sessions.js'
import { CookieJar, formPost, isDeletion, parseSetCookie, readBody, startServer, useTestServers, type SetCookie } from '../helpers/server.js'
import { describeFlask, normalizeSpec, py, python, startOracle, type Oracle, type Spec } from './python.js'

useTestServers()

const SECRET = 'flask-shared-secret-key'
const OLD_SECRET = 'flask-previous-secret'
const NOW_S = 1_900_000_000
const NOW = NOW_S * 1000
const APP = fileURLToPath(new URL('./app.py', import.meta.url))

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

interface Opened {
  session: Spec | null
  permanent: boolean
  open_error: string | null
  loads_error: string | null
}

// -------------------------------------------------------------------------------------------------
// The Flask tutorial app, live (test/flask/app.py), and the same app on node:http with Frasco
// -------------------------------------------------------------------------------------------------

interface FlaskApp {
  origin: string
  stop(): void
}

/** Starts test/flask/app.py with its test routes; SECRET_KEY through the environment, as in deployment. */
async function startFlaskApp(secretKey: string): Promise<FlaskApp> {
  const child: ChildProcess = spawn(python as string, [APP, '--port', '0', '--test-routes'], {
    env: { ...process.env, SECRET_KEY: secretKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`app.py exited with ${code}: ${stderr}`)))
  })
  const port = /^LISTENING (\d+)$/.exec(line)?.[1]
  if (port === undefined) throw new Error(`app.py said ${line}`)
  return { origin: `http://127.0.0.1:${port}`, stop: () => void child.kill() }
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

type TutorialData = { username: string }

/** Flask's session tutorial (/, /login, /logout), line for line, on node:http with Frasco. */
function tutorial(sessions: Sessions<TutorialData>) {
  return withSessions(sessions, async (req: SessionRequest<TutorialData>, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const redirect = (): void => {
      res.writeHead(302, { Location: '/' })
      res.end()
    }
    if (path === '/') {
      const username = req.session.get('username')
      res.setHeader('Content-Type', 'text/html; charset=utf-8')
      res.end(username !== undefined ? `Logged in as ${escapeHtml(username)}` : 'You are not logged in')
    } else if (path === '/login' && req.method === 'POST') {
      req.session.set('username', new URLSearchParams(await readBody(req)).get('username') ?? '')
      redirect()
    } else if (path === '/logout') {
      req.session.pop('username')
      redirect()
    } else {
      res.statusCode = 404
      res.end('Not found')
    }
  })
}

function sessionCookie(headers: readonly string[], name = 'session'): SetCookie | undefined {
  return headers.map(parseSetCookie).find((c) => c.name === name)
}

function flaskSessions(options: Partial<SessionsOptions> = {}) {
  const invalid: SessionErrorCode[] = []
  const sessions = createSessions<TutorialData>({ format: createFlaskFormat(), secrets: SECRET, onInvalid: (e) => invalid.push(e.code), ...options })
  return { sessions, invalid }
}

describeFlask('createSessions({ format: createFlaskFormat() }) with a live Flask app (test/flask/app.py)', () => {
  let flask: FlaskApp
  beforeAll(async () => {
    flask = await startFlaskApp(SECRET)
  })
  afterAll(() => flask?.stop())

  it('shares one login between Flask and Node: log in on either, log out on either', async () => {
    const { sessions, invalid } = flaskSessions()
    const node = await startServer(tutorial(sessions))
    // One browser: cookies are per host, not per port, so both apps see the same `session` cookie.
    const browser = new CookieJar()
    const page = async (origin: string): Promise<string> => (await browser.fetch(`${origin}/`)).text()

    expect(await page(flask.origin)).toBe('You are not logged in')
    expect(await page(node.origin)).toBe('You are not logged in')

    // Log in on Flask as admin; Node reads Flask's cookie and writes nothing back.
    const flaskLogin = await browser.fetch(`${flask.origin}/login`, formPost({ username: 'admin' }))
    expect(flaskLogin.status).toBe(302)
    const flaskCookie = browser.get('session') as string
    expect(flaskCookie).toMatch(/^[\w-]+\.[\w-]+\.[\w-]{27}$/)
    const nodeView = await browser.fetch(`${node.origin}/`)
    expect(await nodeView.text()).toBe('Logged in as admin')
    expect(nodeView.headers.getSetCookie()).toEqual([])
    expect(browser.get('session')).toBe(flaskCookie)

    // Log in on Node as ada; Flask reads Node's cookie.
    const nodeLogin = await browser.fetch(`${node.origin}/login`, formPost({ username: 'ada' }))
    expect(nodeLogin.status).toBe(302)
    const written = sessionCookie(nodeLogin.headers.getSetCookie()) as SetCookie
    // Same name and path as Flask's, so the browser replaces Flask's cookie instead of keeping two.
    expect(written).toMatchObject({ name: 'session', attributes: { path: '/', httponly: true } })
    expect(written.attributes['max-age']).toBeUndefined() // not permanent: a browser-session cookie, as in Flask
    expect(await page(flask.origin)).toBe('Logged in as ada')
    expect(await page(node.origin)).toBe('Logged in as ada')

    // Log out on Flask: the session is empty, so Flask deletes the cookie; Node sees nobody.
    await browser.fetch(`${flask.origin}/logout`)
    expect(browser.get('session')).toBeUndefined()
    expect(await page(node.origin)).toBe('You are not logged in')

    // Log in on Flask again, log out on Node: Node's deletion removes Flask's cookie.
    await browser.fetch(`${flask.origin}/login`, formPost({ username: 'admin' }))
    expect(await page(node.origin)).toBe('Logged in as admin')
    const nodeLogout = await browser.fetch(`${node.origin}/logout`)
    const deletion = sessionCookie(nodeLogout.headers.getSetCookie()) as SetCookie
    expect(isDeletion(deletion)).toBe(true)
    expect(deletion.attributes.path).toBe('/')
    expect(browser.get('session')).toBeUndefined()
    expect(await page(flask.origin)).toBe('You are not logged in')

    // Logging out of a session Flask made permanent also logs out on the other side. Flask's
    // `_permanent` is session.persistent in Frasco, not data, so nothing is left and Node deletes
    // the cookie (Flask itself would keep a cookie holding only `_permanent`).
    await browser.fetch(`${node.origin}/login`, formPost({ username: 'grace' }))
    await browser.fetch(`${flask.origin}/_test/permanent`, { method: 'POST' })
    expect(await page(node.origin)).toBe('Logged in as grace')
    const logout = await browser.fetch(`${node.origin}/logout`)
    const rewritten = sessionCookie(logout.headers.getSetCookie()) as SetCookie
    expect(isDeletion(rewritten)).toBe(true)
    expect(browser.get('session')).toBeUndefined()
    expect(await page(flask.origin)).toBe('You are not logged in')
    const dumped = (await (await browser.fetch(`${flask.origin}/_test/session`)).json()) as { session: Spec; permanent: boolean }
    expect(dumped).toEqual({ session: py.dict({}), permanent: false })

    expect(invalid).toEqual([])
  })

  it('a permanent session lasts as long on both sides: Flask Expires, Frasco Max-Age', async () => {
    const { sessions } = flaskSessions()
    const node = await startServer(tutorial(sessions))
    const browser = new CookieJar()
    await browser.fetch(`${flask.origin}/login`, formPost({ username: 'admin' }))
    const before = Date.now()
    const flaskPermanent = sessionCookie((await browser.fetch(`${flask.origin}/_test/permanent`, { method: 'POST' })).headers.getSetCookie()) as SetCookie
    const expires = Date.parse(flaskPermanent.attributes.expires as string)
    expect(Math.abs(expires - (before + FLASK_DEFAULT_LIFETIME * 1000))).toBeLessThan(5000)
    const nodeWrite = await browser.fetch(`${node.origin}/login`, formPost({ username: 'ada' }))
    expect(sessionCookie(nodeWrite.headers.getSetCookie())?.attributes['max-age']).toBe(String(FLASK_DEFAULT_LIFETIME))
    const dumped = (await (await browser.fetch(`${flask.origin}/_test/session`)).json()) as { session: Spec; permanent: boolean }
    expect(dumped.permanent).toBe(true)
    expect(normalizeSpec(dumped.session)).toEqual(normalizeSpec(py.dict({ _permanent: py.bool(true), username: py.str('ada') })))
  })

  it('session.persistent in Node is session.permanent in Flask, both ways, and false makes it a browser-session cookie again', async () => {
    const seen: Array<{ persistent: boolean; hasPermanentKey: boolean; data: unknown }> = []
    const sessions = createSessions<TutorialData>({ format: createFlaskFormat(), secrets: SECRET })
    const node = await startServer(
      withSessions(sessions, (req: SessionRequest<TutorialData>, res: ServerResponse) => {
        const path = new URL(req.url ?? '/', 'http://localhost').pathname
        if (path === '/remember') {
          req.session.set('username', 'ada')
          req.session.persistent = true
        }
        if (path === '/forget') req.session.persistent = false
        seen.push({ persistent: req.session.persistent, hasPermanentKey: req.session.has('_permanent'), data: req.session.toJSON() })
        res.end('ok')
      }),
    )
    type Dumped = { session: Spec; permanent: boolean }
    const dump = async (jar: CookieJar): Promise<Dumped> => (await (await jar.fetch(`${flask.origin}/_test/session`)).json()) as Dumped

    // Made persistent in Node: the cookie has a Max-Age of the lifetime ...
    const browser = new CookieJar()
    const remember = sessionCookie((await browser.fetch(`${node.origin}/remember`)).headers.getSetCookie()) as SetCookie
    expect(remember.attributes['max-age']).toBe(String(FLASK_DEFAULT_LIFETIME))
    // ... and Flask opens it as permanent: `session.permanent` is True, and Flask refreshes a
    // permanent session's cookie on every request (SESSION_REFRESH_EACH_REQUEST), with its Expires.
    const before = Date.now()
    const flaskPage = await browser.fetch(`${flask.origin}/`)
    expect(await flaskPage.text()).toBe('Logged in as ada')
    const refreshed = sessionCookie(flaskPage.headers.getSetCookie()) as SetCookie
    expect(refreshed).toBeDefined()
    expect(Math.abs(Date.parse(refreshed.attributes.expires as string) - (before + FLASK_DEFAULT_LIFETIME * 1000))).toBeLessThan(5000)
    expect(normalizeSpec((await dump(browser)).session)).toEqual(normalizeSpec(py.dict({ _permanent: py.bool(true), username: py.str('ada') })))
    expect((await dump(browser)).permanent).toBe(true)

    // persistent = false in Node: a browser-session cookie, which Flask opens as not permanent
    // (no `_permanent` left) and, unmodified, does not write again.
    const forget = sessionCookie((await browser.fetch(`${node.origin}/forget`)).headers.getSetCookie()) as SetCookie
    expect(isDeletion(forget)).toBe(false)
    expect(forget.attributes['max-age']).toBeUndefined()
    expect(forget.attributes.expires).toBeUndefined()
    expect(await dump(browser)).toEqual({ session: py.dict({ username: py.str('ada') }), permanent: false })
    const flaskRead = await browser.fetch(`${flask.origin}/`)
    expect(await flaskRead.text()).toBe('Logged in as ada')
    expect(flaskRead.headers.getSetCookie()).toEqual([])
    // Already false: assigning false again changes nothing, so Node writes nothing.
    expect((await browser.fetch(`${node.origin}/forget`)).headers.getSetCookie()).toEqual([])

    // Made permanent in Flask: Node reads session.persistent === true, and `_permanent` is not data.
    const other = new CookieJar()
    await other.fetch(`${flask.origin}/login`, formPost({ username: 'grace' }))
    await other.fetch(`${flask.origin}/_test/permanent`, { method: 'POST' })
    expect((await dump(other)).permanent).toBe(true)
    seen.length = 0
    const nodeRead = await other.fetch(`${node.origin}/`)
    expect(nodeRead.headers.getSetCookie()).toEqual([])
    expect(seen).toEqual([{ persistent: true, hasPermanentKey: false, data: { username: 'grace' } }])
    expect(sessions.verify(other.get('session') as string)).toMatchObject({ ok: true, value: { username: 'grace' }, persistent: true })
    const verified = sessions.verify(other.get('session') as string)
    expect(verified.ok && '_permanent' in verified.value).toBe(false)
  })

  it('flashes: flash() in Flask, consumeFlashes() in Node; session.flash in Node, get_flashed_messages in Flask', async () => {
    const consumed: unknown[] = []
    const sessions = createSessions({ format: createFlaskFormat(), secrets: SECRET })
    const node = await startServer(
      withSessions(sessions, (req, res) => {
        const path = new URL(req.url ?? '/', 'http://localhost').pathname
        if (path === '/consume') consumed.push(req.session.consumeFlashes())
        if (path === '/flash') {
          req.session.flash('Saved', 'success')
          req.session.flash('Plain message')
        }
        res.end('ok')
      }),
    )
    const browser = new CookieJar()
    await browser.fetch(`${flask.origin}/login`, formPost({ username: 'admin' }))
    await browser.fetch(`${flask.origin}/_test/flash`, formPost({ message: 'Welcome', category: 'info' }))
    await browser.fetch(`${flask.origin}/_test/flash`, formPost({ message: 'Héllo ☃' }))

    // Node consumes Flask's flashes; the cookie it writes back has none left.
    await browser.fetch(`${node.origin}/consume`)
    expect(consumed).toEqual([[{ category: 'info', message: 'Welcome' }, { category: 'message', message: 'Héllo ☃' }]])
    const afterConsume = (await (await browser.fetch(`${flask.origin}/_test/session`)).json()) as { session: Spec }
    expect(afterConsume.session).toEqual(py.dict({ username: py.str('admin') }))

    // Node flashes; Flask's get_flashed_messages(with_categories=True) reads (category, message) tuples.
    await browser.fetch(`${node.origin}/flash`)
    const flashed = await (await browser.fetch(`${flask.origin}/_test/flashes`)).json()
    expect(flashed).toEqual(py.list(py.tuple(py.str('success'), py.str('Saved')), py.tuple(py.str('message'), py.str('Plain message'))))
    // Flask popped them; Node sees none.
    await browser.fetch(`${node.origin}/consume`)
    expect(consumed[1]).toEqual([])
    expect(await (await browser.fetch(`${flask.origin}/`)).text()).toBe('Logged in as admin')
  })
})

// -------------------------------------------------------------------------------------------------
// Through a Node server, with Flask's own session interface on the other side (the oracle)
// -------------------------------------------------------------------------------------------------

const UUID_HEX = '1b4e28ba2fa111d2883f0016d3cca427'
const EVERY_TAG = py.dict({
  username: py.str('ada'),
  visits: py.int(1),
  tuple: py.tuple(py.int(1), py.str('two'), py.tuple()),
  bytes: py.bytes('00ff7f80'),
  markup: py.markup('<b>bold</b> &amp; safe'),
  uuid: py.uuid(UUID_HEX),
  when: py.datetime('2024-02-29T12:34:56+00:00'),
  // A one-key dict whose key is a tag: Flask escapes it with " di".
  escaped: py.dict({ ' t': py.str('not a tuple') }),
  nested: py.dict({
    list: py.list(py.tuple(py.str('a'), py.bytes('01')), py.dict({ ' di': py.int(1) }), py.none),
    deep: py.dict({ when: py.datetime('1999-12-31T23:59:59+00:00'), ids: py.list(py.uuid(UUID_HEX)), ratio: py.float(0.25) }),
  }),
  unicode: py.str('é ☃ 😀 \u2028 "quoted" \\ </script>'),
})

describeFlask('createSessions({ format: createFlaskFormat() }) through node:http, opened by Flask (oracle)', () => {
  let oracle: Oracle
  beforeAll(() => {
    oracle = startOracle()
  })
  afterAll(() => oracle?.close())

  const save = async (session: Spec, extra: Record<string, unknown> = {}): Promise<string> => {
    const [made] = await oracle.run<{ cookie: string }>([{ op: 'flask_save', secret_key: SECRET, session, now: nowSeconds(), ...extra }])
    return made?.cookie as string
  }
  const open = async (cookie: string, extra: Record<string, unknown> = {}): Promise<Opened> => {
    const [opened] = await oracle.run<Opened>([{ op: 'flask_open', secret_key: SECRET, cookie, now: nowSeconds(), ...extra }])
    return opened as Opened
  }

  it.each([
    ['uncompressed (the default below 1024 bytes of JSON)', undefined, false],
    ['compressed (compress: { threshold: 64 })', { threshold: 64 }, true],
  ] as const)('every tag type: read in Node with its JavaScript type, one key changed, Flask reads the rest unchanged: %s', async (_, compress, compressed) => {
    const seen: Record<string, unknown> = {}
    const sessions = createSessions<SessionData>({ format: createFlaskFormat(), secrets: SECRET, ...(compress === undefined ? {} : { compress }) })
    const node = await startServer(
      withSessions(sessions, (req, res) => {
        const s = req.session
        const nested = s.get('nested') as { list: unknown[]; deep: { when: unknown; ids: unknown[]; ratio: unknown } }
        Object.assign(seen, {
          tuple: isTuple(s.get('tuple')) && isTuple((s.get('tuple') as unknown[])[2]),
          bytes: s.get('bytes') instanceof Uint8Array && Buffer.from(s.get('bytes') as Uint8Array).toString('hex'),
          markup: s.get('markup') instanceof Markup && String(s.get('markup')),
          uuid: s.get('uuid') instanceof UUID && String(s.get('uuid')),
          when: s.get('when') instanceof Date && (s.get('when') as Date).toISOString(),
          escaped: s.get('escaped'),
          nestedTuple: isTuple(nested.list[0]) && (nested.list[0] as unknown[])[1] instanceof Uint8Array,
          nestedDi: nested.list[1],
          deep: nested.deep.when instanceof Date && nested.deep.ids[0] instanceof UUID && nested.deep.ratio,
          unicode: s.get('unicode'),
        })
        if (req.url === '/visit') s.set('visits', (s.get('visits') as number) + 1)
        res.end('ok')
      }),
    )
    const cookie = await save(EVERY_TAG)

    // Only reading: nothing is written back, Flask's cookie stays as it is.
    const read = await fetch(node.url('/'), { headers: { cookie: `session=${cookie}` } })
    expect(read.status).toBe(200)
    expect(read.headers.getSetCookie()).toEqual([])
    expect({ ...seen }).toEqual({
      tuple: true,
      bytes: '00ff7f80',
      markup: '<b>bold</b> &amp; safe',
      uuid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      when: '2024-02-29T12:34:56.000Z',
      escaped: { ' t': 'not a tuple' },
      nestedTuple: true,
      nestedDi: { ' di': 1 },
      deep: 0.25,
      unicode: 'é ☃ 😀 \u2028 "quoted" \\ </script>',
    })

    // One key changed in Node; Flask's session interface opens the result with every Python type intact.
    const visit = await fetch(node.url('/visit'), { headers: { cookie: `session=${cookie}` } })
    const written = sessionCookie(visit.headers.getSetCookie()) as SetCookie
    expect(written.value.startsWith('.')).toBe(compressed)
    const opened = await open(written.value)
    expect(opened).toMatchObject({ open_error: null, loads_error: null, permanent: false })
    const expected = py.dict([...(EVERY_TAG[1] as Array<[string, Spec]>).filter(([k]) => k !== 'visits'), ['visits', py.int(2)]])
    expect(normalizeSpec(opened.session as Spec)).toEqual(normalizeSpec(expected))
  })

  it('permanent sessions: session.persistent is _permanent on the wire, gives Max-Age, and Flask opens them as permanent', async () => {
    const seen: Array<{ persistent: boolean; keys: string[] }> = []
    const sessions = createSessions<SessionData>({ format: createFlaskFormat(), secrets: SECRET })
    const node = await startServer(
      withSessions(sessions, (req, res) => {
        seen.push({ persistent: req.session.persistent, keys: req.session.keys() })
        if (req.url === '/permanent') req.session.persistent = true
        if (req.url === '/forget') req.session.persistent = false
        req.session.set('n', ((req.session.get('n') as number | undefined) ?? 0) + 1)
        res.end('ok')
      }),
    )
    // A permanent session Flask wrote: persistent in Node, without `_permanent` among its keys.
    const flaskPermanent = await save(py.dict({ n: py.int(1) }), { permanent: true })
    const verified = sessions.verify(flaskPermanent)
    expect(verified).toMatchObject({ ok: true, value: { n: 1 }, persistent: true })
    expect(verified.ok && Object.keys(verified.value)).toEqual(['n'])
    // Changed in Node: still permanent, with the lifetime as Max-Age.
    const changed = sessionCookie((await fetch(node.url('/'), { headers: { cookie: `session=${flaskPermanent}` } })).headers.getSetCookie()) as SetCookie
    expect(seen.at(-1)).toEqual({ persistent: true, keys: ['n'] })
    expect(changed.attributes['max-age']).toBe(String(FLASK_DEFAULT_LIFETIME))
    expect(await open(changed.value)).toMatchObject({ permanent: true, session: py.dict({ _permanent: py.bool(true), n: py.int(2) }) })

    // Made permanent in Node.
    const made = sessionCookie((await fetch(node.url('/permanent'))).headers.getSetCookie()) as SetCookie
    expect(made.attributes['max-age']).toBe(String(FLASK_DEFAULT_LIFETIME))
    expect(await open(made.value)).toMatchObject({ permanent: true, session: py.dict({ _permanent: py.bool(true), n: py.int(1) }) })

    // Made not permanent in Node: Flask opens a session that is not permanent, without `_permanent`.
    const forgotten = sessionCookie((await fetch(node.url('/forget'), { headers: { cookie: `session=${flaskPermanent}` } })).headers.getSetCookie()) as SetCookie
    expect(forgotten.attributes['max-age']).toBeUndefined()
    expect(forgotten.attributes.expires).toBeUndefined()
    expect(await open(forgotten.value)).toMatchObject({ permanent: false, session: py.dict({ n: py.int(2) }) })

    // Not permanent: a browser-session cookie on both sides.
    const plain = sessionCookie((await fetch(node.url('/'))).headers.getSetCookie()) as SetCookie
    expect(plain.attributes['max-age']).toBeUndefined()
    expect(plain.attributes.expires).toBeUndefined()
    expect(await open(plain.value)).toMatchObject({ permanent: false, session: py.dict({ n: py.int(1) }) })

    // `_permanent` set as data (Flask's own spelling, and 0.1's) is refused, not silently dropped:
    // persistence is session.persistent.
    const flaskSessions = createSessions({ format: createFlaskFormat(), secrets: SECRET })
    expect(() => flaskSessions.sign({ n: 1, _permanent: true })).toThrow(/session\._permanent is invalid: .*session\.persistent = true/)
    const asData = flaskSessions.read(undefined)
    asData.set('_permanent', true)
    expect(() => flaskSessions.commit(asData)).toThrow(/session\._permanent is invalid/)
    const persistentSign = createSessions({ format: createFlaskFormat(), secrets: SECRET }).sign({ n: 1 }, { persistent: true })
    expect(await open(persistentSign)).toMatchObject({ permanent: true, session: py.dict({ _permanent: py.bool(true), n: py.int(1) }) })
  })

  it('lifetime is PERMANENT_SESSION_LIFETIME; with persistent: true every cookie gets it as Max-Age', async () => {
    const clock = { now: NOW }
    const { sessions, invalid } = flaskSessions({ lifetime: 3600, persistent: true, clockTolerance: 0, clock: () => clock.now })
    const node = await startServer(tutorial(sessions))
    const login = await fetch(node.url('/login'), { ...formPost({ username: 'ada' }), redirect: 'manual' })
    const cookie = sessionCookie(login.headers.getSetCookie()) as SetCookie
    expect(cookie.attributes['max-age']).toBe('3600')
    // Flask with the same lifetime agrees to the second.
    const views = await oracle.run<Opened>([NOW_S + 3600, NOW_S + 3601].map((now) => ({ op: 'flask_open', secret_key: SECRET, cookie: cookie.value, now, lifetime: 3600 })))
    expect(views.map((v) => v.loads_error)).toEqual([null, 'SignatureExpired'])
    const page = async (): Promise<string> => (await fetch(node.url('/'), { headers: { cookie: `session=${cookie.value}` } })).text()
    clock.now = (NOW_S + 3600) * 1000
    expect(await page()).toBe('Logged in as ada')
    clock.now = (NOW_S + 3601) * 1000
    expect(await page()).toBe('You are not logged in')
    expect(invalid).toEqual(['ERR_SESSION_EXPIRED'])
  })

  it('flashes: Flask flash() consumed by Node; Node flashes opened by Flask as (category, message) tuples', async () => {
    const consumed: unknown[] = []
    const sessions = createSessions({ format: createFlaskFormat(), secrets: SECRET })
    const node = await startServer(
      withSessions(sessions, (req, res) => {
        if (req.url === '/consume') consumed.push(req.session.consumeFlashes('error'))
        else req.session.flash('From Node', 'warning')
        res.end('ok')
      }),
    )
    const cookie = await save(py.dict({ username: py.str('ada') }), { flash: [['error', 'Bad password'], ['message', 'Hello']] })
    const response = await fetch(node.url('/consume'), { headers: { cookie: `session=${cookie}` } })
    expect(consumed).toEqual([[{ category: 'error', message: 'Bad password' }]])
    const left = sessionCookie(response.headers.getSetCookie()) as SetCookie
    expect(normalizeSpec((await open(left.value)).session as Spec)).toEqual(
      normalizeSpec(py.dict({ username: py.str('ada'), _flashes: py.list(py.tuple(py.str('message'), py.str('Hello'))) })),
    )

    const flashed = sessionCookie((await fetch(node.url('/'), { headers: { cookie: `session=${left.value}` } })).headers.getSetCookie()) as SetCookie
    expect(normalizeSpec((await open(flashed.value)).session as Spec)).toEqual(
      normalizeSpec(py.dict({ username: py.str('ada'), _flashes: py.list(py.tuple(py.str('message'), py.str('Hello')), py.tuple(py.str('warning'), py.str('From Node'))) })),
    )
  })

  it('fallback keys: a cookie signed with the old key is accepted, stale, and re-issued under the new key', async () => {
    const { sessions, invalid } = flaskSessions({ secrets: [SECRET, OLD_SECRET] })
    const node = await startServer(tutorial(sessions))
    const old = await save(py.dict({ username: py.str('ada') }), { secret_key: OLD_SECRET })
    const verified = sessions.verify(old)
    expect(verified).toMatchObject({ ok: true, stale: true, value: { username: 'ada' } })
    // Flask cookies name no key: the result has no keyId at all.
    expect('keyId' in verified).toBe(false)
    // Flask with only the new key refuses it, as it should.
    expect((await open(old)).loads_error).not.toBeNull()

    const response = await fetch(node.url('/'), { headers: { cookie: `session=${old}` } })
    expect(await response.text()).toBe('Logged in as ada')
    const reissued = sessionCookie(response.headers.getSetCookie()) as SetCookie
    expect(isDeletion(reissued)).toBe(false)
    expect(reissued.value).not.toBe(old)
    expect(flaskSessions().sessions.verify(reissued.value)).toMatchObject({ ok: true, stale: false })
    // Flask with only the new SECRET_KEY accepts the re-issued cookie.
    expect(await open(reissued.value)).toMatchObject({ loads_error: null, session: py.dict({ username: py.str('ada') }) })
    // Once re-issued it is current: the next request writes nothing.
    const again = await fetch(node.url('/'), { headers: { cookie: `session=${reissued.value}` } })
    expect(await again.text()).toBe('Logged in as ada')
    expect(again.headers.getSetCookie()).toEqual([])
    expect(invalid).toEqual([])
  })

  it('rotating SECRET_KEY across Flask and Node without logging anyone out (docs/flask.md, Flask 2.2 + rotating.py)', async () => {
    const OLD = 'rotation-old-key'
    const NEW = 'rotation-new-key'
    const data = py.dict({ username: py.str('ada') })
    const flaskOpens = async (cookie: string, secretKey: string, fallbacks?: string[]) =>
      (await open(cookie, { secret_key: secretKey, ...(fallbacks === undefined ? {} : { fallbacks }) })).loads_error === null
    const nodeOpens = (cookie: string, secrets: string[]) => createSessions({ format: createFlaskFormat(), secrets }).verify(cookie)
    const before = await save(data, { secret_key: OLD })

    // 1. Both sides accept the new key, still signing with the old one.
    const flaskPhase1 = await save(data, { secret_key: OLD, fallbacks: [NEW] })
    expect(nodeOpens(flaskPhase1, [OLD, NEW])).toMatchObject({ ok: true, stale: false })
    const signedWithNew = createSessions({ format: createFlaskFormat(), secrets: [NEW, OLD] }).sign({ username: 'ada' })
    expect(await flaskOpens(signedWithNew, OLD, [NEW])).toBe(true)
    expect(nodeOpens(signedWithNew, [OLD, NEW])).toMatchObject({ ok: true, stale: true })

    // 2. Both sides sign with the new key and still accept the old one; Node re-issues old cookies.
    expect(await flaskOpens(before, NEW, [OLD])).toBe(true)
    const { sessions } = flaskSessions({ secrets: [NEW, OLD] })
    const node = await startServer(tutorial(sessions))
    const response = await fetch(node.url('/'), { headers: { cookie: `session=${before}` } })
    expect(await response.text()).toBe('Logged in as ada')
    const reissued = (sessionCookie(response.headers.getSetCookie()) as SetCookie).value
    const flaskPhase2 = await save(py.dict({ username: py.str('grace') }), { secret_key: NEW, fallbacks: [OLD] })
    expect(nodeOpens(flaskPhase2, [NEW, OLD])).toMatchObject({ ok: true, stale: false, value: { username: 'grace' } })

    // 3. Once the lifetime has passed, the old key goes; cookies re-issued in step 2 live on.
    expect(await flaskOpens(reissued, NEW)).toBe(true)
    expect(nodeOpens(reissued, [NEW])).toMatchObject({ ok: true })
    expect(await flaskOpens(before, NEW)).toBe(false)
    expect(nodeOpens(before, [NEW])).toMatchObject({ ok: false, error: { code: 'ERR_SESSION_SIGNATURE_INVALID' } })
  })

  describe('rejections through a server: a fresh session, 200, the reason to onInvalid, the bad cookie deleted', () => {
    const LIFETIME = FLASK_DEFAULT_LIFETIME

    const cases: Array<[name: string, make: () => Promise<string>, code: SessionErrorCode]> = [
      ['a wrong key', () => save(py.dict({ username: py.str('ada') }), { secret_key: 'not-the-key', now: NOW_S }), 'ERR_SESSION_SIGNATURE_INVALID'],
      [
        'a tampered payload',
        async () => {
          const good = await save(py.dict({ username: py.str('ada') }), { now: NOW_S })
          const forged = Buffer.from(JSON.stringify({ username: 'admin' })).toString('base64url')
          return forged + good.slice(good.indexOf('.'))
        },
        'ERR_SESSION_SIGNATURE_INVALID',
      ],
      ['a tampered signature', async () => (await save(py.dict({ username: py.str('ada') }), { now: NOW_S })).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), 'ERR_SESSION_SIGNATURE_INVALID'],
      ['an expired cookie (older than the lifetime and the clock tolerance)', () => save(py.dict({ username: py.str('ada') }), { now: NOW_S - LIFETIME - 61 }), 'ERR_SESSION_EXPIRED'],
      ['a timestamp in the future (beyond the clock tolerance)', () => save(py.dict({ username: py.str('ada') }), { now: NOW_S + 61 }), 'ERR_SESSION_NOT_YET_VALID'],
      ['another salt', () => save(py.dict({ username: py.str('ada') }), { salt: 'not-cookie-session', now: NOW_S }), 'ERR_SESSION_SIGNATURE_INVALID'],
      [
        'a correctly signed payload that is not canonical base64 (Flask answers 500)',
        async () => {
          const [signed] = await oracle.run<{ token: string }>([
            { op: 'its', kind: 'TimestampSigner', secret_key: SECRET, salt: 'cookie-session', key_derivation: 'hmac', digest: 'sha1', action: 'dumps', value: 'e3!0', now: NOW_S },
          ])
          return signed?.token as string
        },
        'ERR_SESSION_MALFORMED',
      ],
    ]

    it.each(cases)('%s', async (_name, make, code) => {
      const { sessions, invalid } = flaskSessions({ clock: () => NOW })
      const node = await startServer(tutorial(sessions))
      const cookie = await make()
      const response = await fetch(node.url('/'), { headers: { cookie: `session=${cookie}` } })
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('You are not logged in')
      expect(invalid).toEqual([code])
      const deletion = sessionCookie(response.headers.getSetCookie()) as SetCookie
      expect(isDeletion(deletion)).toBe(true)
      // Flask refuses every one of them too (or fails on it).
      const view = await open(cookie, { now: NOW_S })
      expect(view.loads_error ?? view.open_error).not.toBeNull()
    })

    it('clock tolerance: 60 s by default (Node and Flask hosts drift); 0 agrees with Flask to the second', async () => {
      const times = [NOW_S - LIFETIME, NOW_S - LIFETIME - 1, NOW_S - LIFETIME - 60, NOW_S + 1, NOW_S + 60]
      const cookies = await Promise.all(times.map((now) => save(py.dict({ username: py.str('ada') }), { now })))
      const flaskViews = await oracle.run<Opened>(cookies.map((cookie) => ({ op: 'flask_open', secret_key: SECRET, cookie, now: NOW_S })))
      expect(flaskViews.map((v) => v.loads_error)).toEqual([null, 'SignatureExpired', 'SignatureExpired', 'SignatureExpired', 'SignatureExpired'])

      const tolerant = flaskSessions({ clock: () => NOW }).sessions
      expect(cookies.map((c) => tolerant.verify(c).ok)).toEqual([true, true, true, true, true])
      const strict = flaskSessions({ clock: () => NOW, clockTolerance: 0 }).sessions
      expect(cookies.map((c) => strict.verify(c).ok)).toEqual(flaskViews.map((v) => v.loads_error === null))
    })
  })
})

describe('createSessions({ format: createFlaskFormat() }) options', () => {
  it('refuses encrypt: true (Flask cannot read an encrypted cookie)', () => {
    expect(() => createSessions({ format: createFlaskFormat(), secrets: SECRET, encrypt: true })).toThrow(TypeError)
    expect(() => createSessions({ format: createFlaskFormat(), secrets: SECRET, encrypt: true })).toThrow(/option encrypt is invalid/)
    expect(() => createSessions({ format: createFlaskFormat(), secrets: SECRET, encrypt: false })).not.toThrow()
  })

  it("takes Flask's keys as they are (no minimum length), but not a Frasco keyring or an empty key", () => {
    expect(() => createSessions({ format: createFlaskFormat(), secrets: 'dev' })).not.toThrow()
    expect(() => createSessions({ format: createFlaskFormat(), secrets: [SECRET, OLD_SECRET] })).not.toThrow()
    expect(() => createSessions({ format: createFlaskFormat(), secrets: '' })).toThrow(/option secrets/)
    expect(() => createSessions({ format: createFlaskFormat(), secrets: createKeyring('k'.repeat(16) + 'abcdefghijklmnopqrstuvwxyz') })).toThrow(/option secrets is invalid/)
  })

  it('does not split a session across cookies by default: Flask reads one cookie only', () => {
    const sessions = createSessions({ format: createFlaskFormat(), secrets: SECRET, compress: false })
    const session = sessions.read(undefined)
    session.set('blob', 'x'.repeat(5000))
    expect(() => sessions.commit(session)).toThrow(CookieTooLarge)
    const chunked = createSessions({ format: createFlaskFormat(), secrets: SECRET, compress: false, chunking: true })
    const big = chunked.read(undefined)
    big.set('blob', 'x'.repeat(5000))
    expect(chunked.commit(big).setCookie.map((h) => parseSetCookie(h).name)).toEqual(['session.0', 'session.1'])
    expect(chunked.verify(chunked.commit(big).setCookie.map((h) => parseSetCookie(h).value).join(''))).toMatchObject({ ok: true })
  })

  it('a session too large for its cookies is CookieTooLarge at commit, like the Frasco format', () => {
    const chunked = createSessions({ format: createFlaskFormat(), secrets: SECRET, compress: false, chunking: true })
    const huge = chunked.read(undefined)
    huge.set('blob', 'x'.repeat(20_000))
    expect(() => chunked.commit(huge)).toThrow(CookieTooLarge)
    // Compressible to a few hundred bytes, but more than any reader inflates (128 KiB).
    const sessions = createSessions({ format: createFlaskFormat(), secrets: SECRET })
    const bomb = sessions.read(undefined)
    bomb.set('blob', 'x'.repeat(200_000))
    expect(() => sessions.commit(bomb)).toThrow(CookieTooLarge)
  })

  it("idleTimeout equal to the lifetime keeps active permanent sessions alive, as Flask's SESSION_REFRESH_EACH_REQUEST does", () => {
    let now = NOW
    const sessions = createSessions({ format: createFlaskFormat(), secrets: SECRET, idleTimeout: FLASK_DEFAULT_LIFETIME, clock: () => now })
    const first = sessions.read(undefined)
    first.set('user', 'ada')
    first.persistent = true
    let cookie = parseSetCookie(sessions.commit(first).setCookie[0] as string)
    expect(cookie.attributes['max-age']).toBe(String(FLASK_DEFAULT_LIFETIME))
    // Within a tenth of the lifetime nothing is written; after it, the cookie is re-issued in full.
    const tenth = FLASK_DEFAULT_LIFETIME / 10
    now = NOW + (tenth - 1) * 1000
    expect(sessions.commit(sessions.read(`session=${cookie.value}`)).setCookie).toEqual([])
    now = NOW + tenth * 1000
    cookie = parseSetCookie(sessions.commit(sessions.read(`session=${cookie.value}`)).setCookie[0] as string)
    expect(cookie.attributes['max-age']).toBe(String(FLASK_DEFAULT_LIFETIME))
    // Active for 40 days, reading every few days: still logged in.
    for (let day = 4; day <= 40; day += 3) {
      now = NOW + day * 86_400_000
      const session = sessions.read(`session=${cookie.value}`)
      expect(session.persistent).toBe(true)
      expect(session.get('user')).toBe('ada')
      const written = sessions.commit(session).setCookie
      if (written.length > 0) cookie = parseSetCookie(written[0] as string)
    }
  })

  it("0.1's options are refused by name: format: 'flask', maxAge, now, a lifetime in milliseconds", () => {
    expect(() => createSessions({ format: 'flask' as never, secrets: SECRET })).toThrow(/option format is invalid: .*createFlaskFormat\(\)/)
    expect(() => createSessions({ format: createFlaskFormat(), secrets: SECRET, maxAge: 3600 } as never)).toThrow(/^option maxAge is unknown: .*`lifetime`.*`persistent: true`/)
    expect(() => createSessions({ format: createFlaskFormat(), secrets: SECRET, now: () => NOW } as never)).toThrow(/^option now is unknown: .*`clock/)
    expect(() => createSessions({ format: createFlaskFormat(), secrets: SECRET, lifetime: FLASK_DEFAULT_LIFETIME * 1000 })).toThrow('seconds, not milliseconds')
    expect(() => createSessions({ format: createFlaskFormat(), secrets: SECRET, lifetime: 34_560_000 })).not.toThrow()
  })

  it('createFlaskFormat takes only { salt }', () => {
    expect(() => createFlaskFormat({ salt: 'cookie-session' })).not.toThrow()
    expect(() => createFlaskFormat({ secretKey: SECRET } as never)).toThrow(/^option secretKey is unknown/)
    expect(() => createFlaskFormat({ salt: '' })).toThrow(/option salt is invalid/)
  })

  it("compress: true keeps Flask's default threshold (1024 bytes of JSON), as omitting it does", () => {
    const data = { note: 'x'.repeat(200) } // 211 bytes of JSON, very compressible
    const write = (options: Partial<SessionsOptions>) => createSessions({ format: createFlaskFormat(), secrets: SECRET, ...options }).sign(data)
    expect(write({}).startsWith('.')).toBe(false)
    expect(write({ compress: { threshold: 0 } }).startsWith('.')).toBe(true)
    expect(write({ compress: true }).startsWith('.')).toBe(false)
  })

  it('validates compress as for the Frasco format', () => {
    expect(() => createSessions({ format: createFlaskFormat(), secrets: SECRET, compress: 'yes' as never })).toThrow(/option compress is invalid/)
    expect(() => createSessions({ format: createFlaskFormat(), secrets: SECRET, compress: { threshold: -1 } })).toThrow(/option compress is invalid/)
    expect(() => createSessions({ format: createFlaskFormat(), secrets: SECRET, compress: { threshold: 0 } })).not.toThrow()
  })
})
