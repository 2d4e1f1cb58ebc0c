// The machine side of the HTTP benches (bench/http.mjs, bench/http-peers.mjs): the server pinned to
// one CPU and the load generator (bench/lib/load.mjs) to another.

import { execFileSync, fork, spawn } from 'node:child_process'
import os from 'node:os'

// On Linux with 2+ CPUs, the server (this process, all its threads) is pinned to one CPU and the
// load generator to another, so they never take turns on the same core, which otherwise makes the
// no-session server's rate jump between two modes from one run to the next. Restored afterwards.
export function pinCpus() {
  if (process.platform !== 'linux' || os.cpus().length < 2) return undefined
  try {
    const current = execFileSync('taskset', ['-a', '-c', '-p', String(process.pid)], { encoding: 'utf8' })
    const previous = current.slice(current.lastIndexOf(':') + 1).trim()
    execFileSync('taskset', ['-a', '-c', '-p', '0', String(process.pid)], { stdio: 'ignore' })
    return { server: 0, load: 1, restore: () => execFileSync('taskset', ['-a', '-c', '-p', previous, String(process.pid)], { stdio: 'ignore' }) }
  } catch {
    return undefined
  }
}

/** The load generator in a child process, on the CPU `pinned` leaves it. */
export function startLoadGenerator(pinned) {
  const script = new URL('./load.mjs', import.meta.url).pathname
  const stdio = ['ignore', 'inherit', 'inherit', 'ipc']
  if (pinned === undefined) return fork(script, { stdio })
  return spawn('taskset', ['-c', String(pinned.load), process.execPath, script], { stdio })
}
