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
import { join, posix } from 'node:path'
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
  it('holds only dist/, docs/, examples/, README.md, LICENSE, CHANGELOG.md and package.json', () => {
    const paths = packed.files.map((file) => file.path).sort()
    const allowed = (path: string) =>
      path.startsWith('dist/') ||
      /^docs\/[a-z-]+\.(md|svg)$/.test(path) ||
      /^examples\/[a-z-]+\.ts$/.test(path) ||
      ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json'].includes(path)
    expect(paths.filter((path) => !allowed(path))).toEqual([])
    expect(paths).toEqual(
      expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'docs/index.md', 'examples/login.ts']),
    )
    // No sources, tests, maps or build info leak in through dist/.
    expect(paths.filter((path) => path.startsWith('dist/') && /\.(ts|map|tsbuildinfo)$/.test(path) && !path.endsWith('.d.ts'))).toEqual([])
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

// -------------------------------------------------------------------------------------------------
// Links in the installed documentation
// -------------------------------------------------------------------------------------------------

/**
 * Links that point into the repository, not the package. Each is a link the docs should stop
 * making (a repository URL, or plain text); it is listed here only until they do.
 */
// Links that point into the repository rather than the package (none today; each needs a reason).
const REPOSITORY_ONLY = new Set<string>()

/** A file's Markdown without its fenced code blocks (a `#` or a link there is code). */
function withoutFences(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '')
}

/** A file's Markdown without code: fenced blocks and inline code spans (links there are text). */
function prose(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '')
}

/** Every link target of a Markdown file: inline links and images `[text](target "title")`, and `[label]: target` definitions. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown)
  const inline = [...text.matchAll(/!?\[(?:[^\]\n]|\][^(\n])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1] as string)
  const definitions = [...text.matchAll(/^ {0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((match) => match[1] as string)
  return [...inline, ...definitions]
}

/**
 * GitHub's slug of a heading's text (github-slugger): lower case; punctuation and symbols dropped
 * but `-` and `_` (so backticks go, and their text stays); each space a hyphen.
 */
function slug(heading: string): string {
  return heading
    .split(/(`[^`]*`)/)
    // Outside code spans, a link keeps its text and an HTML tag goes; inside, everything is text.
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '')))
    .join('')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-')
}

/**
 * The anchors a Markdown file's headings offer, as GitHub makes them: {@link slug}, and for a slug
 * already taken, `-1`, `-2`… (the first free one, as github-slugger counts).
 */
function headingAnchors(markdown: string): Set<string> {
  const found = new Set<string>()
  const counts = new Map<string, number>()
  for (const [, heading] of withoutFences(markdown).matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/gm)) {
    const base = slug(heading as string)
    let anchor = base
    while (found.has(anchor)) {
      const count = (counts.get(base) ?? 0) + 1
      counts.set(base, count)
      anchor = `${base}-${count}`
    }
    found.add(anchor)
  }
  return found
}

/**
 * Explicit anchors, `<a id="…">` / `name="…"`: a page keeps one under a heading's old name for
 * links from outside (old bookmarks, other sites). Links inside the package may not use them: they
 * must follow a renamed heading (an alias left for the old name let a stale link pass unnoticed), and
 * not every viewer honours raw HTML anchors.
 */
function htmlAnchors(markdown: string): Set<string> {
  return new Set([...withoutFences(markdown).matchAll(/<a\s+(?:id|name)="([^"]+)"/g)].map((match) => match[1] as string))
}

/** Follows every relative link of `file` (relative to the package root) and returns the broken ones. */
function brokenLinks(packageRoot: string, file: string): string[] {
  const markdown = readFileSync(join(packageRoot, file), 'utf8')
  const broken: string[] = []
  for (const target of linkTargets(markdown)) {
    // Absolute URLs (https:, mailto:) and protocol-relative ones leave the package on purpose.
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue
    const label = `${file} → ${target}`
    if (REPOSITORY_ONLY.has(label)) continue
    const hash = target.indexOf('#')
    const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash))
    const anchor = hash === -1 ? '' : decodeURIComponent(target.slice(hash + 1))
    const resolved = path === '' ? file : posix.normalize(posix.join(posix.dirname(file), path))
    if (resolved.startsWith('../') || posix.isAbsolute(resolved)) {
      broken.push(`${label}: outside the package`)
      continue
    }
    const absolute = join(packageRoot, resolved)
    if (!existsSync(absolute)) {
      broken.push(`${label}: ${resolved} is not in the package`)
      continue
    }
    if (anchor === '' || !resolved.endsWith('.md')) continue
    const page = readFileSync(absolute, 'utf8')
    if (headingAnchors(page).has(anchor)) continue
    broken.push(
      htmlAnchors(page).has(anchor)
        ? `${label}: #${anchor} is only an <a id> kept in ${resolved} for old links from outside; link to the heading`
        : `${label}: ${resolved} has no heading #${anchor}`,
    )
  }
  return broken
}

