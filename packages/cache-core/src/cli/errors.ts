/** The flags every command may read. */
export interface Flags {
  store?: string | undefined;
  dir?: string | undefined;
  'redis-url'?: string | undefined;
  'key-prefix'?: string | undefined;
  channel?: string | undefined;
  ttl?: string | undefined;
  tag?: string[] | undefined;
  json?: boolean | undefined;
  'json-value'?: boolean | undefined;
  yes?: boolean | undefined;
  watch?: boolean | undefined;
  interval?: string | undefined;
  limit?: string | undefined;
}

/** Exit codes, documented in the usage text and the README. */
export const EXIT = { ok: 0, notFound: 1, usage: 2, store: 3, input: 4 } as const;

/** Bad command line: exit 2, checked before anything connects. */
export class UsageError extends Error {}

/** A bad input file: exit 4, checked (whole) before anything is stored. */
export class InputError extends Error {}
