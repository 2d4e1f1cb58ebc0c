// The floors: the same work written directly on node:crypto, with nothing a library adds (no key
// ids, no timestamps in the MAC, no canonical-encoding checks, no tagged JSON, no cookie
// validation). A ratio to a floor is the price of everything Frasco does beyond the bare minimum.

import { Buffer } from 'node:buffer'
import * as nodeCrypto from 'node:crypto'
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto'
import { deflateSync, inflateSync } from 'node:zlib'

export const COOKIE_NAME = 'session'
// Fixed attributes, the same Frasco writes for createSessions({ lifetime: 14 days, persistent: true })
// over HTTP.
export const MAX_AGE = 14 * 24 * 3600
const ATTRIBUTES = `; Path=/; Max-Age=${MAX_AGE}; HttpOnly; SameSite=Lax`

function cookieValue(header, name) {
  const key = `${name}=`
  const at = header.startsWith(key) ? 0 : header.indexOf(`; ${key}`) + 2
  if (at === 1) return undefined
  const start = at + key.length
  const end = header.indexOf(';', start)
  return header.slice(start, end === -1 ? header.length : end)
}

// ---------------------------------------------------------------------------------------------
// HMAC-SHA256: token = base64url(JSON) "." base64url(HMAC-SHA256(key, body))

export function createHmacFloor(secret = randomBytes(32), { primitives = 'createHmac' } = {}) {
  // A KeyObject, created once (bench/levers.mjs compares it with a raw Buffer key).
  const key = createSecretKey(secret)
  const sameAsFrasco = primitives === 'frasco'
  const mac = sameAsFrasco ? oneShotHmac(secret) : (text) => createHmac('sha256', key).update(text).digest('base64url')
  const tagsEqual = sameAsFrasco ? xorEqual : (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'))

  function encode(data) {
    const body = Buffer.from(JSON.stringify(data), 'utf8').toString('base64url')
    return `${body}.${mac(body)}`
  }

  function decode(token) {
    const dot = token.indexOf('.')
    if (dot === -1) return undefined
    const body = token.slice(0, dot)
    const tag = token.slice(dot + 1)
    if (!tagsEqual(mac(body), tag)) return undefined
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  }

  /** The session in a Cookie header, or undefined. */
  function read(header) {
    const token = typeof header === 'string' ? cookieValue(header, COOKIE_NAME) : undefined
    return token === undefined ? undefined : decode(token)
  }

  /** Cookie header in, one Set-Cookie value out, one key changed in between. */
  function roundTrip(header, key, value) {
    const data = read(header) ?? {}
    data[key] = value
    return `${COOKIE_NAME}=${encode(data)}${ATTRIBUTES}`
  }

  return { encode, decode, read, roundTrip }
}

// The primitives Frasco's f1 format uses (src/lib/hmac.ts, src/lib/compare.ts), written out
// independently: HMAC-SHA256 as two crypto.hash calls over key blocks prepared once, and tags
// compared as strings with an XOR loop. A floor on these shows what Frasco's own machinery costs,
// with the cryptography done the same way on both sides.
function oneShotHmac(secret) {
  const inner = Buffer.alloc(64 + 4096)
  const outer = Buffer.alloc(64 + 32)
  for (let i = 0; i < 64; i++) {
    inner[i] = (secret[i] ?? 0) ^ 0x36
    outer[i] = (secret[i] ?? 0) ^ 0x5c
  }
  return (text) => {
    const length = 64 + inner.write(text, 64, 'utf8')
    outer.write(nodeCrypto.hash('sha256', inner.subarray(0, length), 'latin1'), 64, 'latin1')
    return nodeCrypto.hash('sha256', outer, 'base64url')
  }
}

function xorEqual(a, b) {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
}

// ---------------------------------------------------------------------------------------------
// AES-256-GCM: token = base64url(nonce[12] | ciphertext | tag[16])
//
// The floor of the encrypted figures (2a–2f), both formats: encode is JSON.stringify, a pooled
// nonce, createCipheriv with a KeyObject made once, update + final + getAuthTag, one
// Buffer.concat and base64url; decode is base64url, a length check, createDecipheriv with the
// tag length pinned, setAuthTag, update + final (a wrong tag is `undefined`, not a throw) and
// JSON.parse; the round trip finds the cookie, decodes, changes one key, encodes and writes the
// Set-Cookie. No AAD, no key ids, no times, no canonical-spelling check: what Frasco adds.

/** 96-bit nonces from a buffer refilled by randomFillSync every `size` nonces. */
export function createNoncePool(size = 256) {
  const pool = Buffer.allocUnsafe(size * 12)
  let next = pool.length
  return () => {
    if (next === pool.length) {
      randomFillSync(pool)
      next = 0
    }
    const nonce = pool.subarray(next, next + 12)
    next += 12
    return nonce
  }
}

export function createGcmFloor({ secret = randomBytes(32), nonces = 'pool' } = {}) {
  const key = createSecretKey(secret)
  const pool = createNoncePool()
  const nonce = nonces === 'pool' ? pool : () => randomBytes(12)

  function encode(data) {
    const iv = nonce()
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    const first = cipher.update(JSON.stringify(data), 'utf8')
    const last = cipher.final()
    return Buffer.concat([iv, first, last, cipher.getAuthTag()]).toString('base64url')
  }

  function decode(token) {
    const sealed = Buffer.from(token, 'base64url')
    if (sealed.length < 28) return undefined
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12), { authTagLength: 16 })
    decipher.setAuthTag(sealed.subarray(sealed.length - 16))
    const first = decipher.update(sealed.subarray(12, sealed.length - 16))
    try {
      decipher.final()
    } catch {
      return undefined
    }
    return JSON.parse(first.toString('utf8'))
  }

  function roundTrip(header, key, value) {
    const token = cookieValue(header, COOKIE_NAME)
    const data = token === undefined ? {} : (decode(token) ?? {})
    data[key] = value
    return `${COOKIE_NAME}=${encode(data)}${ATTRIBUTES}`
  }

  return { encode, decode, roundTrip }
}

