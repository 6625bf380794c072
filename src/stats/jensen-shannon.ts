/** Jensen-Shannon distance over reference decile bins (numeric) or categories. */
import { decileBins } from './binning';
import { alignCounts, total, type CategoryCounts } from './categories';

/**
 * Jensen-Shannon distance in nats: sqrt(JSD), JSD = (KL(r || m) + KL(c || m)) / 2 with m = (r + c) / 2 and
 * natural logs, so it lies in [0, sqrt(ln 2)] (scipy's jensenshannon with its default base e).
 * Empty bins need no smoothing, unlike PSI: 0 ln 0 counts as 0, and m > 0 wherever r or c is, so every
 * term is finite; disjoint supports give exactly the maximum sqrt(ln 2).
 */
export function jsDistanceFromCounts(reference: Float64Array, current: Float64Array): number {
  if (reference.length !== current.length) {
    throw new RangeError(
      `Jensen-Shannon needs counts over the same bins (got ${reference.length} and ${current.length})`,
    );
  }
  const rTotal = total(reference);
  const cTotal = total(current);
  if (rTotal === 0 || cTotal === 0) throw new RangeError('Jensen-Shannon needs non-empty counts on both sides');
  let divergence = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] / rTotal;
    const c = current[i] / cTotal;
    const m = (r + c) / 2;
    if (r > 0) divergence += r * Math.log(r / m);
    if (c > 0) divergence += c * Math.log(c / m);
  }
  // Rounding can leave a tiny negative divergence for near-identical distributions; sqrt would make it NaN.
  return Math.sqrt(Math.max(0, divergence / 2));
}

/** Converts a distance in nats to base 2 (range [0, 1]): sqrt(JSD / ln 2). */
export function jsDistanceBase2(distanceNats: number): number {
  return distanceNats / Math.sqrt(Math.LN2);
}

/** Jensen-Shannon distance (nats) of a numeric column over the reference's decile bins, as PSI uses. */
export function jsDistanceNumeric(reference: Float64Array, current: Float64Array): number {
  const bins = decileBins(reference, current);
  return jsDistanceFromCounts(bins.reference, bins.current);
}

/** Jensen-Shannon distance (nats) of a categorical column over the union of both sides' categories. */
export function jsDistanceCategorical(reference: CategoryCounts, current: CategoryCounts): number {
  const aligned = alignCounts(reference, current);
  return jsDistanceFromCounts(aligned.reference, aligned.current);
}
