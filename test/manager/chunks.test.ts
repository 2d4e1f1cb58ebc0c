/**
 * What a commit deletes of the chunk cookies a request brought (`name.0`, `name.1`, …): chunks
 * left over beside a single cookie, and chunks stranded behind a missing one, are deleted so they
 * cannot corrupt a later session; the names the manager can never write (past `maxChunks`, or past
 * `name.10` beside a single cookie) are a hostile header's, and the response does not grow with
 * them.
 */
import { describe, expect, it } from 'vitest'
import { createSessions } from '../../src/sessions.js'
import { isDeletion, parseSetCookie } from '../helpers/server.js'

const SECRET = 'frasco-test-secret-0123456789-abcdefghijklmnop'
const NOW = Date.UTC(2030, 0, 1)

/** `name=value` pairs of the chunks `indexes`. */
function chunks(indexes: readonly number[], name = 'session'): string {
  return indexes.map((i) => `${name}.${i}=left-over`).join('; ')
}

/** What a commit of `header`'s session writes: [cookie name, deleted?] in order. */
function written(setCookie: readonly string[]): [string, boolean][] {
  return setCookie.map(parseSetCookie).map((cookie) => [cookie.name, isDeletion(cookie, NOW)])
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

describe('chunks left over beside a single cookie', () => {
  const sessions = createSessions<{ a: number }>({ secrets: SECRET, clock: () => NOW })
  const value = sessions.sign({ a: 1 })

  it.each<[number, number]>([
    [1, 1],
    [3, 3],
    [10, 10],
    [11, 11],
    [12, 11],
    [50, 11],
  ])('with %i stray chunks, the commit deletes %i of them (name.0 to name.10 at most)', (strays, deleted) => {
    const session = sessions.read(`session=${value}; ${chunks(range(0, strays))}`)
    expect(session.get('a')).toBe(1)
    expect(written(sessions.commit(session).setCookie)).toEqual([['session', false], ...range(0, deleted).map((i): [string, boolean] => [`session.${i}`, true])])
  })

  it('deletes a stray name.0 written with a space before its = (a pair the cookie parser reads)', () => {
    const session = sessions.read(`session=${value}; session.0 =left-over`)
    expect(session.get('a')).toBe(1)
    expect(written(sessions.commit(session).setCookie)).toEqual([['session', false], ['session.0', true]])
  })

  it('asks for Vary: Cookie with what it writes, though nobody looked at the session', () => {
    const { setCookie, vary } = sessions.commit(sessions.read(`session=${value}; ${chunks([0])}`))
    expect([written(setCookie), vary]).toEqual([[['session', false], ['session.0', true]], 'Cookie'])
  })

  it('deletes them with the session when it is emptied', () => {
    const session = sessions.read(`session=${value}; ${chunks([0, 1])}`)
    session.clear()
    expect(written(sessions.commit(session).setCookie)).toEqual([
      ['session', true],
      ['session.0', true],
      ['session.1', true],
    ])
  })

  it('leaves chunks that do not start at name.0 alone (they were never this session\'s)', () => {
    const session = sessions.read(`session=${value}; ${chunks([1, 2])}`)
    expect(sessions.commit(session).setCookie).toEqual([])
  })
})

describe('chunks stranded behind a missing one', () => {
  it.each<[number, number[], number]>([
    // maxChunks, chunks present, how many of name.0… the commit deletes
    [3, [0, 2], 3],
    [3, [0, 1, 2], 3],
    [5, [0, 4], 5],
    [5, [0, 2, 4], 5],
    [5, [0, 3], 4],
    [3, [0, 3], 1],
    [5, [0, 5], 1],
  ])('with maxChunks %i and chunks %j, deletes name.0 to name.%i (exclusive)', (maxChunks, present, deleted) => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, chunking: { maxChunks } })
    const session = sessions.read(chunks(present))
    expect(session.isNew).toBe(true)
    expect(sessions.invalidReason(session)?.code).toBe('ERR_SESSION_MALFORMED')
    expect(written(sessions.commit(session).setCookie)).toEqual(range(0, deleted).map((i): [string, boolean] => [`session.${i}`, true]))
  })

  it('a new session written over stranded chunks replaces the first ones and deletes the rest', () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, chunking: { maxChunks: 5 } })
    const session = sessions.read(chunks([0, 4]))
    session.set('user', 'ada')
    expect(written(sessions.commit(session).setCookie)).toEqual([
      ['session', false],
      ...range(0, 5).map((i): [string, boolean] => [`session.${i}`, true]),
    ])
  })
})

describe('more chunks than maxChunks', () => {
  it.each<[number, number[], number]>([
    // maxChunks, chunks present, how many the commit deletes
    [1, [0, 1], 2],
    [3, [0, 1, 2, 3], 4],
    [3, [0, 1, 2, 3, 4, 5], 6],
    [3, [0, 1, 2, 3, 5], 4],
    [3, range(0, 12), 11],
    [10, range(0, 11), 11],
    [10, range(0, 15), 11],
  ])('with maxChunks %i and chunks %j: PayloadTooLarge, and the commit deletes %i', (maxChunks, present, deleted) => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, chunking: maxChunks === 1 ? false : { maxChunks } })
    const session = sessions.read(chunks(present))
    expect(session.isNew).toBe(true)
    expect(sessions.invalidReason(session)).toMatchObject({ code: 'ERR_SESSION_PAYLOAD_TOO_LARGE', limit: maxChunks * 4096 })
    // The size is that of the chunks read, joined: maxChunks + 1 of them, each "left-over".
    expect(sessions.invalidReason(session)).toMatchObject({ size: 'left-over'.length * (maxChunks + 1), message: 'session arrived in more chunks than allowed' })
    expect(written(sessions.commit(session).setCookie)).toEqual(range(0, deleted).map((i): [string, boolean] => [`session.${i}`, true]))
  })

  it('exactly maxChunks chunks are read, not refused', () => {
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, chunking: { maxChunks: 4 } })
    const value = sessions.sign({ a: 1 })
    const size = Math.ceil(value.length / 4)
    const header = range(0, 4)
      .map((i) => `session.${i}=${value.slice(i * size, (i + 1) * size)}`)
      .join('; ')
    expect(sessions.read(header).get('a')).toBe(1)
  })
})
