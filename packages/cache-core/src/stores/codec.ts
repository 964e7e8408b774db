import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { addExtension, Packr } from 'msgpackr';
import { CacheStoreError } from '../errors.js';
import { isWellFormed } from '../keys.js';
import type { StoredEntry } from './cache-store.js';

/**
 * Bumped when the layout changes; readers refuse versions they do not know. 2: UTF-16 text.
 * 3: a text value travels as bare text after a small binary header, not inside msgpack.
 */
export const FORMAT_VERSION = 3;
/** Formats 1 and 2 are format 3 without bare text: records of previous releases stay readable through an upgrade. */
const OLDEST_READABLE_FORMAT = 1;

/** Whether this build reads records whose first byte is `version` (another release's are left alone). */
export function readsFormat(version: number | undefined): boolean {
  return version !== undefined && version >= OLDEST_READABLE_FORMAT && version <= FORMAT_VERSION;
}

const HEADER_BYTES = 2;
const FLAG_DEFLATE = 0b1;
/** The value is text, after a small binary header (see `textRecord`). */
const FLAG_TEXT = 0b10;
/** Bits 2-3 of the flags: how the text is encoded. */
const TEXT_ENCODINGS = ['utf8', 'latin1', 'utf16le'] as const;
const TEXT_ENCODING_SHIFT = 2;
type TextEncoding = (typeof TEXT_ENCODINGS)[number];

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

/** Text inside a structured value that goes as UTF-16 (see {@link textEncoding}). */
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

/**
 * How text travels: ASCII byte for byte (decoding it is a copy); long text mostly outside ASCII
 * (a CJK prompt) as UTF-16: at 1.5 UTF-8 bytes a character or more it takes at most a third more
 * room, and decoding it is a copy too (an 8 KB CJK prompt: ~50 µs from UTF-8, ~5 µs from UTF-16,
 * see BENCHMARKS.md); text with an unpaired surrogate as UTF-16 too (UTF-8 has no form for it);
 * the rest as UTF-8.
 */
function textEncoding(text: string): { encoding: TextEncoding; bytes: number } {
  const utf8Bytes = Buffer.byteLength(text, 'utf8');
  if (utf8Bytes === text.length) return { encoding: 'latin1', bytes: utf8Bytes };
  return (text.length >= UTF16_MIN_CHARS && utf8Bytes >= text.length * 1.5) || !isWellFormed(text)
    ? { encoding: 'utf16le', bytes: text.length * 2 }
    : { encoding: 'utf8', bytes: utf8Bytes };
}

