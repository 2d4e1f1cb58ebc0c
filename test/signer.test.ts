import { Buffer } from 'node:buffer'
import { createHmac, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { SessionError } from '../src/errors.js'
import { createKeyring } from '../src/keyring.js'
import { FLAG_EXPIRES, FLAG_OBJECT, FLAG_PERSISTENT, TokenCore } from '../src/lib/token.js'
import { createSessions } from '../src/sessions.js'
import { createSerializer, createSigner, type VerifyResult } from '../src/signer.js'
import rfc4231 from './vectors/rfc4231.json' with { type: 'json' }
import vectors from './vectors/signer.json' with { type: 'json' }

const IAT_MS = 1_800_000_000_000
const strong = () => randomBytes(32).toString('base64url')
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'

function codeOf(result: VerifyResult<unknown>): string {
  return result.ok ? 'ok' : result.error.code
}

describe('HMAC-SHA256 primitive (RFC 4231 §4)', () => {
  it.each(rfc4231.cases)('test case $case', ({ key, data, hmac, ...rest }) => {
    const digest = createHmac('sha256', Buffer.from(key, 'hex')).update(Buffer.from(data, 'hex')).digest()
    const truncate = 'truncate' in rest ? (rest.truncate as number) : 32
    expect(digest.subarray(0, truncate).toString('hex')).toBe(hmac)
  })
})

describe('golden vectors (independent Python reference, test/vectors/make-signer-vectors.py)', () => {
  const keyring = createKeyring([vectors.secret, vectors.oldSecret])

  it('derives the same key ids', () => {
    expect(keyring.keys.map((k) => k.id)).toEqual([vectors.keyId, vectors.oldKeyId])
  })

  it.each(vectors.strings)('string: $name', (vector) => {
    const secret = 'secretIndex' in vector ? vectors.oldSecret : vectors.secret
    const entry = 'keyIdOverride' in vector ? { id: vector.keyIdOverride as string, secret } : secret
    const signer = createSigner({ secrets: entry, purpose: vector.purpose })
    const expiresIn = vector.expiresAt === null ? undefined : vector.expiresAt - vector.issuedAt
    const token = signer.sign(vector.value, { now: vector.issuedAt * 1000, ...(expiresIn === undefined ? {} : { expiresIn }) })
    expect(token).toBe(vector.token)
    const result = signer.verify(vector.token, { now: vector.issuedAt * 1000 })
    expect(result).toMatchObject({ ok: true, value: vector.value, issuedAt: new Date(vector.issuedAt * 1000), stale: false })
    // expiresAt is absent (not an undefined-valued key) when the token carries no expiry.
    expect('expiresAt' in result).toBe(vector.expiresAt !== null)
    if (result.ok && vector.expiresAt !== null) expect(result.expiresAt).toEqual(new Date(vector.expiresAt * 1000))
  })

  it('verifies the old-key vector through the rotated keyring and reports it stale', () => {
    const vector = vectors.strings.find((v) => v.name === 'old key')!
    const result = createSigner({ secrets: keyring, purpose: 'test' }).verify(vector.token, { now: IAT_MS })
    expect(result).toMatchObject({ ok: true, value: 'hello', keyId: vectors.oldKeyId, stale: true })
  })

  it.each(vectors.objects)('object: $name', (vector) => {
    const serializer = createSerializer({ secrets: vectors.secret, purpose: vector.purpose })
    const result = serializer.verify(vector.token, { now: IAT_MS })
    expect(result).toMatchObject({ ok: true, value: JSON.parse(vector.json) })
    if (!('compressed' in vector)) {
      const expiresIn = vector.expiresAt === null ? undefined : vector.expiresAt - vector.issuedAt
      expect(serializer.sign(JSON.parse(vector.json), { now: IAT_MS, ...(expiresIn === undefined ? {} : { expiresIn }) })).toBe(vector.token)
    }
  })
})

describe('createSigner', () => {
  const secret = strong()
  const signer = createSigner({ secrets: secret, purpose: 'test' })

  it('round trips strings and bytes', () => {
    expect(signer.unsign(signer.sign('hello'))).toBe('hello')
    expect(signer.unsign(signer.sign(''))).toBe('')
    const bytes = new Uint8Array([0, 255, 128, 7])
    expect(signer.unsign(signer.sign(bytes), { encoding: 'bytes' })).toEqual(bytes)
  })

  it('reports a non-UTF-8 value as malformed when read as text', () => {
    const token = signer.sign(new Uint8Array([0xff]))
    expect(codeOf(signer.verify(token))).toBe('ERR_SESSION_MALFORMED')
  })

  it('writes issue time and expiry into the MAC and reports them', () => {
    const token = signer.sign('x', { now: new Date(IAT_MS), expiresIn: 60 })
    const result = signer.verify(token, { now: IAT_MS + 1000 })
    expect(result).toMatchObject({ ok: true, issuedAt: new Date(IAT_MS), expiresAt: new Date(IAT_MS + 60_000) })
  })

  describe('time', () => {
    // Built in a hook, not the describe body: a failure here must fail tests, not stop the file loading.
    let tolerant: ReturnType<typeof createSigner>
    let token: string
    beforeAll(() => {
      tolerant = createSigner({ secrets: secret, purpose: 'test', clockTolerance: 0 })
      token = tolerant.sign('x', { now: IAT_MS, expiresIn: 100 })
    })

    it.each([
      ['at issue', 0, 'ok'],
      ['just before expiry', 99_999, 'ok'],
      ['at expiry', 100_000, 'ERR_SESSION_EXPIRED'],
      ['long after', 10 ** 9, 'ERR_SESSION_EXPIRED'],
      ['one second in the future', -1000, 'ERR_SESSION_NOT_YET_VALID'],
    ])('%s', (_, offset, code) => {
      expect(codeOf(tolerant.verify(token, { now: IAT_MS + offset }))).toBe(code)
    })

    it('enforces maxAge from the issue time', () => {
      expect(codeOf(tolerant.verify(token, { now: IAT_MS + 10_000, maxAge: 10 }))).toBe('ok')
      const late = tolerant.verify(token, { now: IAT_MS + 11_000, maxAge: 10 })
      expect(codeOf(late)).toBe('ERR_SESSION_EXPIRED')
      if (!late.ok) expect((late.error as SessionError & { expiredAt: Date }).expiredAt).toEqual(new Date(IAT_MS + 10_000))
    })

    it('tolerates the default 60 s of clock skew and no more', () => {
      const t = signer.sign('x', { now: IAT_MS })
      expect(codeOf(signer.verify(t, { now: IAT_MS - 60_000 }))).toBe('ok')
      expect(codeOf(signer.verify(t, { now: IAT_MS - 61_000 }))).toBe('ERR_SESSION_NOT_YET_VALID')
    })
  })

  describe('tamper matrix', () => {
    const token = signer.sign('{"user":"admin"}', { now: IAT_MS, expiresIn: 3600 })
    const verifyAt = (t: string) => signer.verify(t, { now: IAT_MS })

    it('accepts the untouched token', () => {
      expect(codeOf(verifyAt(token))).toBe('ok')
    })

    it('rejects every character of the token changed to every other character', () => {
      let tried = 0
      for (let i = 0; i < token.length; i++) {
        for (const c of ALPHABET) {
          if (c === token[i]) continue
          const tampered = token.slice(0, i) + c + token.slice(i + 1)
          expect(verifyAt(tampered).ok, `position ${i} -> ${c}`).toBe(false)
          tried++
        }
      }
      expect(tried).toBe(token.length * (ALPHABET.length - 1))
    })

    it('rejects every truncation and every extension', () => {
      for (let i = 0; i < token.length; i++) expect(verifyAt(token.slice(0, i)).ok).toBe(false)
      for (const suffix of ['.', 'A', '=', '..', ' ', '\n']) expect(verifyAt(token + suffix).ok).toBe(false)
      for (const prefix of ['.', ' ', 'f1.']) expect(verifyAt(prefix + token).ok).toBe(false)
    })

    it('rejects extra or missing separators', () => {
      const [v, kid, body, tag] = token.split('.') as [string, string, string, string]
      for (const t of [`${v}.${kid}.${body}..${tag}`, `${v}.${kid}${body}.${tag}`, `${v}..${kid}.${body}.${tag}`, `${v}.${kid}.${body}${tag}`]) {
        expect(verifyAt(t).ok).toBe(false)
      }
    })

    it('rejects non-canonical base64url that decodes to the same bytes', () => {
      const [v, kid, body, tag] = token.split('.') as [string, string, string, string]
      const lastTag = tag.at(-1)!
      const idx = ALPHABET.indexOf(lastTag)
      // The last of 43 characters carries 4 data bits; its two low bits are padding.
      for (let bits = 1; bits < 4; bits++) {
        const alt = ALPHABET[(idx & ~3) | bits]!
        expect(verifyAt(`${v}.${kid}.${body}.${tag.slice(0, -1)}${alt}`).ok).toBe(false)
      }
      expect(verifyAt(`${v}.${kid}.${body}=.${tag}`).ok).toBe(false)
      expect(verifyAt(`${v}.${kid}.${body}.${tag}=`).ok).toBe(false)
    })

    it.each([
      ['wrong key', () => createSigner({ secrets: strong(), purpose: 'test' }), 'ERR_SESSION_UNKNOWN_KEY'],
      ['wrong key under the same id', () => createSigner({ secrets: { id: signer.sign('x').split('.')[1]!, secret: strong() }, purpose: 'test' }), 'ERR_SESSION_SIGNATURE_INVALID'],
      ['wrong purpose', () => createSigner({ secrets: secret, purpose: 'other' }), 'ERR_SESSION_SIGNATURE_INVALID'],
    ])('rejects a %s', (_, make, code) => {
      expect(codeOf(make().verify(token, { now: IAT_MS }))).toBe(code)
    })

    it('rejects an unknown version', () => {
      expect(codeOf(verifyAt(`f2${token.slice(2)}`))).toBe('ERR_SESSION_UNSUPPORTED_VERSION')
    })

    it('rejects an oversized token before doing any work', () => {
      expect(codeOf(verifyAt('f1.' + 'A'.repeat(70_000)))).toBe('ERR_SESSION_PAYLOAD_TOO_LARGE')
    })

    it('never puts the secret or the token in an error', () => {
      for (let i = 0; i < token.length; i += 7) {
        const result = verifyAt(token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1))
        if (result.ok) continue
        const text = `${result.error.message} ${JSON.stringify(result.error)}`
        expect(text).not.toContain(secret)
        expect(text).not.toContain(token.split('.')[2]!)
        expect(text).not.toContain('admin')
      }
    })
  })

  describe('rotation', () => {
    const [newest, middle, oldest] = [strong(), strong(), strong()]
    const old = createSigner({ secrets: oldest, purpose: 'test' })
    const rotated = createSigner({ secrets: [newest, middle, oldest], purpose: 'test' })

    it('verifies a token of an older key and reports it stale', () => {
      const result = rotated.verify(old.sign('hi'))
      expect(result).toMatchObject({ ok: true, value: 'hi', stale: true })
    })

    it('signs with the newest key', () => {
      const result = rotated.verify(rotated.sign('hi'))
      expect(result).toMatchObject({ ok: true, stale: false, keyId: createKeyring(newest).current.id })
    })

    it('rejects a retired key as unknown', () => {
      const retired = createSigner({ secrets: [newest, middle], purpose: 'test' })
      expect(codeOf(retired.verify(old.sign('hi')))).toBe('ERR_SESSION_UNKNOWN_KEY')
    })
  })

  it('unsign throws the typed error', () => {
    expect(() => signer.unsign('nope')).toThrow(SessionError)
    try {
      signer.unsign(signer.sign('x', { now: 0, expiresIn: 1 }))
    } catch (error) {
      expect((error as SessionError).code).toBe('ERR_SESSION_EXPIRED')
    }
  })

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom(...ALPHABET.split('')).chain((c) => fc.string({ unit: fc.constantFrom(c, '.', 'f', '1', 'A') }))), (input) => {
        const result = signer.verify(input)
        expect(result.ok).toBe(false)
        if (!result.ok) expect(result.error).toBeInstanceOf(SessionError)
      }),
      { numRuns: 2000 },
    )
    for (const input of [undefined, null, 42, {}, []]) expect(signer.verify(input as never).ok).toBe(false)
  })

  it.each([
    ['no options', undefined, /needs an options object/],
    ['no purpose', { secrets: strong() }, /option purpose is invalid/],
    ['empty purpose', { secrets: strong(), purpose: '' }, /option purpose is invalid/],
    ['weak secret', { secrets: 'short', purpose: 'x' }, /at least 32 bytes/],
    ['negative clockTolerance', { secrets: strong(), purpose: 'x', clockTolerance: -1 }, /option clockTolerance is invalid/],
    ['tiny maxTokenLength', { secrets: strong(), purpose: 'x', maxTokenLength: 10 }, /option maxTokenLength is invalid/],
  ])('rejects %s at construction', (_, options, message) => {
    expect(() => createSigner(options as never)).toThrow(TypeError)
    expect(() => createSigner(options as never)).toThrow(message)
  })

  it.each([
    ['a negative expiresIn', () => signer.sign('x', { expiresIn: -1 }), /option expiresIn is invalid/],
    ['a NaN now', () => signer.sign('x', { now: Number.NaN }), /option now is invalid/],
    ['an object value', () => signer.sign({} as never), /createSerializer/],
    ['a lone surrogate', () => signer.sign('\ud800'), /lone surrogate/],
    ['a negative maxAge', () => signer.verify(signer.sign('x'), { maxAge: -5 }), /option maxAge is invalid/],
  ])('throws a TypeError for %s', (_, call, message) => {
    expect(call).toThrow(TypeError)
    expect(call).toThrow(message)
  })
})

