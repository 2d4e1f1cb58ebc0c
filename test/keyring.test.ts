import { Buffer } from 'node:buffer'
import { hkdfSync, randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createKeyring, deriveKeyId, deriveSubkey, isKeyring, secretsFromEnv } from '../src/keyring.js'
import vectors from './vectors/signer.json' with { type: 'json' }

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

  it.each([42, undefined, { secret: 'x'.repeat(32) }])('deriveKeyId refuses %o, naming its argument', (input) => {
    expect(() => deriveKeyId(input as never)).toThrow(
      new TypeError('option secret is invalid: a secret must be a string or a Uint8Array; generate one with `npx frasco keygen` (32 random bytes, base64url)'),
    )
  })

  it('derives stable 8-character key ids from the secret', () => {
    const secret = strong()
    expect(deriveKeyId(secret)).toMatch(/^[A-Za-z0-9_-]{8}$/)
    expect(deriveKeyId(secret)).toBe(createKeyring(secret).current.id)
    expect(deriveKeyId(secret)).not.toBe(deriveKeyId(strong()))
  })

  it('copies byte secrets so later changes by the caller do not affect it', () => {
    const bytes = randomBytes(32)
    const original = Buffer.from(bytes)
    const ring = createKeyring(bytes)
    const id = ring.current.id
    bytes.fill(1)
    // The secret cannot be read back; what it derives shows which bytes the keyring kept.
    expect(ring.current.id).toBe(id)
    expect(deriveSubkey(ring.current, 'sign', 'copy')).toEqual(deriveSubkey(createKeyring(original).current, 'sign', 'copy'))
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

  // The weak-secret thresholds, at their edges: 32 bytes pass and 31 do not (counted in UTF-8
  // bytes, not characters); 10 distinct byte values pass and 9 do not.
  const distinct = (count: number, length = 32) => Buffer.from(Array.from({ length }, (_, i) => 0x41 + (i % count)))
  it.each([
    ['32 bytes', distinct(20, 32)],
    ['32 bytes of text', distinct(20, 32).toString('latin1')],
    ['16 characters, 32 bytes in UTF-8', 'αβγδεζηθικλμνξοπ'],
    ['10 distinct byte values', distinct(10, 40)],
    ['a 1-character key id', [{ id: 'a', secret: strong() }]],
    ['a 32-character key id', [{ id: `${'Az09_-'.repeat(5)}xy`, secret: strong() }]],
  ])('accepts %s', (_, input) => {
    expect(createKeyring(input as never).keys).toHaveLength(1)
  })

  it.each([
    ['31 bytes', distinct(20, 31), 'option secrets is invalid: a secret must have at least 32 bytes, this one has 31; generate one with `npx frasco keygen` (32 random bytes, base64url)'],
    ['15 characters, 30 bytes in UTF-8', 'αβγδεζηθικλμνξο', 'option secrets is invalid: a secret must have at least 32 bytes, this one has 30; generate one with `npx frasco keygen` (32 random bytes, base64url)'],
    ['9 distinct byte values', distinct(9, 40), 'option secrets is invalid: the secret is too repetitive to be random; generate one with `npx frasco keygen` (32 random bytes, base64url)'],
    ['no secrets at all', undefined, 'option secrets is missing: give one secret or a list, newest first; generate one with `npx frasco keygen` (32 random bytes, base64url)'],
    ['an empty list', [], 'option secrets is invalid: give at least one secret; generate one with `npx frasco keygen` (32 random bytes, base64url)'],
    ['null', null, 'option secrets is invalid: a secret must be a string or a Uint8Array; generate one with `npx frasco keygen` (32 random bytes, base64url)'],
    ['null in a list', [strong(), null], 'option secrets[1] is invalid: a secret must be a string or a Uint8Array; generate one with `npx frasco keygen` (32 random bytes, base64url)'],
    ['an object without a secret', [{ key: strong() }], 'option secrets[0] is invalid: a secret must be a string or a Uint8Array; generate one with `npx frasco keygen` (32 random bytes, base64url)'],
    ['an entry with an unknown key', { secret: strong(), kid: 'a' }, /^option secrets\.kid is unknown/],
    ['a numeric key id', [{ id: 7, secret: strong() }], 'option secrets[0].id is invalid: use 1 to 32 characters from A-Z a-z 0-9 - _'],
    ['an empty key id', { id: '', secret: strong() }, 'option secrets.id is invalid: use 1 to 32 characters from A-Z a-z 0-9 - _'],
    ['a key id with a dot', { id: 'a.b', secret: strong() }, 'option secrets.id is invalid: use 1 to 32 characters from A-Z a-z 0-9 - _'],
    ['a key id with a leading space', { id: ' a', secret: strong() }, 'option secrets.id is invalid: use 1 to 32 characters from A-Z a-z 0-9 - _'],
    ['a key id with a trailing newline', { id: 'a\n', secret: strong() }, 'option secrets.id is invalid: use 1 to 32 characters from A-Z a-z 0-9 - _'],
    ['a non-ASCII key id', { id: 'clé', secret: strong() }, 'option secrets.id is invalid: use 1 to 32 characters from A-Z a-z 0-9 - _'],
  ])('rejects %s with the exact message', (_, input, message) => {
    expect(() => createKeyring(input as never)).toThrow(TypeError)
    expect(() => createKeyring(input as never)).toThrow(message)
  })

  it('names the later secret and the id in a duplicate', () => {
    const s = strong()
    expect(() => createKeyring([strong(), s, s])).toThrow(`option secrets[2] is invalid: key id '${deriveKeyId(s)}' is already used by an earlier secret (the same secret twice?)`)
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

describe('keys hide their secret', () => {
  // Every value reachable from a key or keyring through own properties (string and symbol keys,
  // enumerable or not, getters read), with the path that reaches it.
  function reachable(root: object): Array<[path: string, value: unknown]> {
    const seen = new Set<unknown>()
    const found: Array<[string, unknown]> = []
    const walk = (value: unknown, path: string): void => {
      found.push([path, value])
      if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return
      seen.add(value)
      for (const key of Reflect.ownKeys(value)) {
        const descriptor = Reflect.getOwnPropertyDescriptor(value, key) as PropertyDescriptor
        const child = 'value' in descriptor ? descriptor.value : descriptor.get?.call(value)
        walk(child, `${path}.${String(key)}`)
      }
    }
    walk(root, '$')
    return found
  }

  it('a key is exactly { id, index }', () => {
    const ring = createKeyring([strong(), { id: 'old', secret: strong() }])
    expect(Object.keys(ring.current)).toEqual(['id', 'index'])
    expect(Reflect.ownKeys(ring.current)).toEqual(['id', 'index'])
    for (const key of ring.keys) expect(Reflect.ownKeys(key)).toEqual(['id', 'index'])
    expect('secret' in ring.current).toBe(false)
  })

  it.each([
    ['a string secret', () => strong()],
    ['a byte secret', () => randomBytes(32)],
  ])('no property of a keyring or its keys exposes the bytes of %s', (_, make) => {
    const secrets = [make(), make()]
    const bytes = secrets.map((s) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s)))
    const spellings = bytes.flatMap((b) => [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('latin1')])
    const ring = createKeyring(secrets)
    const values = reachable(ring)
    // The walk did reach the keys (a walk that sees nothing proves nothing).
    expect(values.map(([path]) => path)).toEqual(expect.arrayContaining(['$.keys.0.id', '$.keys.1.index', '$.current', '$.get']))
    for (const [path, value] of values) {
      if (value instanceof Uint8Array || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
        const view = value instanceof ArrayBuffer ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
        for (const secret of bytes) expect(view.includes(secret), path).toBe(false)
      }
      if (typeof value === 'string') for (const spelling of spellings) expect(value.includes(spelling), path).toBe(false)
    }
  })
})

describe('golden key ids and subkeys (independent Python reference, test/vectors/make-signer-vectors.py)', () => {
  // The key id is HMAC-SHA256(secret, "frasco/v1/key-id")[:6] in base64url; the subkey is
  // HKDF-SHA256(secret, salt = "", info = "frasco/v1/<use>" NUL purpose, 32 bytes).
  const secret = vectors.secret

  it('derives the key ids of the vectors', () => {
    expect(deriveKeyId(secret)).toBe(vectors.keyId)
    expect(deriveKeyId(Buffer.from(secret, 'utf8'))).toBe(vectors.keyId)
    expect(createKeyring([secret, vectors.oldSecret]).keys.map((key) => key.id)).toEqual([vectors.keyId, vectors.oldKeyId])
  })

  it.each([
    ['sign', 'test'],
    ['sign', 'password-reset'],
    ['encrypt', 'test'],
    ['encrypt', 'olá'],
  ] as const)('derives the %s subkey for purpose %s as RFC 5869 HKDF does', (use, purpose) => {
    const expected = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), Buffer.from(`frasco/v1/${use}\0${purpose}`, 'utf8'), 32))
    expect(deriveSubkey(createKeyring(secret).current, use, purpose)).toEqual(expected)
  })
})

