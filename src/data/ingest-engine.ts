import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Contract } from '../specs/contract-schema';
import type { IngestStats } from '../quality/gate-report';
import { queryRows, releaseFreedMemory, sqlIdent, sqlString, withConnection, type DuckDBConnection } from './duckdb';
import { sha256Files } from './artifact-store';
import { exists, writeFileAtomic } from './atomic-files';
import { compareSchema, type SchemaDifference } from './schema-drift';
import { describeParquet, landTextSource, parquetRowCounts, type PreparedSource } from './source-reader';
import { resolveSourceUri, type SourceRef } from './source-uri';
import { rowRuleSql, type ReferenceCheck, type RowRuleSql } from './row-rules';
import { sourceFingerprint } from './fingerprint';

/**
 * Chunked, resumable ingestion: every chunk's accepted rows, dead letters and counts are persisted
 * (Parquet + a small JSON manifest, each written by rename) before progress is reported, so after a
 * crash at most the chunk in flight is read again. All row work happens in DuckDB SQL.
 */

export const ChunkManifestSchema = z.object({
  index: z.number().int().nonnegative(),
  fingerprint: z.string(),
  rowsRead: z.number().int().nonnegative(),
  rowsAccepted: z.number().int().nonnegative(),
  /** Null typed values per column, type failures included (subtracted when stats are summed). */
  nullTyped: z.record(z.string(), z.number().int().nonnegative()),
  ruleCounts: z.record(z.string(), z.number().int().nonnegative()),
});
type ChunkManifest = z.infer<typeof ChunkManifestSchema>;

export interface ChunkPlan {
  index: number;
  file: string;
  /** Global row number of the file's first row, so dead letters name the source row. */
  fileOffset: number;
  start: number;
  end: number;
}

export interface IngestProgress {
  fingerprint: string;
  chunksDone: number;
  chunksTotal: number;
  rowsRead: number;
}

export interface IngestHooks {
  /** Called after each chunk is persisted; the activity mirrors it to the object store and heartbeats it. */
  onChunk(progress: IngestProgress): Promise<void> | void;
  /** Called before each chunk; throwing stops the run between chunks (cancellation, shutdown). */
  beforeChunk?(index: number): Promise<void> | void;
  log?(message: string, meta: Record<string, unknown>): void;
}

export interface IngestRequest {
  contract: Contract;
  sourceUri: string;
  dataDir: string;
  /** Staging directories for accepted rows and dead letters. */
  acceptedDir: string;
  deadLetterDir: string;
  workDir: string;
  chunkRows: number;
  /** A daily dataset's delivery: the day it holds; rows of other days go to the dead letters. */
  partitionDay?: string;
  /** The progress the last attempt reported, if any. */
  resumeFrom?: IngestProgress;
}

export interface IngestOutcome {
  fingerprint: string;
  chunksTotal: number;
  resumedFromChunk: number;
  stats: IngestStats;
  acceptedFiles: string[];
  deadLetterFiles: string[];
  outputHash: string;
  deadLetterHash: string;
}

export class ContractViolation extends Error {
  override name = 'ContractViolation';
  constructor(
    readonly differences: SchemaDifference[],
    contract: Contract,
  ) {
    super(
      `source does not match contract ${contract.name} ${contract.version}: ${differences.map((d) => d.detail).join('; ')}`,
    );
  }
}

const chunkName = (i: number) => String(i).padStart(5, '0');