// ---------------------------------------------------------------------------------------------
// itsdangerous URLSafeTimedSerializer as Flask configures it: HMAC-SHA1, key = HMAC(secret, salt),
// token = base64url(sorted compact JSON) "." base64url(int_to_bytes(ts)) "." base64url(HMAC-SHA1)
// No zlib: bench/levers.mjs measures what itsdangerous's always-try-zlib would add.

// Python's json.dumps(sort_keys=True, separators=(',', ':')) for JSON-only data. (Flask also
// escapes non-ASCII; the benchmark payload is ASCII, so that costs nothing on either side.)
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (typeof value !== 'object' || value === null) return value
  const sorted = {}
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key])
  return sorted
}

function timestampBytes(seconds) {
  const bytes = Buffer.allocUnsafe(8)
  bytes.writeBigUInt64BE(BigInt(seconds))
  let i = 0
  while (i < 7 && bytes[i] === 0) i++
  return bytes.subarray(i)
}

export function createItsdangerousFloor({ secret, salt = 'cookie-session', maxAge = 31 * 24 * 3600, compress = false } = {}) {
  const key = createSecretKey(createHmac('sha1', secret).update(salt).digest())
  const mac = (text) => createHmac('sha1', key).update(text).digest('base64url')

  function encode(data) {
    const json = Buffer.from(JSON.stringify(sortKeys(data)), 'utf8')
    let payload
    if (compress) {
      const deflated = deflateSync(json)
      if (deflated.length < json.length - 1) payload = '.' + deflated.toString('base64url')
    }
    payload ??= json.toString('base64url')
    const signed = `${payload}.${timestampBytes(Math.floor(Date.now() / 1000)).toString('base64url')}`
    return `${signed}.${mac(signed)}`
  }

  function decode(token) {
    const cut = token.lastIndexOf('.')
    if (cut === -1) return undefined
    const signed = token.slice(0, cut)
    const tag = token.slice(cut + 1)
    const expected = mac(signed)
    if (tag.length !== expected.length || !timingSafeEqual(Buffer.from(tag, 'latin1'), Buffer.from(expected, 'latin1'))) return undefined
    const split = signed.lastIndexOf('.')
    let issued = 0
    for (const byte of Buffer.from(signed.slice(split + 1), 'base64url')) issued = issued * 256 + byte
    if (Math.floor(Date.now() / 1000) - issued > maxAge) return undefined
    const payload = signed.slice(0, split)
    const bytes = payload.startsWith('.') ? inflateSync(Buffer.from(payload.slice(1), 'base64url')) : Buffer.from(payload, 'base64url')
    return JSON.parse(bytes.toString('utf8'))
  }

  return { encode, decode }
}
