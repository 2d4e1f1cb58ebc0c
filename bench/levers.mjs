#!/usr/bin/env node
// Levers behind the figures of bench/run.mjs, measured in isolation (docs/performance.md quotes
// them). Run after `npm run build`:  node bench/levers.mjs
//
// Each group times its variants in interleaved rounds (median ns per call); compare within a group.

import { Buffer, isUtf8 } from 'node:buffer'
import { createCipheriv, createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto'
import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { deflateSync, inflateSync } from 'node:zlib'
import { createKeyring, createSessions } from '../dist/index.js'
import { createCookieWriter, getCookie } from '../dist/cookie/index.js'
import { createFlaskCodec } from '../dist/flask/index.js'
// Internals, not part of the public API: their paths follow src/.
import { decodeBase64url } from '../dist/encoding.js'
import { FRASCO_FORMAT } from '../dist/formats/frasco.js'
import { constantTimeEqual } from '../dist/lib/compare.js'
import { HmacSha256 } from '../dist/lib/hmac.js'
import { TokenCore, decodeField } from '../dist/lib/token.js'
import { decodePayload, encodePayload, parse, stringify } from '../dist/serializer.js'
import { createSession } from '../dist/session.js'
import { SESSION_LIFETIME, cookieHeader, typicalPayload } from './cases.mjs'
import { MAX_AGE, createHmacFloor, createItsdangerousFloor, createNoncePool } from './floors.mjs'
import { timeEach } from './lib/measure.mjs'

const options = { rounds: 11, roundMs: 25, warmupMs: 150 }
const payload = typicalPayload()
const json = JSON.stringify(payload)

function group(title, fns) {
  const results = timeEach(fns, options)
  const base = Object.values(results)[0]
  console.log(`\n${title}`)
  for (const [name, ns] of Object.entries(results)) {
    console.log(`  ${name.padEnd(58)}${(ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`).padStart(10)}   ${(ns / base).toFixed(2)}×`)
  }
  return results
}

// 1. Nonces for AES-256-GCM.
{
  const key = createSecretKey(randomBytes(32))
  const pool = createNoncePool()
  const body = Buffer.from(json)
  const seal = (iv) => {
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    return Buffer.concat([iv, cipher.update(body), cipher.final(), cipher.getAuthTag()]).toString('base64url')
  }
  group('1. AES-256-GCM nonce: pooled randomFillSync (256 per refill) vs randomBytes(12) per token', {
    'nonce from the pool': () => pool(),
    'randomBytes(12)': () => randomBytes(12),
    'seal with a pooled nonce': () => seal(pool()),
    'seal with randomBytes(12)': () => seal(randomBytes(12)),
  })
}

// 2. How to compare an HMAC tag, and which key type to hand createHmac.
{
  const raw = randomBytes(32)
  const key = createSecretKey(raw)
  const message = `f1.AbCdEfGh.${randomBytes(140).toString('base64url')}`
  const tag = createHmac('sha256', key).update(message).digest('base64url')
  const mac = new HmacSha256(raw)
  group('2. HMAC-SHA256 verify of a 160-character token', {
    "digest('base64url'), latin1 Buffers, timingSafeEqual": () => {
      const expected = createHmac('sha256', key).update(message).digest('base64url')
      return timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(tag, 'latin1'))
    },
    "digest(), Buffer.from(tag, 'base64url'), timingSafeEqual": () => {
      const expected = createHmac('sha256', key).update(message).digest()
      const given = Buffer.from(tag, 'base64url')
      return given.length === 32 && timingSafeEqual(expected, given)
    },
    "digest('base64url') === tag (not constant-time)": () => createHmac('sha256', key).update(message).digest('base64url') === tag,
    "Frasco: HmacSha256 (two crypto.hash calls), constantTimeEqual": () => constantTimeEqual(mac.digest(message), tag),
    'createHmac with a KeyObject (sign)': () => createHmac('sha256', key).update(message).digest('base64url'),
    'createHmac with a Buffer key (sign)': () => createHmac('sha256', raw).update(message).digest('base64url'),
    "createHmac, digest() to a Buffer (sign)": () => createHmac('sha256', key).update(message).digest(),
    'Frasco: HmacSha256 (sign)': () => mac.digest(message),
  })
}

// 2b. Canonical base64url: a regex over the text first, or decode and encode back.
{
  const text = randomBytes(170).toString('base64url')
  const alphabet = /^[A-Za-z0-9_-]*$/
  group('2b. Canonical base64url decode of a 230-character field', {
    'regex check, then Buffer.from': () => alphabet.test(text) && Buffer.from(text, 'base64url'),
    'Buffer.from, then encode back and compare (decodeBase64url)': () => decodeBase64url(text),
    'into a shared buffer, encode back and compare (decodeField)': () => decodeField(text, true),
    'Buffer.from alone (lenient)': () => Buffer.from(text, 'base64url'),
  })
}

// 3. Where a session round trip goes: Frasco's stages next to the floor's.
{
  const secret = randomBytes(32).toString('base64url')
  const sessions = createSessions({ secrets: [secret], ...SESSION_LIFETIME })
  const token = sessions.sign(payload)
  const header = cookieHeader(token)
  const now = Math.floor(Date.now() / 1000)
  const core = new TokenCore(createKeyring([secret]), { purpose: 'session:session', clockTolerance: 60, maxTokenLength: 12288 })
  const opened = core.open(token, now, undefined)
  // The session format's codec, as createSessions builds it (3 chunks of 4096 bytes at most).
  const codec = FRASCO_FORMAT.createCodec({ secrets: [secret], purpose: 'session:session', maxTokenLength: 12288 })
  if (codec.decode(token, now, undefined).value?.username !== 'admin') throw new Error('levers: the format codec does not read the session token')
  const bytes = Buffer.from(json)
  const writer = createCookieWriter('session', { path: '/', httpOnly: true, sameSite: 'lax', secure: false })
  const body = token.split('.')[2]
  // The session store's shape: a null-prototype object in V8's fast mode (section 4).
  const store = Object.assign(Object.setPrototypeOf({}, null), payload)
  const session = sessions.read(header)
  const floor = createHmacFloor()
  const floorHeader = cookieHeader(floor.encode(payload))
  const key = createSecretKey(randomBytes(32))
  const results = group('3. A session round trip, stage by stage (Frasco internals from dist/; floor stages below)', {
    'Frasco round trip: read + set + commit': () => {
      const s = sessions.read(header)
      s.set('userId', 43)
      return sessions.commit(s).setCookie[0]
    },
    '  sessions.read': () => sessions.read(header),
    '    getCookie': () => getCookie(header, 'session'),
    '    format codec decode (FRASCO_FORMAT): open + decodeValue': () => codec.decode(token, now, undefined),
    '    token open: split, HMAC verify, base64url, times': () => core.open(token, now, undefined),
    '    decodePayload: toString, parse': () => decodePayload(opened.payload, false),
    '      of which parse (JSON.parse + tag scan + depth walk)': () => parse(json),
    '    createSession (copy into the store + Proxy), with a JSON.parse for fresh data': () => createSession({ data: JSON.parse(json), isNew: false }),
    '  session.set through the Proxy': () => session.set('userId', 43),
    '  sessions.commit': () => sessions.commit(session),
    '    format codec encode (FRASCO_FORMAT): stringify + seal': () => codec.encode(store, now, now + MAX_AGE, true),
    '    encodePayload: stringify (type walk + JSON) + UTF-8': () => encodePayload(store),
    '      of which stringify': () => stringify(store),
    '    token seal: body, base64url, HMAC sign': () => core.seal(0, now, now + MAX_AGE, bytes),
    '    cookie writer serialize (validates the value; commit skips that)': () => writer.serialize(token, { maxAge: MAX_AGE }),
    'floor round trip': () => floor.roundTrip(floorHeader, 'userId', 43),
    '  floor: HMAC sign of the body': () => createHmac('sha256', key).update(body).digest('base64url'),
    '  floor: JSON.parse': () => JSON.parse(json),
    '  floor: JSON.stringify (plain object)': () => JSON.stringify(payload),
    '  floor: base64url decode + isUtf8-free toString': () => Buffer.from(body, 'base64url').toString('utf8'),
    '  JSON.stringify of a null-prototype (dictionary-mode) object': () => JSON.stringify(store),
    '  isUtf8 of the payload': () => isUtf8(bytes),
  })
  const rt = results['Frasco round trip: read + set + commit']
  const fl = results['floor round trip']
  console.log(`  → round trip ${(rt / fl).toFixed(2)}× the floor; Frasco spends ${((rt - fl) / 1000).toFixed(2)} µs more per round trip`)
}

// 4. The session store: Object.create(null) is a dictionary-mode object in V8; instances of a
// constructor whose prototype has a null prototype keep null-prototype semantics with fast properties.
{
  function Store() {}
  Store.prototype = Object.create(null)
  const fill = (object) => {
    for (const key of Object.keys(payload)) object[key] = payload[key]
    return object
  }
  const slow = fill(Object.create(null))
  const fast = fill(new Store())
  group('4. Session store representation (copy in, JSON.stringify out, for-in emptiness check)', {
    'Object.create(null): copy in': () => fill(Object.create(null)),
    'fast null-prototype Store: copy in': () => fill(new Store()),
    'Object.create(null): JSON.stringify': () => JSON.stringify(slow),
    'fast null-prototype Store: JSON.stringify': () => JSON.stringify(fast),
    'Object.create(null): for-in first key': () => {
      for (const k in slow) return k
    },
    'fast null-prototype Store: for-in first key': () => {
      for (const k in fast) return k
    },
  })
}

// 5. node adapter: a per-request accessor with fresh closures vs one shared accessor.
{
  const socket = new Socket()
  const kState = Symbol('state')
  function sharedGet() {
    return this[kState].value
  }
  const shared = { configurable: true, enumerable: true, get: sharedGet, set() {} }
  const touch = (req) => req.url === undefined && req.method === undefined && req.headers !== undefined
  group('5. Putting a lazy `session` accessor on an IncomingMessage (new message + define + read)', {
    'no accessor': () => {
      const req = new IncomingMessage(socket)
      return touch(req)
    },
    'defineProperty with fresh get/set closures (as withSessions does)': () => {
      const req = new IncomingMessage(socket)
      const state = { value: 1 }
      Object.defineProperty(req, 'session', { configurable: true, enumerable: true, get: () => state.value, set() {} })
      return touch(req) && req.session
    },
    'defineProperty with one shared descriptor, state under a symbol': () => {
      const req = new IncomingMessage(socket)
      req[kState] = { value: 1 }
      Object.defineProperty(req, 'session', shared)
      return touch(req) && req.session
    },
  })
}

// 6. Flask cookies: what zlib costs on a typical session.
{
  const secret = randomBytes(32).toString('base64url')
  const flask = createFlaskCodec({ secrets: secret })
  const flaskPlain = createFlaskCodec({ secrets: secret, compress: false })
  const floor = createItsdangerousFloor({ secret })
  const floorZ = createItsdangerousFloor({ secret, compress: true })
  const roundTrip = (codec, cookie) => () => {
    const r = codec.verify(cookie)
    r.value.userId = 43
    return codec.sign(r.value)
  }
  const floorTrip = (f, cookie) => () => {
    const d = f.decode(cookie)
    d.userId = 43
    return f.encode(d)
  }
  const cookie = flask.sign(payload)
  const bytes = Buffer.from(json)
  console.log(`\n6. Flask: the typical session is ${json.length} bytes of JSON; default codec cookie ${cookie.length} chars (${cookie.startsWith('.') ? 'zlib-compressed' : 'not compressed'}), uncompressed ${flaskPlain.sign(payload).length}`)
  group('   Flask round trip (verify, change a key, sign)', {
    'floor, no zlib (bench/run.mjs floor)': floorTrip(floor, floor.encode(payload)),
    'floor with zlib as itsdangerous does (always try)': floorTrip(floorZ, floorZ.encode(payload)),
    'createFlaskCodec, default (zlib from 1024 bytes)': roundTrip(flask, cookie),
    'createFlaskCodec, compress: false': roundTrip(flaskPlain, flaskPlain.sign(payload)),
    'deflateSync of the payload alone': () => deflateSync(bytes),
    'inflateSync of it': (() => {
      const z = deflateSync(bytes)
      return () => inflateSync(z)
    })(),
  })
}
