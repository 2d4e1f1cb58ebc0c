import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CLI_PURPOSE, main } from '../src/lib/cli.js'
import { createSerializer } from '../src/signer.js'

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
    ['no command', [], {}],
    ['an unknown command', ['frobnicate'], {}],
    ['an unknown option', ['sign', '--secret', 'x'], { FRASCO_SECRETS: secret }],
    ['a positional argument', ['verify', 'token'], { FRASCO_SECRETS: secret }],
    ['no secrets', ['sign'], {}],
    ['a weak secret', ['sign'], { FRASCO_SECRETS: 'any random string' }],
    ['a bad --expires-in', ['sign', '--expires-in', 'soon'], { FRASCO_SECRETS: secret }],
    ['--max-age on sign', ['sign', '--max-age', '5'], { FRASCO_SECRETS: secret }],
    ['a missing secrets file', ['verify', '--secrets-file', '/nonexistent/frasco'], {}],
  ])('exits 2 with a helpful message for %s', async (_, argv, env) => {
    const result = await run(argv, '{}', env)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Usage: frasco')
    expect(result.stdout).toBe('')
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
      issuedAt: '2027-01-15T08:00:00.000Z',
      expiresAt: '2027-01-15T08:01:00.000Z',
      payload: { username: 'admin' },
    })
    expect(shown.warning).toMatch(/UNVERIFIED/)
  })

  it('shows that a token is encrypted and reveals nothing else', async () => {
    const token = createSerializer({ secrets: secret, purpose: 'x', encrypt: true }).sign({ username: 'admin' })
    const result = await run(['inspect'], token, {})
    const shown = JSON.parse(result.stdout)
    expect(shown).toMatchObject({ verified: false, version: 'e1', encrypted: true })
    expect(Object.keys(shown).sort()).toEqual(['encrypted', 'format', 'keyId', 'note', 'verified', 'version'])
    expect(result.stdout).not.toContain('admin')
  })

  it('signs and verifies encrypted tokens with --encrypt', async () => {
    const signed = await run(['sign', '--encrypt'], '{"username":"admin"}')
    expect(signed.stdout).toMatch(/^e1\./)
    expect(JSON.parse((await run(['verify', '--encrypt'], signed.stdout)).stdout)).toEqual({ username: 'admin' })
    expect((await run(['verify'], signed.stdout)).stderr).toContain('ERR_SESSION_UNSUPPORTED_VERSION')
  })

  it('says so when the input is not a Frasco token', async () => {
    expect(JSON.parse((await run(['inspect'], 'garbage', {})).stdout)).toMatchObject({ verified: false, format: 'unknown' })
  })
})

describe('the frasco binary (built)', () => {
  const bin = join(import.meta.dirname, '..', 'dist', 'cli.js')

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
})
