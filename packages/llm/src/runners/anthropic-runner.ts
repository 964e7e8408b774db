/**
 * `@pm/llm/runners/anthropic`: an orchestrator runner module (pass its path as the orchestrator's
 * `runner`) that sends each delegation to Claude through the official Anthropic SDK, configured
 * from the environment of the agent subprocess: `ANTHROPIC_API_KEY` (required),
 * `PM_LLM_MODEL` (default claude-sonnet-4-6), `PM_LLM_MAX_TOKENS` (default 1024),
 * `PM_LLM_MAX_RETRIES` (default 2) and the SDK's own `ANTHROPIC_BASE_URL`.
 */
import { createAnthropicRunner } from './anthropic.js';

export default createAnthropicRunner();
