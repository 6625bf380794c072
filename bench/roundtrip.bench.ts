/**
 * Orchestration overhead per activity: what one activity call costs in Temporal when the activity does
 * nothing. On a dev server of its own (bench/harness.ts withDevServer), a worker process
 * (bench/roundtrip-worker.ts) runs a bench-only workflow (bench/roundtrip-workflows.ts `noopChain`,
 * bundled on its own; workflows/ is untouched) that calls a no-op activity N times one after the other,
 * on a task queue of its own. Regular-activity runs alternate with local-activity runs of the same
 * no-op (the baseline: no activity task through the server per call, only the workflow task that
 * records the markers). From each history: every activity's scheduled -> completed, its queue wait
 * (scheduled -> started), the cycle between two consecutive completions (what each call adds to the
 * workflow's wall time), and every workflow task's scheduled -> completed; from the client, the
 * workflow's start -> result wall time over N. A third kind of run makes each call after a pipeline
 * stage's bookkeeping (a search-attribute upsert and the UI's current details), to measure what that
 * adds to a workflow task.
 */
import { randomUUID } from 'node:crypto';
import { EventType, withDevServer, workflowTaskTimes, workflowTiming, type HistoryEvent } from './harness';
import { bareEnv, runChild } from './child';
import {
  median,
  type BenchContext,
  type Benchmark,
  type BenchmarkResult,
  type DetailTable,
  type Figure,
} from './report';
import type { RoundtripResult, RoundtripTask } from './roundtrip-worker';
import type { CallKind } from './roundtrip-workflows';
import { serverPathMs, type ServerOperation } from './server-metrics';

const CALLS = 100;
/** Per repetition, in this order (see CallKind). */
const KINDS: CallKind[] = ['local', 'activity', 'staged'];
const WARMUP_CALLS = 20;
const WORKER_TIMEOUT_MS = 10 * 60_000;

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface HistoryTiming {
  /** Per activity, scheduled -> completed, ms. */
  roundTripMs: number[];
  /** Per activity, scheduled -> started, ms. */
  queueMs: number[];
  /** Per activity, started -> completed, ms. */
  runMs: number[];
  /** Completed(i-1) -> completed(i), ms (from the second activity on). */
  cycleMs: number[];
  /** Per workflow task, scheduled -> completed, ms. */
  workflowTaskMs: number[];
  /** Per workflow task, scheduled -> started, ms. */
  workflowTaskQueueMs: number[];
  /** WorkflowExecutionStarted -> WorkflowExecutionCompleted, ms. */
  executionMs: number;
  events: number;
  activities: number;
  markers: number;
}

function historyTiming(events: HistoryEvent[]): HistoryTiming {
  const { wallMs, activities } = workflowTiming(events);
  const tasks = workflowTaskTimes(events);
  return {
    roundTripMs: activities.map((a) => a.closed - a.scheduled),
    queueMs: activities.map((a) => a.queueMs),
    runMs: activities.map((a) => a.runMs),
    cycleMs: activities.slice(1).map((a, i) => a.closed - activities[i]!.closed),
    workflowTaskMs: tasks.map((t) => t.ms),
    workflowTaskQueueMs: tasks.map((t) => t.queueMs),
    executionMs: wallMs,
    events: events.length,
    activities: activities.length,
    markers: events.filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED).length,
  };
}

interface RunSample {
  rep: number;
  activityKind: CallKind;
  workflowId: string;
  calls: number;
  wallMs: number;
  workerCpuMs: number;
  threadCpuMs: Record<string, number>;
  serverCpuMs?: number;
  /** What the server counted during the run. */
  server: ServerOperation[];
  timing: HistoryTiming;
}

/** What each kind of thread is, for the table below. */
const THREAD_ROLES: Record<string, string> = {
  MainThread: 'Node main thread: the activities, the worker loop (polls, completions), the client',
  WorkerThread: 'the workflow sandbox: activations (decode, workflow code, commands)',
  'tokio-runtime-w': 'the SDK core (Rust): gRPC to the server, protobuf, workflow state machines',
  V8Worker: 'V8 platform workers: garbage collection, compilation',
};

/**
 * Per call, the worker process's CPU by thread (Linux /proc/self/task), the regular runs against the
 * local ones: which part of the worker spends what a regular call costs beyond a local one.
 */
