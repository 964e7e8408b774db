import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, open, readdir, realpath, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { CacheStoreError, quoteKey } from '../errors.js';
import { compilePattern } from '../invalidation/pattern.js';
import type { CacheStore, KeyListing, StoredEntry } from './cache-store.js';
import { FORMAT_VERSION, type CodecOptions } from './codec.js';
import {
  classifyHeaderless,
  CREATE_FLAGS,
  describeForeign,
  DIR_MODE,
  encodeRecord,
  errno,
  FILE_STORE_MARKER,
  HASH_NAME,
  isRealDirectory,
  parseRecord,
  readKey,
  readRecord,
  RECORD_MODE,
  removeFile,
  scanDirectory,
  sha256,
  STALE_TEMP_MS,
  TAGS_DIR,
  writeAtomically,
  type Parsed,
  type Scan,
} from './file-layout.js';

export { FILE_STORE_MARKER };

export interface FileStoreOptions extends CodecOptions {
  /** Where records live; created (0700) if missing. It must be empty or already this store's. @default '.cache/prompts' */
  dir?: string;
  /** Largest record accepted, in bytes. @default 64 MiB */
  maxRecordBytes?: number;
}

/**
 * A persistent tier shared by the processes of one host.
 *
 * It **owns its directory**: it marks an empty (or new) directory as its own on first use and
 * refuses a directory holding anything else, so pointing it at a project folder is an error,
 * never a wipe. It only ever removes its own record and temp files. It never follows a symlink:
 * a planted link reads as a miss and is replaced, not written through. Records are 0600 and
 * directories 0700. File names are hashes of keys (a key can never name a path); writes are
 * atomic (temp file + rename); every record carries a checksum, so a torn or corrupted file is a
 * miss, is removed and is counted. A record of another format version is a miss and is left in
 * place: during a rolling upgrade old readers must not delete the new release's records.
 */
export class FileStore implements CacheStore {
  readonly name = 'file';
  /** The directory as configured (resolved to an absolute path). */
  readonly dir: string;
  readonly #maxRecordBytes: number;
  readonly #codec: CodecOptions;
  /** Set once the directory is known to be ours; its real path. */
  #ready: Promise<string> | undefined;
  /** What `#ready` resolved to, so a write need not wait a turn for it. */
  #rootPath: string | undefined;
  /** Directories made sure of (see #ensureDirectory). */
  readonly #directories = new Set<string>();
  readonly #tempPrefix = `${process.pid}.${randomBytes(4).toString('hex')}`;
  #tempCounter = 0;
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

  /** Claims the directory (creating and marking it if new or empty). @throws CacheStoreError when it holds foreign files */
  async connect(): Promise<void> {
    await this.#root();
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    const root = await this.#root();
    const { shard, file } = this.#locate(root, key);
    if (!(await isRealDirectory(shard))) return undefined;
    const record = await readRecord(file);
    if (record === undefined) return undefined;
    const parsed = parseRecord(record, key);
    if (parsed.kind === 'other-version') return undefined;
    if (parsed.kind === 'corrupt') {
      this.#corruptions++;
      await unlink(file).catch(() => undefined);
      return undefined;
    }
    if (parsed.entry.expiresAt <= Date.now()) {
      await unlink(file).catch(() => undefined);
      return undefined;
    }
    return parsed.entry;
  }

