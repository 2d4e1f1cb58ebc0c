#!/usr/bin/env node
// Per-request cost of a session library in a real server, beside its peers (issue 17, item 1).
//
// The same small app in every framework and library (bench/peers/apps.mjs): GET / reads `count`
// from the session, stores count + 1, answers `count: N` as text; and, per framework, the same
// server without sessions. Each server runs in this process on 127.0.0.1; the load generator of
// bench/lib/load.mjs runs in a child process (8 keep-alive connections, one request in flight on
// each, every request carrying the session cookie the server set). On Linux with 2+ CPUs this
// process is pinned to CPU 0 and the load generator (and Redis) to CPU 1, as bench/http.mjs does.
// The sides of a framework take turns: a warm-up of each, then `rounds` rounds in which each gets
// `ms` of load, the order rotating every round.
//
// Per side: requests/s, server CPU per request (process.cpuUsage around a round ÷ the requests it
// completed, all threads of this process), and the CPU a session adds over the framework's server
// without sessions, as the median of the per-round differences (both measured in the same round),
// with its ratio to the floor session (node:http) or to Frasco (the other frameworks). Before the
// rounds, each side is checked to really read and write the session: a request without a cookie
// answers `count: 1` and sets one, the cookie fed back gives `count: 2`, then `count: 3`. The load
// then replays the `count: 2` cookie, and after every round one more request checks the server
// still reads it (`count: 3` again for a cookie session, a higher count for a server-side one).
//
// Setup: the library built at the root (`npx tsc -p tsconfig.build.json`, or `npm run build`), and
// the frameworks and peers installed in bench/peers (never in the library's package.json):
//
//   cd bench/peers && npm install && cd ../..
//   node bench/http-peers.mjs [--quick] [--only=node,express,fastify,koa,hono,store]
//                             [--rounds=N] [--ms=N] [--json=FILE] [--svg=FILE]
//   node bench/http-peers.mjs --from=RUN.json[,RUN2.json...] [--svg=FILE]
//
//   --quick      a smoke run, about 15 s in all (2 rounds of 150 ms per side); the numbers mean nothing
//   --only=LIST  the frameworks to run, comma-separated (default: all; `store` needs redis-server)
//   --rounds=N   rounds per framework (default 9); --ms=N: load per side per round (default 1500);
//                each side first gets 3 s of warm-up
//   --json=FILE  every sample and summary as JSON; --svg=FILE: the chart of added CPU per request
//   --from=A.json,B.json,...  measure nothing: earlier runs' --json files side by side (each
//                run's added µs and ratio per side, and the median ratio); with one file, its
//                table again and, with --svg, its chart
//
// The store group runs Express with the session in Redis: a redis-server of its own on a free port
// in a temporary directory (FRASCO_REDIS_SERVER names another binary), stopped at the end; the
// server's CPU per request includes its Redis client, and Redis's own CPU is reported beside it.
// docs/performance.md says how to read the numbers.

import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { get } from 'node:http'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { median, quantile } from './lib/measure.mjs'
import { pinCpus, startLoadGenerator } from './lib/machine.mjs'

const ALL = ['node', 'express', 'fastify', 'koa', 'hono', 'store']
const FRAMEWORK_NAMES = { node: 'node:http', express: 'Express 5', fastify: 'Fastify 5', koa: 'Koa 3', hono: 'Hono 4', store: 'Express 5 + Redis' }

