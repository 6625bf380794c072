/**
 * One step of the training benchmark, in a process of its own so its peak RSS
 * (`process.resourceUsage().maxRSS`) is its own and not what an earlier step left behind.
 *
 *   node --import tsx bench/training-worker.ts '<task JSON>'
 *
 * Task kinds:
 * - `setup`:    a worker (as `mlpipe worker` builds it) and a client ingest flights-3m into a fresh data
 *               directory and backfill the window's feature partitions; not measured, it prepares the input;
 * - `pipeline`: a fresh worker and a client run a warm-up workflow (`warmUp`, not measured), then
 *               `trainingPipeline` on the window, wait until it awaits
 *               approval, approve it through the `decide` Update and await the result. The peak-RSS mark
 *               is reset once the worker is up (workflow bundling excluded);
 * - `bare`:     the baseline: the same data steps and model fit called directly, no Temporal: the
 *               activities' SQL (extract, transform, matrix) on one DuckDB connection, the matrix file
 *               written and read back, the time split, the standardizer, `train()` with the spec's
 *               hyper-parameters, and the evaluation of the test and validation splits.
 * The result is printed as one line `BENCH_RESULT <json>`.
 */
import { runAsBenchWorker } from './child';
import fs from 'node:fs';
import path from 'node:path';
import type pino from 'pino';
import type { WorkflowHandle } from '@temporalio/client';
import { createLogger } from '../src/logger';
import { startIngestion } from '../src/client/ingestion';
import { startBackfill } from '../src/client/features';
import { approvalView, decide, startTraining } from '../src/client/training';
import { ArtifactStore } from '../src/data/artifact-store';
import { openDuckDb, sqlString } from '../src/data/duckdb';
import { readMatrixFromDuckDB } from '../src/data/read-matrix';
import { partitionRange } from '../src/features/partition-dates';
import { readMatrixFile, writeMatrixFile } from '../src/ml/matrix-file';
import { rowRange } from '../src/ml/feature-matrix';
import { splitDays } from '../src/ml/time-split';
import { Standardizer } from '../src/ml/standardizer';
import { predict, train } from '../src/ml/logistic-regression';
import { evaluateRows } from '../src/ml/evaluation';
import { DAY, LABEL, extractionSql, matrixSql, segmentColumn, transformedSql } from '../src/training/training-sql';
import { loadTrainingSpec } from '../src/training/training-spec';
import { PipelineStage } from '../src/api/search-attributes';
import {
  cpuSecondsSince,
  peakRssBytes,
  quietLogger,
  resetPeakRss,
  warmUp,
  withWorkerAndClient,
  type ServerEnv,
  type WarmUpRun,
} from './worker-harness';

export interface Window {
  spec: string;
  from: string;
  to: string;
}

export interface SetupTask extends ServerEnv, Window {
  kind: 'setup';
  asOf: string;
  concurrency: number;
}

export interface PipelineTask extends ServerEnv, Window {
  kind: 'pipeline';
  /** Names the workflow: training/<model>/<runId>. */
  runId: string;
  initiatedBy: string;
  reviewer: string;
}

export interface BareTask extends Window {
  kind: 'bare';
  dataDir: string;
  runDir: string;
}

export type WorkerTask = SetupTask | PipelineTask | BareTask;

export interface SetupResult {
  kind: 'setup';
  rowsAccepted: number;
  rowsRejected: number;
  ingestSeconds: number;
  partitionsComputed: number;
  backfillSeconds: number;
}

export interface PipelineRunResult {
  kind: 'pipeline';
  workflowId: string;
  runId: string;
  /** The registered model's model.json (weights, metrics, training-data hash). */
  modelFile: string;
  version: number;
  /** Client clock (epoch ms): startTraining() called, AwaitingApproval first seen, decide() called and answered, result() resolved. */
  client: { startedAt: number; awaitingSeenAt: number; decideAt: number; decidedAt: number; resultAt: number };
  /** What the reviewer saw: the test evaluation's rows and AUC. */
  approval: { testRows: number; testAuc: number };
  /** Worker clock (epoch ms) of each trainModel checkpoint log line, in iteration order. */
  checkpointTimes: number[];
  /** Peak RSS from the start of the run to its end (the mark is reset once the worker is up), bytes. */
  maxRssBytes: number;
  /** Whether the peak-RSS reset worked; if not, maxRssBytes is the whole process's peak. */
  peakReset: boolean;
  /** Peak RSS of the whole process, worker start-up (workflow bundling) included. */
  processMaxRssBytes: number;
  rssBeforeBytes: number;
  /** Largest RSS sampled (every 100 ms) while the run was last seen in each stage, in stage order. */
  rssByStage: { stage: string; maxRssBytes: number }[];
  workerStartSeconds: number;
  /** The worker's warm-up run, before the measured one; not measured. */
  warmUp: WarmUpRun;
  /** CPU seconds of this process (worker, client, DuckDB threads) from start to AwaitingApproval, and from the decision to the result. */
  cpuSeconds: { beforeApproval: number; afterApproval: number };
}