describe('createSerializer', () => {
  const secret = strong()
  const serializer = createSerializer<Record<string, unknown>>({ secrets: secret, purpose: 'objects' })

  it('round trips every supported type', () => {
    const value = {
      s: 'olá',
      n: 1.5,
      b: true,
      nil: null,
      list: [1, 'two', [3]],
      date: new Date(IAT_MS),
      bytes: new Uint8Array([1, 2, 3]),
      big: 2n ** 70n,
      map: new Map<unknown, unknown>([['k', new Set([1, 2])]]),
      __proto__: null,
    }
    expect(serializer.unsign(serializer.sign(value))).toEqual({ ...value })
  })

  it('keeps a __proto__ key as data', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>
    const back = serializer.unsign(serializer.sign(value))
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(Object.keys(back)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('compresses large compressible payloads and not small ones', () => {
    const small = serializer.sign({ user: 'admin' })
    const big = { notes: 'lorem ipsum dolor sit amet '.repeat(200) }
    const token = serializer.sign(big)
    expect(token.length).toBeLessThan(JSON.stringify(big).length)
    expect(serializer.unsign(token)).toEqual(big)
    const raw = createSerializer({ secrets: secret, purpose: 'objects', compress: false }).sign(big)
    expect(raw.length).toBeGreaterThan(JSON.stringify(big).length)
    expect(serializer.unsign(raw)).toEqual(big)
    expect(small.length).toBeLessThan(100)
  })

  it('does not confuse a signer token with an object token of another purpose', () => {
    const signer = createSigner({ secrets: secret, purpose: 'strings' })
    expect(codeOf(serializer.verify(signer.sign('{"a":1}')))).toBe('ERR_SESSION_SIGNATURE_INVALID')
  })

  it('reports a signed payload that is not valid tagged JSON as malformed', () => {
    // Same purpose, so the signature matches; the content is what is wrong.
    const signer = createSigner({ secrets: secret, purpose: 'objects' })
    expect(codeOf(serializer.verify(signer.sign('{not json')))).toBe('ERR_SESSION_MALFORMED')
    expect(codeOf(serializer.verify(signer.sign('{"$d":5}')))).toBe('ERR_SESSION_MALFORMED')
  })

  it('round trips arbitrary JSON-like values (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const back = serializer.unsign(serializer.sign(value as Record<string, unknown>))
        expect(back).toEqual(JSON.parse(JSON.stringify(value)))
      }),
      { numRuns: 300 },
    )
  })

  it('rejects a tampered compressed token at every position', () => {
    const token = serializer.sign({ notes: 'abc '.repeat(500) })
    for (let i = 0; i < token.length; i += 3) {
      const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1)
      expect(serializer.verify(tampered).ok).toBe(false)
    }
  })

  it.each([
    ['compress', { compress: 'yes' }],
    ['compress threshold', { compress: { threshold: -1 } }],
    ['maxBytes', { maxBytes: 0 }],
  ])('rejects an invalid %s option', (name, extra) => {
    expect(() => createSerializer({ secrets: secret, purpose: 'x', ...(extra as object) })).toThrow(new RegExp(`option ${name.split(' ')[0]} is invalid`))
  })
})

