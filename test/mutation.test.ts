/**
 * scripts/mutation.mjs (`npm run mutation`): its groups must cover every module stryker.config.mjs
 * mutates, once, against test files that exist and that the mutation run may load; and the table
 * it prints must count the statuses as StrykerJS scores them (docs/testing.md). Every mutant marked
 * equivalent in the code must be in test/mutation-equivalents.md, at the line it names, and nothing
 * else may be.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { GROUPS, scores, table, unsettled } from '../scripts/mutation.mjs'
import { NOT_MUTATION_TESTS } from '../vitest.mutation.config.js'

/** stryker.config.mjs, loaded as StrykerJS loads it (a plain module without types of its own). */
const CONFIG_PATH: string = '../stryker.config.mjs'
const { default: config } = (await import(CONFIG_PATH)) as { default: { mutate: string[] } }

/** The repository's files under src/ and test/, as paths relative to the root with forward slashes. */
const ALL = ['src', 'test'].flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((file) => `${dir}/${file.replaceAll('\\', '/')}`))

/** The globs the configs use (`**`, `*` and plain paths), matched as StrykerJS and vitest match them. */
function files(patterns: readonly string[]): Set<string> {
  const regexps = patterns.map((pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('**', '\0').replaceAll('*', '[^/]*').replaceAll('\0', '.*')}$`))
  return new Set(ALL.filter((file) => regexps.some((regexp) => regexp.test(file))))
}

describe('npm run mutation: the groups', () => {
  it('mutate every module of stryker.config.mjs, each in one group only', () => {
    const grouped = GROUPS.flatMap((group) => [...files(group.mutate)])
    expect(new Set(grouped).size).toBe(grouped.length)
    expect(new Set(grouped)).toEqual(files(config.mutate))
  })

  it.each(GROUPS.map((group) => [group.name, group] as const))('%s: every test glob names test files the mutation run loads', (_name, group) => {
    const excluded = files(NOT_MUTATION_TESTS)
    for (const glob of group.tests) {
      const matched = [...files([glob])].filter((file) => file.endsWith('.test.ts'))
      expect(matched, glob).not.toEqual([])
      for (const file of matched) expect(excluded.has(file), file).toBe(false)
    }
  })

  it('refuses a group it does not know, naming the groups', () => {
    let failure: { status: number; stderr: string } | undefined
    try {
      execFileSync(process.execPath, ['scripts/mutation.mjs', 'cookies'], { encoding: 'utf8', stdio: 'pipe' })
    } catch (error) {
      failure = error as { status: number; stderr: string }
    }
    expect(failure?.status).toBe(2)
    expect(failure?.stderr).toBe(`unknown group cookies: the groups are ${GROUPS.map((group) => group.name).join(', ')}\n`)
  })
})

describe('npm run mutation: the scores', () => {
  const mutants = (...statuses: string[]) => statuses.map((status, id) => ({ id: String(id), status }))

  it('counts timeouts as killed, leaves ignored and compile errors out, and names what is left', () => {
    const rows = scores({
      files: {
        'src/a.ts': { mutants: mutants('Killed', 'Killed', 'Timeout', 'Survived', 'Ignored', 'Ignored', 'CompileError', 'RuntimeError') },
        'src/b.ts': { mutants: mutants('Killed', 'NoCoverage', 'Ignored') },
        'src/c.ts': { mutants: mutants('Ignored', 'CompileError') },
      },
    })
    expect(rows).toEqual([
      { file: 'src/a.ts', killed: 2, timeout: 1, survived: 1, noCoverage: 0, ignored: 2, score: 75 },
      { file: 'src/b.ts', killed: 1, timeout: 0, survived: 0, noCoverage: 1, ignored: 1, score: 50 },
      { file: 'src/c.ts', killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 1, score: 100 },
    ])
    expect(table(rows)).toBe([
      '| module | killed (timeouts) | survived | no coverage | ignored (equivalent) | score |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      '| src/a.ts | 3 (1) | 1 | 0 | 2 | 75.0 % |',
      '| src/b.ts | 1 (0) | 0 | 1 | 1 | 50.0 % |',
      '| src/c.ts | 0 (0) | 0 | 0 | 1 | 100.0 % |',
    ].join('\n'))
  })

  it('fails on the groups just run only: a survivor or an uncovered mutant there, never a stale report of another group', () => {
    const [core, cookie] = GROUPS as [(typeof GROUPS)[number], (typeof GROUPS)[number]]
    const row = (file: string, survived: number, noCoverage: number) => ({ file, killed: 1, timeout: 0, survived, noCoverage, ignored: 0, score: 0 })
    const reports = [
      { group: core, rows: [row('src/lib/a.ts', 0, 0), row('src/lib/b.ts', 0, 1)] },
      { group: cookie, rows: [row('src/cookie/cookie.ts', 2, 0)] },
    ]
    expect(unsettled(reports, [core]).map((left) => left.file)).toEqual(['src/lib/b.ts'])
    expect(unsettled(reports, [cookie]).map((left) => left.file)).toEqual(['src/cookie/cookie.ts'])
    expect(unsettled(reports, [core, cookie]).map((left) => left.file)).toEqual(['src/lib/b.ts', 'src/cookie/cookie.ts'])
    expect(unsettled([{ group: core, rows: [row('src/lib/a.ts', 0, 0)] }], [core])).toEqual([])
  })
})

describe('test/mutation-equivalents.md: the list of equivalent mutants', () => {
  /** Every `// Stryker disable` comment in src/ (in any form StrykerJS reads), with the line after it. */
  const marked = ALL.filter((file) => file.startsWith('src/') && file.endsWith('.ts')).flatMap((file) => {
    const lines = readFileSync(file, 'utf8').split('\n')
    return lines.flatMap((line, index) =>
      /Stryker disable/.test(line) ? [{ at: `${file}:${index + 2}`, comment: line.trim(), next: (lines[index + 1] ?? '').trim() }] : [],
    )
  })
  /** The list's entries, each with the `src/<module>:<line>` it names; a bare `:<line>` is of the module named before it. */
  const entries = readFileSync('test/mutation-equivalents.md', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('- `src/'))
    .map((text) => {
      let file = ''
      const lines = [...text.matchAll(/`(src\/[\w/.-]+\.ts)?:(\d+)`/g)].map(([, named, line]) => {
        file = named ?? file
        return `${file}:${line}`
      })
      return { text, lines }
    })
  const listed = entries.flatMap((entry) => entry.lines)

  it('each comment sits above code, names its mutators, says why the mutant is equivalent, and points to the list', () => {
    expect(marked.length).toBeGreaterThan(0)
    for (const { at, comment, next } of marked) {
      expect(comment, at).toMatch(/^\/\/ Stryker disable next-line (?!all\b)[A-Z]\w+(,[A-Z]\w+)*: equivalent\b[^,]*, \S.* \(test\/mutation-equivalents\.md\)$/)
      expect(next === '' || next.startsWith('//') || next.startsWith('/*'), `${at} is not code`).toBe(false)
    }
  })

  it('lists every marked line at its current number, and no line that is not marked', () => {
    const at = new Set(marked.map((mark) => mark.at))
    expect(
      marked.filter((mark) => !listed.includes(mark.at)).map((mark) => mark.at),
      'marked in the code, missing from test/mutation-equivalents.md (or listed under a line number the code has moved from)',
    ).toEqual([])
    expect(
      listed.filter((line) => !at.has(line)),
      'listed in test/mutation-equivalents.md with no // Stryker disable next-line comment on the line above it',
    ).toEqual([])
  })

  it('names, in the entries of each marked line, every mutator its comment ignores', () => {
    for (const { at, comment } of marked) {
      const text = entries.filter((entry) => entry.lines.includes(at)).map((entry) => entry.text).join('\n')
      for (const mutator of /next-line ([\w,]+):/.exec(comment)?.[1]?.split(',') ?? []) expect(text, `${at} ${mutator}`).toContain(mutator)
    }
  })
})
