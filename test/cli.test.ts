import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMANDS, helpFor } from '../src/cli/help.js'
import { cookieToken } from '../src/cli/io.js'
import { DEFAULT_CLI_PURPOSE, main, USAGE } from '../src/cli/main.js'
import { FLASK_DEFAULT_LIFETIME, createFlaskCodec } from '../src/flask/codec.js'
import { decodeFlaskJson } from '../src/flask/json.js'
import { MAX_LIFETIME } from '../src/lib/options.js'
import { createSerializer, createSigner } from '../src/signer.js'
import { createSessions } from '../src/sessions.js'
import vectors from './vectors/signer.json' with { type: 'json' }
import { describeFlask, normalizeSpec, py, startOracle, toSpec, type Oracle, type Spec } from './flask/python.js'

const secret = randomBytes(32).toString('base64url')
const oldSecret = randomBytes(32).toString('base64url')

async function run(argv: string[], stdin = '', env: Record<string, string | undefined> = { FRASCO_SECRETS: secret }) {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    stdin: async () => stdin,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env,
  })
  return { code, stdout, stderr }
}

type Ran = Awaited<ReturnType<typeof run>>

/** A usage error: exit 2, nothing on stdout, and on stderr one line of error and a pointer to --help. */
function expectUsageError(result: Ran, command?: string): void {
  expect(result.code).toBe(2)
  expect(result.stdout).toBe('')
  const name = command === undefined ? 'frasco' : `frasco ${command}`
  const lines = result.stderr.split('\n')
  expect(lines).toHaveLength(3)
  expect(lines[0]).toMatch(new RegExp(`^${name}: \\S`))
  expect(lines[1]).toBe(`Run '${name} --help' for usage.`)
  expect(result.stderr).not.toContain('Usage:')
}

/** An invalid token: exit 1, nothing on stdout, one line on stderr. */
function expectInvalid(result: Ran): string {
  expect(result.code).toBe(1)
  expect(result.stdout).toBe('')
  expect(result.stderr).toMatch(/^frasco verify: invalid token: ERR_SESSION_[A-Z_]+: [^\n]+\n$/)
  return result.stderr
}

describe('frasco keygen', () => {
  it('prints a fresh 32-byte base64url secret that the keyring accepts', async () => {
    const a = await run(['keygen'], '', {})
    const b = await run(['keygen'], '', {})
    expect(a.code).toBe(0)
    expect(a.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/)
    expect(a.stdout).not.toBe(b.stdout)
    expect(() => createSerializer({ secrets: a.stdout.trim(), purpose: 'x' })).not.toThrow()
  })
})

describe('frasco sign / verify', () => {
  it('round trips an object, tagged values included', async () => {
    const signed = await run(['sign'], '{"username":"admin","at":{"$d":"2026-01-01T00:00:00.000Z"}}')
    expect(signed.code).toBe(0)
    const verified = await run(['verify'], signed.stdout)
    expect(verified).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(verified.stdout)).toEqual({ username: 'admin', at: { $d: '2026-01-01T00:00:00.000Z' } })
  })

  it('uses the session purpose by default, so it reads session cookies', async () => {
    const token = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE }).sign({ username: 'admin' })
    expect(JSON.parse((await run(['verify'], token)).stdout)).toEqual({ username: 'admin' })
  })

  it('separates purposes', async () => {
    const signed = await run(['sign', '--purpose', 'invite'], '{"team":"core"}')
    expect((await run(['verify', '--purpose', 'invite'], signed.stdout)).code).toBe(0)
    const wrong = await run(['verify'], signed.stdout)
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('ERR_SESSION_SIGNATURE_INVALID')
  })

  it('honours --expires-in and --max-age', async () => {
    const expired = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE }).sign({ a: 1 }, { now: Date.now() - 3_600_000, expiresIn: 60 })
    expect((await run(['verify'], expired)).stderr).toContain('ERR_SESSION_EXPIRED')
    const old = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE }).sign({ a: 1 }, { now: Date.now() - 3_600_000 })
    expect((await run(['verify', '--max-age', '60'], old)).code).toBe(1)
    expect((await run(['verify', '--max-age', '7200'], old)).code).toBe(0)
    const signed = await run(['sign', '--expires-in', '30'], '{}')
    const result = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE }).verify(signed.stdout.trim())
    expect(result.ok && result.expiresAt).toBeInstanceOf(Date)
  })

  it.each([
    ['sign --expires-in', ['sign', '--expires-in', '86400000'], '{}'],
    ['verify --max-age', ['verify', '--max-age', '86400000'], 'f1.a.b.c'],
    ['verify --format flask --max-age', ['verify', '--format', 'flask', '--max-age', '86400000'], 'a.b.c'],
    ['one second over 400 days', ['sign', '--expires-in', String(MAX_LIFETIME + 1)], '{}'],
  ])('exits 2 for a lifetime in milliseconds (%s), saying lifetimes are seconds', async (_, argv, input) => {
    const result = await run(argv, input)
    expectUsageError(result, argv[0])
    expect(result.stderr).toContain('seconds, not milliseconds')
  })

  it('takes lifetimes of 400 days exactly (34560000 s), and a --max-age of 0', async () => {
    expect(MAX_LIFETIME).toBe(34_560_000)
    const signed = await run(['sign', '--expires-in', '34560000'], '{"a":1}')
    expect(signed).toMatchObject({ code: 0, stderr: '' })
    const result = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE }).verify(signed.stdout.trim())
    if (!result.ok) throw result.error
    expect((result.expiresAt?.getTime() ?? 0) - (result.issuedAt?.getTime() ?? 0)).toBe(34_560_000_000)
    const old = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE }).sign({ a: 1 }, { now: Date.now() - 399 * 86_400_000 })
    expect((await run(['verify', '--max-age', '34560000'], old)).code).toBe(0)
    expect((await run(['verify', '--max-age', '0'], signed.stdout)).code).toBe(0)
  })

  it('verifies tokens of older secrets from a secrets file and exits 1 on tampering', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'frasco-cli-'))
    const file = join(dir, 'secrets')
    writeFileSync(file, `# newest first\n${secret}\n${oldSecret}\n`)
    const token = createSerializer({ secrets: oldSecret, purpose: DEFAULT_CLI_PURPOSE }).sign({ user: 7 })
    expect(JSON.parse((await run(['verify', '--secrets-file', file], token, {})).stdout)).toEqual({ user: 7 })
    const tampered = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1)
    const bad = await run(['verify', '--secrets-file', file], tampered, {})
    expect(bad.code).toBe(1)
    expect(bad.stdout).toBe('')
  })

  it.each([
    ['an unknown command', ['frobnicate'], {}],
    ['an unknown option', ['sign', '--secret', 'x'], { FRASCO_SECRETS: secret }],
    ['a positional argument', ['verify', 'token'], { FRASCO_SECRETS: secret }],
    ['no secrets', ['sign'], {}],
    ['a weak secret', ['sign'], { FRASCO_SECRETS: 'any random string' }],
    ['a bad --expires-in', ['sign', '--expires-in', 'soon'], { FRASCO_SECRETS: secret }],
    ['a zero --expires-in', ['sign', '--expires-in', '0'], { FRASCO_SECRETS: secret }],
    ['--max-age on sign', ['sign', '--max-age', '5'], { FRASCO_SECRETS: secret }],
    ['a missing secrets file', ['verify', '--secrets-file', '/nonexistent/frasco'], {}],
  ])('exits 2 with a one-line message for %s', async (_, argv, env) => {
    const result = await run(argv, '{}', env)
    expectUsageError(result, argv[0] === 'frobnicate' ? undefined : argv[0])
  })

  it.each(['[1,2]', 'not json', '"text"', '{"$d":5}'])('exits 2 when sign gets %s', async (input) => {
    expect((await run(['sign'], input)).code).toBe(2)
  })
})

