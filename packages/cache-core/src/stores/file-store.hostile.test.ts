/**
 * FileStore against a hostile or careless world: a project folder passed as its directory,
 * planted symlinks and FIFOs, other users on the host, another release's records.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pack } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { CacheStoreError } from '../errors.js';
import { encodeEntry } from './codec.js';
import { canTestPermissions, OTHER_USER, WITHOUT_FILE_CAPABILITIES } from '../testing/file-permissions.js';
import { FILE_STORE_MARKER, FileStore } from './file-store.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
async function tempDir(prefix = 'pm-hostile-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
const forever = (value: unknown) => ({ value, expiresAt: Infinity });
const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');
const shardOf = (dir: string, key: string) => path.join(dir, hashOf(key).slice(0, 2));
const fileOf = (dir: string, key: string) => path.join(shardOf(dir, key), `${hashOf(key)}.rec`);
const isRoot = process.getuid?.() === 0;

async function projectFolder(): Promise<string> {
  const dir = await tempDir('pm-project-');
  await writeFile(path.join(dir, 'README.md'), '# my project\n');
  await mkdir(path.join(dir, 'src'));
  await writeFile(path.join(dir, 'src', 'index.ts'), 'export {};\n');
  return dir;
}

describe('FileStore owns its directory', () => {
  it('refuses a project folder for every operation and deletes nothing (clear included)', async () => {
    const dir = await projectFolder();
    const store = new FileStore({ dir });
    for (const operation of [
      () => store.connect(),
      () => store.clear(),
      () => store.cleanup(),
      () => store.invalidate('*'),
      () => store.set('k', forever(1)),
    ]) {
      const error = await operation().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CacheStoreError);
      expect((error as Error).message).toMatch(/refusing to use .*: it holds files a FileStore did not write \(README\.md, src\)/);
    }
    expect((await readdir(dir)).sort()).toEqual(['README.md', 'src']);
    expect(await readFile(path.join(dir, 'src', 'index.ts'), 'utf8')).toBe('export {};\n');
    expect(await store.health()).toMatchObject({ ok: false });
  });

  it('claims a new or empty directory: marked, and private (0700)', async () => {
    const parent = await tempDir();
    const fresh = path.join(parent, 'a', 'b');
    await new FileStore({ dir: fresh }).connect();
    expect((await lstat(path.join(fresh, FILE_STORE_MARKER))).isFile()).toBe(true);
    expect((await stat(fresh)).mode & 0o777).toBe(0o700);
    const empty = await tempDir();
    await chmod(empty, 0o755);
    await new FileStore({ dir: empty }).connect();
    expect((await stat(empty)).mode & 0o777).toBe(0o700);
  });

  it('writes records 0600 in shards 0700', async () => {
    const dir = await tempDir();
    const store = new FileStore({ dir });
    await store.set('secret:prompt', forever('the system prompt'));
    expect((await stat(fileOf(dir, 'secret:prompt'))).mode & 0o777).toBe(0o600);
    expect((await stat(shardOf(dir, 'secret:prompt'))).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(dir, FILE_STORE_MARKER))).mode & 0o777).toBe(0o600);
  });

  it.runIf(isRoot)('keeps records from other users of the host (a real unprivileged process)', async () => {
    const dir = await tempDir();
    const store = new FileStore({ dir });
    await store.set('secret:prompt', forever('the system prompt'));
    const probe = `const fs = require('fs'); for (const p of process.argv.slice(1)) { try { fs.readFileSync(p); console.log('read ' + p); } catch (e) { console.log(e.code); } }`;
    const { stdout } = await run(process.execPath, ['-e', probe, fileOf(dir, 'secret:prompt')], { uid: 65534, gid: 65534 });
    expect(stdout.trim()).toBe('EACCES');
    const list = await run(
      process.execPath,
      ['-e', `try { require('fs').readdirSync(${JSON.stringify(dir)}); console.log('listed') } catch (e) { console.log(e.code) }`],
      { uid: 65534, gid: 65534 },
    );
    expect(list.stdout.trim()).toBe('EACCES');
  });

  it.runIf(canTestPermissions)(
    'reports a directory it may not use as a CacheStoreError, not a crash (a directory of another user)',
    async () => {
      const dir = await tempDir();
      await new FileStore({ dir }).connect(); // 0700
      await chown(dir, OTHER_USER.uid, OTHER_USER.gid);
      const script = `
      const { FileStore } = await import(${JSON.stringify(new URL('./file-store.ts', import.meta.url).href)});
      const store = new FileStore({ dir: process.argv[1] });
      const health = await store.health();
      const error = await store.set('k', { value: 1, expiresAt: Infinity }).then(() => 'stored', (e) => e.name + ': ' + e.message);
      console.log(JSON.stringify({ health, error }));
    `;
      const tsx = (await import('node:module')).createRequire(import.meta.url).resolve('tsx');
      const [setpriv, ...drop] = WITHOUT_FILE_CAPABILITIES;
      const { stdout } = await run(setpriv, [...drop, process.execPath, '--import', tsx, '--input-type=module', '-e', script, dir], {
        env: { ...process.env, TSX_DISABLE_CACHE: '1' },
      });
      const result = JSON.parse(stdout) as { health: { ok: boolean; error: string }; error: string };
      expect(result.health.ok).toBe(false);
      expect(result.error).toMatch(/^CacheStoreError: \[cache-core\] cannot use .*(EACCES|EPERM)/);
    },
  );

  it('clears only its own records; a foreign file inside makes clear() refuse, and nothing is removed', async () => {
    const dir = await tempDir();
    const store = new FileStore({ dir });
    await store.set('a', forever(1));
    await store.set('b', forever(2));
    await writeFile(path.join(dir, 'notes.txt'), 'mine');
    await expect(store.clear()).rejects.toThrow(/refusing to clear .*notes\.txt.*nothing was removed/);
    expect((await store.get('a'))?.value).toBe(1);
    // invalidate and cleanup work around it, never touching it.
    expect(await store.invalidate('*')).toBe(2);
    expect(await store.cleanup()).toBe(0);
    expect(await readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    await rm(path.join(dir, 'notes.txt'));
    await store.set('c', forever(3));
    await store.clear();
    expect((await readdir(dir)).sort()).toEqual([FILE_STORE_MARKER]);
  });
});

describe('FileStore never follows a symlink', () => {
  it('replaces a planted shard symlink instead of writing through it, and reads through one as a miss', async () => {
    const dir = await tempDir();
    const outside = await tempDir('pm-outside-');
    const store = new FileStore({ dir });
    await store.connect();
    // A copy of a genuine record of "k", placed outside, behind a link where its shard would be.
    const elsewhere = new FileStore({ dir: await tempDir() });
    await elsewhere.set('k', forever('planted value'));
    await mkdir(path.join(outside, 'copy'));
    await writeFile(path.join(outside, path.basename(fileOf(dir, 'k'))), await readFile(fileOf(elsewhere.dir, 'k')));
    await symlink(outside, shardOf(dir, 'k'));
    expect(await store.get('k')).toBeUndefined();
    expect(await store.delete('k')).toBe(false);
    expect((await readdir(outside)).sort()).toEqual([path.basename(fileOf(dir, 'k')), 'copy'].sort());
    await store.set('k', forever('real value'));
    expect((await lstat(shardOf(dir, 'k'))).isDirectory()).toBe(true);
    expect((await readdir(outside)).length).toBe(2); // nothing written outside
    expect((await store.get('k'))?.value).toBe('real value');
  });

  it('reads a planted record symlink as a miss and replaces the link (its target untouched) on write', async () => {
    const dir = await tempDir();
    const outside = await tempDir('pm-outside-');
    const target = path.join(outside, 'credentials');
    await writeFile(target, 'aws_secret_access_key=abc');
    const store = new FileStore({ dir });
    await store.set('other', forever(0)); // creates the marker
    await mkdir(shardOf(dir, 'k'), { recursive: true });
    await symlink(target, fileOf(dir, 'k'));
    expect(await store.get('k')).toBeUndefined();
    expect(store.corruptions).toBe(0);
    await store.set('k', forever('v'));
    expect((await lstat(fileOf(dir, 'k'))).isSymbolicLink()).toBe(false);
    expect(await readFile(target, 'utf8')).toBe('aws_secret_access_key=abc');
    expect((await store.get('k'))?.value).toBe('v');
  });

  it('never descends into a planted directory link during cleanup, invalidate or clear', async () => {
    const dir = await tempDir();
    const outside = await tempDir('pm-outside-');
    const victim = new FileStore({ dir: outside });
    await victim.set('expired', { value: 1, expiresAt: Date.now() - 1 });
    await victim.set('live', forever(2));
    const store = new FileStore({ dir });
    await store.set('mine', forever(3));
    await symlink(outside, path.join(dir, 'ff'));
    expect(await store.cleanup()).toBe(0);
    expect(await store.invalidate('*')).toBe(1);
    await expect(store.clear()).rejects.toThrow(/ff/);
    expect((await victim.get('live'))?.value).toBe(2);
    expect((await readdir(shardOf(outside, 'expired'))).length).toBe(1);
  });

  it('does not hang on a FIFO planted where a record would be', async () => {
    const dir = await tempDir();
    const store = new FileStore({ dir });
    await store.connect();
    await mkdir(shardOf(dir, 'k'), { recursive: true });
    await run('mkfifo', [fileOf(dir, 'k')]);
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', forever('v'));
    expect((await store.get('k'))?.value).toBe('v');
  });
});

/** A valid record of today's layout (PMF1 header, key, checksum) whose codec says `codecVersion`. */
/** A well-formed PMF1 record of `key` around an encoded entry. */
async function writeRecord(dir: string, key: string, encoded: Buffer): Promise<void> {
  const keyBytes = Buffer.from(key);
  const header = Buffer.alloc(8);
  Buffer.from('PMF1').copy(header);
  header.writeUInt32BE(keyBytes.length, 4);
  const body = Buffer.concat([header, keyBytes, encoded]);
  await mkdir(shardOf(dir, key), { recursive: true });
  await writeFile(fileOf(dir, key), Buffer.concat([body, createHash('sha256').update(body).digest()]));
}

