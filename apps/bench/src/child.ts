/**
 * Child-process entry: one measurement in a fresh process, printed as JSON. Each process's JIT
 * makes its own inlining choices, and the garbage of earlier sections moves a ratio too (by
 * ±15% from one process to the next); the figures of BENCHMARKS.md are the median over several
 * processes.
 *
 *   child.ts l1 <size> <rounds> | child.ts invalidate <size> <rounds> | child.ts redis-paths <redis url> <rounds>
 */
import { invalidateAtSize, l1AtSize } from './l1.js';
import { sharedWrites, tieredReads } from './redis-paths.js';

const [what, arg, rounds] = process.argv.slice(2);

async function measure(): Promise<unknown> {
  switch (what) {
    case 'l1':
      return l1AtSize(Number(arg), Number(rounds));
    case 'invalidate':
      return invalidateAtSize(Number(arg), Number(rounds));
    case 'redis-paths':
      return { shared: await sharedWrites(arg!, Number(rounds)), ...(await tieredReads(arg!, Number(rounds))) };
    default:
      throw new Error(`unknown measurement ${String(what)}`);
  }
}

process.stdout.write(JSON.stringify(await measure()));
