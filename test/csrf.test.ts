/**
 * CSRF protection, the pure part: `checkCsrf`'s rules over tables of (method, headers, token),
 * Frasco's token scheme (round trip, masking, a tamper matrix, hostile tokens), and the checks of
 * `CsrfOptions`. test/adapters/csrf.test.ts runs the same rules over real sockets.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { FRASCO_CSRF, checkCsrf, csrfToken, type CsrfOptions, type CsrfRequest, type CsrfTokenScheme } from '../src/csrf.js'
import { CsrfRefused, SessionError, isSessionError, type SessionErrorCode } from '../src/errors.js'
import { createSession, getSessionState, openLazySession, type Session } from '../src/session.js'

const APP = 'https://app.example'

function request(method: string, headers: Record<string, string> = {}, token?: string): CsrfRequest {
  return { method, origin: APP, header: (name) => headers[name], token }
}

/** A session holding a secret, and one of its tokens. */
function withToken(): { session: Session; token: string } {
  const session = createSession()
  return { session, token: csrfToken(session) }
}

type Code = SessionErrorCode | 'allowed'

/** checkCsrf's answer as its code, or 'allowed'. */
function verdict(req: CsrfRequest, session: Session = createSession(), options?: CsrfOptions): Code {
  const refused = checkCsrf(req, session, options)
  if (refused === undefined) return 'allowed'
  expect(refused).toBeInstanceOf(CsrfRefused)
  return refused.code
}

describe('checkCsrf: safe methods', () => {
  it.each(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'get', 'Head', 'options', 'trace'])('%s is never refused, whatever the headers say', (method) => {
    expect(verdict(request(method, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }))).toBe('allowed')
    expect(verdict(request(method, { origin: 'null' }))).toBe('allowed')
    expect(verdict(request(method))).toBe('allowed')
  })

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'post', 'PROPFIND', 'CONNECT'])('%s is checked', (method) => {
    expect(verdict(request(method, { 'sec-fetch-site': 'cross-site' }))).toBe('ERR_SESSION_CSRF_CROSS_SITE')
    expect(verdict(request(method))).toBe('ERR_SESSION_CSRF_TOKEN_MISSING')
  })
})

