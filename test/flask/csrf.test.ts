/**
 * `createFlaskWtfCsrf`, Flask-WTF's CSRF tokens: golden tokens made by itsdangerous, the scheme's
 * contract (issue, verify, time, rotation, tamper matrix, hostile input), and live interop with
 * real Flask 2.2 + Flask-WTF 1.1 (test/flask/csrf_app.py, Debian's python3-flaskext.wtf) over
 * one shared Flask session cookie: tokens and session secrets made by either side are accepted by
 * the other, and both refuse the same bad ones.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withSessions } from '../../src/adapters/node.js'
import { FRASCO_CSRF } from '../../src/csrf.js'
import { createFlaskFormat } from '../../src/flask/format.js'
import { createFlaskWtfCsrf, type FlaskWtfCsrfOptions } from '../../src/flask/csrf.js'
import { createItsdangerousSerializer } from '../../src/flask/itsdangerous.js'
import type { Session } from '../../src/session.js'
import { createSessions } from '../../src/sessions.js'
import { CookieJar, formPost, startServer, useTestServers } from '../helpers/server.js'
import { python } from './python.js'

useTestServers()

const SECRET_KEY = 'flask-shared-secret-key'
const OLD_KEY = 'wtf-csrf-key-before-rotation'
const NEW_KEY = 'wtf-csrf-key-after-rotation'
const NOW_S = 1_900_000_000
const at = (seconds: number) => () => seconds * 1000 + 500

const sessions = createSessions({ secrets: SECRET_KEY, format: createFlaskFormat() })
const fresh = (): Session<any> => sessions.read(undefined)
const scheme = (options: Partial<FlaskWtfCsrfOptions> = {}) => createFlaskWtfCsrf({ secrets: SECRET_KEY, ...options })
/** A session holding `secret` under csrf_token, as Flask-WTF leaves it. */
const holding = (secret: unknown, key = 'csrf_token'): Session<any> => fresh().set(key, secret) as Session<any>

// -------------------------------------------------------------------------------------------------
// Golden tokens: made by itsdangerous 2.1.2 (URLSafeTimedSerializer(key, salt='wtf-csrf-token')
// .dumps(secret) with time.time() at 1900000000.5), exactly as Flask-WTF's generate_csrf signs.
// -------------------------------------------------------------------------------------------------

const GOLDEN_SECRET = '9f3c2a71e0b84d56a1c7e2f08b3d4c5a6e7f8091'
const GOLDEN = [
  { key: 'frasco-golden-key', token: 'IjlmM2MyYTcxZTBiODRkNTZhMWM3ZTJmMDhiM2Q0YzVhNmU3ZjgwOTEi.cT-zAA.GKxRlFG7JGoWmIsWbrJR0A5v7SA' },
  {
    key: new Uint8Array([0x00, 0xff, ...Buffer.from('bytes-key')]),
    token: 'IjlmM2MyYTcxZTBiODRkNTZhMWM3ZTJmMDhiM2Q0YzVhNmU3ZjgwOTEi.cT-zAA.DhL1Arq7ZtZjWs7dVwpSTZI385w',
  },
] as const
// A compressible secret (not one Flask-WTF makes): itsdangerous zlib-compresses its JSON.
const REPETITIVE_SECRET = '0123456789abcdef0123456789abcdef01234567'
const COMPRESSED = { key: 'frasco-golden-key', token: '.eJxTMjA0MjYxNTO3sExMSk5JTcPFVwIA4koKpQ.cT-zAA.tMwYYDoNLcuAKq6wRgO36MLoZXg' }

