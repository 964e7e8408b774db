export type PromptErrorCode =
  'E_PROMPT' | 'E_PROFILE' | 'E_PROFILE_NOT_FOUND' | 'E_TEMPLATE' | 'E_COMPONENT_NOT_FOUND' | 'E_UNSAFE_SOURCE' | 'E_UNREADABLE_SOURCE';

/** Base class of every error thrown by `@pm/prompt-builder`; messages start with `[prompt-builder]`. */
export class PromptBuilderError extends Error {
  readonly code: PromptErrorCode;

  constructor(message: string, options?: { cause?: unknown; code?: PromptErrorCode }) {
    super(`[prompt-builder] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? 'E_PROMPT';
  }
}

/** A profile file that cannot be used, naming the file, the line and the field. */
export class ProfileError extends PromptBuilderError {
  constructor(
    readonly file: string,
    readonly field: string | undefined,
    problem: string,
    options?: { cause?: unknown; line?: number },
  ) {
    const where = options?.line === undefined ? file : `${file}:${options.line}`;
    super(`${where}: ${field === undefined ? '' : `front matter field "${field}" `}${problem}`, { ...options, code: 'E_PROFILE' });
    this.line = options?.line;
  }

  /** 1-based line of the field (or of the problem) in the file. */
  readonly line: number | undefined;
}

/** No profile of that name in any profile directory. */
export class ProfileNotFoundError extends PromptBuilderError {
  constructor(
    readonly agent: string,
    searched: readonly string[],
  ) {
    super(`no profile for agent "${agent}"; looked in ${searched.join(', ')}`, { code: 'E_PROFILE_NOT_FOUND' });
  }
}

/** A template placeholder with no value. */
export class TemplateError extends PromptBuilderError {
  constructor(
    readonly template: string,
    readonly variable: string,
  ) {
    super(`${template}: no value for the variable {${variable}}`, { code: 'E_TEMPLATE' });
  }
}

export class ComponentNotFoundError extends PromptBuilderError {
  constructor(
    readonly component: string,
    searched: readonly string[],
  ) {
    super(`no component "${component}"; looked in ${searched.join(', ')}`, { code: 'E_COMPONENT_NOT_FOUND' });
  }
}
