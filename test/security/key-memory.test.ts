/**
 * Issue 12, item 2: no key material or plaintext in Node's shared Buffer pool.
 *
 * `Buffer.allocUnsafe` under 4 KiB, `Buffer.from` and `Buffer.concat` carve small buffers out of
 * shared 8 KiB slabs, and any small Buffer's `.buffer` is the whole slab. The review pulled the
 * signing key out of `Buffer.from('y').buffer` and forged a session with it. Each test here plays
 * that attack: it starts a fresh slab, builds a factory, signs and verifies, keeps small Buffers
 * made along the way, and searches the slabs they expose for the secret, the HKDF subkey, the
 * HMAC key blocks, the itsdangerous derived key and the plaintext of the last encrypted token.
 *
 * Every test loads fresh module instances (vi.resetModules): module-level scratch buffers then
 * start as in a new process, so the first large token grows them where this test can look.
 */
import { Buffer } from 'node:buffer'
import { createHash, createHmac, hkdfSync } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'

const SECRET = 'key-memory-test-secret-0123456789-abcdefghijklmnop'
const MARKER = 'PLAINTEXT-MARKER-q8Zt3vXk'
// Longer than the 1 KiB body scratch once written as UTF-8, so sealing it grows that scratch.
const PLAINTEXT = `${MARKER}:${'confidential '.repeat(50)}`
const NOW = Date.UTC(2026, 0, 1)

async function load() {
  vi.resetModules()
  const [keyring, signer, sessions, seal, token, flask, itsdangerous] = await Promise.all([
    import('../../src/keyring.js'),
    import('../../src/signer.js'),
    import('../../src/sessions.js'),
    import('../../src/lib/seal.js'),
    import('../../src/lib/token.js'),
    import('../../src/flask/codec.js'),
    import('../../src/flask/itsdangerous.js'),
  ])
  return { keyring, signer, sessions, seal, token, flask, itsdangerous }
}

