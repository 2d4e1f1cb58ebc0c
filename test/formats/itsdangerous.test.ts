import { readFileSync } from 'node:fs'
import { deflateSync } from 'node:zlib'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DecompressionTooLarge,
  NotYetValid,
  PayloadMalformed,
  PayloadTooLarge,
  SessionError,
  SessionExpired,
  SignatureInvalid,
} from '../../src/errors.js'
import {
  createItsdangerousSerializer,
  createItsdangerousSigner,
  type ItsdangerousDigest,
  type ItsdangerousKeyDerivation,
  type ItsdangerousSerializerOptions,
} from '../../src/flask/itsdangerous.js'
import { decodePythonJson, encodePythonJson } from '../../src/flask/python-json.js'
import { describeFlask, fromSpec, normalizeSpec, py, startOracle, toSpec, type Oracle, type Spec } from '../flask/python.js'

const NOW_S = 1_700_000_000
const NOW = NOW_S * 1000

interface ItsVector {
  name: string
  kind: 'Signer' | 'TimestampSigner' | 'URLSafeSerializer' | 'URLSafeTimedSerializer'
  secret_key?: string | { hex: string }
  salt?: string
  digest?: ItsdangerousDigest
  key_derivation?: ItsdangerousKeyDerivation
  sep?: string
  value: string | Spec
  token: string
}

const vectors = JSON.parse(readFileSync(new URL('../vectors/flask.json', import.meta.url), 'utf8')) as {
  secret_key: string
  now: number
  itsdangerous: ItsVector[]
}

function secretOf(key: ItsVector['secret_key'] | string[]): string | Uint8Array | Array<string | Uint8Array> {
  if (key === undefined) return vectors.secret_key
  if (Array.isArray(key)) return key
  return typeof key === 'string' ? key : Buffer.from(key.hex, 'hex')
}

/** Frasco options equivalent to an itsdangerous configuration. */
function optionsOf(v: Omit<ItsVector, 'name' | 'value' | 'token'>): ItsdangerousSerializerOptions {
  return {
    secrets: secretOf(v.secret_key),
    ...(v.salt === undefined ? {} : { salt: v.salt }),
    ...(v.digest === undefined ? {} : { digest: v.digest }),
    ...(v.key_derivation === undefined ? {} : { keyDerivation: v.key_derivation }),
    ...(v.sep === undefined ? {} : { separator: v.sep }),
    timestamped: v.kind === 'TimestampSigner' || v.kind === 'URLSafeTimedSerializer',
  }
}

const specOf = (value: unknown): Spec => normalizeSpec(toSpec(value))

function expectError<T>(result: { ok: true; value: T } | { ok: false; error: SessionError }, type: new (...args: never[]) => SessionError): void {
  expect(result.ok).toBe(false)
  if (!result.ok) expect(result.error).toBeInstanceOf(type)
}

describe('golden vectors from itsdangerous (test/vectors/flask.json)', () => {
  it.each(vectors.itsdangerous.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const options = optionsOf(v)
    if (v.kind === 'Signer' || v.kind === 'TimestampSigner') {
      const signer = createItsdangerousSigner(options)
      const result = signer.verify(v.token, { now: NOW })
      expect(result).toMatchObject({ ok: true, value: v.value, stale: false })
      // itsdangerous tokens name no key; only timed ones carry a time.
      expect('keyId' in result).toBe(false)
      expect('issuedAt' in result).toBe(v.kind === 'TimestampSigner')
      if (v.kind === 'TimestampSigner' && result.ok) expect(result.issuedAt?.getTime()).toBe(NOW)
      expect(signer.sign(v.value as string, { now: NOW })).toBe(v.token)
    } else {
      const serializer = createItsdangerousSerializer(options)
      const result = serializer.verify(v.token, { now: NOW })
      expect(result.ok).toBe(true)
      expect('keyId' in result).toBe(false)
      expect('issuedAt' in result).toBe(v.kind === 'URLSafeTimedSerializer')
      if (result.ok) expect(specOf(result.value)).toEqual(normalizeSpec(v.value as Spec))
      const token = serializer.sign(fromSpec(v.value as Spec), { now: NOW })
      if (v.token.startsWith('.')) {
        // Node's zlib deflates differently from CPython's: same data, other bytes.
        expect(token.startsWith('.')).toBe(true)
        const again = serializer.verify(token, { now: NOW })
        expect(again.ok && specOf(again.value)).toEqual(normalizeSpec(v.value as Spec))
      } else {
        expect(token).toBe(v.token)
      }
    }
  })
})

