/**
 * The parent side of the benchmarks that run on Temporal: a dev server of their own and its CPU time,
 * and the timings read back from the server's histories. Their worker processes run through
 * bench/child.ts with `bareEnv()` and build their worker with bench/worker-harness.ts (a module apart,
 * so a worker process whose memory is measured loads none of the dev server's modules).
 */
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { tsToMs } from '@temporalio/common/lib/time';
import { loadConfig, type Config } from '../src/config';
import { ensureServer } from '../src/temporal/dev-server';
import { connectClient } from '../src/temporal/client';
import { freePort } from '../test/helpers/ports';
import { processCpuSeconds } from './process-stats';
import { median, type BenchContext, type DetailTable, type Figure } from './report';
import { columnTable } from './table';
import type { WarmUpRun } from './worker-harness';
import type { WorkflowRun } from './direct-activities';

/** What `withDevServer` hands the benchmark. */
export interface BenchServer {
  /** The server's configuration: TEMPORAL_ADDRESS is where it listens. */
  config: Config;
  /** The server process, where it was started as one. */
  pid?: number;
  /** CPU seconds the server process has used so far, or undefined where that cannot be read. */
  cpuSeconds(): number | undefined;
  /** A client of the server, connected on the first call; closed before the server stops. */
  client(): Promise<Client>;
  /** The server's own Prometheus metrics (bench/server-metrics.ts reads them). */
  metricsUrl: string;
}

/**
 * Starts a Temporal dev server on free ports with a fresh data directory (`<tmpDir>/server`), runs
 * `work` against it, and stops it, also when the harness exits early. Refuses to run against a server
 * that was already answering at the address. When `work` fails, the server's last log lines are logged.
 */
