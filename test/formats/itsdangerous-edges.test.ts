/**
 * The itsdangerous signer and serializer at their edges: what each malformed token is refused as
 * (error class and diagnostic), text that UTF-8 cannot carry, the last representable timestamp,
 * the compression rule at its boundary, and the hints for names that belong elsewhere.
 */
import { deflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { DecompressionTooLarge, NotYetValid, PayloadMalformed, PayloadTooLarge, SignatureInvalid, type SessionError } from '../../src/errors.js'
import { createItsdangerousSerializer, createItsdangerousSigner } from '../../src/flask/itsdangerous.js'

type Result = { ok: true; value: unknown } | { ok: false; error: SessionError }

function errorOf(result: Result): SessionError {
  if (result.ok) throw new Error('expected the token to be refused')
  return result.error
}

const b64 = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url')
// Signs whatever it is given: a token of any shape under the serializer's salt.
// Built in each call: a mutant that makes a factory throw fails the tests, not the file's load.
const raw = { sign: (value: string) => createItsdangerousSigner({ secrets: 's', salt: 'itsdangerous' }).sign(value) }
const NOW = 1_700_000_000_000

describe('itsdangerous: malformed tokens, class and diagnostic', () => {
  const signer = { verify: (token: string) => createItsdangerousSigner({ secrets: 's' }).verify(token) }
  const timed = { verify: (token: string) => createItsdangerousSigner({ secrets: 's', timestamped: true }).verify(token) }
  const serializer = {
    verify: (token: string) =>
      createItsdangerousSerializer({ secrets: 's', maxBytes: 64, serializer: { dumps: (value) => JSON.stringify(value), loads: (text) => JSON.parse(text) as unknown } }).verify(token),
  }
  const jsonSerializer = { verify: (token: string) => createItsdangerousSerializer({ secrets: 's' }).verify(token) }

  it.each<[what: string, verify: () => Result, type: new (...args: never[]) => SessionError, message: string]>([
    ['a token that is not a string', () => signer.verify(5 as never), PayloadMalformed, 'token is not a string'],
    ['a token without the separator', () => signer.verify('abc'), PayloadMalformed, 'token has no separator'],
    ['a signature of the wrong length, even around text UTF-8 cannot carry', () => signer.verify('\ud800.abc'), SignatureInvalid, 'signature does not match'],
    ['a timed token without a timestamp', () => timed.verify(createItsdangerousSigner({ secrets: 's' }).sign('v')), PayloadMalformed, 'token has no timestamp'],
    ['a timed token whose timestamp is not base64url', () => timed.verify(createItsdangerousSigner({ secrets: 's' }).sign('v.Z*')), PayloadMalformed, 'token timestamp is malformed'],
    ['a payload that is not base64url', () => serializer.verify(raw.sign('e30*')), PayloadMalformed, 'payload is not canonical base64url'],
    ['a compressed payload that is not zlib', () => serializer.verify(raw.sign('.' + b64('not zlib'))), PayloadMalformed, 'payload is not valid zlib data'],
    ['a payload that is not UTF-8', () => serializer.verify(raw.sign(b64(new Uint8Array([0x22, 0xff, 0x22])))), PayloadMalformed, 'payload is not valid UTF-8'],
    ['a compressed payload that is not UTF-8', () => serializer.verify(raw.sign('.' + b64(deflateSync(new Uint8Array([0x22, 0xff, 0x22]))))), PayloadMalformed, 'payload is not valid UTF-8'],
    ['a payload the serializer cannot read', () => serializer.verify(raw.sign(b64('{not json'))), PayloadMalformed, 'payload could not be deserialized'],
    ['a payload over maxBytes', () => serializer.verify(raw.sign(b64(`"${'x'.repeat(63)}"`))), PayloadTooLarge, 'payload of 65 bytes exceeds the limit'],
  ])('%s', (_what, verify, type, message) => {
    const error = errorOf(verify())
    expect(error).toBeInstanceOf(type)
    expect(error.message).toContain(message)
  })

  it('a compressed payload over maxBytes is DecompressionTooLarge, inflated no further', () => {
    expect(errorOf(serializer.verify(raw.sign('.' + b64(deflateSync(`"${'x'.repeat(63)}"`)))))).toBeInstanceOf(DecompressionTooLarge)
    expect(serializer.verify(raw.sign('.' + b64(deflateSync(`"${'x'.repeat(62)}"`))))).toMatchObject({ ok: true, value: 'x'.repeat(62) })
  })

  it("the default JSON reader's own errors are its PayloadMalformed, not a wrapped one", () => {
    const error = errorOf(jsonSerializer.verify(raw.sign(b64('{"a":'))))
    expect(error).toBeInstanceOf(PayloadMalformed)
    expect(error.message).not.toBe('payload could not be deserialized')
  })

  it('a token of exactly maxTokenLength is read; one more character is refused unread', () => {
    const small = createItsdangerousSigner({ secrets: 's', maxTokenLength: 64 })
    const token = small.sign('v'.repeat(64 - 28))
    expect(token).toHaveLength(64)
    expect(small.verify(token)).toMatchObject({ ok: true })
    expect(errorOf(small.verify(`v${token}`))).toBeInstanceOf(PayloadTooLarge)
  })
})

describe('itsdangerous: text UTF-8 cannot carry', () => {
  it.each([
    ['untimed', createItsdangerousSigner({ secrets: 's' })],
    ['timed', createItsdangerousSigner({ secrets: 's', timestamped: true })],
  ])('a %s token whose text has a lone surrogate where U+FFFD was signed is refused, though the HMAC of its UTF-8 matches', (_what, signer) => {
    // UTF-8 writes a lone surrogate as U+FFFD: without the check, 'a\ud800' would verify under
    // the signature of 'a\ufffd', and two different strings would share one token.
    const token = signer.sign('a\ufffd', { now: NOW })
    expect(signer.verify(token, { now: NOW })).toMatchObject({ ok: true, value: 'a\ufffd' })
    const forged = token.replace('\ufffd', '\ud800')
    const error = errorOf(signer.verify(forged, { now: NOW }))
    expect(error).toBeInstanceOf(PayloadMalformed)
    expect(error.message).toBe('token is not valid text')
  })

  it('the empty value signs and verifies, timed or not', () => {
    const signer = createItsdangerousSigner({ secrets: 's' })
    const timed = createItsdangerousSigner({ secrets: 's', timestamped: true })
    expect(signer.unsign(signer.sign(''))).toBe('')
    expect(timed.unsign(timed.sign('', { now: NOW }), { now: NOW })).toBe('')
    expect(timed.sign('', { now: NOW }).startsWith('.ZVPxAA.')).toBe(true)
  })

  it('a salt given as bytes is the salt given as text', () => {
    const text = createItsdangerousSigner({ secrets: 's', salt: 'activate' })
    const bytes = createItsdangerousSigner({ secrets: 's', salt: new TextEncoder().encode('activate') })
    const view = createItsdangerousSigner({ secrets: 's', salt: new TextEncoder().encode('xactivatex').subarray(1, 9) })
    expect(bytes.sign('v')).toBe(text.sign('v'))
    expect(view.sign('v')).toBe(text.sign('v'))
  })

  it('a secret given as bytes (a view into a larger buffer) is the secret given as text', () => {
    const text = createItsdangerousSigner({ secrets: 'secret' })
    const view = createItsdangerousSigner({ secrets: new TextEncoder().encode('[secret]').subarray(1, 7) })
    expect(view.sign('v')).toBe(text.sign('v'))
    expect(createItsdangerousSigner({ secrets: ['other', new TextEncoder().encode('secret')] }).verify(text.sign('v'))).toMatchObject({ ok: true, stale: true })
  })
})

describe('itsdangerous: timestamps at the end of time', () => {
  const timed = {
    sign: (value: string, options: { now: number }) => createItsdangerousSigner({ secrets: 's', timestamped: true }).sign(value, options),
    verify: (token: string, options: { now: number }) => createItsdangerousSigner({ secrets: 's', timestamped: true }).verify(token, options),
  }
  const LAST = 8.64e15 // the last millisecond a Date can hold

  it('the last second a Date can hold is a timestamp; one more is malformed', () => {
    const last = timed.sign('v', { now: LAST })
    expect(timed.verify(last, { now: LAST })).toEqual({ ok: true, value: 'v', issuedAt: new Date(LAST), stale: false })
    expect(errorOf(timed.verify(last, { now: LAST - 1000 }))).toBeInstanceOf(NotYetValid)
    const past = timed.sign('v', { now: LAST + 1000 })
    const error = errorOf(timed.verify(past, { now: LAST }))
    expect(error).toBeInstanceOf(PayloadMalformed)
    expect(error.message).toBe('token timestamp is malformed')
  })

  it.each([
    ['2^53 seconds', 2 ** 53 * 1000, 'IAAAAAAAAA'],
    ['2^64 seconds', 2 ** 64 * 1000, 'AQAAAAAAAAAA'],
    ['2^70 seconds', 2 ** 70 * 1000, 'QAAAAAAAAAAA'],
  ])('a time past any Date (%s) signs in the big-endian form, which no reader accepts', (_what, now, timestamp) => {
    const token = timed.sign('v', { now })
    expect(token.split('.')[1]).toBe(timestamp)
    expect(errorOf(timed.verify(token, { now: LAST }))).toBeInstanceOf(PayloadMalformed)
  })

  it('timestamps take as many bytes as the seconds need, no leading zero byte', () => {
    for (const [seconds, timestamp] of [[1, 'AQ'], [255, '_w'], [256, 'AQA'], [2 ** 32 - 1, '_____w'], [2 ** 32, 'AQAAAAA'], [2 ** 40 + 1, 'AQAAAAAB']] as const) {
      const token = timed.sign('v', { now: seconds * 1000 })
      expect(token.split('.')[1], String(seconds)).toBe(timestamp)
      expect(timed.verify(token, { now: seconds * 1000 })).toMatchObject({ ok: true, issuedAt: new Date(seconds * 1000) })
    }
  })
})

describe('itsdangerous: compression, exactly the itsdangerous rule', () => {
  it('compresses only when that saves more than the one-character marker', () => {
    const serializer = createItsdangerousSerializer<string>({ secrets: 's' })
    // 13 bytes of JSON deflate to 12 (saves one, the marker's worth): written as is.
    expect(deflateSync('"aaaaaaaaaaa"')).toHaveLength(12)
    expect(serializer.sign('a'.repeat(11)).split('.')[0]).toBe(b64('"aaaaaaaaaaa"'))
    // 14 bytes deflate to 12 (saves two): compressed.
    expect(deflateSync('"aaaaaaaaaaaa"')).toHaveLength(12)
    const compressed = serializer.sign('a'.repeat(12))
    expect(compressed.split('.').slice(0, 2)).toEqual(['', b64(deflateSync('"aaaaaaaaaaaa"'))])
    expect(serializer.unsign(compressed)).toBe('a'.repeat(12))
  })

  it('a compressed payload is read whatever the separator', () => {
    const serializer = createItsdangerousSerializer<string>({ secrets: 's', separator: '~' })
    const token = serializer.sign('a'.repeat(100))
    expect(token.startsWith('.')).toBe(true)
    expect(serializer.unsign(token)).toBe('a'.repeat(100))
  })
})

describe('itsdangerous: names that belong elsewhere', () => {
  const timed = { verify: (token: string, options: object) => createItsdangerousSigner({ secrets: 's', timestamped: true }).verify(token, options as never) }
  // Made by hand, as the signer would: a mutant in the signer fails the tests, not the file's load.
  const token = 'v.ZVPxAA.x'

  it.each<[what: string, call: () => unknown, message: string]>([
    ['secret (singular)', () => createItsdangerousSigner({ secrets: 's', secret: 's' } as never), 'option secret is unknown: did you mean `secrets`? (one secret or a list, newest first)'],
    ['keys', () => createItsdangerousSerializer({ secrets: 's', keys: ['s'] } as never), 'option keys is unknown: did you mean `secrets`? (newest first)'],
    ['expiresIn to verify', () => timed.verify(token, { expiresIn: 60 } as never), 'option expiresIn is unknown: verify takes `maxAge` (the age limit, seconds); `expiresIn` belongs to sign'],
    ['clockTolerance to verify', () => timed.verify(token, { clockTolerance: 5 } as never), 'option clockTolerance is unknown: give `clockTolerance` to the factory'],
  ])('%s', (_what, call, message) => {
    expect(call).toThrow(TypeError)
    expect(call).toThrow(message)
  })
})
