/**
 * The Redis store through cluster clients (node-redis v5 and v4 `createCluster`, ioredis
 * `Cluster`), on a one-node Redis Cluster owning every slot: the clients route each command by
 * its key as they would across nodes, and the server refuses a script touching undeclared keys.
 */
import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { createCluster as createCluster4 } from 'redis4'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisStore, type RedisClientLike } from '../../src/stores/redis.js'
import { describeRedis } from '../helpers/redis.js'
import { change, describeStoreContract, fields, newId, sorted } from './contract.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

let prefixes = 0
const freshPrefix = (): string => `c${++prefixes}:`

describeRedis(
  'createRedisStore on Redis Cluster',
  (server) => {
    let v5: ReturnType<typeof createCluster>
    let v4: ReturnType<typeof createCluster4>
    let io: Cluster
    const errors: unknown[] = []

    beforeAll(async () => {
      v5 = createCluster({ rootNodes: [{ url: server.url }] }).on('error', (error) => errors.push(error))
      v4 = createCluster4({ rootNodes: [{ url: server.url }] }).on('error', (error) => errors.push(error))
      io = new Cluster([{ host: '127.0.0.1', port: server.port }], { lazyConnect: true }).on('error', (error) => errors.push(error))
      await Promise.all([v5.connect(), v4.connect(), io.connect()])
    })

    afterAll(async () => {
      await Promise.all([v5?.close(), v4?.quit(), io?.quit()])
      expect(errors).toEqual([])
    })

    const contract = (name: string, client: () => RedisClientLike): void =>
      describeStoreContract(name, () => ({ store: createRedisStore(client(), { prefix: freshPrefix() }), elapse: sleep }), { atomic: true })
    // One concurrent block: the three clients' real-time TTL waits overlap instead of adding up.
    describe.concurrent('every cluster client', () => {
      contract('node-redis v5 createCluster', () => v5)
      contract('node-redis v4 createCluster', () => v4)
      contract('ioredis Cluster', () => io)
    })

    it('a session written through one cluster client reads the same through the others', async () => {
      const prefix = freshPrefix()
      const id = newId()
      await createRedisStore(v5, { prefix }).save(id, change({ create: true, set: fields([['a', '1']]), user: 'ada' }))
      expect(sorted(await createRedisStore(io, { prefix }).load(id))).toEqual([['a', '1']])
      expect(await createRedisStore(v4, { prefix }).destroyUser('ada')).toBe(1)
    })
  },
  { cluster: true },
)
