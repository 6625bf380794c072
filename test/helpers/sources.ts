import fs from 'node:fs';
import path from 'node:path';
import { openDuckDb, queryRows, sqlString, withConnection } from '../../src/data/duckdb';
import type { Client } from '@temporalio/client';
import type { Config } from '../../src/config';
import { startIngestion } from '../../src/client/ingestion';
import type { IngestionResult } from '../../src/api/ingestion';

export const FLIGHTS = path.resolve(
  __dirname,
  '..',
  '..',
  'node_modules',
  'vega-datasets',
  'data',
  'flights-3m.parquet',
);

/**
 * Writes a test source into the data directory from a SELECT over the real flights file (`flights`)
 * and returns its path relative to the data directory (what `--source` takes).
 */
export async function writeSource(config: Config, name: string, select: string): Promise<string> {
  const rel = path.join('sources', name);
  const file = path.join(config.dataDir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const format = name.endsWith('.csv')
    ? '(FORMAT csv, HEADER true)'
    : name.endsWith('.jsonl')
      ? '(FORMAT json)'
      : '(FORMAT parquet)';
  const db = await openDuckDb();
  try {
    await withConnection(db, async (conn) => {
      await conn.run(`CREATE VIEW flights AS SELECT * FROM read_parquet(${sqlString(FLIGHTS)})`);
      await conn.run(`COPY (${select}) TO ${sqlString(file)} ${format}`);
    });
  } finally {
    db.closeSync();
  }
  return rel;
}

/** Runs a query over files with DuckDB and returns rows (for assertions on outputs). */
export async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const db = await openDuckDb();
  try {
    return await withConnection(db, (conn) => queryRows<T>(conn, sql));
  } finally {
    db.closeSync();
  }
}

/** An as-of time one hour after the newest event in a source: fresh for the freshness gate. */
export async function freshAsOf(config: Config, rel: string): Promise<string> {
  const file = path.join(config.dataDir, rel);
  const reader = rel.endsWith('.csv') ? 'read_csv' : rel.endsWith('.jsonl') ? 'read_json' : 'read_parquet';
  const [row] = await query<{ newest: string }>(
    `SELECT strftime(max(CAST(date AS TIMESTAMP)) + INTERVAL 1 HOUR, '%Y-%m-%dT%H:%M:%SZ') AS newest FROM ${reader}(${sqlString(file)})`,
  );
  return row!.newest;
}

/**
 * Ingests a batch written from a SELECT over the flights file (`writeSource`, as `sources/<batch>.parquet`)
 * under `spec`, fresh as of an hour after its newest event, and waits for its result.
 */
export async function ingestQuery(
  client: Client,
  config: Config,
  request: { spec: string; batch: string; select: string; taskQueue: string },
): Promise<IngestionResult> {
  const source = await writeSource(config, `${request.batch}.parquet`, request.select);
  const handle = await startIngestion(client, config, {
    spec: request.spec,
    batch: request.batch,
    source,
    asOf: await freshAsOf(config, source),
    taskQueue: request.taskQueue,
  });
  return handle.result();
}
