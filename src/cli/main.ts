/**
 * The `frasco` command line: keygen, sign, verify, inspect. Secrets come from the environment
 * (`FRASCO_SECRETS`) or a file (`--secrets-file`), never from argv, where `ps` and shell history
 * would show them.
 *
 * @internal
 */
import { Buffer } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { inflateSync } from 'node:zlib'
import { decodeBase64url, decodeUtf8 } from '../encoding.js'
import { SessionError } from '../errors.js'
import { FLASK_DEFAULT_LIFETIME, createFlaskCodec } from '../flask/codec.js'
import { decodeFlaskJson, encodeFlaskJson } from '../flask/json.js'
import { createKeyring, type Keyring } from '../keyring.js'
import { DEFAULT_MAX_PAYLOAD_BYTES, decodePayload, parse, stringify } from '../serializer.js'
import { createSerializer } from '../signer.js'
import { DEFAULT_CLOCK_TOLERANCE, FLAG_DEFLATE, FLAG_EXPIRES, FLAG_OBJECT, peekToken } from '../lib/token.js'

/** Where the CLI reads and writes; injected so tests run it in-process. */
export interface CliIo {
  stdin: () => Promise<string>
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
}

/** The purpose `createSessions` uses for its default cookie name, so `frasco verify` reads session cookies. */
export const DEFAULT_CLI_PURPOSE = 'session:session'

const MAX_STDIN = 1024 * 1024

/**
 * Flask keys shorter than this get a warning (never a refusal: the CLI must read the cookies an
 * existing Flask app writes). One cookie is enough to test guesses of the key offline; 16 bytes
 * is 128 bits when random, and a shorter key is most likely a word or a placeholder ('dev').
 */
export const FLASK_SHORT_KEY_BYTES = 16

// What a Flask session cookie looks like: [.]payload.timestamp.signature (27 characters of SHA-1).
const FLASK_COOKIE = /^(\.?)([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)\.[A-Za-z0-9_-]{27}$/
// The payload cap: inspect inflates no more than verify would.
const FLASK_MAX_PAYLOAD = DEFAULT_MAX_PAYLOAD_BYTES

export const USAGE = `Usage: frasco <command> [options]

Commands:
  keygen                 print a fresh random secret (32 bytes, base64url)
  sign                   read a JSON object on stdin, print a signed token
  verify                 read a token on stdin, print its object as JSON (exit 1 if invalid)
  inspect                read a token on stdin, print what is visible WITHOUT verifying it

Options (sign, verify):
  --purpose P            the purpose the tokens are bound to (default: ${DEFAULT_CLI_PURPOSE},
                         the purpose of createSessions' default cookie "session")
  --expires-in SECONDS   sign: make the token expire after SECONDS
  --max-age SECONDS      verify: reject tokens older than SECONDS
  --secrets-file PATH    read secrets from PATH, one per line, newest first
  --encrypt              sign: encrypt with AES-256-GCM (format e1); verify: expect an encrypted token
  --format frasco|flask  the token format (default frasco); inspect detects it when omitted

Secrets come from FRASCO_SECRETS (comma-separated, newest first) or --secrets-file, never from
the command line. Make one with: frasco keygen

Flask session cookies (--format flask):
  The secrets are Flask's SECRET_KEY, then older keys (SECRET_KEY_FALLBACKS), newest first, as
  UTF-8 text; any length, with a warning on stderr for keys under ${FLASK_SHORT_KEY_BYTES} bytes.
  sign     reads Flask's tagged JSON, as Flask writes it: {" t": [...]} tuple, {" b": "<base64>"}
           bytes, {" m": "<html>"} Markup, {" u": "<32 hex>"} UUID, {" d": "<HTTP date>"}
           datetime, {" di": {"<tag>__": v}} a one-key dict named like a tag; "_permanent": true
           marks a permanent session. --purpose, --expires-in and --encrypt do not apply.
  verify   prints the session as Flask's tagged JSON (compact, sorted keys, ASCII); --max-age is
           PERMANENT_SESSION_LIFETIME (default 31 days = ${FLASK_DEFAULT_LIFETIME} s); clocks may differ by
           ${DEFAULT_CLOCK_TOLERANCE} s, as in createSessions.
  inspect  shows the payload (inflated) and the signing time, UNVERIFIED.
  Example: echo "$COOKIE" | FRASCO_SECRETS="$SECRET_KEY" frasco verify --format flask
`

class UsageError extends Error {}

function seconds(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} needs a whole number of seconds, got '${value}'`)
  return Number(value)
}

function loadSecrets(file: string | undefined, env: CliIo['env']): Keyring {
  const list = loadSecretList(file, env)
  try {
    return createKeyring(list)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

// Flask's keys are used as they are: no minimum length, no key ids. Short ones get a warning.
function loadFlaskSecrets(file: string | undefined, io: CliIo): string[] {
  const list = loadSecretList(file, io.env)
  list.forEach((secret, index) => {
    const bytes = Buffer.byteLength(secret, 'utf8')
    if (bytes < FLASK_SHORT_KEY_BYTES) {
      io.stderr(
        `frasco: warning: Flask secret ${index + 1} of ${list.length} has only ${bytes} bytes; anyone holding one cookie can ` +
          `guess a short key offline and forge sessions. Make a new SECRET_KEY with: python3 -c 'import secrets; print(secrets.token_hex())'\n`,
      )
    }
  })
  return list
}

function loadSecretList(file: string | undefined, env: CliIo['env']): string[] {
  let list: string[]
  if (file !== undefined) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      throw new UsageError(`cannot read --secrets-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    list = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('#'))
  } else {
    const raw = env.FRASCO_SECRETS
    if (raw === undefined || raw.trim() === '') {
      throw new UsageError('no secrets: set FRASCO_SECRETS (comma-separated, newest first) or pass --secrets-file PATH')
    }
    list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
  }
  if (list.length === 0) throw new UsageError('no secrets: the secrets file or FRASCO_SECRETS holds no secret')
  return list
}