describe('checkCsrf: browser headers', () => {
  const admin = 'https://admin.example'
  const options: CsrfOptions = { origins: [admin] }

  // [what, headers, options, expected]
  it.each<[string, Record<string, string>, CsrfOptions | undefined, Code]>([
    ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }, undefined, 'allowed'],
    ['Sec-Fetch-Site: none (typed URL, bookmark)', { 'sec-fetch-site': 'none' }, undefined, 'allowed'],
    ['Sec-Fetch-Site: same-origin with a foreign Origin (Sec-Fetch-Site decides)', { 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' }, undefined, 'allowed'],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site', origin: 'https://blog.app.example' }, undefined, 'ERR_SESSION_CSRF_CROSS_SITE'],
    ['Sec-Fetch-Site: same-site with sameSite: true', { 'sec-fetch-site': 'same-site' }, { sameSite: true }, 'allowed'],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, undefined, 'ERR_SESSION_CSRF_CROSS_SITE'],
    ['Sec-Fetch-Site: cross-site with sameSite: true', { 'sec-fetch-site': 'cross-site' }, { sameSite: true }, 'ERR_SESSION_CSRF_CROSS_SITE'],
    ['Sec-Fetch-Site: cross-site with the app Origin', { 'sec-fetch-site': 'cross-site', origin: APP }, undefined, 'ERR_SESSION_CSRF_CROSS_SITE'],
    ['Sec-Fetch-Site: an unknown value', { 'sec-fetch-site': 'same-origin, cross-site' }, undefined, 'ERR_SESSION_CSRF_CROSS_SITE'],
    ['Sec-Fetch-Site in upper case (browsers send lower case)', { 'sec-fetch-site': 'SAME-ORIGIN' }, undefined, 'ERR_SESSION_CSRF_CROSS_SITE'],
    ['Sec-Fetch-Site: cross-site from a listed origin', { 'sec-fetch-site': 'cross-site', origin: admin }, options, 'allowed'],
    ['Sec-Fetch-Site: same-site from a listed origin', { 'sec-fetch-site': 'same-site', origin: admin }, options, 'allowed'],
    ['Sec-Fetch-Site: same-site, with options that leave sameSite out', { 'sec-fetch-site': 'same-site', origin: 'https://blog.app.example' }, options, 'ERR_SESSION_CSRF_CROSS_SITE'],
    ['Sec-Fetch-Site: cross-site from an unlisted origin', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, options, 'ERR_SESSION_CSRF_CROSS_SITE'],
    ['Origin only, the app', { origin: APP }, undefined, 'allowed'],
    ['Origin only, a listed origin', { origin: admin }, options, 'allowed'],
    ['Origin only, another site', { origin: 'https://evil.example' }, undefined, 'ERR_SESSION_CSRF_ORIGIN'],
    ['Origin only, null', { origin: 'null' }, undefined, 'ERR_SESSION_CSRF_ORIGIN'],
    ['Origin only, the app over http (the scheme counts)', { origin: 'http://app.example' }, undefined, 'ERR_SESSION_CSRF_ORIGIN'],
    ['Origin only, the app on another port', { origin: 'https://app.example:8443' }, undefined, 'ERR_SESSION_CSRF_ORIGIN'],
    ['Origin only, a sibling subdomain', { origin: 'https://blog.app.example' }, undefined, 'ERR_SESSION_CSRF_ORIGIN'],
    ['Origin only, the app with a trailing slash', { origin: `${APP}/` }, undefined, 'ERR_SESSION_CSRF_ORIGIN'],
    ['Origin only, a listed origin is matched exactly', { origin: 'https://ADMIN.example' }, options, 'ERR_SESSION_CSRF_ORIGIN'],
    ['empty headers count as absent', { 'sec-fetch-site': '', origin: '' }, undefined, 'ERR_SESSION_CSRF_TOKEN_MISSING'],
  ])('%s', (_, headers, given, expected) => {
    expect(verdict(request('POST', headers), createSession(), given)).toBe(expected)
  })

  it('headers answered null (Headers.get without ?? undefined) count as absent too', () => {
    const nulls: CsrfRequest = { method: 'POST', origin: APP, header: () => null as never, token: undefined }
    expect(verdict(nulls, createSession())).toBe('ERR_SESSION_CSRF_TOKEN_MISSING')
  })

  it('a browser-header verdict ignores the token either way', () => {
    const { session, token } = withToken()
    expect(verdict(request('POST', { 'sec-fetch-site': 'cross-site' }, token), session)).toBe('ERR_SESSION_CSRF_CROSS_SITE')
    expect(verdict(request('POST', { 'sec-fetch-site': 'same-origin' }, 'garbage'), session)).toBe('allowed')
  })

  it('leaves the session untouched when the headers decide', () => {
    const session = createSession()
    checkCsrf(request('POST', { 'sec-fetch-site': 'cross-site' }), session)
    checkCsrf(request('POST', { origin: APP }), session)
    expect(getSessionState(session)).toMatchObject({ modified: false, accessed: false })
  })
})

describe('checkCsrf: the token, without browser headers', () => {
  it('allows a valid token of the session', () => {
    const { session, token } = withToken()
    expect(verdict(request('POST', {}, token), session)).toBe('allowed')
    expect(verdict(request('DELETE', {}, token), session)).toBe('allowed')
  })

  it.each<[string, string | undefined]>([
    ['no token', undefined],
    ['an empty token', ''],
  ])('refuses %s as missing', (_, token) => {
    const { session } = withToken()
    expect(verdict(request('POST', {}, token), session)).toBe('ERR_SESSION_CSRF_TOKEN_MISSING')
  })

  it.each<[string, (token: string) => string]>([
    ['a tampered token', (token) => `${token.slice(0, -2)}${token.endsWith('AA') ? 'BA' : 'AA'}`],
    ['a truncated token', (token) => token.slice(0, -1)],
    ['garbage', () => 'not a token'],
    ['a token of another session', () => withToken().token],
  ])('refuses %s as invalid', (_, make) => {
    const { session, token } = withToken()
    expect(verdict(request('POST', {}, make(token)), session)).toBe('ERR_SESSION_CSRF_TOKEN_INVALID')
  })

  it('refuses any token when the session has no secret', () => {
    const { token } = withToken()
    expect(verdict(request('POST', {}, token), createSession())).toBe('ERR_SESSION_CSRF_TOKEN_INVALID')
  })

  it('uses the token scheme of the options', () => {
    const calls: string[] = []
    const scheme: CsrfTokenScheme = {
      issue: () => 'issued',
      verify: (_session, token) => (calls.push(token), token === 'good'),
    }
    expect(verdict(request('POST', {}, 'good'), createSession(), { token: scheme })).toBe('allowed')
    expect(verdict(request('POST', {}, 'bad'), createSession(), { token: scheme })).toBe('ERR_SESSION_CSRF_TOKEN_INVALID')
    expect(calls).toEqual(['good', 'bad'])
    expect(csrfToken(createSession(), { token: scheme })).toBe('issued')
  })
})

