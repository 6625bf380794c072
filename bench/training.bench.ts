/**
 * Training benchmark: `trainingPipeline` (workflows/training.ts) on the January-February feature
 * matrix of flights-3m, against its own data and model steps called directly without Temporal.
 *
 * The parent (this module) starts a Temporal dev server on a free port with a fresh data directory;
 * every step runs in a child process of its own (bench/training-worker.ts), so its peak RSS is its own:
 * 1. ingest flights-3m and backfill the window's feature partitions (bench/flights-input.ts; not
 *    measured: it prepares the input), then keep a copy of the data directory;
 * 2. bare baseline and pipeline, alternating: bare #1, pipeline #1, bare #2, pipeline #2, ... The bare
 *    baseline is the activities from extraction to evaluation called directly, chained by the URIs they
 *    return (bench/direct-activities.ts), publishing under a run of its own. Before each pipeline run
 *    the data directory is restored from the copy, so every run trains the model's first version against
 *    the base-rate baseline, as the first did (on the same directory a second run would be compared with
 *    the first one, promoted, and stop at the quality gate). Each pipeline run's worker process runs a
 *    warm-up workflow first (not measured: see `warmUp` in bench/worker-harness.ts);
 * 3. from the server's history of each run: each activity's run time, the wall time before and after
 *    the human wait, and the orchestration overhead (wall time outside activities);
 * 4. each run's model is checked against the bare run's (same matrix hash, same weights).
 * The issue sets no aims for training: every figure is reported, only the check is judged.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { partitionRange } from '../src/features/partition-dates';
import { loadTrainingSpec } from '../src/training/training-spec';
import {
  EventType,
  WARM_UP_NOTE,
  coldStartFigure,
  eventMs,
  fetchHistories,
  firstTasks,
  overheadTable,
  taskTimings,
  underLoad,
  withDevServer,
  workflowTiming,
  type ActivityTiming,
  type FirstTasks,
  type HistoryEvent,
  type TaskTimings,
} from './harness';
import { bareEnv, runChild } from './child';
import type { Activities, ActivityResult } from './direct-activities';
import { ingestAndBackfill } from './flights-input';
import {
  median,
  mib,
  paired,
  pct,
  type BenchContext,
  type Benchmark,
  type BenchmarkResult,
  type DetailTable,
  type Figure,
} from './report';
import { BARE_STEPS, type BareResult, type BareStep, type PipelineRunResult, type WorkerTask } from './training-worker';

const SPEC = 'flights';
/** The spec's default window: the January-February matrix (the 7 days before it are the first feature window's history). */
const FROM = '2001-01-08';
const TO = '2001-02-28';
const INITIATED_BY = 'bench';
const REVIEWER = 'ben';
/** Weights of the bare run's model and the pipeline's may differ by no more than this (they should be bit-identical). */
const WEIGHT_TOLERANCE = 1e-12;
const WORKER_TIMEOUT_MS = 20 * 60_000;

/** The run's activities the bare run calls too; the others have no bare counterpart. */
const hasBare = (type: string): type is BareStep => (BARE_STEPS as readonly string[]).includes(type);

function runWorker<R>(ctx: BenchContext, task: WorkerTask): Promise<R> {
  return runChild<R>(ctx, 'training-worker.ts', task, WORKER_TIMEOUT_MS, bareEnv());
}

// ---------------------------------------------------------------------------------------------
// The run's history: activity run times, wall time either side of the human wait.

/**
 * Splits the run's history at the human wait. The wait starts when the workflow task that started the
 * approval deadline's timer (the run's only timer) completed, and ends at the first event after it
 * (the workflow task that carries the reviewer's decision).
 */
function runTiming(events: HistoryEvent[]) {
  const timer = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED);
  if (timer < 0) throw new Error('the history has no approval timer: did the run await approval?');
  const waitStart = events
    .slice(0, timer)
    .reverse()
    .find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  if (!waitStart) throw new Error('no workflow task completed before the approval timer: did the run await approval?');
  const phase = (part: HistoryEvent[], from: number, to: number) => ({
    from,
    to,
    wallMs: to - from,
    ...taskTimings(part),
  });
  /** WorkflowExecutionStarted -> the workflow task that started the approval timer completed. */
  const beforeApproval = phase(events.slice(0, timer + 1), eventMs(events[0]!), eventMs(waitStart));
  /** The approval's arrival (first event after the timer started) -> WorkflowExecutionCompleted. */
  const afterApproval = phase(events.slice(timer + 1), eventMs(events[timer + 1]!), eventMs(events.at(-1)!));
  return {
    beforeApproval,
    afterApproval,
    /** The two phases together: the run with the human wait left out. */
    both: { ...workflowTiming(events), wallMs: beforeApproval.wallMs + afterApproval.wallMs },
    /** The human wait: between the two phases. */
    waitMs: afterApproval.from - beforeApproval.to,
  };
}
type RunTiming = ReturnType<typeof runTiming>;