describe('frasco inspect', () => {
  it('shows what is visible without a secret, marked unverified', async () => {
    const token = createSerializer({ secrets: secret, purpose: 'x' }).sign({ username: 'admin' }, { now: 1_800_000_000_000, expiresIn: 60 })
    const result = await run(['inspect'], token, {})
    expect(result.code).toBe(0)
    const shown = JSON.parse(result.stdout)
    expect(shown).toMatchObject({
      verified: false,
      format: 'frasco',
      version: 'f1',
      compressed: false,
      persistent: false,
      issuedAt: '2027-01-15T08:00:00.000Z',
      expiresAt: '2027-01-15T08:01:00.000Z',
      payload: { username: 'admin' },
    })
    expect(shown.warning).toMatch(/UNVERIFIED/)
  })

  it('shows whether a session cookie is persistent ("remember me")', async () => {
    const sessions = createSessions({ secrets: secret })
    const shown = JSON.parse((await run(['inspect'], sessions.sign({ user: 'ada' }, { persistent: true }), {})).stdout)
    expect(shown).toMatchObject({ verified: false, kind: 'object', persistent: true, payload: { user: 'ada' } })
    // The CLI verifies a persistent session cookie like any other (the default purpose is the session's).
    const verified = await run(['verify'], sessions.sign({ user: 'ada' }, { persistent: true }))
    expect(verified).toMatchObject({ code: 0, stdout: '{"user":"ada"}\n' })
  })

  it('refuses input larger than any reader accepts with a usage error, not a crash', async () => {
    const result = await run(['sign'], JSON.stringify({ blob: 'x'.repeat(200 * 1024) }))
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/exceeds/)
  })

  it('shows that a token is encrypted and reveals nothing else', async () => {
    const token = createSerializer({ secrets: secret, purpose: 'x', encrypt: true }).sign({ username: 'admin' })
    const result = await run(['inspect'], token, {})
    const shown = JSON.parse(result.stdout)
    expect(shown).toMatchObject({ verified: false, version: 'x1', encrypted: true })
    expect(Object.keys(shown).sort()).toEqual(['encrypted', 'format', 'keyId', 'note', 'verified', 'version'])
    expect(result.stdout).not.toContain('admin')
  })

  it('signs and verifies encrypted tokens with --encrypt', async () => {
    const signed = await run(['sign', '--encrypt'], '{"username":"admin"}')
    expect(signed.stdout).toMatch(/^x1\./)
    expect(JSON.parse((await run(['verify', '--encrypt'], signed.stdout)).stdout)).toEqual({ username: 'admin' })
    expect((await run(['verify'], signed.stdout)).stderr).toContain('ERR_SESSION_UNSUPPORTED_VERSION')
  })

  it('shows a createSigner token as a string value', async () => {
    const { createSigner } = await import('../src/signer.js')
    const token = createSigner({ secrets: secret, purpose: 'reset' }).sign('user:42')
    const shown = JSON.parse((await run(['inspect'], token, {})).stdout)
    expect(shown).toMatchObject({ verified: false, version: 'f1', kind: 'string', payload: 'user:42' })
    expect(shown.payloadError).toBeUndefined()
  })

  it('says so when the input is not a Frasco token', async () => {
    expect(JSON.parse((await run(['inspect'], 'garbage', {})).stdout)).toMatchObject({ verified: false, format: 'unknown' })
  })
})

