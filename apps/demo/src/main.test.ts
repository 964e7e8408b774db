import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsx = createRequire(import.meta.url).resolve('tsx');
const main = fileURLToPath(new URL('./main.ts', import.meta.url));

async function demo(...args: string[]) {
  return run(process.execPath, ['--import', tsx, main, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('the demo, end to end', () => {
  it('assembles prompts cold and warm and prints a JSON summary as its last line', async () => {
    const { stdout } = await demo('--contexts', '4', '--requests', '60', '--json');
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({ hitRate: 1, entries: 24, evictions: 0, health: 'healthy' });
    expect(summary.coldMs).toBeGreaterThan(summary.warmMs as number);
    expect(summary.improvementPercent).toBeGreaterThan(0);
    expect(stdout).toContain('task prompt build');
  }, 60_000);

  it('rejects a bad argument with a clear message and exit code 1', async () => {
    const failure = await demo('--requests', 'lots').catch((error: unknown) => error as { code: number; stderr: string });
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('--requests must be a positive integer, got "lots"');
  }, 60_000);
});
