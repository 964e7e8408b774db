/**
 * Real redis-server processes for the integration tests. Under CI (CI=true) a missing
 * redis-server fails the run; on a developer machine without it the Redis tests are skipped
 * with a visible message. PM_REDIS_URL / PM_REDIS_CLUSTER_NODES (exported by .ci/run) point the
 * tests at servers it started; otherwise the tests start their own.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function redisServerAvailable(): Promise<boolean> {
  try {
    await run('redis-server', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** Whether the Redis suites run; logs why not when they are skipped, throws under CI. */
export async function redisTestsEnabled(suite: string): Promise<boolean> {
  if (process.env.PM_REDIS_URL !== undefined || (await redisServerAvailable())) return true;
  if (process.env.CI === 'true') throw new Error(`${suite}: redis-server is required under CI (apt-get install -y redis-server)`);
  console.warn(`\n  SKIPPED ${suite}: redis-server is not installed (apt-get install -y redis-server to run these tests)\n`);
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
      // A server with requirepass answers NOAUTH: it is up.
      if (stdout.trim() === 'PONG' || stdout.includes('NOAUTH')) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A redis-server this test owns: it can be killed (-9) and started again on the same port. */
export class RedisProcess {
  #child: ChildProcess | undefined;
  #dir: string | undefined;

  private constructor(
    readonly port: number,
    readonly extraArgs: readonly string[],
  ) {}

  static async start(extraArgs: readonly string[] = []): Promise<RedisProcess> {
    const server = new RedisProcess(await freePort(), extraArgs);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port, with no data: a server back from a crash, without persistence. */
  async restart(): Promise<void> {
    this.#dir ??= await mkdtemp(path.join(tmpdir(), 'pm-redis-'));
    this.#child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.#dir, ...this.extraArgs],
      { stdio: 'ignore' },
    );
    await waitForPing(this.port);
  }

  /** `kill -9`: no shutdown, connections simply drop. */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (child?.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: the server keeps its connections but answers nothing, as a hung host would. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.resume();
    await this.kill9();
    if (this.#dir !== undefined) await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Three masters, no replicas: enough for keys to spread over slots on every node. */
export async function startCluster(): Promise<{ nodes: { host: string; port: number }[]; stop: () => Promise<void> }> {
  const servers = await Promise.all(
    [0, 1, 2].map(() => RedisProcess.start(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'])),
  );
  await run('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '0', '--cluster-yes']);
  const deadline = Date.now() + 20_000;
  const [first] = servers as [RedisProcess, ...RedisProcess[]];
  for (;;) {
    const { stdout } = await run('redis-cli', ['-p', String(first.port), 'cluster', 'info']);
    if (stdout.includes('cluster_state:ok')) break;
    if (Date.now() > deadline) throw new Error('the test cluster did not reach cluster_state:ok');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/** Cluster nodes from PM_REDIS_CLUSTER_NODES ("host:port,host:port,..."), if set. */
export function clusterNodesFromEnv(): { host: string; port: number }[] | undefined {
  const raw = process.env.PM_REDIS_CLUSTER_NODES;
  if (raw === undefined || raw === '') return undefined;
  return raw.split(',').map((node) => {
    const [host, port] = node.trim().split(':');
    return { host: host ?? '127.0.0.1', port: Number(port) };
  });
}