describe('frasco verify of createSigner tokens (a string or bytes, not an object)', () => {
  const resets = createSigner({ secrets: secret, purpose: 'password-reset' })

  it('prints the value of a createSigner token as a JSON string, with exit 0', async () => {
    const token = resets.sign('user:42', { expiresIn: 3600 })
    expect(await run(['verify', '--purpose', 'password-reset'], token)).toEqual({ code: 0, stdout: '"user:42"\n', stderr: '' })
    expect(await run(['verify', '--purpose', 'password-reset', '--max-age', '60'], token)).toMatchObject({ code: 0, stdout: '"user:42"\n' })
    // JSON quoting keeps a value that looks like JSON (or holds a newline) apart from an object.
    const tricky = resets.sign('{"admin":true}\nline 2')
    const printed = await run(['verify', '--purpose', 'password-reset'], tricky)
    expect(JSON.parse(printed.stdout)).toBe('{"admin":true}\nline 2')
  })

  it('prints bytes that are not UTF-8 as tagged bytes {"$b": base64url}, and UTF-8 bytes as a string', async () => {
    const binary = resets.sign(new Uint8Array([0xff, 0x00, 0x01]))
    expect(await run(['verify', '--purpose', 'password-reset'], binary)).toEqual({ code: 0, stdout: '{"$b":"_wAB"}\n', stderr: '' })
    expect((await run(['verify', '--purpose', 'password-reset'], resets.sign(new TextEncoder().encode('héllo')))).stdout).toBe('"héllo"\n')
    expect((await run(['verify', '--purpose', 'password-reset'], resets.sign(''))).stdout).toBe('""\n')
  })

  it('still rejects a createSigner token that is forged, expired, or for another purpose (exit 1)', async () => {
    const token = resets.sign('user:42')
    const tampered = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1)
    expect(expectInvalid(await run(['verify', '--purpose', 'password-reset'], tampered))).toContain('ERR_SESSION_SIGNATURE_INVALID')
    expect(expectInvalid(await run(['verify'], token))).toContain('ERR_SESSION_SIGNATURE_INVALID')
    const expired = resets.sign('user:42', { now: Date.now() - 3_600_000, expiresIn: 60 })
    expect(expectInvalid(await run(['verify', '--purpose', 'password-reset'], expired))).toContain('ERR_SESSION_EXPIRED')
    expect(expectInvalid(await run(['verify', '--purpose', 'password-reset', '--encrypt'], token))).toContain('drop --encrypt')
  })

  it('reads the object flag only to choose the verifier: an object token relabelled as a string fails its MAC', async () => {
    const token = createSerializer({ secrets: secret, purpose: 'password-reset' }).sign({ admin: true })
    const [version, keyId, body, tag] = token.split('.') as [string, string, string, string]
    const bytes = Buffer.from(body, 'base64url')
    bytes[0] = (bytes[0] as number) & ~0b100
    const relabelled = [version, keyId, bytes.toString('base64url'), tag].join('.')
    expect(expectInvalid(await run(['verify', '--purpose', 'password-reset'], relabelled))).toContain('ERR_SESSION_SIGNATURE_INVALID')
  })
})

describe('frasco verify and inspect of a pasted cookie (name=value; attributes)', () => {
  const sessions = createSessions({ secrets: secret })
  const token = sessions.sign({ user: 'ada' })

  it.each([
    ['name=value', (t: string) => `session=${t}`],
    ['name=value; attributes', (t: string) => `session=${t}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600`],
    ['a Set-Cookie header', (t: string) => `Set-Cookie: session=${t}; Path=/`],
    ['a Cookie header with one cookie', (t: string) => `Cookie: session=${t}`],
    ['a quoted value', (t: string) => `session="${t}"; Path=/`],
    ['blanks around = and ;', (t: string) => `  session = ${t} ;Path=/\n`],
    ['a value with attributes but no name', (t: string) => `${t}; Path=/; Secure`],
  ])('reads the token of %s', async (_, paste) => {
    expect(await run(['verify'], paste(token))).toEqual({ code: 0, stdout: '{"user":"ada"}\n', stderr: '' })
    expect(JSON.parse((await run(['inspect'], paste(token), {})).stdout)).toMatchObject({ verified: false, version: 'f1', payload: { user: 'ada' } })
  })

  it('verifies a cookie named NAME with the purpose session:NAME, unless --purpose is given', async () => {
    const sid = createSessions({ secrets: secret, cookie: { name: 'sid' } }).sign({ user: 'ada' })
    expect(await run(['verify'], `sid=${sid}; Path=/; HttpOnly`)).toEqual({ code: 0, stdout: '{"user":"ada"}\n', stderr: '' })
    const host = createSessions({ secrets: secret, cookie: { name: '__Host-sid', secure: true } }).sign({ user: 'ada' })
    expect(await run(['verify'], `__Host-sid=${host}; Path=/; Secure`)).toMatchObject({ code: 0, stdout: '{"user":"ada"}\n' })
    // --purpose wins: a cookie may hold a token made for anything.
    const reset = createSigner({ secrets: secret, purpose: 'password-reset' }).sign('user:42')
    expect(await run(['verify', '--purpose', 'password-reset'], `reset=${reset}; Path=/`)).toMatchObject({ code: 0, stdout: '"user:42"\n' })
    expect(expectInvalid(await run(['verify', '--purpose', 'session:other'], `sid=${sid}`))).toContain('(this checked --purpose session:other;')
    // A session cookie renamed by hand: the message says which purpose the name chose.
    expect(expectInvalid(await run(['verify'], `sid=${token}`))).toContain(
      'signature does not match: was it signed with another secret, or for another purpose? (this checked the purpose session:sid of a session cookie named sid; give --purpose P if it was signed for another)',
    )
  })

  it('reads a pasted Flask cookie with --format flask, its name giving no purpose, and names the flag without it', async () => {
    const cookie = flask.sign({ user: 'ada' })
    expect(await run(['verify', '--format', 'flask'], `session=${cookie}; HttpOnly; Path=/`, flaskEnv)).toEqual({ code: 0, stdout: '{"user":"ada"}\n', stderr: '' })
    expect(expectInvalid(await run(['verify'], `session=${cookie}; HttpOnly; Path=/`, flaskEnv))).toContain('add --format flask')
    expect(JSON.parse((await run(['inspect'], `session=${cookie}; HttpOnly`, {})).stdout)).toMatchObject({ format: 'flask', payload: { user: 'ada' } })
  })

  it('says an emptied cookie holds no token (exit 2), and asks for one cookie when the input is no token', async () => {
    const deleted = await run(['verify'], 'session=; Path=/; Max-Age=0')
    expectUsageError(deleted, 'verify')
    expect(deleted.stderr).toContain('the cookie session has an empty value')
    const header = expectInvalid(await run(['verify'], `theme=dark; session=${token}`))
    expect(header).toContain('give the cookie value alone, or one cookie as name=value, not a whole Cookie header')
    expect(expectInvalid(await run(['verify'], 'garbage'))).toContain('this is not a token')
    // A token of a known format that fails says nothing of cookies.
    expect(expectInvalid(await run(['verify'], 'f1.nope.nope.nope'))).not.toContain('cookie')
  })

  it('never mistakes a bare token for a cookie: tokens hold no =, ; or quote', async () => {
    const encrypted = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE, encrypt: true }).sign({ a: 1 })
    expect(cookieToken(token)).toEqual({ token, cookieName: undefined })
    expect(cookieToken(encrypted)).toEqual({ token: encrypted, cookieName: undefined })
    const compressedFlask = createFlaskCodec({ secrets: 'dev' }).sign({ _flashes: Array.from({ length: 60 }, () => ['message', 'Saved']) })
    expect(cookieToken(compressedFlask)).toEqual({ token: compressedFlask, cookieName: undefined })
    expect(cookieToken(`session=${compressedFlask}`)).toEqual({ token: compressedFlask, cookieName: 'session' })
  })
})

