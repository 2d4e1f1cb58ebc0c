#!/usr/bin/env node
// Makes the next incremental `npm run mutation` re-test every mutant that was not killed.
//
//   node scripts/mutation-retest.mjs [incremental file]   (default reports/stryker-incremental.json)
//
// StrykerJS's incremental mode reuses a survivor's result as long as the mutated code is unchanged,
// and with the vitest runner it did so even for survivors that tests written since reach: a run
// after new tests reported the same survivors. This removes the results of survived, uncovered and
// timed-out mutants (a timeout on a busy machine may be no hang), so the next run tests them
// against the current tests. It removes ignored ones too, which StrykerJS 9.6 never reuses (it reads
// the `// Stryker disable` comments again on every run), so the file keeps only what a run reuses.
// Killed results stay (Stryker still re-tests those whose killing test changed or is gone). See
// docs/testing.md.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Statuses whose results the next run must not reuse. */
export const RETESTED = new Set(['Survived', 'NoCoverage', 'Timeout', 'RuntimeError', 'Ignored'])

/**
 * Removes from a mutation-testing report (the incremental file's schema) every mutant whose
 * status is in {@link RETESTED}; returns how many were removed and how many kept.
 */
export function forgetUnkilled(report) {
  let removed = 0
  let kept = 0
  for (const file of Object.values(report.files ?? {})) {
    const mutants = file.mutants.filter((mutant) => !RETESTED.has(mutant.status))
    removed += file.mutants.length - mutants.length
    kept += mutants.length
    file.mutants = mutants
  }
  return { removed, kept }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = process.argv[2] ?? 'reports/stryker-incremental.json'
  const report = JSON.parse(readFileSync(path, 'utf8'))
  const { removed, kept } = forgetUnkilled(report)
  writeFileSync(path, JSON.stringify(report))
  console.log(`${path}: ${removed} results to re-test, ${kept} kept`)
}
