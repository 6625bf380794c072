/** Population stability index over reference decile bins (numeric) or categories. */
import { decileBins } from './binning';
import { alignCounts, total, type CategoryCounts } from './categories';

/** Share given to an empty bin (see psiFromCounts); the value Evidently uses. */
export const PSI_EPSILON = 1e-4;

/**
 * PSI = sum (r_i - c_i) ln(r_i / c_i) over the shares r (reference) and c (current) of the same bins.
 *
 * Empty bins, where ln(r/c) would be infinite, follow one rule applied to each side alike:
 * - a bin empty on both sides is dropped (it carries no evidence, and its limit term is 0);
 * - on a side with an empty bin, that bin's share becomes PSI_EPSILON and the side's shares are divided
 *   by their new sum, so they still sum to 1.
 * A side without an empty bin keeps its exact shares, so smoothing never moves PSI when no bin is empty.
 */
export function psiFromCounts(reference: Float64Array, current: Float64Array): number {
  if (reference.length !== current.length) {
    throw new RangeError(`PSI needs counts over the same bins (got ${reference.length} and ${current.length})`);
  }
  const kept: number[] = [];
  for (let i = 0; i < reference.length; i++) if (reference[i] + current[i] > 0) kept.push(i);
  const r = smoothedShares(reference, kept, 'reference');
  const c = smoothedShares(current, kept, 'current');
  let psi = 0;
  for (let k = 0; k < kept.length; k++) psi += (r[k] - c[k]) * Math.log(r[k] / c[k]);
  return psi;
}

function smoothedShares(counts: Float64Array, kept: readonly number[], name: string): Float64Array {
  const sum = total(counts);
  if (sum === 0) throw new RangeError(`${name} counts are empty`);
  const shares = Float64Array.from(kept, (i) => counts[i] / sum);
  const empty = shares.filter((s) => s === 0).length;
  if (empty === 0) return shares;
  const norm = 1 + empty * PSI_EPSILON;
  return shares.map((s) => (s === 0 ? PSI_EPSILON : s) / norm);
}

/** PSI of a numeric column over the reference's decile bins (see binning.ts). */
export function psiNumeric(reference: Float64Array, current: Float64Array): number {
  const bins = decileBins(reference, current);
  return psiFromCounts(bins.reference, bins.current);
}

/** PSI of a categorical column over the union of both sides' categories. */
export function psiCategorical(reference: CategoryCounts, current: CategoryCounts): number {
  const aligned = alignCounts(reference, current);
  return psiFromCounts(aligned.reference, aligned.current);
}
