import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../config';
import { loadSpec } from '../specs';
import { deliveryDay } from '../specs/delivery-day';
import { PipelineKind, PipelineStage } from '../api/search-attributes';
import { ingestionWorkflowId, type IngestionPipeline, type IngestionInput } from '../api/ingestion';
import { InvalidRequestError, parseRequest } from './request';

/** What an engineer may ask for; validated before anything reaches Temporal. */
export const StartIngestionSchema = z.object({
  spec: z.string().min(1),
  source: z.string().min(1).max(2048).optional(),
  batch: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" and "-" only (at most 100)')
    .optional(),
  asOf: z.iso.datetime({ offset: true }).optional(),
  chunkRows: z.coerce.number().int().min(1000).max(10_000_000).optional(),
  heartbeatTimeoutMs: z.coerce.number().int().min(1000).max(600_000).optional(),
  taskQueue: z.string().min(1).optional(),
});
export type StartIngestion = z.input<typeof StartIngestionSchema>;

/** yyyymmdd-hhmm in UTC: the default batch id, readable in workflow ids. */
export function timestampBatchId(now = new Date()): string {
  const iso = now.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 16).replace(':', '')}`;
}

/** Starts `ingestionPipeline` with a meaningful id, search attributes, a UI summary and a memo. */
export async function startIngestion(
  client: Client,
  config: Config,
  request: StartIngestion,
): Promise<WorkflowHandleWithFirstExecutionRunId<IngestionPipeline>> {
  const r = parseRequest(StartIngestionSchema, request);
  const spec = (() => {
    try {
      return loadSpec(r.spec);
    } catch (error) {
      throw new InvalidRequestError((error as Error).message);
    }
  })();
  const batchId = r.batch ?? timestampBatchId();
  try {
    deliveryDay(spec.contract, batchId);
  } catch (error) {
    throw new InvalidRequestError((error as Error).message);
  }
  const sourceUri = r.source ?? spec.defaultSource;
  if (!sourceUri) throw new InvalidRequestError(`spec ${spec.name} has no default source: name the delivery's source`);
  const input: IngestionInput = {
    spec: spec.name,
    sourceUri,
    batchId,
    asOf: r.asOf ? new Date(r.asOf).toISOString() : undefined,
    chunkRows: r.chunkRows,
    heartbeatTimeoutMs: r.heartbeatTimeoutMs,
  };
  return client.workflow.start<IngestionPipeline>('ingestionPipeline', {
    workflowId: ingestionWorkflowId(spec.name, batchId),
    taskQueue: r.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    args: [input],
    typedSearchAttributes: [
      { key: PipelineKind, value: 'ingestion' },
      { key: PipelineStage, value: 'Starting' },
    ],
    staticSummary: `Ingest ${spec.name} batch ${batchId}`.slice(0, 200),
    staticDetails: `Source: ${input.sourceUri}\nContract: ${spec.contract.name} ${spec.contract.version}\nSpec: ${spec.name} ${spec.version}`,
    memo: { specVersion: spec.version, contractVersion: spec.contract.version, sourceUri: input.sourceUri },
  }) as Promise<WorkflowHandleWithFirstExecutionRunId<IngestionPipeline>>;
}
