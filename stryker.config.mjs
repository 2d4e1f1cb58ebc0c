// Mutation testing of the security core (`npm run mutation`; docs/testing.md). StrykerJS changes one
// expression of the modules below at a time and runs the tests that reach it; a mutant no test
// notices either is a gap in the tests or is equivalent (test/mutation-equivalents.md says why).
//
// Every group, each against the tests that reach it:  npm run mutation  (scripts/mutation.mjs)
// One module against the whole suite:  npx stryker run --mutate src/lib/token.ts
// The report: reports/mutation/mutation.html (and .json), or reports/<group>/ for a group; the
// incremental file lets a second run re-test only the mutants whose code or tests changed.

// `npm run mutation` (scripts/mutation.mjs) runs one group of modules at a time and names it in
// FRASCO_MUTATION_GROUP: each group keeps its own incremental file and reports in reports/<group>/.
const group = process.env.FRASCO_MUTATION_GROUP
const reports = `reports/${group ?? 'mutation'}`

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'src/keyring.ts',
    'src/lib/compare.ts',
    'src/lib/hmac.ts',
    'src/lib/token.ts',
    'src/lib/seal.ts',
    // Which buffers hold key material and plaintext, and when they are zeroed.
    'src/lib/buffers.ts',
    // The x1 encrypted format (XAES-256-GCM) and the object layer that every f1/x1 token goes through.
    'src/lib/xaes.ts',
    'src/lib/codec.ts',
    'src/cookie/cookie.ts',
    'src/sessions.ts',
    'src/manager/*.ts',
    'src/csrf.ts',
    'src/stores/*.ts',
    'src/flask/itsdangerous.ts',
    'src/flask/codec.ts',
    'src/flask/format.ts',
    // Flask's tagged JSON (dates, UUIDs, bytes, tuples): the payload of the Flask cookie.
    'src/flask/json.ts',
    'src/formats/frasco.ts',
  ],
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  checkers: ['typescript'],
  // A mutant that does not compile is not run (a CompileError, outside the score). The checker
  // compiles src/ only (tsconfig.mutation.json): the tests are not part of the product, and
  // re-checking them for every mutant would multiply the run's time.
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: group === undefined ? 'reports/stryker-incremental.json' : `${reports}/stryker-incremental.json`,
  // Nothing under these is read by the tests that run against mutants.
  ignorePatterns: ['dist', 'build', '.next', '.vitest-cache', 'bench/results', '*.tgz', 'reports', '.stryker-tmp*'],
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `${reports}/mutation.html` },
  jsonReporter: { fileName: `${reports}/mutation.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  thresholds: { high: 95, low: 90, break: null },
  concurrency: 2,
  // A few tests start servers (Redis, Flask); a mutant that hangs one is a timeout, counted as killed.
  timeoutMS: 30_000,
  tempDirName: group === undefined ? '.stryker-tmp' : `.stryker-tmp-${group}`,
  cleanTempDir: 'always',
}
