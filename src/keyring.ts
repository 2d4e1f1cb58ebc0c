/**
 * Secrets: validation, rotation, key ids and per-purpose subkeys.
 *
 * A keyring is a list of secrets, newest first. The newest signs; every secret verifies. Each secret
 * has a short key id that travels in the token, so verification picks the one right key instead of
 * trying each (one HMAC whatever the size of the keyring), and a token signed with a retired secret
 * is recognized as such rather than as a forgery.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { createHmac, hkdfSync } from 'node:crypto'
import { copyUnpooled } from './lib/buffers.js'
import { assertKnownKeys } from './lib/options.js'

const ENTRY_KEYS: ReadonlySet<string> = new Set(['id', 'secret'])

/**
 * A secret: a string (used as its UTF-8 bytes) or raw bytes.
 *
 * @example
 * ```ts
 * const secret: Secret = process.env.SESSION_SECRET! // or raw bytes: randomBytes(32)
 * createKeyring(secret)
 * ```
 */
export type Secret = string | Uint8Array

/**
 * A secret with an explicit key id, for ids you want to read in logs (`'2026-11'`).
 *
 * @example
 * ```ts
 * const entry: KeyringEntry = { id: '2026-11', secret: process.env.SECRET_2026_11! }
 * createKeyring([entry, process.env.SECRET_2026_05!]).current.id // '2026-11'
 * ```
 */
export interface KeyringEntry {
  /** 1 to 32 characters from the base64url alphabet (`A-Z a-z 0-9 - _`). */
  id?: string
  secret: Secret
}

/**
 * What {@link createKeyring} and every factory taking `secrets` accept: one secret, or a list newest first.
 *
 * @example
 * ```ts
 * const secrets: SecretsInput = [{ id: '2026-11', secret: newSecret }, oldSecret] // newest first
 * const signer = createSigner({ secrets, purpose: 'csrf' })
 * ```
 */
export type SecretsInput = Secret | KeyringEntry | ReadonlyArray<Secret | KeyringEntry>

/**
 * One validated secret of a keyring.
 *
 * @example
 * ```ts
 * const key: Key = createKeyring([newSecret, oldSecret]).current
 * console.log(key.id, key.index) // the secret itself cannot be read back
 * ```
 */
export interface Key {
  /** The key id written into tokens. */
  readonly id: string
  /** Position in the keyring: 0 is the newest, which signs. */
  readonly index: number
}

// The secret bytes of each key, reachable only from this module: no public API reads them back.
const secretBytes = new WeakMap<Key, Buffer>()

function secretOf(key: Key): Buffer {
  const secret = secretBytes.get(key)
  if (secret === undefined) throw new TypeError('key is invalid: use a key of a keyring made by createKeyring')
  return secret
}

/**
 * A validated keyring.
 *
 * @example
 * ```ts
 * const keyring: Keyring = createKeyring([newSecret, oldSecret])
 * keyring.keys.length // 2
 * keyring.get(keyring.current.id) === keyring.current // true
 * ```
 */
export interface Keyring {
  /** All keys, newest first. */
  readonly keys: readonly Key[]
  /** The newest key: the one that signs. */
  readonly current: Key
  /** The key with this id, or `undefined`. */
  get(id: string): Key | undefined
}

/**
 * The fewest bytes a secret may have: 256 bits, the HMAC-SHA256 block's worth of key strength.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto'
 *
 * const secret = randomBytes(MIN_SECRET_BYTES).toString('base64url') // a fresh, strong secret
 * ```
 */
export const MIN_SECRET_BYTES = 32

// A secret of 32 bytes but only a few distinct byte values ('aaaa…', '0000…', 'abababab…') is
// a placeholder, not a secret. Random 32-byte secrets have about 30 distinct values, hex text 16.
const MIN_DISTINCT_BYTES = 10

// Key ids: short, URL-safe, and unambiguous inside a dot-separated token.
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/

const KEYGEN_HINT = 'generate one with `npx frasco keygen` (32 random bytes, base64url)'

function toBytes(secret: unknown, where: string): Buffer {
  // A copy outside Node's shared Buffer pool: the caller may reuse theirs, and a pooled slab is
  // visible through any other small Buffer's `.buffer`.
  if (typeof secret === 'string' || secret instanceof Uint8Array) return copyUnpooled(secret)
  throw new TypeError(`option ${where} is invalid: a secret must be a string or a Uint8Array; ${KEYGEN_HINT}`)
}

function assertStrong(bytes: Buffer, where: string): void {
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new TypeError(
      `option ${where} is invalid: a secret must have at least ${MIN_SECRET_BYTES} bytes, this one has ${bytes.length}; ${KEYGEN_HINT}`,
    )
  }
  if (new Set(bytes).size < MIN_DISTINCT_BYTES) {
    throw new TypeError(`option ${where} is invalid: the secret is too repetitive to be random; ${KEYGEN_HINT}`)
  }
}

/**
 * The key id Frasco derives for a secret that has no explicit id: 8 base64url characters (48 bits)
 * of an HMAC of a fixed label under the secret. It reveals nothing usable about the secret and is
 * stable, so every server holding the same secret writes and expects the same id.
 *
 * @example
 * ```ts
 * deriveKeyId(process.env.SECRET!) // e.g. 'Qk3x9_aZ'
 * ```
 */