function workerThreadsTable(regular: RunSample[], local: RunSample[]): DetailTable {
  const perCall = (runs: RunSample[], name: string) => median(runs.map((s) => (s.threadCpuMs[name] ?? 0) / s.calls));
  const names = [...new Set([...regular, ...local].flatMap((s) => Object.keys(s.threadCpuMs)))]
    .filter(
      (name) =>
        median(regular.map((s) => s.threadCpuMs[name] ?? 0)) > 0 ||
        median(local.map((s) => s.threadCpuMs[name] ?? 0)) > 0,
    )
    .sort((a, b) => perCall(regular, b) - perCall(regular, a));
  return {
    title: 'Worker process CPU per call, by thread',
    columns: ['thread', 'what it runs', 'regular ms per call', 'local ms per call', 'difference ms'],
    rows: names.map((name) => [
      name,
      THREAD_ROLES[name] ?? '',
      fmt(perCall(regular, name)),
      fmt(perCall(local, name)),
      fmt(perCall(regular, name) - perCall(local, name)),
    ]),
    note: 'utime + stime of each thread from /proc/self/task (10 ms ticks) over the run, by thread name, medians over repetitions; the client runs in the same process (one start and one result per run).',
  };
}

/**
 * Per call, what the server handled for the regular runs against the local ones, by operation (its
 * own metrics): where the server's share of a call goes.
 */
function serverOperationsTable(regular: RunSample[], local: RunSample[]): DetailTable {
  const key = (op: ServerOperation) => `${op.kind}|${op.service}|${op.operation}`;
  const perCall = (runs: RunSample[], k: string) =>
    median(runs.map((s) => (s.server.find((op) => key(op) === k)?.requests ?? 0) / s.calls));
  const msEach = (runs: RunSample[], k: string) => {
    const ops = runs.flatMap((s) => s.server.filter((op) => key(op) === k));
    return ops.reduce((ms, op) => ms + op.totalMs, 0) / ops.reduce((n, op) => n + op.requests, 0);
  };
  const keys = [...new Set([...regular, ...local].flatMap((s) => s.server.map(key)))]
    .filter((k) => perCall(regular, k) >= 0.05 || perCall(local, k) >= 0.05)
    .sort((a, b) => a.split('|')[0]!.localeCompare(b.split('|')[0]!) || perCall(regular, b) - perCall(regular, a));
  return {
    title: 'What the server handled per call (its own metrics, medians over repetitions)',
    columns: ['kind', 'service', 'operation', 'activity: per call', 'activity: ms each', 'local activity: per call'],
    rows: keys.map((k) => {
      const [kind, service, operation] = k.split('|');
      return [kind!, service!, operation!, fmt(perCall(regular, k)), fmt(msEach(regular, k)), fmt(perCall(local, k))];
    }),
    note: "Service rows: requests a service handled and its handling time each (a frontend request's time includes the history call it makes; a long poll's time is mostly waiting for a task). Persistence rows: store operations and their latency each (SQLite). Operations under 0.05 per call in both kinds are left out. Read from the dev server's Prometheus page (`--metrics-port`), once settled before and after each run.",
  };
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '');

