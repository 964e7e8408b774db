/**
 * Agent subprocesses as they misbehave in the world: ignoring SIGTERM, leaving children behind,
 * dying while idle, flooding stdout; and runner modules at awkward paths.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SharedPromptCache } from '@pm/cache-core';
import { AgentPromptBuilder } from '@pm/prompt-builder';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PMOrchestrator, type PMOrchestratorOptions } from './pm-orchestrator.js';

const misbehaving = new URL('./fixtures/misbehaving-runner.ts', import.meta.url);
let projectDir: string;
const orchestrators: PMOrchestrator[] = [];

beforeEach(async () => {
  projectDir = await mkdtemp(path.join(tmpdir(), 'pm-agents-'));
  await mkdir(path.join(projectDir, '.pm/agents'), { recursive: true });
  await writeFile(
    path.join(projectDir, '.pm/agents/engineer.md'),
    '---\nname: engineer\ndescription: Builds things\nvariables: [agent]\n---\n# {agent}\n\nYou build things.\n',
  );
});

afterEach(async () => {
  await Promise.all(orchestrators.splice(0).map((o) => o.stop()));
  await rm(projectDir, { recursive: true, force: true });
});

function orchestrator(options: Partial<PMOrchestratorOptions> = {}): PMOrchestrator {
  const cache = new SharedPromptCache();
  const builder = new AgentPromptBuilder({ projectDir, userDir: projectDir, cache });
  const o = new PMOrchestrator({ builder, cache, runner: misbehaving, agentOutput: 'ignore', ...options });
  orchestrators.push(o);
  return o;
}

const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('agent process groups', () => {
  it('ends an agent that ignores SIGTERM on stop(), escalating to SIGKILL after killTimeout', async () => {
    const o = orchestrator({ maxAgents: 1, killTimeout: 300 });
    const marker = path.join(projectDir, 'ignoring');
    const task = o.delegate({ agentType: 'engineer', taskDescription: `ignore-term ${marker}` }).catch((e: unknown) => e);
    await vi.waitFor(
      async () => {
        expect(await readFile(marker, 'utf8').catch(() => '')).toBe('ignoring SIGTERM');
      },
      { timeout: 10_000 },
    );
    const started = Date.now();
    await o.stop();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);
    expect(await task).toMatchObject({ reason: 'crashed' });
    expect(o.agents.processes).toBe(0);
  }, 20_000);

  it("kills the agent's own children too when its task times out (no orphans)", async () => {
    const pidFile = path.join(projectDir, 'sleep.pid');
    const o = orchestrator({ maxAgents: 1, taskTimeout: 3000, killTimeout: 300 });
    const error = await o.delegate({ agentType: 'engineer', taskDescription: `fork-child ${pidFile}` }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'timeout' });
    const sleepPid = Number(await readFile(pidFile, 'utf8'));
    expect(sleepPid).toBeGreaterThan(0);
    await vi.waitFor(
      () => {
        expect(running(sleepPid)).toBe(false);
      },
      { timeout: 3000, interval: 50 },
    );
  }, 20_000);

  it("kills the agent's children on stop() as well", async () => {
    const pidFile = path.join(projectDir, 'sleep2.pid');
    const o = orchestrator({ maxAgents: 1, killTimeout: 300 });
    void o.delegate({ agentType: 'engineer', taskDescription: `fork-child ${pidFile}` }).catch(() => undefined);
    await vi.waitFor(
      async () => {
        expect(Number(await readFile(pidFile, 'utf8').catch(() => '0'))).toBeGreaterThan(0);
      },
      { timeout: 5000 },
    );
    const sleepPid = Number(await readFile(pidFile, 'utf8'));
    await o.stop();
    await vi.waitFor(
      () => {
        expect(running(sleepPid)).toBe(false);
      },
      { timeout: 3000, interval: 50 },
    );
  }, 20_000);

  it('never hands a task to an idle agent that died: the task runs in a new process, and the host does not crash on EPIPE', async () => {
    const o = orchestrator({ maxAgents: 1 });
    await o.start();
    const first = await o.delegate({ agentType: 'engineer', taskDescription: 'warm up' });
    process.kill(first.pid, 'SIGKILL'); // dies while idle; the next task comes at once
    const next = await o.delegate({ agentType: 'engineer', taskDescription: 'after the death' });
    expect(next.output).toBe('engineer:after the death');
    expect(next.pid).not.toBe(first.pid);
    // And once more after the exit has been seen.
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(next.pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await o.delegate({ agentType: 'engineer', taskDescription: 'again' })).output).toBe('engineer:again');
  }, 20_000);

  it('still delivers the result of an agent that floods its stdout', async () => {
    const o = orchestrator({ maxAgents: 1, taskTimeout: 20_000 });
    const result = await o.delegate({ agentType: 'engineer', taskDescription: 'flood 20' });
    expect(result.output).toBe('engineer:flood 20');
  }, 30_000);
});

describe('runner modules', () => {
  it('loads a runner from a path containing #, ? and spaces (a path is not a URL)', async () => {
    const dir = path.join(projectDir, 'runners #1 ?odd');
    await mkdir(dir, { recursive: true });
    const runnerFile = path.join(dir, 'runner.mjs');
    await writeFile(runnerFile, "export default { run: ({ taskDescription }) => ({ output: 'odd path ran ' + taskDescription }) };\n");
    const o = orchestrator({ runner: runnerFile });
    expect((await o.delegate({ agentType: 'engineer', taskDescription: 'x' })).output).toBe('odd path ran x');
    const relative = path.relative(process.cwd(), runnerFile);
    const o2 = orchestrator({ runner: relative });
    expect((await o2.delegate({ agentType: 'engineer', taskDescription: 'y' })).output).toBe('odd path ran y');
    await copyFile(fileURLToPath(misbehaving), path.join(dir, 'unused.ts'));
  }, 30_000);
});
