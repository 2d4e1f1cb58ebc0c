import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { constantTimeEqual } from '../../src/lib/compare.js'

describe('constantTimeEqual', () => {
  const tag = 'Zm9vYmFyYmF6cXV4cXV1eHh5enp5eHh6enp5eXh4eHg'

  it('is true for the same text only', () => {
    expect(constantTimeEqual(tag, `${tag}`)).toBe(true)
    expect(constantTimeEqual('', '')).toBe(true)
    expect(constantTimeEqual(tag, tag.slice(0, -1))).toBe(false)
    expect(constantTimeEqual(tag, `${tag}A`)).toBe(false)
  })

  it('finds a difference at every position', () => {
    for (let i = 0; i < tag.length; i++) {
      const flipped = String.fromCharCode(tag.charCodeAt(i) ^ 1)
      expect(constantTimeEqual(tag, tag.slice(0, i) + flipped + tag.slice(i + 1))).toBe(false)
    }
  })

  it('counts whole UTF-16 code units: a character sharing the low byte is a difference', () => {
    for (let i = 0; i < tag.length; i++) {
      for (const high of [0x100, 0xff00]) {
        const twin = String.fromCharCode(tag.charCodeAt(i) + high)
        expect(constantTimeEqual(tag, tag.slice(0, i) + twin + tag.slice(i + 1))).toBe(false)
      }
    }
  })

  it('agrees with === on any pair of strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(a === b)
        expect(constantTimeEqual(a, a.slice())).toBe(true)
      }),
    )
  })
})