describe('CsrfRefused', () => {
  it.each<[Code, CsrfRequest]>([
    ['ERR_SESSION_CSRF_CROSS_SITE', request('POST', { 'sec-fetch-site': 'cross-site' })],
    ['ERR_SESSION_CSRF_ORIGIN', request('POST', { origin: 'https://evil.example' })],
    ['ERR_SESSION_CSRF_TOKEN_MISSING', request('POST')],
    ['ERR_SESSION_CSRF_TOKEN_INVALID', request('POST', {}, 'x'.repeat(86))],
  ])('%s is a SessionError with a reason for logs', (code, req) => {
    const refused = checkCsrf(req, createSession())
    expect(refused).toBeInstanceOf(SessionError)
    expect(isSessionError(refused, code as SessionErrorCode)).toBe(true)
    expect(refused?.name).toBe('CsrfRefused')
    expect(refused?.reason.length).toBeGreaterThan(10)
    expect(refused?.message).toContain(refused?.reason)
  })

  it('never puts the token in its message', () => {
    const { session, token } = withToken()
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'Q' : 'A'}`
    const refused = checkCsrf(request('POST', {}, forged), session)
    expect(refused?.code).toBe('ERR_SESSION_CSRF_TOKEN_INVALID')
    expect(refused?.message).not.toContain(forged)
    expect(refused?.message).not.toContain(token.slice(0, 20))
  })

  it('quotes a hostile Origin (one line, cut short)', () => {
    const origin = `https://evil.example/${'a'.repeat(300)}\n`
    const refused = checkCsrf(request('POST', { origin }), createSession())
    expect(refused?.code).toBe('ERR_SESSION_CSRF_ORIGIN')
    expect(refused?.message).not.toContain('\n')
    expect(refused?.message.length).toBeLessThan(300)
  })

  const long = `https://${'a'.repeat(92)}.example`
  it.each<[string, Record<string, string>, string]>([
    ['cross-site', { 'sec-fetch-site': 'cross-site' }, 'Sec-Fetch-Site is cross-site'],
    ['an unknown Sec-Fetch-Site', { 'sec-fetch-site': 'cross-origin' }, 'Sec-Fetch-Site is not a value browsers send'],
    ['a sibling subdomain', { 'sec-fetch-site': 'same-site' }, 'Sec-Fetch-Site is same-site (a sibling subdomain) and the sameSite option is off'],
    ['Origin null', { origin: 'null' }, 'Origin is null (a sandboxed frame, a data: URL or a privacy redirect)'],
    ['another Origin', { origin: 'https://evil.example' }, 'Origin "https://evil.example" is not this app\'s origin nor one of the origins option'],
    ['an Origin of 100 characters, whole', { origin: long.slice(0, 100) }, `Origin "${long.slice(0, 100)}" is not this app's origin nor one of the origins option`],
    ['an Origin of 101 characters, cut', { origin: `${long.slice(0, 100)}x` }, `Origin "${long.slice(0, 100)}…" is not this app's origin nor one of the origins option`],
    ['neither header', {}, 'neither Sec-Fetch-Site nor Origin was sent, and no token in the x-csrf-token header or the _csrf field'],
    // An empty header is no header (as Go's Header.Get reads it): only a token can decide.
    ['empty headers', { origin: '', 'sec-fetch-site': '' }, 'neither Sec-Fetch-Site nor Origin was sent, and no token in the x-csrf-token header or the _csrf field'],
  ])('gives its reason for %s', (_, headers, reason) => {
    expect(checkCsrf(request('POST', headers), createSession())?.reason).toBe(reason)
  })

  it('names the sameSite option when a sibling subdomain is refused', () => {
    expect(checkCsrf(request('POST', { 'sec-fetch-site': 'same-site' }), createSession())?.reason).toContain('sameSite')
  })
})

