/**
 * Type-checks documentation snippets with the TypeScript compiler API, under the repository's own
 * tsconfig.json (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, verbatimModuleSyntax,
 * NodeNext). Each snippet is its own ES module, held in memory at a path inside the repository, so
 * `frasco`, `frasco/node`, … resolve as they do for a user: through package.json's `exports` (a
 * package may import itself by name) to the built declarations in dist/, and `express`, `koa`, …
 * to node_modules/.
 */
import ts from 'typescript'
import { root, type Snippet } from './snippets.js'

/** Where the in-memory snippets live: never written, only read by the compiler host below. */
const dir = `${root}.doc-snippets/`

/**
 * The declarations a fragment (a block whose info string is `ts fragment`) may use without
 * declaring them: what the prose around such a block calls `sessions`, `req`, `res`, `request`,
 * `response`, `session` and `secrets`. It is global, so a fragment that declares one of these
 * names itself simply shadows it.
 */
export const FRAGMENT_PRELUDE = `
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Session, Sessions } from 'frasco'
declare global {
  const sessions: Sessions
  const session: Session
  const req: IncomingMessage & { session: Session }
  const res: ServerResponse
  const request: Request
  const response: ServerResponse
  const secrets: string[]
}
`

export interface Problem {
  /** `docs/guide.md:42:7`: the line and column in the Markdown file. */
  where: string
  message: string
}

export function compilerOptions(): ts.CompilerOptions {
  const configPath = `${root}tsconfig.json`
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path))
  if (config.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, configPath)
  return { ...parsed.options, noEmit: true }
}

/** A snippet's module name: its Markdown file and line, so a stack or a message points at it. */
export function snippetPath(snippet: Snippet): string {
  return `${dir}${snippet.file.replace(/[/.]/g, '_')}_L${snippet.line}.ts`
}

export function isFragment(snippet: Snippet): boolean {
  return /^(ts|typescript)\s+fragment\b/.test(snippet.info)
}

/**
 * `declare global` and `declare module` change types for every file of a program (two snippets
 * typing Express's `req.session` differently would collide), so such a snippet gets a program of
 * its own; the others share one, and fragments share one with their prelude.
 */
function augments(snippet: Snippet): boolean {
  return /^\s*declare\s+(global|module)\b/m.test(snippet.code)
}

export function typecheck(snippets: readonly Snippet[]): Problem[] {
  const options = compilerOptions()
  const files = new Map<string, string>()
  const bySource = new Map<string, Snippet>()
  for (const snippet of snippets) {
    const path = snippetPath(snippet)
    files.set(path, snippet.code)
    bySource.set(path, snippet)
  }
  const prelude = `${dir}fragment-prelude.d.ts`
  files.set(prelude, FRAGMENT_PRELUDE)

  const host = ts.createCompilerHost(options, true)
  const { fileExists, readFile, getSourceFile } = host
  host.fileExists = (path) => files.has(path) || fileExists.call(host, path)
  host.readFile = (path) => files.get(path) ?? readFile.call(host, path)
  // One parse (and bind) per file for all the programs below, as a language service would.
  const parsed = new Map<string, ts.SourceFile | undefined>()
  host.getSourceFile = (path, language, onError, create) => {
    let source = parsed.get(path)
    if (source === undefined) {
      const text = files.get(path)
      source = text === undefined ? getSourceFile.call(host, path, language, onError, create) : ts.createSourceFile(path, text, language, true)
      parsed.set(path, source)
    }
    return source
  }

  const groups: string[][] = [[], [prelude]]
  for (const snippet of snippets) {
    if (isFragment(snippet)) groups[1]?.push(snippetPath(snippet))
    else if (augments(snippet)) groups.push([snippetPath(snippet)])
    else groups[0]?.push(snippetPath(snippet))
  }

  const problems: Problem[] = []
  let program: ts.Program | undefined
  for (const group of groups) {
    if (group.length === 0 || (group.length === 1 && group[0] === prelude)) continue
    // The previous program hands over the files it parsed (lib, @types/node, express …).
    program = ts.createProgram({ rootNames: group, options, host, ...(program === undefined ? {} : { oldProgram: program }) })
    const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]
    for (const name of group) {
      const source = program.getSourceFile(name)
      if (source !== undefined) diagnostics.push(...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source))
    }
    for (const diagnostic of diagnostics) problems.push(describe(diagnostic, bySource))
  }
  return problems
}

function describe(diagnostic: ts.Diagnostic, bySource: ReadonlyMap<string, Snippet>): Problem {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
  const file = diagnostic.file
  if (file === undefined || diagnostic.start === undefined) return { where: '(program)', message }
  const { line, character } = file.getLineAndCharacterOfPosition(diagnostic.start)
  const snippet = bySource.get(file.fileName)
  if (snippet === undefined) return { where: `${file.fileName}:${line + 1}:${character + 1}`, message }
  return { where: `${snippet.file}:${snippet.line + line}:${character + 1}`, message: `TS${diagnostic.code}: ${message}` }
}
