/**
 * The `frasco` command line: keygen, sign, verify, inspect. This module parses the arguments,
 * dispatches and reports; the commands live in `commands.ts` and `inspect.ts`, the help texts in
 * `help.ts`. Secrets come from the environment (`FRASCO_SECRETS`) or a file (`--secrets-file`),
 * never from argv, where `ps` and shell history would show them.
 *
 * @internal
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { lifetimeOption } from '../lib/options.js'
import { signFlask, signFrasco, verify, type CommandOptions } from './commands.js'
import { COMMANDS, helpFor, isCommand, USAGE, type Command } from './help.js'
import { inspect } from './inspect.js'
import { DEFAULT_CLI_PURPOSE, readToken, UsageError, type CliIo } from './io.js'

export type { CliIo } from './io.js'
export { DEFAULT_CLI_PURPOSE } from './io.js'
export { USAGE } from './help.js'

/** What `main` returns: the process's exit code. */
export const EXIT = { ok: 0, invalidToken: 1, usage: 2, internal: 70 } as const

/** The options each command takes (besides --help). */
const TAKES: Record<Command, readonly string[]> = {
  keygen: [],
  sign: ['purpose', 'expires-in', 'secrets-file', 'encrypt', 'format'],
  verify: ['purpose', 'max-age', 'clock-tolerance', 'secrets-file', 'encrypt', 'format'],
  inspect: ['format'],
}

/**
 * Runs the CLI and returns its exit code: 0 success, 1 invalid token, 2 bad usage, 70 a bug.
 * Errors are one line on stderr, with a pointer to the command's `--help`.
 *
 * @example
 * ```ts
 * const code = await main(['keygen'], io)
 * ```
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    return await dispatch(command, rest, io)
  } catch (error) {
    return report(error, command, io)
  }
}

async function dispatch(command: string | undefined, rest: string[], io: CliIo): Promise<number> {
  if (command === undefined) {
    io.stderr(USAGE)
    return EXIT.usage
  }
  if (command === '--help' || command === '-h') {
    io.stdout(USAGE)
    return EXIT.ok
  }
  if (command === 'help') {
    const [topic, ...more] = rest
    if (more.length > 0 || (topic !== undefined && !isCommand(topic))) throw new UsageError(`help takes one command name: ${COMMANDS.join(', ')}`)
    io.stdout(helpFor(topic))
    return EXIT.ok
  }
  if (!isCommand(command)) {
    if (command.startsWith('-')) throw new UsageError(`options come after the command, as in: frasco verify ${command}`)
    throw new UsageError(`unknown command '${command}': the commands are ${COMMANDS.join(', ')}`)
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(helpFor(command))
    return EXIT.ok
  }
  return run(command, parseOptions(command, rest), io)
}

/** One line on stderr for what went wrong, and the exit code that says who is to blame. */
function report(error: unknown, command: string | undefined, io: CliIo): number {
  if (error instanceof UsageError) {
    const name = command !== undefined && isCommand(command) ? `frasco ${command}` : 'frasco'
    io.stderr(`${name}: ${error.message}\nRun '${name} --help' for usage.\n`)
    return EXIT.usage
  }
  const message = error instanceof Error ? error.message : String(error)
  io.stderr(`frasco: internal error: ${message.split('\n')[0]} (a bug in frasco: please report it)\n`)
  return EXIT.internal
}

async function run(command: Command, options: CommandOptions, io: CliIo): Promise<number> {
  const flask = options.format === 'flask'
  switch (command) {
    case 'keygen':
      io.stdout(`${randomBytes(32).toString('base64url')}\n`)
      return EXIT.ok
    case 'sign':
      return flask ? signFlask(options, io) : signFrasco(options, io)
    case 'verify':
      return verify(options, io)
    case 'inspect':
      io.stdout(`${JSON.stringify(inspect((await readToken(io, 'inspect')).token, options.format), null, 2)}\n`)
      return EXIT.ok
  }
}

function parseOptions(command: Command, args: string[]): CommandOptions {
  const values = parseFlags(command, args)
  for (const name of Object.keys(values)) {
    if (TAKES[command].includes(name)) continue
    if (command === 'keygen') throw new UsageError('keygen takes no options')
    if (command === 'inspect') throw new UsageError(`inspect takes no option but --format: it never verifies, so --${name} does not apply`)
    const owners = COMMANDS.filter((other) => TAKES[other].includes(name))
    throw new UsageError(`--${name} only applies to ${owners.join(' and ')}`)
  }
  const format = values.format
  if (format !== undefined && format !== 'frasco' && format !== 'flask') throw new UsageError(`--format must be frasco or flask, got '${format}'`)
  if (format === 'flask') refuseForFlask(values)
  return {
    format,
    secretsFile: values['secrets-file'],
    purpose: values.purpose ?? DEFAULT_CLI_PURPOSE,
    purposeGiven: values.purpose !== undefined,
    cookieName: undefined,
    encrypt: values.encrypt === true,
    // As in the library: a token lives 1 s or more, while verify takes a maxAge of 0.
    expiresIn: lifetime(values['expires-in'], '--expires-in', false),
    maxAge: lifetime(values['max-age'], '--max-age', true),
    clockTolerance: lifetime(values['clock-tolerance'], '--clock-tolerance', true),
  }
}

type Flags = Partial<Record<'purpose' | 'expires-in' | 'max-age' | 'clock-tolerance' | 'secrets-file' | 'format', string>> & { encrypt?: boolean }

/** node:util's parser, its errors rephrased as one-line usage errors. */
function parseFlags(command: Command, args: string[]): Flags {
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        purpose: { type: 'string' },
        'expires-in': { type: 'string' },
        'max-age': { type: 'string' },
        'clock-tolerance': { type: 'string' },
        'secrets-file': { type: 'string' },
        encrypt: { type: 'boolean' },
        format: { type: 'string' },
      },
    }).values
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) throw error
    const quoted = /'([^']*)'/.exec((error as Error).message)?.[1] ?? ''
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const secret = /secret|key/i.test(quoted) && quoted !== '--secrets-file'
      throw new UsageError(`unknown option '${quoted}'${secret ? ': secrets come from FRASCO_SECRETS or --secrets-file, never the command line' : ''}`)
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      if (command === 'keygen') throw new UsageError(`unexpected argument '${quoted}': keygen takes none`)
      const input = command === 'sign' ? `the JSON object on stdin, as in: echo '{"user":"ada"}' | frasco sign` : `the token on stdin, as in: echo "$TOKEN" | frasco ${command}`
      throw new UsageError(`unexpected argument '${quoted}': ${command} reads ${input}`)
    }
    // ERR_PARSE_ARGS_INVALID_OPTION_VALUE: a missing value, or a value given to --encrypt.
    const message = (error as Error).message.split('\n')[0] ?? ''
    if (message.endsWith('argument missing')) throw new UsageError(`${quoted.split(' ')[0] ?? quoted} needs a value`)
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1))
  }
}

// Flask's cookie has a fixed salt, no expiry of its own and no encryption.
function refuseForFlask(values: Flags): void {
  if (values.purpose !== undefined) throw new UsageError("--purpose does not apply to --format flask: Flask's session salt is always 'cookie-session'")
  if (values['expires-in'] !== undefined) {
    throw new UsageError('--expires-in does not apply to --format flask: a Flask cookie carries only its signing time; verify --max-age sets the lifetime')
  }
  if (values.encrypt === true) throw new UsageError('--encrypt does not apply to --format flask: Flask cannot read an encrypted cookie')
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
