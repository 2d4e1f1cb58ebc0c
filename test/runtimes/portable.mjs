// The portable suite: the BUILT library (dist/) exercised the same way on every runtime that speaks
// node:crypto: Node 20.0 (the oldest `engines` allows), 20.x, 22 and 24, Bun and Deno.
// test/runtimes.test.ts spawns it once per runtime; require.cjs beside it covers CommonJS.
//
// Plain ESM JavaScript on purpose: no TypeScript loader, no test framework, nothing a runtime could
// support differently. Only node:assert, node:buffer, node:crypto, node:fs, node:http,
// node:process and web APIs (fetch, Request, Response, Headers), which all of them provide.
//
// Run: `npm run build`, then `node test/runtimes/portable.mjs`, `bun test/runtimes/portable.mjs` or
// `deno run --allow-read --allow-net --allow-env test/runtimes/portable.mjs`. The last line is
// `runtime <name> <version>: N passed, M failed`; the exit code is 1 when anything failed.
// FRASCO_PORTABLE_ONLY=<part of a test name> runs only the matching tests, for debugging.
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import process from 'node:process'

import { SessionError, createKeyring, createSerializer, createSessions, createSigner, isSessionError } from '../../dist/index.js'
import { withSessions as withFetchSessions, commitSession, readSession } from '../../dist/adapters/fetch.js'
import { withSessions as withNodeSessions } from '../../dist/adapters/node.js'
import { parseCookie, stringifySetCookie } from '../../dist/cookie/index.js'
import { Markup, UUID, createFlaskCodec, createFlaskFormat, createItsdangerousSigner, isTuple, tuple } from '../../dist/flask/index.js'

// -------------------------------------------------------------------------------------------------
// A tiny harness: sequential tests, failures printed with their stack, a count at the end.
// -------------------------------------------------------------------------------------------------

const runtime = globalThis.Deno
  ? { name: 'deno', version: globalThis.Deno.version.deno }
  : globalThis.Bun
    ? { name: 'bun', version: globalThis.Bun.version }
    : { name: 'node', version: process.versions.node }

let passed = 0
let failed = 0
const only = process.env.FRASCO_PORTABLE_ONLY

async function test(name, body) {
  if (only && !name.includes(only)) return
  try {
    await body()
    passed++
  } catch (error) {
    failed++
    console.log(`FAIL ${name}`)
    console.log(String(error?.stack ?? error).replace(/^/gm, '    '))
  }
}

const readJson = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'))
const codeOf = (result) => (result.ok ? 'ok' : result.error.code)

/** Changes one character of a token at `index` (negative: from the end) to another base64url one. */
function tamper(token, index) {
  const at = index < 0 ? token.length + index : index
  const replacement = token[at] === 'A' ? 'B' : 'A'
  return token.slice(0, at) + replacement + token.slice(at + 1)
}

// A strong secret for the tests that do not use the golden vectors (random, so nothing depends on it).
const SECRET = randomBytes(32).toString('base64url')
const OTHER_SECRET = randomBytes(32).toString('base64url')

// -------------------------------------------------------------------------------------------------
// Signer and serializer: golden vectors from the independent Python reference
// -------------------------------------------------------------------------------------------------

const vectors = readJson('../vectors/signer.json')
const IAT = 1_800_000_000 * 1000

await test('keyring derives the golden key ids', () => {
  const keyring = createKeyring([vectors.secret, vectors.oldSecret])
  assert.deepEqual(
    keyring.keys.map((key) => key.id),
    [vectors.keyId, vectors.oldKeyId],
  )
})

for (const vector of vectors.strings) {
  await test(`signer golden vector: ${vector.name}`, () => {
    const secret = vector.secretIndex === 1 ? vectors.oldSecret : vectors.secret
    const secrets = vector.keyIdOverride === undefined ? secret : { id: vector.keyIdOverride, secret }
    const signer = createSigner({ secrets, purpose: vector.purpose })
    const options = { now: vector.issuedAt * 1000 }
    if (vector.expiresAt !== null) options.expiresIn = vector.expiresAt - vector.issuedAt
    assert.equal(signer.sign(vector.value, options), vector.token)
    const result = signer.verify(vector.token, { now: vector.issuedAt * 1000 })
    assert.equal(codeOf(result), 'ok')
    assert.equal(result.value, vector.value)
    assert.equal(result.issuedAt.getTime(), vector.issuedAt * 1000)
    assert.equal(result.expiresAt?.getTime(), vector.expiresAt === null ? undefined : vector.expiresAt * 1000)
    assert.equal('expiresAt' in result, vector.expiresAt !== null, 'expiresAt is absent when the token has none')
  })
}

