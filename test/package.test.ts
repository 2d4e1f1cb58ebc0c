/**
 * The package as users get it: `npm pack` the built library, install the tarball into a fresh
 * project (offline: Frasco has no dependencies to fetch), and use it from ESM, CommonJS
 * (`require(esm)`, unflagged from Node 20.19 and 22.12), strict TypeScript and the command line.
 *
 * Packs the `dist/` that `npm run build` made (`--ignore-scripts`: nothing rebuilds it while other
 * test files read it).
 */
import { execFile, type ExecFileOptions } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')
const NODE_TYPES = join(ROOT, 'node_modules/@types')
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string
  version: string
  exports: Record<string, string | Record<string, string>>
  bin: Record<string, string>
}

// npm run-script exports npm_config_* (prefix, cache, …) and npm_package_*: a nested npm must not
// see them, or `npm install` in the temporary project could act on the repository instead.
const cleanEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'NODE_OPTIONS' && name !== 'INIT_CWD'),
)

interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

function run(command: string, args: readonly string[], options: ExecFileOptions & { input?: string } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    // The timeout only stops a hung process; nothing is asserted about durations.
    const child = execFile(command, args, { env: cleanEnv, timeout: 120_000, maxBuffer: 16 * 1024 * 1024, ...options, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout: String(stdout), stderr: String(stderr) })
    })
    child.stdin?.end(options.input ?? '')
  })
}

/** Runs a command and fails with its whole output unless it exits 0. */
async function ok(command: string, args: readonly string[], options: ExecFileOptions & { input?: string } = {}): Promise<string> {
  const result = await run(command, args, options)
  expect(result.code, `${command} ${args.join(' ')} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`).toBe(0)
  return result.stdout
}

let workdir = ''
let project = ''
let packed: { filename: string; files: Array<{ path: string; mode: number }> }

beforeAll(async () => {
  expect(existsSync(join(ROOT, 'dist/index.js')), 'dist/ is missing: run `npm run build` first').toBe(true)
  workdir = mkdtempSync(join(tmpdir(), 'frasco-package-'))
  const json = await ok('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', workdir], { cwd: ROOT })
  const reports = JSON.parse(json) as Array<typeof packed>
  expect(reports).toHaveLength(1)
  packed = reports[0] as typeof packed

  project = join(workdir, 'consumer')
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2))
  await ok('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', join(workdir, packed.filename)], { cwd: project })
}, 180_000)

afterAll(() => {
  if (workdir !== '') rmSync(workdir, { recursive: true, force: true })
})

describe('the tarball (npm pack)', () => {
  it('holds only dist/, README.md, LICENSE, CHANGELOG.md and package.json', () => {
    const paths = packed.files.map((file) => file.path).sort()
    const allowed = (path: string) => path.startsWith('dist/') || ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json'].includes(path)
    expect(paths.filter((path) => !allowed(path))).toEqual([])
    expect(paths).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']))
    // No sources, tests, maps or build info leak in through dist/.
    expect(paths.filter((path) => /\.(ts|map|tsbuildinfo)$/.test(path) && !path.endsWith('.d.ts'))).toEqual([])
  })

  it('holds every file that exports and bin point to', () => {
    const paths = new Set(packed.files.map((file) => file.path))
    const targets = Object.values(manifest.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)))
    for (const target of [...targets, ...Object.values(manifest.bin)]) expect(paths, target).toContain(target.replace(/^\.\//, ''))
  })

  it('installs with no dependencies: frasco is alone in node_modules', () => {
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/frasco/package.json'), 'utf8')) as Record<string, unknown>
    expect(installed.version).toBe(manifest.version)
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies', 'bundledDependencies']) {
      expect(installed[field], field).toBeUndefined()
    }
    expect(readdirSync(join(project, 'node_modules')).filter((name) => !name.startsWith('.'))).toEqual(['frasco'])
  })
})

