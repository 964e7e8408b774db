import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { redactUrl } from '../redact.js';
import { CacheAuthError, CacheStoreError, type StoreFailure } from '../errors.js';
import { WriteBatching } from './write-batching.js';

/** How to reach Redis: a URL, Cluster seed nodes, or a client you own. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port/db` or `rediss://` for TLS. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** Redis Cluster seed nodes; `username`, `password` and `tls` apply to every node. */
  clusterNodes?: ClusterNode[];
  /** ACL user for `clusterNodes` (in a URL, put it in the URL). */
  username?: string;
  /** Password for `clusterNodes` (in a URL, put it in the URL). Never logged. */
  password?: string;
  /** TLS options for `clusterNodes` (a `rediss://` URL turns TLS on by itself). */
  tls?: RedisOptions['tls'];
  /** An ioredis client (standalone or Cluster) you own; it is never closed for you. */
  client?: Redis | Cluster;
  /** Bound on one command; nothing waits longer, nothing queues while disconnected. @default 500 */
  commandTimeoutMs?: number;
}

/** Why Redis is not answering, as far as the last error tells. */
export type RedisProblem = StoreFailure;

const AUTH_ERROR =
  /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username-password|AUTH <password> called without any password|Client sent AUTH, but no password is set/i;
/** Redis answered and refused the command: out of memory (noeviction), a read-only replica, a failed snapshot. */
const REFUSED_ERROR = /^(OOM|READONLY|MISCONF)\b/;
const UNREACHABLE_ERROR =
  /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ECONNRESET|EPIPE|Connection is closed|connect ETIMEDOUT|Stream isn't writeable|Command timed out|None of startup nodes is available|Failed to refresh slots cache/i;
const GENERIC_ERROR = /Connection is closed|Stream isn't writeable/;
const REDACTED = '***';

/** Classifies a Redis error: authentication, unreachable, or some other failure. */
export function classifyRedisError(error: unknown): RedisProblem {
  const message = error instanceof Error ? error.message : String(error);
  if (AUTH_ERROR.test(message)) return 'auth';
  if (REFUSED_ERROR.test(message)) return 'refused';
  if (UNREACHABLE_ERROR.test(message)) return 'unreachable';
  return 'failed';
}

export { redactUrl };

/** Connection settings that bound every command in time and queue nothing while Redis is down. */
function boundedOptions(commandTimeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(1000, commandTimeoutMs),
    maxRetriesPerRequest: 1,
    // A command that timed out on a dropped connection was reported failed (and its write queued
    // as a removal); ioredis would send it again on reconnect, landing a write the cache gave up
    // on after newer ones. Failed means failed.
    autoResendUnfulfilledCommands: false,
    // Reconnect forever, backing off to 1 s, so a returning Redis is found within a second.
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 1000),
  };
}

/**
 * One Redis client, built the one way this package builds them (standalone or Cluster, bounded
 * in time, never queueing while down), that remembers why it last failed and keeps credentials
 * out of every message it makes.
 */
export class RedisConnection {
  readonly client: Redis | Cluster;
  /** Where it points, credentials redacted: safe to log and print. */
  readonly target: string;
  /** Batches the socket writes of commands sent in one tick while others await their replies. */
  readonly writes = new WriteBatching(() => this.masters().map((node) => node.stream));
  readonly #owned: boolean;
  readonly #secrets: string[];
  /** host:port (or the cluster's seed nodes) without credentials or database: what pub/sub is shared across. */
  readonly #server: string | undefined;
  #lastError: Error | undefined;

