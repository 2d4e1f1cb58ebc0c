/**
 * The shape of the code, checked: what `import 'frasco'` loads, how long a function may grow, and
 * the module layering of `.dependency-cruiser.cjs` (with a fixture proving its rules fire).
 *
 * Reads the `dist/` that `npm run build` made (`npm test` builds first).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = join(ROOT, 'dist')
const SRC = join(ROOT, 'src')
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs')
const CONFIG = join(ROOT, '.dependency-cruiser.cjs')
const MAX_FUNCTION_LINES = 80

/** A path relative to `base`, with `/` separators on every platform. */
function posix(base: string, path: string): string {
  return relative(base, path).split(sep).join('/')
}

// --- the built import graph -------------------------------------------------------------------

/** The specifiers of a module's static `import … from` / `export … from` / `import '…'` statements. */
function staticSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.JS)
  const specifiers: string[] = []
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue
    const specifier = statement.moduleSpecifier
    if (specifier !== undefined && ts.isStringLiteral(specifier)) specifiers.push(specifier.text)
  }
  return specifiers
}

interface Reach {
  /** Modules reached, relative to dist/ (`sessions.js`, `lib/token.js`). */
  files: Set<string>
  /** Non-relative specifiers reached (`node:buffer`). */
  external: Set<string>
}

/** Everything a module loads when imported: its static relative imports, recursively. */
function reach(entry: string): Reach {
  const files = new Set<string>()
  const external = new Set<string>()
  const pending = [join(DIST, entry)]
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    const name = posix(DIST, file)
    if (files.has(name)) continue
    expect(existsSync(file), `${name} is imported but missing from dist/ (run \`npm run build\`)`).toBe(true)
    files.add(name)
    for (const specifier of staticSpecifiers(file)) {
      if (specifier.startsWith('./') || specifier.startsWith('../')) pending.push(resolve(dirname(file), specifier))
      else external.add(specifier)
    }
  }
  return { files, external }
}

/** Flask's modules, wherever they are: they must load only through `frasco/flask` or the CLI. */
function flaskModules({ files, external }: Reach): string[] {
  const local = [...files].filter((file) => file.startsWith('flask/') || /(^|\/)(python-json|itsdangerous)\.js$/.test(file))
  return [...local, ...[...external].filter((specifier) => specifier.startsWith('frasco/flask'))]
}

describe('what each entry point loads (dist/)', () => {
  it('the walk follows the graph: frasco reaches the manager, frasco/flask reaches Python JSON', () => {
    expect([...reach('index.js').files]).toEqual(expect.arrayContaining(['index.js', 'sessions.js', 'signer.js', 'lib/token.js']))
    expect(flaskModules(reach('flask/index.js'))).toEqual(expect.arrayContaining(['flask/python-json.js', 'flask/itsdangerous.js', 'flask/json.js']))
  })

  const ENTRIES = ['index.js', 'cookie/index.js', 'adapters/node.js', 'adapters/globals.js', 'adapters/fetch.js', 'stores/index.js', 'adapters/fastify.js', 'adapters/koa.js', 'adapters/hono.js', 'adapters/jar.js']

  it.each(ENTRIES)('%s loads no Flask module', (entry) => {
    expect(flaskModules(reach(entry))).toEqual([])
  })

  // Zero dependencies: the framework entries load no framework (their types merge into the
  // framework's only in the .d.ts), and no entry loads anything but Node's built-in modules.
  it.each(ENTRIES)('%s loads nothing but Node built-ins outside the package', (entry) => {
    expect([...reach(entry).external].filter((specifier) => !specifier.startsWith('node:'))).toEqual([])
  })

  it.each(['index.js', 'cookie/index.js'])('%s loads no network module', (entry) => {
    const network = [...reach(entry).external].filter((specifier) => /^(node:)?(http|https|http2|tls|net)$/.test(specifier))
    expect(network).toEqual([])
  })
})

// --- function length --------------------------------------------------------------------------

type FunctionWithBody =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration
  | ts.ArrowFunction
  | ts.FunctionExpression

function isFunctionWithBody(node: ts.Node): node is FunctionWithBody {
  const isFunction =
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  return isFunction && node.body !== undefined
}

/** The name a reader would search for: the function's own, or the binding it is assigned to. */
function functionName(node: FunctionWithBody, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor'
  if (node.name !== undefined) return node.name.getText(source)
  const parent = node.parent
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source)
  return '(anonymous)'
}

