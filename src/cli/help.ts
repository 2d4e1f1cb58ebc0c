/**
 * The `frasco` help texts: one overview (`frasco --help`) and one page per command
 * (`frasco <command> --help`). docs/cli.md says the same at more length; a test keeps the flags
 * and exit codes of both in step.
 *
 * @internal
 */
import { FLASK_DEFAULT_LIFETIME } from '../flask/codec.js'
import { MAX_LIFETIME } from '../lib/options.js'
import { DEFAULT_CLOCK_TOLERANCE } from '../lib/token.js'
import { DEFAULT_CLI_PURPOSE } from './io.js'
import { FLASK_SHORT_KEY_BYTES } from './secrets.js'

/** The commands, in the order the overview lists them. */
export const COMMANDS = ['keygen', 'sign', 'verify', 'inspect'] as const
export type Command = (typeof COMMANDS)[number]

/** Whether `name` is a command (`frasco <name>`). */
export function isCommand(name: string): name is Command {
  return (COMMANDS as readonly string[]).includes(name)
}

const EXIT_CODES = `Exit codes:
  0   success
  1   invalid token (verify): forged, tampered, expired, or read with the wrong flags; the reason is on stderr
  2   usage error: unknown command or option, a bad value, no secrets, input the command cannot take
  70  internal error: a bug in frasco (please report it)`

const SECRETS = `Secrets come from FRASCO_SECRETS (comma-separated, newest first) or --secrets-file PATH (one per
line, newest first, # comments), never from the command line. Make one with: frasco keygen`

const FORMATS = `Formats: Frasco tokens f1 (signed), x1 and e1 (encrypted: add --encrypt), and Flask session
cookies (add --format flask).`

export const USAGE = `Usage: frasco <command> [options]

Commands:
  keygen    print a fresh random secret (32 bytes, base64url)
  sign      read a JSON object on stdin, print a signed token
  verify    read a token on stdin, check it, print its value as JSON
  inspect   read a token on stdin, print what is visible WITHOUT verifying it

Run 'frasco <command> --help' for the options of a command.

${SECRETS}

${FORMATS}

${EXIT_CODES}
`

const COOKIE_INPUT = `The token may be pasted as a cookie, as browsers and Set-Cookie show it: session=f1.…; Path=/
reads the value of the cookie named session. Without --purpose, a cookie named NAME is read with
the purpose session:NAME, the one createSessions gives it.`

const PURPOSE = `  --purpose P              the purpose the token is bound to; it is part of what is signed
                           (default: ${DEFAULT_CLI_PURPOSE}, the purpose of createSessions' cookie "session";
                           a session cookie named NAME has the purpose session:NAME)`
const SECRETS_FILE = `  --secrets-file PATH      read the secrets from PATH instead of FRASCO_SECRETS`
const FORMAT = `  --format frasco|flask    the token format (default: frasco)`
const HELP = `  -h, --help               show this help`

const KEYGEN = `Usage: frasco keygen

Prints a fresh random secret: 32 bytes from the system's CSPRNG, base64url. Put it in
FRASCO_SECRETS (newest first) or your app's configuration; it takes no options.

Example:
  export FRASCO_SECRETS="$(frasco keygen)"

Exit codes: 0 printed a secret; 2 usage error; 70 internal error.
`

