import { ProfileError } from './errors.js';
import { parseFrontMatter, splitFrontMatter } from './front-matter.js';
import { renderTemplate } from './template.js';

/** A component file: its text and the variables it declares (with defaults). */
export interface ParsedComponent {
  template: string;
  declared: Record<string, string | undefined>;
}

/**
 * A component is Markdown, optionally with front matter declaring the variables it uses:
 * `variables: [task, requirements]` or `variables: { tone: friendly }` (with a default). Without
 * front matter it is prose and comes out byte-for-byte (but for variables the caller passes).
 */
export function parseComponent(text: string, file: string): ParsedComponent {
  const split = splitFrontMatter(text);
  if (split.frontMatter === undefined) return { template: text, declared: {} };
  const parsed = parseFrontMatter(split.frontMatter, split.frontMatterLine, new Set(['variables']));
  if ('error' in parsed)
    throw new ProfileError(file, undefined, `has front matter that is neither YAML nor "key: value" lines: ${parsed.error}`, {
      line: parsed.line,
    });
  const declared: Record<string, string | undefined> = {};
  const variables = parsed.fields.variables;
  if (Array.isArray(variables)) {
    for (const name of variables) if (typeof name === 'string' && name.trim() !== '') declared[name.trim()] = undefined;
  } else if (typeof variables === 'object' && variables !== null) {
    for (const [name, value] of Object.entries(variables))
      declared[name] = value === null || value === undefined ? undefined : String(value as string | number | boolean);
  } else if (variables !== undefined && variables !== null) {
    throw new ProfileError(file, 'variables', 'must be a list of names or a mapping of names to defaults', {
      line: parsed.lines.variables,
    });
  }
  return { template: split.body, declared };
}

/**
 * Renders a component: its declared variables from `provided` (the caller's), else `values`
 * (what the builder knows: the agent, the project, the task), else its own defaults.
 */
export function renderComponent(
  component: ParsedComponent,
  provided: Readonly<Record<string, string>>,
  values: Readonly<Record<string, string | undefined>>,
  file: string,
): string {
  const defaults: Record<string, string> = {};
  for (const [name, fallback] of Object.entries(component.declared)) {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value !== undefined) defaults[name] = value;
    else if (fallback !== undefined) defaults[name] = fallback;
  }
  return renderTemplate(component.template, { declared: new Set(Object.keys(component.declared)), provided, defaults, source: file });
}
