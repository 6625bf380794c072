/**
 * The worker-process side of the benchmarks that run pipelines on Temporal (bench/features-worker.ts,
 * bench/training-worker.ts): a Temporal worker and a client on the benchmark's dev server, and the
 * process's own CPU time and peak RSS. The parent side is bench/harness.ts.
 */
import fs from 'node:fs';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../src/config';
import { createLogger } from '../src/logger';
import { createWorker, type StartedWorker } from '../src/worker';
import { connectClient } from '../src/temporal/client';

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
export async function withWorkerAndClient<T>(env: ServerEnv, logger: pino.Logger, work: (w: WorkerAndClient) => Promise<T>): Promise<T> {
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

/** Resets the kernel's peak-RSS mark (VmHWM, and with it getrusage's maxrss) to the current RSS. */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS of this process (since the start, or since `resetPeakRss`), bytes. */
export const peakRssBytes = () => process.resourceUsage().maxRSS * 1024;

/** CPU seconds (user + system, every thread) this process has used since `since`. */
export function cpuSecondsSince(since: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(since);
  return (cpu.user + cpu.system) / 1e6;
}
