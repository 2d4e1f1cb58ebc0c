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
 * here; each message then costs one AES-256 call over two blocks for its key, and AES-256-GCM.
 */
export class XaesKey {
  /**
   * AES-256 in ECB mode without padding is the bare block function: every update of whole blocks
   * returns their encryptions and keeps no state between calls, so one cipher serves every
   * derivation under this key.
   */
  readonly #ecb: Cipher
  readonly #k1: Buffer
  /** M1 ⊕ K1 ‖ M2 ⊕ K1, assembled per message and zeroed after. Never pooled: it holds K1. */
  readonly #blocks = Buffer.alloc(2 * BLOCK_BYTES)

  constructor(key: Uint8Array) {
    if (key.length !== XAES_KEY_BYTES) throw new RangeError(`XAES-256-GCM key is invalid: give ${XAES_KEY_BYTES} bytes`)
    this.#ecb = createCipheriv('aes-256-ecb', createSecretKey(key), null).setAutoPadding(false)
    // 1. L = AES-256_K(0¹²⁸); 2. K1 = L << 1, xor 0x87 into the last byte when L's top bit was set.
    const l = this.#ecb.update(Buffer.alloc(BLOCK_BYTES))
    const k1 = Buffer.alloc(BLOCK_BYTES)
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
    const blocks = this.#blocks
    const k1 = this.#k1
    // 3., 4. Mi = 0x00 ‖ i ‖ "X" ‖ 0x00 ‖ N[:12], the counter-mode KDF input for i = 1, 2.
    blocks[0] = 0x00
    blocks[1] = 0x01
    blocks[2] = 0x58
    blocks[3] = 0x00
    blocks.set(nonce.subarray(0, KDF_NONCE_BYTES), 4)
    blocks.copyWithin(BLOCK_BYTES, 0, BLOCK_BYTES)
    blocks[BLOCK_BYTES + 1] = 0x02
    for (let i = 0; i < BLOCK_BYTES; i++) {
      const k = k1[i] as number
      blocks[i] = (blocks[i] as number) ^ k
      blocks[BLOCK_BYTES + i] = (blocks[BLOCK_BYTES + i] as number) ^ k
    }
    // 5. Kₓ = AES-256_K(M1 ⊕ K1) ‖ AES-256_K(M2 ⊕ K1): a complete block is CMAC's only block.
    const derived = this.#ecb.update(blocks)
    blocks.fill(0)
    return derived
  }

  /** An AES-256-GCM cipher under Kₓ and Nₓ for this 24-byte nonce; Kₓ is zeroed once the cipher holds its copy. */
  createCipher(nonce: Uint8Array): CipherGCM {
    const derived = this.deriveKey(nonce)
    // GCM's tag is 16 bytes unless asked otherwise; the decipher pins the length it accepts.
    const cipher = createCipheriv('aes-256-gcm', derived, nonce.subarray(KDF_NONCE_BYTES, XAES_NONCE_BYTES))
    derived.fill(0)
    return cipher
  }

  /** The decrypting twin of {@link XaesKey.createCipher}. */
  createDecipher(nonce: Uint8Array): DecipherGCM {
    const derived = this.deriveKey(nonce)
    const decipher = createDecipheriv('aes-256-gcm', derived, nonce.subarray(KDF_NONCE_BYTES, XAES_NONCE_BYTES), { authTagLength: XAES_TAG_BYTES })
    derived.fill(0)
    return decipher
  }

  /** Encrypts `plaintext`; returns ciphertext ‖ 16-byte tag (the nonce is not included). */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
    const cipher = this.createCipher(nonce)
    cipher.setAAD(aad)
    const ciphertext = cipher.update(plaintext)
    const last = cipher.final()
    return Buffer.concat([ciphertext, last, cipher.getAuthTag()], plaintext.length + XAES_TAG_BYTES)
  }

  /** Decrypts ciphertext ‖ tag; `undefined` when the tag does not match (or the input is shorter than a tag). */
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | undefined {
    if (sealed.length < XAES_TAG_BYTES) return undefined
    const decipher = this.createDecipher(nonce)
    decipher.setAAD(aad)
    decipher.setAuthTag(sealed.subarray(sealed.length - XAES_TAG_BYTES))
    const first = decipher.update(sealed.subarray(0, sealed.length - XAES_TAG_BYTES))
    try {
      const last = decipher.final()
      if (last.length === 0) return first
      // GCM is a stream mode and final() returns nothing in practice. Should it, the plaintext is
      // joined in memory of its own: Buffer.concat would copy it into Node's shared pool.
      const joined = Buffer.allocUnsafeSlow(first.length + last.length)
      joined.set(first)
      joined.set(last, first.length)
      first.fill(0)
      return joined
    } catch {
      first.fill(0)
      return undefined
    }
  }
}

export const EXTENDED_VERSION = 'x1'
const SEALED_PREFIX = `${SEALED_VERSION}.`

/** Fills `target` (24 bytes) with a fresh nonce; injectable so tests can produce golden vectors. */
export type ExtendedNonceSource = (target: Buffer) => void

/**
 * 192-bit nonces from e1's pool of random bytes, two 96-bit slots each: every slot is handed out
 * once before the pool is refilled, so the randomness stays one `randomFillSync` per 128 nonces.
 */
export function createExtendedNoncePool(): ExtendedNonceSource {
  const pool = createNoncePool(2 * 128)
  return (target) => {
    pool(target, 0)
    pool(target, KDF_NONCE_BYTES)
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
  readonly #nonces: ExtendedNonceSource
  /** Where each nonce is drawn into; concatenated into the token, so one buffer serves all. */
  readonly #nonce = Buffer.alloc(XAES_NONCE_BYTES)

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
    this.#nonces = nonces ?? createExtendedNoncePool()
  }

  seal(flags: number, issuedAt: number, expiresAt: number | undefined, payload: Uint8Array | string): string {
    const plaintext = writeBody(flags, issuedAt, expiresAt, payload)
    const nonce = this.#nonce
    this.#nonces(nonce)
    const { xaes, aad, prefix } = this.#current
    const cipher = xaes.createCipher(nonce)
    cipher.setAAD(aad)
    return sealWith(cipher, nonce, plaintext, prefix)
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
    const plaintext = sealing.xaes.open(sealed.subarray(0, XAES_NONCE_BYTES), sealed.subarray(XAES_NONCE_BYTES), sealing.aad)
    // GCM's tag did not match: tampered, another purpose or cookie name, or another secret.
    if (plaintext === undefined) return new SignatureInvalid('authentication tag does not match')
    return readBody(plaintext, sealing.key, now, maxAge, this.#clockTolerance)
  }
}