describe('FRASCO_CSRF: the token scheme', () => {
  it('issues a secret of 32 random bytes under _csrf once, and 86-character tokens', () => {
    const session = createSession()
    const token = FRASCO_CSRF.issue(session)
    const secret = session.get('_csrf')
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(secret as string, 'base64url')).toHaveLength(32)
    expect(token).toMatch(/^[A-Za-z0-9_-]{86}$/)
    expect(getSessionState(session).modified).toBe(true)
    FRASCO_CSRF.issue(session)
    expect(session.get('_csrf')).toBe(secret)
  })

  it('a session that already has its secret is not changed by issue', () => {
    const first = createSession()
    FRASCO_CSRF.issue(first)
    const session = createSession({ data: { _csrf: first.get('_csrf') } })
    FRASCO_CSRF.issue(session)
    expect(getSessionState(session).modified).toBe(false)
  })

  it('masks every token: two tokens differ and both verify', () => {
    const session = createSession()
    const tokens = Array.from({ length: 20 }, () => FRASCO_CSRF.issue(session))
    expect(new Set(tokens).size).toBe(20)
    for (const token of tokens) expect(FRASCO_CSRF.verify(session, token)).toBe(true)
  })

  it('is pad ‖ (pad XOR secret)', () => {
    const session = createSession()
    const bytes = Buffer.from(FRASCO_CSRF.issue(session), 'base64url')
    const secret = Buffer.from(session.get('_csrf') as string, 'base64url')
    const unmasked = Buffer.alloc(32)
    for (let i = 0; i < 32; i++) unmasked[i] = (bytes[i] as number) ^ (bytes[32 + i] as number)
    expect(unmasked.equals(secret)).toBe(true)
  })

  it('refuses every single-bit change of every byte (a tamper matrix)', () => {
    const { session, token } = withToken()
    const bytes = Buffer.from(token, 'base64url')
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Buffer.from(bytes)
        tampered[i] = (tampered[i] as number) ^ (1 << bit)
        expect(FRASCO_CSRF.verify(session, tampered.toString('base64url'))).toBe(false)
      }
    }
  })

  it('refuses every truncation and extension', () => {
    const { session, token } = withToken()
    for (let length = 0; length < token.length; length++) expect(FRASCO_CSRF.verify(session, token.slice(0, length))).toBe(false)
    expect(FRASCO_CSRF.verify(session, `${token}A`)).toBe(false)
    expect(FRASCO_CSRF.verify(session, `${token}=`)).toBe(false)
  })

  it('refuses a non-canonical spelling of a valid token', () => {
    const { session, token } = withToken()
    // The last character of 64 bytes carries 2 bits of data: changing the 4 unused ones keeps the bytes.
    const last = token.at(-1) as string
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const twin = alphabet[alphabet.indexOf(last) ^ 1] as string
    expect(Buffer.from(token.slice(0, -1) + twin, 'base64url').equals(Buffer.from(token, 'base64url'))).toBe(true)
    expect(FRASCO_CSRF.verify(session, token.slice(0, -1) + twin)).toBe(false)
  })

  it('refuses a token of another session, and any token for a session without a secret', () => {
    const { token } = withToken()
    const other = withToken().session
    expect(FRASCO_CSRF.verify(other, token)).toBe(false)
    expect(FRASCO_CSRF.verify(createSession(), token)).toBe(false)
  })

  it.each<[string, unknown]>([
    ['a number', 42],
    ['too short', 'abc'],
    ['43 characters, wrong alphabet', '!'.repeat(43)],
    ['bytes of the wrong length', Buffer.alloc(31).toString('base64url')],
    ['an object', { toString: () => 'x' }],
  ])('ignores a secret that is %s (refuses tokens, issues a new secret)', (_, value) => {
    const session = createSession({ data: { _csrf: value } })
    expect(FRASCO_CSRF.verify(session, 'A'.repeat(86))).toBe(false)
    const token = FRASCO_CSRF.issue(session)
    expect(session.get('_csrf')).not.toEqual(value)
    expect(FRASCO_CSRF.verify(session, token)).toBe(true)
  })

  it('a secret of all zero bytes makes pad ‖ pad tokens; nothing special is accepted', () => {
    const session = createSession({ data: { _csrf: Buffer.alloc(32).toString('base64url') } })
    expect(FRASCO_CSRF.verify(session, Buffer.alloc(64).toString('base64url'))).toBe(true)
    expect(FRASCO_CSRF.verify(createSession({ data: { _csrf: randomBytes(32).toString('base64url') } }), Buffer.alloc(64).toString('base64url'))).toBe(false)
  })

  it('regenerate() and clear() drop the secret: old tokens fail, new ones differ', () => {
    for (const reset of [(s: Session) => s.regenerate(), (s: Session) => s.clear()]) {
      const { session, token } = withToken()
      const secret = session.get('_csrf')
      reset(session)
      expect(FRASCO_CSRF.verify(session, token)).toBe(false)
      const fresh = FRASCO_CSRF.issue(session)
      expect(session.get('_csrf')).not.toBe(secret)
      expect(FRASCO_CSRF.verify(session, fresh)).toBe(true)
      expect(FRASCO_CSRF.verify(session, token)).toBe(false)
    }
  })

  it('verifies against a copy of the session (tokens need no key, so rotation keeps them)', () => {
    const { session, token } = withToken()
    const copy = createSession({ data: { ...getSessionState(session).data } })
    expect(FRASCO_CSRF.verify(copy, token)).toBe(true)
  })

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a number', 86],
    ['an object', {}],
    ['an empty string', ''],
    ['a huge string', 'A'.repeat(10_000_000)],
    ['86 spaces', ' '.repeat(86)],
    ['86 non-ASCII characters', 'é'.repeat(86)],
    ['86 characters with a lone surrogate', `${'A'.repeat(85)}\uD800`],
    ['padding', `${'A'.repeat(84)}==`],
  ])('returns false, never throws, for %s', (_, token) => {
    const { session } = withToken()
    expect(FRASCO_CSRF.verify(session, token as string)).toBe(false)
  })

  it('random strings never verify nor throw (property)', () => {
    const { session } = withToken()
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.base64String({ minLength: 80, maxLength: 92 }), fc.stringMatching(/^[A-Za-z0-9_-]{86}$/)), (token) => {
        expect(FRASCO_CSRF.verify(session, token)).toBe(false)
      }),
    )
  })

  it('verify never throws for a session that cannot be read any more', () => {
    const { session, token } = withToken()
    session.destroy()
    expect(FRASCO_CSRF.verify(session, token)).toBe(false)
  })

  // A lazy session (the adapters' store mode) whose read fails throws on every use; its tokens,
  // even one that would match, are refused, never accepted and never a throw out of verify.
  it('verify refuses, never throws, when the session cannot be read at all', () => {
    const { session, token } = withToken()
    let fail = true
    const lazy = openLazySession({
      openSession: () => {
        if (fail) throw new Error('the store did not load this session')
        return session as Session<Record<string, unknown>>
      },
    })
    expect(() => lazy.get('_csrf')).toThrow('the store did not load this session')
    expect(FRASCO_CSRF.verify(lazy, token)).toBe(false)
    expect(verdict(request('POST', {}, token), lazy)).toBe('ERR_SESSION_CSRF_TOKEN_INVALID')
    fail = false
    expect(FRASCO_CSRF.verify(lazy, token)).toBe(true)
  })

  it('is frozen', () => {
    expect(Object.isFrozen(FRASCO_CSRF)).toBe(true)
  })
})