describe('the installed documentation', () => {
  it('README.md links only to files inside the installed package, and to headings they have', () => {
    const installed = join(project, 'node_modules/frasco')
    const targets = linkTargets(readFileSync(join(installed, 'README.md'), 'utf8'))
    // The README links to the docs; an empty list would mean the parser lost them.
    expect(targets.filter((target) => target.startsWith('docs/')).length).toBeGreaterThan(5)
    expect(brokenLinks(installed, 'README.md')).toEqual([])
  })

  it('every installed docs/*.md links only to files inside the package, and to headings they have', () => {
    const installed = join(project, 'node_modules/frasco')
    const pages = readdirSync(join(installed, 'docs')).filter((name) => name.endsWith('.md'))
    expect(pages).toContain('index.md')
    expect(pages.flatMap((page) => brokenLinks(installed, `docs/${page}`))).toEqual([])
  })

  it('finds broken links and missing headings (the checker itself)', () => {
    const root = join(workdir, 'links')
    mkdirSync(join(root, 'docs'), { recursive: true })
    writeFileSync(
      join(root, 'docs/a.md'),
      [
        '# A page',
        '## Remember me (`30` days)',
        '<a id="encrypted-format-version-1-e1"></a>',
        '',
        '## Encrypted format `e1` (read, no longer written)',
        '## Example',
        '## Example',
        '## Example-1',
        '## `Map<K, V>` and [links](a.md), *emphasis* & more_words',
        '```md\n[in code](nowhere.md)\n# Not a heading\n```',
      ].join('\n'),
    )
    writeFileSync(
      join(root, 'README.md'),
      [
        '[ok](docs/a.md) [ok](docs/a.md#remember-me-30-days) [ok](#readme) [web](https://example.com/x.md)',
        '[ok](docs/a.md#encrypted-format-e1-read-no-longer-written) [ok](docs/a.md#example) [ok](docs/a.md#example-1)',
        '[ok](docs/a.md#example-1-1) [ok](docs/a.md#mapk-v-and-links-emphasis--more_words)',
        '[gone](docs/b.md) [no heading](docs/a.md#nope) [up](../outside.md) `[code](nowhere.md)`',
        '[alias](docs/a.md#encrypted-format-version-1-e1) [fenced](docs/a.md#not-a-heading) [third](docs/a.md#example-2)',
        '# Readme',
        '[ref]: docs/c.md',
      ].join('\n'),
    )
    expect(brokenLinks(root, 'README.md')).toEqual([
      'README.md → docs/b.md: docs/b.md is not in the package',
      'README.md → docs/a.md#nope: docs/a.md has no heading #nope',
      'README.md → ../outside.md: outside the package',
      'README.md → docs/a.md#encrypted-format-version-1-e1: #encrypted-format-version-1-e1 is only an <a id> kept in docs/a.md for old links from outside; link to the heading',
      'README.md → docs/a.md#not-a-heading: docs/a.md has no heading #not-a-heading',
      'README.md → docs/a.md#example-2: docs/a.md has no heading #example-2',
      'README.md → docs/c.md: docs/c.md is not in the package',
    ])
    expect(brokenLinks(root, 'docs/a.md')).toEqual([])
  })

  it('reports the stale link guide.md once made to format.md#encrypted-format-version-1-e1', () => {
    const root = join(workdir, 'stale-link')
    mkdirSync(join(root, 'docs'), { recursive: true })
    const installed = join(project, 'node_modules/frasco')
    writeFileSync(join(root, 'docs/format.md'), readFileSync(join(installed, 'docs/format.md'), 'utf8'))
    writeFileSync(join(root, 'docs/guide.md'), 'the format is in\n[format.md](format.md#encrypted-format-version-1-e1).\n')
    expect(brokenLinks(root, 'docs/guide.md')).toEqual([expect.stringMatching(/^docs\/guide\.md → format\.md#encrypted-format-version-1-e1: /)])
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
      `import { createServer, type IncomingMessage } from 'node:http'
import { createSessions, createSerializer, type Session, type SessionError, type VerifyResult } from 'frasco'
import { createCookieWriter, stringifySetCookie } from 'frasco/cookie'
import { sessionMiddleware, withSessions as withNodeSessions, type SessionRequest } from 'frasco/node'
import { commitSession, readSession, withSessions as withFetchSessions } from 'frasco/fetch'
import { createFlaskCodec, createFlaskFormat, tuple, type FlaskCodec } from 'frasco/flask'
import type {} from 'frasco/node/globals'
import { createMemoryStore } from 'frasco/stores'

interface AppData {
  username: string
  visits: number
}

declare module 'frasco/node/globals' {
  interface RequestSessionData extends AppData {}
}

// Express's, Connect's and node:http's req, typed by frasco/node/globals.
export function connectStyle(req: IncomingMessage): string[] {
  req.session.visits = (req.session.visits ?? 0) + 1
  // @ts-expect-error visits holds a number
  req.session.visits = 'many'
  req.session = null
  return req.flash('error')
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

// Server-side sessions: the same adapters, asynchronous explicit reads and commits.
const stored = createSessions<AppData>({ secrets: 'typed-consumer-secret-0123456789-abcdefghij', store: createMemoryStore(), user: (data) => data.username })
export const storedMiddleware = sessionMiddleware(stored)
export async function storedExplicit(request: Request): Promise<Response> {
  const session: Session<AppData> = await readSession(stored, request)
  session.visits = 1
  const response: Response = await commitSession(stored, request, new Response('ok'), session)
  const ended: number = await stored.revokeUser('ada')
  return ended === 0 ? response : new Response(stored.sessionId(session) ?? '')
}
// @ts-expect-error a store-backed manager has no synchronous read
stored.read(null)

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
