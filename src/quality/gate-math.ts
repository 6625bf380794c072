/** Pure arithmetic behind the gates, kept apart from SQL so it can be checked by hand. */

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
