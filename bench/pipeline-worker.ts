/**
 * One run of the ingestion-pipeline or monitoring benchmark, or a replay of any pipeline's activity
 * calls, in a process of its own (bench/child.ts) so its peak RSS is its own; bench/pipeline-replay.ts
 * is the parent side (and bench/features.bench.ts replays both feature backfills' calls).
 * - `ingestion`, `monitoring`: a fresh worker (as `mlpipe worker` builds it) and a client run a warm-up
 *   workflow (`warmUp`, not measured), then the pipeline through its client function (`startIngestion`,
 *   `startMonitoring`), and await its result; the peak-RSS mark is reset once the worker is warmed up.
 * - `replay`: the baseline: the activity calls of a pipeline run (types and arguments, as its history
 *   scheduled them) made directly in this process, in the same order (bench/direct-activities.ts), each
 *   handed the URIs the replayed calls before it returned where the run's call was handed the run's;
 *   the peak-RSS mark is reset once the dependencies are open.
 */
import fs from 'node:fs';
import { loadConfig } from '../src/config';
import { startIngestion } from '../src/client/ingestion';
import { startMonitoring } from '../src/client/monitoring';
import { runAsChild } from './child';
import { withDirectActivities, type Activities, type WorkflowRun } from './direct-activities';
import type { ActivityCall } from './harness';
import { measured } from './process-stats';
import { quietLogger, warmUp, withWorkerAndClient, type ServerEnv } from './worker-harness';

/** What a pipeline's start function takes besides the task queue, which the task names. */
type Options<F extends (...args: never[]) => unknown> = Omit<Parameters<F>[2], 'taskQueue'>;
export type PipelineTask = ServerEnv &
  (
    | { kind: 'ingestion'; options: Options<typeof startIngestion> }
    | { kind: 'monitoring'; options: Options<typeof startMonitoring> }
  );

export interface ReplayTask {
  kind: 'replay';
  dataDir: string;
  /** The benchmark's dev server, for the activities that ask it something (monitoring's retrainings in flight). */
  address: string;
  /** A JSON file holding the run's `ActivityCall[]` (a report's input can be too large for argv). */
  callsFile: string;
  /** The run the activities believe called them (a call naming its own `run` excepted): their workspaces and reports are named after it. */
  execution: WorkflowRun;
}

export type PipelineRunResult = Awaited<ReturnType<typeof runPipeline>>;
export type ReplayResult = Awaited<ReturnType<typeof runReplay>>;

function runPipeline(task: PipelineTask) {
  return withWorkerAndClient(task, quietLogger(), async (w) => {
    const warmUpRun = await warmUp(
      w,
      task.taskQueue,
      task.kind === 'ingestion' ? 'ingestionPipeline' : 'monitoringPipeline',
    );
    return measured(async () => {
      const t0 = performance.now();
      const handle =
        task.kind === 'ingestion'
          ? await startIngestion(w.client, w.config, { ...task.options, taskQueue: task.taskQueue })
          : await startMonitoring(w.client, w.config, { ...task.options, taskQueue: task.taskQueue });
      const result: unknown = await handle.result();
      return {
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        result,
        /** Client view: start call -> result resolved. */
        clientSeconds: (performance.now() - t0) / 1000,
        /** Building the worker (workflow code bundled) and connecting the client, before the run: not measured. */
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

function runReplay(task: ReplayTask) {
  const calls = JSON.parse(fs.readFileSync(task.callsFile, 'utf8')) as ActivityCall[];
  const config = loadConfig({ MLPIPE_DATA_DIR: task.dataDir, TEMPORAL_ADDRESS: task.address });
  const uris = new Map<string, string>();
  // The run's arguments with every URI it returned replaced by the replay's.
  const ownInputs = (args: unknown[]) =>
    JSON.parse(JSON.stringify(args), (_key, value: unknown) =>
      typeof value === 'string' ? (uris.get(value) ?? value) : value,
    ) as [never];
  return withDirectActivities(config, quietLogger(), task.execution, (activities) =>
    measured(async () => {
      for (const c of calls) {
        const replayed = await activities.callFrom(
          c.run ?? task.execution,
          c.type as keyof Activities,
          ...ownInputs(c.args),
        );
        pairUris(c.result, replayed, uris);
      }
      // Each call, in order, with its wall time in this process and what it returned; and their sum.
      return { steps: activities.calls, seconds: activities.calls.reduce((s, x) => s + x.ms, 0) / 1000 };
    }),
  );
}

runAsChild<PipelineTask | ReplayTask>((task) => (task.kind === 'replay' ? runReplay(task) : runPipeline(task)));