await test('a rotated keyring verifies the old-key vector and reports it stale', () => {
  const vector = vectors.strings.find((v) => v.name === 'old key')
  const result = createSigner({ secrets: [vectors.secret, vectors.oldSecret], purpose: 'test' }).verify(vector.token, { now: IAT })
  assert.equal(codeOf(result), 'ok')
  assert.equal(result.keyId, vectors.oldKeyId)
  assert.equal(result.stale, true)
})

for (const vector of vectors.objects) {
  await test(`serializer golden vector: ${vector.name}`, () => {
    const serializer = createSerializer({ secrets: vectors.secret, purpose: vector.purpose })
    const result = serializer.verify(vector.token, { now: IAT })
    assert.equal(codeOf(result), 'ok')
    assert.deepEqual(result.value, JSON.parse(vector.json))
    if (!vector.compressed) {
      const options = { now: IAT }
      if (vector.expiresAt !== null) options.expiresIn = vector.expiresAt - vector.issuedAt
      assert.equal(serializer.sign(JSON.parse(vector.json), options), vector.token)
    }
  })
}

// -------------------------------------------------------------------------------------------------
// Tampering, expiry, purposes: verify never throws, it names the reason
// -------------------------------------------------------------------------------------------------

await test('tampered, re-purposed, foreign and garbage tokens are rejected with their codes', () => {
  const signer = createSigner({ secrets: SECRET, purpose: 'reset' })
  const token = signer.sign('user:42', { now: IAT, expiresIn: 3600 })
  const at = (now) => ({ now })
  assert.equal(codeOf(signer.verify(token, at(IAT))), 'ok')
  assert.equal(codeOf(signer.verify(tamper(token, -1), at(IAT))), 'ERR_SESSION_SIGNATURE_INVALID')
  assert.equal(codeOf(signer.verify(tamper(token, token.indexOf('.', 3) + 14), at(IAT))), 'ERR_SESSION_SIGNATURE_INVALID')
  assert.equal(codeOf(createSigner({ secrets: SECRET, purpose: 'csrf' }).verify(token, at(IAT))), 'ERR_SESSION_SIGNATURE_INVALID')
  assert.equal(codeOf(createSigner({ secrets: OTHER_SECRET, purpose: 'reset' }).verify(token, at(IAT))), 'ERR_SESSION_UNKNOWN_KEY')
  assert.equal(codeOf(signer.verify(token, at(IAT + 3600_000 + 61_000))), 'ERR_SESSION_EXPIRED')
  assert.equal(codeOf(signer.verify(token, at(IAT - 61_000))), 'ERR_SESSION_NOT_YET_VALID')
  assert.equal(codeOf(signer.verify(token, { now: IAT + 600_000, maxAge: 60 })), 'ERR_SESSION_EXPIRED')
  assert.equal(codeOf(signer.verify('not-a-token')), 'ERR_SESSION_MALFORMED')
  assert.equal(codeOf(signer.verify(token.replace(/^f1/, 'f9'))), 'ERR_SESSION_UNSUPPORTED_VERSION')
})

await test('unsign throws a SessionError the caller can recognise', () => {
  const serializer = createSerializer({ secrets: SECRET, purpose: 'invite' })
  const token = serializer.sign({ team: 'core' })
  assert.deepEqual(serializer.unsign(token), { team: 'core' })
  assert.throws(
    () => serializer.unsign(tamper(token, -2)),
    (error) => error instanceof SessionError && isSessionError(error, 'ERR_SESSION_SIGNATURE_INVALID'),
  )
})

await test('random input never makes verify throw', () => {
  const signer = createSigner({ secrets: SECRET, purpose: 'fuzz' })
  const serializer = createSerializer({ secrets: SECRET, purpose: 'fuzz', encrypt: true })
  for (let i = 0; i < 200; i++) {
    const bytes = randomBytes(i % 90)
    for (const text of [bytes.toString('base64url'), bytes.toString('latin1'), `f1.${bytes.toString('base64url')}.x.y`, `e1.a.${bytes.toString('base64url')}`]) {
      assert.equal(signer.verify(text).ok, false)
      assert.equal(serializer.verify(text).ok, false)
    }
  }
})

