import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';

/** A Markdown file split into its front matter and its body. */
export interface SplitFile {
  /** The raw front matter text (between the `---` lines), or undefined when there is none. */
  frontMatter: string | undefined;
  /** Line number (1-based) of the first front matter line, for error messages. */
  frontMatterLine: number;
  body: string;
}

/** What the front matter says: fields with their values, and where each one starts. */
export interface FrontMatter {
  /** Values as YAML types them (`1.10` is the number 1.1). */
  fields: Record<string, unknown>;
  /** The text of each top-level scalar as written (`1.10`): what a version or a model name really is. */
  texts: Record<string, string>;
  /** 1-based line of each top-level field in the file. */
  lines: Record<string, number>;
  /** How it was read: strict YAML, or line by line because it is not valid YAML. */
  parsedAs: 'yaml' | 'lines';
}

const OPENING = /^\uFEFF?---[ \t]*\r?\n/;
const CLOSING = /^---[ \t]*$/m;

/**
 * Splits a Markdown file into front matter and body. Tolerates a byte-order mark, CRLF line
 * endings, trailing spaces after `---`, and a file that is only front matter.
 */
export function splitFrontMatter(text: string): SplitFile {
  const opening = OPENING.exec(text);
  if (opening === null) return { frontMatter: undefined, frontMatterLine: 0, body: text.replace(/^\uFEFF/, '') };
  const rest = text.slice(opening[0].length);
  const closing = CLOSING.exec(rest);
  if (closing === null) return { frontMatter: undefined, frontMatterLine: 0, body: text.replace(/^\uFEFF/, '') };
  const afterClosing = rest.slice(closing.index + closing[0].length).replace(/^\r?\n/, '');
  return { frontMatter: rest.slice(0, closing.index).replace(/\r?\n$/, ''), frontMatterLine: 2, body: afterClosing };
}

/**
 * Parses front matter as YAML, keeping the text of scalars where it matters (`version: 1.10`
 * stays `"1.10"`, `2.0` stays `"2.0"`): every scalar's source text is available next to its
 * typed value. Front matter that is not valid YAML — descriptions with `: ` inside, `<example>`
 * blocks spread over lines, as many published agent definitions have — is read line by line the
 * way agent tools read it: a line `key: value` starts a field, anything else continues the one
 * before. Undefined when the text is neither a mapping nor such lines.
 */
export function parseFrontMatter(
  text: string,
  firstLine: number,
  knownKeys: ReadonlySet<string>,
): FrontMatter | { error: string; line: number } {
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  if (document.errors.length === 0) {
    const root = document.contents;
    if (root === null) return { fields: {}, texts: {}, lines: {}, parsedAs: 'yaml' };
    if (!isMap(root)) return { error: 'front matter must be a YAML mapping of fields', line: firstLine };
    const fields: Record<string, unknown> = {};
    const texts: Record<string, string> = {};
    const lines: Record<string, number> = {};
    for (const pair of root.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      fields[key] = toValue(pair.value);
      if (isScalar(pair.value)) {
        const source = (pair.value as { source?: unknown }).source;
        if (typeof source === 'string') texts[key] = typeof pair.value.value === 'string' ? pair.value.value : source;
      }
      const offset = isScalar(pair.key) ? pair.key.range[0] : 0;
      lines[key] = firstLine + lineOf(text, offset);
    }
    return { fields, texts, lines, parsedAs: 'yaml' };
  }
  return (
    parseLines(text, firstLine, knownKeys) ?? {
      error: document.errors[0]?.message.split('\n')[0] ?? 'invalid YAML',
      line: firstLine + (document.errors[0]?.linePos?.[0].line ?? 1) - 1,
    }
  );
}

function toValue(node: Node | null): unknown {
  if (node === null) return null;
  if (isScalar(node)) return node.value;
  if (isSeq(node)) return node.items.map((item) => toValue(item as Node | null));
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) out[isScalar(pair.key) ? String(pair.key.value) : String(pair.key)] = toValue(pair.value as Node | null);
    return out;
  }
  const json: unknown = node.toJSON();
  return json;
}

const KEY_LINE = /^([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]+(.*)|[ \t]*)$/;
const LIST_ITEM = /^\s+-\s+(.*)$/;

/**
 * The lenient reading of front matter that is not YAML. A `key: value` line at the start of a
 * line starts a field — but inside a free-text field (a description full of `Context: …`,
 * `user: "…"` lines), only a known field name does. Indented `- item` lines make a list.
 */
function parseLines(text: string, firstLine: number, knownKeys: ReadonlySet<string>): FrontMatter | undefined {
  const fields: Record<string, string | string[]> = {};
  const lines: Record<string, number> = {};
  let current: string | undefined;
  let parts: string[] = [];
  let list: string[] | undefined;
  const finish = (): void => {
    if (current === undefined) return;
    fields[current] = list ?? unquote(parts.join('\n').trim());
    current = undefined;
    parts = [];
    list = undefined;
  };
  const rows = text.split(/\r?\n/);
  for (const [i, row] of rows.entries()) {
    const key = KEY_LINE.exec(row);
    const freeText =
      current === 'description' || (current !== undefined && list === undefined && parts.length > 0 && !knownKeys.has(current));
    if (key !== null && (!freeText || knownKeys.has(key[1] ?? ''))) {
      finish();
      current = key[1] ?? '';
      lines[current] = firstLine + i;
      if (key[2] !== undefined && key[2].trim() !== '') parts.push(key[2]);
      continue;
    }
    if (current === undefined) {
      if (row.trim() === '' || row.trimStart().startsWith('#')) continue;
      return undefined; // not front matter at all
    }
    const item = LIST_ITEM.exec(row);
    if (item !== null && parts.length === 0) {
      list ??= [];
      list.push(unquote(item[1]?.trim() ?? ''));
    } else {
      parts.push(row);
    }
  }
  finish();
  const texts: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) if (typeof value === 'string') texts[key] = value;
  return { fields, texts, lines, parsedAs: 'lines' };
}

/** A value as written between quotes: YAML double-quoted escapes (`\n`, `\"`) resolved; single quotes as YAML reads them. */
function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(["\\/nrt])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1).replaceAll("''", "'");
  return value;
}

function lineOf(text: string, offset: number): number {
  let line = 0;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
