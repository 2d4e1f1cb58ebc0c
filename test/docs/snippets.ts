/**
 * Extracts the TypeScript blocks of the README and docs/ (the shared helpers of snippets.test.ts).
 */
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../../', import.meta.url))

/** One ```ts block: where it is, its info string, its code. */
export interface Snippet {
  /** `README.md`, `docs/guide.md`: relative to the repository. */
  file: string
  /** The 1-based line of the block's first code line. */
  line: number
  info: string
  code: string
}

/** README.md and every docs/*.md but the generated API reference, in a stable order. */
export function docFiles(): string[] {
  const docs = readdirSync(`${root}docs`)
    .filter((name) => name.endsWith('.md') && name !== 'api.md')
    .sort()
    .map((name) => `docs/${name}`)
  return ['README.md', ...docs]
}

/** Every fenced block whose info string starts with `ts` (or `typescript`). */
export function extractSnippets(file: string, text = readFileSync(`${root}${file}`, 'utf8')): Snippet[] {
  const snippets: Snippet[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    // CommonMark fences: 3+ backticks or tildes, closed by a fence of the same kind at least as long.
    const open = /^ {0,3}(`{3,}|~{3,})\s*(.*)$/.exec(lines[i] ?? '')
    if (open === null) continue
    const fence = open[1] ?? '```'
    const info = (open[2] ?? '').trim()
    let end = i + 1
    while (end < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[end] ?? '')) end++
    if (/^(ts|typescript)(\s|$)/.test(info)) {
      snippets.push({ file, line: i + 2, info, code: lines.slice(i + 1, end).join('\n') + '\n' })
    }
    i = end
  }
  return snippets
}

/** The first ```ts block after the Markdown heading `heading` (the whole heading line). */
export function snippetUnder(file: string, heading: string): Snippet {
  const text = readFileSync(`${root}${file}`, 'utf8')
  const at = text.split('\n').indexOf(heading)
  if (at === -1) throw new Error(`${file} has no heading ${heading}`)
  const snippet = extractSnippets(file, text).find((s) => s.line > at + 1)
  if (snippet === undefined) throw new Error(`${file} has no ts block under ${heading}`)
  return snippet
}
