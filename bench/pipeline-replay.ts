/**
 * The parent side of the benchmarks that time one pipeline run per repetition against a bare replay
 * of its own activity calls (bench/ingestion-pipeline.bench.ts, bench/monitoring.bench.ts): running a
 * pair, and the figures and tables every such benchmark reports. Both sides run in a fresh child
 * process of bench/pipeline-worker.ts. The pipeline's times are the server's (its history), the
 * replay's the replaying process's clock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import {
  activityCalls,
  coldStartFigure,
  firstTasks,
  overheadTable,
  workflowTiming,
  type FirstTasks,
  type WorkflowTiming,
} from './harness';
import { bareEnv, runChild } from './child';
import { median, mib, paired, pct, type BenchContext, type DetailTable, type Figure } from './report';
import type { PipelineRunResult, PipelineTask, ReplayResult, ReplayTask } from './pipeline-worker';

export interface PipelineSample {
  rep: number;
  run: PipelineRunResult;
  timing: WorkflowTiming;
  /** The worker process's warm-up run's first workflow task (cold), and the measured run's. */
  firstTasks: FirstTasks;
  bare: ReplayResult;
  /** The machine's 1-minute load average before the pipeline run and after the replay. */
  loadAverage: [number, number];
}

/**
 * One repetition: the pipeline run, then the bare replay of the activity calls its history scheduled,
 * on `replayDataDir`, as a run of the same workflow id with run id `bare-<rep>`.
 */
