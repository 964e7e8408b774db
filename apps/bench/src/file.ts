/**
 * FileStore writes against the least any atomic file write costs: a temp file, written, closed
 * and renamed over the record, into the same directory layout.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileStore } from '@pm/cache-core/file';
import { compare, type Measurement } from './harness.js';
import { makePrompt } from './workloads.js';

export async function fileWrites(rounds: number): Promise<Measurement[]> {
  const root = await mkdtemp(path.join(tmpdir(), 'pm-bench-file-'));
  try {
    const store = new FileStore({ dir: path.join(root, 'store') });
    await store.connect();
    const bare = path.join(root, 'bare');
    const prompts = Array.from({ length: 64 }, (_, i) => makePrompt(i, 2048));
    const bytes = prompts.map((prompt) => Buffer.from(prompt));
    const keys = Array.from({ length: 256 }, (_, i) => `task_prompt:agent-${i % 6}:${i}`);
    // The same shards as the store: 2 hex characters of the key's hash.
    const files = keys.map((key) => {
      const hash = createHash('sha256').update(key).digest('hex');
      return path.join(bare, hash.slice(0, 2), `${hash}.rec`);
    });
    for (const file of files) await mkdir(path.dirname(file), { recursive: true });
    for (const [i, key] of keys.entries()) await store.set(key, { value: prompts[i % 64], expiresAt: Infinity });
    let counter = 0;
    return await compare(
      [
        {
          name: 'bare atomic write (temp + rename)',
          run: async (n) => {
            for (let i = 0; i < n; i++) {
              const file = files[i % 256]!;
              const temp = `${file}.${counter++}.tmp`;
              const handle = await open(temp, 'wx', 0o600);
              await handle.writeFile(bytes[i % 64]!);
              await handle.close();
              await rename(temp, file);
            }
          },
        },
        {
          name: 'FileStore.set',
          run: async (n) => {
            for (let i = 0; i < n; i++) await store.set(keys[i % 256]!, { value: prompts[i % 64], expiresAt: Infinity });
          },
        },
      ],
      { rounds, iterations: 256, baseline: 'bare atomic write (temp + rename)' },
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
