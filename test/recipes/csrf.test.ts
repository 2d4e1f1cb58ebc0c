/**
 * docs/recipes.md, "A CSRF token": a random value per session, signed with `createSigner` for the
 * purpose 'csrf', sent in a hidden form field and checked on POST against the session's value.
 * A missing, forged, foreign or wrong-purpose token gets a 403; the session's own token passes.
 * The recipe between the markers is shown verbatim in the docs (test/recipes/docs.test.ts).
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { withSessions } from '../../src/adapters/node.js'
import type { Session } from '../../src/session.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { createSigner, type Signer } from '../../src/signer.js'
import { CookieJar, formPost, startServer, useTestServers } from '../helpers/server.js'

useTestServers()

// --- recipe: CSRF token (docs/recipes.md) ---------------------------------------------------------
type Account = { email: string; csrf: string }

/** Reads an `application/x-www-form-urlencoded` body of at most 8 KiB. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of req.setEncoding('utf8')) {
    body += chunk
    if (body.length > 8192) throw new RangeError('form body over 8 KiB')
  }
  return new URLSearchParams(body)
}

/** The session's CSRF token: a random value made once per session, signed for the purpose 'csrf'. */
function csrfToken(csrf: Signer, session: Session<Account>): string {
  session.csrf ??= randomBytes(32).toString('base64url')
  return csrf.sign(session.csrf)
}

/** Whether a submitted token is this session's: signed for 'csrf', over the value the session holds. */
function isValidCsrfToken(csrf: Signer, session: Session<Account>, token: string | null): boolean {
  const expected = session.csrf
  if (token === null || expected === undefined) return false
  const result = csrf.verify(token) // never throws: a bad token is { ok: false }
  return result.ok && result.value === expected
}

function createApp(sessions: Sessions<Account>, csrf: Signer) {
  return withSessions(sessions, async (req, res) => {
    if (req.method === 'POST' && req.url === '/email') {
      const form = await readForm(req)
      if (!isValidCsrfToken(csrf, req.session, form.get('csrf'))) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('Invalid CSRF token')
        return
      }
      req.session.email = form.get('email') ?? ''
      res.writeHead(303, { location: '/' }).end()
      return
    }
    // Every form that changes something carries the token. Make it before writeHead: the session
    // (with a new value) is committed with the headers. Base64url and dots need no HTML escaping.
    const token = csrfToken(csrf, req.session)
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<form method="post" action="/email">
  <input type="hidden" name="csrf" value="${token}">
  <input name="email" type="email"> <button>Change email</button>
</form>`)
  })
}
// --- end recipe -------------------------------------------------------------------------------------

const secrets = ['csrf-recipe-secret-0123456789abcdefghijklmn']

async function start() {
  const sessions = createSessions<Account>({ secrets })
  const server = await startServer(createApp(sessions, createSigner({ secrets, purpose: 'csrf' })))
  return { sessions, server }
}

/** Loads the form page and returns the token in its hidden field. */
async function tokenFrom(jar: CookieJar, url: string): Promise<string> {
  const response = await jar.fetch(url)
  expect(response.status).toBe(200)
  const match = /<input type="hidden" name="csrf" value="([^"]+)">/.exec(await response.text())
  expect(match).not.toBeNull()
  return (match as RegExpExecArray)[1] as string
}

async function post(jar: CookieJar, url: string, fields: Record<string, string>): Promise<{ status: number; body: string }> {
  const response = await jar.fetch(url, formPost(fields))
  return { status: response.status, body: await response.text() }
}

describe('recipe: a CSRF token with createSigner', () => {
  it("passes the session's own token, again and again", async () => {
    const { server, sessions } = await start()
    const jar = new CookieJar()
    const token = await tokenFrom(jar, server.url('/'))
    expect(token).toMatch(/^f1\.[A-Za-z0-9_.-]+$/)
    expect(await post(jar, server.url('/email'), { csrf: token, email: 'ada@example.com' })).toEqual({ status: 303, body: '' })
    expect(sessions.read(jar.header()).get('email')).toBe('ada@example.com')

    // One value per session: the next page signs the same value, and the first token still passes.
    expect(sessions.read(jar.header()).get('csrf')).toBeTypeOf('string')
    await tokenFrom(jar, server.url('/'))
    expect((await post(jar, server.url('/email'), { csrf: token, email: 'ada@example.org' })).status).toBe(303)
    expect(sessions.read(jar.header()).get('email')).toBe('ada@example.org')
  })

  it('refuses a missing token with 403', async () => {
    const { server, sessions } = await start()
    const jar = new CookieJar()
    await tokenFrom(jar, server.url('/'))
    expect(await post(jar, server.url('/email'), { email: 'mallory@example.com' })).toEqual({ status: 403, body: 'Invalid CSRF token' })
    expect(await post(jar, server.url('/email'), { csrf: '', email: 'mallory@example.com' })).toEqual({ status: 403, body: 'Invalid CSRF token' })
    expect(sessions.read(jar.header()).get('email')).toBeUndefined()
  })

  it('refuses a forged token with 403: tampered, or signed with another secret', async () => {
    const { server, sessions } = await start()
    const jar = new CookieJar()
    const token = await tokenFrom(jar, server.url('/'))
    const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
    const value = sessions.read(jar.header()).get('csrf') as string
    const otherSecret = createSigner({ secrets: 'another-secret-0123456789abcdefghijklmnop', purpose: 'csrf' }).sign(value)
    for (const forged of [tampered, otherSecret, value, 'f1.x.y.z']) {
      expect(await post(jar, server.url('/email'), { csrf: forged, email: 'mallory@example.com' }), forged).toEqual({ status: 403, body: 'Invalid CSRF token' })
    }
    expect(sessions.read(jar.header()).get('email')).toBeUndefined()
  })

  it("refuses another session's valid token with 403: the token is bound to the session", async () => {
    const { server, sessions } = await start()
    const attacker = new CookieJar()
    const attackersToken = await tokenFrom(attacker, server.url('/'))

    const victim = new CookieJar()
    await tokenFrom(victim, server.url('/'))
    expect((await post(victim, server.url('/email'), { csrf: attackersToken, email: 'mallory@example.com' })).status).toBe(403)
    expect(sessions.read(victim.header()).get('email')).toBeUndefined()

    // A browser with no session at all (the form never loaded) is refused as well.
    expect((await post(new CookieJar(), server.url('/email'), { csrf: attackersToken, email: 'mallory@example.com' })).status).toBe(403)
  })

  it('refuses a token signed for another purpose over the same value with 403', async () => {
    const { server, sessions } = await start()
    const jar = new CookieJar()
    await tokenFrom(jar, server.url('/'))
    const value = sessions.read(jar.header()).get('csrf') as string
    const reset = createSigner({ secrets, purpose: 'password-reset' }).sign(value)
    expect((await post(jar, server.url('/email'), { csrf: reset, email: 'mallory@example.com' })).status).toBe(403)
    // The same value signed for 'csrf' passes: only the purpose differed.
    const csrf = createSigner({ secrets, purpose: 'csrf' }).sign(value)
    expect((await post(jar, server.url('/email'), { csrf, email: 'ada@example.com' })).status).toBe(303)
  })
})