describe('FileStore across format versions (a rolling upgrade)', () => {
  it("reads another version's records as misses and leaves them in place, uncounted", async () => {
    const dir = await tempDir();
    const store = new FileStore({ dir });
    await store.connect();
    // A future layout (PMF2) and a future codec version inside today's layout.
    const future = Buffer.concat([Buffer.from('PMF2'), Buffer.from('whatever the next release writes')]);
    await mkdir(shardOf(dir, 'new-layout'), { recursive: true });
    await writeFile(fileOf(dir, 'new-layout'), future);
    const nextCodec = encodeEntry(forever('v'));
    nextCodec[0] = 9;
    await writeRecord(dir, 'new-codec', nextCodec);
    expect(await store.get('new-layout')).toBeUndefined();
    expect(await store.get('new-codec')).toBeUndefined();
    expect(await store.cleanup()).toBe(0);
    expect(store.corruptions).toBe(0);
    expect((await readFile(fileOf(dir, 'new-layout'))).equals(future)).toBe(true);
    expect((await lstat(fileOf(dir, 'new-codec'))).isFile()).toBe(true);
  });

  it.each([1, 2])("reads a previous release's records (codec format %i: the value inside msgpack)", async (version) => {
    const dir = await tempDir();
    const store = new FileStore({ dir });
    await store.connect();
    await writeRecord(dir, 'old-codec', Buffer.concat([Buffer.from([version, 0]), pack({ v: 'written by 0.x', e: Infinity, p: 0 })]));
    expect((await store.get('old-codec'))?.value).toBe('written by 0.x');
    expect(store.corruptions).toBe(0);
  });
});
