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
//   node bench/size.mjs [--json=FILE] [--top=N] [--what-if]
//
// --what-if also bundles the typical app without some of its parts (the store manager, the
// encryption, CSRF: their modules replaced by stubs), and with every string and template literal
// emptied (TypeScript's parser finds them), to show where the bytes are; measurements, not
// proposals.
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

/** How to install what the measurement needs (esbuild, and the peers it bundles). */
export const INSTALL_HINT = '`cd bench/peers && npm install` (the main package.json does not carry esbuild or the peers)'

/** Whether esbuild is installed in bench/peers, so that measureSizes() can run. */
export function esbuildInstalled() {
  return existsSync(new URL('./peers/node_modules/esbuild/package.json', import.meta.url))
}

function loadEsbuild() {
  if (!esbuildInstalled()) throw new Error(`esbuild is not installed; run ${INSTALL_HINT}`)
  return createRequire(new URL('./peers/package.json', import.meta.url))('esbuild')
}

function versionOf(name) {
  // Read from the file: some packages' `exports` do not expose their package.json.
  return JSON.parse(readFileSync(new URL(`./peers/node_modules/${name}/package.json`, import.meta.url), 'utf8')).version
}

function assertBuilt() {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('dist/ is missing; build the library first (npx tsc -p tsconfig.build.json)')
}

/** Bundles one entry: `{ minified, gzipped, modules }`, `modules` as in measureSizes. */
async function bundle(esbuild, entry, plugins = []) {
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
    plugins,
  })
  const output = built.outputFiles[0].contents
  const meta = Object.values(built.metafile.outputs)[0]
  const modules = Object.entries(meta.inputs)
    .map(([path, { bytesInOutput }]) => [path, bytesInOutput])
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1])
  return { minified: output.length, gzipped: gzipSync(output, { level: 9 }).length, modules }
}

/**
 * Bundles every entry; returns per entry `{ id, label, version?, minified, gzipped, modules }`,
 * `modules` being `[path, bytes in the minified output]`, largest first.
 */
export async function measureSizes() {
  assertBuilt()
  const esbuild = loadEsbuild()
  const results = []
  for (const entry of ENTRIES) {
    results.push({
      id: entry.id,
      label: entry.label,
      version: entry.peer === undefined ? undefined : versionOf(entry.peer),
      ...(await bundle(esbuild, entry)),
    })
  }
  return results
}

// What the typical app's bundle would weigh without some of its parts: modules of dist/ replaced
// by stubs exporting the same names, or every string and template literal emptied. Measurements
// of where the bytes are, not proposals (the stubbed bundles do not run).
const OPTIONAL = ['manager/stored.js', 'lib/xaes.js', 'lib/seal.js', 'csrf.js']
export const WHAT_IF = [
  { label: 'as built' },
  { label: 'without the store manager (manager/stored.js)', stub: ['manager/stored.js'] },
  { label: 'without encryption (lib/xaes.js, lib/seal.js)', stub: ['lib/xaes.js', 'lib/seal.js'] },
  { label: 'without CSRF (csrf.js)', stub: ['csrf.js'] },
  { label: 'without store, encryption and CSRF', stub: OPTIONAL },
  { label: 'every string and template literal emptied', literals: true },
  { label: 'literals emptied, without store, encryption and CSRF', literals: true, stub: OPTIONAL },
]

/** A module exporting the names `url`'s module exports, each `undefined`. */
async function stubOf(url) {
  const names = Object.keys(await import(url))
  return names.map((name) => (name === 'default' ? 'export default undefined' : `export const ${name} = undefined`)).join('\n')
}