export async function ingest(db: DuckDBInstance, req: IngestRequest, hooks: IngestHooks): Promise<IngestOutcome> {
  const source = await resolveSourceUri(req.sourceUri, req.dataDir);
  const fingerprint = await sourceFingerprint(source);
  // Staged chunks belong to one source content *and* one chunk size: a re-run with another chunk size
  // must not adopt manifests whose row ranges were cut differently.
  const stagingKey = `${fingerprint}|chunkRows=${req.chunkRows}`;
  await discardForeignStaging(req, stagingKey);
  return withConnection(db, async (conn) => {
    const prepared = await prepareSource(conn, source, req, fingerprint);
    const differences = compareSchema(req.contract, prepared.columns);
    if (differences.length) throw new ContractViolation(differences, req.contract);

    const plan = planChunks(prepared, req.chunkRows);
    const start = await resumePoint(req, stagingKey, plan.length);
    if (start > 0) hooks.log?.('resumed at chunk', { chunk: start, chunksTotal: plan.length });
    const typedColumns = rowRuleSql(req.contract, prepared.text, new Map()).typedColumns;
    const references = await loadReferences(conn, req, prepared, typedColumns);
    const rules = rowRuleSql(req.contract, prepared.text, references, req.partitionDay);
    const joins = [...references.values()].some((r) => 'table' in r);
    // Memory flat in the number of rows: each chunk starts from what the process held before the first
    // one, not from what the whole-source passes above and the chunks before it left in the allocators.
    // A source of one chunk (a nightly delivery) has nothing to keep flat and would pay for nothing.
    const release = plan.length > 1 ? () => releaseFreedMemory(db, conn) : async () => {};
    await release();
    for (let i = start; i < plan.length; i++) {
      await hooks.beforeChunk?.(i);
      hooks.log?.('chunk started', { chunk: i, chunksTotal: plan.length });
      const manifest = await processChunk(conn, req, plan[i]!, rules, stagingKey, prepared.text, joins);
      await release();
      const rowsRead = plan[i]!.end + plan[i]!.fileOffset;
      hooks.log?.('chunk ingested', { chunk: i, rowsRead: manifest.rowsRead, accepted: manifest.rowsAccepted });
      await hooks.onChunk({ fingerprint: stagingKey, chunksDone: i + 1, chunksTotal: plan.length, rowsRead });
    }
    return finish(conn, req, prepared, plan, fingerprint, start);
  });
}

/** A staging area left by a run over a different source or chunk size (same batch id) is thrown away. */
async function discardForeignStaging(req: IngestRequest, stagingKey: string): Promise<void> {
  const marker = path.join(req.workDir, 'staging-key');
  const previous = await fs.readFile(marker, 'utf8').catch(() => undefined);
  if (previous === stagingKey) return;
  for (const dir of [req.acceptedDir, req.deadLetterDir, req.workDir])
    await fs.rm(dir, { recursive: true, force: true });
  await writeFileAtomic(marker, stagingKey);
}

async function prepareSource(
  conn: DuckDBConnection,
  source: SourceRef,
  req: IngestRequest,
  fingerprint: string,
): Promise<PreparedSource> {
  if (source.format === 'parquet') {
    return {
      text: false,
      columns: await describeParquet(conn, source.files),
      files: await parquetRowCounts(conn, source.files),
      malformedRows: 0,
    };
  }
  // Landing is done once per source fingerprint; a retry reuses it.
  const landingDir = path.join(req.workDir, 'landing');
  const doneMarker = path.join(landingDir, 'landed.json');
  const done = await fs
    .readFile(doneMarker, 'utf8')
    .then((t) => JSON.parse(t) as PreparedSource & { fingerprint: string })
    .catch(() => undefined);
  if (done?.fingerprint === fingerprint) return done;
  const prepared = await landTextSource(conn, source, landingDir);
  await writeFileAtomic(doneMarker, JSON.stringify({ ...prepared, fingerprint }));
  return prepared;
}

export function planChunks(prepared: PreparedSource, chunkRows: number): ChunkPlan[] {
  const plan: ChunkPlan[] = [];
  let offset = 0;
  for (const file of prepared.files) {
    for (let start = 0; start < file.rows || (start === 0 && file.rows === 0); start += chunkRows) {
      plan.push({
        index: plan.length,
        file: file.path,
        fileOffset: offset,
        start,
        end: Math.min(start + chunkRows, file.rows),
      });
      if (file.rows === 0) break;
    }
    offset += file.rows;
  }
  return plan;
}

