/**
 * The `frasco` command line: keygen, sign, verify, inspect. Secrets come from the environment
 * (`FRASCO_SECRETS`) or a file (`--secrets-file`), never from argv, where `ps` and shell history
 * would show them.
 *
 * @internal
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { decodeUtf8 } from '../encoding.js'
import { SessionError } from '../errors.js'
import { createKeyring, type Keyring } from '../keyring.js'
import { parse, stringify, decodePayload } from '../serializer.js'
import { createSerializer } from '../signer.js'
import { FLAG_DEFLATE, FLAG_EXPIRES, peekToken } from './token.js'

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

Secrets come from FRASCO_SECRETS (comma-separated, newest first) or --secrets-file, never from
the command line. Make one with: frasco keygen
`

class UsageError extends Error {}

function seconds(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} needs a whole number of seconds, got '${value}'`)
  return Number(value)
}

function loadSecrets(file: string | undefined, env: CliIo['env']): Keyring {
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
  try {
    return createKeyring(list)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
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
      },
    })
    if (command !== 'sign' && values['expires-in'] !== undefined) throw new UsageError('--expires-in only applies to sign')
    if (command !== 'verify' && values['max-age'] !== undefined) throw new UsageError('--max-age only applies to verify')
    const purpose = values.purpose ?? DEFAULT_CLI_PURPOSE
    const encrypt = values.encrypt === true

    switch (command) {
      case 'keygen': {
        if (Object.keys(values).length > 0) throw new UsageError('keygen takes no options')
        io.stdout(`${randomBytes(32).toString('base64url')}\n`)
        return 0
      }
      case 'sign': {
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
        if (Object.keys(values).length > 0) throw new UsageError('inspect takes no options: it never verifies')
        io.stdout(`${JSON.stringify(inspect(await readInput(io)), null, 2)}\n`)
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

/** What `frasco inspect` shows: everything readable without a secret, marked unverified. */
export function inspect(token: string): Record<string, unknown> {
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
  if (peeked === undefined) return { verified: false, format: 'unknown', note: 'not a Frasco f1 token' }
  let payload: unknown
  let payloadError: string | undefined
  try {
    const value = decodePayload(peeked.payload, (peeked.flags & FLAG_DEFLATE) !== 0)
    payload = JSON.parse(stringify(value))
  } catch (error) {
    payloadError = error instanceof SessionError ? error.code : 'unreadable'
    payload = decodeUtf8(peeked.payload) ?? null
  }
  return {
    verified: false,
    warning: 'UNVERIFIED: anyone can write a token like this; use `frasco verify` to check it',
    format: 'frasco',
    version: peeked.version,
    encrypted: false,
    keyId: peeked.keyId,
    compressed: (peeked.flags & FLAG_DEFLATE) !== 0,
    issuedAt: date(peeked.issuedAt),
    expiresAt: (peeked.flags & FLAG_EXPIRES) !== 0 ? date(peeked.expiresAt) : null,
    payload,
    ...(payloadError === undefined ? {} : { payloadError }),
  }
}
