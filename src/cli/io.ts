/**
 * What every `frasco` command shares: where it reads and writes, and how it reports misuse.
 *
 * @internal
 */

/** Where the CLI reads and writes; injected so tests run it in-process. */
export interface CliIo {
  stdin: () => Promise<string>
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
}

/** The longest input the CLI reads, in UTF-16 code units (the binary stops reading past it). */
export const MAX_STDIN = 1024 * 1024

/** The purpose `createSessions` uses for its default cookie name, so `frasco verify` reads session cookies. */
export const DEFAULT_CLI_PURPOSE = 'session:session'

/** Bad usage: `main` prints the message on one line with a pointer to `--help`, and exits with 2. */
export class UsageError extends Error {}

/** The whole of stdin, trimmed; a usage error past {@link MAX_STDIN}. */
export async function readInput(io: CliIo): Promise<string> {
  const text = await io.stdin()
  if (text.length > MAX_STDIN) throw new UsageError(`input is larger than ${MAX_STDIN} bytes`)
  return text.trim()
}

/** The token on stdin, trimmed; a usage error when there is none. */
export async function readToken(io: CliIo, command: string): Promise<string> {
  const token = await readInput(io)
  if (token === '') throw new UsageError(`no token on stdin: pipe one in, as in: echo "$TOKEN" | frasco ${command}`)
  return token
}
