/**
 * Strict options (issue 11): every options object of every entry point refuses an unknown key
 * with a TypeError that names it, and names the Frasco equivalent of the option names users bring
 * from express-session, cookie-session, iron-session, @fastify/secure-session, Flask and 0.1.
 */
import { describe, expect, it } from 'vitest'
import { commitSession as commitFetch, withSessions as withFetchSessions } from '../src/adapters/fetch.js'
import { commitSession as commitNode, sessionMiddleware, withSessions as withNodeSessions } from '../src/adapters/node.js'
import { createCookieWriter, parseCookie, stringifySetCookie } from '../src/cookie/index.js'
import { createFlaskCodec, createFlaskFormat, createItsdangerousSerializer, createItsdangerousSigner } from '../src/flask/index.js'
import { createKeyring, createSerializer, createSessions, createSigner } from '../src/index.js'

const SECRET = 'options-test-secret-0123456789-abcdefghijklmnop'
const sessions = createSessions({ secrets: SECRET })

/** Runs `call` and returns the TypeError's message. */
function message(call: () => unknown): string {
  try {
    call()
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError)
    return (error as TypeError).message
  }
  throw new Error('expected a TypeError')
}

describe('createSessions refuses what other libraries call their options, naming the equivalent', () => {
  it.each<[key: string, value: unknown, says: RegExp]>([
    ['secret', SECRET, /option secret is unknown: did you mean `secrets`/],
    ['keys', [SECRET], /option keys is unknown: did you mean `secrets`/],
    ['password', SECRET, /option password is unknown: did you mean `secrets`/],
    ['key', SECRET, /option key is unknown: did you mean `secrets`/],
    ['cookieName', 'sid', /option cookieName is unknown: use `cookie: \{ name \}`/],
    ['name', 'sid', /option name is unknown: use `cookie: \{ name \}`/],
    ['cookieOptions', {}, /option cookieOptions is unknown: use `cookie`/],
    ['maxAge', 86_400_000, /option maxAge is unknown: .*`lifetime` seconds \(seconds, not milliseconds\).*`persistent: true`/],
    ['ttl', 3600, /option ttl is unknown: use `lifetime` \(seconds\)/],
    ['expires', new Date(), /option expires is unknown: use `lifetime`/],
    ['browserSessionLifetime', 600, /option browserSessionLifetime is unknown: use `lifetime`/],
    ['resave', false, /option resave is unknown: Frasco has no `resave`: it writes the cookie only when/],
    ['saveUninitialized', false, /option saveUninitialized is unknown: .*an empty session never sets a cookie/],
    ['store', {}, /option store is invalid: give a session store \(createMemoryStore\(\), createRedisStore\(client\) or fromExpressStore\(store\) from frasco\/stores\); it lacks load, save, destroy, destroyUser/],
    ['store', { get() {}, set() {}, destroy() {} }, /option store is invalid: this looks like an express-session store \(get, set, destroy\); wrap it: fromExpressStore\(store\)/],
    ['genid', () => 'x', /option genid is unknown/],
    ['proxy', true, /option proxy is unknown: use the adapter option `trustProxy`/],
    ['trustProxy', true, /option trustProxy is unknown: give `trustProxy` to the adapter/],
    ['signed', true, /option signed is unknown: Frasco cookies are always signed/],
    ['unset', 'destroy', /option unset is unknown: .*session\.destroy\(\)/],
    ['compressThreshold', 1024, /option compressThreshold is unknown: use `compress: \{ threshold \}`/],
    ['now', () => 0, /option now is unknown: give the clock as `clock/],
    ['path', '/', /option path is unknown: cookie attributes go in `cookie: \{ path \}`/],
    ['secure', true, /option secure is unknown: cookie attributes go in `cookie: \{ secure \}`/],
    ['httpOnly', true, /option httpOnly is unknown: cookie attributes go in `cookie: \{ httpOnly \}`/],
    ['sameSite', 'lax', /option sameSite is unknown: cookie attributes go in `cookie: \{ sameSite \}`/],
  ])('%s', (key, value, says) => {
    expect(message(() => createSessions({ secrets: SECRET, [key]: value } as never))).toMatch(says)
  })

  it('suggests the option a typo was meant to be, and lists the options otherwise', () => {
    expect(message(() => createSessions({ secrets: SECRET, lifetim: 60 } as never))).toBe('option lifetim is unknown: did you mean `lifetime`?')
    expect(message(() => createSessions({ secrets: SECRET, idletimeout: 60 } as never))).toBe('option idletimeout is unknown: did you mean `idleTimeout`?')
    expect(message(() => createSessions({ secrets: SECRET, Rolling: true } as never))).toBe('option Rolling is unknown: did you mean `rolling`?')
    expect(message(() => createSessions({ secrets: SECRET, banana: 1 } as never))).toMatch(/^option banana is unknown: the options are `secrets`, `cookie`, `lifetime`, `persistent`/)
  })

  it('counts a key set to undefined: a typo is a typo whatever its value', () => {
    expect(message(() => createSessions({ secrets: SECRET, maxage: undefined } as never))).toMatch(/^option maxage is unknown/)
  })

  it.each([undefined, null, [], 'secret'])('names createSessions and an example when the options are %j', (options) => {
    expect(message(() => createSessions(options as never))).toBe('options are invalid: createSessions needs an options object, e.g. createSessions({ secrets })')
  })

  it('says that secrets is missing', () => {
    const missing = 'option secrets is missing: give one secret or a list, newest first; generate one with `npx frasco keygen`'
    expect(message(() => createSessions({} as never))).toBe(missing)
    // Before any format sees the options: the Flask format's own check, and a custom format's lack of one, never decide.
    expect(message(() => createSessions({ format: createFlaskFormat() } as never))).toBe(missing)
    expect(message(() => createSessions({ secret: SECRET } as never))).toMatch(/^option secret is unknown: did you mean `secrets`/)
  })

  it.each<[key: string, says: RegExp]>([
    ['maxAge', /^option cookie\.maxAge is unknown: the cookie's Max-Age derives from `lifetime` \(seconds\) and `persistent`/],
    ['expires', /^option cookie\.expires is unknown: the cookie's Expires derives from `lifetime`/],
    ['signed', /^option cookie\.signed is unknown: Frasco cookies are always signed/],
    ['overwrite', /^option cookie\.overwrite is unknown: Frasco always replaces the session cookie$/],
    ['httponly', /^option cookie\.httponly is unknown: did you mean `httpOnly`\?/],
  ])('cookie.%s', (key, says) => {
    expect(message(() => createSessions({ secrets: SECRET, cookie: { [key]: 1 } } as never))).toMatch(says)
  })

  it('checks the nested objects too', () => {
    expect(message(() => createSessions({ secrets: SECRET, chunking: { max: 2 } } as never))).toMatch(/^option chunking\.max is unknown: did you mean `maxChunks`\?|^option chunking\.max is unknown/)
    expect(message(() => createSessions({ secrets: SECRET, compress: { treshold: 10 } } as never))).toBe('option compress.treshold is unknown: did you mean `threshold`?')
  })
})

describe('every other options object is strict too', () => {
  const serializer = createSerializer({ secrets: SECRET, purpose: 'p' })
  const signer = createSigner({ secrets: SECRET, purpose: 'p' })
  const flask = createFlaskCodec({ secrets: 'flask-secret' })
  const its = createItsdangerousSerializer({ secrets: 'its-secret' })
  const request = new Request('http://app.test/')

  it.each<[where: string, call: () => unknown, says: RegExp]>([
    ['createSigner', () => createSigner({ secrets: SECRET, purpose: 'p', secret: SECRET } as never), /^option secret is unknown: did you mean `secrets`/],
    ['createSigner', () => createSigner({ secrets: SECRET, purpose: 'p', salt: 'x' } as never), /^option salt is unknown: use `purpose`/],
    ['createSigner', () => createSigner({ secrets: SECRET, purpose: 'p', expiresIn: 60 } as never), /^option expiresIn is unknown: give `expiresIn` \(seconds\) to sign/],
    ['createSerializer', () => createSerializer({ secrets: SECRET, purpose: 'p', compressThreshold: 0 } as never), /^option compressThreshold is unknown: use `compress: \{ threshold \}`/],
    ['createSerializer', () => createSerializer({ secrets: SECRET, purpose: 'p', now: () => 0 } as never), /^option now is unknown: give the clock as `clock/],
    ['signer.sign', () => signer.sign('v', { maxAge: 60 } as never), /^option maxAge is unknown: sign takes `expiresIn`/],
    ['signer.verify', () => signer.verify('v', { expiresIn: 60 } as never), /^option expiresIn is unknown: verify takes `maxAge`/],
    ['serializer.sign', () => serializer.sign({}, { ttl: 60 } as never), /^option ttl is unknown: use `expiresIn`/],
    ['serializer.unsign', () => serializer.unsign('v', { maxage: 60 } as never), /^option maxage is unknown: did you mean `maxAge`\?/],
    ['createKeyring entry', () => createKeyring([{ secret: SECRET, kid: 'a' }] as never), /^option secrets\[0\]\.kid is unknown: did you mean `id`\?|^option secrets\[0\]\.kid is unknown/],
    ['sessions.sign', () => sessions.sign({}, { maxAge: 60 } as never), /^option maxAge is unknown: sign takes `expiresIn`/],
    ['sessions.verify', () => sessions.verify('v', { maxAge: 60 } as never), /^option maxAge is unknown/],
    ['sessions.commit', () => sessions.commit(sessions.read(null), { https: true } as never), /^option https is unknown: the options are `secure`, `vary`/],
    ['createFlaskFormat', () => createFlaskFormat({ secretKey: 'k' } as never), /^option secretKey is unknown/],
    ['createFlaskCodec', () => createFlaskCodec({ secrets: 'k', compressThreshold: 0 } as never), /^option compressThreshold is unknown: use `compress/],
    ['flask.verify', () => flask.verify('v', { max_age: 60 } as never), /^option max_age is unknown/],
    ['createItsdangerousSigner', () => createItsdangerousSigner({ secrets: 'k', digest_method: 'sha256' } as never), /^option digest_method is unknown: did you mean `digest`\?/],
    ['createItsdangerousSerializer', () => createItsdangerousSerializer({ secrets: 'k', max_age: 60 } as never), /^option max_age is unknown: did you mean `maxAge`\? \(give it to verify\)/],
    ['itsdangerous verify', () => its.verify('v', { max_age: 60 } as never), /^option max_age is unknown/],
    ['sessionMiddleware', () => sessionMiddleware(sessions, { proxy: true } as never), /^option proxy is unknown: did you mean `trustProxy`\?/],
    ['node withSessions', () => withNodeSessions(sessions, () => {}, { onerror: () => {} } as never), /^option onerror is unknown: did you mean `onError`\?/],
    ['node commitSession', () => commitNode(sessions, {} as never, {} as never, sessions.read(null), { trustproxy: true } as never), /^option trustproxy is unknown: did you mean `trustProxy`\?/],
    ['fetch withSessions', () => withFetchSessions(sessions, () => new Response(), { proxy: true } as never), /^option proxy is unknown: did you mean `trustProxy`\?/],
    ['fetch commitSession', () => commitFetch(sessions, request, new Response(), sessions.read(null), { request } as never), /^option request is unknown/],
    ['fetch commitSession in 0.1 order', () => (commitFetch as (...args: unknown[]) => unknown)(sessions, sessions.read(null), new Response(), { request }), /^request is invalid: commitSession takes \(sessions, request, response, session, options\); 0\.1 took/],
    ['delete session.persistent', () => delete (sessions.read(null) as { persistent?: boolean }).persistent, /^session\.persistent cannot be deleted: assign true or false$/],
    ['parseCookie', () => parseCookie('a=1', { maxlength: 10 } as never), /^option maxlength is unknown: did you mean `maxLength`\?/],
    ['stringifySetCookie', () => stringifySetCookie('a', 'b', { httponly: true } as never), /^option httponly is unknown: did you mean `httpOnly`\?/],
    ['stringifySetCookie', () => stringifySetCookie('a', 'b', { encode: String } as never), /^option encode is unknown: values are written as given/],
    ['createCookieWriter', () => createCookieWriter('a', { samesite: 'lax' } as never), /^option samesite is unknown: did you mean `sameSite`\?/],
    ['CookieWriter.serialize', () => createCookieWriter('a').serialize('b', { maxage: 1 } as never), /^option maxage is unknown: did you mean `maxAge`\? \(seconds\)/],
  ])('%s', (_where, call, says) => {
    expect(message(call)).toMatch(says)
  })
})

describe('lifetimes are seconds, at most 400 days', () => {
  const MS_LIKE = 14 * 86_400_000
  const signer = createSigner({ secrets: SECRET, purpose: 'p' })
  const its = createItsdangerousSigner({ secrets: 'k', timestamped: true })

  it.each<[where: string, call: (value: number) => unknown]>([
    ['createSessions lifetime', (value) => createSessions({ secrets: SECRET, lifetime: value })],
    ['createSessions idleTimeout', (value) => createSessions({ secrets: SECRET, idleTimeout: value })],
    ['sign expiresIn', (value) => signer.sign('v', { expiresIn: value })],
    ['verify maxAge', (value) => signer.verify('v', { maxAge: value })],
    ['itsdangerous verify maxAge', (value) => its.verify('v', { maxAge: value })],
    ['createFlaskCodec lifetime', (value) => createFlaskCodec({ secrets: 'k', lifetime: value })],
  ])('%s', (_where, call) => {
    expect(() => call(400 * 86_400)).not.toThrow()
    expect(message(() => call(MS_LIKE))).toMatch(/is invalid: 1209600000 is more than 400 days; lifetimes are in seconds, not milliseconds \(at most 34560000\)$/)
  })
})
