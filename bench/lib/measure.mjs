// Interleaved A/B timing: the figure that matters is the ratio of two functions measured in the
// same process, in alternating rounds, so that CPU frequency changes, other processes and GC
// pressure hit both sides alike.

import { performance } from 'node:perf_hooks'

/** Keeps results alive so that no call can be optimized away. */
export let sink = 0
function keep(value) {
  if (typeof value === 'string') sink = (sink + value.length) | 0
  else if (value !== undefined && value !== null) sink = (sink + 1) | 0
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b)
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

// ns per call over `n` calls, by the wall clock.
function wallRound(fn, n) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) keep(fn())
  return Number(process.hrtime.bigint() - start) / n
}

// ns per call over `n` calls, in CPU time of this process (user + system, µs resolution): time
// spent descheduled while other processes run is not counted, so on a busy machine this is far
// steadier than the wall clock (cache and frequency effects of the other load still show).
function cpuRound(fn, n) {
  const start = process.cpuUsage()
  for (let i = 0; i < n; i++) keep(fn())
  const used = process.cpuUsage(start)
  return ((used.user + used.system) * 1000) / n
}

// Calls per round so that one round of `fn` lasts about `roundMs`.
function calibrate(fn, roundMs) {
  let n = 8
  for (;;) {
    const start = performance.now()
    for (let i = 0; i < n; i++) keep(fn())
    const elapsed = performance.now() - start
    if (elapsed >= roundMs / 4) return Math.max(1, Math.round((n * roundMs) / elapsed))
    n *= 2
  }
}

function warm(fn, ms) {
  const until = performance.now() + ms
  while (performance.now() < until) for (let i = 0; i < 64; i++) keep(fn())
}

/**
 * Times `subject` against `floor`: warm-up, then `rounds` rounds of each, alternating which side
 * goes first (ABBA…). The ratio is the median of the per-round ratios subject/floor; the spread is
 * their interquartile range; `ratioBest` divides the fastest round of each side. `clock: 'cpu'`
 * times rounds in process CPU time instead of wall time (for a machine shared with other work).
 */
export function compare(subject, floor, { rounds = 15, roundMs = 40, warmupMs = 300, clock = 'wall' } = {}) {
  const round = clock === 'cpu' ? cpuRound : wallRound
  for (let i = 0; i < 4; i++) {
    warm(subject, warmupMs / 4)
    warm(floor, warmupMs / 4)
  }
  const nSubject = calibrate(subject, roundMs)
  const nFloor = calibrate(floor, roundMs)
  const subjectNs = []
  const floorNs = []
  const ratios = []
  for (let r = 0; r < rounds; r++) {
    let a
    let b
    if (r % 2 === 0) {
      a = round(subject, nSubject)
      b = round(floor, nFloor)
    } else {
      b = round(floor, nFloor)
      a = round(subject, nSubject)
    }
    subjectNs.push(a)
    floorNs.push(b)
    ratios.push(a / b)
  }
  return {
    subjectNs: median(subjectNs),
    floorNs: median(floorNs),
    ratio: median(ratios),
    ratioLow: quantile(ratios, 0.25),
    ratioHigh: quantile(ratios, 0.75),
    // Interference from other processes only ever adds time: the fastest rounds of each side are
    // the least disturbed, so their ratio is a second, contention-resistant estimate.
    ratioBest: Math.min(...subjectNs) / Math.min(...floorNs),
    rounds,
    iterations: { subject: nSubject, floor: nFloor },
  }
}

/** Times several functions in interleaved rounds; returns the median ns per call of each. */
export function timeEach(fns, { rounds = 15, roundMs = 30, warmupMs = 200 } = {}) {
  const names = Object.keys(fns)
  for (const name of names) warm(fns[name], warmupMs)
  const counts = Object.fromEntries(names.map((name) => [name, calibrate(fns[name], roundMs)]))
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse()
    for (const name of order) samples[name].push(wallRound(fns[name], counts[name]))
  }
  return Object.fromEntries(names.map((name) => [name, median(samples[name])]))
}