async function readInput(io: CliIo): Promise<string> {
  const text = await io.stdin()
  if (text.length > MAX_STDIN) throw new UsageError(`input is larger than ${MAX_STDIN} bytes`)
  return text.trim()
}

function date(seconds: number | undefined): string | null {
  return seconds === undefined ? null : new Date(seconds * 1000).toISOString()
}

/**
 * Runs the CLI and returns its exit code: 0 success, 1 invalid token, 2 bad usage.
 *
 * @example
 * ```ts
 * const code = await main(['keygen'], io)
 * ```
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      ;(command === undefined ? io.stderr : io.stdout)(USAGE)
      return command === undefined ? 2 : 0
    }
    const { values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        purpose: { type: 'string' },
        'expires-in': { type: 'string' },
        'max-age': { type: 'string' },
        'secrets-file': { type: 'string' },
        encrypt: { type: 'boolean' },
        format: { type: 'string' },
      },
    })
    if (command !== 'sign' && values['expires-in'] !== undefined) throw new UsageError('--expires-in only applies to sign')
    if (command !== 'verify' && values['max-age'] !== undefined) throw new UsageError('--max-age only applies to verify')
    const format = values.format
    if (format !== undefined && format !== 'frasco' && format !== 'flask') throw new UsageError(`--format must be frasco or flask, got '${format}'`)
    if (format === 'flask') {
      // Flask's cookie has a fixed salt, no expiry of its own and no encryption.
      if (values.purpose !== undefined) throw new UsageError("--purpose does not apply to --format flask: Flask's session salt is always 'cookie-session'")
      if (values['expires-in'] !== undefined) throw new UsageError('--expires-in does not apply to --format flask: a Flask cookie carries only its signing time; verify --max-age sets the lifetime')
      if (values.encrypt === true) throw new UsageError('--encrypt does not apply to --format flask: Flask cannot read an encrypted cookie')
    }
    const purpose = values.purpose ?? DEFAULT_CLI_PURPOSE
    const encrypt = values.encrypt === true

    switch (command) {
      case 'keygen': {
        if (Object.keys(values).length > 0) throw new UsageError('keygen takes no options')
        io.stdout(`${randomBytes(32).toString('base64url')}\n`)
        return 0
      }
      case 'sign': {
        if (format === 'flask') return await signFlask(values['secrets-file'], io)
        const keyring = loadSecrets(values['secrets-file'], io.env)
        const expiresIn = seconds(values['expires-in'], 'expires-in')
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
        const serializer = createSerializer({ secrets: keyring, purpose, encrypt })
        io.stdout(`${serializer.sign(value, expiresIn === undefined ? {} : { expiresIn })}\n`)
        return 0
      }
      case 'verify': {
        if (format === 'flask') return await verifyFlask(values['secrets-file'], seconds(values['max-age'], 'max-age'), io)
        const keyring = loadSecrets(values['secrets-file'], io.env)
        const maxAge = seconds(values['max-age'], 'max-age')
        const input = await readInput(io)
        const result = createSerializer({ secrets: keyring, purpose, encrypt }).verify(input, maxAge === undefined ? {} : { maxAge })
        if (!result.ok) {
          io.stderr(`invalid token: ${result.error.code}: ${result.error.message}\n`)
          return 1
        }
        io.stdout(`${stringify(result.value)}\n`)
        return 0
      }
      case 'inspect': {
        if (Object.keys(values).some((name) => name !== 'format')) throw new UsageError('inspect takes no options but --format: it never verifies')
        io.stdout(`${JSON.stringify(inspect(await readInput(io), format), null, 2)}\n`)
        return 0
      }
      default:
        throw new UsageError(`unknown command '${command}'`)
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`frasco: ${(error as Error).message}\n\n${USAGE}`)
      return 2
    }
    throw error
  }
}

async function signFlask(file: string | undefined, io: CliIo): Promise<number> {
  const secrets = loadFlaskSecrets(file, io)
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
  let cookie: string
  try {
    cookie = createFlaskCodec({ secrets }).sign(value as Record<string, unknown>)
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw new UsageError(error.message)
    throw error
  }
  io.stdout(`${cookie}\n`)
  return 0
}

async function verifyFlask(file: string | undefined, maxAge: number | undefined, io: CliIo): Promise<number> {
  const secrets = loadFlaskSecrets(file, io)
  const input = await readInput(io)
  const codec = createFlaskCodec({ secrets, maxAge: maxAge ?? FLASK_DEFAULT_LIFETIME, clockTolerance: DEFAULT_CLOCK_TOLERANCE })
  const result = codec.verify(input)
  if (!result.ok) {
    io.stderr(`invalid token: ${result.error.code}: ${result.error.message}\n`)
    return 1
  }
  io.stdout(`${encodeFlaskJson(result.value)}\n`)
  return 0
}

/**
 * What `frasco inspect` shows: everything readable without a secret, marked unverified. Without
 * `format`, Frasco tokens (`f1.`, `e1.`) and Flask session cookies are told apart by their shape
 * (a Flask payload is base64url JSON, so it starts with `e`, or `.` when compressed).
 */
