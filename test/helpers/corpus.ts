/**
 * The hostile-input corpus (test/corpus/*.json): its schema, the generators that build the large
 * or signed entries at test time, and a raw HTTP/1.1 client that sends header bytes as they are.
 *
 * Entries are data so that anyone can add a case without reading the test; generators keep the
 * repository small (a 1 MB header is `{"kind": "repeat", …}`, not a megabyte of JSON) and make the
 * signed entries with the test's own secret, so they are validly signed and reach the decoder.
 */
import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { deflateRawSync, deflateSync } from 'node:zlib'
import { encodeBase64url } from '../../src/encoding.js'
import { createFlaskFormat } from '../../src/flask/format.js'
import { createItsdangerousSigner } from '../../src/flask/itsdangerous.js'
import { createKeyring } from '../../src/keyring.js'
import { SealedCore } from '../../src/lib/seal.js'
import { FLAG_DEFLATE, FLAG_OBJECT, TokenCore } from '../../src/lib/token.js'
import { createSessions, type Sessions, type SessionsOptions } from '../../src/sessions.js'
import { decodeChunked } from './server.js'

export type FormatName = 'signed' | 'encrypted' | 'flask'
export const FORMAT_NAMES: readonly FormatName[] = ['signed', 'encrypted', 'flask']

/** What a case must end in: a fresh empty session, or the signed data read as plain data. */
export type Outcome = 'fresh' | 'data'

/** A payload as bytes: the parts are concatenated. */
export type PayloadPart = { text: string } | { repeat: string; count: number } | { hex: string }

/** A time in seconds: absolute, or relative to the test clock. */
export type TimeSpec = { at: number } | { offset: number }

export type ValueGenerator =
  /** `prefix` + `item` × `count` (each `{{i}}` in item replaced by the index) joined by `separator`, + `suffix`. */
  | { kind: 'repeat'; item: string; count: number; separator?: string; prefix?: string; suffix?: string }
  /** A token of the format, validly signed (or sealed) with the test secret, around these exact payload bytes. */
  | {
      kind: 'signed'
      payload: PayloadPart[]
      /**
       * f1/e1: raw DEFLATE and the deflate flag; Flask: zlib and the leading '.'. `'mark-only'`
       * sets the flag (or the '.') on the payload as it is.
       */
      compress?: boolean | 'mark-only'
      /** Default: now. */
      issuedAt?: TimeSpec
      /** f1/e1 only. Default: an hour from now; `null` for a token without expiry. */
      expiresAt?: TimeSpec | null
      /** Flask only: the timestamp field's bytes (hex), written instead of `issuedAt`, or its raw text. */
      flaskTimestamp?: { hex: string } | { text: string }
    }
  /** `of` (placeholders filled) with every character, or only the given ones, percent-encoded. */
  | { kind: 'percentEncode'; of: string; only?: string }

export type HeaderGenerator = Extract<ValueGenerator, { kind: 'repeat' }>

export interface CorpusEntry {
  /** Unique within its file; the test's name. */
  name: string
  /** What the case attacks and why it must come out as it does. */
  why: string
  /** Cookie values (cookie-values.json): sent as `session=<value>`, and given to `verify`. */
  value?: string
  valueGenerator?: ValueGenerator
  /** Whole headers (cookie-headers.json): one Cookie header, or several lines (Node joins them with '; '). */
  header?: string
  headers?: string[]
  headerGenerator?: HeaderGenerator
  /** Default `'fresh'`; a map gives the outcome per format (`default` for the rest). */
  expect?: Outcome | Partial<Record<FormatName | 'default', Outcome>>
  /** For `'data'`: the session keys expected, in order. */
  keys?: string[]
  /** The formats the case applies to. Default: all. */
  formats?: FormatName[]
  /** `false` when the case cannot travel over HTTP/1.1 as written (say why in `why`). */
  http?: boolean
}

export function loadCorpus(file: string): CorpusEntry[] {
  const entries = JSON.parse(readFileSync(new URL(`../corpus/${file}`, import.meta.url), 'utf8')) as CorpusEntry[]
  const names = new Set<string>()
  for (const entry of entries) {
    if (typeof entry.name !== 'string' || typeof entry.why !== 'string' || entry.why.length < 10) {
      throw new Error(`corpus ${file}: every entry needs a name and a why (${JSON.stringify(entry).slice(0, 80)})`)
    }
    if (names.has(entry.name)) throw new Error(`corpus ${file}: duplicate name ${entry.name}`)
    names.add(entry.name)
    const sources = [entry.value, entry.valueGenerator, entry.header, entry.headers, entry.headerGenerator].filter((s) => s !== undefined)
    if (sources.length !== 1) throw new Error(`corpus ${file}: ${entry.name} needs exactly one of value, valueGenerator, header, headers, headerGenerator`)
  }
  return entries
}

