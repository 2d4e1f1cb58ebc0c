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

/** A token read from stdin, and the name of the cookie it came in, when that was pasted too. */
export interface TokenInput {
  token: string
  cookieName: string | undefined
}

/**
 * The token on stdin, trimmed, taken out of a pasted cookie (see {@link cookieToken}); a usage
 * error when there is none.
 */
export async function readToken(io: CliIo, command: string): Promise<TokenInput> {
  const text = await readInput(io)
  if (text === '') throw new UsageError(`no token on stdin: pipe one in, as in: echo "$TOKEN" | frasco ${command}`)
  const input = cookieToken(text)
  if (input.token === '') {
    const what = input.cookieName === undefined ? 'the input holds no token' : `the cookie ${input.cookieName} has an empty value (a deleted cookie?)`
    throw new UsageError(`${what}: give a token, or a cookie that holds one, as in: echo "$TOKEN" | frasco ${command}`)
  }
  return input
}

// RFC 6265 §4.1.1: set-cookie-string = cookie-pair *( ";" SP cookie-av ), cookie-pair =
// cookie-name "=" cookie-value, cookie-name = token (RFC 9110 §5.6.2: 1*tchar), cookie-value =
// *cookie-octet / ( DQUOTE *cookie-octet DQUOTE ). Read leniently, as §5.2 does: blanks around the
// name and the value, and an optional `Set-Cookie:` (or `Cookie:`) header name in front.
const COOKIE = /^(?:(?:set-)?cookie:[ \t]*)?(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*)?("?)([^";\s]*)\2[ \t]*(?:;[\s\S]*)?$/i

/**
 * The token in what was pasted: a bare token as it is, or the value of a cookie pasted the way
 * browsers' developer tools and `Set-Cookie` headers show it (`session=f1.…; Path=/; HttpOnly`),
 * with its name. No token holds `=`, `;`, a quote or a blank, so a bare token is never mistaken
 * for a cookie. Of a Cookie request header holding several cookies, only the first is read.
 *
 * @example
 * ```ts
 * cookieToken('sid=f1.k.body.tag; Path=/') // { token: 'f1.k.body.tag', cookieName: 'sid' }
 * ```
 */
export function cookieToken(text: string): TokenInput {
  const match = COOKIE.exec(text)
  if (match === null) return { token: text, cookieName: undefined }
  return { token: match[3] as string, cookieName: match[1] }
}
