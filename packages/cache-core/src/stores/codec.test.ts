import { deflateRawSync } from 'node:zlib';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CacheStoreError } from '../errors.js';
import type { StoredEntry } from './cache-store.js';
import { decodeEntry, encodeEntry, FORMAT_VERSION } from './codec.js';

const ASCII_PROMPT = 'You are the reviewer agent. Read the diff, then list what breaks. '.repeat(30);
const CJK_PROMPT = '提示词缓存代理配置任务上下文记忆项目交付要求工具规则审查委派'.repeat(20);
const MIXED_PROMPT = 'Résumé of the café’s menu — naïve coöperation. '.repeat(20);

const roundTrip = (entry: StoredEntry, compressAbove?: number) => decodeEntry(encodeEntry(entry, { compressAbove }));

/** A record as releases with formats 1 and 2 wrote it: the whole entry, value included, in msgpack. */
function msgpackRecord(version: number, fields: Record<string, unknown>): Buffer {
  return Buffer.concat([Buffer.from([version, 0]), pack(fields)]);
}

describe('codec format 3: a text value is bare text after a small envelope', () => {
  it.each([
    ['ASCII', ASCII_PROMPT],
    ['CJK', CJK_PROMPT],
    ['mixed Latin-1 and punctuation', MIXED_PROMPT],
    ['empty', ''],
    ['emoji and an unpaired surrogate (which UTF-8 cannot carry)', 'agent 🤖 says \uD800 hi'],
    ['short CJK', '审查'],
  ])('round-trips %s text exactly', (_, text) => {
    const entry: StoredEntry = {
      value: text,
      expiresAt: 1_900_000_000_000,
      metadata: { agent: 'a' },
      prompt: true,
      version: 'v1',
      tags: ['t'],
    };
    expect(roundTrip(entry)).toEqual(entry);
  });

  it('keeps the record about as small as the text: ASCII byte for byte, CJK as two bytes a character', () => {
    const ascii = encodeEntry({ value: ASCII_PROMPT, expiresAt: Infinity }, { compressAbove: Infinity });
    expect(ascii[0]).toBe(FORMAT_VERSION);
    expect(ascii.length - ASCII_PROMPT.length).toBeLessThan(40);
    expect(ascii.subarray(ascii.length - ASCII_PROMPT.length).toString('latin1')).toBe(ASCII_PROMPT);
    const cjk = encodeEntry({ value: CJK_PROMPT, expiresAt: Infinity }, { compressAbove: Infinity });
    expect(cjk.length - CJK_PROMPT.length * 2).toBeLessThan(40);
    const mixed = encodeEntry({ value: MIXED_PROMPT, expiresAt: Infinity }, { compressAbove: Infinity });
    expect(mixed.length - Buffer.byteLength(MIXED_PROMPT)).toBeLessThan(40);
  });

  it('deflates text where it pays and reads it back', () => {
    const long = ASCII_PROMPT.repeat(8);
    const record = encodeEntry({ value: long, expiresAt: Infinity });
    expect(record[1]! & 1).toBe(1);
    expect(record.length).toBeLessThan(long.length / 5);
    expect(decodeEntry(record).value).toBe(long);
    expect(roundTrip({ value: CJK_PROMPT.repeat(10), expiresAt: Infinity }, 0).value).toBe(CJK_PROMPT.repeat(10));
  });

  it('keeps any other value in msgpack, nested text and Maps included', () => {
    const value = { prompt: CJK_PROMPT, parts: [ASCII_PROMPT, -0, 'lone \uDC00'], map: new Map([['k', new Set([1n])]]), when: new Date(0) };
    const read = roundTrip({ value, expiresAt: Infinity });
    expect(read.value).toEqual(value);
    expect(Object.is((read.value as typeof value).parts[1], -0)).toBe(true);
    expect(roundTrip({ value: null, expiresAt: Infinity }).value).toBeNull();
    expect(roundTrip({ value: 42, expiresAt: Infinity }).value).toBe(42);
  });

  it.each([1, 2])("reads format %i records, a previous release's (text inside msgpack)", (version) => {
    const record = msgpackRecord(version, { v: 'written by 0.x', e: 1_900_000_000_000, m: { a: 1 }, p: 1, w: 'w1', t: ['x'] });
    expect(decodeEntry(record)).toEqual({
      value: 'written by 0.x',
      expiresAt: 1_900_000_000_000,
      metadata: { a: 1 },
      prompt: true,
      version: 'w1',
      tags: ['x'],
    });
    const deflated = Buffer.concat([Buffer.from([version, 1]), deflateRawSync(pack({ v: ASCII_PROMPT, e: Infinity }))]);
    expect(decodeEntry(deflated).value).toBe(ASCII_PROMPT);
  });

  it.each([
    ['a version past the end', (record: Buffer) => patched(record, (r) => (r[2 + 9] = 250))],
    ['extras past the end', (record: Buffer) => patched(record, (r) => r.writeUInt32LE(10_000, 2 + 10 + 2))],
    [
      'extras that are not msgpack',
      (record: Buffer) => Buffer.concat([patched(record, (r) => r.writeUInt32LE(2, 14)).subarray(0, 18), Buffer.from([0xc1, 0xc1, 0x41])]),
    ],
    ['a cut header', () => Buffer.from([FORMAT_VERSION, 0b110, 1, 0])],
    ['an unknown text encoding', (record: Buffer) => patched(record, (r) => (r[1] = 0b1110))],
    [
      'UTF-16 text with an odd byte',
      () => Buffer.concat([encodeEntry({ value: CJK_PROMPT, expiresAt: Infinity }, { compressAbove: Infinity }), Buffer.from([0])]),
    ],
    ['a msgpack payload that is not an entry', () => Buffer.from([FORMAT_VERSION, 0, 0xc0])],
    ['a payload that is not msgpack', () => Buffer.from([FORMAT_VERSION, 0, 0xc1, 0xff])],
    ['a deflated payload that does not inflate', () => Buffer.from([FORMAT_VERSION, 0b111, 1, 2, 3, 4])],
  ])('refuses a damaged record with a CacheStoreError: %s', (_, damage) => {
    // A text record with an inline version ('v1'): the version's length is at byte 11, the extras' length at 14.
    const record = encodeEntry({ value: 'hello', expiresAt: Infinity, version: 'v1' }, { compressAbove: Infinity });
    expect(decodeEntry(record)).toEqual({ value: 'hello', expiresAt: Infinity, version: 'v1' });
    expect(() => decodeEntry(damage(record))).toThrow(CacheStoreError);
  });

  it.each([
    ['no version', undefined],
    ['an empty version', ''],
    ['a long version', 'v'.repeat(300)],
    ['a non-ASCII version', 'version-é'],
  ])('keeps a text entry whose version does not fit the fixed header: %s', (_, version) => {
    const entry: StoredEntry = { value: 'hello', expiresAt: Infinity, ...(version === undefined ? {} : { version }) };
    expect(roundTrip(entry)).toEqual(entry);
  });
});

/** A copy of `record` changed by `change`. */
function patched(record: Buffer, change: (copy: Buffer) => unknown): Buffer {
  const copy = Buffer.from(record);
  change(copy);
  return copy;
}
