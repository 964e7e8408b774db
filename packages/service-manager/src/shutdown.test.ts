import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const tsx = createRequire(import.meta.url).resolve('tsx');
const child = fileURLToPath(new URL('./fixtures/shutdown-child.ts', import.meta.url));

function startChild(...args: string[]) {
  const proc = spawn(process.execPath, ['--import', tsx, child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const waitFor = async (text: string) => {
    while (!output.includes(text)) {
      if (proc.exitCode !== null) throw new Error(`child exited early: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { proc, waitFor, output: () => output };
}

describe('installShutdownHooks in a real process', () => {
  it('stops services in reverse dependency order on SIGTERM, then exits 0', async () => {
    const { proc, waitFor, output } = startChild();
    await waitFor('ready');
    proc.kill('SIGTERM');
    const [code] = (await once(proc, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(
      output()
        .split('\n')
        .filter((l) => l.startsWith('stop:')),
    ).toEqual(['stop:api', 'stop:cache', 'stop:db']);
  }, 30_000);

  it('exits at once, with 128 + the signal number, on a second signal', async () => {
    const { proc, waitFor } = startChild('hang');
    await waitFor('ready');
    proc.kill('SIGTERM');
    await waitFor('stop:api');
    proc.kill('SIGINT');
    const [code] = (await once(proc, 'exit')) as [number | null];
    expect(code).toBe(130);
  }, 30_000);
});
