import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../config';
import { loadSpec } from '../specs';
import type { Spec } from '../specs/spec-schema';
import { FeatureSet, Partition, PipelineKind, PipelineStage } from '../api/search-attributes';
import {
  featurePartitionWorkflowId,
  MAX_DAYS_PER_RUN,
  type FeatureBackfill,
  type FeaturePipeline,
} from '../api/features';
import { DaySchema, InvalidRequestError, parseRequest } from './request';

export const FeatureRunSchema = z.object({
  spec: z.string().min(1),
  partition: DaySchema,
  input: z.string().startsWith('artifact:', 'an artifact: dataset URI').optional(),
  taskQueue: z.string().min(1).optional(),
});

export const BackfillSchema = z
  .object({
    spec: z.string().min(1),
    from: DaySchema,
    to: DaySchema,
    concurrency: z.coerce.number().int().min(1).max(32).default(4),
    /** Days per child run: 1 runs each day's featurePipeline; more compute that many days in one statement. */
    daysPerRun: z.coerce.number().int().min(1).max(MAX_DAYS_PER_RUN).default(1),
    input: z.string().startsWith('artifact:', 'an artifact: dataset URI').optional(),
    taskQueue: z.string().min(1).optional(),
  })
  .refine((b) => b.from <= b.to, { message: '--from must not be after --to', path: ['from'] });

/** The spec and its feature-set label (`name@version`), or a usage error. */
export function featureSetOf(specName: string): { spec: Spec; label: string } {
  let spec: Spec;
  try {
    spec = loadSpec(specName);
  } catch (error) {
    throw new InvalidRequestError((error as Error).message);
  }
  if (!spec.featureSet) throw new InvalidRequestError(`spec ${specName} declares no feature set`);
  return { spec, label: `${spec.featureSet.name}@${spec.featureSet.version}` };
}

export async function startFeaturePartition(
  client: Client,
  config: Config,
  request: z.input<typeof FeatureRunSchema>,
): Promise<WorkflowHandleWithFirstExecutionRunId<FeaturePipeline>> {
  const r = parseRequest(FeatureRunSchema, request);
  const { spec, label } = featureSetOf(r.spec);
  return client.workflow.start<FeaturePipeline>('featurePipeline', {
    workflowId: featurePartitionWorkflowId(label, r.partition),
    taskQueue: r.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    args: [{ spec: spec.name, featureSet: label, partition: r.partition, inputUri: r.input }],
    typedSearchAttributes: [
      { key: PipelineKind, value: 'features' },
      { key: PipelineStage, value: 'Starting' },
      { key: FeatureSet, value: label },
      { key: Partition, value: r.partition },
    ],
    staticSummary: `Features ${label} ${r.partition}`,
    memo: { specVersion: spec.version, featureSetVersion: spec.featureSet!.version },
  });
}

export function backfillWorkflowId(label: string, from: string, to: string): string {
  return `backfill/${label}/${from}_${to}`;
}

export async function startBackfill(
  client: Client,
  config: Config,
  request: z.input<typeof BackfillSchema>,
): Promise<WorkflowHandleWithFirstExecutionRunId<FeatureBackfill>> {
  const r = parseRequest(BackfillSchema, request);
  const { spec, label } = featureSetOf(r.spec);
  return client.workflow.start<FeatureBackfill>('featureBackfill', {
    workflowId: backfillWorkflowId(label, r.from, r.to),
    taskQueue: r.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    args: [
      {
        spec: spec.name,
        featureSet: label,
        from: r.from,
        to: r.to,
        maxConcurrency: r.concurrency,
        daysPerRun: r.daysPerRun,
        inputUri: r.input,
      },
    ],
    typedSearchAttributes: [
      { key: PipelineKind, value: 'feature-backfill' },
      { key: PipelineStage, value: 'Starting' },
      { key: FeatureSet, value: label },
    ],
    staticSummary: `Backfill ${label} ${r.from}..${r.to}`,
    memo: { specVersion: spec.version, featureSetVersion: spec.featureSet!.version },
  });
}
