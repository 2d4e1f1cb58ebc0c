/**
 * The hostile-input corpus (test/corpus/cookie-values.json and cookie-headers.json), run through
 * every format twice: (a) `sessions.read` directly, and (b) a real node:http server wrapped in
 * `withSessions`, started once and driven over a raw socket so the header bytes arrive exactly as
 * built. Each case must end in a fresh session (or, where the entry says so, in its signed data
 * read as plain data), a 200, and an untouched Object.prototype, within a per-case time bound.
 *
 * The server runs with `maxHeaderSize: 2 MB` and `insecureHTTPParser: true`: otherwise Node itself
 * answers 431 to the 1 MB headers and 400 to control characters, and Frasco would never see them.
 */
import { Buffer } from 'node:buffer'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { getCookie } from '../src/cookie/cookie.js'
import { PayloadMalformed, type SessionErrorCode } from '../src/errors.js'
import { parse } from '../src/serializer.js'
import { createSessions } from '../src/sessions.js'
import { createSerializer } from '../src/signer.js'
import { withSessions } from '../src/adapters/node.js'
import type { Session } from '../src/session.js'
import {
  FORMAT_NAMES,
  PURPOSE,
  SECRET,
  buildHeaderLines,
  buildValue,
  createFormatContext,
  loadCorpus,
  outcomeFor,
  rawCookieRequest,
  type CorpusEntry,
  type FormatContext,
  type FormatName,
} from './helpers/corpus.js'
import { closeAllServers, isDeletion, parseSetCookie, startServer } from './helpers/server.js'

const NOW = Date.UTC(2030, 0, 1)
// Generous bound per case (the 1 MB and zip-bomb cases included): a hang fails the case instead of
// stalling the run. Nothing asserts on elapsed time.
const CASE = { timeout: 10_000 }

const contexts = Object.fromEntries(FORMAT_NAMES.map((name) => [name, createFormatContext(name, NOW)])) as Record<FormatName, FormatContext>
const values = loadCorpus('cookie-values.json')
const headers = loadCorpus('cookie-headers.json')

// Built once per entry and format (the read and HTTP halves share them; some take a while to make).
const built = new Map<string, string[]>()
function linesFor(entry: CorpusEntry, format: FormatName): string[] {
  const key = `${format}\u0000${entry.name}`
  let lines = built.get(key)
  if (lines === undefined) {
    lines = buildHeaderLines(entry, contexts[format])
    built.set(key, lines)
  }
  return lines
}

type Row = [label: string, entry: CorpusEntry, format: FormatName]
function rows(entries: CorpusEntry[], http: boolean): Row[] {
  return entries.flatMap((entry) =>
    (entry.formats ?? FORMAT_NAMES)
      .filter(() => !http || entry.http !== false)
      .map((format): Row => [`${format}: ${entry.name}`, entry, format]),
  )
}

// Codes that mean the MAC (or GCM tag) refused the token: a signed corpus entry must get past them.
const BEFORE_THE_MAC: ReadonlySet<SessionErrorCode> = new Set(['ERR_SESSION_SIGNATURE_INVALID', 'ERR_SESSION_UNKNOWN_KEY', 'ERR_SESSION_UNSUPPORTED_VERSION'])

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort()
function expectPrototypeIntact(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys)
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  expect(({} as Record<string, unknown>).admin).toBeUndefined()
}
afterEach(expectPrototypeIntact)

/** The Cookie header a browser sends after applying these Set-Cookie headers (to a jar that had nothing). */
function replay(setCookies: readonly string[]): string {
  return setCookies
    .map(parseSetCookie)
    .filter((cookie) => !isDeletion(cookie))
    .map((cookie) => `${cookie.name}=${cookie.value}`)
    .join('; ')
}