/** `code` with the text of every string and template literal removed (module specifiers kept). */
function withoutLiterals(ts, code) {
  const source = ts.createSourceFile('module.js', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS)
  const cuts = []
  const visit = (node) => {
    const { kind, parent } = node
    const specifier =
      parent !== undefined &&
      (ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || (ts.isCallExpression(parent) && parent.expression.kind === ts.SyntaxKind.ImportKeyword))
    if ((kind === ts.SyntaxKind.StringLiteral && !specifier) || kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral || kind === ts.SyntaxKind.TemplateTail) {
      cuts.push([node.getStart(source) + 1, node.end - 1])
    } else if (kind === ts.SyntaxKind.TemplateHead || kind === ts.SyntaxKind.TemplateMiddle) {
      cuts.push([node.getStart(source) + 1, node.end - 2])
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  let out = code
  for (const [start, end] of cuts.sort((a, b) => b[0] - a[0])) out = out.slice(0, start) + out.slice(end)
  return out
}

/** The typical app bundled as each WHAT_IF variant: `{ label, minified, gzipped }`. */
export async function measureWhatIf() {
  assertBuilt()
  const esbuild = loadEsbuild()
  const ts = createRequire(import.meta.url)('typescript')
  const dist = fileURLToPath(new URL('../dist/', import.meta.url))
  const typical = ENTRIES.find((entry) => entry.id === 'typical')
  const results = []
  for (const variant of WHAT_IF) {
    const stubs = new Map()
    for (const path of variant.stub ?? []) stubs.set(`${dist}${path}`, await stubOf(new URL(`../dist/${path}`, import.meta.url)))
    const plugin = {
      name: 'what-if',
      setup(build) {
        build.onLoad({ filter: /\.js$/ }, (args) => {
          if (stubs.has(args.path)) return { contents: stubs.get(args.path), loader: 'js' }
          if (variant.literals === true && args.path.startsWith(dist)) return { contents: withoutLiterals(ts, readFileSync(args.path, 'utf8')), loader: 'js' }
          return undefined
        })
      },
    }
    const { minified, gzipped } = await bundle(esbuild, typical, [plugin])
    results.push({ label: variant.label, minified, gzipped })
  }
  return results
}

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`

/** One line: the typical app's min+gzip size against the budget and beside the peers. */
export function sizeSummary(results) {
  const typical = results.find((r) => r.id === 'typical')
  const peers = results.filter((r) => r.version !== undefined)
  const verdict = typical.gzipped <= BUDGET ? 'met' : `not met, ${kb(typical.gzipped - BUDGET)} over`
  return (
    `typical app (createSessions + sessionMiddleware): ${kb(typical.gzipped)} min+gzip, budget ${kb(BUDGET)} (${verdict}); ` +
    peers.map((r) => `${r.id} ${r.version} ${kb(r.gzipped)}`).join(', ')
  )
}

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
  const whatIf = process.argv.includes('--what-if')
  for (const arg of process.argv.slice(2)) {
    if (!/^--(json|top)=./.test(arg) && arg !== '--what-if') throw new TypeError(`unknown argument ${arg}; usage: node bench/size.mjs [--json=FILE] [--top=N] [--what-if]`)
  }
  const results = await measureSizes()
  console.log(sizeTable(results))
  const typical = results.find((r) => r.id === 'typical')
  console.log(`\ntypical app: ${kb(typical.gzipped)} min+gzip against a budget of ${kb(BUDGET)}: ${typical.gzipped <= BUDGET ? 'met' : `not met (${kb(typical.gzipped - BUDGET)} over)`}`)
  console.log(`\nlargest modules of the typical app's bundle (bytes in the minified output, of ${typical.minified.toLocaleString('en-US')}):`)
  for (const [path, bytes] of typical.modules.slice(0, top)) {
    console.log(`  ${String(bytes).padStart(7)}  ${((100 * bytes) / typical.minified).toFixed(1).padStart(5)} %  ${path}`)
  }
  let variants
  if (whatIf) {
    variants = await measureWhatIf()
    console.log('\nthe typical app without some of its parts (measurements, not proposals; stubbed bundles do not run):')
    for (const v of variants) console.log(`  ${v.label.padEnd(56)}${kb(v.minified).padStart(9)} minified${kb(v.gzipped).padStart(9)} min+gzip`)
  }
  if (json !== undefined) {
    writeFileSync(json, `${JSON.stringify({ date: new Date().toISOString(), budget: BUDGET, results, whatIf: variants }, null, 2)}\n`)
    console.log(`\nwrote ${json}`)
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(`bench/size: ${error.message}`)
    process.exitCode = 1
  })
}
