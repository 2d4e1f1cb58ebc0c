#!/usr/bin/env node
// Soak test: the demo (examples/login.ts, built) under many concurrent keep-alive clients for a
// bounded time, checking every answer. Not part of `npm test`. Run after the builds:
//
//   npm run build && npm run build:examples && node bench/soak.mjs      (or: npm run soak)
//   SOAK_SECONDS=600 SOAK_CLIENTS=100 node bench/soak.mjs
//
// The demo runs in a child process (so its RSS is its own) on 127.0.0.1, port 0. Each client is a
// simulated browser with its own keep-alive connection and cookie jar, looping: visit logged out,
// log in as its own unique name, see the flash once, read the page a few times, send a tampered
// or expired cookie now and then (which must read as logged out and never disturb its real
// session), log out. Every client knows who it logged in as, so a page naming anyone else, a
// flash shown twice or not at all, or a logged-in page after logout counts as a wrong session.
//
// Prints requests served, errors, 5xx and wrong sessions (all three must be 0), and the server's
// RSS at start and end; exits 1 if a must-be-zero figure is not zero. Stops by itself.

import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { Agent, createServer, request } from 'node:http'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(import.meta.url)

// -------------------------------------------------------------------------------------------------
// Child: the demo server
// -------------------------------------------------------------------------------------------------

if (process.argv[2] === '--server') {
  const { createApp } = await import('../build/examples/login.js')
  const app = createApp([process.env.SOAK_SECRET])
  const server = createServer(app)
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, rss: process.memoryUsage().rss }))
  process.on('message', (message) => {
    if (message === 'rss') process.send({ rss: process.memoryUsage().rss })
    if (message === 'stop') {
      server.close(() => process.exit(0))
      server.closeAllConnections()
    }
  })
  // Never outlive the parent.
  process.on('disconnect', () => process.exit(0))
} else {
  await main()
}

// -------------------------------------------------------------------------------------------------
// Parent: the clients
// -------------------------------------------------------------------------------------------------

