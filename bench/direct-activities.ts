/**
 * The bare baseline of a pipeline benchmark: the pipeline's own activities, built from the worker's
 * dependencies by the same functions as `createWorker` (src/worker.ts) uses, called directly in this
 * process with no Temporal: no server, no workflow code, no task queues (an activity that asks the
 * server something still does). `MockActivityEnvironment` gives each call the activity Context it reads
 * (its run's ids for the paths of what it publishes, heartbeats).
 */
import type pino from 'pino';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../activities';
import { heartbeatKeepaliveInterceptor } from '../activities/heartbeat';
import { openActivityDeps } from '../activities/open-deps';
import type { Config } from '../src/config';

export type { Activities };
/** What activity `K` returns. */
export type ActivityResult<K extends keyof Activities> = Awaited<ReturnType<Activities[K]>>;

/** The workflow run an activity believes called it: its ids name the run's workspaces, reports and alerts. */
export interface WorkflowRun {
  workflowId: string;
  runId: string;
}

/** One direct call: its wall time on this process's clock, its start and end (epoch ms), and what it returned. */
export interface DirectCall {
  type: string;
  ms: number;
  started: number;
  closed: number;
  result: unknown;
}

/**
 * Opens the worker's dependencies, runs `work` with the activities on them, and closes them. `call`
 * calls one activity as a run of `execution` would have it called, `callFrom` as another run would
 * (a replay of many runs' calls); both record the call in `calls`.
 */
export async function withDirectActivities<T>(
  config: Config,
  logger: pino.Logger,
  execution: WorkflowRun,
  work: (activities: {
    call<K extends keyof Activities>(type: K, ...args: Parameters<Activities[K]>): Promise<ActivityResult<K>>;
    callFrom<K extends keyof Activities>(
      run: WorkflowRun,
      type: K,
      ...args: Parameters<Activities[K]>
    ): Promise<ActivityResult<K>>;
    calls: DirectCall[];
  }) => Promise<T>,
): Promise<T> {
  const opened = await openActivityDeps(config, logger);
  const activities = createActivities(opened.deps);
  const calls: DirectCall[] = [];
  const callFrom = async <K extends keyof Activities>(
    run: WorkflowRun,
    type: K,
    ...args: Parameters<Activities[K]>
  ): Promise<ActivityResult<K>> => {
    const env = new MockActivityEnvironment(
      { activityType: type, workflowExecution: run },
      { interceptors: [heartbeatKeepaliveInterceptor] },
    );
    const started = Date.now();
    const t0 = performance.now();
    const result = await env.run(activities[type] as (...a: unknown[]) => Promise<unknown>, ...args);
    calls.push({ type, ms: performance.now() - t0, started, closed: Date.now(), result });
    return result as ActivityResult<K>;
  };
  const call = <K extends keyof Activities>(type: K, ...args: Parameters<Activities[K]>) =>
    callFrom(execution, type, ...args);
  try {
    return await work({ call, callFrom, calls });
  } finally {
    await opened.close();
  }
}
