/**
 * Shared helpers for tests against real Flask: find a Python with Flask, talk to the oracle
 * (test/flask/oracle.py), and describe Python values as typed specs on both sides.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'vitest'
import { Markup, UUID, isTuple, tuple } from '../../src/flask/json.js'

/** Debian's interpreter: `apt-get install python3-flask` puts Flask 2.2 there (not in pyenv's). */
const CANDIDATES = [process.env.FRASCO_PYTHON, '/usr/bin/python3'].filter((p): p is string => p !== undefined && p !== '')

function findPython(): string | undefined {
  for (const candidate of CANDIDATES) {
    if (!existsSync(candidate)) continue
    const probe = spawnSync(candidate, ['-c', 'import flask, itsdangerous, markupsafe'], { stdio: 'ignore', timeout: 20_000 })
    if (probe.status === 0) return candidate
  }
  return undefined
}

/** The Python interpreter with Flask importable, if any. */
export const python: string | undefined = findPython()

/** Whether real Flask can be used by the tests. */
export const flaskAvailable = python !== undefined

const INSTALL_COMMAND = 'sudo apt-get install python3-flask'
const INSTALL_HINT = `install Flask with \`${INSTALL_COMMAND}\` (Debian's Flask 2.2, for /usr/bin/python3), or point FRASCO_PYTHON at a Python that has it`

/** CI services set CI=true (some CI=1); there a missing Flask fails the run instead of skipping. */
const ON_CI = /^(true|1)$/i.test(process.env.CI ?? '')

/**
 * A `describe` for tests that need real Flask. Without Flask it skips, saying how to install it:
 * in the suite's name (what vitest lists for a skipped suite) and in one line on stderr (which
 * vitest prints in every run, where it lists no skipped names). In CI it fails instead, so a
 * missing install step cannot pass as green.
 */
export function describeFlask(name: string, body: () => void): void {
  // Skipped only off CI, and only without Flask; in CI the missing install is a failing test.
  const skipped = !flaskAvailable && !ON_CI
  if (skipped) console.warn(`skipped "${name}": Flask is not importable from ${CANDIDATES.join(' or ')}; ${INSTALL_HINT}`)
  const required = (): void => {
    it('has real Flask to test against', () => {
      throw new Error(`Flask is not importable from ${CANDIDATES.join(' or ')} but CI requires it: ${INSTALL_HINT}`)
    })
  }
  describe.skipIf(skipped)(skipped ? `${name} (skipped: install Flask with \`${INSTALL_COMMAND}\`)` : name, flaskAvailable ? body : required)
}

/** A typed description of a Python value; see test/flask/oracle.py. */
export type Spec =
  | readonly ['none']
  | readonly ['bool', boolean]
  | readonly ['int', string]
  | readonly ['float', string]
  | readonly ['str', string]
  | readonly ['bytes', string]
  | readonly ['list', readonly Spec[]]
  | readonly ['tuple', readonly Spec[]]
  | readonly ['dict', ReadonlyArray<readonly [string, Spec]>]
  | readonly ['markup', string]
  | readonly ['uuid', string]
  | readonly ['datetime', string]
  | readonly ['unknown', string, string]

function floatText(value: number): string {
  if (Number.isNaN(value)) return 'nan'
  if (value === Infinity) return 'inf'
  if (value === -Infinity) return '-inf'
  if (Object.is(value, -0)) return '-0.0'
  return String(value)
}

/** Builders for specs. */
export const py = {
  none: ['none'] as Spec,
  bool: (value: boolean): Spec => ['bool', value],
  int: (value: number | bigint | string): Spec => ['int', String(value)],
  float: (value: number | string): Spec => ['float', typeof value === 'number' ? floatText(value) : value],
  str: (value: string): Spec => ['str', value],
  bytes: (value: Uint8Array | string): Spec => ['bytes', typeof value === 'string' ? value : Buffer.from(value).toString('hex')],
  list: (...items: Spec[]): Spec => ['list', items],
  tuple: (...items: Spec[]): Spec => ['tuple', items],
  dict: (entries: Record<string, Spec> | Array<[string, Spec]>): Spec => ['dict', Array.isArray(entries) ? entries : Object.entries(entries)],
  markup: (html: string): Spec => ['markup', html],
  uuid: (hex: string): Spec => ['uuid', hex],
  datetime: (iso: string): Spec => ['datetime', iso],
}

