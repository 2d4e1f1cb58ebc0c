/**
 * Flask's tagged JSON (`flask.json.tag.TaggedJSONSerializer`), the payload of Flask's session
 * cookie: compact, keys sorted, non-ASCII escaped, with one-key objects standing for Python types
 * JSON lacks. `docs/flask.md` has the format and the type mapping:
 *
 * | Python | tag | JavaScript |
 * | --- | --- | --- |
 * | `tuple` | `" t"` | an array marked by {@link tuple} (see {@link isTuple}) |
 * | `bytes` | `" b"` | `Uint8Array` |
 * | `markupsafe.Markup` | `" m"` | {@link Markup} |
 * | `uuid.UUID` | `" u"` | {@link UUID} |
 * | `datetime` | `" d"` | `Date` (whole seconds, UTC) |
 * | one-key dict whose key is a tag | `" di"` | a plain object |
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { PayloadMalformed } from '../errors.js'
import { decodePythonJson, encodePythonJson, isPlainObject, type PythonJsonTagged } from './python-json.js'

/**
 * A string of HTML that is safe to insert as is (Python's `markupsafe.Markup`). Frasco escapes
 * nothing: wrap only HTML you trust.
 *
 * @example
 * ```ts
 * session.notice = new Markup('<b>Saved</b>') // Flask reads a Markup
 * ```
 */
export class Markup {
  /** The HTML text. */
  readonly html: string

  constructor(html: string) {
    if (typeof html !== 'string') throw new TypeError('html is invalid: give the HTML as a string')
    this.html = html
  }

  /** The HTML text, as Python's `str(markup)`. */
  toString(): string {
    return this.html
  }

  /** The HTML text, so that `JSON.stringify` writes a string. */
  toJSON(): string {
    return this.html
  }
}

const UUID_HEX = /^[0-9a-f]{32}$/i
const UUID_DASHED = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i

/**
 * A UUID value (Python's `uuid.UUID`), so that it stays a UUID and not a string in Flask.
 *
 * @example
 * ```ts
 * import { randomUUID } from 'node:crypto'
 * session.token = new UUID(randomUUID())
 * String(session.token) // '1b4e28ba-2fa1-11d2-883f-0016d3cca427'
 * ```
 */
export class UUID {
  /** The 32 lower-case hex digits (Python's `uuid.hex`). */
  readonly hex: string

  /** Takes the dashed form (`8-4-4-4-12`) or 32 hex digits, in any case. */
  constructor(value: string) {
    const dashed = typeof value === 'string' ? UUID_DASHED.exec(value) : null
    const hex = dashed === null ? value : dashed.slice(1).join('')
    if (typeof hex !== 'string' || !UUID_HEX.test(hex)) {
      throw new TypeError('value is invalid: give a UUID as 32 hex digits or in the 8-4-4-4-12 form')
    }
    this.hex = hex.toLowerCase()
  }

  /** The dashed lower-case form, as Python's `str(uuid)`. */
  toString(): string {
    const h = this.hex
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  }

  /** The dashed form, so that `JSON.stringify` writes a string. */
  toJSON(): string {
    return this.toString()
  }

  /** Whether `other` is a {@link UUID} with the same value. */
  equals(other: unknown): boolean {
    return other instanceof UUID && other.hex === this.hex
  }
}

// Arrays that stand for Python tuples. A WeakSet keeps them ordinary arrays (Array.isArray,
// JSON.stringify, deep equality all work) and lets them be collected like any other value.
const tuples = new WeakSet<readonly unknown[]>()

/**
 * Makes an array that Flask reads as a tuple (Flask stores flashed messages as
 * `(category, message)` tuples). Decoding marks tuples the same way, so a session read and
 * written back keeps them tuples. Copies of the array (`slice`, spread, `map`) are plain lists.
 *
 * @example
 * ```ts
 * session._flashes = [tuple('message', 'Welcome back')]
 * isTuple(session._flashes[0]) // true
 * ```
 */
