// Figure 5: requests per second of a node:http server answering the demo's home page with the
// session middleware (`withSessions`), without any session, and with a hand-written floor session
// (the cookie verified and parsed with raw node:crypto). A load generator (bench/lib/load.mjs) runs
// in a child process over loopback keep-alive connections; the sides take turns.

import { once } from 'node:events'
import { createServer, get } from 'node:http'
import { median } from './lib/measure.mjs'
import { withSessions } from '../dist/adapters/node.js'
import { pinCpus, startLoadGenerator } from './lib/machine.mjs'

// The GET / branch of examples/login.ts, same behaviour: parse the URL, escape the user name,
// write the same page. Every server runs it; only where `username` comes from differs.
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function page(res, body, status = 200) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' })
  res.end(`<!doctype html><meta charset="utf-8"><title>Frasco demo</title>${body}`)
}

function home(req, res, username) {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  if (path === '/' && req.method === 'GET') {
    if (username !== undefined) {
      return page(res, `<p>Logged in as ${escapeHtml(username)}</p><form method="post" action="/logout"><button>Log out</button></form>`)
    }
    return page(res, '<p>You are not logged in</p><p><a href="/login">Log in</a></p>')
  }
  return page(res, '<p>Not found</p>', 404)
}

async function listen(handler) {
  const server = createServer(handler)
  server.keepAliveTimeout = 30_000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

function fetchPage(port, cookie) {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', headers: { cookie } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }))
    }).on('error', reject)
  })
}

/**
 * Runs `rounds` rounds in which each server gets `ms` of load (the order rotating every round),
 * after a warm-up of each. Returns per side the median requests/s and server CPU µs per request,
 * and the medians of the per-round ratios sessions/plain, floor/plain and sessions/floor.
 */
export async function benchHttp({ sessions, cookieHeader, floor, floorCookieHeader, ms = 3000, rounds = 3, warmupMs = 1000, connections = 8 }) {
  const sides = {
    frasco: { cookie: cookieHeader, server: await listen(withSessions(sessions, (req, res) => home(req, res, req.session.get('username')))) },
    plain: { cookie: cookieHeader, server: await listen((req, res) => home(req, res, 'admin')) },
    floor: {
      cookie: floorCookieHeader,
      server: await listen((req, res) => {
        // The least a signed-cookie session does on a read-only request: verify, parse, Vary.
        const data = floor.read(req.headers.cookie)
        res.setHeader('Vary', 'Cookie')
        home(req, res, data?.username)
      }),
    },
  }
  const pinned = pinCpus()
  const child = startLoadGenerator(pinned)
  const run = async (side, duration) => {
    const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${side.cookie}\r\nConnection: keep-alive\r\n\r\n`
    const cpu = process.cpuUsage()
    child.send({ type: 'run', port: side.server.address().port, ms: duration, connections, request })
    const [result] = await once(child, 'message')
    const used = process.cpuUsage(cpu)
    if (result.errors > 0) throw new Error(`load generator saw ${result.errors} errors`)
    return { rps: (result.completed * 1000) / result.ms, cpuPerRequest: (used.user + used.system) / result.completed }
  }
  try {
    // Every server must answer the same page, and the session sides must really have read a session.
    const pages = {}
    for (const [name, side] of Object.entries(sides)) pages[name] = await fetchPage(side.server.address().port, side.cookie)
    for (const [name, page] of Object.entries(pages)) {
      if (page.status !== 200 || !page.body.includes('Logged in as admin') || page.body !== pages.plain.body) {
        throw new Error(`the ${name} server answered ${page.status} ${JSON.stringify(page.body)}`)
      }
    }
    const names = Object.keys(sides)
    for (const name of names) await run(sides[name], warmupMs)
    const samples = Object.fromEntries(names.map((name) => [name, []]))
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length])
      for (const name of order) samples[name].push(await run(sides[name], ms))
    }
    const ratio = (a, b) => median(samples[a].map((s, i) => s.rps / samples[b][i].rps))
    const spread = (a, b) => samples[a].map((s, i) => s.rps / samples[b][i].rps)
    return {
      rps: Object.fromEntries(names.map((name) => [name, median(samples[name].map((s) => s.rps))])),
      cpuPerRequest: Object.fromEntries(names.map((name) => [name, median(samples[name].map((s) => s.cpuPerRequest))])),
      ratio: ratio('frasco', 'plain'),
      ratioLow: Math.min(...spread('frasco', 'plain')),
      ratioHigh: Math.max(...spread('frasco', 'plain')),
      floorRatio: ratio('floor', 'plain'),
      versusFloor: ratio('frasco', 'floor'),
      connections,
      ms,
      rounds,
      pinned: pinned === undefined ? undefined : { server: pinned.server, load: pinned.load },
      vary: pages.frasco.headers.vary,
      setCookie: pages.frasco.headers['set-cookie'] !== undefined,
    }
  } finally {
    pinned?.restore()
    child.send({ type: 'exit' })
    for (const side of Object.values(sides)) {
      side.server.close()
      side.server.closeAllConnections()
    }
  }
}
