import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface TaskContext {
  task: string;
  requirements: string[];
  priority: 'low' | 'medium' | 'high';
}

export interface AssembledPrompt {
  text: string;
  prefixHash: string;
  tokenEstimate: number;
}

/**
 * The uncached path a prompt takes: read the agent's profile from disk, fill its placeholders
 * with the task, hash the stable prefix. (The prompt-builder package replaces this with
 * validated profiles and components.)
 */
export async function assemblePrompt(agentsDir: string, agent: string, context: TaskContext): Promise<AssembledPrompt> {
  const source = await readFile(path.join(agentsDir, `${agent}.md`), 'utf8');
  const body = source.replace(/^---\n[\s\S]*?\n---\n/, '');
  const values: Record<string, string> = {
    task: context.task,
    requirements: context.requirements.map((r) => `- ${r}`).join('\n'),
    priority: context.priority,
  };
  const text = body.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
  const prefix = body.slice(0, body.indexOf('{task}'));
  return {
    text,
    prefixHash: createHash('sha256').update(prefix).digest('hex'),
    tokenEstimate: Math.ceil(text.length / 4),
  };
}
