import pg from 'pg';
import type { DuckDBConnection } from './duckdb';
import { sqlIdent, sqlString } from './duckdb';
import type { SourceRef } from './source-uri';
import type { SourceColumn } from './schema-drift';

const FETCH_ROWS = 50_000;

/** One day of a table's event time as a sensor sees it: its rows and the sum of their hashes. */
export interface TableDay {
  day: string;
  rows: number;
  hashSum: string;
}

/**
 * The days of a warehouse table's event-time column, each with its row count and the sum of its rows'
 * hashes (hashtext of the row's text): a row added, changed or removed changes its day's pair. One
 * grouping scan, in the warehouse.
 */
export async function tableDays(
  source: Extract<SourceRef, { format: 'postgres' }>,
  column: string,
): Promise<TableDay[]> {
  return withTable(source, async (client, schema, table) => {
    const { rows } = await client.query<{ day: string; rows: string; hash_sum: string }>(
      `SELECT to_char(${quotedPg(column)}::date, 'YYYY-MM-DD') AS day, count(*) AS rows, sum(hashtext(t::text)::bigint)::text AS hash_sum
       FROM ${quotedPg(schema)}.${quotedPg(table)} t WHERE ${quotedPg(column)} IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    return rows.map((r) => ({ day: r.day, rows: Number(r.rows), hashSum: r.hash_sum }));
  });
}

/** Runs `work` with a connected client and the table's schema and name (schema `public` unless named). */
async function withTable<T>(
  source: Extract<SourceRef, { format: 'postgres' }>,
  work: (client: pg.Client, schema: string, table: string) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: source.connectionUrl });
  await client.connect();
  try {
    const [schema, table] = source.table.includes('.') ? source.table.split('.') : ['public', source.table];
    return await work(client, schema!, table!);
  } finally {
    await client.end();
  }
}

const quotedPg = (name: string) => `"${name.replace(/"/g, '""')}"`;

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
  return withTable(source, async (client, schema, table) => {
    const { rows: cols } = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [schema, table],
    );
    if (cols.length === 0) throw new Error(`table ${source.table} not found or has no columns`);
    const names = cols.map((c) => c.column_name);
    const order = (source.orderBy.length ? source.orderBy : names).map(quotedPg).join(', ');
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE pg_landing (${names.map((n) => `${sqlIdent(n)} VARCHAR`).join(', ')})`,
    );
    await client.query('BEGIN READ ONLY');
    // A day of the table: [day, day + 1) of its column, the bounds passed as parameters.
    const where = source.day
      ? `WHERE ${quotedPg(source.day.column)} >= $1::date AND ${quotedPg(source.day.column)} < $1::date + 1`
      : '';
    await client.query(
      `DECLARE landing NO SCROLL CURSOR FOR SELECT ${names.map((n) => `${quotedPg(n)}::text`).join(', ')} FROM ${quotedPg(schema)}.${quotedPg(table)} ${where} ORDER BY ${order}`,
      source.day ? [source.day.value] : [],
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
  });
}
