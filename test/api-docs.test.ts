/**
 * docs/api.md against the package: every export of every entry point in package.json "exports" is
 * documented, nothing else is, the documented values are exactly what the built modules export at
 * run time, and the file is what scripts/api-docs.mjs generates from the current build.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { API_DOCS, collectApi, renderApiDocs } from '../scripts/api-docs.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const REGENERATE = 'run `npm run build && node scripts/api-docs.mjs` and commit docs/api.md'

const api = collectApi(ROOT)
const markdown = readFileSync(join(ROOT, API_DOCS), 'utf8')

/** docs/api.md read back: `## \`specifier\`` sections holding `### \`name\`` entries, each followed by `kind · specifier`. */
function documented(): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>()
  let current: Map<string, string> | undefined
  const lines = markdown.split('\n')
  lines.forEach((line, index) => {
    const section = /^## `([^`]+)`$/.exec(line)
    if (section !== null) {
      current = new Map()
      sections.set(section[1] as string, current)
      return
    }
    const entry = /^### `([^`]+)`$/.exec(line)
    if (entry !== null && current !== undefined) {
      const kind = /^(\w+) · /.exec(lines[index + 2] ?? '')?.[1] ?? '(no kind line)'
      current.set(entry[1] as string, kind)
    }
  })
  return sections
}

const docs = documented()
const sorted = (names: Iterable<string>) => [...names].sort()

describe(`${API_DOCS} covers every entry point`, () => {
  it('has one section per entry point in package.json "exports", and no other', () => {
    expect(sorted(docs.keys()), REGENERATE).toEqual(sorted(api.map((entry) => entry.specifier)))
  })

  describe.each(api.map((entry) => [entry.specifier, entry] as const))('%s', (specifier, entry) => {
    const names = docs.get(specifier) ?? new Map<string, string>()

    it('documents every export (values and types, from the .d.ts)', () => {
      const missing = entry.exports.map((item) => item.name).filter((name) => !names.has(name))
      expect(missing, `exported but not in ${API_DOCS}: ${REGENERATE}`).toEqual([])
    })

    it('documents nothing that is not exported', () => {
      const exported = new Set(entry.exports.map((item) => item.name))
      const extra = [...names.keys()].filter((name) => !exported.has(name))
      expect(extra, `in ${API_DOCS} but not exported: ${REGENERATE}`).toEqual([])
    })

    it('documents as values exactly what the built module exports at run time', async () => {
      const runtime = Object.keys((await import(pathToFileURL(join(ROOT, entry.module)).href)) as object)
      const documentedValues = [...names].filter(([, kind]) => ['function', 'class', 'const'].includes(kind)).map(([name]) => name)
      expect(sorted(documentedValues), REGENERATE).toEqual(sorted(runtime))
      // And the declarations agree with the run time: no value declared but missing, or the reverse.
      expect(sorted(entry.exports.filter((item) => item.value).map((item) => item.name))).toEqual(sorted(runtime))
    })

    it('gives every export a description', () => {
      expect(entry.exports.filter((item) => item.description === '').map((item) => item.name), 'add JSDoc in src/').toEqual([])
    })
  })

  it('is exactly what scripts/api-docs.mjs generates from the current build', () => {
    // Compared as text so the failure shows the changed lines; signatures and descriptions count.
    expect(markdown, REGENERATE).toBe(renderApiDocs(ROOT, api))
  })
})
