// Types for scripts/mutation-retest.mjs, which test/mutation-retest.test.ts imports.

export declare const RETESTED: ReadonlySet<string>
export declare function forgetUnkilled(report: { files?: Record<string, { mutants: { status: string }[] }> }): { removed: number; kept: number }