describe('createItsdangerousSigner', () => {
  const signer = createItsdangerousSigner({ secrets: 'secret' })
  const timed = createItsdangerousSigner({ secrets: 'secret', timestamped: true })

  it('signs as value.signature and verifies', () => {
    const token = signer.sign('hello')
    expect(token).toMatch(/^hello\.[A-Za-z0-9_-]{27}$/)
    const result = signer.verify(token)
    expect(result).toEqual({ ok: true, value: 'hello', stale: false })
    expect(signer.unsign(token)).toBe('hello')
  })

  it('reports no issuedAt, expiresAt nor keyId for untimed tokens (absent, not undefined or an Invalid Date)', () => {
    const result = signer.verify(signer.sign('x'))
    expect(result.ok).toBe(true)
    expect(Object.keys(result).sort()).toEqual(['ok', 'stale', 'value'])
    expect('issuedAt' in result).toBe(false)
    expect('expiresAt' in result).toBe(false)
    expect('keyId' in result).toBe(false)
  })

  it('reports issuedAt for timed tokens, expiresAt only with maxAge, and never a keyId', () => {
    const token = timed.sign('x', { now: NOW })
    const plain = timed.verify(token, { now: NOW })
    expect(plain).toEqual({ ok: true, value: 'x', issuedAt: new Date(NOW), stale: false })
    const limited = timed.verify(token, { now: NOW, maxAge: 60 })
    expect(limited).toEqual({ ok: true, value: 'x', issuedAt: new Date(NOW), expiresAt: new Date(NOW + 60_000), stale: false })
  })

  it('accepts UTF-8 bytes and values containing the separator', () => {
    const token = signer.sign(new TextEncoder().encode('a.b.c'))
    expect(signer.unsign(token)).toBe('a.b.c')
    expect(timed.unsign(timed.sign('a.b', { now: NOW }), { now: NOW })).toBe('a.b')
  })

  it.each([
    ['a lone surrogate', '\ud800'],
    ['bytes that are not UTF-8', new Uint8Array([0xff])],
    ['a number', 5 as unknown as string],
  ])('refuses to sign %s', (_name, value) => {
    expect(() => signer.sign(value)).toThrow(TypeError)
  })

  it('writes the timestamp as big-endian bytes without leading zeros (0 is empty)', () => {
    expect(timed.sign('v', { now: 0 }).split('.')[1]).toBe('')
    expect(timed.sign('v', { now: NOW }).split('.')[1]).toBe('ZVPxAA')
    expect(timed.verify(timed.sign('v', { now: 0 }), { now: 0 })).toMatchObject({ ok: true, value: 'v' })
    expect(() => timed.sign('v', { now: -1000 })).toThrow(TypeError)
  })

  it('checks age in whole seconds like itsdangerous: age == maxAge passes, one more second fails', () => {
    const token = timed.sign('v', { now: NOW + 999 })
    const ok = timed.verify(token, { now: NOW + 10_999, maxAge: 10 })
    expect(ok).toMatchObject({ ok: true, issuedAt: new Date(NOW), expiresAt: new Date(NOW + 10_000) })
    const late = timed.verify(token, { now: NOW + 11_000, maxAge: 10 })
    expectError(late, SessionExpired)
    if (!late.ok) expect((late.error as SessionExpired).expiredAt).toEqual(new Date(NOW + 10_000))
    // No maxAge, no age limit (`maxAge: Infinity` is refused: omit it).
    const forever = timed.verify(token, { now: NOW + 10 ** 12 })
    expect(forever).toMatchObject({ ok: true, issuedAt: new Date(NOW) })
    expect('expiresAt' in forever).toBe(false)
    expect(() => timed.verify(token, { now: NOW + 10 ** 12, maxAge: Infinity })).toThrow('option maxAge is invalid')
  })

  it('rejects future timestamps, with or without maxAge, unless within clockTolerance', () => {
    const token = timed.sign('v', { now: NOW + 1000 })
    expectError(timed.verify(token, { now: NOW }), NotYetValid)
    expectError(timed.verify(token, { now: NOW, maxAge: 60 }), NotYetValid)
    expect(timed.verify(token, { now: NOW + 1000 })).toMatchObject({ ok: true })
    const tolerant = createItsdangerousSigner({ secrets: 'secret', timestamped: true, clockTolerance: 5 })
    expect(tolerant.verify(token, { now: NOW - 4000 })).toMatchObject({ ok: true })
    expectError(tolerant.verify(token, { now: NOW - 5000 }), NotYetValid)
    expect(tolerant.verify(token, { now: NOW + 16_000, maxAge: 10 })).toMatchObject({ ok: true })
    expectError(tolerant.verify(token, { now: NOW + 17_000, maxAge: 10 }), SessionExpired)
  })

  it('verifies with every secret, newest first, and reports a fallback key as stale (without a keyId)', () => {
    const old = createItsdangerousSigner({ secrets: 'old' }).sign('v')
    const rotated = createItsdangerousSigner({ secrets: ['new', 'older', 'old'] })
    expect(rotated.verify(old)).toEqual({ ok: true, value: 'v', stale: true })
    expect(rotated.verify(rotated.sign('v'))).toEqual({ ok: true, value: 'v', stale: false })
    expectError(createItsdangerousSigner({ secrets: 'new' }).verify(old), SignatureInvalid)
  })

  it('rejects a signature with non-canonical trailing bits, which itsdangerous would accept', () => {
    const token = signer.sign('hello')
    // 27 base64url characters carry 162 bits for a 160-bit MAC: the last 2 bits must be zero.
    const last = token.at(-1) as string
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string
    expect(Buffer.from(token.slice(-27), 'base64url')).toEqual(Buffer.from(token.slice(-27, -1) + sibling, 'base64url'))
    expectError(signer.verify(token.slice(0, -1) + sibling), SignatureInvalid)
  })

  it.each([
    ['no separator', 'abcdef', PayloadMalformed],
    ['an empty token', '', PayloadMalformed],
    ['a short signature', 'hello.abc', SignatureInvalid],
    ['a padded signature', 'hello.hE0znfsjrGnDKSWagK1oF1Koek4=', SignatureInvalid],
    ['a lone surrogate', '\ud800.hE0znfsjrGnDKSWagK1oF1Koek4', PayloadMalformed],
  ])('rejects %s', (_name, token, type) => {
    expectError(createItsdangerousSigner({ secrets: vectors.secret_key }).verify(token), type)
  })

  it('rejects a timestamped token whose timestamp is missing, non-canonical or out of range', () => {
    const raw = createItsdangerousSigner({ secrets: 'secret' }) // signs whatever it is given
    expectError(timed.verify(raw.sign('no-timestamp')), PayloadMalformed)
    expectError(timed.verify(raw.sign('v.AGVT8QA')), PayloadMalformed) // a leading zero byte
    expectError(timed.verify(raw.sign('v.ZVPx*A')), PayloadMalformed)
    expectError(timed.verify(raw.sign('v.f_________w')), PayloadMalformed) // 2^63, beyond Date
  })

  it('rejects non-string and oversized tokens without throwing', () => {
    expectError(signer.verify(undefined as unknown as string), PayloadMalformed)
    const small = createItsdangerousSigner({ secrets: 's', maxTokenLength: 64 })
    expectError(small.verify('a'.repeat(65)), PayloadTooLarge)
  })

  it('unsign throws the typed error', () => {
    expect(() => signer.unsign('x.y')).toThrow(SignatureInvalid)
  })

  it('separates salts, digests and key derivations', () => {
    const token = signer.sign('v')
    for (const options of [{ salt: 'other' }, { digest: 'sha256' as const }, { keyDerivation: 'hmac' as const }, { keyDerivation: 'concat' as const }]) {
      expect(createItsdangerousSigner({ secrets: 'secret', ...options }).verify(token).ok).toBe(false)
    }
  })

  it('never throws on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (token) => {
        const result = timed.verify(token)
        expect(result.ok).toBe(false)
      }),
    )
  })

  it('round-trips any well-formed string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 0, max: 2 ** 40 }), (value, seconds) => {
        expect(timed.unsign(timed.sign(value, { now: seconds * 1000 }), { now: seconds * 1000 })).toBe(value)
      }),
    )
  })
})

