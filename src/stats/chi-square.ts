/** Pearson chi-square tests of a categorical column against its reference. */
import { alignCounts, total, type CategoryCounts } from './categories';
import { regularizedGammaQ } from './gamma';

export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
}

/** P(X >= x) for X ~ chi-square(df): Q(df / 2, x / 2). */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`chi-square needs df > 0 (got ${df})`);
  return regularizedGammaQ(df / 2, x / 2);
}

/**
 * Goodness of fit of the current counts to the reference distribution (Evidently's chi-square test,
 * scipy.stats.chisquare(current, reference shares x n_cur)): statistic sum (O - E)^2 / E with
 * E = reference share x current total, df = categories - 1. Categories come from the union of both sides;
 * one absent from the reference (E = 0) but present now makes the statistic Infinity and p 0: a category
 * the reference never saw is drift. With a single category, df is 0 and nothing can differ: p is 1.
 */
export function chiSquareGoodnessOfFit(reference: CategoryCounts, current: CategoryCounts): ChiSquareResult {
  const aligned = alignCounts(reference, current);
  const scale = total(aligned.current) / total(aligned.reference);
  let statistic = 0;
  for (let i = 0; i < aligned.categories.length; i++) {
    const expected = aligned.reference[i] * scale;
    const observed = aligned.current[i];
    if (expected > 0) statistic += (observed - expected) ** 2 / expected;
    else if (observed > 0) statistic = Infinity;
  }
  return result(statistic, nonEmpty(aligned.reference, aligned.current) - 1);
}

/**
 * Test of independence on the 2 x k table (reference, current) x categories (scipy's chi2_contingency,
 * but never with Yates' correction, so df 1 is treated like any other): E_ij = row_i x col_j / N,
 * df = k - 1 over the categories seen on either side.
 */
export function chiSquareContingency(reference: CategoryCounts, current: CategoryCounts): ChiSquareResult {
  const aligned = alignCounts(reference, current);
  const rows = [aligned.reference, aligned.current];
  const rowTotals = rows.map(total);
  const grand = rowTotals[0] + rowTotals[1];
  let statistic = 0;
  for (let i = 0; i < aligned.categories.length; i++) {
    const column = aligned.reference[i] + aligned.current[i];
    if (column === 0) continue;
    rows.forEach((row, r) => {
      const expected = (rowTotals[r] * column) / grand;
      statistic += (row[i] - expected) ** 2 / expected;
    });
  }
  return result(statistic, nonEmpty(aligned.reference, aligned.current) - 1);
}

function nonEmpty(reference: Float64Array, current: Float64Array): number {
  let k = 0;
  for (let i = 0; i < reference.length; i++) if (reference[i] + current[i] > 0) k++;
  return k;
}

function result(statistic: number, df: number): ChiSquareResult {
  return { statistic, df, pValue: df === 0 ? 1 : chiSquareSurvival(statistic, df) };
}