/** UTF-8 bytes in memory of their own (TextEncoder does not use the pool): needles, not hay. */
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const own = (bytes: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(bytes)

function subkey(use: 'sign' | 'encrypt', purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', utf8(SECRET), new Uint8Array(0), utf8(`frasco/v1/${use}\0${purpose}`), 32))
}

/** RFC 2104's K' ⊕ ipad and K' ⊕ opad for a key of at most one 64-byte block. */
function hmacBlocks(key: Uint8Array): { ipad: Uint8Array; opad: Uint8Array } {
  const ipad = new Uint8Array(64).fill(0x36)
  const opad = new Uint8Array(64).fill(0x5c)
  key.forEach((byte, i) => {
    ipad[i] = (ipad[i] as number) ^ byte
    opad[i] = (opad[i] as number) ^ byte
  })
  return { ipad, opad }
}

function signingNeedles(purpose: string): Record<string, Uint8Array> {
  const key = subkey('sign', purpose)
  return { secret: utf8(SECRET), subkey: key, ...hmacBlocks(key) }
}

/**
 * Moves Node's Buffer pool on to a new slab and returns it, as a small Buffer kept by an app would
 * hold it. A new slab is uninitialized memory that may hold bytes of buffers already freed (this
 * file's own needles among them), so it is zeroed: what is found later was written during the test.
 */
function freshSlab(): ArrayBufferLike {
  let probe = Buffer.allocUnsafe(1)
  while (probe.byteOffset !== 0) probe = Buffer.allocUnsafe(1)
  new Uint8Array(probe.buffer).fill(0)
  return probe.buffer
}

/** The slabs small Buffers made around the library's work expose through `.buffer`. */
class Exposure {
  readonly slabs = new Set<ArrayBufferLike>([freshSlab()])

  look(): void {
    for (const probe of [Buffer.from('y'), Buffer.allocUnsafe(10), Buffer.from([1, 2, 3]), Buffer.concat([Buffer.from('a'), Buffer.from('b')])]) {
      this.slabs.add(probe.buffer)
    }
  }

  /** The names of the needles found in any slab seen. */
  found(needles: Record<string, Uint8Array>): string[] {
    // The probes must really be pool slabs, or finding nothing would prove nothing.
    for (const slab of this.slabs) expect(slab.byteLength).toBe(Buffer.poolSize)
    const hay = [...this.slabs].map((slab) => Buffer.from(slab as ArrayBuffer))
    return Object.entries(needles)
      .filter(([, needle]) => hay.some((slab) => slab.indexOf(needle) !== -1))
      .map(([name]) => name)
  }
}

/** Runs `work` (build a factory, then sign and verify with it) and returns the needles the pool gave away. */
function exposedBy(needles: Record<string, Uint8Array>, work: (look: () => void) => void): string[] {
  const exposure = new Exposure()
  work(() => exposure.look())
  exposure.look()
  return exposure.found(needles)
}

describe('f1: signing keys stay out of the shared Buffer pool', () => {
  it('createSigner: no secret, subkey or HMAC key block in a pool slab', async () => {
    const { signer } = await load()
    const found = exposedBy(signingNeedles('download'), (look) => {
      const tokens = signer.createSigner({ secrets: SECRET, purpose: 'download' })
      look()
      // The long value grows the HMAC's message buffer, which carries the ipad block along.
      for (const value of ['short', 'v'.repeat(1500)]) {
        const token = tokens.sign(value)
        look()
        expect(tokens.unsign(token)).toBe(value)
        look()
      }
    })
    expect(found).toEqual([])
  })

  it('createSerializer: no secret, subkey or HMAC key block in a pool slab', async () => {
    const { signer } = await load()
    const found = exposedBy(signingNeedles('invite'), (look) => {
      const invites = signer.createSerializer({ secrets: SECRET, purpose: 'invite' })
      look()
      const token = invites.sign({ team: 'a', role: 'admin' })
      look()
      expect(invites.unsign(token)).toEqual({ team: 'a', role: 'admin' })
    })
    expect(found).toEqual([])
  })

  it('createSessions: no secret, subkey or HMAC key block in a pool slab', async () => {
    const { sessions } = await load()
    const found = exposedBy(signingNeedles('session:session'), (look) => {
      const manager = sessions.createSessions({ secrets: SECRET })
      look()
      const value = manager.sign({ user: 'ada', role: 'admin' })
      look()
      expect(manager.verify(value).ok).toBe(true)
      const session = manager.read(`session=${value}`)
      look()
      session.set('role', 'user')
      expect(manager.commit(session).setCookie.length).toBe(1)
    })
    expect(found).toEqual([])
  })
})

describe('e1 and encrypt: true: no plaintext or key in the shared Buffer pool', () => {
  const e1Needles = (purpose: string): Record<string, Uint8Array> => ({
    secret: utf8(SECRET),
    subkey: subkey('encrypt', purpose),
    plaintext: utf8(MARKER),
  })

  it('SealedCore: the plaintext of the last sealed token is nowhere in a pool slab', async () => {
    const { keyring, seal } = await load()
    const found = exposedBy(e1Needles('p'), (look) => {
      const core = new seal.SealedCore(keyring.createKeyring(SECRET), { purpose: 'p', clockTolerance: 60, maxTokenLength: 65_536 })
      look()
      const token = core.seal(0, NOW / 1000, undefined, PLAINTEXT)
      look()
      const opened = core.open(token, NOW / 1000, undefined)
      if (opened instanceof Error) throw opened
      look()
      expect(opened.payload.toString('utf8')).toBe(PLAINTEXT)
    })
    expect(found).toEqual([])
  })

  it('SealedCore: the shared body scratch is its own memory and is zeroed once sealed', async () => {
    const { keyring, seal, token } = await load()
    const core = new seal.SealedCore(keyring.createKeyring(SECRET), { purpose: 'p', clockTolerance: 60, maxTokenLength: 65_536 })
    core.seal(0, NOW / 1000, undefined, MARKER)
    // An empty body rewrites only the header; a view of the scratch exposes all of it.
    const scratch = token.writeBody(0, 0, undefined, '').buffer
    expect(scratch.byteLength).not.toBe(Buffer.poolSize)
    expect(Buffer.from(scratch as ArrayBuffer).indexOf(utf8(MARKER))).toBe(-1)
  })

  it('createSerializer({ encrypt: true }): the plaintext is nowhere in a pool slab', async () => {
    const { signer } = await load()
    const found = exposedBy(e1Needles('secret-notes'), (look) => {
      const notes = signer.createSerializer({ secrets: SECRET, purpose: 'secret-notes', encrypt: true })
      look()
      const token = notes.sign({ note: PLAINTEXT })
      look()
      expect(notes.unsign(token)).toEqual({ note: PLAINTEXT })
    })
    expect(found).toEqual([])
  })

  it('createSerializer({ encrypt: true, compress: true }): neither the JSON nor its deflated form is in a pool slab', async () => {
    const { signer } = await load()
    const found = exposedBy(e1Needles('compressed-notes'), (look) => {
      const notes = signer.createSerializer({ secrets: SECRET, purpose: 'compressed-notes', encrypt: true, compress: { threshold: 0 } })
      look()
      const token = notes.sign({ note: PLAINTEXT })
      look()
      expect(notes.unsign(token)).toEqual({ note: PLAINTEXT })
    })
    expect(found).toEqual([])
  })

  it('createSessions({ encrypt: true }): the plaintext is nowhere in a pool slab', async () => {
    const { sessions } = await load()
    const found = exposedBy(e1Needles('session:session'), (look) => {
      const manager = sessions.createSessions({ secrets: SECRET, encrypt: true })
      look()
      const value = manager.sign({ note: PLAINTEXT })
      look()
      const result = manager.verify(value)
      look()
      expect(result.ok && result.value.note).toBe(PLAINTEXT)
    })
    expect(found).toEqual([])
  })
})

describe('Flask and itsdangerous: secrets and derived keys stay out of the shared Buffer pool', () => {
  it('createFlaskCodec: no secret or derived key in a pool slab', async () => {
    const { flask } = await load()
    const derived = new Uint8Array(createHmac('sha1', utf8(SECRET)).update('cookie-session').digest())
    const found = exposedBy({ secret: utf8(SECRET), derived }, (look) => {
      const codec = flask.createFlaskCodec({ secrets: SECRET })
      look()
      const value = codec.sign({ user: 'ada' })
      look()
      expect(codec.unsign(value)).toEqual({ user: 'ada' })
    })
    expect(found).toEqual([])
  })

  const derivations = [
    ['django-concat', 'sha1', (salt: string) => createHash('sha1').update(salt).update('signer').update(SECRET).digest()],
    ['concat', 'sha256', (salt: string) => createHash('sha256').update(salt).update(SECRET).digest()],
    ['hmac', 'sha512', (salt: string) => createHmac('sha512', SECRET).update(salt).digest()],
    ['none', 'sha1', () => utf8(SECRET)],
  ] as const

  it.each(derivations)('createItsdangerousSigner (%s): no secret or derived key in a pool slab', async (keyDerivation, digest, derive) => {
    const { itsdangerous } = await load()
    const derived = own(derive('itsdangerous.Signer'))
    for (const secrets of [SECRET, utf8(SECRET)]) {
      const found = exposedBy({ secret: utf8(SECRET), derived }, (look) => {
        const signer = itsdangerous.createItsdangerousSigner({ secrets, digest, keyDerivation, timestamped: true })
        look()
        const token = signer.sign('user-42')
        look()
        expect(signer.unsign(token)).toBe('user-42')
      })
      expect(found).toEqual([])
    }
  })

  it('createItsdangerousSerializer: no secret or derived key in a pool slab', async () => {
    const { itsdangerous } = await load()
    const derived = own(createHash('sha1').update('itsdangerous').update('signer').update(SECRET).digest())
    const found = exposedBy({ secret: utf8(SECRET), derived }, (look) => {
      const serializer = itsdangerous.createItsdangerousSerializer({ secrets: [SECRET, 'an-older-secret'] })
      look()
      const token = serializer.sign({ id: 5 })
      look()
      expect(serializer.unsign(token)).toEqual({ id: 5 })
    })
    expect(found).toEqual([])
  })
})

describe("a caller's Uint8Array secret may be zeroed once the factory is built", () => {
  /** The secret as a view into the middle of a larger buffer the caller owns and wipes whole. */
  function callerSecret(): { secret: Uint8Array; wipe: () => void } {
    const memory = new Uint8Array(200)
    const secret = memory.subarray(50, 50 + utf8(SECRET).length)
    secret.set(utf8(SECRET))
    return { secret, wipe: () => memory.fill(0) }
  }

  it.each(['django-concat', 'concat', 'hmac', 'none'] as const)('createItsdangerousSigner (%s) does not alias it', async (keyDerivation) => {
    const { itsdangerous } = await load()
    const { secret, wipe } = callerSecret()
    const signer = itsdangerous.createItsdangerousSigner({ secrets: secret, keyDerivation, timestamped: true })
    const expected = itsdangerous.createItsdangerousSigner({ secrets: SECRET, keyDerivation, timestamped: true }).sign('v', { now: NOW })
    wipe()
    expect(signer.sign('v', { now: NOW })).toBe(expected)
    expect(signer.unsign(expected, { now: NOW })).toBe('v')
  })

  it('createFlaskCodec does not alias it', async () => {
    const { flask } = await load()
    const { secret, wipe } = callerSecret()
    const codec = flask.createFlaskCodec({ secrets: secret })
    const expected = flask.createFlaskCodec({ secrets: SECRET }).sign({ user: 'ada' }, { now: NOW })
    wipe()
    expect(codec.sign({ user: 'ada' }, { now: NOW })).toBe(expected)
  })

  it('createSigner and SealedCore (keyring) do not alias it', async () => {
    const { keyring, signer, seal } = await load()
    const { secret, wipe } = callerSecret()
    const tokens = signer.createSigner({ secrets: secret, purpose: 'p' })
    const core = new seal.SealedCore(keyring.createKeyring(secret), { purpose: 'p', clockTolerance: 60, maxTokenLength: 65_536 })
    const expected = signer.createSigner({ secrets: SECRET, purpose: 'p' }).sign('v', { now: NOW })
    const sealed = new seal.SealedCore(keyring.createKeyring(SECRET), { purpose: 'p', clockTolerance: 60, maxTokenLength: 65_536 }).seal(0, NOW / 1000, undefined, 'v')
    wipe()
    expect(tokens.sign('v', { now: NOW })).toBe(expected)
    const opened = core.open(sealed, NOW / 1000, undefined)
    expect(opened instanceof Error ? opened : opened.payload.toString('utf8')).toBe('v')
  })
})
