/**
 * Nightly benchmark: January-June 2001 fed night by night (181 files, one per day of scheduled
 * departure) to the daily spec flights-nightly through its event-driven chain, as the articles'
 * nightly ETL would feed them.
 *
 * The parent writes the nights' files from flights-3m (not timed), starts a dev server and runs this
 * module's `nightly` task in a child process (bench/child.ts). There a worker (as `mlpipe worker` builds
 * it) and a client run a warm-up workflow, then play the nights as they would arrive: each night's file
 * is moved into the incoming folder (stamped as arrived the morning after its day) and one sensor look
 * (`deliverySensor`) hands it to its day's chain (`dailyChain`: ingestion with its gates, then the day's
 * features), awaited before the next night arrives. Every night's outcome is kept: its gate warnings, or
 * the failure that stopped it. Then the baseline, in the same process: bare DuckDB (`openDuckDb()`
 * settings) doing each day's work, the night's file copied to Parquet (the rows its contract accepts)
 * and, for a day whose chain computed features, the day's features by one statement over the copies of
 * its window (`bareFeatureSql`), checked in row count against the chain's partition.
 * What it shows:
 * - the false alarms of the like-for-like gates on real data: nights stopped (the aim is none), and
 *   every warning, listed night by night;
 * - nothing lost: rows read over the 181 nights against the rows of the file;
 * - features from the nightly partitions: computed from the 8th night on (a window needs 7 nights
 *   before its day), each with the rows bare DuckDB computes for the day;
 * - wall time per day against bare DuckDB doing the same day's work, and what the chain's time is made of.
 * The 6 flights of 2001-07-01 in the file are delivered with 2001-06-30, whose partition refuses them
 * (rule `partition`) to its dead letters: a row of another day never enters a published night.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { dailyChainWorkflowId, type DailyChainResult } from '../src/api/daily';
import { featurePartitionWorkflowId } from '../src/api/features';
import { ingestionWorkflowId, type IngestionResult } from '../src/api/ingestion';
import { startSensorLook } from '../src/client/daily';
import { featureSetOf } from '../src/client/features';
import { ArtifactStore } from '../src/data/artifact-store';
import { openDuckDb, queryRows, sqlString, withConnection } from '../src/data/duckdb';
import { maxWindowDays } from '../src/features/feature-sql';
import { addDays, partitionRange } from '../src/features/partition-dates';
import type { GateCheck, GateReport } from '../src/quality/gate-report';
import { loadSpec } from '../src/specs';
import { bareFeatureSql } from './bare-features';
import { bareEnv, runAsChild, runChild } from './child';
import { fetchHistories, withDevServer, workflowTiming, type WorkflowTiming } from './harness';
import { median, quantile, type BenchContext, type Benchmark, type BenchmarkResult, type Figure } from './report';
import { quietLogger, warmUp, withWorkerAndClient, type ServerEnv } from './worker-harness';

const SPEC = 'flights-nightly';
const FLIGHTS = path.resolve(__dirname, '..', 'node_modules/vega-datasets/data/flights-3m.parquet');
const NIGHTS = partitionRange('2001-01-01', '2001-06-30');
const LAST = NIGHTS.at(-1)!;

/** Writes one Parquet file per night under `<dataDir>/staged` (they arrive from there); returns the file's total rows. */
async function writeNights(dataDir: string): Promise<number> {
  const dir = path.join(dataDir, 'staged');
  fs.mkdirSync(dir, { recursive: true });
  const db = await openDuckDb();
  try {
    return await withConnection(db, async (conn) => {
      // Everything after the last night is delivered with it (the file's last rows, 2001-07-01).
      await conn.run(
        `CREATE TABLE flights AS SELECT *, least(CAST(date AS DATE), DATE ${sqlString(LAST)}) AS night FROM read_parquet(${sqlString(FLIGHTS)})`,
      );
      for (const day of NIGHTS) {
        await conn.run(
          `COPY (SELECT * EXCLUDE (night) FROM flights WHERE night = DATE ${sqlString(day)} ORDER BY date, origin, destination)
           TO ${sqlString(path.join(dir, `night-${day}.parquet`))} (FORMAT parquet)`,
        );
      }
      const [row] = await queryRows<{ n: bigint }>(conn, 'SELECT count(*) AS n FROM flights');
      return Number(row!.n);
    });
  } finally {
    db.closeSync();
  }
}

