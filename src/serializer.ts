/**
 * Session values to bytes and back: tagged JSON for the types JSON lacks (Date, bytes, BigInt,
 * Map, Set), then optional raw DEFLATE with a hard cap on what inflating may produce.
 *
 * The tag scheme is a wire format — cookies written today must parse after any upgrade — so it is
 * fixed and covered by golden strings in the tests. See docs/serialization.md.
 *
 * @module
 */
import { Buffer, constants as bufferConstants } from 'node:buffer'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { decodeBase64url, decodeUtf8, encodeBase64url } from './encoding.js'
import { copyUnpooled } from './lib/buffers.js'
import { DecompressionTooLarge, PayloadMalformed, PayloadTooLarge, SessionError } from './errors.js'

/**
 * How many containers (objects, arrays, Maps, Sets) may nest inside each other.
 *
 * Session data is a handful of levels deep in practice. 64 leaves room for anything sensible while
 * keeping both walks far from the call-stack limit (V8 manages roughly 10,000 frames, and the caller
 * may already be deep inside a framework), and it lets a reader reject a hostile `[[[[…` payload
 * after 64 steps instead of after exhausting the stack.
 *
 * @example
 * ```ts
 * let deep: unknown = 'leaf'
 * for (let i = 0; i < MAX_DEPTH + 1; i++) deep = [deep]
 * stringify(deep) // TypeError: … nested deeper than 64 levels …
 * ```
 */
export const MAX_DEPTH = 64

/**
 * Payloads shorter than this many bytes (UTF-8 JSON) are never compressed.
 *
 * Measured on Node 20 (see docs/serialization.md): deflating a typical 130-byte session costs 2–3×
 * an HMAC-SHA256 sign + verify to save about 20 bytes, and inflating it on every read costs another
 * whole sign + verify. That cost is mostly fixed (zlib stream setup), while the saving grows with
 * size: from 1 KiB on, realistic sessions shrink by 60 % or more at under 30 ns per byte saved,
 * and that is what lets a 2–4 KiB session fit the browser's 4 KiB cookie.
 *
 * @example
 * ```ts
 * encodePayload(session, { compressThreshold: DEFAULT_COMPRESS_THRESHOLD * 2 })
 * ```
 */
export const DEFAULT_COMPRESS_THRESHOLD = 1024

/**
 * The most bytes {@link decodePayload} accepts, before or after inflating.
 *
 * A browser stores at most 4 KiB per cookie and Frasco splits a session over a few cookies, so a
 * genuine payload stays under ~16 KiB even uncompressed. 128 KiB leaves 8× headroom (for
 * compressed payloads that expand well, or for larger server-side stores) while bounding what one
 * request can make the server allocate and parse.
 *
 * @example
 * ```ts
 * decodePayload(bytes, true, { maxBytes: DEFAULT_MAX_PAYLOAD_BYTES / 4 })
 * ```
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 128 * 1024

/**
 * Options of {@link encodePayload}.
 *
 * @example
 * ```ts
 * const options: EncodePayloadOptions = { compressThreshold: 2048, path: 'session' }
 * encodePayload(session, options)
 * ```
 */
export interface EncodePayloadOptions {
  /**
   * Try DEFLATE from this many bytes of UTF-8 JSON on; `Infinity` disables compression.
   * Defaults to {@link DEFAULT_COMPRESS_THRESHOLD}.
   */
  compressThreshold?: number
  /** The name of the value in error messages (`value at session.cart[0] is …`). Default `'value'`. */
  path?: string
  /**
   * Refuse (with {@link PayloadTooLarge}) a value whose JSON is longer than this many bytes: the most a
   * reader accepts after inflating, so nothing is written that would be rejected on the way back.
   * Defaults to {@link DEFAULT_MAX_PAYLOAD_BYTES}.
   */
  maxBytes?: number
}