export async function withDevServer<T>(ctx: BenchContext, work: (server: BenchServer) => Promise<T>): Promise<T> {
  const serverLog: string[] = [];
  const config = loadConfig({
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${await freePort()}`,
    MLPIPE_DATA_DIR: path.join(ctx.tmpDir, 'server'),
  });
  const metricsPort = await freePort();
  ctx.log(`starting a dev server at ${config.TEMPORAL_ADDRESS}`);
  const server = await ensureServer(config, { ui: false, metricsPort, log: (line) => serverLog.push(line) });
  // The server runs detached: if the harness exits early (Ctrl-C), stop it rather than leave it behind.
  const stopOnExit = () => {
    try {
      if (server.started && server.pid) process.kill(server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.once('exit', stopOnExit);
  let client: Promise<Client> | undefined;
  try {
    if (!server.started)
      throw new Error(`a server already answered at ${config.TEMPORAL_ADDRESS}: refusing to benchmark against it`);
    return await work({
      config,
      pid: server.pid,
      cpuSeconds: () => processCpuSeconds(server.pid),
      client: () => (client ??= connectClient(config)),
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    });
  } catch (error) {
    if (serverLog.length) ctx.log(`dev server log:\n${serverLog.slice(-20).join('\n')}`);
    throw error;
  } finally {
    await client?.then((c) => c.connection.close()).catch(() => {});
    await server.stop();
    process.removeListener('exit', stopOnExit);
  }
}

/** What the dev server's CPU and the machine's 1-minute load average did while `work` ran. */
export async function underLoad<T>(
  server: BenchServer,
  work: () => Promise<T>,
): Promise<{ result: T; serverCpuSeconds?: number; load: [number, number] }> {
  const load0 = os.loadavg()[0]!;
  const cpu0 = server.cpuSeconds();
  const result = await work();
  const cpu1 = server.cpuSeconds();
  const serverCpuSeconds = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
  return { result, serverCpuSeconds, load: [load0, os.loadavg()[0]!] };
}

// ---------------------------------------------------------------------------------------------
// Histories: activity and workflow-task timings from the server's events.

export const EventType = temporal.api.enums.v1.EventType;
export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
export const eventMs = (e: HistoryEvent) => tsToMs(e.eventTime);

/** A JSON payload (the default payload converter), or undefined when there is none or it is not JSON. */
export function decodePayload(data: Uint8Array | null | undefined): unknown {
  try {
    return JSON.parse(Buffer.from(data ?? []).toString('utf8'));
  } catch {
    return undefined;
  }
}

export interface ActivityTiming {
  type: string;
  attempt: number;
  /** Server times, ms. */
  scheduled: number;
  started: number;
  closed: number;
  /** Started -> completed (or failed, timed out): the activity's own run time. */
  runMs: number;
  /** Scheduled -> started: waiting in the task queue for a poller / a free slot. */
  queueMs: number;
  /** The activity's result (JSON payload), for what it reports; undefined unless it completed. */
  result: unknown;
}

export interface TaskTimings {
  /** Every activity attempt that closed in the events, in the order they closed. */
  activities: ActivityTiming[];
  /** Sum of the activities' run times. */
  activityMs: number;
  /** Sum of the activities' queue waits. */
  queueMs: number;
  /** Workflow tasks: scheduled -> completed, summed (the workflow code's turns, including their queue wait). */
  workflowTaskMs: number;
  /** Of which scheduled -> started: waiting for the worker to pick the task up. */
  workflowTaskQueueMs: number;
  workflowTasks: number;
}

/** The activities and workflow tasks of a stretch of history, timed by the server's event times. */
export function taskTimings(events: HistoryEvent[]): TaskTimings {
  const byId = new Map(events.map((e) => [String(e.eventId), e]));
  const activities = events.flatMap((e): ActivityTiming[] => {
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes;
    if (!closed) return [];
    const scheduled = byId.get(String(closed.scheduledEventId))!;
    const started = byId.get(String(closed.startedEventId))!;
    return [
      {
        type: scheduled.activityTaskScheduledEventAttributes!.activityType!.name!,
        attempt: started.activityTaskStartedEventAttributes!.attempt ?? 1,
        scheduled: eventMs(scheduled),
        started: eventMs(started),
        closed: eventMs(e),
        runMs: eventMs(e) - eventMs(started),
        queueMs: eventMs(started) - eventMs(scheduled),
        result: decodePayload(e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data),
      },
    ];
  });
  const tasks = workflowTaskTimes(events);
  const sum = <T>(items: T[], f: (item: T) => number) => items.reduce((total, item) => total + f(item), 0);
  return {
    activities,
    activityMs: sum(activities, (a) => a.runMs),
    queueMs: sum(activities, (a) => a.queueMs),
    workflowTaskMs: sum(tasks, (t) => t.ms),
    workflowTaskQueueMs: sum(tasks, (t) => t.queueMs),
    workflowTasks: tasks.length,
  };
}

/** Each completed workflow task of a stretch of history: scheduled -> completed, and of it scheduled -> started (ms). */
export function workflowTaskTimes(events: HistoryEvent[]): { ms: number; queueMs: number }[] {
  const tasks: { ms: number; queueMs: number }[] = [];
  let scheduled: number | undefined;
  let started: number | undefined;
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) [scheduled, started] = [eventMs(e), undefined];
    else if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) started = eventMs(e);
    else if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && scheduled !== undefined) {
      tasks.push({ ms: eventMs(e) - scheduled, queueMs: (started ?? scheduled) - scheduled });
      scheduled = undefined;
    }
  }
  return tasks;
}

type OverheadRow = Omit<TaskTimings, 'workflowTaskQueueMs'> & { wallMs: number };

/**
 * Where the orchestration overhead of each row's stretch of history goes (server event times, ms);
 * `note` adds what the benchmark knows of its stretches.
 */
export function overheadTable(rowName: string, rows: [string, OverheadRow][], note: string): DetailTable {
  const overhead = (t: OverheadRow) => t.wallMs - t.activityMs;
  return columnTable(
    'Orchestration overhead (server event times, ms)',
    [
      [rowName, ([name]) => name],
      ['wall', ([, t]) => t.wallMs.toFixed(0)],
      ['activities', ([, t]) => t.activityMs.toFixed(0)],
      ['overhead', ([, t]) => overhead(t).toFixed(0)],
      ['per activity', ([, t]) => (overhead(t) / t.activities.length).toFixed(0)],
      ['activity queue wait', ([, t]) => t.queueMs.toFixed(0)],
      ['workflow tasks', ([, t]) => t.workflowTaskMs.toFixed(0)],
      ['other', ([, t]) => (overhead(t) - t.queueMs - t.workflowTaskMs).toFixed(0)],
      ['activities', ([, t]) => t.activities.length],
      ['workflow tasks', ([, t]) => t.workflowTasks],
    ],
    rows,
    "Overhead = wall - sum of activity run times. Activity queue wait = scheduled -> started; workflow tasks = scheduled -> completed (the workflow code's turns, with their own queue wait); " +
      `other = the rest (a completion's trip to the server and the next task's dispatch${note}`,
  );
}

/** The histories of `runs` (a run id left out: the latest run), in order, `lanes` requests at a time. */
export async function fetchHistories(
  client: Client,
  runs: { workflowId: string; runId?: string }[],
  lanes = 8,
): Promise<HistoryEvent[][]> {
  const out: HistoryEvent[][] = new Array(runs.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < runs.length; i = next++)
      out[i] = (await client.workflow.getHandle(runs[i]!.workflowId, runs[i]!.runId).fetchHistory()).events ?? [];
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return out;
}

/** A run's wall time and what its activities and workflow tasks took. */
export interface WorkflowTiming extends TaskTimings {
  /** WorkflowExecutionStarted -> WorkflowExecutionCompleted, server times. */
  wallMs: number;
  events: number;
}

/** The timings of a completed run's whole history; throws if the run did not complete. */
export function workflowTiming(events: HistoryEvent[]): WorkflowTiming {
  const started = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  const completed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  if (!started || !completed) throw new Error('the history has no start or no completion: did the run fail?');
  return { wallMs: eventMs(completed) - eventMs(started), events: events.length, ...taskTimings(events) };
}

export type RunMeasure = (t: WorkflowTiming) => number;

/** What the per-partition tables show of a workflow run, by label. */
const RUN_MEASURES: [string, RunMeasure][] = [
  ['wall time (WorkflowExecutionStarted -> Completed)', (t) => t.wallMs],
  ['sum of activity run times (started -> closed)', (t) => t.activityMs],
  ['overhead = wall - sum of activities', (t) => t.wallMs - t.activityMs],
  ['  of which activity queue wait (scheduled -> started)', (t) => t.queueMs],
  ['  of which workflow tasks (scheduled -> completed)', (t) => t.workflowTaskMs],
  ['    of which waiting to be picked up (scheduled -> started)', (t) => t.workflowTaskQueueMs],
  ['activities', (t) => t.activities.length],
  ['workflow tasks', (t) => t.workflowTasks],
  ['history events', (t) => t.events],
];

/** The measures of a set of runs (rows) by `columns`: each a heading and how it sums a measure up, e.g. its median over some runs. */
export function runMeasuresTable(title: string, columns: [string, (measure: RunMeasure) => number][]): DetailTable {
  return {
    title,
    columns: ['measure', ...columns.map(([heading]) => heading)],
    rows: RUN_MEASURES.map(([what, f]) => [what, ...columns.map(([, sum]) => sum(f).toFixed(0))]),
  };
}

/** An activity a run scheduled, with its arguments and what it returned (JSON payloads). */
export interface ActivityCall {
  type: string;
  args: unknown[];
  /** Undefined when the activity did not complete. */
  result: unknown;
  /** The run that scheduled it, where a replay holds the calls of several runs (a backfill's children). */
  run?: WorkflowRun;
}

/** The activities a history scheduled, in order, with the arguments they were scheduled with (once each, however often retried). */
export function activityCalls(events: HistoryEvent[]): ActivityCall[] {
  const results = new Map(
    events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
      .map((e) => {
        const attrs = e.activityTaskCompletedEventAttributes!;
        return [String(attrs.scheduledEventId), decodePayload(attrs.result?.payloads?.[0]?.data)];
      }),
  );
  return events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    .map((e) => {
      const attrs = e.activityTaskScheduledEventAttributes!;
      return {
        type: attrs.activityType!.name!,
        args: (attrs.input?.payloads ?? []).map((p) => decodePayload(p.data)),
        result: results.get(String(e.eventId)),
      };
    });
}

// ---------------------------------------------------------------------------------------------
// Warm workers: a pipeline bench's worker process runs a warm-up workflow before its measured run
// (`warmUp` in bench/worker-harness.ts); its cold first workflow task is reported apart.

/** For a benchmark's description: what the warm-up warms, and what it leaves cold. */
export const WARM_UP_NOTE =
  'Before its measured run, each worker process runs one warm-up workflow (not timed: the same workflow type with an empty input, which fails its input check in its first workflow task, before any activity), ' +
  "so the run's workflow tasks are warm, as in a long-lived production worker; the first task's cold cost (loading the workflow bundle into the worker's V8 context) is reported apart. " +
  'The activities are not warmed (the baseline runs in a fresh process too).';

/** A worker process's first workflow task (its warm-up's), and the measured run's first, after it; ms. */
export interface FirstTasks {
  cold: number;
  warm: number;
}

/**
 * The first workflow tasks of a worker process, scheduled -> completed (queue wait included): its
 * warm-up run's, read from the server, and the measured run's (`events`).
 */
export async function firstTasks(client: Client, warmUp: WarmUpRun, events: HistoryEvent[]): Promise<FirstTasks> {
  const [warmUpEvents] = await fetchHistories(client, [warmUp]);
  // From the first task scheduled, so a first attempt that failed or timed out counts with its retry.
  const first = (history: HistoryEvent[]) => {
    const scheduled = history.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    const completed = history.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    if (!scheduled || !completed) throw new Error('the history has no completed workflow task');
    return eventMs(completed) - eventMs(scheduled);
  };
  return { cold: first(warmUpEvents!), warm: first(events) };
}

/** What a fresh worker process pays once, on its first workflow task: kept out of the runs, and shown here. */
export function coldStartFigure(tasks: FirstTasks[], label?: string): Figure {
  const cold = tasks.map((t) => t.cold);
  const warm = tasks.map((t) => t.warm);
  return {
    name: `${label ? `${label}: ` : ''}first workflow task in a fresh worker process`,
    value: median(cold),
    unit: 'ms',
    samples: cold,
    ratio: median(cold) / median(warm),
    ratioNote:
      "the warm-up's first workflow task / the measured run's first workflow task right after it, in the same process (medians)",
    note:
      `the warm-up run's workflow task, scheduled -> completed (server times), once per worker process, not counted in the run; ` +
      `the measured run's first workflow task, per run ${warm.map((w) => w.toFixed(0)).join(', ')} ms`,
  };
}
