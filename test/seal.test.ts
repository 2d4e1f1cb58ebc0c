import { Buffer } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createKeyring } from '../src/keyring.js'
import { ObjectCodec } from '../src/lib/codec.js'
import { NONCE_BYTES, SealedCore, createNoncePool } from '../src/lib/seal.js'
import { createSerializer, type VerifyResult } from '../src/signer.js'
import vectors from './vectors/signer.json' with { type: 'json' }

const IAT_MS = 1_800_000_000_000
const strong = () => randomBytes(32).toString('base64url')
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'
const codeOf = (r: VerifyResult<unknown>) => (r.ok ? 'ok' : r.error.code)

describe('e1 golden vectors (independent Python reference)', () => {
  it.each(vectors.sealed)('$name', (vector) => {
    const nonce = Buffer.from(vector.nonce, 'hex')
    const core = new SealedCore(createKeyring(vectors.secret), {
      purpose: vector.purpose,
      clockTolerance: 60,
      maxTokenLength: 65_536,
      nonces: (target, offset) => nonce.copy(target, offset),
    })
    const codec = new ObjectCodec(core, Number.POSITIVE_INFINITY, 131_072)
    expect(codec.encode(JSON.parse(vector.json), vector.issuedAt, vector.expiresAt ?? undefined)).toBe(vector.token)
    const decoded = createSerializer({ secrets: vectors.secret, purpose: vector.purpose, encrypt: true }).verify(vector.token, { now: IAT_MS })
    expect(decoded).toMatchObject({ ok: true, value: JSON.parse(vector.json), issuedAt: new Date(IAT_MS) })
  })
})