describe('createFlaskWtfCsrf: golden tokens from itsdangerous', () => {
  it.each(GOLDEN)('issues the exact token Flask-WTF signs, and verifies it (key %#)', ({ key, token }) => {
    const csrf = createFlaskWtfCsrf({ secrets: key, clock: at(NOW_S) })
    const session = holding(GOLDEN_SECRET)
    expect(csrf.issue(session)).toBe(token)
    expect(csrf.verify(session, token)).toBe(true)
  })

  it('verifies a compressed token (itsdangerous compresses a repetitive secret), and issues it uncompressed', () => {
    const csrf = createFlaskWtfCsrf({ secrets: COMPRESSED.key, clock: at(NOW_S) })
    const session = holding(REPETITIVE_SECRET)
    expect(csrf.verify(session, COMPRESSED.token)).toBe(true)
    const issued = csrf.issue(session)
    expect(issued.split('.')[0]).toBe(Buffer.from(JSON.stringify(REPETITIVE_SECRET)).toString('base64url'))
    expect(csrf.verify(session, issued)).toBe(true)
  })

  it('is the itsdangerous serializer with salt wtf-csrf-token (HMAC-SHA1, django-concat), nothing more', () => {
    const raw = createItsdangerousSerializer({ secrets: 'frasco-golden-key', salt: 'wtf-csrf-token', timestamped: true, clock: at(NOW_S) })
    expect(raw.sign(GOLDEN_SECRET)).toBe(GOLDEN[0].token)
  })
})

// -------------------------------------------------------------------------------------------------
// The scheme on its own
// -------------------------------------------------------------------------------------------------

