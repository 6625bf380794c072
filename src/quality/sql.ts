import type { Column } from '../specs/contract-schema';
import { sqlFileList, sqlIdent } from '../data/duckdb';
import { duckType } from '../data/row-rules';

/**
 * A relation over the given Parquet files. read_parquet rejects an empty list, so a batch that accepted no
 * rows becomes an empty relation typed from the contract: every gate query then runs unchanged over zero rows.
 */
export function parquetRelation(files: readonly string[], columns: readonly Column[]): string {
  if (files.length === 0) {
    const typed = columns.map((c) => `CAST(NULL AS ${duckType(c)}) AS ${sqlIdent(c.name)}`);
    return `(SELECT ${typed.join(', ')} WHERE false)`;
  }
  return `read_parquet(${sqlFileList([...files])})`;
}

/** Counts arrive as BIGINT (bigint in JS); every count a gate sees fits a double exactly. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`expected a number from DuckDB, got ${value === null ? 'NULL' : typeof value}`);
}
