/**
 * The Lua scripts of the Redis store, with their SHA-1 digests for EVALSHA.
 *
 * Each script touches exactly one key (KEYS[1]), so it runs atomically on one node and is safe in
 * Redis Cluster, where a session and its user's index can live in different slots. The digests are
 * written out rather than computed so the store needs no crypto module; test/stores/redis.test.ts
 * recomputes them, so an edited script cannot run under a stale digest.
 *
 * @internal
 * @module
 */

/**
 * Applies one save to a session hash. KEYS[1]: the hash. ARGV[1]: '1' to create, '0' to update;
 * ARGV[2]: the TTL in milliseconds; ARGV[3]: how many fields to set, then that many name/value
 * pairs, then the names to remove (names already carry the data prefix). Returns 1 when written,
 * 0 when an update found no session (nothing is written then: a destroyed session stays gone).
 *
 * The marker field `v` (the layout version) makes a session with no data fields still exist.
 * Fields are set one HSET at a time because unpack() of a long argument list overflows Lua's stack.
 *
 * @example
 * ```ts
 * await send(key, ['EVAL', SAVE_SCRIPT, '1', key, '0', '3600000', '1', 'd:cart', '[]', 'd:flash'])
 * ```
 */
export const SAVE_SCRIPT = `local key = KEYS[1]
if ARGV[1] == '1' then
  redis.call('DEL', key)
elseif redis.call('EXISTS', key) == 0 then
  return 0
end
local last = 3 + 2 * tonumber(ARGV[3])
for i = last + 1, #ARGV do
  redis.call('HDEL', key, ARGV[i])
end
redis.call('HSET', key, 'v', '1')
for i = 4, last, 2 do
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', key, ARGV[2])
return 1
`

/**
 * SHA-1 of {@link SAVE_SCRIPT}.
 *
 * @example
 * ```ts
 * await send(key, ['EVALSHA', SAVE_SHA, '1', key, ...args])
 * ```
 */
export const SAVE_SHA = 'e18d4c7b7f723db0c00b83e0493459bb1312a173'

/**
 * Lists a session in its user's index. KEYS[1]: the index set; ARGV[1]: the session id; ARGV[2]:
 * the session's TTL in milliseconds. The set's TTL is raised to the session's when shorter (or
 * absent), never lowered: the index must outlive every session it lists, and it expires once the
 * last of them has.
 *
 * @example
 * ```ts
 * await send(key, ['EVAL', INDEX_SCRIPT, '1', key, id, '3600000'])
 * ```
 */
export const INDEX_SCRIPT = `redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
`

/**
 * SHA-1 of {@link INDEX_SCRIPT}.
 *
 * @example
 * ```ts
 * await send(key, ['EVALSHA', INDEX_SHA, '1', key, id, '3600000'])
 * ```
 */
export const INDEX_SHA = 'aacc6cbc7060353364574e5e8984ad166f31e2f5'
