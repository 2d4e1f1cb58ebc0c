/**
 * The f1 token core: what it refuses inside an authentic token (the body's structure and times),
 * and the checks on what callers give it (times, purposes). Tokens Frasco itself never writes are
 * forged here with node:crypto's HMAC and HKDF, as docs/format.md specifies them, so a holder of
 * the key is simulated without the code under test.
 */
import { Buffer } from 'node:buffer'
import { createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import type { SessionError } from '../../src/errors.js'
import { deriveKeyId } from '../../src/keyring.js'
import { SCRATCH_LIMIT } from '../../src/lib/buffers.js'
import { FLAG_DEFLATE, FLAG_EXPIRES, FLAG_OBJECT, FLAG_PERSISTENT, MAX_SECONDS, assertPurpose, decodeField, peekToken, toSeconds, writeBody } from '../../src/lib/token.js'
import { createSessions } from '../../src/sessions.js'
import { createSerializer, createSigner, type VerifyResult } from '../../src/signer.js'

const secret = randomBytes(32).toString('base64url')
const PURPOSE = 'token-core'
const NOW = 1_800_000_000 // seconds
const NOW_MS = NOW * 1000

/** flags:u8 | iat:u48be | [exp:u48be] | payload, as docs/format.md lays the body out. */
function body(flags: number, issuedAt: number, expiresAt?: number, payload: Uint8Array | string = ''): Buffer {
  const time = (seconds: number) => {
    const bytes = Buffer.alloc(6)
    bytes.writeUIntBE(seconds, 0, 6)
    return bytes
  }
  return Buffer.concat([Buffer.from([flags]), time(issuedAt), ...(expiresAt === undefined ? [] : [time(expiresAt)]), Buffer.from(payload)])
}

/** An f1 token over any body bytes, signed as a holder of `secret` would sign it. */
function forge(bytes: Uint8Array, { purpose = PURPOSE, kid = deriveKeyId(secret) } = {}): string {
  const subkey = Buffer.from(hkdfSync('sha256', Buffer.from(secret), Buffer.alloc(0), Buffer.from(`frasco/v1/sign\0${purpose}`), 32))
  const signed = `f1.${kid}.${Buffer.from(bytes).toString('base64url')}`
  return `${signed}.${createHmac('sha256', subkey).update(signed).digest('base64url')}`
}

const outcome = (result: VerifyResult<unknown>) => (result.ok ? { ok: true, value: result.value } : { code: result.error.code, message: result.error.message })

describe('an authentic token whose body is not one Frasco writes', () => {
  const signer = createSigner({ secrets: secret, purpose: PURPOSE })
  const serializer = createSerializer({ secrets: secret, purpose: PURPOSE })
  const truncated = { code: 'ERR_SESSION_MALFORMED', message: 'token body is truncated' }
  const unknownFlags = { code: 'ERR_SESSION_MALFORMED', message: 'token has unknown flags' }

  it('is signed the way Frasco signs (the forging helper is right)', () => {
    expect(forge(body(0, NOW, undefined, 'hi'))).toBe(signer.sign('hi', { now: NOW_MS }))
    expect(forge(body(FLAG_EXPIRES, NOW, NOW + 60, 'hi'))).toBe(signer.sign('hi', { now: NOW_MS, expiresIn: 60 }))
  })

  it.each<[string, Buffer, unknown]>([
    ['an empty body', Buffer.alloc(0), truncated],
    ['one byte, with unknown flag bits', Buffer.from([0x80]), truncated],
    ['a body one byte short of the issue time', body(0, NOW).subarray(0, 6), truncated],
    ['flags and issue time only: an empty value', body(0, NOW), { ok: true, value: '' }],
    ['the expiry flag without an expiry', body(FLAG_EXPIRES, NOW), truncated],
    ['the expiry flag and an expiry one byte short', body(FLAG_EXPIRES, NOW, NOW + 60).subarray(0, 12), truncated],
    ['the expiry flag and a whole expiry', body(FLAG_EXPIRES, NOW, NOW + 60), { ok: true, value: '' }],
    ...[0x10, 0x20, 0x40, 0x80].map((bit) => [`unknown flag bit 0x${bit.toString(16)}`, body(bit, NOW, undefined, 'x'), unknownFlags] as [string, Buffer, unknown]),
  ])('signer: %s', (_, bytes, expected) => {
    expect(outcome(signer.verify(forge(bytes), { now: NOW_MS }))).toEqual(expected)
  })

  it('reads a body in a spelling Frasco does not write (the MAC vouches for the text), never throwing', () => {
    // Padding and the standard alphabet: Buffer.from reads them as the same bytes.
    const spelled = body(0, NOW, undefined, '>>>???').toString('base64')
    expect(spelled).toMatch(/[+/=]/)
    const subkey = Buffer.from(hkdfSync('sha256', Buffer.from(secret), Buffer.alloc(0), Buffer.from(`frasco/v1/sign\0${PURPOSE}`), 32))
    const signed = `f1.${deriveKeyId(secret)}.${spelled}`
    const token = `${signed}.${createHmac('sha256', subkey).update(signed).digest('base64url')}`
    expect(outcome(signer.verify(token, { now: NOW_MS }))).toEqual({ ok: true, value: '>>>???' })
  })

  it.each<[string, Buffer, unknown]>([
    ['a signer token (a string value)', body(0, NOW, undefined, '"x"'), { code: 'ERR_SESSION_MALFORMED', message: 'token holds a string or bytes value, not an object' }],
    ['an unknown flag bit beside the object flag', body(FLAG_OBJECT | 0x10, NOW, undefined, '{}'), unknownFlags],
    ['unknown flag bits beside every known one', body(FLAG_OBJECT | FLAG_PERSISTENT | FLAG_DEFLATE | 0xf0, NOW, undefined, '{}'), unknownFlags],
    ['the object flag on a truncated body', Buffer.from([FLAG_OBJECT, 0, 0]), truncated],
    ['the object flag and a valid body', body(FLAG_OBJECT, NOW, undefined, '{"a":1}'), { ok: true, value: { a: 1 } }],
  ])('serializer: %s', (_, bytes, expected) => {
    expect(outcome(serializer.verify(forge(bytes), { now: NOW_MS }))).toEqual(expected)
  })
})

describe('tokens that are not f1 tokens of this keyring', () => {
  const signer = createSigner({ secrets: secret, purpose: PURPOSE })
  const serializer = createSerializer({ secrets: secret, purpose: PURPOSE })
  const kid = deriveKeyId(secret)
  const [, , validBody, validTag] = signer.sign('x', { now: NOW_MS }).split('.') as [string, string, string, string]
  const fields = { code: 'ERR_SESSION_MALFORMED', message: 'token does not have 4 fields' }

  it.each<[string, unknown, unknown]>([
    ['a number', 42, { code: 'ERR_SESSION_MALFORMED', message: 'token is not a string' }],
    ['undefined', undefined, { code: 'ERR_SESSION_MALFORMED', message: 'token is not a string' }],
    ['text without a dot', 'f1', { code: 'ERR_SESSION_MALFORMED', message: 'token has no version field' }],
    ['another version', `f2.${kid}.${validBody}.${validTag}`, { code: 'ERR_SESSION_UNSUPPORTED_VERSION', message: 'token is not a f1 token' }],
    ['a version with a suffix', `f11.${kid}.${validBody}.${validTag}`, { code: 'ERR_SESSION_UNSUPPORTED_VERSION', message: 'token is not a f1 token' }],
    ['three fields of this key', `f1.${kid}.${validTag}`, fields],
    ['two fields of this key', `f1.${kid}`, fields],
    ['five fields of this key', `f1.${kid}.${validBody}.${validTag}.${validTag}`, fields],
    ['a key id no key has', `f1.nobody.${validBody}.${validTag}`, { code: 'ERR_SESSION_UNKNOWN_KEY', message: 'token was signed with a key that is not in the keyring' }],
    ['a tag one character short', `f1.${kid}.${validBody}.${validTag.slice(1)}`, { code: 'ERR_SESSION_SIGNATURE_INVALID', message: 'signature does not match' }],
  ])('%s: the code and the reason', (_, token, expected) => {
    expect(outcome(signer.verify(token as string, { now: NOW_MS }))).toEqual(expected)
    expect(outcome(serializer.verify(token as string, { now: NOW_MS }))).toEqual(expected)
  })

  it('reads a token exactly maxTokenLength characters long, and refuses one character more', () => {
    const token = signer.sign('x'.repeat(100), { now: NOW_MS })
    const exact = createSigner({ secrets: secret, purpose: PURPOSE, maxTokenLength: token.length })
    expect(outcome(exact.verify(token, { now: NOW_MS }))).toEqual({ ok: true, value: 'x'.repeat(100) })
    const shorter = createSigner({ secrets: secret, purpose: PURPOSE, maxTokenLength: token.length - 1 })
    expect(outcome(shorter.verify(token, { now: NOW_MS }))).toEqual({
      code: 'ERR_SESSION_PAYLOAD_TOO_LARGE',
      message: `payload of ${token.length} bytes exceeds the limit of ${token.length - 1}`,
    })
  })
})

describe('token factory options, at their edges', () => {
  const create = (extra: object) => createSerializer({ secrets: secret, purpose: PURPOSE, ...extra })

  it.each<[string, number]>([
    ['clockTolerance', 0],
    ['clockTolerance', 400 * 24 * 60 * 60],
    ['maxTokenLength', 64],
    ['maxBytes', 1],
    ['maxBytes', 2 ** 31 - 1],
  ])('takes %s: %i', (name, value) => {
    expect(() => create({ [name]: value })).not.toThrow()
  })

  it.each<[string, number, string]>([
    ['clockTolerance', -1, 'option clockTolerance is invalid: give a number of seconds, 0 or more'],
    ['clockTolerance', Number.NaN, 'option clockTolerance is invalid: give a number of seconds, 0 or more'],
    ['clockTolerance', 60_000_000, 'option clockTolerance is invalid: 60000000 is more than 400 days; lifetimes are in seconds, not milliseconds (at most 34560000)'],
    ['maxTokenLength', 63, 'option maxTokenLength is invalid: give a whole number of characters, at least 64'],
    ['maxTokenLength', 64.5, 'option maxTokenLength is invalid: give a whole number of characters, at least 64'],
    ['maxBytes', 0, 'option maxBytes is invalid: give a positive whole number of bytes'],
    ['maxBytes', 2 ** 31, 'option maxBytes is invalid: give a positive whole number of bytes'],
    ['maxBytes', 1.5, 'option maxBytes is invalid: give a positive whole number of bytes'],
  ])('refuses %s: %d', (name, value, message) => {
    expect(() => create({ [name]: value })).toThrow(new TypeError(message))
  })

  // Short values skip the encoder's size check on their way to the token; that shortcut must not
  // skip maxBytes when compression is off.
  it.each<[string, object]>([
    ['compression off', { compress: false }],
    ['a compression threshold above maxBytes', { compress: { threshold: 1000 } }],
    ['encrypted', { encrypt: true }],
  ])('refuses to write a value over maxBytes, %s', (_, extra) => {
    const serializer = create({ maxBytes: 20, ...extra })
    expect(serializer.sign({ a: 'x'.repeat(10) })).toMatch(/^[fx]1\./)
    expect(() => serializer.sign({ a: 'x'.repeat(20) })).toThrow('value of 28 bytes (as JSON) exceeds maxBytes (20), the most a reader accepts')
  })
})

describe('times, at the edges, with a clock tolerance of 5 s', () => {
  const tolerance = 5
  // Built in a hook, not the describe body: a failure here must fail tests, not stop the file loading.
  let signer: ReturnType<typeof createSigner>
  beforeAll(() => {
    signer = createSigner({ secrets: secret, purpose: PURPOSE, clockTolerance: tolerance })
  })
  const at = (token: string, now: number, maxAge?: number) => signer.verify(token, { now: now * 1000, ...(maxAge === undefined ? {} : { maxAge }) })
  const codeOf = (result: VerifyResult<unknown>) => (result.ok ? 'ok' : result.error.code)

  it.each([
    ['issued tolerance seconds ahead of the clock', 0, 'ok'],
    ['issued one second beyond the tolerance ahead', 1, 'ERR_SESSION_NOT_YET_VALID'],
  ])('%s: %s', (_, beyond, code) => {
    const issuedAt = NOW + tolerance + beyond
    const result = at(signer.sign('x', { now: issuedAt * 1000 }), NOW)
    expect(codeOf(result)).toBe(code)
    if (!result.ok) expect((result.error as SessionError & { issuedAt: Date }).issuedAt).toEqual(new Date(issuedAt * 1000))
  })

  it.each([
    // Expiry is exclusive: invalid from its second on, `tolerance` seconds late.
    ['the expiry one second ahead of (now - tolerance)', 1, 'ok'],
    ['the expiry at (now - tolerance)', 0, 'ERR_SESSION_EXPIRED'],
    ['the expiry before (now - tolerance)', -1, 'ERR_SESSION_EXPIRED'],
  ])('%s: %s', (_, offset, code) => {
    const expiresAt = NOW - tolerance + offset
    const result = at(signer.sign('x', { now: (expiresAt - 100) * 1000, expiresIn: 100 }), NOW)
    expect(codeOf(result)).toBe(code)
    if (!result.ok) expect((result.error as SessionError & { expiredAt: Date }).expiredAt).toEqual(new Date(expiresAt * 1000))
  })

  it.each([
    // maxAge is inclusive: valid while at most maxAge seconds old, `tolerance` seconds more.
    ['exactly maxAge + tolerance seconds old', 0, 'ok'],
    ['one second older', 1, 'ERR_SESSION_EXPIRED'],
  ])('%s: %s', (_, older, code) => {
    const maxAge = 30
    const issuedAt = NOW - maxAge - tolerance - older
    const result = at(signer.sign('x', { now: issuedAt * 1000 }), NOW, maxAge)
    expect(codeOf(result)).toBe(code)
    if (!result.ok) expect((result.error as SessionError & { expiredAt: Date }).expiredAt).toEqual(new Date((issuedAt + maxAge) * 1000))
  })

  it('checks maxAge and the expiry each on their own: the earlier limit wins', () => {
    const token = signer.sign('x', { now: (NOW - 100) * 1000, expiresIn: 1000 })
    expect(codeOf(at(token, NOW, 200))).toBe('ok')
    expect(codeOf(at(token, NOW, 50))).toBe('ERR_SESSION_EXPIRED')
    const short = signer.sign('x', { now: (NOW - 100) * 1000, expiresIn: 10 })
    expect(codeOf(at(short, NOW, 200))).toBe('ERR_SESSION_EXPIRED')
  })
})

describe('the instant of a call', () => {
  const INVALID = 'option now is invalid: give a Date or a number of milliseconds since the epoch'

  it('is the current second when no time is given', () => {
    const before = Math.floor(Date.now() / 1000)
    const seconds = toSeconds(undefined)
    expect(seconds).toBeGreaterThanOrEqual(before)
    expect(seconds).toBeLessThanOrEqual(Math.floor(Date.now() / 1000))
  })

  it.each([
    ['0 (the epoch)', 0, 0],
    ['a fraction of a second, rounded down', 1999, 1],
    ['a Date', new Date(NOW_MS + 999), NOW],
    ['the last second a token holds', MAX_SECONDS * 1000, MAX_SECONDS],
  ])('takes %s', (_, now, seconds) => {
    expect(toSeconds(now)).toBe(seconds)
  })

  it.each([
    ['a negative number', -1],
    ['a time before the epoch', new Date(-1000)],
    ['NaN', Number.NaN],
    ['an invalid Date', new Date(Number.NaN)],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['one second past what a token holds', (MAX_SECONDS + 1) * 1000],
    ['a string', '1800000000000'],
  ])('refuses %s, naming the option', (_, now) => {
    expect(() => toSeconds(now as never)).toThrow(new TypeError(INVALID))
    const signer = createSigner({ secrets: secret, purpose: PURPOSE })
    expect(() => signer.sign('x', { now: now as never })).toThrow(new TypeError(INVALID))
    expect(() => signer.verify(signer.sign('x'), { now: now as never })).toThrow(new TypeError(INVALID))
  })

  it('refuses to write a time past what a token holds, naming it, rather than wrap it around', () => {
    // A clock at the last second a token holds: the session's expiry falls a lifetime beyond.
    const sessions = createSessions<{ a: number }>({ secrets: secret, clock: () => MAX_SECONDS * 1000, lifetime: 60 })
    const session = sessions.read(undefined)
    session.set('a', 1)
    expect(() => sessions.commit(session)).toThrow(
      new RangeError(`time ${MAX_SECONDS + 60} is outside what a token holds: whole seconds from 0 to ${MAX_SECONDS}`),
    )
  })

  it('blames a bad time from the clock on the clock option', () => {
    const signer = createSigner({ secrets: secret, purpose: PURPOSE, clock: () => -1 })
    const message = 'option clock is invalid: give a Date or a number of milliseconds since the epoch'
    expect(() => signer.sign('x')).toThrow(new TypeError(message))
    expect(() => signer.verify('f1.a.b.c')).toThrow(new TypeError(message))
    // A per-call now is used instead of the clock, and blamed on itself.
    expect(signer.verify(signer.sign('x', { now: NOW_MS }), { now: NOW_MS })).toMatchObject({ ok: true })
  })

  it('reads the system clock when neither is given', () => {
    const before = Math.floor(Date.now() / 1000)
    const issued = createSigner({ secrets: secret, purpose: PURPOSE }).verify(createSigner({ secrets: secret, purpose: PURPOSE }).sign('x'))
    expect(issued.ok && (issued.issuedAt?.getTime() ?? 0) / 1000).toBeGreaterThanOrEqual(before)
    expect(issued.ok && (issued.issuedAt?.getTime() ?? Infinity)).toBeLessThanOrEqual(Date.now())
  })
})

describe('purposes', () => {
  const INVALID = "option purpose is invalid: give a short string naming what the tokens are for, e.g. 'password-reset' (1 to 256 characters, no NUL)"

  it.each([
    ['one character', 'a'],
    ['256 characters', 'p'.repeat(256)],
    ['text beyond ASCII, well-formed', 'réinitialisation 🔑'],
  ])('takes %s', (_, purpose) => {
    expect(() => assertPurpose(purpose)).not.toThrow()
    expect(() => createSigner({ secrets: secret, purpose })).not.toThrow()
  })

  it.each([
    ['no purpose', undefined, INVALID],
    ['a number', 7, INVALID],
    ['an empty string', '', INVALID],
    ['257 characters', 'p'.repeat(257), INVALID],
    ['a NUL', 'a\0b', INVALID],
    [
      'a lone surrogate',
      'key\ud800',
      'option purpose is invalid: it contains a lone surrogate (half of a UTF-16 pair), which UTF-8 cannot encode; use well-formed text',
    ],
  ])('refuses %s', (_, purpose, message) => {
    expect(() => assertPurpose(purpose)).toThrow(new TypeError(message))
    expect(() => createSigner({ secrets: secret, purpose: purpose as never })).toThrow(new TypeError(message))
  })
})

describe('peekToken (frasco inspect): the unauthenticated fields of an f1 token', () => {
  const signer = createSigner({ secrets: secret, purpose: PURPOSE })

  it('reads version, key id, flags, times and payload', () => {
    const token = signer.sign('olá', { now: NOW_MS, expiresIn: 60 })
    expect(peekToken(token)).toEqual({
      version: 'f1',
      keyId: deriveKeyId(secret),
      flags: FLAG_EXPIRES,
      issuedAt: NOW,
      expiresAt: NOW + 60,
      payload: Buffer.from('olá'),
    })
    expect(peekToken(signer.sign('', { now: NOW_MS }))).toMatchObject({ flags: 0, issuedAt: NOW, expiresAt: undefined, payload: Buffer.alloc(0) })
  })

  it('reads a token whatever its signature (it decides nothing)', () => {
    const token = signer.sign('x', { now: NOW_MS })
    expect(peekToken(`${token.slice(0, token.lastIndexOf('.'))}.forged`)).toMatchObject({ issuedAt: NOW, payload: Buffer.from('x') })
  })

  it.each([
    ['an e1 token', 'e1.kid.AAAA'],
    ['another version', signer.sign('x').replace(/^f1/, 'f2')],
    ['three fields', 'f1.kid.AAAAAAAAAA'],
    ['five fields', `${signer.sign('x')}.x`],
    ['a body that is not canonical base64url', `f1.kid.${body(0, NOW).toString('base64url')}=.tag`],
    ['a truncated body', `f1.kid.${body(0, NOW).subarray(0, 6).toString('base64url')}.tag`],
    ['unknown flags', `f1.kid.${body(0x40, NOW).toString('base64url')}.tag`],
  ])('gives undefined for %s', (_, token) => {
    expect(peekToken(token)).toBeUndefined()
  })
})

// Token bodies and fields are built in buffers shared from one token to the next, grown as needed
// up to SCRATCH_LIMIT (src/lib/buffers.ts). A larger token gets memory for that token only: one
// huge token must not leave a buffer of its size (holding plaintext, for encrypted tokens) alive
// for the life of the process.
describe('the shared token buffers, after a token over SCRATCH_LIMIT', () => {
  it('writeBody: the next body is written into memory of at most SCRATCH_LIMIT bytes', () => {
    for (const payload of ['x'.repeat(2 * SCRATCH_LIMIT), new Uint8Array(SCRATCH_LIMIT + 1)]) {
      const huge = writeBody(0, NOW, NOW + 60, payload)
      expect(huge.length).toBe(13 + payload.length)
      const next = writeBody(0, NOW, undefined, 'small')
      expect(next).toEqual(body(0, NOW, undefined, 'small'))
      expect(next.buffer.byteLength).toBeLessThanOrEqual(SCRATCH_LIMIT)
    }
  })

  it('decodeField: the next field is decoded into memory of at most SCRATCH_LIMIT bytes', () => {
    const bytes = randomBytes(2 * SCRATCH_LIMIT)
    expect(decodeField(bytes.toString('base64url')).equals(bytes)).toBe(true)
    const next = decodeField('c21hbGw')
    expect(next.toString()).toBe('small')
    expect(next.buffer.byteLength).toBeLessThanOrEqual(SCRATCH_LIMIT)
  })
})
