/** Wasserstein-1 distance between two numeric samples, normalised by the reference's spread. */
import { sortedSample } from './sample';

/** Lower bound on the reference std, so a (near-)constant reference does not blow the normed value up. */
export const WASSERSTEIN_STD_FLOOR = 0.001;

export interface WassersteinResult {
  /** W1 = integral of |F_ref(x) - F_cur(x)| dx over the real line, exact for the empirical CDFs. */
  distance: number;
  /** Population standard deviation (ddof 0) of the reference. */
  referenceStd: number;
  /** distance / max(referenceStd, WASSERSTEIN_STD_FLOOR): the unit-free value thresholds apply to. */
  normed: number;
}

/** W1 and its normed value (Evidently's "normed Wasserstein"), from one walk over both sorted samples. */
export function wassersteinNormed(reference: Float64Array, current: Float64Array): WassersteinResult {
  const ref = sortedSample(reference, 'reference');
  const cur = sortedSample(current, 'current');
  const m = ref.length;
  const n = cur.length;
  // Both ECDFs are step functions constant between consecutive merged sample points, so the integral is a
  // finite sum of |i/m - j/n| * gap. i*n - j*m is an exact integer, so only the gaps are rounded.
  let area = 0;
  let i = 0;
  let j = 0;
  let x = Math.min(ref[0], cur[0]);
  for (;;) {
    while (i < m && ref[i] <= x) i++;
    while (j < n && cur[j] <= x) j++;
    if (i === m && j === n) break;
    const next = Math.min(i < m ? ref[i] : Infinity, j < n ? cur[j] : Infinity);
    area += Math.abs(i * n - j * m) * (next - x);
    x = next;
  }
  const distance = area / (m * n);
  const referenceStd = populationStd(ref);
  return { distance, referenceStd, normed: distance / Math.max(referenceStd, WASSERSTEIN_STD_FLOOR) };
}

/** Two-pass population std: subtracting the mean first avoids the cancellation of E[x^2] - E[x]^2. */
function populationStd(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return Math.sqrt(squares / values.length);
}
