export { PMOrchestrator, type DelegationRequest, type DelegationResult, type PMOrchestratorOptions } from './pm-orchestrator.js';
export { ORCHESTRATOR_SERVICE_NAME, registerOrchestrator, type RegisterOrchestratorOptions } from './service.js';
export { DelegationError, OrchestratorError, type DelegationFailure, type OrchestratorErrorCode } from './errors.js';
export type { AgentRunInput, AgentRunner, AgentRunOutput } from './runner.js';
