// Types for scripts/mutation.mjs, which test/mutation.test.ts imports.

export interface MutationGroup {
  name: string
  mutate: string[]
  tests: string[]
}
export interface ModuleScore {
  file: string
  killed: number
  timeout: number
  survived: number
  noCoverage: number
  ignored: number
  score: number
}
export declare const GROUPS: readonly MutationGroup[]
export declare function scores(report: { files: Record<string, { mutants: { status: string }[] }> }): ModuleScore[]
export declare function table(rows: readonly ModuleScore[]): string
export declare function unsettled(reports: readonly { group: MutationGroup; rows: readonly ModuleScore[] }[], chosen: readonly MutationGroup[]): ModuleScore[]
