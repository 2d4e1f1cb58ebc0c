/**
 * docs/frameworks.md shows the code these tests run: each test file's recipe (between its
 * `// --- recipe: <name>` and `// --- end recipe` lines) must appear in the docs exactly. The
 * framework tests' recipes leave their imports out (they import ../../src/…); the Next.js app's
 * regions include theirs, since the app imports Frasco by its package name.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { recipeOf } from '../helpers/recipes.js'

const docs = readFileSync(new URL('../../docs/frameworks.md', import.meta.url), 'utf8')
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

describe('docs/frameworks.md', () => {
  it.each(['express.test.ts', 'passport.test.ts', 'fastify.test.ts', 'koa.test.ts', 'hono.test.ts', 'h3.test.ts'])('shows the recipe of %s verbatim', (file) => {
    const code = recipeOf(new URL(file, import.meta.url))
    expect(code.length).toBeGreaterThan(200)
    expect(docs.includes(code), `docs/frameworks.md is out of date with the recipe in test/frameworks/${file}`).toBe(true)
  })

  it.each(['lib/session.js', 'app/actions.js', 'app/login/page.jsx', 'app/page.jsx', 'proxy.js', 'app/api/me/route.js', 'app/api/note/route.js', 'lib/stored.js'])(
    'shows the Next.js app’s %s verbatim',
    (file) => {
      const code = recipeOf(new URL(`../next/${file}`, import.meta.url))
      expect(code.length).toBeGreaterThan(100)
      expect(docs.includes(code), `docs/frameworks.md is out of date with the recipe in test/next/${file}`).toBe(true)
    },
  )

  it('README.md shows the Next.js session module verbatim', () => {
    const code = recipeOf(new URL('../next/lib/session.js', import.meta.url))
    expect(readme.includes(code), 'README.md is out of date with the recipe in test/next/lib/session.js').toBe(true)
  })
})