describe('the installed package', () => {
  it('works from ESM through every entry point', async () => {
    writeFileSync(
      join(project, 'esm.mjs'),
      `import * as root from 'frasco'
import { createSessions, createSigner, SessionError } from 'frasco'
import { withSessions as withNodeSessions, sessionMiddleware } from 'frasco/node'
import { withSessions as withFetchSessions } from 'frasco/fetch'
import { getCookie, stringifySetCookie } from 'frasco/cookie'
import { createFlaskCodec, createFlaskFormat, tuple } from 'frasco/flask'
import manifest from 'frasco/package.json' with { type: 'json' }

const secrets = ['esm-consumer-secret-0123456789-abcdefghij']
const sessions = createSessions({ secrets })
const handler = withFetchSessions(sessions, (request, session) => {
  session.set('visits', (session.get('visits') ?? 0) + 1)
  return new Response('visit ' + session.get('visits'))
})
const first = await handler(new Request('http://app.test/'))
const cookie = first.headers.getSetCookie()[0].split(';')[0]
const second = await handler(new Request('http://app.test/', { headers: { cookie } }))
const signer = createSigner({ secrets, purpose: 'reset' })
const flask = createFlaskCodec({ secrets: 'flask-secret' })
const flashed = flask.verify(flask.sign({ _flashes: [tuple('message', 'Hi')] }))
const flaskSessions = createSessions({ secrets: 'flask-secret', format: createFlaskFormat() })
const flaskSession = flaskSessions.read('session=' + getCookie(stringifySetCookie('session', flask.sign({ user: 'ada', _permanent: true })), 'session'))
console.log(JSON.stringify({
  visits: await second.text(),
  signed: signer.unsign(signer.sign('user:42')),
  rejected: signer.verify('f1.x.y.z').error instanceof SessionError,
  flask: flashed.ok && flashed.value._flashes[0][1],
  flaskSession: [flaskSession.get('user'), flaskSession.persistent],
  rootHasCookieCodec: 'parseCookie' in root || 'stringifySetCookie' in root,
  node: typeof withNodeSessions(sessions, () => {}) + ' ' + typeof sessionMiddleware(sessions),
  version: manifest.version,
}))
`,
    )
    const stdout = await ok(process.execPath, ['esm.mjs'], { cwd: project })
    expect(JSON.parse(stdout)).toEqual({
      visits: 'visit 2',
      signed: 'user:42',
      rejected: true,
      flask: 'Hi',
      flaskSession: ['ada', true],
      rootHasCookieCodec: false,
      node: 'function function',
      version: manifest.version,
    })
  })

  it('works from CommonJS through require(esm)', async () => {
    writeFileSync(
      join(project, 'cjs.cjs'),
      `'use strict'
const { createSerializer } = require('frasco')
const { withSessions } = require('frasco/node')
const { commitSession } = require('frasco/fetch')
const { createFlaskCodec } = require('frasco/flask')
const { version } = require('frasco/package.json')
const serializer = createSerializer({ secrets: 'cjs-consumer-secret-0123456789-abcdefghij', purpose: 'invite', encrypt: true })
console.log(JSON.stringify({
  value: serializer.unsign(serializer.sign({ team: 'core' })),
  types: [withSessions, commitSession, createFlaskCodec].map((f) => typeof f),
  version,
}))
`,
    )
    // Node 20.19+ and 22.12+ load ES modules with require() without a flag (process.features
    // .require_module); older 20.x and 22.x need --experimental-require-module.
    const flags = process.features.require_module === true ? [] : ['--experimental-require-module']
    const result = await run(process.execPath, [...flags, 'cjs.cjs'], { cwd: project })
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({ value: { team: 'core' }, types: ['function', 'function', 'function'], version: manifest.version })
    if (flags.length === 0) expect(result.stderr, 'require(esm) warned').toBe('')
  })

  it('type-checks in a strict TypeScript project (module NodeNext), from ESM and CommonJS', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify(
        {
          compilerOptions: {
            target: 'ES2022',
            // No DOM: Request and Response must come from @types/node, as in a Node-only project.
            lib: ['ES2023'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
            verbatimModuleSyntax: true,
            // As most projects do; checking every .d.ts (@types/node included) would triple the time.
            skipLibCheck: true,
            typeRoots: [NODE_TYPES],
            types: ['node'],
            noEmit: true,
          },
          files: ['consumer.ts', 'consumer.cts'],
        },
        null,
        2,
      ),
    )
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { createServer } from 'node:http'
import { createSessions, createSerializer, type Session, type SessionError, type VerifyResult } from 'frasco'
import { createCookieWriter, stringifySetCookie } from 'frasco/cookie'
import { sessionMiddleware, withSessions as withNodeSessions, type SessionRequest } from 'frasco/node'
import { commitSession, readSession, withSessions as withFetchSessions } from 'frasco/fetch'
import { createFlaskCodec, createFlaskFormat, tuple, type FlaskCodec } from 'frasco/flask'

interface AppData {
  username: string
  visits: number
}

const sessions = createSessions<AppData>({ secrets: ['typed-consumer-secret-0123456789-abcdefghij'], lifetime: 3600, persistent: true, cookie: { secure: 'auto' } })
// @ts-expect-error lifetimes are named lifetime, not maxAge
createSessions({ secrets: 'typed-consumer-secret-0123456789-abcdefghij', maxAge: 3600 })
export const flaskSessions = createSessions({ secrets: 'flask-secret', format: createFlaskFormat() })

export const fetchHandler: (request: Request) => Promise<Response> = withFetchSessions(sessions, (request, session) => {
  session.set('visits', (session.get('visits') ?? 0) + 1)
  const name: string | undefined = session.username
  // @ts-expect-error visits holds a number
  session.set('visits', 'many')
  // @ts-expect-error no such key in AppData
  session.get('email')
  return new Response(name ?? request.url)
})

export function explicit(request: Request): Response {
  const session: Session<AppData> = readSession(sessions, request)
  session.username = 'ada'
  session.persistent = true
  return commitSession(sessions, request, new Response('ok'), session)
}

createServer(
  withNodeSessions(sessions, (req: SessionRequest<AppData>, res) => {
    res.end(String(req.session.get('visits')))
  }),
)
export const middleware = sessionMiddleware(sessions)

const invites = createSerializer<{ team: string }>({ secrets: 'typed-consumer-secret-0123456789-abcdefghij', purpose: 'invite' })
const result: VerifyResult<{ team: string }> = invites.verify(invites.sign({ team: 'core' }))
export const team: string = result.ok ? result.value.team : (result.error satisfies SessionError).code
// @ts-expect-error a { team: string } serializer signs nothing else
invites.sign({ team: 42 })

export const host = stringifySetCookie('__Host-id', 'v', { secure: true })
// @ts-expect-error __Host- cookies need secure: true
stringifySetCookie('__Host-id', 'v', { secure: false })
// @ts-expect-error __Host- cookies take no domain
createCookieWriter('__Host-id', { secure: true, domain: 'example.com' })

const flask: FlaskCodec = createFlaskCodec({ secrets: 'flask-secret' })
export const flaskCookie: string = flask.sign({ _flashes: [tuple('message', 'Hi')] })
`,
    )
    // A CommonJS TypeScript module may require() the ESM-only package under module NodeNext (TS 5.8+).
    writeFileSync(
      join(project, 'consumer.cts'),
      `import frasco = require('frasco')
import flask = require('frasco/flask')
const sessions = frasco.createSessions<{ user: string }>({ secrets: 'cts-consumer-secret-0123456789-abcdefghij' })
const codec = flask.createFlaskCodec({ secrets: 'flask-secret' })
export = { sessions, codec }
`,
    )
    await ok(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: project })
  })

  it('runs the frasco binary: keygen through npx, sign and verify through node_modules/.bin', async () => {
    const secret = (await ok('npx', ['--no', 'frasco', 'keygen'], { cwd: project })).trim()
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const bin = join(project, 'node_modules/.bin/frasco')
    const env = { ...cleanEnv, FRASCO_SECRETS: secret }
    const token = (await ok(bin, ['sign', '--expires-in', '60'], { cwd: project, env, input: '{"username":"admin"}' })).trim()
    expect(token).toMatch(/^f1\./)
    expect(JSON.parse(await ok(bin, ['verify'], { cwd: project, env, input: token }))).toMatchObject({ username: 'admin' })
    const forged = await run(bin, ['verify'], { cwd: project, env, input: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` })
    expect(forged.code).toBe(1)
  })
})
