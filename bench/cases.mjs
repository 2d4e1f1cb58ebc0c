// The figures of the benchmark: each pairs a Frasco operation with its floor (bench/floors.mjs)
// on the same payload.

import * as nodeCrypto from 'node:crypto'
import { randomBytes } from 'node:crypto'
import { createSerializer, createSessions } from '../dist/index.js'
import { COOKIE_NAME, MAX_AGE, createGcmFloor, createHmacFloor, createItsdangerousFloor } from './floors.mjs'

// The public `frasco/flask` entry point.
import { createFlaskCodec } from '../dist/flask/index.js'
// Internal: the e1 core, which `encrypt: true` no longer writes, measured beside x1.
import { createKeyring } from '../dist/index.js'
import { ObjectCodec } from '../dist/lib/codec.js'
import { SealedCore } from '../dist/lib/seal.js'

/**
 * The session lifetime of every figure: 14 days, in a persistent cookie (Max-Age), which is what
 * the floors write (bench/floors.mjs). Spread into createSessions' options.
 */
export const SESSION_LIFETIME = Object.freeze({ lifetime: MAX_AGE, persistent: true })

/** A typical session: who is logged in, their roles, a CSRF token, when they logged in. */
export function typicalPayload() {
  return {
    username: 'admin',
    userId: 42,
    roles: ['admin', 'editor'],
    csrf: randomBytes(16).toString('hex'),
    createdAt: Date.now(),
  }
}

// Other cookies around the session, as a browser would send them; both sides parse the same text.
export function cookieHeader(value) {
  return `lang=en; ${COOKIE_NAME}=${value}; theme=dark`
}

/** The value of the first Set-Cookie header, fed back as the next request's cookie. */
export function setCookieValue(setCookie) {
  return setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';'))
}

function secret() {
  return randomBytes(32).toString('base64url')
}

function check(condition, message) {
  if (!condition) throw new Error(`benchmark fixture is broken: ${message}`)
}

/** Whether createSessions accepts `encrypt: true` in this build (it writes x1 tokens, e1 before 1.1). */
export function sessionsCanEncrypt(secrets) {
  try {
    return /^[ex]1\./.test(createSessions({ secrets, encrypt: true }).sign({ a: 1 }))
  } catch {
    return false
  }
}

/**
 * Builds every microbenchmark pair. Each entry: id, label, target (a ratio and whether it is a
 * ceiling or a floor), the Frasco function and the floor function.
 */
