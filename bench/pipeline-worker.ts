/**
 * One run of the ingestion-pipeline or monitoring benchmark (bench/ingestion-pipeline.bench.ts,
 * bench/monitoring.bench.ts), in a process of its own so its peak RSS
 * (`process.resourceUsage().maxRSS`) is its own and not what an earlier run left behind.
 *
 *   node --import tsx bench/pipeline-worker.ts '<task JSON>'
 *
 * Task kinds:
 * - `ingestion`:  a fresh worker (as `mlpipe worker` builds it) and a client run a warm-up workflow
 *                 (`warmUp`, not measured), then `ingestionPipeline` through `startIngestion`, and await
 *                 its result;
 * - `monitoring`: the same for `monitoringPipeline` through `startMonitoring`;
 * - `replay`:     the baseline: the activity calls of a pipeline run (types and arguments, as its
 *                 history scheduled them) made directly in this process, in the same order, on
 *                 activities built from the worker's dependencies, with no Temporal: no server, no
 *                 workflow code, no task queues (an activity that asks the server something still
 *                 does). `MockActivityEnvironment` gives each call the activity Context it reads (its
 *                 run's ids for workspace paths, heartbeats).
 * In the pipeline runs the peak-RSS mark is reset once the worker is up and warmed up (workflow bundling excluded);
 * in the replay once the dependencies are open. The result is printed as one line `BENCH_RESULT <json>`.
 */
import { openActivityDeps } from '../activities/open-deps';
import { runAsBenchWorker } from './child';
import fs from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import { heartbeatKeepaliveInterceptor } from '../activities/heartbeat';
import { loadConfig } from '../src/config';
import { startIngestion } from '../src/client/ingestion';
import { startMonitoring } from '../src/client/monitoring';
import type { ActivityCall } from './harness';
import {
  cpuSecondsSince,
  peakRssBytes,
  quietLogger,
  resetPeakRss,
  warmUp,
  withWorkerAndClient,
  type ServerEnv,
  type WarmUpRun,
  type WorkerAndClient,
} from './worker-harness';

export interface IngestionTask extends ServerEnv {
  kind: 'ingestion';
  spec: string;
  batch: string;
  asOf: string;
}

export interface MonitoringTask extends ServerEnv {
  kind: 'monitoring';
  spec: string;
  from: string;
  to: string;
}

export interface ReplayTask {
  kind: 'replay';
  dataDir: string;
  /** The benchmark's dev server, for the activities that ask it something (monitoring's retrainings in flight). */
  address: string;
  /** A JSON file holding the run's `ActivityCall[]` (a report's input can be too large for argv). */
  callsFile: string;
  /** The run the activities believe called them: their workspaces and reports are named after it. */
  execution: { workflowId: string; runId: string };
}

export type WorkerTask = IngestionTask | MonitoringTask | ReplayTask;

/** Peak RSS (bytes) and CPU seconds of the measured stretch. */
interface Resources {
  /** Peak RSS from the mark's reset to the end, bytes. */
  maxRssBytes: number;
  /** Whether the peak-RSS reset worked; if not, maxRssBytes is the whole process's peak. */
  peakReset: boolean;
  /** RSS just before the measured stretch (the idle worker, or the replay's open dependencies). */
  rssBeforeBytes: number;
  /** CPU seconds of this process (every thread: JS, DuckDB, the Temporal core) over the stretch. */
  cpuSeconds: number;
}

export interface PipelineRunResult extends Resources {
  kind: 'ingestion' | 'monitoring';
  workflowId: string;
  runId: string;
  /** The workflow's result. */
  result: unknown;
  /** Client view: start call -> result resolved. */
  clientSeconds: number;
  /** Building the worker (workflow code bundled) and connecting the client, before the run; not measured. */
  workerStartSeconds: number;
  /** The worker's warm-up run, before the measured one; not measured. */
  warmUp: WarmUpRun;
}

export interface ReplayResult extends Resources {
  kind: 'replay';
  /** Each call, in order: its wall time in this process and what it returned. */
  steps: { type: string; ms: number; result: unknown }[];
  /** Sum of the steps. */
  seconds: number;
}

/** Runs `work` with the peak-RSS mark reset first, and the stretch's resources. */
async function measured<T>(work: () => Promise<T>): Promise<T & Resources> {
  const rssBeforeBytes = process.memoryUsage.rss();
  const peakReset = resetPeakRss();
  const cpu0 = process.cpuUsage();
  const out = await work();
  return { ...out, cpuSeconds: cpuSecondsSince(cpu0), maxRssBytes: peakRssBytes(), peakReset, rssBeforeBytes };
}

function runPipeline(
  task: IngestionTask | MonitoringTask,
  workflowType: string,
  start: (w: WorkerAndClient) => Promise<WorkflowHandle & { firstExecutionRunId: string }>,
): Promise<PipelineRunResult> {
  return withWorkerAndClient(task, quietLogger(), async (w) => {
    const warmUpRun = await warmUp(w, task.taskQueue, workflowType);
    return measured(async () => {
      const t0 = performance.now();
      const handle = await start(w);
      const result: unknown = await handle.result();
      return {
        kind: task.kind,
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        result,
        clientSeconds: (performance.now() - t0) / 1000,
        workerStartSeconds: w.startSeconds,
        warmUp: warmUpRun,
      };
    });
  });
}

async function runReplay(task: ReplayTask): Promise<ReplayResult> {
  const calls = JSON.parse(fs.readFileSync(task.callsFile, 'utf8')) as ActivityCall[];
  // The worker's dependencies, opened by the same function as `createWorker` (src/worker.ts) uses.
  const config = loadConfig({ MLPIPE_DATA_DIR: task.dataDir, TEMPORAL_ADDRESS: task.address });
  const opened = await openActivityDeps(config, quietLogger());
  const activities = createActivities(opened.deps) as unknown as Record<
    string,
    (...args: unknown[]) => Promise<unknown>
  >;
  try {
    return await measured(async () => {
      const steps: ReplayResult['steps'] = [];
      for (const call of calls) {
        const fn = activities[call.type];
        if (!fn) throw new Error(`no activity ${call.type}`);
        const env = new MockActivityEnvironment(
          { activityType: call.type, workflowExecution: task.execution },
          { interceptors: [heartbeatKeepaliveInterceptor] },
        );
        const t0 = performance.now();
        const result = await env.run(fn, ...call.args);
        steps.push({ type: call.type, ms: performance.now() - t0, result });
      }
      return { kind: 'replay' as const, steps, seconds: steps.reduce((s, x) => s + x.ms, 0) / 1000 };
    });
  } finally {
    await opened.close();
  }
}

function run(task: WorkerTask): Promise<PipelineRunResult | ReplayResult> {
  switch (task.kind) {
    case 'ingestion':
      return runPipeline(task, 'ingestionPipeline', (w) =>
        startIngestion(w.client, w.config, {
          spec: task.spec,
          batch: task.batch,
          asOf: task.asOf,
          taskQueue: task.taskQueue,
        }),
      );
    case 'monitoring':
      return runPipeline(task, 'monitoringPipeline', (w) =>
        startMonitoring(w.client, w.config, {
          spec: task.spec,
          from: task.from,
          to: task.to,
          taskQueue: task.taskQueue,
        }),
      );
    case 'replay':
      return runReplay(task);
  }
}

if (require.main === module) runAsBenchWorker<WorkerTask>('pipeline-worker.ts', run);
