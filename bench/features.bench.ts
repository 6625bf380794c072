/**
 * Feature backfill benchmark: `featureBackfill` (workflows/features.ts) over every computable day of
 * flights-3m, against the same features computed once by bare DuckDB over the whole ingested dataset.
 *
 * The parent (this module) starts a Temporal dev server on a free port with a fresh data directory;
 * every measured step runs in a child process of its own (bench/features-worker.ts), so its peak RSS
 * is its own:
 * 1. ingest flights-3m through `ingestionPipeline` (not measured: it prepares the input);
 * 2. bare baseline and backfill, alternating: bare #1, backfill, bare #2..#reps. The backfill runs once
 *    (it is the expensive step, and a second one would need a fresh ingest); the bare runs are paired
 *    with it by median;
 * 3. from the server's histories of the per-partition child workflows: each one's wall time against
 *    the sum of its activities (orchestration overhead), and activity time by type;
 * 4. the bare output is checked against the pipeline's offline partitions on sample days.
 * Aims (from the issue): at most 1.5x the bare time, peak worker RSS under 1 GiB.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { tsToMs } from '@temporalio/common/lib/time';
import { loadConfig } from '../src/config';
import { ensureServer, type RunningServer } from '../src/temporal/dev-server';
import { connectClient } from '../src/temporal/client';
import { openDuckDb, queryRows, sqlString } from '../src/data/duckdb';
import { loadSpec } from '../src/specs';
import { partitionRange } from '../src/features/partition-dates';
import { featurePartitionWorkflowId } from '../workflows/features';
import { freePort } from '../test/helpers/ports';
import { median, type BenchContext, type Benchmark, type BenchmarkResult, type DetailTable, type Figure } from './report';
import type { BackfillRunResult, BareResult, IngestResult, WorkerTask } from './features-worker';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** The ratio the issue aims at: backfill wall time / bare wall time. */
const MAX_RATIO = 1.5;
const AS_OF = '2001-07-02T00:00:00Z';
/**
 * 2001-01-01..07 lack the 7 days of history the input check requires, and 2001-07-01 holds 6 flights
 * (a partial day the row-volume check refuses): both are refused by design, so the backfill covers
 * the 174 days in between.
 */
const FROM = '2001-01-08';
const TO = '2001-06-30';
const CONCURRENCY = 4;
/** Days whose offline partitions are compared row by row with the bare output. */
const SAMPLE_DAYS = ['2001-01-08', '2001-03-28', '2001-06-30'];
const SHARE_TOLERANCE = 1e-12;
const WORKER_TIMEOUT_MS = 12 * 60_000;

function runWorker<R>(ctx: BenchContext, task: WorkerTask): Promise<R> {
  const worker = path.join(ctx.repoRoot, 'bench', 'features-worker.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, JSON.stringify(task)], {
      cwd: ctx.repoRoot,
      // No inherited configuration: the task says where the server and the data are.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) {
        reject(new Error(`features worker (${task.kind}) failed: ${signal ?? `exit ${code}`}\n${stderr.trim().slice(-4000)}`));
        return;
      }
      resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as R);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Histories: per-partition wall time against the time spent in activities.

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface ActivityTiming {
  type: string;
  attempt: number;
  /** Scheduled -> started: waiting in the task queue for a poller / a free slot. */
  queueMs: number;
  /** Started -> completed (or failed): the activity's own run time. */
  runMs: number;
}

interface PartitionTiming {
  partition: string;
  wallMs: number;
  activities: ActivityTiming[];
  activityMs: number;
  queueMs: number;
  /** Workflow tasks: scheduled -> completed, summed (the workflow code's turns, including their queue wait). */
  workflowTaskMs: number;
  /** Of which scheduled -> started: waiting for the worker to pick the task up. */
  workflowTaskQueueMs: number;
  workflowTasks: number;
  events: number;
  /** Alerts the partition raised (`code: message`), from the notify activities' inputs. */
  alerts: string[];
}

const eventMs = (e: HistoryEvent) => tsToMs(e.eventTime);

