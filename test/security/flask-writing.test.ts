/**
 * Issue 12, item 6: what Frasco writes for Flask and itsdangerous, and how it reads what Flask
 * itself would choke on, checked against real Flask 2.2 (Debian's python3-flask on Python 3.11)
 * through the oracle (test/flask/oracle.py):
 *
 * a. Python refuses int/str conversions beyond 4300 digits (sys.int_info.default_max_str_digits),
 *    so json cannot write or read such an int: Frasco refuses to write one (TypeError naming the
 *    path) and reads one as a malformed payload, where Flask answers with a 500 (BadPayload).
 * b. A signed JSON `null` payload: Flask opens an empty session (its session class does
 *    `dict(None or ())`); Frasco reports the payload as malformed and hands out an empty session
 *    too, as docs/flask.md explains.
 * c. An outer tuple of flashes: Flask's flash() appends to `_flashes`, so it must be a list; the
 *    Flask format writes it as one whatever the app put there.
 */
import { deflateSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PayloadMalformed, type SessionErrorCode } from '../../src/errors.js'
import { createFlaskCodec } from '../../src/flask/codec.js'
import { createFlaskFormat } from '../../src/flask/format.js'
import { createItsdangerousSerializer, createItsdangerousSigner } from '../../src/flask/itsdangerous.js'
import { decodeFlaskJson, encodeFlaskJson, isTuple, tuple } from '../../src/flask/json.js'
import { decodePythonJson, encodePythonJson } from '../../src/flask/python-json.js'
import type { SessionData } from '../../src/session.js'
import { createSessions } from '../../src/sessions.js'
import { describeFlask, normalizeSpec, py, startOracle, type Oracle, type Spec } from '../flask/python.js'

const SECRET = 'flask-writing-secret'
const NOW_S = 1_800_000_000
const NOW = NOW_S * 1000

/** The smallest integer of `digits` decimal digits. */
const ofDigits = (digits: number): bigint => 10n ** BigInt(digits - 1)

/**
 * The session cookie itsdangerous signs for a JSON payload Frasco refuses to write. Compressed, as
 * Flask and Frasco write a long payload: 4301 digits in plain base64 would exceed a browser's
 * 4096 bytes.
 */
async function signFlaskPayload(oracle: Oracle, json: string): Promise<string> {
  const payload = '.' + deflateSync(json).toString('base64url')
  const [signed] = await oracle.run<{ token: string }>([
    { op: 'its', kind: 'TimestampSigner', secret_key: SECRET, salt: 'cookie-session', key_derivation: 'hmac', digest: 'sha1', action: 'dumps', value: payload, now: NOW_S },
  ])
  return signed?.token as string
}

function flaskSessions() {
  const invalid: SessionErrorCode[] = []
  const sessions = createSessions<SessionData>({ format: createFlaskFormat(), secrets: SECRET, clock: () => NOW, onInvalid: (e) => invalid.push(e.code) })
  return { sessions, invalid }
}

/** The cookie value a Frasco Flask-format session with `data` commits. */
function frascoCookie(data: Record<string, unknown>): string {
  const { sessions } = flaskSessions()
  const session = sessions.read(undefined)
  for (const [key, value] of Object.entries(data)) session.set(key, value)
  const header = sessions.commit(session).setCookie[0] as string
  return header.slice('session='.length, header.indexOf(';'))
}

interface Opened {
  session: Spec | null
  open_error: string | null
  loads_error: string | null
  flash_error?: string | null
  flashes?: Spec | null
}

