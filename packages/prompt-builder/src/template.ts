import { TemplateError } from './errors.js';

/** `{name}` or `{name.sub}`; a backslash before the brace (`\{name}`) keeps it literal. */
const PLACEHOLDER = /(\\?)\{([A-Za-z_][\w.-]*)\}/g;

/**
 * Fills `{name}` placeholders with `variables`. Templates are data: nothing in them is
 * evaluated, there are no expressions, loops or includes. A placeholder without a value throws
 * {@link TemplateError} naming it and `source`.
 */
export function renderTemplate(template: string, variables: Readonly<Record<string, string>>, source: string): string {
  return template.replace(PLACEHOLDER, (_whole, escape: string, name: string) => {
    if (escape === '\\') return `{${name}}`;
    const value = variables[name];
    if (value === undefined || !Object.hasOwn(variables, name)) throw new TemplateError(source, name);
    return value;
  });
}

/** The placeholder names a template uses, in order of first use. */
export function templateVariables(template: string): string[] {
  const names = new Set<string>();
  for (const [, escape, name] of template.matchAll(PLACEHOLDER)) if (escape !== '\\' && name !== undefined) names.add(name);
  return [...names];
}
