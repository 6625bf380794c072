import path from 'node:path';
import fs from 'node:fs/promises';
import type { DuckDBConnection } from './duckdb';
import { queryRows, sqlFileList, sqlIdent, sqlString } from './duckdb';
import type { SourceRef } from './source-uri';
import type { SourceColumn } from './schema-drift';
import { landPostgresTable } from './postgres-source';

/**
 * A source made ready for chunked reading: a list of Parquet files, each read by row ranges through
 * `file_row_number` (pruned by row group, so a chunk costs its own rows only).
 * Parquet sources are read in place; text sources (CSV, JSON lines, warehouse tables) are first
 * landed once as Parquet with every column as text, so their types are checked row by row and a bad
 * value becomes a dead letter instead of failing the whole read.
 */
export interface PreparedSource {
  text: boolean;
  columns: SourceColumn[];
  files: { path: string; rows: number }[];
  /** Lines the parser could not read at all (CSV/JSON), already in dead-letter shape. */
  malformedFile?: string;
  malformedRows: number;
}

export async function describeParquet(conn: DuckDBConnection, files: string[]): Promise<SourceColumn[]> {
  const rows = await queryRows<{ column_name: string; column_type: string }>(
    conn,
    `DESCRIBE SELECT * FROM read_parquet(${sqlFileList(files)})`,
  );
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

export async function parquetRowCounts(
  conn: DuckDBConnection,
  files: string[],
): Promise<{ path: string; rows: number }[]> {
  const out: { path: string; rows: number }[] = [];
  for (const file of files) {
    const [row] = await queryRows<{ n: number }>(conn, `SELECT count(*) AS n FROM read_parquet(${sqlString(file)})`);
    out.push({ path: file, rows: row!.n });
  }
  return out;
}

/**
 * A text source with nothing to compare with the contract: no bytes at all, or JSON lines of which
 * no line is an object (so no column is known). Retrying cannot help.
 */
export class SourceContentError extends Error {
  override name = 'SourceContentError';
}

/** Lands a text or warehouse source under `dir`; idempotent (a retry lands it again from scratch). */
export async function landTextSource(conn: DuckDBConnection, source: SourceRef, dir: string): Promise<PreparedSource> {
  if (source.format !== 'postgres') {
    // DuckDB reads a zero-byte file as one column "column0" (or, for JSON lines, no column at all),
    // which the contract check would report as a renamed column: say what it is instead.
    const sizes = await Promise.all(source.files.map((f) => fs.stat(f).then((s) => s.size)));
    if (sizes.every((size) => size === 0)) throw new SourceContentError(`${source.uri} is empty (0 bytes)`);
  }
  await fs.mkdir(dir, { recursive: true });
  const landing = path.join(dir, 'landing.parquet');
  const malformed = path.join(dir, 'landing-malformed.parquet');
  if (source.format === 'postgres') {
    const columns = await landPostgresTable(conn, source, landing);
    const counts = await parquetRowCounts(conn, [landing]);
    return { text: true, columns, files: counts, malformedRows: 0 };
  }
  if (source.format === 'csv') await landCsv(conn, source.files, landing, malformed);
  else if (source.format === 'jsonl') await landJsonLines(conn, source.uri, source.files, landing, malformed);
  else throw new Error(`landTextSource does not take ${source.format} sources`);
  const columns = (await describeParquet(conn, [landing])).map((c) => ({ name: c.name, type: 'TEXT' }));
  const [bad] = await queryRows<{ n: number }>(conn, `SELECT count(*) AS n FROM read_parquet(${sqlString(malformed)})`);
  return {
    text: true,
    columns,
    files: await parquetRowCounts(conn, [landing]),
    malformedFile: malformed,
    malformedRows: bad!.n,
  };
}

async function landCsv(conn: DuckDBConnection, files: string[], landing: string, malformed: string): Promise<void> {
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE landed AS SELECT * FROM read_csv(${sqlFileList(files)}, header = true, all_varchar = true, store_rejects = true, rejects_scan = 'landing_scans', rejects_table = 'landing_errors')`,
  );
  await conn.run(`COPY landed TO ${sqlString(landing)} (FORMAT parquet)`);
  // One dead letter per unreadable line, whatever number of parse errors it produced; same columns
  // as every other dead letter (see DEAD_LETTER_COLUMNS).
  await conn.run(
    `COPY (SELECT NULL::BIGINT AS source_row, s.file_path AS source_file, any_value(e.csv_line) AS record,
             list({'column': coalesce(e.column_name, '*'), 'rule': 'malformed', 'value': left('line ' || e.line || ': ' || e.error_message, 200)}) AS reasons,
             '* malformed (line ' || e.line || ': ' || string_agg(e.error_message, '; ') || ')' AS reason
           FROM landing_errors e JOIN landing_scans s USING (scan_id)
           GROUP BY s.file_path, e.line ORDER BY s.file_path, e.line)
     TO ${sqlString(malformed)} (FORMAT parquet)`,
  );
}

async function landJsonLines(
  conn: DuckDBConnection,
  uri: string,
  files: string[],
  landing: string,
  malformed: string,
): Promise<void> {
  // Read lines as plain text so a malformed line is kept (as a dead letter) rather than skipped.
  // No ORDER BY anywhere: DuckDB keeps insertion order, which is the file's line order.
  // starts_with, not json_type: DuckDB may evaluate both sides of AND, and json_type throws on bad JSON.
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE lines AS
       SELECT filename AS source_file, line
       FROM read_csv(${sqlFileList(files)}, columns = {'line': 'VARCHAR'}, header = false, delim = chr(30), quote = '', escape = '', auto_detect = false, filename = true)
       WHERE trim(line) <> ''`,
  );
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE good AS SELECT * FROM lines WHERE json_valid(line) AND starts_with(ltrim(line), '{')`,
  );
  const keys = await queryRows<{ k: string }>(
    conn,
    `SELECT DISTINCT unnest(json_keys(line)) AS k FROM good ORDER BY k`,
  );
  if (keys.length === 0) {
    // Without one object there is no column to check against the contract, and the placeholder
    // column would read as a renamed one: refuse the file, saying why.
    const [count] = await queryRows<{ lines: number; objects: number }>(
      conn,
      `SELECT (SELECT count(*) FROM lines) AS lines, (SELECT count(*) FROM good) AS objects`,
    );
    throw new SourceContentError(
      `${uri} has no JSON object with a key on any of its ${count!.lines} non-blank lines (${count!.objects} empty objects)`,
    );
  }
  const select = keys
    .map(({ k }) => `json_extract_string(line, ${sqlString(`$."${k.replace(/"/g, '\\"')}"`)}) AS ${sqlIdent(k)}`)
    .join(', ');
  await conn.run(`COPY (SELECT ${select} FROM good) TO ${sqlString(landing)} (FORMAT parquet)`);
  await conn.run(
    `COPY (SELECT NULL::BIGINT AS source_row, source_file, line AS record,
             [{'column': '*', 'rule': 'malformed', 'value': 'not a JSON object'}] AS reasons,
             '* malformed (not a JSON object)' AS reason
           FROM lines WHERE NOT (json_valid(line) AND starts_with(ltrim(line), '{')))
     TO ${sqlString(malformed)} (FORMAT parquet)`,
  );
}