export async function measurePair(
  ctx: BenchContext,
  client: Client,
  rep: number,
  task: PipelineTask,
  replayDataDir: string,
): Promise<PipelineSample> {
  const load0 = os.loadavg()[0]!;
  const child = <R>(t: PipelineTask | ReplayTask) => runChild<R>(ctx, 'pipeline-worker.ts', t, 10 * 60_000, bareEnv());
  const run = await child<PipelineRunResult>(task);
  const events = (await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events ?? [];
  const timing = workflowTiming(events);
  const callsFile = path.join(ctx.tmpDir, `activity-calls-${rep}.json`);
  fs.writeFileSync(callsFile, JSON.stringify(activityCalls(events)));
  const bare = await child<ReplayResult>({
    kind: 'replay',
    dataDir: replayDataDir,
    address: task.address,
    callsFile,
    execution: { workflowId: run.workflowId, runId: `bare-${rep}` },
  });
  ctx.log(
    `#${rep}: pipeline ${secs(timing.wallMs)} s (activities ${secs(timing.activityMs)} s, overhead ${secs(timing.wallMs - timing.activityMs)} s, ${timing.activities.length} activities), ` +
      `bare replay ${bare.seconds.toFixed(2)} s; peak RSS ${mib(run.maxRssBytes)} / ${mib(bare.maxRssBytes)}`,
  );
  const loadAverage: [number, number] = [load0, os.loadavg()[0]!];
  return { rep, run, timing, firstTasks: await firstTasks(client, run.warmUp, events), bare, loadAverage };
}

/** The samples for latest.json, without the activities' results (the tables have compared them). */
export function sampleData(samples: PipelineSample[]) {
  return samples.map((s) => ({
    ...s,
    timing: { ...s.timing, activities: s.timing.activities.map(({ result: _result, ...a }) => a) },
    bare: { ...s.bare, steps: s.bare.steps.map(({ result: _result, ...b }) => b) },
  }));
}

const secs = (ms: number) => (ms / 1000).toFixed(2);
const perRun = (values: number[], digits = 2) => values.map((v) => v.toFixed(digits)).join(', ');
const overheadMs = (t: WorkflowTiming) => t.wallMs - t.activityMs;

/** Wall time, activity time, orchestration overhead (in all, per activity), peak RSS and CPU of the runs. */
export function pipelineFigures(label: string, samples: PipelineSample[]): Figure[] {
  const first = samples[0]!.timing;
  const activities = first.activities.length;
  /** Per-run values against the bare replays' (each pair picked as [pipeline, bare]), with the per-run ratios. */
  const vsBare = (pick: (s: PipelineSample) => [number, number]) =>
    paired(
      samples.map((s) => pick(s)[0]),
      samples.map((s) => pick(s)[1]),
    );
  const wall = vsBare((s) => [s.timing.wallMs / 1000, s.bare.seconds]);
  const activityTime = vsBare((s) => [s.timing.activityMs / 1000, s.bare.seconds]);
  const cpu = vsBare((s) => [s.run.cpuSeconds, s.bare.cpuSeconds]);
  const overheads = samples.map((s) => overheadMs(s.timing) / 1000);
  const wallOverActivities = samples.map((s) => s.timing.wallMs / s.timing.activityMs);
  const retried = samples.flatMap((s) =>
    s.timing.activities.filter((a) => a.attempt > 1).map((a) => `#${s.rep} ${a.type} attempt ${a.attempt}`),
  );
  const perActivity = (f: (t: WorkflowTiming) => number) =>
    (median(samples.map((s) => f(s.timing))) / activities).toFixed(0);
  return [
    {
      name: `${label}: wall time`,
      unit: 's',
      ...wall,
      headline: true,
      ratioNote: `median of per-run ratios, the run's wall time / the bare replay of its activity calls (the sum of the calls) right after it; per-run ratios ${perRun(wall.ratioSamples)}`,
      note:
        `server history, WorkflowExecutionStarted -> WorkflowExecutionCompleted, per run ${perRun(wall.samples)} s (bare ${perRun(wall.baselineSamples)} s, right after each); client view (start call -> result) ${perRun(samples.map((s) => s.run.clientSeconds))} s; ` +
        `worker start-up (bundling included) took ${perRun(
          samples.map((s) => s.run.workerStartSeconds),
          1,
        )} s before it, then a warm-up run (see "first workflow task in a fresh worker process"), neither counted. ` +
        `The machine's 1-minute load (every process on it) before each run and after its replay: ${samples.map((s) => s.loadAverage.map((l) => l.toFixed(1)).join(' -> ')).join(', ')}, on ${os.cpus().length} CPUs; ` +
        'where it exceeds the CPUs, both sides wait for a CPU, and a ratio within the spread of the per-run ratios says "no measurable difference" rather than a direction',
    },
    {
      name: `${label}: sum of activity run times`,
      unit: 's',
      ...activityTime,
      ratioNote:
        "median of per-run ratios, the sum of the run's activity run times (ActivityTaskStarted -> Completed, every attempt) / the bare replay's: what running a call as an activity adds to the call itself (the result's trip to the server, heartbeats, the worker's other work)",
      note: `${activities} activities per run (${first.activities.map((a) => a.type).join(', ')}); per run ${perRun(activityTime.samples)} s${retried.length ? `; retried: ${retried.join(', ')}` : '; no activity retried'}`,
    },
    {
      name: `${label}: orchestration overhead`,
      value: median(overheads),
      unit: 's',
      samples: overheads,
      headline: true,
      ratio: median(wallOverActivities),
      ratioSamples: wallOverActivities,
      ratioNote: 'wall time / sum of activity run times, median over runs',
      note:
        `wall - sum of activity run times, per run ${samples.map((s) => `${secs(s.timing.wallMs)} - ${secs(s.timing.activityMs)} = ${secs(overheadMs(s.timing))} s`).join('; ')}; ` +
        `${pct(median(overheads), wall.value)} of the wall time`,
    },
    {
      name: `${label}: orchestration overhead per activity`,
      value: (median(overheads) * 1000) / activities,
      unit: 'ms',
      samples: overheads.map((o) => (o * 1000) / activities),
      headline: true,
      note:
        `over ${activities} activities and ${first.workflowTasks} workflow tasks per run; of it, per activity, activity queue wait ${perActivity((t) => t.queueMs)} ms ` +
        `and workflow tasks ${perActivity((t) => t.workflowTaskMs)} ms (medians; see "Orchestration overhead")`,
    },
    coldStartFigure(
      samples.map((s) => s.firstTasks),
      label,
    ),
    {
      name: `${label}: peak worker RSS`,
      unit: 'bytes',
      ...vsBare((s) => [s.run.maxRssBytes, s.bare.maxRssBytes]),
      ratioNote:
        "median of per-run ratios, the pipeline process's peak RSS / the bare replay process's (whole process: Node, tsx, DuckDB, the metadata store; for the pipeline also the Temporal worker with its workflow bundle, and the client)",
      note:
        (samples.every((s) => s.run.peakReset && s.bare.peakReset)
          ? "peak over the run (kernel high-water mark reset once the worker, or the replay's dependencies, were up)"
          : 'whole-process peak (the high-water mark could not be reset)') +
        `; per run ${samples.map((s) => `${mib(s.run.maxRssBytes)} / ${mib(s.bare.maxRssBytes)}`).join(', ')}; RSS before the work: pipeline a median ${mib(median(samples.map((s) => s.run.rssBeforeBytes)))} (the idle worker), bare ${mib(median(samples.map((s) => s.bare.rssBeforeBytes)))}`,
    },
    {
      name: `${label}: CPU time`,
      unit: 's',
      ...cpu,
      ratioNote:
        'median of per-run ratios, CPU seconds of the pipeline process (worker + client) from start to result / those of the bare replay',
      note: `per run ${perRun(cpu.samples)} s; bare ${perRun(cpu.baselineSamples)} s; the dev server's own CPU is not counted`,
    },
  ];
}

/**
 * Each activity against its bare call, and where the orchestration overhead goes;
 * `activityNote` says what the benchmark knows of its own activities' bare calls.
 */
export function pipelineDetails(samples: PipelineSample[], activityNote?: string): DetailTable[] {
  return [
    activityTable(samples, activityNote),
    overheadTable(
      'run',
      samples.map((s): [string, WorkflowTiming] => [`#${s.rep}`, s.timing]),
      `, the gap between the run's start and its first workflow task). History events per run: ${samples.map((s) => s.timing.events).join(', ')}.`,
    ),
  ];
}

function activityTable(samples: PipelineSample[], extraNote = ''): DetailTable {
  // The rows pair the runs' activities and the replays' calls by position: they must be the same calls.
  const order = samples[0]!.timing.activities.map((a) => a.type);
  for (const s of samples) {
    const [ran, replayed] = [s.timing.activities, s.bare.steps].map((calls) => calls.map((c) => c.type).join(', '));
    if (ran !== order.join(', ') || replayed !== ran)
      throw new Error(
        `run #${s.rep} ran ${ran} and its replay ${replayed}, where run #${samples[0]!.rep} ran ${order.join(', ')}`,
      );
  }
  const total = median(samples.map((s) => s.timing.activityMs));
  const rows = order.map((type, i) => {
    const runs = samples.map((s) => s.timing.activities[i]!.runMs);
    const run = median(runs);
    const bareMs = median(samples.map((s) => s.bare.steps[i]!.ms));
    const same = samples.filter(
      (s) => JSON.stringify(s.timing.activities[i]!.result) === JSON.stringify(s.bare.steps[i]!.result),
    );
    return [
      i + 1,
      type,
      median(samples.map((s) => s.timing.activities[i]!.queueMs)).toFixed(0),
      run.toFixed(0),
      runs.map((r) => r.toFixed(0)).join(', '),
      pct(run, total),
      bareMs.toFixed(0),
      `${(run / bareMs).toFixed(2)}x`,
      `${same.length} of ${samples.length}`,
    ];
  });
  rows.push([
    '',
    'all activities',
    median(samples.map((s) => s.timing.queueMs)).toFixed(0),
    total.toFixed(0),
    samples.map((s) => s.timing.activityMs.toFixed(0)).join(', '),
    '100%',
    (median(samples.map((s) => s.bare.seconds)) * 1000).toFixed(0),
    '',
    '',
  ]);
  return {
    title: `Activities of a run, in order (median of ${samples.length} runs, ms)`,
    columns: [
      '#',
      'activity',
      'queue wait',
      'run',
      'run, each run',
      'share',
      'bare call',
      'run / bare',
      'same result as bare',
    ],
    rows,
    note:
      "Run = ActivityTaskStarted -> ActivityTaskCompleted and queue wait = ActivityTaskScheduled -> ActivityTaskStarted (server event times); bare call = the same call with the same arguments (the replay's own outputs for the run's) made directly by the replay process (its clock). " +
      "Same result = the activity's result in the history equals the bare call's (as JSON), in how many runs; results that name their run (the URI of what a step published, an alert's id) differ by design." +
      (extraNote ? ` ${extraNote}` : ''),
  };
}