/** The bare steps, in the order they ran; `train` is `train()` alone, the matrix already standardized. */
export const BARE_STEPS = [
  'extract',
  'transform',
  'assemble',
  'load',
  'split',
  'standardize',
  'train',
  'evaluate',
] as const;
export type BareStep = (typeof BARE_STEPS)[number];

export interface BareResult {
  kind: 'bare';
  stepSeconds: Record<BareStep, number>;
  seconds: number;
  rows: number;
  trainRows: number;
  testRows: number;
  matrixSha256: string;
  iterations: number;
  converged: boolean;
  loss: number;
  weights: number[];
  intercept: number;
  testAuc: number;
  /** Client clock (ms since train() was called) at each checkpoint callback. */
  checkpointMs: number[];
  maxRssBytes: number;
  rssBeforeBytes: number;
  cpuSeconds: number;
}

function runSetup(task: SetupTask): Promise<SetupResult> {
  return withWorkerAndClient(task, quietLogger(), async (w) => {
    let t0 = performance.now();
    const ingestion = await startIngestion(w.client, w.config, {
      spec: task.spec,
      batch: 'bench',
      asOf: task.asOf,
      taskQueue: task.taskQueue,
    });
    const ingested = await ingestion.result();
    const ingestSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const backfill = await startBackfill(w.client, w.config, {
      spec: task.spec,
      from: task.from,
      to: task.to,
      concurrency: task.concurrency,
      taskQueue: task.taskQueue,
    });
    const filled = await backfill.result();
    if (filled.computed + filled.alreadyDone !== partitionRange(task.from, task.to).length)
      throw new Error(`the backfill published ${filled.computed + filled.alreadyDone} of ${filled.total} partitions`);
    return {
      kind: 'setup',
      rowsAccepted: ingested.rowsAccepted,
      rowsRejected: ingested.rowsRejected,
      ingestSeconds,
      partitionsComputed: filled.computed,
      backfillSeconds: (performance.now() - t0) / 1000,
    };
  });
}

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

async function runPipeline(task: PipelineTask): Promise<PipelineRunResult> {
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
    try {
      const processMaxBefore = peakRssBytes();
      const rssBeforeBytes = process.memoryUsage.rss();
      const peakReset = resetPeakRss();
      const cpu0 = process.cpuUsage();
      const startedAt = Date.now();
      const handle = await startTraining(w.client, w.config, {
        spec: task.spec,
        from: task.from,
        to: task.to,
        initiatedBy: task.initiatedBy,
        runId: task.runId,
        taskQueue: task.taskQueue,
      });
      await untilAwaitingApproval(handle, (s) => (stage = s));
      const awaitingSeenAt = Date.now();
      const cpuBeforeApproval = cpuSecondsSince(cpu0);
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
      const cpuAfterApproval = cpuSecondsSince(cpu1);
      const maxRssBytes = peakRssBytes();
      return {
        kind: 'pipeline',
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        modelFile: path.join(await ArtifactStore.local(w.config.dataDir).open(result.artifactUri), 'model.json'),
        version: result.version,
        client: { startedAt, awaitingSeenAt, decideAt, decidedAt, resultAt },
        approval: { testRows: evaluation.test.rows, testAuc: evaluation.test.overall.auc },
        checkpointTimes,
        maxRssBytes,
        peakReset,
        processMaxRssBytes: Math.max(processMaxBefore, maxRssBytes),
        rssBeforeBytes,
        rssByStage: [...rssByStage.entries()].map(([s, bytes]) => ({ stage: s, maxRssBytes: bytes })),
        workerStartSeconds: w.startSeconds,
        warmUp: warmUpRun,
        cpuSeconds: { beforeApproval: cpuBeforeApproval, afterApproval: cpuAfterApproval },
      };
    } finally {
      clearInterval(sampler);
    }
  });
}

