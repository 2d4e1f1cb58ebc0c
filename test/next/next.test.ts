/**
 * Next.js for real: the App Router app next to this file (Flask's session tutorial on `frasco/jar`
 * and `cookies()` of next/headers), built once with `next build`, served by `next start` on
 * 127.0.0.1 and driven over HTTP as a browser would: log in through the login form's Server
 * Action, read the session in Server Components, a Route Handler and the proxy (middleware), log
 * out, and see what Next.js forbids (writing while a page renders) fail clearly.
 *
 * The app imports 'frasco' and 'frasco/jar', which resolve to dist/ (`npm test` builds it first).
 * Without Next.js, or on a Node.js it does not support, the suite skips off CI saying why; in CI
 * (`CI=true` or `1`) it fails instead.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { Buffer } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CsrfRefusedCode } from '../../src/errors.js'
import { createSessions } from '../../src/sessions.js'
import { recipeOf } from '../helpers/recipes.js'
import { CookieJar, isDeletion, parseSetCookie, type SetCookie } from '../helpers/server.js'

const APP = fileURLToPath(new URL('.', import.meta.url))
/**
 * The working directory of next build and next start: the build output directory (ignored by git).
 * In CI or a container, Next.js keeps a telemetry store in `cache/` of the working directory,
 * telemetry disabled or not; here that is the build cache it has anyway.
 */
const CWD = join(APP, '.next')
const JAR_ENTRY = fileURLToPath(new URL('../../dist/adapters/jar.js', import.meta.url))

// -------------------------------------------------------------------------------------------------
// Whether Next.js can run here
// -------------------------------------------------------------------------------------------------

function nextPackage(): { bin: string; engines: string } | undefined {
  const require = createRequire(import.meta.url)
  try {
    const manifest = require('next/package.json') as { engines?: { node?: string } }
    return { bin: require.resolve('next/dist/bin/next'), engines: manifest.engines?.node ?? '' }
  } catch {
    return undefined
  }
}

/** Whether this Node.js is at least the `>=x.y.z` of Next.js' `engines.node`. */
function nodeSatisfies(engines: string): boolean {
  const wanted = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(engines.trim())
  if (wanted === null) return true
  const have = process.versions.node.split('.').map(Number)
  for (let i = 0; i < 3; i++) {
    const difference = (have[i] ?? 0) - Number(wanted[i + 1])
    if (difference !== 0) return difference > 0
  }
  return true
}

const next = nextPackage()
const missing =
  next === undefined
    ? 'the next package is not installed (it is a dev dependency: npm install)'
    : !nodeSatisfies(next.engines)
      ? `Next.js needs Node.js ${next.engines}, this is ${process.versions.node}`
      : undefined

/** CI services set CI=true (some CI=1); there Next.js missing fails the run instead of skipping. */
const ON_CI = /^(true|1)$/i.test(process.env.CI ?? '')

/**
 * A `describe` for the tests that need Next.js: skipped off CI when it cannot run here, saying why
 * (in the suite's name and one line on stderr); failing in CI.
 */
function describeNext(name: string, body: (bin: string) => void): void {
  const skipped = missing !== undefined && !ON_CI
  if (skipped) console.warn(`skipped "${name}": ${missing}`)
  describe.skipIf(skipped)(skipped ? `${name} (skipped: ${missing})` : name, () => {
    if (next === undefined || missing !== undefined) {
      it('has a Next.js that runs on this Node.js', () => {
        throw new Error(`${missing}; CI requires it`)
      })
      return
    }
    body(next.bin)
  })
}

// -------------------------------------------------------------------------------------------------
// next build, next start
// -------------------------------------------------------------------------------------------------

/** The environment of `next build` and `next start`: the secret, and nothing of vitest's NODE_ENV. */
function nextEnv(secret: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FRASCO_SECRETS: secret, NEXT_TELEMETRY_DISABLED: '1' }
  // vitest sets NODE_ENV=test; next build and next start set production themselves.
  delete env.NODE_ENV
  return env
}

interface Output {
  text: string
}

function capture(child: ChildProcess): Output {
  const output = { text: '' }
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output.text += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output.text += chunk))
  return output
}

