/**
 * One step of the feature backfill benchmarks (bench/features.bench.ts, bench/backfill-load.bench.ts;
 * its `ingest` and `backfill` also prepare bench/flights-input.ts), in a process of its own
 * (bench/child.ts) so its peak RSS is its own and not what an earlier step left behind.
 *
 * Task kinds:
 * - `ingest`:   a worker (as `mlpipe worker` builds it) and a client ingest the spec's source into a
 *               fresh data directory on the benchmark's dev server; not measured, it prepares the input;
 * - `backfill`: a fresh worker and a client run `featureBackfill` over the range (timed: start to
 *               result). The worker bundles its workflow code at start-up like the real one; the
 *               peak-RSS mark is then reset (`/proc/self/clear_refs`), so `maxRssBytes` is the peak
 *               during the backfill and `processMaxRssBytes` the peak of the whole process;
 * - `bare`:     the baseline: the same features computed once over the whole ingested dataset with
 *               one DuckDB statement (`bareFeatureSql`), `openDuckDb()` settings, COPY to one Parquet file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import { startIngestion } from '../src/client/ingestion';
import { startBackfill } from '../src/client/features';
import { ArtifactStore } from '../src/data/artifact-store';
import { openDuckDb, queryRows, sqlString } from '../src/data/duckdb';
import { bareEnv, runAsChild, runChild } from './child';
import { quietLogger, withWorkerAndClient, type ServerEnv } from './worker-harness';
import { cpuSecondsSince, measured, peakRssBytes } from './process-stats';
import { bareFeatureSql } from './bare-features';
import { timeEveryStatement } from './statement-timer';
import type { BenchContext } from './report';

export type FeatureTask =
  | (ServerEnv & { kind: 'ingest'; spec: string; asOf: string; batch: string })
  | (ServerEnv & {
      kind: 'backfill';
      spec: string;
      from: string;
      to: string;
      concurrency: number;
      /** Days per child run (featureRangePipeline); absent: one featurePipeline per day. */
      daysPerRun?: number;
    })
  | { kind: 'bare'; files: string[]; runDir: string; from: string; to: string };
type Task<K> = Extract<FeatureTask, { kind: K }>;

type IngestResult = Awaited<ReturnType<typeof runIngest>>;
export type BackfillRunResult = Awaited<ReturnType<typeof runBackfill>>;
export type BareResult = Awaited<ReturnType<typeof runBare>>;
type ResultOf<T extends FeatureTask> =
  T extends Task<'ingest'> ? IngestResult : T extends Task<'backfill'> ? BackfillRunResult : BareResult;

/** The parent side: runs `task` in a child process of its own, with nothing of the benchmark's environment. */
export const runFeatureTask = <T extends FeatureTask>(ctx: BenchContext, task: T, timeoutMs: number) =>
  runChild<ResultOf<T>>(ctx, 'features-worker.ts', task, timeoutMs, bareEnv());

function runIngest(task: Task<'ingest'>) {
  return withWorkerAndClient(task, quietLogger(), async (w) => {
    const t0 = performance.now();
    const { taskQueue, spec, batch, asOf } = task;
    const result = await (await startIngestion(w.client, w.config, { spec, batch, asOf, taskQueue })).result();
    const seconds = (performance.now() - t0) / 1000;
    const artifacts = ArtifactStore.local(w.config.dataDir);
    const files = await artifacts.parquetFiles(await artifacts.open(result.datasetUri));
    const { datasetUri, rowsAccepted, rowsRejected } = result;
    return { datasetUri, files, rowsAccepted, rowsRejected, seconds };
  });
}

/**
 * Times every DuckDB statement and books it to the activity type running it (the activity context
 * follows the async call chain), so activity time splits into SQL and everything else.
 */
function timeStatementsByActivity(): Record<string, { statements: number; ms: number }> {
  const byActivity: Record<string, { statements: number; ms: number }> = {};
  const activityType = () => {
    try {
      return Context.current().info.activityType;
    } catch {
      return 'outside activities';
    }
  };
  timeEveryStatement((_sql, start, end) => {
    const e = (byActivity[activityType()] ??= { statements: 0, ms: 0 });
    e.statements += 1;
    e.ms += end - start;
  });
  return byActivity;
}

async function runBackfill(task: Task<'backfill'>) {
  /** DuckDB statement time (`DuckDBConnection.run`, which every query goes through) by the activity type that ran it. */
  const sqlByActivity = timeStatementsByActivity();
  return withWorkerAndClient(task, quietLogger(), async (w) => {
    const processMaxBefore = peakRssBytes();
    // Event-loop delay (ms): how long ready callbacks (workflow activations, polls) waited.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    const rssSeries: { ms: number; rssBytes: number }[] = [];
    const run = await measured(async () => {
      loop.enable();
      const t0 = performance.now();
      const sampler = setInterval(
        () => rssSeries.push({ ms: Math.round(performance.now() - t0), rssBytes: process.memoryUsage.rss() }),
        250,
      );
      try {
        const { spec, from, to, concurrency, daysPerRun, taskQueue } = task;
        const handle = await startBackfill(w.client, w.config, { spec, from, to, concurrency, daysPerRun, taskQueue });
        const result = await handle.result();
        return { seconds: (performance.now() - t0) / 1000, ...result, backfillWorkflowId: handle.workflowId };
      } finally {
        clearInterval(sampler);
        loop.disable();
      }
    });
    return {
      ...run,
      /** Peak RSS of the whole process, worker start-up (workflow bundling) included. */
      processMaxRssBytes: Math.max(processMaxBefore, run.maxRssBytes),
      rssSeries,
      workerStartSeconds: w.startSeconds,
      eventLoopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
      sqlByActivity,
    };
  });
}

async function runBare(task: Task<'bare'>) {
  fs.mkdirSync(task.runDir, { recursive: true });
  const db = await openDuckDb({ tempDirectory: path.join(task.runDir, 'duckdb-tmp') });
  const conn = await db.connect();
  const output = path.join(task.runDir, 'bare-features.parquet');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await conn.run(`COPY (${bareFeatureSql(task.files, task.from, task.to)}) TO ${sqlString(output)} (FORMAT parquet)`);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu0);
  // The whole process's peak: the mark is not reset, so Node, tsx and DuckDB's start count too.
  const maxRssBytes = peakRssBytes();
  const [row] = await queryRows<{ n: number }>(conn, `SELECT count(*) AS n FROM read_parquet(${sqlString(output)})`);
  conn.closeSync();
  return { seconds, rows: row!.n, maxRssBytes, output, outputBytes: fs.statSync(output).size, cpuSeconds };
}

if (require.main === module)
  runAsChild<FeatureTask>((task) =>
    task.kind === 'ingest' ? runIngest(task) : task.kind === 'backfill' ? runBackfill(task) : runBare(task),
  );