// -------------------------------------------------------------------------------------------------
// Serialization: rich types, bytes, compression and its cap (node:zlib)
// -------------------------------------------------------------------------------------------------

await test('serializer round-trips Date, bytes, BigInt, Map, Set and nesting', () => {
  const serializer = createSerializer({ secrets: SECRET, purpose: 'types' })
  const value = {
    when: new Date(1_700_000_000_123),
    bytes: new Uint8Array([0, 1, 254, 255]),
    big: 2n ** 70n,
    map: new Map([['a', 1], ['b', [true, null]]]),
    set: new Set(['x', 'y']),
    nested: { list: [1.5, 'olá 世界 🎉', { deep: 0 }] },
  }
  const back = serializer.unsign(serializer.sign(value))
  assert.deepEqual(back, value)
  assert.ok(back.when instanceof Date && back.bytes instanceof Uint8Array && back.map instanceof Map && back.set instanceof Set)
})

await test('signer signs bytes and returns them as bytes', () => {
  const signer = createSigner({ secrets: SECRET, purpose: 'bytes' })
  const bytes = new Uint8Array(randomBytes(64))
  const result = signer.verify(signer.sign(bytes), { encoding: 'bytes' })
  assert.equal(codeOf(result), 'ok')
  assert.deepEqual(new Uint8Array(result.value), bytes)
})

await test('large payloads are compressed, and decompression is capped', () => {
  const serializer = createSerializer({ secrets: SECRET, purpose: 'big' })
  const value = { notes: 'lorem ipsum dolor sit amet '.repeat(400) }
  const token = serializer.sign(value)
  assert.ok(token.length < JSON.stringify(value).length / 4, `token of ${token.length} characters is not compressed`)
  assert.deepEqual(serializer.unsign(token), value)
  const small = createSerializer({ secrets: SECRET, purpose: 'big', maxBytes: 4096 })
  assert.equal(codeOf(small.verify(token)), 'ERR_SESSION_DECOMPRESSION_TOO_LARGE')
})

// -------------------------------------------------------------------------------------------------
// Encryption (XAES-256-GCM, x1, built on AES-256-GCM from node:crypto)
// -------------------------------------------------------------------------------------------------

await test('encrypted tokens round-trip, hide the value and reject tampering', () => {
  const sealed = createSerializer({ secrets: SECRET, purpose: 'secret', encrypt: true })
  const value = { card: '4111 1111 1111 1111', at: new Date(0) }
  const token = sealed.sign(value)
  assert.match(token, /^x1\./)
  assert.deepEqual(sealed.unsign(token), value)
  assert.ok(!token.includes(Buffer.from('4111').toString('base64url')) && !token.includes('4111'))
  assert.notEqual(sealed.sign(value), token, 'two encryptions of one value must differ (random nonce)')
  for (const index of [-1, -20, token.lastIndexOf('.') - 1, 12]) {
    assert.equal(sealed.verify(tamper(token, index)).ok, false, `tamper at ${index}`)
  }
})

await test('signed and encrypted tokens never verify as each other', () => {
  const signed = createSerializer({ secrets: SECRET, purpose: 'p' })
  const sealed = createSerializer({ secrets: SECRET, purpose: 'p', encrypt: true })
  assert.equal(signed.verify(sealed.sign({ a: 1 })).ok, false)
  assert.equal(sealed.verify(signed.sign({ a: 1 })).ok, false)
})

await test('encrypted tokens from the old secret open through a rotated keyring', () => {
  const old = createSerializer({ secrets: OTHER_SECRET, purpose: 'p', encrypt: true })
  const rotated = createSerializer({ secrets: [SECRET, OTHER_SECRET], purpose: 'p', encrypt: true })
  const result = rotated.verify(old.sign({ user: 'ada' }))
  assert.equal(codeOf(result), 'ok')
  assert.deepEqual(result.value, { user: 'ada' })
  assert.equal(result.stale, true)
})

// -------------------------------------------------------------------------------------------------
// Sessions: read → Session → commit, without any HTTP
// -------------------------------------------------------------------------------------------------

const cookiePair = (setCookie) => setCookie.slice(0, setCookie.indexOf(';'))
const cookieHeader = (setCookies) => setCookies.map(cookiePair).join('; ')