export function inspect(token: string, format?: 'frasco' | 'flask'): Record<string, unknown> {
  if (format === 'flask' || (format === undefined && !/^[ef]1\./.test(token) && FLASK_COOKIE.test(token))) return inspectFlask(token)
  const sealed = /^e1\.([A-Za-z0-9_-]{1,32})\.[A-Za-z0-9_-]+$/.exec(token)
  if (sealed !== null) {
    return {
      verified: false,
      format: 'frasco',
      version: 'e1',
      encrypted: true,
      keyId: sealed[1],
      note: 'the payload and its times are encrypted; only the key id is visible',
    }
  }
  const peeked = peekToken(token)
  if (peeked === undefined) {
    return { verified: false, format: 'unknown', note: format === 'frasco' ? 'not a Frasco f1 token' : 'neither a Frasco token nor a Flask session cookie' }
  }
  const isObject = (peeked.flags & FLAG_OBJECT) !== 0
  let payload: unknown
  let payloadError: string | undefined
  if (!isObject) {
    // A createSigner token: its value is a string (or bytes, shown as base64url).
    payload = decodeUtf8(peeked.payload) ?? { $b: peeked.payload.toString('base64url') }
  } else {
    try {
      const value = decodePayload(peeked.payload, (peeked.flags & FLAG_DEFLATE) !== 0)
      payload = JSON.parse(stringify(value))
    } catch (error) {
      payloadError = error instanceof SessionError ? error.code : 'unreadable'
      payload = decodeUtf8(peeked.payload) ?? null
    }
  }
  return {
    verified: false,
    warning: 'UNVERIFIED: anyone can write a token like this; use `frasco verify` to check it',
    format: 'frasco',
    version: peeked.version,
    encrypted: false,
    kind: isObject ? 'object' : 'string',
    keyId: peeked.keyId,
    compressed: (peeked.flags & FLAG_DEFLATE) !== 0,
    issuedAt: date(peeked.issuedAt),
    expiresAt: (peeked.flags & FLAG_EXPIRES) !== 0 ? date(peeked.expiresAt) : null,
    payload,
    ...(payloadError === undefined ? {} : { payloadError }),
  }
}

