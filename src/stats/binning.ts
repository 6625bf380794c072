/** Reference decile bins shared by numeric PSI and Jensen-Shannon. */
import { sortedSample } from './sample';

/**
 * The 9 inner decile edges of the reference, type-7 quantiles (numpy's default): for p = 0.1..0.9,
 * h = (n - 1)p and the edge interpolates linearly between the order statistics floor(h) and floor(h) + 1.
 * The outer edges -Infinity and +Infinity are implicit, so every current value falls in some bin.
 */
export function decileEdges(reference: Float64Array): Float64Array {
  const sorted = sortedSample(reference, 'reference');
  const edges = new Float64Array(9);
  for (let k = 1; k <= 9; k++) {
    // (n - 1) * k / 10 rather than (n - 1) * 0.1k: one rounding, so h is exact whenever it is an integer.
    const h = ((sorted.length - 1) * k) / 10;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, sorted.length - 1);
    edges[k - 1] = sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }
  return edges;
}

/**
 * Counts per bin for inner edges e[0..k-1]: bin i is (e[i-1], e[i]] (right-closed, e[-1] = -Infinity,
 * e[k] = +Infinity), so a value equal to an edge belongs to the bin that edge closes.
 */
export function binCounts(values: Float64Array, innerEdges: Float64Array): Float64Array {
  const counts = new Float64Array(innerEdges.length + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new RangeError(`sample contains NaN or an infinite value at index ${i}`);
    // Number of edges strictly below v = index of the bin (e[i-1], e[i]] holding v.
    let lo = 0;
    let hi = innerEdges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (innerEdges[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]++;
  }
  return counts;
}

export interface DecileBins {
  edges: Float64Array;
  reference: Float64Array;
  current: Float64Array;
}

/** Both samples counted over the reference's decile bins. */
export function decileBins(reference: Float64Array, current: Float64Array): DecileBins {
  if (current.length === 0) throw new RangeError('current sample is empty');
  const edges = decileEdges(reference);
  return { edges, reference: binCounts(reference, edges), current: binCounts(current, edges) };
}
