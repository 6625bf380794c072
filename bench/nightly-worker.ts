/**
 * The run of the nightly benchmark (bench/nightly.bench.ts), in a process of its own:
 *
 *   node --import tsx bench/nightly-worker.ts '<task JSON>'
 *
 * A worker (as `mlpipe worker` builds it) and a client run a warm-up workflow, then feed the nights
 * one by one, in order, as a nightly job would: each night's file is ingested by `ingestionPipeline`
 * (`startIngestion`) and awaited before the next starts, since a night's gates compare it with the
 * nights published before it. Every night's outcome is kept: published with its warnings, or stopped
 * with its blocking failures. Then the baseline, in the same process: each night's file copied to
 * Parquet by bare DuckDB (`openDuckDb()` settings), the least any ingestion of it must do.
 * The result is printed as one line `BENCH_RESULT <json>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { IngestionResult } from '../src/api/ingestion';
import { startIngestion } from '../src/client/ingestion';
import { ArtifactStore } from '../src/data/artifact-store';
import { openDuckDb, sqlString, withConnection } from '../src/data/duckdb';
import type { GateCheck, GateReport } from '../src/quality/gate-report';
import { runAsBenchWorker } from './child';
import { quietLogger, warmUp, withWorkerAndClient, type ServerEnv } from './worker-harness';

export interface NightlyTask extends ServerEnv {
  kind: 'nightly';
  spec: string;
  /** The nights, in delivery order: each one's batch id (its day), source URI and as-of time. */
  nights: { day: string; source: string; asOf: string }[];
}

export interface NightOutcome {
  day: string;
  /** Start of the ingestion to its result, as the nightly job sees it. */
  wallMs: number;
  /** Bare DuckDB copying the night's file to Parquet. */
  bareMs: number;
  rowsRead: number;
  rowsRejected: number;
  published: boolean;
  /** The failed checks of the night's gate report: warnings, and the blocking ones when stopped. */
  failed: GateCheck[];
  /** Set when the night failed for another reason than its gates. */
  error?: string;
}

async function feed(task: NightlyTask): Promise<Omit<NightOutcome, 'bareMs'>[]> {
  return withWorkerAndClient(task, quietLogger(), async (w) => {
    await warmUp(w, task.taskQueue, 'ingestionPipeline');
    const artifacts = new ArtifactStore(w.config.dataDir);
    const outcomes: Omit<NightOutcome, 'bareMs'>[] = [];
    for (const night of task.nights) {
      const t0 = performance.now();
      const handle = await startIngestion(w.client, w.config, {
        spec: task.spec,
        batch: night.day,
        source: night.source,
        asOf: night.asOf,
        taskQueue: task.taskQueue,
      });
      const outcome = await handle.result().then(
        (result: IngestionResult) => ({ result }),
        (error: unknown) => ({ error }),
      );
      const wallMs = performance.now() - t0;
      if ('result' in outcome) {
        const report = JSON.parse(fs.readFileSync(artifacts.resolve(outcome.result.reportUri), 'utf8')) as GateReport;
        outcomes.push({
          day: night.day,
          wallMs,
          rowsRead: outcome.result.rowsRead,
          rowsRejected: outcome.result.rowsRejected,
          published: true,
          failed: report.checks.filter((c) => c.verdict === 'fail'),
        });
        continue;
      }
      const cause = outcome.error instanceof WorkflowFailedError ? outcome.error.cause : undefined;
      const report =
        cause instanceof ApplicationFailure ? (cause.details?.[0] as { report?: GateReport })?.report : undefined;
      outcomes.push({
        day: night.day,
        wallMs,
        rowsRead: 0,
        rowsRejected: 0,
        published: false,
        failed: report?.checks.filter((c) => c.verdict === 'fail') ?? [],
        error: report ? undefined : String(cause?.message ?? outcome.error),
      });
    }
    return outcomes;
  });
}

/** Bare DuckDB: each night's file read and written as Parquet, timed statement by statement. */
async function bare(task: NightlyTask): Promise<number[]> {
  const db = await openDuckDb();
  const out = fs.mkdtempSync(path.join(task.dataDir, 'bare-'));
  try {
    return await withConnection(db, async (conn) => {
      const times: number[] = [];
      for (const night of task.nights) {
        const t0 = performance.now();
        await conn.run(
          `COPY (SELECT * FROM read_parquet(${sqlString(path.join(task.dataDir, night.source))})) TO ${sqlString(path.join(out, `${night.day}.parquet`))} (FORMAT parquet)`,
        );
        times.push(performance.now() - t0);
      }
      return times;
    });
  } finally {
    db.closeSync();
    fs.rmSync(out, { recursive: true, force: true });
  }
}

runAsBenchWorker<NightlyTask>('nightly-worker.ts', async (task) => {
  const fed = await feed(task);
  const bareMs = await bare(task);
  return fed.map((night, i): NightOutcome => ({ ...night, bareMs: bareMs[i]! }));
});