/** Python's `datetime.isoformat()` of an aware UTC datetime at the Date's whole second. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00')
}

/** The Python value Frasco means to write for a JavaScript value (the documented mapping). */
export function toSpec(value: unknown): Spec {
  if (value === null) return py.none
  switch (typeof value) {
    case 'boolean':
      return py.bool(value)
    case 'string':
      return py.str(value)
    case 'bigint':
      return py.int(value)
    case 'number':
      return Number.isSafeInteger(value) ? py.int(value) : py.float(value)
  }
  if (Array.isArray(value)) return isTuple(value) ? ['tuple', value.map(toSpec)] : ['list', value.map(toSpec)]
  if (value instanceof Uint8Array) return py.bytes(value)
  if (value instanceof Markup) return py.markup(value.html)
  if (value instanceof UUID) return py.uuid(value.hex)
  if (value instanceof Date) return py.datetime(isoSeconds(value))
  if (typeof value === 'object') {
    return ['dict', Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).map((k) => [k, toSpec((value as Record<string, unknown>)[k])] as const)]
  }
  throw new TypeError(`no spec for ${typeof value}`)
}

/** The JavaScript value Frasco means to read for a Python value (the documented mapping). */
export function fromSpec(spec: Spec): unknown {
  switch (spec[0]) {
    case 'none':
      return null
    case 'bool':
      return spec[1]
    case 'int': {
      const big = BigInt(spec[1])
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
    }
    case 'float':
      return ({ nan: Number.NaN, inf: Infinity, '-inf': -Infinity } as Record<string, number>)[spec[1]] ?? Number(spec[1])
    case 'str':
      return spec[1]
    case 'bytes':
      return new Uint8Array(Buffer.from(spec[1], 'hex'))
    case 'list':
      return spec[1].map(fromSpec)
    case 'tuple':
      return tuple(...spec[1].map(fromSpec))
    case 'dict': {
      const object = Object.create(null) as Record<string, unknown>
      for (const [k, v] of spec[1]) object[k] = fromSpec(v)
      return object
    }
    case 'markup':
      return new Markup(spec[1])
    case 'uuid':
      return new UUID(spec[1])
    case 'datetime':
      // A Python datetime keeps microseconds; the cookie keeps whole seconds.
      return new Date(Math.floor(new Date(spec[1]).getTime() / 1000) * 1000)
    case 'unknown':
      throw new TypeError(`Python gave an unexpected value: ${spec[1]} ${spec[2]}`)
  }
}

/** A spec in a canonical form for comparison: dict entries sorted, floats by value. */
export function normalizeSpec(spec: Spec): Spec {
  switch (spec[0]) {
    case 'float': {
      const value = fromSpec(spec) as number
      return ['float', Object.is(value, -0) ? '-0' : String(value)]
    }
    case 'list':
    case 'tuple':
      return [spec[0], spec[1].map(normalizeSpec)] as Spec
    case 'dict':
      return ['dict', [...spec[1]].map(([k, v]) => [k, normalizeSpec(v)] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]
    case 'datetime':
      return ['datetime', new Date(spec[1]).toISOString()]
    default:
      return spec
  }
}

/** One operation for the oracle; see test/flask/oracle.py for the fields. */
export type OracleOp = Record<string, unknown> & { op: 'flask_save' | 'flask_dumps' | 'flask_open' | 'its' }

/** A running oracle process; send batches of operations, one round trip each. */
export interface Oracle {
  run<T = Record<string, unknown>>(ops: readonly OracleOp[]): Promise<T[]>
  close(): void
}

const ORACLE = fileURLToPath(new URL('./oracle.py', import.meta.url))

/** Starts test/flask/oracle.py once; call `close()` in `afterAll`. */
export function startOracle(): Oracle {
  if (python === undefined) throw new Error(`Flask is not available: ${INSTALL_HINT}`)
  const child: ChildProcessWithoutNullStreams = spawn(python, [ORACLE], { stdio: ['pipe', 'pipe', 'pipe'] })
  let buffered = ''
  let stderr = ''
  const waiting: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = []
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk
  })
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      waiting.shift()?.resolve(line)
    }
  })
  child.on('exit', (code) => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`oracle exited with ${code}: ${stderr}`))
  })
  return {
    run<T>(ops: readonly OracleOp[]): Promise<T[]> {
      return new Promise<string>((resolve, reject) => {
        waiting.push({ resolve, reject })
        child.stdin.write(JSON.stringify(ops) + '\n')
      }).then((line) => {
        const results = JSON.parse(line) as Array<T & { oracle_error?: string }>
        const failed = results.find((r) => r.oracle_error !== undefined)
        if (failed !== undefined) throw new Error(`oracle failed: ${failed.oracle_error}`)
        return results
      })
    },
    close() {
      child.stdin.end()
    },
  }
}
