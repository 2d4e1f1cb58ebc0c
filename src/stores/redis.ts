/**
 * A session store in Redis, through the client the application already has: node-redis (v4, v5:
 * client, pool, cluster, sentinel) or ioredis (client or cluster). No Redis package is imported;
 * the client is recognised by its shape and sent raw commands.
 *
 * Layout, under a prefix (default `frasco:`):
 * - `<prefix>s:<id>`: a session, a hash with one field per session key (`d:<name>`, so no name
 *   collides with the marker `v`, which makes a session with no keys still exist); its TTL is the
 *   session's.
 * - `<prefix>u:<user>`: a user's index, the set of their session ids; its TTL is at least that of
 *   every session it lists.
 *
 * Each save is one Lua script on one key, so it is atomic (concurrent requests changing different
 * keys both land; a save never revives a destroyed session) and Cluster-safe.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { strictOptions, type Hints } from '../lib/options.js'
import { INDEX_SCRIPT, INDEX_SHA, SAVE_SCRIPT, SAVE_SHA } from './lua.js'
import { checkedStore, emptyFields, type SessionStore, type StoreChange } from './store.js'

/**
 * An ioredis client, `new Redis()` or `new Redis.Cluster()`: both send any command with `call`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * const client: IoredisClientLike = new Redis(process.env.REDIS_URL!)
 * ```
 */
export interface IoredisClientLike {
  call(command: string, ...args: string[]): Promise<unknown>
}

/**
 * A connected node-redis client (v4 or v5 `createClient`, v5 `createClientPool`).
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * const client: NodeRedisClientLike = await createClient({ url: process.env.REDIS_URL }).connect()
 * ```
 */
export interface NodeRedisClientLike {
  sendCommand(args: string[]): Promise<unknown>
}

/**
 * A connected node-redis cluster (v4 or v5 `createCluster`): commands are routed by their key.
 *
 * @example
 * ```ts
 * import { createCluster } from 'redis'
 * const cluster: NodeRedisClusterLike = await createCluster({ rootNodes: [{ url }] }).connect()
 * ```
 */
export interface NodeRedisClusterLike {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>
  nodeClient(node: never): unknown
}

/**
 * A connected node-redis v5 sentinel client (`createSentinel`).
 *
 * @example
 * ```ts
 * import { createSentinel } from 'redis'
 * const sentinel: NodeRedisSentinelLike = await createSentinel({ name: 'main', sentinelRootNodes }).connect()
 * ```
 */
export interface NodeRedisSentinelLike {
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>
  getMasterNode(): unknown
}

/**
 * A node-redis v4 client made with `legacyMode: true`: its promise API is under `v4`.
 *
 * @example
 * ```ts
 * const legacy: NodeRedisLegacyClientLike = createClient({ legacyMode: true })
 * ```
 */
export interface NodeRedisLegacyClientLike {
  readonly v4: NodeRedisClientLike
}

/**
 * Every client {@link createRedisStore} takes.
 *
 * @example
 * ```ts
 * const client: RedisClientLike = await createClient({ url: process.env.REDIS_URL }).connect()
 * const store = createRedisStore(client)
 * ```
 */
export type RedisClientLike = IoredisClientLike | NodeRedisClientLike | NodeRedisClusterLike | NodeRedisSentinelLike | NodeRedisLegacyClientLike

/**
 * Options of {@link createRedisStore}.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { prefix: 'shop:sessions:' }
 * const store = createRedisStore(client, options)
 * ```
 */
export interface RedisStoreOptions {
  /** Put before every key, to share a database with other data or apps. Default `'frasco:'`. */
  prefix?: string
}

const KNOWN = new Set(['prefix'])

/** What connect-redis, ioredis and others call things the store takes elsewhere or not at all. */
const HINTS: Hints = {
  client: 'pass the client as the first argument: createRedisStore(client, { prefix })',
  keyPrefix: 'did you mean `prefix`?',
  ttl: "each save carries its session's TTL; the store has no TTL of its own",
  disableTTL: 'sessions always expire with their TTL',
  disableTouch: 'a save always resets the TTL, and only a save does',
  serializer: 'the manager encodes values; the store keeps the strings it is given',
  scanCount: 'the store never scans: a user index lists their sessions',
}

