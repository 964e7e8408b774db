import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@pm/service-manager/contract';
import { watch, type FSWatcher } from 'chokidar';
import { splitFrontMatter } from './front-matter.js';
import type { SourceDirectories } from './sources.js';

/** A profile or component file that was edited, added or removed. */
export interface SourceChange {
  kind: 'profile' | 'component';
  event: 'add' | 'change' | 'unlink';
  path: string;
  /** The names it is found under: a component's (`shared/rules`), a profile's file name and `name:`. */
  names: string[];
}

export interface SourceWatcher {
  /** Resolves once every directory is watched. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

const NAME_LINE = /^name[ \t]*:[ \t]*(.*?)[ \t]*$/m;

/** The nearest ancestor of `dir` that exists (`dir` itself if it does). */
function existingAncestor(dir: string): string {
  let current = dir;
  while (!existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) return current;
    current = parent;
  }
  return current;
}

/** Whether `candidate` is `dir`, inside it, or on the way to it from an ancestor. */
function onTheWay(candidate: string, dir: string): boolean {
  return candidate === dir || candidate.startsWith(dir + path.sep) || dir.startsWith(candidate + path.sep);
}

/**
 * Watches every profile and component directory, recursively (chokidar: atomic saves, editors'
 * rename dances, new subdirectories). A directory that does not exist yet is watched for from
 * its nearest existing ancestor, along the path to it only, so creating `.claude/agents` later
 * is seen at once, without watching the rest of the project.
 */
export function watchSources(sources: SourceDirectories, onChange: (change: SourceChange) => void, log: Logger): SourceWatcher {
  const watchers: FSWatcher[] = [];
  const readies: Promise<void>[] = [];
  const add = (dir: string, kind: SourceChange['kind']): void => {
    const root = existingAncestor(dir);
    const watcher = watch(root, {
      ignoreInitial: true,
      atomic: true,
      // A file written in place (truncate, then write) fires a change at the truncate, and
      // chokidar drops a second change within 50 ms: a reader could cache the half-written file
      // and never hear of the rest. Report a change once the file has stopped growing.
      awaitWriteFinish: { stabilityThreshold: 40, pollInterval: 10 },
      ignored: (candidate: string) => !onTheWay(candidate, dir),
    });
    const report = (event: SourceChange['event']) => (file: string) => {
      if (!file.startsWith(dir + path.sep) || !file.endsWith('.md')) return;
      const relative = path.relative(dir, file).slice(0, -'.md'.length);
      const names = kind === 'component' ? [relative.split(path.sep).join('/')] : profileNames(file, path.basename(relative));
      onChange({ kind, event, path: file, names });
    };
    watcher.on('add', report('add')).on('change', report('change')).on('unlink', report('unlink'));
    watcher.on('error', (error) => {
      log.warn({ dir, err: error }, 'watching a prompt directory failed');
    });
    readies.push(
      new Promise((resolve) =>
        watcher.once('ready', () => {
          resolve();
        }),
      ),
    );
    watchers.push(watcher);
  };
  for (const { dir } of sources.agents) add(dir, 'profile');
  for (const { dir } of sources.components) add(dir, 'component');
  return {
    ready: Promise.all(readies).then(() => undefined),
    close: async () => {
      await Promise.all(watchers.splice(0).map((watcher) => watcher.close()));
    },
  };
}

/** A profile's file name and, if it still has one, its `name:`. */
function profileNames(file: string, fileName: string): string[] {
  try {
    const front = splitFrontMatter(readFileSync(file, 'utf8')).frontMatter;
    const declared =
      front === undefined
        ? undefined
        : NAME_LINE.exec(front)?.[1]
            ?.replace(/^(['"])(.*)\1$/, '$2')
            .trim();
    return declared === undefined || declared === '' || declared === fileName ? [fileName] : [fileName, declared];
  } catch {
    return [fileName]; // removed, or not readable: its file tag covers what was built from it
  }
}
