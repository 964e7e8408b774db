/**
 * A one-line progress bar on stderr for phases that take more than a moment. Silent when
 * stderr is not a terminal (CI, pipes) so logs stay clean.
 */
export function progress(label: string, total: number): { tick: () => void; done: () => void } {
  const enabled = process.stderr.isTTY && total > 0;
  const width = 30;
  let count = 0;
  let lastDrawn = -1;
  const draw = () => {
    const filled = Math.round((count / total) * width);
    if (filled === lastDrawn && count !== total) return;
    lastDrawn = filled;
    process.stderr.write(`\r${label.padEnd(28)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total}`);
  };
  return {
    tick() {
      count++;
      if (enabled) draw();
    },
    done() {
      if (enabled) process.stderr.write('\r\x1b[2K');
    },
  };
}
