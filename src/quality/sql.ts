import type { DuckDBConnection, DuckDBValue, JS } from '@duckdb/node-api';
import type { Column, ColumnType } from '../specs/contract-schema';

/** Contract identifiers are validated, but names like "date" are still SQL keywords. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const SQL_TYPES: Record<ColumnType, string> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  date: 'DATE',
};

/**
 * A relation over the given Parquet files. read_parquet rejects an empty list, so a batch that accepted no
 * rows becomes an empty relation typed from the contract: every gate query then runs unchanged over zero rows.
 */
export function parquetRelation(files: readonly string[], columns: readonly Column[]): string {
  if (files.length === 0) {
    const typed = columns.map((c) => `CAST(NULL AS ${SQL_TYPES[c.type]}) AS ${quoteIdent(c.name)}`);
    return `(SELECT ${typed.join(', ')} WHERE false)`;
  }
  return `read_parquet([${files.map(quoteLiteral).join(', ')}])`;
}

export async function queryRows(
  conn: DuckDBConnection,
  sql: string,
  params?: Record<string, DuckDBValue>,
): Promise<Record<string, JS>[]> {
  const reader = await conn.runAndReadAll(sql, params);
  return reader.getRowObjectsJS();
}

/** Counts arrive as BIGINT (bigint in JS); every count a gate sees fits a double exactly. */
export function toNumber(value: JS): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`expected a number from DuckDB, got ${value === null ? 'NULL' : typeof value}`);
}
