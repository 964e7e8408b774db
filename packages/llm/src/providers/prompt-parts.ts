import { countTokens } from '@pm/prompt-builder';
import { LlmError } from '../errors.js';

/**
 * What the adapters need of a prompt: a `BuiltPrompt` from the prompt builder, or a delegation
 * prompt from the orchestrator, fits. The prefix is stable across tasks; the suffix is the task.
 */
export interface PromptParts {
  prefix: string;
  suffix: string;
  /** sha256 (hex) of `prefix`. */
  prefixHash: string;
  /** Tokens of `prefix`; counted (o200k_base) when absent. */
  prefixTokens?: number;
}

export function prefixTokensOf(prompt: PromptParts): number {
  return prompt.prefixTokens ?? countTokens(prompt.prefix);
}

/** Rejects what no provider accepts: a missing prefix or suffix, an empty task. */
export function assertPromptParts(prompt: PromptParts): void {
  const input: unknown = prompt;
  if (typeof input !== 'object' || input === null)
    throw new LlmError('E_LLM_PROMPT', 'a prompt must be an object with prefix and suffix strings');
  if (typeof prompt.prefix !== 'string' || typeof prompt.suffix !== 'string')
    throw new LlmError('E_LLM_PROMPT', 'a prompt needs prefix and suffix strings (a BuiltPrompt from the prompt builder has both)');
  if (prompt.suffix.trim() === '')
    throw new LlmError('E_LLM_PROMPT', 'the prompt has no task (its suffix is empty): providers need a user message');
  if (typeof prompt.prefixHash !== 'string' || prompt.prefixHash === '')
    throw new LlmError('E_LLM_PROMPT', 'a prompt needs its prefixHash (sha256 of the prefix)');
}
