/**
 * JSON exactly as Python's `json` module writes and reads it: the payload codec of itsdangerous
 * tokens and, with Flask's tags, of Flask session cookies.
 *
 * @module
 */
import { PayloadMalformed } from '../errors.js'

/**
 * A value put in place of another by an {@link PythonJsonEncodeOptions.tag} hook: written as `{"key": inner}`.
 *
 * @example
 * ```ts
 * const tag = (value: unknown): PythonJsonTagged | undefined => (value instanceof Date ? { key: ' d', inner: value.getTime() } : undefined)
 * encodePythonJson({ at: new Date(0) }, { tag }) // '{"at":{" d":0}}'
 * ```
 */
export interface PythonJsonTagged {
  readonly key: string
  /** Written with the same rules (and the same hook) as any other value. */
  readonly inner: unknown
}

/**
 * Options of {@link encodePythonJson}.
 *
 * @example
 * ```ts
 * const options: PythonJsonEncodeOptions = { sortKeys: true, ensureAscii: true }
 * encodePythonJson({ b: 1, a: 'é' }, options) // '{"a":"\\u00e9","b":1}'
 * ```
 */
export interface PythonJsonEncodeOptions {
  /** Escape every non-ASCII character as `\uXXXX` (Python's `ensure_ascii`). Default `false`. */
  ensureAscii?: boolean
  /** Write object keys in code point order (Python's `sort_keys`). Default `false`: insertion order. */
  sortKeys?: boolean
  /**
   * Called on every value before it is written. Return `undefined` to write the value as usual, or
   * `{ key, inner }` to write `{"key": inner}` instead (how Flask's tagged JSON works). A
   * `TypeError` it throws is reported with the value's path, its message as the reason.
   */
  tag?: (value: unknown) => PythonJsonTagged | undefined
  /** The name of the value in error messages (`value at session.cart[0] is invalid: …`). Default `'value'`. */
  path?: string
}

/**
 * Options of {@link decodePythonJson}.
 *
 * @example
 * ```ts
 * const options: PythonJsonDecodeOptions = { objectHook: (object) => ('$date' in object ? new Date(Number(object.$date)) : object) }
 * decodePythonJson('{"at":{"$date":0}}', options) // { at: 1970-01-01T00:00:00.000Z }
 * ```
 */
export interface PythonJsonDecodeOptions {
  /**
   * Called on every object once its members are decoded, innermost first, in document order
   * (Python's `object_hook`). One difference, for text with repeated keys only (no JSON encoder
   * writes them): an object that a repeated key replaced (`{"a":{…},"a":1}`) is not passed to it,
   * and the order of calls then follows the kept values; Python passes every object in text order.
   */
  objectHook?: (object: Record<string, unknown>) => unknown
}

/** Deeper nesting is refused when writing and reading (CPython gives up near 1000). */
const MAX_DEPTH = 512

/**
 * Python's limit on the decimal digits of an int converted to or from text
 * (`sys.int_info.default_max_str_digits`, since 3.11 and the 3.7–3.10 security releases): `json`
 * raises ValueError on a longer integer either way, so Flask answers a cookie carrying one with a
 * 500. The sign does not count.
 */
const MAX_INT_DIGITS = 4300

