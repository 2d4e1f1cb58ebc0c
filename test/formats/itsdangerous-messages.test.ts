/**
 * Every TypeError and RangeError of the itsdangerous signer and serializer, word for word: each
 * names the option or value at fault and how to fix it, which is what a caller reads. The other
 * tests check that misuse is refused (test/formats/itsdangerous.test.ts); this one pins the words.
 */
import { describe, expect, it } from 'vitest'
import { createItsdangerousSerializer, createItsdangerousSigner } from '../../src/flask/itsdangerous.js'

const signer = (options: object) => () => createItsdangerousSigner({ secrets: 's', ...options } as never)
const serializer = (options: object) => () => createItsdangerousSerializer({ secrets: 's', ...options } as never)
// Built in each call: a mutant that makes the factory throw fails the tests, not the file's load.
const timed = { sign: (value: string, options?: object) => createItsdangerousSigner({ secrets: 's', timestamped: true }).sign(value, options as never) }

const SEPARATOR = 'option separator is invalid: give a non-empty string without ASCII letters, digits, "-", "_" or "="'
const SERIALIZER = 'option serializer is invalid: give an object with dumps(value): string and loads(text): unknown'
const LONE = 'the string contains a lone surrogate, which UTF-8 cannot encode'

describe('itsdangerous: what each misuse is refused with', () => {
  it.each<[what: string, call: () => unknown, message: string]>([
    ['secrets missing', () => createItsdangerousSigner({ secrets: undefined } as never), 'option secrets is missing: give the secret key (string or bytes), or a list of them, newest first'],
    ['an empty secret', signer({ secrets: '' }), 'option secrets is invalid: an empty secret signs nothing; give the application secret key'],
    ['an empty list', signer({ secrets: [] }), 'option secrets is invalid: give a secret (string or Uint8Array) or a non-empty list of them, newest first'],
    ['a number for secrets', signer({ secrets: 5 }), 'option secrets is invalid: give a secret (string or Uint8Array) or a non-empty list of them, newest first'],
    ['a number in the list', signer({ secrets: ['a', 5] }), 'option secrets[1] is invalid: give a string or a Uint8Array'],
    ['empty bytes in the list', signer({ secrets: ['a', new Uint8Array()] }), 'option secrets[1] is invalid: an empty secret signs nothing; give the application secret key'],
    ['a lone surrogate in the list', signer({ secrets: ['a', '\ud800'] }), `option secrets[1] is invalid: ${LONE}`],
    ['a lone surrogate secret', signer({ secrets: '\ud800' }), `option secrets is invalid: ${LONE}`],
    ['a number for salt', signer({ salt: 5 }), 'option salt is invalid: give a string or a Uint8Array'],
    ['a lone surrogate in salt', signer({ salt: '\udc00' }), `option salt is invalid: ${LONE}`],
    ['digest md5', signer({ digest: 'md5' }), "option digest is invalid: give 'sha1', 'sha256' or 'sha512'"],
    ['digest toString (inherited, not a digest)', signer({ digest: 'toString' }), "option digest is invalid: give 'sha1', 'sha256' or 'sha512'"],
    ['keyDerivation pbkdf2', signer({ keyDerivation: 'pbkdf2' }), "option keyDerivation is invalid: give 'django-concat', 'concat', 'hmac' or 'none'"],
    ['an empty separator', signer({ separator: '' }), SEPARATOR],
    ['a number for separator', signer({ separator: 5 }), SEPARATOR],
    ['a list for separator', signer({ separator: [] }), SEPARATOR],
    ['a list holding a good separator', signer({ separator: ['~'] }), SEPARATOR],
    ['no options', () => createItsdangerousSigner(undefined as never), 'options are invalid: createItsdangerousSigner needs an options object, e.g. createItsdangerousSigner({ secrets })'],
    ['sign options that are text', () => createItsdangerousSigner({ secrets: 's' }).sign('x', 'y' as never), 'options are invalid: sign takes an options object'],
    ['verify options that are text', () => createItsdangerousSigner({ secrets: 's' }).verify('x', 'y' as never), 'options are invalid: verify takes an options object'],
    ['a value with no JSON form, named by its path', () => createItsdangerousSerializer({ secrets: 's' }).sign({ a: Symbol('x') } as never), 'value at value.a is invalid: symbol has no JSON form here; convert it to a string, number, array or plain object'],
    ['no options for the serializer', () => createItsdangerousSerializer(undefined as never), 'options are invalid: createItsdangerousSerializer needs an options object, e.g. createItsdangerousSerializer({ secrets })'],
    ['a separator with a letter', signer({ separator: '.x' }), SEPARATOR],
    ['a separator with a digit', signer({ separator: '|0' }), SEPARATOR],
    ['a separator with "_"', signer({ separator: '_' }), SEPARATOR],
    ['a separator with "-"', signer({ separator: '-' }), SEPARATOR],
    ['a separator with "="', signer({ separator: '=' }), SEPARATOR],
    ['a lone surrogate separator', signer({ separator: '\ud800' }), SEPARATOR],
    ['timestamped as a string', signer({ timestamped: 'yes' }), 'option timestamped is invalid: give true or false'],
    ['maxTokenLength 63', signer({ maxTokenLength: 63 }), 'option maxTokenLength is invalid: give a whole number, at least 64'],
    ['a fractional maxTokenLength', signer({ maxTokenLength: 64.5 }), 'option maxTokenLength is invalid: give a whole number, at least 64'],
    ['a serializer without methods', serializer({ serializer: {} }), SERIALIZER],
    ['a serializer without loads', serializer({ serializer: { dumps: () => '' } }), SERIALIZER],
    ['a serializer without dumps', serializer({ serializer: { loads: () => 1 } }), SERIALIZER],
    ['maxBytes 0', serializer({ maxBytes: 0 }), 'option maxBytes is invalid: give a whole number, at least 1'],
    ['a number to sign', () => createItsdangerousSigner({ secrets: 's' }).sign(5 as never), 'value is invalid: give a string or a Uint8Array'],
    ['a lone surrogate to sign', () => createItsdangerousSigner({ secrets: 's' }).sign('\ud800'), `value is invalid: ${LONE}`],
    ['bytes that are not UTF-8 to sign', () => createItsdangerousSigner({ secrets: 's' }).sign(new Uint8Array([0xff])), 'value is invalid: the bytes are not UTF-8 text, so they cannot be part of a string token'],
    ['a time before 1970', () => timed.sign('v', { now: -1000 }), 'option now is invalid: itsdangerous timestamps cannot be before 1970'],
    ['a NaN time', () => timed.sign('v', { now: Number.NaN }), 'option now is invalid: give a valid Date or milliseconds since the epoch'],
    ['a time that is not a number', () => timed.sign('v', { now: '2026-01-01' as never }), 'option now is invalid: give a valid Date or milliseconds since the epoch'],
    ['a clock giving NaN, at sign', () => createItsdangerousSigner({ secrets: 's', timestamped: true, clock: () => Number.NaN }).sign('v'), 'option clock is invalid: give a valid Date or milliseconds since the epoch'],
    ['a clock giving a string, at verify', () => createItsdangerousSigner({ secrets: 's', clock: () => '0' as never }).verify('v.x'), 'option clock is invalid: give a valid Date or milliseconds since the epoch'],
    ['expiresIn to sign', () => timed.sign('v', { expiresIn: 5 } as never), 'option expiresIn is unknown: itsdangerous tokens carry no expiry: give verify(token, { maxAge }) an age limit instead'],
    ['expiresIn to the factory', signer({ expiresIn: 5 }), 'option expiresIn is unknown: itsdangerous tokens carry no expiry: give verify(token, { maxAge }) an age limit instead'],
    ['maxAge to the factory', signer({ maxAge: 5 }), 'option maxAge is unknown: give `maxAge` (seconds) to verify(token, { maxAge }), not to the factory'],
    // Frasco's own hints point at `expiresIn` and a 32-byte minimum, which itsdangerous has neither of.
    ['maxAge to sign', () => timed.sign('v', { maxAge: 5 } as never), 'option maxAge is unknown: itsdangerous tokens carry no expiry: give verify(token, { maxAge }) an age limit instead'],
    ['ttl to sign', () => timed.sign('v', { ttl: 5 } as never), 'option ttl is unknown: itsdangerous tokens carry no expiry: give verify(token, { maxAge }) an age limit instead'],
    ['ttl to the factory', signer({ ttl: 5 }), 'option ttl is unknown: itsdangerous tokens carry no expiry: give verify(token, { maxAge }) an age limit instead'],
    ['password to the factory', signer({ password: 's' }), 'option password is unknown: did you mean `secrets`? (newest first)'],
    ['key_derivation (Python)', signer({ key_derivation: 'hmac' }), 'option key_derivation is unknown: did you mean `keyDerivation`?'],
    ['sep (Python)', signer({ sep: '.' }), 'option sep is unknown: did you mean `separator`?'],
    ['secret_key (Python)', signer({ secret_key: 's' }), 'option secret_key is unknown: did you mean `secrets`? (newest first)'],
    ['max_age (Python)', signer({ max_age: 5 }), 'option max_age is unknown: did you mean `maxAge`? (give it to verify)'],
    ['compressThreshold (0.1)', serializer({ compressThreshold: 5 }), 'option compressThreshold is unknown: use `compress: { threshold }` (bytes), or `compress: false`'],
    ['a serializer giving a number', () => createItsdangerousSerializer({ secrets: 's', serializer: { dumps: () => 5, loads: () => 1 } as never }).sign(1), 'value is invalid: the serializer must return well-formed text (no lone surrogates)'],
    ['a serializer giving a lone surrogate', () => createItsdangerousSerializer({ secrets: 's', serializer: { dumps: () => '"\ud800"', loads: () => 1 } }).sign(1), 'value is invalid: the serializer must return well-formed text (no lone surrogates)'],
  ])('%s', (_what, call, message) => {
    expect(call).toThrow(TypeError)
    expect(call).toThrow(message)
    try {
      call()
    } catch (error) {
      expect((error as Error).message).toBe(message)
    }
  })

  it.each<[what: string, call: () => unknown, message: string]>([
    ['a payload over maxBytes', () => createItsdangerousSerializer({ secrets: 's', maxBytes: 10 }).sign('x'.repeat(20)), 'value is invalid: its payload of 22 bytes exceeds maxBytes (10), so verify would reject it'],
    ['a token over maxTokenLength', () => createItsdangerousSerializer({ secrets: 's', maxTokenLength: 64, compress: false }).sign('x'.repeat(60)), 'value is invalid: the token of 111 characters exceeds maxTokenLength (64)'],
  ])('%s is a RangeError', (_what, call, message) => {
    expect(call).toThrow(RangeError)
    expect(call).toThrow(message)
  })

  it('takes the limits at their bounds: maxTokenLength 64, a payload of exactly maxBytes, a token of exactly maxTokenLength', () => {
    expect(createItsdangerousSigner({ secrets: 's', maxTokenLength: 64 }).sign('v')).toMatch(/^v\./)
    const exact = createItsdangerousSerializer<string>({ secrets: 's', maxBytes: 22, compress: false })
    expect(exact.unsign(exact.sign('x'.repeat(20)))).toBe('x'.repeat(20))
    const token = createItsdangerousSerializer({ secrets: 's', compress: false }).sign('x'.repeat(60))
    const fits = createItsdangerousSerializer<string>({ secrets: 's', maxTokenLength: token.length, compress: false })
    expect(fits.sign('x'.repeat(60))).toBe(token)
    expect(fits.unsign(token)).toBe('x'.repeat(60))
  })
})

describe('a token from the future', () => {
  it('says when it was issued', () => {
    const signer = createItsdangerousSigner({ secrets: 's', timestamped: true })
    const token = signer.sign('x', { now: 2_000_000_000_000 })
    const result = signer.verify(token, { now: 1_000_000_000_000 })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error).toMatchObject({ code: 'ERR_SESSION_NOT_YET_VALID', issuedAt: new Date(2_000_000_000_000) })
  })
})
