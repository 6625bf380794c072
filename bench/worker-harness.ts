/**
 * The worker-process side of the benchmarks that run pipelines on Temporal (bench/features-worker.ts,
 * bench/training-worker.ts, ...): a Temporal worker and a client on the benchmark's dev server, and a
 * warm-up run before the measured one. The parent side is bench/harness.ts.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig, type Config } from '../src/config';
import { createLogger } from '../src/logger';
import { createWorker, type StartedWorker } from '../src/worker';
import { connectClient } from '../src/temporal/client';
import { ErrorTypes } from '../src/api/errors';

/** Where a task finds the benchmark's dev server and data directory, and the task queue its worker polls. */
export interface ServerEnv {
  address: string;
  dataDir: string;
  taskQueue: string;
}

export interface WorkerAndClient {
  config: Config;
  client: Client;
  worker: StartedWorker;
  running: Promise<void>;
  /** How long building the worker (its workflow code bundled) and connecting the client took. */
  startSeconds: number;
}

/** Errors only, to stderr: stdout carries the result line. */
export const quietLogger = () => createLogger('error', pino.destination({ dest: 2, sync: true }));

/**
 * Runs `work` with a worker built the way `mlpipe worker` builds it (workflow code bundled at start)
 * and a client, then shuts the worker down and closes the client.
 */
export async function withWorkerAndClient<T>(
  env: ServerEnv,
  logger: pino.Logger,
  work: (w: WorkerAndClient) => Promise<T>,
): Promise<T> {
  const t0 = performance.now();
  const config = loadConfig({ TEMPORAL_ADDRESS: env.address, MLPIPE_DATA_DIR: env.dataDir });
  const worker = await createWorker(config, logger, { taskQueue: env.taskQueue });
  const running = worker.run();
  const client = await connectClient(config);
  try {
    return await work({ config, client, worker, running, startSeconds: (performance.now() - t0) / 1000 });
  } finally {
    worker.worker.shutdown();
    await running;
    await client.connection.close();
  }
}

/** A worker process's warm-up run, whose history the parent reads (bench/harness.ts `coldFirstTaskMs`). */
export interface WarmUpRun {
  workflowId: string;
  runId: string;
}

/**
 * Runs one warm-up workflow on the worker before the measured run, so that run sees the worker as a
 * production run does: a worker is long-lived, and only its first workflow task pays for loading the
 * workflow bundle into the worker's V8 context (~200 ms, against ~30 ms for later tasks). The warm-up
 * is `workflowType` with an empty input: it fails its input check in its first workflow task, before
 * any activity, so it touches no data and warms the workflow side only (the activities stay as cold
 * as the bare replay's, which runs in a fresh process too).
 */
export async function warmUp(w: WorkerAndClient, taskQueue: string, workflowType: string): Promise<WarmUpRun> {
  const handle = await w.client.workflow.start(workflowType, {
    taskQueue,
    workflowId: `warm-up-${randomUUID()}`,
    args: [{}],
  });
  const failure: unknown = await handle.result().then(
    () => undefined,
    (error: unknown) => error,
  );
  // Anything but the input check's failure means the warm-up did other work than it should: stop.
  const cause = failure instanceof WorkflowFailedError ? failure.cause : undefined;
  if (!(cause instanceof ApplicationFailure && cause.type === ErrorTypes.InvalidInput))
    throw new Error(`the warm-up ${workflowType} did not fail its input check: ${String(failure)}`);
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}
