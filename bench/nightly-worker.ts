/**
 * The run of the nightly benchmark (bench/nightly.bench.ts), in a process of its own:
 *
 *   node --import tsx bench/nightly-worker.ts '<task JSON>'
 *
 * A worker (as `mlpipe worker` builds it) and a client run a warm-up workflow, then play the nights as
 * they would arrive: each night's file is moved into the incoming folder (stamped as arrived the morning
 * after its day) and one sensor look (`deliverySensor`) hands it to its day's chain (`dailyChain`:
 * ingestion with its gates, then the day's features), awaited before the next night arrives. Every
 * night's outcome is kept: its gate warnings, or the failure that stopped it. Then the baseline, in the
 * same process: bare DuckDB (`openDuckDb()` settings) doing each day's work, the night's file copied to
 * Parquet (the rows its contract accepts) and, for a day whose chain computed features, the day's features by one statement over the
 * copies of its window (`bareFeatureSql`), checked row for row in count against the chain's partition.
 * The result is printed as one line `BENCH_RESULT <json>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { DailyChainResult } from '../src/api/daily';
import { dailyChainWorkflowId } from '../src/api/daily';
import { ingestionWorkflowId, type IngestionResult } from '../src/api/ingestion';
import { startSensorLook } from '../src/client/daily';
import { ArtifactStore } from '../src/data/artifact-store';
import { openDuckDb, queryRows, sqlFileList, sqlString, withConnection } from '../src/data/duckdb';
import { maxWindowDays } from '../src/features/feature-sql';
import { addDays, partitionRange } from '../src/features/partition-dates';
import type { GateCheck, GateReport } from '../src/quality/gate-report';
import { loadSpec } from '../src/specs';
import { runAsBenchWorker } from './child';
import { bareFeatureSql } from './features-worker';
import { quietLogger, warmUp, withWorkerAndClient, type ServerEnv } from './worker-harness';

export interface NightlyTask extends ServerEnv {
  kind: 'nightly';
  spec: string;
  /** The nights in order: each one's day and its file under `<dataDir>/staged`. */
  nights: { day: string; file: string }[];
}

export interface NightOutcome {
  day: string;
  /** The night's file moved in to its chain's end, as the nightly job sees it: one sensor look. */
  wallMs: number;
  /** Bare DuckDB: the file copied, plus the day's features when the chain computed them. */
  bareMs: number;
  rowsRead: number;
  rowsRejected: number;
  published: boolean;
  /** Feature rows of the day: the chain's partition and bare DuckDB's (null when not computed). */
  featureRows: number | null;
  bareFeatureRows: number | null;
  /** The failed checks of the night's gate report: warnings, and the blocking ones when stopped. */
  failed: GateCheck[];
  /** Why the chain stopped, when it did. */
  error?: string;
}

type Fed = Omit<NightOutcome, 'bareMs' | 'bareFeatureRows'>;

const PATTERN = 'incoming/night-{day}.parquet';

async function feed(task: NightlyTask): Promise<Fed[]> {
  return withWorkerAndClient(task, quietLogger(), async (w) => {
    await warmUp(w, task.taskQueue, 'dailyChain');
    const artifacts = ArtifactStore.local(w.config.dataDir);
    const incoming = path.join(task.dataDir, 'incoming');
    fs.mkdirSync(incoming, { recursive: true });
    const reportOf = async (day: string) => {
      const ingestion = w.client.workflow.getHandle(ingestionWorkflowId(task.spec, day));
      const result = (await ingestion.result().catch(() => undefined)) as IngestionResult | undefined;
      return result && (JSON.parse(fs.readFileSync(await artifacts.open(result.reportUri), 'utf8')) as GateReport);
    };
    const fed: Fed[] = [];
    for (const night of task.nights) {
      const target = path.join(incoming, `night-${night.day}.parquet`);
      const t0 = performance.now();
      fs.renameSync(path.join(task.dataDir, night.file), target);
      const arrived = new Date(`${addDays(night.day, 1)}T06:00:00Z`);
      fs.utimesSync(target, arrived, arrived);
      const look = await startSensorLook(w.client, w.config, {
        spec: task.spec,
        pattern: PATTERN,
        taskQueue: task.taskQueue,
      });
      const error = await look.result().then(
        () => undefined,
        (e: unknown) => (e instanceof WorkflowFailedError ? String(e.cause?.message) : String(e)),
      );
      const wallMs = performance.now() - t0;
      const chain = error
        ? undefined
        : ((await w.client.workflow
            .getHandle(dailyChainWorkflowId(task.spec, night.day))
            .result()) as DailyChainResult);
      const report = await reportOf(night.day);
      fed.push({
        day: night.day,
        wallMs,
        rowsRead: chain?.ingestion.rowsRead ?? 0,
        rowsRejected: chain?.ingestion.rowsRejected ?? 0,
        published: chain !== undefined,
        featureRows: chain?.features.status === 'computed' ? chain.features.partitions[0]!.rows : null,
        failed: report?.checks.filter((c) => c.verdict === 'fail') ?? [],
        error,
      });
    }
    return fed;
  });
}

/** Bare DuckDB doing each day's work, timed day by day; the feature rows of each day it computes. */
async function bare(task: NightlyTask, fed: Fed[]): Promise<{ ms: number; featureRows: number | null }[]> {
  const window = maxWindowDays(loadSpec(task.spec).featureSet!);
  const db = await openDuckDb();
  const out = fs.mkdtempSync(path.join(task.dataDir, 'bare-'));
  const copy = (day: string) => path.join(out, `${day}.parquet`);
  try {
    return await withConnection(db, async (conn) => {
      const days: { ms: number; featureRows: number | null }[] = [];
      for (const night of fed) {
        const t0 = performance.now();
        const source = path.join(task.dataDir, 'incoming', `night-${night.day}.parquet`);
        // The rows the contract accepts: its one rule the file breaks is the delay's range (two recording
        // errors); any other difference shows as a feature-row mismatch.
        await conn.run(
          `COPY (SELECT * FROM read_parquet(${sqlString(source)}) WHERE delay >= -720) TO ${sqlString(copy(night.day))} (FORMAT parquet)`,
        );
        if (night.featureRows !== null) {
          const files = partitionRange(addDays(night.day, -window), night.day)
            .map(copy)
            .filter((f) => fs.existsSync(f));
          const target = path.join(out, `features-${night.day}.parquet`);
          await conn.run(
            `COPY (${bareFeatureSql(files, night.day, night.day)}) TO ${sqlString(target)} (FORMAT parquet)`,
          );
          const ms = performance.now() - t0;
          const [row] = await queryRows<{ n: bigint }>(
            conn,
            `SELECT count(*) AS n FROM read_parquet(${sqlFileList([target])})`,
          );
          days.push({ ms, featureRows: Number(row!.n) });
          continue;
        }
        days.push({ ms: performance.now() - t0, featureRows: null });
      }
      return days;
    });
  } finally {
    db.closeSync();
    fs.rmSync(out, { recursive: true, force: true });
  }
}

runAsBenchWorker<NightlyTask>('nightly-worker.ts', async (task) => {
  const fed = await feed(task);
  const baseline = await bare(task, fed);
  return fed.map((night, i): NightOutcome => ({
    ...night,
    bareMs: baseline[i]!.ms,
    bareFeatureRows: baseline[i]!.featureRows,
  }));
});