describe('encrypted serializer', () => {
  const secret = strong()
  const sealed = createSerializer<unknown>({ secrets: secret, purpose: 'objects', encrypt: true })

  it('round trips every supported type', () => {
    const value = {
      s: 'olá 🎉',
      n: -1.25,
      list: [true, null, [1]],
      date: new Date(IAT_MS),
      bytes: new Uint8Array([0, 255]),
      big: -(2n ** 80n),
      map: new Map<unknown, unknown>([[1, new Set(['a'])]]),
      nested: { deeper: { deepest: 'x' } },
    }
    expect(sealed.unsign(sealed.sign(value))).toEqual(value)
    // Compression only when asked for (a compression oracle otherwise, docs/security.md).
    const big = { notes: 'lorem ipsum '.repeat(500) }
    expect(sealed.sign(big).length).toBeGreaterThan(JSON.stringify(big).length)
    const compressing = createSerializer<unknown>({ secrets: secret, purpose: 'objects', encrypt: true, compress: true })
    const token = compressing.sign(big)
    expect(token.length).toBeLessThan(JSON.stringify(big).length)
    expect(sealed.unsign(token)).toEqual(big)
  })

  it('round trips arbitrary values (property)', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      expect(sealed.unsign(sealed.sign(value))).toEqual(JSON.parse(JSON.stringify(value)))
    }), { numRuns: 200 })
  })

  it('reveals nothing but the version and key id', () => {
    const token = sealed.sign({ username: 'admin-secret-name' }, { now: IAT_MS, expiresIn: 60 })
    const [version, kid, body] = token.split('.')
    expect(version).toBe('x1') // encrypt: true writes x1 (XAES-256-GCM); e1 is read only
    expect(kid).toBe(createKeyring(secret).current.id)
    const bytes = Buffer.from(body!, 'base64url')
    expect(bytes.toString('latin1')).not.toContain('admin')
    // The f1 header bytes (flags + iat) are not visible either.
    expect(bytes.includes(Buffer.from([0x01, 0x00, 0x00, 0x6b, 0x49, 0xd2, 0x00]))).toBe(false)
  })

  it('gives two tokens for the same value (fresh nonce each time)', () => {
    expect(sealed.sign({ a: 1 }, { now: IAT_MS })).not.toBe(sealed.sign({ a: 1 }, { now: IAT_MS }))
  })

  it('rejects every character of a sealed token changed to every other character', () => {
    const token = sealed.sign({ user: 'admin', roles: ['a', 'b'] }, { now: IAT_MS, expiresIn: 3600 })
    for (let i = 0; i < token.length; i++) {
      for (const c of ALPHABET) {
        if (c === token[i]) continue
        expect(sealed.verify(token.slice(0, i) + c + token.slice(i + 1), { now: IAT_MS }).ok, `position ${i} -> ${c}`).toBe(false)
      }
    }
  })

  it('rejects every single-bit flip of the sealed bytes', () => {
    const token = sealed.sign({ user: 'admin' }, { now: IAT_MS })
    const [version, kid, body] = token.split('.') as [string, string, string]
    const bytes = Buffer.from(body, 'base64url')
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes)
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      expect(codeOf(sealed.verify(`${version}.${kid}.${flipped.toString('base64url')}`, { now: IAT_MS }))).toBe('ERR_SESSION_SIGNATURE_INVALID')
    }
  })

  it('rejects truncations', () => {
    const token = sealed.sign({ user: 'admin' }, { now: IAT_MS })
    for (let i = 0; i < token.length; i++) expect(sealed.verify(token.slice(0, i), { now: IAT_MS }).ok).toBe(false)
  })

  it('binds the purpose (a sealed token moved to another purpose fails)', () => {
    const other = createSerializer({ secrets: secret, purpose: 'other', encrypt: true })
    expect(codeOf(other.verify(sealed.sign({ a: 1 })))).toBe('ERR_SESSION_SIGNATURE_INVALID')
  })

  it('binds the key id in the AAD (a token relabelled with another id of the keyring fails)', () => {
    const [a, b] = [strong(), strong()]
    const ring = createSerializer({ secrets: [a, b], purpose: 'p', encrypt: true })
    const token = ring.sign({ a: 1 })
    const other = createKeyring(b).current.id
    expect(token.startsWith('x1.')).toBe(true)
    const relabelled = token.replace(/^x1\.[^.]+\./, `x1.${other}.`)
    expect(relabelled).not.toBe(token)
    expect(codeOf(ring.verify(relabelled))).toBe('ERR_SESSION_SIGNATURE_INVALID')
  })

  it('keeps signed and encrypted tokens apart under the same keyring and purpose', () => {
    const signed = createSerializer({ secrets: secret, purpose: 'objects' })
    expect(codeOf(sealed.verify(signed.sign({ a: 1 })))).toBe('ERR_SESSION_UNSUPPORTED_VERSION')
    expect(codeOf(signed.verify(sealed.sign({ a: 1 })))).toBe('ERR_SESSION_UNSUPPORTED_VERSION')
  })

  it('enforces times that are inside the ciphertext', () => {
    const token = sealed.sign({ a: 1 }, { now: IAT_MS, expiresIn: 10 })
    expect(codeOf(sealed.verify(token, { now: IAT_MS + 5_000 }))).toBe('ok')
    expect(codeOf(sealed.verify(token, { now: IAT_MS + 80_000 }))).toBe('ERR_SESSION_EXPIRED')
    expect(codeOf(sealed.verify(token, { now: IAT_MS - 120_000 }))).toBe('ERR_SESSION_NOT_YET_VALID')
  })

  it('rotates: an old key decrypts and is reported stale; a retired key is unknown', () => {
    const [newest, oldest] = [strong(), strong()]
    const old = createSerializer({ secrets: oldest, purpose: 'p', encrypt: true })
    const both = createSerializer({ secrets: [newest, oldest], purpose: 'p', encrypt: true })
    expect(both.verify(old.sign({ a: 1 }))).toMatchObject({ ok: true, stale: true })
    const retired = createSerializer({ secrets: newest, purpose: 'p', encrypt: true })
    expect(codeOf(retired.verify(old.sign({ a: 1 })))).toBe('ERR_SESSION_UNKNOWN_KEY')
  })

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      expect(sealed.verify(s).ok).toBe(false)
      expect(sealed.verify(`e1.${createKeyring(secret).current.id}.${s}`).ok).toBe(false)
    }), { numRuns: 1000 })
  })

  it('rejects an invalid encrypt option', () => {
    expect(() => createSerializer({ secrets: secret, purpose: 'x', encrypt: 'yes' as never })).toThrow(/option encrypt is invalid/)
  })
})

describe('e1 tokens cut short', () => {
  // An e1 body is nonce (12) | ciphertext | tag (16): shorter than 28 bytes it is not even that
  // shape (malformed); from 28 bytes on it is one GCM refuses (a signature that does not match).
  const vector = vectors.sealed[2] as (typeof vectors.sealed)[number]
  const reader = createSerializer({ secrets: vectors.secret, purpose: vector.purpose, encrypt: true })
  const [, kid, body] = vector.token.split('.') as [string, string, string]
  const bytes = Buffer.from(body, 'base64url')

  it('reads the whole token', () => {
    expect(codeOf(reader.verify(vector.token, { now: IAT_MS }))).toBe('ok')
  })

  it('refuses every shorter body: malformed below nonce and tag, unauthentic from there on', () => {
    for (let end = 0; end < bytes.length; end++) {
      const result = reader.verify(`e1.${kid}.${bytes.subarray(0, end).toString('base64url')}`, { now: IAT_MS })
      expect(result.ok ? 'ok' : { code: result.error.code, message: result.error.message }, `${end} bytes`).toEqual(
        end < NONCE_BYTES + 16
          ? { code: 'ERR_SESSION_MALFORMED', message: 'token body is not valid' }
          : { code: 'ERR_SESSION_SIGNATURE_INVALID', message: 'authentication tag does not match' },
      )
    }
  })
})