export function outcomeFor(entry: CorpusEntry, format: FormatName): Outcome {
  const expect = entry.expect ?? 'fresh'
  if (typeof expect === 'string') return expect
  return expect[format] ?? expect.default ?? 'fresh'
}

// -------------------------------------------------------------------------------------------------
// The formats under test, and what generators need from them
// -------------------------------------------------------------------------------------------------

export const SECRET = 'frasco-corpus-secret-0123456789-abcdefghijklmn'
export const FLASK_KEY = 'any key'
export const PURPOSE = 'session:session'

export interface FormatContext {
  name: FormatName
  sessions: Sessions
  /** The test clock, in seconds. */
  now: number
  /** Filled into `{{…}}` in values and headers. */
  placeholders: Record<string, string>
  /** A token of this format around these payload bytes, validly signed with the test secret. */
  signRaw(payload: Uint8Array, generator: Extract<ValueGenerator, { kind: 'signed' }>): string
}

/** Each format with its defaults (the way an app would create it), on a fixed clock. */
export function sessionsOptions(name: FormatName, nowMs: number, extra: Partial<SessionsOptions> = {}): SessionsOptions {
  return name === 'flask'
    ? { secrets: FLASK_KEY, format: createFlaskFormat(), clock: () => nowMs, ...extra }
    : // Compression opted in for the encrypted format, so compressed e1 cookies are written and read here too.
      { secrets: SECRET, encrypt: name === 'encrypted', ...(name === 'encrypted' ? { compress: true } : {}), lifetime: 3600, persistent: true, clock: () => nowMs, ...extra }
}

function resolveTime(spec: TimeSpec | undefined, now: number, fallback: number): number {
  if (spec === undefined) return fallback
  return 'at' in spec ? spec.at : now + spec.offset
}

/** Two sessions too big for one cookie, as the chunks a browser would store (`a.0`…, `b.0`…). */
function chunkValues(name: FormatName, nowMs: number, seed: string): string[] {
  // A chunking twin of the format's manager: same secret and cookie name, so the chunks are real.
  const twin = createSessions(sessionsOptions(name, nowMs, { chunking: true, compress: false }))
  const session = twin.read(undefined)
  // 7,000 characters: three chunks in every format (compression is off); deterministic, so a
  // failure reproduces.
  session.set('blob', Array.from({ length: 1_500 }, (_, i) => `${seed}${(i * 7919) % 10007}`).join('').slice(0, 7_000))
  const values = twin.commit(session).setCookie.map((header) => header.slice(header.indexOf('=') + 1, header.indexOf(';')))
  if (values.length !== 3) throw new Error(`expected 3 chunks, got ${values.length}`)
  return values
}

export function createFormatContext(name: FormatName, nowMs: number): FormatContext {
  const now = Math.floor(nowMs / 1000)
  const sessions = createSessions(sessionsOptions(name, nowMs))
  const otherName = createSessions(sessionsOptions(name, nowMs, { cookie: { name: 'other' } }))
  const otherFormat = createSessions(sessionsOptions(name === 'signed' ? 'encrypted' : 'signed', nowMs))
  const a = chunkValues(name, nowMs, 'a')
  const b = chunkValues(name, nowMs, 'b')
  const placeholders: Record<string, string> = {
    token: sessions.sign({ user: 'ada' }),
    otherName: otherName.sign({ user: 'ada' }),
    otherFormat: otherFormat.sign({ user: 'ada' }),
  }
  a.forEach((value, i) => (placeholders[`a.${i}`] = value))
  b.forEach((value, i) => (placeholders[`b.${i}`] = value))

  let signRaw: FormatContext['signRaw']
  if (name === 'flask') {
    // Flask's cookie is TimestampSigner('cookie-session', hmac, sha1) over "payload.timestamp": an
    // untimed signer over the same text makes the same signature, with any timestamp field we like.
    const signer = createItsdangerousSigner({ secrets: FLASK_KEY, salt: 'cookie-session', digest: 'sha1', keyDerivation: 'hmac' })
    signRaw = (payload, generator) => {
      const { compress } = generator
      const field = compress === undefined || compress === false ? encodeBase64url(payload) : `.${encodeBase64url(compress === true ? deflateSync(payload) : payload)}`
      const stamp = generator.flaskTimestamp
      let timestamp: string
      if (stamp === undefined) timestamp = encodeTimestamp(resolveTime(generator.issuedAt, now, now))
      else if ('hex' in stamp) timestamp = encodeBase64url(Buffer.from(stamp.hex, 'hex'))
      else timestamp = stamp.text
      return signer.sign(`${field}.${timestamp}`)
    }
  } else {
    const keyring = createKeyring(SECRET)
    const options = { purpose: PURPOSE, clockTolerance: 60, maxTokenLength: 1 << 24 }
    const core = name === 'encrypted' ? new SealedCore(keyring, options) : new TokenCore(keyring, options)
    signRaw = (payload, generator) => {
      const { compress } = generator
      const issuedAt = resolveTime(generator.issuedAt, now, now)
      const expiresAt = generator.expiresAt === null ? undefined : resolveTime(generator.expiresAt, now, now + 3600)
      const flags = FLAG_OBJECT | (compress === undefined || compress === false ? 0 : FLAG_DEFLATE)
      return core.seal(flags, issuedAt, expiresAt, compress === true ? deflateRawSync(payload) : payload)
    }
  }
  return { name, sessions, now, placeholders, signRaw }
}

