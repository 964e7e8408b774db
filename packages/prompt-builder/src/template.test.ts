import { describe, expect, it } from 'vitest';
import { TemplateError } from './errors.js';
import { renderTemplate, templateVariables } from './template.js';

const scope = (declared: string[], provided: Record<string, string> = {}, defaults: Record<string, string> = {}) => ({
  declared: new Set(declared),
  provided,
  defaults,
  source: '/p/t.md',
});

describe('renderTemplate', () => {
  it('fills declared and provided placeholders and leaves every other brace alone', () => {
    expect(renderTemplate('Hello {name}, {x.y}! {not a var} {} {other}', scope(['name', 'x.y'], {}, { name: 'qa', 'x.y': '1' }))).toBe(
      'Hello qa, 1! {not a var} {} {other}',
    );
    expect(renderTemplate('{sprint} and {id}', scope([], { sprint: '7' }))).toBe('7 and {id}');
  });

  it('names a declared variable without a value, and the template', () => {
    const error = (() => {
      try {
        renderTemplate('Task: {task}\nBy: {owner}', scope(['task', 'owner'], { task: 'x' }));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({
      variable: 'owner',
      template: '/p/t.md',
      message: '[prompt-builder] /p/t.md: no value for the variable {owner}',
    });
  });

  it('keeps an escaped placeholder literal, and every other backslash as it is', () => {
    expect(renderTemplate('use \\{name} for {name}; \\{x\\} stays', scope(['name'], {}, { name: 'x' }))).toBe(
      'use {name} for x; \\{x\\} stays',
    );
  });

  it('is data, never code: no expressions, no prototype lookups', () => {
    expect(renderTemplate('${process.exit(1)} {{a}}', scope(['a'], {}, { a: 'A' }))).toBe('${process.exit(1)} {A}');
    expect(() => renderTemplate('{constructor}', scope(['constructor']))).toThrow(TemplateError);
    expect(renderTemplate('{toString}', scope([]))).toBe('{toString}');
  });

  it('lists the placeholder-shaped names a text holds', () => {
    expect(templateVariables('{a} {b} \\{c} {a}')).toEqual(['a', 'b']);
  });
});