function checkSession(context: FormatContext, entry: CorpusEntry, session: Session): void {
  const { sessions } = context
  const outcome = outcomeFor(entry, context.name)
  if (outcome === 'fresh') {
    expect(session.isNew, `reason: ${sessions.invalidReason(session)?.code}`).toBe(true)
    expect(session.keys()).toEqual([])
    // An untouched fresh session only ever deletes cookies.
    for (const cookie of sessions.commit(session).setCookie.map(parseSetCookie)) expect(isDeletion(cookie)).toBe(true)
  } else {
    expect(session.isNew, `reason: ${sessions.invalidReason(session)?.code}`).toBe(false)
    expect(session.keys()).toEqual(entry.keys)
    const copy = session.toJSON()
    for (const key of entry.keys ?? []) {
      // Keys behave as data: listed, readable, own properties of the copy, never the prototype.
      expect(session.has(key)).toBe(true)
      expect(session.get(key)).toBe(copy[key])
      expect(Object.hasOwn(copy, key)).toBe(true)
    }
    // Data named like members does not replace them.
    expect(typeof session.get).toBe('function')
    expect(typeof session.keys).toBe('function')
    expect(typeof session.toJSON).toBe('function')
    expect(sessions.commit(session).setCookie.every((header) => !header.startsWith('session=;'))).toBe(true)
  }
  // Whatever came in, the session is usable: a write commits, and what it wrote reads back.
  session.set('visited', 1)
  const written = sessions.commit(session).setCookie
  const again = sessions.read(replay(written))
  expect(sessions.invalidReason(again)).toBeUndefined()
  // (Flask writes keys sorted, as Python's sort_keys; Frasco keeps their order.)
  expect(again.keys().sort()).toEqual([...(outcome === 'data' ? (entry.keys ?? []) : []), 'visited'].sort())
}

function checkRead(entry: CorpusEntry, format: FormatName): void {
  const context = contexts[format]
  const { sessions } = context
  const lines = linesFor(entry, format)
  // Node joins repeated Cookie lines with '; ' before anyone sees them.
  const session = sessions.read(lines.join('; '))
  checkSession(context, entry, session)
  const reason = sessions.invalidReason(session)
  if (entry.valueGenerator?.kind === 'signed' && outcomeFor(entry, format) === 'fresh') {
    // The entry was signed with the real secret: it must have been refused for its content.
    const code = reason?.code
    expect(code, 'a signed entry must be refused for its content').toBeDefined()
    expect(code !== undefined && BEFORE_THE_MAC.has(code), `refused by ${code}, before its payload was looked at`).toBe(false)
  }
  if (entry.value !== undefined || entry.valueGenerator !== undefined) {
    const value = buildValue(entry, context)
    // verify() sees the value itself, without the Cookie header's unwrapping.
    if (getCookie(`session=${value}`, 'session') === value) {
      expect(sessions.verify(value).ok).toBe(outcomeFor(entry, format) === 'data')
    } else {
      expect(sessions.verify(value).ok).toBe(false)
    }
  }
}

// -------------------------------------------------------------------------------------------------
// The server, started once
// -------------------------------------------------------------------------------------------------

let port = 0
const handlerErrors: unknown[] = []

beforeAll(async () => {
  const handlers = Object.fromEntries(
    FORMAT_NAMES.map((name) => {
      const { sessions } = contexts[name]
      const handler = withSessions(
        sessions,
        (req, res) => {
          const session = req.session
          const keys = session.keys()
          for (const key of keys) session.get(key)
          const reason = sessions.invalidReason(session)?.code ?? null
          // Make the response commit whatever was read: a value that cannot be written back is a 500.
          session.set('visited', 1)
          res.setHeader('Content-Type', 'application/json')
          res.end(JSON.stringify({ isNew: session.isNew, keys, reason }))
        },
        { onError: (error) => handlerErrors.push(error) },
      )
      return [name, handler]
    }),
  ) as Record<FormatName, ReturnType<typeof withSessions>>
  const server = await startServer(
    (req, res) => {
      const format = (req.url ?? '/').slice(1) as FormatName
      const handler = handlers[format]
      if (handler === undefined) {
        res.statusCode = 404
        res.end()
        return
      }
      handler(req, res)
    },
    { maxHeaderSize: 2 * 1024 * 1024, insecureHTTPParser: true },
  )
  port = server.port
})
afterAll(closeAllServers)