describe('createFlaskWtfCsrf: options', () => {
  it.each([
    [{ secretKey: SECRET_KEY }, /^option secretKey is unknown: did you mean `secrets`\?/],
    [{ secrets: SECRET_KEY, WTF_CSRF_SECRET_KEY: 'x' }, /^option WTF_CSRF_SECRET_KEY is unknown: did you mean `secrets`\?/],
    [{ secrets: SECRET_KEY, timeLimit: 60 }, /^option timeLimit is unknown: did you mean `lifetime`\? \(WTF_CSRF_TIME_LIMIT/],
    [{ secrets: SECRET_KEY, maxAge: 60 }, /^option maxAge is unknown: did you mean `lifetime`\?/],
    [{ secrets: SECRET_KEY, fieldName: 'csrf' }, /^option fieldName is unknown: did you mean `sessionKey`\?.*checkCsrf/],
    [{ secrets: SECRET_KEY, salt: 'x' }, /^option salt is unknown: Flask-WTF's salt is fixed/],
    [{ secrets: SECRET_KEY, lifetme: 60 }, /^option lifetme is unknown: did you mean `lifetime`\?/],
    [{}, /^option secrets is missing/],
    [{ secrets: '' }, /^option secrets is invalid: an empty secret/],
    [{ secrets: SECRET_KEY, lifetime: 0 }, /^option lifetime is invalid: 0 would expire every token within a second; give null for no limit/],
    [{ secrets: SECRET_KEY, lifetime: 3_600_000_000 }, /^option lifetime is invalid: 3600000000 is more than 400 days; lifetimes are in seconds/],
    [{ secrets: SECRET_KEY, lifetime: '3600' }, /^option lifetime is invalid: give a number of seconds/],
    [{ secrets: SECRET_KEY, sessionKey: '' }, /^option sessionKey is invalid/],
    [{ secrets: SECRET_KEY, clockTolerance: -1 }, /^option clockTolerance is invalid/],
    [{ secrets: SECRET_KEY, clock: 5 }, /^option clock is invalid/],
  ])('%j is a TypeError naming the option', (options, message) => {
    expect(() => createFlaskWtfCsrf(options as unknown as FlaskWtfCsrfOptions)).toThrow(TypeError)
    expect(() => createFlaskWtfCsrf(options as unknown as FlaskWtfCsrfOptions)).toThrow(message)
  })

  it('needs an options object', () => {
    expect(() => createFlaskWtfCsrf(SECRET_KEY as unknown as FlaskWtfCsrfOptions)).toThrow(/^options are invalid: createFlaskWtfCsrf needs an options object/)
  })
})

describe('createFlaskWtfCsrf: issue and verify', () => {
  it('stores a 40-hex-digit secret under csrf_token once, and signs it', () => {
    const csrf = scheme()
    const session = fresh()
    const token = csrf.issue(session)
    const secret = session.get('csrf_token') as string
    expect(secret).toMatch(/^[0-9a-f]{40}$/)
    expect(session.modified).toBe(true)
    expect(token).toMatch(/^[\w-]{56}\.[\w-]{6}\.[\w-]{27}$/)
    expect(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString())).toBe(secret)
    expect(csrf.verify(session, token)).toBe(true)
    // A second token signs the same secret and leaves the session alone.
    const again = fresh()
    again.set('csrf_token', secret)
    const before = sessions.commit(again).setCookie
    expect(csrf.verify(again, csrf.issue(again))).toBe(true)
    expect(again.get('csrf_token')).toBe(secret)
    expect(sessions.commit(again).setCookie).toEqual(before)
  })

  it('gives every session its own secret', () => {
    const csrf = scheme()
    const secrets = new Set(Array.from({ length: 50 }, () => {
      const session = fresh()
      csrf.issue(session)
      return session.get('csrf_token')
    }))
    expect(secrets.size).toBe(50)
  })

  it('uses sessionKey (WTF_CSRF_FIELD_NAME) for the secret', () => {
    const csrf = scheme({ sessionKey: 'wtf_secret' })
    const session = fresh()
    const token = csrf.issue(session)
    expect(session.has('csrf_token')).toBe(false)
    expect(session.get('wtf_secret')).toMatch(/^[0-9a-f]{40}$/)
    expect(csrf.verify(session, token)).toBe(true)
    expect(scheme().verify(session, token)).toBe(false)
  })

  it.each([
    ['a number', 123],
    ['the empty string', ''],
    ['non-ASCII text (hmac.compare_digest refuses it)', 'é'.repeat(40)],
    ['a string over 256 characters', 'a'.repeat(257)],
    ['null', null],
    ['a list', ['a']],
    ['an object', { a: 1 }],
  ])('replaces %s under csrf_token with a new secret, and never verifies against it', (_, value) => {
    const csrf = scheme()
    const forged = createItsdangerousSerializer({ secrets: SECRET_KEY, salt: 'wtf-csrf-token', timestamped: true })
    const session = holding(value)
    expect(csrf.verify(session, forged.sign(value))).toBe(false)
    const token = csrf.issue(session)
    expect(session.get('csrf_token')).toMatch(/^[0-9a-f]{40}$/)
    expect(csrf.verify(session, token)).toBe(true)
  })

  it('accepts any ASCII secret of 1 to 256 characters another app stored', () => {
    const csrf = scheme()
    for (const secret of ['x', 'A'.repeat(256), 'not hex, but ASCII: ~!'] as const) {
      const session = holding(secret)
      const token = csrf.issue(session)
      expect(session.get('csrf_token')).toBe(secret)
      expect(csrf.verify(session, token)).toBe(true)
    }
  })
})

describe('createFlaskWtfCsrf: refusals (false, never a throw)', () => {
  const csrf = scheme({ clock: at(NOW_S) })
  const session = holding(GOLDEN_SECRET)
  const token = csrf.issue(session)

  it('refuses a token of another session, and any token when the session has no secret', () => {
    expect(csrf.verify(holding('a'.repeat(40)), token)).toBe(false)
    const empty = fresh()
    expect(csrf.verify(empty, token)).toBe(false)
    expect([empty.has('csrf_token'), empty.modified]).toEqual([false, false]) // verify never issues
  })

  it('refuses a token signed with another key, another salt or another derivation', () => {
    const other = [
      createFlaskWtfCsrf({ secrets: 'another-key', clock: at(NOW_S) }).issue(holding(GOLDEN_SECRET)),
      createItsdangerousSerializer({ secrets: SECRET_KEY, salt: 'cookie-session', timestamped: true, clock: at(NOW_S) }).sign(GOLDEN_SECRET),
      createItsdangerousSerializer({ secrets: SECRET_KEY, salt: 'wtf-csrf-token', keyDerivation: 'hmac', timestamped: true, clock: at(NOW_S) }).sign(GOLDEN_SECRET),
      createItsdangerousSerializer({ secrets: SECRET_KEY, salt: 'wtf-csrf-token', digest: 'sha256', timestamped: true, clock: at(NOW_S) }).sign(GOLDEN_SECRET),
      // Untimed: Flask-WTF's tokens always carry a timestamp.
      createItsdangerousSerializer({ secrets: SECRET_KEY, salt: 'wtf-csrf-token' }).sign(GOLDEN_SECRET),
    ]
    for (const forged of other) expect(csrf.verify(session, forged)).toBe(false)
  })

  it('refuses a token of Frasco\'s own scheme, and Frasco\'s scheme refuses a Flask-WTF token', () => {
    const mixed = holding(GOLDEN_SECRET)
    const frasco = FRASCO_CSRF.issue(mixed)
    expect(csrf.verify(mixed, frasco)).toBe(false)
    expect(FRASCO_CSRF.verify(mixed, token)).toBe(false)
  })

  it('refuses every one-character change of a token (tamper matrix)', () => {
    const refused = [...token].map((char, i) => {
      const changed = token.slice(0, i) + (char === 'A' ? 'B' : 'A') + token.slice(i + 1)
      return csrf.verify(session, changed)
    })
    expect(refused.every((ok) => !ok)).toBe(true)
    expect(csrf.verify(session, token)).toBe(true)
  })

  it.each([
    ['empty', ''],
    ['a dot', '.'],
    ['two dots', '..'],
    ['the token with a trailing dot', `${token}.`],
    ['the token with a segment more', `x.${token}`],
    ['the token with padding', `${token}=`],
    ['the token in lower case', token.toLowerCase()],
    ['a lone surrogate', `${token.slice(0, -1)}\ud800`],
    ['a NUL', `${token}\u0000`],
    ['64 kB of junk', 'A'.repeat(65_536)],
    ['a token-shaped string of 5000 characters', `${'A'.repeat(4950)}.cT-zAA.${'A'.repeat(27)}`],
  ])('refuses %s', (_, hostile) => {
    expect(csrf.verify(session, hostile)).toBe(false)
  })

  it.each([undefined, null, 42, {}, [token], new String(token)])('refuses a token that is not a string (%j)', (hostile) => {
    expect(csrf.verify(session, hostile as unknown as string)).toBe(false)
  })

  it('refuses, without throwing, when the session is not a session', () => {
    expect(csrf.verify({} as Session<any>, token)).toBe(false)
    expect(csrf.verify(null as unknown as Session<any>, token)).toBe(false)
  })

  it('never throws on random input (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.tuple(fc.base64String(), fc.base64String({ maxLength: 12 }), fc.base64String({ maxLength: 40 })).map((parts) => parts.join('.')),
          fc.integer({ min: 0, max: token.length - 1 }).chain((i) => fc.string({ maxLength: 3 }).map((s) => token.slice(0, i) + s + token.slice(i + 1))),
        ),
        (hostile) => csrf.verify(session, hostile) === (hostile === token),
      ),
      { numRuns: 1000 },
    )
  })
})