describe('csrfToken', () => {
  it('takes a session of any data type', () => {
    const session = createSession<{ user: string; visits: number }>()
    const token: string = csrfToken(session)
    expectTypeOf(checkCsrf).parameter(1).toEqualTypeOf<Session<any>>()
    expect(checkCsrf(request('POST', {}, token), session)).toBeUndefined()
  })

  it('issues with the default scheme', () => {
    const session = createSession()
    const token = csrfToken(session)
    expect(FRASCO_CSRF.verify(session, token)).toBe(true)
    expect(verdict(request('POST', {}, token), session)).toBe('allowed')
  })

  it('throws a TypeError on a destroyed session (nothing can be stored in it)', () => {
    const session = createSession()
    session.destroy()
    expect(() => csrfToken(session)).toThrow(TypeError)
  })
})

describe('CsrfOptions are strict', () => {
  const call = (options: unknown) => () => checkCsrf(request('POST'), createSession(), options as CsrfOptions)

  it.each<[string, unknown, RegExp]>([
    ['an unknown key', { origin: ['https://a.example'] }, /^option origin is unknown: did you mean `origins`\? \(a list\)$/],
    ['a typo', { sameSit: true }, /^option sameSit is unknown: did you mean `sameSite`\?$/],
    ["csurf's cookie", { cookie: true }, /^option cookie is unknown: Frasco keeps the CSRF secret in the session/],
    ["csurf's ignoreMethods", { ignoreMethods: ['GET'] }, /^option ignoreMethods is unknown: GET, HEAD, OPTIONS and TRACE are never checked/],
    ["Django's trustedOrigins", { trustedOrigins: [] }, /^option trustedOrigins is unknown: did you mean `origins`\?$/],
    ["csurf's value(req)", { value: () => '' }, /^option value is unknown: csurf's `value\(req\)`: name where the token comes from with `field` \(form\) or `header`$/],
    ["csurf's sessionKey", { sessionKey: 'csrf' }, /^option sessionKey is unknown: the secret lives under the session key '_csrf'; give a `token` scheme to make tokens another way$/],
    ['allowedOrigins', { allowedOrigins: [] }, /^option allowedOrigins is unknown: did you mean `origins`\?$/],
    ['headerName', { headerName: 'x-token' }, /^option headerName is unknown: did you mean `header`\?$/],
    ['fieldName', { fieldName: 'token' }, /^option fieldName is unknown: did you mean `field`\?$/],
    ['sameOrigin', { sameOrigin: true }, /^option sameOrigin is unknown: same-origin requests are always allowed; `sameSite: true` also allows sibling subdomains$/],
    ['an unrelated key', { zzz: 1 }, /^option zzz is unknown: the options are `origins`, `sameSite`, `field`, `header`, `token`$/],
    ['origins not a list', { origins: 'https://a.example' }, /^option origins is invalid: give a list of origins/],
    ['an origin with a path', { origins: ['https://a.example/admin'] }, /^option origins is invalid: "https:\/\/a.example\/admin" is not an origin; .*did you mean 'https:\/\/a.example'\?$/],
    ['an origin with a trailing slash', { origins: ['https://a.example/'] }, /did you mean 'https:\/\/a.example'\?$/],
    ['an origin in upper case', { origins: ['https://A.example'] }, /did you mean 'https:\/\/a.example'\?$/],
    ['an origin with its default port', { origins: ['https://a.example:443'] }, /did you mean 'https:\/\/a.example'\?$/],
    ['a bare host', { origins: ['a.example'] }, /^option origins is invalid: "a.example" is not an origin; write each as browsers send Origin/],
    ['a wildcard', { origins: ['*'] }, /^option origins is invalid: "\*" is not an origin/],
    ['null', { origins: ['null'] }, /^option origins is invalid: "null" is not an origin/],
    ['a non-http scheme', { origins: ['file:///tmp'] }, /^option origins is invalid: "file:\/\/\/tmp" is not an origin/],
    ['a number', { origins: [443] }, /^option origins is invalid: a number is not an origin/],
    ['undefined in the list', { origins: [undefined] }, /^option origins is invalid: a undefined is not an origin/],
    ['null in the list', { origins: [null] }, /^option origins is invalid: a null is not an origin/],
    // No suggestion when nothing like an origin can be made of the entry (an opaque origin is none).
    ['a bare host, with no suggestion', { origins: ['a.example'] }, /^option origins is invalid: "a\.example" is not an origin; write each as browsers send Origin, scheme:\/\/host\[:port\] with no path or trailing slash, e\.g\. 'https:\/\/admin\.example\.com'$/],
    ['a file: URL, with no suggestion', { origins: ['file:///tmp'] }, /^option origins is invalid: "file:\/\/\/tmp" is not an origin; .*e\.g\. 'https:\/\/admin\.example\.com'$/],
    ['a data: URL, with no suggestion', { origins: ['data:text/plain,x'] }, /^option origins is invalid: "data:text\/plain,x" is not an origin; .*e\.g\. 'https:\/\/admin\.example\.com'$/],
    ['sameSite not a boolean', { sameSite: 'lax' }, /^option sameSite is invalid: give true or false$/],
    ['an empty field', { field: '' }, /^option field is invalid: give the name of the form field/],
    ['a field that is not a string', { field: 42 }, /^option field is invalid: give the name of the form field that carries the token, e\.g\. '_csrf'$/],
    ['a header that is not a string', { header: 42 }, /^option header is invalid: give a header name, e\.g\. 'x-csrf-token'$/],
    ['a null token scheme', { token: null }, /^option token is invalid: give a CsrfTokenScheme/],
    ['a token scheme without issue', { token: { verify: () => false } }, /^option token is invalid: give a CsrfTokenScheme/],
    ['a header with a space', { header: 'x csrf' }, /^option header is invalid: give a header name/],
    ['a token scheme without verify', { token: { issue: () => '' } }, /^option token is invalid: give a CsrfTokenScheme/],
    ['a token scheme that is a string', { token: 'frasco' }, /^option token is invalid: give a CsrfTokenScheme, an object with issue\(session\) and verify\(session, token\)/],
    ['options that are not an object', 'strict', /^options are invalid: checkCsrf takes CSRF options/],
    ['null options', null, /^options are invalid: checkCsrf takes CSRF options, an object such as \{ origins: \['https:\/\/admin\.example\.com'\] \}, or nothing$/],
    ['a list as options', [], /^options are invalid: checkCsrf takes CSRF options/],
  ])('%s is a TypeError naming it', (_, options, message) => {
    expect(call(options)).toThrow(TypeError)
    expect(call(options)).toThrow(message)
  })

  it('accepts valid origins, including ports and IPv6', () => {
    const options = { origins: ['https://admin.example.com', 'http://localhost:5173', 'http://[::1]:8080'] }
    expect(verdict(request('POST', { origin: 'http://localhost:5173' }), createSession(), options)).toBe('allowed')
    expect(verdict(request('POST', { origin: 'http://[::1]:8080', 'sec-fetch-site': 'cross-site' }), createSession(), options)).toBe('allowed')
  })

  it('csrfToken checks its options too', () => {
    expect(() => csrfToken(createSession(), { fild: 'x' } as CsrfOptions)).toThrow(/^option fild is unknown: did you mean `field`\?$/)
    expect(() => csrfToken(createSession(), 'x' as CsrfOptions)).toThrow(/csrfToken takes CSRF options/)
  })

  it.each<[string, unknown]>([
    ['without header()', { method: 'POST' }],
    ['without a method', { header: () => undefined }],
    ['with a method that is not a string', { method: 1, header: () => undefined }],
    ['null', null],
    ['a string', 'POST'],
    ['undefined', undefined],
  ])('refuses a request that is not a CsrfRequest: %s', (_, req) => {
    expect(() => checkCsrf(req as CsrfRequest, createSession())).toThrow(/^request is invalid: checkCsrf takes a CsrfRequest/)
  })

  it('accepts any object with issue and verify as a token scheme', () => {
    const scheme = Object.assign(() => undefined, { issue: () => 'made', verify: () => true })
    expect(csrfToken(createSession(), { token: scheme })).toBe('made')
  })
})
