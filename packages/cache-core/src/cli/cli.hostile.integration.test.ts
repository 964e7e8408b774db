/**
 * pm-cache as a careless operator and a hostile environment use it: a project folder as the
 * store, a wrong password, a down Redis, a warm file with a bad line in the middle.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../stores/file-store.js';
import { freePort, RedisProcess, redisTestsEnabled } from '../testing/redis-server.js';

const tsx = createRequire(import.meta.url).resolve('tsx');
const bin = fileURLToPath(new URL('./bin.ts', import.meta.url));

function pmCache(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', tsx, bin, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 99), stdout, stderr, ms: Date.now() - started });
    });
  });
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'pm-cli-hostile-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('pm-cache keeps what it did not write', () => {
  it('refuses `clear --yes` on a project folder: exit 3, README and src/ intact', async () => {
    const project = path.join(scratch, 'project');
    await mkdir(path.join(project, 'src'), { recursive: true });
    await writeFile(path.join(project, 'README.md'), '# keep me\n');
    await writeFile(path.join(project, 'src', 'index.ts'), 'export {};\n');
    const result = await pmCache('clear', '--yes', '--store', 'file', '--dir', project);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/refusing to use .*project: it holds files a FileStore did not write \(README\.md, src\)/);
    expect((await readdir(project)).sort()).toEqual(['README.md', 'src']);
    expect(await readFile(path.join(project, 'README.md'), 'utf8')).toBe('# keep me\n');
  }, 60_000);

  it('validates a whole warm file before storing any of it: a bad item in the middle stores nothing (exit 4)', async () => {
    const dir = path.join(scratch, 'store');
    const warm = path.join(scratch, 'warm.jsonl');
    const lines = [
      JSON.stringify({ key: 'ok:1', value: 'one' }),
      JSON.stringify({ key: 'ok:2', value: 'two' }),
      JSON.stringify({ key: 'bad:ttl', value: 3, ttl: '-5m' }),
      JSON.stringify({ key: 'ok:4', value: 'four' }),
    ];
    await writeFile(warm, `${lines.join('\n')}\n`);
    const result = await pmCache('warm', warm, '--store', 'file', '--dir', dir);
    expect(result).toMatchObject({ code: 4 });
    expect(result.stderr).toMatch(/item 3: ttl must be/);
    expect((await new FileStore({ dir }).stats()).records).toBe(0);
    // A key with an unpaired surrogate (written as a JSON escape) is refused the same way.
    await writeFile(warm, `${JSON.stringify({ key: 'fine', value: 1 })}\n{"key":"bad\\ud800key","value":2}\n`);
    const surrogate = await pmCache('warm', warm, '--store', 'file', '--dir', dir);
    expect(surrogate).toMatchObject({ code: 4 });
    expect(surrogate.stderr).toMatch(/item 2: keys are well-formed Unicode/);
    expect((await new FileStore({ dir }).stats()).records).toBe(0);
  }, 60_000);

  it('answers usage errors with exit 2 at once, without waiting for a down Redis', async () => {
    const down = `redis://127.0.0.1:${await freePort()}`;
    for (const args of [
      ['get', '--redis-url', down],
      ['set', 'k', 'v', '--ttl', 'soon', '--redis-url', down],
      ['invalidate', '', '--redis-url', down],
      ['clear', '--redis-url', down],
      ['get', 'k', '--redis-url', 'not a url'],
    ]) {
      const result = await pmCache(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.ms, args.join(' ')).toBeLessThan(5000);
    }
  }, 60_000);

  it('prints its version', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await pmCache('--version')).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
  }, 60_000);
});

const redisEnabled = await redisTestsEnabled('pm-cache against a Redis with a password');

describe.runIf(redisEnabled)('pm-cache and Redis credentials', () => {
  let server: RedisProcess;
  beforeAll(async () => {
    server = await RedisProcess.start(['--requirepass', 'correct-horse-battery']);
  }, 30_000);
  afterAll(async () => {
    await server.stop();
  });

  it('says "authentication failed" for a wrong password, and never prints the password', async () => {
    const result = await pmCache('get', 'k', '--redis-url', `redis://:wrong-secret-pw@127.0.0.1:${server.port}`);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/authentication failed \(WRONGPASS/);
    expect(result.stderr).toContain('redis://:***@127.0.0.1');
    expect(result.stderr + result.stdout).not.toContain('wrong-secret-pw');
  }, 60_000);

  it('says "authentication failed" when no password is given to a server that needs one', async () => {
    const result = await pmCache('stats', '--redis-url', `redis://127.0.0.1:${server.port}`);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/authentication failed \(NOAUTH/);
  }, 60_000);

  it('works with the right password, and still never prints it', async () => {
    const url = `redis://:correct-horse-battery@127.0.0.1:${server.port}`;
    expect(await pmCache('set', 'k', 'v', '--tag', 'file:/a.md', '--redis-url', url)).toMatchObject({ code: 0 });
    const stats = await pmCache('stats', '--redis-url', url);
    expect(stats).toMatchObject({ code: 0 });
    expect(stats.stdout).toContain('redis://:***@127.0.0.1');
    expect(stats.stdout + stats.stderr).not.toContain('correct-horse-battery');
    expect(await pmCache('invalidate-tags', 'file:/a.md', '--redis-url', url)).toMatchObject({
      code: 0,
      stdout: 'removed 1 key(s) tagged file:/a.md\n',
    });
  }, 60_000);

  it('hides a password in an unreachable URL too', async () => {
    const result = await pmCache('get', 'k', '--redis-url', `redis://user:hunter2-secret@127.0.0.1:${await freePort()}`);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/redis:\/\/user:\*\*\*@127\.0\.0\.1:\d+: unreachable/);
    expect(result.stderr).not.toContain('hunter2-secret');
  }, 60_000);
});
