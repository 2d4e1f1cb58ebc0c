/**
 * XAES-256-GCM (C2SP, https://c2sp.org/XAES-256-GCM) on node:crypto, and Frasco's encrypted token
 * format x1 built on it (`docs/format.md`):
 *
 *   token = "x1" "." kid "." base64url( nonce[24] | ciphertext | gcmTag[16] )
 *   plaintext = the f1 body: flags:u8 | iat:u48be | [exp:u48be] | payload
 *   key = HKDF-SHA256(secret, info = "frasco/v1/encrypt" 0x00 purpose 0x00 "x1"), XAES-256-GCM
 *   AAD = ASCII("x1." kid) 0x00 UTF-8(purpose)
 *
 * XAES-256-GCM derives a fresh AES-256-GCM key from the key and the first half of a 192-bit
 * nonce, so random nonces carry no per-key message limit that a deployment could reach (e1's
 * 96-bit nonces allow 2³² tokens per key). The x1 core writes x1 and reads x1 and e1, so e1
 * tokens issued before stay valid for as long as their key is in the keyring.
 *
 * @internal
 */
import { Buffer } from 'node:buffer'
import { createCipheriv, createDecipheriv, createSecretKey, type Cipher, type CipherGCM, type DecipherGCM } from 'node:crypto'
import { PayloadMalformed, SignatureInvalid, type SessionError } from '../errors.js'
import { deriveSubkey, type Key, type Keyring } from '../keyring.js'
import { SEALED_VERSION, SealedCore, createNoncePool, sealWith } from './seal.js'
import { Located, decodeField, locate, readBody, writeBody, type OpenedToken, type TokenCoreOptions, type TokenFormat } from './token.js'

export const XAES_KEY_BYTES = 32
export const XAES_NONCE_BYTES = 24
export const XAES_TAG_BYTES = 16
const BLOCK_BYTES = 16
/** The GCM nonce is the second half of the XAES nonce; the first half goes into the key. */
const KDF_NONCE_BYTES = 12

/**
 * One XAES-256-GCM key. The CMAC subkey K1 (steps 1 and 2 of the C2SP algorithm) is computed once
 * here; each message then costs two AES-256 blocks for its key (one call, or a share of one call
 * for many nonces: `deriveKeys`), and AES-256-GCM.
 */
export class XaesKey {
  /**
   * AES-256 in ECB mode without padding is the bare block function: every update of whole blocks
   * returns their encryptions and keeps no state between calls, so one cipher serves every
   * derivation under this key.
   */
  readonly #ecb: Cipher
  readonly #k1: Buffer
  /** M1 ⊕ K1 ‖ M2 ⊕ K1 of one nonce, assembled per message and zeroed after. Never pooled: with M, it gives K1. */
  readonly #blocks = Buffer.alloc(2 * BLOCK_BYTES)

  constructor(key: Uint8Array) {
    if (key.length !== XAES_KEY_BYTES) throw new RangeError(`XAES-256-GCM key is invalid: give ${XAES_KEY_BYTES} bytes`)
    // Stryker disable next-line BooleanLiteral: equivalent, padding matters only in final(), which the block function never calls (test/mutation-equivalents.md)
    this.#ecb = createCipheriv('aes-256-ecb', createSecretKey(key), null).setAutoPadding(false)
    // 1. L = AES-256_K(0¹²⁸); 2. K1 = L << 1, xor 0x87 into the last byte when L's top bit was set.
    const l = this.#ecb.update(Buffer.alloc(BLOCK_BYTES))
    const k1 = Buffer.alloc(BLOCK_BYTES)
    // Stryker disable next-line EqualityOperator: equivalent, a write one past the end of a Buffer is ignored (test/mutation-equivalents.md)
    for (let i = 0; i < BLOCK_BYTES; i++) k1[i] = (((l[i] as number) << 1) | ((l[i + 1] ?? 0) >>> 7)) & 0xff
    if (((l[0] as number) & 0x80) !== 0) k1[BLOCK_BYTES - 1] = (k1[BLOCK_BYTES - 1] as number) ^ 0x87
    l.fill(0)
    this.#k1 = k1
  }

  /**
   * The AES-256-GCM key Kₓ for a 24-byte nonce (steps 3 to 5; only its first 12 bytes are read).
   * A new buffer: the caller zeroes it once the GCM cipher has taken its copy.
   */
  deriveKey(nonce: Uint8Array): Buffer {
    return this.#derive(nonce, 0, 1)
  }

