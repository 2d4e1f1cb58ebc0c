/**
 * Hostile input, generated: whatever arrives as a cookie value, a whole Cookie header or an edited
 * token, in every format (signed f1, encrypted e1, Flask), `read` gives a fresh empty session,
 * `verify` says `ok: false`, committing that session does not throw, and nothing hangs. Plus every
 * single-bit flip of real tokens, exhaustively.
 *
 * The oracle is deliberately small: a cookie value is accepted only when it is, character for
 * character, a token the server signed (after the Cookie header's own unwrapping: trimmed spaces,
 * unquoted, chunks joined). Everything else must be rejected.
 *
 * Run sizes are tuned so the file stays a few seconds on a 2-core machine while generating well
 * over 100,000 cases; the last test checks the total.
 */
import { Buffer } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { getCookie } from '../src/cookie/cookie.js'
import { decodeBase64url, encodeBase64url } from '../src/encoding.js'
import { SessionError } from '../src/errors.js'
import { createFlaskFormat } from '../src/flask/format.js'
import type { Session } from '../src/session.js'
import { createSessions, type Sessions, type SessionsOptions } from '../src/sessions.js'

const SECRET = 'frasco-hostile-secret-0123456789-abcdefghijklmn'
// Flask keys are whatever the Flask app has; short ones are accepted for the Flask format.
const FLASK_KEY = 'any key'
const NOW = Date.UTC(2030, 0, 1)
const NAME = 'session'

// Generous: a case that hangs fails here instead of stalling the run. No assertion on elapsed time.
const TIMEOUT = { timeout: 30_000 }

/** Runs per generated property and format; the totals are checked by the last test. */
const RUNS = {
  value: 8_000,
  header: 12_000,
  structuredHeader: 6_000,
  mutation: 10_000,
  chunks: 2_000,
}

let generated = 0
let exhaustive = 0
// Cases where the oracle expected the session to be read: proof that it is not vacuous.
let accepted = 0
let rejected = 0

type FormatName = 'signed' | 'encrypted' | 'flask'

interface Format {
  name: FormatName
  sessions: Sessions
  /** How many chunk cookies read() joins at most (1 when chunking is off, Flask's default). */
  maxChunks: number
  /** Valid tokens of this format and the data each one carries. */
  tokens: Map<string, Record<string, unknown>>
  /** A small token and a compressed one (f1's deflate flag, Flask's leading '.'). */
  small: string
  compressed: string
  /** Pieces of the small token, for headers that may reassemble it from chunk cookies. */
  pieces: string[]
}

const SMALL = { user: 'ada', n: 42, roles: ['admin', 'editor'] }
// Repetitive, so it compresses under every format's threshold (f1: 1 KiB; Flask: 64 bytes).
const LARGE = { user: 'ada', history: Array.from({ length: 120 }, (_, i) => `/page/${i % 7}`) }

function makeFormat(name: FormatName): Format {
  const options: SessionsOptions =
    name === 'flask'
      ? { secrets: FLASK_KEY, format: createFlaskFormat(), clock: () => NOW, chunking: false }
      : { secrets: SECRET, encrypt: name === 'encrypted', ...(name === 'encrypted' ? { compress: true } : {}), clock: () => NOW, lifetime: 3600, persistent: true, chunking: true }
  const sessions = createSessions(options)
  const small = sessions.sign(SMALL)
  const compressed = sessions.sign(LARGE)
  const cut1 = Math.floor(small.length / 3)
  const cut2 = Math.floor((2 * small.length) / 3)
  return {
    name,
    sessions,
    maxChunks: name === 'flask' ? 1 : 3,
    tokens: new Map<string, Record<string, unknown>>([
      [small, SMALL],
      [compressed, LARGE],
    ]),
    small,
    compressed,
    pieces: [small.slice(0, cut1), small.slice(cut1, cut2), small.slice(cut2)],
  }
}

const formats: Format[] = [makeFormat('signed'), makeFormat('encrypted'), makeFormat('flask')]

// The compressed tokens must really be compressed, or the mutations would miss that code path.
it('the sample tokens cover the compressed encodings', () => {
  const [signed, encrypted, flask] = formats as [Format, Format, Format]
  expect(signed.compressed.length).toBeLessThan(JSON.stringify(LARGE).length)
  expect(encrypted.compressed.length).toBeLessThan(JSON.stringify(LARGE).length)
  expect(flask.compressed.startsWith('.')).toBe(true)
})