/**
 * Options of {@link decodePayload}.
 *
 * @example
 * ```ts
 * const options: DecodePayloadOptions = { maxBytes: 16 * 1024 }
 * decodePayload(bytes, compressed, options)
 * ```
 */
export interface DecodePayloadOptions {
  /**
   * The most bytes accepted, both for the input and for what it inflates to.
   * Defaults to {@link DEFAULT_MAX_PAYLOAD_BYTES}.
   */
  maxBytes?: number
}

/**
 * What {@link encodePayload} produces.
 *
 * @example
 * ```ts
 * const { bytes, compressed }: EncodedPayload = encodePayload(session)
 * decodePayload(bytes, compressed) // the session again
 * ```
 */
export interface EncodedPayload {
  /** The payload: UTF-8 JSON, or raw DEFLATE (RFC 1951) of it when `compressed`. */
  bytes: Uint8Array
  /** Whether `bytes` is DEFLATE data; the caller must record this next to the bytes. */
  compressed: boolean
}

const SUPPORTED = 'only JSON values, Date, Uint8Array, BigInt, Map and Set can be stored'
const DOLLAR = 36 // '$'

// ---------------------------------------------------------------------------------------------
// stringify

// A path segment: an object key or array index; Map and Set positions are formatted lazily so the
// happy path never builds strings.
type Segment = string | number | { readonly kind: 'map-key' | 'map-value' | 'set'; readonly index: number }

// Thrown inside the walk and never escapes it. Each container adds its segment while the stack
// unwinds, so the path costs nothing until something is rejected.
class Rejection {
  readonly segments: Segment[] = []
  readonly parents: object[] = []
  constructor(
    readonly reason: string,
    readonly node?: object,
  ) {}
}

/**
 * Encodes a session value as tagged JSON text. Deterministic: the same value always gives the
 * same text (object keys keep insertion order).
 *
 * Besides JSON values it stores `Date`, `Uint8Array` (including `Buffer`), `BigInt`, `Map` and
 * `Set`, nested anywhere. Like `JSON.stringify`, object properties that are `undefined` are
 * skipped; everything else that cannot come back unchanged is refused.
 *
 * @param value The value to encode.
 * @param path The name of the root in error messages.
 * @throws {TypeError} for functions, symbols, `undefined` outside object properties, NaN and
 *   ±Infinity, invalid Dates, cycles, class instances and nesting deeper than {@link MAX_DEPTH};
 *   the message names the offending path.
 *
 * @example
 * ```ts
 * stringify({ userId: 42, roles: ['admin'] }) // '{"userId":42,"roles":["admin"]}'
 * stringify({ seen: new Date(0) }) // '{"seen":{"$d":"1970-01-01T00:00:00.000Z"}}'
 * stringify({ user: { save() {} } }, 'session')
 * // TypeError: value at session.user.save is a function; only JSON values, …
 * ```
 */
export function stringify(value: unknown, path = 'value'): string {
  let wire: unknown
  try {
    wire = toWire(value, 0)
  } catch (error) {
    if (error instanceof Rejection) throw new TypeError(describeRejection(error, path))
    throw error
  }
  // JSON.stringify escapes lone surrogates (ES2019), so the text is always well-formed.
  return JSON.stringify(wire)
}

// Returns `value` itself when it is already plain JSON (the common case, so no copy is made), or
// its wire form where something needs a tag or an escape.
function toWire(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (Number.isFinite(value)) return value
      throw new Rejection(`is ${value}`)
    case 'object':
      return value === null ? null : objectToWire(value, depth)
    case 'bigint':
      return { $n: value.toString() }
    case 'undefined':
      throw new Rejection('is undefined (only object properties may be undefined; they are skipped)')
    case 'function':
      throw new Rejection('is a function')
    default:
      throw new Rejection(`is a ${typeof value}`)
  }
}