describe('options', () => {
  it.each([
    ['secrets', { secrets: '' }],
    ['secrets', { secrets: [] }],
    ['secrets[1]', { secrets: ['a', new Uint8Array()] }],
    ['secrets[0]', { secrets: [5] }],
    ['secrets', { secrets: '\ud800' }],
    ['salt', { secrets: 's', salt: 5 }],
    ['digest', { secrets: 's', digest: 'md5' }],
    ['keyDerivation', { secrets: 's', keyDerivation: 'pbkdf2' }],
    ['separator', { secrets: 's', separator: '' }],
    ['separator', { secrets: 's', separator: 'a' }],
    ['separator', { secrets: 's', separator: '=' }],
    ['timestamped', { secrets: 's', timestamped: 'yes' }],
    ['clockTolerance', { secrets: 's', clockTolerance: -1 }],
    ['maxTokenLength', { secrets: 's', maxTokenLength: 10 }],
  ])('rejects an invalid %s with a TypeError naming it', (name, options) => {
    expect(() => createItsdangerousSigner(options as never)).toThrow(new RegExp(`^option ${name.replace(/[[\]]/g, '\\$&')} is invalid: `))
  })

  it.each([
    ['serializer', { serializer: {} }],
    ['compress', { compress: { threshold: -1 } }],
    ['compress', { compress: { threshold: 1.5 } }],
    ['compress', { compress: 1024 }],
    ['maxBytes', { maxBytes: 0 }],
  ])('rejects an invalid serializer %s', (name, options) => {
    expect(() => createItsdangerousSerializer({ secrets: 's', ...(options as object) })).toThrow(`option ${name} is invalid`)
  })

  it('rejects invalid maxAge and now with a TypeError, at call time', () => {
    const timed = createItsdangerousSigner({ secrets: 's', timestamped: true })
    const token = timed.sign('v')
    expect(() => timed.verify(token, { maxAge: -1 })).toThrow('option maxAge is invalid')
    expect(() => timed.verify(token, { now: new Date(Number.NaN) })).toThrow('option now is invalid')
    expect(() => timed.sign('v', { now: Number.NaN })).toThrow('option now is invalid')
  })

  it('allows short secrets, as itsdangerous does', () => {
    expect(createItsdangerousSigner({ secrets: 'k' }).sign('v')).toMatch(/^v\./)
  })
})