async function runBare(task: BareTask): Promise<BareResult> {
  const t = loadTrainingSpec(task.spec);
  const artifacts = ArtifactStore.local(task.dataDir);
  const files: string[] = [];
  for (const day of partitionRange(task.from, task.to)) {
    files.push(
      ...(await artifacts.parquetFiles(
        await artifacts.openKey({ kind: 'features', name: t.fs.name, version: t.fs.version, partition: day }),
      )),
    );
  }
  fs.mkdirSync(task.runDir, { recursive: true });
  const file = (name: string) => path.join(task.runDir, name);
  const db = await openDuckDb({ tempDirectory: file('duckdb-tmp') });
  const conn = await db.connect();

  const stepSeconds = {} as Record<BareStep, number>;
  const timed = async <T>(step: BareStep, work: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const result = await work();
    stepSeconds[step] = (performance.now() - t0) / 1000;
    return result;
  };
  const rssBeforeBytes = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();

  await timed('extract', () =>
    conn.run(`COPY (${extractionSql(t, files)}) TO ${sqlString(file('window.parquet'))} (FORMAT parquet)`),
  );
  await timed('transform', () =>
    conn.run(
      `COPY (${transformedSql(t, file('window.parquet'))}) TO ${sqlString(file('transformed.parquet'))} (FORMAT parquet)`,
    ),
  );
  const { sha256 } = await timed('assemble', async () => {
    const assembled = await readMatrixFromDuckDB(conn, matrixSql(t, file('transformed.parquet')), {
      features: t.features,
      label: LABEL,
      day: DAY,
      segments: t.model.segments.map((s) => segmentColumn(s.name)),
    });
    assembled.segments = t.model.segments.map((s) => s.name);
    return writeMatrixFile(file('matrix.bin'), assembled);
  });
  conn.closeSync();
  const matrix = await timed('load', () => readMatrixFile(file('matrix.bin')));
  const split = await timed('split', () => {
    const parts = splitDays(matrix.days, t.model.split);
    const part = (p: { from: string; to: string }) => ({ ...p, ...rowRange(matrix, p.from, p.to) });
    return { train: part(parts.train), validation: part(parts.validation), test: part(parts.test) };
  });
  const trainRows = split.train.end - split.train.start;
  const trainColumns = matrix.columns.map((c) => c.subarray(split.train.start, split.train.end));
  const { standardizer, data } = await timed('standardize', () => {
    const s = Standardizer.fit(trainColumns, trainRows);
    return {
      standardizer: s,
      data: {
        columns: s.transform(trainColumns, trainRows),
        labels: matrix.labels.subarray(split.train.start, split.train.end),
      },
    };
  });
  const checkpointMs: number[] = [];
  const trainStart = performance.now();
  const model = await timed('train', () =>
    train(data, t.model.hyperParameters!, {
      onCheckpoint: () => void checkpointMs.push(performance.now() - trainStart),
    }),
  );
  const test = await timed('evaluate', () => {
    const evaluate = (name: string, part: { from: string; to: string; start: number; end: number }) => {
      const rows = part.end - part.start;
      const scores = predict(
        model,
        standardizer.transform(
          matrix.columns.map((c) => c.subarray(part.start, part.end)),
          rows,
        ),
      );
      return evaluateRows(matrix, part, scores, t.model.threshold, { split: name, from: part.from, to: part.to });
    };
    evaluate('validation', split.validation);
    return evaluate('test', split.test);
  });
  const cpu = cpuSecondsSince(cpu0);
  return {
    kind: 'bare',
    stepSeconds,
    seconds: BARE_STEPS.reduce((s, step) => s + stepSeconds[step], 0),
    rows: matrix.rows,
    trainRows,
    testRows: test.rows,
    matrixSha256: sha256,
    iterations: model.iterations,
    converged: model.converged,
    loss: model.loss,
    weights: model.weights,
    intercept: model.intercept,
    testAuc: test.overall.auc,
    checkpointMs,
    maxRssBytes: peakRssBytes(),
    rssBeforeBytes,
    cpuSeconds: cpu,
  };
}

if (require.main === module) {
  runAsBenchWorker<WorkerTask>('training-worker.ts', (task) =>
    task.kind === 'setup' ? runSetup(task) : task.kind === 'pipeline' ? runPipeline(task) : runBare(task),
  );
}
