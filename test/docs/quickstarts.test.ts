/**
 * The README's quick starts run as printed: each block is taken from README.md, its types erased
 * (ts.transpileModule, nothing else changed), and run by Node as a real server on 127.0.0.1, with
 * one substitution: `.listen(5000)` becomes `.listen(0, '127.0.0.1')`, a free port. The Fetch
 * quick start exports `{ fetch }` for Bun and Deno to serve; here @hono/node-server serves it. A
 * browser-like cookie jar then logs in, counts and logs out over real sockets, as the README's
 * text describes.
 *
 * The servers run in child processes (the README's code reads FRASCO_SECRETS and listens at its
 * top level), importing `frasco` from the built package (dist/) through a node_modules symlink.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CookieJar, formPost } from '../helpers/server.js'
import { root, snippetUnder } from './snippets.js'

/** Reports the port of the first server the child listens on, as one stdout line. */
const REPORT_PORT = `
const net = require('node:net')
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  this.once('listening', () => process.stdout.write('frasco-docs-listening ' + this.address().port + '\\n'))
  return listen.apply(this, args)
}
`

/** Serves a module's default export `{ fetch }`, as Bun and `deno serve` do. */
const SERVE_FETCH = `
import { serve } from '@hono/node-server'
const { default: app } = await import(process.argv[2])
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
`

let dir = ''
const children: ChildProcess[] = []

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'frasco-quickstart-'))
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  mkdirSync(join(dir, 'node_modules/@hono'), { recursive: true })
  symlinkSync(root, join(dir, 'node_modules/frasco'), 'dir')
  symlinkSync(join(root, 'node_modules/express'), join(dir, 'node_modules/express'), 'dir')
  symlinkSync(join(root, 'node_modules/@hono/node-server'), join(dir, 'node_modules/@hono/node-server'), 'dir')
  writeFileSync(join(dir, 'report-port.cjs'), REPORT_PORT)
  writeFileSync(join(dir, 'serve-fetch.mjs'), SERVE_FETCH)
})

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill()
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

/** The README block under `heading`, types erased, the port replaced. */
function program(heading: string, name: string): string {
  const { code } = snippetUnder('README.md', heading)
  const listens = code.match(/\.listen\(5000\)/g) ?? []
  const served = /^export default \{ fetch: \w+ \}/m.test(code)
  expect(listens.length + (served ? 1 : 0), `${heading}: one .listen(5000) or one export default { fetch }`).toBe(1)
  const js = ts.transpileModule(code.replace('.listen(5000)', ".listen(0, '127.0.0.1')"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  }).outputText
  const path = join(dir, `${name}.mjs`)
  writeFileSync(path, js)
  return path
}

/** Starts the program in a child process; resolves with the server's origin once it listens. */
async function start(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--require', join(dir, 'report-port.cjs'), ...args], {
    cwd: dir,
    env: { ...process.env, FRASCO_SECRETS: randomBytes(32).toString('base64url'), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const port = /^frasco-docs-listening (\d+)$/.exec(line)?.[1]
      if (port !== undefined) resolve(`http://127.0.0.1:${port}`)
    })
    child.on('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${stderr}`)))
  })
}

/** The README's story: not logged in; log in as admin; count 1, 2; log out; not logged in. */
async function logInCountLogOut(origin: string): Promise<void> {
  const jar = new CookieJar()
  const page = async (): Promise<string> => {
    const response = await jar.fetch(`${origin}/`)
    expect(response.status).toBe(200)
    return response.text()
  }
  expect(await page()).toBe('You are not logged in')
  expect(jar.names()).toEqual([])

  const login = await jar.fetch(`${origin}/login`, formPost({ username: 'admin' }))
  expect(login.status).toBe(303)
  expect(new URL(login.headers.get('location') ?? '', origin).pathname).toBe('/')
  expect(jar.names()).toEqual(['session'])

  expect(await page()).toBe('Logged in as admin, visit 1')
  expect(await page()).toBe('Logged in as admin, visit 2')
  expect(await page()).toBe('Logged in as admin, visit 3')

  const logout = await jar.fetch(`${origin}/logout`, { method: 'POST' })
  expect(logout.status).toBe(303)
  expect(jar.names()).toEqual([]) // the cookie was deleted
  expect(await page()).toBe('You are not logged in')
}

describe("README quick starts, run as printed", () => {
  it('node:http: log in, count, log out', async () => {
    const origin = await start([program('## Quick start: node:http', 'node-http')])
    await logInCountLogOut(origin)
  })

  it('Express: log in, count, log out', async () => {
    const origin = await start([program('## Quick start: Express-style middleware', 'express')])
    await logInCountLogOut(origin)
  })

  it('Express: "remember me" makes the cookie persistent', async () => {
    const origin = await start([program('## Quick start: Express-style middleware', 'express-remember')])
    const jar = new CookieJar()
    await jar.fetch(`${origin}/login`, formPost({ username: 'admin', remember: 'on' }))
    expect(jar.received.at(-1)?.attributes['max-age']).toMatch(/^\d+$/)
    jar.endBrowserSession()
    expect(await (await jar.fetch(`${origin}/`)).text()).toBe('Logged in as admin, visit 1')
  })

  it('Fetch: log in, count, log out', async () => {
    const origin = await start([join(dir, 'serve-fetch.mjs'), program('## Quick start: Fetch API', 'fetch')])
    await logInCountLogOut(origin)
  })
})
