/** Pure arithmetic behind the gates, kept apart from SQL so it can be checked by hand. */

/** Added to every bin count on both sides before normalising, so an empty bin never yields ln(0) or a division by zero. */
export const PSI_SMOOTHING = 0.5;

/**
 * Population stability index of `current` against `reference`, given counts over the same bins:
 * PSI = sum (r_i - c_i) * ln(r_i / c_i), where r_i and c_i are the smoothed shares of bin i.
 */
export function psiFromCounts(reference: readonly number[], current: readonly number[]): number {
  if (reference.length !== current.length || reference.length === 0) {
    throw new RangeError(`PSI needs two equally long, non-empty count lists (got ${reference.length} and ${current.length})`);
  }
  const shares = (counts: readonly number[]): number[] => {
    const total = counts.reduce((sum, n) => sum + n + PSI_SMOOTHING, 0);
    return counts.map((n) => (n + PSI_SMOOTHING) / total);
  };
  const r = shares(reference);
  const c = shares(current);
  return r.reduce((psi, ri, i) => psi + (ri - c[i]!) * Math.log(ri / c[i]!), 0);
}

/** Median with the two middle values averaged (matches DuckDB's median on an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Whether value lies within [minRatio, maxRatio] x baseline. Compared as a ratio because value / baseline is
 * correctly rounded, so a value exactly on the edge (2970000 against 0.99 x 3000000) is inside the band.
 */
export function withinBand(value: number, baseline: number, minRatio: number, maxRatio: number): boolean {
  if (baseline === 0) return value === 0;
  const ratio = value / baseline;
  return ratio >= minRatio && ratio <= maxRatio;
}

/** part / whole, with an empty whole counting as a rate of 0 (nothing read, nothing wrong). */
export function rate(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

/** Integers in full (row counts must be exact), other numbers to 4 significant digits. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}
