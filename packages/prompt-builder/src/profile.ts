import path from 'node:path';
import { ProfileError } from './errors.js';
import { parseFrontMatter, splitFrontMatter, type FrontMatter } from './front-matter.js';

/** Which directory a profile came from, highest precedence first. */
export type ProfileTier = 'project' | 'user' | 'system' | 'package' | 'custom';

/**
 * An agent profile. Claude Code subagents (`.claude/agents/*.md`), the collections built on that
 * format, this project's `.pm/agents` profiles and plain Markdown role files all load into it.
 */
export interface AgentProfile {
  /** The front matter's `name:`, else the file name (without `.md`). */
  name: string;
  /** The front matter's `description:`, else the first paragraph of the body. */
  description: string;
  /** As written: `version: 1.10` is `"1.10"`. */
  version?: string;
  /** As written: an alias (`sonnet`, `opus`, `haiku`, `inherit`) or a model id. */
  model?: string;
  /** `tools: Read, Write, Bash` (Claude Code's form) or a YAML list. */
  tools: string[];
  /** Rendered as a numbered list in the stable prefix. */
  rules: string[];
  /** Components rendered into the stable prefix, in order (e.g. `shared/output-format`). */
  components: string[];
  /** Variables the profile declares, with their default values (undefined: the caller must give one). */
  variables: Record<string, string | undefined>;
  /** Front matter fields this format does not define (`color`, `author`, `tags`, ...), kept as written. */
  extra: Record<string, unknown>;
  body: string;
  source: { path: string; tier: ProfileTier; format: 'front-matter' | 'plain' };
}

export interface ParseProfileOptions {
  /** Reject unknown front matter fields instead of keeping them in `extra`. @default false */
  strict?: boolean;
}

/** Fields this format defines: Claude Code's subagent fields and this project's own. */
const KNOWN_FIELDS = new Set(['name', 'description', 'version', 'model', 'tools', 'rules', 'components', 'variables']);
/** Field names that start a new field even inside a free-text description read line by line. */
const FIELD_NAMES = new Set([
  ...KNOWN_FIELDS,
  'color',
  'author',
  'tags',
  'category',
  'license',
  'schema_version',
  'permissionMode',
  'disallowedTools',
  'allowed-tools',
  'hooks',
  'skills',
  'mcpServers',
  'memory',
  'priority',
  'capabilities',
  'examples',
]);
const MAX_NAME_LENGTH = 200;

/**
 * Parses a profile file. Front matter is YAML; front matter that is not valid YAML (unquoted
 * `: ` in a description, `<example>` blocks over many lines) is read line by line, as agent
 * tools read it. A file without front matter takes its name from the file and its description
 * from its first paragraph. Every problem that remains is a {@link ProfileError} naming the file,
 * the line and the field.
 */
export function parseProfile(
  text: string,
  source: AgentProfile['source'] | { path: string; tier: ProfileTier },
  options: ParseProfileOptions = {},
): AgentProfile {
  const file = source.path;
  const fileName = path.basename(file).replace(/\.md$/i, '');
  const split = splitFrontMatter(text);
  if (split.frontMatter === undefined) {
    const body = split.body.trim();
    return {
      name: fileName,
      description: firstParagraph(body),
      tools: [],
      rules: [],
      components: [],
      variables: {},
      extra: {},
      body,
      source: { path: file, tier: source.tier, format: 'plain' },
    };
  }
  const parsed = parseFrontMatter(split.frontMatter, split.frontMatterLine, FIELD_NAMES);
  if ('error' in parsed)
    throw new ProfileError(file, undefined, `has front matter that is neither YAML nor "key: value" lines: ${parsed.error}`, {
      line: parsed.line,
    });
  const fields = new FieldReader(parsed, file);
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed.fields)) {
    if (KNOWN_FIELDS.has(key)) continue;
    if (options.strict === true)
      throw fields.error(key, `is not a known field (known: ${[...KNOWN_FIELDS].join(', ')}); strict mode rejects unknown fields`);
    extra[key] = value;
  }
  const body = split.body.trim();
  const name = fields.text('name') ?? fileName;
  if (name.length > MAX_NAME_LENGTH || /[/\\\0]/.test(name) || name === '.' || name === '..') {
    throw fields.error('name', `must be a name without "/", "\\\\" or NUL, at most ${MAX_NAME_LENGTH} characters`);
  }
  return {
    name,
    description: fields.text('description') ?? firstParagraph(body),
    ...optional('version', fields.text('version')),
    ...optional('model', fields.text('model')),
    tools: fields.list('tools', true),
    rules: fields.list('rules', false),
    components: fields.list('components', false),
    variables: fields.variables(),
    extra,
    body,
    source: { path: file, tier: source.tier, format: 'front-matter' },
  };
}

const optional = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> =>
  value === undefined ? {} : ({ [key]: value } as Record<K, string>);

/** Reads known fields with the error that names the file, the line and the field. */
class FieldReader {
  constructor(
    readonly front: FrontMatter,
    readonly file: string,
  ) {}

  error(field: string, problem: string): ProfileError {
    return new ProfileError(this.file, field, problem, { line: this.front.lines[field] });
  }

  /** A scalar field as written (numbers keep their text: `1.10`), trimmed; undefined when absent or empty. */
  text(field: string): string | undefined {
    const value = this.front.fields[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'object') throw this.error(field, `must be text, got ${describe(value)}`);
    const scalar: string | number | boolean = value as string | number | boolean;
    const text = (this.front.texts[field] ?? String(scalar)).trim();
    return text === '' ? undefined : text;
  }

  /** A list: a YAML sequence, or (with `commaSeparated`) Claude Code's `Read, Write, Bash` string. */
  list(field: string, commaSeparated: boolean): string[] {
    const value = this.front.fields[field];
    if (value === undefined || value === null || value === '') return [];
    if (typeof value === 'string' && commaSeparated)
      return value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    if (typeof value === 'string') return [value.trim()];
    if (!Array.isArray(value)) throw this.error(field, `must be a list of strings, got ${describe(value)}`);
    return value.map((item: unknown, i) => {
      if (typeof item === 'number' || typeof item === 'boolean') return String(item);
      if (typeof item !== 'string' || item.trim() === '')
        throw this.error(`${field}[${i}]`, `must be a non-empty string, got ${describe(item)}`);
      return item.trim();
    });
  }

  /** `variables: { team: core }` (declared, with defaults) or `variables: [task, owner]` (declared, no default). */
  variables(): Record<string, string | undefined> {
    const value = this.front.fields.variables;
    if (value === undefined || value === null) return {};
    const out: Record<string, string | undefined> = {};
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) {
        if (typeof item !== 'string' || item.trim() === '')
          throw this.error(`variables[${i}]`, `must be a variable name, got ${describe(item)}`);
        out[item.trim()] = undefined;
      }
      return out;
    }
    if (typeof value !== 'object')
      throw this.error('variables', `must be a mapping of names to values, or a list of names, got ${describe(value)}`);
    for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
      if (item === null) out[name] = undefined;
      else if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') out[name] = String(item);
      else throw this.error(`variables.${name}`, `must be a string, got ${describe(item)}`);
    }
    return out;
  }
}

/** The first paragraph of Markdown, without its heading marks: a description for a file without one. */
export function firstParagraph(body: string): string {
  const paragraphs = body
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const text = paragraphs.find((p) => !/^#+\s/.test(p) || p.includes('\n')) ?? paragraphs[0] ?? '';
  return text
    .replace(/^#+\s+/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}
