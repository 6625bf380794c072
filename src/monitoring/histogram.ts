import type { HistogramPair } from './report-types';

/**
 * Reference and current counts over shared equal-width bins spanning both samples, so the two series
 * of a chart line up bin for bin. Two passes over each typed array (range, then counts), nothing sorted.
 * Non-finite values (NaN, ±Infinity) are left out: they have no place on a finite axis. A bin holds
 * [edges[i], edges[i+1]) (up to rounding at the edges), the last one also the maximum. With every value equal, there
 * is one bin of width 1 around it; with no values at all, one empty bin [0, 1].
 */
export function histogramPair(reference: Float64Array, current: Float64Array, bins = 20): HistogramPair {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  let min = Infinity;
  let max = -Infinity;
  for (const values of [reference, current]) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < min && v > -Infinity) min = v; // NaN fails every comparison, so it never sets a bound
      if (v > max && v < Infinity) max = v;
    }
  }
  if (min > max) return { edges: [0, 1], reference: [0], current: [0] };
  if (min === max)
    return { edges: [min - 0.5, max + 0.5], reference: [countFinite(reference)], current: [countFinite(current)] };
  const edges = Array.from({ length: bins + 1 }, (_, k) => (k === bins ? max : min + ((max - min) * k) / bins));
  return { edges, reference: binCounts(reference, min, max, bins), current: binCounts(current, min, max, bins) };
}

function binCounts(values: Float64Array, min: number, max: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const scale = bins / (max - min);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.floor((v - min) * scale))]!++;
  }
  return counts;
}

function countFinite(values: Float64Array): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) n++;
  return n;
}
