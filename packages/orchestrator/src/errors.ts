export type OrchestratorErrorCode = 'E_ORCHESTRATOR' | 'E_DELEGATION';

/** Base class of every error thrown by `@pm/orchestrator`; messages start with `[orchestrator]`. */
export class OrchestratorError extends Error {
  readonly code: OrchestratorErrorCode;

  constructor(message: string, options?: { cause?: unknown; code?: OrchestratorErrorCode }) {
    super(`[orchestrator] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? 'E_ORCHESTRATOR';
  }
}

/** Why a delegation failed. */
export type DelegationFailure = 'crashed' | 'timeout' | 'runner-error' | 'closed';

/** An agent subprocess that crashed, hung past its bound, or whose runner threw. */
export class DelegationError extends OrchestratorError {
  constructor(
    readonly reason: DelegationFailure,
    readonly agentType: string,
    message: string,
  ) {
    super(`delegation to "${agentType}" failed (${reason}): ${message}`, { code: 'E_DELEGATION' });
  }
}
