/**
 * Issue 12, item 4: encryption without a per-key message limit. XAES-256-GCM (C2SP) checked
 * against its published vectors; the x1 token format that `encrypt: true` now writes, with e1
 * still read; the usual tamper, truncation and context checks.
 */
import { Buffer } from 'node:buffer'
import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createKeyring } from '../../src/keyring.js'
import { ObjectCodec } from '../../src/lib/codec.js'
import { SealedCore } from '../../src/lib/seal.js'
import { ExtendedCore, XAES_NONCE_BYTES, XaesKey, createExtendedNoncePool } from '../../src/lib/xaes.js'
import { createSessions } from '../../src/sessions.js'
import { createSerializer, type VerifyResult } from '../../src/signer.js'
import vectors from '../vectors/xaes.json' with { type: 'json' }

const IAT = 1_800_000_000
const IAT_MS = IAT * 1000
const SECRET = 'xaes-test-secret-0123456789-abcdefghijklmnopqrst'
const strong = () => randomBytes(32).toString('base64url')
const hex = (text: string) => Buffer.from(text, 'hex')
const codeOf = (r: VerifyResult<unknown>) => (r.ok ? 'ok' : r.error.code)
const CORE = { clockTolerance: 60, maxTokenLength: 65_536 }

describe('XAES-256-GCM (C2SP test vectors)', () => {
  it.each(vectors.c2sp)('$name: derived key, ciphertext and opening', (vector) => {
    const key = new XaesKey(hex(vector.key))
    const nonce = hex(vector.nonce)
    // Kₓ from steps 1 to 5 (L, K1, M1 and M2 are checked through it); Nₓ is the nonce's second half.
    expect(key.deriveKey(nonce).toString('hex')).toBe(vector.Kx)
    expect(nonce.subarray(12).toString('hex')).toBe(vector.Nx)
    const sealed = key.seal(nonce, hex(vector.plaintext), hex(vector.aad))
    expect(sealed.toString('hex')).toBe(vector.ciphertext)
    expect(key.open(nonce, sealed, hex(vector.aad))?.toString('hex')).toBe(vector.plaintext)
    // One more byte of AAD, or a flipped tag bit, and the message does not open.
    expect(key.open(nonce, sealed, Buffer.concat([hex(vector.aad), Buffer.of(0)]))).toBeUndefined()
    const flipped = Buffer.from(sealed)
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1
    expect(key.open(nonce, flipped, hex(vector.aad))).toBeUndefined()
  })

  it('accumulated randomized test, 10,000 iterations', () => {
    // The RNG is one SHAKE-128 stream of the empty input; 10,000 draws take under 6 MB of it.
    const stream = createHash('shake128', { outputLength: 6_000_000 }).digest()
    expect(stream.subarray(0, 16).toString('hex')).toBe(vectors.accumulated.rngStart)
    let at = 0
    const read = (n: number) => stream.subarray(at, (at += n))
    const hash = createHash('shake128', { outputLength: 32 })
    for (let i = 0; i < 10_000; i++) {
      const key = new XaesKey(read(32))
      const nonce = read(XAES_NONCE_BYTES)
      const plaintext = read(read(1)[0] as number)
      const aad = read(read(1)[0] as number)
      const sealed = key.seal(nonce, plaintext, aad)
      hash.update(sealed)
      expect(key.open(nonce, sealed, aad)?.equals(plaintext)).toBe(true)
    }
    expect(hash.digest('hex')).toBe(vectors.accumulated['10000'])
  })

  it.each([16, 31, 33, 64])('refuses a key of %i bytes, saying how long it must be', (length) => {
    expect(() => new XaesKey(Buffer.alloc(length, 1))).toThrow(new RangeError('XAES-256-GCM key is invalid: give 32 bytes'))
  })

  it.each([0, 1, 15, 16])('does not open %i bytes: shorter than a tag, or a tag over nothing that does not match', (length) => {
    const key = new XaesKey(hex(vectors.c2sp[0]!.key))
    expect(key.open(Buffer.alloc(XAES_NONCE_BYTES), Buffer.alloc(length, 7), Buffer.alloc(0))).toBeUndefined()
  })
})

describe('x1 golden tokens (independent Python reference)', () => {
  it.each(vectors.tokens)('$name', (vector) => {
    const nonce = hex(vector.nonce)
    const core = new ExtendedCore(createKeyring(vectors.secret), { purpose: vector.purpose, ...CORE, nonces: (target) => nonce.copy(target) })
    const codec = new ObjectCodec(core, Number.POSITIVE_INFINITY, 131_072)
    expect(codec.encode(JSON.parse(vector.json), vector.issuedAt, vector.expiresAt ?? undefined)).toBe(vector.token)
    const decoded = createSerializer({ secrets: vectors.secret, purpose: vector.purpose, encrypt: true }).verify(vector.token, { now: IAT_MS })
    expect(decoded).toMatchObject({ ok: true, value: JSON.parse(vector.json), issuedAt: new Date(IAT_MS) })
  })
})

