import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SharedPromptCache } from '@pm/cache-core';
import { AgentPromptBuilder } from '@pm/prompt-builder';
import { median } from './harness.js';

/**
 * How long after a profile file is rewritten `loadAgentProfile` serves the new version, with
 * `watch()` on and the old version cached (the contract: within 200 ms, not after the TTL).
 */
export async function watchLatency(edits: number): Promise<{ p50: number; p95: number; max: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pm-watch-'));
  try {
    await mkdir(path.join(dir, '.pm/agents'), { recursive: true });
    const file = path.join(dir, '.pm/agents/qa.md');
    const write = (version: number) => writeFile(file, `---\nname: qa\ndescription: v${version}\n---\nbody\n`);
    await write(0);
    const builder = new AgentPromptBuilder({ projectDir: dir, userDir: dir, cache: new SharedPromptCache() });
    const stop = builder.watch();
    await builder.watching();
    const samples: number[] = [];
    for (let version = 1; version <= edits; version++) {
      await builder.loadAgentProfile('qa');
      const start = performance.now();
      await write(version);
      while ((await builder.loadAgentProfile('qa')).description !== `v${version}`) {
        if (performance.now() - start > 10_000) throw new Error(`edit ${version} was not seen within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      samples.push(performance.now() - start);
    }
    stop();
    samples.sort((a, b) => a - b);
    return { p50: median(samples), p95: samples[Math.floor(samples.length * 0.95)]!, max: samples.at(-1)! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