/** What a day's chain spent, by the server's histories of the chain and its child runs. */
async function chainTiming(client: Client, day: string, computedFeatures: boolean) {
  const ids = [dailyChainWorkflowId(SPEC, day), ingestionWorkflowId(SPEC, day)];
  if (computedFeatures) ids.push(featurePartitionWorkflowId(featureSetOf(SPEC).label, day));
  const runs = (
    await fetchHistories(
      client,
      ids.map((workflowId) => ({ workflowId })),
    )
  ).map(workflowTiming);
  const total = (f: (t: WorkflowTiming) => number) => runs.reduce((sum, t) => sum + f(t), 0);
  return {
    wallMs: runs[0]!.wallMs,
    activityMs: total((t) => t.activityMs),
    activities: total((t) => t.activities.length),
    workflowTaskMs: total((t) => t.workflowTaskMs),
    workflowTasks: total((t) => t.workflowTasks),
  };
}

// ---------------------------------------------------------------------------------------------
// The child: the feed, then the bare days.

interface NightlyTask extends ServerEnv {
  kind: 'nightly';
  spec: string;
  /** The nights' days in order; their files are under `<dataDir>/staged` (`writeNights`). */
  nights: string[];
}

interface NightOutcome {
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
    for (const day of task.nights) {
      const target = path.join(incoming, `night-${day}.parquet`);
      const t0 = performance.now();
      fs.renameSync(path.join(task.dataDir, 'staged', `night-${day}.parquet`), target);
      const arrived = new Date(`${addDays(day, 1)}T06:00:00Z`);
      fs.utimesSync(target, arrived, arrived);
      const pattern = 'incoming/night-{day}.parquet';
      const look = await startSensorLook(w.client, w.config, { spec: task.spec, pattern, taskQueue: task.taskQueue });
      const error = await look.result().then(
        () => undefined,
        (e: unknown) => (e instanceof WorkflowFailedError ? String(e.cause?.message) : String(e)),
      );
      const wallMs = performance.now() - t0;
      const chain = error
        ? undefined
        : ((await w.client.workflow.getHandle(dailyChainWorkflowId(task.spec, day)).result()) as DailyChainResult);
      const report = await reportOf(day);
      fed.push({
        day,
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

/** Bare DuckDB doing each day's work after the feed, timed day by day; the feature rows of each day it computes. */
async function bare(task: NightlyTask, fed: Fed[]): Promise<NightOutcome[]> {
  const window = maxWindowDays(loadSpec(task.spec).featureSet!);
  const db = await openDuckDb();
  const out = fs.mkdtempSync(path.join(task.dataDir, 'bare-'));
  const copy = (day: string) => path.join(out, `${day}.parquet`);
  try {
    return await withConnection(db, async (conn) => {
      const days: NightOutcome[] = [];
      for (const night of fed) {
        const t0 = performance.now();
        const source = path.join(task.dataDir, 'incoming', `night-${night.day}.parquet`);
        // The rows the contract accepts: its one rule the file breaks is the delay's range (two recording
        // errors); any other difference shows as a feature-row mismatch.
        await conn.run(
          `COPY (SELECT * FROM read_parquet(${sqlString(source)}) WHERE delay >= -720) TO ${sqlString(copy(night.day))} (FORMAT parquet)`,
        );
        if (night.featureRows === null) {
          days.push({ ...night, bareMs: performance.now() - t0, bareFeatureRows: null });
          continue;
        }
        const files = partitionRange(addDays(night.day, -window), night.day)
          .map(copy)
          .filter((f) => fs.existsSync(f));
        const target = path.join(out, `features-${night.day}.parquet`);
        await conn.run(
          `COPY (${bareFeatureSql(files, night.day, night.day)}) TO ${sqlString(target)} (FORMAT parquet)`,
        );
        const bareMs = performance.now() - t0;
        const [row] = await queryRows<{ n: bigint }>(
          conn,
          `SELECT count(*) AS n FROM read_parquet(${sqlString(target)})`,
        );
        days.push({ ...night, bareMs, bareFeatureRows: Number(row!.n) });
      }
      return days;
    });
  } finally {
    db.closeSync();
    fs.rmSync(out, { recursive: true, force: true });
  }
}

export const benchmark: Benchmark = {
  name: 'nightly',
  description:
    `January-June 2001 as ${NIGHTS.length} nightly files to the daily spec ${SPEC} (a night is one day of scheduled departure; the 6 flights of 2001-07-01 ride with ${LAST}), ` +
    "played in order: a night's file arrives in the incoming folder and one sensor look (`deliverySensor`) hands it to its day's chain (`dailyChain`: ingestion and its gates, which compare the night with the same weekday over 4 weeks and each airport with its usual share; then the day's features once 7 nights precede it), awaited before the next night arrives; " +
    'one worker and client in a fresh Node process on an embedded dev server. ' +
    "Against bare DuckDB (`openDuckDb()` settings) doing each day's work in the same process after the feed: the night's file copied to Parquet, and the day's features by one statement over its window's copies. " +
    'One feed per run: its 181 nights are the samples.',

  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = performance.now();
    const dataDir = path.join(ctx.tmpDir, 'runs', 'nightly');
    const fileRows = await writeNights(dataDir);
    return withDevServer(ctx, async (server) => {
      const task: NightlyTask = {
        kind: 'nightly',
        address: server.config.TEMPORAL_ADDRESS,
        dataDir,
        taskQueue: `bench-nightly-${randomUUID().slice(0, 8)}`,
        spec: SPEC,
        nights: NIGHTS,
      };
      ctx.log(`feeding ${NIGHTS.length} nights`);
      const nights = await runChild<NightOutcome[]>(ctx, 'nightly.bench.ts', task, 60 * 60_000, bareEnv());

      const client = await server.client();
      const published = nights.filter((n) => n.published);
      const timings = await Promise.all(published.map((n) => chainTiming(client, n.day, n.featureRows !== null)));
      const featured = nights.filter((n) => n.featureRows !== null);
      const mismatched = featured.filter((n) => n.featureRows !== n.bareFeatureRows);
      const stopped = nights.filter((n) => !n.published);
      const warnings = nights.flatMap((n) =>
        n.failed.filter((c) => c.severity === 'warning').map((c) => ({ day: n.day, ...c })),
      );
      const rowsRead = nights.reduce((sum, n) => sum + n.rowsRead, 0);
      const wall = nights.map((n) => n.wallMs);
      const bareMs = nights.map((n) => n.bareMs);
      const byGate = new Map<string, number>();
      for (const w of warnings) byGate.set(w.gate, (byGate.get(w.gate) ?? 0) + 1);
      const medianOf = (pick: (t: (typeof timings)[number]) => number) => median(timings.map(pick));
      const figures: Figure[] = [
        {
          name: 'nights stopped (false alarms)',
          value: stopped.length,
          unit: 'nights',
          aim: { on: 'value', op: '<=', limit: 0, text: '0' },
          headline: true,
          note: stopped.length
            ? stopped
                .map((n) => `${n.day}: ${n.error}`)
                .join(' | ')
                .slice(0, 2000)
            : `all ${nights.length} nights published`,
        },
        {
          name: 'warnings',
          value: warnings.length,
          unit: 'checks',
          headline: true,
          note: `on ${new Set(warnings.map((w) => w.day)).size} nights; by gate: ${[...byGate].map(([g, n]) => `${g} ${n}`).join(', ') || 'none'} (listed below)`,
        },
        {
          name: 'rows read over all nights',
          value: rowsRead,
          unit: 'rows',
          aim: { on: 'value', op: '>=', limit: fileRows, text: `all ${fileRows} rows of the file` },
          note: `dead letters ${nights.reduce((sum, n) => sum + n.rowsRejected, 0)} (kept with their reasons)`,
        },
        {
          name: 'days with features',
          value: featured.length,
          unit: 'days',
          note: `from ${featured[0]?.day ?? '-'} (a window needs the 7 nights before its day); days whose feature row count differs from bare DuckDB's: ${mismatched.length ? mismatched.map((n) => n.day).join(', ') : 'none'}`,
        },
        {
          name: 'wall per day',
          value: median(wall),
          unit: 'ms',
          baseline: median(bareMs),
          ratio: median(nights.map((n) => n.wallMs / n.bareMs)),
          ratioNote:
            "median of per-day ratios: a night's arrival to its chain's end (one sensor look) / bare DuckDB doing the day's work",
          samples: wall,
          baselineSamples: bareMs,
          headline: true,
          note: `p90 ${Math.round(quantile(wall, 0.9))} ms; the whole feed ${(wall.reduce((a, b) => a + b, 0) / 1000).toFixed(0)} s, bare ${(bareMs.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s`,
        },
        {
          name: 'activities per day',
          value: medianOf((t) => t.activityMs),
          unit: 'ms',
          baseline: median(bareMs),
          ratio: medianOf((t) => t.activityMs) / median(bareMs),
          ratioNote: "median of the days' summed activity run times (chain, ingestion, features) / median bare day",
          note: `${medianOf((t) => t.activities)} activities and ${medianOf((t) => t.workflowTasks)} workflow tasks (${Math.round(medianOf((t) => t.workflowTaskMs))} ms) per day; the chain's server wall ${Math.round(medianOf((t) => t.wallMs))} ms (medians)`,
        },
      ];
      return {
        name: 'nightly',
        description: this.description,
        seconds: (performance.now() - started) / 1000,
        figures,
        details: [
          {
            title: 'Warnings, night by night',
            columns: ['night', 'gate', 'subject', 'detail'],
            rows: warnings.map((w) => [w.day, w.gate, w.subject, w.detail]),
          },
        ],
        data: { spec: SPEC, nights },
      };
    });
  },
};

if (require.main === module) runAsChild<NightlyTask>(async (task) => bare(task, await feed(task)));
