/**
 * Orchestration overhead per activity: what one activity call costs in Temporal when the activity does
 * nothing (the description says how it is measured). This module's child process runs the worker and
 * the client (bench/roundtrip-workflows.ts `noopChain`, bundled apart from workflows/) and times each run
 * from the client, with its own CPU by thread, the dev server's CPU and what the server's metrics
 * counted; the parent reads the histories.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { bareEnv, runAsChild, runChild } from './child';
import { EventType, withDevServer, workflowTaskTimes, workflowTiming, type HistoryEvent } from './harness';
import { cpuSecondsSince, processCpuSeconds, threadCpuSeconds } from './process-stats';
import { median, paired, quantile, type BenchContext, type Benchmark, type DetailTable, type Figure } from './report';
import type { CallKind, noopChain } from './roundtrip-workflows';
import { columnTable } from './table';
import { readSettledServerMetrics, serverDelta, serverPathMs, type ServerOperation } from './server-metrics';

const CALLS = 100;
/** Per repetition, in this order (see CallKind). */
const KINDS: CallKind[] = ['local', 'activity', 'staged'];
const WARMUP_CALLS = 20;
const KIND_NAMES = { activity: 'activity', local: 'local activity', staged: 'activity after a stage upsert' };

interface RoundtripTask {
  kind: 'roundtrip';
  address: string;
  taskQueue: string;
  reps: number;
  /** The dev server's process, whose CPU time each run reports, and its Prometheus metrics page. */
  serverPid?: number;
  metricsUrl: string;
}

interface Run {
  rep: number;
  kind: CallKind;
  workflowId: string;
  /** Client start -> result. */
  wallMs: number;
  /** CPU time of the child (worker and client) during the run, in all and by thread name (/proc/self/task). */
  workerCpuMs: number;
  threadCpuMs: Record<string, number>;
  /** CPU time of the dev server during the run; undefined where /proc cannot be read. */
  serverCpuMs?: number;
  /** What the server counted during the run (its start and result included). */
  server: ServerOperation[];
}

/** A run with what its history says, per activity and per workflow task (ms). */
interface Sample extends Run {
  roundTripMs: number[];
  queueMs: number[];
  /** Completed(i-1) -> completed(i), from the second activity on. */
  cycleMs: number[];
  workflowTaskMs: number[];
  workflowTaskQueueMs: number[];
  events: number;
}