  /**
   * Kₓ for each of `count` nonces laid out one after another in `nonces` (24 bytes each), in one
   * AES call: the key of nonce i is at bytes 32i … 32i + 32 of the result, a new buffer the caller
   * zeroes as it uses the keys.
   */
  deriveKeys(nonces: Uint8Array, count: number): Buffer {
    return this.#derive(nonces, 0, count)
  }

  /**
   * Kₓ for the `count` nonces from `source[at]` on. The blocks are written byte by byte: a
   * `subarray` of the nonce, `set` and `copyWithin` cost more in call overhead than the loop.
   */
  #derive(source: Uint8Array, at: number, count: number): Buffer {
    // Two blocks per key; memory of its own beyond one key (Buffer.alloc is never pooled): M ⊕ K1
    // with M known gives K1.
    // Stryker disable next-line ConditionalExpression: equivalent, allocation only: a single derivation in a buffer of its own (test/mutation-equivalents.md)
    const blocks = count === 1 ? this.#blocks : Buffer.alloc(count * 2 * BLOCK_BYTES)
    const k1 = this.#k1
    // 3., 4. Mi = 0x00 ‖ i ‖ "X" ‖ 0x00 ‖ N[:12], the counter-mode KDF input for i = 1, 2, each
    // xored with K1: a complete block is CMAC's only block.
    const k0 = k1[0] as number
    const k11 = (k1[1] as number) ^ 0x01
    const k12 = (k1[1] as number) ^ 0x02
    const k2 = (k1[2] as number) ^ 0x58
    const k3 = k1[3] as number
    // Stryker disable next-line EqualityOperator: equivalent, the extra round writes past the end of the block buffer, which is ignored (test/mutation-equivalents.md)
    for (let n = 0; n < count; n++) {
      const m1 = 2 * BLOCK_BYTES * n
      const m2 = m1 + BLOCK_BYTES
      const nonce = at + XAES_NONCE_BYTES * n - 4
      blocks[m1] = k0
      blocks[m1 + 1] = k11
      blocks[m1 + 2] = k2
      blocks[m1 + 3] = k3
      blocks[m2] = k0
      blocks[m2 + 1] = k12
      blocks[m2 + 2] = k2
      blocks[m2 + 3] = k3
      for (let i = 4; i < BLOCK_BYTES; i++) {
        const byte = (source[nonce + i] as number) ^ (k1[i] as number)
        blocks[m1 + i] = byte
        blocks[m2 + i] = byte
      }
    }
    // 5. Kₓ = AES-256_K(M1 ⊕ K1) ‖ AES-256_K(M2 ⊕ K1).
    const derived = this.#ecb.update(blocks)
    blocks.fill(0)
    return derived
  }

  /** An AES-256-GCM cipher under Kₓ and Nₓ for this 24-byte nonce; Kₓ is zeroed once the cipher holds its copy. */
  createCipher(nonce: Uint8Array): CipherGCM {
    const derived = this.#derive(nonce, 0, 1)
    // GCM's tag is 16 bytes unless asked otherwise; the decipher pins the length it accepts.
    const cipher = createCipheriv('aes-256-gcm', derived, nonce.subarray(KDF_NONCE_BYTES, XAES_NONCE_BYTES))
    derived.fill(0)
    return cipher
  }

  /** The decrypting twin of {@link XaesKey.createCipher}, for the nonce at `source[at … at + 24]`. */
  createDecipher(source: Uint8Array, at = 0): DecipherGCM {
    const derived = this.#derive(source, at, 1)
    // Stryker disable next-line ObjectLiteral: equivalent, the tag given is always 16 bytes, GCM's default length (test/mutation-equivalents.md)
    const decipher = createDecipheriv('aes-256-gcm', derived, source.subarray(at + KDF_NONCE_BYTES, at + XAES_NONCE_BYTES), { authTagLength: XAES_TAG_BYTES })
    derived.fill(0)
    return decipher
  }

  /** Encrypts `plaintext`; returns ciphertext ‖ 16-byte tag (the nonce is not included). */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
    const cipher = this.createCipher(nonce)
    cipher.setAAD(aad)
    const ciphertext = cipher.update(plaintext)
    // GCM is a stream mode: update() returns every byte, and final() only computes the tag.
    cipher.final()
    return Buffer.concat([ciphertext, cipher.getAuthTag()], plaintext.length + XAES_TAG_BYTES)
  }

  /** Decrypts ciphertext ‖ tag; `undefined` when the tag does not match (or the input is shorter than a tag). */
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | undefined {
    if (sealed.length < XAES_TAG_BYTES) return undefined
    return this.#open(this.createDecipher(nonce), sealed, 0, aad)
  }

  /**
   * Decrypts nonce[24] ‖ ciphertext ‖ tag[16], the layout of an x1 token's last field, without a
   * view of the nonce and of the rest; `undefined` when the tag does not match. The caller has
   * checked that `sealed` holds at least a nonce and a tag.
   */
  openJoined(sealed: Uint8Array, aad: Uint8Array): Buffer | undefined {
    return this.#open(this.createDecipher(sealed, 0), sealed, XAES_NONCE_BYTES, aad)
  }

  /** Decrypts `sealed[start …]`, ciphertext ‖ tag, with a decipher made for its nonce. */
  #open(decipher: DecipherGCM, sealed: Uint8Array, start: number, aad: Uint8Array): Buffer | undefined {
    const tagAt = sealed.length - XAES_TAG_BYTES
    decipher.setAAD(aad)
    decipher.setAuthTag(sealed.subarray(tagAt))
    // GCM is a stream mode: update() returns every byte, and final() only checks the tag.
    const plaintext = decipher.update(sealed.subarray(start, tagAt))
    try {
      decipher.final()
      return plaintext
    } catch {
      plaintext.fill(0)
      return undefined
    }
  }
}