// Python's json escapes '"', '\\' and C0 controls; with ensure_ascii also everything above '~'.
const ESCAPE_UTF8 = /["\\\u0000-\u001f]/
const ESCAPE_ASCII = /["\\\u0000-\u001f\u007f-\uffff]/
const ESCAPE_UTF8_ALL = /["\\\u0000-\u001f]/g
const ESCAPE_ASCII_ALL = /["\\\u0000-\u001f\u007f-\uffff]/g
const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escapeUnit(unit: string): string {
  return SHORT_ESCAPES[unit] ?? '\\u' + unit.charCodeAt(0).toString(16).padStart(4, '0')
}

function writeString(text: string, ensureAscii: boolean): string {
  if (ensureAscii) return ESCAPE_ASCII.test(text) ? `"${text.replace(ESCAPE_ASCII_ALL, escapeUnit)}"` : `"${text}"`
  return ESCAPE_UTF8.test(text) ? `"${text.replace(ESCAPE_UTF8_ALL, escapeUnit)}"` : `"${text}"`
}

/** `repr(float)` of CPython: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
function pythonFloat(value: number): string {
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e')
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  const exponent = Number(exponentText)
  const sign = negative ? '-' : ''
  if (exponent < -4 || exponent >= 16) {
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    return `${sign}${head}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0')
  return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`
}

function writeNumber(value: number): string {
  if (Number.isSafeInteger(value)) return String(value) // an int (and -0 becomes 0)
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return 'Infinity'
  if (value === -Infinity) return '-Infinity'
  return pythonFloat(value)
}

/** Code point order, as Python sorts str (JavaScript's `<` compares UTF-16 code units). */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      if (x < 0xd800 && y < 0xd800) return x - y
      return (a.codePointAt(i) as number) - (b.codePointAt(i) as number)
    }
  }
  return a.length - b.length
}

/** A plain or null-prototype object: what both Python JSON codecs accept as a dict. @internal */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === null || prototype === Object.prototype
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object'
}

