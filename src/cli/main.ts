/**
 * The `frasco` command line: keygen, sign, verify, inspect. This module parses the arguments and
 * dispatches; the commands live in `commands.ts` and `inspect.ts`. Secrets come from the
 * environment (`FRASCO_SECRETS`) or a file (`--secrets-file`), never from argv, where `ps` and
 * shell history would show them.
 *
 * @internal
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { FLASK_DEFAULT_LIFETIME } from '../flask/codec.js'
import { lifetimeOption, MAX_LIFETIME } from '../lib/options.js'
import { DEFAULT_CLOCK_TOLERANCE } from '../lib/token.js'
import { signFlask, signFrasco, verifyFlask, verifyFrasco, type CommandOptions } from './commands.js'
import { inspect } from './inspect.js'
import { readInput, UsageError, type CliIo } from './io.js'
import { FLASK_SHORT_KEY_BYTES } from './secrets.js'

export type { CliIo } from './io.js'

/** The purpose `createSessions` uses for its default cookie name, so `frasco verify` reads session cookies. */
export const DEFAULT_CLI_PURPOSE = 'session:session'

export const USAGE = `Usage: frasco <command> [options]

Commands:
  keygen                 print a fresh random secret (32 bytes, base64url)
  sign                   read a JSON object on stdin, print a signed token
  verify                 read a token on stdin, print its object as JSON (exit 1 if invalid)
  inspect                read a token on stdin, print what is visible WITHOUT verifying it

Options (sign, verify):
  --purpose P            the purpose the tokens are bound to (default: ${DEFAULT_CLI_PURPOSE},
                         the purpose of createSessions' default cookie "session")
  --expires-in SECONDS   sign: make the token expire after SECONDS (expiresIn)
  --max-age SECONDS      verify: reject tokens older than SECONDS (maxAge)
                         both in seconds, not milliseconds: at most 400 days (${MAX_LIFETIME})
  --secrets-file PATH    read secrets from PATH, one per line, newest first
  --encrypt              sign: encrypt with XAES-256-GCM (format x1); verify: expect an encrypted token (x1 or e1)
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

/** The command line, parsed and checked against the command. */
interface CliOptions extends CommandOptions {
  /** The names of the options given, to refuse those a command does not take. */
  given: string[]
  format: 'frasco' | 'flask' | undefined
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
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    ;(command === undefined ? io.stderr : io.stdout)(USAGE)
    return command === undefined ? 2 : 0
  }
  try {
    return await run(command, parseOptions(command, rest), io)
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`frasco: ${(error as Error).message}\n\n${USAGE}`)
      return 2
    }
    throw error
  }
}

async function run(command: string, options: CliOptions, io: CliIo): Promise<number> {
  const flask = options.format === 'flask'
  switch (command) {
    case 'keygen':
      if (options.given.length > 0) throw new UsageError('keygen takes no options')
      io.stdout(`${randomBytes(32).toString('base64url')}\n`)
      return 0
    case 'sign':
      return flask ? signFlask(options, io) : signFrasco(options, io)
    case 'verify':
      return flask ? verifyFlask(options, io) : verifyFrasco(options, io)
    case 'inspect':
      if (options.given.some((name) => name !== 'format')) throw new UsageError('inspect takes no options but --format: it never verifies')
      io.stdout(`${JSON.stringify(inspect(await readInput(io), options.format), null, 2)}\n`)
      return 0
    default:
      throw new UsageError(`unknown command '${command}'`)
  }
}

function parseOptions(command: string, args: string[]): CliOptions {
  const { values } = parseArgs({
    args,
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
  return {
    given: Object.keys(values),
    format,
    secretsFile: values['secrets-file'],
    purpose: values.purpose ?? DEFAULT_CLI_PURPOSE,
    encrypt: values.encrypt === true,
    // As in the library: a token lives 1 s or more, while verify takes a maxAge of 0.
    expiresIn: lifetime(values['expires-in'], '--expires-in', false),
    maxAge: lifetime(values['max-age'], '--max-age', true),
  }
}

/** A lifetime flag in whole seconds, checked by the same rule as the library's options. */
function lifetime(value: string | undefined, flag: string, allowZero: boolean): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} needs a whole number of seconds, got '${value}'`)
  try {
    return lifetimeOption(Number(value), flag, allowZero)
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(error.message)
    throw error
  }
}