export function partitionTiming(partition: string, events: HistoryEvent[]): PartitionTiming {
  const started = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  const closed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  if (!started || !closed) throw new Error(`the history of ${partition} has no start or no completion: did the partition fail?`);
  const scheduled = new Map<string, HistoryEvent>();
  const startedActivity = new Map<string, HistoryEvent>();
  const activities: ActivityTiming[] = [];
  let workflowTaskMs = 0;
  let workflowTaskQueueMs = 0;
  let workflowTasks = 0;
  let wfTaskScheduled: number | undefined;
  const alerts: string[] = [];
  for (const e of events) {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        scheduled.set(String(e.eventId), e);
        const attrs = e.activityTaskScheduledEventAttributes!;
        if (attrs.activityType?.name === 'notify') alerts.push(decodeAlert(attrs.input?.payloads?.[0]?.data));
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        startedActivity.set(String(e.activityTaskStartedEventAttributes!.scheduledEventId), e);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const attrs = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
        const id = String(attrs!.scheduledEventId);
        const s = scheduled.get(id)!;
        const st = startedActivity.get(id)!;
        activities.push({
          type: s.activityTaskScheduledEventAttributes!.activityType!.name!,
          attempt: st.activityTaskStartedEventAttributes!.attempt ?? 1,
          queueMs: eventMs(st) - eventMs(s),
          runMs: eventMs(e) - eventMs(st),
        });
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        wfTaskScheduled = eventMs(e);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        if (wfTaskScheduled !== undefined) workflowTaskQueueMs += eventMs(e) - wfTaskScheduled;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        if (wfTaskScheduled !== undefined) workflowTaskMs += eventMs(e) - wfTaskScheduled;
        workflowTasks += 1;
        wfTaskScheduled = undefined;
        break;
    }
  }
  const activityMs = activities.reduce((s, a) => s + a.runMs, 0);
  return {
    partition,
    wallMs: eventMs(closed) - eventMs(started),
    activities,
    activityMs,
    queueMs: activities.reduce((s, a) => s + a.queueMs, 0),
    workflowTaskMs,
    workflowTaskQueueMs,
    workflowTasks,
    events: events.length,
    alerts,
  };
}

/** `code: message` of a notify activity's input (the default JSON payload converter). */
function decodeAlert(data: Uint8Array | null | undefined): string {
  try {
    const alert = JSON.parse(Buffer.from(data ?? []).toString('utf8')) as { code?: string; message?: string };
    return `${alert.code}: ${alert.message}`;
  } catch {
    return 'undecodable alert';
  }
}

async function fetchTimings(client: Client, partitions: string[], featureSet: string): Promise<PartitionTiming[]> {
  const out: PartitionTiming[] = new Array(partitions.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < partitions.length; i = next++) {
      const history = await client.workflow.getHandle(featurePartitionWorkflowId(featureSet, partitions[i]!)).fetchHistory();
      out[i] = partitionTiming(partitions[i]!, history.events ?? []);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return out;
}

async function backfillWall(client: Client, workflowId: string): Promise<number> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const start = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)!;
  const end = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)!;
  return eventMs(end) - eventMs(start);
}

// ---------------------------------------------------------------------------------------------
// Verification: the bare output against the pipeline's offline partitions.

interface Verification {
  days: string[];
  rowsCompared: number;
  valuesCompared: number;
  mismatches: number;
  rowCountMismatches: string[];
  maxShareDiff: number;
  offlineRowsTotal: number;
  examples: string[];
}

const COUNT_FEATURES = ['route_flights_7d', 'hour_of_day', 'day_of_week'];
const SHARE_FEATURES = ['origin_delay_share_7d', 'dest_delay_share_7d', 'log_distance'];
const KEY_COLUMNS = ['date', 'delay', 'distance', 'origin', 'destination'];

