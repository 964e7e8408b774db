/**
 * Helpers for tests and benchmarks that need a real Redis: start `redis-server` processes
 * (standalone, or a 3-master cluster) on free local ports, kill them with -9, pause them,
 * start them again. Requires Debian's (or any) `redis-server` and `redis-cli` on PATH.
 */
export { clusterNodesFromEnv, freePort, RedisProcess, redisServerAvailable, startCluster } from './stores/redis-test-server.js';
