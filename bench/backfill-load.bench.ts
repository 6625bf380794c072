/**
 * Backfill load benchmark (issue #7, "Load": a backfill of 180 partitions with bounded concurrency
 * completes with no failed workflow). `featureBackfill` of the weather spec's `wet_day` feature set
 * over 180 days, 8 at a time, on a dev server of its own; flights has only 174 computable days.
 *
 * Each repetition gets a fresh data directory and task queue, and runs in child processes
 * (bench/features-worker.ts), each with a fresh worker built as `mlpipe worker` builds it:
 * 1. ingest weather.csv (not measured: it prepares the input);
 * 2. the baseline: a 24-day range of 2013 (disjoint from the measured one) one partition at a time;
 * 3. the measured backfill: 180 days from 2012-01-08, 8 at a time.
 * The server's visibility store then says how every run of the two backfills ended, and when each
 * child started and closed (how many ran at once); their histories say how long the activities took.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { backfillWorkflowId, featureSetOf } from '../src/client/features';
import { loadConfig } from '../src/config';
import { partitionRange } from '../src/features/partition-dates';
import { closedRuns, maxOverlap, runInterval } from '../test/helpers/workflow-runs';
import {
  fetchHistories,
  runMeasuresTable,
  underLoad,
  withDevServer,
  workflowTiming,
  type BenchServer,
  type RunMeasure,
  type WorkflowTiming,
} from './harness';
import { formatBytes, median, type BenchContext, type Benchmark, type BenchmarkResult, type Figure } from './report';
import { runFeatureTask, type BackfillRunResult } from './features-worker';
import type { ServerEnv } from './worker-harness';

const SPEC = 'weather';
/** The day after the file's newest day, as in test/integration/weather-spec.test.ts. */
const AS_OF = '2016-01-01T00:00:00Z';
/** 2012-01-08 is the first day with the 7 days of history the input check requires. */
const LOADED = { from: '2012-01-08', to: '2012-07-05', concurrency: 8 };
const SERIAL = { from: '2013-01-08', to: '2013-01-31', concurrency: 1 };
const WORKER_TIMEOUT_MS = 15 * 60_000;
/** What the bench's workers run with: the defaults, as `mlpipe worker` without settings. */
const ACTIVITY_SLOTS = loadConfig({}).WORKER_MAX_CONCURRENT_ACTIVITIES;

type Scenario = typeof LOADED;

interface Sample {
  rep: number;
  scenario: Scenario;
  partitions: number;
  /** The worker's measurements; undefined when the backfill (and so the worker task) failed. */
  run?: BackfillRunResult;
  failure?: string;
  /** Partition ids with a completed child run. */
  computed: number;
  /** `type id: status` of each run of the backfill or its children that did not complete. */
  notCompleted: string[];
  /** Child ids with more than one run (retried, reset, started twice). */
  rerun: string[];
  maxChildren: number;
  maxActivities: number;
  /** The completed children's histories. */
  timings: WorkflowTiming[];
  serverCpuSeconds?: number;
  load: [number, number];
}

const label = featureSetOf(SPEC).label;
const count = (s: Scenario) => partitionRange(s.from, s.to).length;

async function measure(
  ctx: BenchContext,
  server: BenchServer,
  env: ServerEnv,
  rep: number,
  scenario: Scenario,
): Promise<Sample> {
  const { result, ...usage } = await underLoad(server, () =>
    runFeatureTask(ctx, { kind: 'backfill', spec: SPEC, ...env, ...scenario }, WORKER_TIMEOUT_MS).then(
      (run) => ({ run, failure: undefined }),
      // A failed backfill is a result here (the figures count it), not a crash of the benchmark.
      (error: Error) => ({ run: undefined, failure: error.message }),
    ),
  );
  const client = await server.client();
  const id = backfillWorkflowId(label, scenario.from, scenario.to);
  const runs = (await closedRuns(client, `TaskQueue = '${env.taskQueue}'`)).filter(
    (r) => r.workflowId === id || r.parentExecution?.workflowId === id,
  );
  const children = runs.filter((r) => r.type === 'featurePipeline');
  const completed = children.filter((r) => r.status.name === 'COMPLETED');
  const ids = children.map((r) => r.workflowId);
  const timings = (await fetchHistories(client, completed)).map(workflowTiming);
  return {
    rep,
    scenario,
    partitions: count(scenario),
    ...result,
    computed: new Set(completed.map((r) => r.workflowId)).size,
    notCompleted: runs
      .filter((r) => r.status.name !== 'COMPLETED')
      .map((r) => `${r.type} ${r.workflowId}: ${r.status.name}`),
    rerun: [...new Set(ids.filter((x, i) => ids.indexOf(x) !== i))],
    maxChildren: maxOverlap(children.map(runInterval)),
    maxActivities: maxOverlap(timings.flatMap((t) => t.activities.map((a) => ({ start: a.started, end: a.closed })))),
    timings,
    ...usage,
  };
}

