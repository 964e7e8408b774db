/**
 * The FileStore's on-disk layout: record format, names, modes, and a scan of the directory that
 * never follows a link. Only `FileStore` uses it.
 */
import { hash } from 'node:crypto';
import { close, constants, open as openFd, rename, write, type Dirent } from 'node:fs';
import { lstat, open, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { CacheStoreError } from '../errors.js';
import type { StoredEntry } from './cache-store.js';
import { decodeEntry, encodeEntry, readsFormat, type CodecOptions } from './codec.js';

/**
 * Record layout: `PMF1` | key length (u32) | key (UTF-8) | encoded entry | sha256 of all before.
 * The key is kept so `invalidate` can match patterns and so a record is never mistaken for
 * another key's.
 */
export const MAGIC = Buffer.from('PMF1');
/** Records of any layout version start with this; another version is left alone, never deleted. */
export const MAGIC_FAMILY = Buffer.from('PMF');
export const HEADER_BYTES = MAGIC.length + 4;
export const CHECKSUM_BYTES = 32;
/** The file that says a directory belongs to a FileStore. */
export const FILE_STORE_MARKER = '.pm-file-store';
export const SHARD_NAME = /^[0-9a-f]{2}$/;
/** `tags/<sha256 of the tag>/<sha256 of the key>`: empty files, the FileStore's tag index. */
export const TAGS_DIR = 'tags';
export const HASH_NAME = /^[0-9a-f]{64}$/;
export const RECORD_NAME = /^[0-9a-f]{64}\.rec$/;
export const TEMP_NAME = /^[0-9a-f]{64}\.rec\.\d+\.[0-9a-f]+\.\d+\.tmp$/;
/** Temp files older than this are leftovers of a crashed writer. */
export const STALE_TEMP_MS = 60_000;
export const RECORD_MODE = 0o600;
export const DIR_MODE = 0o700;
/** Never follow a planted link; never block on a planted FIFO. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export const sha256 = (data: Buffer | string): Buffer => hash('sha256', data, 'buffer');
export const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

/** What a record file holds, as far as this build can tell. */
export type Parsed =
  | { kind: 'entry'; entry: StoredEntry }
  | { kind: 'corrupt' }
  /** Another format version: a newer (or older) release's record, not ours to judge. */
  | { kind: 'other-version' };

export interface Scan {
  shards: string[];
  /** Tag index directories, and the index files in them. */
  tagDirs: string[];
  tagFiles: string[];
  records: string[];
  temps: string[];
  /** Entries a FileStore did not write, relative to the directory. */
  foreign: string[];
}

/** The record of `key` holding `entry`, built in one buffer (checksum included). */
export function encodeRecord(key: string, entry: StoredEntry, codec: CodecOptions): Buffer {
  const encoded = encodeEntry(entry, codec);
  const keyBytes = Buffer.byteLength(key);
  const bodyBytes = HEADER_BYTES + keyBytes + encoded.length;
  const record = Buffer.allocUnsafe(bodyBytes + CHECKSUM_BYTES);
  MAGIC.copy(record);
  record.writeUInt32BE(keyBytes, MAGIC.length);
  record.write(key, HEADER_BYTES, 'utf8');
  encoded.copy(record, HEADER_BYTES + keyBytes);
  sha256(record.subarray(0, bodyBytes)).copy(record, bodyBytes);
  return record;
}

/**
 * Writes `data` to a new `temp` file and renames it over `file`: readers see the old record or
 * the new one. `data` may be a function: it is called once the temp file's open is on its way, so
 * encoding overlaps the thread pool's round trip; if it throws, nothing is written and its error
 * is the rejection (the caller removes `temp`). Callback `fs` and one promise: a FileHandle costs
 * ~10% of a small write (see BENCHMARKS.md).
 */
export function writeAtomically(temp: string, file: string, data: Buffer | (() => Buffer)): Promise<void> {
  return new Promise((resolve, reject) => {
    let bytes: Buffer | undefined;
    let failure: Error | undefined;
    openFd(temp, CREATE_FLAGS, RECORD_MODE, (openError, fd) => {
      if (openError !== null) {
        // A record that cannot be written at all is the better answer.
        reject(failure ?? openError);
        return;
      }
      const closeThen = (error: Error | undefined) => {
        close(fd, (closeError) => {
          if (error !== undefined) reject(error);
          else if (closeError !== null) reject(closeError);
          else
            rename(temp, file, (renameError) => {
              if (renameError === null) resolve();
              else reject(renameError);
            });
        });
      };
      const writeFrom = (buffer: Buffer, offset: number) => {
        write(fd, buffer, offset, buffer.length - offset, null, (writeError, written) => {
          if (writeError !== null) closeThen(writeError);
          else if (offset + written < buffer.length) writeFrom(buffer, offset + written);
          else closeThen(undefined);
        });
      };
      if (bytes === undefined) closeThen(failure);
      else writeFrom(bytes, 0);
    });
    try {
      bytes = typeof data === 'function' ? data() : data;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
  });
}

/** The entry in a record of `key`, or why there is none (damage, another version). */
export function parseRecord(record: Buffer, key: string): Parsed {
  if (!record.subarray(0, MAGIC.length).equals(MAGIC)) return classifyHeaderless(record);
  if (record.length < HEADER_BYTES + CHECKSUM_BYTES) return { kind: 'corrupt' };
  const body = record.subarray(0, record.length - CHECKSUM_BYTES);
  if (!sha256(body).equals(record.subarray(record.length - CHECKSUM_BYTES))) return { kind: 'corrupt' };
  if (readKey(record) !== key) return { kind: 'corrupt' };
  const encoded = body.subarray(HEADER_BYTES + body.readUInt32BE(MAGIC.length));
  if (!readsFormat(encoded[0])) return { kind: 'other-version' };
  try {
    return { kind: 'entry', entry: decodeEntry(encoded) };
  } catch {
    return { kind: 'corrupt' };
  }
}

/** A record whose header is not this version's: another version's (left alone), or damage. */
export function classifyHeaderless(record: Buffer): Parsed {
  const family = record.subarray(0, MAGIC_FAMILY.length).equals(MAGIC_FAMILY) && record.length > MAGIC.length;
  return family && !record.subarray(0, MAGIC.length).equals(MAGIC) ? { kind: 'other-version' } : { kind: 'corrupt' };
}

/** Every record, temp and foreign entry, without following any link. */
export async function scanDirectory(root: string): Promise<Scan> {
  const scan: Scan = { shards: [], tagDirs: [], tagFiles: [], records: [], temps: [], foreign: [] };
  const list = async (dir: string): Promise<Dirent[]> =>
    readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
      if (errno(error) === 'ENOENT') return [];
      throw error;
    });
  for (const shard of await list(root)) {
    if (shard.name === FILE_STORE_MARKER) continue;
    if (shard.name === TAGS_DIR && shard.isDirectory()) {
      await scanTags(path.join(root, TAGS_DIR), scan, list);
      continue;
    }
    // A symlink is not a directory here: it is never descended into.
    if (!shard.isDirectory() || !SHARD_NAME.test(shard.name)) {
      scan.foreign.push(shard.name);
      continue;
    }
    scan.shards.push(path.join(root, shard.name));
    for (const entry of await list(path.join(root, shard.name))) {
      const file = path.join(root, shard.name, entry.name);
      if (entry.isFile() && RECORD_NAME.test(entry.name)) scan.records.push(file);
      else if (entry.isFile() && TEMP_NAME.test(entry.name)) scan.temps.push(file);
      else scan.foreign.push(`${shard.name}/${entry.name}`);
    }
  }
  return scan;
}

