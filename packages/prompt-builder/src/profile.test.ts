import { describe, expect, it } from 'vitest';
import { ProfileError } from './errors.js';
import { parseProfile } from './profile.js';

const source = { path: '/p/.pm/agents/qa.md', tier: 'project' as const };
const parse = (text: string) => parseProfile(text, source, 'qa');

describe('parseProfile', () => {
  it('reads validated front matter and the body', () => {
    const profile = parse(
      '---\nname: qa\ndescription: Finds bugs\nversion: 1.0\ntools: [read, test]\nrules:\n  - Be precise\ncomponents: [shared/x]\nvariables: { team: core, level: 3 }\n---\n# QA\n\nBody.\n',
    );
    expect(profile).toEqual({
      name: 'qa',
      description: 'Finds bugs',
      version: '1',
      tools: ['read', 'test'],
      rules: ['Be precise'],
      components: ['shared/x'],
      variables: { team: 'core', level: '3' },
      body: '# QA\n\nBody.',
      source,
    });
  });

  it.each([
    ['# no front matter', undefined, /has no YAML front matter/],
    ['---\nname: qa\ndescription: [unclosed\n---\nbody', undefined, /invalid YAML front matter \(line \d+, column \d+\)/],
    [
      '---\nname: qa\ndescription: Builds: things\n---\nbody',
      undefined,
      /invalid YAML front matter \(line 3, column 14\): Nested mappings are not allowed in compact mappings$/,
    ],
    ['---\n- a list\n---\nbody', undefined, /must be a YAML mapping/],
    ['---\ndescription: d\n---\nbody', 'name', /field "name" is required/],
    ['---\nname: qa\n---\nbody', 'description', /field "description" is required/],
    ['---\nname: qa\ndescription: 42\n---\nbody', 'description', /must be a non-empty string, got number/],
    ['---\nname: qa\ndescription: d\ntools: read\n---\nbody', 'tools', /field "tools" must be a list of strings, got "read"/],
    ['---\nname: qa\ndescription: d\nrules: [ok, 3]\n---\nbody', 'rules[1]', /field "rules\[1\]" must be a non-empty string/],
    ['---\nname: qa\ndescription: d\nvariables: { a: [1] }\n---\nbody', 'variables.a', /field "variables.a" must be a string/],
    ['---\nname: qa\ndescription: d\nmodle: x\n---\nbody', 'modle', /field "modle" is not a known field/],
    ['---\nname: engineer\ndescription: d\n---\nbody', 'name', /is "engineer" but the file is named for "qa"/],
    ['---\nname: qa\ndescription: d\n---\n   \n', undefined, /has no Markdown body/],
  ])('rejects %j naming the file and the field', (text, field, message) => {
    let error: unknown;
    try {
      parse(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProfileError);
    expect((error as ProfileError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('/p/.pm/agents/qa.md');
  });
});