function objectToWire(value: object, depth: number): unknown {
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) return plainToWire(value as Record<string, unknown>, depth, proto === null)
  if (proto === Array.prototype) return arrayToWire(value as unknown[], depth)
  if (proto === Date.prototype) {
    const date = value as Date
    if (Number.isNaN(date.getTime())) throw new Rejection('is an invalid Date')
    return { $d: date.toISOString() }
  }
  // Buffer.prototype is a subclass of Uint8Array.prototype; bytes come back as a plain Uint8Array.
  if (proto === Uint8Array.prototype || proto === Buffer.prototype) return { $b: encodeBase64url(value as Uint8Array) }
  if (proto === Map.prototype) return mapToWire(value as Map<unknown, unknown>, depth)
  if (proto === Set.prototype) return setToWire(value as Set<unknown>, depth)
  throw new Rejection(`is ${describeInstance(proto)}`)
}

// Strings, booleans and finite numbers are their own wire form: checked here, without a call.
function isPlainLeaf(item: unknown): boolean {
  const type = typeof item
  return type === 'string' || type === 'boolean' || (type === 'number' && Number.isFinite(item))
}

// for-in rather than Object.keys: it allocates no array of keys. Without a prototype nothing is inherited; otherwise only own keys count, as in
// JSON.stringify (Object.prototype may have been given enumerable properties).
function plainToWire(object: Record<string, unknown>, depth: number, bare: boolean): unknown {
  if (depth >= MAX_DEPTH) throw new Rejection(`is nested deeper than ${MAX_DEPTH} levels`, object)
  let copy: Record<string, unknown> | undefined
  let emitted = 0
  let lastKey = ''
  let current = ''
  try {
    for (const key in object) {
      if (!bare && !Object.hasOwn(object, key)) continue
      current = key
      const item = object[key]
      // JSON semantics: undefined properties are skipped (JSON.stringify omits them too, so no copy).
      if (item === undefined) continue
      const wire = isPlainLeaf(item) ? item : toWire(item, depth + 1)
      if (copy === undefined && wire !== item) copy = copyBefore(object, key, bare)
      // A null-prototype copy turns every key, `__proto__` included, into an own data property.
      if (copy !== undefined) copy[key] = wire
      emitted++
      lastKey = key
    }
  } catch (error) {
    if (error instanceof Rejection) {
      error.segments.push(current)
      error.parents.push(object)
    }
    throw error
  }
  const result = copy ?? object
  // A lone `$` key would read back as a tag: wrap it so it cannot be mistaken for one.
  return emitted === 1 && lastKey.charCodeAt(0) === DOLLAR ? { $o: result } : result
}

// The entries of `object` before `end`, the first key whose value needs a wire form of its own.
function copyBefore(object: Record<string, unknown>, end: string, bare: boolean): Record<string, unknown> {
  const copy = Object.create(null) as Record<string, unknown>
  for (const key in object) {
    if (key === end) break
    if (!bare && !Object.hasOwn(object, key)) continue
    const item = object[key]
    if (item !== undefined) copy[key] = item
  }
  return copy
}

function arrayToWire(array: unknown[], depth: number): unknown {
  if (depth >= MAX_DEPTH) throw new Rejection(`is nested deeper than ${MAX_DEPTH} levels`, array)
  let copy: unknown[] | undefined
  let i = 0
  try {
    for (; i < array.length; i++) {
      // Holes read as undefined and are refused: JSON would silently turn them into null.
      const item = array[i]
      const wire = isPlainLeaf(item) ? item : toWire(item, depth + 1)
      if (copy === undefined && wire !== item) copy = array.slice(0, i)
      if (copy !== undefined) copy.push(wire)
    }
  } catch (error) {
    if (error instanceof Rejection) {
      error.segments.push(i)
      error.parents.push(array)
    }
    throw error
  }
  return copy ?? array
}