describe('1.0 options: clock, strict keys, compress, seconds', () => {
  it('uses the clock option when a call gives no now, and a per-call now over it', () => {
    let clock = NOW
    const timed = createItsdangerousSigner({ secrets: 'secret', timestamped: true, clock: () => clock })
    const token = timed.sign('v')
    expect(token.split('.')[1]).toBe('ZVPxAA') // NOW_S, as in the test above
    expect(timed.verify(token)).toMatchObject({ ok: true, issuedAt: new Date(NOW) })
    clock = NOW + 11_000
    expectError(timed.verify(token, { maxAge: 10 }), SessionExpired)
    expect(timed.verify(token, { maxAge: 10, now: NOW + 10_000 }).ok).toBe(true)
    clock = NOW - 5_000
    expectError(timed.verify(token), NotYetValid)
    expect(timed.sign('v', { now: NOW + 1000 }).split('.')[1]).toBe('ZVPxAQ')

    const serializer = createItsdangerousSerializer<number>({ secrets: 'secret', timestamped: true, clock: () => clock })
    clock = NOW
    const object = serializer.sign(5)
    expect(serializer.verify(object)).toEqual({ ok: true, value: 5, issuedAt: new Date(NOW), stale: false })
    clock = NOW + 61_000
    expectError(serializer.verify(object, { maxAge: 60 }), SessionExpired)
  })

  it('rejects a clock that is not a function', () => {
    expect(() => createItsdangerousSigner({ secrets: 's', clock: 5 as never })).toThrow('option clock is invalid')
  })

  it.each([
    ['compressThreshold (0.1)', { compressThreshold: 100 }, /^option compressThreshold is unknown: use `compress: \{ threshold \}`/],
    ['max_age (Python)', { max_age: 10 }, /^option max_age is unknown: did you mean `maxAge`\?/],
    ['secret_key (Python)', { secret_key: 's' }, /^option secret_key is unknown: did you mean `secrets`\?/],
    ['digest_method (Python)', { digest_method: 'sha256' }, /^option digest_method is unknown: did you mean `digest`\?/],
    ['now (a clock is `clock`)', { now: () => NOW }, /^option now is unknown: give the clock as `clock/],
    ['a typo', { timestampd: true }, /^option timestampd is unknown: did you mean `timestamped`\?/],
    ['a key set to undefined', { seperator: undefined }, /^option seperator is unknown: did you mean `separator`\?/],
  ])('the serializer refuses an unknown option: %s', (_name, extra, message) => {
    expect(() => createItsdangerousSerializer({ secrets: 's', ...extra } as never)).toThrow(TypeError)
    expect(() => createItsdangerousSerializer({ secrets: 's', ...extra } as never)).toThrow(message)
  })

  it('the signer refuses the serializer-only options by name', () => {
    for (const key of ['compress', 'serializer', 'maxBytes']) {
      expect(() => createItsdangerousSigner({ secrets: 's', [key]: undefined } as never)).toThrow(new RegExp(`^option ${key} is unknown`))
    }
  })

  it('refuses unknown keys in sign and verify options', () => {
    const timed = createItsdangerousSigner({ secrets: 's', timestamped: true })
    const serializer = createItsdangerousSerializer({ secrets: 's', timestamped: true })
    const token = timed.sign('v', { now: NOW })
    // 0.1's per-call { path } is gone; expiry is not the signer's to set.
    expect(() => serializer.sign(1, { now: NOW, path: 'x' } as never)).toThrow(/^option path is unknown/)
    expect(() => timed.sign('v', { expiresIn: 60 } as never)).toThrow(/^option expiresIn is unknown/)
    expect(() => timed.verify(token, { max_age: 60 } as never)).toThrow(/^option max_age is unknown: did you mean `maxAge`\?/)
    expect(() => timed.unsign(token, { clockTolerance: 5 } as never)).toThrow(/^option clockTolerance is unknown/)
    expect(() => serializer.verify(token, { maxage: 60 } as never)).toThrow(/^option maxage is unknown: did you mean `maxAge`\?/)
    expect(() => timed.verify(token, 60 as never)).toThrow(TypeError)
  })

  it('compresses from compress.threshold bytes of JSON on, and checks its keys', () => {
    const value = 'a'.repeat(100) // 102 bytes of JSON, very compressible
    const at = createItsdangerousSerializer({ secrets: 's', compress: { threshold: 102 } })
    const above = createItsdangerousSerializer({ secrets: 's', compress: { threshold: 103 } })
    const always = createItsdangerousSerializer({ secrets: 's', compress: true })
    expect(at.sign(value).startsWith('.')).toBe(true)
    expect(above.sign(value).startsWith('.')).toBe(false)
    expect(always.sign(value).startsWith('.')).toBe(true)
    // Whatever the threshold, every configuration reads the others' tokens.
    expect(above.unsign(at.sign(value))).toBe(value)
    expect(at.unsign(above.sign(value))).toBe(value)
    expect(() => createItsdangerousSerializer({ secrets: 's', compress: { threshold: 1, level: 9 } as never })).toThrow(/^option compress\.level is unknown/)
    expect(() => createItsdangerousSerializer({ secrets: 's', compress: {} as never })).toThrow('option compress is invalid')
  })

  it('takes maxAge in seconds, at most 400 days: milliseconds are refused', () => {
    const timed = createItsdangerousSigner({ secrets: 's', timestamped: true })
    const token = timed.sign('v', { now: NOW })
    expect(() => timed.verify(token, { now: NOW, maxAge: 86_400_000 })).toThrow(TypeError)
    expect(() => timed.verify(token, { now: NOW, maxAge: 86_400_000 })).toThrow('seconds, not milliseconds')
    expect(() => timed.verify(token, { now: NOW, maxAge: 34_560_001 })).toThrow('seconds, not milliseconds')
    expect(timed.verify(token, { now: NOW, maxAge: 34_560_000 })).toMatchObject({ ok: true, expiresAt: new Date(NOW + 34_560_000_000) })
    expect(timed.verify(token, { now: NOW, maxAge: 0 }).ok).toBe(true)
  })
})

describe('createItsdangerousSerializer', () => {
  const serializer = createItsdangerousSerializer({ secrets: 'secret', timestamped: true })
  const raw = createItsdangerousSigner({ secrets: 'secret', salt: 'itsdangerous', timestamped: true })

  it('writes compact JSON, UTF-8, in insertion order', () => {
    const token = serializer.sign({ b: 1, a: 'é' }, { now: NOW })
    const payload = token.split('.')[0] as string
    expect(Buffer.from(payload, 'base64url').toString('utf8')).toBe('{"b":1,"a":"é"}')
  })

  it('compresses when that saves more than the marker, with a leading "."', () => {
    const value = { list: Array.from({ length: 50 }, () => 'same') }
    const token = serializer.sign(value, { now: NOW })
    expect(token.startsWith('.')).toBe(true)
    expect(serializer.verify(token, { now: NOW })).toMatchObject({ ok: true, value })
    const never = createItsdangerousSerializer({ secrets: 'secret', timestamped: true, compress: false })
    expect(never.sign(value, { now: NOW }).startsWith('.')).toBe(false)
    const high = createItsdangerousSerializer({ secrets: 'secret', timestamped: true, compress: { threshold: 10_000 } })
    expect(high.sign(value, { now: NOW }).startsWith('.')).toBe(false)
  })

  it('stops inflating at maxBytes (zip bomb)', () => {
    const bomb = '.' + deflateSync(Buffer.alloc(10_000_000, 0x20)).toString('base64url')
    const small = createItsdangerousSerializer({ secrets: 'secret', timestamped: true, maxBytes: 1000 })
    const result = small.verify(raw.sign(bomb, { now: NOW }), { now: NOW })
    expectError(result, DecompressionTooLarge)
    if (!result.ok) expect((result.error as DecompressionTooLarge).limit).toBe(1000)
  })

  it('limits uncompressed payloads too, and refuses to write what it would not read', () => {
    const small = createItsdangerousSerializer({ secrets: 'secret', timestamped: true, maxBytes: 10, compress: false })
    expectError(small.verify(raw.sign(Buffer.from('"01234567890"').toString('base64url'), { now: NOW }), { now: NOW }), PayloadTooLarge)
    expect(() => small.sign('01234567890')).toThrow(RangeError)
  })

  it.each([
    ['bad base64url', 'e30*'],
    ['padded base64url', 'e30='],
    ['non-canonical base64url', 'e31'],
    ['bad zlib', '.' + Buffer.from('not zlib').toString('base64url')],
    ['truncated zlib', '.' + deflateSync(Buffer.from('{"a":1}')).subarray(0, 6).toString('base64url')],
    ['invalid UTF-8', Buffer.from([0x22, 0xff, 0x22]).toString('base64url')],
    ['not JSON', Buffer.from('{nope}').toString('base64url')],
    ['an empty payload', ''],
    ['an empty compressed payload', '.'],
  ])('rejects a signed payload with %s as PayloadMalformed', (_name, payload) => {
    expectError(serializer.verify(raw.sign(payload, { now: NOW }), { now: NOW }), PayloadMalformed)
  })

  it('wraps errors of a custom serializer as PayloadMalformed, without the error (it may quote the payload)', () => {
    const custom = createItsdangerousSerializer({
      secrets: 's',
      serializer: { dumps: (v) => String(v), loads: () => { throw new Error('boom') } },
    })
    const result = custom.verify(custom.sign('x'))
    expectError(result, PayloadMalformed)
    if (!result.ok) {
      expect(result.error.cause).toBeUndefined()
      expect(result.error.message).not.toContain('boom')
    }
    // JSON.parse's SyntaxError quotes its input: none of the signed payload may reach the error.
    const parsing = createItsdangerousSerializer({ secrets: 's', serializer: { dumps: (v) => String(v), loads: (text) => JSON.parse(text) } })
    const secret = parsing.verify(parsing.sign('secret-session-data'))
    expectError(secret, PayloadMalformed)
    if (!secret.ok) {
      expect(secret.error.cause).toBeUndefined()
      expect(`${secret.error.message} ${secret.error.stack ?? ''}`).not.toContain('secret-session-data')
    }
  })

  it.each([
    ['a Date', new Date()],
    ['a Map', new Map()],
    ['a function', () => 1],
    ['undefined', undefined],
    ['a class instance', new (class Point {})()],
    ['a lone surrogate (ensure_ascii=False cannot encode it)', '\udc00'],
  ])('refuses to dump %s', (_name, value) => {
    expect(() => serializer.sign(value)).toThrow(TypeError)
  })

  it('round-trips JSON values (property)', () => {
    const json = fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"'))
    fc.assert(
      fc.property(json, (value) => {
        const result = serializer.verify(serializer.sign(value, { now: NOW }), { now: NOW })
        expect(result.ok).toBe(true)
        if (result.ok) expect(JSON.stringify(result.value)).toBe(JSON.stringify(value))
      }),
    )
  })

  it('never throws on arbitrary signed payloads (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, compressed) => {
        const payload = (compressed ? '.' : '') + Buffer.from(bytes).toString('base64url')
        serializer.verify(raw.sign(payload, { now: NOW }), { now: NOW })
      }),
    )
  })
})

describe('Python JSON', () => {
  it.each([
    [{ b: 1, a: 2 }, '{"b":1,"a":2}', '{"a":2,"b":1}'],
    [[1, 1.5, -0, 2 ** 53, 1e16, 1e15 + 0.5, 1.5e-5, 1e-4, 0.1, 1e300, 5e-324], '[1,1.5,0,9007199254740992.0,1e+16,1000000000000000.5,1.5e-05,0.0001,0.1,1e+300,5e-324]', null],
    [[Number.NaN, Infinity, -Infinity, 12345678901234567890n, -5n], '[NaN,Infinity,-Infinity,12345678901234567890,-5]', null],
    ['\u0000\u001f\u007f\u0080é\u2028😀"\\/\b\f\n\r\t', '"\\u0000\\u001f\u007f\u0080é\u2028😀\\"\\\\/\\b\\f\\n\\r\\t"', null],
    [{ x: undefined, y: null, z: true }, '{"y":null,"z":true}', null],
    [{ '\uffff': 1, '😀': 2, a: 3, B: 4, '': 5 }, '{"\uffff":1,"😀":2,"a":3,"B":4,"":5}', '{"":5,"B":4,"a":3,"\uffff":1,"😀":2}'],
  ])('writes case %# as Python would', (value, plain, sorted) => {
    expect(encodePythonJson(value)).toBe(plain)
    if (sorted !== null) expect(encodePythonJson(value, { sortKeys: true })).toBe(sorted)
  })

  it('escapes like ensure_ascii=True, surrogate pairs and lone surrogates alike', () => {
    expect(encodePythonJson('\u007fé😀\ud800', { ensureAscii: true })).toBe('"\\u007f\\u00e9\\ud83d\\ude00\\ud800"')
  })

  it.each([
    ['{"a":1,"a":2}', { a: 2 }],
    [' [1 , 2]\n', [1, 2]],
    ['-0', 0],
    ['-0.0', -0],
    ['1E400', Infinity],
    ['12345678901234567890', 12345678901234567890n],
    ['-9007199254740991', -9007199254740991],
    ['9007199254740992', 9007199254740992n],
    ['"\\ud83d\\ude00\\ud800\\/"', '😀\ud800/'],
    ['[NaN,-Infinity]', [Number.NaN, -Infinity]],
  ])('reads %s as Python would', (text, value) => {
    expect(decodePythonJson(text)).toEqual(value)
  })

  it.each(['', '01', '1.', '.5', '+1', '[1,]', '{"a":1,}', "{'a':1}", '"\u0001"', '"\\x"', '"\\u12"', 'nan', '\ufeff1', '[1] 2', '{"a" 1}', 'tru', '"abc'])(
    'refuses %j',
    (text) => {
      expect(() => decodePythonJson(text)).toThrow(PayloadMalformed)
    },
  )

  it('reads objects with a null prototype, so "__proto__" is an ordinary key', () => {
    const value = decodePythonJson('{"__proto__":{"polluted":true},"constructor":1}') as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBeNull()
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(encodePythonJson(value)).toBe('{"__proto__":{"polluted":true},"constructor":1}')
  })

  it('limits nesting when reading and writing, and refuses cycles', () => {
    expect(() => decodePythonJson('['.repeat(600) + ']'.repeat(600))).toThrow(PayloadMalformed)
    expect(decodePythonJson('['.repeat(500) + ']'.repeat(500))).toBeInstanceOf(Array)
    let deep: unknown = 1
    for (let i = 0; i < 600; i++) deep = [deep]
    expect(() => encodePythonJson(deep)).toThrow(TypeError)
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(() => encodePythonJson(cycle)).toThrow('circular')
    const shared = { x: 1 }
    expect(encodePythonJson([shared, shared])).toBe('[{"x":1},{"x":1}]')
  })

  // decodePythonJson reads standard JSON with JSON.parse when the result cannot differ, and falls
  // back to its own reader otherwise. A trailing -0 forces the reader: both must agree exactly,
  // including the order in which the object hook sees objects.
  function bothPaths(text: string): { fast: unknown; exact: unknown; fastHooks: string[]; exactHooks: string[] } {
    const fastHooks: string[] = []
    const exactHooks: string[] = []
    const fast = decodePythonJson(text, { objectHook: (o) => (fastHooks.push(Object.keys(o).join()), o) })
    const exact = (decodePythonJson(`[${text},-0]`, { objectHook: (o) => (exactHooks.push(Object.keys(o).join()), o) }) as unknown[])[0]
    return { fast, exact, fastHooks, exactHooks }
  }

  it.each([
    '{"username":"admin","userId":42,"roles":["admin","editor"],"csrf":"9f86d081884c7d659a2feaa0c55ad015","createdAt":1767225600000}',
    '{"__proto__":{"a":[{"b":{}}]},"1":2,"0":{"x":null}}',
    '{"a":1,"a":{"b":2},"c":[true,false,null,-1.5e-7,123456789012345]}',
    '"\\ud800 \\u00e9 \\/ \u2028"',
    '-0.0',
    '[]',
  ])('reads %s the same on the JSON.parse path as with the exact reader', (text) => {
    const { fast, exact, fastHooks, exactHooks } = bothPaths(text)
    expect(fast).toStrictEqual(exact)
    expect(fastHooks).toEqual(exactHooks)
  })

  it('reads any JSON the same on the JSON.parse path as with the exact reader (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const { fast, exact, fastHooks, exactHooks } = bothPaths(JSON.stringify(value))
        expect(fast).toStrictEqual(exact)
        expect(fastHooks).toEqual(exactHooks)
      }),
    )
  })

  it('calls the object hook once per object, also when the fast path gives up after reading them', () => {
    const seen: string[] = []
    const value = decodePythonJson('[{"a":1},{"b":{"c":2}},12345678901234567890]', { objectHook: (o) => (seen.push(Object.keys(o).join()), o) })
    expect(seen).toEqual(['a', 'c', 'b'])
    expect((value as unknown[])[2]).toBe(12345678901234567890n)
  })

  it('sends 16-digit integers and integer -0 to the exact reader, wherever they are', () => {
    expect(decodePythonJson('{"n":[9007199254740993]}')).toStrictEqual(Object.assign(Object.create(null), { n: [9007199254740993n] }))
    expect(Object.is((decodePythonJson('[-0]') as number[])[0], 0)).toBe(true)
    expect(Object.is((decodePythonJson('{"x":-0}') as { x: number }).x, 0)).toBe(true)
    expect(Object.is((decodePythonJson('[-0.0,-0e1]') as number[])[0], -0)).toBe(true)
    expect(Object.is((decodePythonJson('[-0.0,-0e1]') as number[])[1], -0)).toBe(true)
  })

  it('writes every double as a Python float that reads back the same (property)', () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        expect(Object.is(decodePythonJson(encodePythonJson(x)), Number.isSafeInteger(x) ? x || 0 : x)).toBe(true)
      }),
    )
  })
})

// ---------------------------------------------------------------------------------------------

interface PyToken {
  token: string
}
interface PyValue {
  value?: Spec | string
  error?: string
}

describeFlask('interoperability with itsdangerous 2.1 (real Python)', () => {
  let oracle: Oracle
  beforeAll(() => {
    oracle = startOracle()
  })
  afterAll(() => oracle.close())

  const kinds = ['Signer', 'TimestampSigner', 'URLSafeSerializer', 'URLSafeTimedSerializer'] as const
  const configs: Array<Pick<ItsVector, 'salt' | 'digest' | 'key_derivation' | 'sep'>> = [
    {},
    { salt: 'custom-salt', digest: 'sha256' },
    { salt: '', key_derivation: 'hmac' },
    { digest: 'sha512', key_derivation: 'concat', sep: ':' },
    { key_derivation: 'none', digest: 'sha256', salt: 'ignored by none' },
    { salt: 'cookie-session', key_derivation: 'hmac', sep: '~' },
  ]
  const values: Spec[] = [
    py.dict({ id: py.int(5), name: py.str('Ada Lovelace'), tags: py.list(py.str('a'), py.str('b')) }),
    py.dict({ text: py.str('h\u00e9llo \ud83d\ude00 "q" \\ \n'), big: py.int('123456789012345678901'), f: py.float('0.1'), nan: py.float('nan') }),
    py.list(...Array.from({ length: 40 }, (_, i) => py.str(`compress me ${i % 3}`))),
    py.str('just a string'),
    py.none,
  ]
  const strings = ['plain', 'with.dots:and~seps', 'h\u00e9llo \ud83d\ude00', '']
  const cases = kinds.flatMap((kind) => configs.map((config) => ({ kind, ...config })))

  const python = (c: (typeof cases)[number], extra: Record<string, unknown>) => ({
    op: 'its' as const,
    kind: c.kind,
    secret_key: 'python-secret',
    now: NOW_S,
    ...(c.salt === undefined ? {} : { salt: c.salt }),
    ...(c.digest === undefined ? {} : { digest: c.digest }),
    ...(c.key_derivation === undefined ? {} : { key_derivation: c.key_derivation }),
    ...(c.sep === undefined ? {} : { sep: c.sep }),
    ...extra,
  })
  const frasco = (c: (typeof cases)[number]) => optionsOf({ ...c, secret_key: 'python-secret' })
  const inputs = (kind: string): Array<Spec | string> => (kind.startsWith('URLSafe') ? values : strings)

  it('verifies tokens Python made, for every kind, salt, digest and key derivation', async () => {
    const ops = cases.flatMap((c) => inputs(c.kind).map((value) => python(c, { action: 'dumps', value })))
    const made = await oracle.run<PyToken>(ops)
    let i = 0
    for (const c of cases) {
      for (const value of inputs(c.kind)) {
        const token = (made[i++] as PyToken).token
        if (typeof value === 'string') {
          const signer = createItsdangerousSigner(frasco(c))
          expect(signer.verify(token, { now: NOW })).toMatchObject({ ok: true, value })
          expect(signer.sign(value, { now: NOW }), `${c.kind} ${JSON.stringify(c)}`).toBe(token)
        } else {
          const serializer = createItsdangerousSerializer(frasco(c))
          const result = serializer.verify(token, { now: NOW })
          expect(result.ok && specOf(result.value), `${c.kind} ${JSON.stringify(c)}`).toEqual(normalizeSpec(value))
          if (!token.startsWith('.')) expect(serializer.sign(fromSpec(value), { now: NOW })).toBe(token)
        }
      }
    }
  })

  it('makes tokens Python verifies, with the same values and types', async () => {
    const ops = cases.flatMap((c) =>
      inputs(c.kind).map((value) => {
        const token =
          typeof value === 'string'
            ? createItsdangerousSigner(frasco(c)).sign(value, { now: NOW })
            : createItsdangerousSerializer(frasco(c)).sign(fromSpec(value), { now: NOW })
        return python(c, { action: 'loads', token, max_age: 60 })
      }),
    )
    const opened = await oracle.run<PyValue>(ops)
    let i = 0
    for (const c of cases) {
      for (const value of inputs(c.kind)) {
        const result = opened[i++] as PyValue
        expect(result.error, `${c.kind} ${JSON.stringify(c)}`).toBeUndefined()
        expect(typeof value === 'string' ? result.value : normalizeSpec(result.value as Spec)).toEqual(typeof value === 'string' ? value : normalizeSpec(value))
      }
    }
  })

  it('agrees with Python on key rotation (Python lists keys oldest first, Frasco newest first)', async () => {
    const config = { kind: 'URLSafeTimedSerializer' as const }
    const [fromOld, fromNew] = await oracle.run<PyToken>([
      python(config, { secret_key: 'old', action: 'dumps', value: py.int(1) }),
      python(config, { secret_key: ['old', 'new'], action: 'dumps', value: py.int(2) }),
    ])
    const rotated = createItsdangerousSerializer({ secrets: ['new', 'old'], timestamped: true })
    expect(rotated.verify(fromOld?.token as string, { now: NOW })).toEqual({ ok: true, value: 1, issuedAt: new Date(NOW), stale: true })
    expect(rotated.verify(fromNew?.token as string, { now: NOW })).toEqual({ ok: true, value: 2, issuedAt: new Date(NOW), stale: false })
    const ours = rotated.sign(3, { now: NOW })
    const [byBoth, byOldOnly] = await oracle.run<PyValue>([
      python(config, { secret_key: ['old', 'new'], action: 'loads', token: ours }),
      python(config, { secret_key: 'old', action: 'loads', token: ours }),
    ])
    expect(byBoth).toEqual({ value: py.int(3) })
    expect(byOldOnly).toEqual({ error: 'BadTimeSignature' })
  })

  it('agrees with Python on the max_age boundary and on future timestamps', async () => {
    const config = { kind: 'TimestampSigner' as const }
    const token = createItsdangerousSigner({ secrets: 'python-secret', timestamped: true }).sign('v', { now: NOW })
    const results = await oracle.run<PyValue>([
      python(config, { action: 'loads', token, max_age: 10, now: NOW_S + 10 }),
      python(config, { action: 'loads', token, max_age: 10, now: NOW_S + 11 }),
      python(config, { action: 'loads', token, max_age: 10, now: NOW_S - 1 }),
    ])
    expect(results.map((r) => r.error ?? 'ok')).toEqual(['ok', 'SignatureExpired', 'SignatureExpired'])
    const signer = createItsdangerousSigner({ secrets: 'python-secret', timestamped: true })
    expect(signer.verify(token, { now: NOW + 10_999, maxAge: 10 }).ok).toBe(true)
    expectError(signer.verify(token, { now: NOW + 11_000, maxAge: 10 }), SessionExpired)
    expectError(signer.verify(token, { now: NOW - 1, maxAge: 10 }), NotYetValid)
  })
})
