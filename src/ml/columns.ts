/**
 * Feature matrices are column-major: one Float64Array per feature, all of the same row count.
 * Never arrays of row objects: 1M rows x 6 features is 48 MB this way, and the training loops
 * stream each column sequentially.
 */
export type Columns = readonly Float64Array[];

/** Throws unless there are `features` columns of exactly `rows` values each. */
export function checkColumns(columns: Columns, rows: number, features: number): void {
  if (!Number.isInteger(rows) || rows < 0)
    throw new RangeError(`row count must be a non-negative integer, got ${rows}`);
  if (columns.length !== features) throw new RangeError(`expected ${features} feature columns, got ${columns.length}`);
  columns.forEach((column, j) => {
    if (column.length !== rows)
      throw new RangeError(`feature column ${j} has ${column.length} values, expected ${rows}`);
  });
}