function mapToWire(map: Map<unknown, unknown>, depth: number): unknown {
  if (depth >= MAX_DEPTH) throw new Rejection(`is nested deeper than ${MAX_DEPTH} levels`, map)
  const entries: unknown[] = []
  let index = 0
  let part: 'map-key' | 'map-value' = 'map-key'
  try {
    for (const [k, v] of map) {
      part = 'map-key'
      const wireKey = toWire(k, depth + 1)
      part = 'map-value'
      entries.push([wireKey, toWire(v, depth + 1)])
      index++
    }
  } catch (error) {
    if (error instanceof Rejection) {
      error.segments.push({ kind: part, index })
      error.parents.push(map)
    }
    throw error
  }
  return { $m: entries }
}

function setToWire(set: Set<unknown>, depth: number): unknown {
  if (depth >= MAX_DEPTH) throw new Rejection(`is nested deeper than ${MAX_DEPTH} levels`, set)
  const items: unknown[] = []
  try {
    for (const item of set) items.push(toWire(item, depth + 1))
  } catch (error) {
    if (error instanceof Rejection) {
      error.segments.push({ kind: 'set', index: items.length })
      error.parents.push(set)
    }
    throw error
  }
  return { $s: items }
}

function describeInstance(proto: unknown): string {
  try {
    // Only an own `constructor`: Object.create({}) would otherwise claim to be an Object.
    const name = Object.hasOwn(proto as object, 'constructor') ? (proto as { constructor?: { name?: unknown } }).constructor?.name : undefined
    if (typeof name === 'string' && name !== '') return `an instance of ${name} (convert it to a plain object first)`
  } catch {
    // A hostile prototype (a Proxy, a throwing getter) gets the generic description.
  }
  return 'an object with an unsupported prototype'
}

function describeRejection(rejection: Rejection, root: string): string {
  // Collected innermost first while unwinding.
  const segments = rejection.segments.reverse()
  const parents = rejection.parents.reverse()
  // Infinite descent can only come from a cycle, so the depth limit is where cycles surface.
  // Report the first object that repeats, at the shortest path that reaches it again.
  if (rejection.node !== undefined) {
    const chain = [...parents, rejection.node]
    for (let j = 1; j < chain.length; j++) {
      const i = chain.indexOf(chain[j]!)
      if (i < j) {
        return (
          `value at ${formatPath(root, segments.slice(0, j))} is a cycle (it refers back to ` +
          `${formatPath(root, segments.slice(0, i))}); cyclic structures cannot be stored`
        )
      }
    }
  }
  const subject = segments.length === 0 ? root : `value at ${formatPath(root, segments)}`
  return `${subject} ${rejection.reason}; ${SUPPORTED}`
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function formatPath(root: string, segments: Segment[]): string {
  let path = root
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`
    else if (typeof segment === 'string') path += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`
    else if (segment.kind === 'set') path += `.values()[${segment.index}]`
    else if (segment.kind === 'map-key') path += `.keys()[${segment.index}]`
    // By position, never by key: Map keys are often the user's own data (an email address, a
    // name), and messages and logs must not carry session contents.
    else path += `.values()[${segment.index}]`
  }
  return path
}

// ---------------------------------------------------------------------------------------------
// parse

/**
 * Decodes text produced by {@link stringify}. Untrusted input only ever raises
 * {@link PayloadMalformed}: invalid JSON, malformed or unknown tags, non-canonical tag contents,
 * duplicate Map keys or Set members, numbers beyond a double (`1e400`, which JSON.parse reads as
 * Infinity) and nesting deeper than {@link MAX_DEPTH}.
 *
 * Objects come back with `Object.prototype`; a `__proto__` key stays an ordinary own property.
 *
 * @throws {PayloadMalformed} for anything {@link stringify} could not have produced.
 *
 * @example
 * ```ts
 * parse('{"seen":{"$d":"1970-01-01T00:00:00.000Z"}}') // { seen: new Date(0) }
 * parse('{"$x":1}') // PayloadMalformed: payload has an unknown tag
 * ```
 */