/** Runs `next build` on the app; rejects with its output when it fails. */
async function build(bin: string, secret: string): Promise<void> {
  mkdirSync(CWD, { recursive: true })
  const child = spawn(process.execPath, [bin, 'build', APP], { cwd: CWD, env: nextEnv(secret), stdio: ['ignore', 'pipe', 'pipe'] })
  const output = capture(child)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', resolve)
  })
  if (code !== 0) throw new Error(`next build exited with ${code}:\n${output.text.slice(-4000)}`)
}

interface NextServer {
  readonly origin: string
  /** Everything the server printed so far (stdout and stderr). */
  readonly output: Output
  url(path: string): string
  stop(): Promise<void>
}

/**
 * Loaded into `next start` (`node --import`): the server exits when its standard input ends, which
 * is when the test's process is gone, however it went (a crash, a kill, Ctrl-C), so no server is
 * left running for the next run to trip on.
 */
const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent("process.stdin.on('end', () => process.exit(0)).resume()")}`

/**
 * Runs `next start` on 127.0.0.1, port 0, in a process group of its own (stopped whole), and
 * resolves once it answers.
 */
async function start(bin: string, secret: string): Promise<NextServer> {
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, bin, 'start', APP, '-H', '127.0.0.1', '-p', '0'], {
    cwd: CWD,
    env: nextEnv(secret),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  })
  const output = capture(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    const group = -child.pid
    const signal = (name: NodeJS.Signals): void => {
      try {
        process.kill(group, name)
      } catch {
        // Gone already.
      }
    }
    signal('SIGTERM')
    const timer = setTimeout(() => signal('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
  try {
    // next start prints the address it listens on, port 0 resolved: `- Local: http://127.0.0.1:<port>`.
    const port = await until(() => /Local:\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output.text)?.[1], 30_000, () => child.exitCode !== null)
    const origin = `http://127.0.0.1:${port}`
    await until(async () => (await fetch(`${origin}/login`).catch(() => undefined))?.ok, 30_000, () => child.exitCode !== null)
    return { origin, output, url: (path) => origin + path, stop }
  } catch (error) {
    await stop()
    throw new Error(`next start did not come up: ${String(error)}\n${output.text.slice(-4000)}`)
  }
}