// ---------------------------------------------------------------------------------------------
// One pipeline run, and its model against the bare run's.

interface PipelineSample {
  rep: number;
  run: PipelineRunResult;
  timing: RunTiming;
  /** The worker process's warm-up run's first workflow task (cold), and the measured run's. */
  firstTasks: FirstTasks;
  /** The trainModel activity. */
  training: ActivityTiming;
  /** Differences from the model of the bare run just before it; empty when they agree. */
  mismatches: string[];
  maxWeightDiff: number;
  serverCpuSeconds?: number;
  load: [number, number];
}

const resultOf = <K extends keyof Activities>(timing: RunTiming, type: K) =>
  activityOf(timing, type).result as ActivityResult<K>;

function activityOf(timing: RunTiming, type: string): ActivityTiming {
  const a = timing.both.activities.find((x) => x.type === type);
  if (!a) throw new Error(`the run has no ${type} activity`);
  return a;
}

/** The run's registered model (read before the data directory is restored for the next run) against a bare run's. */
function compareWithBare(run: PipelineRunResult, bare: BareResult): { mismatches: string[]; maxWeightDiff: number } {
  const model = JSON.parse(fs.readFileSync(run.modelFile, 'utf8')) as {
    weights: number[];
    intercept: number;
    metrics?: { auc: number };
    trainingDataHash: string;
  };
  const hash = model.trainingDataHash;
  const mismatches: string[] = [];
  if (hash !== bare.matrixSha256)
    mismatches.push(`matrix sha256 ${hash.slice(0, 12)} (pipeline) vs ${bare.matrixSha256.slice(0, 12)} (bare)`);
  if (model.weights.length !== bare.weights.length)
    mismatches.push(`${model.weights.length} weights (pipeline) vs ${bare.weights.length} (bare)`);
  const maxWeightDiff = Math.max(
    ...model.weights.map((w, j) => Math.abs(w - (bare.weights[j] ?? NaN))),
    Math.abs(model.intercept - bare.intercept),
  );
  if (!(maxWeightDiff <= WEIGHT_TOLERANCE))
    mismatches.push(`weights differ by up to ${maxWeightDiff.toExponential(2)}`);
  if (model.metrics?.auc !== bare.testAuc)
    mismatches.push(`test AUC ${model.metrics?.auc} (pipeline) vs ${bare.testAuc} (bare)`);
  return { mismatches, maxWeightDiff };
}

// ---------------------------------------------------------------------------------------------

const secs = (ms: number) => (ms / 1000).toFixed(2);
const bareTraining = (b: BareResult) => b.stepSeconds.trainModel;
const perRun = (values: number[], digits = 2) => values.map((v) => v.toFixed(digits)).join(', ');
const overheadMs = (t: RunTiming) => t.both.wallMs - t.both.activityMs;

