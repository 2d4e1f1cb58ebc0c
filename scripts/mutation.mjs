#!/usr/bin/env node
// `npm run mutation`: StrykerJS over the security core, one group of modules at a time, each group
// against the test files that reach it (docs/testing.md, "Mutation testing").
//
//   npm run mutation                    every group, then one table of every module
//   npm run mutation -- cookie manager  those groups only (the table shows every report on disk,
//                                       the exit code only the groups run)
//
// Each group keeps its own incremental file and report under reports/<group>/, so running it again
// re-tests only what changed. A narrowed run can only find more survivors than one against the
// whole suite (`npx stryker run`), never fewer, so its scores are lower bounds. The run fails when
// a module has a mutant that survived or that no test reached: every equivalent mutant carries a
// `// Stryker disable` comment and is listed in test/mutation-equivalents.md, so nothing else may.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The groups: the modules each mutates and the test files (globs) that reach them. */
export const GROUPS = [
  {
    name: 'core',
    mutate: ['src/keyring.ts', 'src/lib/compare.ts', 'src/lib/hmac.ts', 'src/lib/token.ts', 'src/lib/seal.ts', 'src/lib/buffers.ts', 'src/lib/xaes.ts', 'src/lib/codec.ts', 'src/formats/frasco.ts'],
    tests: ['test/lib/**', 'test/security/**', 'test/formats/**', 'test/seal.test.ts', 'test/signer.test.ts', 'test/rotation.test.ts', 'test/keyring.test.ts', 'test/serializer.test.ts', 'test/encoding.test.ts'],
  },
  {
    name: 'cookie',
    mutate: ['src/cookie/cookie.ts'],
    tests: ['test/cookie.test.ts', 'test/set-cookie.test.ts', 'test/corpus.test.ts', 'test/hostile.test.ts'],
  },
  {
    name: 'csrf',
    mutate: ['src/csrf.ts'],
    tests: ['test/csrf.test.ts', 'test/recipes/csrf.test.ts', 'test/adapters/csrf.test.ts'],
  },
  {
    name: 'itsdangerous',
    mutate: ['src/flask/itsdangerous.ts', 'src/flask/json.ts'],
    tests: ['test/formats/**', 'test/signer.test.ts'],
  },
  {
    name: 'flask',
    mutate: ['src/flask/codec.ts', 'src/flask/format.ts'],
    tests: ['test/formats/**', 'test/signer.test.ts', 'test/flask/sessions.test.ts', 'test/security/flask-writing.test.ts', 'test/manager/format-defaults.test.ts'],
  },
  {
    name: 'manager',
    mutate: ['src/sessions.ts', 'src/manager/*.ts'],
    tests: [
      'test/manager/**', 'test/sessions.test.ts', 'test/session.test.ts', 'test/options.test.ts', 'test/rotation.test.ts', 'test/unstorable.test.ts',
      'test/stores/sessions-*.test.ts', 'test/stores/store-checks.test.ts',
      'test/adapters/node.test.ts', 'test/adapters/fetch.test.ts', 'test/adapters/jar.test.ts', 'test/adapters/regenerate.test.ts',
    ],
  },
  {
    name: 'stores',
    mutate: ['src/stores/*.ts'],
    tests: ['test/stores/**', 'test/manager/store-options.test.ts'],
  },
]

/** Counts a mutation report's mutants by status, per file, with Stryker's score (timeouts count as killed, ignored ones not at all). */
export function scores(report) {
  return Object.entries(report.files).map(([file, { mutants }]) => {
    const count = (status) => mutants.filter((mutant) => mutant.status === status).length
    const row = { file, killed: count('Killed'), timeout: count('Timeout'), survived: count('Survived'), noCoverage: count('NoCoverage'), ignored: count('Ignored') }
    const detected = row.killed + row.timeout
    const valid = detected + row.survived + row.noCoverage
    return { ...row, score: valid === 0 ? 100 : (100 * detected) / valid }
  })
}

/**
 * The modules that fail the run: those of the groups just run (`chosen`) with a mutant that
 * survived or that no test reached. Reports of other groups on disk may be stale and do not count.
 */
export function unsettled(reports, chosen) {
  return reports
    .filter((report) => chosen.includes(report.group))
    .flatMap((report) => report.rows)
    .filter((row) => row.survived + row.noCoverage > 0)
}

/** The table printed at the end: one row per module, a Markdown table like docs/testing.md's. */
export function table(rows) {
  const lines = ['| module | killed (timeouts) | survived | no coverage | ignored (equivalent) | score |', '| --- | ---: | ---: | ---: | ---: | ---: |']
  for (const row of rows) lines.push(`| ${row.file} | ${row.killed + row.timeout} (${row.timeout}) | ${row.survived} | ${row.noCoverage} | ${row.ignored} | ${row.score.toFixed(1)} % |`)
  return lines.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const asked = process.argv.slice(2)
  const unknown = asked.filter((name) => !GROUPS.some((group) => group.name === name))
  if (unknown.length > 0) {
    console.error(`unknown group ${unknown.join(', ')}: the groups are ${GROUPS.map((group) => group.name).join(', ')}`)
    process.exit(2)
  }
  let failed = false
  const chosen = GROUPS.filter((group) => asked.length === 0 || asked.includes(group.name))
  for (const group of chosen) {
    const started = Date.now()
    console.log(`\nmutation: group ${group.name} (${group.mutate.join(', ')})`)
    const run = spawnSync('npx', ['stryker', 'run', '--mutate', group.mutate.join(',')], {
      stdio: 'inherit',
      env: { ...process.env, FRASCO_MUTATION_GROUP: group.name, FRASCO_MUTATION_TESTS: group.tests.join(',') },
    })
    console.log(`mutation: group ${group.name} took ${Math.round((Date.now() - started) / 1000)} s`)
    if (run.status !== 0) failed = true
  }
  const reports = GROUPS.map((group) => {
    const path = `reports/${group.name}/mutation.json`
    return { group, rows: existsSync(path) ? scores(JSON.parse(readFileSync(path, 'utf8'))) : [] }
  })
  console.log(`\n${table(reports.flatMap((report) => report.rows))}`)
  const left = unsettled(reports, chosen)
  if (left.length > 0) {
    console.error(`\nmutation: not killed and not marked equivalent in ${left.map((row) => row.file).join(', ')}: add a test, or if no input can tell the mutant apart, a // Stryker disable comment and an entry in test/mutation-equivalents.md`)
    failed = true
  }
  process.exit(failed ? 1 : 0)
}