await test('sessions: a new session is written once set, then read back', () => {
  const sessions = createSessions({ secrets: SECRET, lifetime: 3600, persistent: true })
  const fresh = sessions.read(undefined)
  assert.equal(fresh.isNew, true)
  assert.deepEqual(sessions.commit(fresh).setCookie, [])
  fresh.set('user', 'ada')
  fresh.visits = 1
  const written = sessions.commit(fresh).setCookie
  assert.equal(written.length, 1)
  assert.match(written[0], /^session=f1\.[^;]+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax$/)
  const again = sessions.read(cookieHeader(written))
  assert.equal(again.isNew, false)
  assert.equal(again.get('user'), 'ada')
  assert.equal(again.visits, 1)
  assert.deepEqual(sessions.commit(again).setCookie, [], 'an unmodified session writes nothing')
})

await test('sessions: a tampered cookie gives a fresh session and the reason', () => {
  const reasons = []
  const sessions = createSessions({ secrets: SECRET, onInvalid: (error) => reasons.push(error.code) })
  const session = sessions.read(null)
  session.set('user', 'ada')
  const [cookie] = sessions.commit(session).setCookie
  const bad = sessions.read(tamper(cookiePair(cookie), -1))
  assert.equal(bad.isNew, true)
  assert.equal(bad.get('user'), undefined)
  assert.equal(sessions.invalidReason(bad)?.code, 'ERR_SESSION_SIGNATURE_INVALID')
  assert.deepEqual(reasons, ['ERR_SESSION_SIGNATURE_INVALID'])
})

await test('sessions: destroy deletes the cookie; flashes survive one round trip', () => {
  const sessions = createSessions({ secrets: SECRET })
  const session = sessions.read(null)
  session.flash('Saved.')
  const next = sessions.read(cookieHeader(sessions.commit(session).setCookie))
  assert.deepEqual(next.consumeFlashes(), [{ category: 'message', message: 'Saved.' }])
  next.destroy()
  const [deletion] = sessions.commit(next).setCookie
  assert.match(deletion, /^session=; .*Max-Age=0/)
})

await test('sessions: encrypted cookies round-trip and are opaque', () => {
  const sessions = createSessions({ secrets: SECRET, encrypt: true })
  const session = sessions.read(null)
  session.set('email', 'ada@example.com')
  const written = sessions.commit(session).setCookie
  assert.match(written[0], /^session=x1\./)
  assert.ok(!written[0].includes(Buffer.from('ada@example').toString('base64url').slice(0, 8)))
  assert.equal(sessions.read(cookieHeader(written)).get('email'), 'ada@example.com')
  assert.equal(createSessions({ secrets: SECRET }).read(cookieHeader(written)).isNew, true, 'a signed-only manager rejects it')
})

await test('sessions: a large session is split across cookies and read back', () => {
  const sessions = createSessions({ secrets: SECRET })
  const session = sessions.read(null)
  const blob = randomBytes(3000).toString('hex') // incompressible, about 8 KB once signed
  session.set('blob', blob)
  const written = sessions.commit(session).setCookie
  assert.deepEqual(
    written.map((c) => c.slice(0, c.indexOf('='))),
    written.map((_, i) => `session.${i}`),
  )
  assert.ok(written.length >= 2)
  assert.equal(sessions.read(cookieHeader(written)).get('blob'), blob)
})

await test('sessions: persistent sessions get a Max-Age and a signed flag; browser-session cookies none', () => {
  const sessions = createSessions({ secrets: SECRET, lifetime: 600 })
  const session = sessions.read(null)
  session.set('user', 'ada')
  const [browserCookie] = sessions.commit(session).setCookie
  assert.doesNotMatch(browserCookie, /Max-Age/)
  session.persistent = true
  const [persistentCookie] = sessions.commit(session).setCookie
  assert.match(persistentCookie, /; Max-Age=600;/)
  // Flag bit 0b1000 of the f1 body, inside the MAC.
  const body = Buffer.from(cookiePair(persistentCookie).split('.')[2], 'base64url')
  assert.equal(body[0] & 0b1000, 0b1000)
  assert.equal(sessions.read(cookiePair(persistentCookie)).persistent, true)
  assert.equal(sessions.read(cookiePair(browserCookie)).persistent, false)
})

