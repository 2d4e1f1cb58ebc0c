// Types for scripts/api-docs.mjs, which test/api-docs.test.ts imports.

/** Where the generated reference lives, relative to the repository root. */
export declare const API_DOCS: string

export interface EntryPoint {
  /** What users import: `frasco`, `frasco/node`, … */
  specifier: string
  /** The declaration file of its "types" condition, relative to the root (`dist/index.d.ts`). */
  types: string
  /** The module of its "default" condition, relative to the root (`dist/index.js`). */
  module: string
}

export interface ApiExport {
  name: string
  kind: 'function' | 'class' | 'const' | 'interface' | 'type'
  /** True for what exists at run time: functions, classes and constants. */
  value: boolean
  /** The first sentence of its JSDoc, on one line; empty when it has none. */
  description: string
  /** Its declaration(s) as printed in docs/api.md. */
  declaration: string
}

/** The entry points from package.json "exports", except `./package.json`. */
export declare function entryPoints(root?: string): EntryPoint[]
/** Every export of every entry point, read from the built declarations. */
export declare function collectApi(root?: string): Array<EntryPoint & { exports: ApiExport[] }>
/** docs/api.md as it should read for the current build (`api`: what `collectApi` returned, to reuse it). */
export declare function renderApiDocs(root?: string, api?: ReturnType<typeof collectApi>): string