/** itsdangerous's int_to_bytes: big-endian without leading zero bytes, base64url. */
function encodeTimestamp(seconds: number): string {
  const bytes: number[] = []
  for (let rest = seconds; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
  return encodeBase64url(Uint8Array.from(bytes))
}

// -------------------------------------------------------------------------------------------------
// Building values and headers
// -------------------------------------------------------------------------------------------------

export function fill(text: string, context: FormatContext): string {
  return text.replace(/\{\{([\w.]+)\}\}/g, (match, key: string) => {
    const value = context.placeholders[key]
    if (value === undefined) throw new Error(`unknown corpus placeholder ${match}`)
    return value
  })
}

function payloadBytes(parts: PayloadPart[]): Buffer {
  return Buffer.concat(
    parts.map((part) => {
      if ('text' in part) return Buffer.from(part.text, 'utf8')
      if ('hex' in part) return Buffer.from(part.hex.replace(/\s+/g, ''), 'hex')
      return Buffer.from(part.repeat.repeat(part.count), 'utf8')
    }),
  )
}

function generate(generator: ValueGenerator, context: FormatContext): string {
  switch (generator.kind) {
    case 'repeat': {
      const { item, count, separator = '', prefix = '', suffix = '' } = generator
      let body: string
      if (item.includes('{{i}}')) body = Array.from({ length: count }, (_, i) => item.replaceAll('{{i}}', String(i))).join(separator)
      else body = separator === '' ? item.repeat(count) : new Array<string>(count).fill(item).join(separator)
      return fill(prefix, context) + fill(body, context) + fill(suffix, context)
    }
    case 'signed':
      return context.signRaw(payloadBytes(generator.payload), generator)
    case 'percentEncode': {
      const text = fill(generator.of, context)
      const only = generator.only
      return Array.from(text, (c) => (only === undefined || only.includes(c) ? percent(c) : c)).join('')
    }
  }
}

function percent(c: string): string {
  return Array.from(Buffer.from(c, 'utf8'), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('')
}

/** The cookie value of a value entry. */
export function buildValue(entry: CorpusEntry, context: FormatContext): string {
  if (entry.value !== undefined) return fill(entry.value, context)
  if (entry.valueGenerator !== undefined) return generate(entry.valueGenerator, context)
  throw new Error(`${entry.name} is not a value entry`)
}

/** The Cookie header lines of an entry (a value entry becomes `session=<value>`). */
export function buildHeaderLines(entry: CorpusEntry, context: FormatContext): string[] {
  if (entry.header !== undefined) return [fill(entry.header, context)]
  if (entry.headers !== undefined) return entry.headers.map((line) => fill(line, context))
  if (entry.headerGenerator !== undefined) return [generate(entry.headerGenerator, context)]
  return [`session=${buildValue(entry, context)}`]
}

// -------------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client: the header bytes go out exactly as built
// -------------------------------------------------------------------------------------------------

export interface RawReply {
  status: number
  body: string
}

/**
 * One GET with the given Cookie header lines. Characters up to U+00FF are sent as single bytes
 * (latin1, how Node reads them back); a line with anything above goes out as UTF-8, as a browser
 * would send it, and Node reads those bytes back as latin1.
 */
export async function rawCookieRequest(port: number, path: string, cookieLines: readonly string[]): Promise<RawReply> {
  const head = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`, 'latin1')
  const lines = cookieLines.map((line) => {
    const text = `Cookie: ${line}\r\n`
    return Buffer.from(text, /[^\u0000-\u00ff]/.test(text) ? 'utf8' : 'latin1')
  })
  const socket = connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  const closed = new Promise<void>((resolve, reject) => {
    socket.on('close', () => resolve())
    socket.on('error', reject)
  })
  socket.end(Buffer.concat([head, ...lines, Buffer.from('\r\n', 'latin1')]))
  await closed
  const data = Buffer.concat(chunks)
  const split = data.indexOf('\r\n\r\n')
  const statusLine = data.subarray(0, data.indexOf('\r\n')).toString('latin1')
  const headers = data.subarray(0, split).toString('latin1').toLowerCase()
  let body: Buffer = data.subarray(split + 4)
  if (/\r\ntransfer-encoding: chunked/.test(headers)) body = decodeChunked(body)
  return { status: Number(statusLine.split(' ')[1]), body: body.toString('utf8') }
}