describe('createFlaskWtfCsrf: time (WTF_CSRF_TIME_LIMIT) and key rotation', () => {
  const token = scheme({ clock: at(NOW_S) }).issue(holding(GOLDEN_SECRET))
  const verifyAt = (seconds: number, options: Partial<FlaskWtfCsrfOptions> = {}) => scheme({ clock: at(seconds), ...options }).verify(holding(GOLDEN_SECRET), token)

  it('accepts a token up to 3600 seconds old by default (age == limit passes, as in itsdangerous)', () => {
    expect(verifyAt(NOW_S)).toBe(true)
    expect(verifyAt(NOW_S + 3600)).toBe(true)
    expect(verifyAt(NOW_S + 3601)).toBe(false)
  })

  it('takes lifetime in seconds, and null for no limit', () => {
    expect(verifyAt(NOW_S + 60, { lifetime: 60 })).toBe(true)
    expect(verifyAt(NOW_S + 61, { lifetime: 60 })).toBe(false)
    expect(verifyAt(NOW_S + 400 * 86_400, { lifetime: null })).toBe(true)
  })

  it('refuses a token from the future, unless within clockTolerance', () => {
    expect(verifyAt(NOW_S - 1)).toBe(false)
    expect(verifyAt(NOW_S - 1, { lifetime: null })).toBe(false)
    expect(verifyAt(NOW_S - 5, { clockTolerance: 5 })).toBe(true)
    expect(verifyAt(NOW_S + 3605, { clockTolerance: 5 })).toBe(true)
    expect(verifyAt(NOW_S - 6, { clockTolerance: 5 })).toBe(false)
  })

  it('signs with the newest of secrets and verifies with every one', () => {
    const session = holding(GOLDEN_SECRET)
    const rotated = createFlaskWtfCsrf({ secrets: [NEW_KEY, OLD_KEY] })
    const byOld = createFlaskWtfCsrf({ secrets: OLD_KEY }).issue(session)
    const byRotated = rotated.issue(session)
    expect(rotated.verify(session, byOld)).toBe(true)
    expect(createFlaskWtfCsrf({ secrets: NEW_KEY }).verify(session, byRotated)).toBe(true)
    expect(createFlaskWtfCsrf({ secrets: OLD_KEY }).verify(session, byRotated)).toBe(false)
  })
})