export function buildCases() {
  const payload = typicalPayload()
  const cases = []
  const extras = []

  // 1. Native signed format (f1, HMAC-SHA256).
  {
    const secrets = [secret()]
    const sessions = createSessions({ secrets, ...SESSION_LIFETIME })
    // The codec createSessions uses: purpose `session:<cookie name>`.
    const serializer = createSerializer({ secrets, purpose: `session:${COOKIE_NAME}` })
    const floor = createHmacFloor()
    const token = serializer.sign(payload, { expiresIn: MAX_AGE })
    const floorToken = floor.encode(payload)
    check(sessions.verify(token).ok, 'serializer and sessions disagree')
    const header = cookieHeader(sessions.sign(payload))
    const floorHeader = cookieHeader(floorToken)
    const roundTrip = () => {
      const session = sessions.read(header)
      session.set('userId', 43)
      return sessions.commit(session).setCookie[0]
    }
    check(sessions.read(header).get('username') === 'admin', 'sessions.read')
    check(roundTrip().includes('Max-Age='), 'sessions.commit')
    check(floor.roundTrip(floorHeader, 'userId', 43).startsWith(`${COOKIE_NAME}=`), 'floor round trip')
    // Not a target: the same round trip against a floor that uses Frasco's own primitives, where
    // node:crypto has crypto.hash (Node 20.12 on). What is left is the session machinery itself.
    if (typeof nodeCrypto.hash === 'function') {
      const same = createHmacFloor(randomBytes(32), { primitives: 'frasco' })
      const sameHeader = cookieHeader(same.encode(payload))
      check(same.roundTrip(sameHeader, 'userId', 43).startsWith(`${COOKIE_NAME}=`), 'same-primitives floor')
      extras.push({
        id: 'signed-roundtrip-same-primitives',
        label: 'signed round trip, same primitives',
        detail: 'the signed round trip against a floor using one-shot HMAC and a string compare, as Frasco does',
        frasco: roundTrip,
        floor: () => same.roundTrip(sameHeader, 'userId', 43),
      })
    }
    cases.push(
      {
        id: 'signed-encode',
        label: 'signed: encode',
        detail: 'createSerializer().sign vs JSON + base64url + HMAC-SHA256',
        target: 1.25,
        frasco: () => serializer.sign(payload, { expiresIn: MAX_AGE }),
        floor: () => floor.encode(payload),
      },
      {
        id: 'signed-decode',
        label: 'signed: decode',
        detail: 'createSerializer().unsign vs split + HMAC + timingSafeEqual + base64url + JSON.parse',
        target: 1.25,
        frasco: () => serializer.unsign(token),
        floor: () => floor.decode(floorToken),
      },
      {
        id: 'signed-roundtrip',
        label: 'signed: round trip',
        detail: 'sessions.read(Cookie) + session.set + sessions.commit vs the same by hand',
        target: 1.25,
        frasco: roundTrip,
        floor: () => floor.roundTrip(floorHeader, 'userId', 43),
      },
    )
  }

  // 2. Encrypted formats: x1 (XAES-256-GCM, what `encrypt: true` writes) and e1 (AES-256-GCM, the
  // old core, still read), each encode, decode and round trip against the one AES-256-GCM floor.
  // Builds before x1 wrote e1 from createSerializer and sessions: then the x1 rows measure e1.
  {
    const secrets = [secret()]
    const purpose = `session:${COOKIE_NAME}`
    const floor = createGcmFloor({ nonces: 'pool' })
    const floorToken = floor.encode(payload)
    check(floor.decode(floorToken).csrf === payload.csrf, 'GCM floor')
    const floorHeader = cookieHeader(floorToken)
    check(floor.roundTrip(floorHeader, 'userId', 43).startsWith(`${COOKIE_NAME}=`), 'GCM floor round trip')
    // The codec-level round trip of the floor: decode, change one key, encode.
    const floorTrip = () => {
      const data = floor.decode(floorToken)
      data.userId = 43
      return floor.encode(data)
    }
    const serializer = createSerializer({ secrets, purpose, encrypt: true })
    const token = serializer.sign(payload, { expiresIn: MAX_AGE })
    check(/^[ex]1\./.test(token) && serializer.unsign(token).csrf === payload.csrf, 'encrypted serializer')
    const format = token.slice(0, 2)
    cases.push(
      {
        id: 'encrypted-encode',
        label: `encrypted: encode (${format})`,
        detail: `createSerializer({ encrypt: true }).sign (${format}) vs JSON + AES-256-GCM + base64url by hand (pooled nonces)`,
        target: 1.25,
        frasco: () => serializer.sign(payload, { expiresIn: MAX_AGE }),
        floor: () => floor.encode(payload),
      },
      {
        id: 'encrypted-decode',
        label: `encrypted: decode (${format})`,
        detail: `createSerializer({ encrypt: true }).unsign (${format}) vs base64url + AES-256-GCM open + JSON.parse by hand`,
        target: 1.25,
        frasco: () => serializer.unsign(token),
        floor: () => floor.decode(floorToken),
      },
    )
    if (sessionsCanEncrypt(secrets)) {
      const sessions = createSessions({ secrets, ...SESSION_LIFETIME, encrypt: true })
      const header = cookieHeader(sessions.sign(payload))
      cases.push({
        id: 'encrypted-roundtrip',
        label: `encrypted: round trip (${format})`,
        detail: `createSessions({ encrypt: true }) read + set + commit (${format}) vs AES-256-GCM by hand (pooled nonces)`,
        target: 1.25,
        frasco: () => {
          const session = sessions.read(header)
          session.set('userId', 43)
          return sessions.commit(session).setCookie[0]
        },
        floor: () => floor.roundTrip(floorHeader, 'userId', 43),
      })
    } else {
      cases.push({
        id: 'encrypted-roundtrip',
        label: `encrypted: round trip (${format})`,
        detail: `createSerializer({ encrypt: true }) unsign + change + sign (${format}) vs AES-256-GCM by hand (pooled nonces)`,
        target: 1.25,
        frasco: () => {
          const data = serializer.unsign(token)
          data.userId = 43
          return serializer.sign(data, { expiresIn: MAX_AGE })
        },
        floor: floorTrip,
      })
    }

    // e1, through the old core directly (createSerializer no longer writes it): the object codec
    // over SealedCore, as createSerializer built it before x1. Its round trip is at the codec
    // level (decode, change, encode), against the floor's decode, change, encode.
    if (format === 'x1') {
      const core = new SealedCore(createKeyring(secrets), { purpose, clockTolerance: 60, maxTokenLength: 65_536 })
      const e1 = new ObjectCodec(core, Number.POSITIVE_INFINITY, 131_072)
      const now = () => Math.floor(Date.now() / 1000)
      const e1Token = e1.encode(payload, now(), now() + MAX_AGE)
      check(e1Token.startsWith('e1.') && serializer.unsign(e1Token).csrf === payload.csrf, 'e1 core')
      check(e1.decode(e1Token, now(), undefined).value?.csrf === payload.csrf, 'e1 codec')
      const e1Decode = () => {
        const decoded = e1.decode(e1Token, now(), undefined)
        if (decoded instanceof Error) throw decoded
        return decoded.value
      }
      const e1Trip = () => {
        const at = now()
        const decoded = e1.decode(e1Token, at, undefined)
        if (decoded instanceof Error) throw decoded
        decoded.value.userId = 43
        return e1.encode(decoded.value, at, at + MAX_AGE)
      }
      const x1Trip = () => {
        const data = serializer.unsign(token)
        data.userId = 43
        return serializer.sign(data, { expiresIn: MAX_AGE })
      }
      cases.push(
        {
          id: 'e1-encode',
          label: 'encrypted: encode (e1)',
          detail: 'the e1 core (AES-256-GCM, read but no longer written) encode vs the same floor',
          target: 1.25,
          frasco: () => {
            const at = now()
            return e1.encode(payload, at, at + MAX_AGE)
          },
          floor: () => floor.encode(payload),
        },
        {
          id: 'e1-decode',
          label: 'encrypted: decode (e1)',
          detail: 'the e1 core decode vs the same floor',
          target: 1.25,
          frasco: e1Decode,
          floor: () => floor.decode(floorToken),
        },
        {
          id: 'e1-roundtrip',
          label: 'encrypted: round trip (e1)',
          detail: 'the e1 core decode + change + encode vs the floor\'s decode + change + encode',
          target: 1.25,
          frasco: e1Trip,
          floor: floorTrip,
        },
      )
      extras.push(
        {
          id: 'x1-codec-roundtrip',
          label: 'x1 codec round trip',
          detail: 'createSerializer({ encrypt: true }) unsign + change + sign (x1, XAES-256-GCM) vs AES-256-GCM by hand',
          note: 'x1 at the codec level (unsign, change, sign: no cookie, no Session) against the floor\'s decode, change, encode, the counterpart of the e1 round trip',
          frasco: x1Trip,
          floor: floorTrip,
        },
        {
          id: 'x1-vs-e1',
          label: 'x1 / e1 codec round trip',
          detail: 'the x1 codec round trip vs the e1 one: the cost of the per-token key derivation',
          note: 'x1 against e1 directly: what the per-token XAES key derivation costs',
          frasco: x1Trip,
          floor: e1Trip,
        },
      )
    }
  }

  // 3. Flask's session cookie (itsdangerous, HMAC-SHA1).
  {
    const flaskSecret = secret()
    const flask = createFlaskCodec({ secrets: flaskSecret })
    const floor = createItsdangerousFloor({ secret: flaskSecret })
    const cookie = flask.sign(payload)
    const floorCookie = floor.encode(payload)
    check(flask.verify(cookie).ok, 'Flask codec')
    // The floor writes what Frasco writes when Frasco does not compress: the same bytes.
    check(flask.verify(floorCookie).ok && floor.decode(cookie) !== undefined, 'Flask floor does not interoperate')
    cases.push({
      id: 'flask-roundtrip',
      label: 'Flask: round trip',
      detail: 'createFlaskCodec verify + change + sign vs itsdangerous by hand (HMAC-SHA1, sorted JSON)',
      target: 1.5,
      frasco: () => {
        const result = flask.verify(cookie)
        if (!result.ok) throw result.error
        result.value.userId = 43
        return flask.sign(result.value)
      },
      floor: () => {
        const data = floor.decode(floorCookie)
        data.userId = 43
        return floor.encode(data)
      },
    })
  }

  // 4. Keyring of 16: a token of the oldest key, verified by all 16 or by that key alone.
  {
    const secrets = Array.from({ length: 16 }, secret)
    const oldest = secrets[15]
    const purpose = `session:${COOKIE_NAME}`
    const ring16 = createSerializer({ secrets, purpose })
    const ring1 = createSerializer({ secrets: [oldest], purpose })
    const token = ring1.sign(payload, { expiresIn: MAX_AGE })
    const result = ring16.verify(token)
    check(result.ok && result.stale, 'keyring of 16')
    cases.push({
      id: 'keyring-16',
      label: 'keyring of 16: verify oldest',
      detail: 'verify with 16 secrets vs with 1 (same token, signed by the oldest)',
      target: 1.1,
      floorName: '1-key ring',
      frasco: () => ring16.verify(token),
      floor: () => ring1.verify(token),
    })
  }

  return { payload, cases, extras }
}