function inspectFlask(token: string): Record<string, unknown> {
  const match = FLASK_COOKIE.exec(token)
  if (match === null) return { verified: false, format: 'unknown', note: 'not a Flask session cookie (payload.timestamp.signature)' }
  const compressed = match[1] === '.'
  const time = decodeBase64url(match[3] as string)
  // itsdangerous writes the seconds big-endian without leading zero bytes (0 is the empty string).
  let issuedAt: string | null = null
  if (time !== undefined && time.length <= 8 && time[0] !== 0) {
    let seconds = 0
    for (const byte of time) seconds = seconds * 256 + byte
    // Beyond what a Date holds (ECMA-262 §21.4.1.1) the time is shown as unreadable.
    if (seconds <= 8.64e12) issuedAt = date(seconds)
  }
  let payload: unknown = null
  let payloadError: string | undefined
  let text: string | undefined
  const bytes = decodeBase64url(match[2] as string)
  if (bytes === undefined) payloadError = 'ERR_SESSION_MALFORMED'
  else {
    try {
      text = decodeUtf8(compressed ? inflateSync(bytes, { maxOutputLength: FLASK_MAX_PAYLOAD }) : bytes)
    } catch (error) {
      payloadError = (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' ? 'ERR_SESSION_DECOMPRESSION_TOO_LARGE' : 'ERR_SESSION_MALFORMED'
    }
    if (text === undefined) payloadError ??= 'ERR_SESSION_MALFORMED'
  }
  let permanent = false
  if (text !== undefined) {
    try {
      const value = decodeFlaskJson(text) as Record<string, unknown> | null
      permanent = typeof value === 'object' && value !== null && value._permanent === true
    } catch (error) {
      payloadError = error instanceof SessionError ? error.code : 'unreadable'
    }
    // Flask's tagged JSON as JavaScript reads it; NaN or Infinity (valid for Python) keep the text.
    try {
      payload = JSON.parse(text)
    } catch {
      payload = text
    }
  }
  return {
    verified: false,
    warning: 'UNVERIFIED: anyone can write a cookie like this; use `frasco verify --format flask` to check it',
    format: 'flask',
    compressed,
    issuedAt,
    permanent,
    note: "a Flask cookie carries no expiry: the reader's PERMANENT_SESSION_LIFETIME (31 days by default) counts from issuedAt",
    payload,
    ...(payloadError === undefined ? {} : { payloadError }),
  }
}