function activityTable(samples: PipelineSample[], bare: BareResult[]): DetailTable {
  const order = samples[0]!.timing.both.activities.map((a) => a.type);
  for (const s of samples) {
    const types = s.timing.both.activities.map((a) => a.type);
    if (types.join() !== order.join())
      throw new Error(
        `run #${s.rep} ran other activities (${types.join(', ')}) than run #${samples[0]!.rep} (${order.join(', ')})`,
      );
  }
  const at = (i: number) => samples.map((s) => s.timing.both.activities[i]!);
  const total = median(samples.map((s) => s.timing.both.activityMs));
  const rows = order.map((type, i) => {
    const runs = at(i).map((a) => a.runMs);
    const run = median(runs);
    const bareMs = hasBare(type) ? bare.map((b) => b.stepSeconds[type] * 1000) : [];
    const retried = at(i).filter((a) => a.attempt > 1).length;
    return [
      i + 1,
      type + (retried ? ` (retried in ${retried} runs)` : ''),
      median(at(i).map((a) => a.queueMs)).toFixed(0),
      run.toFixed(0),
      perRun(runs, 0),
      pct(run, total),
      ...(bareMs.length
        ? [median(bareMs).toFixed(0), perRun(bareMs, 0), `${(run / median(bareMs)).toFixed(2)}x`]
        : ['', '', '']),
    ];
  });
  rows.splice(samples[0]!.timing.beforeApproval.activities.length, 0, [
    '',
    '(human wait: excluded)',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
  ]);
  const bareTotals = bare.map((b) => b.seconds * 1000);
  rows.push([
    '',
    'all activities',
    median(samples.map((s) => s.timing.both.queueMs)).toFixed(0),
    total.toFixed(0),
    perRun(
      samples.map((s) => s.timing.both.activityMs),
      0,
    ),
    '100%',
    median(bareTotals).toFixed(0),
    perRun(bareTotals, 0),
    '',
  ]);
  return {
    title: `Activities of a run, in order (median of ${samples.length} runs, server event times, ms)`,
    columns: [
      '#',
      'activity',
      'queue wait',
      'run',
      'run, each run',
      'share',
      'bare ms (median)',
      'bare, each run',
      'run / bare',
    ],
    rows,
    note:
      'Run = ActivityTaskStarted -> ActivityTaskCompleted; queue wait = ActivityTaskScheduled -> ActivityTaskStarted. ' +
      "Bare = the same activity called directly in the bare run (its clock), handed the URIs the bare steps before it returned; its 'all activities' are the bare run end to end. " +
      'Planning, comparison, registry, bias gate, staging, the skew check (a prediction server on a loopback port), the decision record and promotion have no bare counterpart.',
  };
}

/**
 * Inside the training step, from the worker's checkpoint log lines (one after each accepted Newton
 * iteration, after its checkpoint file write and heartbeat), in the pipeline and in the bare run.
 */
function trainingTable(samples: PipelineSample[], bare: BareResult[]): DetailTable {
  const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);
  const parts = (what: string, checkpoints: number[], started: number, closed: number) => {
    if (checkpoints.length === 0) throw new Error(`${what}: no trainModel checkpoint log line was captured`);
    return [
      checkpoints[0]! - started,
      checkpoints.at(-1)! - checkpoints[0]!,
      median(gaps(checkpoints)),
      closed - checkpoints.at(-1)!,
      closed - started,
    ];
  };
  const pipeline = samples.map((s) =>
    parts(`run #${s.rep}`, s.run.checkpointTimes, s.training.started, s.training.closed),
  );
  const bareRuns = bare.map((b, i) =>
    parts(`bare #${i + 1}`, b.checkpointTimes, b.training.started, b.training.closed),
  );
  const iterations = samples[0]!.run.checkpointTimes.length;
  const labels = [
    'started -> first checkpoint: read the matrix, standardize, iteration 1',
    `iterations 2..${iterations}, each with a checkpoint file write and a heartbeat`,
    '  per iteration (median)',
    "last checkpoint -> completed: the convergence test (one more Newton step, tried and discarded), the model artifact; in the pipeline also the completion's trip to the server",
    'total',
  ];
  return {
    title: 'Inside the training step (ms)',
    columns: ['part', ...samples.map((s) => `pipeline #${s.rep}`), 'pipeline median', 'bare median', 'ratio'],
    rows: labels.map((label, k) => {
      const p = median(pipeline.map((x) => x[k]!));
      const b = median(bareRuns.map((x) => x[k]!));
      return [label, ...pipeline.map((x) => x[k]!.toFixed(0)), p.toFixed(0), b.toFixed(0), `${(p / b).toFixed(2)}x`];
    }),
    note:
      "Pipeline: the worker's clock at its checkpoint log lines against the server's ActivityTaskStarted/Completed times (one machine, one clock, ms resolution). " +
      "Bare: the same log lines of the trainModel activity called directly, against that process's clock around the call.",
  };
}

