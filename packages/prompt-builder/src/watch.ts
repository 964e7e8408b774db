import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@pm/service-manager/contract';
import type { SourceDirectories } from './sources.js';

/** A profile or component file that was edited, added or removed. */
export interface SourceChange {
  kind: 'profile' | 'component';
  /** Agent name, or component name such as `shared/rules`. */
  name: string;
}

/**
 * Watches every existing profile directory (flat) and component directory (recursive) and
 * reports changes to `.md` files. Directories created later are not watched.
 * @returns a function that closes every watcher
 */
export function watchSources(sources: SourceDirectories, onChange: (change: SourceChange) => void, log: Logger): () => void {
  const watchers: FSWatcher[] = [];
  const add = (dir: string, kind: SourceChange['kind']): void => {
    if (!existsSync(dir)) return;
    const watcher = watch(dir, { recursive: kind === 'component', persistent: false }, (_event, filename) => {
      if (!filename?.endsWith('.md')) return;
      const name = filename.slice(0, -'.md'.length).split(path.sep).join('/');
      onChange({ kind, name });
    });
    watcher.on('error', (error) => {
      log.warn({ dir, err: error }, 'watching a prompt directory failed');
    });
    watchers.push(watcher);
  };
  for (const { dir } of sources.agents) add(dir, 'profile');
  for (const { dir } of sources.components) add(dir, 'component');
  return () => {
    for (const watcher of watchers.splice(0)) watcher.close();
  };
}
