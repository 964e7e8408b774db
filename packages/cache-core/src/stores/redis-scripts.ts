/** The Lua scripts of `RedisStore`: each runs as one step on the server. */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A Lua script, sent by SHA once Redis knows it. */
export class Script {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }
}
export const RELEASE_LOCK = new Script("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end");
export const RENEW_LOCK = new Script(
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
);
/**
 * SET (with PX unless ARGV[2] is empty), then PUBLISH: a refused SET raises, so nothing is
 * announced. With a lock (KEYS[2]) still held by token ARGV[5], frees it too: a computed value
 * shared and its lock released in one step.
 */
export const SET_AND_PUBLISH = new Script(
  "if ARGV[2] == '' then redis.call('set', KEYS[1], ARGV[1]) else redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2]) end " +
    "local heard = redis.call('publish', ARGV[3], ARGV[4]) " +
    "if KEYS[2] and redis.call('get', KEYS[2]) == ARGV[5] then redis.call('del', KEYS[2]) end return heard",
);
/** GET the record; if there is none, SET NX the lock: `{1, record}`, `{2}` (locked for us) or `{3}` (held elsewhere). */
export const READ_OR_LOCK = new Script(
  "local record = redis.call('get', KEYS[1]) if record then return {1, record} end " +
    "if redis.call('set', KEYS[2], ARGV[1], 'px', ARGV[2], 'nx') then return {2} end return {3}",
);

/** Runs a script by its SHA, sending its text only when Redis does not know it yet. */
export async function runScript(
  client: Redis | Cluster,
  script: Script,
  keys: readonly (string | Buffer)[],
  ...args: (string | Buffer)[]
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  }
}