describe('review fixes', () => {
  const secret = strong()
  const signer = createSigner({ secrets: secret, purpose: 'p' })
  const serializer = createSerializer({ secrets: secret, purpose: 'p' })

  it('rejects a tag character replaced by one whose low byte is the same (c + 0x100)', () => {
    const token = signer.sign('x')
    for (let i = token.lastIndexOf('.') + 1; i < token.length; i++) {
      const twin = String.fromCharCode(token.charCodeAt(i) + 0x100)
      expect(signer.verify(token.slice(0, i) + twin + token.slice(i + 1)).ok).toBe(false)
    }
  })

  it('never accepts a string token as an object token of the same purpose, or the other way round', () => {
    expect(codeOf(serializer.verify(signer.sign('{"user":"admin"}')))).toBe('ERR_SESSION_MALFORMED')
    expect(codeOf(signer.verify(serializer.sign({ user: 'admin' })))).toBe('ERR_SESSION_MALFORMED')
    expect(codeOf(signer.verify(signer.sign('{"user":"admin"}')))).toBe('ok')
  })

  it('refuses an expiry beyond what the format holds with a TypeError', () => {
    expect(() => signer.sign('x', { expiresIn: 2 ** 48 })).toThrow(/option expiresIn is invalid/)
  })

  it('rejects a fractional compress threshold at construction', () => {
    expect(() => createSerializer({ secrets: secret, purpose: 'p', compress: { threshold: 10.5 } })).toThrow(/option compress is invalid/)
  })
})