describe("a. integers beyond Python's 4300-digit int/str conversion limit", () => {
  it.each([
    ['4300 digits', ofDigits(4300), true],
    ['4301 digits', ofDigits(4301), false],
    ['-4300 digits (the sign does not count)', -(ofDigits(4301) - 1n), true],
    ['-4301 digits', -ofDigits(4301), false],
  ] as const)('%s', (_name, n, fits) => {
    const json = `{"n":${n}}`
    if (fits) {
      expect(encodePythonJson({ n })).toBe(json)
      expect(encodeFlaskJson({ n }, 'session')).toBe(json)
      expect(decodePythonJson(json)).toEqual({ n })
      expect(decodeFlaskJson(json)).toEqual({ n })
    } else {
      const digits = String(n).replace('-', '').length
      const message = `value at session.n is invalid: an integer of ${digits} digits is beyond Python's limit of 4300 digits`
      expect(() => encodeFlaskJson({ n }, 'session')).toThrow(TypeError)
      expect(() => encodeFlaskJson({ n }, 'session')).toThrow(message)
      expect(() => encodePythonJson({ n }, { path: 'session' })).toThrow(message)
      expect(() => decodePythonJson(json)).toThrow(PayloadMalformed)
      expect(() => decodePythonJson(json)).toThrow('an integer of more than 4300 digits')
      expect(() => decodeFlaskJson(json)).toThrow(PayloadMalformed)
    }
  })

  it('names the path wherever the integer sits, in a tag too, and at the top', () => {
    const big = ofDigits(4301)
    expect(() => encodeFlaskJson({ cart: [{ qty: big }] }, 'session')).toThrow(/^value at session\.cart\[0\]\.qty is invalid: an integer of 4301 digits/)
    expect(() => encodeFlaskJson({ pair: tuple(1, big) }, 'session')).toThrow(/^value at session\.pair\[1\] is invalid/)
    expect(() => encodePythonJson(big)).toThrow(/^value is invalid: an integer of 4301 digits .*store it as a string$/)
    expect(() => decodeFlaskJson(`{"pair":{" t":[1,${big}]}}`)).toThrow(PayloadMalformed)
  })

  it('every writer refuses it: createSessions, createFlaskCodec, createItsdangerousSerializer', () => {
    const big = ofDigits(4301)
    const { sessions } = flaskSessions()
    const session = sessions.read(undefined)
    session.set('n', big)
    expect(() => sessions.commit(session)).toThrow(/^value at session\.n is invalid: an integer of 4301 digits/)
    expect(() => createFlaskCodec({ secrets: SECRET }).sign({ n: big })).toThrow(/^value at session\.n is invalid/)
    expect(() => createItsdangerousSerializer({ secrets: SECRET }).sign({ n: big })).toThrow(/^value at value\.n is invalid/)
  })

  it('a float literal of any length is a float, as in Python (inf), not an int', () => {
    const long = `1${'0'.repeat(4400)}`
    expect(decodePythonJson(`[${long}.0,${long}e0]`)).toEqual([Infinity, Infinity])
  })
})

