/**
 * The test files `npm run mutation` (StrykerJS, stryker.config.mjs) runs against each mutant of the
 * security core. Every test that exercises the mutated modules from source is in; left out are the
 * files that cannot see a mutant in src/ (they load the built dist/, another runtime, or check types
 * and docs only) and those far too slow to run once per mutant. docs/testing.md gives the reasons
 * file by file.
 */
import { relative } from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'
import { defineConfig } from 'vitest/config'

/** Not run against mutants: none of them executes the mutated source (see docs/testing.md). */
export const NOT_MUTATION_TESTS = [
  // Load the built package (dist/), not src/: a mutant in src/ never reaches them.
  'test/runtimes.test.ts',
  'test/package.test.ts',
  'test/layout.test.ts',
  'test/globals.test.ts',
  'test/frameworks/*-types.test.ts',
  'test/docs/**',
  'test/examples/**',
  'test/next/**',
  // Chromium driving a server: minutes per run; test/adapters and test/security cover the same paths.
  'test/browser/**',
  // Type-level and documentation checks: nothing they assert depends on a mutated expression.
  'test/types.test.ts',
  'test/api-docs.test.ts',
  // The command line, whose every case starts a Python oracle or a child process; the codecs it
  // calls are tested on their own (test/formats, test/signer.test.ts).
  'test/cli.test.ts',
  // The mutation run's own scripts and its list of equivalents, read from disk: inside StrykerJS's
  // sandbox src/ holds the instrumented copies, whose lines have moved.
  'test/mutation.test.ts',
  'test/mutation-retest.test.ts',
]

/**
 * FRASCO_MUTATION_TESTS narrows the run to some test files (comma-separated globs) while working on
 * one module: `FRASCO_MUTATION_TESTS='test/lib/**' npx stryker run --mutate src/lib/hmac.ts`. A
 * narrowed run can only report more survivors than the full one; the scores come from the full run.
 */
const only = process.env.FRASCO_MUTATION_TESTS?.split(',').map((glob) => glob.trim()).filter((glob) => glob !== '')

/**
 * Against a mutant Stryker stops at the first failing test, so the quick files go first: a mutant
 * the unit tests kill costs a second, not the Redis and Flask suites before them. A file that
 * failed last time goes first of all (it is the likeliest to kill the next mutant of that module).
 */
class QuickFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { cache, config } = this.ctx
    const stats = (file: TestSpecification) => {
      const key = `${file.project.name}:${relative(config.root, file.moduleId)}`
      return { results: cache.getFileTestResults(key), size: cache.getFileStats(key)?.size ?? 0 }
    }
    return files
      .map((file) => ({ file, ...stats(file) }))
      .sort((a, b) => {
        const failed = Number(b.results?.failed === true) - Number(a.results?.failed === true)
        if (failed !== 0) return failed
        if (a.results !== undefined && b.results !== undefined) return a.results.duration - b.results.duration
        return a.size - b.size
      })
      .map(({ file }) => file)
  }
}

export default defineConfig({
  test: {
    include: only?.length ? only : ['test/**/*.test.ts'],
    // Makes Stryker run each mutant against the files that reach it, not the whole suite (see there).
    setupFiles: ['test/mutation-setup.ts'],
    exclude: ['**/node_modules/**', ...NOT_MUTATION_TESTS],
    sequence: { sequencer: QuickFirst },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
