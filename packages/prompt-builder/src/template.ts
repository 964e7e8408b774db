import { TemplateError } from './errors.js';

/** `{name}` or `{name.sub}`; a backslash before the brace (`\{name}`) keeps a placeholder literal. */
const PLACEHOLDER = /(\\?)\{([A-Za-z_][\w.-]*)\}/g;

/** What a template may substitute, and with what. */
export interface TemplateScope {
  /** Variables the template declares: always substituted; one without a value is a TemplateError. */
  readonly declared: ReadonlySet<string>;
  /** Variables the caller passed: substituted wherever they appear. */
  readonly provided: Readonly<Record<string, string>>;
  /** Values for declared variables that the caller did not pass (the agent's name, the project, defaults). */
  readonly defaults: Readonly<Record<string, string>>;
  /** The file, for errors. */
  readonly source: string;
}

/**
 * Renders a template: only placeholders of variables it declares or the caller provides are
 * substituted; everything else — `{id}`, `f"{user_id}"`, JSX `{children}`, `${VAR}`,
 * `\{x\}` — comes out byte-for-byte. Templates are data: nothing is evaluated.
 * @throws TemplateError naming a declared variable without a value, and the file
 */
export function renderTemplate(template: string, scope: TemplateScope): string {
  return template.replace(PLACEHOLDER, (whole, escape: string, name: string) => {
    const provided = Object.hasOwn(scope.provided, name);
    if (!provided && !scope.declared.has(name)) return whole;
    if (escape === '\\') return `{${name}}`;
    const value = provided ? scope.provided[name] : Object.hasOwn(scope.defaults, name) ? scope.defaults[name] : undefined;
    if (value === undefined) throw new TemplateError(scope.source, name);
    return value;
  });
}

/** The placeholder-shaped names a text contains, in order of first use (whether or not a template declares them). */
export function templateVariables(template: string): string[] {
  const names = new Set<string>();
  for (const [, escape, name] of template.matchAll(PLACEHOLDER)) if (escape !== '\\' && name !== undefined) names.add(name);
  return [...names];
}
