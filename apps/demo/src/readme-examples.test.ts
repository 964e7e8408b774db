import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsx = createRequire(import.meta.url).resolve('tsx');
const demoDir = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = path.join(demoDir, '..', '..', 'packages');

/** The first ```ts block under a README's `## <heading>`. */
function exampleOf(readme: string, heading = 'Example'): string | undefined {
  const section = readme.split(/^## /m).find((part) => part.startsWith(heading));
  return section === undefined ? undefined : /```ts\n([\s\S]*?)```/.exec(section)?.[1];
}

const packages = await readdir(packagesDir);
// Examples run from inside this app, so `@pm/*` imports resolve to the built packages.
const scratch = await mkdtemp(path.join(demoDir, '.readme-'));
// tsx reads the tsconfig of its working directory; examples use the project's legacy decorators.
await writeFile(
  path.join(scratch, 'tsconfig.json'),
  JSON.stringify({ compilerOptions: { target: 'ES2023', experimentalDecorators: true } }),
);
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('package README examples', () => {
  it.each(packages)(
    '%s has an example that runs',
    async (name) => {
      const example = exampleOf(await readFile(path.join(packagesDir, name, 'README.md'), 'utf8'));
      expect(example, `${name}/README.md needs a \`\`\`ts block under "## Example"`).toBeDefined();
      const file = path.join(scratch, `${name}.ts`);
      await writeFile(file, example!);
      await expect(run(process.execPath, ['--import', tsx, file], { cwd: scratch, timeout: 30_000 })).resolves.toBeDefined();
    },
    60_000,
  );

  it('the root README has a short example that runs as written', async () => {
    const example = exampleOf(await readFile(path.join(packagesDir, '..', 'README.md'), 'utf8'), 'A short example');
    expect(example).toBeDefined();
    const file = path.join(scratch, 'root-readme.ts');
    await writeFile(file, example!);
    const { stdout } = await run(process.execPath, ['--import', tsx, file], { cwd: scratch, timeout: 30_000 });
    expect(stdout).toMatch(/^true /);
  }, 60_000);
});
