import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SCRATCH_LIMIT, bufferWriter, copyUnpooled, scratchFor, writeBase64url, writeLatin1, writeUtf8 } from '../../src/lib/buffers.js'

const cases = [
  ['utf8Write', 'utf8'],
  ['latin1Write', 'latin1'],
  ['base64urlWrite', 'base64url'],
] as const

describe('buffer writers', () => {
  it('use the Buffer encoders on this runtime', () => {
    for (const [name] of cases) expect(typeof (Buffer.prototype as unknown as Record<string, unknown>)[name]).toBe('function')
    expect([writeUtf8, writeLatin1, writeBase64url].every((write) => typeof write === 'function')).toBe(true)
  })

  describe.each(cases)('%s', (name, encoding) => {
    // The Buffer's own encoder, and the Buffer#write fallback for runtimes without it.
    const writers = { encoder: bufferWriter(name, encoding), fallback: bufferWriter(name, encoding, {}) }

    it.each(Object.keys(writers) as Array<keyof typeof writers>)('%s writes exactly what Buffer#write writes, partial writes included', (which) => {
      const write = writers[which]
      const text = encoding === 'base64url' ? fc.base64String().map((s) => s.replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')) : fc.string({ unit: 'binary', maxLength: 60 })
      fc.assert(
        fc.property(text, fc.nat(40), fc.nat(80), (value, offset, size) => {
          const length = offset + size
          const expected = Buffer.alloc(length, 0xee)
          const actual = Buffer.alloc(length, 0xee)
          const expectedCount = expected.write(value, offset, encoding)
          expect(write(actual, value, offset)).toBe(expectedCount)
          expect(actual).toEqual(expected)
        }),
      )
    })
  })
})

/** Memory of its own: not a slice of one of Node's shared 8 KiB pool slabs. */
const ownsMemory = (bytes: Buffer) => bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length

describe('scratchFor: the shared buffers of the token code', () => {
  it('is 64 KiB at most', () => {
    expect(SCRATCH_LIMIT).toBe(65_536)
  })

  it.each([
    ['more than enough room', 100, 10],
    ['exactly enough room', 100, 100],
    ['no room asked', 0, 0],
  ])('hands back the buffer itself when it has %s', (_, size, room) => {
    const current = Buffer.allocUnsafeSlow(size)
    expect(scratchFor(current, room)).toBe(current)
  })

  it.each([
    // Short of room: at least double, so a growing workload reallocates a few times only.
    ['one byte short: twice the size', 1000, 1001, 2000],
    ['far short: the room asked', 1000, 5000, 5000],
    ['doubling capped at SCRATCH_LIMIT', 40_000, 40_001, SCRATCH_LIMIT],
    ['exactly SCRATCH_LIMIT', 1000, SCRATCH_LIMIT, SCRATCH_LIMIT],
    // Beyond the limit: exactly the room, for this call only (the caller keeps it only up to the limit).
    ['one byte over SCRATCH_LIMIT: exactly that', 1000, SCRATCH_LIMIT + 1, SCRATCH_LIMIT + 1],
    ['far over SCRATCH_LIMIT, from a full-size buffer', SCRATCH_LIMIT, 3 * SCRATCH_LIMIT, 3 * SCRATCH_LIMIT],
  ])('grows when short of room, %s', (_, size, room, expected) => {
    const current = Buffer.allocUnsafeSlow(size)
    const grown = scratchFor(current, room)
    expect(grown).not.toBe(current)
    expect(grown.length).toBe(expected)
    expect(ownsMemory(grown)).toBe(true)
  })
})

describe('copyUnpooled: secrets and keys in memory of their own', () => {
  it.each<[string, string | Uint8Array, Buffer]>([
    ['a string, as UTF-8', 'clé secrète €', Buffer.from('clé secrète €', 'utf8')],
    ['an empty string', '', Buffer.alloc(0)],
    ['bytes', Uint8Array.from([0, 1, 255, 128]), Buffer.from([0, 1, 255, 128])],
    ['a pooled Buffer', Buffer.from('pooled bytes'), Buffer.from('pooled bytes')],
  ])('copies %s outside the shared pool', (_, value, expected) => {
    const copy = copyUnpooled(value)
    expect(copy).toEqual(expected)
    expect(ownsMemory(copy)).toBe(true)
    if (typeof value !== 'string' && value.length > 0) {
      value[0] = (value[0] as number) ^ 0xff
      expect(copy).toEqual(expected)
    }
  })
})