// -------------------------------------------------------------------------------------------------
// The oracle
// -------------------------------------------------------------------------------------------------

/**
 * The value read() verifies for a header, as docs/guide.md describes it: the single cookie when
 * there is one, else the chunk cookies name.0, name.1, … joined (none beyond maxChunks).
 */
function assembled(header: string, maxChunks: number): string | undefined {
  const single = getCookie(header, NAME)
  if (single !== undefined) return single
  const parts: string[] = []
  for (let i = 0; i <= maxChunks; i++) {
    const part = getCookie(header, `${NAME}.${i}`)
    if (part === undefined) break
    parts.push(part)
  }
  if (parts.length === 0 || parts.length > maxChunks) return undefined
  return parts.join('')
}

// Object.prototype must come out of every case exactly as it went in.
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort()
afterEach(() => {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys)
})

function fail(message: string): never {
  throw new Error(message)
}

/** A fresh session: new, empty, and its commit (which must not throw) only deletes cookies. */
function expectFresh(format: Format, session: Session, what: string): void {
  if (!session.isNew) fail(`${format.name}: ${what} gave a session that is not new`)
  if (session.keys().length !== 0) fail(`${format.name}: ${what} gave a session with data`)
  const headers = format.sessions.commit(session).setCookie
  for (const header of headers) if (!/; Max-Age=0(;|$)/.test(header)) fail(`${format.name}: ${what} committed a cookie: ${header}`)
  const reason = format.sessions.invalidReason(session)
  if (reason === undefined) return
  if (!(reason instanceof SessionError)) fail(`${format.name}: ${what} gave a reason that is not a SessionError`)
  // The session that replaced a rejected cookie is a working one (sampled: signing is the costly part).
  if (++rejected % 8 !== 0) return
  session.set('probe', 1)
  if (!format.sessions.commit(session).setCookie.some((header) => header.startsWith(`${NAME}=`) || header.startsWith(`${NAME}.0=`))) {
    fail(`${format.name}: ${what}: a session written after a rejected cookie was not committed`)
  }
}

function expectValid(format: Format, session: Session, data: Record<string, unknown>, what: string): void {
  if (session.isNew) fail(`${format.name}: ${what} should have read the signed session, got a fresh one (${format.sessions.invalidReason(session)?.code})`)
  expect(session.toJSON()).toEqual(data)
  accepted++
}

/** Reads a whole Cookie header and checks the result against the oracle. */
function checkHeader(format: Format, header: string): void {
  const session = format.sessions.read(header)
  const value = assembled(header, format.maxChunks)
  const data = value === undefined ? undefined : format.tokens.get(value)
  if (data === undefined) expectFresh(format, session, `header ${JSON.stringify(header.slice(0, 200))}`)
  else expectValid(format, session, data, `header ${JSON.stringify(header.slice(0, 200))}`)
}

/** Checks a string as a token (verify) and as the session cookie's value (read, through the header). */
function checkValue(format: Format, value: string): void {
  const result = format.sessions.verify(value)
  const data = format.tokens.get(value)
  if (data === undefined) {
    if (result.ok) fail(`${format.name}: verify accepted ${JSON.stringify(value)}`)
    if (!(result.error instanceof SessionError)) fail(`${format.name}: verify gave a non-SessionError`)
  } else if (!result.ok) {
    fail(`${format.name}: verify rejected its own token (${result.error.code})`)
  }
  checkHeader(format, `${NAME}=${value}`)
}

// -------------------------------------------------------------------------------------------------
// Generators
// -------------------------------------------------------------------------------------------------

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
// Characters that mean something to a cookie header, a token or a decoder, plus non-ASCII ones.
const SPECIALS = ['.', '=', '+', '/', ' ', '\t', '"', ';', ',', '\\', '%', '\u0000', '\u007f', '\u00ff', '\u0100', 'é', '\ud800', '\udc00', '😀']
const tokenChar = fc.constantFrom(...BASE64URL.split(''), ...SPECIALS)