const measured = (samples: Sample[]) =>
  samples.filter((s): s is Sample & { run: BackfillRunResult } => s.run !== undefined);
const rate = (s: Sample & { run: BackfillRunResult }) => s.run.computed / s.run.seconds;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
/** A measure's median over every child of every repetition. */
const over = (samples: Sample[]) => (f: RunMeasure) => median(samples.flatMap((s) => s.timings.map(f)));
const partitionWall = (s: Sample) => median(s.timings.map((t) => t.wallMs));
/** Share of the children's summed wall time spent outside activities. */
const overheadShare = (s: Sample) => 1 - sum(s.timings.map((t) => t.activityMs)) / sum(s.timings.map((t) => t.wallMs));

function figures(loaded: Sample[], serial: Sample[]): Figure[] {
  const ok = measured(loaded);
  const okSerial = measured(serial);
  const all = [...loaded, ...serial];
  const notCompleted = all.flatMap((s) => s.notCompleted.map((r) => `rep ${s.rep}: ${r}`));
  const failures = all.flatMap((s) =>
    s.failure ? [`rep ${s.rep} ${s.scenario.from}..${s.scenario.to}: ${s.failure.slice(0, 1500)}`] : [],
  );
  const rerun = all.flatMap((s) => s.rerun.map((id) => `rep ${s.rep}: ${id}`));
  const inFlight = ok.map((s) => sum(s.timings.map((t) => t.activityMs)) / 1000 / s.run.seconds);
  const serverCpu = ok.flatMap((s) => (s.serverCpuSeconds === undefined ? [] : [s.serverCpuSeconds]));
  const n = count(LOADED);
  return [
    {
      name: 'partitions computed',
      headline: true,
      value: Math.min(...loaded.map((s) => s.computed)),
      unit: '',
      aim: { on: 'value', op: '>=', limit: n, text: `all ${n}, every repetition` },
      note: `fewest over the repetitions; per repetition: ${loaded.map((s) => `${s.computed} (backfill result ${s.run ? `${s.run.computed} computed, ${s.run.alreadyDone} already done` : 'none: it failed'})`).join(', ')}`,
    },
    {
      name: 'failed workflows',
      headline: true,
      value: notCompleted.length,
      unit: '',
      aim: { on: 'value', op: '<=', limit: 0, text: '0' },
      note:
        `runs of the backfills and their children (${all.length} backfills, ${sum(all.map((s) => s.partitions))} partitions) that did not complete, from the server's visibility store: ` +
        (notCompleted.length ? notCompleted.join('; ') : 'none') +
        (failures.length ? `; worker failures: ${failures.join(' | ')}` : '') +
        `; child ids with more than one run: ${rerun.length ? rerun.join(', ') : 'none'}`,
    },
    {
      name: `wall time, ${n} partitions`,
      value: median(ok.map((s) => s.run.seconds)),
      unit: 's',
      samples: ok.map((s) => s.run.seconds),
      note: `client view, startBackfill() to result(); the worker's start-up (${median(ok.map((s) => s.run.workerStartSeconds)).toFixed(1)} s, workflow bundling) is before it and not counted`,
    },
    {
      name: 'throughput',
      headline: true,
      value: median(ok.map(rate)),
      unit: 'partitions/s',
      baseline: median(okSerial.map(rate)),
      ratio: median(ok.map(rate)) / median(okSerial.map(rate)),
      ratioNote: `throughput ${LOADED.concurrency} at a time / 1 at a time (${count(SERIAL)} days): what the lanes buy, ${LOADED.concurrency}x at most`,
      samples: ok.map(rate),
      baselineSamples: okSerial.map(rate),
    },
    {
      name: 'most children running at once',
      headline: true,
      value: Math.max(...loaded.map((s) => s.maxChildren)),
      unit: '',
      baseline: Math.max(...serial.map((s) => s.maxChildren)),
      aim: { on: 'value', op: '<=', limit: LOADED.concurrency, text: `<= ${LOADED.concurrency}` },
      samples: loaded.map((s) => s.maxChildren),
      note: `most over the repetitions, from the children's start and close times (visibility); the baseline's 1 checks the measure itself`,
    },
    {
      name: 'partition wall time',
      value: median(ok.map(partitionWall)),
      unit: 'ms',
      baseline: median(okSerial.map(partitionWall)),
      ratio: median(ok.map(partitionWall)) / median(okSerial.map(partitionWall)),
      ratioNote: `a partition's median wall time ${LOADED.concurrency} at a time / 1 at a time: what sharing the worker and the server costs each one`,
      samples: ok.map(partitionWall),
      baselineSamples: okSerial.map(partitionWall),
      note: "median over a repetition's children (WorkflowExecutionStarted -> Completed, server times), median over repetitions",
    },
    {
      name: 'partition time outside activities',
      value: 100 * median(ok.map(overheadShare)),
      unit: '%',
      baseline: 100 * median(okSerial.map(overheadShare)),
      samples: ok.map((s) => 100 * overheadShare(s)),
      baselineSamples: okSerial.map((s) => 100 * overheadShare(s)),
      note:
        `1 - sum of activity run times / sum of child wall times (orchestration overhead: dispatch, queue waits, workflow tasks). ` +
        `Summed activity run time / backfill wall time: ${inFlight.map((x) => x.toFixed(2)).join(', ')} activities running on average, ` +
        `at most ${Math.max(...ok.map((s) => s.maxActivities))} at once, against ${ACTIVITY_SLOTS} activity slots (WORKER_MAX_CONCURRENT_ACTIVITIES); ` +
        `activity queue wait (scheduled -> started) per partition, median ${median(ok.flatMap((s) => s.timings.map((t) => t.queueMs))).toFixed(0)} ms`,
    },
    {
      name: 'peak worker RSS',
      value: median(ok.map((s) => s.run.maxRssBytes)),
      unit: 'bytes',
      baseline: median(okSerial.map((s) => s.run.maxRssBytes)),
      samples: ok.map((s) => s.run.maxRssBytes),
      baselineSamples: okSerial.map((s) => s.run.maxRssBytes),
      note: `worker + client process, from the start of the backfill to its end${ok.every((s) => s.run.peakReset) ? '' : ' (the peak mark could not be reset: whole process)'}; whole process with start-up: ${formatBytes(Math.max(...ok.map((s) => s.run.processMaxRssBytes)))}`,
    },
    {
      name: 'dev-server CPU',
      value: median(serverCpu),
      unit: 's',
      samples: serverCpu,
      note:
        `the Temporal dev server's CPU time over the ${n}-partition run (the worker's start-up included), ` +
        `${((1000 * median(serverCpu)) / n).toFixed(0)} ms per partition, ${(median(serverCpu) / median(ok.map((s) => s.run.seconds))).toFixed(2)} cores on average; ` +
        `the worker process used ${median(ok.map((s) => s.run.cpuSeconds)).toFixed(1)} CPU s (${(median(ok.map((s) => s.run.cpuSeconds)) / median(ok.map((s) => s.run.seconds))).toFixed(2)} cores) on a ${os.cpus().length}-CPU machine`,
    },
  ];
}

