import pg from 'pg';
import { sha256Files } from './artifact-store';
import type { SourceRef } from './source-uri';

/**
 * Identifies the exact content a source had when it was read. Files: a SHA-256 of their bytes.
 * Warehouse tables: the table's name, row count and newest transaction id touching it, which changes
 * whenever rows are inserted, updated or deleted (cheap, but not a content hash).
 */
export async function sourceFingerprint(source: SourceRef): Promise<string> {
  if (source.format !== 'postgres') return `sha256:${await sha256Files(source.files)}`;
  const client = new pg.Client({ connectionString: source.connectionUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string; x: string | null }>(
      `SELECT count(*)::text AS n, max(xmin::text::bigint)::text AS x FROM ${source.table
        .split('.')
        .map((p) => `"${p}"`)
        .join('.')}`,
    );
    return `pg:${source.table}:rows=${rows[0]!.n}:xmin=${rows[0]!.x ?? 'none'}`;
  } finally {
    await client.end();
  }
}