/**
 * Where to continue: the reported progress, moved forward over chunks whose manifest was persisted
 * after the last heartbeat reached the server (heartbeats are throttled; manifests are not).
 */
async function resumePoint(req: IngestRequest, fingerprint: string, total: number): Promise<number> {
  let next = req.resumeFrom?.fingerprint === fingerprint ? Math.min(req.resumeFrom.chunksDone, total) : 0;
  while (next < total) {
    const manifest = await readManifest(req.workDir, next);
    if (!manifest || manifest.fingerprint !== fingerprint) break;
    next++;
  }
  // Every chunk before the resume point must have its manifest; otherwise start over.
  for (let i = 0; i < next; i++) {
    if (!(await readManifest(req.workDir, i))) return 0;
  }
  return next;
}

async function readManifest(workDir: string, index: number): Promise<ChunkManifest | undefined> {
  const text = await fs
    .readFile(path.join(workDir, 'chunks', `${chunkName(index)}.json`), 'utf8')
    .catch(() => undefined);
  if (!text) return undefined;
  const parsed = ChunkManifestSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

/** Above this many distinct unknown values a literal list is unwieldy: the rule joins instead. */
const MAX_LITERAL_UNKNOWN = 1000;

/**
 * Referential integrity in one pass over the whole source, before the chunks: the distinct values
 * of each referencing column that the reference lacks. The chunk rule then tests membership in that
 * (usually empty) list, so chunks need no join, and a join-free chunk keeps its row order for free.
 */
async function loadReferences(
  conn: DuckDBConnection,
  req: IngestRequest,
  prepared: PreparedSource,
  typedColumns: string,
): Promise<Map<string, ReferenceCheck>> {
  const checks = new Map<string, ReferenceCheck>();
  const files = `[${prepared.files.map((f) => sqlString(f.path)).join(', ')}]`;
  for (const [i, ref] of req.contract.references.entries()) {
    const source = await resolveSourceUri(ref.uri, req.dataDir);
    if (source.format === 'postgres' || source.format === 'jsonl')
      throw new Error(`reference ${ref.uri} must be a CSV or Parquet file`);
    const reader = source.format === 'csv' ? 'read_csv' : 'read_parquet';
    const table = `ref_${i}`;
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ${table} AS SELECT DISTINCT CAST(${sqlIdent(ref.key)} AS VARCHAR) AS v FROM ${reader}([${source.files.map(sqlString).join(', ')}]) WHERE ${sqlIdent(ref.key)} IS NOT NULL`,
    );
    for (const column of ref.columns) {
      const unknown = prepared.files.length
        ? await queryRows<{ v: string }>(
            conn,
            `SELECT DISTINCT CAST(${sqlIdent(column)} AS VARCHAR) AS v FROM (SELECT ${typedColumns} FROM read_parquet(${files}))
             WHERE ${sqlIdent(column)} IS NOT NULL AND CAST(${sqlIdent(column)} AS VARCHAR) NOT IN (SELECT v FROM ${table}) ORDER BY v LIMIT ${MAX_LITERAL_UNKNOWN + 1}`,
          )
        : [];
      checks.set(column, unknown.length > MAX_LITERAL_UNKNOWN ? { table } : { unknown: unknown.map((u) => u.v) });
    }
  }
  return checks;
}

async function processChunk(
  conn: DuckDBConnection,
  req: IngestRequest,
  chunk: ChunkPlan,
  rules: RowRuleSql,
  fingerprint: string,
  text: boolean,
  joins: boolean,
): Promise<ChunkManifest> {
  const cols = req.contract.columns.map((c) => sqlIdent(c.name));
  // No materialised chunk table: the accepted rows stream from the Parquet row groups straight into
  // the output, and the reason lists are only built for the (rare) rejected rows.
  const rows = `(SELECT ${chunk.fileOffset} + file_row_number AS __row, ${rules.typedColumns}
       FROM read_parquet(${sqlString(chunk.file)}, file_row_number = true)
       WHERE file_row_number >= ${chunk.start} AND file_row_number < ${chunk.end})`;
  const name = chunkName(chunk.index);
  // A join (a reference rule with too many unknown values for a list) may reorder rows; the output
  // must be the same bytes on every run, since the content hash proves a re-run changed nothing.
  const order = joins ? ' ORDER BY __row' : '';
  const accepted = await copyAtomic(
    conn,
    `SELECT ${cols.join(', ')} FROM ${rows} WHERE NOT ${rules.rejected}${order}`,
    path.join(req.acceptedDir, `part-${name}.parquet`),
  );
  const nullTyped = Object.fromEntries(req.contract.columns.map((c) => [c.name, accepted.nulls[c.name] ?? 0]));
  const ruleCounts: Record<string, number> = {};
  let rejected = 0;
  if (accepted.rows < chunk.end - chunk.start) {
    // The dead letter keeps the row as it arrived: raw text for text sources, typed values otherwise.
    const record = req.contract.columns
      .map((c) => `${sqlString(c.name)}: ${sqlIdent(text ? `${c.name}__raw` : c.name)}`)
      .join(', ');
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE rejected AS SELECT *, ${rules.reasons} AS __reasons FROM ${rows} WHERE ${rules.rejected}`,
    );
    const dead = await copyAtomic(
      conn,
      `SELECT __row AS source_row, ${sqlString(chunk.file)} AS source_file, to_json({${record}}) AS record, __reasons AS reasons,
              array_to_string(list_transform(__reasons, r -> r.column || ' ' || r.rule || coalesce(' (' || r.value || ')', '')), '; ') AS reason
       FROM rejected ORDER BY __row`,
      path.join(req.deadLetterDir, `part-${name}.parquet`),
    );
    rejected = dead.rows;
    const [nulls] = await queryRows<Record<string, number>>(
      conn,
      `SELECT ${req.contract.columns.map((c, i) => `count(*) FILTER (WHERE ${sqlIdent(c.name)} IS NULL) AS null_${i}`).join(', ')} FROM rejected`,
    );
    req.contract.columns.forEach((c, i) => (nullTyped[c.name] = nullTyped[c.name]! + nulls![`null_${i}`]!));
    const perRule = await queryRows<{ k: string; n: number }>(
      conn,
      `SELECT r.column || ':' || r.rule AS k, count(DISTINCT __row) AS n FROM (SELECT __row, unnest(__reasons) AS r FROM rejected) GROUP BY 1`,
    );
    for (const row of perRule) ruleCounts[row.k] = row.n;
    await conn.run('DROP TABLE rejected');
  }
  const manifest: ChunkManifest = {
    index: chunk.index,
    fingerprint,
    // Counted from what was written, not planned: the reconciliation gate compares the sum with the
    // source's own row count, so a chunk that lost rows between reading and writing shows up there.
    rowsRead: accepted.rows + rejected,
    rowsAccepted: accepted.rows,
    nullTyped,
    ruleCounts,
  };
  await writeFileAtomic(path.join(req.workDir, 'chunks', `${name}.json`), JSON.stringify(manifest));
  return manifest;
}

