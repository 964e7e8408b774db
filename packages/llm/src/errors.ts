/** Stable codes of `LlmError`. */
export type LlmErrorCode =
  'E_LLM_CONFIG' | 'E_LLM_PROMPT' | 'E_LLM_AUTH' | 'E_LLM_RATE_LIMIT' | 'E_LLM_OVERLOADED' | 'E_LLM_INVALID_REQUEST' | 'E_LLM_API';

/** Every error of this package: a stable `code`, a message starting with `[llm]`, the provider's error as `cause`. */
export class LlmError extends Error {
  override readonly name = 'LlmError';

  constructor(
    readonly code: LlmErrorCode,
    message: string,
    options: { cause?: unknown; status?: number; retryAfterMs?: number } = {},
  ) {
    super(`[llm] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The HTTP status the provider answered with, when it answered. */
  readonly status: number | undefined;
  /** How long the provider asked to wait before trying again (`retry-after`), when it said. */
  readonly retryAfterMs: number | undefined;
}
