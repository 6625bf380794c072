/** Two-sample Kolmogorov-Smirnov test. */
import { sortedSample } from './sample';

export type KsMethod = 'exact' | 'asymptotic';

export interface KsResult {
  /** D = max over all observed x of |F_ref(x) - F_cur(x)|, both ECDFs right-continuous. */
  statistic: number;
  /** Two-sided P(D >= statistic) under H0 (both samples from one continuous distribution). */
  pValue: number;
  method: KsMethod;
}

/**
 * Largest max(m, n) for which 'auto' uses the exact p-value, as scipy's ks_2samp(method='auto'); it bounds
 * the exact recursion at m * n <= 1e8 cells (well under a second), and beyond it the asymptotic
 * distribution is accurate anyway.
 */
export const KS_EXACT_MAX_N = 10_000;

/**
 * Two-sided two-sample KS test of `current` against `reference`. p-value: 'exact' counts lattice paths as
 * scipy's ks_2samp(method='exact'); 'asymptotic' is the classic Kolmogorov limit Q_KS(sqrt(mn/(m+n)) D);
 * 'auto' (default) is exact up to KS_EXACT_MAX_N and asymptotic beyond. Forcing 'exact' beyond that limit
 * is refused, since the recursion grows as m * n.
 */
export function ksTwoSample(
  reference: Float64Array,
  current: Float64Array,
  options: { method?: KsMethod | 'auto' } = {},
): KsResult {
  const ref = sortedSample(reference, 'reference');
  const cur = sortedSample(current, 'current');
  const m = ref.length;
  const n = cur.length;
  const gap = maxScaledGap(ref, cur);
  const statistic = gap / (m * n);
  const small = Math.max(m, n) <= KS_EXACT_MAX_N;
  const method = options.method ?? 'auto';
  if (method === 'exact' && !small) {
    throw new RangeError(`exact KS p-value is limited to samples of at most ${KS_EXACT_MAX_N} (got ${m} and ${n})`);
  }
  if (method === 'exact' || (method === 'auto' && small)) {
    return { statistic, pValue: exactPValue(m, n, gap), method: 'exact' };
  }
  return { statistic, pValue: kolmogorovQ(Math.sqrt((m * n) / (m + n)) * statistic), method: 'asymptotic' };
}

/**
 * m * n * D as an exact integer: max |i n - j m| over the observed values, where i and j are the numbers of
 * reference and current values <= x. Working in integers keeps D exact and lets the exact p-value compare
 * lattice points with the observed D without rounding.
 */
function maxScaledGap(ref: Float64Array, cur: Float64Array): number {
  const m = ref.length;
  const n = cur.length;
  let i = 0;
  let j = 0;
  let gap = 0;
  // Once one sample is used up the gap only shrinks towards 0 at x = max, so the walk can stop there.
  while (i < m && j < n) {
    const x = Math.min(ref[i], cur[j]);
    // Ties: both ECDFs step past every copy of x before they are compared (right-continuity).
    while (i < m && ref[i] === x) i++;
    while (j < n && cur[j] === x) j++;
    gap = Math.max(gap, Math.abs(i * n - j * m));
  }
  return gap;
}

/**
 * P(D >= gap / (m n)) under H0: the share of the C(m+n, m) equally likely lattice paths from (0, 0) to
 * (m, n) that touch a point with |i n - j m| >= gap. Computed with Viehmann's recursion for this share
 * itself (arXiv:2102.08037, as scipy): A(i, j) = 1 outside the band, else
 * A(i, j) = (i A(i-1, j) + j A(i, j-1)) / (i + j), the weights being the chances that a random path to
 * (i, j) arrives from the left or from below. Every value stays in [0, 1] (no overflow, no binomials),
 * and small p-values keep their relative accuracy because 1 - p is never formed.
 * One Float64Array column is updated in place: the band [lo, hi] only moves up as i grows.
 */
function exactPValue(m: number, n: number, gap: number): number {
  if (gap === 0) return 1;
  const column = new Float64Array(n + 1).fill(1);
  // Multiplying by a table of 1 / (i + j) instead of dividing nearly halves the 1e8-cell worst case.
  const inverse = Float64Array.from({ length: m + n + 1 }, (_, k) => 1 / k);
  // Column i = 0: a path up the j axis is inside while j m < gap, and has left for good after.
  for (let j = 0; j <= n && j * m < gap; j++) column[j] = 0;
  for (let i = 1; i <= m; i++) {
    // Inside: (i n - gap) / m < j < (i n + gap) / m. With m, n <= KS_EXACT_MAX_N a non-integer quotient is
    // at least 1/m from an integer, far beyond its rounding error, so floor and ceil are exact.
    const lo = Math.max(0, Math.floor((i * n - gap) / m) + 1);
    const hi = Math.min(n, Math.ceil((i * n + gap) / m) - 1);
    if (lo > hi) return 1; // every path crosses this column outside the band
    let below = 1; // A(i, lo - 1) is outside the band; when lo = 0 its weight j is 0 anyway
    for (let j = lo; j <= hi; j++) {
      below = (i * column[j] + j * below) * inverse[i + j];
      column[j] = below;
    }
  }
  return column[n];
}

/**
 * Kolmogorov survival function Q_KS(t) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 t^2). Below t = 1.18 the
 * alternating series converges slowly, so the equivalent theta-function form
 * 1 - sqrt(2 pi) / t sum_{k odd} exp(-k^2 pi^2 / (8 t^2)) is used there; both need only a few terms.
 */
export function kolmogorovQ(t: number): number {
  if (t <= 0) return 1;
  let sum = 0;
  if (t < 1.18) {
    const y = -(Math.PI * Math.PI) / (8 * t * t);
    for (let k = 1; ; k += 2) {
      const term = Math.exp(k * k * y);
      sum += term;
      if (term <= sum * 1e-17) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / t) * sum;
  }
  for (let k = 1; ; k++) {
    const term = Math.exp(-2 * k * k * t * t);
    sum += k % 2 === 1 ? term : -term;
    if (term <= Math.abs(sum) * 1e-17) break;
  }
  return 2 * sum;
}