export const benchmark: Benchmark = {
  name: 'roundtrip',
  description:
    `Orchestration overhead per activity on the embedded dev server (fresh, its own data directory): a bench-only workflow (bench/roundtrip-workflows.ts, bundled apart from workflows/, own task queue) ` +
    `calls a no-op activity ${CALLS} times one after the other; a worker process with default worker options (bench/roundtrip-worker.ts) runs it after a warm-up of ${WARMUP_CALLS} calls of each kind. ` +
    `Baseline, alternating with it: the same ${CALLS} calls of the no-op as a local activity (run inside the workflow task's worker, recorded as markers: no activity task through the server). ` +
    `Round trip = the activity's ScheduledEvent -> CompletedEvent (server times); cycle = CompletedEvent(i-1) -> CompletedEvent(i), what each call adds to the workflow (includes the workflow task that schedules the next call); ` +
    `wall per call = client start -> result over ${CALLS}. ` +
    `A third run per repetition makes each call after a pipeline stage's bookkeeping (upsert the PipelineStage search attribute, set the current details), to show what that adds to a workflow task.`,
  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = Date.now();
    return withDevServer(ctx, async (server) => {
      const taskQueue = `bench-roundtrip-${randomUUID().slice(0, 8)}`;
      const runs: RoundtripTask['runs'] = [];
      for (let rep = 1; rep <= ctx.reps; rep++) {
        for (const activityKind of KINDS)
          runs.push({ workflowId: `${taskQueue}-${activityKind}-${rep}`, calls: CALLS, activityKind });
      }
      ctx.log(`worker: ${runs.length} runs of ${CALLS} no-op calls on ${taskQueue}`);
      const task: RoundtripTask = {
        kind: 'roundtrip',
        address: server.config.TEMPORAL_ADDRESS,
        taskQueue,
        warmupCalls: WARMUP_CALLS,
        serverPid: server.pid,
        metricsUrl: server.metricsUrl,
        runs,
      };
      const result = await runChild<RoundtripResult>(ctx, 'roundtrip-worker.ts', task, WORKER_TIMEOUT_MS, bareEnv());
      const client = await server.client();
      const samples: RunSample[] = [];
      for (const [i, run] of result.runs.entries()) {
        const events = (await client.workflow.getHandle(run.workflowId).fetchHistory()).events ?? [];
        const timing = historyTiming(events);
        if (run.activityKind !== 'local' && timing.activities !== run.calls)
          throw new Error(`${run.workflowId}: ${timing.activities} activities completed, expected ${run.calls}`);
        if (run.activityKind === 'local' && timing.markers !== run.calls)
          throw new Error(`${run.workflowId}: ${timing.markers} local-activity markers, expected ${run.calls}`);
        samples.push({
          rep: Math.floor(i / KINDS.length) + 1,
          activityKind: run.activityKind,
          workflowId: run.workflowId,
          calls: run.calls,
          wallMs: run.wallMs,
          workerCpuMs: run.workerCpuMs,
          threadCpuMs: run.threadCpuMs,
          serverCpuMs: run.serverCpuMs,
          server: run.server,
          timing,
        });
        ctx.log(
          `${run.workflowId}: ${fmt(run.wallMs / run.calls)} ms per call (client), ${timing.workflowTaskMs.length} workflow tasks` +
            (timing.activities
              ? `, round trip median ${fmt(median(timing.roundTripMs))} ms, p90 ${fmt(percentile(timing.roundTripMs, 90))} ms`
              : ''),
        );
      }

      const regular = samples.filter((s) => s.activityKind === 'activity');
      const local = samples.filter((s) => s.activityKind === 'local');
      const staged = samples.filter((s) => s.activityKind === 'staged');
      const all = (f: (t: HistoryTiming) => number[], of = regular) => of.flatMap((s) => f(s.timing));
      const perRun = (f: (t: HistoryTiming) => number[], stat: (v: number[]) => number, of = regular) =>
        of.map((s) => stat(f(s.timing)));
      const p90 = (v: number[]) => percentile(v, 90);
      const wallPerCall = (s: RunSample) => s.wallMs / s.calls;
      const cpuShare = (s: RunSample) => (100 * ((s.serverCpuMs ?? NaN) + s.workerCpuMs)) / s.wallMs;
      const perCallCpu = (name: string, cpuMs: (s: RunSample) => number | undefined, note: string): Figure => ({
        name,
        value: median(regular.map((s) => (cpuMs(s) ?? NaN) / s.calls)),
        unit: 'ms',
        samples: regular.map((s) => (cpuMs(s) ?? NaN) / s.calls),
        baseline: median(local.map((s) => (cpuMs(s) ?? NaN) / s.calls)),
        baselineSamples: local.map((s) => (cpuMs(s) ?? NaN) / s.calls),
        note,
      });
      const pooled = (name: string, f: (t: HistoryTiming) => number[], note: string, of = regular): Figure[] => [
        {
          name: `${name}: median`,
          value: median(all(f, of)),
          unit: 'ms',
          samples: perRun(f, median, of),
          note: `${note}; median over all ${all(f, of).length} of every run (samples: per-run medians)`,
        },
        {
          name: `${name}: p90`,
          value: percentile(all(f, of), 90),
          unit: 'ms',
          samples: perRun(f, p90, of),
          note: 'samples: per-run p90s',
        },
      ];
      const requestsPerCall = (pick: (op: ServerOperation) => boolean) => (s: RunSample) =>
        s.server.filter(pick).reduce((n, op) => n + op.requests, 0) / s.calls;
      const pathMsPerCall = (s: RunSample) => serverPathMs(s.server) / s.calls;
      const serverPerCall = (name: string, value: (s: RunSample) => number, unit: string, note: string): Figure => ({
        name,
        value: median(regular.map(value)),
        unit,
        samples: regular.map(value),
        baseline: median(local.map(value)),
        baselineSamples: local.map(value),
        note: `${note}; over the run's calls (the run's start and result included); baseline: local-activity runs`,
      });
      const floor = regular.map((s, i) => wallPerCall(local[i]!) + pathMsPerCall(s));
      const figures: Figure[] = [
        {
          name: 'wall per call',
          headline: true,
          value: median(regular.map(wallPerCall)),
          unit: 'ms',
          samples: regular.map(wallPerCall),
          baseline: median(local.map(wallPerCall)),
          baselineSamples: local.map(wallPerCall),
          ratio: median(regular.map((s, i) => wallPerCall(s) / wallPerCall(local[i]!))),
          ratioSamples: regular.map((s, i) => wallPerCall(s) / wallPerCall(local[i]!)),
          ratioNote: 'regular activity / local activity, per call, median of per-repetition ratios',
          note: `client start -> result of a ${CALLS}-call workflow, over ${CALLS} (includes starting and completing the workflow)`,
        },
        // What the wall time per call is made of: the calls run one after the other, so the server and
        // the worker mostly take turns; CPU near the wall time means the chain waits on nothing else.
        perCallCpu(
          'dev-server CPU per call',
          (s) => s.serverCpuMs,
          'the server process (utime + stime from /proc, 10 ms ticks) during the run, over its calls',
        ),
        perCallCpu(
          'worker process CPU per call',
          (s) => s.workerCpuMs,
          'the process running the worker and the client, during the run, over its calls',
        ),
        {
          name: 'share of the wall time spent on CPU',
          value: median(regular.map(cpuShare)),
          unit: '%',
          samples: regular.map(cpuShare),
          baseline: median(local.map(cpuShare)),
          baselineSamples: local.map(cpuShare),
          note: '(dev-server CPU + worker process CPU) / wall time, per run: near or above 100% (the two overlap on 2+ CPUs) the calls wait on nothing but CPU; well below, on queues, timers or I/O',
        },
        // What the server did for each call, by its own metrics: the regular call's requests and writes
        // against none per call for a local activity (its workflow records every marker in a few tasks).
        serverPerCall(
          'server requests per call (frontend)',
          requestsPerCall((op) => op.kind === 'service' && op.service === 'frontend'),
          '',
          "requests the worker and the client made to the server's frontend, long polls included",
        ),
        serverPerCall(
          'internal server requests per call (history, matching)',
          requestsPerCall((op) => op.kind === 'service' && op.service !== 'frontend'),
          '',
          'requests the frontend, history and matching made to each other (in the dev server: gRPC over loopback)',
        ),
        serverPerCall(
          'workflow-state writes per call',
          requestsPerCall((op) => op.kind === 'persistence' && /^(Create|Update)WorkflowExecution$/.test(op.operation)),
          '',
          "persistence transactions that write a workflow's mutable state and new history events",
        ),
        serverPerCall(
          "server handling time on the call's path",
          pathMsPerCall,
          'ms',
          'per call, from the server metrics: frontend requests answered (long polls excluded) and task dispatch to matching (Add*Task, which holds recording the task started when a poller waits); the transfer queue pickup is not counted, so this is a lower bound',
        ),
        {
          name: 'floor: a local call plus the server path',
          value: median(floor),
          unit: 'ms',
          samples: floor,
          baseline: median(local.map(wallPerCall)),
          baselineSamples: local.map(wallPerCall),
          ratio: median(floor.map((f, i) => f / wallPerCall(local[i]!))),
          ratioSamples: floor.map((f, i) => f / wallPerCall(local[i]!)),
          ratioNote: 'per repetition: (local wall per call + regular server path per call) / local wall per call',
          note: "what a regular call would cost if the worker spent no more on it than on a whole local activity call, the server's handling of the call's requests added: the lowest ratio the server leaves; the rest of the wall per call is the worker's own handling of the two server messages per call (an activity task, a workflow task) and the transfer queue's pickup",
        },
        ...pooled('activity round trip (scheduled -> completed)', (t) => t.roundTripMs, 'server event times'),
        ...pooled(
          'activity queue wait (scheduled -> started)',
          (t) => t.queueMs,
          "waiting for the worker's activity poller",
        ),
        ...pooled(
          'cycle per call (completed -> next completed)',
          (t) => t.cycleMs,
          'the round trip plus the workflow task that schedules the next call',
        ),
        ...pooled(
          'workflow task (scheduled -> completed)',
          (t) => t.workflowTaskMs,
          'every workflow task of the regular runs',
        ),
        {
          name: 'workflow task queue wait (scheduled -> started): median',
          value: median(all((t) => t.workflowTaskQueueMs)),
          unit: 'ms',
          samples: perRun((t) => t.workflowTaskQueueMs, median),
          note: 'regular runs',
        },
        ...pooled(
          'local-activity workflow task (scheduled -> completed)',
          (t) => t.workflowTaskMs,
          'local runs: the worker may record several local activities per workflow task',
          local,
        ),
        {
          name: 'wall per call, after a stage upsert',
          value: median(staged.map(wallPerCall)),
          unit: 'ms',
          samples: staged.map(wallPerCall),
          baseline: median(regular.map(wallPerCall)),
          baselineSamples: regular.map(wallPerCall),
          ratio: median(staged.map((s, i) => wallPerCall(s) / wallPerCall(regular[i]!))),
          ratioSamples: staged.map((s, i) => wallPerCall(s) / wallPerCall(regular[i]!)),
          ratioNote: 'staged / regular activity, per call, median of per-repetition ratios',
          note: 'each call made after upserting the PipelineStage search attribute and setting the current details, as every pipeline stage does (workflows/pipeline-run.ts)',
        },
        ...pooled(
          'workflow task with a stage upsert (scheduled -> completed)',
          (t) => t.workflowTaskMs,
          "staged runs: the upsert is a visibility write on the server, in the task's completion",
          staged,
        ),
      ];
      const details: DetailTable[] = [
        {
          title: 'Runs (in the order taken)',
          columns: [
            '#',
            'kind',
            'calls',
            'client wall s',
            'ms per call',
            'history events',
            'workflow tasks',
            'round trip median ms',
            'round trip p90 ms',
            'cycle median ms',
            'workflow task median ms',
            'workflow task p90 ms',
          ],
          rows: samples.map((s) => [
            s.rep,
            { activity: 'activity', local: 'local activity', staged: 'activity after a stage upsert' }[s.activityKind],
            s.calls,
            fmt(s.wallMs / 1000),
            fmt(wallPerCall(s)),
            s.timing.events,
            s.timing.workflowTaskMs.length,
            fmt(median(s.timing.roundTripMs)),
            fmt(percentile(s.timing.roundTripMs, 90)),
            fmt(median(s.timing.cycleMs)),
            fmt(median(s.timing.workflowTaskMs)),
            fmt(percentile(s.timing.workflowTaskMs, 90)),
          ]),
          note: `Workflow bundle built in ${fmt(result.bundleSeconds)} s (not measured). Server CPU over the benchmark: ${fmt(server.cpuSeconds() ?? NaN, 1)} s.`,
        },
        serverOperationsTable(regular, local),
        workerThreadsTable(regular, local),
      ];
      return {
        name: 'roundtrip',
        description: benchmark.description,
        seconds: (Date.now() - started) / 1000,
        figures,
        details,
        data: {
          calls: CALLS,
          warmupCalls: WARMUP_CALLS,
          runs: samples.map((s) => ({
            rep: s.rep,
            kind: s.activityKind,
            workflowId: s.workflowId,
            wallMs: s.wallMs,
            workerCpuMs: s.workerCpuMs,
            serverCpuMs: s.serverCpuMs,
            ...s.timing,
          })),
        },
      };
    });
  },
};
