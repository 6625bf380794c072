import { DuckDBInstance, type DuckDBConnection, type DuckDBResultReader, type DuckDBValue } from '@duckdb/node-api';

export type { DuckDBConnection };

export interface DuckDbOptions {
  /** DuckDB spills to tempDirectory past this, so big sources never need big memory. */
  memoryLimit?: string;
  threads?: number;
  tempDirectory?: string;
}

/** One in-process DuckDB per worker: activities take connections from it. */
export async function openDuckDb(options: DuckDbOptions = {}): Promise<DuckDBInstance> {
  const config: Record<string, string> = { memory_limit: options.memoryLimit ?? '512MB' };
  if (options.threads) config.threads = String(options.threads);
  if (options.tempDirectory) config.temp_directory = options.tempDirectory;
  return DuckDBInstance.create(':memory:', config);
}

/** A connection for one unit of work, always closed afterwards (temp tables die with it). */
export async function withConnection<T>(db: DuckDBInstance, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const conn = await db.connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
  }
}

/** Runs a query and returns its rows as JSON-safe objects (BIGINT as numbers, timestamps as strings). */
export async function queryRows<T = Record<string, unknown>>(
  conn: DuckDBConnection,
  sql: string,
  params?: Record<string, DuckDBValue>,
): Promise<T[]> {
  return rowsOf<T>(await conn.runAndReadAll(sql, params));
}

/** A read result's rows as JSON-safe objects, as queryRows returns them. */
export function rowsOf<T = Record<string, unknown>>(reader: DuckDBResultReader): T[] {
  return reader.getRowObjectsJS().map((row) => normalizeRow(row)) as T[];
}

function normalizeRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = jsonSafe(value);
  return out;
}

/** A JS value of a DuckDB result as queryRows gives it: BIGINT as a number. */
export function jsonSafe(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

/** Quotes a string literal for DuckDB SQL. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Quotes an identifier for DuckDB SQL. */
export function sqlIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A list of file paths as a DuckDB list literal, for read_parquet([...]). */
export function sqlFileList(paths: string[]): string {
  return `[${paths.map(sqlString).join(', ')}]`;
}