// The token body is built in memory shared by every token (one buffer instead of an allocation per
// token); these pin down that no token ever sees another's bytes.
describe('shared body buffer', () => {
  const secret = strong()

  it.each([false, true])('keeps every token intact across sizes and encodings (encrypt: %s)', (encrypt) => {
    const serializer = createSerializer({ secrets: secret, purpose: 'p', encrypt, compress: false })
    // Grows past the initial buffer, shrinks again, and mixes 1-, 2-, 3- and 4-byte UTF-8.
    const values = [
      { a: 'x' },
      { big: 'é€😀'.repeat(2000) },
      { a: 'y' },
      { ascii: 'z'.repeat(5000) },
      { a: '€' },
      { b: new Uint8Array([1, 2, 3]), d: new Date(0) },
    ]
    const tokens = values.map((value) => serializer.sign(value))
    tokens.forEach((token, i) => expect(serializer.unsign(token)).toEqual(values[i]))
    // Signing again gives the same token bytes for the same value and time (f1 is deterministic).
    if (!encrypt) expect(values.map((value) => serializer.sign(value, { now: 0 }))).toEqual(values.map((value) => serializer.sign(value, { now: 0 })))
  })

  it('reads its own compressed and uncompressed tokens alike', () => {
    const compressing = createSerializer({ secrets: secret, purpose: 'p', compress: { threshold: 0 } })
    const plain = createSerializer({ secrets: secret, purpose: 'p', compress: false })
    const value = { text: 'abc'.repeat(400) }
    const compressed = compressing.sign(value)
    expect(plain.sign(value).length).toBeGreaterThan(compressed.length)
    expect(plain.unsign(compressed)).toEqual(value)
    expect(compressing.unsign(plain.sign(value))).toEqual(value)
  })
})

