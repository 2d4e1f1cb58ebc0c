/**
 * Type tests for the public generics, through the entry points users import (`frasco`,
 * `frasco/node`, `frasco/fetch`, `frasco/cookie`, `frasco/flask`).
 *
 * These run at type-check time: `npm test` runs `tsc -p tsconfig.json --noEmit` over test/, where
 * a wrong `expectTypeOf` or an unused `// @ts-expect-error` is a compile error. At run time
 * `expectTypeOf` does nothing; the `@ts-expect-error` lines sit in functions that are never called.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  createKeyring,
  createSerializer,
  createSessions,
  createSigner,
  isSessionError,
  SessionError,
  type Key,
  type SessionCommit,
  type SessionVerifyResult,
  type Serializer,
  type Session,
  type SessionData,
  type SessionEntry,
  type SessionErrorCode,
  type Sessions,
  type StoredSessions,
  type Signer,
  type VerifyResult,
} from '../src/index.js'
import {
  createCookieWriter,
  stringifySetCookie,
  type CookieAttributes,
  type CookieAttributesFor,
  type CookieOptionsFor,
  type CookieWriter,
  type SetCookieOptions,
} from '../src/cookie/index.js'
import { commitSession, readSession, withSessions as withFetchSessions } from '../src/adapters/fetch.js'
import { commitSession as nodeCommitSession, readSession as readNodeSession, sessionMiddleware, withSessions as withNodeSessions, type SessionRequest } from '../src/adapters/node.js'
import { createFlaskCodec, createItsdangerousSerializer, isTuple, tuple, type FlaskCodec, type ItsdangerousSerializer } from '../src/flask/index.js'

const SECRET = 'types-test-secret-0123456789-abcdefghijklmnop'

interface App {
  username: string
  visits: number
  cart?: { items: string[] }
}

/** Type-checked, never run: holds the lines that must not compile. */
function compileOnly(body: () => void): void {
  expect(typeof body).toBe('function')
}

describe('createSessions<T>()', () => {
  const sessions = createSessions<App>({ secrets: SECRET })

  it('carries T from the manager to every session it reads', () => {
    expectTypeOf(sessions).toEqualTypeOf<Sessions<App>>()
    expectTypeOf(sessions.read(null)).toEqualTypeOf<Session<App>>()
    expectTypeOf(sessions.read).parameter(0).toEqualTypeOf<string | null | undefined>()
    expectTypeOf(sessions.commit).returns.toEqualTypeOf<SessionCommit>()
    expectTypeOf(sessions.commit(sessions.read(null)).setCookie).toEqualTypeOf<string[]>()
    expectTypeOf(sessions.commit(sessions.read(null)).vary).toEqualTypeOf<string | undefined>()
    expectTypeOf(sessions.sign).parameter(0).toEqualTypeOf<Partial<App>>()
    expectTypeOf(sessions.verify('x')).toEqualTypeOf<SessionVerifyResult<Partial<App>>>()
    const verifiedSession = sessions.verify('x')
    if (verifiedSession.ok) expectTypeOf(verifiedSession.persistent).toEqualTypeOf<boolean>()
    expectTypeOf(sessions.invalidReason).returns.toEqualTypeOf<SessionError | undefined>()
  })

  it('defaults to untyped SessionData', () => {
    const untyped = createSessions({ secrets: SECRET })
    expectTypeOf(untyped).toEqualTypeOf<Sessions<SessionData>>()
    expectTypeOf(untyped.read(null).get('anything')).toEqualTypeOf<unknown>()
    expectTypeOf(untyped.read(null).anything).toEqualTypeOf<unknown>()
  })

  it('rejects a T that is not an object', () => {
    compileOnly(() => {
      // @ts-expect-error session data is a record of keys
      createSessions<string>({ secrets: SECRET })
    })
  })
})

