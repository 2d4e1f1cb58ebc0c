#!/usr/bin/env node
// What Frasco adds to an app's bundle (issue 17, item 3): esbuild bundles and minifies each entry
// below for Node (ESM, node: built-ins external, tree shaking on), and the bundle is gzipped
// (level 9, as gzip-size and bundlephobia do). Entries:
//
//   - the typical app: `createSessions` from 'frasco' and `sessionMiddleware` from 'frasco/node',
//     both used (the manager built and the middleware made from it), against the 12 KB budget;
//   - `import * as frasco from 'frasco'` (everything the main entry exports);
//   - each subpath, all of its exports: frasco/node, frasco/fetch, frasco/fastify, frasco/koa,
//     frasco/hono, frasco/jar, frasco/cookie, frasco/stores, frasco/flask;
//   - peers, as an app imports them, with their dependencies: iron-session (`getIronSession`),
//     cookie-session (its middleware), express-session (its middleware and MemoryStore).
//
// Frasco is bundled from the built package (dist/, through package.json's `exports`, as an app
// resolves it); the peers and esbuild come from bench/peers. Setup and run:
//
//   cd bench/peers && npm install && cd ../..
//   node bench/size.mjs [--json=FILE] [--top=N]
//
// 1 KB = 1000 bytes. It also lists the largest modules of the typical app's bundle (esbuild's
// metafile: bytes each module contributes to the minified output), to show where the bytes are.
// It writes nothing unless --json is given; the budget is reported, not enforced.

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

/** The budget of issue 17 for the typical app's import, minified and gzipped. */
export const BUDGET = 12_000

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PEERS = fileURLToPath(new URL('./peers/', import.meta.url))

const SUBPATHS = ['node', 'fetch', 'fastify', 'koa', 'hono', 'jar', 'cookie', 'stores', 'flask']

/** The entries: `{ id, label, contents, resolveDir, peer? }`; `contents` is the app's module. */
export const ENTRIES = [
  {
    id: 'typical',
    label: "typical app: createSessions + sessionMiddleware (frasco, frasco/node)",
    contents: [
      "import { createSessions } from 'frasco'",
      "import { sessionMiddleware } from 'frasco/node'",
      "export const middleware = sessionMiddleware(createSessions({ secrets: process.env.FRASCO_SECRETS.split(',') }))",
    ].join('\n'),
    resolveDir: ROOT,
  },
  {
    id: 'frasco',
    label: "import * as frasco from 'frasco'",
    contents: "import * as frasco from 'frasco'\nexport default frasco",
    resolveDir: ROOT,
  },
  ...SUBPATHS.map((subpath) => ({
    id: `frasco/${subpath}`,
    label: `frasco/${subpath} (all exports)`,
    contents: `export * from 'frasco/${subpath}'`,
    resolveDir: ROOT,
  })),
  {
    id: 'iron-session',
    label: 'iron-session: getIronSession',
    contents: "import { getIronSession } from 'iron-session'\nexport { getIronSession }",
    resolveDir: PEERS,
    peer: 'iron-session',
  },
  {
    id: 'cookie-session',
    label: 'cookie-session: its middleware',
    contents: "import cookieSession from 'cookie-session'\nexport const middleware = cookieSession({ keys: process.env.KEYS.split(',') })",
    resolveDir: PEERS,
    peer: 'cookie-session',
  },
  {
    id: 'express-session',
    label: 'express-session: its middleware (MemoryStore)',
    contents: "import session from 'express-session'\nexport const middleware = session({ secret: process.env.SECRET, resave: false, saveUninitialized: false })",
    resolveDir: PEERS,
    peer: 'express-session',
  },
]

function loadEsbuild() {
  if (!existsSync(new URL('./peers/node_modules/esbuild/package.json', import.meta.url))) {
    throw new Error('esbuild is not installed; run `cd bench/peers && npm install` (the main package.json does not carry it)')
  }
  return createRequire(new URL('./peers/package.json', import.meta.url))('esbuild')
}

