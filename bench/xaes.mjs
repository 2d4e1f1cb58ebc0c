#!/usr/bin/env node
// Where the encrypted formats' time goes beyond the AES-256-GCM floor (docs/performance.md,
// "Encrypted encode, decode and round trip"): the whole operations (x1, e1, the floor, the signed
// round trip for scale) and the pieces x1 adds, each timed alone, all in one process in
// alternating rounds (the order reversing every round). Per piece: ns per call, the median round
// and the fastest (on a busy machine the fastest is the less disturbed). Run after
// `npx tsc -p tsconfig.build.json` (or `npm run build`):
//
//   node --expose-gc bench/xaes.mjs [--rounds=N]      # about 40 s with the default 31 rounds

import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { MAX_AGE, createGcmFloor } from './floors.mjs'
import { cookieHeader, typicalPayload } from './cases.mjs'

const { createKeyring, createSerializer, createSessions } = await import('../dist/index.js')
const { XaesKey } = await import('../dist/lib/xaes.js')
const { SealedCore } = await import('../dist/lib/seal.js')
const { ObjectCodec } = await import('../dist/lib/codec.js')
const { decodeField } = await import('../dist/lib/token.js')

const roundsArg = process.argv.find((a) => a.startsWith('--rounds='))
const rounds = roundsArg === undefined ? 31 : Number(roundsArg.slice('--rounds='.length))
if (!(Number.isInteger(rounds) && rounds > 0)) throw new TypeError('usage: node --expose-gc bench/xaes.mjs [--rounds=N]')

const payload = typicalPayload()
const secrets = [randomBytes(32).toString('base64url')]
const purpose = 'session:session'
const serializer = createSerializer({ secrets, purpose, encrypt: true })
const token = serializer.sign(payload, { expiresIn: MAX_AGE })
const sessions = createSessions({ secrets, lifetime: MAX_AGE, persistent: true, encrypt: true })
const header = cookieHeader(sessions.sign(payload))
const signed = createSessions({ secrets, lifetime: MAX_AGE, persistent: true })
const signedHeader = cookieHeader(signed.sign(payload))
const e1 = new ObjectCodec(new SealedCore(createKeyring(secrets), { purpose, clockTolerance: 60, maxTokenLength: 65_536 }), Number.POSITIVE_INFINITY, 131_072)
const now = () => Math.floor(Date.now() / 1000)
const e1Token = e1.encode(payload, now(), now() + MAX_AGE)
const floor = createGcmFloor({ nonces: 'pool' })
const floorToken = floor.encode(payload)
const floorHeader = cookieHeader(floorToken)
const xaes = new XaesKey(randomBytes(32))
const nonce = randomBytes(24)
const nonces = randomBytes(128 * 24)
const keyObject = createSecretKey(randomBytes(32))
const keyBytes = randomBytes(32)
const iv = randomBytes(12)
const aad = Buffer.from(`x1.${createKeyring(secrets).current.id}\0${purpose}`, 'latin1')
const field = token.slice(token.lastIndexOf('.') + 1)
const ecb = createCipheriv('aes-256-ecb', keyObject, null).setAutoPadding(false)
const blocks = randomBytes(32)
if (!token.startsWith('x1.') || serializer.unsign(token).csrf !== payload.csrf || !e1Token.startsWith('e1.')) throw new Error('bench/xaes: fixtures are broken')

const pieces = {
  'floor: encode': () => floor.encode(payload),
  'x1: encode (createSerializer sign)': () => serializer.sign(payload, { expiresIn: MAX_AGE }),
  'e1: encode (the old core)': () => {
    const at = now()
    return e1.encode(payload, at, at + MAX_AGE)
  },
  'floor: decode': () => floor.decode(floorToken),
  'x1: decode (createSerializer unsign)': () => serializer.unsign(token),
  'e1: decode (the old core)': () => e1.decode(e1Token, now(), undefined),
  'floor: round trip': () => floor.roundTrip(floorHeader, 'userId', 43),
  'x1: round trip (sessions)': () => {
    const session = sessions.read(header)
    session.set('userId', 43)
    return sessions.commit(session).setCookie[0]
  },
  'signed: round trip (sessions)': () => {
    const session = signed.read(signedHeader)
    session.set('userId', 43)
    return signed.commit(session).setCookie[0]
  },
  'XAES key derivation, one (open)': () => xaes.deriveKey(nonce),
  'XAES key derivation, per key of 128 (seal)': () => xaes.deriveKeys(nonces, 128),
  'AES-256-ECB update of 32 bytes': () => ecb.update(blocks),
  'GCM decipher, KeyObject key': () => createDecipheriv('aes-256-gcm', keyObject, iv, { authTagLength: 16 }),
  'GCM decipher, Buffer key (x1)': () => createDecipheriv('aes-256-gcm', keyBytes, iv, { authTagLength: 16 }),
  'GCM cipher': () => createCipheriv('aes-256-gcm', keyObject, iv),
  'GCM cipher + setAAD': () => createCipheriv('aes-256-gcm', keyObject, iv).setAAD(aad),
  'token field, canonical decode': () => decodeField(field, true),
  'token field, lenient decode': () => decodeField(field),
}
// Per call, not per batch of 128.
const perCall = { 'XAES key derivation, per key of 128 (seal)': 128 }

const names = Object.keys(pieces)
const counts = {}
let kept = 0
for (const name of names) {
  const fn = pieces[name]
  for (let i = 0; i < 5000; i++) kept ^= fn() === undefined ? 0 : 1
  // Calls per round so that a round lasts about 8 ms.
  for (let n = 16; ; n *= 2) {
    const start = performance.now()
    for (let i = 0; i < n; i++) kept ^= fn() === undefined ? 0 : 1
    const ms = performance.now() - start
    if (ms > 2) {
      counts[name] = Math.max(1, Math.round((n * 8) / ms))
      break
    }
  }
}
const loadBefore = os.loadavg()[0]
const samples = Object.fromEntries(names.map((name) => [name, []]))
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 === 0 ? names : [...names].reverse()) {
    const fn = pieces[name]
    const n = counts[name]
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) kept ^= fn() === undefined ? 0 : 1
    samples[name].push(Number(process.hrtime.bigint() - start) / n / (perCall[name] ?? 1))
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]
console.log(`${rounds} rounds of ~8 ms per piece, alternating; load average ${loadBefore.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}; ns per call`)
console.log(`${'piece'.padEnd(44)}${'median'.padStart(8)}${'fastest'.padStart(9)}`)
for (const name of names) console.log(`${name.padEnd(44)}${String(Math.round(median(samples[name]))).padStart(8)}${String(Math.round(Math.min(...samples[name]))).padStart(9)}`)
// Read once, so that no call above can be left out as unused.
if (kept === -1) console.log(kept)
