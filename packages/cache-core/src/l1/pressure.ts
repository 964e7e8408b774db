import { CacheConfigError } from '../errors.js';
import type { MemoryPressureResult, MemoryPressureSeverity } from '../types.js';
import type { L1Cache } from './l1-cache.js';

/** Share of the bytes held that {@link shedUnderPressure} keeps, per severity. */
const PRESSURE_KEEP_RATIO: Record<MemoryPressureSeverity, number> = { warning: 0.75, critical: 0.25 };

/**
 * Frees memory under pressure: drops expired entries, then evicts least recently used entries
 * until at most 75% (`warning`) or 25% (`critical`) of the bytes held before remain.
 * @throws CacheConfigError for another severity
 */
export function shedUnderPressure(l1: L1Cache, severity: MemoryPressureSeverity): MemoryPressureResult {
  const keep = PRESSURE_KEEP_RATIO[severity] as number | undefined;
  if (keep === undefined) throw new CacheConfigError(`severity must be 'warning' or 'critical', got ${JSON.stringify(severity)}`);
  const entriesBefore = l1.size;
  const bytesBefore = l1.bytes;
  l1.purgeExpired();
  while (l1.bytes > bytesBefore * keep && l1.evictOldest(1) === 1);
  return {
    entriesBefore,
    entriesRemoved: entriesBefore - l1.size,
    entriesAfter: l1.size,
    bytesFreed: bytesBefore - l1.bytes,
  };
}