export function tuple<T extends unknown[]>(...items: T): T {
  tuples.add(items)
  return items
}

/**
 * Whether `value` is an array marked as a Python tuple by {@link tuple} or by decoding.
 *
 * @example
 * ```ts
 * isTuple(tuple(1, 2)) // true
 * isTuple([1, 2]) // false
 * ```
 */
export function isTuple(value: unknown): value is unknown[] {
  return Array.isArray(value) && tuples.has(value)
}

const TAG_DICT = ' di'
const TAG_TUPLE = ' t'
const TAG_BYTES = ' b'
const TAG_MARKUP = ' m'
const TAG_UUID = ' u'
const TAG_DATETIME = ' d'
const TAGS = new Set([TAG_DICT, TAG_TUPLE, TAG_BYTES, TAG_MARKUP, TAG_UUID, TAG_DATETIME])

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
// What werkzeug's http_date writes (RFC 9110 §5.6.7 IMF-fixdate, the year always 4 digits).
const HTTP_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT$/
// Standard base64 (RFC 4648 §4) with padding, as Python's b64encode writes it.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

const pad = (value: number, width: number): string => String(value).padStart(width, '0')

function httpDate(date: Date): string {
  const year = date.getUTCFullYear()
  // Python's datetime stops at 9999; below 100, Flask would read the year back as 19xx or 20xx.
  if (!(year >= 100 && year <= 9999)) {
    // Only ever thrown from the tag hook, which reports it with the value's path.
    throw new TypeError('a Date must be valid and within the years 100 to 9999 to survive a trip through Flask')
  }
  return `${DAYS[date.getUTCDay()]}, ${pad(date.getUTCDate(), 2)} ${MONTHS[date.getUTCMonth()]} ${pad(year, 4)} ${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)} GMT`
}

function parseHttpDate(text: unknown): Date {
  const match = typeof text === 'string' ? HTTP_DATE.exec(text) : null
  if (match === null) throw new PayloadMalformed('payload has a malformed " d" (datetime) tag')
  const [, day, , yearText, hour, minute, second] = match.map(Number) as [number, number, number, number, number, number, number]
  let year = yearText
  // email.utils.parsedate_tz, which Flask reads dates with, maps years below 100 to 1969–2068.
  if (year < 100) year += year > 68 ? 1900 : 2000
  const monthIndex = MONTHS.indexOf(match[2] as string)
  // Refuse what datetime() would: day 0, Feb 30, hour 24, minute or second 60 (a Date would roll
  // them over into the next unit). The year is at least 100 here, so Date.UTC takes it as it is.
  const monthDays = new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate()
  if (day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) {
    throw new PayloadMalformed('payload has an impossible " d" (datetime) tag')
  }
  return new Date(Date.UTC(year, monthIndex, day, hour, minute, second))
}

/** The only key of an object whose single (defined) property is named like a tag, else undefined. */
function soleTagKey(value: Record<string, unknown>): string | undefined {
  let found: string | undefined
  for (const key of Object.keys(value)) {
    if (value[key] === undefined) continue
    if (found !== undefined) return undefined
    found = key
  }
  return found !== undefined && TAGS.has(found) ? found : undefined
}