await test('options are strict and lifetimes are seconds', () => {
  assert.throws(() => createSessions({ secrets: SECRET, maxAge: 3600 }), (error) => error instanceof TypeError && /^option maxAge is unknown/.test(error.message))
  assert.throws(() => createSessions({ secrets: SECRET, lifetime: 86_400_000 }), /seconds, not milliseconds/)
  assert.throws(() => createSigner({ secrets: SECRET, purpose: 'p', secret: SECRET }), /^TypeError: option secret is unknown/)
  assert.throws(() => createSigner({ secrets: SECRET, purpose: 'p' }).sign('x', { expiresIn: 86_400_000 }), /seconds, not milliseconds/)
  assert.throws(() => createFlaskCodec({ secrets: 'k', compressThreshold: 0 }), /option compressThreshold is unknown/)
  let clock = IAT
  const signer = createSigner({ secrets: SECRET, purpose: 'p', clock: () => clock })
  assert.equal(signer.verify(signer.sign('x')).issuedAt.getTime(), IAT)
  clock = IAT + 120_000
  assert.equal(codeOf(signer.verify(signer.sign('x', { now: IAT, expiresIn: 60 }))), 'ERR_SESSION_EXPIRED')
  assert.deepEqual(Object.keys(createKeyring(SECRET).current), ['id', 'index'])
})

await test('cookies: parsing is lenient, writing is strict (prefixes)', () => {
  const parsed = parseCookie('a=1; b="two"; bad; c=%E2%9C%93')
  assert.equal(parsed.a, '1')
  assert.equal(parsed.b, 'two')
  assert.equal(Object.getPrototypeOf(parsed), null)
  assert.equal(
    stringifySetCookie('__Host-id', 'v', { secure: true, httpOnly: true, maxAge: 60 }),
    '__Host-id=v; Path=/; Max-Age=60; HttpOnly; Secure',
  )
  assert.throws(() => stringifySetCookie('__Host-id', 'v', { secure: false }), TypeError)
})

// -------------------------------------------------------------------------------------------------
// Flask: golden vectors produced by Flask 2.2 / itsdangerous 2.1
// -------------------------------------------------------------------------------------------------

const flaskVectors = readJson('../vectors/flask.json')

/** A Python value as described by test/flask/vectors.py, built from Frasco's Flask types. */
function fromSpec(spec) {
  switch (spec[0]) {
    case 'none':
      return null
    case 'bool':
    case 'str':
      return spec[1]
    case 'int': {
      const big = BigInt(spec[1])
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
    }
    case 'float':
      return { nan: Number.NaN, inf: Infinity, '-inf': -Infinity }[spec[1]] ?? Number(spec[1])
    case 'bytes':
      return new Uint8Array(Buffer.from(spec[1], 'hex'))
    case 'list':
      return spec[1].map(fromSpec)
    case 'tuple':
      return tuple(...spec[1].map(fromSpec))
    case 'dict':
      return Object.fromEntries(spec[1].map(([key, value]) => [key, fromSpec(value)]))
    case 'markup':
      return new Markup(spec[1])
    case 'uuid':
      return new UUID(spec[1])
    case 'datetime':
      return new Date(Math.floor(new Date(spec[1]).getTime() / 1000) * 1000)
    default:
      throw new TypeError(`unknown spec ${spec[0]}`)
  }
}

for (const vector of flaskVectors.flask) {
  await test(`flask golden vector: ${vector.name}`, () => {
    const now = flaskVectors.now * 1000
    const result = createFlaskCodec({ secrets: flaskVectors.secret_key }).verify(vector.cookie, { now })
    assert.equal(codeOf(result), 'ok')
    assert.equal(result.issuedAt.getTime(), now)
    assert.equal('keyId' in result, false, 'Flask cookies name no key')
    // Flask's JSON is canonical (sorted keys, compact, ASCII), and so is an uncompressed cookie
    // signed at one instant: equal cookies mean equal values.
    const exact = createFlaskCodec({ secrets: flaskVectors.secret_key, compress: false })
    assert.equal(exact.sign(result.value, { now }), exact.sign(fromSpec(vector.session), { now }))
    if (!vector.cookie.startsWith('.')) {
      // Compressed cookies come from CPython's zlib, whose bytes ours need not match.
      assert.equal(exact.sign(result.value, { now }), vector.cookie)
    }
  })
}