function rssTable(samples: PipelineSample[], bare: BareResult[]): DetailTable {
  // Every stage any run was seen in, in run order: a stage one run skipped between two polls goes
  // right after the stage that preceded it in the run that saw it.
  const stages: string[] = [];
  for (const s of samples) {
    s.run.rssByStage.forEach(({ stage }, i) => {
      if (!stages.includes(stage))
        stages.splice(i === 0 ? 0 : stages.indexOf(s.run.rssByStage[i - 1]!.stage) + 1, 0, stage);
    });
  }
  return {
    title: 'Worker RSS by stage (sampled every 100 ms)',
    columns: ['run', 'before the run', ...stages, 'peak (kernel)'],
    rows: [
      ...samples.map((s) => [
        `#${s.rep}`,
        mib(s.run.rssBeforeBytes),
        ...stages.map((stage) => {
          const seen = s.run.rssByStage.find((x) => x.stage === stage);
          return seen ? mib(seen.maxRssBytes) : '';
        }),
        mib(s.run.maxRssBytes),
      ]),
      ...bare.map((b, i) => [`bare #${i + 1}`, mib(b.rssBeforeBytes), ...stages.map(() => ''), mib(b.maxRssBytes)]),
    ],
    note:
      'The largest RSS sampled while the run was last seen (by polling its search attributes) in each stage; a stage shorter than a poll may be missed. ' +
      "Bare rows: the bare run's process, before its calls (its dependencies open) and its peak over them.",
  };
}

/** What the figures say, as sentences computed from the runs. */
function whereTimeGoes(samples: PipelineSample[], bare: BareResult[]): string[][] {
  const med = (f: (s: PipelineSample) => number) => median(samples.map(f));
  const wallMs = med((s) => s.timing.both.wallMs);
  const activityMs = med((s) => s.timing.both.activityMs);
  const overhead = med((s) => overheadMs(s.timing));
  const activities = samples[0]!.timing.both.activities.length;
  const workflowTasks = samples[0]!.timing.both.workflowTasks;
  const runMs = (type: string) => med((s) => activityOf(s.timing, type).runMs);
  const types = samples[0]!.timing.both.activities.map((a) => a.type);
  const medianStepMs = median(types.map(runMs));
  const shortSteps = types.filter((type) => runMs(type) < overhead / activities);
  const preTypes = samples[0]!.timing.beforeApproval.activities.map((a) => a.type);
  const withBare = preTypes.filter(hasBare);
  const withoutBare = preTypes.filter((type) => !hasBare(type));
  const bareTotals = bare.map((b) => b.seconds);
  const preRatio = median(samples.map((s, i) => s.timing.beforeApproval.wallMs / 1000 / bare[i]!.seconds));
  const peak = [...samples].sort((a, b) => a.run.maxRssBytes - b.run.maxRssBytes)[Math.floor(samples.length / 2)]!.run;
  const peakStage = [...peak.rssByStage].sort((a, b) => b.maxRssBytes - a.maxRssBytes)[0];
  const growth = peak.maxRssBytes - peak.rssBeforeBytes;
  const bareGrowth = median(bare.map((b) => b.maxRssBytes - b.rssBeforeBytes));
  const loads = samples.flatMap((s) => s.load);
  const matrix = resultOf(samples[0]!.timing, 'assembleFeatureMatrix');
  return [
    [
      `Activities take ${pct(activityMs, wallMs)} of a run's wall time (human wait excluded; medians of ${samples.length} runs). The other ${secs(overhead)} s, ${(overhead / activities).toFixed(0)} ms per activity, ` +
        `is mostly workflow tasks (${workflowTasks} per run, ${(med((s) => s.timing.both.workflowTaskMs) / workflowTasks).toFixed(0)} ms each from scheduled to completed: the server hands the worker an activity's completion, the workflow code runs to its next step, the server persists the commands) ` +
        `and activity dispatch (${(med((s) => s.timing.both.queueMs) / activities).toFixed(0)} ms per activity from scheduled to started). ` +
        `The median step runs ${medianStepMs.toFixed(0)} ms; ${shortSteps.length ? `${shortSteps.length} of the ${activities} steps (${shortSteps.join(', ')}) run shorter than their share of the overhead` : 'every step runs longer than its share of the overhead'}.`,
    ],
    [
      `To AwaitingApproval a run takes ${preRatio.toFixed(2)}x the bare end-to-end run. The steps with a bare counterpart (${withBare.join(', ')}) ran ${secs(withBare.reduce((s, type) => s + runMs(type), 0))} s as activities against ${median(bare.map((b) => withBare.reduce((sum, step) => sum + b.stepSeconds[step], 0))).toFixed(2)} s called directly (medians); ` +
        `the steps without one ${secs(withoutBare.reduce((s, type) => s + runMs(type), 0))} s, mostly compareWithProduction (${runMs('compareWithProduction').toFixed(0)} ms: the matrix read again, the test split scored by the candidate and by the baseline) ` +
        `and checkServingSkew (${runMs('checkServingSkew').toFixed(0)} ms: a prediction server started on a loopback port, a sample replayed through it); and orchestration ${secs(med((s) => s.timing.beforeApproval.wallMs - s.timing.beforeApproval.activityMs))} s. ` +
        `splitByTime, trainModel, evaluateModel and compareWithProduction each read the ${mib(matrix.bytes)} matrix file again, in the bare run too (it makes the same calls).`,
    ],
    [
      `The worker's peak RSS (median run: ${mib(peak.maxRssBytes)}) is the idle worker's ${mib(peak.rssBeforeBytes)} (Node, tsx, the Temporal worker with its workflow bundle, DuckDB, the metadata store) plus ${mib(growth)} at its busiest` +
        (peakStage ? ` (its highest sample was taken while the run was in ${peakStage.stage})` : '') +
        `; a bare run grows by a median ${mib(bareGrowth)} over its ${mib(median(bare.map((b) => b.rssBeforeBytes)))} at start (Node, tsx, the activities' dependencies open: DuckDB, the metadata store). ` +
        (Math.abs(growth - bareGrowth) <= 0.15 * bareGrowth
          ? 'So the peak ratio is the idle worker: the work itself costs about the same memory on both sides.'
          : `So the work itself costs ${mib(Math.abs(growth - bareGrowth))} ${growth > bareGrowth ? 'more' : 'less'} in the worker than bare, on top of the idle worker.`),
    ],
    [
      `The machine was shared: the 1-minute load average was ${Math.min(...loads).toFixed(1)}..${Math.max(...loads).toFixed(1)} on ${os.cpus().length} CPUs during the runs, and the bare runs took ${Math.min(...bareTotals).toFixed(2)}..${Math.max(...bareTotals).toFixed(2)} s end to end. ` +
        'A ratio within that spread of 1 says "no measurable difference" rather than a direction.',
    ],
  ];
}