describe('deriveSubkey', () => {
  it('refuses a key that no keyring made, saying where keys come from', () => {
    expect(() => deriveSubkey({ id: 'forged', index: 0 }, 'sign', 'p')).toThrow(new TypeError('key is invalid: use a key of a keyring made by createKeyring'))
  })

  it('separates purposes and uses, and caches', () => {
    const secret = strong()
    const key = createKeyring(secret).current
    const a = deriveSubkey(key, 'sign', 'a')
    expect(a).toHaveLength(32)
    expect(deriveSubkey(key, 'sign', 'a')).toBe(a)
    expect(deriveSubkey(key, 'sign', 'b').equals(a)).toBe(false)
    expect(deriveSubkey(key, 'encrypt', 'a').equals(a)).toBe(false)
    expect(a.equals(Buffer.from(secret, 'utf8').subarray(0, 32))).toBe(false)
  })
})

describe('secretsFromEnv', () => {
  it('reads comma-separated secrets, newest first', () => {
    const [a, b] = [strong(), strong()]
    expect(secretsFromEnv('FRASCO_SECRETS', { FRASCO_SECRETS: ` ${a} , ${b},` })).toEqual([a, b])
    expect(secretsFromEnv('MY_KEYS', { MY_KEYS: a })).toEqual([a])
  })

  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('reads FRASCO_SECRETS from process.env by default', () => {
    const [a, b] = [strong(), strong()]
    vi.stubEnv('FRASCO_SECRETS', `${a},${b}`)
    expect(secretsFromEnv()).toEqual([a, b])
    expect(secretsFromEnv('FRASCO_SECRETS')).toEqual([a, b])
  })

  it('says which variable is missing and how to make a secret', () => {
    expect(() => secretsFromEnv('APP_SECRETS', {})).toThrow(
      new TypeError('option secrets is invalid: environment variable APP_SECRETS is not set; generate one with `npx frasco keygen` (32 random bytes, base64url) and set APP_SECRETS'),
    )
  })

  it.each([
    ['missing', {}, /FRASCO_SECRETS is not set/],
    ['empty', { FRASCO_SECRETS: ' ' }, /is not set/],
    ['weak', { FRASCO_SECRETS: 'short' }, /at least 32 bytes/],
  ])('rejects a %s variable', (_, env, message) => {
    expect(() => secretsFromEnv('FRASCO_SECRETS', env)).toThrow(message)
  })
})