/** `file:line:name (n lines)` for each function in one file longer than the limit. */
function longFunctionsIn(path: string, text: string): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (isFunctionWithBody(node)) {
      // From the first token (not the JSDoc above it) to the closing brace.
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line + 1
      const lines = last - first + 1
      if (lines > MAX_FUNCTION_LINES) found.push(`${path}:${first}:${functionName(node, source)} (${lines} lines)`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

function longFunctions(): string[] {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'))
  return files.flatMap((file) => longFunctionsIn(posix(ROOT, join(SRC, file)), readFileSync(join(SRC, file), 'utf8')))
}

describe('function length (src/)', () => {
  it(`no function is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const found = longFunctions()
    expect(found, `split these into named functions a reader can hold whole:\n${found.join('\n')}`).toEqual([])
  })

  it('the limit bites: an 81-line arrow is reported, an 80-line method is not', () => {
    const body = (lines: number) => Array.from({ length: lines - 2 }, (_, index) => `  void ${index}`).join('\n')
    const text = `export const long = () => {\n${body(81)}\n}\nclass C {\n  short() {\n${body(80)}\n  }\n}\n`
    expect(longFunctionsIn('x.ts', text)).toEqual([`x.ts:1:long (${MAX_FUNCTION_LINES + 1} lines)`])
  })
})

// --- module layering (dependency-cruiser) -----------------------------------------------------

interface Violation {
  from: string
  to: string
  rule: { name: string; severity: string }
  cycle?: Array<{ name: string; dependencyTypes: string[] }>
}

interface Cruise {
  modules: Array<{ source: string }>
  summary: { violations: Violation[] }
}

/** Runs `depcruise src` with the repository's config in `cwd`, as `npm run lint:deps` does. */
function depcruise(cwd: string): Promise<Cruise> {
  return new Promise((done, fail) => {
    const args = [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', 'json']
    execFile(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      // depcruise exits with the number of errors found; the JSON report is the answer either way.
      try {
        done(JSON.parse(stdout) as Cruise)
      } catch {
        fail(new Error(`depcruise did not report (${error?.message ?? 'no error'}):\n${stderr}`))
      }
    })
  })
}

function describeViolation(violation: Violation): string {
  const cycle = violation.cycle === undefined ? '' : ` (cycle: ${[violation.from, ...violation.cycle.map((step) => step.name)].join(' → ')})`
  return `${violation.rule.severity} ${violation.rule.name}: ${violation.from} → ${violation.to}${cycle}`
}

/**
 * A small src/ laid out like the real one, breaking one rule per file. Paths matter: the config's
 * layers are patterns over `src/…`.
 */
const FIXTURE: Record<string, string> = {
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }),
  // A cycle inside L1 made only of type imports.
  'src/lib/result.ts': "import type { Format } from './format.js'\nexport type Result = { format?: Format }\n",
  'src/lib/format.ts': "import type { Result } from './result.js'\nexport type Format = { result?: Result }\n",
  // L1 importing L4.
  'src/keyring.ts': "import { createSessions } from './sessions.js'\nexport const keyring = createSessions\n",
  'src/sessions.ts': "import type { Result } from './lib/result.js'\nexport function createSessions(): Result { return {} }\n",
  // The core loading Flask (L3 → L2, allowed by the layers, refused by the Flask rule).
  'src/session.ts': "import { tag } from './flask/json.js'\nexport const session = tag\n",
  'src/flask/json.ts': 'export const tag = 1\n',
  // node:http outside the adapters.
  'src/errors.ts': "import type { IncomingMessage } from 'node:http'\nexport type Request = IncomingMessage\n",
  // An entry barrel imported from inside.
  'src/cookie/cookie.ts': "import { keyring } from '../index.js'\nexport const cookie = keyring\n",
  'src/index.ts': "export { keyring } from './keyring.js'\nexport type { Request } from './errors.js'\n",
  // A file nobody placed in a layer, and an orphan.
  'src/extra.ts': "import { cookie } from './cookie/cookie.js'\nexport const extra = cookie\n",
  'src/lib/compare.ts': 'export const compare = 0\n',
  // An import that resolves to nothing (an edge the layer rules could not see).
  'src/lib/vary.ts': "import { missing } from './missing.js'\nexport const vary = missing\n",
}

let fixture = ''
let real: Cruise
let broken: Cruise

beforeAll(async () => {
  fixture = mkdtempSync(join(tmpdir(), 'frasco-layout-'))
  for (const [path, text] of Object.entries(FIXTURE)) {
    mkdirSync(dirname(join(fixture, path)), { recursive: true })
    writeFileSync(join(fixture, path), text)
  }
  ;[real, broken] = await Promise.all([depcruise(ROOT), depcruise(fixture)])
}, 120_000)

afterAll(() => {
  if (fixture !== '') rmSync(fixture, { recursive: true, force: true })
})

describe('module layering (.dependency-cruiser.cjs)', () => {
  it('src/ has no import cycle, no upward import and no unplaced file', () => {
    const violations = real.summary.violations.map(describeViolation)
    expect(violations, `npm run lint:deps found:\n${violations.join('\n')}`).toEqual([])
  })

  it('the cruise covered every file in src/', () => {
    const cruised = new Set(real.modules.map((module) => module.source))
    const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => posix(ROOT, join(SRC, file)))
    expect(files.filter((file) => !cruised.has(file))).toEqual([])
  })

  it('the rules bite: each break in the fixture is reported', () => {
    const found = broken.summary.violations.map((violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`)
    expect(found).toEqual(
      expect.arrayContaining([
        'no-upward-import-from-L1-foundations: src/keyring.ts → src/sessions.ts',
        'no-upward-import-from-L3-session-cookie-formats: src/cookie/cookie.ts → src/index.ts',
        'no-flask-outside-flask: src/session.ts → src/flask/json.ts',
        'node-http-only-in-adapters: src/errors.ts → http',
        'no-import-of-entry-points: src/cookie/cookie.ts → src/index.ts',
        'module-not-in-a-layer: src/extra.ts → src/cookie/cookie.ts',
        'no-orphans: src/lib/compare.ts → src/lib/compare.ts',
        'not-to-unresolvable: src/lib/vary.ts → ./missing.js',
      ]),
    )
  })

  it('the rules bite: a cycle of type-only imports is reported', () => {
    const cycles = broken.summary.violations.filter((violation) => violation.rule.name === 'no-circular')
    expect(cycles).toHaveLength(1)
    const steps = cycles[0]?.cycle ?? []
    expect(steps.map((step) => step.name).sort()).toEqual(['src/lib/format.ts', 'src/lib/result.ts'])
    for (const step of steps) expect(step.dependencyTypes).toContain('type-only')
  })
})
