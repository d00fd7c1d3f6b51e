// Seeded, reproducible shuffles for mini-batch SGD: the order in which an epoch visits its batches is a
// pure function of (seed, epoch, count), so a run can be repeated exactly, resumed at any epoch without
// replaying the earlier ones, and compared between the GPU and CPU paths.

/** mulberry32: a 32-bit generator, tiny and fast, with good equidistribution for shuffling. Yields uint32. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform floats in [0, 1) from mulberry32: seeded initialisation, generated data. */
export function seededUniform(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

/** murmur3's finalizer: spreads every input bit over the output, so nearby (seed, epoch) pairs diverge. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The generator's seed for one epoch. Seeds are non-negative safe integers (all 53 bits are used);
 * epochs count from 0. Hashing rather than seed + epoch keeps epoch e of seed s unrelated to epoch
 * e - 1 of seed s + 1.
 */
export function epochSeed(seed: number, epoch: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be a non-negative integer, got ${epoch}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  return fmix32(fmix32(lo ^ 0x9e3779b9) ^ fmix32(hi + 0x7f4a7c15) ^ fmix32(Math.imul(epoch, 0x27d4eb2f) ^ 0x165667b1));
}

/** Uniform integer in [0, m) without modulo bias (rejects the top partial block of 2^32). */
function below(next: () => number, m: number): number {
  const limit = 2 ** 32 - (2 ** 32 % m);
  for (;;) {
    const r = next();
    if (r < limit) return r % m;
  }
}

/**
 * A permutation of 0 .. count-1 (Fisher–Yates), the batch order of `epoch`. count must fit a
 * Uint32Array index (it is a number of batches, not of samples).
 */
export function shuffledOrder(count: number, seed: number, epoch: number): Uint32Array {
  if (!Number.isInteger(count) || count < 0 || count > 2 ** 32 - 1) throw new RangeError(`count must be an integer in [0, 2^32), got ${count}`);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const next = mulberry32(epochSeed(seed, epoch));
  for (let i = count - 1; i > 0; i--) {
    const j = below(next, i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