// -------------------------------------------------------------------------------------------------
// Live: real Flask + Flask-WTF
// -------------------------------------------------------------------------------------------------

const APP = fileURLToPath(new URL('./csrf_app.py', import.meta.url))
const ON_CI = /^(true|1)$/i.test(process.env.CI ?? '')
const INSTALL_COMMAND = 'sudo apt-get install python3-flaskext.wtf'
const INSTALL_HINT = `install Flask-WTF with \`${INSTALL_COMMAND}\` (Debian's Flask-WTF 1.1, for /usr/bin/python3; it brings python3-flask), or point FRASCO_PYTHON at a Python that has it`
const flaskWtfAvailable = python !== undefined && spawnSync(python, ['-c', 'import flask_wtf'], { stdio: 'ignore', timeout: 20_000 }).status === 0

/**
 * describeFlask (./python.ts) for Flask-WTF: without it, skips with the install hint off CI and
 * fails in CI, so a missing install step cannot pass as green.
 */
function describeFlaskWtf(name: string, body: () => void): void {
  const skipped = !flaskWtfAvailable && !ON_CI
  if (skipped) console.warn(`skipped "${name}": Flask-WTF is not importable (flask_wtf); ${INSTALL_HINT}`)
  const required = (): void => {
    it('has real Flask-WTF to test against', () => {
      throw new Error(`Flask-WTF (flask_wtf) is not importable but CI requires it: ${INSTALL_HINT}`)
    })
  }
  describe.skipIf(skipped)(skipped ? `${name} (skipped: install Flask-WTF with \`${INSTALL_COMMAND}\`)` : name, flaskWtfAvailable ? body : required)
}

interface FlaskApp {
  url(path: string): string
  stop(): void
}

