#!/usr/bin/env node
// What XAES-256-GCM adds per token (docs/performance.md, "x1 against e1"): the key derivation
// alone, and an XAES-256-GCM seal against an AES-256-GCM seal with a fixed KeyObject, 150 bytes.
// Each figure is the fastest of 5 runs of 100,000 calls. Run after `npm run build`:
//
//   node bench/xaes.mjs

import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto'
import { XaesKey } from '../dist/lib/xaes.js'

const key = randomBytes(32)
const keyObject = createSecretKey(key)
const nonce = randomBytes(24)
const plaintext = randomBytes(150)
const aad = randomBytes(20)
const xaes = new XaesKey(key)

function gcmSeal() {
  const cipher = createCipheriv('aes-256-gcm', keyObject, nonce.subarray(12))
  cipher.setAAD(aad)
  const first = cipher.update(plaintext)
  const last = cipher.final()
  return Buffer.concat([first, last, cipher.getAuthTag()])
}

const figures = [
  ['XAES key derivation (deriveKey)', () => xaes.deriveKey(nonce)],
  ['XAES-256-GCM seal, 150 bytes', () => xaes.seal(nonce, plaintext, aad)],
  ['AES-256-GCM seal, 150 bytes', gcmSeal],
]

function nsPerCall(fn, n = 100_000) {
  for (let i = 0; i < 10_000; i++) fn()
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn()
  return Number(process.hrtime.bigint() - started) / n
}

const best = new Map()
for (let run = 0; run < 5; run++) {
  for (const [name, fn] of figures) best.set(name, Math.min(best.get(name) ?? Infinity, nsPerCall(fn)))
  globalThis.gc?.()
}
for (const [name, ns] of best) console.log(`${name.padEnd(34)}${(ns / 1000).toFixed(2).padStart(8)} µs`)
