/**
 * One measured run of the ingestion benchmark, in a process of its own (bench/child.ts) so its peak
 * RSS is its own and not what an earlier run left behind.
 *
 * Task kinds:
 * - `bare`:   the baseline, `COPY (SELECT * FROM read_parquet([files])) TO out (FORMAT parquet)`;
 * - `ingest`: `ingest()` of the checkpointed engine over a source URI, on fresh directories.
 * Both open DuckDB with `openDuckDb()` (the settings the worker uses) and time only the work, not
 * the process start or the DuckDB open.
 *
 * With `profile: true` every DuckDB statement is timed (bench/statement-timer.ts), so the time can be
 * split by phase.
 */
import { runAsChild } from './child';
import { peakRssBytes } from './process-stats';
import { timeEveryStatement } from './statement-timer';
import fs from 'node:fs/promises';
import path from 'node:path';
import { openDuckDb, queryRows, sqlFileList, sqlString } from '../src/data/duckdb';
import { ingest, type IngestOutcome } from '../src/data/ingest-engine';
import { sha256Files } from '../src/data/artifact-store';
import { resolveSourceUri } from '../src/data/source-uri';
import { loadSpec } from '../src/specs';

export interface BareTask {
  kind: 'bare';
  files: string[];
  runDir: string;
  memoryLimit?: string;
}

export interface IngestTask {
  kind: 'ingest';
  spec: string;
  sourceUri: string;
  dataDir: string;
  runDir: string;
  chunkRows?: number;
  memoryLimit?: string;
  profile?: boolean;
}

export type WorkerTask = BareTask | IngestTask;

export interface StatementTiming {
  phase: string;
  ms: number;
  startMs: number;
}

export interface WorkerResult {
  kind: WorkerTask['kind'];
  seconds: number;
  rows: number;
  /** Peak resident set size of the whole process, bytes. */
  maxRssBytes: number;
  /** RSS once Node, tsx and DuckDB are loaded and the instance is open, before the measured work. */
  rssBeforeBytes: number;
  /** Ingest only: RSS after each chunk was persisted. */
  chunkRss?: { chunk: number; rowsRead: number; rssBytes: number }[];
  stats?: IngestOutcome['stats'];
  chunksTotal?: number;
  outputBytes: number;
  profile?: {
    statements: StatementTiming[];
    /** ms from the start of ingest() to its first DuckDB statement, and from the last one to its end. */
    beforeFirstStatementMs: number;
    afterLastStatementMs: number;
    /** The same hashing ingest() does, timed on its own after the run. */
    sha256SourceMs: number;
    sha256OutputMs: number;
  };
}

async function dirBytes(dir: string): Promise<number> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const e of entries) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? await dirBytes(p) : (await fs.stat(p)).size;
  }
  return total;
}

