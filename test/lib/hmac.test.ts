import { Buffer } from 'node:buffer'
import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { SCRATCH_LIMIT } from '../../src/lib/buffers.js'
import { HAS_ONE_SHOT_HASH, HmacSha256 } from '../../src/lib/hmac.js'
import rfc4231 from '../vectors/rfc4231.json' with { type: 'json' }

const reference = (key: Uint8Array, message: string | Uint8Array): string => createHmac('sha256', key).update(message).digest('base64url')

describe('HmacSha256', () => {
  it('uses crypto.hash wherever Node has it (20.12 and 21.7 on), so the tests below cover the fast path', () => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number]
    if (major > 21 || (major === 21 && minor >= 7) || (major === 20 && minor >= 12)) expect(HAS_ONE_SHOT_HASH).toBe(true)
  })

  describe.each([true, false])('useOneShot: %s', (useOneShot) => {
    it.each(rfc4231.cases)('RFC 4231 test case $case', ({ key, data, hmac, ...rest }) => {
      const mac = new HmacSha256(Buffer.from(key, 'hex'), { useOneShot })
      const digest = Buffer.from(mac.digest(Buffer.from(data, 'hex')), 'base64url')
      const truncate = 'truncate' in rest ? (rest.truncate as number) : 32
      expect(digest.subarray(0, truncate).toString('hex')).toBe(hmac)
    })

    it('matches createHmac for any key and message, string or bytes, call after call', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 200 }),
          fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 700 }), fc.uint8Array({ maxLength: 1500 })), { minLength: 1, maxLength: 5 }),
          (key, messages) => {
            const mac = new HmacSha256(key, { useOneShot })
            for (const message of messages) expect(mac.digest(message)).toBe(reference(key, message))
          },
        ),
      )
    })

    // RFC 2104 §2: a key longer than the 64-byte block is hashed first; one of exactly 64 bytes
    // is used as it is. Random key lengths rarely land on the boundary, so it is listed.
    it.each([0, 1, 32, 63, 64, 65, 128, 131])('a key of %i bytes gives the HMAC createHmac gives', (length) => {
      const key = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + 11) & 0xff))
      const mac = new HmacSha256(key, { useOneShot })
      for (const message of ['', 'message', Buffer.from([0, 255, 128])]) expect(mac.digest(message)).toBe(reference(key, message))
    })

    it('grows for long messages and keeps the key block when it does', () => {
      const key = Buffer.from('a key of 32 bytes, give or take.')
      const mac = new HmacSha256(key, { useOneShot })
      for (const length of [0, 10, 448, 449, 5000, 3, 100_000, 7]) {
        const message = 'é'.repeat(length)
        expect(mac.digest(message)).toBe(reference(key, message))
      }
    })

    it('does not depend on the caller keeping the key buffer unchanged', () => {
      const key = Buffer.alloc(32, 7)
      const mac = new HmacSha256(key, { useOneShot })
      const before = mac.digest('message')
      key.fill(0)
      expect(mac.digest('message')).toBe(before)
      expect(before).toBe(reference(Buffer.alloc(32, 7), 'message'))
    })
  })
})

describe('key blocks in memory', () => {
  // K' ⊕ ipad heads the buffer the inner hash reads. Buffers come and go as messages grow (one
  // kept up to SCRATCH_LIMIT, one per call beyond it); whichever the HMAC uses, the key block may
  // be in one of them only, never left behind in a buffer it has dropped.
  it('is held by one buffer at a time, however long the messages', async () => {
    const read = new Map<ArrayBufferLike, Buffer>()
    vi.resetModules()
    vi.doMock('node:crypto', async (importOriginal) => {
      const actual = await importOriginal<typeof import('node:crypto')>()
      const oneShot = actual.hash as (algorithm: string, data: Buffer, encoding: 'latin1' | 'base64url') => string
      const hash = (algorithm: string, data: Buffer, encoding: 'latin1' | 'base64url'): string => {
        read.set(data.buffer, Buffer.from(data.buffer, data.byteOffset, 64))
        return oneShot(algorithm, data, encoding)
      }
      return { ...actual, hash: hash as typeof actual.hash }
    })
    try {
      const { HmacSha256: Fresh } = await import('../../src/lib/hmac.js')
      const key = Buffer.from('a key of 32 bytes, give or take.')
      const ipadBlock = Buffer.alloc(64, 0x36)
      for (let i = 0; i < key.length; i++) ipadBlock[i] = (key[i] as number) ^ 0x36
      const mac = new Fresh(key, { useOneShot: true })
      for (const length of [1, 400, 1000, 30_000, 5, 100_000, 2000]) {
        const message = 'é'.repeat(length)
        expect(mac.digest(message)).toBe(reference(key, message))
        const holding = [...read.values()].filter((block) => block.equals(ipadBlock))
        expect(holding.length, `after a message of ${length} characters`).toBe(1)
      }
      expect(read.size).toBeGreaterThan(3)
    } finally {
      vi.doUnmock('node:crypto')
      vi.resetModules()
    }
  })

  // A message beyond SCRATCH_LIMIT is hashed from a buffer of its own for that call only
  // (src/lib/buffers.ts): one huge token must not leave a buffer of its size, holding the key
  // block, alive for the life of the process.
  it('is never kept in a buffer over SCRATCH_LIMIT bytes once a huge message is done', async () => {
    const sizes: number[] = []
    vi.resetModules()
    vi.doMock('node:crypto', async (importOriginal) => {
      const actual = await importOriginal<typeof import('node:crypto')>()
      const oneShot = actual.hash as (algorithm: string, data: Buffer, encoding: 'latin1' | 'base64url') => string
      const hash = (algorithm: string, data: Buffer, encoding: 'latin1' | 'base64url'): string => {
        // The inner hash of each digest (the outer one reads the 96-byte outer buffer).
        if (encoding === 'latin1') sizes.push(data.buffer.byteLength)
        return oneShot(algorithm, data, encoding)
      }
      return { ...actual, hash: hash as typeof actual.hash }
    })
    try {
      const { HmacSha256: Fresh } = await import('../../src/lib/hmac.js')
      const key = Buffer.from('a key of 32 bytes, give or take.')
      const mac = new Fresh(key, { useOneShot: true })
      for (const message of ['x'.repeat(3 * SCRATCH_LIMIT), 'short', Buffer.alloc(2 * SCRATCH_LIMIT, 1), Buffer.from('bytes')]) {
        expect(mac.digest(message)).toBe(reference(key, message))
      }
      expect(sizes).toHaveLength(4)
      expect(sizes[0]).toBeGreaterThan(3 * SCRATCH_LIMIT)
      expect(sizes[1]).toBeLessThanOrEqual(SCRATCH_LIMIT)
      expect(sizes[2]).toBeGreaterThan(2 * SCRATCH_LIMIT)
      expect(sizes[3]).toBeLessThanOrEqual(SCRATCH_LIMIT)
    } finally {
      vi.doUnmock('node:crypto')
      vi.resetModules()
    }
  })
})