/** The samples table's columns: each a heading and its cell of a sample. */
const SAMPLE_COLUMNS: [string, (s: Sample) => string | number][] = [
  ['rep', (s) => s.rep],
  ['backfill', (s) => `${s.partitions} days, ${s.scenario.concurrency} at a time`],
  ['computed', (s) => s.computed],
  ['wall s', (s) => s.run?.seconds.toFixed(1) ?? 'failed'],
  ['partitions/s', (s) => (s.run ? (s.run.computed / s.run.seconds).toFixed(2) : '')],
  ['most children at once', (s) => s.maxChildren],
  ['most activities at once', (s) => s.maxActivities],
  ['median partition ms', (s) => partitionWall(s).toFixed(0)],
  ['outside activities', (s) => `${(100 * overheadShare(s)).toFixed(0)}%`],
  ['peak RSS', (s) => (s.run ? formatBytes(s.run.maxRssBytes) : '')],
  ['worker CPU s', (s) => s.run?.cpuSeconds.toFixed(1) ?? ''],
  ['server CPU s', (s) => s.serverCpuSeconds?.toFixed(1) ?? 'n/a'],
  ['load avg (1 min)', (s) => `${s.load[0].toFixed(1)} -> ${s.load[1].toFixed(1)}`],
];

export const benchmark: Benchmark = {
  name: 'backfill-load',
  description:
    `Issue #7 "Load": \`featureBackfill\` of wet_day v1 (src/project/template/specs/weather-features.ts, 2 stations, one row each per day) over ${count(LOADED)} days ` +
    `(${LOADED.from}..${LOADED.to}), ${LOADED.concurrency} \`featurePipeline\` children at a time, on an embedded dev server; ` +
    `the worker and client in one fresh Node process with the default worker settings (${ACTIVITY_SLOTS} activity slots). ` +
    `Flights has only 174 computable days, so the weather spec. Every repetition ingests weather.csv into a fresh data directory first (not timed). ` +
    `Baseline: ${count(SERIAL)} days of 2013 one at a time in the same repetition, for the throughput scaling and the per-partition cost without contention ` +
    `(180 days one at a time would add minutes to every repetition to say the same).`,

  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = performance.now();
    return withDevServer(ctx, async (server) => {
      const loaded: Sample[] = [];
      const serial: Sample[] = [];
      for (let rep = 1; rep <= ctx.reps; rep++) {
        const env = {
          address: server.config.TEMPORAL_ADDRESS,
          dataDir: path.join(ctx.tmpDir, `data-${rep}`),
          taskQueue: `bench-backfill-load-${randomUUID().slice(0, 8)}`,
        };
        const ingested = await runFeatureTask(
          ctx,
          { kind: 'ingest', spec: SPEC, ...env, batch: `bench-${rep}`, asOf: AS_OF },
          WORKER_TIMEOUT_MS,
        );
        ctx.log(`#${rep}: ingested ${ingested.rowsAccepted} rows in ${ingested.seconds.toFixed(1)} s`);
        for (const [scenario, samples] of [
          [SERIAL, serial],
          [LOADED, loaded],
        ] as const) {
          const s = await measure(ctx, server, env, rep, scenario);
          samples.push(s);
          ctx.log(
            `#${rep}: ${s.partitions} days ${scenario.concurrency} at a time: ${s.run ? `${s.run.seconds.toFixed(1)} s, ${rate(s as Sample & { run: BackfillRunResult }).toFixed(2)} partitions/s` : `FAILED ${s.failure?.slice(0, 300)}`}, ${s.computed} computed, at most ${s.maxChildren} at once`,
          );
        }
        fs.rmSync(env.dataDir, { recursive: true, force: true });
      }
      return {
        name: 'backfill-load',
        description: benchmark.description,
        seconds: (performance.now() - started) / 1000,
        figures: figures(loaded, serial),
        details: [
          {
            title: 'All samples, in the order they ran',
            columns: SAMPLE_COLUMNS.map(([heading]) => heading),
            rows: [...loaded, ...serial]
              .sort((a, b) => a.rep - b.rep || a.scenario.concurrency - b.scenario.concurrency)
              .map((s) => SAMPLE_COLUMNS.map(([, cell]) => cell(s))),
            note: "Load average: every process on the machine, the benchmark's and others', at the start and end of the backfill.",
          },
          runMeasuresTable('A partition (featurePipeline child), median ms', [
            [`1 at a time (${count(SERIAL)} days)`, over(serial)],
            [`${LOADED.concurrency} at a time (${count(LOADED)} days)`, over(loaded)],
          ]),
        ],
        data: {
          loaded: LOADED,
          serial: SERIAL,
          activitySlots: ACTIVITY_SLOTS,
          samples: [...loaded, ...serial].map(({ timings, ...s }) => ({
            ...s,
            childWallMs: timings.map((t) => t.wallMs),
          })),
        },
      };
    });
  },
};
