import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CLI_PURPOSE, main } from '../src/cli/main.js'
import { FLASK_DEFAULT_LIFETIME, createFlaskCodec } from '../src/flask/codec.js'
import { decodeFlaskJson } from '../src/flask/json.js'
import { MAX_LIFETIME } from '../src/lib/options.js'
import { createSerializer } from '../src/signer.js'
import { createSessions } from '../src/sessions.js'
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
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('seconds, not milliseconds')
    expect(result.stderr).toContain('Usage: frasco')
    expect(result.stdout).toBe('')
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
    ['no command', [], {}],
    ['an unknown command', ['frobnicate'], {}],
    ['an unknown option', ['sign', '--secret', 'x'], { FRASCO_SECRETS: secret }],
    ['a positional argument', ['verify', 'token'], { FRASCO_SECRETS: secret }],
    ['no secrets', ['sign'], {}],
    ['a weak secret', ['sign'], { FRASCO_SECRETS: 'any random string' }],
    ['a bad --expires-in', ['sign', '--expires-in', 'soon'], { FRASCO_SECRETS: secret }],
    ['a zero --expires-in', ['sign', '--expires-in', '0'], { FRASCO_SECRETS: secret }],
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
  ])('exits 2 with the usage for %s', async (_, argv, input, env) => {
    const result = await run(argv, input, env)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Usage: frasco')
    expect(result.stdout).toBe('')
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