/** Strings of every kind: arbitrary code points, token-like alphabets, and dot-separated fields. */
function anyValue(format: Format): fc.Arbitrary<string> {
  const field = fc.string({ unit: fc.constantFrom(...BASE64URL.split('')), maxLength: 40 })
  const version = fc.constantFrom('f1', 'e1', 'f0', 'F1', '', '.', format.small.split('.')[0] as string)
  const kid = fc.constantFrom(format.small.split('.')[1] as string, 'AAAAAAAA', '', '________')
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: tokenChar, maxLength: 160 }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
    fc.tuple(version, kid, fc.array(field, { maxLength: 4 })).map(([v, k, rest]) => [v, k, ...rest].join('.')),
    // Flask-shaped: payload.timestamp.signature, with or without the compression dot.
    fc.tuple(fc.boolean(), field, field, field).map(([dot, a, b, c]) => `${dot ? '.' : ''}${a}.${b}.${c}`),
  )
}

/** Bytes as Node hands them over: a header is latin1, one character per byte. */
const latin1Bytes = fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString('latin1'))

/** Headers built from pieces that matter: cookie names, separators, real tokens and their pieces. */
function structuredHeader(format: Format): fc.Arbitrary<string> {
  const others = formats.filter((other) => other !== format).map((other) => other.small)
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(NAME, `${NAME}.0`, `${NAME}.1`, `${NAME}.2`, `${NAME}.3`, `${NAME}.10`, 'SESSION', '__proto__', 'other') },
    { weight: 6, arbitrary: fc.constantFrom('=', ';', '; ', ' ', '\t', '"', ',', '%', '\u0000', '\u00ff', '\r', '\n') },
    { weight: 4, arbitrary: fc.constantFrom(format.small, format.compressed, ...format.pieces, ...others) },
    { weight: 2, arbitrary: latin1Bytes.map((s) => s.slice(0, 12)) },
  )
  return fc.array(piece, { maxLength: 24 }).map((pieces) => pieces.join(''))
}

