/**
 * docs/recipes.md shows the code these tests run: each test file's recipe (between its
 * `// --- recipe: <name>` and `// --- end recipe` lines) must appear in the docs exactly, as
 * docs/frameworks.md does for test/frameworks/.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { recipeOf } from '../helpers/recipes.js'

const docs = readFileSync(new URL('../../docs/recipes.md', import.meta.url), 'utf8')

const recipe = (file: string): string => recipeOf(new URL(file, import.meta.url))

describe('docs/recipes.md', () => {
  it.each(['remember-me.test.ts', 'logout-everywhere.test.ts', 'csrf.test.ts'])('shows the recipe of %s verbatim', (file) => {
    const code = recipe(file)
    expect(code.length).toBeGreaterThan(200)
    expect(docs.includes(code), `docs/recipes.md is out of date with the recipe in test/recipes/${file}`).toBe(true)
  })
})