/** Names the engine's statements by what they do (see src/data/ingest-engine.ts and source-reader.ts). */
export function classifyStatement(sql: string, task: IngestTask): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  if (s.startsWith('DESCRIBE')) return 'describe source schema';
  if (/^SELECT count\(\*\) AS n FROM read_parquet\('/.test(s)) return 'source row counts (per file)';
  if (s.startsWith('CREATE OR REPLACE TEMP TABLE ref_')) return 'load reference tables';
  if (s.startsWith('COPY (') && s.includes(path.join(task.runDir, 'accepted'))) return 'chunk: COPY accepted rows';
  if (s.startsWith('COPY (') && s.includes(path.join(task.runDir, 'dead-letters'))) return 'chunk: COPY dead letters';
  if (s.startsWith('SELECT count(*) AS rows_read')) return 'chunk: stats query';
  if (s.startsWith('CREATE OR REPLACE TEMP TABLE rejected')) return 'chunk: materialise rejected rows';
  if (s.includes('unnest(__reasons)')) return 'chunk: per-rule counts';
  if (s.startsWith('DROP TABLE rejected')) return 'chunk: drop rejected';
  if (s.startsWith('SET memory_limit')) return 'release freed memory (before the chunks, after each)';
  if (s.startsWith('SELECT DISTINCT CAST(')) return 'reference check: unknown values (a pass over the source)';
  if (/^SELECT count\(\*\) AS n FROM read_parquet\(\[/.test(s)) return 'finish: count written rows';
  return `other: ${s.slice(0, 40)}`;
}

async function runBare(task: BareTask): Promise<WorkerResult> {
  await fs.mkdir(task.runDir, { recursive: true });
  const db = await openDuckDb({ memoryLimit: task.memoryLimit, tempDirectory: path.join(task.runDir, 'duckdb-tmp') });
  const conn = await db.connect();
  const out = path.join(task.runDir, 'bare.parquet');
  const rssBeforeBytes = process.memoryUsage.rss();
  const t0 = performance.now();
  await conn.run(`COPY (SELECT * FROM read_parquet(${sqlFileList(task.files)})) TO ${sqlString(out)} (FORMAT parquet)`);
  const seconds = (performance.now() - t0) / 1000;
  const maxRssBytes = peakRssBytes();
  const [row] = await queryRows<{ n: number }>(conn, `SELECT count(*) AS n FROM read_parquet(${sqlString(out)})`);
  conn.closeSync();
  return { kind: 'bare', seconds, rows: row!.n, maxRssBytes, rssBeforeBytes, outputBytes: (await fs.stat(out)).size };
}

async function runIngest(task: IngestTask): Promise<WorkerResult> {
  const spec = loadSpec(task.spec);
  const dirs = {
    acceptedDir: path.join(task.runDir, 'accepted'),
    deadLetterDir: path.join(task.runDir, 'dead-letters'),
    workDir: path.join(task.runDir, 'work'),
  };
  // Fresh directories: a work dir left by an earlier run would make ingest() resume and do nothing.
  for (const dir of Object.values(dirs)) {
    if (await fs.stat(dir).catch(() => undefined))
      throw new Error(`${dir} already exists; each run needs fresh directories`);
  }
  const db = await openDuckDb({ memoryLimit: task.memoryLimit, tempDirectory: path.join(task.runDir, 'duckdb-tmp') });

  const statements: (StatementTiming & { endMs: number })[] = [];
  let t0 = 0;
  if (task.profile)
    timeEveryStatement((sql, start, end) =>
      statements.push({ phase: classifyStatement(sql, task), ms: end - start, startMs: start - t0, endMs: end - t0 }),
    );

  const chunkRss: WorkerResult['chunkRss'] = [];
  const rssBeforeBytes = process.memoryUsage.rss();
  t0 = performance.now();
  const outcome = await ingest(
    db,
    {
      contract: spec.contract,
      sourceUri: task.sourceUri,
      dataDir: task.dataDir,
      ...dirs,
      chunkRows: task.chunkRows ?? spec.chunkRows,
    },
    {
      onChunk: (p) =>
        void chunkRss.push({ chunk: p.chunksDone, rowsRead: p.rowsRead, rssBytes: process.memoryUsage.rss() }),
    },
  );
  const totalMs = performance.now() - t0;
  const maxRssBytes = peakRssBytes();

  // Ingested and validated: every source row was read, and every row read is either accepted or a dead letter.
  const s = outcome.stats;
  if (s.rowsRead !== s.sourceRows || s.rowsAccepted + s.rowsRejected !== s.rowsRead) {
    throw new Error(`ingest did not reconcile: ${JSON.stringify(s)}`);
  }

  let profile: WorkerResult['profile'];
  if (task.profile) {
    const first = statements.reduce((m, x) => Math.min(m, x.startMs), Infinity);
    const last = statements.reduce((m, x) => Math.max(m, x.endMs), 0);
    const source = await resolveSourceUri(task.sourceUri, task.dataDir);
    let t = performance.now();
    await sha256Files(source.format === 'postgres' ? [] : source.files);
    const sha256SourceMs = performance.now() - t;
    t = performance.now();
    await sha256Files(outcome.acceptedFiles);
    const sha256OutputMs = performance.now() - t;
    profile = {
      statements: statements.map(({ phase, ms, startMs }) => ({ phase, ms, startMs })),
      beforeFirstStatementMs: first,
      afterLastStatementMs: totalMs - last,
      sha256SourceMs,
      sha256OutputMs,
    };
  }
  return {
    kind: 'ingest',
    seconds: totalMs / 1000,
    rows: s.rowsRead,
    maxRssBytes,
    rssBeforeBytes,
    chunkRss,
    stats: s,
    chunksTotal: outcome.chunksTotal,
    outputBytes: await dirBytes(dirs.acceptedDir),
    profile,
  };
}

if (require.main === module) runAsChild<WorkerTask>((task) => (task.kind === 'bare' ? runBare(task) : runIngest(task)));
