/**
 * Child-process entry: one L1 measurement in a fresh process, printed as JSON. Each process's JIT
 * makes its own inlining choices, which moves a ratio by ±15% from one process to the next; the
 * figures of BENCHMARKS.md are the median over several processes.
 *
 *   child.ts l1 <size> <rounds> | child.ts invalidate <size> <rounds>
 */
import { invalidateAtSize, l1AtSize } from './l1.js';

const [what, size, rounds] = process.argv.slice(2);
const result = what === 'l1' ? await l1AtSize(Number(size), Number(rounds)) : await invalidateAtSize(Number(size), Number(rounds));
process.stdout.write(JSON.stringify(result));
