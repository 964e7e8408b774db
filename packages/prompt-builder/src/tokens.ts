import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';

/**
 * Tokens in `text` under OpenAI's `o200k_base` encoding (GPT-4o and later), counted by
 * `gpt-tokenizer`, a maintained pure-JavaScript BPE tokenizer. For models whose tokenizer is not
 * public (Anthropic's Claude among them) it is an estimate: prompt text tokenizes within a few
 * percent across modern BPE vocabularies, far closer than UTF-8 bytes / 4.
 */
export function countTokens(text: string): number {
  return text === '' ? 0 : countO200k(text);
}
