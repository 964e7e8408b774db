import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ProfileNotFoundError } from './errors.js';
import { splitFrontMatter } from './front-matter.js';
import type { ProfileTier } from './profile.js';
import { readInside, type SourceDirectory, type SourceFile } from './sources.js';

/** One agent file, by the names it can be found under. */
export interface AgentEntry {
  /** The file name without `.md`. */
  fileName: string;
  /** The front matter's `name:`, when it has one. */
  declaredName: string | undefined;
  /** Relative to its directory. */
  relativePath: string;
  dir: string;
  tier: ProfileTier;
}

/**
 * Files in agent directories that are documentation, not agents: by convention their names are
 * upper case (`README.md`, `SECURITY.md`), which keeps an agent called `security` an agent.
 */
const DOCUMENTATION = /^(?:README|CHANGELOG|CONTRIBUTING|LICENSE|CODE_OF_CONDUCT|SECURITY|CLAUDE|AGENTS|AGENT_TEMPLATE|TEMPLATE)$/;
const isDocumentation = (name: string): boolean => DOCUMENTATION.test(name) || /^readme$/i.test(name);
const MAX_DEPTH = 3;
const NAME_LINE = /^name[ \t]*:[ \t]*(.*?)[ \t]*$/m;

/**
 * Finds agent profiles by file name or by their `name:` field, across the agent directories in
 * precedence order. Collections keep agents in category folders and publish prefixed copies
 * (`lang-python-pro.md` holding `name: python-pro`), and file names carry dots
 * (`dotnet-framework-4.8-expert.md`): all of them are found. The index of `name:` fields is
 * built once per directory and rebuilt when a lookup misses or the watcher reports a change.
 */
export class AgentIndex {
  readonly #dirs: readonly SourceDirectory[];
  readonly #byDir = new Map<string, Promise<AgentEntry[]>>();

  constructor(dirs: readonly SourceDirectory[]) {
    this.#dirs = dirs;
  }

  /** Forget what was read (a file was added, removed or edited). */
  reset(): void {
    this.#byDir.clear();
  }

  /**
   * The file of agent `name`: in the first directory that has it, a file of that name before a
   * `name:` field. Read, and checked to live inside its directory.
   */
  async read(name: string): Promise<SourceFile> {
    for (let attempt = 0; attempt < 2; attempt++) {
      for (const { dir, tier } of this.#dirs) {
        const entries = await this.#entries(dir, tier);
        const entry = entries.find((e) => e.fileName === name) ?? entries.find((e) => e.declaredName === name);
        if (entry === undefined) continue;
        const text = await readInside(dir, entry.relativePath);
        // Gone or renamed since the index was built: build it again.
        if (text === undefined || (entry.fileName !== name && declaredName(text) !== name)) break;
        return { path: path.join(dir, entry.relativePath), tier, text };
      }
      this.reset();
    }
    throw new ProfileNotFoundError(
      name,
      this.#dirs.map((d) => d.dir),
    );
  }

  /** Every agent, once per name (the highest-precedence definition), in precedence order. */
  async list(): Promise<AgentEntry[]> {
    const seen = new Set<string>();
    const out: AgentEntry[] = [];
    for (const { dir, tier } of this.#dirs) {
      for (const entry of await this.#entries(dir, tier)) {
        const names = [entry.declaredName ?? entry.fileName, entry.fileName];
        if (names.some((n) => seen.has(n))) continue;
        for (const n of names) seen.add(n);
        out.push(entry);
      }
    }
    return out;
  }

  #entries(dir: string, tier: ProfileTier): Promise<AgentEntry[]> {
    let entries = this.#byDir.get(dir);
    if (entries === undefined) {
      entries = scan(dir, tier);
      this.#byDir.set(dir, entries);
    }
    return entries;
  }
}

async function scan(dir: string, tier: ProfileTier): Promise<AgentEntry[]> {
  const entries: AgentEntry[] = [];
  const walk = async (relative: string, depth: number): Promise<void> => {
    let items: Dirent[];
    try {
      items = await readdir(path.join(dir, relative), { withFileTypes: true });
    } catch {
      return; // a directory that does not exist (yet) holds no agents
    }
    items.sort((a, b) => a.name.localeCompare(b.name));
    for (const item of items) {
      if (item.name.startsWith('.') || item.name === 'node_modules') continue;
      const child = relative === '' ? item.name : path.join(relative, item.name);
      if (item.isDirectory() && depth < MAX_DEPTH) await walk(child, depth + 1);
      else if ((item.isFile() || item.isSymbolicLink()) && /\.md$/i.test(item.name) && !isDocumentation(item.name.slice(0, -3))) {
        // A link that leads outside stays in the index by its file name: reading it is refused with E_UNSAFE_SOURCE.
        const text = await readInside(dir, child).catch(() => '');
        if (text === undefined) continue;
        entries.push({ fileName: item.name.slice(0, -3), declaredName: declaredName(text), relativePath: child, dir, tier });
      }
    }
  };
  await walk('', 0);
  // Files directly in the directory come before those in category folders.
  return entries.sort((a, b) => a.relativePath.split(path.sep).length - b.relativePath.split(path.sep).length);
}

/** The `name:` of a file's front matter, read without a YAML parser (an index of many files must be quick). */
function declaredName(text: string): string | undefined {
  const front = splitFrontMatter(text).frontMatter;
  const value = front === undefined ? undefined : NAME_LINE.exec(front)?.[1];
  if (value === undefined || value === '') return undefined;
  return value.replace(/^(['"])(.*)\1$/, '$2').trim() || undefined;
}