export function parse(text: string): unknown {
  if (typeof text !== 'string') throw new TypeError(`parse expects a string; got ${typeof text}`)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // No `cause`: V8's SyntaxError quotes the input, and an unverified payload must not reach logs.
    throw new PayloadMalformed('payload is not valid JSON')
  }
  try {
    // Every tag and escape is an object key starting with `$`, which JSON may also spell `\u0024`,
    // so text with neither `$` nor `\` has nothing to decode: only its depth and numbers are left
    // to check, and walking the parsed value checks them without a second pass over the text.
    // (Single-character searches on purpose: V8 searches one character with a vectorized scan.)
    if (text.indexOf('$') === -1 && text.indexOf('\\') === -1) {
      checkDepth(value, 0)
      return value
    }
    return fromWire(value, 0)
  } catch (error) {
    if (error instanceof SessionError) throw error
    throw new PayloadMalformed('payload could not be decoded', { cause: error })
  }
}

// The lighter twin of fromWire for values known to hold no tags: depth and numbers only.
function checkDepth(value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw notFinite()
    return
  }
  if (depth >= MAX_DEPTH) throw tooDeep()
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkDepth(value[i], depth + 1)
  } else {
    // for-in: no array of keys is allocated. Own keys only: an enumerable property
    // someone put on Object.prototype would otherwise be walked at every level of every payload.
    const object = value as Record<string, unknown>
    for (const key in object) if (Object.hasOwn(object, key)) checkDepth(object[key], depth + 1)
  }
}

function tooDeep(): PayloadMalformed {
  return new PayloadMalformed(`payload is nested deeper than ${MAX_DEPTH} levels`)
}

// JSON.parse reads 1e400 (or 400 digits) as Infinity, which stringify never writes: accepting it
// would hand the app a session that its next commit refuses to write back.
function notFinite(): PayloadMalformed {
  return new PayloadMalformed('payload has a number beyond the range of a double')
}

function malformedTag(tag: string, why: string): PayloadMalformed {
  return new PayloadMalformed(`payload has a malformed "${tag}" tag: ${why}`)
}

// `value` is fresh from JSON.parse and owned by us, so containers are decoded in place.
function fromWire(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw notFinite()
    return value
  }
  if (Array.isArray(value)) return arrayFromWire(value, depth)
  const object = value as Record<string, unknown>
  const keys = Object.keys(object)
  if (keys.length === 1) {
    const key = keys[0]!
    if (key.charCodeAt(0) === DOLLAR) return tagFromWire(key, object[key], depth)
  }
  return objectFromWire(object, keys, depth)
}

function arrayFromWire(array: unknown[], depth: number): unknown[] {
  if (depth >= MAX_DEPTH) throw tooDeep()
  for (let i = 0; i < array.length; i++) {
    const item = array[i]
    const decoded = fromWire(item, depth + 1)
    if (decoded !== item) array[i] = decoded
  }
  return array
}

function objectFromWire(object: Record<string, unknown>, keys: string[], depth: number): object {
  if (depth >= MAX_DEPTH) throw tooDeep()
  for (const key of keys) {
    const item = object[key]
    const decoded = fromWire(item, depth + 1)
    // Never `object[key] = …`: for the key `__proto__` that would replace the prototype.
    if (decoded !== item) Object.defineProperty(object, key, { value: decoded })
  }
  return object
}

const BIGINT = /^-?(?:0|[1-9][0-9]*)$/