export const benchmark: Benchmark = {
  name: 'training',
  description:
    `Training pipeline of flight-delay (src/specs/flights-model.ts) on the January-February feature matrix: \`trainingPipeline\` on spec ${SPEC}, window ${FROM}..${TO} ` +
    `(${partitionRange(FROM, TO).length} daily feature partitions), started by \`${INITIATED_BY}\`, approved through the \`decide\` Update by \`${REVIEWER}\` as soon as it awaits approval, ` +
    `on an embedded dev server, worker and client in one fresh Node process per run, each run on a copy of the same data directory (so each trains the first version); ` +
    `against a bare run in a fresh process calling the pipeline's own data and model steps directly, without Temporal: the activities ${BARE_STEPS.join(', ')}, ` +
    "built from the worker's dependencies (DuckDB with `openDuckDb()` settings, the SQLite metadata store) and called one after the other in a `MockActivityEnvironment`, each handed the URIs the steps before it returned, as the workflow chains them. " +
    'So the ratios say what running the steps as a Temporal workflow adds to the steps themselves (they measured the steps over bare DuckDB and `train()` before the steps handed each other URIs). ' +
    `Bare and pipeline runs alternate. ` +
    `Input: flights-3m ingested and its feature partitions backfilled first (not timed); both sides read the published partitions. ` +
    WARM_UP_NOTE,

  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = performance.now();
    const t = loadTrainingSpec(SPEC);
    return withDevServer(ctx, async (server) => {
      const client = await server.client();
      const dataDir = path.join(ctx.tmpDir, 'data');
      const prepared = path.join(ctx.tmpDir, 'data-prepared');
      const env = {
        address: server.config.TEMPORAL_ADDRESS,
        dataDir,
        taskQueue: `bench-training-${randomUUID().slice(0, 8)}`,
      };
      const window = { spec: SPEC, from: FROM, to: TO };

      const setup = await ingestAndBackfill(ctx, env, window);
      fs.cpSync(dataDir, prepared, { recursive: true });

      const bare: BareResult[] = [];
      const samples: PipelineSample[] = [];
      for (let rep = 1; rep <= ctx.reps; rep++) {
        const b = await runWorker<BareResult>(ctx, { kind: 'bare', ...env, ...window, runId: `bare-${rep}` });
        bare.push(b);
        ctx.log(
          `bare     #${rep}: ${b.seconds.toFixed(2)} s (training ${bareTraining(b).toFixed(2)} s, ${b.iterations} iterations), peak RSS ${mib(b.maxRssBytes)}`,
        );

        fs.rmSync(dataDir, { recursive: true, force: true });
        fs.cpSync(prepared, dataDir, { recursive: true });
        const { result: run, ...usage } = await underLoad(server, () =>
          runWorker<PipelineRunResult>(ctx, {
            kind: 'pipeline',
            ...env,
            ...window,
            runId: `bench-${rep}`,
            initiatedBy: INITIATED_BY,
            reviewer: REVIEWER,
          }),
        );
        const [events] = await fetchHistories(client, [run]);
        const timing = runTiming(events!);
        const training = activityOf(timing, 'trainModel');
        samples.push({
          rep,
          run,
          timing,
          firstTasks: await firstTasks(client, run.warmUp, events!),
          training,
          ...compareWithBare(run, b),
          ...usage,
        });
        ctx.log(
          `pipeline #${rep}: ${secs(timing.beforeApproval.wallMs)} s to AwaitingApproval, ${secs(timing.afterApproval.wallMs)} s after the approval; ` +
            `training ${secs(training.runMs)} s; overhead ${secs(overheadMs(timing))} s; peak RSS ${mib(run.maxRssBytes)}`,
        );
      }

      const first = samples[0]!.timing;
      const trained = resultOf(first, 'trainModel');
      const matrix = resultOf(first, 'assembleFeatureMatrix');
      const split = resultOf(first, 'splitByTime');
      const iterations = samples.map((s) => resultOf(s.timing, 'trainModel').iterations);
      /** Per-run values against the bare run just before each (picked as [pipeline, bare]), with the per-run ratios. */
      const pairs = (pick: (s: PipelineSample, b: BareResult) => [number, number]) => {
        const picked = samples.map((s, i) => pick(s, bare[i]!));
        return paired(
          picked.map(([p]) => p),
          picked.map(([, b]) => b),
        );
      };
      const trainTime = pairs((s, b) => [s.training.runMs / 1000, bareTraining(b)]);
      const work = split.train.rows * trained.iterations;
      const throughput = pairs((s, b) => [work / (s.training.runMs / 1000), work / bareTraining(b)]);
      const preWall = pairs((s, b) => [s.timing.beforeApproval.wallMs / 1000, b.seconds]);
      const postWall = samples.map((s) => s.timing.afterApproval.wallMs / 1000);
      const activitySeconds = samples.map((s) => s.timing.both.activityMs / 1000);
      const overheads = samples.map((s) => overheadMs(s.timing) / 1000);
      const rss = pairs((s, b) => [s.run.maxRssBytes, b.maxRssBytes]);
      const cpu = pairs((s, b) => [s.run.pipelineCpuSeconds, b.cpuSeconds]);
      const mismatches = samples.flatMap((s) => s.mismatches.map((m) => `run #${s.rep}: ${m}`));
      const activities = first.both.activities.length;
      const serverCpu = samples.map((s) => s.serverCpuSeconds).filter((c): c is number => c !== undefined);
      const retried = samples.flatMap((s) =>
        s.timing.both.activities.filter((a) => a.attempt > 1).map((a) => `#${s.rep} ${a.type} attempt ${a.attempt}`),
      );

      const figures: Figure[] = [
        {
          name: 'feature matrix',
          value: matrix.rows,
          unit: 'rows',
          note:
            `${matrix.rows} labelled rows x ${matrix.features.length} features (${matrix.features.join(', ')}), ${mib(matrix.bytes)} matrix file, ${partitionRange(FROM, TO).length} days; ` +
            `split by day: train ${split.train.from}..${split.train.to} ${split.train.rows} rows, validation ${split.validation.from}..${split.validation.to} ${split.validation.rows}, test ${split.test.from}..${split.test.to} ${split.test.rows} ` +
            `(the approval view's evaluation: ${samples[0]!.run.approval.testRows} test rows, AUC ${samples[0]!.run.approval.testAuc.toFixed(4)}); the same in every run and bare run (see the last figure)`,
        },
        {
          name: 'training step: trainModel run time',
          headline: true,
          unit: 's',
          ...trainTime,
          ratioNote: `median of per-run ratios, each run's trainModel run time (ActivityTaskStarted -> Completed) / the same activity called directly in the bare run just before it (read the matrix file, fit and apply the standardizer, \`train()\` with a checkpoint file and a heartbeat per iteration, the model artifact): what Temporal adds to the step; per-run ratios ${perRun(trainTime.ratioSamples)}`,
          note: `${trained.iterations} Newton iterations on ${split.train.rows} train rows (${trained.converged ? 'converged' : 'did not converge'}, loss ${trained.loss.toFixed(6)}); see "Inside the training step"`,
        },
        {
          name: 'training iterations',
          value: median(iterations),
          unit: '',
          baseline: median(bare.map((b) => b.iterations)),
          note: `every run: ${iterations.join(', ')}; bare: ${bare.map((b) => b.iterations).join(', ')}; hyper-parameters ${JSON.stringify(t.model.hyperParameters)}`,
        },
        {
          name: 'training throughput',
          unit: 'rows/s',
          ...throughput,
          ratio: trainTime.ratio,
          ratioSamples: trainTime.ratioSamples,
          ratioNote: 'the training time ratio (same rows and iterations on both sides)',
          note: `train rows x iterations / training seconds: ${split.train.rows} x ${trained.iterations} = ${(work / 1e6).toFixed(2)}M row-iterations`,
        },
        {
          name: 'pipeline wall: start -> AwaitingApproval',
          headline: true,
          unit: 's',
          ...preWall,
          ratioNote: `median of per-run ratios to the bare run just before it, end to end (its ${BARE_STEPS.length} activity calls); the pipeline does more: planning, the comparison, registry, bias gate, staging and the skew check; per-run ratios ${perRun(preWall.ratioSamples)}`,
          note:
            `server history, WorkflowExecutionStarted -> completion of the workflow task that entered AwaitingApproval; ${first.beforeApproval.activities.length} activities; per run ${perRun(preWall.samples)} s; ` +
            `client view ${perRun(samples.map((s) => (s.run.client.awaitingSeenAt - s.run.client.startedAt) / 1000))} s (startTraining() to the stage seen by polling every 100 ms); ` +
            `worker start-up (bundling included) took ${perRun(
              samples.map((s) => s.run.workerStartSeconds),
              1,
            )} s before it, then a warm-up run (see "first workflow task in a fresh worker process"), neither counted`,
        },
        {
          name: 'pipeline wall: approval -> completed',
          value: median(postWall),
          unit: 's',
          samples: postWall,
          note:
            `server history, the workflow task carrying the decision -> WorkflowExecutionCompleted; ${first.afterApproval.activities.length} activities (${first.afterApproval.activities.map((a) => a.type).join(', ')}); per run ${perRun(postWall)} s; ` +
            `client view: decide() answered in ${samples.map((s) => s.run.client.decidedAt - s.run.client.decideAt).join(', ')} ms, result() ${perRun(samples.map((s) => (s.run.client.resultAt - s.run.client.decideAt) / 1000))} s after decide() was called`,
        },
        {
          name: 'sum of activity run times',
          value: median(activitySeconds),
          unit: 's',
          samples: activitySeconds,
          note: `${activities} activities per run; per run ${perRun(activitySeconds)} s, of which after the approval ${perRun(samples.map((s) => s.timing.afterApproval.activityMs / 1000))} s; training is ${pct(median(samples.map((s) => s.training.runMs)), median(activitySeconds) * 1000)} of it${retried.length ? `; retried: ${retried.join(', ')}` : '; no activity retried'}`,
        },
        {
          name: 'orchestration overhead',
          value: median(overheads),
          unit: 's',
          samples: overheads,
          ratio: median(samples.map((s) => s.timing.both.wallMs / s.timing.both.activityMs)),
          ratioSamples: samples.map((s) => s.timing.both.wallMs / s.timing.both.activityMs),
          ratioNote: 'wall time (human wait excluded) / sum of activity run times, median over runs',
          note:
            `wall (human wait excluded) - sum of activity run times, per run ${samples.map((s) => `${secs(s.timing.both.wallMs)} - ${secs(s.timing.both.activityMs)} = ${secs(overheadMs(s.timing))} s`).join('; ')}; ` +
            `${pct(median(overheads), median(samples.map((s) => s.timing.both.wallMs / 1000)))} of the wall time; before the approval ${perRun(samples.map((s) => (s.timing.beforeApproval.wallMs - s.timing.beforeApproval.activityMs) / 1000))} s`,
        },
        {
          name: 'orchestration overhead per activity',
          headline: true,
          value: (median(overheads) * 1000) / activities,
          unit: 'ms',
          samples: overheads.map((o) => (o * 1000) / activities),
          note: `over ${activities} activities and ${first.both.workflowTasks} workflow tasks per run; of it, per activity, activity queue wait ${(median(samples.map((s) => s.timing.both.queueMs)) / activities).toFixed(0)} ms and workflow tasks ${(median(samples.map((s) => s.timing.both.workflowTaskMs)) / activities).toFixed(0)} ms (medians)`,
        },
        coldStartFigure(samples.map((s) => s.firstTasks)),
        {
          name: 'peak worker RSS',
          unit: 'bytes',
          ...rss,
          ratioNote:
            "median of per-run ratios, pipeline peak RSS / peak RSS of the bare run just before it, each over its work (the mark reset once the worker, or the bare run's dependencies, were up; whole process: Node, tsx, DuckDB, and for the pipeline the Temporal worker and client)",
          note:
            (samples.every((s) => s.run.peakReset)
              ? `peak from the start of the run to its end (kernel high-water mark reset once the worker was up), per run ${samples.map((s) => mib(s.run.maxRssBytes)).join(', ')}; with worker start-up and workflow bundling ${samples.map((s) => mib(s.run.processMaxRssBytes)).join(', ')}`
              : 'whole-process peak (the high-water mark could not be reset), worker start-up and workflow bundling included') +
            `; RSS before the work: pipeline a median ${mib(median(samples.map((s) => s.run.rssBeforeBytes)))} (the idle worker), bare ${mib(median(bare.map((b) => b.rssBeforeBytes)))} (its dependencies open)`,
        },
        {
          name: 'CPU time',
          unit: 's',
          ...cpu,
          ratioNote:
            'median of per-run ratios, CPU seconds of the worker + client process from start to result (human wait included, the process idles in it) / CPU seconds of the bare run just before it',
          note:
            `worker + client process per run ${perRun(cpu.samples, 1)} s, of which after the approval ${perRun(
              samples.map((s) => s.run.cpuAfterApprovalSeconds),
              1,
            )} s` +
            (serverCpu.length
              ? `; the Temporal dev server used ${perRun(serverCpu, 1)} s over each pipeline child's whole life (worker start-up and the human wait included)`
              : ''),
        },
        {
          name: 'bare model = pipeline model',
          value: mismatches.length,
          unit: 'mismatches',
          aim: { on: 'value', op: '<=', limit: 0, text: 'verified (0 mismatches)' },
          note:
            (mismatches.length === 0 ? 'verified: ' : `NOT verified (${mismatches.join('; ')}): `) +
            `each run against the bare run just before it: matrix sha256, ${t.features.length} weights and the intercept within ${WEIGHT_TOLERANCE} (max difference ${Math.max(...samples.map((s) => s.maxWeightDiff)).toExponential(1)}), test AUC equal`,
        },
      ];

      const details: DetailTable[] = [
        activityTable(samples, bare),
        overheadTable(
          'run, phase',
          samples.flatMap((s): [string, TaskTimings & { wallMs: number }][] => [
            [`#${s.rep} start -> AwaitingApproval`, s.timing.beforeApproval],
            [`#${s.rep} approval -> completed`, s.timing.afterApproval],
            [`#${s.rep} both (human wait excluded)`, s.timing.both],
          ]),
          `). ${samples[0]!.timing.both.events} history events in a run. ` +
            `The human wait (${samples.map((s) => secs(s.timing.waitMs)).join(', ')} s: the benchmark approves as soon as it sees the stage) is left out of every figure.`,
        ),
        trainingTable(samples, bare),
        rssTable(samples, bare),
        { title: 'Where the time goes', columns: ['observation'], rows: whereTimeGoes(samples, bare) },
      ];
      return {
        name: 'training',
        description: this.description,
        seconds: (performance.now() - started) / 1000,
        figures,
        details,
        data: {
          window: { spec: SPEC, from: FROM, to: TO, days: partitionRange(FROM, TO).length },
          setup,
          pipeline: samples.map(({ timing, training: _training, ...s }) => ({
            ...s,
            waitMs: timing.waitMs,
            events: timing.both.events,
            phases: [timing.beforeApproval, timing.afterApproval].map(({ activities: acts, ...p }) => ({
              ...p,
              activities: acts.map(({ result: _result, ...a }) => a),
            })),
          })),
          bare: bare.map(({ weights: _weights, ...b }) => b),
        },
      };
    });
  },
};
