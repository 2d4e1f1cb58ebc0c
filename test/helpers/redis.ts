/**
 * A real `redis-server` for the store tests: one per test file, on a free 127.0.0.1 port, in a
 * temporary directory, persisting nothing; stopped and removed after the file's tests.
 *
 * Without redis-server the suites skip off CI, saying how to install it (Debian's package); in CI
 * (`CI=true` or `1`) they fail instead, so a missing install step cannot pass as green.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** The server binary: Debian's `apt-get install redis-server` puts it on the PATH. */
const REDIS_SERVER = process.env.FRASCO_REDIS_SERVER ?? 'redis-server'

/** Whether redis-server can be run here. */
export const redisAvailable = spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0

const INSTALL_COMMAND = 'sudo apt-get install redis-server'
const INSTALL_HINT = `install Redis with \`${INSTALL_COMMAND}\` (Debian's Redis 7), or point FRASCO_REDIS_SERVER at a redis-server binary`

/** CI services set CI=true (some CI=1); there a missing Redis fails the run instead of skipping. */
const ON_CI = /^(true|1)$/i.test(process.env.CI ?? '')

/** A running server; `port` and `url` are set once the file's `beforeAll` has started it. */
export interface RedisServer {
  port: number
  url: string
  /** Sends one command over a fresh connection (for checks behind the store's back): the raw reply. */
  command(...args: string[]): Promise<Reply>
}

/** A RESP2 reply, decoded just enough for the tests. */
export type Reply = string | number | null | Reply[]

/**
 * A `describe` whose tests get a real Redis: the server starts before them and stops after them.
 * With `cluster`, the server is a one-node Redis Cluster owning every slot (so cluster clients
 * work against it). Without redis-server: skipped off CI with the install command, failing in CI.
 */
export function describeRedis(name: string, body: (server: RedisServer) => void, options: { cluster?: boolean } = {}): void {
  // Skipped only off CI, and only without Redis; in CI the missing install is a failing test.
  const skipped = !redisAvailable && !ON_CI
  if (skipped) console.warn(`skipped "${name}": ${REDIS_SERVER} is not installed; ${INSTALL_HINT}`)
  const required = (): void => {
    it('has a real redis-server to test against', () => {
      throw new Error(`${REDIS_SERVER} is not installed but CI requires it: ${INSTALL_HINT} (.ci/run does)`)
    })
  }
  describe.skipIf(skipped)(skipped ? `${name} (skipped: install Redis with \`${INSTALL_COMMAND}\`)` : name, () => {
    if (!redisAvailable) return required()
    const server: RedisServer = { port: 0, url: '', command: (...args) => command(server.port, args) }
    let stop = async (): Promise<void> => {}
    beforeAll(async () => {
      const started = await startRedis(options.cluster === true)
      Object.assign(server, { port: started.port, url: `redis://127.0.0.1:${started.port}` })
      stop = started.stop
    }, 20_000)
    // Registered before the body's hooks, so it runs after them: clients close before the server.
    afterAll(() => stop(), 20_000)
    body(server)
  })
}

/** A port nobody listens on now: the kernel's pick for port 0 (redis needs a concrete port). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

/** Starts a server and waits until it answers (retrying on another port if the first was taken). */
async function startRedis(cluster: boolean): Promise<{ port: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'frasco-redis-'))
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const child = spawnRedis(port, dir, cluster)
    try {
      await ready(port, child)
      if (cluster) await ownAllSlots(port)
      return { port, stop: () => stopRedis(child, dir) }
    } catch (error) {
      lastError = error
      await stopRedis(child, undefined)
    }
  }
  rmSync(dir, { recursive: true, force: true })
  throw lastError
}

function spawnRedis(port: number, dir: string, cluster: boolean): ChildProcess & { output: string } {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no']
  if (cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-announce-ip', '127.0.0.1')
  const child = Object.assign(spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] }), { output: '' })
  const keep = (chunk: Buffer): void => {
    child.output = (child.output + chunk.toString('utf8')).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return child
}

/** Polls PING until PONG, for up to 10 s; fails at once if the server exits (a taken port). */
async function ready(port: number, child: ChildProcess & { output: string }): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}:\n${child.output}`)
    if ((await command(port, ['PING']).catch(() => null)) === 'PONG') return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`redis-server did not answer PING on port ${port} within 10 s:\n${child.output}`)
}

/** Makes a cluster-mode server a one-node cluster owning all 16384 slots, and waits until it is ok. */
async function ownAllSlots(port: number): Promise<void> {
  await command(port, ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383'])
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const info = await command(port, ['CLUSTER', 'INFO'])
    if (typeof info === 'string' && info.includes('cluster_state:ok')) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`the one-node cluster on port ${port} did not reach cluster_state:ok within 10 s`)
}

async function stopRedis(child: ChildProcess, dir: string | undefined): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    // SIGTERM: with `--save ''` and no AOF, Redis exits without writing anything.
    child.kill('SIGTERM')
    await exited
  }
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
}

/** Sends one command in RESP over a fresh connection and decodes the one reply. */
function command(port: number, args: readonly string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let received = Buffer.alloc(0)
    socket.on('error', reject)
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const decoded = decode(received, 0)
      if (decoded === undefined) return
      socket.end()
      if (decoded.error !== undefined) reject(new Error(decoded.error))
      else resolve(decoded.value)
    })
    socket.write(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`)
  })
}

/** One RESP2 reply from `buffer` at `at`, or undefined when more bytes are needed. */
function decode(buffer: Buffer, at: number): { value: Reply; error?: string; next: number } | undefined {
  const end = buffer.indexOf('\r\n', at)
  if (end < 0) return undefined
  const line = buffer.toString('utf8', at + 1, end)
  switch (String.fromCharCode(buffer[at] as number)) {
    case '+':
      return { value: line, next: end + 2 }
    case '-':
      return { value: null, error: line, next: end + 2 }
    case ':':
      return { value: Number(line), next: end + 2 }
    case '$': {
      const length = Number(line)
      if (length < 0) return { value: null, next: end + 2 }
      if (buffer.length < end + 2 + length + 2) return undefined
      return { value: buffer.toString('utf8', end + 2, end + 2 + length), next: end + 2 + length + 2 }
    }
    case '*': {
      const count = Number(line)
      if (count < 0) return { value: null, next: end + 2 }
      const items: Reply[] = []
      let next = end + 2
      for (let i = 0; i < count; i++) {
        const item = decode(buffer, next)
        if (item === undefined) return undefined
        items.push(item.value)
        next = item.next
      }
      return { value: items, next }
    }
    default:
      throw new Error(`unexpected RESP reply: ${line}`)
  }
}

/**
 * A node-redis v5 client of `server` for the enclosing suite: connected before its tests, closed
 * after them, and the suite fails if the client reported an error on the way. Read `.client`
 * inside tests only.
 */
export function useRedisClient(server: RedisServer): { readonly client: ReturnType<typeof createClient> } {
  let client: ReturnType<typeof createClient> | undefined
  const errors: unknown[] = []
  beforeAll(async () => {
    client = createClient({ url: server.url }).on('error', (error: unknown) => errors.push(error))
    await client.connect()
  })
  afterAll(async () => {
    await client?.close()
    expect(errors).toEqual([])
  })
  return {
    get client() {
      if (client === undefined) throw new Error('the Redis client is connected in beforeAll: read it inside a test')
      return client
    },
  }
}