  constructor(options: RedisConnectionOptions = {}) {
    const timeout = options.commandTimeoutMs ?? 500;
    const url = options.url ?? 'redis://127.0.0.1:6379';
    this.#secrets = [options.password, passwordOf(url)].filter((s): s is string => s !== undefined && s.length >= 3);
    if (options.client !== undefined) {
      this.client = options.client;
      this.#owned = false;
      this.target = 'a client you own';
      this.#server = undefined;
    } else if (options.clusterNodes !== undefined) {
      const redisOptions: RedisOptions = {
        ...boundedOptions(timeout),
        ...(options.username === undefined ? {} : { username: options.username }),
        ...(options.password === undefined ? {} : { password: options.password }),
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      };
      this.client = new Cluster(options.clusterNodes, {
        lazyConnect: true,
        enableOfflineQueue: false,
        redisOptions,
        clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 1000),
      });
      this.#owned = true;
      const nodes = options.clusterNodes.map((node) =>
        typeof node === 'object' ? `${node.host ?? '127.0.0.1'}:${String(node.port ?? 6379)}` : String(node),
      );
      this.target = `cluster ${nodes.join(',')}`;
      this.#server = `cluster ${[...nodes].sort().join(',')}`;
    } else {
      this.client = new Redis(url, boundedOptions(timeout));
      this.#owned = true;
      this.target = redactUrl(url);
      this.#server = serverOf(url);
    }
    // ioredis reports connection problems as events; remember the last one to say why.
    this.client.on('error', (error: Error) => {
      this.#lastError = error;
    });
    this.client.on('ready', () => {
      this.#lastError = undefined;
    });
  }

  /** The last connection error while not ready, classified and redacted. */
  get problem(): { kind: RedisProblem; message: string } | undefined {
    if (this.#lastError === undefined) return undefined;
    return { kind: classifyRedisError(this.#lastError), message: this.redact(this.#lastError.message) };
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Connects unless connecting or connected already (so start() after stop() reconnects). */
  async connect(): Promise<void> {
    if (['connecting', 'connect', 'ready', 'reconnecting'].includes(this.client.status)) return;
    try {
      await this.client.connect();
    } catch (error) {
      throw this.error('cannot connect to', error);
    }
  }

  /** Disconnects (if this connection made the client) and resolves once it has really ended, or after a second. */
  async close(): Promise<void> {
    if (!this.#owned) return;
    const client = this.client;
    if (client.status === 'end' || client.status === 'wait') return;
    let timer: NodeJS.Timeout | undefined;
    const ended = new Promise<void>((resolve) => {
      client.once('end', () => {
        resolve();
      });
      timer = setTimeout(resolve, 1000);
    });
    client.disconnect();
    if ((client.status as string) !== 'end') await ended;
    clearTimeout(timer);
  }

  /**
   * A store error for a failed operation that says what went wrong: `CacheAuthError` when Redis
   * refused the credentials, "unreachable" when it did not answer; credentials never included.
   */
  error(doing: string, error: unknown): CacheStoreError {
    // ioredis often rejects with a generic "Connection is closed"; the last error event says why.
    const generic = error instanceof Error && GENERIC_ERROR.test(error.message);
    const cause = this.#lastError !== undefined && (generic || classifyRedisError(this.#lastError) === 'auth') ? this.#lastError : error;
    const reason = this.redact(cause instanceof Error ? cause.message : String(cause));
    const kind = classifyRedisError(cause);
    if (kind === 'auth')
      return new CacheAuthError(`${doing} Redis at ${this.target}: authentication failed (${reason})`, { cause: new Error(reason) });
    const what = { unreachable: 'unreachable', refused: 'refused', failed: 'failed' }[kind];
    return new CacheStoreError(`${doing} Redis at ${this.target}: ${what} (${reason})`, { cause: new Error(reason), reason: kind });
  }

  /** `text` with every credential this connection knows replaced by `***`. */
  redact(text: string): string {
    let out = redactUrl(text);
    for (const secret of this.#secrets) out = out.replaceAll(secret, REDACTED);
    return out;
  }

  /** Whether a message published on this connection reaches the subscribers of `other`'s server. */
  sameServer(other: RedisConnection): boolean {
    return this.client === other.client || (this.#server !== undefined && this.#server === other.#server);
  }

  /** Every master (one on a standalone server): what SCAN must visit. */
  masters(): Redis[] {
    return this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
  }

  get isCluster(): boolean {
    return this.client instanceof Cluster;
  }
}

/** `host:port` of a Redis URL (pub/sub channels are shared across databases); undefined when it does not parse. */
function serverOf(url: string): string | undefined {
  try {
    const { protocol, hostname, port } = new URL(url);
    return `${protocol}//${hostname}:${port === '' ? '6379' : port}`;
  } catch {
    return undefined;
  }
}

function passwordOf(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}
