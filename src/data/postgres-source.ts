import pg from 'pg';
import type { DuckDBConnection } from './duckdb';
import { sqlIdent, sqlString } from './duckdb';
import type { SourceRef } from './source-uri';
import type { SourceColumn } from './schema-drift';

const FETCH_ROWS = 50_000;

/**
 * Lands a warehouse table as text Parquet: a server-side cursor streams it in batches of FETCH_ROWS, so
 * JavaScript holds one batch at a time and DuckDB spills past its memory limit.
 * Rows are ordered by `orderBy` (default: every column) so a re-read lands the same file.
 */
export async function landPostgresTable(
  conn: DuckDBConnection,
  source: Extract<SourceRef, { format: 'postgres' }>,
  landingFile: string,
): Promise<SourceColumn[]> {
  const client = new pg.Client({ connectionString: source.connectionUrl });
  await client.connect();
  try {
    const [schema, table] = source.table.includes('.') ? source.table.split('.') : ['public', source.table];
    const { rows: cols } = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [schema, table],
    );
    if (cols.length === 0) throw new Error(`table ${source.table} not found or has no columns`);
    const names = cols.map((c) => c.column_name);
    const quotedPg = (n: string) => `"${n.replace(/"/g, '""')}"`;
    const order = (source.orderBy.length ? source.orderBy : names).map(quotedPg).join(', ');
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE pg_landing (${names.map((n) => `${sqlIdent(n)} VARCHAR`).join(', ')})`,
    );
    await client.query('BEGIN READ ONLY');
    await client.query(
      `DECLARE landing NO SCROLL CURSOR FOR SELECT ${names.map((n) => `${quotedPg(n)}::text`).join(', ')} FROM ${quotedPg(schema!)}.${quotedPg(table!)} ORDER BY ${order}`,
    );
    const appender = await conn.createAppender('pg_landing');
    for (;;) {
      const batch = await client.query({ text: `FETCH ${FETCH_ROWS} FROM landing`, rowMode: 'array' });
      for (const row of batch.rows as (string | null)[][]) {
        for (const value of row) {
          if (value === null) appender.appendNull();
          else appender.appendVarchar(value);
        }
        appender.endRow();
      }
      appender.flushSync();
      if (batch.rows.length < FETCH_ROWS) break;
    }
    appender.closeSync();
    await client.query('COMMIT');
    await conn.run(`COPY pg_landing TO ${sqlString(landingFile)} (FORMAT parquet)`);
    await conn.run('DROP TABLE pg_landing');
    return names.map((name) => ({ name, type: 'TEXT' }));
  } finally {
    await client.end();
  }
}