// The order of Flask's TaggedJSONSerializer.default_tags: di, dict, t, list, b, m, u, d.
function tagValue(value: unknown): PythonJsonTagged | undefined {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, a shortcut: every check below is false for a primitive (test/mutation-equivalents.md)
  if (typeof value !== 'object' || value === null) return undefined
  if (Array.isArray(value)) return tuples.has(value) ? { key: TAG_TUPLE, inner: Array.from(value) } : undefined
  if (isPlainObject(value)) {
    const key = soleTagKey(value)
    if (key === undefined) return undefined
    const inner: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    inner[`${key}__`] = value[key]
    return { key: TAG_DICT, inner }
  }
  if (value instanceof Uint8Array) {
    return { key: TAG_BYTES, inner: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') }
  }
  if (value instanceof Markup) return { key: TAG_MARKUP, inner: value.html }
  if (value instanceof UUID) return { key: TAG_UUID, inner: value.hex }
  if (value instanceof Date) return { key: TAG_DATETIME, inner: httpDate(value) }
  return undefined
}

function malformedTag(tag: string, why: string): PayloadMalformed {
  return new PayloadMalformed(`payload has a malformed "${tag}" tag: ${why}`)
}

function untag(object: Record<string, unknown>): unknown {
  let key: string | undefined
  for (const name in object) {
    if (key !== undefined) return object // two or more keys: a dict
    key = name
  }
  if (key === undefined || !TAGS.has(key)) return object
  const inner = object[key]
  switch (key) {
    case TAG_TUPLE:
      if (!Array.isArray(inner)) throw malformedTag(key, 'not a list')
      tuples.add(inner)
      return inner
    case TAG_BYTES: {
      if (typeof inner !== 'string' || !BASE64.test(inner)) throw malformedTag(key, 'not padded base64')
      const bytes = Buffer.from(inner, 'base64')
      if (bytes.toString('base64') !== inner) throw malformedTag(key, 'not canonical base64')
      return new Uint8Array(bytes)
    }
    case TAG_MARKUP:
      if (typeof inner !== 'string') throw malformedTag(key, 'not a string')
      return new Markup(inner)
    case TAG_UUID:
      try {
        return new UUID(inner as string)
      } catch {
        throw malformedTag(key, 'not a UUID')
      }
    case TAG_DATETIME:
      return parseHttpDate(inner)
    default: {
      // ' di': {"<tag>__": value} stands for {"<tag>": value}.
      if (!isPlainObject(inner)) throw malformedTag(key, 'not an object')
      const names = Object.keys(inner)
      const name = names[0]
      if (names.length !== 1 || name === undefined || !name.endsWith('__')) throw malformedTag(key, 'not one key ending in "__"')
      const dict: Record<string, unknown> = Object.create(null) as Record<string, unknown>
      dict[name.slice(0, -2)] = inner[name]
      return dict
    }
  }
}

/**
 * Writes Flask's tagged JSON (`TaggedJSONSerializer.dumps` inside an app context): compact, keys
 * in code point order, non-ASCII as `\uXXXX`, the tags of the module table. Values map as
 * {@link encodePythonJson} describes, plus `Uint8Array`, `Date`, {@link Markup}, {@link UUID} and
 * {@link tuple}s. Throws `TypeError` for anything Flask could not read back the same, naming
 * where it is under `path` (default `'value'`).
 *
 * @example
 * ```ts
 * encodeFlaskJson({ _flashes: [tuple('message', 'Hi')] }) // '{"_flashes":[{" t":["message","Hi"]}]}'
 * encodeFlaskJson({ seen: new Set() }, 'session')
 * // TypeError: value at session.seen is invalid: Set has no JSON form here; …
 * ```
 */
export function encodeFlaskJson(value: unknown, path?: string): string {
  return encodePythonJson(value, { ensureAscii: true, sortKeys: true, tag: tagValue, ...(path === undefined ? {} : { path }) })
}

/**
 * Reads Flask's tagged JSON into the values {@link encodeFlaskJson} writes back unchanged. Objects
 * are null-prototype objects. Throws {@link PayloadMalformed} for invalid JSON or a malformed tag
 * (where Flask would raise, or quietly give `None` for a bad date).
 *
 * @example
 * ```ts
 * decodeFlaskJson('{"id":{" u":"1b4e28ba2fa111d2883f0016d3cca427"}}') // { id: UUID {...} }
 * ```
 */
export function decodeFlaskJson(text: string): unknown {
  return decodePythonJson(text, { objectHook: untag })
}