interface WrittenStats {
  rows: number;
  /** Null count per column of what was written (DuckDB's RETURN_STATS: no extra pass). */
  nulls: Record<string, number>;
}

/** COPY to a temporary name, then rename: a crash mid-write never leaves a file that looks complete. */
async function copyAtomic(conn: DuckDBConnection, select: string, file: string): Promise<WrittenStats> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const reader = await conn.runAndReadAll(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT parquet, RETURN_STATS true)`);
  await fs.rename(tmp, file);
  const [row] = reader.getRowObjectsJson() as {
    count: string;
    column_statistics: { key: string; value: { key: string; value: string }[] }[];
  }[];
  const nulls: Record<string, number> = {};
  for (const column of row?.column_statistics ?? []) {
    const count = column.value.find((v) => v.key === 'null_count');
    nulls[column.key.replace(/^"|"$/g, '').replace(/""/g, '"')] = Number(count?.value ?? 0);
  }
  return { rows: Number(row?.count ?? 0), nulls };
}

async function finish(
  conn: DuckDBConnection,
  req: IngestRequest,
  prepared: PreparedSource,
  plan: ChunkPlan[],
  fingerprint: string,
  resumedFromChunk: number,
): Promise<IngestOutcome> {
  const manifests: ChunkManifest[] = [];
  for (let i = 0; i < plan.length; i++) {
    const manifest = await readManifest(req.workDir, i);
    if (!manifest)
      throw new Error(`chunk ${i} has no manifest after ingestion; staging at ${req.workDir} is inconsistent`);
    manifests.push(manifest);
  }
  const acceptedFiles = plan.map((c) => path.join(req.acceptedDir, `part-${chunkName(c.index)}.parquet`));
  if (prepared.malformedRows > 0 && prepared.malformedFile) {
    await fs.mkdir(req.deadLetterDir, { recursive: true });
    await fs.copyFile(prepared.malformedFile, path.join(req.deadLetterDir, 'malformed.parquet'));
  }
  const deadLetterFiles = (await fs.readdir(req.deadLetterDir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.parquet'))
    .sort()
    .map((f) => path.join(req.deadLetterDir, f));
  for (const file of acceptedFiles) {
    if (!(await exists(file))) throw new Error(`accepted chunk ${file} is missing; staging is inconsistent`);
  }
  // Accepted and rejected rows are counted from the files written, not from the counters that
  // decided where rows went: reconciliation then proves nothing was lost between reading and writing.
  const written = {
    accepted: await countParquetRows(conn, acceptedFiles),
    rejected: await countParquetRows(conn, deadLetterFiles),
  };
  const stats = sumManifests(req.contract, manifests, prepared, written);
  return {
    fingerprint,
    chunksTotal: plan.length,
    resumedFromChunk,
    stats,
    acceptedFiles,
    deadLetterFiles,
    outputHash: await sha256Files(acceptedFiles),
    deadLetterHash: await sha256Files(deadLetterFiles),
  };
}

async function countParquetRows(conn: DuckDBConnection, files: string[]): Promise<number> {
  if (files.length === 0) return 0;
  const [row] = await queryRows<{ n: number }>(
    conn,
    `SELECT count(*) AS n FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`,
  );
  return row!.n;
}

function sumManifests(
  contract: Contract,
  manifests: ChunkManifest[],
  prepared: PreparedSource,
  written: { accepted: number; rejected: number },
): IngestStats {
  const ruleCounts: Record<string, number> = {};
  const nullCounts: Record<string, number> = Object.fromEntries(contract.columns.map((c) => [c.name, 0]));
  let rowsRead = 0;
  for (const m of manifests) {
    rowsRead += m.rowsRead;
    for (const [k, n] of Object.entries(m.ruleCounts)) ruleCounts[k] = (ruleCounts[k] ?? 0) + n;
    for (const [col, n] of Object.entries(m.nullTyped)) nullCounts[col] = (nullCounts[col] ?? 0) + n;
  }
  // A value that failed to parse is typed as null but was not empty: it is a type error, not a null.
  for (const col of contract.columns)
    nullCounts[col.name] = nullCounts[col.name]! - (ruleCounts[`${col.name}:type`] ?? 0);
  if (prepared.malformedRows > 0) ruleCounts['*:malformed'] = prepared.malformedRows;
  const sourceRows = prepared.files.reduce((sum, f) => sum + f.rows, 0) + prepared.malformedRows;
  rowsRead += prepared.malformedRows;
  return {
    sourceRows,
    rowsRead,
    rowsAccepted: written.accepted,
    rowsRejected: written.rejected,
    nullCounts,
    ruleCounts,
  };
}
