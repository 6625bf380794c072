/** Validation and sorting shared by the ECDF- and quantile-based drift metrics. */
import { radixSortFloat64 } from './radix-sort';

/**
 * Ascending copy of a numeric sample (the caller's array is left untouched). Rejects empty samples and
 * non-finite values: ECDFs, quantiles and the W1 integral are undefined on NaN and unbounded on ±Infinity,
 * so missing values must be dropped before a column reaches these metrics. Inside `withSortBuffers` the
 * copy is written into the buffer kept for `name`.
 */
export function sortedSample(values: Float64Array, name: string): Float64Array {
  return checkedSorted(radixSortFloat64(values, reusedBuffer(name, values.length)), name);
}

/**
 * Runs `judge` with one sort buffer per sample name ('reference', 'current') reused by every
 * `sortedSample` inside it, so judging many columns holds two sorted copies, not two per column until
 * the next GC. Inside, a sorted sample is valid until the next `sortedSample` of the same name: the
 * metrics read theirs before they return.
 */
export function withSortBuffers<T>(judge: () => T): T {
  const outer = buffers;
  buffers ??= new Map();
  try {
    return judge();
  } finally {
    buffers = outer;
  }
}

let buffers: Map<string, Float64Array> | undefined;

function reusedBuffer(name: string, length: number): Float64Array | undefined {
  if (!buffers) return undefined;
  let buffer = buffers.get(name);
  if (!buffer || buffer.length < length) buffers.set(name, (buffer = new Float64Array(length)));
  return buffer.subarray(0, length);
}

function checkedSorted(sorted: Float64Array, name: string): Float64Array {
  if (sorted.length === 0) throw new RangeError(`${name} sample is empty`);
  // Sorted as TypedArray sort would (numeric, a positive NaN last, a negative one first), so checking
  // both ends covers every element.
  if (!Number.isFinite(sorted[0]) || !Number.isFinite(sorted[sorted.length - 1])) {
    throw new RangeError(`${name} sample contains NaN or an infinite value`);
  }
  return sorted;
}