describe('Session<T>', () => {
  const session = createSessions<App>({ secrets: SECRET }).read(null)

  it('types get, set, pop and the property view from T', () => {
    expectTypeOf(session.get('username')).toEqualTypeOf<string | undefined>()
    expectTypeOf(session.get('cart')).toEqualTypeOf<{ items: string[] } | undefined>()
    expectTypeOf(session.set('visits', 1)).toEqualTypeOf<Session<App>>()
    expectTypeOf(session.pop('visits', 0)).toEqualTypeOf<number>()
    expectTypeOf(session.username).toEqualTypeOf<string | undefined>()
    expectTypeOf(session.visits).toEqualTypeOf<number | undefined>()
    expectTypeOf(session.toJSON()).toEqualTypeOf<Partial<App>>()
    expectTypeOf(session.entries()).toEqualTypeOf<Array<SessionEntry<App>>>()
    expectTypeOf(session.isNew).toEqualTypeOf<boolean>()
  })

  it('narrows entries by key', () => {
    for (const entry of session.entries()) {
      if (entry[0] === 'visits') expectTypeOf(entry[1]).toEqualTypeOf<number>()
      if (entry[0] === 'username') expectTypeOf(entry[1]).toEqualTypeOf<string>()
    }
  })

  it('rejects values of the wrong type and keys outside T', () => {
    compileOnly(() => {
      // @ts-expect-error visits holds a number
      session.set('visits', 'many')
      // @ts-expect-error visits holds a number
      session.visits = '1'
      // @ts-expect-error email is not in App
      session.get('email')
      // @ts-expect-error email is not in App
      session.email = 'ada@example.com'
      // @ts-expect-error the flags are read-only
      session.isNew = false
    })
  })
})

describe('adapters keep T', () => {
  const sessions = createSessions<App>({ secrets: SECRET })

  it('frasco/fetch', () => {
    const handler = withFetchSessions(sessions, (_request, session) => {
      expectTypeOf(session).toEqualTypeOf<Session<App>>()
      return new Response('ok')
    })
    expectTypeOf(handler).toEqualTypeOf<(request: Request) => Promise<Response>>()
    expectTypeOf(readSession(sessions, new Request('http://app.test/'))).toEqualTypeOf<Session<App>>()
    const request = new Request('http://app.test/')
    expectTypeOf(commitSession(sessions, request, new Response(), sessions.read(null))).toEqualTypeOf<Response>()
    expectTypeOf(commitSession(sessions, request, new Headers(), sessions.read(null))).toEqualTypeOf<Headers>()
    compileOnly(() => {
      withFetchSessions(sessions, (_request, session) => {
        // @ts-expect-error visits holds a number
        session.set('visits', 'many')
        return new Response()
      })
    })
  })

  it('frasco/node', () => {
    const listener = withNodeSessions(sessions, (req, res) => {
      expectTypeOf(req).toEqualTypeOf<SessionRequest<App>>()
      expectTypeOf(req.session.get('visits')).toEqualTypeOf<number | undefined>()
      res.end()
    })
    expectTypeOf(listener).toEqualTypeOf<(req: IncomingMessage, res: ServerResponse) => void>()
    compileOnly(() => {
      withNodeSessions(sessions, (req) => {
        // cookie-session's idiom ends the session; the types allow it.
        req.session = null
        req.session = undefined
        // @ts-expect-error req.session cannot be replaced by another value
        req.session = { visits: 1 }
        expectTypeOf(req.flash('error')).toEqualTypeOf<string[]>()
        expectTypeOf(req.flash('info', 'Saved.')).toEqualTypeOf<number>()
        expectTypeOf(req.flash('info', '%d saved', 3)).toEqualTypeOf<number>()
        expectTypeOf(req.flash()).toEqualTypeOf<Record<string, string[]>>()
        // A SessionRequest still passes where an IncomingMessage is expected.
        expectTypeOf(readNodeSession(sessions, req)).toEqualTypeOf<Session<App>>()
      })
    })
    expectTypeOf(sessionMiddleware(sessions)).parameters.toEqualTypeOf<[IncomingMessage, ServerResponse, (error?: unknown) => void]>()
  })
})