export const EXTENDED_VERSION = 'x1'
const SEALED_PREFIX = `${SEALED_VERSION}.`

/** Fills `target` (24 bytes) with a fresh nonce; injectable so tests can produce golden vectors. */
export type ExtendedNonceSource = (target: Buffer) => void

/**
 * 192-bit nonces from a pool of random bytes like e1's (one `randomFillSync` per 128 nonces, the
 * same bytes of randomness per call as e1's 256 nonces of 96 bits), each drawn in one copy.
 */
export function createExtendedNoncePool(): ExtendedNonceSource {
  const pool = createNoncePool(128, XAES_NONCE_BYTES)
  return (target) => pool(target, 0)
}

/** Nonces drawn, and their keys derived, this many at a time. */
const BATCH = 128

/** One nonce of a batch and the memory of its key: views made once, reused by every batch. */
interface Slot {
  readonly nonce: Buffer
  /** The nonce's second half. */
  readonly gcmNonce: Buffer
  readonly key: Buffer
}

/**
 * The nonces of an x1 sealing key, each with an AES-256-GCM cipher made under its XAES key.
 * Nonces are drawn and their keys derived `BATCH` at a time, the keys in one AES-256-ECB update:
 * the native call is most of what a derivation costs, so a batch takes a fraction of a call per
 * key (docs/performance.md). Each slot is handed out once before the batch is drawn again; a key
 * is zeroed as soon as its cipher holds a copy. The keys waiting in a batch are in memory of their
 * own, never pooled, like the key they come from.
 */
class NonceCiphers {
  readonly #xaes: XaesKey
  readonly #draw: ExtendedNonceSource
  readonly #nonces = Buffer.alloc(BATCH * XAES_NONCE_BYTES)
  readonly #keys = Buffer.alloc(BATCH * XAES_KEY_BYTES)
  /** Made at the first seal: a core that only opens tokens never needs them. */
  #slots: readonly Slot[] | undefined
  #next = BATCH

  constructor(xaes: XaesKey, draw: ExtendedNonceSource) {
    this.#xaes = xaes
    this.#draw = draw
  }

