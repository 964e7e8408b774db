/**
 * How often keys were seen, approximately: a count-min sketch of 4-bit counters (0–15) with
 * periodic halving, as in Caffeine's TinyLFU. Four rows of `width` counters; a key's frequency
 * is the least of its four counters, so collisions only ever overestimate. After `10 × capacity`
 * increments every counter is halved, so what was popular long ago fades.
 *
 * Each row has four counters per entry of capacity (16 per entry in all, as Caffeine sizes its
 * sketch), packed two to a byte: 8 bytes per entry. One key counted once then reads above 1 in
 * ~0.2% of cases (all four of its counters shared with other keys).
 */
export class FrequencySketch {
  static readonly MAX_COUNT = 15;
  readonly #counters: Uint8Array;
  readonly #mask: number;
  readonly #width: number;
  readonly #resetAt: number;
  #additions = 0;

  /** @param sampleSize increments between halvings @default 10 × capacity */
  constructor(capacity: number, sampleSize = 10 * capacity) {
    let width = 64;
    while (width < capacity * 4) width *= 2;
    this.#width = width;
    this.#mask = width - 1;
    this.#counters = new Uint8Array(width * 2);
    this.#resetAt = Math.max(sampleSize, 10);
  }

  /** The estimated number of times `hash` was counted since the last halvings (0–15). */
  frequency(hash: number): number {
    let least = FrequencySketch.MAX_COUNT;
    for (let row = 0; row < 4; row++) least = Math.min(least, this.#count(this.#index(hash, row)));
    return least;
  }

  /** Counts one occurrence of `hash`. */
  increment(hash: number): void {
    let added = false;
    for (let row = 0; row < 4; row++) {
      const i = this.#index(hash, row);
      if (this.#count(i) < FrequencySketch.MAX_COUNT) {
        // Adding 1 to the nibble adds 1 or 16 to its byte; it cannot carry (the count is below 15).
        this.#counters[i >>> 1] = this.#counters[i >>> 1]! + ((i & 1) === 0 ? 1 : 16);
        added = true;
      }
    }
    if (added && ++this.#additions >= this.#resetAt) this.#halve();
  }

  #halve(): void {
    const counters = this.#counters;
    // Halves both nibbles of each byte: shift, then drop the bit the high nibble moved into the low one.
    for (let i = 0; i < counters.length; i++) counters[i] = (counters[i]! >>> 1) & 0x77;
    this.#additions >>>= 1;
  }

  #count(i: number): number {
    return (this.#counters[i >>> 1]! >>> ((i & 1) * 4)) & 0xf;
  }

  /** Counter of `hash` in `row`: each row mixes the hash with its own seed (murmur3's finalizer), so rows collide independently. */
  #index(hash: number, row: number): number {
    let h = hash ^ ROW_SEEDS[row]!;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return row * this.#width + (h & this.#mask);
  }
}

const ROW_SEEDS = [0x97cb3127, 0xb72e5f1d, 0x5a4c3e19, 0x2d6f8b73] as const;

/** FNV-1a over the UTF-16 code units of a key: a 32-bit hash, stable within a process. */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
