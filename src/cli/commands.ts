/**
 * `frasco sign` and `frasco verify`, for Frasco tokens and for Flask session cookies.
 *
 * @internal
 */
import { createFlaskCodec, FLASK_DEFAULT_LIFETIME } from '../flask/codec.js'
import { decodeFlaskJson, encodeFlaskJson } from '../flask/json.js'
import type { VerifyResult } from '../lib/result.js'
import { DEFAULT_CLOCK_TOLERANCE, FLAG_OBJECT, peekToken } from '../lib/token.js'
import { decodeUtf8 } from '../encoding.js'
import { parse, stringify } from '../serializer.js'
import { SessionError } from '../errors.js'
import { createSerializer, createSigner } from '../signer.js'
import { explain, formatMismatch, NO_TOKEN_HINT, type ReadFlags } from './hints.js'
import { detectFormat } from './inspect.js'
import { readInput, readToken, UsageError, type CliIo } from './io.js'
import { loadFlaskSecrets, loadSecrets } from './secrets.js'

/** The options of sign and verify, checked: lifetimes in seconds, at most 400 days. */
export interface CommandOptions extends ReadFlags {
  secretsFile: string | undefined
  /** sign: seconds until the token expires. */
  expiresIn: number | undefined
  /** verify: the oldest token accepted, in seconds. */
  maxAge: number | undefined
  /** Whether --purpose was given (else `purpose` is the default, or the pasted cookie's). */
  purposeGiven: boolean
}

/** Signs a JSON object (Frasco's tagged values allowed) read from stdin. */
export async function signFrasco(options: CommandOptions, io: CliIo): Promise<number> {
  const keyring = loadSecrets(options.secretsFile, io.env)
  const input = await readInput(io)
  let value: unknown
  try {
    value = parse(input)
  } catch {
    throw new UsageError('stdin must be a JSON object (tagged values like {"$d":"…"} are allowed)')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('stdin must be a JSON object')
  }
  const serializer = createSerializer({ secrets: keyring, purpose: options.purpose, encrypt: options.encrypt })
  const { expiresIn } = options
  io.stdout(`${fromInput(() => serializer.sign(value, expiresIn === undefined ? {} : { expiresIn }))}\n`)
  return 0
}

/**
 * Runs a signer on the input, turning what the input caused into a usage error: a value that
 * cannot be stored (TypeError), or one larger than any reader accepts (PayloadTooLarge, or the
 * itsdangerous serializer's RangeError).
 */
function fromInput(sign: () => string): string {
  try {
    return sign()
  } catch (error) {
    if (error instanceof SessionError || error instanceof TypeError || error instanceof RangeError) throw new UsageError(error.message)
    throw error
  }
}

/**
 * Verifies a token read from stdin (bare, or in a pasted cookie) and prints its value. A token of
 * another format than the flags read is refused before any secret is loaded, with the flag to add.
 */
export async function verify(given: CommandOptions, io: CliIo): Promise<number> {
  const { token, cookieName } = await readToken(io, 'verify')
  const options = withCookiePurpose(given, cookieName)
  const seen = detectFormat(token)
  const mismatch = formatMismatch(seen, options)
  if (mismatch !== undefined) {
    io.stderr(`frasco verify: invalid token: ${mismatch.code}: ${mismatch.message}\n`)
    return 1
  }
  const result = options.format === 'flask' ? verifyFlask(token, options, io) : verifyFrasco(token, options, io)
  if (!result.ok) {
    const hint = seen === 'unknown' ? ` (${NO_TOKEN_HINT})` : ''
    io.stderr(`frasco verify: invalid token: ${result.error.code}: ${explain(result.error, options)}${hint}\n`)
    return 1
  }
  io.stdout(`${result.text}\n`)
  return 0
}

/** A verified token's value as printed, or why it did not verify. */
type Printed = { ok: true; text: string } | { ok: false; error: SessionError }

/**
 * A session cookie pasted with its name (`sid=f1.…`) and no --purpose is read with the purpose
 * createSessions gives a cookie of that name, `session:<name>`, as the default `session:session`
 * is the one of the cookie named `session`. Flask cookies have no purpose.
 */
function withCookiePurpose(options: CommandOptions, cookieName: string | undefined): CommandOptions {
  if (cookieName === undefined || options.purposeGiven || options.format === 'flask') return options
  return { ...options, purpose: `session:${cookieName}`, cookieName }
}

/**
 * Verifies a Frasco token and renders its value: an object (createSerializer, createSessions) as
 * tagged JSON; the value of a createSigner token as a JSON string, or, when it is not UTF-8 text,
 * as tagged bytes `{"$b":"<base64url>"}`.
 */
function verifyFrasco(token: string, options: CommandOptions, io: CliIo): Printed {
  const keyring = loadSecrets(options.secretsFile, io.env)
  const { maxAge, clockTolerance } = options
  const factory = {
    secrets: keyring,
    purpose: options.purpose,
    ...(clockTolerance === undefined ? {} : { clockTolerance }),
  }
  const verifyOptions = maxAge === undefined ? {} : { maxAge }
  if (!options.encrypt && holdsStringOrBytes(token)) {
    return printed(createSigner(factory).verify(token, { ...verifyOptions, encoding: 'bytes' }), signedValue)
  }
  return printed(createSerializer({ ...factory, encrypt: options.encrypt }).verify(token, verifyOptions), stringify)
}

/**
 * Whether an f1 token says it holds a string or bytes (createSigner) rather than an object. Read
 * before verifying, only to choose the verifier: the flags are inside the MAC, so a token that
 * lies about them fails either verifier.
 */
function holdsStringOrBytes(token: string): boolean {
  const peeked = peekToken(token)
  return peeked !== undefined && (peeked.flags & FLAG_OBJECT) === 0
}

// createSigner signs strings as UTF-8 and bytes as they are; the token does not say which it was.
function signedValue(bytes: Uint8Array): string {
  const text = decodeUtf8(bytes)
  return text === undefined ? stringify(bytes) : JSON.stringify(text)
}

/** Signs a Flask session, read from stdin as Flask's tagged JSON. */
export async function signFlask(options: CommandOptions, io: CliIo): Promise<number> {
  const secrets = loadFlaskSecrets(options.secretsFile, io)
  const input = await readInput(io)
  let value: unknown
  try {
    value = decodeFlaskJson(input)
  } catch {
    throw new UsageError('stdin must be a JSON object in Flask\'s tagged JSON (tuples as {" t": [...]}, bytes as {" b": "<base64>"}, …)')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== null) {
    throw new UsageError('stdin must be a JSON object: a Flask session is a dict')
  }
  const codec = createFlaskCodec({ secrets })
  io.stdout(`${fromInput(() => codec.sign(value as Record<string, unknown>))}\n`)
  return 0
}

/** Verifies a Flask session cookie and renders it as Flask's tagged JSON. */
function verifyFlask(token: string, options: CommandOptions, io: CliIo): Printed {
  const secrets = loadFlaskSecrets(options.secretsFile, io)
  // Without --max-age, the codec's lifetime: Flask's default PERMANENT_SESSION_LIFETIME.
  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE
  const codec = createFlaskCodec({ secrets, lifetime: FLASK_DEFAULT_LIFETIME, clockTolerance })
  const { maxAge } = options
  return printed(codec.verify(token, maxAge === undefined ? {} : { maxAge }), encodeFlaskJson)
}

function printed<T>(result: VerifyResult<T>, write: (value: T) => string): Printed {
  return result.ok ? { ok: true, text: write(result.value) } : result
}
