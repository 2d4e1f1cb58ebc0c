/**
 * Issue 12, item 1: with encryption, compression must not undo it. Compressing before encrypting
 * makes the ciphertext's length depend on whether text the user controls repeats secret text in
 * the same payload (CRIME). Encrypted tokens and sessions are therefore not compressed unless the
 * application opts in.
 */
import { describe, expect, it } from 'vitest'
import { createSerializer } from '../../src/signer.js'
import { createSessions } from '../../src/sessions.js'

const SECRET = 'oracle-test-secret-0123456789-abcdefghijklmnop'
const CODE = '493817'

/** The attacker's lever: their own field, a guess at the code repeated past the 1 KiB threshold. */
function sessionWith(guess: string): Record<string, unknown> {
  return { resetCode: CODE, note: `code=${guess};`.repeat(120) }
}

/** The cookie lengths the attacker sees for each guess of the first digit. */
function lengths(sign: (data: Record<string, unknown>) => string): Map<string, number> {
  const seen = new Map<string, number>()
  for (let digit = 0; digit <= 9; digit++) {
    const guess = `${digit}93817`
    seen.set(guess, sign(sessionWith(guess)).length)
  }
  return seen
}

describe('encrypted sessions give no compression oracle by default', () => {
  it('a right guess and a wrong one make cookies of the same length', () => {
    const sessions = createSessions({ secrets: SECRET, encrypt: true, chunking: { maxChunks: 10 } })
    const seen = lengths((data) => sessions.sign(data))
    expect(new Set(seen.values()).size).toBe(1)
  })

  it('the same for createSerializer({ encrypt: true })', () => {
    const serializer = createSerializer({ secrets: SECRET, purpose: 'p', encrypt: true })
    expect(new Set(lengths((data) => serializer.sign(data)).values()).size).toBe(1)
  })

  it('opting in brings the oracle back (which is why it is documented where the option is)', () => {
    const sessions = createSessions({ secrets: SECRET, encrypt: true, compress: true })
    const seen = lengths((data) => sessions.sign(data))
    const right = seen.get(CODE) as number
    const wrong = [...seen].filter(([guess]) => guess !== CODE).map(([, length]) => length)
    expect(Math.max(...wrong)).toBeGreaterThan(right)
  })

  it('signed sessions, readable by their holder anyway, still compress by default', () => {
    const sessions = createSessions({ secrets: SECRET })
    const big = { note: 'lorem ipsum '.repeat(200) }
    expect(sessions.sign(big).length).toBeLessThan(JSON.stringify(big).length)
  })
})