type Edit =
  | { kind: 'replace'; at: number; char: string }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'swapFields'; i: number; j: number }
  | { kind: 'dropField'; i: number }
  | { kind: 'duplicateField'; i: number }
  | { kind: 'duplicateSeparator'; i: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'swapCase'; at: number }
  | { kind: 'wrap'; before: string; after: string }

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: tokenChar }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: tokenChar, minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('swapFields' as const), i: fc.nat(4), j: fc.nat(4) }),
  fc.record({ kind: fc.constant('dropField' as const), i: fc.nat(4) }),
  fc.record({ kind: fc.constant('duplicateField' as const), i: fc.nat(4) }),
  fc.record({ kind: fc.constant('duplicateSeparator' as const), i: fc.nat(4) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swapCase' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('wrap' as const), before: fc.constantFrom('', ' ', '"', '.', '=', 'x'), after: fc.constantFrom('', ' ', '"', '.', '=', '==', 'A') }),
)

function applyEdit(token: string, e: Edit): string {
  const length = Math.max(token.length, 1)
  switch (e.kind) {
    case 'replace': {
      const at = e.at % length
      return token.slice(0, at) + e.char + token.slice(at + 1)
    }
    case 'insert': {
      const at = e.at % (token.length + 1)
      return token.slice(0, at) + e.text + token.slice(at)
    }
    case 'delete': {
      const at = e.at % length
      return token.slice(0, at) + token.slice(at + e.length)
    }
    case 'truncate':
      return token.slice(0, e.at % length)
    case 'swapCase': {
      const at = e.at % length
      const c = token.charAt(at)
      const swapped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()
      return token.slice(0, at) + swapped + token.slice(at + 1)
    }
    case 'wrap':
      return e.before + token + e.after
    default: {
      const fields = token.split('.')
      const i = e.i % fields.length
      if (e.kind === 'swapFields') {
        const j = e.j % fields.length
        ;[fields[i], fields[j]] = [fields[j] as string, fields[i] as string]
      } else if (e.kind === 'dropField') {
        fields.splice(i, 1)
      } else if (e.kind === 'duplicateField') {
        fields.splice(i, 0, fields[i] as string)
      } else {
        fields.splice(i, 0, '')
      }
      return fields.join('.')
    }
  }
}

// -------------------------------------------------------------------------------------------------
// Properties
// -------------------------------------------------------------------------------------------------

describe.each(formats)('$name format: generated hostile input', (format) => {
  it('any string as the cookie value: verify says ok: false, read gives a fresh session that commits', TIMEOUT, () => {
    fc.assert(fc.property(anyValue(format), (value) => {
          generated++
          checkValue(format, value)
        }), { numRuns: RUNS.value })
  })

  it('any bytes (latin1) as the whole Cookie header', TIMEOUT, () => {
    fc.assert(
      fc.property(latin1Bytes, (header) => {
        generated++
        checkHeader(format, header)
      }),
      { numRuns: RUNS.header },
    )
  })

  it('headers assembled from names, separators, tokens and token pieces', TIMEOUT, () => {
    fc.assert(
      fc.property(structuredHeader(format), (header) => {
        generated++
        checkHeader(format, header)
      }),
      { numRuns: RUNS.structuredHeader },
    )
  })

  it('any edit of a valid token (replace, insert, delete, swap fields, duplicate separators, …)', TIMEOUT, () => {
    const token = fc.constantFrom(format.small, format.compressed)
    fc.assert(
      fc.property(token, fc.array(edit, { minLength: 1, maxLength: 4 }), (original, edits) => {
        generated++
        checkValue(format, edits.reduce(applyEdit, original))
      }),
      { numRuns: RUNS.mutation },
    )
  })

  it('chunk cookies shuffled, dropped, duplicated and mixed between two sessions', TIMEOUT, () => {
    // Two real sessions too big for one cookie (3 chunks each under the default chunking).
    const chunked = createSessions(format.name === 'flask' ? { secrets: FLASK_KEY, format: createFlaskFormat(), clock: () => NOW, chunking: true } : { secrets: SECRET, encrypt: format.name === 'encrypted', clock: () => NOW, lifetime: 3600, persistent: true })
    const local: Format = { ...format, sessions: chunked, maxChunks: 3, tokens: new Map() }
    const pool: string[] = []
    for (let k = 0; k < 2; k++) {
      const session = chunked.read(undefined)
      const blob = randomBytes(6_000).toString('base64')
      session.set('blob', blob)
      const values = chunked.commit(session).setCookie.map((header) => header.slice(header.indexOf('=') + 1, header.indexOf(';')))
      expect(values).toHaveLength(3)
      local.tokens.set(values.join(''), { blob })
      pool.push(...values)
    }
    const pair = fc.tuple(fc.nat(4), fc.oneof(fc.constantFrom(...pool), fc.constant(''), fc.constant('garbage')), fc.boolean())
    fc.assert(
      fc.property(fc.array(pair, { minLength: 1, maxLength: 6 }), (pairs) => {
        generated++
        checkHeader(local, pairs.map(([index, value, quoted]) => `${NAME}.${index}=${quoted ? `"${value}"` : value}`).join('; '))
      }),
      { numRuns: RUNS.chunks },
    )
  })

  it('rejects every single-bit flip of the raw characters of valid tokens', TIMEOUT, () => {
    for (const token of [format.small, format.compressed]) {
      for (let at = 0; at < token.length; at++) {
        const code = token.charCodeAt(at)
        for (let bit = 0; bit < 8; bit++) {
          const flipped = token.slice(0, at) + String.fromCharCode(code ^ (1 << bit)) + token.slice(at + 1)
          exhaustive++
          checkValue(format, flipped)
        }
      }
    }
  })

  it('rejects every single-bit flip of the decoded bytes of each base64url field', TIMEOUT, () => {
    for (const token of [format.small, format.compressed]) {
      const fields = token.split('.')
      let flips = 0
      fields.forEach((field, index) => {
        const bytes = field === '' ? undefined : decodeBase64url(field)
        if (bytes === undefined) return // the version field ('f1'), or the empty one before Flask's '.'
        for (let at = 0; at < bytes.length; at++) {
          for (let bit = 0; bit < 8; bit++) {
            const copy = Buffer.from(bytes)
            copy[at] = (copy[at] as number) ^ (1 << bit)
            const parts = [...fields]
            parts[index] = encodeBase64url(copy)
            exhaustive++
            flips++
            checkValue(format, parts.join('.'))
          }
        }
      })
      // Every field but the version is base64url: most of the token's bits were flipped.
      expect(flips).toBeGreaterThan(token.length * 4)
    }
  })
})

it(`generated at least 100,000 cases in total`, () => {
  expect(generated).toBeGreaterThanOrEqual(100_000)
  expect(exhaustive).toBeGreaterThan(10_000)
  expect(accepted).toBeGreaterThan(100)
})

afterAll(() => {
  // For the record when run with --reporter=verbose or when tuning RUNS.
  if (process.env.FRASCO_HOSTILE_REPORT) console.log(`hostile: ${generated} generated cases (${accepted} read as valid), ${exhaustive} bit flips`)
})