/** Sends one command; `key` is the key it touches, which a cluster routes by. */
type Send = (key: string, args: string[]) => Promise<unknown>

/**
 * Put before each session key's name in the hash, so no name can collide with the field `v` that
 * the save script (./lua.ts) writes to mark the session as existing and name the layout's version.
 */
const DATA = 'd:'

/**
 * A {@link SessionStore} in Redis, through your own connected client, which you close yourself.
 *
 * Needs Redis 2.6 or later (Lua scripting); works with Redis Cluster. Replies are read from the
 * primary, never a replica, so a destroyed session is gone for the very next request.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect()
 * const store = createRedisStore(client, { prefix: 'shop:' })
 * await store.save(id, { set: { cart: '[]' }, remove: [], ttl: 3600, create: true, user: 'ada' })
 * await store.destroyUser('ada') // 1
 * ```
 */
export function createRedisStore(client: RedisClientLike, options?: RedisStoreOptions): SessionStore {
  const send = sender(client)
  const { prefix = 'frasco:' } = strictOptions(options, KNOWN, 'createRedisStore', HINTS)
  if (typeof prefix !== 'string' || !prefix.isWellFormed()) throw new TypeError("option prefix is invalid: give a string put before every key, like 'frasco:'")
  const sessionKey = (id: string): string => `${prefix}s:${id}`
  const userKey = (user: string): string => `${prefix}u:${user}`
  return checkedStore({
    async load(id) {
      const key = sessionKey(id)
      return fieldsOf(await send(key, ['HGETALL', key]))
    },
    async save(id, change) {
      // The index first: if this save then fails, the index lists a session that may not exist
      // (harmless), rather than a session existing that "log out everywhere" cannot find.
      if (change.user !== undefined) await indexSession(send, userKey(change.user), id, change.ttl)
      return saveSession(send, sessionKey(id), change)
    },
    async destroy(id) {
      const key = sessionKey(id)
      await send(key, ['DEL', key])
    },
    async destroyUser(user) {
      return destroyUser(send, userKey(user), sessionKey)
    },
  })
}

/** How to send a command through `client`, recognised by its shape; anything else is a TypeError. */
function sender(client: RedisClientLike): Send {
  if (typeof client === 'object' && client !== null) {
    const shape = client as unknown as Partial<Record<string, unknown>>
    // ioredis (client and cluster) sends any command with `call`; no node-redis object has one.
    if (typeof shape.call === 'function') {
      const ioredis = client as IoredisClientLike
      return (_key, [command, ...args]) => ioredis.call(command as string, ...args)
    }
    const legacy = legacyClient(client)
    if (legacy !== undefined) return (_key, args) => legacy.sendCommand(args)
    if (typeof shape.sendCommand === 'function') {
      // Every command goes to the primary (isReadonly false): a replica may still hold a session
      // that was just destroyed.
      if (typeof shape.nodeClient === 'function') {
        const cluster = client as NodeRedisClusterLike
        return (key, args) => cluster.sendCommand(key, false, args)
      }
      if (typeof shape.getMasterNode === 'function') {
        const sentinel = client as NodeRedisSentinelLike
        return (_key, args) => sentinel.sendCommand(false, args)
      }
      const plain = client as NodeRedisClientLike
      return (_key, args) => plain.sendCommand(args)
    }
  }
  throw new TypeError(
    'client is invalid: createRedisStore takes a connected node-redis client (createClient, createClientPool, createCluster or createSentinel from redis v4 or v5) or an ioredis client (new Redis() or new Redis.Cluster())',
  )
}

/** The promise API of a node-redis v4 `legacyMode` client, whose own `sendCommand` takes callbacks. */
function legacyClient(client: object): NodeRedisClientLike | undefined {
  // Stryker disable next-line ConditionalExpression: equivalent, without v4 the read below gives undefined all the same (test/mutation-equivalents.md)
  if (!('v4' in client)) return undefined
  try {
    // node-redis v4 throws from the `v4` getter when the client is not in legacy mode.
    const v4 = (client as { v4?: unknown }).v4 as Partial<NodeRedisClientLike> | undefined
    // Stryker disable next-line ConditionalExpression: equivalent, no client the store takes has a v4 without sendCommand (test/mutation-equivalents.md)
    return typeof v4?.sendCommand === 'function' ? (v4 as NodeRedisClientLike) : undefined
  } catch {
    return undefined
  }
}