const SIGN = `Usage: frasco sign [options] < object.json

Reads a JSON object on stdin and prints a token for it. Frasco's tagged values are allowed
({"$d": "<ISO date>"} a Date, {"$b": "<base64url>"} bytes, …).

Options:
${PURPOSE}
  --expires-in SECONDS     the token expires SECONDS after now (1 to ${MAX_LIFETIME}: seconds, not milliseconds)
  --encrypt                encrypt with XAES-256-GCM (format x1) instead of only signing (f1)
${FORMAT}
${SECRETS_FILE}
${HELP}

With --format flask, stdin is Flask's tagged JSON, as Flask writes it: {" t": [...]} tuple,
{" b": "<base64>"} bytes, {" m": "<html>"} Markup, {" u": "<32 hex>"} UUID, {" d": "<HTTP date>"}
datetime, {" di": {"<tag>__": v}} a one-key dict named like a tag; "_permanent": true marks a
permanent session. The secrets are Flask's SECRET_KEY, then SECRET_KEY_FALLBACKS, as UTF-8 text, any
length (a warning on stderr under ${FLASK_SHORT_KEY_BYTES} bytes). --purpose, --expires-in and --encrypt do not apply.

${SECRETS}

Examples:
  echo '{"user":"ada"}' | frasco sign --expires-in 3600
  echo '{"user":"ada"}' | FRASCO_SECRETS="$SECRET_KEY" frasco sign --format flask

Exit codes: 0 printed the token; 2 usage error (including stdin that is not a JSON object);
70 internal error.
`

const VERIFY = `Usage: frasco verify [options] < token

Reads a token on stdin, checks its signature (and decrypts it), its expiry and its age, and prints
its value as JSON. It recognizes every format Frasco reads and says which flag to add: f1 (signed),
x1 and e1 (encrypted: --encrypt), Flask session cookies (--format flask).

What it prints: an object (createSessions, createSerializer, frasco sign) as tagged JSON; the value
of a createSigner token as a JSON string ("user:42"), or, when it is bytes that are not UTF-8 text,
as {"$b": "<base64url>"}.

${COOKIE_INPUT}

Options:
${PURPOSE}
  --encrypt                expect an encrypted token (x1 or e1)
  --max-age SECONDS        reject tokens issued more than SECONDS ago (0 to ${MAX_LIFETIME}: seconds, not
                           milliseconds); with --format flask it is PERMANENT_SESSION_LIFETIME
                           (default: 31 days = ${FLASK_DEFAULT_LIFETIME} s)
  --clock-tolerance SECONDS
                           how far the clocks of signer and verifier may differ (default: ${DEFAULT_CLOCK_TOLERANCE}, as in
                           createSessions; 0 for none): a token still verifies up to SECONDS
                           after it expires (or outlives --max-age), and may claim to be issued
                           up to SECONDS in the future
${FORMAT}
${SECRETS_FILE}
${HELP}

With --format flask it prints the session as Flask's tagged JSON (compact, sorted keys, ASCII).

${SECRETS}

Examples:
  echo "$TOKEN" | frasco verify --purpose session:sid
  echo "$RESET_TOKEN" | frasco verify --purpose password-reset     # a createSigner token: "user:42"
  echo 'sid=f1.…; Path=/; HttpOnly' | frasco verify                 # purpose session:sid
  echo "$COOKIE" | FRASCO_SECRETS="$SECRET_KEY" frasco verify --format flask
  echo "$TOKEN" | frasco verify --clock-tolerance 0

${EXIT_CODES}
`

const INSPECT = `Usage: frasco inspect [--format frasco|flask] < token

Reads a token on stdin and prints, as JSON, what anyone can read without a secret: the format and
version, the key id, the times, the payload (inflated). It NEVER checks the signature: the output
says "verified": false, and anyone can write such a token. Of an encrypted token (x1, e1) only the
key id is visible. No secrets are needed. The token may be pasted as a cookie
(session=f1.…; Path=/): inspect reads its value.

Options:
  --format frasco|flask    the token format (default: detected from the token)
${HELP}

Example:
  echo "$COOKIE" | frasco inspect

Exit codes: 0 printed what is visible (format "unknown" when the input is no token); 2 usage error;
70 internal error.
`

/** The help of one command, or the overview. */
export function helpFor(command: Command | undefined): string {
  switch (command) {
    case 'keygen':
      return KEYGEN
    case 'sign':
      return SIGN
    case 'verify':
      return VERIFY
    case 'inspect':
      return INSPECT
    default:
      return USAGE
  }
}
