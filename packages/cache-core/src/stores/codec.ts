import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { addExtension, Packr } from 'msgpackr';
import { CacheStoreError } from '../errors.js';
import type { StoredEntry } from './cache-store.js';

/** Bumped when the layout changes; readers refuse versions they do not know. 2: UTF-16 text. */
export const FORMAT_VERSION = 2;
/** Format 1 is format 2 without UTF-16 text: records of the previous release stay readable through an upgrade. */
const OLDEST_READABLE_FORMAT = 1;

/** Whether this build reads records whose first byte is `version` (another release's are left alone). */
export function readsFormat(version: number | undefined): boolean {
  return version !== undefined && version >= OLDEST_READABLE_FORMAT && version <= FORMAT_VERSION;
}
const FLAG_DEFLATE = 0b1;

/**
 * msgpack encodes Maps and plain objects alike, so Maps travel inside this class, registered as
 * an extension type, and come back as Maps.
 */
class WireMap {
  constructor(readonly entries: [unknown, unknown][]) {}
}
addExtension({
  Class: WireMap,
  type: 0x50,
  write: (map: WireMap) => map.entries,
  read: (entries: [unknown, unknown][]) => new Map(entries),
});

/** msgpack writes -0 as the integer 0; this marker carries it, so every number round-trips. */
class NegativeZero {
  readonly value = -0;
}
const NEGATIVE_ZERO = new NegativeZero();
addExtension({ Class: NegativeZero, type: 0x51, write: () => 0, read: () => -0 });

/**
 * Long text mostly outside ASCII (a CJK prompt) travels as UTF-16: two bytes a character instead
 * of three, and decoding it is a copy: an 8 KB CJK prompt decoded from UTF-8 in ~50 µs, from
 * UTF-16 in ~5 µs (see BENCHMARKS.md).
 */
class Utf16Text {
  constructor(readonly text: string) {}
}
addExtension({
  Class: Utf16Text,
  type: 0x52,
  write: (text: Utf16Text) => Buffer.from(text.text, 'utf16le'),
  read: (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf16le'),
});
/** Shorter text decodes fast enough either way. */
const UTF16_MIN_CHARS = 256;

function wireString(text: string): string | Utf16Text {
  // UTF-8 at 1.5 bytes a character or more: UTF-16 costs at most a third more room, and decodes ~25× faster.
  return text.length >= UTF16_MIN_CHARS && Buffer.byteLength(text, 'utf8') >= text.length * 1.5 ? new Utf16Text(text) : text;
}

const packr = new Packr({
  moreTypes: true,
  useRecords: false,
  int64AsType: 'bigint',
  largeBigIntToString: false,
  useBigIntExtension: true,
});

/** Replaces Maps (at any depth) with WireMaps; everything else msgpackr carries as it is. */
function toWire(value: unknown): unknown {
  if (typeof value === 'string') return wireString(value);
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof Date)
    return value === 0 && Object.is(value, -0) ? NEGATIVE_ZERO : value;
  if (value instanceof Map) return new WireMap([...value].map(([k, v]) => [toWire(k), toWire(v)]));
  if (Array.isArray(value)) return value.map(toWire);
  if (value instanceof Set) return new Set([...value].map(toWire));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toWire(v);
  return out;
}

export interface CodecOptions {
  /** Payloads at least this big are compressed when that saves 10% or more. @default 8192 */
  compressAbove?: number;
}

/**
 * `[version][flags][msgpack payload, deflated when it pays]`. Deflate at level 1 shrinks prompt
 * text 7-10x, but inflating costs ~15 µs: on a local Redis a deflated 2 KB read was 18% slower
 * than a plain one, so only payloads from 8 KiB are compressed (see BENCHMARKS.md, codec).
 */
export function encodeEntry(entry: StoredEntry, options: CodecOptions = {}): Buffer {
  let payload = packr.pack({
    v: toWire(entry.value),
    e: entry.expiresAt,
    m: toWire(entry.metadata),
    p: entry.prompt === true ? 1 : 0,
    w: entry.version,
    t: entry.tags,
  });
  let flags = 0;
  if (payload.length >= (options.compressAbove ?? 8192)) {
    const deflated = deflateRawSync(payload, { level: 1 });
    if (deflated.length <= payload.length * 0.9) {
      payload = deflated;
      flags |= FLAG_DEFLATE;
    }
  }
  return Buffer.concat([Buffer.from([FORMAT_VERSION, flags]), payload]);
}

/** The inverse of {@link encodeEntry}; a record it cannot read throws {@link CacheStoreError}. */
export function decodeEntry(record: Buffer): StoredEntry {
  if (record.length < 3) throw new CacheStoreError('record too short');
  if (!readsFormat(record[0]))
    throw new CacheStoreError(
      `record format version ${String(record[0])} is not supported (this build reads ${OLDEST_READABLE_FORMAT} to ${FORMAT_VERSION})`,
    );
  let payload = record.subarray(2);
  if (((record[1] ?? 0) & FLAG_DEFLATE) !== 0) payload = inflateRawSync(payload);
  const raw = packr.unpack(payload) as { v: unknown; e: number; m?: Record<string, unknown> | null; p?: number; w?: string; t?: unknown };
  if (typeof raw !== 'object' || typeof raw.e !== 'number') throw new CacheStoreError('record payload is not an entry');
  return {
    value: raw.v,
    expiresAt: raw.e,
    ...(raw.m === undefined || raw.m === null ? {} : { metadata: raw.m }),
    ...(raw.p === 1 ? { prompt: true } : {}),
    ...(typeof raw.w === 'string' ? { version: raw.w } : {}),
    ...(Array.isArray(raw.t) && raw.t.every((tag) => typeof tag === 'string') ? { tags: raw.t } : {}),
  };
}
