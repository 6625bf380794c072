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
import { runAsChild } from './child';
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import { startIngestion } from '../src/client/ingestion';
import { startBackfill } from '../src/client/features';
import { ArtifactStore } from '../src/data/artifact-store';
import { openDuckDb, queryRows, sqlString } from '../src/data/duckdb';
import { quietLogger, withWorkerAndClient, type ServerEnv } from './worker-harness';
import { cpuSecondsSince, peakRssBytes, resetPeakRss } from './process-stats';
import { bareFeatureSql } from './bare-features';
import { timeEveryStatement } from './statement-timer';

export interface IngestTask extends ServerEnv {
  kind: 'ingest';
  spec: string;
  asOf: string;
  batch: string;
}

export interface BackfillTask extends ServerEnv {
  kind: 'backfill';
  spec: string;
  from: string;
  to: string;
  concurrency: number;
  /** Days per child run (featureRangePipeline); absent: one featurePipeline per day. */
  daysPerRun?: number;
}

export interface BareTask {
  kind: 'bare';
  files: string[];
  runDir: string;
  from: string;
  to: string;
}

export type WorkerTask = IngestTask | BackfillTask | BareTask;

export interface IngestResult {
  kind: 'ingest';
  datasetUri: string;
  files: string[];
  rowsAccepted: number;
  rowsRejected: number;
  seconds: number;
}

export interface BackfillRunResult {
  kind: 'backfill';
  seconds: number;
  total: number;
  computed: number;
  alreadyDone: number;
  backfillWorkflowId: string;
  /** Peak RSS from just before the backfill started to its end (the mark is reset first), bytes. */
  maxRssBytes: number;
  /** Whether the peak-RSS reset worked; if not, maxRssBytes is the whole process's peak. */
  peakReset: boolean;
  /** Peak RSS of the whole process, worker start-up (workflow bundling) included. */
  processMaxRssBytes: number;
  /** RSS once the worker is built and polling, before the backfill. */
  rssBeforeBytes: number;
  /** RSS sampled every 250 ms during the backfill. */
  rssSeries: { ms: number; rssBytes: number }[];
  workerStartSeconds: number;
  /** CPU time of this process (worker, client, DuckDB threads) during the backfill, seconds. */
  cpuSeconds: number;
  /** Event-loop delay during the backfill (ms): how long ready callbacks (workflow activations, polls) waited. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** DuckDB statement time (`DuckDBConnection.run`, which every query goes through) by the activity type that ran it. */
  sqlByActivity: Record<string, { statements: number; ms: number }>;
}

export interface BareResult {
  kind: 'bare';
  seconds: number;
  rows: number;
  maxRssBytes: number;
  rssBeforeBytes: number;
  output: string;
  outputBytes: number;
  cpuSeconds: number;
}

export type WorkerResult = IngestResult | BackfillRunResult | BareResult;

function runIngest(task: IngestTask): Promise<IngestResult> {
  return withWorkerAndClient(task, quietLogger(), async (w) => {
    const t0 = performance.now();
    const handle = await startIngestion(w.client, w.config, {
      spec: task.spec,
      batch: task.batch,
      asOf: task.asOf,
      taskQueue: task.taskQueue,
    });
    const result = await handle.result();
    const seconds = (performance.now() - t0) / 1000;
    const artifacts = ArtifactStore.local(w.config.dataDir);
    const files = await artifacts.parquetFiles(await artifacts.open(result.datasetUri));
    return {
      kind: 'ingest',
      datasetUri: result.datasetUri,
      files,
      rowsAccepted: result.rowsAccepted,
      rowsRejected: result.rowsRejected,
      seconds,
    };
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

async function runBackfill(task: BackfillTask): Promise<BackfillRunResult> {
  const sqlByActivity = timeStatementsByActivity();
  return withWorkerAndClient(task, quietLogger(), async (w) => {
    const processMaxBefore = peakRssBytes();
    const rssBeforeBytes = process.memoryUsage.rss();
    const peakReset = resetPeakRss();
    const rssSeries: BackfillRunResult['rssSeries'] = [];
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const sampler = setInterval(
      () => rssSeries.push({ ms: Math.round(performance.now() - t0), rssBytes: process.memoryUsage.rss() }),
      250,
    );
    let result;
    let workflowId;
    try {
      const handle = await startBackfill(w.client, w.config, {
        spec: task.spec,
        from: task.from,
        to: task.to,
        concurrency: task.concurrency,
        daysPerRun: task.daysPerRun,
        taskQueue: task.taskQueue,
      });
      workflowId = handle.workflowId;
      result = await handle.result();
    } finally {
      clearInterval(sampler);
      loop.disable();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = cpuSecondsSince(cpu0);
    const maxRssBytes = peakRssBytes();
    return {
      kind: 'backfill',
      seconds,
      ...result,
      backfillWorkflowId: workflowId,
      maxRssBytes,
      peakReset,
      processMaxRssBytes: Math.max(processMaxBefore, maxRssBytes),
      rssBeforeBytes,
      rssSeries,
      workerStartSeconds: w.startSeconds,
      cpuSeconds,
      eventLoopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
      sqlByActivity,
    };
  });
}

async function runBare(task: BareTask): Promise<BareResult> {
  fs.mkdirSync(task.runDir, { recursive: true });
  const db = await openDuckDb({ tempDirectory: path.join(task.runDir, 'duckdb-tmp') });
  const conn = await db.connect();
  const output = path.join(task.runDir, 'bare-features.parquet');
  const rssBeforeBytes = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await conn.run(`COPY (${bareFeatureSql(task.files, task.from, task.to)}) TO ${sqlString(output)} (FORMAT parquet)`);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu0);
  const maxRssBytes = peakRssBytes();
  const [row] = await queryRows<{ n: number }>(conn, `SELECT count(*) AS n FROM read_parquet(${sqlString(output)})`);
  conn.closeSync();
  return {
    kind: 'bare',
    seconds,
    rows: row!.n,
    maxRssBytes,
    rssBeforeBytes,
    output,
    outputBytes: fs.statSync(output).size,
    cpuSeconds,
  };
}

if (require.main === module)
  runAsChild<WorkerTask>((task) =>
    task.kind === 'ingest' ? runIngest(task) : task.kind === 'backfill' ? runBackfill(task) : runBare(task),
  );