  /** Seals `plaintext` (zeroed after) under the next nonce: `prefix` base64url(nonce | ciphertext | tag). */
  seal(plaintext: Buffer, aad: Buffer, prefix: string): string {
    if (this.#next === BATCH) this.#refill()
    const { nonce, gcmNonce, key } = (this.#slots as readonly Slot[])[this.#next++] as Slot
    const cipher = createCipheriv('aes-256-gcm', key, gcmNonce)
    key.fill(0)
    cipher.setAAD(aad)
    return sealWith(cipher, nonce, plaintext, prefix)
  }

  #refill(): void {
    const slots = (this.#slots ??= this.#makeSlots())
    for (const slot of slots) this.#draw(slot.nonce)
    const derived = this.#xaes.deriveKeys(this.#nonces, BATCH)
    derived.copy(this.#keys)
    derived.fill(0)
    this.#next = 0
  }

  // A subarray per token would cost about as much as a key derivation in a batch.
  #makeSlots(): Slot[] {
    const slots: Slot[] = []
    for (let i = 0; i < BATCH; i++) {
      const at = i * XAES_NONCE_BYTES
      slots.push({
        nonce: this.#nonces.subarray(at, at + XAES_NONCE_BYTES),
        gcmNonce: this.#nonces.subarray(at + KDF_NONCE_BYTES, at + XAES_NONCE_BYTES),
        key: this.#keys.subarray(i * XAES_KEY_BYTES, (i + 1) * XAES_KEY_BYTES),
      })
    }
    return slots
  }
}

interface XSealingKey {
  readonly key: Key
  readonly xaes: XaesKey
  readonly prefix: string // "x1.<kid>."
  readonly aad: Buffer
}

export interface ExtendedCoreOptions extends TokenCoreOptions {
  nonces?: ExtendedNonceSource
}

/**
 * The key of x1 tokens: the e1 HKDF label with "x1" appended after a NUL. A purpose has no NUL,
 * so no e1 label and no other purpose's x1 label is the same, and no AES key serves both e1's GCM
 * and XAES (whose L = AES_K(0¹²⁸) is also GCM's hash key H under the same K).
 */
export function deriveExtendedKey(key: Key, purpose: string): Buffer {
  return deriveSubkey(key, 'encrypt', `${purpose}\0${EXTENDED_VERSION}`)
}

/** Encrypts x1 tokens, and opens x1 and e1 tokens, for one keyring and purpose. */
export class ExtendedCore implements TokenFormat {
  readonly #current: XSealingKey
  readonly #byId = new Map<string, XSealingKey>()
  readonly #legacy: SealedCore
  readonly #clockTolerance: number
  readonly #maxTokenLength: number
  readonly #sealing: NonceCiphers

  constructor(keyring: Keyring, options: ExtendedCoreOptions) {
    const { nonces, ...core } = options
    for (const key of keyring.keys) {
      this.#byId.set(key.id, {
        key,
        xaes: new XaesKey(deriveExtendedKey(key, core.purpose)),
        prefix: `${EXTENDED_VERSION}.${key.id}.`,
        aad: Buffer.concat([Buffer.from(`${EXTENDED_VERSION}.${key.id}\0`, 'latin1'), Buffer.from(core.purpose, 'utf8')]),
      })
    }
    this.#current = this.#byId.get(keyring.current.id) as XSealingKey
    this.#legacy = new SealedCore(keyring, core)
    this.#clockTolerance = core.clockTolerance
    this.#maxTokenLength = core.maxTokenLength
    this.#sealing = new NonceCiphers(this.#current.xaes, nonces ?? createExtendedNoncePool())
  }

  seal(flags: number, issuedAt: number, expiresAt: number | undefined, payload: Uint8Array | string): string {
    const { aad, prefix } = this.#current
    return this.#sealing.seal(writeBody(flags, issuedAt, expiresAt, payload), aad, prefix)
  }

  open(token: string, now: number, maxAge: number | undefined): OpenedToken | SessionError {
    // e1 tokens written before x1 are read for as long as their key is in the keyring.
    if (typeof token === 'string' && token.startsWith(SEALED_PREFIX)) return this.#legacy.open(token, now, maxAge)
    const located = locate(token, EXTENDED_VERSION, 3, this.#maxTokenLength, this.#byId)
    if (!(located instanceof Located)) return located
    const sealing = located.entry
    // Decoded before authentication, so only the canonical form may pass: a second spelling of
    // the same bytes would be a different token that GCM accepts.
    const sealed = decodeField(token.slice(located.lastDot + 1), true)
    if (sealed === undefined || sealed.length < XAES_NONCE_BYTES + XAES_TAG_BYTES) return new PayloadMalformed('token body is not valid')
    const plaintext = sealing.xaes.openJoined(sealed, sealing.aad)
    // GCM's tag did not match: tampered, another purpose or cookie name, or another secret.
    if (plaintext === undefined) return new SignatureInvalid('authentication tag does not match')
    return readBody(plaintext, sealing.key, now, maxAge, this.#clockTolerance)
  }
}