  async mget(keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async set(key: string, entry: StoredEntry): Promise<void> {
    let record: Buffer | undefined;
    const encode = (): Buffer => (record ??= this.#encode(key, entry));
    const root = this.#rootPath ?? (await this.#root());
    const { shard, file, hash } = this.#locate(root, key);
    // The tag index first: a record that is written but not indexed could never be invalidated by
    // tag (and one too big to write must not be indexed). Without tags, the record is encoded
    // while the temp file opens.
    if (entry.tags !== undefined && entry.tags.length > 0) {
      encode();
      await this.#index(root, hash, entry.tags);
    }
    // A reader sees the old record or the new one, never half of one. The rename replaces a
    // planted symlink at `file` itself; it never writes through it.
    const temp = `${file}.${this.#tempPrefix}.${this.#tempCounter++}.tmp`;
    try {
      if (!this.#directories.has(shard)) await this.#ensureDirectory(shard);
      await writeAtomically(temp, file, encode).catch(async (error: unknown) => {
        if (errno(error) !== 'ENOENT') throw error;
        // The shard was removed since we last made sure of it (a clear, here or elsewhere): again, once.
        this.#directories.delete(shard);
        await this.#ensureDirectory(shard);
        await writeAtomically(temp, file, encode);
      });
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      if (error instanceof CacheStoreError) throw error; // the record is too big: refused, nothing written
      const full = errno(error) === 'ENOSPC' || errno(error) === 'EDQUOT';
      throw new CacheStoreError(`cannot write the record of ${quoteKey(key)} in ${this.dir}: ${(error as Error).message}`, {
        cause: error,
        reason: full ? 'refused' : 'failed',
      });
    }
  }

  /** The record of `key`. @throws CacheStoreError (refused) when it is bigger than `maxRecordBytes` */
  #encode(key: string, entry: StoredEntry): Buffer {
    const record = encodeRecord(key, entry, this.#codec);
    if (record.length > this.#maxRecordBytes) {
      throw new CacheStoreError(`entry ${quoteKey(key)} needs ${record.length} bytes, more than maxRecordBytes (${this.#maxRecordBytes})`, {
        reason: 'refused',
      });
    }
    return record;
  }

  async delete(key: string): Promise<boolean> {
    const root = await this.#root();
    const { shard, file } = this.#locate(root, key);
    if (!(await isRealDirectory(shard))) return false;
    const info = await lstat(file).catch(() => undefined);
    // Only a record file is ours to remove; a planted link or directory is left alone.
    if (!info?.isFile()) return false;
    try {
      await unlink(file);
      return true;
    } catch (error) {
      if (errno(error) === 'ENOENT') return false;
      throw new CacheStoreError(`cannot delete the record of ${quoteKey(key)}: ${(error as Error).message}`, { cause: error });
    }
  }

  async invalidate(pattern: string): Promise<number> {
    const matcher = compilePattern(pattern);
    const { records } = await this.#scan();
    let removed = 0;
    for (const file of records) {
      const record = await readRecord(file);
      const key = record === undefined ? undefined : readKey(record);
      if (key !== undefined && matcher.matches(key) && (await removeFile(file))) removed++;
    }
    return removed;
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    const root = await this.#root();
    let removed = 0;
    if (!(await isRealDirectory(path.join(root, TAGS_DIR)))) return 0;
    for (const tag of new Set(tags)) {
      const dir = path.join(root, TAGS_DIR, sha256(tag).toString('hex'));
      if (!(await isRealDirectory(dir))) continue;
      for (const name of await readdir(dir)) {
        if (!HASH_NAME.test(name)) continue;
        const record = path.join(root, name.slice(0, 2), `${name}.rec`);
        if ((await lstat(record).catch(() => undefined))?.isFile() === true && (await removeFile(record))) removed++;
        await removeFile(path.join(dir, name));
      }
      this.#directories.delete(dir);
      await rmdir(dir).catch(() => undefined); // a key tagged meanwhile keeps it
    }
    return removed;
  }

  /**
   * Removes every record of this store. A directory that holds anything else is left untouched:
   * that is a {@link CacheStoreError} naming what was found, never a wipe.
   */
  async clear(): Promise<void> {
    const { shards, records, temps, foreign, tagDirs, tagFiles: scanTagFiles } = await this.#scan();
    if (foreign.length > 0) {
      throw new CacheStoreError(
        `refusing to clear ${this.dir}: it also holds files a FileStore did not write (${describeForeign(foreign)}); nothing was removed`,
      );
    }
    for (const file of [...records, ...temps, ...scanTagFiles]) await removeFile(file);
    this.#directories.clear();
    for (const dir of [...shards, ...tagDirs]) await rmdir(dir).catch(() => undefined); // a directory a writer just refilled stays
  }

  /** Removes expired and damaged records and leftover temp files; resolves how many. Foreign files and other versions' records are left alone. */
  async cleanup(): Promise<number> {
    const { records, temps, tagFiles } = await this.#scan();
    let removed = 0;
    const now = Date.now();
    for (const file of records) {
      const record = await readRecord(file);
      if (record === undefined) continue;
      const key = readKey(record);
      const parsed: Parsed = key === undefined ? classifyHeaderless(record) : parseRecord(record, key);
      if (parsed.kind === 'other-version' || (parsed.kind === 'entry' && parsed.entry.expiresAt > now)) continue;
      if (parsed.kind === 'corrupt') this.#corruptions++;
      if (await removeFile(file)) removed++;
    }
    for (const temp of temps) {
      const info = await stat(temp).catch(() => undefined);
      if (info !== undefined && now - info.mtimeMs > STALE_TEMP_MS && (await removeFile(temp))) removed++;
    }
    // Index entries of records that are gone.
    const root = await this.#root();
    for (const file of tagFiles) {
      const name = path.basename(file);
      if ((await lstat(path.join(root, name.slice(0, 2), `${name}.rec`)).catch(() => undefined)) === undefined) await removeFile(file);
    }
    return removed;
  }

  async health(): Promise<{ ok: boolean; latencyMs?: number; error?: string }> {
    const start = performance.now();
    try {
      const root = await this.#root();
      await access(root, constants.R_OK | constants.W_OK | constants.X_OK);
      return { ok: true, latencyMs: performance.now() - start };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  async keys(pattern: string, limit: number): Promise<KeyListing[]> {
    const matcher = compilePattern(pattern);
    const { records } = await this.#scan();
    const now = Date.now();
    const listed: KeyListing[] = [];
    for (const file of records) {
      if (listed.length >= limit) break;
      const record = await readRecord(file);
      const key = record === undefined ? undefined : readKey(record);
      if (record === undefined || key === undefined || !matcher.matches(key)) continue;
      const parsed = parseRecord(record, key);
      if (parsed.kind === 'entry' && parsed.entry.expiresAt > now)
        listed.push({ key, sizeBytes: record.length, ttlMs: parsed.entry.expiresAt - now });
    }
    return listed;
  }

  async stats(): Promise<Record<string, number | string>> {
    const { records, foreign } = await this.#scan();
    let bytes = 0;
    for (const file of records) bytes += (await stat(file).catch(() => undefined))?.size ?? 0;
    return { store: 'file', dir: this.dir, records: records.length, bytes, corruptions: this.#corruptions, foreignFiles: foreign.length };
  }

  /** The directory's real path, once it is known to be this store's; claims it on first use. */
  #root(): Promise<string> {
    this.#ready ??= this.#claim().then(
      (root) => (this.#rootPath = root),
      (error: unknown) => {
        // A later call tries again (the operator may fix the directory).
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  async #claim(): Promise<string> {
    try {
      await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
      const root = await realpath(this.dir);
      if (!(await lstat(root)).isDirectory()) throw new CacheStoreError(`${this.dir} is not a directory`);
      const marker = await lstat(path.join(root, FILE_STORE_MARKER)).catch(() => undefined);
      if (marker?.isFile() === true) return root;
      if (marker !== undefined)
        throw new CacheStoreError(`${path.join(this.dir, FILE_STORE_MARKER)} is not a regular file; refusing to use ${this.dir}`);
      const { foreign } = await scanDirectory(root);
      if (foreign.length > 0) {
        throw new CacheStoreError(
          `refusing to use ${this.dir}: it holds files a FileStore did not write (${describeForeign(foreign)}). Point the store at an empty or new directory.`,
        );
      }
      // Empty, or records of a FileStore from before markers: ours from now on, and private.
      await chmod(root, DIR_MODE);
      const handle = await open(path.join(root, FILE_STORE_MARKER), CREATE_FLAGS, RECORD_MODE).catch((error: unknown) => {
        if (errno(error) === 'EEXIST') return undefined; // another process claimed it first
        throw error;
      });
      await handle?.writeFile(`@pm/cache-core FileStore records (format ${FORMAT_VERSION}). Only records are ever removed from here.\n`);
      await handle?.close();
      return root;
    } catch (error) {
      if (error instanceof CacheStoreError) throw error;
      throw new CacheStoreError(`cannot use ${this.dir}: ${(error as Error).message}`, { cause: error });
    }
  }

  #locate(root: string, key: string): { shard: string; file: string; hash: string } {
    const hash = sha256(key).toString('hex');
    const shard = path.join(root, hash.slice(0, 2));
    return { shard, file: path.join(shard, `${hash}.rec`), hash };
  }

  /** Records `keyHash` under each tag: an empty file per (tag, key), created without following links. */
  async #index(root: string, keyHash: string, tags: readonly string[]): Promise<void> {
    const tagsRoot = path.join(root, TAGS_DIR);
    await this.#ensureDirectory(tagsRoot);
    for (const tag of tags) {
      const dir = path.join(tagsRoot, sha256(tag).toString('hex'));
      await this.#ensureDirectory(dir);
      const mark = () => open(path.join(dir, keyHash), CREATE_FLAGS, RECORD_MODE);
      const handle = await mark()
        .catch(async (error: unknown) => {
          if (errno(error) !== 'ENOENT') throw error;
          // The tag's directory went (its last key was invalidated, or a clear): again, once.
          this.#directories.delete(tagsRoot);
          this.#directories.delete(dir);
          await this.#ensureDirectory(tagsRoot);
          await this.#ensureDirectory(dir);
          return mark();
        })
        .catch((error: unknown) => {
          if (errno(error) === 'EEXIST') return undefined;
          throw new CacheStoreError(`cannot index a tag in ${this.dir}: ${(error as Error).message}`, { cause: error });
        });
      await handle?.close();
    }
  }

  /**
   * A real directory of ours (a shard, the tag index): created 0700 if missing; a planted symlink
   * in its place is replaced. Checked once per store: a `lstat` per write cost ~13% of a write.
   * The root is private (0700), so only a process of the same user could swap a checked directory
   * for a link afterwards, and the check itself could not stop that either (lstat, then open, races).
   */
  async #ensureDirectory(dir: string): Promise<void> {
    if (this.#directories.has(dir)) return;
    const info = await lstat(dir).catch(() => undefined);
    if (info?.isSymbolicLink() === true) await unlink(dir);
    else if (info !== undefined && !info.isDirectory())
      throw new CacheStoreError(`${dir} is not a directory a FileStore made; refusing to write there`);
    if (info?.isDirectory() !== true) {
      const make = () =>
        mkdir(dir, { mode: DIR_MODE }).catch((error: unknown) => {
          if (errno(error) !== 'EEXIST') throw error;
        });
      await make().catch(async (error: unknown) => {
        // Its parent (the tag index) went too since we made sure of it.
        const parent = path.dirname(dir);
        if (errno(error) !== 'ENOENT' || !this.#directories.delete(parent)) throw error;
        await this.#ensureDirectory(parent);
        await make();
      });
    }
    this.#directories.add(dir);
  }

  async #scan(): Promise<Scan> {
    return scanDirectory(await this.#root());
  }
}
