import { z } from 'zod';
import { GateOverrideSchema, IngestStatsSchema } from '../src/quality/gate-report';
import { loadSpec } from '../src/specs';
import { redactUri } from '../src/data/redact-uri';
import { batchKeys } from '../src/data/batch-keys';
import type { ActivityDeps } from './deps';
import { callerRun } from './caller';
import { parseInput } from './parse-input';
import { recordBatchRows, recordPartitionLag } from './pipeline-metrics';

export const PublishBatchInputSchema = z.object({
  spec: z.string().min(1),
  batchId: z.string().min(1),
  sourceUri: z.string().min(1),
  fingerprint: z.string().min(1),
  stats: IngestStatsSchema,
  outputHash: z.string().min(1),
  deadLetterHash: z.string().min(1),
  reportUri: z.string().min(1),
  /** Two reviewers' override of failed gates that asked first: kept in the dataset's lineage. */
  override: GateOverrideSchema.optional(),
});
export type PublishBatchInput = z.infer<typeof PublishBatchInputSchema>;

export interface PublishedBatch {
  datasetUri: string;
  deadLettersUri: string;
  outputHash: string;
}

export function createPublishActivities({ artifacts, store }: ActivityDeps) {
  return {
    /**
     * Makes a batch visible: the staged dataset and dead letters replace any earlier version at once,
     * then lineage and run statistics are upserted. Idempotent: a retry re-publishes the same files.
     */
    async publishBatch(raw: PublishBatchInput): Promise<PublishedBatch> {
      const input = parseInput(PublishBatchInputSchema, raw);
      const { contract } = loadSpec(input.spec);
      const keys = batchKeys(contract, input.batchId);
      const info = callerRun();
      for (const key of [keys.dataset, keys.deadLetters]) await artifacts.publishOnce(key);
      await artifacts.discard(keys.dataset, 'work');
      const datasetUri = artifacts.uri(keys.dataset);
      const deadLettersUri = artifacts.uri(keys.deadLetters);
      const { stats } = input;
      recordBatchRows(contract.name, stats);
      if (contract.partitioning === 'daily') recordPartitionLag(contract.name, input.batchId);
      await store.lineage.record({
        kind: 'dataset',
        outputUri: datasetUri,
        sourceUri: redactUri(input.sourceUri),
        sourceFingerprint: input.fingerprint,
        contractName: contract.name,
        contractVersion: contract.version,
        rowsRead: stats.rowsRead,
        rowsAccepted: stats.rowsAccepted,
        rowsRejected: stats.rowsRejected,
        outputHash: input.outputHash,
        workflowId: info.workflowId,
        runId: info.runId,
        details: {
          deadLettersUri,
          deadLetterHash: input.deadLetterHash,
          reportUri: input.reportUri,
          sourceRows: stats.sourceRows,
          ...(input.override ? { gateOverride: input.override } : {}),
        },
      });
      await store.runStats.record({
        subject: contract.name,
        batchId: input.batchId,
        pipelineKind: 'ingestion',
        workflowId: info.workflowId,
        runId: info.runId,
        rowsRead: stats.rowsRead,
        rowsAccepted: stats.rowsAccepted,
        rowsRejected: stats.rowsRejected,
        sourceRows: stats.sourceRows,
        outputUri: datasetUri,
        outputHash: input.outputHash,
        status: 'published',
      });
      return { datasetUri, deadLettersUri, outputHash: input.outputHash };
    },
  };
}
