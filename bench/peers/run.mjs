#!/usr/bin/env node
// Optional peer comparison: the same session round trip (read the Cookie header, verify, decode,
// change one key, encode, sign or seal, produce Set-Cookie) through Frasco and through other
// libraries, each against the raw node:crypto floor of bench/floors.mjs. Not part of `npm run bench`.
//
//   npm run build                 # at the repository root: Frasco from dist/
//   cd bench/peers && npm install && node run.mjs

import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import cookieSession from 'cookie-session'
import signature from 'cookie-signature'
import Fastify from 'fastify'
import secureSession from '@fastify/secure-session'
import { sealData, unsealData } from 'iron-session'
import { createSessions } from '../../dist/index.js'
import { sessionMiddleware } from '../../dist/adapters/node.js'
import { SESSION_LIFETIME, cookieHeader, typicalPayload } from '../cases.mjs'
import { COOKIE_NAME, MAX_AGE, createGcmFloor, createHmacFloor } from '../floors.mjs'
import { compare, median, quantile } from '../lib/measure.mjs'
import { mockRequest, mockResponse } from '../lib/mocks.mjs'

const payload = typicalPayload()
const secret = randomBytes(32).toString('base64url')
const floor = createHmacFloor()
const floorHeader = cookieHeader(floor.encode(payload))
const floorRoundTrip = () => floor.roundTrip(floorHeader, 'userId', 43)
const gcm = createGcmFloor()
const gcmHeader = cookieHeader(gcm.encode(payload))
const gcmRoundTrip = () => gcm.roundTrip(gcmHeader, 'userId', 43)

function cookieValue(header, name) {
  const at = header.indexOf(`${name}=`)
  const start = at + name.length + 1
  const end = header.indexOf(';', start)
  return header.slice(start, end === -1 ? header.length : end)
}

const peers = []

// Frasco, as the library API and through its Connect-style middleware (same mocks as cookie-session).
{
  const sessions = createSessions({ secrets: [secret], ...SESSION_LIFETIME })
  const header = cookieHeader(sessions.sign(payload))
  peers.push({
    name: 'frasco: sessions.read + set + commit',
    floor: 'hmac',
    run: () => {
      const s = sessions.read(header)
      s.set('userId', 43)
      return sessions.commit(s).setCookie[0]
    },
  })
  const middleware = sessionMiddleware(sessions)
  const next = () => {}
  peers.push({
    name: 'frasco: sessionMiddleware (mock req/res)',
    floor: 'hmac',
    run: () => {
      const req = mockRequest(header)
      const res = mockResponse()
      middleware(req, res, next)
      req.session.userId = 43
      res.writeHead(200)
      return res.headers['set-cookie']
    },
  })
  const encrypted = createSessions({ secrets: [secret], ...SESSION_LIFETIME, encrypt: true })
  if (encrypted.sign({ a: 1 }).startsWith('e1.')) {
    const eheader = cookieHeader(encrypted.sign(payload))
    peers.push({
      name: 'frasco: encrypted sessions (e1)',
      floor: 'gcm',
      run: () => {
        const s = encrypted.read(eheader)
        s.set('userId', 43)
        return encrypted.commit(s).setCookie[0]
      },
    })
  }
}

// cookie-signature: HMAC-SHA256 (base64) over the value, as Express's signed cookies use it; JSON,
// base64 and the cookie text are written as in the floor.
{
  const value = `s:${signature.sign(Buffer.from(JSON.stringify(payload)).toString('base64'), secret)}`
  const header = cookieHeader(encodeURIComponent(value))
  peers.push({
    name: 'cookie-signature (+ JSON/base64 by hand)',
    floor: 'hmac',
    run: () => {
      const raw = decodeURIComponent(cookieValue(header, COOKIE_NAME))
      const unsigned = signature.unsign(raw.slice(2), secret)
      if (unsigned === false) throw new Error('cookie-signature rejected its own cookie')
      const data = JSON.parse(Buffer.from(unsigned, 'base64').toString('utf8'))
      data.userId = 43
      const out = `s:${signature.sign(Buffer.from(JSON.stringify(data)).toString('base64'), secret)}`
      return `${COOKIE_NAME}=${encodeURIComponent(out)}; Path=/; Max-Age=${MAX_AGE}; HttpOnly; SameSite=Lax`
    },
  })
}

