/**
 * The portable suite (test/runtimes/portable.mjs) on every runtime that speaks node:crypto: the
 * Node running vitest, and Node 20.0 (the oldest `engines` allows), 22 and 24, Bun and Deno, all
 * installed from npm by `npm ci --prefix .ci/runtimes` (see .ci/runtimes/package.json; kept
 * outside test/ so the runtimes' own files never mix with the project's tests). Each also
 * loads the library from CommonJS (test/runtimes/require.cjs), which needs require(esm).
 *
 * The suite imports the built library, so `npm run build` must have run. A runtime that is not
 * installed is skipped with the command that installs it; in CI (`CI=true` or `1`) it fails instead, so a
 * missing install step cannot pass as green.
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const RUNTIMES_DIR = fileURLToPath(new URL('./runtimes/', import.meta.url))
const INSTALL_DIR = fileURLToPath(new URL('../.ci/runtimes/', import.meta.url))
const MODULES = `${INSTALL_DIR}node_modules/`
const SUITE = `${RUNTIMES_DIR}portable.mjs`
const REQUIRE = `${RUNTIMES_DIR}require.cjs`
const BUILT = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const INSTALL_HINT = 'npm ci --prefix .ci/runtimes'
/** CI services set CI=true (some CI=1); there a missing runtime fails the run instead of skipping. */
const ON_CI = /^(true|1)$/i.test(process.env.CI ?? '')
// The suite has 43 tests (44 on Bun and Deno, which also serve natively); fewer means some vanished.
const MIN_TESTS = 43

const pinned = (JSON.parse(readFileSync(`${INSTALL_DIR}package.json`, 'utf8')) as { devDependencies: Record<string, string> })
  .devDependencies
/** The exact version .ci/runtimes/package.json pins for a dependency (`npm:node@22.23.3` → `22.23.3`). */
function versionOf(dependency: string): string {
  const spec = pinned[dependency]
  if (spec === undefined) throw new Error(`.ci/runtimes/package.json has no devDependency ${dependency}`)
  return spec.slice(spec.lastIndexOf('@') + 1)
}

interface Runtime {
  /** How the test is named. */
  label: string
  /** `node`, `bun` or `deno`, as the suite prints it. */
  name: string
  version: string
  command: string
  args: string[]
}

const runtimes: Runtime[] = [
  { label: `node ${process.versions.node} (the Node running vitest)`, name: 'node', version: process.versions.node, command: process.execPath, args: [] },
  ...(['node20', 'node22', 'node24'] as const).map((dependency) => ({
    label: `node ${versionOf(dependency)}`,
    name: 'node',
    version: versionOf(dependency),
    command: `${MODULES}${dependency}/bin/node`,
    args: [],
  })),
  { label: `bun ${versionOf('bun')}`, name: 'bun', version: versionOf('bun'), command: `${MODULES}.bin/bun`, args: [] },
  {
    label: `deno ${versionOf('deno')}`,
    name: 'deno',
    version: versionOf('deno'),
    command: `${MODULES}.bin/deno`,
    // Deno 2 runs node: imports as they are; the suite reads test vectors, serves on 127.0.0.1 and
    // reads process.env. --no-lock: do not write a deno.lock into the repository.
    args: ['run', '--no-lock', '--allow-read', '--allow-net', '--allow-env'],
  },
]

// Only what a runtime needs: NODE_OPTIONS and the like from vitest's environment must not leak
// into an older Node that would reject them.
const childEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LANG: process.env.LANG ?? 'C.UTF-8',
  NO_COLOR: '1',
  DENO_NO_UPDATE_CHECK: '1',
  DENO_NO_PROMPT: '1',
}

/**
 * Whether a runtime loads ES modules with require() without a flag: Node from 20.19 and 22.12
 * (process.features.require_module), Bun and Deno always.
 */
function canRequireEsm(runtime: Runtime): boolean {
  if (runtime.name !== 'node') return true
  const [major = 0, minor = 0] = runtime.version.split('.').map(Number)
  return major >= 23 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19)
}

function run(runtime: Runtime, script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The timeout only stops a hung runtime; nothing is asserted about durations.
    execFile(runtime.command, [...runtime.args, script], { cwd: RUNTIMES_DIR, env: childEnv, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({ code, stdout, stderr })
    })
  })
}

describe('the built library on every runtime (test/runtimes/portable.mjs, require.cjs)', () => {
  it('runs against a built library', () => {
    expect(existsSync(BUILT), 'dist/index.js is missing: run `npm run build` first').toBe(true)
  })

  const missing = runtimes.filter((runtime) => !existsSync(runtime.command))
  // Off CI, vitest lists no skipped names in its summary, but prints what a test file writes to
  // stderr: one line says which runtimes were skipped and how to install them.
  if (missing.length > 0 && !ON_CI) {
    console.warn(`skipped ${missing.map((runtime) => runtime.label).join(', ')}: not installed; install them with \`${INSTALL_HINT}\``)
  }

  for (const runtime of runtimes) {
    if (missing.includes(runtime)) {
      // Skipped only off CI; in CI the missing install is a failing test.
      it.skipIf(!ON_CI)(ON_CI ? `${runtime.label} is installed` : `${runtime.label} (skipped: install it with \`${INSTALL_HINT}\`)`, () => {
        throw new Error(`${runtime.command} is missing but CI requires every runtime: run \`${INSTALL_HINT}\` in .ci/run`)
      })
      continue
    }

    it(`${runtime.label}: every test passes`, { timeout: 150_000 }, async () => {
      const { code, stdout, stderr } = await run(runtime, SUITE)
      const output = `${runtime.command} ${runtime.args.join(' ')} portable.mjs exited ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`
      expect(code, output).toBe(0)
      const lines = stdout.trimEnd().split('\n')
      const last = lines.at(-1) ?? ''
      const match = /^runtime (\S+) (\S+): (\d+) passed, (\d+) failed$/.exec(last)
      expect(match, output).not.toBeNull()
      const [, name, version, passed, failed] = match as unknown as [string, string, string, string, string]
      expect({ name, version, failed: Number(failed) }, output).toEqual({ name: runtime.name, version: runtime.version, failed: 0 })
      expect(Number(passed), output).toBeGreaterThanOrEqual(MIN_TESTS)
      expect(lines.filter((line) => line.startsWith('FAIL ')), output).toEqual([])
    })

    const loads = canRequireEsm(runtime)
    it(`${runtime.label}: ${loads ? 'loads it with require() from CommonJS' : 'cannot require() it (no require(esm) before Node 20.19 / 22.12)'}`, { timeout: 150_000 }, async () => {
      const { code, stdout, stderr } = await run(runtime, REQUIRE)
      const output = `require.cjs exited ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`
      if (loads) {
        expect(code, output).toBe(0)
        expect(stdout.trim(), output).toBe(`require ${runtime.name} ${runtime.version}: ok`)
      } else {
        expect(code, output).not.toBe(0)
        expect(stderr, output).toContain('ERR_REQUIRE_ESM')
      }
    })
  }
})
