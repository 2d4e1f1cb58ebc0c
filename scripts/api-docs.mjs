#!/usr/bin/env node
// Writes docs/api.md from the built declarations: every export of every entry point in
// package.json "exports", with its kind, the first sentence of its JSDoc and its declaration.
//
//   npm run build && node scripts/api-docs.mjs          rewrite docs/api.md
//   npm run build && node scripts/api-docs.mjs --check  exit 1 if docs/api.md is out of date
//
// test/api-docs.test.ts runs the same check, so CI fails when the reference falls behind the code.
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const API_DOCS = 'docs/api.md'

/**
 * The entry points from package.json "exports" (except `./package.json`), with the declaration
 * file each one's "types" condition points to.
 *
 * @param {string} root
 * @returns {Array<{ specifier: string, types: string, module: string }>}
 */
export function entryPoints(root = ROOT) {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  return Object.entries(manifest.exports)
    .filter(([subpath, target]) => subpath !== './package.json' && typeof target === 'object')
    .map(([subpath, target]) => ({
      specifier: manifest.name + subpath.slice(1),
      types: target.types.replace(/^\.\//, ''),
      module: target.default.replace(/^\.\//, ''),
    }))
}

const KIND_ORDER = ['function', 'class', 'const', 'interface', 'type']

function kindOf(declaration) {
  if (ts.isFunctionDeclaration(declaration)) return 'function'
  if (ts.isClassDeclaration(declaration)) return 'class'
  if (ts.isVariableDeclaration(declaration)) return 'const'
  if (ts.isInterfaceDeclaration(declaration)) return 'interface'
  if (ts.isTypeAliasDeclaration(declaration)) return 'type'
  throw new Error(`unexpected declaration kind ${ts.SyntaxKind[declaration.kind]}`)
}

/** The first sentence of a JSDoc text, on one line; links written as their names. */
function firstSentence(text) {
  const paragraph = text.split(/\n\s*\n/, 1)[0].replace(/\s+/g, ' ').trim()
  // A period ends the sentence when a space and a capital, a backtick or the end follow it.
  const match = /^(.*?[.!?])(?=\s+[A-Z`(]|$)/.exec(paragraph)
  return (match ? match[1] : paragraph).trim()
}

function docOf(symbol, checker) {
  return ts
    .displayPartsToString(symbol.getDocumentationComment(checker))
    .replace(/\{@link\s+([^}\s|]+)(?:\s*\|?\s*([^}]*))?\}/g, (_, target, label) => `\`${(label || target).trim()}\``)
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed })

/** The declaration as a user reads it: no comments, no `export`/`declare`, 4-space indents made 2. */
function declarationText(declaration) {
  const node = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration
  const text = printer.printNode(ts.EmitHint.Unspecified, node, node.getSourceFile())
  return text
    .replace(/^export (declare )?/, '')
    .replace(/^declare /, '')
    .replace(/^( {4})+/gm, (indent) => ' '.repeat(indent.length / 2))
}

/**
 * Every export of every entry point, read from the built declarations with the TypeScript
 * compiler. `value` is true for what exists at run time (functions, classes, constants).
 *
 * @param {string} root
 */
export function collectApi(root = ROOT) {
  const entries = entryPoints(root)
  const program = ts.createProgram(
    entries.map((entry) => join(root, entry.types)),
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true, types: [] },
  )
  const checker = program.getTypeChecker()
  return entries.map((entry) => {
    const source = program.getSourceFile(join(root, entry.types))
    if (source === undefined) throw new Error(`${entry.types} is missing: run \`npm run build\` first`)
    const moduleSymbol = checker.getSymbolAtLocation(source)
    const exports = checker.getExportsOfModule(moduleSymbol).map((exported) => {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      const declarations = symbol.getDeclarations() ?? []
      const kind = kindOf(declarations[0])
      return {
        name: exported.getName(),
        kind,
        value: kind === 'function' || kind === 'class' || kind === 'const',
        description: firstSentence(docOf(symbol, checker)),
        declaration: declarations.map(declarationText).join('\n'),
      }
    })
    exports.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return { ...entry, exports }
  })
}

const anchor = (text) => text.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')

/** docs/api.md as it should read for the current build (`api`: what `collectApi` returned, to reuse it). */
export function renderApiDocs(root = ROOT, api = collectApi(root)) {
  const lines = [
    '# API reference',
    '',
    'Every export of every entry point, generated from the built declarations by',
    '`node scripts/api-docs.mjs` (after `npm run build`); `test/api-docs.test.ts` fails when this',
    'file is out of date. Do not edit it by hand: change the JSDoc in `src/` and regenerate. The',
    'guides in this folder explain how the pieces fit; each export\'s JSDoc has an example.',
    '',
    ...api.map((entry) => `- [\`${entry.specifier}\`](#${anchor(entry.specifier)}): ${entry.exports.length} exports`),
  ]
  for (const entry of api) {
    lines.push('', `## \`${entry.specifier}\``, '', `\`import { … } from '${entry.specifier}'\` (\`${entry.types}\`)`, '')
    lines.push('| Export | Kind | Description |', '| --- | --- | --- |')
    for (const item of entry.exports) lines.push(`| \`${item.name}\` | ${item.kind} | ${item.description.replace(/\|/g, '\\|') || '—'} |`)
    for (const item of entry.exports) {
      lines.push('', `### \`${item.name}\``, '', `${item.kind} · ${entry.specifier}`, '')
      if (item.description !== '') lines.push(item.description, '')
      lines.push('```ts', item.declaration, '```')
    }
  }
  return `${lines.join('\n')}\n`
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const path = join(ROOT, API_DOCS)
  const expected = renderApiDocs()
  if (process.argv.includes('--check')) {
    let current = ''
    try {
      current = readFileSync(path, 'utf8')
    } catch {}
    if (current !== expected) {
      console.error(`${API_DOCS} is out of date: run \`npm run build && node scripts/api-docs.mjs\``)
      process.exitCode = 1
    }
  } else {
    writeFileSync(path, expected)
    console.log(`wrote ${API_DOCS}`)
  }
}
