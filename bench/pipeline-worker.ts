/**
 * One run of the ingestion-pipeline or monitoring benchmark (bench/ingestion-pipeline.bench.ts,
 * bench/monitoring.bench.ts), in a process of its own (bench/child.ts) so its peak RSS is its own.
 *
 * Task kinds:
 * - `ingestion`:  a fresh worker (as `mlpipe worker` builds it) and a client run a warm-up workflow
 *                 (`warmUp`, not measured), then `ingestionPipeline` through `startIngestion`, and await
 *                 its result;
 * - `monitoring`: the same for `monitoringPipeline` through `startMonitoring`;
 * - `replay`:     the baseline: the activity calls of a pipeline run (types and arguments, as its
 *                 history scheduled them) made directly in this process, in the same order
 *                 (bench/direct-activities.ts), each handed the URIs the replayed calls before it
 *                 returned where the run's call was handed the run's.
 * In the pipeline runs the peak-RSS mark is reset once the worker is up and warmed up (workflow bundling excluded);
 * in the replay once the dependencies are open.
 */
import fs from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { startIngestion } from '../src/client/ingestion';
import { startMonitoring } from '../src/client/monitoring';
import { runAsChild } from './child';
import { withDirectActivities, type Activities, type DirectCall } from './direct-activities';
import type { ActivityCall } from './harness';
import { measured, type Resources } from './process-stats';
import {
  quietLogger,
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
  steps: DirectCall[];
  /** Sum of the steps. */
  seconds: number;
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

/**
 * Pairs every artifact URI in what the run's call returned with the string at the same place in what
 * the replayed call returned, so later calls read the replay's own outputs.
 */
function pairUris(ran: unknown, replayed: unknown, into: Map<string, string>): void {
  if (typeof ran === 'string' && ran.startsWith('artifact:') && typeof replayed === 'string') into.set(ran, replayed);
  else if (ran && replayed && typeof ran === 'object' && typeof replayed === 'object')
    for (const [key, value] of Object.entries(ran)) pairUris(value, (replayed as Record<string, unknown>)[key], into);
}

/** The run's arguments with every URI it returned replaced by the replay's. */
const ownInputs = (args: unknown[], uris: Map<string, string>): unknown[] =>
  JSON.parse(JSON.stringify(args), (_key, value: unknown) =>
    typeof value === 'string' ? (uris.get(value) ?? value) : value,
  ) as unknown[];

function runReplay(task: ReplayTask): Promise<ReplayResult> {
  const calls = JSON.parse(fs.readFileSync(task.callsFile, 'utf8')) as ActivityCall[];
  const config = loadConfig({ MLPIPE_DATA_DIR: task.dataDir, TEMPORAL_ADDRESS: task.address });
  const uris = new Map<string, string>();
  return withDirectActivities(config, quietLogger(), task.execution, (activities) =>
    measured(async () => {
      for (const c of calls) {
        const args = ownInputs(c.args, uris) as [never];
        pairUris(c.result, await activities.call(c.type as keyof Activities, ...args), uris);
      }
      const steps = activities.calls;
      return { kind: 'replay' as const, steps, seconds: steps.reduce((s, x) => s + x.ms, 0) / 1000 };
    }),
  );
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

runAsChild<WorkerTask>(run);
