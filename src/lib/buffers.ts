/**
 * Buffers the token code reuses, and writing strings into them without `Buffer#write`'s argument
 * handling.
 *
 * Every buffer made here lives outside Node's shared Buffer pool. `Buffer.allocUnsafe` under
 * 4 KiB, `Buffer.from` and `Buffer.concat` carve small buffers out of shared 8 KiB slabs, and any
 * other small Buffer's `.buffer` exposes its whole slab: an unrelated bug elsewhere in an app
 * (`ws.send(buf.buffer)`) would leak key blocks or plaintext kept in one. See "Key material in
 * memory" in docs/security.md.
 *
 * `buf.write(text, offset, encoding)` normalizes its arguments and looks the encoding up on every
 * call before it reaches the encoder, a fixed cost paid six times per session round trip
 * (docs/performance.md has the figure). Node's Buffers also carry the encoders themselves as
 * `utf8Write`, `latin1Write` and `base64urlWrite` (Bun and Deno provide them too). They are not
 * in Node's documentation, so they are looked up once here and `Buffer#write` is the fallback.
 *
 * @internal
 */
import { Buffer } from 'node:buffer'

type Encoder = (this: Buffer, text: string, offset: number) => number
type Writer = (target: Buffer, text: string, offset: number) => number

/** A writer for one encoding: the Buffer's own encoder if `encoders` has it, else `Buffer#write`. */
export function bufferWriter(name: 'utf8Write' | 'latin1Write' | 'base64urlWrite', encoding: BufferEncoding, encoders: object = Buffer.prototype): Writer {
  const encode = (encoders as Record<string, Encoder | undefined>)[name]
  if (typeof encode !== 'function') return (target, text, offset) => target.write(text, offset, encoding)
  return (target, text, offset) => encode.call(target, text, offset)
}

/** Writes `text` as UTF-8 at `offset`, as far as it fits; returns the bytes written. */
export const writeUtf8: Writer = bufferWriter('utf8Write', 'utf8')
/** Writes `text` as latin1 (one byte per character) at `offset`; returns the bytes written. */
export const writeLatin1: Writer = bufferWriter('latin1Write', 'latin1')
/** Decodes base64url `text` (leniently, like Buffer.from) into `target` at `offset`; returns the bytes written. */
export const writeBase64url: Writer = bufferWriter('base64urlWrite', 'base64url')

/**
 * The most bytes a shared buffer grows to. Session-sized work fits with room to spare; anything
 * larger gets a buffer of its own, so one huge token cannot pin its size in memory for the life
 * of the process.
 */
export const SCRATCH_LIMIT = 64 * 1024

/**
 * `current` if it holds `room` bytes, else a larger buffer: one to keep (doubling, up to
 * SCRATCH_LIMIT) or, beyond the limit, one for this call only. Keep the result only if its length
 * is at most SCRATCH_LIMIT.
 */
export function scratchFor(current: Buffer, room: number): Buffer {
  if (current.length >= room) return current
  return Buffer.allocUnsafeSlow(Math.max(room, Math.min(SCRATCH_LIMIT, 2 * current.length)))
}

/**
 * A copy of `value` (a string as UTF-8) in memory of its own, outside Node's shared Buffer pool,
 * for secrets and keys: the caller may reuse or zero theirs, and nothing else shares the memory.
 */
export function copyUnpooled(value: string | Uint8Array): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(value, 'utf8'))
    writeUtf8(bytes, value, 0)
    return bytes
  }
  const bytes = Buffer.allocUnsafeSlow(value.length)
  bytes.set(value)
  return bytes
}
