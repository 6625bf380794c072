/** Two-proportion z-test for a binary column. */
import { alignCounts, total, type CategoryCounts } from './categories';
import { regularizedGammaQ } from './gamma';

export interface ProportionZResult {
  /** (p_ref - p_cur) / sqrt(p (1 - p) (1/n_ref + 1/n_cur)), p the pooled share of `positive`. */
  z: number;
  /** Two-sided: P(|Z| >= |z|) for Z standard normal. */
  pValue: number;
  positive: string;
  referenceShare: number;
  currentShare: number;
}

/**
 * Pooled two-proportion z-test of the share of `positive` (default: the last of the sorted categories, so
 * "1" over "0" and "true" over "false"; the choice flips the sign of z, never the p-value).
 * When the pooled share is 0 or 1 both sides are identical and the test has nothing to reject: z 0, p 1.
 */
export function twoProportionZ(
  reference: CategoryCounts,
  current: CategoryCounts,
  positive?: string,
): ProportionZResult {
  const aligned = alignCounts(reference, current);
  if (aligned.categories.length > 2) {
    throw new RangeError(`two-proportion z-test needs at most 2 categories (got ${aligned.categories.length})`);
  }
  const label = positive ?? aligned.categories[aligned.categories.length - 1];
  const index = aligned.categories.indexOf(label);
  // A label seen on neither side is only meaningful for a constant column (its share is then 0 on both).
  if (index < 0 && aligned.categories.length === 2) {
    throw new RangeError(
      `positive label "${label}" is neither of the column's categories ${JSON.stringify(aligned.categories)}`,
    );
  }
  const nRef = total(aligned.reference);
  const nCur = total(aligned.current);
  const hitsRef = index < 0 ? 0 : aligned.reference[index];
  const hitsCur = index < 0 ? 0 : aligned.current[index];
  const pooled = (hitsRef + hitsCur) / (nRef + nCur);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nRef + 1 / nCur));
  const referenceShare = hitsRef / nRef;
  const currentShare = hitsCur / nCur;
  const z = se === 0 ? 0 : (referenceShare - currentShare) / se;
  return { z, pValue: twoSidedNormalP(z), positive: label, referenceShare, currentShare };
}

/**
 * P(|Z| >= |z|) = erfc(|z| / sqrt 2) = Q(1/2, z^2 / 2), since Z^2 is chi-square with 1 df; the incomplete
 * gamma keeps full relative accuracy deep in the tail, where 1 - erf would cancel to 0.
 */
export function twoSidedNormalP(z: number): number {
  return regularizedGammaQ(0.5, (z * z) / 2);
}
