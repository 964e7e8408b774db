import { describe, expect, it } from 'vitest';
import { ProfileError } from './errors.js';
import { firstParagraph, parseProfile } from './profile.js';

const source = { path: '/p/.claude/agents/qa.md', tier: 'project' as const };
const parse = (text: string, strict = false) => parseProfile(text, source, { strict });

describe('parseProfile', () => {
  it('reads our own format: validated front matter and the body', () => {
    const profile = parse(
      '---\nname: qa\ndescription: Finds bugs\nversion: 1.0\ntools: [read, test]\nrules:\n  - Be precise\ncomponents: [shared/x]\nvariables: { team: core, level: 3 }\n---\n# QA\n\nBody.\n',
    );
    expect(profile).toEqual({
      name: 'qa',
      description: 'Finds bugs',
      version: '1.0',
      tools: ['read', 'test'],
      rules: ['Be precise'],
      components: ['shared/x'],
      variables: { team: 'core', level: '3' },
      extra: {},
      body: '# QA\n\nBody.',
      source: { ...source, format: 'front-matter' },
    });
  });

  it('reads a Claude Code subagent: tools as a comma-separated string, a model alias, unknown fields kept', () => {
    const profile = parse(
      '---\nname: code-reviewer\ndescription: Reviews code\ntools: Read, Grep, Glob, Bash\nmodel: inherit\ncolor: purple\n---\nYou review code.\n',
    );
    expect(profile).toMatchObject({
      name: 'code-reviewer',
      tools: ['Read', 'Grep', 'Glob', 'Bash'],
      model: 'inherit',
      extra: { color: 'purple' },
    });
  });

  it('keeps the text of scalars where it matters: version 1.10 stays "1.10", 2.0 stays "2.0"', () => {
    expect(parse('---\nname: a\ndescription: d\nversion: 1.10\n---\nx').version).toBe('1.10');
    expect(parse('---\nname: a\ndescription: d\nversion: 2.0\n---\nx').version).toBe('2.0');
    expect(parse('---\nname: a\ndescription: d\nmodel: 3.5\n---\nx').model).toBe('3.5');
    expect(parse('---\nname: a\ndescription: d\nversion: "1.10"\nschema_version: 1.10\n---\nx')).toMatchObject({
      version: '1.10',
      extra: { schema_version: 1.1 },
    });
  });

  it('reads front matter that is not valid YAML line by line: descriptions with `: ` and <example> blocks', () => {
    const text = [
      '---',
      'name: security-reviewer',
      'description: Use this agent when: reviewing auth code. Examples:\\n\\n<example>\\nContext: a login form\\nuser: "check this"\\n</example>',
      'tools: Read, Grep',
      'model: sonnet',
      '---',
      'You review security.',
    ].join('\n');
    const profile = parse(text);
    expect(profile).toMatchObject({ name: 'security-reviewer', tools: ['Read', 'Grep'], model: 'sonnet' });
    expect(profile.description).toMatch(/^Use this agent when: reviewing auth code\. Examples:/);
  });

  it('keeps an <example> block spread over lines in the description, not as fields', () => {
    const text = [
      '---',
      'name: guardian',
      'description: Use this agent for audits. Examples:\\n\\n<example>\\nContext: Implementing auth',
      'user: "We need login"',
      'assistant: "I will use the guardian agent"',
      '<commentary>',
      'Auth is sensitive.',
      '</commentary>',
      '</example>',
      'color: red',
      'tools: Read, Write',
      '---',
      'Body.',
    ].join('\n');
    const profile = parse(text);
    expect(profile.description).toContain('user: "We need login"');
    expect(profile.description).toContain('</example>');
    expect(profile).toMatchObject({ tools: ['Read', 'Write'], extra: { color: 'red' } });
    expect(profile.extra).not.toHaveProperty('user');
  });

  it('loads a plain Markdown role file: the name from the file, the description from its first paragraph', () => {
    const profile = parse('# Backend Engineer\n\nYou design APIs and own the database.\nYou write tests.\n\n## Rules\n\n- Be careful.\n');
    expect(profile).toMatchObject({
      name: 'qa',
      description: 'You design APIs and own the database. You write tests.',
      source: { format: 'plain' },
    });
    expect(profile.body).toContain('## Rules');
  });

  it('takes the name from the file when the front matter has none, and tolerates BOM, CRLF and an empty body', () => {
    expect(parse('\uFEFF---\r\ndescription: d\r\ntools:\r\n  - Read\r\n---\r\n')).toMatchObject({
      name: 'qa',
      description: 'd',
      tools: ['Read'],
      body: '',
    });
  });

  it('rejects unknown fields in strict mode, naming the field and its line', () => {
    const error = (() => {
      try {
        parse('---\nname: qa\ndescription: d\nmodle: x\n---\nbody', true);
      } catch (e) {
        return e;
      }
    })() as ProfileError;
    expect(error).toBeInstanceOf(ProfileError);
    expect(error).toMatchObject({ field: 'modle', line: 4 });
    expect(error.message).toMatch(/qa\.md:4: front matter field "modle" is not a known field/);
  });

  it.each([
    ['---\n- a list\n---\nbody', undefined, /front matter must be a YAML mapping/],
    ['---\nname: [qa]\ndescription: d\n---\nbody', 'name', /field "name" must be text, got a list/],
    ['---\nname: a/b\ndescription: d\n---\nbody', 'name', /must be a name without/],
    ['---\nname: qa\ndescription: d\ntools: { read: true }\n---\nbody', 'tools', /field "tools" must be a list of strings, got a mapping/],
    ['---\nname: qa\ndescription: d\nrules: [ok, {}]\n---\nbody', 'rules[1]', /field "rules\[1\]" must be a non-empty string/],
    ['---\nname: qa\ndescription: d\nvariables: { a: [1] }\n---\nbody', 'variables.a', /field "variables.a" must be a string/],
  ])('rejects %j, naming the file and the field', (text, field, message) => {
    let error: unknown;
    try {
      parse(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProfileError);
    expect((error as ProfileError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('/p/.claude/agents/qa.md');
  });
});

describe('firstParagraph', () => {
  it('skips a heading-only paragraph and joins lines', () => {
    expect(firstParagraph('# Title\n\nFirst line\nsecond line.\n\nMore.')).toBe('First line second line.');
    expect(firstParagraph('Only text')).toBe('Only text');
    expect(firstParagraph('')).toBe('');
  });
});