// Thrown inside the writer and turned into a TypeError at the top: each container adds its key or
// index while the stack unwinds, so the path costs nothing until something is refused.
class Rejection {
  readonly segments: Array<string | number> = []
  constructor(readonly reason: string) {}
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function describeRejection(rejection: Rejection, root: string): string {
  if (rejection.segments.length === 0) return `${root} is invalid: ${rejection.reason}`
  let path = root
  for (const segment of rejection.segments.reverse()) {
    if (typeof segment === 'number') path += `[${segment}]`
    else path += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`
  }
  return `value at ${path} is invalid: ${rejection.reason}`
}

function writeBigInt(value: bigint): string {
  const text = value.toString()
  const digits = value < 0n ? text.length - 1 : text.length
  if (digits > MAX_INT_DIGITS) {
    throw new Rejection(`an integer of ${digits} digits is beyond Python's limit of ${MAX_INT_DIGITS} digits for int/str conversion (sys.int_info.default_max_str_digits): Python's json can neither write nor read it (Flask answers such a cookie with a 500); store it as a string`)
  }
  return text
}

class PythonJsonWriter {
  readonly #ensureAscii: boolean
  readonly #sortKeys: boolean
  readonly #tag: ((value: unknown) => PythonJsonTagged | undefined) | undefined
  readonly #path = new Set<object>()

  constructor(options: PythonJsonEncodeOptions) {
    this.#ensureAscii = options.ensureAscii ?? false
    this.#sortKeys = options.sortKeys ?? false
    this.#tag = options.tag
  }

  write(value: unknown, depth: number): string {
    const tagged = this.#tagOf(value)
    if (tagged !== undefined) {
      return `{${writeString(tagged.key, this.#ensureAscii)}:${this.#enter(value, depth, () => this.write(tagged.inner, depth + 1))}}`
    }
    switch (typeof value) {
      case 'string':
        return writeString(value, this.#ensureAscii)
      case 'number':
        return writeNumber(value)
      case 'bigint':
        return writeBigInt(value)
      case 'boolean':
        return value ? 'true' : 'false'
      case 'object':
        if (value === null) return 'null'
        if (Array.isArray(value)) return this.#enter(value, depth, () => this.#array(value, depth))
        if (isPlainObject(value)) return this.#enter(value, depth, () => this.#object(value, depth))
    }
    throw new Rejection(`${typeName(value)} has no JSON form here; convert it to a string, number, array or plain object`)
  }

  #tagOf(value: unknown): PythonJsonTagged | undefined {
    if (this.#tag === undefined) return undefined
    try {
      return this.#tag(value)
    } catch (error) {
      if (error instanceof TypeError) throw new Rejection(error.message)
      throw error
    }
  }

  #enter(value: unknown, depth: number, write: () => string): string {
    if (depth >= MAX_DEPTH) throw new Rejection(`it nests deeper than ${MAX_DEPTH} levels`)
    if (typeof value !== 'object' || value === null) return write()
    if (this.#path.has(value)) throw new Rejection('it refers back to a value that contains it (a circular reference)')
    this.#path.add(value)
    try {
      return write()
    } finally {
      this.#path.delete(value)
    }
  }

  #array(value: readonly unknown[], depth: number): string {
    const parts: string[] = []
    let i = 0
    try {
      for (; i < value.length; i++) {
        const item = value[i]
        if (item === undefined) throw new Rejection('arrays cannot hold undefined (Python has no such value)')
        parts.push(this.write(item, depth + 1))
      }
    } catch (error) {
      if (error instanceof Rejection) error.segments.push(i)
      throw error
    }
    return `[${parts.join(',')}]`
  }

  #object(value: Record<string, unknown>, depth: number): string {
    const keys = Object.keys(value)
    if (this.#sortKeys) keys.sort(compareCodePoints)
    const parts: string[] = []
    let key = ''
    try {
      for (key of keys) {
        const item = value[key]
        // Like JSON.stringify, a property set to undefined is left out.
        if (item !== undefined) parts.push(`${writeString(key, this.#ensureAscii)}:${this.write(item, depth + 1)}`)
      }
    } catch (error) {
      if (error instanceof Rejection) error.segments.push(key)
      throw error
    }
    return `{${parts.join(',')}}`
  }
}

/**
 * Writes JSON exactly as Python's `json.dumps(value, separators=(',', ':'))` would for the
 * corresponding Python value: `null`/booleans/strings as usual; a number that is a safe integer
 * as a Python `int`, any other number as a `float` in `repr` form (`1e+16`, `1.5e-05`, `NaN`,
 * `Infinity`); a `bigint` as an `int`; arrays as lists; plain (or null-prototype) objects as
 * dicts, leaving out properties whose value is `undefined`. Anything else is a `TypeError`, and so
 * is a `bigint` of more than 4300 digits (Python's int/str conversion limit: its `json` could
 * neither write nor read it).
 *
 * @example
 * ```ts
 * encodePythonJson({ b: 1.5e-5, a: 'é' }, { ensureAscii: true, sortKeys: true })
 * // '{"a":"\\u00e9","b":1.5e-05}'
 * ```
 */
export function encodePythonJson(value: unknown, options: PythonJsonEncodeOptions = {}): string {
  try {
    return new PythonJsonWriter(options).write(value, 0)
  } catch (error) {
    if (error instanceof Rejection) throw new TypeError(describeRejection(error, options.path ?? 'value'))
    throw error
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y
const STRING_SPECIAL = /["\\\u0000-\u001f]/g
const HEX4 = /^[0-9a-fA-F]{4}$/
const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

class PythonJsonReader {
  readonly #text: string
  readonly #hook: ((object: Record<string, unknown>) => unknown) | undefined
  #at = 0

  constructor(text: string, hook: ((object: Record<string, unknown>) => unknown) | undefined) {
    this.#text = text
    this.#hook = hook
  }

  read(): unknown {
    const value = this.#value(0)
    this.#space()
    if (this.#at !== this.#text.length) this.#fail('unexpected data after the value')
    return value
  }

  #fail(why: string): never {
    throw new PayloadMalformed(`payload is not valid JSON: ${why} at position ${this.#at}`)
  }

  #space(): void {
    const text = this.#text
    let at = this.#at
    for (let c = text.charCodeAt(at); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++at));
    this.#at = at
  }

  #literal(word: string, value: unknown): unknown {
    if (!this.#text.startsWith(word, this.#at)) this.#fail('unexpected character')
    this.#at += word.length
    return value
  }

  #value(depth: number): unknown {
    this.#space()
    const c = this.#text[this.#at]
    switch (c) {
      case '"':
        return this.#string()
      case '{':
        return this.#object(depth + 1)
      case '[':
        return this.#array(depth + 1)
      case 't':
        return this.#literal('true', true)
      case 'f':
        return this.#literal('false', false)
      case 'n':
        return this.#literal('null', null)
      // Python's json reads (and writes) these three non-standard constants.
      case 'N':
        return this.#literal('NaN', Number.NaN)
      case 'I':
        return this.#literal('Infinity', Infinity)
      case '-':
        if (this.#text.startsWith('-Infinity', this.#at)) return this.#literal('-Infinity', -Infinity)
        return this.#number()
      default:
        if (c !== undefined && c >= '0' && c <= '9') return this.#number()
        return this.#fail(c === undefined ? 'unexpected end' : 'unexpected character')
    }
  }

  #number(): number | bigint {
    NUMBER.lastIndex = this.#at
    const match = NUMBER.exec(this.#text)
    if (match === null) return this.#fail('malformed number')
    const text = match[0]
    if (match[1] !== undefined || match[2] !== undefined) {
      this.#at += text.length
      return Number(text) // a float, whatever its length
    }
    // json.loads raises ValueError (itsdangerous: BadPayload; Flask: a 500) past Python's limit.
    if (text.length - (text.startsWith('-') ? 1 : 0) > MAX_INT_DIGITS) this.#fail(`an integer of more than ${MAX_INT_DIGITS} digits, beyond what Python reads`)
    this.#at += text.length
    // A Python int: exact as a number when it fits, as a bigint when it does not.
    if (text.length < 16) return Number(text) || 0
    const big = BigInt(text)
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
  }

  #string(): string {
    const text = this.#text
    let at = this.#at + 1
    let out = ''
    for (;;) {
      STRING_SPECIAL.lastIndex = at
      const match = STRING_SPECIAL.exec(text)
      if (match === null) {
        this.#at = text.length
        return this.#fail('unterminated string')
      }
      out += text.slice(at, match.index)
      at = match.index + 1
      const c = match[0]
      if (c === '"') break
      if (c !== '\\') {
        this.#at = match.index
        return this.#fail('control character in string')
      }
      const e = text[at]
      if (e === 'u') {
        const hex = text.slice(at + 1, at + 5)
        if (!HEX4.test(hex)) {
          this.#at = at
          return this.#fail('malformed \\u escape')
        }
        // Surrogates are joined or kept alone by simply concatenating UTF-16 units, as Python does.
        out += String.fromCharCode(Number.parseInt(hex, 16))
        at += 5
      } else {
        const simple = e === undefined ? undefined : SIMPLE_ESCAPES[e]
        if (simple === undefined) {
          this.#at = at
          return this.#fail('invalid escape')
        }
        out += simple
        at += 1
      }
    }
    this.#at = at
    return out
  }

  #array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) this.#fail(`nesting deeper than ${MAX_DEPTH} levels`)
    this.#at++
    const items: unknown[] = []
    this.#space()
    if (this.#text[this.#at] === ']') {
      this.#at++
      return items
    }
    for (;;) {
      items.push(this.#value(depth))
      this.#space()
      const c = this.#text[this.#at++]
      if (c === ']') return items
      if (c !== ',') {
        this.#at--
        this.#fail("expected ',' or ']'")
      }
    }
  }

  #object(depth: number): unknown {
    if (depth > MAX_DEPTH) this.#fail(`nesting deeper than ${MAX_DEPTH} levels`)
    this.#at++
    // A null prototype: a "__proto__" key is just a key, and nothing is inherited.
    const object: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    this.#space()
    if (this.#text[this.#at] === '}') {
      this.#at++
    } else {
      for (;;) {
        this.#space()
        if (this.#text[this.#at] !== '"') this.#fail('expected a string key')
        const key = this.#string()
        this.#space()
        if (this.#text[this.#at] !== ':') this.#fail("expected ':'")
        this.#at++
        // A repeated key keeps its first position and its last value, as in a Python dict.
        object[key] = this.#value(depth)
        this.#space()
        const c = this.#text[this.#at++]
        if (c === '}') break
        if (c !== ',') {
          this.#at--
          this.#fail("expected ',' or '}'")
        }
      }
    }
    return this.#hook === undefined ? object : this.#hook(object)
  }
}

/**
 * Reads JSON the way Python's `json.loads` does, into values that {@link encodePythonJson} writes
 * back unchanged: objects become null-prototype objects (a `"__proto__"` key is an ordinary own
 * property), integers beyond ±2^53 − 1 become `bigint`, and `NaN`/`Infinity`/`-Infinity` are
 * accepted. Throws {@link PayloadMalformed} for anything Python would refuse, an integer of more
 * than 4300 digits included (Python's int/str conversion limit).
 *
 * @example
 * ```ts
 * decodePythonJson('{"n":12345678901234567890,"x":NaN}') // { n: 12345678901234567890n, x: NaN }
 * ```
 */
export function decodePythonJson(text: string, options: PythonJsonDecodeOptions = {}): unknown {
  if (typeof text !== 'string') throw new PayloadMalformed('payload is not valid JSON: not a string')
  const hook = options.objectHook
  // Fast path: V8's JSON.parse, when its reading is provably Python's (adoptParsed), then the hook.
  // JSON.parse refuses NaN and Infinity, which Python reads; those, and whatever adoptParsed
  // refuses, go to the exact reader. The hook runs only once the fast path is sure, so it never
  // sees an object twice.
  let parsed: unknown
  let ok = false
  try {
    parsed = JSON.parse(text)
    ok = true
  } catch {
    // Not standard JSON: the exact reader accepts Python's extras or says what is wrong.
  }
  if (ok && adoptParsed(parsed, hook !== undefined, 0)) return hook === undefined ? parsed : applyHook(parsed, hook)
  return new PythonJsonReader(text, hook).read()
}

/**
 * A number JSON.parse may have read differently from Python: an integer literal of 16 digits or
 * more (JSON.parse rounds it; Python keeps it exact, a bigint here) always parses to 1e15 or more
 * in size, and an integer `-0` (Python's int reads it as 0) parses to -0. Floats that land here
 * (1e300, -0.0) read the same in both and merely take the slow path.
 */
function isInexact(value: number): boolean {
  return value >= 1e15 || value <= -1e15 || (value === 0 && 1 / value < 0)
}

/**
 * Whether JSON.parse's output is exactly what the exact reader would return (up to prototypes,
 * which it sets to null here, in place, so objects keep V8's fast properties; a "__proto__" key
 * is an own data property either way). False for an inexact number (see isInexact), for nesting
 * past the reader's limit (the reader reports it), and, when a hook will run, for an object with
 * a key like "0": JavaScript lists such keys first, and the hook must see objects in document
 * order. Strings, escapes, lone surrogates, whitespace and repeated keys (first position, last
 * value) read the same in both; the one difference left is that an object a repeated key
 * replaced never reaches the hook, since JSON.parse drops it first, which also changes the order
 * of the remaining hook calls (no JSON encoder writes repeated keys, and payloads are
 * authenticated before they are parsed).
 */
function adoptParsed(value: unknown, ordered: boolean, depth: number): boolean {
  if (typeof value === 'number') return !isInexact(value)
  if (typeof value !== 'object' || value === null) return true
  if (depth >= MAX_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!adoptParsed(value[i], ordered, depth + 1)) return false
    return true
  }
  const object = Object.setPrototypeOf(value, null) as Record<string, unknown>
  let first = ordered
  for (const key in object) {
    // Index-like keys come first in enumeration order, so the first key tells whether there are any.
    if (first) {
      const c = key.charCodeAt(0)
      if (c >= 0x30 && c <= 0x39) return false
      first = false
    }
    if (!adoptParsed(object[key], ordered, depth + 1)) return false
  }
  return true
}

/** Python's object_hook over adopted values: every object, innermost first, in document order. */
function applyHook(value: unknown, hook: (object: Record<string, unknown>) => unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as unknown
      if (typeof item === 'object' && item !== null) value[i] = applyHook(item, hook)
    }
    return value
  }
  const object = value as Record<string, unknown>
  for (const key in object) {
    const item = object[key]
    if (typeof item === 'object' && item !== null) object[key] = applyHook(item, hook)
  }
  return hook(object)
}

