// A redis-server of its own for bench/http-peers.mjs's store group: a free 127.0.0.1 port, a
// temporary directory, nothing persisted (as test/helpers/redis.ts starts one for the tests),
// optionally pinned to one CPU; stopped and removed by stop(). Its CPU time is read with INFO, so
// the bench can say what Redis itself spends per request beside the server's own CPU.

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const REDIS_SERVER = process.env.FRASCO_REDIS_SERVER ?? 'redis-server'

/** Whether redis-server can be run here. */
export function redisAvailable() {
  return spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

/**
 * Starts redis-server (pinned to `cpu` with taskset when given) and connects a control client.
 * Returns `{ url, cpuSeconds(), stop() }`; `cpuSeconds` is the server's user + system CPU so far.
 */
export async function startRedis({ cpu } = {}) {
  const { createClient } = await import('redis')
  const dir = mkdtempSync(join(tmpdir(), 'frasco-bench-redis-'))
  let lastError
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no']
    const child = cpu === undefined ? spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('taskset', ['-c', String(cpu), REDIS_SERVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (chunk) => (output = (output + chunk.toString('utf8')).slice(-4000))
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const exited = new Promise((resolve) => child.once('exit', resolve))
    const stopChild = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await exited
      }
    }
    const url = `redis://127.0.0.1:${port}`
    try {
      const control = await connectWhenReady(createClient, url, child, () => output)
      return {
        url,
        async cpuSeconds() {
          const info = await control.info('cpu')
          const field = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1])
          return field('used_cpu_user') + field('used_cpu_sys')
        },
        async stop() {
          await control.close().catch(() => {})
          await stopChild()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    } catch (error) {
      lastError = error
      await stopChild()
    }
  }
  rmSync(dir, { recursive: true, force: true })
  throw lastError
}

/** Connects once the server answers, for up to 10 s; fails at once if it exits (a taken port). */
async function connectWhenReady(createClient, url, child, output) {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}:\n${output()}`)
    const client = createClient({ url, socket: { reconnectStrategy: false } })
    client.on('error', () => {})
    try {
      await client.connect()
      if ((await client.ping()) === 'PONG') return client
    } catch {
      await client.close().catch(() => {})
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`redis-server did not answer on ${url} within 10 s:\n${output()}`)
}