describe('frasco errors, help and exit codes', () => {
  it.each([
    ['an unknown option', ['sign', '--expires', '5'], "frasco sign: unknown option '--expires'"],
    ['a secret on the command line', ['sign', '--secret', 'x'], "frasco sign: unknown option '--secret': secrets come from FRASCO_SECRETS or --secrets-file, never the command line"],
    ['a missing value', ['verify', '--purpose'], 'frasco verify: --purpose needs a value'],
    ['a value for a switch', ['sign', '--encrypt=yes'], "frasco sign: option '--encrypt' does not take an argument"],
    ['a positional token', ['verify', 'f1.a.b.c'], 'frasco verify: unexpected argument \'f1.a.b.c\': verify reads the token on stdin, as in: echo "$TOKEN" | frasco verify'],
    ["another command's option", ['sign', '--max-age', '5'], 'frasco sign: --max-age only applies to verify'],
    ['--clock-tolerance on sign', ['sign', '--clock-tolerance', '0'], 'frasco sign: --clock-tolerance only applies to verify'],
    ['an unknown command', ['frobnicate'], "frasco: unknown command 'frobnicate': the commands are keygen, sign, verify, inspect"],
    ['an option before the command', ['--purpose', 'x', 'verify'], 'frasco: options come after the command, as in: frasco verify --purpose'],
    ['an empty stdin', ['verify'], 'frasco verify: no token on stdin: pipe one in, as in: echo "$TOKEN" | frasco verify'],
  ])('answers %s with one line and a pointer to --help, not the whole usage', async (_, argv, line) => {
    const result = await run(argv, '')
    const command = argv[0] !== undefined && (COMMANDS as readonly string[]).includes(argv[0]) ? argv[0] : undefined
    expectUsageError(result, command)
    expect(result.stderr.split('\n')[0]).toBe(line)
  })

  it('prints the overview for --help, -h and help (exit 0), and on stderr with exit 2 when no command is given', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) expect(await run(argv, '', {})).toEqual({ code: 0, stdout: USAGE, stderr: '' })
    expect(await run([], '', {})).toEqual({ code: 2, stdout: '', stderr: USAGE })
    expect(USAGE).toContain("Run 'frasco <command> --help'")
    expectUsageError(await run(['help', 'frobnicate'], '', {}))
  })

  it.each(COMMANDS.map((command) => [command]))('frasco %s --help shows that command\'s help, needing no secrets, even among other flags', async (command) => {
    const help = helpFor(command)
    expect(help.startsWith(`Usage: frasco ${command}`)).toBe(true)
    for (const argv of [[command, '--help'], [command, '-h'], ['help', command], [command, '--format', 'flask', '--help']]) {
      expect(await run(argv, '', {})).toEqual({ code: 0, stdout: help, stderr: '' })
    }
    expect(help).toMatch(/Exit codes: 0 |Exit codes:\n {2}0 /)
    expect(help).toMatch(/70 {1,2}internal error/)
  })

  it('each command\'s help lists exactly the options it takes', () => {
    const flags = (text: string) => [...new Set(text.match(/^ {2}(?:-h, )?(--[a-z-]+)/gm)?.map((m) => m.trim().replace('-h, ', '')))].sort()
    expect(flags(helpFor('keygen'))).toEqual([])
    expect(flags(helpFor('sign'))).toEqual(['--encrypt', '--expires-in', '--format', '--help', '--purpose', '--secrets-file'])
    expect(flags(helpFor('verify'))).toEqual(['--clock-tolerance', '--encrypt', '--format', '--help', '--max-age', '--purpose', '--secrets-file'])
    expect(flags(helpFor('inspect'))).toEqual(['--format', '--help'])
  })

  it('documents the exit codes (0, 1, 2, 70) and the default clock tolerance in --help', () => {
    expect(USAGE).toMatch(/^ {2}0 {3}success$/m)
    expect(USAGE).toMatch(/^ {2}1 {3}invalid token/m)
    expect(USAGE).toMatch(/^ {2}2 {3}usage error/m)
    expect(USAGE).toMatch(/^ {2}70 {2}internal error/m)
    expect(helpFor('verify')).toContain(USAGE.slice(USAGE.indexOf('Exit codes:')))
    expect(helpFor('verify')).toMatch(/--clock-tolerance SECONDS\n\s+how far the clocks .*\(default: 60, as in\n\s+createSessions; 0 for none\)/)
  })

  it('exits 70 with one line on an internal error', async () => {
    const result = { stdout: '', stderr: '' }
    const code = await main(['verify'], {
      stdin: async () => {
        throw new Error('stdin broke\nsecond line')
      },
      stdout: (t) => (result.stdout += t),
      stderr: (t) => (result.stderr += t),
      env: { FRASCO_SECRETS: secret },
    })
    expect(code).toBe(70)
    expect(result).toEqual({ stdout: '', stderr: 'frasco: internal error: stdin broke (a bug in frasco: please report it)\n' })
  })

  it('verify names --encrypt for an encrypted token (x1, e1), before looking at the secrets', async () => {
    const x1 = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE, encrypt: true }).sign({ a: 1 })
    const e1 = vectors.sealed.find((v) => v.name === 'empty object')?.token as string
    for (const [token, version] of [[x1, 'x1'], [e1, 'e1']] as const) {
      const stderr = expectInvalid(await run(['verify'], token, {}))
      expect(stderr).toBe(`frasco verify: invalid token: ERR_SESSION_UNSUPPORTED_VERSION: this is an encrypted Frasco token (${version}): add --encrypt\n`)
      expect(expectInvalid(await run(['verify', '--format', 'flask'], token, {}))).toContain(`this is a Frasco token (${version}), not a Flask session cookie: drop --format flask and add --encrypt`)
    }
    expect(JSON.parse((await run(['verify', '--encrypt'], x1)).stdout)).toEqual({ a: 1 })
    // The e1 vector is read as e1 once --encrypt is given: it fails only because it was issued in 2027.
    const e1Read = await run(['verify', '--encrypt', '--purpose', 'test'], e1, { FRASCO_SECRETS: vectors.secret })
    expect(expectInvalid(e1Read)).toContain('ERR_SESSION_NOT_YET_VALID: token was issued in the future (at 2027-01-15T08:00:00.000Z; clocks may differ by 60 s (--clock-tolerance))')
    const f1 = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE }).sign({ a: 1 })
    expect(expectInvalid(await run(['verify', '--encrypt'], f1))).toContain('ERR_SESSION_UNSUPPORTED_VERSION: this is a signed Frasco token (f1), not an encrypted one: drop --encrypt')
    expect(expectInvalid(await run(['verify', '--format', 'flask'], f1, {}))).toContain('this is a Frasco token (f1), not a Flask session cookie: drop --format flask\n')
  })

  it('verify names --format flask for a Flask cookie, instead of complaining about a short Flask key', async () => {
    const cookie = createFlaskCodec({ secrets: 'dev' }).sign({ user: 'ada' })
    for (const argv of [['verify'], ['verify', '--format', 'frasco'], ['verify', '--encrypt']]) {
      const stderr = expectInvalid(await run(argv, cookie, { FRASCO_SECRETS: 'dev' }))
      expect(stderr).toContain("ERR_SESSION_MALFORMED: this is a Flask session cookie: add --format flask")
      expect(stderr).not.toMatch(/bytes|secret is/)
      expect(stderr.includes('and drop --encrypt')).toBe(argv.includes('--encrypt'))
    }
    const compressed = createFlaskCodec({ secrets: 'dev' }).sign({ _flashes: Array.from({ length: 60 }, () => ['message', 'Saved']) })
    expect(compressed.startsWith('.')).toBe(true)
    expect(expectInvalid(await run(['verify'], compressed, {}))).toContain('add --format flask')
    expect((await run(['verify', '--format', 'flask'], cookie, { FRASCO_SECRETS: 'dev' })).stdout).toBe('{"user":"ada"}\n')
  })

  it('inspect and verify recognize the same formats', async () => {
    const tokens = {
      f1: createSerializer({ secrets: secret, purpose: 'x' }).sign({ a: 1 }),
      x1: createSerializer({ secrets: secret, purpose: 'x', encrypt: true }).sign({ a: 1 }),
      e1: vectors.sealed[0]?.token as string,
      flask: flask.sign({ a: 1 }),
    }
    for (const [format, token] of Object.entries(tokens)) {
      const shown = JSON.parse((await run(['inspect'], token, {})).stdout)
      expect(format === 'flask' ? shown.format : shown.version).toBe(format)
    }
  })

  it('--clock-tolerance 0 makes a token expired by one second fail; the default 60 s lets it pass', async () => {
    const serializer = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE })
    const expired = serializer.sign({ a: 1 }, { now: Date.now() - 2000, expiresIn: 1 })
    expect(await run(['verify'], expired)).toMatchObject({ code: 0, stdout: '{"a":1}\n' })
    expect(await run(['verify', '--clock-tolerance', '60'], expired)).toMatchObject({ code: 0 })
    const strict = expectInvalid(await run(['verify', '--clock-tolerance', '0'], expired))
    expect(strict).toMatch(/ERR_SESSION_EXPIRED: token has expired \(at \S+Z; clocks may differ by 0 s \(--clock-tolerance\)\)/)
    // Signed with the CLI itself, 1 s of life, read 2 s later (the clock of the token moved back instead of waiting).
    const old = serializer.sign({ a: 1 }, { now: Date.now() - 2000 })
    expect((await run(['verify', '--clock-tolerance', '0', '--max-age', '1'], old)).code).toBe(1)
    expect((await run(['verify', '--clock-tolerance', '5', '--max-age', '1'], old)).code).toBe(0)
    const future = serializer.sign({ a: 1 }, { now: Date.now() + 30_000 })
    expect((await run(['verify'], future)).code).toBe(0)
    expect(expectInvalid(await run(['verify', '--clock-tolerance', '0'], future))).toContain('ERR_SESSION_NOT_YET_VALID')
  })

  it('--clock-tolerance applies to Flask cookies too, and takes whole seconds up to 400 days', async () => {
    const cookie = flask.sign({ a: 1 }, { now: Date.now() - 3_602_000 })
    expect((await run(['verify', '--format', 'flask', '--max-age', '3600'], cookie, flaskEnv)).code).toBe(0)
    expect(expectInvalid(await run(['verify', '--format', 'flask', '--max-age', '3600', '--clock-tolerance', '0'], cookie, flaskEnv))).toContain('ERR_SESSION_EXPIRED')
    expectUsageError(await run(['verify', '--clock-tolerance', '-1'], 'f1.a.b.c'), 'verify')
    expectUsageError(await run(['verify', '--clock-tolerance', '1.5'], 'f1.a.b.c'), 'verify')
    const ms = await run(['verify', '--clock-tolerance', '60000000'], 'f1.a.b.c')
    expectUsageError(ms, 'verify')
    expect(ms.stderr).toContain('seconds, not milliseconds')
  })

  it('a failed signature says the purpose, and with it the cookie name, is part of what is signed', async () => {
    const invite = createSerializer({ secrets: secret, purpose: 'invite' }).sign({ team: 'core' })
    expect(expectInvalid(await run(['verify'], invite))).toBe(
      'frasco verify: invalid token: ERR_SESSION_SIGNATURE_INVALID: signature does not match: was it signed with another secret, or for another purpose? ' +
        '(the default purpose is session:session, the purpose of createSessions\' cookie "session"; give --purpose session:<cookie name> for another cookie name)\n',
    )
    // A session cookie named "sid" verifies with --purpose session:sid, as the hint says.
    const sid = createSessions({ secrets: secret, cookie: { name: 'sid' } }).sign({ user: 'ada' })
    expect(expectInvalid(await run(['verify'], sid))).toContain('give --purpose session:<cookie name>')
    expect(await run(['verify', '--purpose', 'session:sid'], sid)).toMatchObject({ code: 0, stdout: '{"user":"ada"}\n' })
    expect(expectInvalid(await run(['verify', '--purpose', 'session:other'], sid))).toContain(
      '(this checked --purpose session:other; createSessions signs a cookie named NAME with the purpose session:NAME)',
    )
    const otherSecret = createSerializer({ secrets: oldSecret, purpose: DEFAULT_CLI_PURPOSE }).sign({ a: 1 })
    expect(expectInvalid(await run(['verify'], otherSecret))).toContain('ERR_SESSION_UNKNOWN_KEY: token was signed with a key that is not in the keyring: add the secret')
    expect(expectInvalid(await run(['verify', '--format', 'flask'], flask.sign({ a: 1 }), { FRASCO_SECRETS: 'another-flask-secret-key' }))).toContain(
      'signature does not match: was it signed with another SECRET_KEY?',
    )
  })

  it('docs/cli.md documents every flag and the exit codes of --help', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'cli.md'), 'utf8')
    const flags = new Set(COMMANDS.flatMap((command) => helpFor(command).match(/--[a-z][a-z-]+/g) ?? []))
    for (const flag of flags) expect(doc, flag).toContain(`\`${flag}`)
    for (const command of COMMANDS) expect(doc).toContain(`frasco ${command}`)
    for (const [code, meaning] of [['0', 'success'], ['1', 'invalid token'], ['2', 'usage error'], ['70', 'internal error']]) {
      expect(doc).toMatch(new RegExp(`\\| \`${code}\` \\| ${meaning}`))
    }
    expect(doc).toContain('60')
  })
})

