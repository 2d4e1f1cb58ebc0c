/**
 * The recipe a test file shows in the docs: the code between its `// --- recipe: <name>` and
 * `// --- end recipe` lines, trimmed. test/frameworks/recipes.test.ts and test/recipes/docs.test.ts
 * check that the docs show it verbatim.
 */
import { readFileSync } from 'node:fs'
import { expect } from 'vitest'

export function recipeOf(file: URL): string {
  const text = readFileSync(file, 'utf8')
  const start = text.search(/^\/\/ --- recipe: .*\n/m)
  const end = text.indexOf('// --- end recipe')
  expect(start, `${file.pathname} has no recipe`).toBeGreaterThanOrEqual(0)
  expect(end, `${file.pathname} has no end of recipe`).toBeGreaterThan(start)
  return text.slice(text.indexOf('\n', start) + 1, end).trim()
}
