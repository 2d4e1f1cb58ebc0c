/**
 * docs/frameworks.md shows the code these tests run: each test file's recipe (between its
 * `// --- recipe: <name>` and `// --- end recipe` lines) must appear in the docs exactly.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { recipeOf } from '../helpers/recipes.js'

const docs = readFileSync(new URL('../../docs/frameworks.md', import.meta.url), 'utf8')

const recipe = (file: string): string => recipeOf(new URL(file, import.meta.url))

describe('docs/frameworks.md', () => {
  it.each(['express.test.ts', 'passport.test.ts', 'fastify.test.ts', 'koa.test.ts', 'hono.test.ts'])('shows the recipe of %s verbatim', (file) => {
    const code = recipe(file)
    expect(code.length).toBeGreaterThan(200)
    expect(docs.includes(code), `docs/frameworks.md is out of date with the recipe in test/frameworks/${file}`).toBe(true)
  })
})
