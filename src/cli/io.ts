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

/** Bad usage: `main` prints the message and the usage, and exits with 2. */
export class UsageError extends Error {}

/** The whole of stdin, trimmed; a usage error past {@link MAX_STDIN}. */
export async function readInput(io: CliIo): Promise<string> {
  const text = await io.stdin()
  if (text.length > MAX_STDIN) throw new UsageError(`input is larger than ${MAX_STDIN} bytes`)
  return text.trim()
}
