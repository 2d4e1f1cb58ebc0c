/**
 * A setup file for `npm run mutation` only (vitest.mutation.config.ts); outside StrykerJS it does
 * nothing.
 *
 * StrykerJS records which tests reach each mutant, and runs only those against it. What runs outside
 * a test (a test file's top level, a `describe` body building a manager, a `beforeAll` starting a
 * server or asking Flask for cookies) it records as "static" and answers by running the whole suite
 * for that mutant: most of this suite's mutants, at a minute or more each. Vitest runs each test file
 * in a fresh worker with fresh modules (`isolate`), so such work can only matter to the tests of its
 * own file. This file makes Stryker use that:
 *
 * - in the initial run, what a file reached outside its tests counts as reached by every test of
 *   that file (and no longer as static);
 * - against a mutant, the mutant is switched on before the test file and the modules it imports
 *   load, as Stryker does for a static mutant, so the file's top level and hooks run mutated too.
 *
 * A mutant is then run against every file that reached it, all of the file, from its first line:
 * the same verdict as the whole suite, minus the files that never reach the mutated code.
 */
import fc from 'fast-check'
import { afterAll, inject } from 'vitest'

/** Stryker's per-worker state: `activeMutant` switches a mutant on; `mutantCoverage` counts hits. */
interface StrykerState {
  activeMutant?: string
  mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> }
}

/** What Stryker's vitest runner provides (undefined when vitest runs without Stryker). */
declare module 'vitest' {
  export interface ProvidedContext {
    globalNamespace: string
    mode: 'dry-run' | 'mutant'
    activeMutant: string
  }
}

/** The parts of Vitest's task tree read here. */
interface Task {
  type: string
  name: string
  suite?: Task | undefined
  file?: { filepath: string } | undefined
  result?: { state?: string } | undefined
  tasks?: Task[]
}

const namespace = inject('globalNamespace') as string | undefined

if (namespace !== undefined) {
  const globals = globalThis as unknown as Record<string, StrykerState | undefined>
  const state = (globals[namespace] ??= {})
  if (inject('mode') === 'mutant') {
    state.activeMutant = inject('activeMutant')
    // A mutant a property test catches is killed by the first counterexample. Shrinking it (the
    // default) can outlast Stryker's timeout, and a timeout is the one verdict that a slow machine
    // also gives: stop at the first failure, so the kill is reported as one.
    fc.configureGlobal({ ...fc.readConfigureGlobal(), endOnFailure: true })
  }
  else {
    afterAll((_context, file) => {
      const coverage = state.mutantCoverage
      if (coverage === undefined) return
      const reached = Object.entries(coverage.static)
      if (reached.length === 0) return
      const passed = testsOf(file as unknown as Task).filter((test) => test.result?.state === 'pass')
      // A file none of whose tests ran leaves its hits static: the whole suite then runs for them.
      if (passed.length === 0) return
      for (const test of passed) {
        const hits = (coverage.perTest[testId(test)] ??= {})
        for (const [mutant, count] of reached) hits[mutant] = (hits[mutant] ?? 0) + count
      }
      for (const [mutant] of reached) delete coverage.static[mutant]
    })
  }
}

function testsOf(suite: Task): Task[] {
  return (suite.tasks ?? []).flatMap((task) => (task.type === 'test' ? [task] : task.type === 'suite' ? testsOf(task) : []))
}

/** A test's id exactly as Stryker's vitest runner writes it: `<file path>#<suite names> <test name>`. */
function testId(test: Task): string {
  const names = [test.name]
  for (let suite = test.suite; suite !== undefined; suite = suite.suite) names.unshift(suite.name)
  return `${test.file?.filepath ?? 'unknown.js'}#${names.join(' ').trim()}`
}
