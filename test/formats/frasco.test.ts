/**
 * Frasco's own session format (the default of createSessions): the object token createSerializer
 * writes, with the session's expiry and persistence inside the MAC, and the options the manager
 * hands it (encrypt, compress, clockTolerance, maxTokenLength) honoured.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { CookieTooLarge, SessionError } from '../../src/errors.js'
import { FRASCO_FORMAT } from '../../src/formats/frasco.js'
import type { SessionFormatContext } from '../../src/lib/format.js'
import { DecodedValue } from '../../src/lib/result.js'
import { createSessions } from '../../src/sessions.js'
import { createSerializer } from '../../src/signer.js'

const secret = randomBytes(32).toString('base64url')
const NOW = 1_800_000_000 // seconds
const PURPOSE = 'session:frasco-format'

const context = (extra: Partial<SessionFormatContext> = {}): SessionFormatContext => ({
  secrets: secret,
  purpose: PURPOSE,
  encrypt: undefined,
  compress: undefined,
  clockTolerance: undefined,
  maxTokenLength: 3 * 4096,
  ...extra,
})

/** What a decode gave: the value, or the error's code. */
const outcome = (decoded: DecodedValue | SessionError) => (decoded instanceof SessionError ? decoded.code : decoded.value)

describe('the Frasco session format', () => {
  it('is named, frozen, chunked by default, and keeps a session seven days unless told', () => {
    expect(FRASCO_FORMAT).toMatchObject({ name: 'frasco', defaultLifetime: 7 * 24 * 60 * 60, defaultChunking: true })
    expect(Object.isFrozen(FRASCO_FORMAT)).toBe(true)
  })

  it("is createSessions' default: a session expires seven days after it is written, and a large one is chunked", () => {
    const sessions = createSessions<{ a: string }>({ secrets: secret, clock: () => NOW * 1000 })
    const session = sessions.read(undefined)
    session.set('a', 'x')
    const [header] = sessions.commit(session).setCookie as [string]
    const token = header.slice('session='.length, header.indexOf(';'))
    const verified = createSerializer({ secrets: secret, purpose: 'session:session', clock: () => NOW * 1000 }).verify(token)
    expect(verified).toMatchObject({ ok: true, value: { a: 'x' }, issuedAt: new Date(NOW * 1000), expiresAt: new Date((NOW + 604_800) * 1000) })

    const large = sessions.read(undefined)
    large.set('a', randomBytes(4000).toString('base64url'))
    const chunks = sessions.commit(large).setCookie
    expect(chunks.length).toBeGreaterThan(1)
    const cookie = chunks.map((line) => line.slice(0, line.indexOf(';'))).join('; ')
    expect(sessions.read(cookie).get('a')).toBe(large.get('a'))
  })

  it('writes tokens with an absolute expiry and the persistence flag, and reads them back', () => {
    const codec = FRASCO_FORMAT.createCodec(context())
    expect(codec.absoluteExpiry).toBe(true)
    const token = codec.encode({ a: 1 }, NOW, NOW + 100, true)
    expect(token).toMatch(/^f1\./)
    expect(codec.decode(token, NOW, undefined)).toEqual(new DecodedValue({ a: 1 }, NOW, NOW + 100, expect.any(String), false, true))
    expect(codec.decode(codec.encode({ a: 1 }, NOW, NOW + 100, false), NOW, undefined)).toMatchObject({ persistent: false })
    // Expired from its expiry second on, 60 seconds of clock tolerance later; and an age limit.
    expect(outcome(codec.decode(token, NOW + 159, undefined))).toEqual({ a: 1 })
    expect(outcome(codec.decode(token, NOW + 160, undefined))).toBe('ERR_SESSION_EXPIRED')
    expect(outcome(codec.decode(token, NOW + 70, 10))).toEqual({ a: 1 })
    expect(outcome(codec.decode(token, NOW + 71, 10))).toBe('ERR_SESSION_EXPIRED')
    // Bound to the purpose the manager gives it.
    const other = FRASCO_FORMAT.createCodec(context({ purpose: 'session:other' }))
    expect(outcome(other.decode(token, NOW, undefined))).toBe('ERR_SESSION_SIGNATURE_INVALID')
  })

  it.each<[string, Partial<SessionFormatContext>, RegExp]>([
    ['encrypt: true writes x1', { encrypt: true }, /^x1\./],
    ['encrypt: false writes f1', { encrypt: false }, /^f1\./],
    ['no encrypt writes f1', {}, /^f1\./],
  ])('%s', (_, extra, version) => {
    const codec = FRASCO_FORMAT.createCodec(context(extra))
    const token = codec.encode({ a: 1 }, NOW, NOW + 100, false)
    expect(token).toMatch(version)
    expect(outcome(codec.decode(token, NOW, undefined))).toEqual({ a: 1 })
  })

  it('takes the clock tolerance it is given, 60 seconds when none', () => {
    expect(FRASCO_FORMAT.createCodec(context()).clockTolerance).toBe(60)
    const codec = FRASCO_FORMAT.createCodec(context({ clockTolerance: 5 }))
    expect(codec.clockTolerance).toBe(5)
    const token = codec.encode({ a: 1 }, NOW, NOW + 100, false)
    expect(outcome(codec.decode(token, NOW + 104, undefined))).toEqual({ a: 1 })
    expect(outcome(codec.decode(token, NOW + 105, undefined))).toBe('ERR_SESSION_EXPIRED')
  })

  it('compresses as told: by default a signed session, never an encrypted one unless asked', () => {
    const data = { text: 'abc'.repeat(500) }
    const length = (extra: Partial<SessionFormatContext>) => FRASCO_FORMAT.createCodec(context(extra)).encode(data, NOW, NOW + 100, false).length
    expect(length({})).toBeLessThan(200)
    expect(length({ compress: false })).toBeGreaterThan(1500)
    expect(length({ encrypt: true })).toBeGreaterThan(1500)
    expect(length({ encrypt: true, compress: true })).toBeLessThan(200)
  })

  it('refuses unread a token longer than maxTokenLength', () => {
    const token = FRASCO_FORMAT.createCodec(context()).encode({ a: 'x'.repeat(100) }, NOW, NOW + 100, false)
    expect(outcome(FRASCO_FORMAT.createCodec(context({ maxTokenLength: token.length })).decode(token, NOW, undefined))).toEqual({ a: 'x'.repeat(100) })
    expect(outcome(FRASCO_FORMAT.createCodec(context({ maxTokenLength: token.length - 1 })).decode(token, NOW, undefined))).toBe('ERR_SESSION_PAYLOAD_TOO_LARGE')
  })

  it('refuses a session that compresses small but inflates beyond what a reader accepts, as CookieTooLarge', () => {
    const codec = FRASCO_FORMAT.createCodec(context())
    const data = { blob: 'a'.repeat(200_000) }
    const size = JSON.stringify(data).length
    let thrown: unknown
    try {
      codec.encode(data, NOW, NOW + 100, false)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(CookieTooLarge)
    expect(thrown).toMatchObject({
      code: 'ERR_SESSION_COOKIE_TOO_LARGE',
      size,
      limit: 131_072,
      message: `session of ${size} bytes (as JSON) exceeds 131072 bytes, more than a reader inflates`,
    })
  })

  it('lets any other error through as it is: a value that cannot be stored is a TypeError naming it', () => {
    const codec = FRASCO_FORMAT.createCodec(context())
    expect(() => codec.encode({ cart: [() => 1] }, NOW, NOW + 100, false)).toThrow(TypeError)
    expect(() => codec.encode({ cart: [() => 1] }, NOW, NOW + 100, false)).toThrow(/^value at session\.cart\[0\] is/)
  })
})
