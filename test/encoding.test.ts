import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBase64url, decodeUtf8, encodeBase64url, encodeUtf8, isBase64url } from '../src/encoding.js'

describe('base64url', () => {
  it.each([
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ])('encodes the RFC 4648 §10 vector %j as %j and back', (text, encoded) => {
    expect(encodeBase64url(text)).toBe(encoded)
    expect(encodeBase64url(Buffer.from(text))).toBe(encoded)
    expect(decodeBase64url(encoded)?.toString('utf8')).toBe(text)
  })

  it('uses the URL-safe alphabet', () => {
    expect(encodeBase64url(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe('-_-_')
  })

  it('encodes a view into a larger buffer without its neighbours', () => {
    const backing = new Uint8Array([1, 2, 3, 4, 5])
    expect(encodeBase64url(backing.subarray(1, 3))).toBe(encodeBase64url(new Uint8Array([2, 3])))
  })

  it.each([
    ['padding', 'Zg=='],
    ['standard alphabet +', 'a+b'],
    ['standard alphabet /', 'a/b'],
    ['whitespace', 'Zm9v Yg'],
    ['newline', 'Zm9v\nYg'],
    ['impossible length', 'Zm9vY'],
    ['non-zero trailing bits (2 chars)', 'Zh'],
    ['non-zero trailing bits (3 chars)', 'Zm9'],
    ['dot', 'Zm.9v'],
    ['non-ASCII', 'Zm9vé'],
  ])('rejects non-canonical input: %s', (_, text) => {
    expect(isBase64url(text)).toBe(false)
    expect(decodeBase64url(text)).toBeUndefined()
  })

  it('round trips arbitrary bytes, and only the canonical text decodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = encodeBase64url(bytes)
        expect(isBase64url(text)).toBe(true)
        expect(new Uint8Array(decodeBase64url(text)!)).toEqual(bytes)
      }),
    )
  })

  it('never accepts a string that Node decodes to different canonical text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24 }), (text) => {
        const decoded = decodeBase64url(text)
        if (decoded !== undefined) expect(decoded.toString('base64url')).toBe(text)
      }),
    )
  })
})

describe('decodeBase64url agrees with isBase64url', () => {
  // Near-misses of every kind: the alphabet, the standard alphabet, padding, whitespace, dots and
  // characters whose low byte is an alphabet character.
  const char = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= \n.\u0141\u0161')
  it('decodes exactly the strings isBase64url accepts', () => {
    fc.assert(
      fc.property(fc.array(char, { maxLength: 40 }), (chars) => {
        const text = chars.join('')
        expect(decodeBase64url(text) !== undefined).toBe(isBase64url(text))
      }),
      { numRuns: 2000 },
    )
  })

  it('returns undefined for a non-string', () => {
    expect(decodeBase64url([1, 2] as unknown as string)).toBeUndefined()
  })
})

describe('UTF-8', () => {
  it.each([
    ['ASCII', [0x68, 0x69], 'hi'],
    ['two-byte', [0xc3, 0xa9], 'é'],
    ['astral', [0xf0, 0x9f, 0x8e, 0x89], '🎉'],
  ])('decodes %s', (_, bytes, text) => {
    expect(decodeUtf8(new Uint8Array(bytes))).toBe(text)
    expect([...encodeUtf8(text)]).toEqual(bytes)
  })

  it.each([
    ['a lone continuation byte', [0x80]],
    ['a truncated sequence', [0xc3]],
    ['an overlong NUL', [0xc0, 0x80]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['0xFF', [0xff]],
  ])('rejects %s instead of replacing it', (_, bytes) => {
    expect(decodeUtf8(new Uint8Array(bytes))).toBeUndefined()
  })

  it('refuses to encode a lone surrogate', () => {
    expect(() => encodeUtf8('a\ud800b')).toThrow(TypeError)
  })
})