describe('nonce pool', () => {
  it('never hands out the same nonce twice over a large sample', () => {
    const next = createNoncePool(64)
    const seen = new Set<string>()
    const target = Buffer.alloc(NONCE_BYTES)
    const N = 300_000
    for (let i = 0; i < N; i++) {
      next(target, 0)
      seen.add(target.toString('latin1'))
    }
    expect(seen.size).toBe(N)
  })

  // A pool starts empty and fills on its first call: a first nonce that were left unfilled would
  // be all zeros, the same in every process.
  it.each([1, 2, 256])('a pool of %i hands out a random nonce from its first call on', (size) => {
    const next = createNoncePool(size)
    const zeros = Buffer.alloc(NONCE_BYTES)
    const drawn: string[] = []
    for (let i = 0; i < 2 * size + 1; i++) {
      const target = Buffer.alloc(NONCE_BYTES)
      next(target, 0)
      expect(target.equals(zeros), `nonce ${i}`).toBe(false)
      drawn.push(target.toString('hex'))
    }
    expect(new Set(drawn).size).toBe(drawn.length)
  })

  it('writes the nonce at the offset it is given and nowhere else', () => {
    const target = Buffer.alloc(NONCE_BYTES + 8, 0xee)
    createNoncePool()(target, 4)
    expect(target.subarray(0, 4)).toEqual(Buffer.alloc(4, 0xee))
    expect(target.subarray(4 + NONCE_BYTES)).toEqual(Buffer.alloc(4, 0xee))
    expect(target.subarray(4, 4 + NONCE_BYTES).equals(Buffer.alloc(NONCE_BYTES, 0xee))).toBe(false)
  })

  it.each([
    ['e1 (a SealedCore with its own pool)', () => {
      const core = new SealedCore(createKeyring(strong()), { purpose: 'n', clockTolerance: 60, maxTokenLength: 65_536 })
      return core.seal(0, 1, undefined, 'x')
    }, NONCE_BYTES],
    ['x1 (a fresh encrypted serializer)', () => createSerializer({ secrets: strong(), purpose: 'n', encrypt: true }).sign({}), 24],
  ])('the first token of %s carries a random nonce, both halves of it', (_, first, length) => {
    const nonce = Buffer.from(first().split('.')[2] as string, 'base64url').subarray(0, length)
    for (let at = 0; at < length; at += NONCE_BYTES) expect(nonce.subarray(at, at + NONCE_BYTES).equals(Buffer.alloc(NONCE_BYTES)), `bytes ${at}+`).toBe(false)
  })

  it('draws distinct nonces in sealed tokens', () => {
    const sealed = createSerializer({ secrets: strong(), purpose: 'n', encrypt: true })
    const nonces = new Set<string>()
    for (let i = 0; i < 20_000; i++) nonces.add(sealed.sign({}).split('.')[2]!.slice(0, 16))
    expect(nonces.size).toBe(20_000)
  })
})

describe('e1 tokens are read in their canonical spelling only', () => {
  const serializer = createSerializer({ secrets: strong(), purpose: 'p', encrypt: true })

  // Each of these decodes (leniently) to the same bytes, which GCM would accept: only the check
  // before decrypting refuses them.
  it('refuses the standard base64 alphabet, padding and non-zero trailing bits', () => {
    let token = serializer.sign({ user: 'ada' })
    for (let i = 0; !/[-_]/.test(token.slice(token.lastIndexOf('.') + 1)); i++) token = serializer.sign({ user: 'ada', i })
    const cut = token.lastIndexOf('.') + 1
    const body = token.slice(cut)
    expect(Buffer.from(body.replaceAll('-', '+').replaceAll('_', '/'), 'base64url')).toEqual(Buffer.from(body, 'base64url'))
    const spellings = [body.replaceAll('-', '+').replaceAll('_', '/')]
    const rest = body.length % 4
    if (rest !== 0) {
      spellings.push(body + '='.repeat(4 - rest))
      // The last character's lowest bit is padding when the length is not a multiple of 4.
      spellings.push(body.slice(0, -1) + ALPHABET[ALPHABET.indexOf(body.at(-1) as string) + 1])
    }
    for (const spelling of spellings) {
      expect(spelling).not.toBe(body)
      expect(codeOf(serializer.verify(token.slice(0, cut) + spelling))).toBe('ERR_SESSION_MALFORMED')
    }
    expect(codeOf(serializer.verify(token))).toBe('ok')
  })
})
