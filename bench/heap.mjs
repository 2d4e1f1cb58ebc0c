// Figure 6: heap after forced GC at the start, middle and end of a million session round trips,
// each fed the cookie the previous one wrote.

import { cookieHeader, setCookieValue } from './cases.mjs'

export function benchHeap({ sessions, firstValue, total = 1_000_000 }) {
  const gc = globalThis.gc
  const heap = () => {
    gc()
    gc()
    return process.memoryUsage().heapUsed
  }
  let header = cookieHeader(firstValue)
  const step = (i) => {
    const session = sessions.read(header)
    if (session.isNew) throw new Error('a session written by commit did not read back')
    session.set('userId', i & 0xffff)
    header = cookieHeader(setCookieValue(sessions.commit(session).setCookie[0]))
  }
  // Warm up outside the measured window, so that code and caches exist before `start`.
  for (let i = 0; i < 20_000; i++) step(i)
  const samples = [{ at: 0, bytes: heap() }]
  const started = process.hrtime.bigint()
  for (let i = 1; i <= total; i++) {
    step(i)
    if (i === total / 2) samples.push({ at: i, bytes: heap() })
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  samples.push({ at: total, bytes: heap() })
  const growth = samples[2].bytes - samples[0].bytes
  return { total, samples, growth, stable: growth < 1024 * 1024, seconds }
}