/** Polls `probe` until it gives a truthy value; rejects after `ms` or once `failed()` says so. */
async function until<T>(probe: () => T | undefined | Promise<T | undefined>, ms: number, failed: () => boolean = () => false): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (failed()) throw new Error('the process exited')
    if (Date.now() > deadline) throw new Error(`gave up after ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

// -------------------------------------------------------------------------------------------------
// A browser's side
// -------------------------------------------------------------------------------------------------

/** A page's HTML without the `<!-- -->` React puts between adjacent texts ("Logged in as <!-- -->ada"). */
async function html(response: Response): Promise<string> {
  return (await response.text()).replaceAll('<!-- -->', '')
}

/** Text as React escapes it in HTML. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' })[c] as string)
}

function setCookies(response: Response): SetCookie[] {
  return response.headers.getSetCookie().map(parseSetCookie)
}

/**
 * The hidden field React renders in a form whose action is a Server Action: its name carries the
 * action's id; a browser without JavaScript posts it with the form, which is how Next.js finds the
 * action to run.
 */
function actionField(page: string): string {
  const fields = [...page.matchAll(/name="(\$ACTION_ID_[0-9a-f]+)"/g)].map((match) => match[1] as string)
  expect(fields, 'the page has one form with a Server Action').toHaveLength(1)
  return fields[0] as string
}

/** `json()` of a response, typed loosely. */
async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>
}

const SECRET = randomBytes(32).toString('base64url')
/** `next build` gets a secret of its own: what runs at `next start` must read its own environment. */
const BUILD_SECRET = randomBytes(32).toString('base64url')

describeNext('Next.js 16 App Router app on frasco/jar (next build, next start)', (bin) => {
  let app: NextServer
  const sessions = createSessions<{ username: string; note: string }>({ secrets: SECRET })

  beforeAll(async () => {
    expect(existsSync(JAR_ENTRY), 'dist/ lacks frasco/jar: run `npx tsc -p tsconfig.build.json` (npm test builds dist/ first)').toBe(true)
    await build(bin, BUILD_SECRET)
    app = await start(bin, SECRET)
  }, 300_000)

  afterAll(async () => {
    await app?.stop()
  }, 20_000)

  /** Posts the form of the page at `path` as a browser does: its fields, the action's hidden field, Origin and Sec-Fetch-Site. */
  async function submit(jar: CookieJar, path: string, fields: Record<string, string> = {}, headers?: Record<string, string>): Promise<Response> {
    const page = await html(await jar.fetch(app.url(path)))
    const form = new FormData()
    form.set(actionField(page), '')
    for (const [name, value] of Object.entries(fields)) form.set(name, value)
    return jar.fetch(app.url(path), { method: 'POST', body: form, headers: headers ?? { origin: app.origin, 'sec-fetch-site': 'same-origin' } })
  }

  async function login(jar: CookieJar, username: string): Promise<Response> {
    const response = await submit(jar, '/login', { username })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    return response
  }

  /** A PUT of the Route Handler that writes, as a script of the app's own pages sends it. */
  function putNote(jar: CookieJar, note: string, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin', origin: app.origin }): Promise<Response> {
    return jar.fetch(app.url('/api/note'), { method: 'PUT', headers: { 'content-type': 'text/plain', ...headers }, body: note })
  }

  /** Checks that the page, the Route Handler and the proxy see no session; returns the proxy's redirect. */
  async function expectLoggedOut(jar: CookieJar): Promise<Response> {
    expect(await html(await jar.fetch(app.url('/')))).toContain('<p>You are not logged in</p>')
    expect(await json(await jar.fetch(app.url('/api/me')))).toEqual({ username: null })
    const denied = await jar.fetch(app.url('/private'))
    expect(denied.status).toBe(307)
    expect(denied.headers.get('location')).toBe('/login')
    return denied
  }

  it('shows a visitor without a session "You are not logged in", writes nothing, and the proxy sends /private to /login', async () => {
    const jar = new CookieJar()
    const index = await jar.fetch(app.url('/'))
    expect(index.status).toBe(200)
    expect(setCookies(index)).toEqual([])
    const denied = await expectLoggedOut(jar)
    expect(setCookies(denied)).toEqual([])
    expect(jar.received).toEqual([])
  })

  it('logs in through the Server Action of the login form: its 303 sets the session cookie, which the page, the Route Handler and the proxy read', async () => {
    const jar = new CookieJar()
    const username = 'Zoë <admin> & co'
    const response = await login(jar, username)
    const written = setCookies(response)
    expect(written.map((cookie) => cookie.name)).toEqual(['session'])
    const cookie = written[0] as SetCookie
    // A browser-session cookie (no Max-Age), HttpOnly, SameSite=Lax, and Secure: a jar cannot
    // tell http from https, and browsers keep a Secure cookie from http://localhost too.
    expect(cookie.attributes).toEqual({ path: '/', httponly: true, samesite: 'lax', secure: true })
    const verified = sessions.verify(cookie.value)
    expect(verified.ok && verified.value).toEqual({ username })

    const index = await jar.fetch(app.url('/'))
    expect(await html(index)).toContain(`<p>Logged in as ${escapeHtml(username)}</p>`)
    // No Vary: Cookie from a jar; Next.js keeps a page that read cookies() out of shared caches.
    expect(index.headers.get('cache-control')).toMatch(/^private\b.*\bno-store\b/)
    // Reading writes nothing.
    expect(setCookies(index)).toEqual([])
    const me = await jar.fetch(app.url('/api/me'))
    expect(await json(me)).toEqual({ username })
    expect(setCookies(me)).toEqual([])
    const page = await jar.fetch(app.url('/private'))
    expect(page.status).toBe(200)
    expect(await html(page)).toContain(`<p>Private page of ${escapeHtml(username)}</p>`)
    expect(setCookies(page)).toEqual([])
  })

  it('regenerates the session at login: what the visitor stored before is gone', async () => {
    const jar = new CookieJar()
    expect((await putNote(jar, 'left by the visitor')).status).toBe(200)
    const before = jar.get('session')
    expect(await json(await jar.fetch(app.url('/api/note')))).toEqual({ note: 'left by the visitor' })
    await login(jar, 'ada')
    expect(jar.get('session')).not.toBe(before)
    expect(await json(await jar.fetch(app.url('/api/note')))).toEqual({ note: null })
    expect(await json(await jar.fetch(app.url('/api/me')))).toEqual({ username: 'ada' })
  })

  it('logs out through a Server Action: the cookie is deleted, and the proxy sends /private to /login again', async () => {
    const jar = new CookieJar()
    await login(jar, 'ada')
    expect((await jar.fetch(app.url('/private'))).status).toBe(200)
    const response = await submit(jar, '/', {})
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    const written = setCookies(response)
    expect(written.map((cookie) => [cookie.name, isDeletion(cookie)])).toEqual([['session', true]])
    expect(jar.names()).toEqual([])
    await expectLoggedOut(jar)
  })

  it('refuses a login posted from another site (Next.js checks the Origin of Server Actions): no cookie', async () => {
    const jar = new CookieJar()
    const response = await submit(jar, '/login', { username: 'mallory' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })
    expect(response.status).toBeGreaterThanOrEqual(400)
    expect(setCookies(response)).toEqual([])
    await expectLoggedOut(jar)
  })

  it.each([
    ['its signature altered', (value: string) => value.slice(0, -2) + (value.endsWith('AA') ? 'BB' : 'AA')],
    ['its data altered', (value: string) => value.replace(/\.([^.]+)\.([^.]+)$/, (_, data: string, mac: string) => `.${data.slice(0, -4)}AAAA.${mac}`)],
    ['not a session at all', () => 'not-a-session'],
  ])('treats a cookie with %s as logged out', async (_, tamper) => {
    const jar = new CookieJar()
    await login(jar, 'ada')
    const value = jar.get('session') as string
    const tampered = tamper(value)
    expect(tampered).not.toBe(value)
    jar.set('session', tampered)
    const denied = await expectLoggedOut(jar)
    // A page cannot write; the proxy commits to its response, which deletes the cookie.
    expect(setCookies(denied).map((cookie) => [cookie.name, isDeletion(cookie)])).toEqual([['session', true]])
    expect(jar.names()).toEqual([])
  })

  it('reads the secret from FRASCO_SECRETS when next start runs, not from the build', async () => {
    const jar = new CookieJar()
    jar.set('session', sessions.sign({ username: 'grace' }))
    expect(await html(await jar.fetch(app.url('/')))).toContain('<p>Logged in as grace</p>')
    const built = createSessions<{ username: string }>({ secrets: BUILD_SECRET })
    jar.set('session', built.sign({ username: 'grace' }))
    await expectLoggedOut(jar)
  })

  it('fails a Server Component that writes the session with the TypeError that says where to write, and sends no cookie', async () => {
    const jar = new CookieJar()
    await login(jar, 'ada')
    const value = jar.get('session') as string
    const response = await jar.fetch(app.url('/broken'))
    expect(response.status).toBe(500)
    expect(setCookies(response)).toEqual([])
    // Production builds keep error messages out of the page; the server's log has it.
    const logged = await until(() => /TypeError: [^\n]*Server Component[^\n]*/.exec(app.output.text)?.[0], 10_000)
    expect(logged).toMatch(/Server Action/)
    expect(logged).toMatch(/Route Handler/)
    // Never the cookie or the session's data in the log.
    expect(app.output.text).not.toContain(value)
    expect(jar.get('session')).toBe(value)
    expect(await json(await jar.fetch(app.url('/api/me')))).toEqual({ username: 'ada' })
  })

  it('spreads a large session over chunk cookies through cookies(), and deletes the stale chunks once it shrinks', async () => {
    const jar = new CookieJar()
    await login(jar, 'ada')
    // Random text barely compresses: about 6.4 KB of data needs two cookies.
    const large = randomBytes(4800).toString('base64')
    const grown = await putNote(jar, large)
    expect(grown.status).toBe(200)
    const chunks = setCookies(grown)
    expect(chunks.filter((cookie) => !isDeletion(cookie)).map((cookie) => cookie.name)).toEqual(['session.0', 'session.1'])
    // The single cookie the chunks replace is deleted.
    expect(chunks.filter(isDeletion).map((cookie) => cookie.name)).toEqual(['session'])
    for (const cookie of chunks) expect(`${cookie.name}=${cookie.value}`.length).toBeLessThanOrEqual(4096)
    expect(jar.names()).toEqual(['session.0', 'session.1'])
    expect(await json(await jar.fetch(app.url('/api/note')))).toEqual({ note: large })
    expect(await html(await jar.fetch(app.url('/')))).toContain('<p>Logged in as ada</p>')

    const shrunk = await putNote(jar, 'short')
    expect(shrunk.status).toBe(200)
    const written = setCookies(shrunk)
    expect(written.filter((cookie) => !isDeletion(cookie)).map((cookie) => cookie.name)).toEqual(['session'])
    expect(written.filter(isDeletion).map((cookie) => cookie.name).sort()).toEqual(['session.0', 'session.1'])
    expect(jar.names()).toEqual(['session'])
    expect(await json(await jar.fetch(app.url('/api/note')))).toEqual({ note: 'short' })
    expect(await json(await jar.fetch(app.url('/api/me')))).toEqual({ username: 'ada' })
  })

  it('keeps a store-backed session that pages, Server Actions and Route Handlers share, and a logout ends it for good', async () => {
    const jar = new CookieJar()
    const response = await submit(jar, '/stored/login', { username: 'grace' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/stored')
    expect(setCookies(response).map((cookie) => cookie.name).sort()).toEqual(['sid', 'theme'])
    const sid = jar.get('sid') as string
    // The cookie carries the session's id; the data stays in the store.
    const decoded = sid.split('.').map((part) => Buffer.from(part, 'base64url').toString('latin1')).join(' ')
    expect(decoded).not.toContain('grace')

    // The page and the Route Handler are module instances of their own: one store on globalThis.
    expect(await html(await jar.fetch(app.url('/stored')))).toContain('<p>Logged in as grace</p>')
    expect(await json(await jar.fetch(app.url('/api/stored')))).toEqual({ username: 'grace' })

    const loggedOut = await submit(jar, '/stored', {})
    expect(loggedOut.status).toBe(303)
    expect(setCookies(loggedOut).map((cookie) => [cookie.name, isDeletion(cookie)])).toEqual([['sid', true]])
    expect(jar.names()).toEqual(['theme'])
    // Unlike a cookie session, the old cookie is worth nothing once the store forgot its id.
    jar.set('sid', sid)
    expect(await json(await jar.fetch(app.url('/api/stored')))).toEqual({ username: null })
    expect(await html(await jar.fetch(app.url('/stored')))).toContain('<p>You are not logged in</p>')
  })

  it('sends no cookie when a Route Handler throws after saving the session (Next.js drops them)', async () => {
    const jar = new CookieJar()
    await login(jar, 'ada')
    const before = jar.get('session')
    const response = await jar.fetch(app.url('/api/fail?throw'), { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' } })
    expect(response.status).toBe(500)
    expect(setCookies(response)).toEqual([])
    expect(jar.get('session')).toBe(before)
    expect(await json(await jar.fetch(app.url('/api/me')))).toEqual({ username: 'ada' })
  })

  // What docs/frameworks.md warns of ("commit last"): the jar writes when told to, and cannot know
  // that the response will be a 500. If Next.js starts dropping these cookies, the docs can say so.
  it.each([
    ['a Route Handler answers 500 itself', (jar: CookieJar) => jar.fetch(app.url('/api/fail'), { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' } })],
    ['a Server Action throws', (jar: CookieJar) => submit(jar, '/fail')],
  ])('sends what was saved when %s after saving the session', async (_, fail) => {
    const jar = new CookieJar()
    await login(jar, 'ada')
    const response = await fail(jar)
    expect(response.status).toBe(500)
    expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['session'])
    expect(await json(await jar.fetch(app.url('/api/me')))).toEqual({ username: 'half-done' })
  })

  type CsrfCase = [string, 200 | CsrfRefusedCode, (origin: string) => Record<string, string>]
  const CSRF_CASES: CsrfCase[] = [
    ['a page of the app (Sec-Fetch-Site: same-origin)', 200, () => ({ 'sec-fetch-site': 'same-origin' })],
    ['a browser without Fetch Metadata, on the app (Origin only)', 200, (origin) => ({ origin })],
    ['another site (Sec-Fetch-Site: cross-site)', 'ERR_SESSION_CSRF_CROSS_SITE', () => ({ 'sec-fetch-site': 'cross-site' })],
    ['a sibling subdomain (Sec-Fetch-Site: same-site)', 'ERR_SESSION_CSRF_CROSS_SITE', () => ({ 'sec-fetch-site': 'same-site' })],
    ['another origin, without Fetch Metadata (Origin only)', 'ERR_SESSION_CSRF_ORIGIN', () => ({ origin: 'https://evil.example' })],
    ['a client that says nothing and has no token', 'ERR_SESSION_CSRF_TOKEN_MISSING', () => ({})],
    ['a client that says nothing, with a token of no session', 'ERR_SESSION_CSRF_TOKEN_INVALID', () => ({ 'x-csrf-token': 'A'.repeat(86) })],
  ]

  it.each(CSRF_CASES)('lets the Route Handler that writes check CSRF: a PUT from %s → %s', async (_, expected, headers) => {
    const jar = new CookieJar()
    await login(jar, 'ada')
    const before = jar.get('session')
    const response = await putNote(jar, 'changed', headers(app.origin))
    if (expected === 200) {
      expect(response.status).toBe(200)
      expect(await json(await jar.fetch(app.url('/api/note')))).toEqual({ note: 'changed' })
      return
    }
    expect(response.status).toBe(403)
    expect(await response.text()).toBe(`Forbidden: ${expected}`)
    expect(setCookies(response)).toEqual([])
    expect(jar.get('session')).toBe(before)
    expect(await json(await jar.fetch(app.url('/api/note')))).toEqual({ note: null })
  })

  it.each([
    ['a page of the app (Sec-Fetch-Site: same-origin)', 200, () => ({ 'sec-fetch-site': 'same-origin' })],
    ['another site (Sec-Fetch-Site: cross-site)', 'ERR_SESSION_CSRF_CROSS_SITE', () => ({ 'sec-fetch-site': 'cross-site' })],
    // request.url is http://localhost:<port> in Next.js, whatever Host the browser used: the
    // docs tell to list the public origin in csrf.origins for browsers without Fetch Metadata.
    ['a browser without Fetch Metadata, on the app (Origin only)', 'ERR_SESSION_CSRF_ORIGIN', (origin: string) => ({ origin })],
  ] as CsrfCase[])('runs frasco/fetch withSessions as a Route Handler, its csrf check on: a PUT from %s → %s', async (_, expected, headers) => {
    const jar = new CookieJar()
    await login(jar, 'ada')
    const response = await jar.fetch(app.url('/api/fetch'), { method: 'PUT', headers: { 'content-type': 'text/plain', ...headers(app.origin) }, body: 'by fetch' })
    if (expected === 200) {
      expect(response.status).toBe(200)
      expect(setCookies(response).map((cookie) => cookie.name)).toEqual(['session'])
      expect(response.headers.get('vary')).toMatch(/\bCookie\b/i)
      expect(await json(await jar.fetch(app.url('/api/note')))).toEqual({ note: 'by fetch' })
      expect(await json(await jar.fetch(app.url('/api/me')))).toEqual({ username: 'ada' })
      return
    }
    expect(response.status).toBe(403)
    expect(await response.text()).toBe(`Forbidden: ${expected}`)
    expect(setCookies(response)).toEqual([])
  })

  it('lets a client that sends neither Sec-Fetch-Site nor Origin write with a token of its session', async () => {
    const jar = new CookieJar()
    await login(jar, 'ada')
    const issued = await jar.fetch(app.url('/api/csrf'))
    // The session's first token stores its secret in the session: the Route Handler writes it.
    expect(setCookies(issued).map((cookie) => cookie.name)).toEqual(['session'])
    const { token } = (await issued.json()) as { token: string }
    const response = await putNote(jar, 'with a token', { 'x-csrf-token': token })
    expect(response.status).toBe(200)
    expect(await json(await jar.fetch(app.url('/api/note')))).toEqual({ note: 'with a token' })
  })
})

/** The files whose recipe region docs/frameworks.md shows (the Next.js section). */
const RECIPES = ['lib/session.js', 'app/actions.js', 'app/login/page.jsx', 'app/page.jsx', 'proxy.js', 'app/api/me/route.js', 'app/api/note/route.js', 'lib/stored.js']

describe('the Next.js recipes of docs/frameworks.md', () => {
  // The docs show each region whole, imports included: they must be what an application writes.
  it.each(RECIPES)('%s imports Frasco by its package name', (file) => {
    const code = recipeOf(new URL(file, import.meta.url))
    const specifiers = [...code.matchAll(/^import .* from '([^']+)'$/gm)].map((match) => match[1])
    expect(specifiers.length).toBeGreaterThan(0)
    for (const specifier of specifiers) expect(specifier).toMatch(/^(?:frasco(?:\/(?:jar|stores))?|next\/(?:headers|navigation|server)|\.{1,2}\/[\w/.-]+)$/)
  })
})
