import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bufferWriter, writeBase64url, writeLatin1, writeUtf8 } from '../../src/lib/buffers.js'

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
