/**
 * Issue 12, item 3: text that reaches a key derivation or a MAC must be well-formed Unicode. A
 * lone surrogate becomes U+FFFD in UTF-8, so purposes differing only there would share keys.
 */
import { describe, expect, it } from 'vitest'
import { createKeyring } from '../../src/keyring.js'
import { createSerializer, createSigner } from '../../src/signer.js'
import { createSessions } from '../../src/sessions.js'

const SECRET = 'purposes-test-secret-0123456789-abcdefghijklmnop'

describe('purposes, cookie names and key ids are well-formed text', () => {
  it.each(['invite:team\uD800', 'invite:team\uDFFF', '\uDC00invite', 'a\uD83Db'])('refuses the purpose %j', (purpose) => {
    expect(() => createSigner({ secrets: SECRET, purpose })).toThrow(/^option purpose is invalid: it contains a lone surrogate/)
    expect(() => createSerializer({ secrets: SECRET, purpose, encrypt: true })).toThrow(/^option purpose is invalid/)
  })

  it('accepts well-formed text, surrogate pairs included, and keeps such purposes apart', () => {
    const a = createSigner({ secrets: SECRET, purpose: 'invite:team\uFFFD' })
    const b = createSigner({ secrets: SECRET, purpose: 'invite:team🎉' })
    expect(b.verify(a.sign('x')).ok).toBe(false)
  })

  it('refuses cookie names and key ids outside ASCII (they reach the purpose and the token)', () => {
    expect(() => createSessions({ secrets: SECRET, cookie: { name: 'sess\uD800' } })).toThrow(/^option cookie\.name is invalid/)
    expect(() => createKeyring([{ id: 'k\uD800', secret: SECRET }])).toThrow(/^option secrets\[0\]\.id is invalid/)
  })
})