/** Text inside a structured value stays in msgpack, as UTF-16 where {@link textEncoding} says so. */
function wireString(text: string): string | Utf16Text {
  return textEncoding(text).encoding === 'utf16le' ? new Utf16Text(text) : text;
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

/** An entry in msgpack (formats 1 and 2, and any value but text): `v` is the value; text records keep only `m`, `t`, `w` there. */
interface Fields {
  v?: unknown;
  e?: number;
  m?: Record<string, unknown> | null;
  p?: number;
  w?: string;
  t?: unknown;
}

/*
 * A text record's payload, by byte: the fixed part that every prompt has, then what only some
 * have (metadata, tags, a version that is not short ASCII) as msgpack `extras`, then the text.
 * Reading a prompt back is a few fixed-offset reads and one copy: no msgpack at all unless it
 * has extras (msgpack's setup alone cost ~1 µs a read, on a path that is a round trip plus this).
 */
const EXPIRES_AT = 0; // f64 LE
const ENTRY_BITS = 8; // u8: ENTRY_PROMPT
const VERSION_LENGTH = 9; // u8, then the version (ASCII)
const VERSION_AT = 10;
const EXTRAS_LENGTH_BYTES = 4; // u32 LE, then the extras
const ENTRY_PROMPT = 0b1;
const MAX_INLINE_VERSION = 255;

/**
 * `[format version][flags][payload]`, the payload deflated when it pays. A text value (a prompt,
 * the common case) travels as bare text after a small binary header (see above); any other value
 * is a msgpack map, as in formats 1 and 2. Deflate at level 1 shrinks prompt text 7-10x, but
 * inflating costs ~15 µs: on a local Redis a deflated 2 KB read was 18% slower than a plain one,
 * so only payloads from 8 KiB are compressed (see BENCHMARKS.md, codec).
 */
export function encodeEntry(entry: StoredEntry, options: CodecOptions = {}): Buffer {
  const record = typeof entry.value === 'string' ? textRecord(entry, entry.value) : msgpackRecord(entry);
  return deflatedIfItPays(record, options.compressAbove ?? 8192);
}

function msgpackRecord(entry: StoredEntry): Buffer {
  const fields: Fields = {
    v: toWire(entry.value),
    e: entry.expiresAt,
    m: toWire(entry.metadata) as Fields['m'],
    p: entry.prompt === true ? 1 : 0,
    w: entry.version,
    t: entry.tags,
  };
  return withHeader(0, packr.pack(fields));
}

function withHeader(flags: number, payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  record[0] = FORMAT_VERSION;
  record[1] = flags;
  record.set(payload, HEADER_BYTES);
  return record;
}

/** A text value's record, built in one buffer. */
function textRecord(entry: StoredEntry, text: string): Buffer {
  const { encoding, bytes } = textEncoding(text);
  const { version, metadata, tags } = entry;
  const inlineVersion = version !== undefined && isShortAscii(version) ? version : '';
  const extras: Fields = {};
  if (metadata !== undefined) extras.m = toWire(metadata) as Fields['m'];
  if (tags !== undefined) extras.t = tags;
  if (version !== undefined && inlineVersion === '') extras.w = version;
  const packedExtras = extras.m === undefined && extras.t === undefined && extras.w === undefined ? undefined : packr.pack(extras);
  const extrasAt = HEADER_BYTES + VERSION_AT + inlineVersion.length;
  const textStart = extrasAt + EXTRAS_LENGTH_BYTES + (packedExtras?.length ?? 0);
  const record = Buffer.allocUnsafe(textStart + bytes);
  record[0] = FORMAT_VERSION;
  record[1] = FLAG_TEXT | (TEXT_ENCODINGS.indexOf(encoding) << TEXT_ENCODING_SHIFT);
  record.writeDoubleLE(entry.expiresAt, HEADER_BYTES + EXPIRES_AT);
  record[HEADER_BYTES + ENTRY_BITS] = entry.prompt === true ? ENTRY_PROMPT : 0;
  record[HEADER_BYTES + VERSION_LENGTH] = inlineVersion.length;
  record.write(inlineVersion, HEADER_BYTES + VERSION_AT, 'latin1');
  record.writeUInt32LE(packedExtras?.length ?? 0, extrasAt);
  if (packedExtras !== undefined) record.set(packedExtras, extrasAt + EXTRAS_LENGTH_BYTES);
  record.write(text, textStart, encoding);
  return record;
}

/** Version ids this package makes are short ASCII: they fit the fixed part of a text record. */
function isShortAscii(text: string): boolean {
  return text.length > 0 && text.length <= MAX_INLINE_VERSION && Buffer.byteLength(text, 'utf8') === text.length;
}

function deflatedIfItPays(record: Buffer, compressAbove: number): Buffer {
  const payload = record.subarray(HEADER_BYTES);
  if (payload.length < compressAbove) return record;
  const deflated = deflateRawSync(payload, { level: 1 });
  return deflated.length <= payload.length * 0.9 ? withHeader((record[1] ?? 0) | FLAG_DEFLATE, deflated) : record;
}

/** The inverse of {@link encodeEntry}; a record it cannot read throws {@link CacheStoreError}. */
export function decodeEntry(record: Buffer): StoredEntry {
  if (record.length < 3) throw new CacheStoreError('record too short');
  if (!readsFormat(record[0]))
    throw new CacheStoreError(
      `record format version ${String(record[0])} is not supported (this build reads ${OLDEST_READABLE_FORMAT} to ${FORMAT_VERSION})`,
    );
  const flags = record[1] ?? 0;
  let payload = record.subarray(HEADER_BYTES);
  if ((flags & FLAG_DEFLATE) !== 0) payload = damagedUnless(() => inflateRawSync(payload));
  return (flags & FLAG_TEXT) === 0 ? msgpackEntry(payload) : textEntry(payload, TEXT_ENCODINGS[(flags >> TEXT_ENCODING_SHIFT) & 0b11]);
}

function msgpackEntry(payload: Uint8Array): StoredEntry {
  const fields = unpackFields(payload);
  if (typeof fields.e !== 'number') throw new CacheStoreError('record payload is not an entry');
  const entry: StoredEntry = { value: fields.v, expiresAt: fields.e };
  if (fields.p === 1) entry.prompt = true;
  return withFields(entry, fields);
}

function textEntry(payload: Buffer, encoding: TextEncoding | undefined): StoredEntry {
  const damaged = () => new CacheStoreError('record text is damaged');
  if (encoding === undefined || payload.length < VERSION_AT + EXTRAS_LENGTH_BYTES) throw damaged();
  const extrasAt = VERSION_AT + (payload[VERSION_LENGTH] ?? 0);
  if (extrasAt + EXTRAS_LENGTH_BYTES > payload.length) throw damaged();
  const extrasLength = payload.readUInt32LE(extrasAt);
  const textStart = extrasAt + EXTRAS_LENGTH_BYTES + extrasLength;
  if (textStart > payload.length || (encoding === 'utf16le' && (payload.length - textStart) % 2 !== 0)) throw damaged();
  const entry: StoredEntry = { value: payload.toString(encoding, textStart), expiresAt: payload.readDoubleLE(EXPIRES_AT) };
  if (((payload[ENTRY_BITS] ?? 0) & ENTRY_PROMPT) !== 0) entry.prompt = true;
  if (extrasAt > VERSION_AT) entry.version = payload.toString('latin1', VERSION_AT, extrasAt);
  return extrasLength === 0 ? entry : withFields(entry, unpackFields(payload.subarray(extrasAt + EXTRAS_LENGTH_BYTES, textStart)));
}

/** Runs a decoding step; its failure (zlib's, msgpack's) becomes a CacheStoreError. */
function damagedUnless<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw new CacheStoreError(`record does not decode: ${(error as Error).message}`, { cause: error });
  }
}

function unpackFields(bytes: Uint8Array): Fields {
  const fields = damagedUnless(() => packr.unpack(bytes) as Fields | null);
  if (typeof fields !== 'object' || fields === null) throw new CacheStoreError('record payload is not an entry');
  return fields;
}

/** Adds the metadata, version and tags that `fields` carries (anything else there is ignored). */
function withFields(entry: StoredEntry, fields: Fields): StoredEntry {
  if (fields.m !== undefined && fields.m !== null) entry.metadata = fields.m;
  if (typeof fields.w === 'string') entry.version = fields.w;
  if (Array.isArray(fields.t) && fields.t.every((tag) => typeof tag === 'string')) entry.tags = fields.t;
  return entry;
}
