import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisInvalidationBus } from '../bus/redis-bus.js';
import { SharedPromptCache } from '../shared-prompt-cache.js';
import { FileStore } from '../stores/file-store.js';
import { RedisStore } from '../stores/redis-store.js';
import { freePort, RedisProcess, redisTestsEnabled } from '../testing/redis-server.js';

const tsx = createRequire(import.meta.url).resolve('tsx');
const bin = fileURLToPath(new URL('./bin.ts', import.meta.url));

/** Runs the real pm-cache executable; resolves its exit code and output. */
function pmCache(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', tsx, bin, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 99), stdout, stderr });
    });
  });
}

let dir: string;
let inputs: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pm-cli-'));
  inputs = await mkdtemp(path.join(tmpdir(), 'pm-cli-inputs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(inputs, { recursive: true, force: true });
});

describe('pm-cache with a file store', () => {
  const file = () => ['--store', 'file', '--dir', dir];

  it('sets, gets (exit 1 when absent), deletes and reports stats, with --json', async () => {
    expect(await pmCache('set', 'task_prompt:a', 'hello', '--ttl', '10m', ...file())).toMatchObject({
      code: 0,
      stdout: 'stored task_prompt:a\n',
    });
    expect(await pmCache('get', 'task_prompt:a', ...file())).toMatchObject({ code: 0, stdout: 'hello\n' });
    const json = await pmCache('get', 'task_prompt:a', '--json', ...file());
    expect(JSON.parse(json.stdout)).toMatchObject({ key: 'task_prompt:a', found: true, value: 'hello' });
    expect((JSON.parse(json.stdout) as { ttlMs: number }).ttlMs).toBeGreaterThan(590_000);
    expect(await pmCache('get', 'missing', ...file())).toMatchObject({ code: 1, stdout: 'not found: missing\n' });
    const stats = JSON.parse((await pmCache('stats', '--json', ...file())).stdout) as Record<string, unknown>;
    expect(stats).toMatchObject({ store: 'file', records: 1, corruptions: 0 });
    expect(await pmCache('delete', 'task_prompt:a', ...file())).toMatchObject({ code: 0 });
    expect(await pmCache('delete', 'task_prompt:a', ...file())).toMatchObject({ code: 1 });
  }, 60_000);

  it('stores JSON values, invalidates by pattern, warms from a file, cleans up and clears (only with --yes)', async () => {
    expect((await pmCache('set', 'cfg:1', '{"a":[1,2]}', '--json-value', ...file())).code).toBe(0);
    expect(JSON.parse((await pmCache('get', 'cfg:1', '--json', ...file())).stdout)).toMatchObject({ value: { a: [1, 2] } });
    const warm = path.join(inputs, 'warm.jsonl');
    await writeFile(warm, '{"key":"w:1","value":"one"}\n{"key":"w:2","value":{"two":2},"ttl":"1h"}\n{"key":"x:1","value":1,"ttl":1}\n');
    expect(await pmCache('warm', warm, ...file())).toMatchObject({ code: 0, stdout: 'loaded 3 entries\n' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await pmCache('cleanup', ...file())).toMatchObject({ code: 0, stdout: 'removed 1 expired or damaged record(s)\n' });
    expect(await pmCache('invalidate', 'w:*', ...file())).toMatchObject({ code: 0, stdout: 'removed 2 key(s) matching w:*\n' });
    expect(await pmCache('clear', ...file())).toMatchObject({ code: 2, stderr: expect.stringContaining('add --yes to confirm') as string });
    expect(await pmCache('clear', '--yes', ...file())).toMatchObject({ code: 0 });
    expect((await new FileStore({ dir }).stats()).records).toBe(0);
  }, 60_000);

  it('answers bad usage with exit 2 and a clear message', async () => {
    expect(await pmCache()).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: pm-cache') as string });
    expect(await pmCache('frobnicate', ...file())).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command "frobnicate"') as string,
    });
    expect(await pmCache('get', ...file())).toMatchObject({ code: 2, stderr: expect.stringContaining('get takes one key') as string });
    expect(await pmCache('get', 'k')).toMatchObject({ code: 2, stderr: expect.stringContaining('choose a store') as string });
    expect(await pmCache('set', 'k', 'v', '--ttl', 'soon', ...file())).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('ttl must be') as string,
    });
    expect(await pmCache('get', 'k', '--bogus', ...file())).toMatchObject({ code: 2 });
    expect((await pmCache('--help')).code).toBe(0);
  }, 60_000);

  it('lists keys with size and TTL as a table (escaping control characters), or as JSON', async () => {
    const store = new FileStore({ dir: await mkdtemp(path.join(tmpdir(), 'pm-cli-keys-')) });
    await store.set('agent:qa', { value: 'x'.repeat(2000), expiresAt: Infinity });
    await store.set('agent:eng', { value: 'y', expiresAt: Date.now() + 3_600_000 });
    await store.set('agent:\u001b[31mred', { value: 'z', expiresAt: Infinity });
    await store.set('task:1', { value: 1, expiresAt: Infinity });
    const args = ['--store', 'file', '--dir', store.dir];
    const { code, stdout } = await pmCache('keys', 'agent:*', ...args);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^key\s+size\s+ttl$/);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/)[0])).toEqual(['agent:\\u001b[31mred', 'agent:eng', 'agent:qa']);
    expect(stdout).not.toContain('\u001b');
    expect(stdout).toMatch(/agent:eng\s+\d+ B\s+(59m\d+s|1\.0h)/);
    expect(stdout).toMatch(/agent:qa\s+2\.\d KB\s+never expires/);
    const json = JSON.parse((await pmCache('keys', '*', '--limit', '2', '--json', ...args)).stdout) as unknown[];
    expect(json).toHaveLength(2);
    expect((await pmCache('keys', 'a', 'b', ...args)).code).toBe(2);
    expect((await pmCache('keys', '--limit', '0', ...args)).code).toBe(2);
  }, 60_000);

  it('prints stats as a table, and --watch refreshes it until interrupted (exit 0)', async () => {
    const table = await pmCache('stats', ...file());
    expect(table.stdout).toMatch(/^figure\s+value\n-+\s+-+\nstore\s+file\n/);
    const child = execFile(process.execPath, ['--import', tsx, bin, 'stats', '--watch', '--interval', '200ms', ...file()]);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await vi.waitFor(
      () => {
        expect(out.match(/^figure/gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
      },
      { timeout: 10_000 },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('(Ctrl-C to stop)');
    expect(out).not.toContain('\u001b[2J'); // piped: no screen clearing
    expect((await pmCache('stats', '--interval', '1s', ...file())).code).toBe(2);
  }, 60_000);

  it('shows warm progress redrawn in place on a terminal and as plain lines when piped', async () => {
    const warm = path.join(inputs, 'many.jsonl');
    await writeFile(warm, Array.from({ length: 450 }, (_, i) => JSON.stringify({ key: `w:${i}`, value: i })).join('\n'));
    const piped = await pmCache('warm', warm, ...file());
    expect(piped.stderr.split('\n').filter((l) => l.startsWith('warming: '))).toEqual([
      'warming: 100/450 (22%)',
      'warming: 200/450 (44%)',
      'warming: 300/450 (66%)',
      'warming: 400/450 (88%)',
      'warming: 450/450 (100%)',
    ]);
    const written: string[] = [];
    const { main } = await import('./main.js');
    const code = await main(['warm', warm, ...file()], { out: () => undefined, err: (t) => written.push(t), tty: true });
    expect(code).toBe(0);
    expect(written.every((t) => t.startsWith('\u001b[2K\rwarming: '))).toBe(true);
    expect(written.at(-1)).toBe('\u001b[2K\rwarming: 450/450 (100%)\n');
  }, 60_000);

  it('answers a bad warm file with exit 4', async () => {
    const bad = path.join(inputs, 'bad.json');
    await writeFile(bad, '[{"value": 1}]');
    expect(await pmCache('warm', bad, ...file())).toMatchObject({
      code: 4,
      stderr: expect.stringContaining('item 1 has no "key" string') as string,
    });
    expect(await pmCache('warm', path.join(inputs, 'nope.json'), ...file())).toMatchObject({
      code: 4,
      stderr: expect.stringContaining('cannot read') as string,
    });
  }, 60_000);
});

const redisEnabled = await redisTestsEnabled('pm-cache with Redis');

describe.runIf(redisEnabled)('pm-cache with Redis', () => {
  let server: RedisProcess;
  beforeAll(async () => {
    server = await RedisProcess.start();
  }, 30_000);
  afterAll(async () => {
    await server.stop();
  });

  it('changes what a running process serves: its L1 copy is dropped over the bus', async () => {
    const running = new SharedPromptCache({ l2: new RedisStore({ url: server.url }), bus: new RedisInvalidationBus({ url: server.url }) });
    await running.start();
    try {
      await running.set('task_prompt:live', 'old');
      expect(running.getSync('task_prompt:live')).toBe('old');
      expect(await pmCache('set', 'task_prompt:live', 'new', '--redis-url', server.url)).toMatchObject({ code: 0 });
      await vi.waitFor(
        () => {
          expect(running.getSync('task_prompt:live')).toBeUndefined();
        },
        { timeout: 2000, interval: 5 },
      );
      expect(await running.get('task_prompt:live')).toBe('new');
      expect(await pmCache('invalidate', 'task_prompt:*', '--redis-url', server.url)).toMatchObject({
        code: 0,
        stdout: 'removed 1 key(s) matching task_prompt:*\n',
      });
      await vi.waitFor(
        () => {
          expect(running.getSync('task_prompt:live')).toBeUndefined();
        },
        { timeout: 2000, interval: 5 },
      );
      expect(JSON.parse((await pmCache('stats', '--json', '--redis-url', server.url)).stdout)).toMatchObject({ store: 'redis', keys: 0 });
    } finally {
      await running.stop();
    }
  }, 60_000);

  it('exits 3 with a clear error when Redis is unreachable', async () => {
    const result = await pmCache('get', 'k', '--redis-url', `redis://127.0.0.1:${await freePort()}`);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/pm-cache: cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+: unreachable \(connect ECONNREFUSED/);
  }, 60_000);
});
