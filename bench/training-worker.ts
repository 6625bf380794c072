/**
 * One run of the training benchmark (bench/training.bench.ts; its `pipeline` also trains the model
 * bench/monitoring.bench.ts watches), in a process of its own (bench/child.ts) so its peak RSS is its own.
 *
 * Task kinds:
 * - `pipeline`: a fresh worker (as `mlpipe worker` builds it) and a client run a warm-up workflow (`warmUp`, not measured), then
 *               `trainingPipeline` on the window, wait until it awaits
 *               approval, approve it through the `decide` Update and await the result. The peak-RSS mark
 *               is reset once the worker is up (workflow bundling excluded);
 * - `bare`:     the baseline: the pipeline's data and model steps up to the evaluation, the activities
 *               themselves called directly (bench/direct-activities.ts), each handed the URIs the steps
 *               before it returned, as the workflow chains them. The peak-RSS mark is reset once their
 *               dependencies are open.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pino from 'pino';
import type { WorkflowHandle } from '@temporalio/client';
import { createLogger } from '../src/logger';
import { loadConfig } from '../src/config';
import { approvalView, decide, startTraining } from '../src/client/training';
import { ArtifactStore } from '../src/data/artifact-store';
import { PipelineStage } from '../src/api/search-attributes';
import { runAsChild } from './child';
import { withDirectActivities } from './direct-activities';
import { cpuSecondsSince, measured, peakRssBytes } from './process-stats';
import { warmUp, withWorkerAndClient, type ServerEnv } from './worker-harness';

interface Window {
  spec: string;
  from: string;
  to: string;
}

export type WorkerTask =
  | (ServerEnv &
      Window & {
        kind: 'pipeline';
        /** Names the workflow: training/<model>/<runId>. */
        runId: string;
        initiatedBy: string;
        reviewer: string;
      })
  /** `runId` names the run the bare calls belong to (where they publish). */
  | (ServerEnv & Window & { kind: 'bare'; runId: string });
type Task<K> = Extract<WorkerTask, { kind: K }>;

export type PipelineRunResult = Awaited<ReturnType<typeof runPipeline>>;
export type BareResult = Awaited<ReturnType<typeof runBare>>;

/** The activities the bare run calls, in the order the workflow runs them. */
export const BARE_STEPS = [
  'extractTrainingWindow',
  'validateTrainingData',
  'transformTrainingData',
  'assembleFeatureMatrix',
  'splitByTime',
  'trainModel',
  'evaluateModel',
] as const;
export type BareStep = (typeof BARE_STEPS)[number];

/**
 * The worker logs at info, as `mlpipe worker` does by default; its JSON lines are read here rather than
 * printed: the time of each trainModel checkpoint line times the iterations inside the activity without
 * touching src/. Errors go to stderr.
 */
function checkpointCapturingLogger(checkpointTimes: number[]): pino.Logger {
  return createLogger('info', {
    write(line: string) {
      const entry = JSON.parse(line) as { level: number; time: number; msg?: string; activityType?: string };
      if (entry.activityType === 'trainModel' && entry.msg?.startsWith('checkpoint at iteration'))
        checkpointTimes.push(entry.time);
      if (entry.level >= 50) process.stderr.write(line);
    },
  });
}

/**
 * Polls the run's stage until it awaits approval; throws the run's failure if it ends first. The stage
 * is read from the run's search attributes (DescribeWorkflowExecution, answered by the server alone)
 * rather than the progress query, which would put a query task on the measured worker.
 */
