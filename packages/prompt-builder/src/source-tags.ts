/**
 * Tags that tie cached entries to what they were built from, so a change to a file drops
 * exactly its dependents (in every process, over the bus): the file itself, and the name it is
 * found under (a new file that shadows another of the same name changes what the name means).
 */
export const fileTag = (file: string): string => `file:${file}`;
export const agentTag = (name: string): string => `agent:${name}`;
export const componentTag = (name: string): string => `component:${name}`;
