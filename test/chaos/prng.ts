/**
 * A small seeded PRNG (mulberry32): the same seed gives the same fault plan on every machine.
 * The seed comes from CHAOS_SEED, else from the clock (and is printed, so a run can be repeated).
 */
export interface Prng {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** `count` distinct integers in [min, max], ascending (fewer if the range is smaller). */
  distinct(count: number, min: number, max: number): number[];
  pick<T>(items: readonly T[]): T;
}

export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.CHAOS_SEED;
  if (text === undefined || text === '') return Date.now() % 1_000_000;
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`CHAOS_SEED must be a non-negative integer, got ${text}`);
  return seed;
}

export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    distinct(count, min, max) {
      const pool = Array.from({ length: Math.max(0, max - min + 1) }, (_, i) => min + i);
      const chosen: number[] = [];
      while (chosen.length < count && pool.length) chosen.push(pool.splice(int(0, pool.length - 1), 1)[0]!);
      return chosen.sort((a, b) => a - b);
    },
    pick: (items) => items[int(0, items.length - 1)]!,
  };
}