export async function scanTags(dir: string, scan: Scan, list: (dir: string) => Promise<Dirent[]>): Promise<void> {
  for (const tag of await list(dir)) {
    if (!tag.isDirectory() || !HASH_NAME.test(tag.name)) {
      scan.foreign.push(`${TAGS_DIR}/${tag.name}`);
      continue;
    }
    scan.tagDirs.push(path.join(dir, tag.name));
    for (const entry of await list(path.join(dir, tag.name))) {
      if (entry.isFile() && HASH_NAME.test(entry.name)) scan.tagFiles.push(path.join(dir, tag.name, entry.name));
      else scan.foreign.push(`${TAGS_DIR}/${tag.name}/${entry.name}`);
    }
  }
  scan.tagDirs.push(dir);
}

export function describeForeign(foreign: readonly string[]): string {
  return `${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ` and ${foreign.length - 3} more` : ''}`;
}

export async function isRealDirectory(dir: string): Promise<boolean> {
  return (await lstat(dir).catch(() => undefined))?.isDirectory() === true;
}

/** A record file's bytes; undefined when it is missing, a link, or not a regular file. */
export async function readRecord(file: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(file, READ_FLAGS);
  } catch (error) {
    // ENOENT: no record. ELOOP: a planted symlink, never followed.
    if (errno(error) === 'ENOENT' || errno(error) === 'ELOOP') return undefined;
    throw new CacheStoreError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

export async function removeFile(file: string): Promise<boolean> {
  return unlink(file).then(
    () => true,
    () => false,
  );
}

/** The key stored in a record's header, or undefined if the header is not this version's or is damaged. */
export function readKey(record: Buffer): string | undefined {
  if (record.length < HEADER_BYTES || !record.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const length = record.readUInt32BE(MAGIC.length);
  if (HEADER_BYTES + length > record.length) return undefined;
  return record.toString('utf8', HEADER_BYTES, HEADER_BYTES + length);
}