describe('cookie name prefixes (RFC 6265bis §4.1.3) in the types', () => {
  it('narrows the options of __Host- and __Secure- names', () => {
    expectTypeOf<CookieOptionsFor<'__Host-id'>['secure']>().toEqualTypeOf<true>()
    expectTypeOf<CookieOptionsFor<'__Host-id'>['path']>().toEqualTypeOf<'/' | undefined>()
    expectTypeOf<CookieOptionsFor<'__Host-id'>['domain']>().toEqualTypeOf<undefined>()
    expectTypeOf<CookieOptionsFor<'__Secure-id'>['secure']>().toEqualTypeOf<true>()
    expectTypeOf<CookieOptionsFor<'session'>>().toEqualTypeOf<SetCookieOptions>()
    expectTypeOf<CookieAttributesFor<'session'>>().toEqualTypeOf<CookieAttributes>()
    expectTypeOf<CookieAttributesFor<'__Host-id'>['secure']>().toEqualTypeOf<true>()
  })

  it('accepts what the prefix requires', () => {
    expectTypeOf(createCookieWriter('__Host-x', { secure: true, path: '/', httpOnly: true })).toEqualTypeOf<CookieWriter>()
    expectTypeOf(createCookieWriter('__Secure-x', { secure: true, domain: 'example.com' })).toEqualTypeOf<CookieWriter>()
    expectTypeOf(createCookieWriter('x')).toEqualTypeOf<CookieWriter>()
    expectTypeOf(stringifySetCookie('__Host-x', 'v', { secure: true, maxAge: 60 })).toEqualTypeOf<string>()
    expectTypeOf(stringifySetCookie('x', 'v')).toEqualTypeOf<string>()
    // A name only known as string gets the plain options; the rules are then checked at run time.
    const name: string = 'sid'
    expectTypeOf(stringifySetCookie(name, 'v', { secure: false })).toEqualTypeOf<string>()
    expectTypeOf(stringifySetCookie<string>).parameter(2).toEqualTypeOf<SetCookieOptions | undefined>()
  })

  it('rejects what the prefix forbids', () => {
    compileOnly(() => {
      // @ts-expect-error a __Host- writer needs its options
      createCookieWriter('__Host-x')
      // @ts-expect-error __Host- needs secure: true
      createCookieWriter('__Host-x', { secure: false })
      // @ts-expect-error __Host- forbids a domain
      createCookieWriter('__Host-x', { secure: true, domain: 'example.com' })
      // @ts-expect-error __Host- needs path /
      createCookieWriter('__Host-x', { secure: true, path: '/admin' })
      // @ts-expect-error prefixes match case-insensitively, as browsers do
      createCookieWriter('__HOST-x', { httpOnly: true })
      // @ts-expect-error __Secure- needs secure: true
      stringifySetCookie('__Secure-x', 'v', { httpOnly: true })
      // @ts-expect-error __Host- needs secure: true
      stringifySetCookie('__Host-x', 'v', {})
      // @ts-expect-error a writer caches attributes only, no lifetime
      createCookieWriter('x', { maxAge: 60 })
    })
  })
})

describe('VerifyResult<T>', () => {
  it('narrows on ok', () => {
    const result = createSigner({ secrets: SECRET, purpose: 'p' }).verify('token')
    expectTypeOf(result).toEqualTypeOf<VerifyResult<string>>()
    if (result.ok) {
      expectTypeOf(result.value).toEqualTypeOf<string>()
      expectTypeOf(result.issuedAt).toEqualTypeOf<Date | undefined>()
      expectTypeOf(result.expiresAt).toEqualTypeOf<Date | undefined>()
      expectTypeOf(result.keyId).toEqualTypeOf<string | undefined>()
      expectTypeOf(result.stale).toEqualTypeOf<boolean>()
      expectTypeOf(result).not.toHaveProperty('error')
    } else {
      expectTypeOf(result.error).toEqualTypeOf<SessionError>()
      expectTypeOf(result.error.code).toEqualTypeOf<SessionErrorCode>()
      expectTypeOf(result).not.toHaveProperty('value')
    }
    compileOnly(() => {
      // @ts-expect-error value exists only once ok is known to be true
      result.value.toUpperCase()
    })
  })

  it('isSessionError narrows unknown errors', () => {
    const error: unknown = new Error('x')
    if (isSessionError(error, 'ERR_SESSION_EXPIRED')) expectTypeOf(error).toEqualTypeOf<SessionError>()
    compileOnly(() => {
      // @ts-expect-error not a code Frasco has
      isSessionError(error, 'ERR_SESSION_NOPE')
    })
  })
})

describe('Signer and Serializer<T>', () => {
  it('the signer picks its result type from the encoding', () => {
    const signer = createSigner({ secrets: SECRET, purpose: 'p' })
    expectTypeOf(signer).toEqualTypeOf<Signer>()
    const token = signer.sign('user:42')
    expectTypeOf(signer.verify(token, { encoding: 'bytes' })).toEqualTypeOf<VerifyResult<Uint8Array>>()
    expectTypeOf(signer.unsign(token)).toEqualTypeOf<string>()
    expectTypeOf(signer.unsign(token, { encoding: 'bytes' })).toEqualTypeOf<Uint8Array>()
    compileOnly(() => {
      // @ts-expect-error the signer signs strings and bytes; createSerializer signs objects
      signer.sign({ user: 42 })
    })
  })

  it('the serializer is typed by T, unknown by default', () => {
    const invites = createSerializer<{ team: string }>({ secrets: SECRET, purpose: 'invite' })
    expectTypeOf(invites).toEqualTypeOf<Serializer<{ team: string }>>()
    expectTypeOf(invites.sign).parameter(0).toEqualTypeOf<{ team: string }>()
    const token = invites.sign({ team: 'core' })
    expectTypeOf(invites.unsign(token)).toEqualTypeOf<{ team: string }>()
    expectTypeOf(invites.verify(token)).toEqualTypeOf<VerifyResult<{ team: string }>>()
    expectTypeOf(createSerializer({ secrets: SECRET, purpose: 'p' })).toEqualTypeOf<Serializer<unknown>>()
    compileOnly(() => {
      // @ts-expect-error team is a string
      invites.sign({ team: 42 })
      // @ts-expect-error team is required
      invites.sign({})
    })
  })
})

