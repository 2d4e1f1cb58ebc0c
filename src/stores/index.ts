// `frasco/stores`: where server-side sessions keep their data (createSessions({ store }) or
// createSessions({ revocation })). Re-exports only: no logic lives here.
export { createMemoryStore, type MemoryStoreOptions } from './memory.js'
export {
  createRedisStore,
  type IoredisClientLike,
  type NodeRedisClientLike,
  type NodeRedisClusterLike,
  type NodeRedisLegacyClientLike,
  type NodeRedisSentinelLike,
  type RedisClientLike,
  type RedisStoreOptions,
} from './redis.js'
export { fromExpressStore, type ExpressStoreLike, type ExpressStoredSession } from './express.js'
export type { SessionStore, StoreChange } from './store.js'