function versionOf(name) {
  // Read from the file: some packages' `exports` do not expose their package.json.
  return JSON.parse(readFileSync(new URL(`./peers/node_modules/${name}/package.json`, import.meta.url), 'utf8')).version
}

/**
 * Bundles every entry; returns per entry `{ id, label, version?, minified, gzipped, modules }`,
 * `modules` being `[path, bytes in the minified output]`, largest first.
 */
export async function measureSizes() {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('dist/ is missing; build the library first (npx tsc -p tsconfig.build.json)')
  const esbuild = loadEsbuild()
  const results = []
  for (const entry of ENTRIES) {
    const built = await esbuild.build({
      stdin: { contents: entry.contents, resolveDir: entry.resolveDir, sourcefile: `${entry.id.replace(/\W/g, '-')}.entry.mjs`, loader: 'js' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      treeShaking: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
    })
    const output = built.outputFiles[0].contents
    const meta = Object.values(built.metafile.outputs)[0]
    const modules = Object.entries(meta.inputs)
      .map(([path, { bytesInOutput }]) => [path, bytesInOutput])
      .filter(([, bytes]) => bytes > 0)
      .sort((a, b) => b[1] - a[1])
    results.push({
      id: entry.id,
      label: entry.label,
      version: entry.peer === undefined ? undefined : versionOf(entry.peer),
      minified: output.length,
      gzipped: gzipSync(output, { level: 9 }).length,
      modules,
    })
  }
  return results
}

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`

/** The size table in Markdown, the typical app's row marked against the budget. */
export function sizeTable(results) {
  const lines = ['| import | minified | minified + gzip |', '| --- | ---: | ---: |']
  for (const r of results) {
    const name = r.version === undefined ? r.label : `${r.label} (${r.version}, with its dependencies)`
    const budget = r.id === 'typical' ? ` (budget ${kb(BUDGET)}: ${r.gzipped <= BUDGET ? 'met' : '**not met**'})` : ''
    lines.push(`| ${name} | ${r.minified.toLocaleString('en-US')} B (${kb(r.minified)}) | ${r.gzipped.toLocaleString('en-US')} B (**${kb(r.gzipped)}**)${budget} |`)
  }
  return lines.join('\n')
}

async function main() {
  const json = process.argv.find((a) => a.startsWith('--json='))?.slice('--json='.length)
  const topArg = process.argv.find((a) => a.startsWith('--top='))
  const top = topArg === undefined ? 15 : Number(topArg.slice('--top='.length))
  for (const arg of process.argv.slice(2)) {
    if (!/^--(json|top)=./.test(arg)) throw new TypeError(`unknown argument ${arg}; usage: node bench/size.mjs [--json=FILE] [--top=N]`)
  }
  const results = await measureSizes()
  console.log(sizeTable(results))
  const typical = results.find((r) => r.id === 'typical')
  console.log(`\ntypical app: ${kb(typical.gzipped)} min+gzip against a budget of ${kb(BUDGET)}: ${typical.gzipped <= BUDGET ? 'met' : `not met (${kb(typical.gzipped - BUDGET)} over)`}`)
  console.log(`\nlargest modules of the typical app's bundle (bytes in the minified output, of ${typical.minified.toLocaleString('en-US')}):`)
  for (const [path, bytes] of typical.modules.slice(0, top)) {
    console.log(`  ${String(bytes).padStart(7)}  ${((100 * bytes) / typical.minified).toFixed(1).padStart(5)} %  ${path}`)
  }
  if (json !== undefined) {
    writeFileSync(json, `${JSON.stringify({ date: new Date().toISOString(), budget: BUDGET, results }, null, 2)}\n`)
    console.log(`\nwrote ${json}`)
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(`bench/size: ${error.message}`)
    process.exitCode = 1
  })
}