describe('tag comparison', () => {
  const signer = createSigner({ secrets: strong(), purpose: 'p' })

  it('rejects a tag spelled with the standard base64 alphabet or with padding', () => {
    let token = signer.sign('x')
    // Find a token whose tag has a "-" or "_", which "+" or "/" would spell in standard base64.
    for (let i = 0; !/[-_]/.test(token.slice(token.lastIndexOf('.') + 1)); i++) token = signer.sign(`x${i}`)
    const cut = token.lastIndexOf('.') + 1
    const standard = token.slice(0, cut) + token.slice(cut).replaceAll('-', '+').replaceAll('_', '/')
    expect(signer.verify(standard).ok).toBe(false)
    expect(signer.verify(`${token}=`).ok).toBe(false)
    expect(signer.verify(token.slice(0, -1)).ok).toBe(false)
    expect(signer.verify(token).ok).toBe(true)
  })
})

describe('body times (u48 big-endian, written byte by byte)', () => {
  it('writes and reads every 48-bit time exactly as Buffer#writeUIntBE / readUIntBE', async () => {
    const { parseBody, writeBody, MAX_SECONDS } = await import('../src/lib/token.js')
    const time = fc.oneof(fc.integer({ min: 0, max: MAX_SECONDS }), fc.constantFrom(0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, MAX_SECONDS))
    fc.assert(
      fc.property(time, time, (issuedAt, expiresAt) => {
        const body = Buffer.from(writeBody(0, issuedAt, expiresAt, 'x'))
        expect(body.readUIntBE(1, 6)).toBe(issuedAt)
        expect(body.readUIntBE(7, 6)).toBe(expiresAt)
        const parsed = parseBody(body)
        expect(parsed).toMatchObject({ issuedAt, expiresAt })
      }),
      { numRuns: 2000 },
    )
  })
})

describe('shared buffers: review fixes', () => {
  it('reads verify options before opening, so a getter cannot swap the payload under it', () => {
    const signer = createSigner({ secrets: strong(), purpose: 'p' })
    const t1 = signer.sign('user:alice')
    const t2 = signer.sign('user:mallory')
    const result = signer.verify(t1, {
      get encoding() {
        signer.verify(t2)
        return 'utf8' as const
      },
    })
    expect(result.ok && result.value).toBe('user:alice')
  })

  it('keeps shared buffers to SCRATCH_LIMIT; larger work gets a buffer of its own', async () => {
    const { SCRATCH_LIMIT, scratchFor } = await import('../src/lib/buffers.js')
    const { writeBody, decodeField } = await import('../src/lib/token.js')
    const small = Buffer.alloc(1024)
    expect(scratchFor(small, 100)).toBe(small)
    expect(scratchFor(small, 1500).length).toBe(2048)
    expect(scratchFor(small, SCRATCH_LIMIT - 1).length).toBe(SCRATCH_LIMIT - 1)
    expect(scratchFor(Buffer.alloc(SCRATCH_LIMIT / 2 + 1), SCRATCH_LIMIT / 2 + 2).length).toBe(SCRATCH_LIMIT)
    expect(scratchFor(small, SCRATCH_LIMIT + 1).length).toBe(SCRATCH_LIMIT + 1)
    // Two small bodies share memory; a huge one does not take it over.
    const first = writeBody(0, 1, undefined, 'a').buffer
    expect(writeBody(0, 1, undefined, 'x'.repeat(SCRATCH_LIMIT)).buffer).not.toBe(first)
    expect(writeBody(0, 1, undefined, 'b').buffer).toBe(first)
    const field = decodeField('AAAA').buffer
    expect(decodeField('A'.repeat(4 * SCRATCH_LIMIT)).buffer).not.toBe(field)
    expect(decodeField('AAAA').buffer).toBe(field)
  })

  it('refuses a time outside the 48-bit field instead of wrapping it', async () => {
    const { writeBody, MAX_SECONDS } = await import('../src/lib/token.js')
    expect(() => writeBody(0, MAX_SECONDS + 1, undefined, 'x')).toThrow(RangeError)
    expect(() => writeBody(0, 1, -1, 'x')).toThrow(RangeError)
    expect(() => writeBody(0, 1.5, undefined, 'x')).toThrow(RangeError)
    expect(() => writeBody(0, MAX_SECONDS, MAX_SECONDS, 'x')).not.toThrow()
  })
})

