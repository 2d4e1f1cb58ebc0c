/**
 * Examples are tests: every ```ts block of README.md and docs/*.md (but the generated
 * docs/api.md) compiles under the repository's tsconfig.json, the strictest settings the library
 * itself is held to, against the built package (`frasco`, `frasco/node`, … resolve to dist/ as
 * they do for a user, so run `npm run build` first; `npm test` does).
 *
 * Each block is a module of its own and must be complete: its imports, its declarations. A block
 * that is deliberately a fragment (a few lines using a `sessions`, `req` or `res` that the prose
 * around it introduces) says so in its info string, ```ts fragment, and is checked against
 * FRAGMENT_PRELUDE (typecheck.ts), which declares `sessions`, `session`, `req`, `res`, `request`,
 * `response` and `secrets`; anything else it uses must be declared in the block. Prefer a complete
 * block to a fragment. A block showing an error on purpose marks the line with
 * `// @ts-expect-error`, so the error must stay an error.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { docFiles, extractSnippets } from './snippets.js'
import { isFragment, typecheck, type Problem } from './typecheck.js'

const files = docFiles()
const snippets = files.flatMap((file) => extractSnippets(file))
let problems: Problem[] = []

// One type-check of every block (a few programs sharing their parsed files), reported per file.
beforeAll(() => {
  problems = typecheck(snippets)
}, 60_000)

describe('TypeScript blocks in the docs', () => {
  it('finds the blocks of README.md and docs/*.md', () => {
    expect(files).toContain('README.md')
    expect(files).not.toContain('docs/api.md')
    expect(snippets.length).toBeGreaterThan(30)
  })

  it.each(files)('%s: every block compiles under tsconfig.json', (file) => {
    const found = problems.filter((problem) => problem.where.startsWith(`${file}:`)).map((p) => `${p.where}: ${p.message}`)
    expect(found).toEqual([])
  })

  it('reports problems outside any block (the program, the prelude) too', () => {
    const found = problems.filter((problem) => !files.some((file) => problem.where.startsWith(`${file}:`)))
    expect(found).toEqual([])
  })

  it('marks fragments explicitly, and only a few', () => {
    const fragments = snippets.filter(isFragment)
    expect(fragments.length).toBeLessThan(snippets.length / 4)
  })
})
