/** Validation and sorting shared by the ECDF- and quantile-based drift metrics. */

/**
 * Ascending copy of a numeric sample (the caller's array is left untouched). Rejects empty samples and
 * non-finite values: ECDFs, quantiles and the W1 integral are undefined on NaN and unbounded on ±Infinity,
 * so missing values must be dropped before a column reaches these metrics.
 */
export function sortedSample(values: Float64Array, name: string): Float64Array {
  if (values.length === 0) throw new RangeError(`${name} sample is empty`);
  // TypedArray sort is numeric and puts NaN last, so checking both ends covers every element.
  const sorted = values.slice().sort();
  if (!Number.isFinite(sorted[0]) || !Number.isFinite(sorted[sorted.length - 1])) {
    throw new RangeError(`${name} sample contains NaN or an infinite value`);
  }
  return sorted;
}
