import { describe, expect, it } from 'vitest';
import { TemplateError } from './errors.js';
import { renderTemplate, templateVariables } from './template.js';

describe('renderTemplate', () => {
  it('fills {placeholders} and leaves other text alone', () => {
    expect(renderTemplate('Hello {name}, {x.y}! {not a var} {}', { name: 'qa', 'x.y': '1' }, 't.md')).toBe('Hello qa, 1! {not a var} {}');
  });

  it('names the missing variable and the template', () => {
    const error = (() => {
      try {
        renderTemplate('Task: {task}\nBy: {owner}', { task: 'x' }, '/p/task.md');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({
      variable: 'owner',
      template: '/p/task.md',
      message: '[prompt-builder] /p/task.md: no value for the variable {owner}',
    });
  });

  it('keeps escaped placeholders literal', () => {
    expect(renderTemplate('use \\{name} for {name}', { name: 'x' }, 't')).toBe('use {name} for x');
  });

  it('is data, never code: no expressions, no prototype lookups', () => {
    expect(renderTemplate('${process.exit(1)} {{a}}', { a: 'A' }, 't')).toBe('${process.exit(1)} {A}');
    expect(() => renderTemplate('{constructor}', {}, 't')).toThrow(TemplateError);
    expect(() => renderTemplate('{toString}', {}, 't')).toThrow(/toString/);
  });

  it('lists the variables a template uses', () => {
    expect(templateVariables('{a} {b} {a} \\{c}')).toEqual(['a', 'b']);
  });
});
