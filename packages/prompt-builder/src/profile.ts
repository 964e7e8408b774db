import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ProfileError } from './errors.js';

/** Where a profile was found, highest precedence first. */
export type ProfileTier = 'project' | 'user' | 'system';

/** An agent profile: validated front matter plus the Markdown body. */
export interface AgentProfile {
  name: string;
  description: string;
  version?: string;
  model?: string;
  tools: string[];
  /** Rules rendered as a list into the prompt's stable prefix. */
  rules: string[];
  /** Components rendered into the stable prefix, in order (e.g. `shared/output-format`). */
  components: string[];
  /** Values for placeholders in the body and in those components. */
  variables: Record<string, string>;
  body: string;
  source: { path: string; tier: ProfileTier };
}

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;
const NAME = /^[a-z0-9][a-z0-9_-]*$/i;
const KNOWN_FIELDS = new Set(['name', 'description', 'version', 'model', 'tools', 'rules', 'components', 'variables']);

/**
 * Parses a profile file: YAML front matter (a real YAML parser) between `---` lines, then the
 * Markdown body. Every problem is a {@link ProfileError} naming the file and the field.
 */
export function parseProfile(text: string, source: AgentProfile['source'], expectedName: string): AgentProfile {
  const file = source.path;
  const match = FRONT_MATTER.exec(text);
  if (match === null) throw new ProfileError(file, undefined, 'has no YAML front matter (a block between two "---" lines at the top)');
  let data: unknown;
  try {
    data = parseYaml(match[1] ?? '', { prettyErrors: true });
  } catch (error) {
    // yaml counts lines from the start of the front matter; the file has the opening "---" above it.
    const position =
      error instanceof YAMLParseError && error.linePos !== undefined
        ? ` (line ${error.linePos[0].line + 1}, column ${error.linePos[0].col})`
        : '';
    const reason = ((error as Error).message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new ProfileError(file, undefined, `has invalid YAML front matter${position}: ${reason}`, { cause: error });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new ProfileError(file, undefined, 'front matter must be a YAML mapping');
  const fields = data as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!KNOWN_FIELDS.has(key)) throw new ProfileError(file, key, `is not a known field (known: ${[...KNOWN_FIELDS].join(', ')})`);
  }
  const name = requiredString(fields, 'name', file);
  if (!NAME.test(name)) throw new ProfileError(file, 'name', `must be letters, digits, "-" or "_", got ${JSON.stringify(name)}`);
  if (name !== expectedName) throw new ProfileError(file, 'name', `is "${name}" but the file is named for "${expectedName}"`);
  const body = text.slice(match[0].length).trim();
  if (body === '') throw new ProfileError(file, undefined, 'has no Markdown body after the front matter');
  return {
    name,
    description: requiredString(fields, 'description', file),
    ...optionalString(fields, 'version', file),
    ...optionalString(fields, 'model', file),
    tools: stringList(fields, 'tools', file),
    rules: stringList(fields, 'rules', file),
    components: stringList(fields, 'components', file),
    variables: stringRecord(fields, 'variables', file),
    body,
    source,
  };
}

function requiredString(fields: Record<string, unknown>, key: string, file: string): string {
  const value = fields[key];
  if (value === undefined || value === null) throw new ProfileError(file, key, 'is required');
  if (typeof value !== 'string' || value.trim() === '')
    throw new ProfileError(file, key, `must be a non-empty string, got ${describe(value)}`);
  return value.trim();
}

function optionalString(fields: Record<string, unknown>, key: 'version' | 'model', file: string): { version?: string; model?: string } {
  const value = fields[key];
  if (value === undefined || value === null) return {};
  // YAML reads `version: 1.0` as a number; a version is text.
  if (typeof value === 'number') return { [key]: String(value) };
  if (typeof value !== 'string') throw new ProfileError(file, key, `must be a string, got ${describe(value)}`);
  return { [key]: value };
}

function stringList(fields: Record<string, unknown>, key: string, file: string): string[] {
  const value = fields[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ProfileError(file, key, `must be a list of strings, got ${describe(value)}`);
  return value.map((item, i) => {
    if (typeof item !== 'string' || item.trim() === '')
      throw new ProfileError(file, `${key}[${i}]`, `must be a non-empty string, got ${describe(item)}`);
    return item.trim();
  });
}

function stringRecord(fields: Record<string, unknown>, key: string, file: string): Record<string, string> {
  const value = fields[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ProfileError(file, key, `must be a mapping of names to strings, got ${describe(value)}`);
  const out: Record<string, string> = {};
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
      throw new ProfileError(file, `${key}.${name}`, `must be a string, got ${describe(item)}`);
    }
    out[name] = String(item);
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}