async function untilAwaitingApproval(handle: WorkflowHandle, onStage: (stage: string) => void): Promise<void> {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    const description = await handle.describe();
    const stage = description.typedSearchAttributes.get(PipelineStage) ?? 'Starting';
    onStage(stage);
    if (stage === 'AwaitingApproval') return;
    if (description.status.name !== 'RUNNING') {
      await handle.result();
      throw new Error(`the run ended without waiting for approval (stage ${stage})`);
    }
    if (Date.now() > deadline) throw new Error(`the run did not reach AwaitingApproval in 20 minutes (stage ${stage})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function runPipeline(task: Task<'pipeline'>) {
  const checkpointTimes: number[] = [];
  return withWorkerAndClient(task, checkpointCapturingLogger(checkpointTimes), async (w) => {
    const warmUpRun = await warmUp(w, task.taskQueue, 'trainingPipeline');
    // RSS is sampled into the stage the run was last seen in.
    let stage = 'Starting';
    const rssByStage = new Map<string, number>();
    const sampler = setInterval(
      () => rssByStage.set(stage, Math.max(rssByStage.get(stage) ?? 0, process.memoryUsage.rss())),
      100,
    );
    const processMaxBefore = peakRssBytes();
    try {
      const { result, ...run } = await measured(async () => {
        const cpu0 = process.cpuUsage();
        const startedAt = Date.now();
        const { spec, from, to, initiatedBy, runId, taskQueue } = task;
        const handle = await startTraining(w.client, w.config, { spec, from, to, initiatedBy, runId, taskQueue });
        await untilAwaitingApproval(handle, (s) => (stage = s));
        const awaitingSeenAt = Date.now();
        // The reviewer's query is not the pipeline's work: its CPU is left out of the run's.
        const cpuToApprovalSeconds = cpuSecondsSince(cpu0);
        const evaluation = (await approvalView(w.client, handle.workflowId)).evaluation as {
          test: { rows: number; overall: { auc: number } };
        };
        stage = 'after the decision';
        const cpu1 = process.cpuUsage();
        const decideAt = Date.now();
        await decide(w.client, handle.workflowId, {
          decision: 'approve',
          reviewer: task.reviewer,
          comment: 'benchmark run',
        });
        const decidedAt = Date.now();
        const result = await handle.result();
        const resultAt = Date.now();
        const cpuAfterApprovalSeconds = cpuSecondsSince(cpu1);
        return {
          workflowId: handle.workflowId,
          runId: handle.firstExecutionRunId,
          result,
          /** Client clock (epoch ms): startTraining() called, AwaitingApproval first seen, decide() called and answered, result() resolved. */
          client: { startedAt, awaitingSeenAt, decideAt, decidedAt, resultAt },
          /** What the reviewer saw: the test evaluation's rows and AUC. */
          approval: { testRows: evaluation.test.rows, testAuc: evaluation.test.overall.auc },
          /** The run's CPU seconds: from the start to AwaitingApproval seen, and from the decision to the result. */
          pipelineCpuSeconds: cpuToApprovalSeconds + cpuAfterApprovalSeconds,
          /** Of those, the ones from the decision to the result. */
          cpuAfterApprovalSeconds,
        };
      });
      return {
        ...run,
        /** The registered model's model.json (weights, metrics, training-data hash). */
        modelFile: path.join(await ArtifactStore.local(w.config.dataDir).open(result.artifactUri), 'model.json'),
        version: result.version,
        /** Peak RSS of the whole process, worker start-up (workflow bundling) included. */
        processMaxRssBytes: Math.max(processMaxBefore, run.maxRssBytes),
        /** Worker clock (epoch ms) of each trainModel checkpoint log line, in iteration order. */
        checkpointTimes,
        /** Largest RSS sampled while the run was last seen in each stage, in stage order. */
        rssByStage: [...rssByStage].map(([s, bytes]) => ({ stage: s, maxRssBytes: bytes })),
        workerStartSeconds: w.startSeconds,
        warmUp: warmUpRun,
      };
    } finally {
      clearInterval(sampler);
    }
  });
}

function runBare(task: Task<'bare'>) {
  const checkpointTimes: number[] = [];
  const config = loadConfig({ TEMPORAL_ADDRESS: task.address, MLPIPE_DATA_DIR: task.dataDir });
  const window = { spec: task.spec, from: task.from, to: task.to };
  const input = (inputs: Record<string, string>) => ({ ...window, inputs });
  const execution = { workflowId: `training/bench-bare/${task.runId}`, runId: task.runId };
  return withDirectActivities(config, checkpointCapturingLogger(checkpointTimes), execution, ({ call, calls }) =>
    measured(async () => {
      const extracted = await call('extractTrainingWindow', input({}));
      await call('validateTrainingData', input({ window: extracted.uri }));
      const transformed = await call('transformTrainingData', input({ window: extracted.uri }));
      const matrix = await call('assembleFeatureMatrix', input({ transformed: transformed.uri }));
      const split = await call('splitByTime', input({ matrix: matrix.uri }));
      const fit = { matrix: matrix.uri, split: split.uri, transformed: transformed.uri };
      const trained = await call('trainModel', input(fit));
      const evaluated = await call('evaluateModel', input({ ...fit, model: trained.uri }));
      const model = JSON.parse(fs.readFileSync(await ArtifactStore.local(task.dataDir).open(trained.uri), 'utf8')) as {
        weights: number[];
        intercept: number;
      };
      const training = calls.find((c) => c.type === 'trainModel')!;
      return {
        stepSeconds: Object.fromEntries(calls.map((c) => [c.type, c.ms / 1000])) as Record<BareStep, number>,
        seconds: calls.reduce((sum, c) => sum + c.ms, 0) / 1000,
        rows: matrix.rows,
        trainRows: split.train.rows,
        testRows: evaluated.test.rows,
        matrixSha256: matrix.sha256,
        iterations: trained.iterations,
        converged: trained.converged ?? false,
        loss: trained.loss,
        weights: model.weights,
        intercept: model.intercept,
        testAuc: evaluated.test.overall.auc,
        /** The trainModel call's start and end, and its checkpoint log lines, this process's clock (epoch ms). */
        training: { started: training.started, closed: training.closed },
        checkpointTimes,
      };
    }),
  );
}

if (require.main === module)
  runAsChild<WorkerTask>((task) => (task.kind === 'pipeline' ? runPipeline(task) : runBare(task)));
