/**
 * The session cookie on the wire: read from a Cookie header as one cookie or as chunks
 * (`name.0`, `name.1`, …), written back as `Set-Cookie` values, with stale cookies deleted.
 *
 * @internal
 */
import { getCookie, MAX_COOKIE_BYTES, type CookieWriter, type TokenCookieWriter } from '../cookie/cookie.js'
import { CookieTooLarge, PayloadTooLarge } from '../errors.js'
import { MAX_CHUNKS_LIMIT } from './config.js'

/** How the cookie came in, so that commit can delete what it no longer writes. */
export class Incoming {
  /** 0 not at all, -1 as one cookie, n as n chunks. */
  count = 0
  /** Chunk cookies seen beside a single cookie (left over from a larger session): delete them. */
  strayChunks = 0
}

function countChunks(header: string, name: string, from: number): number {
  let count = from
  while (count <= MAX_CHUNKS_LIMIT && getCookie(header, `${name}.${count}`) !== undefined) count++
  return count
}

/**
 * The session cookie's value (chunks joined), or undefined when there is none. Records in
 * `incoming` what came in. A header claiming more chunks than allowed gives PayloadTooLarge.
 */
export function readCookieValue(header: string | undefined, name: string, maxChunks: number, incoming: Incoming): string | undefined | PayloadTooLarge {
  const value = getCookie(header, name)
  if (value !== undefined) {
    incoming.count = -1
    // Rare: chunks left over from a larger session. Counted so the next commit deletes them. The
    // text test is only a shortcut: `name.0 =v` is a chunk too (countChunks parses the pairs).
    // Stryker disable next-line StringLiteral: equivalent, a shortcut before countChunks, which finds no chunk where there is none (test/mutation-equivalents.md)
    if (header !== undefined && header.includes(`${name}.0`)) incoming.strayChunks = countChunks(header, name, 0)
    return value
  }
  if (header === undefined) return undefined
  const first = getCookie(header, `${name}.0`)
  if (first === undefined) return undefined
  const parts = [first]
  for (let i = 1; i <= maxChunks; i++) {
    const part = getCookie(header, `${name}.${i}`)
    if (part === undefined) break
    parts.push(part)
  }
  incoming.count = parts.length
  // A gap (a chunk the browser dropped) strands the chunks after it: count them so that commit
  // deletes them, or they would corrupt a later, shorter chunked session.
  // Stryker disable next-line ArithmeticOperator: equivalent, starting at the last chunk read finds it and sets the count it already has (test/mutation-equivalents.md)
  for (let i = parts.length + 1; i < maxChunks; i++) if (getCookie(header, `${name}.${i}`) !== undefined) incoming.count = i + 1
  if (parts.length > maxChunks) {
    incoming.count = countChunks(header, name, parts.length)
    return new PayloadTooLarge(parts.join('').length, maxChunks * MAX_COOKIE_BYTES, 'session arrived in more chunks than allowed')
  }
  return parts.join('')
}

/** Deletions for what came in and is not written again: the single cookie unless kept, chunks from `keepChunks` on. */
export function deletions(writer: CookieWriter, name: string, incoming: Incoming, keepSingle: boolean, keepChunks: number): string[] {
  const headers: string[] = []
  if (incoming.count === -1 && !keepSingle) headers.push(writer.expire())
  // Stryker disable next-line EqualityOperator: equivalent, with count 0 nothing came in and strayChunks is 0 too (test/mutation-equivalents.md)
  const chunksSeen = incoming.count > 0 ? incoming.count : incoming.strayChunks
  for (let i = keepChunks; i < chunksSeen; i++) headers.push(writer.expire(`${name}.${i}`))
  return headers
}

/**
 * The Set-Cookie values that store `token`: one cookie when it fits, chunks otherwise, and
 * deletions of what came in and is no longer used.
 *
 * @throws {CookieTooLarge} when the token needs more cookies than `maxChunks`.
 */
export function writeToken(writer: TokenCookieWriter, token: string, maxAge: number | undefined, maxChunks: number, incoming: Incoming): string[] {
  const name = writer.name
  // The common case, decided without building a header: name, '=', token, the cached attributes
  // and at most `; Max-Age=34560000` (18 characters) fit with room to spare. Both formats write
  // tokens of base64url characters and dots, so the writer need not check the value's characters.
  // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: equivalent, a quick estimate: the exact measurement below writes the same cookie (test/mutation-equivalents.md)
  if (name.length + 1 + token.length + writer.attributeLength + 18 <= MAX_COOKIE_BYTES) {
    const single = writer.serializeToken(token, maxAge)
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a shortcut: deletions() returns nothing when nothing came in (test/mutation-equivalents.md)
    return incoming.count === 0 && incoming.strayChunks === 0 ? [single] : [single, ...deletions(writer, name, incoming, true, 0)]
  }
  // Near the limit, measure exactly on an empty value: serialize() itself refuses a token too
  // long for one cookie (CookieTooLarge), and that token is exactly the one to split into chunks.
  const lifetime = { maxAge } // maxAge undefined: no Max-Age, a browser-session cookie
  const bare = writer.serialize('', lifetime).length
  const singleLength = bare + token.length
  if (singleLength <= MAX_COOKIE_BYTES) return [writer.serialize(token, lifetime), ...deletions(writer, name, incoming, true, 0)]
  if (maxChunks === 1) {
    throw new CookieTooLarge(singleLength, MAX_COOKIE_BYTES, `session cookie of ${singleLength} bytes exceeds ${MAX_COOKIE_BYTES} bytes and chunking is off`)
  }
  // Everything in a chunk header but the token slice: name, ".N=", attributes and lifetime.
  const overhead = bare + String(maxChunks - 1).length + 1
  const capacity = MAX_COOKIE_BYTES - overhead
  const count = Math.ceil(token.length / capacity)
  if (count > maxChunks) {
    throw new CookieTooLarge(token.length + count * overhead, maxChunks * MAX_COOKIE_BYTES, `session of ${token.length} bytes needs ${count} cookies; the limit is ${maxChunks} (option chunking.maxChunks)`)
  }
  const headers: string[] = []
  for (let i = 0; i < count; i++) headers.push(writer.serialize(token.slice(i * capacity, (i + 1) * capacity), lifetime, `${name}.${i}`))
  return [...headers, ...deletions(writer, name, incoming, false, count)]
}
