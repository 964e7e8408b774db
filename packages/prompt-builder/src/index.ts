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
export { firstParagraph, parseProfile, type AgentProfile, type ParseProfileOptions, type ProfileTier } from './profile.js';
export { PROMPT_BUILDER_SERVICE_NAME, registerPromptBuilder, type RegisterPromptBuilderOptions } from './service.js';
export { SourceDirectories, type SourceDirectory, type SourceDirectoryOptions, type SourceFile } from './sources.js';
export { countTokens } from './tokens.js';
export { agentTag, componentTag, fileTag } from './source-tags.js';
export { renderTemplate, templateVariables, type TemplateScope } from './template.js';
export type { SourceChange, SourceWatcher } from './watch.js';