async function verify(dataDir: string, bareOutput: string): Promise<Verification> {
  const db = await openDuckDb();
  const conn = await db.connect();
  const partitionFile = (day: string) => path.join(dataDir, 'artifacts', 'features', 'flight_delay', '1', day, 'part-00000.parquet');
  const result: Verification = { days: SAMPLE_DAYS, rowsCompared: 0, valuesCompared: 0, mismatches: 0, rowCountMismatches: [], maxShareDiff: 0, offlineRowsTotal: 0, examples: [] };
  try {
    const [total] = await queryRows<{ n: number }>(conn, `SELECT count(*) AS n FROM read_parquet(${sqlString(path.join(dataDir, 'artifacts', 'features', 'flight_delay', '1', '*', 'part-00000.parquet'))})`);
    result.offlineRowsTotal = total!.n;
    for (const day of SAMPLE_DAYS) {
      // Both files are sorted by every contract column, so the i-th row of the day is the same
      // flight in both (ties are identical rows, whose features are identical too).
      const numbered = (file: string, where: string) =>
        `SELECT *, row_number() OVER (ORDER BY file_row_number) AS i FROM read_parquet(${sqlString(file)}, file_row_number = true) ${where}`;
      const sql = `WITH p AS (${numbered(partitionFile(day), '')}),
        b AS (${numbered(bareOutput, `WHERE CAST(date AS DATE) = DATE ${sqlString(day)}`)})
        SELECT (SELECT count(*) FROM p) AS p_rows, (SELECT count(*) FROM b) AS b_rows,
          count(*) AS joined,
          count(*) FILTER (WHERE ${KEY_COLUMNS.map((c) => `p.${c} IS DISTINCT FROM b.${c}`).join(' OR ')}) AS key_mismatches,
          ${COUNT_FEATURES.map((f) => `count(*) FILTER (WHERE p.${f} IS DISTINCT FROM b.${f}) AS mm_${f}`).join(', ')},
          ${SHARE_FEATURES.map((f) => `count(*) FILTER (WHERE (p.${f} IS NULL) <> (b.${f} IS NULL) OR abs(p.${f} - b.${f}) > ${SHARE_TOLERANCE}) AS mm_${f}, max(abs(p.${f} - b.${f})) AS diff_${f}`).join(', ')}
        FROM p JOIN b USING (i)`;
      const [row] = await queryRows<Record<string, number | null>>(conn, sql);
      const r = row!;
      if (r.p_rows !== r.b_rows) result.rowCountMismatches.push(`${day}: pipeline ${r.p_rows} rows, bare ${r.b_rows}`);
      result.rowsCompared += r.joined!;
      result.valuesCompared += r.joined! * (COUNT_FEATURES.length + SHARE_FEATURES.length);
      const dayMismatches = Number(r.key_mismatches) + [...COUNT_FEATURES, ...SHARE_FEATURES].reduce((s, f) => s + Number(r[`mm_${f}`]), 0);
      result.mismatches += dayMismatches;
      for (const f of SHARE_FEATURES) result.maxShareDiff = Math.max(result.maxShareDiff, Number(r[`diff_${f}`] ?? 0));
      if (dayMismatches > 0 && result.examples.length < 5) {
        const bad = await queryRows(conn, `WITH p AS (${numbered(partitionFile(day), '')}), b AS (${numbered(bareOutput, `WHERE CAST(date AS DATE) = DATE ${sqlString(day)}`)})
          SELECT p.*, ${[...COUNT_FEATURES, ...SHARE_FEATURES].map((f) => `b.${f} AS bare_${f}`).join(', ')} FROM p JOIN b USING (i)
          WHERE ${[...KEY_COLUMNS, ...COUNT_FEATURES].map((c) => `p.${c} IS DISTINCT FROM b.${c}`).join(' OR ')} OR ${SHARE_FEATURES.map((f) => `(p.${f} IS NULL) <> (b.${f} IS NULL) OR abs(p.${f} - b.${f}) > ${SHARE_TOLERANCE}`).join(' OR ')} LIMIT 2`);
        result.examples.push(...bad.map((b) => `${day}: ${JSON.stringify(b)}`));
      }
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
const quantile = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};

function activityTable(timings: PartitionTiming[], backfillSeconds: number): DetailTable {
  const byType = new Map<string, { n: number; runMs: number[]; queueMs: number }>();
  for (const t of timings) {
    for (const a of t.activities) {
      const e = byType.get(a.type) ?? { n: 0, runMs: [], queueMs: 0 };
      e.n += 1;
      e.runMs.push(a.runMs);
      e.queueMs += a.queueMs;
      byType.set(a.type, e);
    }
  }
  const total = timings.reduce((s, t) => s + t.activityMs, 0);
  const rows = [...byType.entries()].map(([type, e]) => {
    const sum = e.runMs.reduce((s, x) => s + x, 0);
    return [type, e.n, (sum / 1000).toFixed(1), pct(sum, total), median(e.runMs).toFixed(0), quantile(e.runMs, 0.9).toFixed(0), (e.queueMs / 1000).toFixed(1)];
  });
  rows.push(['all activities', timings.reduce((s, t) => s + t.activities.length, 0), (total / 1000).toFixed(1), '100%', '', '', (timings.reduce((s, t) => s + t.queueMs, 0) / 1000).toFixed(1)]);
  return {
    title: `Activity time by type, summed over the ${timings.length} partitions`,
    columns: ['activity', 'runs', 'sum s', 'share', 'median ms', 'p90 ms', 'queue wait s'],
    rows,
    note:
      `Run time = ActivityTaskStarted -> ActivityTaskCompleted; queue wait = ActivityTaskScheduled -> ActivityTaskStarted. ` +
      `${CONCURRENCY} partitions run at once on ${'the'} machine's CPUs, so the summed run time (${(total / 1000).toFixed(0)} s) exceeds the backfill's wall time (${backfillSeconds.toFixed(0)} s).`,
  };
}

function partitionTable(timings: PartitionTiming[]): DetailTable {
  const col = (f: (t: PartitionTiming) => number) => {
    const v = timings.map(f);
    return [median(v).toFixed(0), quantile(v, 0.9).toFixed(0), Math.max(...v).toFixed(0)];
  };
  return {
    title: 'Per-partition child workflow (featurePipeline), ms',
    columns: ['measure', 'median', 'p90', 'max'],
    rows: [
      ['wall time (WorkflowExecutionStarted -> Completed)', ...col((t) => t.wallMs)],
      ['sum of activity run times', ...col((t) => t.activityMs)],
      ['overhead = wall - sum of activities', ...col((t) => t.wallMs - t.activityMs)],
      ['  of which activity queue wait (scheduled -> started)', ...col((t) => t.queueMs)],
      ['  of which workflow tasks (scheduled -> completed)', ...col((t) => t.workflowTaskMs)],
      ['    of which workflow task queue wait (scheduled -> started)', ...col((t) => t.workflowTaskQueueMs)],
      ['activities per partition', ...col((t) => t.activities.length)],
      ['workflow tasks per partition', ...col((t) => t.workflowTasks)],
      ['history events per partition', ...col((t) => t.events)],
    ],
  };
}

function rssTable(run: BackfillRunResult): DetailTable {
  const series = run.rssSeries;
  const at = (q: number) => series[Math.min(series.length - 1, Math.max(0, Math.round(q * series.length) - 1))];
  const points = [0.1, 0.25, 0.5, 0.75, 1].map(at).filter((p): p is NonNullable<typeof p> => Boolean(p));
  return {
    title: 'Worker RSS during the backfill (sampled every 250 ms)',
    columns: ['before', ...points.map((p) => `${(p.ms / 1000).toFixed(0)} s`), 'sampled max', 'peak (kernel)'],
    rows: [
      [
        `${(run.rssBeforeBytes / MiB).toFixed(0)} MiB`,
        ...points.map((p) => `${(p.rssBytes / MiB).toFixed(0)} MiB`),
        `${(Math.max(...series.map((p) => p.rssBytes)) / MiB).toFixed(0)} MiB`,
        `${(run.maxRssBytes / MiB).toFixed(0)} MiB`,
      ],
    ],
  };
}

export const benchmark: Benchmark = {
  name: 'features',
  description:
    `Feature backfill of flight_delay v1 (src/specs/flights-features.ts) over flights-3m: \`featureBackfill\` from ${FROM} to ${TO} ` +
    `(${partitionRange(FROM, TO).length} daily partitions, ${CONCURRENCY} at a time, each a \`featurePipeline\` child workflow of 7 activities) ` +
    `on an embedded dev server, worker and client in one fresh Node process, against one bare DuckDB statement computing the same features ` +
    `for the same days over the whole ingested dataset (daily counts per entity, a RANGE window over [D-7, D), joined back to every row, sorted, ` +
    `COPY to one Parquet file) in a fresh process with the same \`openDuckDb()\` settings. 2001-01-01..07 (less than 7 days of history) and ` +
    `2001-07-01 (a 6-flight partial day) are refused by the pipeline's input checks by design, so the range is ${FROM}..${TO}. ` +
    `Input: flights-3m ingested through \`ingestionPipeline\` first (not timed); both sides read its accepted dataset.`,

  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = performance.now();
    const spec = loadSpec('flights');
    const featureSet = `${spec.featureSet!.name}@${spec.featureSet!.version}`;
    const partitions = partitionRange(FROM, TO);
    const serverLog: string[] = [];
    const serverConfig = loadConfig({
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      TEMPORAL_UI_URL: `http://127.0.0.1:${await freePort()}`,
      MLPIPE_DATA_DIR: path.join(ctx.tmpDir, 'server'),
    });
    ctx.log(`starting a dev server at ${serverConfig.TEMPORAL_ADDRESS}`);
    const server: RunningServer = await ensureServer(serverConfig, { ui: false, log: (line) => serverLog.push(line) });
    let client: Client | undefined;
    try {
      if (!server.started) throw new Error(`a server already answered at ${serverConfig.TEMPORAL_ADDRESS}: refusing to benchmark against it`);
      const dataDir = path.join(ctx.tmpDir, 'data');
      const env = { address: serverConfig.TEMPORAL_ADDRESS, dataDir, taskQueue: `bench-features-${randomUUID().slice(0, 8)}` };

      ctx.log('ingesting flights-3m (not timed)');
      const ingested = await runWorker<IngestResult>(ctx, { kind: 'ingest', ...env, batch: 'bench', asOf: AS_OF });
      ctx.log(`ingested ${ingested.rowsAccepted} rows (${ingested.rowsRejected} dead letters) in ${ingested.seconds.toFixed(1)} s: ${ingested.datasetUri}`);

      const bare: BareResult[] = [];
      const order: { scenario: string; rep: number; seconds: number; rows: number; rss: number }[] = [];
      const runBare = async (rep: number) => {
        const runDir = path.join(ctx.tmpDir, 'bare', String(rep));
        const r = await runWorker<BareResult>(ctx, { kind: 'bare', files: ingested.files, runDir, from: FROM, to: TO });
        bare.push(r);
        order.push({ scenario: 'bare', rep, seconds: r.seconds, rows: r.rows, rss: r.maxRssBytes });
        ctx.log(`bare     #${rep}: ${r.seconds.toFixed(2)} s, ${(r.rows / r.seconds / 1e6).toFixed(2)}M rows/s, peak RSS ${(r.maxRssBytes / MiB).toFixed(0)} MiB`);
        // Keep the first output for the verification; the others only cost disk.
        if (rep > 1) fs.rmSync(runDir, { recursive: true, force: true });
      };

      await runBare(1);
      ctx.log(`backfill ${FROM}..${TO} (${partitions.length} partitions, ${CONCURRENCY} at a time)`);
      const backfill = await runWorker<BackfillRunResult>(ctx, { kind: 'backfill', ...env, from: FROM, to: TO, concurrency: CONCURRENCY });
      for (let rep = 2; rep <= ctx.reps; rep++) await runBare(rep);

      client = await (async () => connectClient(serverConfig))();
      ctx.log('reading the partitions\' histories and verifying the bare output');
      const timings = await fetchTimings(client, partitions, featureSet);
      const backfillServerMs = await backfillWall(client, backfill.backfillWorkflowId);
      const check = await verify(dataDir, bare[0]!.output);
      const rows = check.offlineRowsTotal;
      order.splice(1, 0, { scenario: 'backfill', rep: 1, seconds: backfill.seconds, rows, rss: backfill.maxRssBytes });
      ctx.log(`backfill  #1: ${backfill.seconds.toFixed(2)} s, ${(rows / backfill.seconds / 1e3).toFixed(1)}k rows/s, peak RSS ${(backfill.maxRssBytes / MiB).toFixed(0)} MiB`);

      const bareSeconds = median(bare.map((b) => b.seconds));
      const ratio = backfill.seconds / bareSeconds;
      const ratioSamples = bare.map((b) => backfill.seconds / b.seconds);
      const ratioNote = `backfill wall time / median bare time (the backfill runs once, between bare #1 and bare #2; per-bare-run ratios ${ratioSamples.map((r) => r.toFixed(1)).join(', ')})`;
      const overheads = timings.map((t) => t.wallMs - t.activityMs);
      const wallOverActivities = timings.map((t) => t.wallMs / t.activityMs);
      const activityTotalMs = timings.reduce((s, t) => s + t.activityMs, 0);
      const wallTotalMs = timings.reduce((s, t) => s + t.wallMs, 0);
      const byType = (type: string) => timings.reduce((s, t) => s + t.activities.filter((a) => a.type === type).reduce((x, a) => x + a.runMs, 0), 0);
      const extractShare = byType('extractFeatureInput') / activityTotalMs;
      const computeShare = byType('computeFeatures') / activityTotalMs;
      const retried = timings.flatMap((t) => t.activities.filter((a) => a.attempt > 1).map((a) => `${t.partition} ${a.type} attempt ${a.attempt}`));

      const figures: Figure[] = [
        {
          name: 'partitions computed',
          value: backfill.computed,
          unit: '',
          aim: { on: 'value', op: '>=', limit: partitions.length, text: `all ${partitions.length} of ${FROM}..${TO}` },
          note: `backfill result: total ${backfill.total}, computed ${backfill.computed}, already done ${backfill.alreadyDone}; ${rows} offline rows${retried.length ? `; retried: ${retried.join(', ')}` : '; no activity retried'}`,
        },
        {
          name: 'backfill: wall time',
          value: backfill.seconds,
          unit: 's',
          baseline: bareSeconds,
          ratio,
          ratioNote,
          aim: { on: 'ratio', op: '<=', limit: MAX_RATIO, text: `<= ${MAX_RATIO}x bare time` },
          samples: [backfill.seconds],
          baselineSamples: bare.map((b) => b.seconds),
          ratioSamples,
          note: `client view, startBackfill() to result(); the server's history says ${(backfillServerMs / 1000).toFixed(1)} s; worker start-up (bundling included) took ${backfill.workerStartSeconds.toFixed(1)} s before it, not counted`,
        },
        {
          name: 'backfill: throughput',
          value: rows / backfill.seconds,
          unit: 'rows/s',
          baseline: median(bare.map((b) => b.rows / b.seconds)),
          ratio,
          ratioNote: 'the time ratio (same rows on both sides)',
          samples: [rows / backfill.seconds],
          baselineSamples: bare.map((b) => b.rows / b.seconds),
          note: `offline rows written: ${rows} (sum over the ${partitions.length} partitions); bare output rows: ${bare[0]!.rows}`,
        },
        {
          name: 'backfill: peak worker RSS',
          value: backfill.maxRssBytes,
          unit: 'bytes',
          baseline: median(bare.map((b) => b.maxRssBytes)),
          ratio: backfill.maxRssBytes / median(bare.map((b) => b.maxRssBytes)),
          ratioNote: 'backfill peak RSS / bare peak RSS (whole process: Node, tsx, DuckDB, and for the backfill the Temporal worker and client)',
          aim: { on: 'value', op: '<=', limit: GiB, text: '< 1 GiB' },
          samples: [backfill.maxRssBytes],
          baselineSamples: bare.map((b) => b.maxRssBytes),
          note: backfill.peakReset
            ? `peak from the start of the backfill to its end (kernel high-water mark reset once the worker was up); the whole process including worker start-up and workflow bundling peaked at ${(backfill.processMaxRssBytes / MiB).toFixed(0)} MiB; RSS before the backfill ${(backfill.rssBeforeBytes / MiB).toFixed(0)} MiB`
            : `whole-process peak (the high-water mark could not be reset), worker start-up and workflow bundling included; RSS before the backfill ${(backfill.rssBeforeBytes / MiB).toFixed(0)} MiB`,
        },
        {
          name: 'orchestration overhead per partition',
          value: median(overheads),
          unit: 'ms',
          ratio: median(wallOverActivities),
          ratioNote: 'child workflow wall time / sum of its activities\' run times, median over partitions',
          samples: overheads,
          ratioSamples: wallOverActivities,
          note: `median of (workflow wall - sum of activity run times) over the ${timings.length} featurePipeline histories; p90 ${quantile(overheads, 0.9).toFixed(0)} ms; summed over partitions: wall ${(wallTotalMs / 1000).toFixed(0)} s, activities ${(activityTotalMs / 1000).toFixed(0)} s (${pct(wallTotalMs - activityTotalMs, wallTotalMs)} of partition wall time is outside activities)`,
        },
        {
          name: 'bare output = offline partitions',
          value: check.mismatches + check.rowCountMismatches.length,
          unit: 'mismatches',
          aim: { on: 'value', op: '<=', limit: 0, text: 'verified (0 mismatches)' },
          note:
            (check.mismatches + check.rowCountMismatches.length === 0 ? 'verified: ' : 'NOT verified: ') +
            `${check.rowsCompared} rows of ${check.days.join(', ')} compared row by row (every row of each day, ${check.valuesCompared} feature values): ` +
            `key columns and counts exactly, shares and log_distance within ${SHARE_TOLERANCE} (max difference ${check.maxShareDiff.toExponential(1)})` +
            (check.rowCountMismatches.length ? `; row counts differ: ${check.rowCountMismatches.join('; ')}` : '') +
            (check.examples.length ? `; e.g. ${check.examples.join(' | ')}` : ''),
        },
      ];

      const details: DetailTable[] = [
        {
          title: 'All samples, in the order they ran',
          columns: ['scenario', 'rep', 'seconds', 'rows/s', 'peak RSS'],
          rows: order.map((s) => [s.scenario, s.rep, s.seconds.toFixed(2), `${(s.rows / s.seconds / 1e3).toFixed(0)}k`, `${(s.rss / MiB).toFixed(0)} MiB`]),
        },
        partitionTable(timings),
        activityTable(timings, backfill.seconds),
        rssTable(backfill),
        {
          title: 'Where the time goes',
          columns: ['observation'],
          rows: whereTimeGoes({ timings, backfill, bareSeconds, ratio, extractShare, computeShare, activityTotalMs, wallTotalMs }),
        },
      ];
      return {
        name: 'features',
        description: this.description,
        seconds: (performance.now() - started) / 1000,
        figures,
        details,
        data: {
          range: { from: FROM, to: TO, partitions: partitions.length, concurrency: CONCURRENCY },
          ingest: ingested,
          bare: bare.map(({ output, ...b }) => ({ ...b, output: path.basename(output) })),
          backfill: { ...backfill, rssSeries: undefined, backfillServerMs },
          rssSeries: backfill.rssSeries.filter((_, i) => i % 4 === 0),
          verification: check,
          partitions: timings.map((t) => ({ ...t, activities: t.activities.map((a) => ({ type: a.type, runMs: a.runMs, queueMs: a.queueMs, attempt: a.attempt })) })),
        },
      };
    } catch (error) {
      if (serverLog.length) ctx.log(`dev server log:\n${serverLog.slice(-20).join('\n')}`);
      throw error;
    } finally {
      await client?.connection.close().catch(() => {});
      await server.stop();
    }
  },
};

function whereTimeGoes(x: {
  timings: PartitionTiming[];
  backfill: BackfillRunResult;
  bareSeconds: number;
  ratio: number;
  extractShare: number;
  computeShare: number;
  activityTotalMs: number;
  wallTotalMs: number;
}): string[][] {
  const n = x.timings.length;
  const perPartitionActivities = median(x.timings.map((t) => t.activityMs));
  const overhead = median(x.timings.map((t) => t.wallMs - t.activityMs));
  return [
    [
      `The backfill takes ${x.ratio.toFixed(1)}x the bare run. The bare run reads the dataset once and aggregates each day once; the backfill runs ${n} partitions, ` +
        `each a child workflow of ${median(x.timings.map((t) => t.activities.length))} activities that each open a DuckDB connection and re-read Parquet: ` +
        `a median partition spends ${perPartitionActivities.toFixed(0)} ms in activities and ${overhead.toFixed(0)} ms outside them (workflow tasks, activity dispatch, child start and completion).`,
    ],
    [
      `extractFeatureInput is ${pct(x.extractShare, 1)} of all activity time: for every partition it scans the whole ingested dataset twice ` +
        `(COPY of the day and its 7-day window, then max(date) over every file for the freshness check), so the backfill reads the 3M rows about ${2 * n} times; ` +
        `every day's rows are also re-read as part of the next 7 partitions' windows. computeFeatures is ${pct(x.computeShare, 1)}: ` +
        `one offline COPY plus one online snapshot COPY per entity (3), each re-aggregating the same 7-day window.`,
    ],
    [
      `Orchestration outside activities totals ${((x.wallTotalMs - x.activityTotalMs) / 1000).toFixed(0)} s of the ${(x.wallTotalMs / 1000).toFixed(0)} s of partition wall time ` +
        `(summed over partitions; ${CONCURRENCY} run at once). What would close the gap: fewer activities per partition (extract + check + compute + validate as one activity ` +
        `on one connection, write-offline + update-online + record as another), the freshness check from the dataset's metadata (its newest event is known at ingestion) instead of a full scan, ` +
        `larger partitions (a week or a month per child workflow, computed with the window SQL the bare run uses), and reading the 7-day window once per backfill ` +
        `(daily entity aggregates computed once and reused by every partition) instead of once per partition.`,
    ],
  ];
}
