#!/usr/bin/env node
// Before/after (issue 11): the same work through two builds of Frasco, side by side in one
// process, timed with the interleaved A/B of bench/lib/measure.mjs (compare()). Prints, per case,
// the old and new ns per call and the ratio new/old with its interquartile range. Run:
//
//   npm run build && node --expose-gc bench/ab.mjs /tmp/frasco-before-dist
//   node --expose-gc bench/ab.mjs OLD_DIST [NEW_DIST] [--quick] [--rounds=N] [--clock=cpu] [--only=ID,ID] [--json=FILE]
//
// OLD_DIST is the dist/ directory of the build to compare against; NEW_DIST defaults to this
// checkout's dist/ (pass a copy to keep a concurrent `npm run build` from changing it mid-run).
// An old build comes from a revision:
//
//   git worktree add /tmp/old <rev> && (cd /tmp/old && npm ci && npm run build)   # then /tmp/old/dist
//
// or from copying dist/ before a change: `npm run build && cp -r dist /tmp/frasco-before-dist`.
//
// --clock=cpu times each round in this process's CPU time instead of wall time: on a machine busy
// with other work (tests, builds) the wall-clock rounds swing by 2× and more, the CPU-time ones far
// less. --only takes case ids: signed-encode, signed-decode, signed-roundtrip, encrypted-roundtrip,
// flask-roundtrip, flask-permanent, flask-codec, node-middleware, serializer, signer.
//
// Both the 0.1 API and the 1.0 API are understood (detected per build), and each side is driven
// so that both do the same work: 0.1 `maxAge: s` is 1.0 `lifetime: s, persistent: true`,
// `format: 'flask'` is `format: createFlaskFormat()`, `commit` returns the Set-Cookie list or
// `{ setCookie }`, the Flask codec `encode`/`decode` or `sign`/`verify`. Writes no file except
// --json. A ratio within about 0.95–1.05, or an IQR that spans 1, is within noise on a quiet machine.

import { randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { typicalPayload, cookieHeader, setCookieValue } from './cases.mjs'
import { MAX_AGE } from './floors.mjs'
import { compare } from './lib/measure.mjs'
import { formatNs } from './lib/report.mjs'
import { mockRequest, mockResponse } from './lib/mocks.mjs'

const argv = process.argv.slice(2)
const flags = argv.filter((a) => a.startsWith('--'))
const paths = argv.filter((a) => !a.startsWith('--'))
const flag = (name) => flags.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
if (paths.length < 1 || paths.length > 2) {
  console.error('usage: node --expose-gc bench/ab.mjs OLD_DIST [NEW_DIST] [--quick] [--rounds=N] [--clock=cpu] [--only=ID,ID] [--json=FILE]')
  process.exit(2)
}
const oldDir = resolve(paths[0])
const newDir = resolve(paths[1] ?? new URL('../dist', import.meta.url).pathname)
for (const dir of [oldDir, newDir]) {
  if (!existsSync(`${dir}/index.js`)) {
    console.error(`bench/ab: ${dir}/index.js is missing; give the dist/ directory of a build (npm run build)`)
    process.exit(2)
  }
}

const quick = flags.includes('--quick')
const settings = quick ? { rounds: 7, roundMs: 20, warmupMs: 150 } : { rounds: 21, roundMs: 30, warmupMs: 400 }
if (flag('rounds') !== undefined) settings.rounds = Number(flag('rounds'))
settings.clock = flag('clock') ?? 'wall'
if (!(Number.isInteger(settings.rounds) && settings.rounds > 0) || (settings.clock !== 'wall' && settings.clock !== 'cpu')) {
  console.error('bench/ab: --rounds takes a positive whole number, --clock wall or cpu')
  process.exit(2)
}
const only = flag('only')?.split(',')

// -------------------------------------------------------------------------------------------------
// One build, behind the same small interface whichever API it has.
// -------------------------------------------------------------------------------------------------

async function loadBuild(dir, name) {
  const url = (file) => pathToFileURL(`${dir}/${file}`).href
  const root = await import(url('index.js'))
  const node = await import(url('adapters/node.js'))
  // 1.0: `frasco/flask` is dist/flask/index.js; 0.1: dist/flask.js.
  const flask = existsSync(`${dir}/flask/index.js`) ? await import(url('flask/index.js')) : await import(url('flask.js'))
  const v1 = typeof flask.createFlaskFormat === 'function'
  return {
    name,
    dir,
    api: v1 ? '1.0 (lifetime/persistent, createFlaskFormat, commit → { setCookie })' : '0.1 (maxAge, format: flask, commit → string[])',
    createSerializer: root.createSerializer,
    createSigner: root.createSigner,
    /** A manager writing persistent cookies that last `MAX_AGE`, as bench/run.mjs measures. */
    sessions: (secrets, extra = {}) =>
      v1 ? root.createSessions({ secrets, lifetime: MAX_AGE, persistent: true, ...extra }) : root.createSessions({ secrets, maxAge: MAX_AGE, ...extra }),
    /** A Flask-format manager with its defaults: browser-session cookies, Flask's 31-day age limit. */
    flaskSessions: (secrets) =>
      v1 ? root.createSessions({ secrets, format: flask.createFlaskFormat() }) : root.createSessions({ secrets, format: 'flask' }),
    /**
     * Flask's permanent session (a 31-day Max-Age): 1.0 `persistent: true`, mapped to `_permanent`
     * in the cookie; 0.1 `_permanent: true` in the session data. The cookies are the same bytes.
     */
    flaskPermanent: (secrets, data) =>
      v1
        ? { sessions: root.createSessions({ secrets, format: flask.createFlaskFormat(), persistent: true }), data }
        : { sessions: root.createSessions({ secrets, format: 'flask' }), data: { ...data, _permanent: true } },
    setCookie: v1 ? (commit) => commit.setCookie : (commit) => commit,
    sessionMiddleware: node.sessionMiddleware,
    /** createFlaskCodec with one method pair whichever it is called. */
    flaskCodec: (secrets) => {
      const codec = flask.createFlaskCodec({ secrets })
      return v1 ? { sign: (data) => codec.sign(data), verify: (value) => codec.verify(value) } : { sign: (data) => codec.encode(data), verify: (value) => codec.decode(value) }
    },
  }
}

const before = await loadBuild(oldDir, 'old')
const after = await loadBuild(newDir, 'new')

function check(condition, message) {
  if (!condition) throw new Error(`bench/ab fixture is broken: ${message}`)
}

// The cookie a Set-Cookie header sets, with its value replaced: the attributes both sides write.
const attributesOf = (setCookie) => setCookie.replace(/=[^;]*/, '=<value>')

// Just enough of IncomingMessage / ServerResponse for the node adapter, kept in memory (as in
// bench/peers/run.mjs): headers in a null-prototype object, writeHead doing nothing else.
// -------------------------------------------------------------------------------------------------
// The cases: for each, a factory that builds one side's function from a build. Both sides get the
// same secrets and payload; every fixture checks that the two sides did the same work.
// -------------------------------------------------------------------------------------------------

const payload = typicalPayload()
const secrets = [randomBytes(32).toString('base64url')]
const flaskSecret = randomBytes(32).toString('base64url')

/** read(Cookie) + set + commit through a manager; returns the first Set-Cookie value. */
function roundTripOf(build, sessions, data = payload) {
  const header = cookieHeader(sessions.sign(data))
  const run = () => {
    const session = sessions.read(header)
    session.set('userId', 43)
    return build.setCookie(sessions.commit(session))[0]
  }
  const first = sessions.read(header)
  check(!first.isNew && first.get('username') === 'admin', `${build.name}: the session did not read back`)
  const written = run()
  check(sessions.read(cookieHeader(setCookieValue(written))).get('userId') === 43, `${build.name}: the committed cookie did not read back`)
  return { run, sample: written }
}

const cases = [
  {
    id: 'signed-encode',
    label: 'signed: encode',
    detail: 'createSessions().sign(typical payload)',
    side: (build) => {
      const sessions = build.sessions(secrets)
      return { run: () => sessions.sign(payload), sample: sessions.sign(payload) }
    },
    same: (a, b) => a.length === b.length,
  },
  {
    id: 'signed-decode',
    label: 'signed: decode',
    detail: 'createSessions().verify(token of the typical payload)',
    side: (build) => {
      const sessions = build.sessions(secrets)
      const token = sessions.sign(payload)
      const run = () => sessions.verify(token)
      check(run().ok && run().value.csrf === payload.csrf, `${build.name}: verify`)
      return { run, sample: token }
    },
    same: (a, b) => a.length === b.length,
  },
  {
    id: 'signed-roundtrip',
    label: 'signed: round trip',
    detail: 'sessions.read(Cookie) + session.set + sessions.commit, persistent 14-day cookie',
    side: (build) => roundTripOf(build, build.sessions(secrets)),
    same: (a, b) => a.length === b.length && attributesOf(a) === attributesOf(b),
  },
  {
    id: 'encrypted-roundtrip',
    label: 'encrypted: round trip',
    detail: 'the same with encrypt: true (x1, XAES-256-GCM; e1, AES-256-GCM, in builds before x1)',
    side: (build) => roundTripOf(build, build.sessions(secrets, { encrypt: true })),
    // An e1 build against an x1 build does different work: x1 adds 12 bytes of nonce (16 characters)
    // and a key derivation per token, which is what such an A/B run measures.
    same: (a, b) => {
      const [va, vb] = [setCookieValue(a), setCookieValue(b)]
      if (!/^[ex]1\./.test(va) || !/^[ex]1\./.test(vb) || attributesOf(a) !== attributesOf(b)) return false
      const extra = (v) => (v.startsWith('x1.') ? 16 : 0)
      return a.length - extra(va) === b.length - extra(vb)
    },
  },
  {
    id: 'flask-roundtrip',
    label: 'Flask format: round trip',
    detail: 'the same with the Flask format (itsdangerous, HMAC-SHA1), browser-session cookie',
    side: (build) => roundTripOf(build, build.flaskSessions(flaskSecret)),
    same: (a, b) => a.length === b.length && attributesOf(a) === attributesOf(b),
  },
  {
    id: 'flask-permanent',
    label: 'Flask format: permanent',
    detail: 'the Flask round trip with a permanent session (_permanent, Max-Age 31 days)',
    side: (build) => {
      const { sessions, data } = build.flaskPermanent(flaskSecret, payload)
      return roundTripOf(build, sessions, data)
    },
    same: (a, b) => a.length === b.length && attributesOf(a) === attributesOf(b) && a.includes('; Max-Age='),
  },
  {
    id: 'flask-codec',
    label: 'Flask codec: verify + sign',
    detail: 'createFlaskCodec verify + change + sign (decode/encode in 0.1), as bench/run.mjs figure 3',
    side: (build) => {
      const codec = build.flaskCodec(flaskSecret)
      const cookie = codec.sign(payload)
      const run = () => {
        const result = codec.verify(cookie)
        if (!result.ok) throw result.error
        result.value.userId = 43
        return codec.sign(result.value)
      }
      return { run, sample: cookie, codec }
    },
    // The same bytes: each side reads the other's cookie.
    same: (a, b, sideA, sideB) => a.length === b.length && sideA.codec.verify(b).ok && sideB.codec.verify(a).ok,
  },
  {
    id: 'node-middleware',
    label: 'node adapter: read-only request',
    detail: 'sessionMiddleware on mock req/res: read the user name, writeHead (Vary, no Set-Cookie), as the node:http figure',
    side: (build) => {
      const sessions = build.sessions(secrets)
      const middleware = build.sessionMiddleware(sessions)
      const cookie = cookieHeader(sessions.sign(payload))
      const next = () => {}
      const run = () => {
        const req = mockRequest(cookie)
        const res = mockResponse()
        middleware(req, res, next)
        const name = req.session.get('username')
        res.writeHead(200)
        return res.headers.vary === 'Cookie' && res.headers['set-cookie'] === undefined ? name : undefined
      }
      check(run() === 'admin', `${build.name}: the middleware did not read the session, or wrote more than Vary`)
      return { run, sample: run() }
    },
    same: (a, b) => a === b,
  },
  {
    id: 'serializer',
    label: 'createSerializer: sign + unsign',
    detail: "createSerializer({ purpose: 'ab' }).sign(payload, { expiresIn }) + unsign",
    side: (build) => {
      const serializer = build.createSerializer({ secrets, purpose: 'ab' })
      const run = () => serializer.unsign(serializer.sign(payload, { expiresIn: MAX_AGE }))
      check(run().csrf === payload.csrf, `${build.name}: serializer`)
      return { run, sample: serializer.sign(payload, { expiresIn: MAX_AGE }), serializer }
    },
    same: (a, b, sideA, sideB) => sideA.serializer.unsign(b).csrf === payload.csrf && sideB.serializer.unsign(a).csrf === payload.csrf,
  },
  {
    id: 'signer',
    label: 'createSigner: sign + unsign',
    detail: "createSigner({ purpose: 'ab' }).sign('user:42', { expiresIn: 3600 }) + unsign",
    side: (build) => {
      const signer = build.createSigner({ secrets, purpose: 'ab' })
      const run = () => signer.unsign(signer.sign('user:42', { expiresIn: 3600 }))
      check(run() === 'user:42', `${build.name}: signer`)
      return { run, sample: signer.sign('user:42', { expiresIn: 3600 }), signer }
    },
    same: (a, b, sideA, sideB) => sideA.signer.unsign(b) === 'user:42' && sideB.signer.unsign(a) === 'user:42',
  },
].filter((c) => only === undefined || only.includes(c.id))

// -------------------------------------------------------------------------------------------------
// Run and print.
// -------------------------------------------------------------------------------------------------

const cpus = os.cpus()
const machine = `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${os.platform()} ${os.arch()}, Node ${process.version}`
console.log(`Frasco A/B: ${machine}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
console.log(`old: ${before.dir}  [${before.api}]`)
console.log(`new: ${after.dir}  [${after.api}]`)
console.log(
  `method: per case, ${settings.rounds} rounds of ~${settings.roundMs} ms per side (${settings.clock === 'cpu' ? 'timed in CPU time' : 'wall clock'}) after ${settings.warmupMs} ms of warm-up, sides alternating (ABBA); ` +
    'ratio = median of the per-round ratios new/old (IQR in brackets); best = fastest new round / fastest old round\n',
)
const header = `${'case'.padEnd(32)}${'old'.padStart(10)}${'new'.padStart(10)}  ${'new/old (IQR)'.padEnd(22)}${'best'.padEnd(8)}verdict`
console.log(header)
console.log('-'.repeat(header.length + 8))

// Within noise: the IQR spans 1, or the median is within ±5 %. A change: the median and the
// fastest rounds (the least disturbed) both say so; when they disagree (rounds that fall into two
// clusters, as the encrypted round trip's do on a busy machine, on both sides alike), say that.
function verdictOf(r) {
  if (r.ratioLow <= 1 && r.ratioHigh >= 1) return 'within noise (IQR spans 1)'
  if (r.ratio >= 0.95 && r.ratio <= 1.05) return 'within noise (±5%)'
  const direction = r.ratio < 1 ? 'FASTER' : 'SLOWER'
  const best = r.ratioBest < 0.95 ? 'FASTER' : r.ratioBest > 1.05 ? 'SLOWER' : 'same'
  return best === direction ? direction : `unclear: median ${direction.toLowerCase()}, best rounds ${best === 'same' ? 'within ±5%' : best.toLowerCase()}`
}

const started = Date.now()
const rows = []
for (const c of cases) {
  const sideOld = c.side(before)
  const sideNew = c.side(after)
  check(c.same(sideOld.sample, sideNew.sample, sideOld, sideNew), `${c.id}: the two builds did not do the same work (${sideOld.sample.length} vs ${sideNew.sample.length} characters)`)
  globalThis.gc?.()
  const r = compare(sideNew.run, sideOld.run, settings)
  const noise = verdictOf(r)
  const row = { id: c.id, label: c.label, detail: c.detail, oldNs: r.floorNs, newNs: r.subjectNs, ratio: r.ratio, ratioLow: r.ratioLow, ratioHigh: r.ratioHigh, ratioBest: r.ratioBest, verdict: noise }
  rows.push(row)
  console.log(
    `${c.label.padEnd(32)}${formatNs(r.floorNs).padStart(10)}${formatNs(r.subjectNs).padStart(10)}  ` +
      `${`${r.ratio.toFixed(3)}× (${r.ratioLow.toFixed(2)}–${r.ratioHigh.toFixed(2)})`.padEnd(22)}${`${r.ratioBest.toFixed(2)}×`.padEnd(8)}${noise}`,
  )
}
console.log(`\n${rows.length} cases in ${((Date.now() - started) / 1000).toFixed(0)} s; load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)

const json = flag('json')
if (json !== undefined) {
  writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), machine, old: before.dir, new: after.dir, settings, rows }, null, 2) + '\n')
}
