import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CacheStoreError } from '../errors.js';
import { FILE_STORE_MARKER, FileStore } from './file-store.js';
import { describeStoreConformance } from '../testing/store-conformance.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
async function newStore(options: ConstructorParameters<typeof FileStore>[0] = {}): Promise<FileStore> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pm-file-store-'));
  dirs.push(dir);
  const store = new FileStore({ dir, ...options });
  await store.connect();
  return store;
}

async function recordFiles(store: FileStore): Promise<string[]> {
  const files: string[] = [];
  for (const shard of await readdir(store.dir)) {
    if (shard !== FILE_STORE_MARKER)
      for (const name of await readdir(path.join(store.dir, shard))) files.push(path.join(store.dir, shard, name));
  }
  return files;
}

describeStoreConformance('FileStore', () => newStore());

describe('FileStore on disk', () => {
  it('names files by the hash of the key, never by the key', async () => {
    const store = await newStore();
    await store.set('../../escape', { value: 1, expiresAt: Infinity });
    const [file] = await recordFiles(store);
    expect(path.basename(file!)).toMatch(/^[0-9a-f]{64}\.rec$/);
    expect(file!.startsWith(store.dir)).toBe(true);
  });

  it('treats a truncated record as a miss, removes it and counts it', async () => {
    const store = await newStore();
    await store.set('k', { value: 'x'.repeat(500), expiresAt: Infinity });
    const [file] = await recordFiles(store);
    const record = await readFile(file!);
    await writeFile(file!, record.subarray(0, record.length - 40));
    expect(await store.get('k')).toBeUndefined();
    expect(store.corruptions).toBe(1);
    expect(await recordFiles(store)).toEqual([]);
  });

  it('treats garbage and a flipped byte as misses', async () => {
    const store = await newStore();
    await store.set('a', { value: 'aaaa', expiresAt: Infinity });
    await store.set('b', { value: 'bbbb', expiresAt: Infinity });
    const files = await recordFiles(store);
    await writeFile(files[0]!, 'not a record at all');
    const record = await readFile(files[1]!);
    record[record.length - 50] = (record[record.length - 50]! + 1) % 256;
    await writeFile(files[1]!, record);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('b')).toBeUndefined();
    expect(store.corruptions).toBe(2);
  });

  it('cleans up expired and damaged records and stale temp files, keeping live ones', async () => {
    const store = await newStore();
    await store.set('expired', { value: 1, expiresAt: Date.now() - 1 });
    await store.set('live', { value: 2, expiresAt: Infinity });
    const files = await recordFiles(store);
    const garbage = path.join(path.dirname(files[0]!), `${'0'.repeat(64)}.rec`);
    await writeFile(garbage, 'damaged');
    const staleTemp = `${files[0]!}.123.abc.1.tmp`;
    const freshTemp = `${files[0]!}.456.def.2.tmp`;
    await writeFile(staleTemp, 'half written long ago');
    await writeFile(freshTemp, 'being written right now');
    const longAgo = new Date(Date.now() - 120_000);
    await utimes(staleTemp, longAgo, longAgo);
    expect(await store.cleanup()).toBe(3); // expired, damaged, stale temp
    expect((await store.get('live'))?.value).toBe(2);
    const left = await recordFiles(store);
    expect(left).toContain(freshTemp);
    expect(left).not.toContain(staleTemp);
    expect(store.corruptions).toBe(1);
  });

  it('refuses a record larger than maxRecordBytes, keeping the old one, leaving no temp file and indexing no tag', async () => {
    const store = await newStore({ maxRecordBytes: 2048, compressAbove: Infinity });
    await store.set('k', { value: 'small', expiresAt: Infinity });
    const before = await recordFiles(store);
    for (const tags of [undefined, ['t']]) {
      const refused = store.set('k', { value: 'x'.repeat(5000), expiresAt: Infinity, ...(tags ? { tags } : {}) });
      await expect(refused).rejects.toBeInstanceOf(CacheStoreError);
      await expect(refused).rejects.toMatchObject({ reason: 'refused' });
      await expect(refused).rejects.toThrow(/more than maxRecordBytes/);
    }
    expect((await store.get('k'))?.value).toBe('small');
    expect(await recordFiles(store)).toEqual(before);
    expect(await store.invalidateTags(['t'])).toBe(0);
    expect((await store.get('k'))?.value).toBe('small');
  });

  it('writes again after another store on the directory cleared it (its shards and tag directories gone)', async () => {
    const a = await newStore();
    const b = new FileStore({ dir: a.dir });
    const entry = (value: string) => ({ value, expiresAt: Date.now() + 60_000, tags: ['t'] });
    await a.set('k', entry('one'));
    await b.clear();
    expect(await readdir(a.dir)).toEqual([FILE_STORE_MARKER]);
    await a.set('k', entry('two'));
    expect((await b.get('k'))?.value).toBe('two');
    expect(await b.invalidateTags(['t'])).toBe(1);
    await a.set('k', entry('three'));
    expect(await a.invalidateTags(['t'])).toBe(1);
    await a.set('k', entry('four'));
    await b.clear();
    await a.set('k2', { ...entry('five'), tags: ['t2'] });
    expect(await b.invalidateTags(['t2'])).toBe(1);
  });

  it('is shared safely by four concurrent writer processes', async () => {
    const store = await newStore();
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const script = `
      const { FileStore } = await import(${JSON.stringify(new URL('./file-store.ts', import.meta.url).href)});
      const store = new FileStore({ dir: process.argv[1] });
      const id = process.argv[2];
      for (let i = 0; i < 150; i++) {
        await store.set('shared:' + (i % 10), { value: { writer: id, i, body: 'x'.repeat(2000 + i) }, expiresAt: Infinity });
        await store.set('own:' + id + ':' + i, { value: i, expiresAt: Infinity });
        const read = await store.get('shared:' + ((i + 3) % 10));
        if (read !== undefined && typeof read.value.writer !== 'string') throw new Error('torn read');
      }
      process.stdout.write(String(store.corruptions));
    `;
    const run = promisify(execFile);
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const outputs = await Promise.all(
      ['1', '2', '3', '4'].map((id) =>
        run(process.execPath, ['--import', tsx, '--input-type=module', '-e', script, store.dir, id], { cwd }),
      ),
    );
    expect(outputs.map((o) => o.stdout)).toEqual(['0', '0', '0', '0']);
    for (let i = 0; i < 10; i++) expect(((await store.get(`shared:${i}`))?.value as { writer: string }).writer).toMatch(/^[1-4]$/);
    for (const id of ['1', '2', '3', '4']) expect((await store.get(`own:${id}:149`))?.value).toBe(149);
    expect(store.corruptions).toBe(0);
  }, 60_000);
});
