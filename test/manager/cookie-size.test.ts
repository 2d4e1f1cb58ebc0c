/**
 * The size limits of the session cookie, at their exact boundaries: a Set-Cookie header of exactly
 * 4096 bytes is one cookie and one byte more is two chunks; a session that fills exactly
 * `maxChunks` chunks is written and one byte more is CookieTooLarge; a commit near the limit
 * replaces the cookie it read without also deleting it.
 *
 * The boundaries are reached by lengthening the cookie's `path`: it adds exactly one byte per
 * character to every header and changes nothing in the token (the same data signed at the same
 * time gives the same token), so the length of a header can be set to the byte.
 */
import { describe, expect, it } from 'vitest'
import { MAX_COOKIE_BYTES } from '../../src/cookie/cookie.js'
import { CookieTooLarge } from '../../src/errors.js'
import { createSessions, type Sessions, type SessionsOptions } from '../../src/sessions.js'
import { CookieJar, isDeletion, parseSetCookie } from '../helpers/server.js'

const SECRET = 'frasco-test-secret-0123456789-abcdefghijklmnop'
const NOW = Date.UTC(2030, 0, 1)

type Blob = { blob: string }

function manager(path: string, options: Partial<SessionsOptions> = {}): Sessions<Blob> {
  return createSessions<Blob>({ secrets: SECRET, clock: () => NOW, compress: false, cookie: { path }, ...options })
}

/** The Set-Cookie headers of a new session holding `blob`. */
function commitNew(sessions: Sessions<Blob>, blob: string): string[] {
  const session = sessions.read(undefined)
  session.set('blob', blob)
  return sessions.commit(session).setCookie
}

/** What a browser sends back after `headers`. */
function cookieHeader(headers: readonly string[]): string {
  const jar = new CookieJar(() => NOW)
  jar.apply(headers)
  return jar.header() as string
}

/** A path that makes the single Set-Cookie of `blob` exactly `target` bytes long. */
function pathFor(blob: string, target: number, options: Partial<SessionsOptions> = {}): string {
  const [header] = commitNew(manager('/', options), blob)
  const missing = target - (header as string).length
  expect(missing).toBeGreaterThan(0)
  return `/${'p'.repeat(missing)}`
}

const BLOB = 'x'.repeat(2_900)

describe.each<[string, Partial<SessionsOptions>]>([
  ['a browser-session cookie', {}],
  ['a persistent cookie (Max-Age)', { persistent: true, lifetime: 3600 }],
  // The longest Max-Age there is (400 days, 8 digits): the one the manager's quick size estimate
  // allows for, so a wrong estimate lets a 4097-byte header through.
  ['a persistent cookie with the longest Max-Age', { persistent: true, lifetime: 34_560_000 }],
])('one cookie up to 4096 bytes: %s', (_name, options) => {
  it('writes a session whose header is exactly 4096 bytes as one cookie, and reads it back', () => {
    const sessions = manager(pathFor(BLOB, MAX_COOKIE_BYTES, options), options)
    const headers = commitNew(sessions, BLOB)
    expect(headers).toHaveLength(1)
    expect((headers[0] as string).length).toBe(MAX_COOKIE_BYTES)
    expect(parseSetCookie(headers[0] as string).name).toBe('session')
    expect(sessions.read(cookieHeader(headers)).get('blob')).toBe(BLOB)
  })

  it('splits the same session into two chunks once its header would be 4097 bytes', () => {
    const sessions = manager(pathFor(BLOB, MAX_COOKIE_BYTES + 1, options), options)
    const headers = commitNew(sessions, BLOB)
    expect(headers.map((header) => parseSetCookie(header).name)).toEqual(['session.0', 'session.1'])
    for (const header of headers) expect(header.length).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
    expect(sessions.read(cookieHeader(headers)).get('blob')).toBe(BLOB)
  })

  it('with chunking off, writes the 4096-byte header and refuses the 4097-byte one', () => {
    const off = { ...options, chunking: false }
    expect(commitNew(manager(pathFor(BLOB, MAX_COOKIE_BYTES, off), off), BLOB)).toHaveLength(1)
    const over = manager(pathFor(BLOB, MAX_COOKIE_BYTES + 1, off), off)
    expect(() => commitNew(over, BLOB)).toThrow(CookieTooLarge)
    try {
      commitNew(over, BLOB)
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_SESSION_COOKIE_TOO_LARGE', size: MAX_COOKIE_BYTES + 1, limit: MAX_COOKIE_BYTES })
      expect((error as Error).message).toMatch(/exceeds 4096 bytes and chunking is off/)
    }
  })

  // Near the limit the manager measures the header exactly instead of estimating it; the cookie it
  // writes there must not be followed by a deletion of the same cookie (the browser applies
  // Set-Cookie headers in order, so the session would be lost).
  it.each([0, 1, 9, 17, 18, 40])('replaces the cookie it read with a header %i bytes under the limit, deleting nothing', (under) => {
    const sessions = manager(pathFor(BLOB, MAX_COOKIE_BYTES - under, options), options)
    const before = sessions.read(cookieHeader(commitNew(sessions, 'y'.repeat(BLOB.length))))
    expect(before.get('blob')).toBe('y'.repeat(BLOB.length))
    before.set('blob', BLOB)
    const headers = sessions.commit(before).setCookie
    expect(headers).toHaveLength(1)
    expect((headers[0] as string).length).toBe(MAX_COOKIE_BYTES - under)
    const cookie = parseSetCookie(headers[0] as string)
    expect([cookie.name, isDeletion(cookie, NOW)]).toEqual(['session', false])
    expect(sessions.read(cookieHeader(headers)).get('blob')).toBe(BLOB)
  })

  it.each([0, 9, 40])('near the limit (%i bytes under), still deletes chunks left over beside the cookie', (under) => {
    const sessions = manager(pathFor(BLOB, MAX_COOKIE_BYTES - under, options), options)
    const value = parseSetCookie(commitNew(sessions, 'y'.repeat(BLOB.length))[0] as string).value
    const before = sessions.read(`session.0=old; session=${value}; session.1=old`)
    before.set('blob', BLOB)
    const cookies = sessions.commit(before).setCookie.map(parseSetCookie)
    expect(cookies.map((cookie) => [cookie.name, isDeletion(cookie, NOW)])).toEqual([
      ['session', false],
      ['session.0', true],
      ['session.1', true],
    ])
  })
})