await test('flask: sessions in the Flask format are readable by the Flask codec, and tampering is caught', () => {
  const secret = 'flask-secret-key-for-the-portable-suite'
  const sessions = createSessions({ secrets: secret, format: createFlaskFormat() })
  const session = sessions.read(null)
  session.set('username', 'ada')
  session.flash('Hi')
  session.persistent = true
  const [cookie] = sessions.commit(session).setCookie
  const value = cookiePair(cookie).slice('session='.length)
  const codec = createFlaskCodec({ secrets: secret })
  const result = codec.verify(value)
  assert.equal(codeOf(result), 'ok')
  assert.equal(result.value.username, 'ada')
  // Flashes are (category, message) tuples, and persistence is Flask's `_permanent`.
  assert.deepEqual(result.value._flashes, [['message', 'Hi']])
  assert.equal(isTuple(result.value._flashes[0]), true)
  assert.equal(result.value._permanent, true)
  assert.equal(sessions.read(cookiePair(cookie)).persistent, true)
  assert.equal(codec.verify(tamper(value, -1)).ok, false)
  assert.equal(createFlaskCodec({ secrets: 'another-flask-secret-key' }).verify(value).ok, false)
})

await test('flask: itsdangerous signer round trip (sha1, django-concat)', () => {
  const signer = createItsdangerousSigner({ secrets: 'its-dangerous-secret', salt: 'itsdangerous.Signer' })
  const signed = signer.sign('hello')
  assert.match(signed, /^hello\.[\w-]{27}$/)
  assert.equal(signer.unsign(signed), 'hello')
  assert.throws(() => signer.unsign(tamper(signed, -1)), SessionError)
})

// -------------------------------------------------------------------------------------------------
// Adapters over real servers on 127.0.0.1, driven by fetch with a one-origin cookie jar
// -------------------------------------------------------------------------------------------------

/** fetch with cookies: sends the jar, never follows redirects, applies Set-Cookie (deletions too). */
function cookieJar() {
  const jar = new Map()
  return {
    jar,
    async fetch(url, init = {}) {
      const headers = new Headers(init.headers)
      if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '))
      const response = await fetch(url, { ...init, headers, redirect: 'manual' })
      for (const header of response.headers.getSetCookie()) {
        const pair = cookiePair(`${header};`)
        const name = pair.slice(0, pair.indexOf('='))
        if (/max-age=0/i.test(header)) jar.delete(name)
        else jar.set(name, pair.slice(name.length + 1))
      }
      return response
    },
  }
}

/** The demo app as a Fetch handler: counts visits, logs in with a redirect, logs out. */
function fetchApp(sessions) {
  return withFetchSessions(sessions, async (request, session) => {
    const { pathname } = new URL(request.url)
    if (pathname === '/health') return new Response('ok')
    if (pathname === '/login') {
      session.regenerate()
      session.set('user', (await request.formData()).get('user'))
      return Response.redirect(new URL('/', request.url), 303) // immutable headers: the adapter copies it
    }
    if (pathname === '/logout') {
      session.destroy()
      return new Response('bye')
    }
    session.set('visits', (session.get('visits') ?? 0) + 1)
    return new Response(`${session.get('user') ?? 'anonymous'} visit ${session.get('visits')}`)
  })
}

/** Serves a Fetch handler over node:http on 127.0.0.1, port 0 (the way Node users do). */
async function serveOverNodeHttp(handler) {
  const server = createServer(async (req, res) => {
    try {
      const chunks = []
      for await (const chunk of req) chunks.push(chunk)
      const method = req.method ?? 'GET'
      const request = new Request(new URL(req.url ?? '/', `http://${req.headers.host}`), {
        method,
        headers: Object.entries(req.headers).flatMap(([name, value]) => (Array.isArray(value) ? value.map((v) => [name, v]) : [[name, value]])),
        body: method === 'GET' || method === 'HEAD' ? undefined : Buffer.concat(chunks),
      })
      const response = await handler(request)
      res.statusCode = response.status
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') res.setHeader(name, value)
      })
      const cookies = response.headers.getSetCookie()
      if (cookies.length > 0) res.setHeader('set-cookie', cookies)
      res.end(Buffer.from(await response.arrayBuffer()))
    } catch (error) {
      res.statusCode = 500
      res.end(String(error?.stack ?? error))
    }
  })
  return listenNode(server)
}

async function listenNode(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}

/** Serves a Fetch handler with the runtime's own server: Bun.serve or Deno.serve. */
async function serveNatively(handler) {
  if (globalThis.Bun) {
    const server = globalThis.Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler })
    return { origin: `http://127.0.0.1:${server.port}`, close: () => server.stop(true) }
  }
  const server = globalThis.Deno.serve({ hostname: '127.0.0.1', port: 0, onListen() {} }, handler)
  return { origin: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() }
}