/**
 * Runs a one-key script by digest, loading it with EVAL when this server has not seen it yet
 * (after a restart, a failover or SCRIPT FLUSH).
 */
async function evalScript(send: Send, script: string, sha: string, key: string, args: string[]): Promise<unknown> {
  try {
    return await send(key, ['EVALSHA', sha, '1', key, ...args])
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return send(key, ['EVAL', script, '1', key, ...args])
  }
}

async function saveSession(send: Send, key: string, change: StoreChange): Promise<boolean> {
  const names = Object.keys(change.set)
  // Stryker disable next-line StringLiteral: equivalent, the save script tests ARGV[1] == '1' only (test/mutation-equivalents.md)
  const args = [change.create ? '1' : '0', String(change.ttl * 1000), String(names.length)]
  for (const name of names) args.push(DATA + name, change.set[name] as string)
  for (const name of change.remove) args.push(DATA + name)
  return integer(await evalScript(send, SAVE_SCRIPT, SAVE_SHA, key, args)) === 1
}

function indexSession(send: Send, key: string, id: string, ttl: number): Promise<unknown> {
  return evalScript(send, INDEX_SCRIPT, INDEX_SHA, key, [id, String(ttl * 1000)])
}

/**
 * Deletes the sessions the index lists, one DEL per key (in a cluster they live in different
 * slots), then unlists exactly those ids: an id listed meanwhile (a login racing this call) stays
 * listed, and if a DEL fails the index still lists every session, so a retry finds them.
 */
async function destroyUser(send: Send, key: string, sessionKey: (id: string) => string): Promise<number> {
  const ids = texts(await send(key, ['SMEMBERS', key]))
  if (ids.length === 0) return 0
  const deleted = await Promise.all(ids.map((id) => send(sessionKey(id), ['DEL', sessionKey(id)])))
  await send(key, ['SREM', key, ...ids])
  return deleted.reduce<number>((count, reply) => count + integer(reply), 0)
}

/**
 * A session's fields from an HGETALL reply: a flat [name, value, …] array (RESP2, and ioredis's
 * `call`), or a Map or object (node-redis with RESP3). No field at all means no such key.
 */
function fieldsOf(reply: unknown): Record<string, string> | undefined {
  const entries = hashEntries(reply)
  if (entries.length === 0) return undefined
  const fields = emptyFields()
  for (const [name, value] of entries) {
    // Anything but a data field (the marker, or a field of a future layout) is not a session key.
    if (name.startsWith(DATA)) fields[name.slice(DATA.length)] = value
  }
  return fields
}

function hashEntries(reply: unknown): Array<[string, string]> {
  if (reply === null || reply === undefined) return []
  if (Array.isArray(reply)) {
    if (reply.length % 2 !== 0) throw unexpected('a hash, for HGETALL')
    const entries: Array<[string, string]> = []
    for (let i = 0; i < reply.length; i += 2) entries.push([text(reply[i]), text(reply[i + 1])])
    return entries
  }
  if (reply instanceof Map) return [...reply].map(([name, value]) => [text(name), text(value)])
  if (typeof reply === 'object' && !isBytes(reply)) {
    return Object.keys(reply).map((name) => [name, text((reply as Record<string, unknown>)[name])])
  }
  throw unexpected('a hash, for HGETALL')
}

/** The members of a set reply: an array (RESP2) or a Set (RESP3 with a Set type mapping). */
function texts(reply: unknown): string[] {
  if (Array.isArray(reply) || reply instanceof Set) return [...(reply as Iterable<unknown>)].map(text)
  throw unexpected('a set, for SMEMBERS')
}

/** A bulk string reply as text: a string, or bytes when the client returns buffers. */
function text(value: unknown): string {
  if (typeof value === 'string') return value
  if (isBytes(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')
  throw unexpected('a string')
}

function integer(reply: unknown): number {
  if (typeof reply === 'number' || typeof reply === 'bigint') return Number(reply)
  throw unexpected('an integer')
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array
}

/** A reply of a shape no supported client gives; it says what was expected, never the content. */
function unexpected(expected: string): Error {
  return new Error(`the Redis client gave an unexpected reply (expected ${expected}); the store supports node-redis v4/v5 and ioredis`)
}