describe('chunks up to chunking.maxChunks', () => {
  /** The longest token slice a chunk header of this manager holds, and a session that needs `n` full chunks. */
  function capacity(sessions: Sessions<Blob>): number {
    // A chunk header is "session.N=" plus the slice plus the attributes; fill one and measure.
    const headers = commitNew(sessions, 'z'.repeat(6_000))
    const first = headers[0] as string
    expect(first.length).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
    return parseSetCookie(first).value.length
  }

  it.each([2, 3, 5, 10])('fills every one of %i chunks to the byte before refusing the session', (maxChunks) => {
    const sessions = createSessions<Blob>({ secrets: SECRET, clock: () => NOW, compress: false, chunking: { maxChunks } })
    const slice = capacity(sessions)
    // Every chunk but the last is full: its header is exactly 4096 bytes.
    const headers = commitNew(sessions, 'z'.repeat(6_000))
    expect((headers[0] as string).length).toBe(MAX_COOKIE_BYTES)
    // Grow the session until it no longer fits, then check the last one that did.
    let size = Math.floor((slice * maxChunks * 3) / 4) - 300
    let fitted: string[] = []
    for (;;) {
      const session = sessions.read(undefined)
      session.set('blob', 'z'.repeat(size))
      let written: string[]
      try {
        written = sessions.commit(session).setCookie
      } catch (error) {
        expect(error).toBeInstanceOf(CookieTooLarge)
        // The size is what the cookies would take: the token plus each chunk header's own bytes.
        const token = sessions.sign({ blob: 'z'.repeat(size) })
        expect(error).toMatchObject({ limit: maxChunks * MAX_COOKIE_BYTES, size: token.length + (maxChunks + 1) * (MAX_COOKIE_BYTES - slice) })
        expect((error as Error).message).toMatch(new RegExp(`needs ${maxChunks + 1} cookies; the limit is ${maxChunks} \\(option chunking\\.maxChunks\\)$`))
        break
      }
      fitted = written
      size++
    }
    expect(fitted).toHaveLength(maxChunks)
    expect(fitted.map((header) => parseSetCookie(header).name)).toEqual(Array.from({ length: maxChunks }, (_, i) => `session.${i}`))
    // The largest session that fits leaves less than one base64 quantum free in its last chunk.
    const total = fitted.reduce((sum, header) => sum + parseSetCookie(header).value.length, 0)
    expect(slice * maxChunks - total).toBeLessThan(4)
    for (const header of fitted) expect(header.length).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
    expect(sessions.read(cookieHeader(fitted)).get('blob')).toBe('z'.repeat(size - 1))
  })
})