describeFlask('issue 12, item 6, against real Flask 2.2 (oracle)', () => {
  let oracle: Oracle
  beforeAll(() => {
    oracle = startOracle()
  })
  afterAll(() => oracle?.close())

  const open = async (cookie: string, extra: Record<string, unknown> = {}): Promise<Opened> => {
    const [opened] = await oracle.run<Opened>([{ op: 'flask_open', secret_key: SECRET, cookie, now: NOW_S, ...extra }])
    return opened as Opened
  }

  describe("a. integers at Python's 4300-digit limit", () => {
    it.each([
      ['4300 digits', ofDigits(4300)],
      ['-4300 digits', -(ofDigits(4301) - 1n)],
    ])('what Frasco writes at the boundary (%s), Flask opens with the same int', async (_name, n) => {
      const cookie = frascoCookie({ n })
      expect(cookie.length).toBeLessThan(200) // compressed: such an int fits in a browser's cookie
      const opened = await open(cookie)
      expect(opened).toMatchObject({ open_error: null, loads_error: null })
      expect(opened.session).toEqual(py.dict({ n: py.int(n) }))
    })

    it.each([
      ['4301 digits', ofDigits(4301)],
      ['-4301 digits', -ofDigits(4301)],
    ])('a cookie carrying %s: Flask fails with BadPayload (uncaught by open_session: a 500), Frasco reads it as malformed', async (_name, n) => {
      const cookie = await signFlaskPayload(oracle, `{"n":${n}}`)
      expect(cookie.length).toBeLessThan(200)
      expect(await open(cookie)).toMatchObject({ session: null, open_error: 'BadPayload', loads_error: 'BadPayload' })
      const { sessions, invalid } = flaskSessions()
      expect(sessions.read(`session=${cookie}`).keys()).toEqual([])
      expect(invalid).toEqual(['ERR_SESSION_MALFORMED'])
      const codec = createFlaskCodec({ secrets: SECRET, clock: () => NOW })
      expect(codec.verify(cookie)).toMatchObject({ ok: false, error: { code: 'ERR_SESSION_MALFORMED' } })
    })

    it('the same for itsdangerous: URLSafeSerializer.loads raises BadPayload, Frasco verify reports it malformed', async () => {
      const frasco = createItsdangerousSerializer({ secrets: SECRET })
      const ok = frasco.sign({ n: ofDigits(4300) })
      // Signed as URLSafeSerializer signs its payload: Signer(SECRET, salt='itsdangerous').
      const tooLong = createItsdangerousSigner({ secrets: SECRET, salt: 'itsdangerous' }).sign(Buffer.from(`{"n":${ofDigits(4301)}}`).toString('base64url'))
      const answers = await oracle.run<{ value?: Spec; error?: string }>(
        [ok, tooLong].map((token) => ({ op: 'its', kind: 'URLSafeSerializer', secret_key: SECRET, action: 'loads', token, now: NOW_S })),
      )
      expect(answers).toEqual([{ value: py.dict({ n: py.int(ofDigits(4300)) }) }, { error: 'BadPayload' }])
      expect(frasco.verify(tooLong)).toMatchObject({ ok: false, error: { code: 'ERR_SESSION_MALFORMED' } })
    })
  })

  describe('b. a signed payload that is not a JSON object (docs/flask.md, "Payloads that are not a dict")', () => {
    // SecureCookieSession(data) is dict(data or ()): a falsy payload is an empty session, a list of
    // pairs becomes a dict, anything else raises (a 500). Frasco refuses them all as malformed.
    const cases: Array<[name: string, payload: Spec, flask: Partial<Opened>]> = [
      ['null', py.none, { session: py.dict({}), open_error: null }],
      ['false', py.bool(false), { session: py.dict({}), open_error: null }],
      ['0', py.int(0), { session: py.dict({}), open_error: null }],
      ['""', py.str(''), { session: py.dict({}), open_error: null }],
      ['[]', py.list(), { session: py.dict({}), open_error: null }],
      ['[["a", 1]]', py.list(py.list(py.str('a'), py.int(1))), { session: py.dict({ a: py.int(1) }), open_error: null }],
      ['true', py.bool(true), { session: null, open_error: 'TypeError' }],
      ['1', py.int(1), { session: null, open_error: 'TypeError' }],
    ]

    it.each(cases)('%s: what Flask does, and Frasco: an empty session and ERR_SESSION_MALFORMED to onInvalid', async (_name, payload, flask) => {
      const [signed] = await oracle.run<{ cookie: string }>([{ op: 'flask_dumps', secret_key: SECRET, session: payload, now: NOW_S }])
      const cookie = signed?.cookie as string
      expect(await open(cookie)).toMatchObject({ ...flask, loads_error: null })

      const { sessions, invalid } = flaskSessions()
      const session = sessions.read(`session=${cookie}`)
      expect(session.keys()).toEqual([])
      expect(invalid).toEqual(['ERR_SESSION_MALFORMED'])
      const codec = createFlaskCodec({ secrets: SECRET, clock: () => NOW })
      const result = codec.verify(cookie)
      expect(result).toMatchObject({ ok: false, error: { code: 'ERR_SESSION_MALFORMED' } })
      expect(!result.ok && result.error.message).toBe('payload is not a JSON object')
    })
  })

  describe('c. an outer tuple of flashes', () => {
    it.each([
      ['a tuple of tuples', () => tuple(tuple('message', 'Hi'))],
      ['a tuple of plain pairs', () => tuple(['message', 'Hi'])],
    ])('%s is written as a list: Flask reads a list of tuples and flash() appends to it', async (_name, make) => {
      const flashes = make()
      const cookie = frascoCookie({ _flashes: flashes })
      // The session's own value is left as the app set it.
      expect(isTuple(flashes)).toBe(true)
      const opened = await open(cookie, { flash: [['info', 'More']] })
      expect(opened).toMatchObject({ open_error: null, loads_error: null, flash_error: null })
      expect(normalizeSpec(opened.session as Spec)).toEqual(normalizeSpec(py.dict({ _flashes: py.list(py.tuple(py.str('message'), py.str('Hi'))) })))
      expect(opened.flashes).toEqual(py.list(py.tuple(py.str('message'), py.str('Hi')), py.tuple(py.str('info'), py.str('More'))))
    })

    it('what Flask itself writes for flash() is a list, which Frasco reads as a plain array', async () => {
      const [made] = await oracle.run<{ cookie: string }>([{ op: 'flask_save', secret_key: SECRET, session: py.dict({}), flash: [['message', 'Hi']], now: NOW_S }])
      const { sessions } = flaskSessions()
      const flashes = sessions.read(`session=${made?.cookie}`).get('_flashes') as unknown[]
      expect(isTuple(flashes)).toBe(false)
      expect(isTuple(flashes[0])).toBe(true)
    })
  })
})
