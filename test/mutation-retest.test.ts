/**
 * scripts/mutation-retest.mjs: after tests are added, the next incremental mutation run must test
 * every mutant that was not killed again, and reuse only killed results (docs/testing.md).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { forgetUnkilled } from '../scripts/mutation-retest.mjs'

const STATUSES = ['Killed', 'Survived', 'NoCoverage', 'Timeout', 'CompileError', 'RuntimeError', 'Ignored']

function report() {
  return {
    schemaVersion: '2',
    testFiles: { 'test/a.test.ts': { tests: [{ id: '0', name: 'a' }] } },
    files: {
      'src/a.ts': { language: 'typescript', source: 'a', mutants: STATUSES.map((status, id) => ({ id: String(id), status })) },
      'src/b.ts': { language: 'typescript', source: 'b', mutants: [{ id: '9', status: 'Killed' }] },
    },
  }
}

describe('mutation-retest', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it('removes survived, uncovered, timed-out, runtime-error and ignored results; keeps killed, compile errors and the test files', () => {
    const given = report()
    expect(forgetUnkilled(given)).toEqual({ removed: 5, kept: 3 })
    expect(given.files['src/a.ts'].mutants.map((mutant) => mutant.status)).toEqual(['Killed', 'CompileError'])
    expect(given.files['src/b.ts'].mutants).toEqual([{ id: '9', status: 'Killed' }])
    expect(given.testFiles).toEqual(report().testFiles)
  })

  it('rewrites the file it is given and says what it did', () => {
    const dir = mkdtempSync(join(tmpdir(), 'frasco-retest-'))
    dirs.push(dir)
    const file = join(dir, 'incremental.json')
    writeFileSync(file, JSON.stringify(report()))
    const out = execFileSync(process.execPath, ['scripts/mutation-retest.mjs', file], { encoding: 'utf8' })
    expect(out).toBe(`${file}: 5 results to re-test, 3 kept\n`)
    const written = JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof report>
    expect(Object.values(written.files).flatMap((entry) => entry.mutants.map((mutant) => mutant.id))).toEqual(['0', '4', '9'])
  })
})