/** Starts test/flask/csrf_app.py with SECRET_KEY in the environment, as in deployment. */
async function startCsrfApp(args: readonly string[] = []): Promise<FlaskApp> {
  const child: ChildProcess = spawn(python as string, [APP, '--port', '0', ...args], {
    env: { ...process.env, SECRET_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`csrf_app.py exited with ${code}: ${stderr}`)))
  })
  const port = /^LISTENING (\d+)$/.exec(line)?.[1]
  if (port === undefined) throw new Error(`csrf_app.py said ${line}`)
  return { url: (path) => `http://127.0.0.1:${port}${path}`, stop: () => void child.kill() }
}

describeFlaskWtf('createFlaskWtfCsrf with real Flask-WTF (test/flask/csrf_app.py)', () => {
  let flask: FlaskApp // the defaults: WTF_CSRF_TIME_LIMIT 3600, signed with SECRET_KEY
  let unlimited: FlaskApp // WTF_CSRF_TIME_LIMIT = None
  let rotating: FlaskApp // WTF_CSRF_SECRET_KEY = [OLD_KEY, NEW_KEY] (itsdangerous: oldest first)
  beforeAll(async () => {
    ;[flask, unlimited, rotating] = await Promise.all([
      startCsrfApp(),
      startCsrfApp(['--time-limit', 'none']),
      startCsrfApp(['--csrf-secret-key', OLD_KEY, '--csrf-secret-key', NEW_KEY]),
    ])
  }, 30_000)
  afterAll(() => {
    for (const app of [flask, unlimited, rotating]) app?.stop()
  })

  const csrf = scheme()
  const nowS = (): number => Math.floor(Date.now() / 1000)

  /** Flask's generate_csrf() for this browser (which may give its session a secret). */
  const flaskToken = async (browser: CookieJar, app = flask): Promise<string> => (await browser.fetch(app.url('/token'))).text()
  /** What Flask sees under session['csrf_token']. */
  const flaskSecret = async (browser: CookieJar, app = flask): Promise<unknown> => ((await (await browser.fetch(app.url('/session'))).json()) as { csrf_token: unknown }).csrf_token
  /** POSTs a form to Flask's CSRFProtect-ed route: [status, body]. */
  const submit = async (browser: CookieJar, token: string, app = flask): Promise<[number, string]> => {
    const response = await browser.fetch(app.url('/submit'), formPost({ csrf_token: token }))
    return [response.status, await response.text()]
  }
  /** The browser's Flask session, read by Frasco. */
  const nodeSession = (browser: CookieJar): Session<any> => sessions.read(browser.header())
  /** Frasco writes the session back into the browser's cookie. */
  const save = (browser: CookieJar, session: Session<any>): void => browser.apply(sessions.commit(session).setCookie)

  it('a token Flask issued (and the secret Flask created) verifies in Frasco', async () => {
    const browser = new CookieJar()
    const token = await flaskToken(browser)
    const session = nodeSession(browser)
    expect(session.get('csrf_token')).toBe(await flaskSecret(browser))
    expect(session.get('csrf_token')).toMatch(/^[0-9a-f]{40}$/)
    expect(csrf.verify(session, token)).toBe(true)
    // Frasco signs Flask's secret into the very token Flask made, in the same second.
    const read = createItsdangerousSerializer({ secrets: SECRET_KEY, salt: 'wtf-csrf-token', timestamped: true }).verify(token)
    if (!read.ok) throw read.error
    const issuedAt = read.issuedAt as Date
    const same = scheme({ clock: () => issuedAt.getTime() }).issue(session)
    expect(same).toBe(token)
    expect(session.modified).toBe(false)
    // And Flask's own form post goes through.
    expect(await submit(browser, token)).toEqual([200, 'accepted'])
  })

  it('a token Frasco issued (and the secret Frasco created) is accepted by CSRFProtect, form field or X-CSRFToken header', async () => {
    const browser = new CookieJar()
    const session = fresh()
    const token = csrf.issue(session)
    save(browser, session)
    expect(await flaskSecret(browser)).toBe(session.get('csrf_token'))
    expect(await submit(browser, token)).toEqual([200, 'accepted'])
    const byHeader = await browser.fetch(flask.url('/submit'), { method: 'POST', headers: { 'X-CSRFToken': token } })
    expect([byHeader.status, await byHeader.text()]).toEqual([200, 'accepted'])
    // Flask keeps Frasco's secret, and signs it into tokens Frasco accepts.
    const flaskMade = await flaskToken(browser)
    expect(await flaskSecret(browser)).toBe(session.get('csrf_token'))
    expect(csrf.verify(nodeSession(browser), flaskMade)).toBe(true)
  })

  it('a token Frasco issued for the secret Flask created is accepted by Flask, and Frasco writes no cookie', async () => {
    const browser = new CookieJar()
    await flaskToken(browser)
    const cookie = browser.get('session')
    const session = nodeSession(browser)
    const token = csrf.issue(session)
    expect(sessions.commit(session).setCookie).toEqual([])
    expect(browser.get('session')).toBe(cookie)
    expect(await submit(browser, token)).toEqual([200, 'accepted'])
  })

  it('Flask refuses (400) what Frasco refuses: tampered, other session, no secret, wrong key', async () => {
    const browser = new CookieJar()
    const session = fresh()
    const token = csrf.issue(session)
    save(browser, session)
    // A character inside the signature: the last one of a 27-character base64 MAC carries unused
    // bits, which Python's decoder ignores (Frasco's refuses non-canonical base64 either way).
    const at = token.length - 5
    const tampered = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`
    const otherSession = csrf.issue(fresh())
    const wrongKey = createFlaskWtfCsrf({ secrets: 'not-the-key' }).issue(session)
    const cases: Array<[string, string]> = [
      [tampered, 'The CSRF token is invalid.'],
      [otherSession, 'The CSRF tokens do not match.'],
      [wrongKey, 'The CSRF token is invalid.'],
      ['junk', 'The CSRF token is invalid.'],
    ]
    for (const [bad, reason] of cases) {
      expect(await submit(browser, bad)).toEqual([400, reason])
      expect(csrf.verify(session, bad)).toBe(false)
    }
    const withoutSecret = new CookieJar()
    expect(await submit(withoutSecret, token)).toEqual([400, 'The CSRF session token is missing.'])
    expect(csrf.verify(fresh(), token)).toBe(false)
    // Flask-WTF's own token of another browser: the same verdict on both sides.
    const other = new CookieJar()
    const othersToken = await flaskToken(other)
    expect(await submit(browser, othersToken)).toEqual([400, 'The CSRF tokens do not match.'])
    expect(csrf.verify(session, othersToken)).toBe(false)
  })

  it('agrees on the time limit: 3600 s by default, future tokens refused, WTF_CSRF_TIME_LIMIT = None', async () => {
    const browser = new CookieJar()
    const session = fresh()
    csrf.issue(session)
    save(browser, session)
    const issuedAt = (offset: number) => scheme({ clock: () => (nowS() + offset) * 1000 }).issue(session)
    // Margins of 10 s keep the test off the second boundary.
    const young = issuedAt(-3590)
    const old = issuedAt(-3610)
    const future = issuedAt(60)
    expect(await submit(browser, young)).toEqual([200, 'accepted'])
    expect(await submit(browser, old)).toEqual([400, 'The CSRF token has expired.'])
    expect(await submit(browser, future)).toEqual([400, 'The CSRF token has expired.'])
    expect([csrf.verify(session, young), csrf.verify(session, old), csrf.verify(session, future)]).toEqual([true, false, false])

    // No limit: a month-old token is good on both sides. A token from the future is where they
    // differ: itsdangerous checks the age only with a max_age, Frasco always.
    const noLimit = scheme({ lifetime: null })
    const monthOld = issuedAt(-31 * 86_400)
    expect(await submit(browser, monthOld, unlimited)).toEqual([200, 'accepted'])
    expect(noLimit.verify(session, monthOld)).toBe(true)
    expect(await submit(browser, future, unlimited)).toEqual([200, 'accepted'])
    expect(noLimit.verify(session, future)).toBe(false)
  })

  it('rotates keys as Flask-WTF does with WTF_CSRF_SECRET_KEY = [old, new]: secrets [new, old]', async () => {
    const browser = new CookieJar()
    const flaskMade = await flaskToken(browser, rotating)
    const session = nodeSession(browser)
    // Flask signs with the last of its list, the newest.
    expect(createFlaskWtfCsrf({ secrets: [NEW_KEY, OLD_KEY] }).verify(session, flaskMade)).toBe(true)
    expect(createFlaskWtfCsrf({ secrets: NEW_KEY }).verify(session, flaskMade)).toBe(true)
    expect(createFlaskWtfCsrf({ secrets: OLD_KEY }).verify(session, flaskMade)).toBe(false)
    expect(csrf.verify(session, flaskMade)).toBe(false) // WTF_CSRF_SECRET_KEY, not SECRET_KEY
    // Flask accepts tokens signed by either key, and refuses SECRET_KEY's.
    expect(await submit(browser, createFlaskWtfCsrf({ secrets: [NEW_KEY, OLD_KEY] }).issue(session), rotating)).toEqual([200, 'accepted'])
    expect(await submit(browser, createFlaskWtfCsrf({ secrets: OLD_KEY }).issue(session), rotating)).toEqual([200, 'accepted'])
    expect(await submit(browser, csrf.issue(session), rotating)).toEqual([400, 'The CSRF token is invalid.'])
  })

  it('a signed token whose value is not a string is a 500 in Flask-WTF, and false in Frasco', async () => {
    const browser = new CookieJar()
    const session = fresh()
    csrf.issue(session)
    save(browser, session)
    const signer = createItsdangerousSerializer({ secrets: SECRET_KEY, salt: 'wtf-csrf-token', timestamped: true })
    for (const value of [123, { a: 1 }]) {
      const [status] = await submit(browser, signer.sign(value))
      expect(status).toBe(500) // hmac.compare_digest(str, int) raises TypeError
      expect(csrf.verify(session, signer.sign(value))).toBe(false)
    }
  })

  it('through withSessions({ csrf }): a form Flask rendered posts to Node, and one Node rendered posts to Flask', async () => {
    const node = await startServer(
      withSessions(sessions, (req, res) => {
        res.end(req.method === 'POST' ? 'accepted by node' : req.csrfToken())
      }, { csrf: { token: csrf, field: 'csrf_token', header: 'X-CSRFToken' } }),
    )
    const browser = new CookieJar()
    // A client that sends neither Sec-Fetch-Site nor Origin (as Node's fetch): the token decides.
    const missing = await browser.fetch(node.url('/submit'), { method: 'POST' })
    expect([missing.status, await missing.text()]).toEqual([403, 'Forbidden: ERR_SESSION_CSRF_TOKEN_MISSING'])
    const fromFlask = await flaskToken(browser)
    const posted = await browser.fetch(node.url('/submit'), { method: 'POST', headers: { 'X-CSRFToken': fromFlask } })
    expect([posted.status, await posted.text()]).toEqual([200, 'accepted by node'])
    const wrong = await browser.fetch(node.url('/submit'), { method: 'POST', headers: { 'X-CSRFToken': `${fromFlask}x` } })
    expect([wrong.status, await wrong.text()]).toEqual([403, 'Forbidden: ERR_SESSION_CSRF_TOKEN_INVALID'])

    const another = new CookieJar()
    const fromNode = await (await another.fetch(node.url('/form'))).text()
    expect(another.get('session')).toBeDefined() // the first token stored the session's secret
    expect(await submit(another, fromNode)).toEqual([200, 'accepted'])
  })
})