describe('x1 nonces', () => {
  // The core draws nonces ahead, in batches, and derives their keys together: whatever the
  // batching, every nonce its source gives is used for one token, in the order drawn, and each
  // token opens under its own.
  it('uses each nonce its source draws once, in order, across batches', () => {
    let drawn = 0
    const counter = (target: Buffer) => {
      target.fill(0)
      target.writeUInt32BE(drawn++, XAES_NONCE_BYTES - 4)
    }
    const core = new ExtendedCore(createKeyring(SECRET), { purpose: 'nonces', ...CORE, nonces: counter })
    for (let i = 0; i < 300; i++) {
      const token = core.seal(0, IAT, undefined, `token ${i}`)
      const body = Buffer.from(token.split('.')[2] as string, 'base64url')
      expect(body.readUInt32BE(XAES_NONCE_BYTES - 4)).toBe(i)
      expect(core.open(token, IAT, undefined)).toMatchObject({ issuedAt: IAT, payload: Buffer.from(`token ${i}`) })
    }
    expect(drawn).toBeGreaterThanOrEqual(300)
    expect(drawn).toBeLessThanOrEqual(300 + 256)
  })
})

describe('encrypt: true writes x1 and reads x1 and e1', () => {
  const sealed = createSerializer<unknown>({ secrets: SECRET, purpose: 'objects', encrypt: true })
  /** An e1 token as Frasco wrote them before x1: the old core, through the same object codec. */
  const e1 = (purpose: string, value: unknown, secrets: string | string[] = SECRET) =>
    new ObjectCodec(new SealedCore(createKeyring(secrets), { purpose, ...CORE }), Number.POSITIVE_INFINITY, 131_072).encode(value, IAT, IAT + 3600)

  it('round trips through createSerializer as x1', () => {
    const value = { user: 'ada', roles: ['a', 'b'], at: new Date(IAT_MS), big: 2n ** 70n, bytes: new Uint8Array([0, 255]) }
    const token = sealed.sign(value, { now: IAT_MS, expiresIn: 60 })
    expect(token.startsWith(`x1.${createKeyring(SECRET).current.id}.`)).toBe(true)
    expect(sealed.verify(token, { now: IAT_MS })).toMatchObject({ ok: true, value, expiresAt: new Date(IAT_MS + 60_000) })
    const large = { notes: 'lorem ipsum '.repeat(2000) }
    expect(sealed.unsign(sealed.sign(large))).toEqual(large)
  })

  it('round trips through createSessions as x1', () => {
    const sessions = createSessions<{ user?: string }>({ secrets: SECRET, encrypt: true, clock: () => IAT_MS })
    const session = sessions.read(undefined)
    session.set('user', 'ada')
    const header = sessions.commit(session).setCookie[0] as string
    const value = header.slice('session='.length, header.indexOf(';'))
    expect(value.startsWith('x1.')).toBe(true)
    expect(sessions.read(`session=${value}`).get('user')).toBe('ada')
    expect(sessions.verify(value)).toMatchObject({ ok: true, value: { user: 'ada' } })
  })

  it('still reads e1 tokens written by the old core, from createSerializer and createSessions', () => {
    expect(sealed.verify(e1('objects', { user: 'ada' }), { now: IAT_MS })).toMatchObject({ ok: true, value: { user: 'ada' } })
    const sessions = createSessions<{ user?: string }>({ secrets: SECRET, encrypt: true, clock: () => IAT_MS })
    const old = e1('session:session', { user: 'bob' })
    expect(old.startsWith('e1.')).toBe(true)
    expect(sessions.read(`session=${old}`).get('user')).toBe('bob')
    // e1 is still bound to its purpose and key.
    expect(codeOf(sealed.verify(e1('other', { user: 'ada' }), { now: IAT_MS }))).toBe('ERR_SESSION_SIGNATURE_INVALID')
    expect(codeOf(sealed.verify(e1('objects', { user: 'ada' }, strong()), { now: IAT_MS }))).toBe('ERR_SESSION_UNKNOWN_KEY')
  })

  it('re-issues an e1 session as x1 once it is changed', () => {
    const sessions = createSessions<{ n?: number }>({ secrets: SECRET, encrypt: true, clock: () => IAT_MS })
    const session = sessions.read(`session=${e1('session:session', { n: 1 })}`)
    session.set('n', 2)
    expect((sessions.commit(session).setCookie[0] as string).startsWith('session=x1.')).toBe(true)
  })

  it('puts a 24-byte nonce in each token, fresh every time', () => {
    const a = sealed.sign({ a: 1 }, { now: IAT_MS })
    const b = sealed.sign({ a: 1 }, { now: IAT_MS })
    const bodyA = Buffer.from(a.split('.')[2] as string, 'base64url')
    const bodyB = Buffer.from(b.split('.')[2] as string, 'base64url')
    // nonce ‖ ciphertext ‖ tag: the body is 7 bytes of header + 7 of payload ('{"a":1}').
    expect(bodyA.length).toBe(XAES_NONCE_BYTES + 7 + 7 + 16)
    expect(bodyA.subarray(0, XAES_NONCE_BYTES).equals(bodyB.subarray(0, XAES_NONCE_BYTES))).toBe(false)
    const next = createExtendedNoncePool()
    const seen = new Set<string>()
    const nonce = Buffer.alloc(XAES_NONCE_BYTES)
    for (let i = 0; i < 1000; i++) {
      next(nonce)
      seen.add(nonce.toString('hex'))
    }
    expect(seen.size).toBe(1000)
  })

  it('reveals nothing but the version and key id', () => {
    const token = sealed.sign({ username: 'admin-secret-name' }, { now: IAT_MS, expiresIn: 60 })
    const body = Buffer.from(token.split('.')[2] as string, 'base64url')
    expect(body.toString('latin1')).not.toContain('admin')
    expect(body.includes(Buffer.from([0x05, 0x00, 0x00, 0x6b, 0x49, 0xd2, 0x00]))).toBe(false)
  })
})