/** The browser flow every server must give: count, log in (redirect), count, forged cookie, log out. */
async function browse(origin) {
  const browser = cookieJar()
  let response = await browser.fetch(`${origin}/`)
  assert.equal(await response.text(), 'anonymous visit 1')
  const setCookie = response.headers.getSetCookie()
  assert.equal(setCookie.length, 1)
  assert.match(setCookie[0], /^session=f1\.[^;]+; Path=\/; HttpOnly; SameSite=Lax$/)
  assert.match(response.headers.get('vary') ?? '', /cookie/i)
  assert.equal(await (await browser.fetch(`${origin}/`)).text(), 'anonymous visit 2')

  response = await browser.fetch(`${origin}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'user=ada',
  })
  assert.equal(response.status, 303)
  assert.equal(response.headers.getSetCookie().length, 1, 'the redirect carries the new session')
  await response.arrayBuffer()
  assert.equal(await (await browser.fetch(`${origin}/`)).text(), 'ada visit 1')

  response = await browser.fetch(`${origin}/health`)
  assert.equal(await response.text(), 'ok')
  assert.deepEqual(response.headers.getSetCookie(), [], 'an untouched session writes no cookie')
  assert.equal(response.headers.get('vary'), null)

  browser.jar.set('session', tamper(browser.jar.get('session'), -1))
  assert.equal(await (await browser.fetch(`${origin}/`)).text(), 'anonymous visit 1', 'a forged cookie gives a fresh session')

  response = await browser.fetch(`${origin}/logout`)
  assert.equal(await response.text(), 'bye')
  assert.match(response.headers.getSetCookie()[0] ?? '', /^session=; .*Max-Age=0/)
  assert.equal(browser.jar.size, 0)
}

await test('fetch adapter: readSession / commitSession on Request and Response objects', () => {
  const sessions = createSessions({ secrets: SECRET })
  const session = readSession(sessions, new Request('https://app.test/'))
  session.set('user', 'ada')
  const response = commitSession(sessions, new Request('https://app.test/'), new Response('hi'), session)
  const [cookie] = response.headers.getSetCookie()
  assert.match(cookie, /^session=f1\..*; Secure; SameSite=Lax$/, "secure: 'auto' follows the https: request")
  const back = readSession(sessions, new Request('https://app.test/', { headers: { cookie: cookiePair(cookie) } }))
  assert.equal(back.get('user'), 'ada')
})

await test('fetch adapter served over node:http, driven by fetch', async () => {
  const server = await serveOverNodeHttp(fetchApp(createSessions({ secrets: SECRET })))
  try {
    await browse(server.origin)
  } finally {
    await server.close()
  }
})

if (globalThis.Bun || globalThis.Deno) {
  await test(`fetch adapter served by ${globalThis.Bun ? 'Bun.serve' : 'Deno.serve'}, driven by fetch`, async () => {
    const server = await serveNatively(fetchApp(createSessions({ secrets: SECRET })))
    try {
      await browse(server.origin)
    } finally {
      await server.close()
    }
  })
}

await test('node adapter (frasco/node) on node:http, driven by fetch', async () => {
  const sessions = createSessions({ secrets: SECRET })
  const server = await listenNode(
    createServer(
      withNodeSessions(sessions, (req, res) => {
        req.session.set('visits', (req.session.get('visits') ?? 0) + 1)
        res.setHeader('content-type', 'text/plain')
        res.end(`visit ${req.session.get('visits')}`)
      }),
    ),
  )
  try {
    const browser = cookieJar()
    const first = await browser.fetch(`${server.origin}/`)
    assert.equal(await first.text(), 'visit 1')
    assert.match(first.headers.get('vary') ?? '', /cookie/i)
    assert.equal(await (await browser.fetch(`${server.origin}/`)).text(), 'visit 2')
    assert.equal(await (await browser.fetch(`${server.origin}/`)).text(), 'visit 3')
  } finally {
    await server.close()
  }
})

// -------------------------------------------------------------------------------------------------

console.log(`runtime ${runtime.name} ${runtime.version}: ${passed} passed, ${failed} failed`)
process.exitCode = failed === 0 && passed > 0 ? 0 : 1
