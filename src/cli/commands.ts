/**
 * `frasco sign` and `frasco verify`, for Frasco tokens and for Flask session cookies.
 *
 * @internal
 */
import { createFlaskCodec, FLASK_DEFAULT_LIFETIME } from '../flask/codec.js'
import { decodeFlaskJson, encodeFlaskJson } from '../flask/json.js'
import type { VerifyResult } from '../lib/result.js'
import { DEFAULT_CLOCK_TOLERANCE } from '../lib/token.js'
import { parse, stringify } from '../serializer.js'
import { SessionError } from '../errors.js'
import { createSerializer } from '../signer.js'
import { explain, formatMismatch, type ReadFlags } from './hints.js'
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
 * Verifies a token read from stdin and prints its value. A token of another format than the flags
 * read is refused before any secret is loaded, with the flag to add.
 */
export async function verify(options: CommandOptions, io: CliIo): Promise<number> {
  const token = await readToken(io, 'verify')
  const mismatch = formatMismatch(detectFormat(token), options)
  if (mismatch !== undefined) {
    io.stderr(`frasco verify: invalid token: ${mismatch.code}: ${mismatch.message}\n`)
    return 1
  }
  return options.format === 'flask' ? verifyFlask(token, options, io) : verifyFrasco(token, options, io)
}

/** Verifies a Frasco token and prints its value as tagged JSON. */
function verifyFrasco(token: string, options: CommandOptions, io: CliIo): number {
  const keyring = loadSecrets(options.secretsFile, io.env)
  const { maxAge, clockTolerance } = options
  const serializer = createSerializer({
    secrets: keyring,
    purpose: options.purpose,
    encrypt: options.encrypt,
    ...(clockTolerance === undefined ? {} : { clockTolerance }),
  })
  return print(serializer.verify(token, maxAge === undefined ? {} : { maxAge }), stringify, options, io)
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

/** Verifies a Flask session cookie and prints it as Flask's tagged JSON. */
function verifyFlask(token: string, options: CommandOptions, io: CliIo): number {
  const secrets = loadFlaskSecrets(options.secretsFile, io)
  // Without --max-age, the codec's lifetime: Flask's default PERMANENT_SESSION_LIFETIME.
  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE
  const codec = createFlaskCodec({ secrets, lifetime: FLASK_DEFAULT_LIFETIME, clockTolerance })
  const { maxAge } = options
  return print(codec.verify(token, maxAge === undefined ? {} : { maxAge }), encodeFlaskJson, options, io)
}

function print<T>(result: VerifyResult<T>, write: (value: T) => string, flags: ReadFlags, io: CliIo): number {
  if (!result.ok) {
    io.stderr(`frasco verify: invalid token: ${result.error.code}: ${explain(result.error, flags)}\n`)
    return 1
  }
  io.stdout(`${write(result.value)}\n`)
  return 0
}
