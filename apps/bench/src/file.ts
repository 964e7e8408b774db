/**
 * FileStore writes against the least any atomic file write costs: a temp file, written, closed
 * and renamed over the record, into the same directory layout, through callback `fs` (cheaper
 * than `fs/promises` file handles by 10–20% on this machine).
 *
 * A disk's latency drifts by 2× within a run (writeback, the journal), which swamped the
 * difference when each contender had rounds of its own: the ratio moved from 0.85 to 1.54 between
 * runs of the same code. So the two take turns op by op, each op timed alone, and a round's figure
 * is the sum of its ops' times: both see the same disk.
 */
import { createHash } from 'node:crypto';
import { close, constants, open, rename, write } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { FileStore } from '@pm/cache-core/file';
import { median, type Measurement } from './harness.js';
import { makePrompt } from './workloads.js';

const OPS_PER_ROUND = 256;
const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

function bareAtomicWrite(temp: string, file: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    open(temp, FLAGS, 0o600, (openError, fd) => {
      if (openError !== null) {
        reject(openError);
        return;
      }
      write(fd, data, 0, data.length, null, (writeError) => {
        close(fd, () => {
          if (writeError !== null) reject(writeError);
          else
            rename(temp, file, (renameError) => {
              if (renameError === null) resolve();
              else reject(renameError);
            });
        });
      });
    });
  });
}

const timed = async (operation: () => Promise<void>): Promise<number> => {
  const start = process.hrtime.bigint();
  await operation();
  return Number(process.hrtime.bigint() - start);
};

/** `FileStore.set` and the bare write, in a fresh directory under `parent`. */
export async function fileWrites(rounds: number, parent: string): Promise<Measurement[]> {
  const root = await mkdtemp(path.join(parent, 'pm-bench-file-'));
  try {
    const store = new FileStore({ dir: path.join(root, 'store') });
    await store.connect();
    const bare = path.join(root, 'bare');
    const prompts = Array.from({ length: 64 }, (_, i) => makePrompt(i, 2048));
    const bytes = prompts.map((prompt) => Buffer.from(prompt));
    const keys = Array.from({ length: OPS_PER_ROUND }, (_, i) => `task_prompt:agent-${i % 6}:${i}`);
    // The same shards as the store: 2 hex characters of the key's hash.
    const files = keys.map((key) => {
      const hash = createHash('sha256').update(key).digest('hex');
      return path.join(bare, hash.slice(0, 2), `${hash}.rec`);
    });
    for (const file of files) await mkdir(path.dirname(file), { recursive: true });
    let counter = 0;
    const bareOp = (i: number) => () => bareAtomicWrite(`${files[i]!}.${counter++}.tmp`, files[i]!, bytes[i % 64]!);
    const storeOp = (i: number) => () => store.set(keys[i]!, { value: prompts[i % 64], expiresAt: Infinity });
    const bareNs: number[] = [];
    const storeNs: number[] = [];
    // Round 0 warms up (JIT, directory entries) and is not counted.
    for (let round = 0; round <= rounds; round++) {
      let bareSum = 0;
      let storeSum = 0;
      for (let i = 0; i < OPS_PER_ROUND; i++) {
        // Who goes first alternates, so neither always follows the other's writeback.
        if ((i + round) % 2 === 0) {
          bareSum += await timed(bareOp(i));
          storeSum += await timed(storeOp(i));
        } else {
          storeSum += await timed(storeOp(i));
          bareSum += await timed(bareOp(i));
        }
      }
      if (round === 0) continue;
      bareNs.push(bareSum / OPS_PER_ROUND);
      storeNs.push(storeSum / OPS_PER_ROUND);
    }
    const base = median(bareNs);
    return [
      { name: 'bare atomic write (temp + rename)', medianNs: base, ratio: 1 },
      { name: 'FileStore.set', medianNs: median(storeNs), ratio: median(storeNs) / base },
    ];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
