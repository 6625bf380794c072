/** Count maps for categorical columns, aligned over the union of categories. */

/** Rows per category value, e.g. new Map([['A', 50], ['B', 30]]). */
export type CategoryCounts = ReadonlyMap<string, number>;

export interface AlignedCounts {
  /** Union of both sides' categories, sorted so results do not depend on map insertion order. */
  categories: string[];
  reference: Float64Array;
  current: Float64Array;
}

/**
 * Lines both count maps up over the union of their categories; a category absent on one side counts 0
 * there, which is how a new or vanished category shows up as drift.
 */
export function alignCounts(reference: CategoryCounts, current: CategoryCounts): AlignedCounts {
  const categories = [...new Set([...reference.keys(), ...current.keys()])].sort();
  const side = (counts: CategoryCounts, name: string): Float64Array => {
    const out = new Float64Array(categories.length);
    categories.forEach((category, i) => {
      const n = counts.get(category) ?? 0;
      if (!Number.isFinite(n) || n < 0)
        throw new RangeError(`${name} count of "${category}" is not a non-negative number: ${n}`);
      out[i] = n;
    });
    if (total(out) === 0) throw new RangeError(`${name} counts are empty`);
    return out;
  };
  return { categories, reference: side(reference, 'reference'), current: side(current, 'current') };
}

export function total(counts: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i];
  return sum;
}
