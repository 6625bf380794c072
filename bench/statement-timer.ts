/**
 * Times every DuckDB statement of this process without touching src/: every query goes through
 * `DuckDBConnection.run`, which this wraps. The wrapper costs a clock read per statement.
 */
import { DuckDBConnection } from '@duckdb/node-api';

/** From now on, calls `onStatement` after each statement with its SQL and its start and end (`performance.now()`). */
export function timeEveryStatement(onStatement: (sql: string, start: number, end: number) => void): void {
  const original = DuckDBConnection.prototype.run;
  DuckDBConnection.prototype.run = async function (this: DuckDBConnection, ...args: unknown[]) {
    const start = performance.now();
    try {
      return await (original as (...a: unknown[]) => ReturnType<typeof original>).apply(this, args);
    } finally {
      onStatement(String(args[0]), start, performance.now());
    }
  } as typeof original;
}