function parseArgs(argv) {
  const options = { quick: false, only: ALL, rounds: 9, ms: 1500, warmupMs: 3000, json: undefined, svg: undefined, from: undefined, connections: 8 }
  for (const arg of argv) {
    const [key, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    if (key === '--quick') Object.assign(options, { quick: true, rounds: 2, ms: 150, warmupMs: 200 })
    else if (key === '--only') {
      if (!value) throw new TypeError('--only takes frameworks: --only=fastify,koa')
      options.only = value.split(',').map((s) => s.trim()).filter(Boolean)
      for (const name of options.only) if (!ALL.includes(name)) throw new TypeError(`--only: unknown framework ${name}; give some of ${ALL.join(',')}`)
    } else if (key === '--rounds' || key === '--ms') {
      const n = Number(value)
      if (!Number.isSafeInteger(n) || n < 1) throw new TypeError(`${key} takes a positive integer`)
      options[key.slice(2)] = n
    } else if (key === '--from') {
      if (!value) throw new TypeError('--from takes JSON files of earlier runs: --from=a.json,b.json')
      options.from = value.split(',').filter(Boolean)
    } else if (key === '--json' || key === '--svg') {
      if (!value) throw new TypeError(`${key} takes a file name: ${key}=FILE`)
      options[key.slice(2)] = value
    } else throw new TypeError(`unknown argument ${arg}; see the comment at the top of bench/http-peers.mjs`)
  }
  return options
}

// ---------------------------------------------------------------------------------------------
// The machine: pinning and the load generator are bench/lib/machine.mjs


// ---------------------------------------------------------------------------------------------
// Checking that a side really reads and writes its session

function request(port, cookie) {
  return new Promise((resolve, reject) => {
    const headers = cookie === undefined ? {} : { cookie }
    get({ host: '127.0.0.1', port, path: '/', headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode, body, setCookie: res.headers['set-cookie'] ?? [] }))
    }).on('error', reject)
  })
}

/** The cookies a browser would send back after `setCookie` (name=value pairs, by name). */
function remember(jar, setCookie) {
  for (const line of setCookie) {
    const pair = line.slice(0, line.indexOf(';') === -1 ? line.length : line.indexOf(';'))
    const name = pair.slice(0, pair.indexOf('='))
    if (/;\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(line)) jar.delete(name)
    else jar.set(name, pair)
  }
  return jar
}

/** The Cookie header of a request: the session's cookies between two others, as browsers send. */
function cookieHeader(jar) {
  return ['lang=en', ...jar.values(), 'theme=dark'].join('; ')
}

function expect(condition, side, message) {
  if (!condition) throw new Error(`${side.framework} / ${side.library}: ${message}`)
}

/**
 * Drives a side through the request sequence (no cookie → count 1; fed back → 2; → 3) and returns
 * the Cookie header of the `count: 2` state, which the load replays.
 */
async function checkSide(side) {
  const jar = new Map()
  const bare = side.id === 'bare'
  let loadCookie
  for (let expected = 1; expected <= 3; expected++) {
    const cookie = jar.size === 0 ? undefined : cookieHeader(jar)
    if (expected === 3) loadCookie = cookie
    const res = await request(side.port, cookie)
    const want = bare ? 'count: 1' : `count: ${expected}`
    expect(res.status === 200 && res.body === want, side, `request ${expected} answered ${res.status} ${JSON.stringify(res.body)}, not ${JSON.stringify(want)}`)
    if (bare) expect(res.setCookie.length === 0, side, 'the server without sessions set a cookie')
    else expect(res.setCookie.length > 0, side, `request ${expected} set no cookie: the session was not written`)
    remember(jar, res.setCookie)
  }
  return bare ? 'lang=en; theme=dark' : loadCookie
}

/** After a round: the server still reads the replayed session and writes the counter. */
async function recheckSide(side) {
  const res = await request(side.port, side.cookie)
  const count = Number(/^count: (\d+)$/.exec(res.body)?.[1])
  expect(res.status === 200, side, `after a round it answered ${res.status} ${JSON.stringify(res.body)}`)
  if (side.id === 'bare') return expect(count === 1, side, `after a round it answered ${JSON.stringify(res.body)}`)
  expect(res.setCookie.length > 0, side, 'after a round it set no cookie')
  // A cookie session answers count 3 to the count-2 cookie every time; a server-side one counts on.
  if (side.stateful) expect(count > 3, side, `after a round the stored session answered ${JSON.stringify(res.body)}`)
  else expect(count === 3, side, `after a round it answered ${JSON.stringify(res.body)}, not "count: 3"`)
}