async function main() {
  const seconds = Number(process.env.SOAK_SECONDS ?? 60)
  const clients = Number(process.env.SOAK_CLIENTS ?? 50)
  if (!(seconds > 0) || !Number.isInteger(clients) || clients < 1) {
    console.error('SOAK_SECONDS must be a positive number and SOAK_CLIENTS a positive integer')
    process.exit(2)
  }
  const secret = randomBytes(32).toString('base64url')

  // A token the demo's secret signed long ago, for the expired-cookie requests: the same manager
  // settings as the demo (a 14-day lifetime), signed 15 days in the past.
  const { createSessions } = await import('../dist/index.js')
  const twin = createSessions({ secrets: [secret], lifetime: 14 * 24 * 3600 })
  const expired = twin.sign({ username: 'someone-expired' }, { now: Date.now() - 15 * 24 * 3600 * 1000 })
  const forged = createSessions({ secrets: [randomBytes(32).toString('base64url')], lifetime: 3600 }).sign({ username: 'admin' })

  const child = fork(here, ['--server'], { env: { ...process.env, SOAK_SECRET: secret }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [{ port, rss: rssStart }] = await once(child, 'message')
  const serverRss = async () => {
    child.send('rss')
    const [{ rss }] = await once(child, 'message')
    return rss
  }

  const stats = { requests: 0, errors: 0, serverErrors: 0, wrong: 0, logins: 0, hostile: 0, byStatus: new Map() }
  const samples = []
  const deadline = Date.now() + seconds * 1000
  console.log(`soak: ${clients} keep-alive clients for ${seconds} s against the demo on http://127.0.0.1:${port}/ (server RSS ${mb(rssStart)})`)

  const sampler = setInterval(async () => {
    const rss = await serverRss()
    samples.push(rss)
    const elapsed = Math.round(seconds - (deadline - Date.now()) / 1000)
    if (samples.length % 2 === 0) console.log(`  ${elapsed} s: ${stats.requests} requests, server RSS ${mb(rss)}, errors ${stats.errors}, 5xx ${stats.serverErrors}, wrong ${stats.wrong}`)
  }, 5_000)

  const problems = []
  const note = (kind, detail) => {
    if (problems.length < 10) problems.push(`${kind}: ${detail}`)
  }
  await Promise.all(Array.from({ length: clients }, (_, id) => runClient(id, { port, deadline, stats, note, expired, forged })))
  clearInterval(sampler)

  const rssEnd = await serverRss()
  child.send('stop')
  await Promise.race([once(child, 'exit'), new Promise((resolve) => setTimeout(resolve, 2_000))])
  if (child.exitCode === null) child.kill()

  const statuses = [...stats.byStatus].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(', ')
  console.log('')
  console.log(`requests served:   ${stats.requests} (${Math.round(stats.requests / seconds)}/s; ${statuses})`)
  console.log(`logins:            ${stats.logins}; tampered or expired cookies sent: ${stats.hostile}`)
  console.log(`errors:            ${stats.errors}`)
  console.log(`5xx:               ${stats.serverErrors}`)
  console.log(`wrong sessions:    ${stats.wrong}`)
  console.log(`server RSS:        ${mb(rssStart)} at start, ${mb(rssEnd)} at end (peak sampled ${mb(Math.max(rssStart, rssEnd, ...samples))})`)
  for (const problem of problems) console.log(`  ${problem}`)
  const failed = stats.errors + stats.serverErrors + stats.wrong > 0 || stats.requests === 0
  console.log(failed ? 'FAIL' : 'OK')
  process.exit(failed ? 1 : 0)
}

function mb(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** One browser: its own keep-alive connection and cookie jar. */
async function runClient(id, { port, deadline, stats, note, expired, forged }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  let cookie // the session cookie value this browser holds, or undefined
  let round = 0

  async function send(method, path, { cookieValue = cookie, body, apply = true } = {}) {
    const headers = {}
    if (cookieValue !== undefined) headers.cookie = `session=${cookieValue}`
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      headers['content-length'] = Buffer.byteLength(body)
    }
    let response
    try {
      response = await new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk) => (text += chunk))
          res.on('end', () => resolve({ status: res.statusCode, body: text, setCookies: res.headers['set-cookie'] ?? [] }))
          res.on('error', reject)
        })
        req.setTimeout(10_000, () => req.destroy(new Error('no response within 10 s')))
        req.on('error', reject)
        req.end(body)
      })
    } catch (error) {
      stats.errors++
      note('error', `${method} ${path}: ${error.message}`)
      return undefined
    }
    stats.requests++
    stats.byStatus.set(response.status, (stats.byStatus.get(response.status) ?? 0) + 1)
    if (response.status >= 500) {
      stats.serverErrors++
      note('5xx', `${method} ${path} -> ${response.status}`)
    }
    if (apply) {
      for (const header of response.setCookies) {
        const [pair] = header.split(';', 1)
        const name = pair.slice(0, pair.indexOf('='))
        if (name !== 'session') continue
        cookie = /;\s*Max-Age=0\b/i.test(header) ? undefined : pair.slice(pair.indexOf('=') + 1)
      }
    }
    return response
  }

  // Checks a home page against what this browser should see; anything else is a wrong session.
  function expectHome(response, user, flash, what) {
    if (response === undefined) return
    if (response.status !== 200) {
      if (response.status < 500) {
        stats.errors++
        note('error', `${what}: status ${response.status}`)
      }
      return
    }
    const shown = /Logged in as ([^<]*)</.exec(response.body)?.[1]
    const flashes = response.body.split('You were logged in').length - 1
    if (shown !== user || flashes !== (flash ? 1 : 0)) {
      stats.wrong++
      note('wrong', `${what}: expected ${user ?? 'logged out'}${flash ? ' with the flash' : ''}, saw ${shown ?? 'logged out'} with ${flashes} flash(es)`)
    }
  }

  function expectStatus(response, status, what) {
    if (response !== undefined && response.status !== status && response.status < 500) {
      stats.errors++
      note('error', `${what}: status ${response.status}, expected ${status}`)
    }
  }

  while (Date.now() < deadline) {
    round++
    const user = `user-${id}-${round}`

    expectHome(await send('GET', '/'), undefined, false, 'before login')

    const login = await send('POST', '/login', { body: `username=${encodeURIComponent(user)}` })
    expectStatus(login, 303, 'login')
    stats.logins++

    // The first page after login shows the flash once, and rewrites the cookie without it.
    expectHome(await send('GET', '/'), user, true, 'first page after login')

    const reads = 2 + (round % 4)
    for (let i = 0; i < reads && Date.now() < deadline; i++) {
      expectHome(await send('GET', '/'), user, false, 'reading')

      if ((id + round + i) % 3 === 0 && cookie !== undefined) {
        // Hostile cookies, sent without touching this browser's jar: each must read as logged out.
        stats.hostile++
        const at = 10 + ((round * 7 + i) % (cookie.length - 20))
        const flipped = cookie.slice(0, at) + (cookie[at] === 'A' ? 'B' : 'A') + cookie.slice(at + 1)
        const hostile = [flipped, cookie.slice(0, -3), expired, forged, `${cookie}x`, 'garbage'][(round + i) % 6]
        expectHome(await send('GET', '/', { cookieValue: hostile, apply: false }), undefined, false, 'a tampered or expired cookie')
      }
    }

    const logout = await send('POST', '/logout')
    expectStatus(logout, 303, 'logout')
    if (cookie !== undefined) {
      stats.wrong++
      note('wrong', `logout left a session cookie for ${user}`)
      cookie = undefined
    }
    expectHome(await send('GET', '/'), undefined, false, 'after logout')
  }
  agent.destroy()
}