const FLASK_KEY = 'flask-cli-secret-key'
const flaskEnv = { FRASCO_SECRETS: FLASK_KEY }
const flask = createFlaskCodec({ secrets: FLASK_KEY })

describe('frasco --format flask', () => {
  it('signs Flask tagged JSON from stdin and verifies it back as Flask tagged JSON', async () => {
    const input = '{"b":1,"a":{" t":[1,"\u00e9",{" b":"AP8="}]},"m":{" m":"<b>x</b>"},"_permanent":true}'
    const signed = await run(['sign', '--format', 'flask'], input, flaskEnv)
    expect(signed).toMatchObject({ code: 0, stderr: '' })
    expect(signed.stdout).toMatch(/^\.?[\w-]+\.[\w-]+\.[\w-]{27}\n$/)
    expect(flask.verify(signed.stdout.trim())).toMatchObject({ ok: true, value: { b: 1, _permanent: true } })
    const verified = await run(['verify', '--format', 'flask'], signed.stdout, flaskEnv)
    expect(verified).toMatchObject({ code: 0, stderr: '' })
    // Compact, keys sorted, ASCII only: exactly what Flask itself would write.
    expect(verified.stdout).toBe('{"_permanent":true,"a":{" t":[1,"\\u00e9",{" b":"AP8="}]},"b":1,"m":{" m":"<b>x</b>"}}\n')
  })

  it('verifies with the fallback keys, newest first, from FRASCO_SECRETS or a secrets file', async () => {
    const old = createFlaskCodec({ secrets: 'the-old-flask-key' }).sign({ user: 7 })
    expect((await run(['verify', '--format', 'flask'], old, { FRASCO_SECRETS: `${FLASK_KEY},the-old-flask-key` })).stdout).toBe('{"user":7}\n')
    const dir = mkdtempSync(join(tmpdir(), 'frasco-cli-'))
    const file = join(dir, 'secrets')
    writeFileSync(file, `# SECRET_KEY, then SECRET_KEY_FALLBACKS\n${FLASK_KEY}\nthe-old-flask-key\n`)
    expect((await run(['verify', '--format', 'flask', '--secrets-file', file], old, {})).stdout).toBe('{"user":7}\n')
    expect((await run(['verify', '--format', 'flask'], old, flaskEnv)).stderr).toContain('ERR_SESSION_SIGNATURE_INVALID')
  })

  it('takes short Flask keys (no 32-byte minimum) but warns on stderr, without showing the key', async () => {
    const signed = await run(['sign', '--format', 'flask'], '{"a":1}', { FRASCO_SECRETS: 'dev' })
    expect(signed.code).toBe(0)
    expect(signed.stderr).toMatch(/^frasco: warning: Flask secret 1 of 1 has only 3 bytes/)
    expect(signed.stderr).not.toContain("'dev'")
    expect(createFlaskCodec({ secrets: 'dev' }).verify(signed.stdout.trim())).toMatchObject({ ok: true, value: { a: 1 } })
    const verified = await run(['verify', '--format', 'flask'], signed.stdout, { FRASCO_SECRETS: `${FLASK_KEY},dev` })
    expect(verified.code).toBe(0)
    expect(verified.stderr).toContain('Flask secret 2 of 2 has only 3 bytes')
    expect((await run(['verify', '--format', 'flask'], flask.sign({ a: 1 }), { FRASCO_SECRETS: 'x'.repeat(16) + ',' + FLASK_KEY })).stderr).toBe('')
  })

  it('verify --max-age is PERMANENT_SESSION_LIFETIME, 31 days by default, with 60 s of clock tolerance', async () => {
    const now = Date.now()
    const at = (secondsAgo: number) => flask.sign({ a: 1 }, { now: now - secondsAgo * 1000 })
    expect((await run(['verify', '--format', 'flask'], at(FLASK_DEFAULT_LIFETIME - 5), flaskEnv)).code).toBe(0)
    const expired = await run(['verify', '--format', 'flask'], at(FLASK_DEFAULT_LIFETIME + 120), flaskEnv)
    expect(expired).toMatchObject({ code: 1, stdout: '' })
    expect(expired.stderr).toContain('ERR_SESSION_EXPIRED')
    expect((await run(['verify', '--format', 'flask', '--max-age', '600'], at(3600), flaskEnv)).code).toBe(1)
    expect((await run(['verify', '--format', 'flask', '--max-age', '7200'], at(3600), flaskEnv)).code).toBe(0)
    expect((await run(['verify', '--format', 'flask'], at(-3600), flaskEnv)).stderr).toContain('ERR_SESSION_NOT_YET_VALID')
  })

  it('verify --max-age takes up to 400 days in seconds', async () => {
    const old = flask.sign({ a: 1 }, { now: Date.now() - 399 * 86_400_000 })
    expect((await run(['verify', '--format', 'flask'], old, flaskEnv)).code).toBe(1)
    expect((await run(['verify', '--format', 'flask', '--max-age', String(MAX_LIFETIME)], old, flaskEnv))).toMatchObject({ code: 0, stdout: '{"a":1}\n' })
    const tooLong = await run(['verify', '--format', 'flask', '--max-age', String(MAX_LIFETIME + 1)], old, flaskEnv)
    expect(tooLong).toMatchObject({ code: 2, stdout: '' })
    expect(tooLong.stderr).toContain('seconds, not milliseconds')
  })

  it.each([
    ['an unknown format', ['sign', '--format', 'django'], '{}', flaskEnv],
    ['--encrypt', ['sign', '--format', 'flask', '--encrypt'], '{}', flaskEnv],
    ['--purpose', ['verify', '--format', 'flask', '--purpose', 'x'], 'a.b.c', flaskEnv],
    ['--expires-in', ['sign', '--format', 'flask', '--expires-in', '60'], '{}', flaskEnv],
    ['a JSON list', ['sign', '--format', 'flask'], '[1]', flaskEnv],
    ['a JSON string', ['sign', '--format', 'flask'], '"text"', flaskEnv],
    ['not JSON', ['sign', '--format', 'flask'], '{nope', flaskEnv],
    ['a malformed tag', ['sign', '--format', 'flask'], '{"t":{" t":5}}', flaskEnv],
    ['a top-level tag', ['sign', '--format', 'flask'], '{" m":"<b>x</b>"}', flaskEnv],
    ['no secrets', ['verify', '--format', 'flask'], 'a.b.c', {}],
    ['an empty secrets list', ['sign', '--format', 'flask'], '{}', { FRASCO_SECRETS: ' , ' }],
  ])('exits 2 with a one-line message for %s', async (_, argv, input, env) => {
    expectUsageError(await run(argv, input, env), argv[0])
  })

  it('inspect recognises a Flask cookie and shows its payload and signing time, UNVERIFIED', async () => {
    const cookie = flask.sign({ username: 'admin', _permanent: true }, { now: 1_800_000_000_000 })
    const shown = JSON.parse((await run(['inspect'], cookie, {})).stdout)
    expect(shown).toMatchObject({
      verified: false,
      format: 'flask',
      compressed: false,
      issuedAt: '2027-01-15T08:00:00.000Z',
      permanent: true,
      payload: { _permanent: true, username: 'admin' },
    })
    expect(shown.warning).toMatch(/UNVERIFIED/)
    expect(JSON.parse((await run(['inspect', '--format', 'flask'], cookie, {})).stdout)).toEqual(shown)
    // Compressed (from 1024 bytes of JSON on): shown inflated, tags as Flask writes them.
    const big = flask.sign({ _flashes: Array.from({ length: 60 }, () => ['message', 'Saved']) })
    expect(big.startsWith('.')).toBe(true)
    expect(JSON.parse((await run(['inspect'], big, {})).stdout)).toMatchObject({ compressed: true, payload: { _flashes: Array(60).fill(['message', 'Saved']) } })
    // Forced to the other format, it is not a token of that format.
    expect(JSON.parse((await run(['inspect', '--format', 'frasco'], cookie, {})).stdout)).toMatchObject({ format: 'unknown' })
    expect(JSON.parse((await run(['inspect', '--format', 'flask'], 'garbage', {})).stdout)).toMatchObject({ format: 'unknown' })
    expect((await run(['inspect', '--max-age', '5'], cookie, {})).code).toBe(2)
  })

  it('inspect shows a payload that does not decode, with the reason', async () => {
    const signer = createFlaskCodec({ secrets: FLASK_KEY })
    const good = signer.sign({ a: 1 })
    const bad = Buffer.from('{"t":{" t":5}}').toString('base64url') + good.slice(good.indexOf('.'))
    expect(JSON.parse((await run(['inspect'], bad, {})).stdout)).toMatchObject({ format: 'flask', payload: { t: { ' t': 5 } }, payloadError: 'ERR_SESSION_MALFORMED' })
  })
})

