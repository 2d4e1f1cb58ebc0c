/**
 * HMAC-SHA256 (RFC 2104) computed with node:crypto's one-shot SHA-256, for the f1 hot path.
 *
 *   HMAC(K, m) = SHA256((K' ⊕ opad) ‖ SHA256((K' ⊕ ipad) ‖ m))
 *   K' = K zero-padded to the 64-byte block (SHA256(K) first when K is longer than a block)
 *
 * `createHmac` builds a stream object, validates its arguments and sets the key up again for every
 * MAC; on a session-sized message that fixed cost is most of the work. `crypto.hash` (Node 20.12
 * and 21.7 on) hashes one buffer in one call, so two such calls over buffers whose key blocks are
 * prepared once per key skip that fixed cost (docs/performance.md has the figures).
 * Where `crypto.hash` is missing (older Node 20 releases, other runtimes) `createHmac` is used.
 * The output is the same bytes either way: RFC 4231's vectors and a property test against
 * `createHmac` hold it to that (test/lib/hmac.test.ts).
 *
 * @internal
 */
import { Buffer } from 'node:buffer'
import * as nodeCrypto from 'node:crypto'
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import { SCRATCH_LIMIT, scratchFor, writeLatin1, writeUtf8 } from './buffers.js'

const BLOCK_BYTES = 64
const DIGEST_BYTES = 32
const IPAD = 0x36
const OPAD = 0x5c

type OneShotHash = (algorithm: string, data: string | Uint8Array, outputEncoding: 'latin1' | 'base64url') => string
const oneShot = (nodeCrypto as unknown as { hash?: OneShotHash }).hash

/** Whether this runtime has `crypto.hash`; without it {@link HmacSha256} uses `createHmac`. */
// Stryker disable next-line ConditionalExpression: equivalent, without crypto.hash oneShot is undefined and the constructor falls back whatever this says (test/mutation-equivalents.md)
export const HAS_ONE_SHOT_HASH = typeof oneShot === 'function'

/** HMAC-SHA256 under one key, returning base64url. Not reentrant: it reuses its buffers per call. */
export class HmacSha256 {
  /** For runtimes without crypto.hash only. */
  readonly #fallbackKey: KeyObject | undefined
  /** K' ⊕ ipad, followed by the message of the current call. */
  #inner: Buffer
  /** K' ⊕ opad, followed by the inner digest of the current call. */
  readonly #outer: Buffer
  readonly #oneShot: OneShotHash | undefined

  constructor(key: Uint8Array, { useOneShot = HAS_ONE_SHOT_HASH }: { useOneShot?: boolean } = {}) {
    this.#oneShot = useOneShot ? oneShot : undefined
    // Stryker disable next-line ConditionalExpression: equivalent, allocation only: the one-shot path never reads the fallback key (test/mutation-equivalents.md)
    this.#fallbackKey = this.#oneShot === undefined ? createSecretKey(key) : undefined
    // The key blocks are as good as the key: each buffer holding one is allocated on its own,
    // outside Node's shared Buffer pool (see buffers.ts), and temporary copies are zeroed.
    const block = Buffer.alloc(BLOCK_BYTES)
    if (key.length > BLOCK_BYTES) {
      const hashed = nodeCrypto.createHash('sha256').update(key).digest()
      hashed.copy(block)
      hashed.fill(0)
    } else block.set(key)
    this.#inner = Buffer.allocUnsafeSlow(BLOCK_BYTES + 512)
    this.#outer = Buffer.allocUnsafeSlow(BLOCK_BYTES + DIGEST_BYTES)
    // Stryker disable next-line EqualityOperator: equivalent, byte 64 is overwritten by the message or the inner digest, or not hashed (test/mutation-equivalents.md)
    for (let i = 0; i < BLOCK_BYTES; i++) {
      this.#inner[i] = (block[i] as number) ^ IPAD
      this.#outer[i] = (block[i] as number) ^ OPAD
    }
    block.fill(0)
  }

  /** The MAC of `message` (a string is taken as UTF-8, as `Hmac#update` takes it), in base64url. */
  digest(message: string | Uint8Array): string {
    const hash = this.#oneShot
    if (hash === undefined) return createHmac('sha256', this.#fallbackKey as KeyObject).update(message).digest('base64url')
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    // Stryker disable next-line ConditionalExpression: equivalent, allocation only: a byte message reserves more room than it needs (test/mutation-equivalents.md)
    const room = BLOCK_BYTES + (typeof message === 'string' ? 3 * message.length : message.length)
    const inner = scratchFor(this.#inner, room)
    if (inner !== this.#inner) {
      this.#inner.copy(inner, 0, 0, BLOCK_BYTES)
      // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: equivalent, allocation only: whether a grown buffer within SCRATCH_LIMIT is kept (test/mutation-equivalents.md)
      if (inner.length <= SCRATCH_LIMIT) {
        this.#inner.fill(0, 0, BLOCK_BYTES)
        this.#inner = inner
      }
    }
    let length = BLOCK_BYTES
    if (typeof message === 'string') length += writeUtf8(inner, message, BLOCK_BYTES)
    else {
      inner.set(message, BLOCK_BYTES)
      length += message.length
    }
    // latin1 maps bytes to characters one to one, so the digest travels as a string (cheaper than
    // a Buffer from crypto.hash) and is written back as the same 32 bytes.
    writeLatin1(this.#outer, hash('sha256', inner.subarray(0, length), 'latin1'), BLOCK_BYTES)
    // A buffer for this call only (a message beyond SCRATCH_LIMIT) leaves no key block behind.
    if (inner !== this.#inner) inner.fill(0, 0, BLOCK_BYTES)
    return hash('sha256', this.#outer, 'base64url')
  }
}