async function checkHttp(entry: CorpusEntry, format: FormatName): Promise<void> {
  const lines = linesFor(entry, format)
  const reply = await rawCookieRequest(port, `/${format}`, lines)
  expect(reply.status, `${reply.body.slice(0, 200)} ${handlerErrors.map(String).join('; ')}`).toBe(200)
  const body = JSON.parse(reply.body) as { isNew: boolean; keys: string[]; reason: string | null }
  const outcome = outcomeFor(entry, format)
  expect(body.isNew, `reason: ${body.reason}`).toBe(outcome === 'fresh')
  expect(body.keys).toEqual(outcome === 'fresh' ? [] : entry.keys)
  expect(handlerErrors).toEqual([])
}

// -------------------------------------------------------------------------------------------------
// The cases
// -------------------------------------------------------------------------------------------------

describe('the corpus itself', () => {
  it('has cases for every attack the issue lists', () => {
    expect(values.length).toBeGreaterThanOrEqual(50)
    expect(headers.length).toBeGreaterThanOrEqual(40)
  })

  it.each(FORMAT_NAMES)('%s: the corpus signer makes tokens the sessions accept', (format) => {
    const context = contexts[format]
    const token = context.signRaw(Buffer.from('{"user":"ada"}'), { kind: 'signed', payload: [] })
    expect(context.sessions.read(`session=${token}`).toJSON()).toEqual({ user: 'ada' })
  })

  it.each(FORMAT_NAMES)('%s: the chunk placeholders are the chunks of real sessions', (format) => {
    const { placeholders } = contexts[format]
    const joined = [0, 1, 2].map((i) => placeholders[`a.${i}`]).join('')
    const result = contexts[format].sessions.verify(joined)
    // Flask's manager reads one cookie (chunking off), so it refuses a token that long unread.
    if (format === 'flask') expect(result.ok || result.error.code).toBe('ERR_SESSION_PAYLOAD_TOO_LARGE')
    else expect(result.ok).toBe(true)
  })
})

describe('cookie values: sessions.read and verify', () => {
  it.each(rows(values, false))('%s', CASE, (_, entry, format) => checkRead(entry, format))
})

describe('cookie values: over HTTP (withSessions on node:http)', () => {
  it.each(rows(values, true))('%s', CASE, async (_, entry, format) => checkHttp(entry, format))
})

describe('Cookie headers: sessions.read', () => {
  it.each(rows(headers, false))('%s', CASE, (_, entry, format) => checkRead(entry, format))
})

describe('Cookie headers: over HTTP (withSessions on node:http)', () => {
  it.each(rows(headers, true))('%s', CASE, async (_, entry, format) => checkHttp(entry, format))
})

describe('regressions the corpus found', () => {
  it('parse refuses numbers beyond a double (JSON.parse makes them Infinity, which commit cannot write back)', () => {
    for (const text of ['{"n":1e400}', '[-1e400]', `{"n":${'9'.repeat(400)}}`, '{"m":{"$m":[[1,1e999]]}}', `{"pad":"${'x'.repeat(200)}","n":1E400}`]) {
      expect(() => parse(text), text.slice(0, 40)).toThrow(PayloadMalformed)
    }
    expect(parse('{"n":1e300,"m":-2.5E-300,"id":"1e400"}')).toEqual({ n: 1e300, m: -2.5e-300, id: '1e400' })
  })

  it('a session token without a signed expiry is held to the session lifetime from its issue time', () => {
    // commit always signs an expiry; createSerializer with the session purpose can mint one without.
    const serializer = createSerializer({ secrets: SECRET, purpose: PURPOSE })
    const sessions = createSessions({ secrets: SECRET, clock: () => NOW, lifetime: 3600 })
    const recent = serializer.sign({ user: 'ada' }, { now: NOW - 1_000_000 })
    expect(sessions.verify(recent).ok).toBe(true)
    const session = sessions.read(`session=${recent}`)
    expect(session.get('user')).toBe('ada')
    // Beyond the lifetime plus the 60 s clock tolerance: expired, in verify and read alike.
    const old = serializer.sign({ user: 'ada' }, { now: NOW - 3_661_000 })
    expect(sessions.verify(old)).toMatchObject({ ok: false, error: { code: 'ERR_SESSION_EXPIRED' } })
    expect(sessions.invalidReason(sessions.read(`session=${old}`))?.code).toBe('ERR_SESSION_EXPIRED')
  })
})
