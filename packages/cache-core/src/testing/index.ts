/**
 * `@pm/cache-core/testing`: the store conformance suite for third-party `CacheStore` drivers (as
 * bentocache exports its driver suite), and the real-Redis harness this package tests with:
 * `redis-server` processes on free ports (killed, paused, restarted empty) and a TCP proxy that
 * partitions one process from them. Needs vitest (for the suite) and Debian's (or any)
 * `redis-server` and `redis-cli` on PATH (for the harness).
 */
export { describeStoreConformance } from './store-conformance.js';
export { clusterNodesFromEnv, freePort, RedisProcess, redisServerAvailable, redisTestsEnabled, startCluster } from './redis-server.js';
export { TcpProxy } from './tcp-proxy.js';
export { canTestPermissions, OTHER_USER, WITHOUT_FILE_CAPABILITIES } from './file-permissions.js';
