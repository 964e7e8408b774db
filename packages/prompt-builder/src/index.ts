export {
  AgentPromptBuilder,
  PROMPT_BUILDER_NAMESPACES,
  type AgentPromptBuilderOptions,
  type BuiltPrompt,
  type TaskContext,
} from './agent-prompt-builder.js';
export { CacheAccess } from './cache-access.js';
export {
  ComponentNotFoundError,
  ProfileError,
  ProfileNotFoundError,
  PromptBuilderError,
  TemplateError,
  type PromptErrorCode,
} from './errors.js';
export { parseProfile, type AgentProfile, type ProfileTier } from './profile.js';
export { PROMPT_BUILDER_SERVICE_NAME, registerPromptBuilder, type RegisterPromptBuilderOptions } from './service.js';
export { SourceDirectories, type SourceDirectoryOptions } from './sources.js';
export { renderTemplate, templateVariables } from './template.js';
export type { SourceChange } from './watch.js';