function tagFromWire(tag: string, content: unknown, depth: number): unknown {
  switch (tag) {
    case '$d': {
      if (typeof content !== 'string') throw malformedTag(tag, 'expected a string')
      const date = new Date(content)
      // Date parsing accepts many spellings; only the one toISOString writes is canonical.
      if (Number.isNaN(date.getTime()) || date.toISOString() !== content) {
        throw malformedTag(tag, 'expected an ISO 8601 date as written by Date#toISOString')
      }
      return date
    }
    case '$b': {
      if (typeof content !== 'string') throw malformedTag(tag, 'expected a string')
      const bytes = decodeBase64url(content)
      if (bytes === undefined) throw malformedTag(tag, 'expected canonical unpadded base64url')
      // Copy: a small Buffer is a view into Node's shared pool, whose `.buffer` exposes other data.
      return new Uint8Array(bytes)
    }
    case '$n': {
      if (typeof content !== 'string' || !BIGINT.test(content) || content === '-0') {
        throw malformedTag(tag, 'expected a canonical decimal integer')
      }
      return BigInt(content)
    }
    case '$m': {
      if (depth >= MAX_DEPTH) throw tooDeep()
      if (!Array.isArray(content)) throw malformedTag(tag, 'expected an array of entries')
      const map = new Map<unknown, unknown>()
      for (const entry of content) {
        if (!Array.isArray(entry) || entry.length !== 2) throw malformedTag(tag, 'expected each entry to be a [key, value] array')
        const key = fromWire(entry[0], depth + 1)
        if (map.has(key)) throw malformedTag(tag, 'duplicate key')
        map.set(key, fromWire(entry[1], depth + 1))
      }
      return map
    }
    case '$s': {
      if (depth >= MAX_DEPTH) throw tooDeep()
      if (!Array.isArray(content)) throw malformedTag(tag, 'expected an array')
      const set = new Set<unknown>()
      for (const item of content) {
        const member = fromWire(item, depth + 1)
        if (set.has(member)) throw malformedTag(tag, 'duplicate member')
        set.add(member)
      }
      return set
    }
    case '$o': {
      // Only a lone `$` key is ever escaped, so anything else here is not from stringify.
      if (typeof content !== 'object' || content === null || Array.isArray(content)) {
        throw malformedTag(tag, 'expected an object')
      }
      const object = content as Record<string, unknown>
      const keys = Object.keys(object)
      if (keys.length !== 1 || keys[0]!.charCodeAt(0) !== DOLLAR) {
        throw malformedTag(tag, 'expected an object with exactly one key starting with "$"')
      }
      return objectFromWire(object, keys, depth)
    }
    default:
      throw new PayloadMalformed('payload has an unknown tag')
  }
}

// ---------------------------------------------------------------------------------------------
// payload bytes

/**
 * Encodes a session value to payload bytes: the UTF-8 of {@link stringify}, raw-DEFLATEd when that
 * is at least `compressThreshold` bytes long and DEFLATE makes it strictly shorter.
 *
 * @throws {TypeError} for an invalid option, or a value {@link stringify} refuses.
 * @throws {PayloadTooLarge} when the JSON is longer than `maxBytes`, which no reader would accept.
 *
 * @example
 * ```ts
 * const { bytes, compressed } = encodePayload({ userId: 42 })
 * // bytes: UTF-8 of '{"userId":42}', compressed: false (far below the threshold)
 * encodePayload(bigSession, { compressThreshold: Infinity }) // never compressed
 * ```
 */
export function encodePayload(value: unknown, options: EncodePayloadOptions = {}): EncodedPayload {
  const threshold = compressThresholdOf(options.compressThreshold)
  const maxBytes = maxBytesOf(options.maxBytes)
  return encodeText(stringify(value, options.path), threshold, maxBytes)
}

/**
 * {@link encodePayload} for text from {@link stringify}, with options validated once by the caller
 * (the object codec, per token).
 *
 * @internal
 */
export function encodeText(text: string, threshold: number, maxBytes: number): EncodedPayload {
  // JSON.stringify escapes lone surrogates, so its output is always well-formed: no check needed.
  // Outside Node's shared Buffer pool: the payload may be a session that is about to be encrypted.
  const bytes = copyUnpooled(text)
  if (bytes.length > maxBytes) {
    throw new PayloadTooLarge(bytes.length, maxBytes, `value of ${bytes.length} bytes (as JSON) exceeds maxBytes (${maxBytes}), the most a reader accepts`)
  }
  if (bytes.length >= threshold) {
    const deflated = deflateRawSync(bytes)
    if (deflated.length < bytes.length) {
      bytes.fill(0)
      return { bytes: deflated, compressed: true }
    }
    deflated.fill(0)
  }
  return { bytes, compressed: false }
}

