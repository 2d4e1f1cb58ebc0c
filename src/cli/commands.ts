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
import { readInput, UsageError, type CliIo } from './io.js'
import { loadFlaskSecrets, loadSecrets } from './secrets.js'

/** The options of sign and verify, checked: lifetimes in seconds, at most 400 days. */
export interface CommandOptions {
  secretsFile: string | undefined
  purpose: string
  encrypt: boolean
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

/** Verifies a Frasco token read from stdin and prints its value as tagged JSON. */
export async function verifyFrasco(options: CommandOptions, io: CliIo): Promise<number> {
  const keyring = loadSecrets(options.secretsFile, io.env)
  const input = await readInput(io)
  const { maxAge } = options
  const serializer = createSerializer({ secrets: keyring, purpose: options.purpose, encrypt: options.encrypt })
  return print(serializer.verify(input, maxAge === undefined ? {} : { maxAge }), stringify, io)
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

/** Verifies a Flask session cookie read from stdin and prints it as Flask's tagged JSON. */
export async function verifyFlask(options: CommandOptions, io: CliIo): Promise<number> {
  const secrets = loadFlaskSecrets(options.secretsFile, io)
  const input = await readInput(io)
  // Without --max-age, the codec's lifetime: Flask's default PERMANENT_SESSION_LIFETIME.
  const codec = createFlaskCodec({ secrets, lifetime: FLASK_DEFAULT_LIFETIME, clockTolerance: DEFAULT_CLOCK_TOLERANCE })
  const { maxAge } = options
  return print(codec.verify(input, maxAge === undefined ? {} : { maxAge }), encodeFlaskJson, io)
}

function print<T>(result: VerifyResult<T>, write: (value: T) => string, io: CliIo): number {
  if (!result.ok) {
    io.stderr(`invalid token: ${result.error.code}: ${result.error.message}\n`)
    return 1
  }
  io.stdout(`${write(result.value)}\n`)
  return 0
}
