import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createKeyring, deriveKeyId, deriveSubkey, isKeyring, secretsFromEnv } from '../src/keyring.js'

const strong = () => randomBytes(32).toString('base64url')

describe('createKeyring', () => {
  it('accepts one string secret, one byte secret and a list, newest first', () => {
    const [a, b] = [strong(), randomBytes(32)]
    expect(createKeyring(a).keys).toHaveLength(1)
    expect(createKeyring(b).keys).toHaveLength(1)
    const ring = createKeyring([a, b])
    expect(ring.current.index).toBe(0)
    expect(ring.current.id).toBe(deriveKeyId(a))
    expect(ring.keys.map((k) => k.index)).toEqual([0, 1])
    expect(ring.get(deriveKeyId(b))?.index).toBe(1)
    expect(ring.get('nope')).toBeUndefined()
  })

  it('takes explicit key ids', () => {
    const ring = createKeyring([{ id: '2026-11', secret: strong() }, { id: '2026-10', secret: strong() }])
    expect(ring.current.id).toBe('2026-11')
    expect(ring.get('2026-10')?.index).toBe(1)
  })

  it('derives stable 8-character key ids from the secret', () => {
    const secret = strong()
    expect(deriveKeyId(secret)).toMatch(/^[A-Za-z0-9_-]{8}$/)
    expect(deriveKeyId(secret)).toBe(createKeyring(secret).current.id)
    expect(deriveKeyId(secret)).not.toBe(deriveKeyId(strong()))
  })

  it('copies byte secrets so later changes by the caller do not affect it', () => {
    const bytes = randomBytes(32)
    const ring = createKeyring(bytes)
    const id = ring.current.id
    bytes.fill(1)
    expect(deriveKeyId(ring.current.secret)).toBe(id)
  })

  it('passes a keyring through unchanged', () => {
    const ring = createKeyring(strong())
    expect(isKeyring(ring)).toBe(true)
    expect(createKeyring(ring)).toBe(ring)
    expect(isKeyring({ keys: [] })).toBe(false)
  })

  it.each([
    ['no secret', [], /at least one secret/],
    ["Flask's tutorial string", 'any random string', /at least 32 bytes.*npx frasco keygen/],
    ['31 bytes', 'x'.repeat(31), /at least 32 bytes, this one has 31/],
    ['a repetitive secret', 'a'.repeat(64), /too repetitive/],
    ['a number', 12345, /string or a Uint8Array/],
    ['a weak second secret', [strong(), 'short'], /secrets\[1\] is invalid/],
    ['an empty second secret', [strong(), ''], /secrets\[1\] is invalid: a secret must have at least 32 bytes, this one has 0/],
    ['a bad key id', [{ id: 'has space', secret: strong() }], /secrets\[0\]\.id is invalid/],
    ['a too long key id', [{ id: 'x'.repeat(33), secret: strong() }], /id is invalid/],
  ])('rejects %s with a TypeError that says how to fix it', (_, input, message) => {
    expect(() => createKeyring(input as never)).toThrow(TypeError)
    expect(() => createKeyring(input as never)).toThrow(message)
  })

  it('rejects the same secret twice (same derived id)', () => {
    const s = strong()
    expect(() => createKeyring([s, s])).toThrow(/already used/)
    expect(() => createKeyring([{ id: 'a', secret: strong() }, { id: 'a', secret: strong() }])).toThrow(/already used/)
  })

  it('never puts the secret in an error message', () => {
    const weak = 'hunter2-is-my-password'
    try {
      createKeyring(weak)
      expect.unreachable()
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(weak)
    }
  })
})

describe('deriveSubkey', () => {
  it('separates purposes and uses, and caches', () => {
    const key = createKeyring(strong()).current
    const a = deriveSubkey(key, 'sign', 'a')
    expect(a).toHaveLength(32)
    expect(deriveSubkey(key, 'sign', 'a')).toBe(a)
    expect(deriveSubkey(key, 'sign', 'b').equals(a)).toBe(false)
    expect(deriveSubkey(key, 'encrypt', 'a').equals(a)).toBe(false)
    expect(a.equals(key.secret.subarray(0, 32))).toBe(false)
  })
})

describe('secretsFromEnv', () => {
  it('reads comma-separated secrets, newest first', () => {
    const [a, b] = [strong(), strong()]
    expect(secretsFromEnv('FRASCO_SECRETS', { FRASCO_SECRETS: ` ${a} , ${b},` })).toEqual([a, b])
    expect(secretsFromEnv('MY_KEYS', { MY_KEYS: a })).toEqual([a])
  })

  it.each([
    ['missing', {}, /FRASCO_SECRETS is not set/],
    ['empty', { FRASCO_SECRETS: ' ' }, /is not set/],
    ['weak', { FRASCO_SECRETS: 'short' }, /at least 32 bytes/],
  ])('rejects a %s variable', (_, env, message) => {
    expect(() => secretsFromEnv('FRASCO_SECRETS', env)).toThrow(message)
  })
})