/**
 * Decodes payload bytes made by {@link encodePayload}. Inflating stops at `maxBytes` of output
 * without allocating more, so a zip bomb costs at most that much memory.
 *
 * @param bytes The payload bytes.
 * @param compressed Whether `bytes` is raw DEFLATE data, as recorded by the encoder.
 * @throws {PayloadTooLarge} when `bytes` itself is longer than `maxBytes`.
 * @throws {DecompressionTooLarge} when inflating would exceed `maxBytes`.
 * @throws {PayloadMalformed} for corrupt DEFLATE data, invalid UTF-8, or anything {@link parse} rejects.
 * @throws {TypeError} for an invalid option.
 *
 * @example
 * ```ts
 * const { bytes, compressed } = encodePayload({ userId: 42 })
 * decodePayload(bytes, compressed) // { userId: 42 }
 * decodePayload(bytes, compressed, { maxBytes: 4096 })
 * ```
 */
export function decodePayload(bytes: Uint8Array, compressed: boolean, options: DecodePayloadOptions = {}): unknown {
  const maxBytes = maxBytesOf(options.maxBytes)
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodePayload expects a Uint8Array')
  return decodeValue(bytes, compressed, maxBytes)
}

/**
 * {@link decodePayload} with options validated once by the caller (the codecs, per token).
 *
 * @internal
 */
export function decodeValue(bytes: Uint8Array, compressed: boolean, maxBytes: number): unknown {
  // Compressed payloads are only ever written when shorter than the JSON, so this bounds both.
  if (bytes.length > maxBytes) throw new PayloadTooLarge(bytes.length, maxBytes)
  const json = compressed ? inflate(bytes, maxBytes) : bytes
  const text = decodeUtf8(json)
  if (text === undefined) throw new PayloadMalformed('payload is not valid UTF-8')
  return parse(text)
}

function inflate(bytes: Uint8Array, maxBytes: number): Uint8Array {
  let result: { buffer: Buffer; engine: { bytesWritten: number } }
  try {
    // `info` exposes how much input the stream used, so trailing bytes can be refused.
    result = inflateRawSync(bytes, { maxOutputLength: maxBytes, info: true }) as unknown as typeof result
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE') throw new DecompressionTooLarge(maxBytes)
    throw new PayloadMalformed('compressed payload is not valid DEFLATE data', { cause: error })
  }
  if (result.engine.bytesWritten !== bytes.length) {
    throw new PayloadMalformed('compressed payload has trailing bytes after the DEFLATE stream')
  }
  return result.buffer
}

function compressThresholdOf(value: number | undefined): number {
  if (value === undefined) return DEFAULT_COMPRESS_THRESHOLD
  if (value === Infinity || (Number.isSafeInteger(value) && value >= 0)) return value
  throw new TypeError(
    `option compressThreshold is invalid: expected a non-negative integer number of bytes, or Infinity to ` +
      `disable compression (default ${DEFAULT_COMPRESS_THRESHOLD}); got ${describeOption(value)}`,
  )
}

function maxBytesOf(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_PAYLOAD_BYTES
  if (Number.isSafeInteger(value) && value >= 1 && value <= bufferConstants.MAX_LENGTH) return value
  throw new TypeError(
    `option maxBytes is invalid: expected a positive integer number of bytes no larger than ` +
      `${bufferConstants.MAX_LENGTH} (default ${DEFAULT_MAX_PAYLOAD_BYTES}); got ${describeOption(value)}`,
  )
}

function describeOption(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value
}
