import { Buffer } from 'node:buffer'
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

describe('deriveSubkey', () => {
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

  it.each([
    ['missing', {}, /FRASCO_SECRETS is not set/],
    ['empty', { FRASCO_SECRETS: ' ' }, /is not set/],
    ['weak', { FRASCO_SECRETS: 'short' }, /at least 32 bytes/],
  ])('rejects a %s variable', (_, env, message) => {
    expect(() => secretsFromEnv('FRASCO_SECRETS', env)).toThrow(message)
  })
})
