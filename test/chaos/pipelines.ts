import type { Client } from '@temporalio/client';
import type { Config } from '../../src/config';
import { startIngestion } from '../../src/client/ingestion';
import { startBackfill } from '../../src/client/features';
import { decide, startTraining } from '../../src/client/training';
import { openMetadataStore } from '../../src/store/database';
import { progressQuery } from '../../src/api/progress';
import type { IngestionResult } from '../../src/api/ingestion';
import type { TrainingResult } from '../../src/api/training';
import { TRAINED, type Phase } from './faults';
import type { ArtifactStore } from '../../src/data/artifact-store';
import { persistedChunks, publishedPartitions, trainingProgress } from './probes';
import { throughOutages, until } from './retry';

export const FEATURE_SET = 'flight_delay@1';
export const MODEL = 'flight-delay';

/** The three pipelines of a chaos run, with small but real inputs. */
export interface PipelineInputs {
  /** The source, relative to the data directory. */
  source: string;
  asOf: string;
  batch: string;
  chunkRows: number;
  heartbeatTimeoutMs: number;
  /** Feature backfill and training window. */
  from: string;
  to: string;
  concurrency: number;
  trainingRun: string;
  trainingHeartbeatTimeoutMs: number;
  /** Bounds every wait on a pipeline. */
  phaseTimeoutMs: number;
}

export interface PipelineRun {
  ingestion: IngestionResult;
  ingestionWorkflowId: string;
  backfillWorkflowId: string;
  training: TrainingResult;
  trainingWorkflowId: string;
  trainingRunId: string;
}

/** Called once per phase while it runs, with its progress probe; resolves when its faults are done. */
export type PhaseWatcher = (
  phase: Phase,
  progress: () => Promise<number> | number,
  finished: () => boolean,
) => Promise<void>;

/** Runs a phase's workflow to its result through server outages, with the watcher alongside. */
async function phase<T>(
  name: Phase,
  result: () => Promise<T>,
  progress: () => Promise<number> | number,
  watcher?: PhaseWatcher,
): Promise<T> {
  let settled = false;
  const running = result().finally(() => (settled = true));
  const watching = watcher ? watcher(name, progress, () => settled) : Promise.resolve();
  try {
    return await running;
  } finally {
    await watching;
  }
}

export async function runPipelines(
  client: Client,
  config: Config,
  taskQueue: string,
  inputs: PipelineInputs,
  observer: ArtifactStore,
  watcher?: PhaseWatcher,
): Promise<PipelineRun> {
  const t = inputs.phaseTimeoutMs;
  const ingestionHandle = await throughOutages('start ingestion', () =>
    startIngestion(client, config, {
      spec: 'flights',
      batch: inputs.batch,
      source: inputs.source,
      asOf: inputs.asOf,
      chunkRows: inputs.chunkRows,
      heartbeatTimeoutMs: inputs.heartbeatTimeoutMs,
      taskQueue,
    }),
  );
  const ingestion = await phase(
    'ingestion',
    () => throughOutages('ingestion result', () => ingestionHandle.result(), t),
    () => persistedChunks(observer, inputs.batch),
    watcher,
  );

  const store = await openMetadataStore(config.databaseUrl);
  try {
    const backfillHandle = await throughOutages('start backfill', () =>
      startBackfill(client, config, {
        spec: 'flights',
        from: inputs.from,
        to: inputs.to,
        concurrency: inputs.concurrency,
        taskQueue,
      }),
    );
    await phase(
      'backfill',
      () => throughOutages('backfill result', () => backfillHandle.result(), t),
      () => publishedPartitions(store, FEATURE_SET),
      watcher,
    );

    const trainingHandle = await throughOutages('start training', () =>
      startTraining(client, config, {
        spec: 'flights',
        from: inputs.from,
        to: inputs.to,
        initiatedBy: 'ana',
        runId: inputs.trainingRun,
        trainingHeartbeatTimeoutMs: inputs.trainingHeartbeatTimeoutMs,
        taskQueue,
      }),
    );
    const { workflowId, firstExecutionRunId } = trainingHandle;
    const progress = () => trainingProgress(observer, MODEL, { workflowId, runId: firstExecutionRunId }, TRAINED);
    const training = await phase(
      'training',
      async () => {
        // A reviewer approves once the run waits for one (the query needs a live worker: retried until it answers).
        let closed = false;
        await until(
          `${workflowId} to wait for approval`,
          async () =>
            (closed = (await trainingHandle.describe()).status.name !== 'RUNNING') ||
            (await trainingHandle.query(progressQuery)).stage === 'AwaitingApproval',
          t,
          250,
        );
        if (!closed)
          await throughOutages('approve', () =>
            decide(client, workflowId, { decision: 'approve', reviewer: 'ben', comment: 'chaos run' }).catch(
              (error: Error) => {
                // The decision went through but its answer was lost in an outage: the retry is told so.
                if (
                  /already decided: approve by ben/.test(
                    String((error.cause as Error | undefined)?.message ?? error.message),
                  )
                )
                  return undefined;
                throw error;
              },
            ),
          );
        return throughOutages('training result', () => trainingHandle.result(), t);
      },
      progress,
      watcher,
    );
    return {
      ingestion,
      ingestionWorkflowId: ingestionHandle.workflowId,
      backfillWorkflowId: backfillHandle.workflowId,
      training,
      trainingWorkflowId: workflowId,
      trainingRunId: firstExecutionRunId,
    };
  } finally {
    await store.close();
  }
}