describe('x1 tokens are rejected when altered or out of context', () => {
  const sealed = createSerializer<unknown>({ secrets: SECRET, purpose: 'objects', encrypt: true })
  const token = sealed.sign({ user: 'admin', roles: ['a', 'b'] }, { now: IAT_MS, expiresIn: 3600 })
  const [, kid, body] = token.split('.') as [string, string, string]
  const bytes = Buffer.from(body, 'base64url')

  it('rejects every bit of the nonce, ciphertext and tag flipped', () => {
    const prefix = `x1.${kid}.`
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(bytes)
        flipped[i] = (flipped[i] as number) ^ (1 << bit)
        expect(codeOf(sealed.verify(prefix + flipped.toString('base64url'), { now: IAT_MS }))).toBe('ERR_SESSION_SIGNATURE_INVALID')
      }
    }
  })

  it('rejects every character of the token replaced by another', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.='
    for (let i = 0; i < token.length; i++) {
      for (const c of [alphabet[(alphabet.indexOf(token[i] as string) + 1) % alphabet.length], '.', '=']) {
        const altered = token.slice(0, i) + c + token.slice(i + 1)
        if (altered !== token) expect(sealed.verify(altered, { now: IAT_MS }).ok).toBe(false)
      }
    }
  })

  it('rejects every truncation and extension', () => {
    for (let end = 0; end < token.length; end++) expect(sealed.verify(token.slice(0, end), { now: IAT_MS }).ok).toBe(false)
    for (let end = 0; end < bytes.length; end++) {
      const cut = `x1.${kid}.${bytes.subarray(0, end).toString('base64url')}`
      const result = sealed.verify(cut, { now: IAT_MS })
      expect(result.ok ? 'ok' : { code: result.error.code, message: result.error.message }, `${end} bytes`).toEqual(
        end < XAES_NONCE_BYTES + 16
          ? { code: 'ERR_SESSION_MALFORMED', message: 'token body is not valid' }
          : { code: 'ERR_SESSION_SIGNATURE_INVALID', message: 'authentication tag does not match' },
      )
    }
    expect(sealed.verify(token + 'A', { now: IAT_MS }).ok).toBe(false)
    expect(sealed.verify(`x1.${kid}.${Buffer.concat([bytes, Buffer.of(0)]).toString('base64url')}`, { now: IAT_MS }).ok).toBe(false)
  })

  it('rejects a non-canonical spelling of the same bytes', () => {
    // A body whose length is not a multiple of 3, so its last character has unused low bits.
    const [odd] = [0, 1, 2]
      .map((n) => sealed.sign({ u: 'a'.repeat(n) }, { now: IAT_MS }))
      .filter((t) => Buffer.from(t.split('.')[2] as string, 'base64url').length % 3 !== 0) as [string]
    const oddBody = odd.split('.')[2] as string
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = alphabet[alphabet.indexOf(oddBody[oddBody.length - 1] as string) ^ 1] as string
    const spelled = `x1.${kid}.${oddBody.slice(0, -1)}${sibling}`
    expect(Buffer.from(spelled.split('.')[2] as string, 'base64url').equals(Buffer.from(oddBody, 'base64url'))).toBe(true)
    expect(sealed.verify(odd, { now: IAT_MS }).ok).toBe(true)
    expect(codeOf(sealed.verify(spelled, { now: IAT_MS }))).toBe('ERR_SESSION_MALFORMED')
    expect(codeOf(sealed.verify(`${odd}=`, { now: IAT_MS }))).toBe('ERR_SESSION_MALFORMED')
    expect(codeOf(sealed.verify(odd.replace(/_/g, '/').replace(/-/g, '+'), { now: IAT_MS }))).not.toBe('ok')
  })

  it('rejects another secret, another purpose, another cookie name and a relabelled key id', () => {
    expect(codeOf(createSerializer({ secrets: strong(), purpose: 'objects', encrypt: true }).verify(token, { now: IAT_MS }))).toBe('ERR_SESSION_UNKNOWN_KEY')
    const sameId = createSerializer({ secrets: [{ id: kid, secret: strong() }], purpose: 'objects', encrypt: true })
    expect(codeOf(sameId.verify(token, { now: IAT_MS }))).toBe('ERR_SESSION_SIGNATURE_INVALID')
    expect(codeOf(createSerializer({ secrets: SECRET, purpose: 'objects2', encrypt: true }).verify(token, { now: IAT_MS }))).toBe(
      'ERR_SESSION_SIGNATURE_INVALID',
    )
    const relabelled = createSerializer({ secrets: [{ id: 'other', secret: SECRET }], purpose: 'objects', encrypt: true })
    expect(codeOf(relabelled.verify(`x1.other.${body}`, { now: IAT_MS }))).toBe('ERR_SESSION_SIGNATURE_INVALID')

    // Another key id of the same keyring: the AAD names the key id.
    const other = strong()
    const ring = createSerializer({ secrets: [SECRET, other], purpose: 'objects', encrypt: true })
    expect(ring.verify(token, { now: IAT_MS }).ok).toBe(true)
    expect(codeOf(ring.verify(`x1.${createKeyring(other).current.id}.${body}`, { now: IAT_MS }))).toBe('ERR_SESSION_SIGNATURE_INVALID')

    const a = createSessions<{ user?: string }>({ secrets: SECRET, encrypt: true, clock: () => IAT_MS, cookie: { name: 'a' } })
    const b = createSessions<{ user?: string }>({ secrets: SECRET, encrypt: true, clock: () => IAT_MS, cookie: { name: 'b' } })
    const fromA = a.sign({ user: 'ada' })
    expect(a.verify(fromA).ok).toBe(true)
    expect(b.verify(fromA)).toMatchObject({ ok: false, error: { code: 'ERR_SESSION_SIGNATURE_INVALID' } })
    expect(b.read(`b=${fromA}`).get('user')).toBeUndefined()
  })

  it.each([undefined, null, 42, {}, ['x1'], new String(token)])('refuses %o, which is not a token at all, without throwing', (input) => {
    expect(sealed.verify(input as never)).toMatchObject({ ok: false, error: { code: 'ERR_SESSION_MALFORMED', message: 'token is not a string' } })
  })

  it('never verifies as f1, nor f1 as x1', () => {
    const signed = createSerializer<unknown>({ secrets: SECRET, purpose: 'objects' })
    expect(codeOf(signed.verify(token, { now: IAT_MS }))).toBe('ERR_SESSION_UNSUPPORTED_VERSION')
    expect(codeOf(sealed.verify(signed.sign({ user: 'admin' }, { now: IAT_MS }), { now: IAT_MS }))).toBe('ERR_SESSION_UNSUPPORTED_VERSION')
    // Nor with the version label swapped: the AAD and the format both differ.
    expect(signed.verify(`f1.${kid}.${body}`, { now: IAT_MS }).ok).toBe(false)
    expect(codeOf(sealed.verify(`e1.${kid}.${body}`, { now: IAT_MS }))).toBe('ERR_SESSION_SIGNATURE_INVALID')
  })

  it('enforces times inside the ciphertext', () => {
    expect(codeOf(sealed.verify(token, { now: IAT_MS + 3600_000 + 61_000 }))).toBe('ERR_SESSION_EXPIRED')
    expect(codeOf(sealed.verify(token, { now: IAT_MS - 61_000 }))).toBe('ERR_SESSION_NOT_YET_VALID')
  })
})
