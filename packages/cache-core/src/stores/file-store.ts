import { createHash, randomBytes } from 'node:crypto';
import { access, constants, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CacheStoreError } from '../errors.js';
import { compilePattern } from '../pattern.js';
import type { CacheStore, StoredEntry } from './cache-store.js';
import { decodeEntry, encodeEntry, type CodecOptions } from './codec.js';

export interface FileStoreOptions extends CodecOptions {
  /** Where records live; created if missing. @default '.cache/prompts' */
  dir?: string;
  /** Largest record accepted, in bytes. @default 64 MiB */
  maxRecordBytes?: number;
}

/**
 * Record layout: `PMF1` | key length (u32) | key (UTF-8) | encoded entry | sha256 of all before.
 * The key is kept so `invalidate` can match patterns and so a record is never mistaken for
 * another key's.
 */
const MAGIC = Buffer.from('PMF1');
const CHECKSUM_BYTES = 32;
const EXTENSION = '.rec';
/** Temp files older than this are leftovers of a crashed writer. */
const STALE_TEMP_MS = 60_000;

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();

/**
 * A persistent tier shared by the processes of one host. File names are hashes of keys (a key
 * can never name a path); writes are atomic (temp file + rename); every record carries a
 * checksum, so a torn or corrupted file is a miss, is removed and is counted.
 */
export class FileStore implements CacheStore {
  readonly name = 'file';
  readonly dir: string;
  readonly #maxRecordBytes: number;
  readonly #codec: CodecOptions;
  #corruptions = 0;

  constructor(options: FileStoreOptions = {}) {
    this.dir = path.resolve(options.dir ?? '.cache/prompts');
    this.#maxRecordBytes = options.maxRecordBytes ?? 64 * 1024 * 1024;
    this.#codec = { ...(options.compressAbove === undefined ? {} : { compressAbove: options.compressAbove }) };
  }

  /** Records found damaged (and removed) since this store was created. */
  get corruptions(): number {
    return this.#corruptions;
  }

  async connect(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    const file = this.#fileOf(key);
    let record: Buffer;
    try {
      record = await readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CacheStoreError(`cannot read ${file}`, { cause: error });
    }
    const entry = this.#parse(record, key);
    if (entry === undefined) {
      this.#corruptions++;
      await unlink(file).catch(() => undefined);
      return undefined;
    }
    if (entry.expiresAt <= Date.now()) {
      await unlink(file).catch(() => undefined);
      return undefined;
    }
    return entry;
  }

  async mget(keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async set(key: string, entry: StoredEntry): Promise<void> {
    const keyBytes = Buffer.from(key, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(keyBytes.length);
    const body = Buffer.concat([MAGIC, length, keyBytes, encodeEntry(entry, this.#codec)]);
    if (body.length + CHECKSUM_BYTES > this.#maxRecordBytes) {
      throw new CacheStoreError(`entry "${key.slice(0, 200)}" needs ${body.length + CHECKSUM_BYTES} bytes, more than maxRecordBytes (${this.#maxRecordBytes})`);
    }
    const file = this.#fileOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    // A reader sees the old record or the new one, never half of one.
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, Buffer.concat([body, sha256(body)]));
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw new CacheStoreError(`cannot write ${file}`, { cause: error });
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      await unlink(this.#fileOf(key));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new CacheStoreError(`cannot delete the record of "${key.slice(0, 200)}"`, { cause: error });
    }
  }

  async invalidate(pattern: string): Promise<number> {
    const matcher = compilePattern(pattern);
    let removed = 0;
    await this.#eachRecord(async (file, record) => {
      const key = record === undefined ? undefined : readKey(record);
      if (key !== undefined && matcher.matches(key) && (await unlink(file).then(() => true, () => false))) removed++;
    });
    return removed;
  }

  async clear(): Promise<void> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    await Promise.all(entries.map((name) => rm(path.join(this.dir, name), { recursive: true, force: true })));
  }

  /** Removes expired and damaged records and leftover temp files; resolves how many. */
  async cleanup(): Promise<number> {
    let removed = 0;
    const now = Date.now();
    await this.#eachRecord(async (file, record) => {
      const key = record === undefined ? undefined : readKey(record);
      const entry = record === undefined || key === undefined ? undefined : this.#parse(record, key);
      if (entry !== undefined && entry.expiresAt > now) return;
      if (entry === undefined) this.#corruptions++;
      if (await unlink(file).then(() => true, () => false)) removed++;
    }, async (temp) => {
      const info = await stat(temp).catch(() => undefined);
      if (info !== undefined && now - info.mtimeMs > STALE_TEMP_MS && (await unlink(temp).then(() => true, () => false))) removed++;
    });
    return removed;
  }

  async health(): Promise<{ ok: boolean; latencyMs?: number; error?: string }> {
    const start = performance.now();
    try {
      await mkdir(this.dir, { recursive: true });
      await access(this.dir, constants.R_OK | constants.W_OK);
      return { ok: true, latencyMs: performance.now() - start };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  async stats(): Promise<Record<string, number | string>> {
    let records = 0;
    let bytes = 0;
    await this.#eachRecord(async (_file, record) => {
      records++;
      bytes += record?.length ?? 0;
    });
    return { store: 'file', dir: this.dir, records, bytes, corruptions: this.#corruptions };
  }

  #fileOf(key: string): string {
    const hash = sha256(key).toString('hex');
    return path.join(this.dir, hash.slice(0, 2), hash + EXTENSION);
  }

  /** The entry in a record, or undefined when the record is torn, corrupted or not this key's. */
  #parse(record: Buffer, key: string): StoredEntry | undefined {
    if (record.length < MAGIC.length + 4 + CHECKSUM_BYTES || !record.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const body = record.subarray(0, record.length - CHECKSUM_BYTES);
    if (!sha256(body).equals(record.subarray(record.length - CHECKSUM_BYTES))) return undefined;
    if (readKey(record) !== key) return undefined;
    try {
      return decodeEntry(body.subarray(MAGIC.length + 4 + body.readUInt32BE(MAGIC.length)));
    } catch {
      return undefined;
    }
  }

  async #eachRecord(onRecord: (file: string, record: Buffer | undefined) => Promise<void>, onTemp?: (file: string) => Promise<void>): Promise<void> {
    const shards = await readdir(this.dir).catch(() => [] as string[]);
    for (const shard of shards) {
      const names = await readdir(path.join(this.dir, shard)).catch(() => [] as string[]);
      for (const name of names) {
        const file = path.join(this.dir, shard, name);
        if (name.endsWith('.tmp')) await onTemp?.(file);
        else if (name.endsWith(EXTENSION)) await onRecord(file, await readFile(file).catch(() => undefined));
      }
    }
  }
}

/** The key stored in a record's header, or undefined if the header is damaged. */
function readKey(record: Buffer): string | undefined {
  if (record.length < MAGIC.length + 4 || !record.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const length = record.readUInt32BE(MAGIC.length);
  if (MAGIC.length + 4 + length > record.length) return undefined;
  return record.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + length);
}