describeFlask('frasco --format flask against real Flask (oracle)', () => {
  let oracle: Oracle
  beforeAll(() => {
    oracle = startOracle()
  })
  afterAll(() => oracle?.close())
  const nowS = () => Math.floor(Date.now() / 1000)

  const SESSION = py.dict({
    username: py.str('ada'),
    t: py.tuple(py.int(1), py.str('two')),
    b: py.bytes('00ff'),
    m: py.markup('<i>hi</i>'),
    u: py.uuid('1b4e28ba2fa111d2883f0016d3cca427'),
    d: py.datetime('2024-02-29T12:34:56+00:00'),
    di: py.dict({ ' t': py.int(1) }),
    s: py.str('é ☃ 😀'),
  })

  it('verifies cookies Flask wrote (plain, permanent, flashes, compressed), printing exactly the JSON Flask signed', async () => {
    const made = await oracle.run<{ cookie: string }>([
      { op: 'flask_save', secret_key: FLASK_KEY, session: SESSION, now: nowS() },
      { op: 'flask_save', secret_key: FLASK_KEY, session: py.dict({ username: py.str('ada') }), permanent: true, now: nowS() },
      { op: 'flask_save', secret_key: FLASK_KEY, session: py.dict({}), flash: [['error', 'Bad'], ['message', 'Hi']], now: nowS() },
      { op: 'flask_save', secret_key: FLASK_KEY, session: py.dict({ items: py.list(...Array.from({ length: 50 }, (_, i) => py.tuple(py.int(i), py.str('item')))) }), now: nowS() },
    ])
    const views = await oracle.run<{ session: Spec }>(made.map((m) => ({ op: 'flask_open', secret_key: FLASK_KEY, cookie: m.cookie, now: nowS() })))
    expect(made[3]?.cookie.startsWith('.')).toBe(true)
    for (const [i, { cookie }] of made.entries()) {
      const result = await run(['verify', '--format', 'flask'], cookie, flaskEnv)
      expect(result).toMatchObject({ code: 0, stderr: '' })
      expect(normalizeSpec(toSpec(decodeFlaskJson(result.stdout)))).toEqual(normalizeSpec(views[i]?.session as Spec))
      if (!cookie.startsWith('.')) expect(result.stdout).toBe(`${Buffer.from(cookie.slice(0, cookie.indexOf('.')), 'base64url').toString()}\n`)
      const shown = JSON.parse((await run(['inspect'], cookie, {})).stdout)
      expect(shown).toMatchObject({ format: 'flask', verified: false, payload: JSON.parse(result.stdout) })
    }
    const wrong = await run(['verify', '--format', 'flask'], made[0]?.cookie, { FRASCO_SECRETS: 'another-key-entirely' })
    expect(wrong.code).toBe(1)
  })

  it('signs cookies that Flask opens with the Python types of the tagged JSON', async () => {
    const input = '{"username":"ada","t":{" t":[1,"two"]},"b":{" b":"AP8="},"m":{" m":"<i>hi</i>"},"u":{" u":"1b4e28ba2fa111d2883f0016d3cca427"},"d":{" d":"Thu, 29 Feb 2024 12:34:56 GMT"},"di":{" di":{" t__":1}},"s":"\\u00e9 \\u2603 \\ud83d\\ude00","_permanent":true}'
    const signed = await run(['sign', '--format', 'flask'], input, flaskEnv)
    expect(signed.code).toBe(0)
    const [view] = await oracle.run<{ session: Spec; permanent: boolean; loads_error: string | null }>([
      { op: 'flask_open', secret_key: FLASK_KEY, cookie: signed.stdout.trim(), now: nowS() },
    ])
    expect(view?.loads_error).toBeNull()
    expect(view?.permanent).toBe(true)
    const expected = py.dict([...(SESSION[1] as Array<[string, Spec]>), ['_permanent', py.bool(true)]])
    expect(normalizeSpec(view?.session as Spec)).toEqual(normalizeSpec(expected))
  })
})