// cookie-session (Express): keygrip HMAC-SHA1 in a second `.sig` cookie, base64 JSON.
{
  const middleware = cookieSession({ name: COOKIE_NAME, keys: [secret], maxAge: MAX_AGE * 1000 })
  const next = () => {}
  // Let cookie-session write the first cookie pair.
  const req0 = mockRequest('')
  const res0 = mockResponse()
  middleware(req0, res0, next)
  Object.assign(req0.session, payload)
  res0.writeHead(200)
  const header = [].concat(res0.headers['set-cookie']).map((c) => c.slice(0, c.indexOf(';'))).join('; ')
  peers.push({
    name: 'cookie-session (mock req/res)',
    floor: 'hmac',
    run: () => {
      const req = mockRequest(header)
      const res = mockResponse()
      middleware(req, res, next)
      if (req.session.username !== 'admin') throw new Error('cookie-session did not read its cookie')
      req.session.userId = 43
      res.writeHead(200)
      return res.headers['set-cookie']
    },
  })
}

// @fastify/secure-session: libsodium secretbox (XSalsa20-Poly1305) through sodium-native.
try {
  const app = Fastify()
  await app.register(secureSession, { key: randomBytes(32), cookieName: COOKIE_NAME, expiry: MAX_AGE })
  await app.ready()
  const session = app.createSecureSession({ ...payload })
  const header = cookieHeader(encodeURIComponent(app.encodeSecureSession(session)))
  peers.push({
    name: '@fastify/secure-session (decode/encode)',
    floor: 'gcm',
    run: () => {
      const s = app.decodeSecureSession(decodeURIComponent(cookieValue(header, COOKIE_NAME)))
      if (s === null || s.get('username') !== 'admin') throw new Error('secure-session did not read its cookie')
      s.set('userId', 43)
      return `${COOKIE_NAME}=${encodeURIComponent(app.encodeSecureSession(s))}; Path=/; Max-Age=${MAX_AGE}; HttpOnly; SameSite=Lax`
    },
  })
} catch (error) {
  console.log(`@fastify/secure-session skipped: ${error.message}`)
}

// iron-session: AES-256-CBC + HMAC-SHA256 (iron), keys from PBKDF2, through WebCrypto; async.
{
  const password = randomBytes(32).toString('hex')
  const header = cookieHeader(await sealData(payload, { password, ttl: MAX_AGE }))
  peers.push({
    name: 'iron-session sealData/unsealData (async)',
    floor: 'gcm',
    async: true,
    run: async () => {
      const data = await unsealData(cookieValue(header, COOKIE_NAME), { password, ttl: MAX_AGE })
      if (data.username !== 'admin') throw new Error('iron-session did not read its cookie')
      data.userId = 43
      return `${COOKIE_NAME}=${await sealData(data, { password, ttl: MAX_AGE })}; Path=/; Max-Age=${MAX_AGE}; HttpOnly; SameSite=Lax`
    },
  })
}

// Interleaved rounds for async functions: each call awaited, the floor awaited the same way.
async function compareAsync(subject, base, { rounds = 15, roundMs = 50 } = {}) {
  const time = async (fn, n) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await fn()
    return Number(process.hrtime.bigint() - start) / n
  }
  const calibrate = async (fn) => {
    let n = 8
    for (;;) {
      const start = performance.now()
      for (let i = 0; i < n; i++) await fn()
      const elapsed = performance.now() - start
      if (elapsed >= roundMs / 4) return Math.max(1, Math.round((n * roundMs) / elapsed))
      n *= 2
    }
  }
  await time(subject, 200)
  await time(base, 200)
  const ns = await calibrate(subject)
  const nb = await calibrate(base)
  const a = []
  const b = []
  const ratios = []
  for (let r = 0; r < rounds; r++) {
    const x = r % 2 === 0 ? await time(subject, ns) : undefined
    const y = await time(base, nb)
    const z = x ?? (await time(subject, ns))
    a.push(z)
    b.push(y)
    ratios.push(z / y)
  }
  return { subjectNs: median(a), floorNs: median(b), ratio: median(ratios), ratioLow: quantile(ratios, 0.25), ratioHigh: quantile(ratios, 0.75) }
}

const cpus = os.cpus()
console.log(`Peers: ${cpus.length} × ${cpus[0]?.model.trim()}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`)
console.log(`floors: hmac = HMAC-SHA256 round trip, gcm = AES-256-GCM round trip (bench/floors.mjs)\n`)
const results = []
for (const peer of peers) {
  const base = peer.floor === 'gcm' ? gcmRoundTrip : floorRoundTrip
  const r = peer.async
    ? await compareAsync(peer.run, async () => base())
    : compare(peer.run, base, { rounds: 15, roundMs: 40, warmupMs: 300 })
  results.push({ ...peer, ...r })
  console.log(
    `${peer.name.padEnd(44)} ${(r.subjectNs / 1000).toFixed(2).padStart(7)} µs   floor(${peer.floor}) ${(r.floorNs / 1000).toFixed(2).padStart(6)} µs   ` +
      `${r.ratio.toFixed(2)}× (${r.ratioLow.toFixed(2)}–${r.ratioHigh.toFixed(2)})`,
  )
}
