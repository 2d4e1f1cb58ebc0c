/**
 * Frasco's encrypted token format, version 1 (`docs/format.md`):
 *
 *   token = "e1" "." kid "." base64url( nonce[12] | ciphertext | gcmTag[16] )
 *   plaintext = the f1 body: flags:u8 | iat:u48be | [exp:u48be] | payload
 *   key = HKDF-SHA256(secret, info = "frasco/v1/encrypt" 0x00 purpose), AES-256-GCM
 *   AAD = ASCII("e1." kid) 0x00 UTF-8(purpose)
 *
 * The times live inside the ciphertext, so an encrypted token shows nothing but its version and
 * key id; GCM authenticates them with the payload. The AAD binds the version, key id and purpose
 * (for sessions, the cookie name) on top of the per-purpose key.
 *
 * @internal
 */
import { Buffer } from 'node:buffer'
import { createCipheriv, createDecipheriv, createSecretKey, randomFillSync, type CipherGCM, type KeyObject } from 'node:crypto'
import { PayloadMalformed, SignatureInvalid, type SessionError } from '../errors.js'
import { deriveSubkey, type Key, type Keyring } from '../keyring.js'
import { Located, decodeField, locate, readBody, writeBody, type OpenedToken, type TokenCoreOptions, type TokenFormat } from './token.js'

export const SEALED_VERSION = 'e1'
export const NONCE_BYTES = 12
export const GCM_TAG_BYTES = 16

/** Where nonces come from; injectable so tests can produce golden vectors. */
export type NonceSource = (target: Buffer, offset: number) => void

// One randomFillSync call per this many nonces: the syscall and its fixed cost are shared, which
// keeps randomness from dominating an encrypted round trip (docs/performance.md has the figures).
const POOL_NONCES = 256

/**
 * Hands out nonces of `bytes` bytes (96 bits unless told) from a buffer refilled with
 * `randomFillSync`. Each slot is used once and the whole buffer is refilled before any slot is
 * read again, so no nonce is ever handed out twice (except by the 2⁻⁹⁶-per-pair chance of the
 * random generator itself).
 */
export function createNoncePool(size = POOL_NONCES, bytes = NONCE_BYTES): NonceSource {
  const pool = Buffer.allocUnsafe(size * bytes)
  let next = pool.length
  return (target, offset) => {
    // Stryker disable next-line ConditionalExpression: equivalent, refilling before every nonce only costs time (test/mutation-equivalents.md)
    if (next === pool.length) {
      randomFillSync(pool)
      next = 0
    }
    pool.copy(target, offset, next, next + bytes)
    next += bytes
  }
}

interface SealingKey {
  readonly key: Key
  readonly aesKey: KeyObject
  readonly prefix: string // "e1.<kid>."
  readonly aad: Buffer
}

export interface SealedCoreOptions extends TokenCoreOptions {
  nonces?: NonceSource
}

/**
 * Encrypts `plaintext` (the shared body scratch of writeBody, zeroed here once encrypted, so no
 * plaintext stays behind) with a GCM cipher whose AAD is set, and assembles the token:
 * `prefix` base64url(nonce | ciphertext | tag). One concat copies each part once into a buffer
 * it sizes itself. GCM is a stream mode: update() returns every byte of the ciphertext, and
 * final() only computes the tag (it returns no bytes).
 */
export function sealWith(cipher: CipherGCM, nonce: Buffer, plaintext: Buffer, prefix: string): string {
  const ciphertext = cipher.update(plaintext)
  plaintext.fill(0)
  cipher.final()
  const sealed = Buffer.concat([nonce, ciphertext, cipher.getAuthTag()], nonce.length + ciphertext.length + GCM_TAG_BYTES)
  return prefix + sealed.toString('base64url')
}

/** Encrypts and opens e1 tokens for one keyring and purpose. */
export class SealedCore implements TokenFormat {
  readonly #current: SealingKey
  readonly #byId = new Map<string, SealingKey>()
  readonly #clockTolerance: number
  readonly #maxTokenLength: number
  readonly #nonces: NonceSource
  /** Where each nonce is drawn into; createCipheriv copies it, so one buffer serves every token. */
  readonly #nonce = Buffer.alloc(NONCE_BYTES)

  constructor(keyring: Keyring, options: SealedCoreOptions) {
    for (const key of keyring.keys) {
      this.#byId.set(key.id, {
        key,
        aesKey: createSecretKey(deriveSubkey(key, 'encrypt', options.purpose)),
        prefix: `${SEALED_VERSION}.${key.id}.`,
        aad: Buffer.concat([Buffer.from(`${SEALED_VERSION}.${key.id}\0`, 'latin1'), Buffer.from(options.purpose, 'utf8')]),
      })
    }
    this.#current = this.#byId.get(keyring.current.id) as SealingKey
    this.#clockTolerance = options.clockTolerance
    this.#maxTokenLength = options.maxTokenLength
    this.#nonces = options.nonces ?? createNoncePool()
  }

  seal(flags: number, issuedAt: number, expiresAt: number | undefined, payload: Uint8Array | string): string {
    const plaintext = writeBody(flags, issuedAt, expiresAt, payload)
    const nonce = this.#nonce
    this.#nonces(nonce, 0)
    const { aesKey, aad, prefix } = this.#current
    const cipher = createCipheriv('aes-256-gcm', aesKey, nonce)
    cipher.setAAD(aad)
    return sealWith(cipher, nonce, plaintext, prefix)
  }

  open(token: string, now: number, maxAge: number | undefined): OpenedToken | SessionError {
    const located = locate(token, SEALED_VERSION, 3, this.#maxTokenLength, this.#byId)
    if (!(located instanceof Located)) return located
    const sealing = located.entry
    // Decoded before authentication, so only the canonical form may pass: a second spelling of
    // the same bytes would be a different token that GCM accepts.
    const sealed = decodeField(token.slice(located.lastDot + 1), true)
    if (sealed === undefined || sealed.length < NONCE_BYTES + GCM_TAG_BYTES) return new PayloadMalformed('token body is not valid')

    // Stryker disable next-line ObjectLiteral: equivalent, the tag given is always 16 bytes, GCM's default length (test/mutation-equivalents.md)
    const decipher = createDecipheriv('aes-256-gcm', sealing.aesKey, sealed.subarray(0, NONCE_BYTES), { authTagLength: GCM_TAG_BYTES })
    decipher.setAAD(sealing.aad)
    decipher.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_BYTES))
    // GCM is a stream mode: update() returns every byte, and final() only checks the tag.
    const plaintext = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - GCM_TAG_BYTES))
    try {
      decipher.final()
    } catch {
      // GCM's tag did not match: tampered, another purpose or cookie name, or another secret. The
      // bytes decrypted are not believed, nor kept (as in xaes.ts).
      plaintext.fill(0)
      return new SignatureInvalid('authentication tag does not match')
    }
    return readBody(plaintext, sealing.key, now, maxAge, this.#clockTolerance)
  }
}