describe('the frasco binary (built)', () => {
  const bin = join(import.meta.dirname, '..', 'dist', 'cli', 'bin.js')

  it('signs and verifies through real processes', async () => {
    if (!existsSync(bin)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: join(import.meta.dirname, '..') })
    const env = { ...process.env, FRASCO_SECRETS: secret }
    const token = execFileSync(process.execPath, [bin, 'sign'], { input: '{"username":"admin"}', env }).toString()
    const out = execFileSync(process.execPath, [bin, 'verify'], { input: token, env }).toString()
    expect(JSON.parse(out)).toEqual({ username: 'admin' })
    const failure = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [bin, 'verify'], { env }, (error, _stdout, stderr) =>
        resolve({ code: error ? (error as { code?: number }).code ?? null : 0, stderr }),
      )
      child.stdin?.end('f1.nope.nope.nope')
    })
    expect(failure.code).toBe(1)
    expect(failure.stderr).toContain('ERR_SESSION_UNKNOWN_KEY')
  })

  it('exits 0 for --help, 1 for an invalid token with a hint, 2 for a usage error with one line, through real processes', async () => {
    if (!existsSync(bin)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: join(import.meta.dirname, '..') })
    const exec = (argv: string[], input: string) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, [bin, ...argv], { env: { ...process.env, FRASCO_SECRETS: secret } }, (error, stdout, stderr) =>
          resolve({ code: error ? (error as { code?: number }).code ?? null : 0, stdout, stderr }),
        )
        child.stdin?.end(input)
      })
    const help = await exec(['verify', '--help'], '')
    expect(help).toMatchObject({ code: 0, stderr: '' })
    expect(help.stdout).toContain('--clock-tolerance SECONDS')
    const x1 = createSerializer({ secrets: secret, purpose: DEFAULT_CLI_PURPOSE, encrypt: true }).sign({ a: 1 })
    expect(await exec(['verify'], x1)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'frasco verify: invalid token: ERR_SESSION_UNSUPPORTED_VERSION: this is an encrypted Frasco token (x1): add --encrypt\n',
    })
    expect(await exec(['sign', '--help-me'], '{}')).toEqual({
      code: 2,
      stdout: '',
      stderr: "frasco sign: unknown option '--help-me'\nRun 'frasco sign --help' for usage.\n",
    })
  })

  it.each([
    ['ASCII', 'a'],
    ['two-byte UTF-8, split across chunks', 'é'],
  ])('stops reading stdin once past 1 MiB (%s) and exits with 2, even on a pipe that never ends', async (_, unit) => {
    if (!existsSync(bin)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: join(import.meta.dirname, '..') })
    const env = { ...process.env, FRASCO_SECRETS: secret }
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [bin, 'verify'], { env }, (error, _stdout, stderr) =>
        resolve({ code: error ? (error as { code?: number }).code ?? null : 0, stderr }),
      )
      // An odd chunk length splits the two-byte characters between chunks.
      const chunk = Buffer.from(unit.repeat(40_000) + 'a', 'utf8')
      const stdin = child.stdin
      if (stdin === null) throw new Error('no stdin')
      stdin.on('error', () => {}) // EPIPE once the CLI stops reading: expected
      let open = true
      child.on('exit', () => (open = false))
      // Writes until the CLI goes away: a CLI that read everything would never finish.
      const pump = (): void => {
        while (open && !stdin.destroyed && stdin.write(chunk));
        if (open && !stdin.destroyed) stdin.once('drain', pump)
      }
      pump()
    })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('input is larger than 1048576 bytes')
  })
})