export function deriveKeyId(secret: Secret): string {
  const bytes = toBytes(secret, 'secret')
  const id = keyIdOf(bytes)
  bytes.fill(0)
  return id
}

function keyIdOf(secret: Buffer): string {
  return createHmac('sha256', secret).update('frasco/v1/key-id').digest().subarray(0, 6).toString('base64url')
}

function isEntry(value: unknown): value is KeyringEntry {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && 'secret' in value
}


/**
 * Validates secrets once and builds a keyring. Throws a `TypeError` naming the fix for an empty
 * list, a secret under 32 bytes or a repetitive one, an invalid or duplicate key id.
 *
 * @example
 * ```ts
 * const keyring = createKeyring([process.env.NEW_SECRET!, process.env.OLD_SECRET!])
 * keyring.current.id // the id new tokens carry
 * ```
 */
export function createKeyring(secrets: SecretsInput | Keyring): Keyring {
  if (isKeyring(secrets)) return secrets
  if (secrets === undefined) throw new TypeError(`option secrets is missing: give one secret or a list, newest first; ${KEYGEN_HINT}`)
  const list: ReadonlyArray<Secret | KeyringEntry> = Array.isArray(secrets) ? secrets : [secrets as Secret | KeyringEntry]
  if (list.length === 0) throw new TypeError(`option secrets is invalid: give at least one secret; ${KEYGEN_HINT}`)
  const keys: Key[] = []
  const byId = new Map<string, Key>()
  list.forEach((item, index) => {
    const where = Array.isArray(secrets) ? `secrets[${index}]` : 'secrets'
    const entry = isEntry(item) ? item : { secret: item }
    assertKnownKeys(entry, ENTRY_KEYS, `${where}.`)
    const secret = toBytes(entry.secret, where)
    assertStrong(secret, where)
    let id: string
    if (entry.id !== undefined) {
      if (typeof entry.id !== 'string' || !KEY_ID.test(entry.id)) {
        throw new TypeError(`option ${where}.id is invalid: use 1 to 32 characters from A-Z a-z 0-9 - _`)
      }
      id = entry.id
    } else {
      id = keyIdOf(secret)
    }
    if (byId.has(id)) {
      throw new TypeError(`option ${where} is invalid: key id '${id}' is already used by an earlier secret (the same secret twice?)`)
    }
    const key: Key = Object.freeze({ id, index })
    secretBytes.set(key, secret)
    keys.push(key)
    byId.set(id, key)
  })
  const current = keys[0] as Key
  // Stryker disable next-line BooleanLiteral: equivalent, isKeyring tests that the symbol is present, never its value (test/mutation-equivalents.md)
  return Object.freeze({ keys: Object.freeze(keys), current, get: (id: string) => byId.get(id), [kKeyring]: true })
}

const kKeyring = Symbol('frasco.keyring')

/**
 * Whether `value` is a keyring built by {@link createKeyring}.
 *
 * @example
 * ```ts
 * isKeyring(createKeyring(secret)) // true
 * ```
 */
export function isKeyring(value: unknown): value is Keyring {
  return typeof value === 'object' && value !== null && kKeyring in value
}

/**
 * Derives a 32-byte subkey for one use of a secret with HKDF-SHA256 (RFC 5869). The `use` label
 * separates algorithms (signing, encryption) and the purpose separates contexts, so a token made
 * for one purpose can never verify for another and no two uses share key material.
 *
 * @example
 * ```ts
 * const key = deriveSubkey(keyring.current, 'sign', 'password-reset')
 * ```
 */
export function deriveSubkey(key: Key, use: 'sign' | 'encrypt', purpose: string): Buffer {
  let cache = subkeys.get(key)
  if (cache === undefined) subkeys.set(key, (cache = new Map()))
  const label = `frasco/v1/${use}\0${purpose}`
  let subkey = cache.get(label)
  if (subkey === undefined) {
    subkey = Buffer.from(hkdfSync('sha256', secretOf(key), Buffer.alloc(0), Buffer.from(label, 'utf8'), 32))
    cache.set(label, subkey)
  }
  return subkey
}

// Subkeys per key and label, so many signers over one keyring derive each subkey once.
const subkeys = new WeakMap<Key, Map<string, Buffer>>()

/**
 * Reads a keyring from an environment variable: secrets separated by commas, newest first,
 * surrounding spaces ignored. Throws a `TypeError` when the variable is missing or a secret is weak.
 *
 * @example
 * ```ts
 * // FRASCO_SECRETS="<new>,<old>"
 * const sessions = createSessions({ secrets: secretsFromEnv() })
 * ```
 */
export function secretsFromEnv(name = 'FRASCO_SECRETS', env: Record<string, string | undefined> = process.env): string[] {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') {
    throw new TypeError(`option secrets is invalid: environment variable ${name} is not set; ${KEYGEN_HINT} and set ${name}`)
  }
  const secrets = raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
  createKeyring(secrets) // validate now, so a bad deploy fails at start-up with a clear message
  return secrets
}