describe('frasco/flask', () => {
  it('types the codec, tuples and itsdangerous serializers', () => {
    const codec = createFlaskCodec({ secrets: 'flask-secret' })
    expectTypeOf(codec).toEqualTypeOf<FlaskCodec>()
    expectTypeOf(codec.verify('x')).toEqualTypeOf<VerifyResult<Record<string, unknown>>>()
    expectTypeOf(codec.unsign).returns.toEqualTypeOf<Record<string, unknown>>()
    expectTypeOf(tuple('message', 1)).toEqualTypeOf<[string, number]>()
    const value: unknown = []
    if (isTuple(value)) expectTypeOf(value).toEqualTypeOf<unknown[]>()
    const its = createItsdangerousSerializer<{ id: number }>({ secrets: 'its-secret' })
    expectTypeOf(its).toEqualTypeOf<ItsdangerousSerializer<{ id: number }>>()
    compileOnly(() => {
      // @ts-expect-error a Flask session is an object
      codec.sign('session')
    })
  })
})

describe('the 1.0 vocabulary in the types', () => {
  it('session.persistent is the one assignable member', () => {
    const session = createSessions<App>({ secrets: SECRET }).read(null)
    expectTypeOf(session.persistent).toEqualTypeOf<boolean>()
    session.persistent = true
    compileOnly(() => {
      // @ts-expect-error the other flags are read-only
      session.isNew = true
      // @ts-expect-error persistent is a boolean
      session.persistent = 'yes'
    })
  })

  it('refuses the names of 0.1 and of other libraries', () => {
    compileOnly(() => {
      // @ts-expect-error maxAge became lifetime (+ persistent)
      createSessions({ secrets: SECRET, maxAge: 3600 })
      // @ts-expect-error now became clock
      createSessions({ secrets: SECRET, now: () => 0 })
      // @ts-expect-error format is a format object
      createSessions({ secrets: SECRET, format: 'flask' })
      // @ts-expect-error express-session's secret
      createSessions({ secret: SECRET })
      // @ts-expect-error the cookie's Max-Age derives from lifetime
      createSessions({ secrets: SECRET, cookie: { maxAge: 3600 } })
      // @ts-expect-error sessions.sign takes expiresIn
      createSessions({ secrets: SECRET }).sign({}, { maxAge: 60 })
    })
  })

  it('gives no way to read a secret back from a keyring', () => {
    const key = createKeyring(SECRET).current
    expectTypeOf(key).toEqualTypeOf<Key>()
    expectTypeOf<keyof Key>().toEqualTypeOf<'id' | 'index'>()
  })

  it('gives both adapters one commitSession shape: (sessions, request, response, session, options)', () => {
    expectTypeOf(nodeCommitSession<App>).parameter(0).toEqualTypeOf<Sessions<App> | StoredSessions<App>>()
    expectTypeOf(nodeCommitSession<App>).parameter(1).toEqualTypeOf<IncomingMessage>()
    expectTypeOf(nodeCommitSession<App>).parameter(2).toEqualTypeOf<ServerResponse>()
    expectTypeOf(nodeCommitSession<App>).parameter(3).toEqualTypeOf<Session<App>>()
    expectTypeOf(commitSession<App, Response>).parameter(0).toEqualTypeOf<Sessions<App> | StoredSessions<App>>()
    expectTypeOf(commitSession<App, Response>).parameter(1).toEqualTypeOf<Request>()
    expectTypeOf(commitSession<App, Response>).parameter(2).toEqualTypeOf<Response>()
    expectTypeOf(commitSession<App, Response>).parameter(3).toEqualTypeOf<Session<App>>()
  })
})
