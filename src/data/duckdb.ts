import { DuckDBInstance, type DuckDBConnection, type DuckDBResultReader, type DuckDBValue } from '@duckdb/node-api';
import { collectYoungGarbage } from './collect-garbage';

export type { DuckDBConnection };

export interface DuckDbOptions {
  /** DuckDB spills to tempDirectory past this, so big sources never need big memory. */
  memoryLimit?: string;
  threads?: number;
  tempDirectory?: string;
}

/** The memory limit each instance was opened with, exactly as given, so releaseFreedMemory can set it again unchanged. */
const memoryLimits = new WeakMap<DuckDBInstance, string>();

/** One in-process DuckDB per worker: activities take connections from it. */
export async function openDuckDb(options: DuckDbOptions = {}): Promise<DuckDBInstance> {
  const memoryLimit = options.memoryLimit ?? '512MB';
  const config: Record<string, string> = { memory_limit: memoryLimit };
  if (options.threads) config.threads = String(options.threads);
  if (options.tempDirectory) config.temp_directory = options.tempDirectory;
  const db = await DuckDBInstance.create(':memory:', config);
  memoryLimits.set(db, memoryLimit);
  return db;
}

/**
 * Gives the memory DuckDB's allocators still hold after a statement back to the operating system.
 * DuckDB allocates through its own jemalloc (and glibc malloc for the rest) and only purges them on
 * a thread that has been idle for half a second, which a loop of statements never is, so what each
 * statement freed stays resident and a long loop's RSS creeps up statement after statement. Setting
 * the memory limit is the one statement that purges both (BufferPool::SetLimit -> Allocator::FlushAll:
 * jemalloc `arena.<all>.purge` and `malloc_trim(0)`); it is set to the value the instance already has.
 * An instance not opened by openDuckDb gets its current limit as DuckDB reports it (rounded to 0.1 of
 * its unit). Not free: returning ~100 MiB takes ~15-20 ms (jemalloc's madvise; malloc_trim is <1 ms)
 * and the next statement faults those pages in again, so call it between large statements, not per row batch.
 */
export async function releaseFreedMemory(db: DuckDBInstance, conn: DuckDBConnection): Promise<void> {
  // First what finished results still hold: their memory goes back to the allocators when their
  // wrappers are collected, and the finalizers run on the turn after the collection.
  collectYoungGarbage();
  await new Promise((resolve) => setImmediate(resolve));
  let limit = memoryLimits.get(db);
  if (limit === undefined) {
    const [row] = await queryRows<{ memory_limit: string }>(
      conn,
      `SELECT current_setting('memory_limit') AS memory_limit`,
    );
    limit = row!.memory_limit;
  }
  await conn.run(`SET memory_limit = ${sqlString(limit)}`);
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