function sampleOf(run: Run, events: HistoryEvent[]): Sample {
  const { activities } = workflowTiming(events);
  const markers = events.filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED).length;
  const [what, count] = run.kind === 'local' ? ['local-activity markers', markers] : ['activities', activities.length];
  if (count !== CALLS) throw new Error(`${run.workflowId}: ${count} ${what}, expected ${CALLS}`);
  const tasks = workflowTaskTimes(events);
  return {
    ...run,
    roundTripMs: activities.map((a) => a.closed - a.scheduled),
    queueMs: activities.map((a) => a.queueMs),
    cycleMs: activities.slice(1).map((a, i) => a.closed - activities[i]!.closed),
    workflowTaskMs: tasks.map((t) => t.ms),
    workflowTaskQueueMs: tasks.map((t) => t.queueMs),
    events: events.length,
  };
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
function workerThreadsTable(regular: Sample[], local: Sample[]): DetailTable {
  const perCall = (runs: Sample[], name: string) => median(runs.map((s) => (s.threadCpuMs[name] ?? 0) / CALLS));
  const names = [...new Set([...regular, ...local].flatMap((s) => Object.keys(s.threadCpuMs)))]
    .filter((name) => perCall(regular, name) > 0 || perCall(local, name) > 0)
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
function serverOperationsTable(regular: Sample[], local: Sample[]): DetailTable {
  const key = (op: ServerOperation) => `${op.kind}|${op.service}|${op.operation}`;
  const perCall = (runs: Sample[], k: string) =>
    median(runs.map((s) => (s.server.find((op) => key(op) === k)?.requests ?? 0) / CALLS));
  const msEach = (k: string) => {
    const ops = regular.flatMap((s) => s.server.filter((op) => key(op) === k));
    return ops.reduce((ms, op) => ms + op.totalMs, 0) / ops.reduce((n, op) => n + op.requests, 0);
  };
  const keys = [...new Set([...regular, ...local].flatMap((s) => s.server.map(key)))]
    .filter((k) => perCall(regular, k) >= 0.05 || perCall(local, k) >= 0.05)
    .sort((a, b) => a.split('|')[0]!.localeCompare(b.split('|')[0]!) || perCall(regular, b) - perCall(regular, a));
  return {
    title: 'What the server handled per call (its own metrics, medians over repetitions)',
    columns: ['kind', 'service', 'operation', 'activity: per call', 'activity: ms each', 'local activity: per call'],
    rows: keys.map((k) => [...k.split('|'), fmt(perCall(regular, k)), fmt(msEach(k)), fmt(perCall(local, k))]),
    note: "Service rows: requests a service handled and its handling time each (a frontend request's time includes the history call it makes; a long poll's time is mostly waiting for a task). Persistence rows: store operations and their latency each (SQLite). Operations under 0.05 per call in both kinds are left out. Read from the dev server's Prometheus page (`--metrics-port`), once settled before and after each run.",
  };
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '');

/** The figures: regular calls against local ones (the baseline), and against calls after a stage upsert. */
function figures(regular: Sample[], local: Sample[], staged: Sample[]): Figure[] {
  const wallPerCall = (s: Sample) => s.wallMs / CALLS;
  /** A per-call value of the regular runs, the local runs' as the baseline. */
  const againstLocal = (name: string, unit: string, value: (s: Sample) => number, note: string): Figure => ({
    name,
    unit,
    value: median(regular.map(value)),
    samples: regular.map(value),
    baseline: median(local.map(value)),
    baselineSamples: local.map(value),
    note,
  });
  const requestsPerCall = (pick: (op: ServerOperation) => boolean) => (s: Sample) =>
    s.server.filter(pick).reduce((n, op) => n + op.requests, 0) / CALLS;
  const serverNote = (note: string) =>
    `${note}; over the run's calls (the run's start and result included); baseline: local-activity runs`;
  /** The median and p90 over every value of the runs; samples: each run's median and p90. */
  const pooled = (name: string, f: (s: Sample) => number[], note: string, of = regular, p90 = true): Figure[] => [
    {
      name: `${name}: median`,
      value: median(of.flatMap(f)),
      unit: 'ms',
      samples: of.map((s) => median(f(s))),
      note: p90 ? `${note}; median over all ${of.flatMap(f).length} of every run (samples: per-run medians)` : note,
    },
    ...(p90
      ? [
          {
            name: `${name}: p90`,
            value: quantile(of.flatMap(f), 0.9),
            unit: 'ms',
            samples: of.map((s) => quantile(f(s), 0.9)),
            note: 'samples: per-run p90s',
          },
        ]
      : []),
  ];
  const floor = regular.map((s, i) => wallPerCall(local[i]!) + serverPathMs(s.server) / CALLS);
  return [
    {
      name: 'wall per call',
      headline: true,
      unit: 'ms',
      ...paired(regular.map(wallPerCall), local.map(wallPerCall)),
      ratioNote: 'regular activity / local activity, per call, median of per-repetition ratios',
      note: `client start -> result of a ${CALLS}-call workflow, over ${CALLS} (includes starting and completing the workflow)`,
    },
    // What the wall time per call is made of: the calls run one after the other, so the server and
    // the worker mostly take turns; CPU near the wall time means the chain waits on nothing else.
    againstLocal(
      'dev-server CPU per call',
      'ms',
      (s) => (s.serverCpuMs ?? NaN) / CALLS,
      'the server process (utime + stime from /proc, 10 ms ticks) during the run, over its calls',
    ),
    againstLocal(
      'worker process CPU per call',
      'ms',
      (s) => s.workerCpuMs / CALLS,
      'the process running the worker and the client, during the run, over its calls',
    ),
    againstLocal(
      'share of the wall time spent on CPU',
      '%',
      (s) => (100 * ((s.serverCpuMs ?? NaN) + s.workerCpuMs)) / s.wallMs,
      '(dev-server CPU + worker process CPU) / wall time, per run: near or above 100% (the two overlap on 2+ CPUs) the calls wait on nothing but CPU; well below, on queues, timers or I/O',
    ),
    // What the server did for each call, by its own metrics: the regular call's requests and writes
    // against none per call for a local activity (its workflow records every marker in a few tasks).
    againstLocal(
      'server requests per call (frontend)',
      '',
      requestsPerCall((op) => op.kind === 'service' && op.service === 'frontend'),
      serverNote("requests the worker and the client made to the server's frontend, long polls included"),
    ),
    againstLocal(
      'internal server requests per call (history, matching)',
      '',
      requestsPerCall((op) => op.kind === 'service' && op.service !== 'frontend'),
      serverNote(
        'requests the frontend, history and matching made to each other (in the dev server: gRPC over loopback)',
      ),
    ),
    againstLocal(
      'workflow-state writes per call',
      '',
      requestsPerCall((op) => op.kind === 'persistence' && /^(Create|Update)WorkflowExecution$/.test(op.operation)),
      serverNote("persistence transactions that write a workflow's mutable state and new history events"),
    ),
    againstLocal(
      "server handling time on the call's path",
      'ms',
      (s) => serverPathMs(s.server) / CALLS,
      serverNote(
        'per call, from the server metrics: frontend requests answered (long polls excluded) and task dispatch to matching (Add*Task, which holds recording the task started when a poller waits); the transfer queue pickup is not counted, so this is a lower bound',
      ),
    ),
    {
      name: 'floor: a local call plus the server path',
      unit: 'ms',
      ...paired(floor, local.map(wallPerCall)),
      ratioNote: 'per repetition: (local wall per call + regular server path per call) / local wall per call',
      note: "what a regular call would cost if the worker spent no more on it than on a whole local activity call, the server's handling of the call's requests added: the lowest ratio the server leaves; the rest of the wall per call is the worker's own handling of the two server messages per call (an activity task, a workflow task) and the transfer queue's pickup",
    },
    ...pooled('activity round trip (scheduled -> completed)', (s) => s.roundTripMs, 'server event times'),
    ...pooled(
      'activity queue wait (scheduled -> started)',
      (s) => s.queueMs,
      "waiting for the worker's activity poller",
    ),
    ...pooled(
      'cycle per call (completed -> next completed)',
      (s) => s.cycleMs,
      'the round trip plus the workflow task that schedules the next call',
    ),
    ...pooled(
      'workflow task (scheduled -> completed)',
      (s) => s.workflowTaskMs,
      'every workflow task of the regular runs',
    ),
    ...pooled(
      'workflow task queue wait (scheduled -> started)',
      (s) => s.workflowTaskQueueMs,
      'regular runs',
      regular,
      false,
    ),
    ...pooled(
      'local-activity workflow task (scheduled -> completed)',
      (s) => s.workflowTaskMs,
      'local runs: the worker may record several local activities per workflow task',
      local,
    ),
    {
      name: 'wall per call, after a stage upsert',
      unit: 'ms',
      ...paired(staged.map(wallPerCall), regular.map(wallPerCall)),
      ratioNote: 'staged / regular activity, per call, median of per-repetition ratios',
      note: 'each call made after upserting the PipelineStage search attribute and setting the current details, as every pipeline stage does (workflows/pipeline-run.ts)',
    },
    ...pooled(
      'workflow task with a stage upsert (scheduled -> completed)',
      (s) => s.workflowTaskMs,
      "staged runs: the upsert is a visibility write on the server, in the task's completion",
      staged,
    ),
  ];
}

export const benchmark: Benchmark = {
  name: 'roundtrip',
  description:
    `Orchestration overhead per activity on the embedded dev server (fresh, its own data directory): a bench-only workflow (bench/roundtrip-workflows.ts, bundled apart from workflows/, own task queue) ` +
    `calls a no-op activity ${CALLS} times one after the other; a worker process with default worker options (this module's child) runs it after a warm-up of ${WARMUP_CALLS} calls of each kind. ` +
    `Baseline, alternating with it: the same ${CALLS} calls of the no-op as a local activity (run inside the workflow task's worker, recorded as markers: no activity task through the server). ` +
    `Round trip = the activity's ScheduledEvent -> CompletedEvent (server times); cycle = CompletedEvent(i-1) -> CompletedEvent(i), what each call adds to the workflow (includes the workflow task that schedules the next call); ` +
    `wall per call = client start -> result over ${CALLS}. ` +
    `A third run per repetition makes each call after a pipeline stage's bookkeeping (upsert the PipelineStage search attribute, set the current details), to show what that adds to a workflow task.`,
  async run(ctx: BenchContext) {
    const started = Date.now();
    return withDevServer(ctx, async (server) => {
      const task: RoundtripTask = {
        kind: 'roundtrip',
        address: server.config.TEMPORAL_ADDRESS,
        taskQueue: `bench-roundtrip-${randomUUID().slice(0, 8)}`,
        reps: ctx.reps,
        serverPid: server.pid,
        metricsUrl: server.metricsUrl,
      };
      ctx.log(`worker: ${ctx.reps * KINDS.length} runs of ${CALLS} no-op calls on ${task.taskQueue}`);
      const result = await runChild<{ bundleSeconds: number; runs: Run[] }>(
        ctx,
        'roundtrip.bench.ts',
        task,
        10 * 60_000,
        bareEnv(),
      );
      const client = await server.client();
      // The histories are read after every run, so the reads are in no run's server metrics.
      const history = async (run: Run) => (await client.workflow.getHandle(run.workflowId).fetchHistory()).events ?? [];
      const samples = await Promise.all(result.runs.map(async (run) => sampleOf(run, await history(run))));
      const of = (kind: CallKind) => samples.filter((s) => s.kind === kind);
      const [regular, local] = [of('activity'), of('local')];
      return {
        name: 'roundtrip',
        description: benchmark.description,
        seconds: (Date.now() - started) / 1000,
        figures: figures(regular, local, of('staged')),
        details: [
          columnTable(
            'Runs (in the order taken)',
            [
              ['#', (s) => s.rep],
              ['kind', (s) => KIND_NAMES[s.kind]],
              ['calls', () => CALLS],
              ['client wall s', (s) => fmt(s.wallMs / 1000)],
              ['ms per call', (s) => fmt(s.wallMs / CALLS)],
              ['history events', (s) => s.events],
              ['workflow tasks', (s) => s.workflowTaskMs.length],
              ['round trip median ms', (s) => fmt(median(s.roundTripMs))],
              ['round trip p90 ms', (s) => fmt(quantile(s.roundTripMs, 0.9))],
              ['cycle median ms', (s) => fmt(median(s.cycleMs))],
              ['workflow task median ms', (s) => fmt(median(s.workflowTaskMs))],
              ['workflow task p90 ms', (s) => fmt(quantile(s.workflowTaskMs, 0.9))],
            ],
            samples,
            `Workflow bundle built in ${fmt(result.bundleSeconds)} s (not measured). Server CPU over the benchmark: ${fmt(server.cpuSeconds() ?? NaN, 1)} s.`,
          ),
          serverOperationsTable(regular, local),
          workerThreadsTable(regular, local),
        ],
        data: {
          calls: CALLS,
          warmupCalls: WARMUP_CALLS,
          runs: samples.map(({ server: _, threadCpuMs: __, ...s }) => s),
        },
      };
    });
  },
};

// ---------------------------------------------------------------------------------------------
// The child: a worker with the no-op activity (default worker options) and a client, the warm-up,
// then the runs one after the other.

async function runAll(task: RoundtripTask): Promise<{ bundleSeconds: number; runs: Run[] }> {
  const noop = () => {};
  const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m) };
  Runtime.install({
    logger: quiet,
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  const t0 = performance.now();
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./roundtrip-workflows'),
    logger: quiet,
  });
  const bundleSeconds = (performance.now() - t0) / 1000;
  const connection = await NativeConnection.connect({ address: task.address });
  const worker = await Worker.create({
    connection,
    taskQueue: task.taskQueue,
    workflowBundle,
    activities: { noop: async (i: number) => i },
  });
  const running = worker.run();
  const client = new Client({ connection: await Connection.connect({ address: task.address }) });
  try {
    const execute = async (workflowId: string, calls: number, kind: CallKind) => {
      const sum = await client.workflow.execute<typeof noopChain>('noopChain', {
        taskQueue: task.taskQueue,
        workflowId,
        args: [calls, kind],
      });
      if (sum !== (calls * (calls - 1)) / 2) throw new Error(`${workflowId}: noopChain returned ${sum}`);
    };
    await execute(`${task.taskQueue}-warmup-activity`, WARMUP_CALLS, 'activity');
    await execute(`${task.taskQueue}-warmup-local`, WARMUP_CALLS, 'local');
    const runs: Run[] = [];
    let metrics0 = await readSettledServerMetrics(task.metricsUrl);
    for (let rep = 1; rep <= task.reps; rep++) {
      for (const kind of KINDS) {
        const workflowId = `${task.taskQueue}-${kind}-${rep}`;
        const server0 = processCpuSeconds(task.serverPid);
        const threads0 = threadCpuSeconds();
        const cpu0 = process.cpuUsage();
        const started = performance.now();
        await execute(workflowId, CALLS, kind);
        const wallMs = performance.now() - started;
        const workerCpuMs = cpuSecondsSince(cpu0) * 1000;
        const threads = Object.entries(threadCpuSeconds()).map(([name, s]) => [
          name,
          (s - (threads0[name] ?? 0)) * 1000,
        ]);
        const server1 = processCpuSeconds(task.serverPid);
        const metrics1 = await readSettledServerMetrics(task.metricsUrl);
        runs.push({
          rep,
          kind,
          workflowId,
          wallMs,
          workerCpuMs,
          threadCpuMs: Object.fromEntries(threads),
          serverCpuMs: server0 !== undefined && server1 !== undefined ? (server1 - server0) * 1000 : undefined,
          server: serverDelta(metrics0, metrics1),
        });
        metrics0 = metrics1;
      }
    }
    return { bundleSeconds, runs };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await client.connection.close();
  }
}

if (require.main === module) runAsChild<RoundtripTask>(runAll);
