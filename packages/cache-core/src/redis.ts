/**
 * `@pm/cache-core/redis`: the Redis tier (standalone or Cluster) and the Redis invalidation bus.
 * Needs `ioredis` (an optional peer dependency: install it next to this package).
 */
export { RedisStore, type RedisStoreOptions } from './stores/redis-store.js';
export { RedisInvalidationBus, type RedisInvalidationBusOptions } from './bus/redis-bus.js';
export { classifyRedisError, RedisConnection, redactUrl, type RedisConnectionOptions } from './stores/redis-connection.js';