// ---------------------------------------------------------------------------------------------
// One framework

async function benchFramework(framework, { sidesOf, versionOf, child, redis, options }) {
  const loadBefore = os.loadavg()
  const definitions = await sidesOf(framework, { redisUrl: redis?.url })
  const sides = []
  try {
    for (const definition of definitions) {
      const server = await definition.start()
      const version = definition.package === undefined ? (definition.id === 'frasco' ? versionOf('frasco') : undefined) : versionOf(definition.package)
      sides.push({ ...definition, framework, version, port: server.port, close: server.close, samples: [] })
    }
    for (const side of sides) side.cookie = await checkSide(side)

    const run = async (side, ms, warmup = false) => {
      const message = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${side.cookie}\r\nConnection: keep-alive\r\n\r\n`
      const redisBefore = redis === undefined ? 0 : await redis.cpuSeconds()
      const cpu = process.cpuUsage()
      child.send({ type: 'run', port: side.port, ms, connections: options.connections, request: message })
      const [result] = await once(child, 'message')
      const used = process.cpuUsage(cpu)
      const redisUsed = redis === undefined ? 0 : (await redis.cpuSeconds()) - redisBefore
      if (result.errors > 0) throw new Error(`${framework} / ${side.library}: the load generator saw ${result.errors} errors (not 200, or a socket error)`)
      if (result.completed === 0) {
        if (warmup) return { completed: 0 }
        throw new Error(`${framework} / ${side.library}: no request completed in ${ms} ms`)
      }
      await recheckSide(side)
      return {
        rps: (result.completed * 1000) / result.ms,
        cpu: (used.user + used.system) / result.completed,
        redisCpu: redis === undefined ? undefined : (redisUsed * 1e6) / result.completed,
        completed: result.completed,
      }
    }

    // Warm-up: at least `warmupMs`, and on until 200 requests went through (a cold server on a
    // busy machine can take longer than a --quick warm-up to answer its first requests).
    for (const side of sides) {
      let completed = 0
      for (let tries = 0; tries < 20 && (tries === 0 || completed < 200); tries++) completed += (await run(side, options.warmupMs, true)).completed
    }
    for (let r = 0; r < options.rounds; r++) {
      for (let i = 0; i < sides.length; i++) {
        const side = sides[(i + r) % sides.length]
        // A round in which no request completed (a stall of the busy machine longer than a
        // --quick round) is run again, up to 3 times; a server that never answers fails the run.
        let sample = await run(side, options.ms, true)
        for (let retry = 0; sample.completed === 0 && retry < 3; retry++) {
          side.retried = (side.retried ?? 0) + 1
          sample = await run(side, options.ms, retry < 2)
        }
        side.samples.push(sample)
      }
    }
  } finally {
    for (const side of sides) await side.close()
  }
  return summarize(framework, sides, { loadBefore, loadAfter: os.loadavg() })
}

function iqr(values) {
  return [quantile(values, 0.25), quantile(values, 0.75)]
}

function summarize(framework, sides, load) {
  const bare = sides.find((s) => s.id === 'bare')
  const reference = sides.find((s) => s.id === 'floor') ?? sides.find((s) => s.id === 'frasco')
  const rows = sides.map((side) => {
    const cpus = side.samples.map((s) => s.cpu)
    const added = side.samples.map((s, i) => s.cpu - bare.samples[i].cpu)
    const redisCpus = side.samples.map((s) => s.redisCpu).filter((v) => v !== undefined)
    return {
      id: side.id,
      library: side.library,
      version: side.version,
      stateful: side.stateful === true,
      rps: median(side.samples.map((s) => s.rps)),
      cpu: median(cpus),
      cpuIqr: iqr(cpus),
      added: side.id === 'bare' ? 0 : median(added),
      addedIqr: side.id === 'bare' ? [0, 0] : iqr(added),
      redisCpu: redisCpus.length === 0 ? undefined : median(redisCpus),
      retried: side.retried ?? 0,
      samples: side.samples,
    }
  })
  const ref = rows.find((r) => r.id === reference.id)
  for (const row of rows) if (row.id !== 'bare') row.ratio = row.added / ref.added
  const summary = { framework, name: FRAMEWORK_NAMES[framework], reference: reference.id, load, rows }
  // The throughput target of issue 17: withSessions at ≥ 0.95 of the floor session's requests/s.
  const frasco = sides.find((s) => s.id === 'frasco')
  const floor = sides.find((s) => s.id === 'floor')
  if (frasco !== undefined && floor !== undefined) {
    const perRound = frasco.samples.map((s, i) => s.rps / floor.samples[i].rps)
    const cpuPerRound = frasco.samples.map((s, i) => floor.samples[i].cpu / s.cpu)
    summary.versusFloor = { rps: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), cpu: median(cpuPerRound) }
  }
  return summary
}

// ---------------------------------------------------------------------------------------------
// Output

const fmt = (n, digits = 1) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

function label(row) {
  return row.version === undefined ? row.library : `${row.library} ${row.version}`
}

function markdownTable(groups) {
  const lines = [
    '| framework | library | req/s | server CPU µs/request (IQR) | added µs/request (IQR) | added, ratio |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ]
  for (const group of groups) {
    const refName = group.reference === 'floor' ? 'floor' : 'Frasco'
    for (const row of group.rows) {
      const redis = row.redisCpu === undefined ? '' : ` + Redis ${fmt(row.redisCpu)}`
      const added = row.id === 'bare' ? '—' : `**${fmt(row.added)}** (${fmt(row.addedIqr[0])}–${fmt(row.addedIqr[1])})`
        const ratio = row.id === 'bare' ? '' : row.id === group.reference ? `1.00 (${refName})` : `${row.ratio.toFixed(2)}× ${refName}`
      lines.push(`| ${group.name} | ${label(row)} | ${Math.round(row.rps).toLocaleString('en-US')} | ${fmt(row.cpu)} (${fmt(row.cpuIqr[0])}–${fmt(row.cpuIqr[1])})${redis} | ${added} | ${ratio} |`)
    }
  }
  for (const group of groups) {
    const v = group.versusFloor
    if (v !== undefined) lines.push('', `withSessions / floor session (node:http): ${v.rps.toFixed(2)}× the requests/s (median of per-round ratios; rounds ${v.min.toFixed(2)}–${v.max.toFixed(2)}), ${v.cpu.toFixed(2)}× by server CPU per request (floor ÷ Frasco, median of per-round ratios); target ≥ 0.95.`)
  }
  return lines.join('\n')
}

function escapeXml(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
}

function niceCeil(value) {
  const step = 10 ** Math.floor(Math.log10(value))
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * step >= value) return m * step
  return 10 * step
}

/**
 * Horizontal bars of the added server CPU per request, one group per framework, Frasco's bar
 * first. A bar far beyond the others (iron-session's) is cut at the axis's end with a break mark
 * and its value written beside it.
 */
export function renderChart(groups, { subtitle }) {
  const bars = []
  for (const group of groups) {
    const rows = group.rows.filter((r) => r.id !== 'bare').sort((a, b) => (a.id === 'frasco' ? -1 : b.id === 'frasco' ? 1 : 0))
    bars.push({ heading: group.name })
    for (const row of rows) bars.push({ row, frasco: row.id === 'frasco', floor: row.id === 'floor', reference: row.id === group.reference })
  }
  const values = bars.filter((b) => b.row !== undefined).map((b) => Math.max(0, b.row.added))
  const sorted = [...values].sort((a, b) => a - b)
  // The axis fits every bar but those more than 2.5× the next smaller one (iron-session's): they are cut.
  const fitting = [...sorted]
  while (fitting.length > 1 && fitting.at(-1) > 2.5 * fitting.at(-2)) fitting.pop()
  const max = niceCeil(Math.max(...fitting) * 1.05)
  // About 7 px per character of 13 px system-ui text.
  const labelWidth = Math.ceil(24 + 7 * Math.max(...bars.filter((b) => b.row !== undefined).map((b) => label(b.row).length)))
  const plotWidth = 420
  const rowHeight = 22
  const headingHeight = 26
  const top = 70
  let y = top
  const out = []
  const body = []
  for (const bar of bars) {
    if (bar.heading !== undefined) {
      y += 6
      body.push(`<text x="12" y="${y + 16}" font-weight="600">${escapeXml(bar.heading)}</text>`)
      y += headingHeight - 6
      continue
    }
    const { row } = bar
    const value = Math.max(0, row.added)
    const cut = value > max
    const width = (Math.min(value, max) / max) * plotWidth
    const fill = bar.frasco ? '#2f6fb0' : bar.floor ? '#9a9a9a' : '#d08a3b'
    body.push(`<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeXml(label(row))}</text>`)
    body.push(`<rect x="${labelWidth}" y="${y + 3}" width="${width.toFixed(1)}" height="${rowHeight - 6}" fill="${fill}"/>`)
    if (cut) {
      const bx = labelWidth + plotWidth - 14
      body.push(`<path d="M${bx} ${y + 1} l6 ${rowHeight - 2} M${bx + 6} ${y + 1} l6 ${rowHeight - 2}" stroke="#fff" stroke-width="3"/>`)
    }
    const redis = row.redisCpu === undefined ? '' : `; Redis ${fmt(row.redisCpu)} µs`
    const text = `${fmt(row.added)} µs${bar.reference ? '' : ` (${row.ratio.toFixed(2)}×)`}${redis}`
    body.push(`<text x="${labelWidth + width + 6}" y="${y + 15}" fill="#333">${escapeXml(text)}</text>`)
    y += rowHeight
  }
  const axisY = y + 6
  const height = axisY + 68
  const width = labelWidth + plotWidth + 220
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`)
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`)
  out.push(`<text x="12" y="22" font-size="16" font-weight="600">Server CPU a session adds per request (µs; shorter is better)</text>`)
  out.push(`<text x="12" y="42" fill="#555">${escapeXml(subtitle)}</text>`)
  out.push(`<text x="12" y="60" fill="#555">Over each framework's server without sessions; ratio to Frasco (node:http: to the hand-written floor session) in brackets.</text>`)
  // Grid lines at a round step, at most 8 of them.
  const unit = 10 ** Math.floor(Math.log10(max))
  const step = [0.1, 0.2, 0.25, 0.5, 1].map((m) => m * unit).find((candidate) => max / candidate <= 8)
  for (let v = 0; v <= max + 1e-9; v += step) {
    const x = labelWidth + (v / max) * plotWidth
    out.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${axisY}" stroke="#e3e3e3"/>`)
    out.push(`<text x="${x.toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${fmt(v, v % 1 === 0 ? 0 : 1)}</text>`)
  }
  out.push(...body)
  out.push(`<text x="${labelWidth + plotWidth / 2}" y="${axisY + 34}" text-anchor="middle" fill="#555">µs of server CPU per request, median of per-round differences</text>`)
  const legend = [['#2f6fb0', 'Frasco'], ['#d08a3b', 'other libraries'], ['#9a9a9a', 'hand-written floor session']]
  let lx = labelWidth
  for (const [colour, text] of legend) {
    out.push(`<rect x="${lx}" y="${axisY + 47}" width="12" height="12" fill="${colour}"/>`)
    out.push(`<text x="${lx + 17}" y="${axisY + 58}" fill="#333">${escapeXml(text)}</text>`)
    lx += 40 + 7 * text.length
  }
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

function printGroup(group) {
  console.log(`\n${group.name} (load average ${group.load.loadBefore.map((v) => v.toFixed(2)).join(' ')} → ${group.load.loadAfter.map((v) => v.toFixed(2)).join(' ')})`)
  for (const row of group.rows) {
    const added = row.id === 'bare' ? '' : `  +${fmt(row.added).padStart(7)} µs  ${row.id === group.reference ? '(reference)' : `${row.ratio.toFixed(2)}×`}`
    const redis = row.redisCpu === undefined ? '' : `  redis ${fmt(row.redisCpu)} µs/req`
    const retried = row.retried === 0 ? '' : `  (${row.retried} round${row.retried === 1 ? '' : 's'} run again: none completed)`
    console.log(`  ${label(row).padEnd(52)} ${fmt(row.rps, 0).padStart(8)} req/s  ${fmt(row.cpu).padStart(7)} µs/req${added}${redis}${retried}`)
  }
  if (group.versusFloor !== undefined) {
    const v = group.versusFloor
    console.log(`  withSessions / floor session: ${v.rps.toFixed(3)}× requests/s (rounds ${v.min.toFixed(2)}–${v.max.toFixed(2)}), ${v.cpu.toFixed(3)}× by CPU per request (target ≥ 0.95)`)
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Earlier runs (their --json output) side by side: per side, each run's added µs and ratio, and
 * the median ratio. Runs are not pooled: a quiet run and a busy one measure two levels of cost,
 * and each run's ratio pairs its sides round by round.
 */
function compareRuns(runs) {
  const lines = [
    `| framework | library | ${runs.map((_, i) => `run ${i + 1}: added µs, ratio`).join(' | ')} | median ratio |`,
    `| --- | --- | ${runs.map(() => '---:').join(' | ')} | ---: |`,
  ]
  for (const framework of ALL) {
    const groups = runs.map((run) => run.groups.find((g) => g.framework === framework))
    const first = groups.find((g) => g !== undefined)
    if (first === undefined) continue
    for (const row of first.rows) {
      if (row.id === 'bare') continue
      const cells = groups.map((g) => {
        const r = g?.rows.find((x) => x.id === row.id)
        return r === undefined ? '' : `${fmt(r.added)}, ${r.id === g.reference ? 'ref.' : `${r.ratio.toFixed(2)}×`}`
      })
      const ratios = groups.map((g) => g?.rows.find((x) => x.id === row.id)).filter((r) => r !== undefined && r.id !== first.reference).map((r) => r.ratio)
      lines.push(`| ${first.name} | ${label(row)} | ${cells.join(' | ')} | ${ratios.length === 0 ? 'ref.' : `${median(ratios).toFixed(2)}×`} |`)
    }
    if (first.versusFloor !== undefined) {
      const cells = groups.map((g) => (g?.versusFloor === undefined ? '' : `${g.versusFloor.rps.toFixed(2)} req/s, ${g.versusFloor.cpu.toFixed(2)} CPU`))
      lines.push(`| ${first.name} | withSessions ÷ floor session (target ≥ 0.95) | ${cells.join(' | ')} | ${median(groups.filter((g) => g?.versusFloor).map((g) => g.versusFloor.cpu)).toFixed(2)} CPU |`)
    }
  }
  return lines.join('\n')
}

function fromFiles(options) {
  const runs = options.from.map((file) => JSON.parse(readFileSync(file, 'utf8')))
  runs.forEach((run, i) => {
    const load = run.groups.map((g) => g.load.loadBefore[0]).concat(run.groups.at(-1).load.loadAfter[0])
    console.log(`run ${i + 1}: ${options.from[i]}, ${run.date.slice(0, 16)}, dist built ${run.distBuilt?.slice(0, 19)}, ${run.options.rounds} × ${run.options.ms} ms, load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`)
  })
  if (runs.length === 1) console.log(`\n${markdownTable(runs[0].groups)}`)
  else console.log(`\n${compareRuns(runs)}`)
  if (options.svg !== undefined) {
    if (runs.length !== 1) throw new TypeError('--svg with --from draws one run: give one file')
    const [run] = runs
    const subtitle = `${run.date.slice(0, 10)}, ${run.machine}; ${run.options.rounds} rounds of ${run.options.ms} ms per side${run.pinned === undefined ? '' : ', server on CPU 0, load on CPU 1'}`
    writeFileSync(options.svg, renderChart(run.groups, { subtitle }))
    console.log(`\nwrote ${options.svg}`)
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  if (options.from !== undefined) return fromFiles(options)
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
    console.error('bench/http-peers: dist/ is missing; build the library first (npx tsc -p tsconfig.build.json)')
    process.exit(1)
  }
  if (!existsSync(new URL('./peers/node_modules/express/package.json', import.meta.url))) {
    console.error('bench/http-peers: the peers are not installed; run `cd bench/peers && npm install`')
    process.exit(1)
  }
  const { sidesOf, versionOf } = await import('./peers/apps.mjs')
  const { redisAvailable, startRedis } = await import('./peers/redis.mjs')

  const distBuilt = statSync(new URL('../dist/adapters/node.js', import.meta.url)).mtime
  console.log(`bench/http-peers: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${process.platform} ${process.arch}, Node ${process.version}`)
  console.log(`frasco ${versionOf('frasco')} from dist/ built ${distBuilt.toISOString()}; ${options.rounds} rounds of ${options.ms} ms per side, ${options.connections} connections${options.quick ? ' (--quick: a smoke run, the numbers mean nothing)' : ''}`)
  console.log(`load average at the start: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`)

  let frameworks = options.only
  if (frameworks.includes('store') && !redisAvailable()) {
    console.warn('bench/http-peers: redis-server is not installed: skipping the store group (apt-get install redis-server, or FRASCO_REDIS_SERVER)')
    frameworks = frameworks.filter((f) => f !== 'store')
  }

  const pinned = pinCpus()
  const child = startLoadGenerator(pinned)
  const groups = []
  let redis
  try {
    for (const framework of frameworks) {
      if (framework === 'store') redis = await startRedis({ cpu: pinned?.load })
      try {
        const group = await benchFramework(framework, { sidesOf, versionOf, child, redis: framework === 'store' ? redis : undefined, options })
        groups.push(group)
        printGroup(group)
      } finally {
        if (framework === 'store') {
          await redis.stop()
          redis = undefined
        }
      }
    }
  } finally {
    pinned?.restore()
    child.send({ type: 'exit' })
    await redis?.stop()
  }

  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim().split(' ').slice(0, 2).join(' ')}, ${process.platform} ${process.arch}, Node ${process.version}`
  const subtitle = `${new Date().toISOString().slice(0, 10)}, ${machine}; ${options.rounds} rounds of ${options.ms} ms per side${pinned === undefined ? '' : ', server on CPU 0, load on CPU 1'}`
  console.log(`\nload average at the end: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}\n`)
  console.log(markdownTable(groups))
  if (options.json !== undefined) {
    writeFileSync(options.json, `${JSON.stringify({ date: new Date().toISOString(), machine, distBuilt, options, pinned: pinned === undefined ? undefined : { server: pinned.server, load: pinned.load }, groups }, null, 2)}\n`)
    console.log(`\nwrote ${options.json}`)
  }
  if (options.svg !== undefined) {
    writeFileSync(options.svg, renderChart(groups, { subtitle }))
    console.log(`wrote ${options.svg}`)
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    // A misused argument is one line; anything else (a side that fails its check) with its stack.
    console.error(error instanceof TypeError ? `bench/http-peers: ${error.message}` : error)
    process.exitCode = 1
  })
}