describe('1.0 options: clock, strict keys, seconds', () => {
  const secret = strong()

  it('signs and verifies at the clock option when a call gives no now; a per-call now wins', () => {
    let clock = IAT_MS
    const signer = createSigner({ secrets: secret, purpose: 'p', clock: () => clock, clockTolerance: 0 })
    const token = signer.sign('x', { expiresIn: 60 })
    expect(token).toBe(createSigner({ secrets: secret, purpose: 'p' }).sign('x', { now: IAT_MS, expiresIn: 60 }))
    expect(signer.verify(token)).toMatchObject({ ok: true, issuedAt: new Date(IAT_MS), expiresAt: new Date(IAT_MS + 60_000) })
    clock = IAT_MS + 60_000
    expect(codeOf(signer.verify(token))).toBe('ERR_SESSION_EXPIRED')
    expect(codeOf(signer.verify(token, { now: IAT_MS + 59_000 }))).toBe('ok')
    clock = IAT_MS - 1000
    expect(codeOf(signer.verify(token))).toBe('ERR_SESSION_NOT_YET_VALID')
    // The clock is read at each call, not once at construction.
    clock = IAT_MS + 5000
    expect(signer.verify(signer.sign('y'), { now: IAT_MS + 5000 })).toMatchObject({ ok: true, issuedAt: new Date(IAT_MS + 5000) })
    expect(signer.verify(signer.sign('y', { now: IAT_MS }), { now: IAT_MS })).toMatchObject({ ok: true, issuedAt: new Date(IAT_MS) })
  })

  it('gives createSerializer the same clock option', () => {
    let clock = IAT_MS
    const serializer = createSerializer<{ a: number }>({ secrets: secret, purpose: 'p', clock: () => clock, clockTolerance: 0 })
    const token = serializer.sign({ a: 1 }, { expiresIn: 10 })
    expect(serializer.verify(token)).toMatchObject({ ok: true, value: { a: 1 }, issuedAt: new Date(IAT_MS), expiresAt: new Date(IAT_MS + 10_000) })
    clock = IAT_MS + 10_000
    expect(codeOf(serializer.verify(token))).toBe('ERR_SESSION_EXPIRED')
    expect(serializer.unsign(token, { now: IAT_MS })).toEqual({ a: 1 })
    expect(() => serializer.unsign(token)).toThrow(SessionError)
  })

  it.each([
    ['a number', 1_800_000_000_000],
    ['a Date', new Date(IAT_MS)],
  ])('refuses a clock that is %s (give a function)', (_, clock) => {
    expect(() => createSigner({ secrets: secret, purpose: 'p', clock: clock as never })).toThrow('option clock is invalid')
    expect(() => createSerializer({ secrets: secret, purpose: 'p', clock: clock as never })).toThrow('option clock is invalid')
  })

  it('refuses a clock that returns no valid time when it is read', () => {
    const signer = createSigner({ secrets: secret, purpose: 'p', clock: () => Number.NaN })
    expect(() => signer.sign('x')).toThrow(TypeError)
  })

  it.each([
    ['secret', { secret }, /^option secret is unknown: did you mean `secrets`\?/],
    ['keys (cookie-session)', { keys: [secret] }, /^option keys is unknown: did you mean `secrets`\?/],
    ['a typo', { purpse: 'p' }, /^option purpse is unknown: did you mean `purpose`\?/],
    ['now (the clock is `clock`)', { now: () => IAT_MS }, /^option now is unknown: give the clock as `clock/],
    ['expiresIn (a sign option)', { expiresIn: 60 }, /^option expiresIn is unknown: .*`expiresIn`.* to sign/],
    ['maxAge (a verify option)', { maxAge: 60 }, /^option maxAge is unknown: .*`maxAge`.* to verify/],
    ['salt (itsdangerous)', { salt: 'x' }, /^option salt is unknown: use `purpose`/],
    ['a key set to undefined', { encoding: undefined }, /^option encoding is unknown/],
  ])('factories refuse an unknown option: %s', (_, extra, message) => {
    for (const create of [createSigner, createSerializer] as const) {
      expect(() => create({ secrets: secret, purpose: 'p', ...extra } as never)).toThrow(TypeError)
      expect(() => create({ secrets: secret, purpose: 'p', ...extra } as never)).toThrow(message)
    }
  })

  it('createSigner refuses the serializer-only options by name', () => {
    for (const key of ['compress', 'maxBytes', 'encrypt']) {
      expect(() => createSigner({ secrets: secret, purpose: 'p', [key]: undefined } as never)).toThrow(new RegExp(`^option ${key} is unknown`))
    }
    expect(() => createSerializer({ secrets: secret, purpose: 'p', compressThreshold: 10 } as never)).toThrow(/^option compressThreshold is unknown: use `compress: \{ threshold \}`/)
  })

  it('refuses unknown keys in sign options', () => {
    const signer = createSigner({ secrets: secret, purpose: 'p' })
    const serializer = createSerializer({ secrets: secret, purpose: 'p' })
    expect(() => signer.sign('x', { maxAge: 60 } as never)).toThrow(/^option maxAge is unknown/)
    expect(() => signer.sign('x', { expiresin: 60 } as never)).toThrow(/^option expiresin is unknown: did you mean `expiresIn`\?/)
    expect(() => serializer.sign({}, { ttl: 60 } as never)).toThrow(/^option ttl is unknown: .*`expiresIn`/)
    expect(() => serializer.sign({}, { persistent: true } as never)).toThrow(/^option persistent is unknown/)
    expect(() => signer.sign('x', 60 as never)).toThrow(TypeError)
  })

  it('refuses unknown keys in verify and unsign options', () => {
    const signer = createSigner({ secrets: secret, purpose: 'p' })
    const serializer = createSerializer({ secrets: secret, purpose: 'p' })
    const token = signer.sign('x')
    const object = serializer.sign({})
    expect(() => signer.verify(token, { expiresIn: 60 } as never)).toThrow(/^option expiresIn is unknown/)
    expect(() => signer.verify(token, { max_age: 60 } as never)).toThrow(/^option max_age is unknown: did you mean `maxAge`\?/)
    expect(() => signer.unsign(token, { clockTolerance: 0 } as never)).toThrow(/^option clockTolerance is unknown/)
    // `encoding` belongs to the signer's verify only.
    expect(() => serializer.verify(object, { encoding: 'bytes' } as never)).toThrow(/^option encoding is unknown/)
    expect(() => serializer.unsign(object, { maxage: 1 } as never)).toThrow(/^option maxage is unknown: did you mean `maxAge`\?/)
    expect(signer.verify(token, { encoding: 'utf8', maxAge: 60, now: Date.now() }).ok).toBe(true)
  })

  it('refuses expiresIn and maxAge beyond 400 days: they are seconds, not milliseconds', () => {
    const signer = createSigner({ secrets: secret, purpose: 'p' })
    const serializer = createSerializer({ secrets: secret, purpose: 'p' })
    for (const sign of [(o: object) => signer.sign('x', o), (o: object) => serializer.sign({}, o)]) {
      expect(() => sign({ expiresIn: 86_400_000 })).toThrow(TypeError)
      expect(() => sign({ expiresIn: 86_400_000 })).toThrow(/option expiresIn is invalid: .*seconds, not milliseconds/)
      expect(() => sign({ expiresIn: 34_560_001 })).toThrow('seconds, not milliseconds')
      expect(() => sign({ expiresIn: Infinity })).toThrow('option expiresIn is invalid')
      expect(() => sign({ expiresIn: 34_560_000, now: IAT_MS })).not.toThrow()
    }
    const token = signer.sign('x', { now: IAT_MS })
    expect(() => signer.verify(token, { now: IAT_MS, maxAge: 86_400_000 })).toThrow('seconds, not milliseconds')
    expect(() => serializer.verify(serializer.sign({}), { maxAge: 86_400_000 })).toThrow('seconds, not milliseconds')
    expect(signer.verify(token, { now: IAT_MS, maxAge: 34_560_000 }).ok).toBe(true)
  })

  it('reports keyId for Frasco tokens, and expiresAt only when the token has one', () => {
    const keyring = createKeyring(secret)
    const signer = createSigner({ secrets: keyring, purpose: 'p' })
    const untimed = signer.verify(signer.sign('x', { now: IAT_MS }), { now: IAT_MS })
    expect(untimed).toEqual({ ok: true, value: 'x', issuedAt: new Date(IAT_MS), keyId: keyring.current.id, stale: false })
    expect('expiresAt' in untimed).toBe(false)
  })
})

describe('the persistent flag bit (f1 body flags 0b1000)', () => {
  const secret = strong()
  const NOW_MS = 1_800_000_000_000
  const flagsOf = (token: string): number => Buffer.from(token.split('.')[2] as string, 'base64url')[0] as number

  it('is set in sessions made persistent, and only in those', () => {
    expect(FLAG_PERSISTENT).toBe(0b1000)
    const persistent = createSessions({ secrets: secret, persistent: true, clock: () => NOW_MS })
    const browser = createSessions({ secrets: secret, clock: () => NOW_MS })
    const on = persistent.sign({ user: 'ada' })
    const off = browser.sign({ user: 'ada' })
    expect(on.startsWith('f1.')).toBe(true)
    expect(flagsOf(on) & FLAG_PERSISTENT).toBe(FLAG_PERSISTENT)
    expect(flagsOf(on) & FLAG_OBJECT).toBe(FLAG_OBJECT)
    expect(flagsOf(off) & FLAG_PERSISTENT).toBe(0)
    // Per call, either way.
    expect(flagsOf(browser.sign({ user: 'ada' }, { persistent: true })) & FLAG_PERSISTENT).toBe(FLAG_PERSISTENT)
    expect(flagsOf(persistent.sign({ user: 'ada' }, { persistent: false })) & FLAG_PERSISTENT).toBe(0)
    // The bit is inside the MAC: clearing it breaks the signature.
    const [v, kid, body, tag] = on.split('.') as [string, string, string, string]
    const bytes = Buffer.from(body, 'base64url')
    bytes[0] = (bytes[0] as number) & ~FLAG_PERSISTENT
    expect(codeOf(persistent.verify(`${v}.${kid}.${bytes.toString('base64url')}.${tag}`))).toBe('ERR_SESSION_SIGNATURE_INVALID')
    // And it reads back as a persistent session.
    expect(persistent.verify(on)).toMatchObject({ ok: true, value: { user: 'ada' }, persistent: true })
    expect(persistent.verify(off)).toMatchObject({ ok: true, persistent: false })
    expect(persistent.read(`session=${on}`).persistent).toBe(true)
    expect(persistent.read(`session=${off}`).persistent).toBe(false)
  })

  it('is set by a session made persistent through session.persistent and commit', () => {
    const sessions = createSessions({ secrets: secret, clock: () => NOW_MS })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    session.persistent = true
    const [cookie] = sessions.commit(session).setCookie
    const value = /^session=([^;]*)/.exec(cookie ?? '')?.[1] as string
    expect(flagsOf(value) & FLAG_PERSISTENT).toBe(FLAG_PERSISTENT)
    expect(cookie).toMatch(/; Max-Age=\d+/)
  })

  it('makes createSigner refuse the token, as a session of the same purpose or alone', () => {
    const sessions = createSessions({ secrets: secret, persistent: true, clock: () => NOW_MS })
    const signer = createSigner({ secrets: secret, purpose: 'session:session', clock: () => NOW_MS })
    const token = sessions.sign({ user: 'ada' })
    expect(codeOf(signer.verify(token))).toBe('ERR_SESSION_MALFORMED')
    expect(() => signer.unsign(token)).toThrow(SessionError)
    // A token whose only extra flag is the persistent bit (no object bit), signed with the
    // signer's own key and purpose: still not a signer token.
    const core = new TokenCore(createKeyring(secret), { purpose: 'p', clockTolerance: 60, maxTokenLength: 65_536 })
    const plain = createSigner({ secrets: secret, purpose: 'p', clock: () => NOW_MS })
    const iat = NOW_MS / 1000
    const bare = core.seal(FLAG_PERSISTENT, iat, undefined, 'user:ada')
    const timed = core.seal(FLAG_PERSISTENT | FLAG_EXPIRES, iat, iat + 60, 'user:ada')
    expect(flagsOf(bare)).toBe(FLAG_PERSISTENT)
    expect(codeOf(plain.verify(bare))).toBe('ERR_SESSION_MALFORMED')
    expect(codeOf(plain.verify(timed))).toBe('ERR_SESSION_MALFORMED')
    expect(codeOf(plain.verify(bare, { encoding: 'bytes' }))).toBe('ERR_SESSION_MALFORMED')
    // The same core without the bit makes a token the signer accepts: the bit alone is refused.
    expect(plain.verify(core.seal(0, iat, undefined, 'user:ada'))).toMatchObject({ ok: true, value: 'user:ada' })
  })
})
